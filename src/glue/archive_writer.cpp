// The archive writer: rows go straight to the heap (one multi-insert) and its indexes as the
// extension owner, skipping SPI and the executor's per-statement setup; what a DBA added to the
// table (defaults, generated columns, NOT NULL and CHECK constraints) is applied on the way.
#include "glue/archive_writer.hpp"

#include "glue/owner.hpp"

extern "C" {
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
}

namespace deleted_record::glue {

namespace {

// Slots for the multi-insert, reused across flushes. They are built on the archive table's
// descriptor copy, which is not reference-counted: slots on the relation's own descriptor would
// each pin it, and releasing a thousand pins costs a linear search each. A descriptor copy is
// freed when the archive is looked up again: the generation tells a reused address apart.
struct InsertSlots {
  MemoryContext context;
  TupleDesc descriptor;  // the descriptor the slots were made for
  uint64 generation;     // ... and the archive lookup it belongs to
  int count;
  int capacity;
  TupleTableSlot** slots;
};

InsertSlots* insert_slots = nullptr;

void ForgetInsertSlots() {
  if (insert_slots == nullptr) return;
  MemoryContextReset(insert_slots->context);
  insert_slots->descriptor = nullptr;
  insert_slots->generation = 0;
  insert_slots->count = 0;
  insert_slots->capacity = 0;
  insert_slots->slots = nullptr;
}

TupleTableSlot** SlotsFor(TupleDesc descriptor, uint64 generation, int count) {
  if (insert_slots == nullptr) {
    insert_slots = static_cast<InsertSlots*>(MemoryContextAllocZero(TopMemoryContext, sizeof(InsertSlots)));
    insert_slots->context = AllocSetContextCreate(TopMemoryContext, "deleted_record insert slots",
                                                  ALLOCSET_DEFAULT_SIZES);
  }
  if (insert_slots->descriptor != descriptor || insert_slots->generation != generation) {
    ForgetInsertSlots();
    insert_slots->descriptor = descriptor;
    insert_slots->generation = generation;
  }
  MemoryContext old = MemoryContextSwitchTo(insert_slots->context);
  if (insert_slots->capacity < count) {
    int capacity = Max(count, 64);
    TupleTableSlot** slots = static_cast<TupleTableSlot**>(palloc0(sizeof(TupleTableSlot*) * capacity));
    for (int i = 0; i < insert_slots->count; ++i) slots[i] = insert_slots->slots[i];
    insert_slots->slots = slots;
    insert_slots->capacity = capacity;
  }
  while (insert_slots->count < count)
    insert_slots->slots[insert_slots->count++] = MakeTupleTableSlot(descriptor, &TTSOpsHeapTuple);
  MemoryContextSwitchTo(old);
  return insert_slots->slots;
}

// WithDefaults gives rows (in the archive's shape) the defaults of the columns a DBA added,
// evaluated as the extension owner, whose table (and expressions) these are.
HeapTuple* WithDefaults(const ArchiveTable* archive, HeapTuple* tuples, int count) {
  if (archive->default_count == 0) return tuples;
  EState* estate = CreateExecutorState();
  ExprState** defaults = static_cast<ExprState**>(palloc(sizeof(ExprState*) * archive->default_count));
  for (int d = 0; d < archive->default_count; ++d) defaults[d] = ExecPrepareExpr(archive->default_expressions[d], estate);
  ExprContext* econtext = GetPerTupleExprContext(estate);
  int natts = archive->descriptor->natts;
  Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * natts));
  bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * natts));
  HeapTuple* completed = static_cast<HeapTuple*>(palloc(sizeof(HeapTuple) * count));
  for (int i = 0; i < count; ++i) {
    heap_deform_tuple(tuples[i], archive->descriptor, values, nulls);
    for (int d = 0; d < archive->default_count; ++d) {
      int index = archive->default_attnums[d] - 1;
      if (nulls[index]) values[index] = ExecEvalExpr(defaults[d], econtext, &nulls[index]);
    }
    completed[i] = heap_form_tuple(archive->descriptor, values, nulls);  // copies the values
    ResetPerTupleExprContext(estate);
  }
  FreeExecutorState(estate);
  return completed;
}

// CheckRows applies the relation's generated columns, NOT NULL and CHECK constraints.
void CheckRows(ResultRelInfo* result_relation, EState* estate, TupleTableSlot** slots, int count) {
  TupleDesc descriptor = RelationGetDescr(result_relation->ri_RelationDesc);
  bool has_generated = descriptor->constr != nullptr && descriptor->constr->has_generated_stored;
  for (int i = 0; i < count; ++i) {
    if (has_generated) compat::ComputeStoredGenerated(result_relation, estate, slots[i]);
    ExecConstraints(result_relation, slots[i], estate);
    ResetPerTupleExprContext(estate);
  }
}


// IndexInfoFor returns the IndexInfo of an index of the relation being written: for a plain
// btree index of a partition, the one built at its first write (btree keeps no state in it
// between inserts; an index with expressions or a predicate gets a fresh one, whose expression
// states belong to this write's executor state, as does any other access method's).
IndexInfo* IndexInfoFor(ArchiveLeaf* leaf, Relation index) {
  bool cacheable = leaf != nullptr && index->rd_rel->relam == BTREE_AM_OID &&
                   heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, nullptr) &&
                   heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, nullptr);
  if (!cacheable) return BuildIndexInfo(index);
  Oid oid = RelationGetRelid(index);
  IndexInfo* info = nullptr;
  for (int i = 0; i < leaf->index_info_count && info == nullptr; ++i)
    if (leaf->index_info_oids[i] == oid) info = leaf->index_infos[i];
  if (info == nullptr) {
    MemoryContext old = MemoryContextSwitchTo(ArchiveTableMemory());
    info = BuildIndexInfo(index);
    int count = leaf->index_info_count;
    Oid* oids = static_cast<Oid*>(palloc(sizeof(Oid) * (count + 1)));
    IndexInfo** infos = static_cast<IndexInfo**>(palloc(sizeof(IndexInfo*) * (count + 1)));
    for (int i = 0; i < count; ++i) {
      oids[i] = leaf->index_info_oids[i];
      infos[i] = leaf->index_infos[i];
    }
    oids[count] = oid;
    infos[count] = info;
    leaf->index_info_oids = oids;
    leaf->index_infos = infos;
    leaf->index_info_count = count + 1;
    MemoryContextSwitchTo(old);
  }
  // The one field that changes without a new index: CREATE INDEX CONCURRENTLY makes it ready.
  info->ii_ReadyForInserts = index->rd_index->indisready;
  return info;
}

// OpenIndexes opens every index of the relation as ExecOpenIndices does, with IndexInfoFor's
// IndexInfo (the index list itself is the relation cache's, always current).
void OpenIndexes(ResultRelInfo* result_relation, Relation target, ArchiveLeaf* leaf) {
  List* indexes = RelationGetIndexList(target);
  int count = list_length(indexes);
  result_relation->ri_NumIndices = count;
  if (count > 0) {
    result_relation->ri_IndexRelationDescs = static_cast<RelationPtr>(palloc(sizeof(Relation) * count));
    result_relation->ri_IndexRelationInfo = static_cast<IndexInfo**>(palloc(sizeof(IndexInfo*) * count));
    int i = 0;
    ListCell* cell;
    foreach (cell, indexes) {
      Relation index = index_open(lfirst_oid(cell), RowExclusiveLock);
      result_relation->ri_IndexRelationDescs[i] = index;
      result_relation->ri_IndexRelationInfo[i++] = IndexInfoFor(leaf, index);
    }
  }
  list_free(indexes);
}

// CloseIndexes closes them keeping their locks until the transaction ends, as the planner does
// with the indexes it opens: the partition itself stays locked that long anyway, and releasing
// and taking again the indexes' locks was another tenth of a one-row delete's extra cost.
void CloseIndexes(ResultRelInfo* result_relation) {
  for (int i = 0; i < result_relation->ri_NumIndices; ++i) {
    Relation index = result_relation->ri_IndexRelationDescs[i];
#if PG_VERSION_NUM >= 170000
    index_insert_cleanup(index, result_relation->ri_IndexRelationInfo[i]);
#endif
    index_close(index, NoLock);
  }
}

// WriteToRelation inserts tuples into target (the archive, or one of its partitions) and its
// indexes. The caller holds RowExclusiveLock on it and has switched to the owner's identity.
void WriteToRelation(Relation target, ArchiveLeaf* leaf, TupleDesc slot_descriptor, uint64 generation, bool needs_checks,
                     HeapTuple* tuples, int count) {
  EState* estate = CreateExecutorState();
  ResultRelInfo* result_relation = makeNode(ResultRelInfo);
  // Not in a range table (index 0): constraint errors then describe the row without looking one up.
  InitResultRelInfo(result_relation, target, 0, nullptr, 0);
  OpenIndexes(result_relation, target, leaf);
  TupleTableSlot** slots = SlotsFor(slot_descriptor, generation, count);
  for (int i = 0; i < count; ++i) ExecStoreHeapTuple(tuples[i], slots[i], false);
  if (needs_checks) CheckRows(result_relation, estate, slots, count);
  table_multi_insert(target, slots, count, GetCurrentCommandId(true), 0, nullptr);
  for (int i = 0; i < count; ++i) {
    List* recheck = compat::InsertIndexTuples(result_relation, slots[i], estate);
    list_free(recheck);
    ResetPerTupleExprContext(estate);
    ExecClearTuple(slots[i]);  // frees the copy the multi-insert materialized
  }
  CloseIndexes(result_relation);
  FreeExecutorState(estate);
}

// FreeMadeTuples frees tuples made for a write (defaults applied, converted), not the buffer's.
void FreeMadeTuples(HeapTuple* made, HeapTuple* original, int count) {
  if (made == original) return;
  for (int i = 0; i < count; ++i) heap_freetuple(made[i]);
  pfree(made);
}

// LockedLeaf routes the row and locks its partition; after the lock (which processes pending
// invalidations) the routing table is current, or it is rebuilt and the row routed again.
ArchiveLeaf* LockedLeaf(const ArchiveTable** archive, HeapTuple tuple) {
  for (;;) {
    bool isnull = false;
    Datum id = heap_getattr(tuple, (*archive)->attnums[kId], (*archive)->descriptor, &isnull);
    ArchiveLeaf* leaf = RouteArchiveRow(*archive, DatumGetUUIDP(id)->data);
    LockRelationOid(leaf->relid, RowExclusiveLock);
    if (ArchiveTableIsCurrent()) return leaf;
    UnlockRelationOid(leaf->relid, RowExclusiveLock);
    *archive = ResolveArchiveTable();
  }
}

// IndexesMayRunUserCode is true when maintaining an index of the relation may run code a user
// wrote: index expressions or a predicate, or an operator class or access method that is not
// built in (its support functions may be SQL functions, whose bodies are parsed under
// search_path). Built-in operator classes call built-in C functions only.
bool IndexesMayRunUserCode(Relation relation) {
  List* indexes = RelationGetIndexList(relation);
  bool found = false;
  ListCell* cell;
  foreach (cell, indexes) {
    Relation index = index_open(lfirst_oid(cell), AccessShareLock);
    const Form_pg_index form = index->rd_index;
    found = !heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, nullptr) ||
            !heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, nullptr) ||
            index->rd_rel->relam >= FirstNormalObjectId;
    for (int i = 0; !found && i < form->indnkeyatts; ++i) found = index->rd_opfamily[i] >= FirstNormalObjectId;
    index_close(index, AccessShareLock);
    if (found) break;
  }
  list_free(indexes);
  return found;
}

// KnowLeaf computes, once per partition, its row shape and what writing into it evaluates.
void KnowLeaf(const ArchiveTable* archive, ArchiveLeaf* leaf, Relation target) {
  if (leaf->map_known) return;
  MemoryContext old = MemoryContextSwitchTo(ArchiveTableMemory());
  leaf->descriptor = CreateTupleDescCopy(RelationGetDescr(target));
  leaf->map = convert_tuples_by_name(archive->descriptor, leaf->descriptor);
  leaf->needs_checks = ArchiveRowsNeedChecks(RelationGetDescr(target));  // copies lack constraints
  MemoryContextSwitchTo(old);
  leaf->evaluates_expressions = archive->default_count > 0 || leaf->needs_checks || IndexesMayRunUserCode(target);
  leaf->map_known = true;
}

// ConvertedForLeaf gives the tuples the partition's row shape when it differs from the
// archive's (a partition created after the archive lost a column has no dropped slot for it).
HeapTuple* ConvertedForLeaf(ArchiveLeaf* leaf, HeapTuple* tuples, int count) {
  if (leaf->map == nullptr) return tuples;
  HeapTuple* converted = static_cast<HeapTuple*>(palloc(sizeof(HeapTuple) * count));
  for (int i = 0; i < count; ++i) converted[i] = execute_attr_map_tuple(tuples[i], leaf->map);
  return converted;
}

// ArchiveWrite is one run of rows into one relation (the archive, or one of its partitions),
// done as the extension owner: defaults of the DBA's columns, the partition's row shape, the
// heap and every index.
struct ArchiveWrite {
  const ArchiveTable* archive;
  ArchiveLeaf* leaf;  // null for a plain (1.0) archive
  Relation target;
  HeapTuple* tuples;
  int count;
  HeapTuple* completed;  // out: tuples with defaults (tuples itself when there are none)
  HeapTuple* rows;       // out: what was written (completed, converted to the leaf's shape)
};

void WriteAsOwner(void* argument) {
  auto* write = static_cast<ArchiveWrite*>(argument);
  const ArchiveTable* archive = write->archive;
  write->completed = WithDefaults(archive, write->tuples, write->count);
  if (write->leaf == nullptr) {
    write->rows = write->completed;
    WriteToRelation(write->target, nullptr, archive->descriptor, archive->generation, archive->needs_checks, write->rows, write->count);
    return;
  }
  write->rows = ConvertedForLeaf(write->leaf, write->completed, write->count);
  WriteToRelation(write->target, write->leaf, write->leaf->descriptor, archive->generation, write->leaf->needs_checks,
                  write->rows, write->count);
}

}  // namespace

void WriteArchiveRows(HeapTuple* tuples, int count) {
  const ArchiveTable* archive = ResolveArchiveTable();
  if (!archive->partitioned) {
    Relation target = table_open(archive->relid, RowExclusiveLock);
    // Opening the table may have processed an invalidation of it: take the current facts.
    archive = ResolveArchiveTable();
    ArchiveWrite write = {archive, nullptr, target, tuples, count, nullptr, nullptr};
    AsExtensionOwner(archive->owner, WriteAsOwner, &write);
    FreeMadeTuples(write.rows, tuples, count);
    table_close(target, NoLock);
    return;
  }
  // Rows of one batch almost always go to one partition: write runs of rows with the same one.
  int start = 0;
  while (start < count) {
    ArchiveLeaf* leaf = LockedLeaf(&archive, tuples[start]);
    int end = start + 1;
    while (end < count) {
      bool isnull = false;
      Datum id = heap_getattr(tuples[end], archive->attnums[kId], archive->descriptor, &isnull);
      if (RouteArchiveRow(archive, DatumGetUUIDP(id)->data) != leaf) break;
      end++;
    }
    Relation target = table_open(leaf->relid, NoLock);
    KnowLeaf(archive, leaf, target);
    ArchiveWrite write = {archive, leaf, target, tuples + start, end - start, nullptr, nullptr};
    // search_path is pinned only when the write evaluates a DBA's expressions (pinning and
    // restoring it costs about 5% of a one-row delete; test/bench/profile_oltp.sh).
    AsExtensionOwner(archive->owner, WriteAsOwner, &write,
                     leaf->evaluates_expressions ? OwnerSearchPath::kPinned : OwnerSearchPath::kNoSqlRuns);
    FreeMadeTuples(write.rows, tuples + start, end - start);
    if (write.completed != write.rows) FreeMadeTuples(write.completed, tuples + start, end - start);
    table_close(target, NoLock);
    start = end;
  }
}

}  // namespace deleted_record::glue
