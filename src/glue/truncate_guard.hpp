// The TRUNCATE guard: a BEFORE TRUNCATE statement trigger whose argument is the attached table's
// policy — archive every row about to be removed, deny the TRUNCATE, or let it through.
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// ApplyTruncatePolicy applies the policy to the TRUNCATE of rel that fired guard.
void ApplyTruncatePolicy(Relation rel, const Trigger* guard, TruncatePolicy policy);

// ArchiveShardsBeforeTruncate archives, before a TRUNCATE that names Citus shards (the command
// Citus sends to the node holding them), every row of the shards it removes whose Citus table's
// policy is 'archive', from the shards' heaps, as the one-server path reads them: not filtered by
// row-level security, no SQL. A replicated shard (a reference table's) archives on its
// designated placement only; old shard copies not at all. Called by the Citus utility hook.
void ArchiveShardsBeforeTruncate(const TruncateStmt* statement);

}  // namespace deleted_record::glue
