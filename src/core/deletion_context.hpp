// Rules for the deletion context (actor, reason, metadata) that users set through settings.
#pragma once
#include "core/no_postgres.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace deleted_record {

// MetadataProblem returns why text cannot be the deleted_record.metadata setting (it must be a
// JSON object that jsonb can store), as a predicate ("is not valid JSON ...", "must be a JSON
// object, not an array"), or nothing when it is acceptable. Empty text means "unset".
std::optional<std::string> MetadataProblem(std::string_view text);

// RequiredContext is the deleted_record.require_context policy.
enum class RequiredContext { kNone = 0, kActor = 1, kReason = 2, kActorAndReason = 3 };

// MissingContext describes what a delete lacks under the policy ("an actor", "a reason",
// "an actor and a reason"), or nothing when the delete may proceed.
std::optional<std::string> MissingContext(RequiredContext policy, bool has_actor, bool has_reason);

// TruncatePolicy is what happens to an attached table's rows on TRUNCATE.
enum class TruncatePolicy { kArchive, kDeny, kIgnore };

// ParseTruncatePolicy reads 'archive', 'deny' or 'ignore'.
std::optional<TruncatePolicy> ParseTruncatePolicy(std::string_view text);

// kTruncatePolicyValues lists the accepted values, for error messages.
inline constexpr const char* kTruncatePolicyValues = "'archive', 'deny', 'ignore'";

}  // namespace deleted_record
