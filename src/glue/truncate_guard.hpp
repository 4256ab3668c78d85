// The TRUNCATE guard: a BEFORE TRUNCATE statement trigger whose argument is the attached table's
// policy — archive every row about to be removed, deny the TRUNCATE, or let it through.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// ApplyTruncatePolicy applies the policy to the TRUNCATE of rel that fired guard.
void ApplyTruncatePolicy(Relation rel, const Trigger* guard, TruncatePolicy policy);

}  // namespace deleted_record::glue
