// TRUNCATE: archiving every row of the truncated table (and of partitions without a guard of
// their own), or denying it.
#include "glue/truncate_guard.hpp"

#include "glue/archive_buffer.hpp"
#include "glue/capture.hpp"
#include "glue/citus.hpp"

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

// ArchiveAllRowsThroughCitus archives every row of a Citus table (distributed, reference or
// Citus local) about to be truncated. Its rows live in shards on other nodes (or under another
// name on this one), so they are read through Citus, in this transaction, and archived on this
// node under the logical table's names; the shell's own heap holds nothing of them.
void ArchiveAllRowsThroughCitus(Relation rel) {
  char* query = psprintf("SELECT t FROM %s t",
                         quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
                                                    RelationGetRelationName(rel)));
  MemoryContext row_context = AllocSetContextCreate(CurrentMemoryContext, "deleted_record truncated row",
                                                    ALLOCSET_DEFAULT_SIZES);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "deleted_record: SPI_connect failed");
  Portal portal = SPI_cursor_open_with_args(nullptr, query, 0, nullptr, nullptr, nullptr, false, 0);
  for (;;) {
    SPI_cursor_fetch(portal, true, 1000);
    if (SPI_processed == 0) break;
    for (uint64 i = 0; i < SPI_processed; ++i) {
      CHECK_FOR_INTERRUPTS();
      MemoryContext old = MemoryContextSwitchTo(row_context);
      bool isnull = false;
      Datum whole_row = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
      if (!isnull) {
        HeapTupleHeader header = DatumGetHeapTupleHeader(whole_row);
        HeapTupleData tuple = {};
        tuple.t_len = HeapTupleHeaderGetDatumLength(header);
        ItemPointerSetInvalid(&tuple.t_self);
        tuple.t_tableOid = RelationGetRelid(rel);
        tuple.t_data = header;
        CaptureDeletedRow(rel, &tuple);
      }
      MemoryContextSwitchTo(old);
      MemoryContextReset(row_context);
    }
    SPI_freetuptable(SPI_tuptable);
  }
  SPI_cursor_close(portal);
  SPI_finish();
  MemoryContextDelete(row_context);
}

struct TruncateTarget {
  Relation rel;
  Oid guard_function;
  bool through_citus;  // rel is the shell of a Citus table
};

void ArchiveRowsOf(Relation rel, const TruncateTarget* target) {
  if (target->through_citus)
    ArchiveAllRowsThroughCitus(rel);
  else
    ArchiveAllRows(rel);
}

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

void ApplyTruncatePolicy(Relation rel, const Trigger* guard, TruncatePolicy policy) {
  bool through_citus = false;
  if (CitusPresent()) {
    CitusRelation citus;
    DescribeCitusRelation(rel, &citus);
    // Citus truncates shards only after the TRUNCATE of their Citus table, whose guard decided
    // (guards on shards may be missing or stale: Citus copies them only to later shards).
    // An orphaned old shard copy (archive_here false, not a shard) holds only stale rows.
    if (citus.is_shard || !citus.archive_here) return;
    if (citus.is_citus_table) {
      // With DDL propagation off Citus truncates only the shell's own heap, which holds at most
      // the copy left behind by create_distributed_table (truncate_local_data_after_distributing_table):
      // no row of the table is removed.
      const char* propagation = GetConfigOption("citus.enable_ddl_propagation", true, false);
      if (propagation != nullptr && strcmp(propagation, "off") == 0) return;
      through_citus = true;
    }
  }
  switch (policy) {
    case TruncatePolicy::kArchive: {
      TruncateTarget target = {rel, guard->tgfoid, through_citus};
      RunArchiveBatch(ArchiveBeforeTruncate, &target);
      return;
    }
    case TruncatePolicy::kDeny:
      ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                      errmsg("TRUNCATE of table \"%s\" is denied by deleted_record", RelationGetRelationName(rel)),
                      errdetail("Its rows would be removed without being archived."),
                      errhint("Use DELETE, or allow it with SELECT deleted_record_attach('%s', on_truncate => "
                              "'archive').",
                              AttachedTableName(rel))));
      return;
    case TruncatePolicy::kIgnore:
      return;
  }
}

}  // namespace deleted_record::glue
