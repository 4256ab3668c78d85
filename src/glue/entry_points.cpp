// The SQL-callable entry points of deleted_record.so and its _PG_init. Each entry checks how
// it was called, then hands over to the glue; the core is reached only through boundary.hpp.
#include "glue/archive_writer.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
PG_FUNCTION_INFO_V1(deleted_record_insert);
PG_FUNCTION_INFO_V1(deleted_record_truncate_guard);
PG_FUNCTION_INFO_V1(deleted_record_uuid7);
}

namespace deleted_record::glue {
namespace {

const char* FiredWhen(TriggerEvent event) {
  if (TRIGGER_FIRED_BEFORE(event)) return "BEFORE";
  if (TRIGGER_FIRED_AFTER(event)) return "AFTER";
  return "INSTEAD OF";
}

const char* FiredBy(TriggerEvent event) {
  if (TRIGGER_FIRED_BY_INSERT(event)) return "INSERT";
  if (TRIGGER_FIRED_BY_UPDATE(event)) return "UPDATE";
  if (TRIGGER_FIRED_BY_DELETE(event)) return "DELETE";
  return "TRUNCATE";
}

// RequireTrigger raises the trigger-protocol error unless fcinfo is a trigger call.
TriggerData* RequireTrigger(FunctionCallInfo fcinfo, const char* function, const char* usage) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("%s() must be called as a trigger", function), errhint("%s", usage)));
  return reinterpret_cast<TriggerData*>(fcinfo->context);
}

void MisfiredTrigger(TriggerData* trigger, const char* function, const char* expected, const char* usage) {
  TriggerEvent event = trigger->tg_event;
  ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                  errmsg("%s() must be fired %s", function, expected),
                  errdetail("Trigger \"%s\" on table \"%s\" is fired %s %s FOR EACH %s.", trigger->tg_trigger->tgname,
                            RelationGetRelationName(trigger->tg_relation), FiredWhen(event), FiredBy(event),
                            TRIGGER_FIRED_FOR_ROW(event) ? "ROW" : "STATEMENT"),
                  errhint("%s", usage)));
}

// HasOwnTruncateGuard is true when rel has an enabled trigger calling the guard function.
bool HasOwnTruncateGuard(Relation rel, Oid guard_function) {
  TriggerDesc* triggers = rel->trigdesc;
  if (triggers == nullptr) return false;
  for (int i = 0; i < triggers->numtriggers; ++i) {
    const Trigger* trigger = &triggers->triggers[i];
    if (trigger->tgfoid == guard_function && trigger->tgenabled != TRIGGER_DISABLED) return true;
  }
  return false;
}

// ArchiveAllRows archives every row of a table about to be truncated. The latest snapshot,
// taken after TRUNCATE's exclusive lock, sees every row the truncation will remove.
void ArchiveAllRows(Relation rel) {
  Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
  TableScanDesc scan = table_beginscan(rel, snapshot, 0, nullptr);
  TupleTableSlot* slot = table_slot_create(rel, nullptr);
  MemoryContext row_context = AllocSetContextCreate(CurrentMemoryContext, "deleted_record truncated row",
                                                    ALLOCSET_DEFAULT_SIZES);
  while (table_scan_getnextslot(scan, ForwardScanDirection, slot)) {
    CHECK_FOR_INTERRUPTS();
    MemoryContext old = MemoryContextSwitchTo(row_context);
    bool should_free = false;
    HeapTuple tuple = ExecFetchSlotHeapTuple(slot, false, &should_free);
    ArchiveDeletedTuple(rel, tuple);
    MemoryContextSwitchTo(old);
    MemoryContextReset(row_context);
  }
  MemoryContextDelete(row_context);
  ExecDropSingleTupleTableSlot(slot);
  table_endscan(scan);
  UnregisterSnapshot(snapshot);
}

// ArchiveBeforeTruncate archives what TRUNCATE of rel removes. Partitions are truncated with
// their parent and fire their own guards, so a partitioned table archives only the partitions
// that have no guard of their own (created after deleted_record_attach, say).
struct TruncateTarget {
  Relation rel;
  Oid guard_function;
};

void ArchiveBeforeTruncate(void* argument) {
  Relation rel = static_cast<TruncateTarget*>(argument)->rel;
  Oid guard_function = static_cast<TruncateTarget*>(argument)->guard_function;
  if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE) {
    ArchiveAllRows(rel);
    return;
  }
  List* members = find_all_inheritors(RelationGetRelid(rel), NoLock, nullptr);
  ListCell* cell;
  foreach (cell, members) {
    Relation member = table_open(lfirst_oid(cell), NoLock);  // TRUNCATE holds AccessExclusiveLock
    if (member->rd_rel->relkind == RELKIND_RELATION && !HasOwnTruncateGuard(member, guard_function))
      ArchiveAllRows(member);
    table_close(member, NoLock);
  }
  list_free(members);
}

}  // namespace
}  // namespace deleted_record::glue

using namespace deleted_record;
using namespace deleted_record::glue;

void _PG_init(void) {
  DefineSettings();
  RegisterRelationInfoInvalidation();
  RegisterArchiveWriter();
}

// deleted_record_insert: AFTER DELETE FOR EACH ROW; archives OLD.
extern "C" Datum deleted_record_insert(PG_FUNCTION_ARGS) {
  static const char* const kUsage =
      "Attach it with SELECT deleted_record_attach('table'), or CREATE TRIGGER deleted_record_insert "
      "AFTER DELETE ON table FOR EACH ROW EXECUTE FUNCTION deleted_record_insert().";
  TriggerData* trigger = RequireTrigger(fcinfo, "deleted_record_insert", kUsage);
  TriggerEvent event = trigger->tg_event;
  if (!TRIGGER_FIRED_AFTER(event) || !TRIGGER_FIRED_FOR_ROW(event) || !TRIGGER_FIRED_BY_DELETE(event))
    MisfiredTrigger(trigger, "deleted_record_insert", "AFTER DELETE FOR EACH ROW", kUsage);

  Relation rel = trigger->tg_relation;
  HeapTuple old_row = trigger->tg_trigtuple;
  // An UPDATE that moves a row to another partition runs as delete + insert and marks the old
  // tuple as moved: the row was not deleted, so it is not archived.
  if (HeapTupleHeaderIndicatesMovedPartitions(old_row->t_data)) return PointerGetDatum(nullptr);
  if (IsArchiveTable(RelationGetRelid(rel)))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("deleted_record_insert() cannot archive the archive table itself"),
                    errhint("DROP TRIGGER %s ON %s.", quote_identifier(trigger->tg_trigger->tgname),
                            RelationGetRelationName(rel))));
  ArchiveDeletedTuple(rel, old_row);
  return PointerGetDatum(nullptr);
}

// deleted_record_truncate_guard: BEFORE TRUNCATE FOR EACH STATEMENT; its argument is the policy.
extern "C" Datum deleted_record_truncate_guard(PG_FUNCTION_ARGS) {
  static const char* const kUsage = "It is created by deleted_record_attach('table', on_truncate => 'archive').";
  TriggerData* trigger = RequireTrigger(fcinfo, "deleted_record_truncate_guard", kUsage);
  TriggerEvent event = trigger->tg_event;
  if (!TRIGGER_FIRED_BEFORE(event) || !TRIGGER_FIRED_BY_TRUNCATE(event))
    MisfiredTrigger(trigger, "deleted_record_truncate_guard", "BEFORE TRUNCATE FOR EACH STATEMENT", kUsage);

  Relation rel = trigger->tg_relation;
  const Trigger* definition = trigger->tg_trigger;
  int policy = 0;
  boundary::Verdict verdict =
      boundary::ParseTruncatePolicy(definition->tgnargs == 1 ? definition->tgargs[0] : nullptr, &policy);
  if (!verdict.ok)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("trigger \"%s\" on table \"%s\" has an invalid TRUNCATE policy", definition->tgname,
                           RelationGetRelationName(rel)),
                    errdetail("The trigger's single argument must be the policy: %s.", verdict.message),
                    errhint("%s", kUsage)));
  switch (policy) {
    case 0: {  // archive
      TruncateTarget target = {rel, definition->tgfoid};
      RunArchiveBatch(ArchiveBeforeTruncate, &target);
      break;
    }
    case 1: {  // deny
      // The policy is set on the attached table: for a partition, that is its root.
      Oid attached = RelationGetRelid(rel);
      if (rel->rd_rel->relispartition) attached = llast_oid(get_partition_ancestors(attached));
      ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                      errmsg("TRUNCATE of table \"%s\" is denied by deleted_record", RelationGetRelationName(rel)),
                      errdetail("Its rows would be removed without being archived."),
                      errhint("Use DELETE, or allow it with SELECT deleted_record_attach('%s', on_truncate => "
                              "'archive').",
                              quote_qualified_identifier(get_namespace_name(get_rel_namespace(attached)),
                                                         get_rel_name(attached)))));
      break;
    }
    default:  // ignore
      break;
  }
  return PointerGetDatum(nullptr);
}

// deleted_record_uuid7(): a time-ordered UUID, as used for deleted_record.id.
extern "C" Datum deleted_record_uuid7(PG_FUNCTION_ARGS) { PG_RETURN_DATUM(NextUuid7Datum()); }
