// Attach and detach, the DDL side: deleted_record_manage (SQL) checks the call;
// deleted_record_manage_attach, here, reads the table's contract and lets the core merge the
// call into it (what the call leaves out is kept); deleted_record_manage_triggers gathers what
// the catalog says of the table and its partitions by OID, asks the core which triggers to
// drop, enable or create (core/attachment_plan.hpp, through the door), and issues that DDL as
// the caller, every name quoted and qualified.
#include "glue/attachment_contract.hpp"
#include "glue/citus.hpp"
#include "glue/spi_connection.hpp"

extern "C" {
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/regproc.h"
#include "utils/uuid.h"
}

namespace deleted_record::glue {

namespace {

constexpr const char* kArchiveTriggerName = "deleted_record_insert";
constexpr const char* kTruncateGuardName = "deleted_record_truncate_guard";

// Triggers collects the triggers of one relation the plan may act on, with their functions.
struct Triggers {
  int count;
  boundary::ManagedTrigger* triggers;
  Oid* functions;
};

// RelationTriggers lists relid's triggers that call function or carry name; own_only leaves out
// clones of a parent's trigger; by_name also takes a trigger of that name calling another function.
Triggers RelationTriggers(Oid relid, Oid function, const char* name, bool own_only, bool by_name) {
  Triggers found = {0, nullptr, nullptr};
  int capacity = 0;
  TriggerScan walk = BeginTriggerScan(relid);
  HeapTuple tuple;
  while ((tuple = NextTrigger(&walk)) != nullptr) {
    Form_pg_trigger trigger = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
    bool calls_ours = OidIsValid(function) && trigger->tgfoid == function;
    bool named = by_name && strcmp(NameStr(trigger->tgname), name) == 0;
    if ((!calls_ours && !named) || (own_only && OidIsValid(trigger->tgparentid))) continue;
    if (found.count == capacity) {
      capacity = Max(capacity * 2, 4);
      found.triggers = static_cast<boundary::ManagedTrigger*>(
          found.triggers == nullptr ? palloc(sizeof(boundary::ManagedTrigger) * capacity)
                                    : repalloc(found.triggers, sizeof(boundary::ManagedTrigger) * capacity));
      found.functions = static_cast<Oid*>(found.functions == nullptr ? palloc(sizeof(Oid) * capacity)
                                                                     : repalloc(found.functions, sizeof(Oid) * capacity));
    }
    boundary::TriggerFiring firing = trigger->tgenabled == TRIGGER_FIRES_ALWAYS    ? boundary::TriggerFiring::kAlways
                                     : trigger->tgenabled == TRIGGER_FIRES_ON_REPLICA ? boundary::TriggerFiring::kReplica
                                                                                       : boundary::TriggerFiring::kOrigin;
    found.triggers[found.count] = {pstrdup(NameStr(trigger->tgname)), calls_ours, trigger->tgenabled == TRIGGER_DISABLED,
                                   !heap_attisnull(tuple, Anum_pg_trigger_tgqual, RelationGetDescr(walk.catalog)), firing};
    found.functions[found.count] = trigger->tgfoid;
    ++found.count;
  }
  EndTriggerScan(&walk);
  return found;
}

// TreeMembers lists the table and, when it is partitioned or a partition, the relations of its
// partition tree below it (what pg_partition_tree shows; inheritance children are not members).
List* TreeMembers(Oid relid) {
  if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE || get_rel_relispartition(relid))
    return find_all_inheritors(relid, NoLock, nullptr);  // the table itself first
  return list_make1_oid(relid);
}

char* QualifiedName(Oid relid) {
  char* name = get_rel_name(relid);
  char* schema = get_namespace_name(get_rel_namespace(relid));
  if (name == nullptr || schema == nullptr) elog(ERROR, "cache lookup failed for relation %u", relid);
  return quote_qualified_identifier(schema, name);
}

void Execute(const char* command) {
  if (SPI_execute(command, false, 0) < 0) elog(ERROR, "deleted_record: could not run %s", command);
}

// CheckOwnTable refuses a relation that is not a table the caller owns.
void CheckOwnTable(Oid relid, const char* action) {
  HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
  if (!HeapTupleIsValid(tuple))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("deleted_record_%s: relation with OID %u does not exist",
                                                             action, relid)));
  Form_pg_class form = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple));
  char relkind = form->relkind;
  Oid owner = form->relowner;
  ReleaseSysCache(tuple);
  if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("deleted_record_%s: %s is not a table", action, QualifiedName(relid))));
  if (!is_member_of_role(GetUserId(), owner))
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("deleted_record_%s: must be owner of table %s", action, QualifiedName(relid))));
}

// CheckTarget refuses what deleted_record_manage refuses with a fuller message first: the
// function is callable on its own, so it checks again what lets the caller act on the table.
// Ownership is checked before the lock (no one may hold up another's table by calling this)
// and again once it is held (the table may have changed hands or gone meanwhile).
void CheckTarget(Oid relid, const char* action) {
  CheckOwnTable(relid, action);
  LockRelationOid(relid, ShareRowExclusiveLock);  // what CREATE TRIGGER takes; manage holds it already
  CheckOwnTable(relid, action);
  if (IsArchiveRelation(relid) || OidIsValid(CitusShardOf(relid)))
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("deleted_record_%s: %s cannot be attached or detached", action, QualifiedName(relid))));
  // A partition archived through its parent has its guard from the parent's attach: detaching
  // it alone would leave its TRUNCATE unguarded while its deletes are archived.
  if (get_rel_relispartition(relid)) {
    List* ancestors = get_partition_ancestors(relid);
    ListCell* cell;
    foreach (cell, ancestors)
      if (IsAttachedOnItsOwn(lfirst_oid(cell)))
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("deleted_record_%s: %s is a partition of attached table %s", action, QualifiedName(relid),
                               QualifiedName(lfirst_oid(cell)))));
  }
}

// Members are the table and its partition tree as they are now: each one's TRUNCATE guards
// (attach also sees a trigger that only has the guard's name) and whether it is attached.
struct Members {
  int count;
  Oid* oids;
  boundary::ManagedMember* members;
  int guard_count;  // over all members
};

Members ReadMembers(Oid relid, bool attach) {
  Oid guard_function = ExtensionFunction(kTruncateGuardName, 0, nullptr);
  List* tree = TreeMembers(relid);
  Members found = {list_length(tree), nullptr, nullptr, 0};
  found.oids = static_cast<Oid*>(palloc(sizeof(Oid) * found.count));
  found.members = static_cast<boundary::ManagedMember*>(palloc(sizeof(boundary::ManagedMember) * found.count));
  ListCell* cell;
  int m = 0;
  foreach (cell, tree) {
    Oid member = lfirst_oid(cell);
    char relkind = get_rel_relkind(member);
    Triggers guards = RelationTriggers(member, guard_function, kTruncateGuardName, false, attach);
    found.oids[m] = member;
    found.members[m] = {relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE,
                        member != relid && IsAttachedOnItsOwn(member), guards.count, guards.triggers};
    found.guard_count += guards.count;
    ++m;
  }
  return found;
}

// Plan asks the core for one stage's steps, in an array sized by the facts (what the core
// needs, at most: a step per trigger it may drop, and two more per member and for the table).
boundary::ManageStep* Plan(boundary::ManageStage stage, Oid relid, bool attach, bool contract_kept, int earlier_drops,
                           const Triggers& archive_triggers, const Members& members, int* step_count) {
  int capacity = archive_triggers.count + members.guard_count + 2 * members.count + 3;
  boundary::ManageStep* steps = static_cast<boundary::ManageStep*>(palloc(sizeof(boundary::ManageStep) * capacity));
  int refused = -1;
  boundary::Verdict verdict =
      boundary::PlanManage(stage, attach, contract_kept, earlier_drops, archive_triggers.triggers, archive_triggers.count,
                           members.members, members.count, steps, capacity, step_count, &refused);
  if (!verdict.ok && refused >= 0)
    ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
                    errmsg("deleted_record_attach: %s already has a trigger named deleted_record_insert that calls %s",
                           DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid))),
                           format_procedure(archive_triggers.functions[refused]))));
  if (!verdict.ok) elog(ERROR, "deleted_record: %s", verdict.message);
  if (*step_count > capacity) elog(ERROR, "deleted_record: %d steps planned, at most %d expected", *step_count, capacity);
  return steps;
}

// Run issues the steps as the caller (SPI is connected) and returns how many triggers it dropped.
int Run(const boundary::ManageStep* steps, int step_count, const Oid* member_oids, Oid relid, const char* policy,
        const char* argument) {
  const ArchiveTable* archive = ResolveArchiveTable();
  int dropped = 0;
  for (int s = 0; s < step_count; ++s) {
    const boundary::ManageStep& step = steps[s];
    char* table = QualifiedName(member_oids[step.member]);
    const char* trigger = quote_identifier(step.trigger);
    switch (step.kind) {
      case boundary::ManageStepKind::kDropTrigger:
        Execute(psprintf("DROP TRIGGER %s ON %s", trigger, table));
        ++dropped;
        break;
      case boundary::ManageStepKind::kEnableTrigger:
        Execute(psprintf("ALTER TABLE %s ENABLE TRIGGER %s", table, trigger));
        break;
      case boundary::ManageStepKind::kEnableTriggerAlways:
        Execute(psprintf("ALTER TABLE %s ENABLE ALWAYS TRIGGER %s", table, trigger));
        break;
      case boundary::ManageStepKind::kEnableTriggerReplica:
        Execute(psprintf("ALTER TABLE %s ENABLE REPLICA TRIGGER %s", table, trigger));
        break;
      case boundary::ManageStepKind::kCreateArchiveTrigger:
        Execute(psprintf("CREATE TRIGGER %s AFTER DELETE ON %s FOR EACH ROW EXECUTE FUNCTION %s(%s)", trigger, table,
                         ExtensionObjectName(archive, kArchiveTriggerName),
                         argument != nullptr ? quote_literal_cstr(argument) : ""));
        break;
      case boundary::ManageStepKind::kPrepareComingPartitions:
        Execute(psprintf("SELECT %s()", ExtensionObjectName(archive, "deleted_record_prepare_coming_partitions")));
        break;
      case boundary::ManageStepKind::kCreateTruncateGuard:
        Execute(psprintf("CREATE TRIGGER %s BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %s(%s)", trigger,
                         table, ExtensionObjectName(archive, kTruncateGuardName), quote_literal_cstr(policy)));
        break;
      case boundary::ManageStepKind::kReportNotAttached:
        ereport(NOTICE, (errmsg("deleted_record_detach: %s is not attached, nothing to do",
                                DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid))))));
        break;
    }
  }
  return dropped;
}

// Manage plans and issues the DDL in two stages, each planned from the catalog as the one
// before left it: the archive trigger's DDL fires deleted_record_guard_partitions, which adds
// or drops TRUNCATE guards. argument is the archive trigger's (null: none), policy the guards'.
void Manage(Oid relid, bool attach, const char* policy, const char* argument, bool contract_kept) {
  CheckTarget(relid, attach ? "attach" : "detach");
  const ArchiveTable* archive = ResolveArchiveTable();
  Members none = {0, &relid, nullptr, 0};
  Triggers no_triggers = {0, nullptr, nullptr};
  ConnectSpi();
  Triggers archive_triggers = RelationTriggers(relid, archive->insert_function, kArchiveTriggerName, true, attach);
  int step_count = 0;
  boundary::ManageStep* steps = Plan(boundary::ManageStage::kArchiveTrigger, relid, attach, contract_kept, 0,
                                     archive_triggers, none, &step_count);
  int dropped = Run(steps, step_count, &relid, relid, policy, argument);
  Members members = ReadMembers(relid, attach);
  steps = Plan(boundary::ManageStage::kTruncateGuards, relid, attach, contract_kept, dropped, no_triggers, members,
               &step_count);
  Run(steps, step_count, members.oids, relid, policy, argument);
  FinishSpi();
}

// CanonicalPolicy is an on_truncate value as the TRUNCATE guard stores it, or an error.
const char* CanonicalPolicy(const char* text) {
  TruncatePolicy parsed;
  boundary::Verdict verdict = boundary::ParseTruncatePolicy(text, &parsed);
  if (!verdict.ok)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("deleted_record_attach: invalid on_truncate: %s", verdict.message)));
  return boundary::TruncatePolicyName(parsed);
}

boundary::AttachRetention RetentionFacts(const Interval* retention) {
  if (retention == nullptr) return {false, 0, 0, 0};
  return {true, retention->month, retention->day, retention->time};
}

// TextArray reads a text[] into names, leaving NULL elements out; *plain is false when no list
// of names equals the array (NULL elements, several dimensions, a lower bound other than 1).
boundary::NameList TextArray(ArrayType* array, bool* plain) {
  Datum* values;
  bool* nulls;
  int count;
  deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &values, &nulls, &count);
  const char** names = static_cast<const char**>(palloc(sizeof(char*) * Max(count, 1)));
  int kept = 0;
  *plain = ARR_NDIM(array) == 0 || (ARR_NDIM(array) == 1 && ARR_LBOUND(array)[0] == 1);
  for (int i = 0; i < count; ++i) {
    if (nulls[i])
      *plain = false;
    else
      names[kept++] = TextDatumGetCString(values[i]);
  }
  return {kept, names};
}

// Contract is the table's contract as deleted_record_attachments() gives it (warning of, and
// leaving out, an archive trigger whose argument does not parse), in CurrentMemoryContext.
struct Contract {
  const char* attachment = nullptr;
  Interval* retention = nullptr;
  boundary::NameList exclude = {0, nullptr};
  boundary::NameList mask = {0, nullptr};
};

Contract ReadContract(Oid relid) {
  MemoryContext caller = CurrentMemoryContext;
  const ArchiveTable* archive = ResolveArchiveTable();
  ConnectSpi();
  char* query = psprintf(
      "SELECT a.attachment_id, a.retention, a.exclude_columns, a.mask_columns FROM %s() a"
      " WHERE a.relation OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
      ExtensionObjectName(archive, "deleted_record_attachments"));
  Oid types[1] = {OIDOID};
  Datum values[1] = {ObjectIdGetDatum(relid)};
  if (SPI_execute_with_args(query, 1, types, values, nullptr, true, 2) != SPI_OK_SELECT)
    elog(ERROR, "deleted_record: could not read the contract of table %u", relid);
  if (SPI_processed > 1) elog(ERROR, "deleted_record: table %u has %d contracts", relid, static_cast<int>(SPI_processed));
  Contract contract;
  if (SPI_processed == 1) {
    HeapTuple row = SPI_tuptable->vals[0];
    TupleDesc descriptor = SPI_tuptable->tupdesc;
    MemoryContext spi = MemoryContextSwitchTo(caller);
    bool null;
    Datum value = SPI_getbinval(row, descriptor, 1, &null);
    if (!null) contract.attachment = DatumGetCString(DirectFunctionCall1(uuid_out, value));
    value = SPI_getbinval(row, descriptor, 2, &null);
    if (!null) contract.retention = DatumGetIntervalP(datumCopy(value, false, sizeof(Interval)));
    bool plain;
    value = SPI_getbinval(row, descriptor, 3, &null);
    if (!null) contract.exclude = TextArray(DatumGetArrayTypeP(value), &plain);
    value = SPI_getbinval(row, descriptor, 4, &null);
    if (!null) contract.mask = TextArray(DatumGetArrayTypeP(value), &plain);
    MemoryContextSwitchTo(spi);
  }
  FinishSpi();
  return contract;
}

// ManageAttach merges the call into the table's contract (the core decides: what the call
// leaves out is kept, or refused for column policies) and attaches the table with the result.
// on_truncate is checked (or null), retention, exclude and mask are the call's (or null).
void ManageAttach(Oid relid, const char* on_truncate, const Interval* retention, ArrayType* exclude, ArrayType* mask) {
  if (on_truncate != nullptr) on_truncate = CanonicalPolicy(on_truncate);
  CheckTarget(relid, "attach");
  Contract contract = ReadContract(relid);
  boundary::AttachContractFacts facts = {contract.attachment, RetentionFacts(contract.retention), contract.exclude,
                                         contract.mask, TruncateGuardPolicy(relid)};
  boundary::AttachCallFacts call = {on_truncate, RetentionFacts(retention), exclude != nullptr, true, {0, nullptr},
                                    mask != nullptr, true, {0, nullptr}, nullptr};
  if (exclude != nullptr) call.exclude = TextArray(exclude, &call.exclude_plain);
  if (mask != nullptr) call.mask = TextArray(mask, &call.mask_plain);
  // A new attachment's id, as gen_random_uuid() makes it (used only when the table has none).
  call.new_attachment = DatumGetCString(DirectFunctionCall1(uuid_out, OidFunctionCall0Coll(F_GEN_RANDOM_UUID, InvalidOid)));
  const char* table = DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
  boundary::AttachMergeResult merged;
  boundary::OutputBuffer buffer = {palloc(256), 256, 0};
  boundary::Verdict verdict = boundary::MergeAttachCall(table, &facts, &call, &buffer, &merged);
  if (verdict.ok && buffer.required > buffer.capacity) {
    buffer = {palloc(buffer.required), buffer.required, 0};
    verdict = boundary::MergeAttachCall(table, &facts, &call, &buffer, &merged);
  }
  if (!verdict.ok) elog(ERROR, "deleted_record: %s", verdict.message);
  if (buffer.required > buffer.capacity) elog(ERROR, "deleted_record: the attach merge did not fit its buffer");
  if (merged.refused)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", merged.message), errhint("%s", merged.hint)));
  const Interval* kept = merged.retention == boundary::AttachRetentionChoice::kContract ? contract.retention
                         : merged.retention == boundary::AttachRetentionChoice::kCall   ? retention
                                                                                        : nullptr;
  char* argument = BuildAttachmentArgument(relid, merged.attachment, kept, exclude, mask);
  Manage(relid, true, CanonicalPolicy(merged.on_truncate), argument, merged.contract_kept);
}

}  // namespace

}  // namespace deleted_record::glue

extern "C" {
PG_FUNCTION_INFO_V1(deleted_record_manage_triggers);
}

// deleted_record_manage_triggers(target, action, on_truncate, argument, contract_kept): the
// triggers deleted_record_manage's checked call drops, enables or creates (internal).
extern "C" Datum deleted_record_manage_triggers(PG_FUNCTION_ARGS) {
  using namespace deleted_record;
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("deleted_record_manage_triggers: table and action must not be NULL")));
  char* action = text_to_cstring(PG_GETARG_TEXT_PP(1));
  bool attach = strcmp(action, "attach") == 0;
  if (!attach && strcmp(action, "detach") != 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("deleted_record_manage_triggers: action must be attach or detach, not \"%s\"", action)));
  const char* policy = nullptr;
  if (attach) policy = glue::CanonicalPolicy(PG_ARGISNULL(2) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(2)));
  glue::Manage(PG_GETARG_OID(0), attach, policy, PG_ARGISNULL(3) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(3)),
               !PG_ARGISNULL(4) && PG_GETARG_BOOL(4));
  PG_RETURN_VOID();
}

extern "C" {
PG_FUNCTION_INFO_V1(deleted_record_manage_attach);
}

// deleted_record_manage_attach(target, on_truncate, retention, exclude_columns, mask_columns):
// the attach deleted_record_manage has checked, with the call merged into the table's contract
// (internal).
extern "C" Datum deleted_record_manage_attach(PG_FUNCTION_ARGS) {
  using namespace deleted_record;
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("deleted_record_manage_attach: table must not be NULL")));
  glue::ManageAttach(PG_GETARG_OID(0), PG_ARGISNULL(1) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(1)),
                     PG_ARGISNULL(2) ? nullptr : PG_GETARG_INTERVAL_P(2),
                     PG_ARGISNULL(3) ? nullptr : PG_GETARG_ARRAYTYPE_P(3),
                     PG_ARGISNULL(4) ? nullptr : PG_GETARG_ARRAYTYPE_P(4));
  PG_RETURN_VOID();
}
