// The choices users make by name, as plain enums and the lists of their names for messages:
// deleted_record.require_context, an attached table's TRUNCATE policy, and restore's
// on_conflict and masked. Plain values only (no function that could throw), so that the door
// (boundary.hpp) can hand them to the glue; parsing them lives in policies and restore_plan.
#pragma once
#include "core/no_postgres.hpp"

namespace deleted_record {

// RequiredContext is the deleted_record.require_context policy.
enum class RequiredContext { kNone, kActor, kReason, kActorAndReason };

// kRequiredContextValues lists the accepted names, for messages.
inline constexpr const char* kRequiredContextValues = "none, actor, reason, actor_and_reason";

// TruncatePolicy is what happens to an attached table's rows on TRUNCATE.
enum class TruncatePolicy { kArchive, kDeny, kIgnore };

// kTruncatePolicyValues lists the accepted names, for messages.
inline constexpr const char* kTruncatePolicyValues = "'archive', 'deny', 'ignore'";

// ConflictPolicy is what a restore does with a row whose key a live row already has.
enum class ConflictPolicy { kError, kSkip };

inline constexpr const char* kConflictPolicyValues = "'error', 'skip'";

// MaskedPolicy is what a restore does with columns whose archived value is a mask (a keyed
// hash): refuse the restore (the default), or restore those columns as NULL.
enum class MaskedPolicy { kError, kNull };

inline constexpr const char* kMaskedPolicyValues = "'error', 'null'";

}  // namespace deleted_record
