// The named policies users choose between: deleted_record.require_context and the TRUNCATE
// policy of an attached table. Each list of names lives here and nowhere else.
#pragma once
#include "core/choices.hpp"
#include "core/no_postgres.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace deleted_record {

// ParseRequiredContext reads a policy name, case-insensitively as PostgreSQL reads enum settings.
std::optional<RequiredContext> ParseRequiredContext(std::string_view text);

// RequiredContextName is the canonical (lower-case) name of a policy.
const char* RequiredContextName(RequiredContext policy);

// MissingContext describes what a delete lacks under the policy ("an actor", "a reason",
// "an actor and a reason"), or nothing when the delete may proceed.
std::optional<std::string> MissingContext(RequiredContext policy, bool has_actor, bool has_reason);

// ParseTruncatePolicy reads 'archive', 'deny' or 'ignore' (exactly: it is stored in trigger arguments).
std::optional<TruncatePolicy> ParseTruncatePolicy(std::string_view text);

// TruncatePolicyName is the name stored for a policy.
const char* TruncatePolicyName(TruncatePolicy policy);

}  // namespace deleted_record
