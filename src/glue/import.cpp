// The import from soft deletion, one batch at a time. The rows are deleted by the caller, with
// the caller's rights, so the table's own rules apply as to any delete (row-level security,
// foreign-key actions on children, triggers) and the archive trigger archives them exactly as it
// archives every delete (column policies, masking, keys). Only what a delete cannot know comes from
// the import: each row's own deletion time, actor and reason, kept for the batch's DELETE by the
// row's table and tuple id, and put into its archive row as the trigger assembles it (no archive
// row is written twice).
#include "glue/import.hpp"

#include "glue/archive_row.hpp"
#include "glue/archive_table.hpp"
#include "glue/owner.hpp"
#include "glue/relation_cache.hpp"
#include "glue/row_converter.hpp"
#include "glue/spi_connection.hpp"

namespace deleted_record::glue {

namespace {

// The advisory lock space of imports (the second key is the table's OID): "DRIM".
constexpr int32 kImportLockSpace = 0x4452494d;

// Expression is the caller's SQL expression in parentheses, or NULL when not given.
const char* Expression(const text* value) {
  return value == nullptr ? "NULL" : psprintf("(%s)", text_to_cstring(value));
}

// RequireAttached raises an error unless the table (or, for a partition, its root) is attached.
void RequireAttached(const ArchiveTable* archive, Oid target, const char* target_name) {
  Oid root = target;
  if (get_rel_relispartition(target)) root = llast_oid(get_partition_ancestors(target));
  Datum relids[2] = {ObjectIdGetDatum(target), ObjectIdGetDatum(root)};
  ArrayType* candidates = construct_array(relids, 2, OIDOID, sizeof(Oid), true, TYPALIGN_INT);
  Oid types[1] = {OIDARRAYOID};
  Datum values[1] = {PointerGetDatum(candidates)};
  char* query = psprintf("SELECT FROM %s() a WHERE CAST(a.relation AS pg_catalog.oid) OPERATOR(pg_catalog.=) ANY ($1)",
                         ExtensionObjectName(archive, "deleted_record_attachments"));
  if (SPI_execute_with_args(query, 1, types, values, nullptr, true, 1) != SPI_OK_SELECT)
    elog(ERROR, "deleted_record: could not read the attachments");
  if (SPI_processed == 0)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("deleted_record_import: table %s is not attached", target_name),
                    errdetail("Its rows would be deleted without being archived."),
                    errhint("Attach it first: SELECT deleted_record_attach('%s');", target_name)));
}

// The stamps of the batch being deleted: for each row (its table, its tuple id), what the import's
// expressions say of it. Set only while the batch's DELETE runs.
struct StampKey {
  Oid relid;
  ItemPointerData tid;
};
struct StampEntry {
  StampKey key;  // first: the hash key
  bool deleted_at_null;
  TimestampTz deleted_at;
  bool actor_null;
  Datum actor;
  bool reason_null;
  Datum reason;
};
HTAB* active_stamps = nullptr;
bool stamp_deleted_at = false, stamp_actor = false, stamp_reason = false;
int64 stamps_applied = 0;

HTAB* NewStamps(int count) {
  HASHCTL control = {};
  control.keysize = sizeof(StampKey);
  control.entrysize = sizeof(StampEntry);
  control.hcxt = CurrentMemoryContext;
  return hash_create("deleted_record import stamps", Max(count, 16), &control, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

// DeleteRules lists the enabled ON DELETE rules of the table, or returns null.
char* DeleteRules(Oid relid) {
  Oid types[1] = {OIDOID};
  Datum values[1] = {ObjectIdGetDatum(relid)};
  if (SPI_execute_with_args("SELECT pg_catalog.string_agg(pg_catalog.quote_ident(CAST(r.rulename AS pg_catalog.text)), ', '"
                            " ORDER BY r.rulename COLLATE \"C\") FROM pg_catalog.pg_rewrite r"
                            " WHERE r.ev_class OPERATOR(pg_catalog.=) $1 AND r.ev_type OPERATOR(pg_catalog.=) '4'"
                            " AND r.ev_enabled OPERATOR(pg_catalog.<>) 'D'",
                            1, types, values, nullptr, true, 1) != SPI_OK_SELECT ||
      SPI_processed != 1)
    return nullptr;
  return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

// DeleteStamped runs the batch's DELETE with the stamps active, and always clears them. A
// DELETE that a rule of the table rewrote (DO INSTEAD UPDATE, a soft-delete rule) is refused
// naming the rule (review 7 #06).
void DeleteStamped(const char* query, Oid* types, Datum* values, int nargs, Oid relid, const char* target_name) {
  stamps_applied = 0;
  PG_TRY();
  {
    if (SPI_execute_with_args(query, nargs, types, values, nullptr, false, 0) != SPI_OK_DELETE) {
      char* rules = DeleteRules(relid);
      ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                      errmsg("deleted_record_import: the DELETE of a batch of %s was rewritten by its rules: %s", target_name,
                             rules != nullptr ? rules : "(an ON DELETE rule)"),
                      errdetail("Nothing of this batch was moved."),
                      errhint("The import moves rows with DELETE: disable the table's ON DELETE rules (ALTER TABLE ... "
                              "DISABLE RULE) for the import, then call it again.")));
    }
  }
  PG_FINALLY();
  {
    active_stamps = nullptr;
  }
  PG_END_TRY();
}

}  // namespace

void RequireNonatomicCall(const char* procedure) {
  if (!SPI_inside_nonatomic_context())
    ereport(ERROR, (errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
                    errmsg("%s must be called with CALL outside a transaction block", procedure),
                    errdetail("It commits after each batch, so that locks, WAL and undo stay bounded."),
                    errhint("Run CALL %s(...) on its own, not inside BEGIN ... COMMIT or a function.", procedure)));
}

Oid import_role = InvalidOid;

bool ImportRanAs(Oid role) { return OidIsValid(import_role) && import_role == role; }

int64 ImportBatch(const ImportRequest* request) {
  if (!OidIsValid(request->target))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("deleted_record_import: target must not be NULL")));
  if (IsBlankText(request->soft_deleted))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("deleted_record_import: soft_deleted must be an expression over the table's row"),
                    errhint("For example 'deleted_at IS NOT NULL', or 'is_deleted'.")));
  if (request->batch_size < 1)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("deleted_record_import: batch_size must be a positive number, not %d", request->batch_size)));
  char* relname = get_rel_name(request->target);
  if (relname == nullptr)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("deleted_record_import: relation %u does not exist", request->target)));
  char* target_name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(request->target)), relname);
  // Backdating archive rows is the table owner's decision, as attaching it is.
  if (!object_ownercheck(RelationRelationId, request->target, GetUserId()))
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("deleted_record_import: must be owner of table %s", target_name),
                    errdetail("Importing archives rows with the deletion time, actor and reason the table's rows say.")));
  // The role that ran this batch may report an import's progress (deleted_record_report_progress).
  import_role = GetUserId();
  const ArchiveTable* archive = ResolveArchiveTable();
  // Two imports of one table take turns, batch by batch: each batch locks its rows in scan
  // order, and two at once could deadlock on rows the other's batch is still locking.
  DirectFunctionCall2(pg_advisory_xact_lock_int4, Int32GetDatum(kImportLockSpace),
                      Int32GetDatum(static_cast<int32>(request->target)));
  ConnectSpi();
  RequireAttached(archive, request->target, target_name);

  // As the caller: lock a batch and read what its expressions say of each row...
  char* select = psprintf(
      "SELECT t.tableoid, t.ctid, CAST(%s AS pg_catalog.timestamptz), CAST(%s AS pg_catalog.text),"
      "       CAST(%s AS pg_catalog.text)"
      "  FROM %s AS t WHERE %s LIMIT $1 FOR UPDATE OF t",
      Expression(request->deleted_at), Expression(request->actor), Expression(request->reason), target_name,
      Expression(request->soft_deleted));
  Oid types[1] = {INT8OID};
  Datum values[1] = {Int64GetDatum(request->batch_size)};
  if (SPI_execute_with_args(select, 1, types, values, nullptr, false, 0) != SPI_OK_SELECT)
    elog(ERROR, "deleted_record: could not read the batch of soft-deleted rows");
  int count = static_cast<int>(SPI_processed);
  if (count == 0) {
    FinishSpi();
    return 0;
  }
  SPITupleTable* batch = SPI_tuptable;
  HTAB* stamps = NewStamps(count);
  Datum* tids = static_cast<Datum*>(palloc(sizeof(Datum) * count));
  Datum* rows = static_cast<Datum*>(palloc(sizeof(Datum) * count));  // "<partition oid>:<tid>"
  for (int i = 0; i < count; ++i) {
    HeapTuple row = batch->vals[i];
    bool isnull = false;
    StampKey key;
    memset(&key, 0, sizeof(key));  // hashed as bytes, padding included
    key.relid = DatumGetObjectId(SPI_getbinval(row, batch->tupdesc, 1, &isnull));
    ItemPointerCopy(reinterpret_cast<ItemPointer>(DatumGetPointer(SPI_getbinval(row, batch->tupdesc, 2, &isnull))), &key.tid);
    StampEntry* entry = static_cast<StampEntry*>(hash_search(stamps, &key, HASH_ENTER, nullptr));
    tids[i] = PointerGetDatum(&entry->key.tid);
    rows[i] = CStringGetTextDatum(psprintf("%u:%s", key.relid, DatumGetCString(DirectFunctionCall1(tidout, tids[i]))));
    entry->deleted_at = DatumGetTimestampTz(SPI_getbinval(row, batch->tupdesc, 3, &entry->deleted_at_null));
    entry->actor = SPI_getbinval(row, batch->tupdesc, 4, &entry->actor_null);
    entry->reason = SPI_getbinval(row, batch->tupdesc, 5, &entry->reason_null);
  }
  // ... then delete exactly those rows (a TID scan): the archive trigger archives each one, and
  // takes its stamp as it assembles the archive row (ApplyImportStamp).
  // A tuple id is unique only within one partition: the row's partition is matched too (through
  // a hashed set, so a batch costs what its rows cost).
  char* query = psprintf(
      "DELETE FROM %s AS d WHERE d.ctid OPERATOR(pg_catalog.=) ANY ($1)"
      " AND (CAST(d.tableoid AS pg_catalog.text) OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||)"
      "      CAST(d.ctid AS pg_catalog.text)) IN (SELECT pg_catalog.unnest($2))",
      target_name);
  Oid delete_types[2] = {TIDARRAYOID, TEXTARRAYOID};
  int16 length;
  bool by_value;
  char align;
  get_typlenbyvalalign(TIDOID, &length, &by_value, &align);
  Datum delete_values[2] = {PointerGetDatum(construct_array(tids, count, TIDOID, length, by_value, align)),
                            PointerGetDatum(construct_array(rows, count, TEXTOID, -1, false, TYPALIGN_INT))};
  stamp_deleted_at = request->deleted_at != nullptr;
  stamp_actor = request->actor != nullptr;
  stamp_reason = request->reason != nullptr;
  active_stamps = stamps;
  DeleteStamped(query, delete_types, delete_values, 2, request->target, target_name);
  int64 deleted = static_cast<int64>(SPI_processed);
  // Fewer rows deleted than selected: something kept them (a soft-delete BEFORE DELETE trigger
  // returning NULL, or a row-level security policy that lets the caller select but not delete).
  if (deleted < count)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("deleted_record_import: %d rows of %s were selected, %lld deleted: a BEFORE DELETE trigger, a rule or "
                           "row-level security kept %lld rows",
                           count, target_name, static_cast<long long>(deleted), static_cast<long long>(count - deleted)),
                    errdetail("Nothing of this batch was moved."),
                    errhint("The import moves rows with DELETE: drop or disable the table's BEFORE DELETE trigger that keeps "
                            "them (the application's soft-delete trigger, say), or let the importing role delete them under "
                            "the table's row-level security policies, then call the import again.")));
  if (deleted != count || stamps_applied != count)
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                    errmsg("deleted_record_import: %d rows of %s were selected, %lld deleted and %lld archived", count,
                           target_name, static_cast<long long>(deleted), static_cast<long long>(stamps_applied)),
                    errdetail("Nothing of this batch was moved."),
                    errhint("Is the table's archive trigger enabled (deleted_record_attached)?")));
  FinishSpi();
  return count;
}

}  // namespace deleted_record::glue

namespace deleted_record::glue {

namespace {

// FindStamp is the batch's stamp for a deleted row, or NULL for a row a cascade took with it.
StampEntry* FindStamp(Relation rel, HeapTuple tuple) {
  StampKey key;
  memset(&key, 0, sizeof(key));
  key.relid = RelationGetRelid(rel);
  ItemPointerCopy(&tuple->t_self, &key.tid);
  return static_cast<StampEntry*>(hash_search(active_stamps, &key, HASH_FIND, nullptr));
}

}  // namespace

SuppliedContext ImportStampSupplies(Relation rel, HeapTuple tuple) {
  StampEntry* entry = FindStamp(rel, tuple);
  if (entry == nullptr) return {false, false};
  return {stamp_actor && !entry->actor_null, stamp_reason && !entry->reason_null};
}

void ApplyImportStamp(Relation rel, HeapTuple tuple, const ArchiveTable* target, Datum* values, bool* nulls) {
  StampEntry* entry = FindStamp(rel, tuple);
  if (entry == nullptr) return;  // a row a cascade took with it: archived as any delete
  stamps_applied++;
  auto set = [&](ArchiveColumn column, Datum value, bool isnull) {
    AttrNumber attnum = target->attnums[column];
    if (attnum == InvalidAttrNumber) return;
    values[attnum - 1] = value;
    nulls[attnum - 1] = isnull;
  };
  if (stamp_deleted_at && !entry->deleted_at_null) {
    set(kDeletedAt, TimestampTzGetDatum(entry->deleted_at), false);
    set(kUpdatedAt, TimestampTzGetDatum(entry->deleted_at), false);
  }
  if (stamp_actor) set(kActor, entry->actor, entry->actor_null);
  if (stamp_reason) set(kReason, entry->reason, entry->reason_null);
}

bool ImportStampsActive() { return active_stamps != nullptr; }

}  // namespace deleted_record::glue
