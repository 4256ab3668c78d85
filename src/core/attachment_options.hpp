// The options of an attached table, kept as the archive trigger's single argument (a JSON
// object), so they follow the table through dump and restore and onto every partition:
// {"attachment": "<uuid>", "retention": "30 days", "exclude": ["password_hash"], "mask": ["email"]}.
// The attachment id is the table's identity for retention (see sql/src/050_attachment_registry.sql).
#pragma once
#include "core/no_postgres.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deleted_record {

struct AttachmentOptions {
  std::optional<std::string> attachment; // the attachment id (a UUID as text), made by attach
  std::optional<std::string> retention;  // interval text, as PostgreSQL printed it
  std::vector<std::string> exclude;      // columns never archived
  std::vector<std::string> mask;         // columns archived as a keyed hash
};

// ParseAttachmentOptions reads a trigger argument; on failure *problem says why.
std::optional<AttachmentOptions> ParseAttachmentOptions(std::string_view argument, std::string* problem);

// SerializeAttachmentOptions writes the trigger argument, or "" when there is nothing to keep.
std::string SerializeAttachmentOptions(const AttachmentOptions& options);

// ColumnPolicyProblem checks exclude/mask lists against a table: every name is one of its
// columns, none is a key column (it makes object_id), none is both excluded and masked, none
// is listed twice. Returns the first problem, phrased for an error message, or nothing.
std::optional<std::string> ColumnPolicyProblem(const std::vector<std::string>& exclude, const std::vector<std::string>& mask,
                                               const std::vector<std::string>& columns,
                                               const std::vector<std::string>& key_columns);

// MergeAttachmentOptions is the table's contract from the options of all its archive triggers,
// in firing order: column policies belong to the table, so a column excluded or masked by any
// trigger is excluded or masked whichever trigger archives the row (exclusion wins over
// masking); the attachment id and retention come from the first trigger carrying an id (else
// the retention from the first carrying one).
AttachmentOptions MergeAttachmentOptions(const std::vector<AttachmentOptions>& triggers);

// IsAttachmentId is true for a UUID in its canonical text form (lower-case hex, with dashes).
bool IsAttachmentId(std::string_view text);

// FollowRename renames a column in the options; true when something changed.
bool FollowRename(AttachmentOptions* options, std::string_view old_name, std::string_view new_name);

// ForgetMissingColumns drops names that are no longer columns; true when something changed.
bool ForgetMissingColumns(AttachmentOptions* options, const std::vector<std::string>& columns);

}  // namespace deleted_record
