// TRUNCATE: archiving every row of the truncated table (and of partitions without a guard of
// their own), or denying it.
#include "glue/truncate_guard.hpp"

#include "glue/archive_buffer.hpp"
#include "glue/capture.hpp"
#include "glue/archive_table.hpp"

namespace deleted_record::glue {

namespace {

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

struct TruncateTarget {
  Relation rel;
  Oid guard_function;
};

void ArchiveRowsOf(Relation rel, const TruncateTarget*) { ArchiveAllRows(rel); }

// ArchiveBeforeTruncate archives what TRUNCATE of rel removes. Partitions are truncated with
// their parent and fire their own guards, so a partitioned table archives only the partitions
// that have no guard of their own. Rows of a foreign partition cannot be read here: the
// TRUNCATE is refused rather than letting them go unarchived.
void ArchiveBeforeTruncate(void* argument) {
  auto* target = static_cast<TruncateTarget*>(argument);
  Relation rel = target->rel;
  if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE) {
    ArchiveRowsOf(rel, target);
    return;
  }
  List* members = find_all_inheritors(RelationGetRelid(rel), NoLock, nullptr);
  ListCell* cell;
  foreach (cell, members) {
    Relation member = table_open(lfirst_oid(cell), NoLock);  // TRUNCATE holds AccessExclusiveLock
    if (member->rd_rel->relkind == RELKIND_FOREIGN_TABLE)
      ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                      errmsg("cannot archive the rows of foreign partition \"%s\" before TRUNCATE of \"%s\"",
                             RelationGetRelationName(member), RelationGetRelationName(rel)),
                      errdetail("Its TRUNCATE policy is 'archive', and a foreign table's rows can only be archived "
                                "by DELETE."),
                      errhint("DELETE its rows first, or use on_truncate => 'deny' or 'ignore'.")));
    if (member->rd_rel->relkind == RELKIND_RELATION && !HasOwnTruncateGuard(member, target->guard_function))
      ArchiveRowsOf(member, target);
    table_close(member, NoLock);
  }
  list_free(members);
}

// AttachedTableName names the table whose policy this is: for a partition, its root.
char* AttachedTableName(Relation rel) {
  Oid attached = RelationGetRelid(rel);
  if (rel->rd_rel->relispartition) attached = llast_oid(get_partition_ancestors(attached));
  return quote_qualified_identifier(get_namespace_name(get_rel_namespace(attached)), get_rel_name(attached));
}

}  // namespace

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
    CaptureDeletedRow(rel, tuple);
    MemoryContextSwitchTo(old);
    MemoryContextReset(row_context);
  }
  MemoryContextDelete(row_context);
  ExecDropSingleTupleTableSlot(slot);
  table_endscan(scan);
  UnregisterSnapshot(snapshot);
}

namespace {
TruncateDelegate truncate_delegate = nullptr;
}  // namespace

void SetTruncateDelegate(TruncateDelegate delegate) { truncate_delegate = delegate; }

void RefuseTruncate(Relation rel) {
  ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                  errmsg("TRUNCATE of table \"%s\" is denied by deleted_record", RelationGetRelationName(rel)),
                  errdetail("Its rows would be removed without being archived."),
                  errhint("Use DELETE, or allow it with SELECT deleted_record_attach('%s', on_truncate => "
                          "'archive').",
                          AttachedTableName(rel))));
}

void ApplyTruncatePolicy(Relation rel, const Trigger* guard, TruncatePolicy policy) {
  // Citus support (glue/citus/) decides for its shards and tables, through the delegate it
  // registered: this room knows nothing of Citus.
  if (truncate_delegate != nullptr && truncate_delegate(rel, policy)) return;
  switch (policy) {
    case TruncatePolicy::kArchive: {
      TruncateTarget target = {rel, guard->tgfoid};
      RunArchiveBatch(ArchiveBeforeTruncate, &target);
      return;
    }
    case TruncatePolicy::kDeny:
      RefuseTruncate(rel);
      return;
    case TruncatePolicy::kIgnore:
      return;
  }
}

}  // namespace deleted_record::glue
