// The only door between the PostgreSQL glue (src/glue) and the C++ core.
// Every function here is noexcept and takes and returns plain data, so that no C++ exception
// can reach PostgreSQL and the glue never holds a C++ object that an ereport could jump over.
// A failure inside the core comes back as a Verdict; the glue raises the PostgreSQL error
// itself, after the call has returned.
#pragma once
#include "core/no_postgres.hpp"

#include <cstddef>
#include <cstdint>

#include "core/choices.hpp"

namespace deleted_record::boundary {

// Verdict is the outcome of a check: ok, or a message for the user (NUL-terminated, truncated).
struct Verdict {
  bool ok;
  char message[512];
};

// ParseRequiredContext reads a deleted_record.require_context value; the message lists the names.
Verdict ParseRequiredContext(const char* text, RequiredContext* policy) noexcept;

// CheckRequiredContext applies the policy; the message names what is missing.
Verdict CheckRequiredContext(RequiredContext policy, bool has_actor, bool has_reason) noexcept;

// RequiredContextName is the canonical name of a policy (a static string).
const char* RequiredContextName(RequiredContext policy) noexcept;

// ParseTruncatePolicy reads 'archive', 'deny' or 'ignore'; on failure the message lists them.
Verdict ParseTruncatePolicy(const char* text, TruncatePolicy* policy) noexcept;

// TruncatePolicyName is the stored name of a policy (a static string).
const char* TruncatePolicyName(TruncatePolicy policy) noexcept;

// ClosestName sets *index to the entry of known[0..count) that unknown most plausibly
// misspells and returns true, or returns false when none is close.
bool ClosestName(const char* unknown, const char* const* known, int count, int* index) noexcept;

// OutputBuffer is memory the glue allocates (palloc'd, so aligned for pointers) for an output
// sized by its input: the core writes into data only when all of it fits in capacity, and
// always sets required to the bytes it needs, so the glue can allocate that much and call again
// (the functions that take one are pure: a second call gives the same answer). Nothing the core
// returns is allocated by the core, so there is nothing to free and nothing to copy.
// (Not a callback appending to the glue's StringInfo: growing a StringInfo can raise an
// out-of-memory ERROR, whose longjmp would cross the core's frames and skip their destructors.)
struct OutputBuffer {
  void* data;
  std::size_t capacity;
  std::size_t required;  // out
};

// OptionLists is an attached table's options as plain data; the strings and the name arrays
// (null-terminated) point into the glue's OutputBuffer. All are null and 0 until written.
struct OptionLists {
  char* attachment;  // the attachment id, or null
  char* retention;   // or null
  int exclude_count;
  char** exclude;
  int mask_count;
  char** mask;
};

// ParseAttachmentArgument reads the archive trigger's argument into *lists (in buffer).
Verdict ParseAttachmentArgument(const char* argument, OutputBuffer* buffer, OptionLists* lists) noexcept;

// MergeAttachmentArguments reads the arguments of all of a table's archive triggers (in firing
// order; a null entry is a trigger without argument) into the table's contract *lists (in
// buffer; MergeAttachmentOptions); *bad is the index of an argument that does not parse, else -1.
Verdict MergeAttachmentArguments(const char* const* arguments, int count, OutputBuffer* buffer, OptionLists* lists,
                                 int* bad) noexcept;

// NameList is a list of names the glue hands to the core.
struct NameList {
  int count;
  const char* const* names;
};

// BuildAttachmentArgument (attachment: the table's attachment id, or null) checks column
// policies against the table's columns and key columns and writes the trigger argument into
// buffer as a NUL-terminated text ("" when there are no options).
Verdict BuildAttachmentArgument(const char* attachment, const char* retention, NameList exclude, NameList mask, NameList columns,
                                NameList key_columns, OutputBuffer* buffer) noexcept;

// UpdateAttachmentArgument follows a column rename (old_name may be null) and forgets columns
// no longer in columns; when that changes the options, *changed is true and the new argument
// is written into buffer (NUL-terminated).
Verdict UpdateAttachmentArgument(const char* argument, const char* old_name, const char* new_name, NameList columns,
                                 OutputBuffer* buffer, bool* changed) noexcept;

// Attach and detach: the glue gathers what the catalog says of the table, the core decides the
// steps (core/attachment_plan.hpp), the glue issues them as DDL.
enum class ManageStepKind {
  kDropTrigger,              // DROP TRIGGER trigger ON member
  kEnableTrigger,            // ALTER TABLE member ENABLE TRIGGER trigger
  kEnableTriggerAlways,      // ALTER TABLE member ENABLE ALWAYS TRIGGER trigger
  kEnableTriggerReplica,     // ALTER TABLE member ENABLE REPLICA TRIGGER trigger
  kCreateArchiveTrigger,     // CREATE TRIGGER trigger AFTER DELETE ... deleted_record_insert(argument)
  kPrepareComingPartitions,  // the archive's partitions for the coming periods
  kCreateTruncateGuard,      // CREATE TRIGGER trigger BEFORE TRUNCATE ... deleted_record_truncate_guard(policy)
  kReportNotAttached,        // detach found nothing to drop
};

// An attach or detach is planned in two stages, each from facts read just before it runs
// (the first stage's DDL fires event triggers that add or drop TRUNCATE guards).
enum class ManageStage {
  kArchiveTrigger,  // the table's archive trigger (members are not read)
  kTruncateGuards,  // the TRUNCATE guards of the table and its partitions (archive triggers are not read)
};

// TriggerFiring is when an enabled trigger fires, by session_replication_role (tgenabled 'O',
// 'A', 'R'): a subscriber's archive trigger is ENABLE ALWAYS, and a replaced one must stay so.
enum class TriggerFiring { kOrigin, kAlways, kReplica };

// ManagedTrigger is a trigger the plan may act on (see TriggerFacts in core/attachment_plan.hpp).
struct ManagedTrigger {
  const char* name;
  bool calls_ours;
  bool disabled;
  bool conditional;
  TriggerFiring firing;
};

// ManagedMember is the table (members[0]) or a relation of its partition tree.
struct ManagedMember {
  bool can_have_guard;
  bool attached_on_its_own;
  int guard_count;
  const ManagedTrigger* guards;
};

// ManageStep is one step; trigger points into the facts' names or to a static name.
struct ManageStep {
  ManageStepKind kind;
  int member;
  const char* trigger;
};

// PlanManage writes one stage's steps of an attach (attach) or detach into steps[0..capacity)
// and their number into *step_count; when they do not fit, nothing is written and *step_count
// is the capacity needed. earlier_drops: the triggers the first stage dropped. A refused attach
// (a trigger with the archive trigger's name calls another function) fails with
// *refused_trigger its index in archive_triggers, else it is -1.
Verdict PlanManage(ManageStage stage, bool attach, bool contract_kept, int earlier_drops,
                   const ManagedTrigger* archive_triggers, int archive_trigger_count, const ManagedMember* members,
                   int member_count, ManageStep* steps, int capacity, int* step_count, int* refused_trigger) noexcept;

// ParseConflictPolicy reads a restore's on_conflict ('error' or 'skip'); the message lists them.
Verdict ParseConflictPolicy(const char* text, ConflictPolicy* policy) noexcept;

// ParseMaskedPolicy reads a restore's masked ('error' or 'null'); the message lists them.
Verdict ParseMaskedPolicy(const char* text, MaskedPolicy* policy) noexcept;

// A restore's plan is one object from the catalog facts to the steps: the glue fills in the
// facts (in) in buffers it allocates, PlanRestore writes its decisions (out) into the same
// buffers, so nothing is allocated by the core and nothing has to be copied or freed.
struct RestoreColumnPlan {
  const char* name;  // in
  bool generated;    // in: computed by the table, never inserted
  char identity;     // in: 'a' GENERATED ALWAYS, 'd' BY DEFAULT, 0 none
  bool inserted;     // out: the table's INSERT names it (else its default applies)
};

struct RestoreTablePlan {
  const char* name;              // in: qualified, for messages
  int column_count;              // in
  RestoreColumnPlan* columns;    // in and out, today's columns in table order
  NameList data_keys;            // in: every key of the archived rows' data
  NameList masked_keys;          // in: keys masked when the rows were archived
  bool overriding_system_value;  // out: a GENERATED ALWAYS identity column is inserted
};

struct RestoreKeyPlan {
  int from;           // in: referencing table (index)
  int to;             // in: referenced table (index)
  const char* name;   // in
  bool deferrable;    // in
  bool deferred;      // out: inside a cycle, so checked only at the end of the restore
};

// RestorePlanProblem names what makes a restore impossible: a table (or -1) and a column (or "").
struct RestorePlanProblem {
  int table;
  char column[256];
};

// PlanRestore maps each table's columns, decides which foreign keys wait until the end and
// writes the order of the tables (parents first) into order[0..table_count). On failure the
// verdict's message says why and *problem names the table and column at fault.
Verdict PlanRestore(RestoreTablePlan* tables, int table_count, RestoreKeyPlan* keys, int key_count, int* order,
                    RestorePlanProblem* problem) noexcept;

// FormatUuid writes the 36-character text form of a 16-byte UUID, NUL-terminated, into out.
void FormatUuid(const std::uint8_t bytes[16], char out[37]) noexcept;

// NextUuid7 writes the next UUIDv7 of this process into out.
void NextUuid7(std::uint64_t unix_ms, std::uint64_t random_a, std::uint64_t random_b, std::uint8_t out[16]) noexcept;

}  // namespace deleted_record::boundary

namespace deleted_record::boundary {

// Attach's merge of the call into the table's contract (core/attachment_plan.hpp,
// MergeAttachCall): what the call leaves out is kept.

// AttachRetention is an interval's fields (present false: none).
struct AttachRetention {
  bool present;
  std::int32_t months;
  std::int32_t days;
  std::int64_t microseconds;
};

// AttachContractFacts is the table's contract as deleted_record_attachments() gives it (all
// null, absent and empty for a table not attached) and its own TRUNCATE guard's policy (or null).
struct AttachContractFacts {
  const char* attachment;
  AttachRetention retention;
  NameList exclude;
  NameList mask;
  const char* truncate_policy;
};

// AttachCallFacts is the call: on_truncate (checked, or null), retention, exclude_columns and
// mask_columns (given false: NULL; plain false: NULL elements, several dimensions or a lower
// bound other than 1), and a fresh attachment id for a table without one.
struct AttachCallFacts {
  const char* on_truncate;
  AttachRetention retention;
  bool exclude_given;
  bool exclude_plain;
  NameList exclude;
  bool mask_given;
  bool mask_plain;
  NameList mask;
  const char* new_attachment;
};

enum class AttachRetentionChoice { kNone, kContract, kCall };

// AttachMergeResult: refused (message and hint), or the attachment id, the TRUNCATE policy,
// which retention and whether the contract is kept. The strings are NUL-terminated in the
// buffer, null when it was too small.
struct AttachMergeResult {
  bool refused;
  const char* message;
  const char* hint;
  const char* attachment;
  const char* on_truncate;
  AttachRetentionChoice retention;
  bool contract_kept;
};

// MergeAttachCall merges the call into the contract of table (its name as the user reads it),
// writing the result's strings into buffer (see OutputBuffer).
Verdict MergeAttachCall(const char* table, const AttachContractFacts* contract, const AttachCallFacts* call,
                        OutputBuffer* buffer, AttachMergeResult* result) noexcept;

}  // namespace deleted_record::boundary
