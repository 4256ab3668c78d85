// The options of an attached table, kept as the archive trigger's single argument (a JSON
// object), so they follow the table through dump and restore and onto every partition:
// {"retention": "30 days", "exclude": ["password_hash"], "mask": ["email"]}.
#pragma once
#include "core/no_postgres.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deleted_record {

struct AttachmentOptions {
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

// FollowRename renames a column in the options; true when something changed.
bool FollowRename(AttachmentOptions* options, std::string_view old_name, std::string_view new_name);

// ForgetMissingColumns drops names that are no longer columns; true when something changed.
bool ForgetMissingColumns(AttachmentOptions* options, const std::vector<std::string>& columns);

}  // namespace deleted_record
