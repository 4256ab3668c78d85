// The archive table and the direct writer. Rows go straight to the heap (one multi-insert) and
// its indexes, skipping SPI and the executor's per-statement setup; what a DBA added to the
// table (defaults, generated columns, NOT NULL and CHECK constraints) is applied on the way.
#include "glue/archive_table.hpp"

namespace deleted_record::glue {

namespace {

const char* const kArchiveColumnNames[kArchiveColumnCount] = {
    "id", "data", "deleted_at", "object_id", "table_name", "schema_name", "partition_name", "actor", "reason",
    "metadata", "xact_id", "session_user_name", "current_user_name", "updated_at", "restored_at", "restored_by"};
constexpr int kRequiredColumnCount = kRestoredAt;  // the 1.0 columns are required, later ones optional

bool archive_valid = false;
ArchiveTable archive_table = {};

extern "C" void ArchiveTableOnRelcacheChange(Datum arg, Oid relid) {
  if (!OidIsValid(relid) || relid == archive_table.relid) archive_valid = false;
}

// ReadExtension reads the schema and owner of the extension with the given OID from pg_extension.
void ReadExtension(Oid extension, Oid* schema, Oid* owner) {
  Relation catalog = table_open(ExtensionRelationId, AccessShareLock);
  ScanKeyData key;
  ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(extension));
  SysScanDesc scan = systable_beginscan(catalog, ExtensionOidIndexId, true, nullptr, 1, &key);
  HeapTuple tuple = systable_getnext(scan);
  if (!HeapTupleIsValid(tuple)) elog(ERROR, "could not find extension %u", extension);
  Form_pg_extension form = reinterpret_cast<Form_pg_extension>(GETSTRUCT(tuple));
  *schema = form->extnamespace;
  *owner = form->extowner;
  systable_endscan(scan);
  table_close(catalog, AccessShareLock);
}

// NeedsCompletion is true when writing a row must do more than our own columns: a column we do
// not fill has a default or is generated, or the table has CHECK constraints or a NOT NULL
// column we may leave empty.
bool NeedsCompletion(TupleDesc descriptor, const AttrNumber* attnums) {
  bool ours[MaxHeapAttributeNumber + 1] = {};
  for (int c = 0; c < kArchiveColumnCount; ++c)
    if (attnums[c] != InvalidAttrNumber) ours[attnums[c]] = true;
  TupleConstr* constraints = descriptor->constr;
  if (constraints != nullptr && (constraints->num_check > 0 || constraints->has_generated_stored)) return true;
  for (int i = 0; i < descriptor->natts; ++i) {
    Form_pg_attribute attribute = TupleDescAttr(descriptor, i);
    if (attribute->attisdropped || ours[attribute->attnum]) continue;
    if (attribute->atthasdef || attribute->attnotnull || attribute->attgenerated != '\0') return true;
  }
  return false;
}

// Slots for the multi-insert, reused across flushes. They are built on the archive table's
// descriptor copy, which is not reference-counted: slots on the relation's own descriptor would
// each pin it, and releasing a thousand pins costs a linear search each.
struct InsertSlots {
  MemoryContext context;
  TupleDesc descriptor;  // the descriptor the slots were made for
  int count;
  int capacity;
  TupleTableSlot** slots;
};

InsertSlots* insert_slots = nullptr;

void ForgetInsertSlots() {
  if (insert_slots == nullptr) return;
  MemoryContextReset(insert_slots->context);
  insert_slots->descriptor = nullptr;
  insert_slots->count = 0;
  insert_slots->capacity = 0;
  insert_slots->slots = nullptr;
}

TupleTableSlot** SlotsFor(TupleDesc descriptor, int count) {
  if (insert_slots == nullptr) {
    insert_slots = static_cast<InsertSlots*>(MemoryContextAllocZero(TopMemoryContext, sizeof(InsertSlots)));
    insert_slots->context = AllocSetContextCreate(TopMemoryContext, "deleted_record insert slots",
                                                  ALLOCSET_DEFAULT_SIZES);
  }
  if (insert_slots->descriptor != descriptor) {
    ForgetInsertSlots();
    insert_slots->descriptor = descriptor;
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

// CompleteRows gives each slot's row what the DBA added to the table: defaults of the columns
// we left NULL, generated columns, then the NOT NULL and CHECK constraints. It runs as the
// extension owner, whose table (and expressions) these are.
void CompleteRows(const ArchiveTable* target, ResultRelInfo* result_relation, EState* estate, TupleTableSlot** slots,
                  int count) {
  Relation archive = result_relation->ri_RelationDesc;
  TupleDesc descriptor = RelationGetDescr(archive);
  bool ours[MaxHeapAttributeNumber + 1] = {};
  for (int c = 0; c < kArchiveColumnCount; ++c)
    if (target->attnums[c] != InvalidAttrNumber) ours[target->attnums[c]] = true;
  int default_count = 0;
  AttrNumber* default_attnums = static_cast<AttrNumber*>(palloc(sizeof(AttrNumber) * descriptor->natts));
  ExprState** defaults = static_cast<ExprState**>(palloc(sizeof(ExprState*) * descriptor->natts));
  for (int i = 0; i < descriptor->natts; ++i) {
    Form_pg_attribute attribute = TupleDescAttr(descriptor, i);
    if (attribute->attisdropped || ours[attribute->attnum] || attribute->attgenerated != '\0') continue;
    Node* expression = build_column_default(archive, attribute->attnum);
    if (expression == nullptr) continue;
    default_attnums[default_count] = attribute->attnum;
    defaults[default_count++] = ExecPrepareExpr(reinterpret_cast<Expr*>(expression), estate);
  }
  bool has_generated = descriptor->constr != nullptr && descriptor->constr->has_generated_stored;
  ExprContext* econtext = GetPerTupleExprContext(estate);
  for (int i = 0; i < count; ++i) {
    TupleTableSlot* slot = slots[i];
    if (default_count > 0) {
      slot_getallattrs(slot);
      for (int d = 0; d < default_count; ++d) {
        int index = default_attnums[d] - 1;
        if (!slot->tts_isnull[index]) continue;
        econtext->ecxt_scantuple = slot;
        slot->tts_values[index] = ExecEvalExpr(defaults[d], econtext, &slot->tts_isnull[index]);
      }
      // Keep the values beyond the per-tuple context: materialize the slot's own copy.
      HeapTuple completed = heap_form_tuple(slot->tts_tupleDescriptor, slot->tts_values, slot->tts_isnull);
      ExecStoreHeapTuple(completed, slot, true);
    }
    if (has_generated) compat::ComputeStoredGenerated(result_relation, estate, slot);
    ExecConstraints(result_relation, slot, estate);
    ResetPerTupleExprContext(estate);
  }
}

}  // namespace

const ArchiveTable* ResolveArchiveTable() {
  if (archive_valid) return &archive_table;
  Oid extension = get_extension_oid("deleted_record", true);
  if (!OidIsValid(extension))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                    errmsg("extension \"deleted_record\" is not installed in this database"),
                    errhint("Run CREATE EXTENSION deleted_record.")));
  Oid schema, owner;
  ReadExtension(extension, &schema, &owner);
  Oid relid = get_relname_relid("deleted_record", schema);
  if (!OidIsValid(relid))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                    errmsg("the deleted_record table of extension \"deleted_record\" is missing")));
  ArchiveTable resolved = {};
  for (int c = 0; c < kArchiveColumnCount; ++c) {
    resolved.attnums[c] = get_attnum(relid, kArchiveColumnNames[c]);
    if (resolved.attnums[c] == InvalidAttrNumber && c < kRequiredColumnCount)
      ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                      errmsg("the deleted_record table has no column \"%s\"", kArchiveColumnNames[c]),
                      errhint("The archive table's columns belong to the extension; do not drop or rename them.")));
  }
  resolved.xact_id_is_xid8 = get_atttype(relid, resolved.attnums[kXactId]) == XID8OID;
  Relation archive = table_open(relid, AccessShareLock);
  resolved.needs_completion = NeedsCompletion(RelationGetDescr(archive), resolved.attnums);
  MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
  resolved.descriptor = CreateTupleDescCopy(RelationGetDescr(archive));
  MemoryContextSwitchTo(old);
  table_close(archive, AccessShareLock);
  if (archive_table.descriptor != nullptr) {
    ForgetInsertSlots();  // before the address can be reused by a descriptor of another shape
    FreeTupleDesc(archive_table.descriptor);
  }
  resolved.relid = relid;
  resolved.owner = owner;
  archive_table = resolved;
  archive_valid = true;
  return &archive_table;
}

bool IsArchiveRelation(Oid relid) { return relid == ResolveArchiveTable()->relid; }

void WriteArchiveRows(HeapTuple* tuples, int count) {
  const ArchiveTable* target = ResolveArchiveTable();
  Relation archive = table_open(target->relid, RowExclusiveLock);
  // Opening the table may have processed an invalidation of it: take the current facts.
  target = ResolveArchiveTable();
  Oid saved_user;
  int saved_security_context;
  GetUserIdAndSecContext(&saved_user, &saved_security_context);
  SetUserIdAndSecContext(target->owner,
                         saved_security_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);

  EState* estate = CreateExecutorState();
  ResultRelInfo* result_relation = makeNode(ResultRelInfo);
  // Not in a range table (index 0): constraint errors then describe the row without looking one up.
  InitResultRelInfo(result_relation, archive, 0, nullptr, 0);
  ExecOpenIndices(result_relation, false);
  TupleTableSlot** slots = SlotsFor(target->descriptor, count);
  for (int i = 0; i < count; ++i) ExecStoreHeapTuple(tuples[i], slots[i], false);
  if (target->needs_completion) CompleteRows(target, result_relation, estate, slots, count);
  table_multi_insert(archive, slots, count, GetCurrentCommandId(true), 0, nullptr);
  for (int i = 0; i < count; ++i) {
    List* recheck = compat::InsertIndexTuples(result_relation, slots[i], estate);
    list_free(recheck);
    ResetPerTupleExprContext(estate);
    ExecClearTuple(slots[i]);  // frees the copy the multi-insert materialized
  }
  ExecCloseIndices(result_relation);
  FreeExecutorState(estate);
  SetUserIdAndSecContext(saved_user, saved_security_context);
  table_close(archive, NoLock);
}

void RegisterArchiveTable() { CacheRegisterRelcacheCallback(ArchiveTableOnRelcacheChange, (Datum) 0); }

}  // namespace deleted_record::glue
