// Planning an attach or a detach: from what the catalog says of a table (its archive triggers,
// its partitions and their TRUNCATE guards, which of them are attached on their own), which
// triggers to drop, enable or create, in order. Pure logic: the glue gathers the facts by OID
// and issues the DDL (src/glue/attachment_manage.cpp); deleted_record_manage checks the call.
#pragma once
#include "core/boundary.hpp"
#include "core/no_postgres.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace deleted_record {

using ManageStepKind = boundary::ManageStepKind;

// The names attach gives its triggers (and recognises them by, beside their functions).
inline constexpr const char* kArchiveTriggerName = "deleted_record_insert";
inline constexpr const char* kTruncateGuardName = "deleted_record_truncate_guard";

// TriggerFacts is one trigger: an archive trigger candidate of the table (its own, not a clone
// of its parent's; calls_ours: it calls deleted_record_insert, else it only has that name) or a
// TRUNCATE guard of a member (calls_ours: it calls deleted_record_truncate_guard, else it only
// has that name).
struct TriggerFacts {
  std::string name;
  bool calls_ours = true;
  bool disabled = false;     // tgenabled = 'D'
  bool conditional = false;  // has a WHEN condition
  boundary::TriggerFiring firing = boundary::TriggerFiring::kOrigin;  // ENABLE ALWAYS / REPLICA
};

// MemberFacts is the table (members[0]) or one relation of its partition tree.
struct MemberFacts {
  bool can_have_guard = true;       // an ordinary or partitioned table (not a foreign partition)
  bool attached_on_its_own = false; // has an archive trigger of its own (deleted_record_attachments)
  std::vector<TriggerFacts> guards; // its TRUNCATE guards, and triggers with the guard's name
};

struct ManageFacts {
  bool attach = true;
  // attach: the table's contract already is what the call asks for (its attachment id,
  // retention and column policies), so an unconditional archive trigger can stay as it is.
  bool contract_kept = false;
  std::vector<TriggerFacts> archive_triggers;  // the table's own, by function or by name
  std::vector<MemberFacts> members;            // members[0] is the table itself
};

struct ManageStep {
  ManageStepKind kind;
  std::size_t member = 0;  // the relation it acts on (index into members)
  std::string trigger;     // the trigger dropped, enabled or created
  bool operator==(const ManageStep& other) const {
    return kind == other.kind && member == other.member && trigger == other.trigger;
  }
};

// ManageRefusal: the table has a trigger with the archive trigger's name calling another
// function (archive_triggers[trigger]); attach cannot take the name.
struct ManageRefusal {
  std::size_t trigger;
};

// An attach or a detach runs in two stages, each planned from facts read just before it runs:
// the archive trigger's DDL fires the extension's event triggers, which add or drop TRUNCATE
// guards (deleted_record_guard_partitions), so the guards are planned from what is there after.

// PlanArchiveTrigger is the first stage (facts.members is not read):
// attach: one unconditional archive trigger of the table's own is kept when its contract is
// unchanged (enabled when disabled), else replaced under its name and with its firing mode
// (ENABLE ALWAYS or REPLICA, as on a logical replication subscriber); a conditional one is left to
// archive only what its condition lets through and ours is added under the default name; then
// the archive's coming partitions. detach: every archive trigger of the table's own is dropped.
std::variant<std::vector<ManageStep>, ManageRefusal> PlanArchiveTrigger(const ManageFacts& facts);

// PlanTruncateGuards is the second stage (facts.archive_triggers is not read; earlier_drops:
// the triggers the first stage dropped):
// attach: on the table and every partition not attached on its own (foreign ones cannot have
// one) the TRUNCATE guard is made anew, so that a second attach can change the policy;
// detach: the guards of the table and of every partition not attached on its own are dropped;
// when nothing was dropped in either stage, that is reported.
std::vector<ManageStep> PlanTruncateGuards(const ManageFacts& facts, std::size_t earlier_drops);

// Before an attach plans its triggers, the call is merged with the table's contract as it
// stands (deleted_record_attachments()): what the call leaves out is kept.

// Retention is an interval as PostgreSQL holds it (absent: none); two are equal when
// PostgreSQL's interval = says so (a month counts 30 days, a day 24 hours).
struct Retention {
  bool present = false;
  std::int32_t months = 0;
  std::int32_t days = 0;
  std::int64_t microseconds = 0;
};
bool SameRetention(const Retention& a, const Retention& b);

// ExistingContract is the table's contract: its attachment id, retention and column policies
// (empty: none), and the policy of its own TRUNCATE guard. A table not attached has none of them.
struct ExistingContract {
  std::optional<std::string> attachment;
  Retention retention;
  std::vector<std::string> exclude;
  std::vector<std::string> mask;
  std::optional<std::string> truncate_policy;
};

// ColumnsArgument is exclude_columns or mask_columns as the call passed it: left out (NULL), or
// its names; plain is false for an array that no list of names equals (NULL elements, more
// than one dimension, or a lower bound other than 1).
struct ColumnsArgument {
  bool given = false;
  std::vector<std::string> names;
  bool plain = true;
};

// AttachCall is the call's arguments: on_truncate (checked, or left out), retention (absent:
// left out; a zero interval clears it), the column policies, and a fresh attachment id (from
// gen_random_uuid) for a table that has none.
struct AttachCall {
  std::optional<std::string> on_truncate;
  Retention retention;
  ColumnsArgument exclude;
  ColumnsArgument mask;
  std::string new_attachment;
};

// RetentionChoice is which retention the archive trigger gets: none, the contract's, the call's.
enum class RetentionChoice { kNone, kContract, kCall };

// AttachMerge is what the attach asks for: the attachment id (kept, or the new one), the TRUNCATE
// policy (the call's, else the existing guard's, else 'archive'), the retention, and whether
// the contract already is that (same id, retention and column policies: the archive trigger
// can stay).
struct AttachMerge {
  std::string attachment;
  std::string on_truncate;
  RetentionChoice retention = RetentionChoice::kNone;
  bool contract_kept = false;
};

// AttachRefusal: the call leaves out column policies the table has (privacy settings change
// only when the call says so); message and hint as the user reads them.
struct AttachRefusal {
  std::string message;
  std::string hint;
};

// MergeAttachCall merges the call into the contract of table (its name as the user reads it).
// The column policies the call passes are the trigger's as they are ('{}': none).
std::variant<AttachMerge, AttachRefusal> MergeAttachCall(std::string_view table, const ExistingContract& contract,
                                                         const AttachCall& call);

// ArrayLiteral is a list of names as PostgreSQL prints a text[] ({a,"b c"}).
std::string ArrayLiteral(const std::vector<std::string>& names);

// QuoteLiteral is text as a SQL literal, as PostgreSQL's quote_literal writes it.
std::string QuoteLiteral(std::string_view text);

}  // namespace deleted_record
