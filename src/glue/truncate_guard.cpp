// TRUNCATE: archiving every row of the truncated table (and of partitions without a guard of
// their own), or denying it.
#include "glue/truncate_guard.hpp"

#include "glue/archive_buffer.hpp"
#include "glue/capture.hpp"
#include "glue/archive_table.hpp"
#include "glue/citus.hpp"

extern "C" {
#include "catalog/heap.h"  // heap_truncate_find_FKs
}

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

void ApplyTruncatePolicy(Relation rel, const Trigger* guard, TruncatePolicy policy) {
  if (CitusPresent()) {
    CitusRelation citus;
    DescribeCitusRelation(rel, &citus);
    // A shard's rows are archived where it lies, by ArchiveShardsBeforeTruncate (guards on
    // shards may be missing or stale: Citus copies them only to later shards). An old shard
    // copy (archive_here false, not a shard) holds only stale rows.
    if (citus.is_shard || !citus.archive_here) return;
    if (citus.is_citus_table) {
      // With DDL propagation off Citus truncates only the shell's own heap, which holds at most
      // the copy left behind by create_distributed_table (truncate_local_data_after_distributing_table):
      // no row of the table is removed.
      const char* propagation = GetConfigOption("citus.enable_ddl_propagation", true, false);
      if (propagation != nullptr && strcmp(propagation, "off") == 0) return;
      if (policy != TruncatePolicy::kArchive) {
        if (policy == TruncatePolicy::kIgnore) return;
      } else {
        // Citus truncates the shards after this guard (its own truncate trigger fires after
        // it); each node archives the rows of the shards it holds, from their heaps, under this
        // transaction's context, which must reach them first.
        CheckShardsArchivable(rel);
        if (!PropagateContextSettings(false))
          ereport(ERROR,
                  (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                   errmsg("deleted_record: the deletion context set in this session cannot reach the Citus nodes that "
                          "archive the rows of \"%s\" before TRUNCATE",
                          RelationGetRelationName(rel)),
                   errdetail("deleted_record.* values set with SET, set_config or connection options (and under SET ROLE the login role and every context value) stay on this node; "
                             "Citus passes settings to other nodes only as SET LOCAL inside a transaction block."),
                   errhint("Run the TRUNCATE in a transaction block: BEGIN; SELECT deleted_record_set_context('<actor>', "
                           "'<reason>'); TRUNCATE ...; COMMIT;")));
        return;
      }
    }
  }
  switch (policy) {
    case TruncatePolicy::kArchive: {
      TruncateTarget target = {rel, guard->tgfoid};
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


namespace {

// GuardPolicyOf reads the policy of relid's enabled guard from pg_trigger, without locking relid:
// the shell of a Citus table is locked by the TRUNCATE's coordinator over another connection of
// the same distributed transaction, and waiting for it would be a distributed deadlock.
// Returns false when relid has no guard.
bool GuardPolicyOf(Oid relid, Oid guard_function, TruncatePolicy* policy) {
  Relation triggers = table_open(TriggerRelationId, AccessShareLock);
  ScanKeyData key;
  ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
  SysScanDesc scan = systable_beginscan(triggers, TriggerRelidNameIndexId, true, nullptr, 1, &key);
  bool found = false;
  HeapTuple tuple;
  while (!found && HeapTupleIsValid(tuple = systable_getnext(scan))) {
    auto* trigger = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
    if (trigger->tgfoid != guard_function || trigger->tgenabled == TRIGGER_DISABLED) continue;
    found = true;
    *policy = TruncatePolicy::kArchive;  // an unreadable policy archives
    bool isnull = false;
    Datum value = heap_getattr(tuple, Anum_pg_trigger_tgargs, RelationGetDescr(triggers), &isnull);
    if (trigger->tgnargs != 1 || isnull) continue;
    bytea* arguments = DatumGetByteaPP(value);
    char* text = pnstrdup(VARDATA_ANY(arguments), VARSIZE_ANY_EXHDR(arguments));  // "name\0"
    TruncatePolicy parsed = TruncatePolicy::kArchive;
    if (boundary::ParseTruncatePolicy(text, &parsed).ok) *policy = parsed;
  }
  systable_endscan(scan);
  table_close(triggers, AccessShareLock);
  return found;
}

// ShardTruncatePolicyIsArchive: the Citus table whose shard is truncated (or its nearest
// partition ancestor with a guard) has a guard saying 'archive' on this node.
bool ShardTruncatePolicyIsArchive(Oid logical, Oid guard_function) {
  List* chain = list_make1_oid(logical);
  if (get_rel_relispartition(logical)) chain = list_concat(chain, get_partition_ancestors(logical));
  bool archive = false;
  ListCell* cell;
  foreach (cell, chain) {
    TruncatePolicy policy = TruncatePolicy::kArchive;
    if (!GuardPolicyOf(lfirst_oid(cell), guard_function, &policy)) continue;
    archive = policy == TruncatePolicy::kArchive;
    break;
  }
  list_free(chain);
  return archive;
}

struct ShardBatch {
  List* relids;
};

void ArchiveShards(void* argument) {
  auto* batch = static_cast<ShardBatch*>(argument);
  ListCell* cell;
  foreach (cell, batch->relids) {
    Relation rel = table_open(lfirst_oid(cell), NoLock);  // locked by ArchiveShardsBeforeTruncate
    ArchiveAllRows(rel);
    table_close(rel, NoLock);
  }
}

}  // namespace

void ArchiveShardsBeforeTruncate(const TruncateStmt* statement) {
  if (!CitusPresent()) return;
  // Only statements naming a shard: Citus's own, sent to the node that holds it.
  List* relids = NIL;
  ListCell* cell;
  bool names_shard = false;
  foreach (cell, statement->relations) {
    Oid relid = RangeVarGetRelid(lfirst_node(RangeVar, cell), NoLock, true);
    if (OidIsValid(relid) && OidIsValid(CitusShardOf(relid))) names_shard = true;
  }
  if (!names_shard) return;
  // The relations this TRUNCATE removes rows from, as ExecuteTruncate finds them (locked as it
  // locks them): the named ones, their partitions and children, and with CASCADE every relation
  // referencing them.
  foreach (cell, statement->relations) {
    RangeVar* range = lfirst_node(RangeVar, cell);
    Oid relid = RangeVarGetRelid(range, AccessExclusiveLock, true);
    if (!OidIsValid(relid)) continue;
    if (range->inh)
      relids = list_concat_unique_oid(relids, find_all_inheritors(relid, AccessExclusiveLock, nullptr));
    else
      relids = list_append_unique_oid(relids, relid);
  }
  if (statement->behavior == DROP_CASCADE) {
    for (;;) {
      List* referencing = heap_truncate_find_FKs(relids);
      if (referencing == NIL) break;
      ListCell* more;
      foreach (more, referencing)
        relids = list_concat_unique_oid(relids, find_all_inheritors(lfirst_oid(more), AccessExclusiveLock, nullptr));
    }
  }
  const ArchiveTable* archive = ResolveArchiveTable();
  Oid guard_function = LookupFuncName(list_make2(makeString(get_namespace_name(archive->schema)),
                                                 makeString(pstrdup("deleted_record_truncate_guard"))),
                                      0, nullptr, true);
  if (!OidIsValid(guard_function)) return;
  ShardBatch batch = {NIL};
  foreach (cell, relids) {
    Relation rel = table_open(lfirst_oid(cell), NoLock);
    if (rel->rd_rel->relkind == RELKIND_RELATION) {
      CitusRelation citus;
      DescribeCitusRelation(rel, &citus);
      if (citus.is_shard && citus.archive_here && ShardTruncatePolicyIsArchive(citus.logical_relid, guard_function))
        batch.relids = lappend_oid(batch.relids, RelationGetRelid(rel));
    }
    table_close(rel, NoLock);
  }
  if (batch.relids != NIL) RunArchiveBatch(ArchiveShards, &batch);
}

}  // namespace deleted_record::glue
