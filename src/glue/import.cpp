// The import from soft deletion, one batch at a time. The rows are deleted by the caller, with
// the caller's rights, so the table's own rules apply as to any delete (row-level security,
// foreign-key actions on children, triggers) and the archive trigger archives them exactly as it
// archives every delete (column policies, masking, keys). Only what a delete cannot know is added
// afterwards, as the owner: each row's own deletion time, actor and reason, matched to its archive
// row by the archived data itself, rendered by the same converter the trigger uses.
#include "glue/import.hpp"

#include "glue/archive_row.hpp"
#include "glue/archive_table.hpp"
#include "glue/owner.hpp"
#include "glue/relation_cache.hpp"
#include "glue/row_converter.hpp"

namespace deleted_record::glue {

namespace {

// The advisory lock space of imports (the second key is the table's OID): "DRIM".
constexpr int32 kImportLockSpace = 0x4452494d;

bool IsBlank(const text* value) {
  if (value == nullptr) return true;
  const char* data = VARDATA_ANY(value);
  for (int i = 0, n = VARSIZE_ANY_EXHDR(value); i < n; ++i)
    if (!isspace(static_cast<unsigned char>(data[i]))) return false;
  return true;
}

char* ExtensionObject(const ArchiveTable* archive, const char* name) {
  return quote_qualified_identifier(get_namespace_name(archive->schema), name);
}

// Expression is the caller's SQL expression in parentheses, or NULL when not given.
const char* Expression(const text* value) {
  return value == nullptr ? "NULL" : psprintf("(%s)", text_to_cstring(value));
}

// IdFloorNow is the smallest UUIDv7 of the current millisecond: every archive row made from now
// on has an id at least as large, so the stamping reads only the current partition's newest rows.
Datum IdFloorNow() {
  Datum id = NextUuid7Datum();
  memset(DatumGetUUIDP(id)->data + 6, 0, UUID_LEN - 6);
  return id;
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
                         ExtensionObject(archive, "deleted_record_attachments"));
  if (SPI_execute_with_args(query, 1, types, values, nullptr, true, 1) != SPI_OK_SELECT)
    elog(ERROR, "deleted_record: could not read the attachments");
  if (SPI_processed == 0)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("deleted_record_import: table %s is not attached", target_name),
                    errdetail("Its rows would be deleted without being archived."),
                    errhint("Attach it first: SELECT deleted_record_attach('%s');", target_name)));
}

// Stamp is what the owner-side stamping needs: the batch's archived data and what to set.
struct Stamp {
  const char* archive_name;
  bool by_key;         // the table has a key: archive rows are found by object_id
  Datum object_id;     // text[]
  Datum data;          // jsonb[]
  Datum deleted_at;    // timestamptz[]
  Datum actor;         // text[]
  Datum reason;        // text[]
  Datum id_floor;      // uuid: the batch's archive rows have ids from here
  Datum id_ceiling;    // uuid: to here (exclusive)
  Datum schema_name;   // text
  Datum table_name;    // text
  Datum xact;          // text
  bool set_deleted_at;
  bool set_actor;
  bool set_reason;
  int64 stamped;
};

// The columns both stamping statements set, from the batch row s.
constexpr const char* kStampSet =
    "    SET deleted_at = CASE WHEN $10 THEN COALESCE(s.deleted_at, d.deleted_at) ELSE d.deleted_at END,"
    "        updated_at = CASE WHEN $10 THEN COALESCE(s.deleted_at, d.updated_at) ELSE d.updated_at END,"
    "        actor = CASE WHEN $11 THEN s.actor ELSE d.actor END,"
    "        reason = CASE WHEN $12 THEN s.reason ELSE d.reason END";

// StampRows: the archive rows (alias) this transaction archived for the table in the batch's id
// range (pruned to the current partition).
char* StampRows(const char* alias) {
  return psprintf("%1$s.id OPERATOR(pg_catalog.>=) $6 AND %1$s.id OPERATOR(pg_catalog.<) $7"
                  " AND %1$s.schema_name OPERATOR(pg_catalog.=) $8 AND %1$s.table_name OPERATOR(pg_catalog.=) $9"
                  " AND CAST(%1$s.xact_id AS pg_catalog.text) OPERATOR(pg_catalog.=) $13 AND %1$s.restored_at IS NULL",
                  alias);
}

void StampAsOwner(void* argument) {
  auto* stamp = static_cast<Stamp*>(argument);
  Oid types[13] = {TEXTARRAYOID, JSONBARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID, TEXTARRAYOID, UUIDOID, UUIDOID,
                   TEXTOID, TEXTOID, BOOLOID, BOOLOID, BOOLOID, TEXTOID};
  Datum values[13] = {stamp->object_id, stamp->data, stamp->deleted_at, stamp->actor, stamp->reason,
                      stamp->id_floor, stamp->id_ceiling, stamp->schema_name, stamp->table_name,
                      BoolGetDatum(stamp->set_deleted_at), BoolGetDatum(stamp->set_actor),
                      BoolGetDatum(stamp->set_reason), stamp->xact};
  char* query;
  if (stamp->by_key) {
    // Each row by its key, through the (table_name, object_id) index: the cost of a batch does
    // not grow with the rows archived before it.
    // Each row by its key, looked up one by one through the (table_name, object_id) index (the
    // LIMIT keeps the lookup per row): a batch costs the same however many rows came before it.
    query = psprintf(
        "UPDATE %s AS d%s"
        "  FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5))"
        "       AS s(object_id, deleted_at, actor, reason)"
        "  CROSS JOIN LATERAL (SELECT a.id FROM %s AS a"
        "                       WHERE a.table_name OPERATOR(pg_catalog.=) $9 AND a.object_id OPERATOR(pg_catalog.=) s.object_id"
        "                         AND %s LIMIT 2) AS a"
        " WHERE d.id OPERATOR(pg_catalog.=) a.id AND d.id OPERATOR(pg_catalog.>=) $6 AND d.id OPERATOR(pg_catalog.<) $7",
        stamp->archive_name, kStampSet, stamp->archive_name, StampRows("a"));
  } else {
    // Without a key, by the archived data; rows with equal data pair up in order, and which of
    // them gets which stamp does not matter, since they are equal.
    query = psprintf(
        "WITH s AS (SELECT s.data, s.deleted_at, s.actor, s.reason,"
        "                  pg_catalog.row_number() OVER (PARTITION BY s.data) AS n"
        "             FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4),"
        "                             pg_catalog.unnest($5)) AS s(data, deleted_at, actor, reason)),"
        "     a AS (SELECT d.id, d.data, pg_catalog.row_number() OVER (PARTITION BY d.data ORDER BY d.id) AS n"
        "             FROM %1$s AS d WHERE %3$s)"
        " UPDATE %1$s AS d%2$s"
        "   FROM s JOIN a ON s.data OPERATOR(pg_catalog.=) a.data AND s.n OPERATOR(pg_catalog.=) a.n"
        "  WHERE d.id OPERATOR(pg_catalog.=) a.id AND %3$s",
        stamp->archive_name, kStampSet, StampRows("d"));
  }
  if (SPI_execute_with_args(query, 13, types, values, nullptr, false, 0) != SPI_OK_UPDATE)
    elog(ERROR, "deleted_record: could not stamp the imported archive rows");
  stamp->stamped = static_cast<int64>(SPI_processed);
}

ArrayType* BuildArray(Datum* values, bool* nulls, int count, Oid type) {
  int16 length;
  bool by_value;
  char align;
  get_typlenbyvalalign(type, &length, &by_value, &align);
  int dims[1] = {count};
  int lower[1] = {1};
  return construct_md_array(values, nulls, 1, dims, lower, type, length, by_value, align);
}

}  // namespace

void RequireNonatomicCall(const char* procedure) {
  if (!SPI_inside_nonatomic_context())
    ereport(ERROR, (errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
                    errmsg("%s must be called with CALL outside a transaction block", procedure),
                    errdetail("It commits after each batch, so that locks, WAL and undo stay bounded."),
                    errhint("Run CALL %s(...) on its own, not inside BEGIN ... COMMIT or a function.", procedure)));
}

int64 ImportBatch(const ImportRequest* request) {
  if (!OidIsValid(request->target))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("deleted_record_import: target must not be NULL")));
  if (IsBlank(request->soft_deleted))
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
  const ArchiveTable* archive = ResolveArchiveTable();
  // Two imports of one table take turns, batch by batch: each batch locks its rows in scan
  // order, and two at once could deadlock on rows the other's batch is still locking.
  DirectFunctionCall2(pg_advisory_xact_lock_int4, Int32GetDatum(kImportLockSpace),
                      Int32GetDatum(static_cast<int32>(request->target)));
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "deleted_record: SPI_connect failed");
  RequireAttached(archive, request->target, target_name);

  Datum id_floor = IdFloorNow();
  // As the caller: lock a batch, delete it (the archive trigger archives each row at the end of
  // the statement), and return each row with what its expressions say.
  char* query = psprintf(
      "WITH batch AS MATERIALIZED ("
      "  SELECT t.tableoid AS rel, t.ctid AS tid, CAST(%s AS pg_catalog.timestamptz) AS deleted_at,"
      "         CAST(%s AS pg_catalog.text) AS actor, CAST(%s AS pg_catalog.text) AS reason"
      "    FROM %s AS t WHERE %s LIMIT $1 FOR UPDATE OF t)"
      " DELETE FROM %s AS d USING batch AS b"
      "  WHERE d.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT c.tid FROM batch AS c))"  // a TID scan, not a join over the table
      "    AND d.ctid OPERATOR(pg_catalog.=) b.tid AND d.tableoid OPERATOR(pg_catalog.=) b.rel"
      " RETURNING d, b.deleted_at, b.actor, b.reason",
      Expression(request->deleted_at), Expression(request->actor), Expression(request->reason), target_name,
      Expression(request->soft_deleted), target_name);
  Oid types[1] = {INT8OID};
  Datum values[1] = {Int64GetDatum(request->batch_size)};
  if (SPI_execute_with_args(query, 1, types, values, nullptr, false, 0) != SPI_OK_DELETE_RETURNING)
    elog(ERROR, "deleted_record: could not delete the batch of soft-deleted rows");
  int count = static_cast<int>(SPI_processed);
  // Ids come from a generator monotonic within the session: every row the delete archived has a
  // smaller one.
  Datum id_ceiling = NextUuid7Datum();
  if (count == 0) {
    SPI_finish();
    return 0;
  }
  SPITupleTable* returned = SPI_tuptable;
  // Nothing to stamp: the rows are archived as any delete archives them (the import's time and
  // the session's deletion context).
  if (request->deleted_at == nullptr && request->actor == nullptr && request->reason == nullptr) {
    SPI_finish();
    return count;
  }

  // The archived data of each row, converted as the trigger converts it.
  Relation rel = table_open(request->target, AccessShareLock);
  RelationArchiveInfo* info = LookupRelationArchiveInfo(rel);
  TupleDesc descriptor = RelationGetDescr(rel);
  Datum* object_id = static_cast<Datum*>(palloc(sizeof(Datum) * count));
  bool* object_id_nulls = static_cast<bool*>(palloc(sizeof(bool) * count));
  bool by_key = true;
  Datum* data = static_cast<Datum*>(palloc(sizeof(Datum) * count));
  Datum* deleted_at = static_cast<Datum*>(palloc(sizeof(Datum) * count));
  Datum* actor = static_cast<Datum*>(palloc(sizeof(Datum) * count));
  Datum* reason = static_cast<Datum*>(palloc(sizeof(Datum) * count));
  bool* data_nulls = static_cast<bool*>(palloc0(sizeof(bool) * count));
  bool* deleted_at_nulls = static_cast<bool*>(palloc(sizeof(bool) * count));
  bool* actor_nulls = static_cast<bool*>(palloc(sizeof(bool) * count));
  bool* reason_nulls = static_cast<bool*>(palloc(sizeof(bool) * count));
  for (int i = 0; i < count; ++i) {
    HeapTuple row = returned->vals[i];
    bool isnull = false;
    HeapTupleHeader header = DatumGetHeapTupleHeader(SPI_getbinval(row, returned->tupdesc, 1, &isnull));
    HeapTupleData tuple;
    tuple.t_len = HeapTupleHeaderGetDatumLength(header);
    ItemPointerSetInvalid(&tuple.t_self);
    tuple.t_tableOid = request->target;
    tuple.t_data = header;
    ConvertedRow converted;
    ConvertRow(&info->columns, &tuple, descriptor, &converted);
    data[i] = converted.data;
    object_id[i] = converted.object_id;
    object_id_nulls[i] = converted.object_id_is_null;
    if (converted.object_id_is_null) by_key = false;
    deleted_at[i] = SPI_getbinval(row, returned->tupdesc, 2, &deleted_at_nulls[i]);
    actor[i] = SPI_getbinval(row, returned->tupdesc, 3, &actor_nulls[i]);
    reason[i] = SPI_getbinval(row, returned->tupdesc, 4, &reason_nulls[i]);
  }
  Stamp stamp = {ExtensionObject(archive, "deleted_record"),
                 by_key,
                 PointerGetDatum(BuildArray(object_id, object_id_nulls, count, TEXTOID)),
                 PointerGetDatum(BuildArray(data, data_nulls, count, JSONBOID)),
                 PointerGetDatum(BuildArray(deleted_at, deleted_at_nulls, count, TIMESTAMPTZOID)),
                 PointerGetDatum(BuildArray(actor, actor_nulls, count, TEXTOID)),
                 PointerGetDatum(BuildArray(reason, reason_nulls, count, TEXTOID)),
                 id_floor,
                 id_ceiling,
                 info->schema_name,
                 info->table_name,
                 CStringGetTextDatum(psprintf(UINT64_FORMAT, U64FromFullTransactionId(GetTopFullTransactionId()))),
                 request->deleted_at != nullptr,
                 request->actor != nullptr,
                 request->reason != nullptr,
                 0};
  table_close(rel, NoLock);
  AsExtensionOwner(archive->owner, StampAsOwner, &stamp);
  if (stamp.stamped != count)
    ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                    errmsg("deleted_record_import: %d rows were deleted from %s but %lld archive rows match them", count,
                           target_name, static_cast<long long>(stamp.stamped)),
                    errdetail("Nothing of this batch was moved."),
                    errhint("Is the table's archive trigger enabled (deleted_record_attached)?")));
  SPI_finish();
  return count;
}

}  // namespace deleted_record::glue
