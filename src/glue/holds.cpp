// Legal holds. The hold list belongs to the extension owner; placing and releasing run as the
// owner through AsExtensionOwner after the checks, and the caller's right is the EXECUTE
// privilege a DBA granted on deleted_record_hold / deleted_record_release. Every statement
// names its functions and operators with pg_catalog.
#include "glue/holds.hpp"

#include "glue/archive_table.hpp"
#include "glue/owner.hpp"
#include "glue/spi_connection.hpp"
#include "glue/table_key.hpp"

#include "utils/lsyscache.h"

namespace deleted_record::glue {

namespace {

// Hold is what the owner-side work needs.
struct Hold {
  const ArchiveTable* archive;
  text* name;
  text* reason;
  const HoldScope* scope;
  Datum by;          // text: the calling role (current_user)
  Datum session_by;  // text: the session user (the login, before SET ROLE or SECURITY DEFINER)
};

void PlaceAsOwner(void* argument) {
  auto* hold = static_cast<Hold*>(argument);
  const HoldScope* scope = hold->scope;
  ConnectSpi();
  char* holds = ExtensionObjectName(hold->archive, "deleted_record_holds");
  {
    Oid types[1] = {TEXTOID};
    Datum values[1] = {PointerGetDatum(hold->name)};
    char* query = psprintf("SELECT h.held_by, CAST(h.held_at AS pg_catalog.text) FROM %s h"
                           " WHERE h.name OPERATOR(pg_catalog.=) $1 AND h.released_at IS NULL",
                           holds);
    if (SPI_execute_with_args(query, 1, types, values, nullptr, true, 1) != SPI_OK_SELECT)
      elog(ERROR, "deleted_record: could not read the holds");
    if (SPI_processed > 0)
      ereport(ERROR, (errcode(ERRCODE_UNIQUE_VIOLATION),
                      errmsg("deleted_record_hold: a hold named \"%s\" is already in place", text_to_cstring(hold->name)),
                      errdetail("It was placed by %s at %s.", SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
                                SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2)),
                      errhint("Choose another name, or release it first with deleted_record_release('%s').",
                              text_to_cstring(hold->name))));
  }
  // The table as archive rows name it (a partition's rows carry its root's names), its OID
  // and its attachments: the one it has now, those of its partitions (a partition attached on
  // its own) and those registered to it before (rows archived under its earlier names are held
  // too); later ones join through the registry's trigger (deleted_record_holds_follow_table).
  // Rows archived under the table's later names are held through table_oid
  // (deleted_record_hold_rule), also where the registry has no window (a partition attached on
  // its own).
  Datum schema_name = (Datum) 0, table_name = (Datum) 0, table_oid = (Datum) 0, attachments = (Datum) 0;
  bool has_table = OidIsValid(scope->relation);
  if (has_table) {
    Oid named = scope->relation;
    if (get_rel_relispartition(named)) named = llast_oid(get_partition_ancestors(named));
    schema_name = CStringGetTextDatum(get_namespace_name(get_rel_namespace(named)));
    table_name = CStringGetTextDatum(get_rel_name(named));
    table_oid = ObjectIdGetDatum(named);
    Oid types[1] = {OIDOID};
    Datum values[1] = {table_oid};
    char* query = psprintf(
        "SELECT pg_catalog.array_agg(DISTINCT i.id) FROM ("
        " SELECT a.attachment_id FROM %s() a WHERE a.relation OPERATOR(pg_catalog.=) ANY ("
        "   SELECT t.relid FROM pg_catalog.pg_partition_tree(CAST($1 AS pg_catalog.regclass)) t)"
        " UNION ALL SELECT w.attachment_id FROM %s w WHERE w.relid OPERATOR(pg_catalog.=) $1) AS i(id)"
        " WHERE i.id IS NOT NULL",
        ExtensionObjectName(hold->archive, "deleted_record_attachments"),
        ExtensionObjectName(hold->archive, "deleted_record_attachment"));
    // Not read-only: a fresh snapshot, which sees an attachment committed while this hold waited
    // for the holds lock (the registry's trigger takes it too).
    if (SPI_execute_with_args(query, 1, types, values, nullptr, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
      elog(ERROR, "deleted_record: could not read the attachments of the held table");
    bool isnull = true;
    Datum ids = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    attachments = isnull ? PointerGetDatum(construct_empty_array(UUIDOID)) : PointerGetDatum(DatumGetArrayTypePCopy(ids));
  } else {
    attachments = PointerGetDatum(construct_empty_array(UUIDOID));
  }
  Oid types[11] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, OIDOID, UUIDARRAYOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, TEXTOID};
  Datum values[11] = {PointerGetDatum(hold->name),
                      PointerGetDatum(hold->reason),
                      schema_name,
                      table_name,
                      table_oid,
                      attachments,
                      PointerGetDatum(scope->object_id),
                      TimestampTzGetDatum(scope->deleted_from),
                      TimestampTzGetDatum(scope->deleted_until),
                      hold->by,
                      hold->session_by};
  char nulls[11] = {' ', ' ', has_table ? ' ' : 'n', has_table ? ' ' : 'n', has_table ? ' ' : 'n', ' ',
                    scope->object_id != nullptr ? ' ' : 'n', scope->has_from ? ' ' : 'n', scope->has_until ? ' ' : 'n', ' ', ' '};
  char* insert = psprintf("INSERT INTO %s (name, reason, schema_name, table_name, table_oid, attachment_ids, object_id,"
                          " deleted_from, deleted_until, held_by, held_by_session_user)"
                          " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                          holds);
  if (SPI_execute_with_args(insert, 11, types, values, nulls, false, 0) != SPI_OK_INSERT)
    elog(ERROR, "deleted_record: could not record the hold");
  FinishSpi();
}

void ReleaseAsOwner(void* argument) {
  auto* hold = static_cast<Hold*>(argument);
  ConnectSpi();
  Oid types[3] = {TEXTOID, TEXTOID, TEXTOID};
  Datum values[3] = {PointerGetDatum(hold->name), hold->by, hold->session_by};
  char* query = psprintf("UPDATE %s h SET released_at = pg_catalog.transaction_timestamp(), released_by = $2,"
                         " released_by_session_user = $3"
                         " WHERE h.name OPERATOR(pg_catalog.=) $1 AND h.released_at IS NULL",
                         ExtensionObjectName(hold->archive, "deleted_record_holds"));
  if (SPI_execute_with_args(query, 3, types, values, nullptr, false, 0) != SPI_OK_UPDATE)
    elog(ERROR, "deleted_record: could not record the release");
  if (SPI_processed == 0)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                    errmsg("deleted_record_release: no hold named \"%s\" is in place", text_to_cstring(hold->name)),
                    errhint("The holds in place are those of deleted_record_holds with released_at NULL.")));
  FinishSpi();
}

// ObjectIdForm is what the hint of a for_object that is no object id of its table shows.
struct ObjectIdForm {
  const char* table;
  const char* example;
};

void ObjectIdHint(void* argument) {
  auto* form = static_cast<ObjectIdForm*>(argument);
  errhint("for_object is an object_id of %s as the archive writes it, for example '%s' (see its rows in deleted_record).",
          form->table, form->example);
}

// KeyColumn is one key column as for_object reads it: the column's type and typmod (char(5),
// numeric(10,2): the value an INSERT of that text would store) and its I/O functions.
struct KeyColumn {
  Oid type;
  int32 typmod;
  Oid input;
  Oid io_param;
  Oid output;
  const char* name;
  bool from_json;  // given as a JSON array or object (an array or composite column)
};

// NormalizedObjectId returns for_object spelled the way the archive writes object_id for rows of
// the table (its key's text output; for a composite key a JSON array of the key's values, as
// '[42, 1]'), or raises an error when it cannot be an object id of that table: a hold compares
// it with object_id as it is, and a hold of a misspelled key would hold nothing. Each value is
// read by its column's input function WITH the column's typmod, as an INSERT stores it (char(5)
// 'ab' is 'ab   ', numeric(10,2) 42 is 42.00, a too long char(5) is refused, not truncated),
// and printed as the archive prints it. A numeric key without a declared scale keeps the scale
// each row was written with (1.5 and 1.50 are one key, two object_ids): no text can be sure to
// be its object_id, so it is refused. Runs as the caller (the key types' input functions are
// the table's).
text* NormalizedObjectId(Oid relation, text* object_id) {
  Relation table = relation_open(relation, AccessShareLock);
  Oid index = TableKeyIndex(table);
  const char* table_name = pstrdup(RelationGetRelationName(table));
  const char* row_type = format_type_be_qualified(RelationGetDescr(table)->tdtypeid);
  if (!OidIsValid(index)) {
    relation_close(table, AccessShareLock);
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("deleted_record_hold: table %s has no primary key or replica identity, its archive rows have no object_id",
                           table_name),
                    errhint("Hold the whole table, or a range of deletion times (deleted_from, deleted_until).")));
  }
  Relation key = index_open(index, AccessShareLock);
  int count = key->rd_index->indnkeyatts;
  auto* columns = static_cast<KeyColumn*>(palloc(sizeof(KeyColumn) * count));
  const char* unscaled = nullptr;
  StringInfoData example;
  initStringInfo(&example);
  for (int i = 0; i < count; i++) {
    AttrNumber attnum = key->rd_index->indkey.values[i];
    Form_pg_attribute attribute = TupleDescAttr(RelationGetDescr(table), attnum - 1);
    KeyColumn* column = &columns[i];
    column->type = attribute->atttypid;
    column->typmod = attribute->atttypmod;
    column->name = pstrdup(NameStr(attribute->attname));
    column->from_json = false;
    int32 base_typmod = attribute->atttypmod;
    if (getBaseTypeAndTypmod(column->type, &base_typmod) == NUMERICOID && base_typmod < 0 && unscaled == nullptr)
      unscaled = pstrdup(NameStr(attribute->attname));
    getTypeInputInfo(column->type, &column->input, &column->io_param);
    bool is_varlena = false;
    getTypeOutputInfo(column->type, &column->output, &is_varlena);
    if (count == 1)
      appendStringInfoString(&example, "42");
    else
      appendStringInfo(&example, "%s%d", i == 0 ? "[" : ", ", i == 0 ? 42 : i);
  }
  if (count > 1) appendStringInfoChar(&example, ']');
  index_close(key, AccessShareLock);
  relation_close(table, AccessShareLock);
  if (unscaled != nullptr)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("deleted_record_hold: one object of %s cannot be held: its key column %s is numeric without a declared scale",
                           table_name, unscaled),
                    errdetail("The archive writes such a key with the scale each row was written with (1.5 and 1.50 are one key "
                              "but two object_ids), and a hold compares object_id as written."),
                    errhint("Hold the whole table, or a range of deletion times (deleted_from, deleted_until).")));
  ObjectIdForm form = {table_name, example.data};
  ErrorContextCallback callback = {error_context_stack, ObjectIdHint, &form};
  error_context_stack = &callback;
  // The key's values are written as the archive writes object_id: with the canonical output
  // settings (UTC, ISO dates), whatever this session's are. An error pops them with the
  // transaction.
  int nest_level = NewGUCNestLevel();
  const char* settings[5][2] = {{"TimeZone", "UTC"}, {"DateStyle", "ISO"}, {"IntervalStyle", "postgres"},
                                {"extra_float_digits", "1"}, {"bytea_output", "hex"}};
  for (auto& setting : settings)
    (void) set_config_option(setting[0], setting[1], PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
  ConnectSpi();
  // The texts of the key's values: for_object itself, or the elements of its JSON array.
  auto* texts = static_cast<char**>(palloc0(sizeof(char*) * count));
  bool valid = true;
  if (count == 1) {
    texts[0] = text_to_cstring(object_id);
  } else {
    StringInfoData query;
    initStringInfo(&query);
    appendStringInfoString(&query, "SELECT ");
    for (int i = 0; i < count; i++)
      appendStringInfo(&query, "%sj.v OPERATOR(pg_catalog.->>) %d", i == 0 ? "" : ", ", i);
    for (int i = 0; i < count; i++)
      appendStringInfo(&query, ", pg_catalog.jsonb_typeof(j.v OPERATOR(pg_catalog.->) %d) OPERATOR(pg_catalog.=) ANY ('{array,object}')", i);
    appendStringInfo(&query,
                     "  FROM (SELECT CAST($1 AS pg_catalog.jsonb) AS v) j"
                     " WHERE pg_catalog.jsonb_typeof(j.v) OPERATOR(pg_catalog.=) 'array'"
                     "   AND pg_catalog.jsonb_array_length(j.v) OPERATOR(pg_catalog.=) %d",
                     count);
    Oid types[1] = {TEXTOID};
    Datum values[1] = {PointerGetDatum(object_id)};
    if (SPI_execute_with_args(query.data, 1, types, values, nullptr, true, 1) != SPI_OK_SELECT)
      elog(ERROR, "deleted_record: could not read for_object");
    valid = SPI_processed == 1;
    for (int i = 0; valid && i < count; i++) {
      texts[i] = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1);
      if (texts[i] == nullptr) valid = false;  // a JSON null: a key value is never NULL
      bool isnull = true;
      Datum nested = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, count + i + 1, &isnull);
      Oid base = getBaseType(columns[i].type);
      // An array or composite column is written as a JSON array or object ([[1, 2], 7]): read back
      // as jsonb_populate_record reads it (review 7 #05), with the column's typmod and checks.
      columns[i].from_json = !isnull && DatumGetBool(nested) && base != JSONOID && base != JSONBOID;
    }
  }
  text* result = nullptr;
  if (valid) {
    auto* values = static_cast<Datum*>(palloc(sizeof(Datum) * count));
    auto* types = static_cast<Oid*>(palloc(sizeof(Oid) * count));
    for (int i = 0; i < count; i++) {
      types[i] = columns[i].type;
      if (!columns[i].from_json) {
        values[i] = OidInputFunctionCall(columns[i].input, texts[i], columns[i].io_param, columns[i].typmod);
        continue;
      }
      char* query = psprintf("SELECT (pg_catalog.jsonb_populate_record(NULL::%s, pg_catalog.jsonb_build_object($1, CAST($2 AS pg_catalog.jsonb)))).%s",
                             row_type, quote_identifier(columns[i].name));
      Oid json_types[2] = {TEXTOID, TEXTOID};
      Datum json_values[2] = {CStringGetTextDatum(columns[i].name), CStringGetTextDatum(texts[i])};
      if (SPI_execute_with_args(query, 2, json_types, json_values, nullptr, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "deleted_record: could not read for_object");
      bool isnull = true;
      Datum value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
      if (isnull) elog(ERROR, "deleted_record: could not read for_object");
      values[i] = datumCopy(value, false, -1);
    }
    Datum normalized;
    if (count == 1) {
      normalized = PointerGetDatum(cstring_to_text(OidOutputFunctionCall(columns[0].output, values[0])));
    } else {
      StringInfoData query;
      initStringInfo(&query);
      appendStringInfoString(&query, "SELECT CAST(pg_catalog.jsonb_build_array(");
      for (int i = 0; i < count; i++) appendStringInfo(&query, "%spg_catalog.to_jsonb($%d)", i == 0 ? "" : ", ", i + 1);
      appendStringInfoString(&query, ") AS pg_catalog.text)");
      if (SPI_execute_with_args(query.data, count, types, values, nullptr, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "deleted_record: could not write for_object");
      bool isnull = true;
      normalized = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
      if (isnull) elog(ERROR, "deleted_record: could not write for_object");
    }
    result = DatumGetTextPP(SPI_datumTransfer(normalized, false, -1));
  }
  FinishSpi();
  AtEOXact_GUC(true, nest_level);
  if (result == nullptr)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("deleted_record_hold: \"%s\" is not an object_id of %s", text_to_cstring(object_id), table_name),
                    errdetail("Its key has %d columns: object_id is a JSON array of their values.", count)));
  error_context_stack = callback.previous;
  return result;
}

// kHoldsLock is the advisory lock of holds (two int4 keys: "DRHD", 0); purge_step takes it
// from SQL with the same keys.
constexpr int32 kHoldsLock = 0x44524844;

Datum CallingRoleName() { return CStringGetTextDatum(GetUserNameFromId(GetUserId(), false)); }
Datum SessionUserName() { return CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false)); }

}  // namespace

void LockHoldsShared() {
  DirectFunctionCall2(pg_advisory_xact_lock_shared_int4, Int32GetDatum(kHoldsLock), Int32GetDatum(0));
}

void LockHoldsExclusive() {
  DirectFunctionCall2(pg_advisory_xact_lock_int4, Int32GetDatum(kHoldsLock), Int32GetDatum(0));
}

void PlaceHold(text* name, text* reason, const HoldScope* scope) {
  if (IsBlankText(name))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("deleted_record_hold: a name is required"),
                    errhint("Name the hold as the matter it serves, for example 'case-2026-118'.")));
  if (IsBlankText(reason))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("deleted_record_hold: a reason is required"),
                    errhint("Say why, for example deleted_record_hold('case-2026-118', 'litigation hold, letter of 2026-11-02').")));
  if (scope->object_id != nullptr && !OidIsValid(scope->relation))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("deleted_record_hold: for_object needs for_table"),
                    errdetail("An object_id identifies a row only within its table.")));
  if (scope->has_from && scope->has_until && scope->deleted_from >= scope->deleted_until)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("deleted_record_hold: deleted_from must be before deleted_until")));
  if (OidIsValid(scope->relation) && get_rel_name(scope->relation) == nullptr)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("deleted_record_hold: relation %u does not exist", scope->relation)));
  // Only a table's rows are archived: a hold on a view (a typed view, say), an index or a
  // sequence would be listed as active and hold nothing.
  if (OidIsValid(scope->relation) && get_rel_relkind(scope->relation) != RELKIND_RELATION &&
      get_rel_relkind(scope->relation) != RELKIND_PARTITIONED_TABLE)
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("deleted_record_hold: %s is not a table", get_rel_name(scope->relation)),
                    errhint("Name the table whose archived rows are to be held (for a typed view, its table).")));
  HoldScope normalized = *scope;
  if (scope->object_id != nullptr) normalized.object_id = NormalizedObjectId(scope->relation, scope->object_id);
  scope = &normalized;
  const ArchiveTable* archive = ResolveArchiveTable();
  LockHoldsExclusive();
  Hold hold = {archive, name, reason, scope, CallingRoleName(), SessionUserName()};
  AsExtensionOwner(archive->owner, PlaceAsOwner, &hold);
}

void ReleaseHold(text* name) {
  if (IsBlankText(name))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("deleted_record_release: a name is required")));
  const ArchiveTable* archive = ResolveArchiveTable();
  LockHoldsExclusive();
  Hold hold = {archive, name, nullptr, nullptr, CallingRoleName(), SessionUserName()};
  AsExtensionOwner(archive->owner, ReleaseAsOwner, &hold);
}

int ExecuteWithLatestSnapshot(const char* query, int nargs, Oid* types, Datum* values, long count) {
  SPIPlanPtr plan = SPI_prepare(query, nargs, types);
  if (plan == nullptr) elog(ERROR, "deleted_record: could not prepare a statement: %s", SPI_result_code_string(SPI_result));
  if (list_length(SPI_plan_get_plan_sources(plan)) != 1)
    ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR), errmsg("deleted_record: one statement expected")));
  // Not read-only: SPI then advances the command counter first, so the statement also sees what
  // this transaction did up to here.
  int result = SPI_execute_snapshot(plan, values, nullptr, GetLatestSnapshot(), InvalidSnapshot, false, false, count);
  SPI_freeplan(plan);
  return result;
}

bool ExistsWithLatestSnapshot(text* query) {
  if (query == nullptr) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("deleted_record: query must not be NULL")));
  // As a subquery: one query that only reads (a data-modifying WITH, a second statement or a
  // DML statement does not parse there), so that nothing writes under the latest snapshot, where
  // a REPEATABLE READ or SERIALIZABLE transaction would skip its own conflict checks.
  char* sql = psprintf("SELECT FROM (%s\n) AS q LIMIT 1", text_to_cstring(query));
  ConnectSpi();
  int result = ExecuteWithLatestSnapshot(sql, 0, nullptr, nullptr, 1);
  if (result != SPI_OK_SELECT) elog(ERROR, "deleted_record: could not run a check with the latest snapshot (%d)", result);
  bool found = SPI_processed > 0;
  FinishSpi();
  pfree(sql);
  return found;
}

void RefuseHeldRows(const ArchiveTable* archive, ArrayType* archive_ids) {
  char* rule_query = psprintf("SELECT %s('d')", ExtensionObjectName(archive, "deleted_record_hold_rule"));
  if (SPI_execute(rule_query, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
    elog(ERROR, "deleted_record: could not read the legal hold rule");
  char* rule = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
  Oid types[1] = {UUIDARRAYOID};
  Datum values[1] = {PointerGetDatum(archive_ids)};
  // A long id list is joined as unnest($1), not planned as = ANY ($1) (see ArchiveIdsOf).
  ArchiveIds rows = ArchiveIdsOf("d", "$1", archive_ids);
  char* query = psprintf(
      "SELECT CAST(d.id AS pg_catalog.text), h.name, h.reason, h.held_by, pg_catalog.count(*) OVER ()"
      "  FROM %s d"
      "  CROSS JOIN LATERAL (SELECT %s AS name) AS held"
      "  JOIN %s h ON h.name OPERATOR(pg_catalog.=) held.name AND h.released_at IS NULL%s"
      " WHERE %s"
      " ORDER BY d.id LIMIT 1",
      ExtensionObjectName(archive, "deleted_record"), rule, ExtensionObjectName(archive, "deleted_record_holds"),
      rows.from, rows.where);
  // Read with the latest snapshot, in every isolation level: it sees a hold committed before this
  // erasure or while it waited for the holds lock (LockHoldsShared). A REPEATABLE READ or
  // SERIALIZABLE transaction's own snapshot may be older than both (review 4 #01).
  if (ExecuteWithLatestSnapshot(query, 1, types, values, 1) != SPI_OK_SELECT)
    elog(ERROR, "deleted_record: could not check the legal holds");
  if (SPI_processed == 0) return;
  HeapTuple row = SPI_tuptable->vals[0];
  TupleDesc descriptor = SPI_tuptable->tupdesc;
  // The hold list is private: the hold's name, reason and placer are told only to a session
  // whose role (the one it runs as outside any SECURITY DEFINER function, this erasure runs as
  // the owner) may read deleted_record_holds; any other is told only that a hold covers the row.
  Oid holds = get_relname_relid("deleted_record_holds", archive->schema);
  bool may_read_holds = OidIsValid(holds) && pg_class_aclcheck(holds, GetOuterUserId(), ACL_SELECT) == ACLCHECK_OK;
  if (!may_read_holds)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("deleted_record_erase: archive row %s is under a legal hold", SPI_getvalue(row, descriptor, 1)),
                    errdetail("%s of the given rows are held.", SPI_getvalue(row, descriptor, 5)),
                    errhint("Nothing was erased. Which hold covers it is listed in deleted_record_holds, for the roles "
                            "granted SELECT on it; held rows can be erased once the hold is released.")));
  ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                  errmsg("deleted_record_erase: archive row %s is under legal hold \"%s\"", SPI_getvalue(row, descriptor, 1),
                         SPI_getvalue(row, descriptor, 2)),
                  errdetail("Held by %s: %s. %s of the given rows are held.", SPI_getvalue(row, descriptor, 4),
                            SPI_getvalue(row, descriptor, 3), SPI_getvalue(row, descriptor, 5)),
                  errhint("Nothing was erased. Held rows can be erased once the hold is released with "
                          "deleted_record_release('%s').",
                          SPI_getvalue(row, descriptor, 2))));
}

}  // namespace deleted_record::glue
