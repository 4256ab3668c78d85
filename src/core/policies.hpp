// The named policies users choose between: deleted_record.require_context and the TRUNCATE
// policy of an attached table. Each list of names lives here and nowhere else.
#pragma once
#include "core/no_postgres.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace deleted_record {

// RequiredContext is the deleted_record.require_context policy.
enum class RequiredContext { kNone, kActor, kReason, kActorAndReason };

// ParseRequiredContext reads a policy name, case-insensitively as PostgreSQL reads enum settings.
std::optional<RequiredContext> ParseRequiredContext(std::string_view text);

// RequiredContextName is the canonical (lower-case) name of a policy.
const char* RequiredContextName(RequiredContext policy);

// kRequiredContextValues lists the accepted names, for messages.
inline constexpr const char* kRequiredContextValues = "none, actor, reason, actor_and_reason";

// MissingContext describes what a delete lacks under the policy ("an actor", "a reason",
// "an actor and a reason"), or nothing when the delete may proceed.
std::optional<std::string> MissingContext(RequiredContext policy, bool has_actor, bool has_reason);

// TruncatePolicy is what happens to an attached table's rows on TRUNCATE.
enum class TruncatePolicy { kArchive, kDeny, kIgnore };

// ParseTruncatePolicy reads 'archive', 'deny' or 'ignore' (exactly: it is stored in trigger arguments).
std::optional<TruncatePolicy> ParseTruncatePolicy(std::string_view text);

// TruncatePolicyName is the name stored for a policy.
const char* TruncatePolicyName(TruncatePolicy policy);

// kTruncatePolicyValues lists the accepted names, for messages.
inline constexpr const char* kTruncatePolicyValues = "'archive', 'deny', 'ignore'";

}  // namespace deleted_record
