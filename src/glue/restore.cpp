// Restore, in the order it runs: read the selected archive rows as the caller (SELECT on the
// archive and its row-level security apply), resolve each archived table name to a table by
// OID, gather its columns and foreign keys, let the core plan the order and the columns, then
// run one INSERT ... SELECT jsonb_populate_record(...) per table as the caller (INSERT
// privileges, RLS, constraints and triggers apply), and mark the restored archive rows as the
// extension owner. Every INSERT runs in a subtransaction only so that a failure can be traced to
// the archive row that caused it before the error is raised: nothing is ever half restored.
#include "glue/restore.hpp"

#include "glue/archive_table.hpp"

namespace deleted_record::glue {

namespace {

enum class Outcome { kRestored, kSkipped, kAlreadyRestored };

struct Candidate {
  Datum id;         // uuid
  int target;       // index into Restore::targets
  char* object_id;  // or null
  Outcome outcome;
  char* detail;     // or null
};

struct TargetColumn {
  char* name;
  bool generated;
  char identity;
};

struct Target {
  char* schema_name;  // as archived
  char* table_name;
  Oid relid;
  char* qualified;    // quoted, for statements and messages
  char* rowtype;      // the table's row type, quoted
  int column_count;
  TargetColumn* columns;
  int pending_count;  // archive rows to restore into it
  int capacity;
  Datum* pending;
  int* pending_candidates;
  int data_key_count;
  char** data_keys;
  int masked_key_count;
  char** masked_keys;
  bool has_unique;     // a unique or exclusion index: conflicts are possible
  bool per_row;        // skip mode inserts row by row (see RunStep)
  int match_count;     // skip mode: the columns identifying a row (a plain unique index)
  char** match_columns;
};

struct Restore {
  const ArchiveTable* archive;
  char* archive_name;
  ConflictPolicy policy;
  MaskedPolicy masked;
  bool dry_run;
  bool immediate;             // deferrable constraints of the targets are checked at each INSERT
  char* deferrable;           // those constraints, for SET CONSTRAINTS; null when none
  const char* data;           // the archived data as inserted (masked values removed for 'null')
  char* role;  // the caller, for restored_by
  int candidate_count;
  Candidate* candidates;
  int target_count;
  Target* targets;
};

// ---- small helpers ----------------------------------------------------------------------

char* UuidText(Datum id) { return DatumGetCString(DirectFunctionCall1(uuid_out, id)); }

Datum UuidArray(Datum* ids, int count) {
  return PointerGetDatum(construct_array(ids, count, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
}

char** TextArrayStrings(Datum array, bool isnull, int* count) {
  *count = 0;
  if (isnull) return nullptr;
  Datum* values;
  bool* nulls;
  deconstruct_array(DatumGetArrayTypeP(array), TEXTOID, -1, false, TYPALIGN_INT, &values, &nulls, count);
  char** strings = static_cast<char**>(palloc(sizeof(char*) * Max(*count, 1)));
  for (int i = 0; i < *count; ++i) strings[i] = nulls[i] ? pstrdup("") : TextDatumGetCString(values[i]);
  return strings;
}

void RunQuery(const char* query, int nargs, Oid* types, Datum* values, bool read_only, int expected) {
  int result = SPI_execute_with_args(query, nargs, types, values, nullptr, read_only, 0);
  if (result != expected) elog(ERROR, "deleted_record: restore query failed (%s): %s", SPI_result_code_string(result), query);
}

// RunQueryAsOwner runs a query as the archive's owner with search_path pinned to pg_catalog,
// pg_temp (the query must still qualify every operator and function). The one place restore
// switches identity: an error on the way restores both with the (sub)transaction it aborts.
void RunQueryAsOwner(const Restore* restore, const char* query, int nargs, Oid* types, Datum* values, int expected) {
  Oid saved_user;
  int saved_security_context;
  GetUserIdAndSecContext(&saved_user, &saved_security_context);
  int nest_level = NewGUCNestLevel();
  (void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                           false);
  SetUserIdAndSecContext(restore->archive->owner,
                         saved_security_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
  RunQuery(query, nargs, types, values, false, expected);
  SetUserIdAndSecContext(saved_user, saved_security_context);
  AtEOXact_GUC(true, nest_level);
}

// InSubtransaction runs work(arg) in a subtransaction, which it releases (keep) or rolls back
// on success. On error it rolls the subtransaction back, puts memory context and resource owner
// back as they were (like plpgsql's exception blocks) and returns the error, copied; else
// null. Every BeginInternalSubTransaction of restore is paired here, on every path.
ErrorData* InSubtransaction(void (*work)(void*), void* arg, bool keep) {
  MemoryContext context = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  ErrorData* volatile failure = nullptr;
  BeginInternalSubTransaction(nullptr);
  MemoryContextSwitchTo(context);
  PG_TRY();
  {
    work(arg);
    if (keep)
      ReleaseCurrentSubTransaction();
    else
      RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(context);
    failure = CopyErrorData();
    FlushErrorState();
    RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
  }
  PG_END_TRY();
  return failure;
}

// ---- reading the selection ----------------------------------------------------------------

int FindOrAddTarget(Restore* restore, const char* schema_name, const char* table_name) {
  for (int t = 0; t < restore->target_count; ++t)
    if (strcmp(restore->targets[t].schema_name, schema_name) == 0 && strcmp(restore->targets[t].table_name, table_name) == 0)
      return t;
  if (restore->target_count % 16 == 0)
    restore->targets = static_cast<Target*>(restore->targets == nullptr
                                                ? palloc0(sizeof(Target) * 16)
                                                : repalloc(restore->targets, sizeof(Target) * (restore->target_count + 16)));
  Target* target = &restore->targets[restore->target_count];
  memset(target, 0, sizeof(Target));
  target->schema_name = pstrdup(schema_name);
  target->table_name = pstrdup(table_name);
  return restore->target_count++;
}

void AddPending(Target* target, Datum id, int candidate) {
  if (target->pending_count == target->capacity) {
    target->capacity = Max(64, target->capacity * 2);
    target->pending = static_cast<Datum*>(target->pending == nullptr ? palloc(sizeof(Datum) * target->capacity)
                                                                     : repalloc(target->pending, sizeof(Datum) * target->capacity));
    target->pending_candidates = static_cast<int*>(
        target->pending_candidates == nullptr ? palloc(sizeof(int) * target->capacity)
                                              : repalloc(target->pending_candidates, sizeof(int) * target->capacity));
  }
  target->pending[target->pending_count] = id;
  target->pending_candidates[target->pending_count++] = candidate;
}

// LoadCandidates reads the selected archive rows (each id once, in the order given) as the
// caller: a row the caller cannot see is an error, like one that does not exist.
void LoadCandidates(Restore* restore, ArrayType* archive_ids) {
  char* query = psprintf(
      "SELECT s.id, a.schema_name, a.table_name, a.object_id,"
      "       pg_catalog.to_char(pg_catalog.timezone('UTC', a.restored_at), 'YYYY-MM-DD HH24:MI:SS') OPERATOR(pg_catalog.||) ' UTC',"
      "       a.restored_by,"
      "       a.id IS NOT NULL AS found"
      "  FROM (SELECT DISTINCT ON (u.id) u.id, u.n FROM pg_catalog.unnest($1) WITH ORDINALITY u(id, n)"
      "         ORDER BY u.id, u.n) s"
      "  LEFT JOIN %s a ON a.id OPERATOR(pg_catalog.=) s.id"
      " ORDER BY s.n",
      restore->archive_name);
  Oid types[1] = {UUIDARRAYOID};
  Datum values[1] = {PointerGetDatum(archive_ids)};
  RunQuery(query, 1, types, values, true, SPI_OK_SELECT);
  restore->candidate_count = static_cast<int>(SPI_processed);
  restore->candidates = static_cast<Candidate*>(palloc0(sizeof(Candidate) * Max(restore->candidate_count, 1)));
  SPITupleTable* rows = SPI_tuptable;
  for (int i = 0; i < restore->candidate_count; ++i) {
    HeapTuple row = rows->vals[i];
    bool isnull = false;
    Candidate* candidate = &restore->candidates[i];
    candidate->id = datumCopy(SPI_getbinval(row, rows->tupdesc, 1, &isnull), false, UUID_LEN);
    if (!DatumGetBool(SPI_getbinval(row, rows->tupdesc, 7, &isnull)))
      ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
                      errmsg("deleted_record_restore: archive row %s does not exist, or you cannot see it",
                             UuidText(candidate->id)),
                      errhint("Nothing was restored.")));
    candidate->target = FindOrAddTarget(restore, SPI_getvalue(row, rows->tupdesc, 2), SPI_getvalue(row, rows->tupdesc, 3));
    candidate->object_id = SPI_getvalue(row, rows->tupdesc, 4);
    char* restored_at = SPI_getvalue(row, rows->tupdesc, 5);
    if (restored_at != nullptr) {
      char* restored_by = SPI_getvalue(row, rows->tupdesc, 6);
      candidate->outcome = Outcome::kAlreadyRestored;
      candidate->detail = psprintf("restored at %s by %s", restored_at, restored_by != nullptr ? restored_by : "?");
      continue;
    }
    candidate->outcome = Outcome::kRestored;
    AddPending(&restore->targets[candidate->target], candidate->id, i);
  }
}

// ---- the tables ---------------------------------------------------------------------------

// ResolveTarget finds the archived table by its names today, and reads its columns and indexes.
void ResolveTarget(Restore* restore, Target* target) {
  int first = target->pending_count > 0 ? target->pending_candidates[0] : 0;
  Oid namespace_oid = get_namespace_oid(target->schema_name, true);
  Oid relid = OidIsValid(namespace_oid) ? get_relname_relid(target->table_name, namespace_oid) : InvalidOid;
  char relkind = OidIsValid(relid) ? get_rel_relkind(relid) : '\0';
  if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                    errmsg("cannot restore archive row %s: table %s does not exist any more",
                           UuidText(restore->candidates[first].id),
                           quote_qualified_identifier(target->schema_name, target->table_name)),
                    errhint("Rows are restored into the table with the name they were deleted from: create or rename "
                            "it back, then restore again. Nothing was restored.")));
  target->relid = relid;
  target->qualified = quote_qualified_identifier(target->schema_name, target->table_name);
  target->rowtype = format_type_be_qualified(get_rel_type_id(relid));
  Relation rel = table_open(relid, AccessShareLock);
  TupleDesc descriptor = RelationGetDescr(rel);
  target->column_count = 0;  // a restore that is run again to name a culprit reads it again
  target->match_count = 0;
  target->has_unique = false;
  target->per_row = false;
  target->columns = static_cast<TargetColumn*>(palloc0(sizeof(TargetColumn) * Max(descriptor->natts, 1)));
  for (int i = 0; i < descriptor->natts; ++i) {
    Form_pg_attribute attribute = TupleDescAttr(descriptor, i);
    if (attribute->attisdropped) continue;
    TargetColumn* column = &target->columns[target->column_count++];
    column->name = pstrdup(NameStr(attribute->attname));
    column->generated = attribute->attgenerated != '\0';
    column->identity = attribute->attidentity;
  }
  // Conflicts are possible only with a unique or exclusion index; skip mode matches inserted
  // rows back to archive rows by the primary key, else by a plain unique index. Where that
  // cannot work (no such index, a deferrable one, which ON CONFLICT cannot use, or a BEFORE
  // INSERT trigger that may change the key), skip mode goes row by row (per_row).
  List* indexes = RelationGetIndexList(rel);
  Oid primary = compat::PrimaryKeyIndex(rel);
  Oid matching = OidIsValid(primary) ? primary : InvalidOid;
  ListCell* cell;
  foreach (cell, indexes) {
    Relation index = index_open(lfirst_oid(cell), AccessShareLock);
    Form_pg_index form = index->rd_index;
    if (form->indisunique || form->indisexclusion) target->has_unique = true;
    if ((form->indisunique || form->indisexclusion) && !form->indimmediate) target->per_row = true;  // no arbiter
    if (!OidIsValid(matching) && form->indisunique && form->indimmediate && heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, nullptr) &&
        heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, nullptr))
      matching = RelationGetRelid(index);
    index_close(index, AccessShareLock);
  }
  if (OidIsValid(matching)) {
    Relation index = index_open(matching, AccessShareLock);
    int count = IndexRelationGetNumberOfKeyAttributes(index);
    target->match_columns = static_cast<char**>(palloc(sizeof(char*) * count));
    for (int i = 0; i < count; ++i)
      target->match_columns[target->match_count++] =
          pstrdup(NameStr(TupleDescAttr(descriptor, index->rd_index->indkey.values[i] - 1)->attname));
    index_close(index, AccessShareLock);
  }
  table_close(rel, AccessShareLock);
  if (target->match_count == 0) target->per_row = true;
  // A BEFORE INSERT row trigger (of the table or any partition) may change the key.
  Oid types[1] = {OIDOID};
  Datum values[1] = {ObjectIdGetDatum(relid)};
  RunQuery("SELECT EXISTS (SELECT FROM pg_catalog.pg_trigger t"
           " WHERE (t.tgrelid OPERATOR(pg_catalog.=) $1"
           "        OR t.tgrelid OPERATOR(pg_catalog.=) ANY (SELECT p.relid FROM pg_catalog.pg_partition_tree($1) p))"
           "   AND (t.tgtype OPERATOR(pg_catalog.&) 7::pg_catalog.int2) OPERATOR(pg_catalog.=) 7::pg_catalog.int2"
           "   AND t.tgenabled OPERATOR(pg_catalog.<>) 'D')",
           1, types, values, true, SPI_OK_SELECT);
  bool isnull = false;
  if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) && !isnull)
    target->per_row = true;
}

// LoadKeys reads which keys the archived rows' data holds, and which were masked. One pass
// checks each of the table's columns with jsonb's key test and whether anything else is there;
// only then (a column dropped since, or masked values) are the keys listed one by one.
void LoadKeys(Restore* restore, Target* target) {
  Oid types[2] = {UUIDARRAYOID, TEXTARRAYOID};
  Datum* names = static_cast<Datum*>(palloc(sizeof(Datum) * Max(target->column_count, 1)));
  StringInfoData checks;
  initStringInfo(&checks);
  for (int c = 0; c < target->column_count; ++c) {
    names[c] = CStringGetTextDatum(target->columns[c].name);
    appendStringInfo(&checks, "pg_catalog.bool_or(a.data OPERATOR(pg_catalog.?) %s), ",
                     quote_literal_cstr(target->columns[c].name));
  }
  char* query = psprintf(
      "SELECT %s pg_catalog.bool_or((a.data OPERATOR(pg_catalog.-) $2) OPERATOR(pg_catalog.<>) '{}'::pg_catalog.jsonb),"
      "       pg_catalog.bool_or(a.masked_columns IS NOT NULL)"
      "  FROM pg_catalog.unnest($1) AS selected(id) JOIN %s a ON a.id OPERATOR(pg_catalog.=) selected.id",
      checks.data, restore->archive_name);
  Datum values[2] = {UuidArray(target->pending, target->pending_count),
                     PointerGetDatum(construct_array(names, target->column_count, TEXTOID, -1, false, TYPALIGN_INT))};
  RunQuery(query, 2, types, values, true, SPI_OK_SELECT);
  HeapTuple row = SPI_tuptable->vals[0];
  TupleDesc descriptor = SPI_tuptable->tupdesc;
  bool isnull = false;
  bool other_keys = DatumGetBool(SPI_getbinval(row, descriptor, target->column_count + 1, &isnull)) && !isnull;
  bool masked = DatumGetBool(SPI_getbinval(row, descriptor, target->column_count + 2, &isnull)) && !isnull;
  if (!other_keys && !masked) {
    target->data_keys = static_cast<char**>(palloc(sizeof(char*) * Max(target->column_count, 1)));
    target->data_key_count = 0;
    for (int c = 0; c < target->column_count; ++c) {
      bool present = DatumGetBool(SPI_getbinval(row, descriptor, c + 1, &isnull)) && !isnull;
      if (present) target->data_keys[target->data_key_count++] = target->columns[c].name;
    }
    target->masked_key_count = 0;
    target->masked_keys = nullptr;
    return;
  }
  query = psprintf(
      "SELECT (SELECT pg_catalog.array_agg(k.k) FROM (SELECT DISTINCT k FROM pg_catalog.unnest($1) AS selected(id)"
      "          JOIN %s a ON a.id OPERATOR(pg_catalog.=) selected.id, pg_catalog.jsonb_object_keys(a.data) k) k),"
      "       (SELECT pg_catalog.array_agg(DISTINCT m) FROM pg_catalog.unnest($1) AS selected(id)"
      "          JOIN %s a ON a.id OPERATOR(pg_catalog.=) selected.id, pg_catalog.unnest(a.masked_columns) m"
      "         WHERE a.data OPERATOR(pg_catalog.?) m)",
      restore->archive_name, restore->archive_name);
  RunQuery(query, 1, types, values, true, SPI_OK_SELECT);
  Datum keys = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
  target->data_keys = TextArrayStrings(keys, isnull, &target->data_key_count);
  Datum masked_keys = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
  target->masked_keys = TextArrayStrings(masked_keys, isnull, &target->masked_key_count);
}

// ---- planning -----------------------------------------------------------------------------

// ForeignKeys lists the foreign keys between the targets (defined on the tables themselves).
int ForeignKeys(Restore* restore, int* target_of_index, boundary::RestoreKeyFacts** keys, char*** qualified_names) {
  Datum* relids = static_cast<Datum*>(palloc(sizeof(Datum) * restore->target_count));
  for (int t = 0; t < restore->target_count; ++t) relids[t] = ObjectIdGetDatum(restore->targets[t].relid);
  Oid types[1] = {OIDARRAYOID};
  Datum values[1] = {PointerGetDatum(construct_array(relids, restore->target_count, OIDOID, sizeof(Oid), true, TYPALIGN_INT))};
  RunQuery("SELECT c.conrelid, c.confrelid, c.conname::text, c.condeferrable,"
           "       pg_catalog.quote_ident(n.nspname::pg_catalog.text) OPERATOR(pg_catalog.||) '.'"
           "         OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.conname::pg_catalog.text)"
           "  FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.connamespace"
           " WHERE c.contype OPERATOR(pg_catalog.=) 'f' AND c.conparentid OPERATOR(pg_catalog.=) 0::pg_catalog.oid AND c.conrelid OPERATOR(pg_catalog.=) ANY ($1)"
           "   AND c.confrelid OPERATOR(pg_catalog.=) ANY ($1)",
           1, types, values, true, SPI_OK_SELECT);
  int count = static_cast<int>(SPI_processed);
  *keys = static_cast<boundary::RestoreKeyFacts*>(palloc0(sizeof(boundary::RestoreKeyFacts) * Max(count, 1)));
  *qualified_names = static_cast<char**>(palloc(sizeof(char*) * Max(count, 1)));
  for (int k = 0; k < count; ++k) {
    HeapTuple row = SPI_tuptable->vals[k];
    bool isnull = false;
    Oid from = DatumGetObjectId(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull));
    Oid to = DatumGetObjectId(SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull));
    for (int t = 0; t < restore->target_count; ++t) {
      if (restore->targets[t].relid == from) (*keys)[k].from = target_of_index[t];
      if (restore->targets[t].relid == to) (*keys)[k].to = target_of_index[t];
    }
    (*keys)[k].name = SPI_getvalue(row, SPI_tuptable->tupdesc, 3);
    (*keys)[k].deferrable = DatumGetBool(SPI_getbinval(row, SPI_tuptable->tupdesc, 4, &isnull));
    (*qualified_names)[k] = SPI_getvalue(row, SPI_tuptable->tupdesc, 5);
  }
  return count;
}

// FirstRowWithKey finds an archive row of target whose data has the key (for messages).
char* FirstRowWithKey(Restore* restore, Target* target, const char* key) {
  char* query = psprintf("SELECT a.id FROM %s a WHERE a.id OPERATOR(pg_catalog.=) ANY ($1) AND a.data OPERATOR(pg_catalog.?) $2 ORDER BY a.id LIMIT 1",
                         restore->archive_name);
  Oid types[2] = {UUIDARRAYOID, TEXTOID};
  Datum values[2] = {UuidArray(target->pending, target->pending_count), CStringGetTextDatum(key)};
  RunQuery(query, 2, types, values, true, SPI_OK_SELECT);
  return SPI_processed > 0 ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : pstrdup("?");
}

// ---- running the inserts ------------------------------------------------------------------

// InsertStatement is the set-based INSERT of a step; skip mode matches inserted rows back to
// archive rows by the target's identifying columns and returns the archive ids restored.
char* InsertStatement(Restore* restore, Target* target, const boundary::RestoreStepPlan* step, bool skip) {
  StringInfoData columns, selected;
  initStringInfo(&columns);
  initStringInfo(&selected);
  for (int i = 0; i < step->column_count; ++i) {
    const char* name = quote_identifier(target->columns[step->columns[i]].name);
    appendStringInfo(&columns, "%s%s", i > 0 ? ", " : "", name);
    appendStringInfo(&selected, "%sr.%s", i > 0 ? ", " : "", name);
  }
  const char* overriding = step->overriding_system_value ? " OVERRIDING SYSTEM VALUE" : "";
  if (!skip)
    return psprintf("INSERT INTO %s (%s)%s SELECT %s FROM pg_catalog.unnest($1) AS selected(id)"
                    " JOIN %s a ON a.id OPERATOR(pg_catalog.=) selected.id,"
                    " pg_catalog.jsonb_populate_record(NULL::%s, %s) r",
                    target->qualified, columns.data, overriding, selected.data, restore->archive_name, target->rowtype,
                    restore->data);
  // One archive row per key value: rows with the same key in one call would conflict with each
  // other (the earliest archive row is kept). Rows whose key has a NULL never conflict.
  StringInfoData any_null, keys, returning, match;
  initStringInfo(&any_null);
  initStringInfo(&keys);
  initStringInfo(&returning);
  initStringInfo(&match);
  for (int i = 0; i < target->match_count; ++i) {
    const char* name = quote_identifier(target->match_columns[i]);
    appendStringInfo(&any_null, "%ss.%s IS NULL", i > 0 ? " OR " : "", name);
    appendStringInfo(&keys, "%ss.%s", i > 0 ? ", " : "", name);
    appendStringInfo(&returning, "%s%s", i > 0 ? ", " : "", name);
    appendStringInfo(&match, "%sc.%s IS NOT DISTINCT FROM i.%s", i > 0 ? " AND " : "", name, name);
  }
  return psprintf(
      "WITH src AS MATERIALIZED (SELECT a.id AS \"deleted_record archive id\", r.*"
      "                            FROM pg_catalog.unnest($1) AS selected(id) JOIN %s a ON a.id OPERATOR(pg_catalog.=) selected.id,"
      "                                 pg_catalog.jsonb_populate_record(NULL::%s, %s) r),"
      " chosen AS MATERIALIZED (SELECT s.* FROM src s WHERE %s"
      "                         UNION ALL"
      "                         (SELECT DISTINCT ON (%s) s.* FROM src s WHERE NOT (%s)"
      "                           ORDER BY %s, s.\"deleted_record archive id\")),"
      " ins AS (INSERT INTO %s (%s)%s SELECT %s FROM chosen r ON CONFLICT DO NOTHING RETURNING %s)"
      " SELECT c.\"deleted_record archive id\" FROM chosen c JOIN ins i ON %s",
      restore->archive_name, target->rowtype, restore->data, any_null.data, keys.data, any_null.data, keys.data, target->qualified,
      columns.data, overriding, selected.data, returning.data, match.data);
}

// CheckDeferred checks the pending events of the deferrable constraints named (SET
// CONSTRAINTS ... IMMEDIATE) in a subtransaction that is always rolled back: the events then
// count as not fired again and the constraints keep the mode the caller gave them, so nothing
// of the caller's transaction changes. A failing check is raised.
void SetImmediate(void* names) {
  char* command = psprintf("SET CONSTRAINTS %s IMMEDIATE", static_cast<const char*>(names));
  if (SPI_execute(command, false, 0) != SPI_OK_UTILITY) elog(ERROR, "deleted_record: %s failed", command);
}

void CheckDeferred(const char* names) {
  if (names == nullptr) return;
  ErrorData* failure = InSubtransaction(SetImmediate, const_cast<char*>(names), false);
  if (failure != nullptr) ReThrowError(failure);
}

struct InsertWork {
  const char* statement;
  Datum* ids;
  int count;
  const char* check;  // deferrable constraints to check after the INSERT, or null
  uint64 processed;
  SPITupleTable* rows;
};

void RunInsert(void* arg) {
  InsertWork* work = static_cast<InsertWork*>(arg);
  Oid types[1] = {UUIDARRAYOID};
  Datum values[1] = {UuidArray(work->ids, work->count)};
  int result = SPI_execute_with_args(work->statement, 1, types, values, nullptr, false, 0);
  if (result < 0) elog(ERROR, "deleted_record: restore statement failed (%s)", SPI_result_code_string(result));
  work->processed = SPI_processed;
  work->rows = SPI_tuptable;
  CheckDeferred(work->check);
}

// TryInsert runs statement over ids in a subtransaction; on failure it rolls back and returns
// the error (copied), else null. When keep is false the subtransaction is rolled back anyway.
// check names deferrable constraints whose events are checked before the INSERT counts.
ErrorData* TryInsert(const char* statement, Datum* ids, int count, bool keep, uint64* processed, SPITupleTable** rows,
                     const char* check = nullptr) {
  InsertWork work = {statement, ids, count, check, 0, nullptr};
  ErrorData* failure = InSubtransaction(RunInsert, &work, keep);
  if (failure == nullptr) {
    if (processed != nullptr) *processed = work.processed;
    if (rows != nullptr) *rows = work.rows;
  }
  return failure;
}

// CulpritRow narrows a failing set of archive rows down to one that fails on its own.
int CulpritRow(const char* statement, Datum* ids, int count) {
  int low = 0, high = count;  // the failing range [low, high)
  while (high - low > 1) {
    int middle = low + (high - low) / 2;
    if (TryInsert(statement, ids + low, middle - low, false, nullptr, nullptr) != nullptr)
      high = middle;
    else if (TryInsert(statement, ids + middle, high - middle, false, nullptr, nullptr) != nullptr)
      low = middle;
    else
      return -1;  // only rows together fail (two archive rows with one key, say)
  }
  return TryInsert(statement, ids + low, 1, false, nullptr, nullptr) != nullptr ? low : -1;
}

// CulpritColumn finds the column whose archived value no longer converts to its type.
const char* CulpritColumn(Restore* restore, Target* target, const boundary::RestoreStepPlan* step, Datum id) {
  for (int i = 0; i < step->column_count; ++i) {
    const char* name = target->columns[step->columns[i]].name;
    char* probe = psprintf("SELECT r.%s FROM %s a, pg_catalog.jsonb_populate_record(NULL::%s,"
                           " pg_catalog.jsonb_build_object(%s, a.data OPERATOR(pg_catalog.->) %s)) r WHERE a.id OPERATOR(pg_catalog.=) ANY ($1)",
                           quote_identifier(name), restore->archive_name, target->rowtype, quote_literal_cstr(name),
                           quote_literal_cstr(name));
    if (TryInsert(probe, &id, 1, false, nullptr, nullptr) != nullptr) return name;
  }
  return nullptr;
}

char* ArchivedValue(Restore* restore, Datum id, const char* column) {
  char* query = psprintf("SELECT a.data OPERATOR(pg_catalog.->>) $2 FROM %s a WHERE a.id OPERATOR(pg_catalog.=) $1", restore->archive_name);
  Oid types[2] = {UUIDOID, TEXTOID};
  Datum values[2] = {id, CStringGetTextDatum(column)};
  RunQuery(query, 2, types, values, true, SPI_OK_SELECT);
  char* value = SPI_processed > 0 ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : nullptr;
  return value != nullptr ? value : pstrdup("NULL");
}

void FailRestoreRow(Restore* restore, Target* target, const boundary::RestoreStepPlan* step, int culprit,
                    ErrorData* failure);

// FailRestore raises the error of a failed INSERT, naming the archive row (and for a value that
// no longer converts, the column and value) that causes it.
void FailRestore(Restore* restore, Target* target, const boundary::RestoreStepPlan* step, const char* statement,
                 ErrorData* failure) {
  int culprit = CulpritRow(statement, target->pending, target->pending_count);
  if (culprit < 0)
    ereport(ERROR, (errcode(failure->sqlerrcode),
                    errmsg("cannot restore the archive rows of table %s together: %s", target->qualified, failure->message),
                    failure->detail != nullptr ? errdetail("%s", failure->detail) : 0,
                    errhint("Two of the selected archive rows conflict with each other, or only together break a "
                            "constraint. Nothing was restored.")));
  FailRestoreRow(restore, target, step, culprit, failure);
}

// FailRestoreRow raises the error of archive row target->pending[culprit].
void FailRestoreRow(Restore* restore, Target* target, const boundary::RestoreStepPlan* step, int culprit,
                    ErrorData* failure) {
  Datum id = target->pending[culprit];
  Candidate* candidate = &restore->candidates[target->pending_candidates[culprit]];
  const char* column = ERRCODE_TO_CATEGORY(failure->sqlerrcode) == ERRCODE_DATA_EXCEPTION
                           ? CulpritColumn(restore, target, step, id)
                           : nullptr;
  if (column != nullptr)
    ereport(ERROR, (errcode(failure->sqlerrcode),
                    errmsg("cannot restore archive row %s into table %s: column \"%s\" cannot take the archived value %s",
                           UuidText(id), target->qualified, column, quote_literal_cstr(ArchivedValue(restore, id, column))),
                    errdetail("%s", failure->message), errhint("Nothing was restored.")));
  ereport(ERROR, (errcode(failure->sqlerrcode),
                  errmsg("cannot restore archive row %s (object_id %s) into table %s: %s", UuidText(id),
                         candidate->object_id != nullptr ? candidate->object_id : "NULL", target->qualified,
                         failure->message),
                  failure->detail != nullptr ? errdetail("%s", failure->detail) : 0,
                  failure->constraint_name != nullptr && restore->policy == ConflictPolicy::kError &&
                          (failure->sqlerrcode == ERRCODE_UNIQUE_VIOLATION || failure->sqlerrcode == ERRCODE_EXCLUSION_VIOLATION)
                      ? errhint("It conflicts with constraint \"%s\"; on_conflict => 'skip' leaves such rows in the "
                                "archive. Nothing was restored.",
                                failure->constraint_name)
                  : failure->constraint_name != nullptr
                      ? errhint("It breaks constraint \"%s\". Nothing was restored.", failure->constraint_name)
                      : errhint("Nothing was restored.")));
}

// ViolationOnTarget tells a conflict with the target table's own key (or a partition's) from one
// raised elsewhere, say by a trigger writing to another table: only the first means skipped.
bool ViolationOnTarget(const Target* target, const ErrorData* failure) {
  if (failure->schema_name == nullptr || failure->table_name == nullptr) return true;
  Oid namespace_oid = get_namespace_oid(failure->schema_name, true);
  Oid relid = OidIsValid(namespace_oid) ? get_relname_relid(failure->table_name, namespace_oid) : InvalidOid;
  if (!OidIsValid(relid)) return false;
  if (relid == target->relid) return true;
  return list_member_oid(find_all_inheritors(target->relid, NoLock, nullptr), relid);
}

// RunStepRowByRow is skip mode for tables where inserted rows cannot be matched back to archive
// rows by their key: a BEFORE INSERT trigger may change the key, the unique indexes have
// expressions or predicates, or one is deferrable (no arbiter of ON CONFLICT). Each archive row
// is inserted on its own, in a subtransaction: inserted means restored, a unique or exclusion
// violation (checked at once, deferred ones too) means skipped, any other error fails the
// restore naming the row.
void RunStepRowByRow(Restore* restore, Target* target, const boundary::RestoreStepPlan* step) {
  char* statement = InsertStatement(restore, target, step, false);
  for (int i = 0; i < target->pending_count; ++i) {
    Candidate* candidate = &restore->candidates[target->pending_candidates[i]];
    uint64 processed = 0;
    ErrorData* failure = TryInsert(statement, &target->pending[i], 1, true, &processed, nullptr,
                                   restore->immediate ? nullptr : restore->deferrable);
    if (failure == nullptr) {
      candidate->outcome = processed == 1 ? Outcome::kRestored : Outcome::kSkipped;
      candidate->detail =
          processed == 1 ? nullptr : psprintf("a BEFORE INSERT trigger or rule of %s kept it out", target->qualified);
      continue;
    }
    if ((failure->sqlerrcode == ERRCODE_UNIQUE_VIOLATION || failure->sqlerrcode == ERRCODE_EXCLUSION_VIOLATION) &&
        ViolationOnTarget(target, failure)) {
      candidate->outcome = Outcome::kSkipped;
      candidate->detail = psprintf("a live row of %s, or another selected archive row, has the same key (%s)",
                                   target->qualified, failure->detail != nullptr ? failure->detail : failure->message);
      continue;
    }
    FailRestoreRow(restore, target, step, i, failure);
  }
}

void RunStep(Restore* restore, const boundary::RestoreStepPlan* step) {
  Target* target = &restore->targets[step->table];
  if (target->pending_count == 0) return;
  bool skip = restore->policy == ConflictPolicy::kSkip && target->has_unique;
  if (skip && target->per_row) {
    RunStepRowByRow(restore, target, step);
    return;
  }
  char* statement = InsertStatement(restore, target, step, skip);
  uint64 processed = 0;
  SPITupleTable* rows = nullptr;
  ErrorData* failure = TryInsert(statement, target->pending, target->pending_count, true, &processed, &rows);
  if (failure != nullptr) FailRestore(restore, target, step, statement, failure);
  if (!skip) {
    if (processed != static_cast<uint64>(target->pending_count))
      ereport(ERROR, (errcode(ERRCODE_TRIGGERED_DATA_CHANGE_VIOLATION),
                      errmsg("only %llu of %d archive rows were inserted into table %s",
                             static_cast<unsigned long long>(processed), target->pending_count, target->qualified),
                      errdetail("A BEFORE INSERT trigger or rule of the table kept the others out."),
                      errhint("Nothing was restored.")));
    return;
  }
  // Skip mode: the archive rows not returned were left out (a live row, or another selected
  // archive row, has their key).
  for (int i = 0; i < target->pending_count; ++i) restore->candidates[target->pending_candidates[i]].outcome = Outcome::kSkipped;
  for (uint64 r = 0; r < processed; ++r) {
    bool isnull = false;
    Datum id = SPI_getbinval(rows->vals[r], rows->tupdesc, 1, &isnull);
    for (int i = 0; i < target->pending_count; ++i)
      if (memcmp(DatumGetUUIDP(id)->data, DatumGetUUIDP(target->pending[i])->data, UUID_LEN) == 0)
        restore->candidates[target->pending_candidates[i]].outcome = Outcome::kRestored;
  }
  for (int i = 0; i < target->pending_count; ++i) {
    Candidate* candidate = &restore->candidates[target->pending_candidates[i]];
    if (candidate->outcome == Outcome::kSkipped)
      candidate->detail = psprintf("a live row of %s, or another selected archive row, has the same key", target->qualified);
  }
}

// SetConstraints defers (or checks again) the foreign keys of a cycle between restored tables.
void SetConstraints(char** names, const int* keys, int count, const char* mode) {
  if (count == 0) return;
  StringInfoData command;
  initStringInfo(&command);
  appendStringInfoString(&command, "SET CONSTRAINTS ");
  for (int i = 0; i < count; ++i) appendStringInfo(&command, "%s%s", i > 0 ? ", " : "", names[keys[i]]);
  appendStringInfo(&command, " %s", mode);
  if (SPI_execute(command.data, false, 0) != SPI_OK_UTILITY) elog(ERROR, "deleted_record: %s failed", command.data);
}

// MarkRestored records restored_at/restored_by on the archive rows restored, as the owner.
void MarkRestored(Restore* restore) {
  int count = 0;
  Datum* ids = static_cast<Datum*>(palloc(sizeof(Datum) * Max(restore->candidate_count, 1)));
  for (int i = 0; i < restore->candidate_count; ++i)
    if (restore->candidates[i].outcome == Outcome::kRestored) ids[count++] = restore->candidates[i].id;
  if (count == 0) return;
  char* query = psprintf("UPDATE %s a SET restored_at = pg_catalog.now(), restored_by = $2"
                         "  FROM pg_catalog.unnest($1) AS selected(id) WHERE a.id OPERATOR(pg_catalog.=) selected.id",
                         restore->archive_name);
  Oid types[2] = {UUIDARRAYOID, TEXTOID};
  Datum values[2] = {UuidArray(ids, count), CStringGetTextDatum(restore->role)};
  RunQueryAsOwner(restore, query, 2, types, values, SPI_OK_UPDATE);
}

// LockPending locks the archive rows about to be restored (as the owner: the caller needs no
// UPDATE privilege on the archive), in id order so that restorers of overlapping selections do
// not deadlock. A row another session is restoring is waited for; the locked rows are read
// again, so one it marked restored meanwhile is reported already restored, not restored twice.
void LockPending(Restore* restore) {
  int count = 0;
  Datum* ids = static_cast<Datum*>(palloc(sizeof(Datum) * Max(restore->candidate_count, 1)));
  for (int i = 0; i < restore->candidate_count; ++i)
    if (restore->candidates[i].outcome == Outcome::kRestored) ids[count++] = restore->candidates[i].id;
  if (count == 0) return;
  char* query = psprintf(
      "SELECT a.id, pg_catalog.to_char(pg_catalog.timezone('UTC', a.restored_at), 'YYYY-MM-DD HH24:MI:SS'), a.restored_by"
      "  FROM %s a WHERE a.id OPERATOR(pg_catalog.=) ANY ($1) ORDER BY a.id FOR UPDATE",
      restore->archive_name);
  Oid types[1] = {UUIDARRAYOID};
  Datum values[1] = {UuidArray(ids, count)};
  RunQueryAsOwner(restore, query, 1, types, values, SPI_OK_SELECT);
  bool changed = false;
  for (uint64 r = 0; r < SPI_processed; ++r) {
    HeapTuple row = SPI_tuptable->vals[r];
    char* restored_at = SPI_getvalue(row, SPI_tuptable->tupdesc, 2);
    if (restored_at == nullptr) continue;
    bool isnull = false;
    Datum id = SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull);
    char* restored_by = SPI_getvalue(row, SPI_tuptable->tupdesc, 3);
    for (int i = 0; i < restore->candidate_count; ++i) {
      Candidate* candidate = &restore->candidates[i];
      if (memcmp(DatumGetUUIDP(id)->data, DatumGetUUIDP(candidate->id)->data, UUID_LEN) != 0) continue;
      candidate->outcome = Outcome::kAlreadyRestored;
      candidate->detail = psprintf("restored at %s UTC by %s", restored_at, restored_by != nullptr ? restored_by : "?");
      changed = true;
    }
  }
  if (!changed) return;
  for (int t = 0; t < restore->target_count; ++t) restore->targets[t].pending_count = 0;
  for (int i = 0; i < restore->candidate_count; ++i)
    if (restore->candidates[i].outcome == Outcome::kRestored)
      AddPending(&restore->targets[restore->candidates[i].target], restore->candidates[i].id, i);
}

// DeferrableConstraints lists the deferrable constraints of the tables restored into, for SET
// CONSTRAINTS (schema-qualified), or null when there are none, or when the caller's transaction
// already has checks pending on one of those tables (or its partitions): checking early would
// check the caller's rows too, so then everything is checked at COMMIT, as the caller chose.
char* DeferrableConstraints(Restore* restore) {
  int count = 0;
  Datum* relids = static_cast<Datum*>(palloc(sizeof(Datum) * Max(restore->target_count, 1)));
  for (int t = 0; t < restore->target_count; ++t) {
    if (restore->targets[t].pending_count == 0) continue;
    relids[count++] = ObjectIdGetDatum(restore->targets[t].relid);
    List* relations = find_all_inheritors(restore->targets[t].relid, NoLock, nullptr);
    ListCell* cell;
    foreach (cell, relations)
      if (AfterTriggerPendingOnRel(lfirst_oid(cell))) return nullptr;
  }
  if (count == 0) return nullptr;
  Oid types[1] = {OIDARRAYOID};
  Datum values[1] = {PointerGetDatum(construct_array(relids, count, OIDOID, sizeof(Oid), true, TYPALIGN_INT))};
  RunQuery("SELECT pg_catalog.string_agg(DISTINCT pg_catalog.quote_ident(n.nspname::pg_catalog.text)"
           "         OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.conname::pg_catalog.text), ', ')"
           "  FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.connamespace"
           " WHERE c.condeferrable AND c.conrelid OPERATOR(pg_catalog.=) ANY ($1)",
           1, types, values, true, SPI_OK_SELECT);
  bool isnull = false;
  SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
  return isnull ? nullptr : SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

// Execute plans and runs the inserts (in a subtransaction rolled back at the end for a dry run).
void Execute(Restore* restore) {
  int planned = 0;
  int* target_of_index = static_cast<int*>(palloc(sizeof(int) * Max(restore->target_count, 1)));
  int* index_of_target = static_cast<int*>(palloc(sizeof(int) * Max(restore->target_count, 1)));
  for (int t = 0; t < restore->target_count; ++t) {
    Target* target = &restore->targets[t];
    if (target->pending_count == 0) continue;  // every row of it was restored before
    ResolveTarget(restore, target);
    LoadKeys(restore, target);
    index_of_target[planned] = t;
    target_of_index[t] = planned++;
  }
  if (planned == 0) return;
  restore->deferrable = DeferrableConstraints(restore);
  boundary::RestoreTableFacts* facts =
      static_cast<boundary::RestoreTableFacts*>(palloc0(sizeof(boundary::RestoreTableFacts) * planned));
  for (int p = 0; p < planned; ++p) {
    Target* target = &restore->targets[index_of_target[p]];
    auto* columns = static_cast<boundary::RestoreColumnFacts*>(palloc(sizeof(boundary::RestoreColumnFacts) * Max(target->column_count, 1)));
    for (int c = 0; c < target->column_count; ++c)
      columns[c] = {target->columns[c].name, target->columns[c].generated, target->columns[c].identity};
    // masked => 'null': masked keys are no problem; their columns get NULL (restore->data).
    int masked_count = restore->masked == MaskedPolicy::kNull ? 0 : target->masked_key_count;
    facts[p] = {target->qualified, target->column_count, columns,
                {target->data_key_count, target->data_keys}, {masked_count, target->masked_keys}};
  }
  boundary::RestoreKeyFacts* keys = nullptr;
  char** key_names = nullptr;
  int key_count = ForeignKeys(restore, target_of_index, &keys, &key_names);
  // Keys between tables without rows to restore did not get an index; drop them from the facts.
  int kept = 0;
  for (int k = 0; k < key_count; ++k) {
    bool from_planned = false, to_planned = false;
    for (int t = 0; t < restore->target_count; ++t) {
      if (restore->targets[t].pending_count == 0) continue;
      from_planned |= restore->targets[t].relid != InvalidOid && target_of_index[t] == keys[k].from;
      to_planned |= restore->targets[t].relid != InvalidOid && target_of_index[t] == keys[k].to;
    }
    if (from_planned && to_planned) {
      keys[kept] = keys[k];
      key_names[kept++] = key_names[k];
    }
  }
  key_count = kept;

  boundary::RestorePlanResult plan;
  boundary::Verdict verdict = boundary::PlanRestore(facts, planned, keys, key_count, &plan);
  if (!verdict.ok) {
    // Copy out what the message needs before the core's memory is released.
    int problem_table = plan.problem_table;
    char* problem_column = pstrdup(plan.problem_column);
    boundary::FreeRestorePlan(&plan);
    Target* target = problem_table >= 0 ? &restore->targets[index_of_target[problem_table]] : nullptr;
    if (target != nullptr && problem_column[0] != '\0')
      ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                      errmsg("cannot restore archive row %s: %s", FirstRowWithKey(restore, target, problem_column),
                             verdict.message),
                      errhint("Nothing was restored.")));
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("cannot restore these archive rows: %s", verdict.message), errhint("Nothing was restored.")));
  }
  // Copy the plan into palloc'd memory, so that no error below can leak the core's allocation.
  int step_count = plan.step_count;
  boundary::RestoreStepPlan* steps =
      static_cast<boundary::RestoreStepPlan*>(palloc0(sizeof(boundary::RestoreStepPlan) * Max(step_count, 1)));
  for (int s = 0; s < step_count; ++s) {
    steps[s] = plan.steps[s];
    steps[s].table = index_of_target[plan.steps[s].table];
    steps[s].columns = static_cast<int*>(palloc(sizeof(int) * Max(plan.steps[s].column_count, 1)));
    memcpy(steps[s].columns, plan.steps[s].columns, sizeof(int) * plan.steps[s].column_count);
  }
  int deferred_count = plan.deferred_count;
  int* deferred = static_cast<int*>(palloc(sizeof(int) * Max(deferred_count, 1)));
  memcpy(deferred, plan.deferred_keys, sizeof(int) * deferred_count);
  boundary::FreeRestorePlan(&plan);

  // Immediate mode (a dry run, or naming a culprit): deferrable constraints of the targets are
  // checked at each INSERT, so a failing row is found like any other.
  if (restore->immediate && restore->deferrable != nullptr) SetImmediate(restore->deferrable);
  SetConstraints(key_names, deferred, deferred_count, "DEFERRED");
  for (int s = 0; s < step_count; ++s) RunStep(restore, &steps[s]);
  SetConstraints(key_names, deferred, deferred_count, "IMMEDIATE");
  // Otherwise what the restore inserted is checked against them now, not only at COMMIT.
  if (!restore->immediate) CheckDeferred(restore->deferrable);
}

void ExecuteWork(void* restore) { Execute(static_cast<Restore*>(restore)); }

// DryRun runs Execute in a subtransaction that is always rolled back, also when it fails: its
// error is raised after the rollback, so the caller's transaction is left as it was found.
void DryRun(Restore* restore) {
  restore->immediate = true;
  ErrorData* failure = InSubtransaction(ExecuteWork, restore, false);
  if (failure != nullptr) ReThrowError(failure);
}

// RealRun runs Execute in a subtransaction kept when it succeeds. When it fails and deferrable
// constraints are involved, it runs again in immediate mode (rolled back) to name the archive
// row at fault; the first error is raised if that finds nothing.
void RealRun(Restore* restore) {
  restore->immediate = false;
  ErrorData* failure = InSubtransaction(ExecuteWork, restore, true);
  if (failure == nullptr) return;
  if (restore->deferrable != nullptr) {
    restore->immediate = true;
    ErrorData* named = InSubtransaction(ExecuteWork, restore, false);
    if (named != nullptr) ReThrowError(named);
  }
  ReThrowError(failure);
}

// EmitResults writes one result row per selected archive row.
void EmitResults(FunctionCallInfo fcinfo, Restore* restore) {
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* result = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (int i = 0; i < restore->candidate_count; ++i) {
    Candidate* candidate = &restore->candidates[i];
    Target* target = &restore->targets[candidate->target];
    Datum values[5];
    bool nulls[5] = {false, !OidIsValid(target->relid), candidate->object_id == nullptr, false, candidate->detail == nullptr};
    values[0] = candidate->id;
    values[1] = ObjectIdGetDatum(target->relid);
    values[2] = candidate->object_id != nullptr ? CStringGetTextDatum(candidate->object_id) : (Datum) 0;
    const char* outcome = "restored";
    switch (candidate->outcome) {
      case Outcome::kRestored: outcome = restore->dry_run ? "would restore" : "restored"; break;
      case Outcome::kSkipped: outcome = restore->dry_run ? "would skip" : "skipped"; break;
      case Outcome::kAlreadyRestored: outcome = "already restored"; break;
    }
    values[3] = CStringGetTextDatum(outcome);
    values[4] = candidate->detail != nullptr ? CStringGetTextDatum(candidate->detail) : (Datum) 0;
    if (!OidIsValid(target->relid)) {  // every row of it was restored before: name it if it exists
      Oid namespace_oid = get_namespace_oid(target->schema_name, true);
      Oid relid = OidIsValid(namespace_oid) ? get_relname_relid(target->table_name, namespace_oid) : InvalidOid;
      nulls[1] = !OidIsValid(relid);
      values[1] = ObjectIdGetDatum(relid);
    }
    tuplestore_putvalues(result->setResult, result->setDesc, values, nulls);
  }
}

// Run restores the selection inside one SPI session; the results are written before it ends,
// since everything read through SPI lives in its memory.
void Run(FunctionCallInfo fcinfo, Restore* restore, ArrayType* archive_ids) {
  LoadCandidates(restore, archive_ids);
  if (restore->dry_run)
    DryRun(restore);
  else {
    LockPending(restore);
    RealRun(restore);
    MarkRestored(restore);
  }
  EmitResults(fcinfo, restore);
}

void StartRestore(Restore* restore, text* on_conflict, bool dry_run, text* masked) {
  memset(restore, 0, sizeof(Restore));
  restore->masked = MaskedPolicy::kError;  // 1.1's entry points pass no masked
  char* masked_name = masked != nullptr ? text_to_cstring(masked) : nullptr;
  boundary::Verdict masked_verdict = {true, {}};
  if (masked_name != nullptr) masked_verdict = boundary::ParseMaskedPolicy(masked_name, &restore->masked);
  if (!masked_verdict.ok)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("deleted_record_restore: invalid masked value %s", quote_literal_cstr(masked_name)),
                    errhint("Allowed values are %s: 'null' restores masked columns as NULL.", kMaskedPolicyValues)));
  restore->data = restore->masked == MaskedPolicy::kNull
                      ? "(a.data OPERATOR(pg_catalog.-) COALESCE(a.masked_columns, '{}'::pg_catalog.text[]))"
                      : "a.data";
  char* policy_name = on_conflict != nullptr ? text_to_cstring(on_conflict) : nullptr;
  boundary::Verdict verdict = boundary::ParseConflictPolicy(policy_name, &restore->policy);
  if (!verdict.ok)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("deleted_record_restore: invalid on_conflict value %s",
                           policy_name != nullptr ? quote_literal_cstr(policy_name) : "NULL"),
                    errhint("Allowed values are %s.", kConflictPolicyValues)));
  restore->dry_run = dry_run;
  restore->archive = ResolveArchiveTable();
  restore->archive_name = quote_qualified_identifier(get_namespace_name(restore->archive->schema), "deleted_record");
  restore->role = GetUserNameFromId(GetUserId(), false);
}

}  // namespace

void RestoreArchiveRows(FunctionCallInfo fcinfo, ArrayType* archive_ids, text* on_conflict, bool dry_run, text* masked) {
  if (archive_ids == nullptr)
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("deleted_record_restore: archive_ids must not be NULL")));
  if (array_contains_nulls(archive_ids))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("deleted_record_restore: archive_ids must not contain NULL")));
  Restore restore;
  StartRestore(&restore, on_conflict, dry_run, masked);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "deleted_record: SPI_connect failed");
  Run(fcinfo, &restore, archive_ids);
  SPI_finish();
}

void RestoreArchiveRows(FunctionCallInfo fcinfo, ArrayType* archive_ids, text* on_conflict, bool dry_run) {
  RestoreArchiveRows(fcinfo, archive_ids, on_conflict, dry_run, nullptr);
}

namespace {

// TransactionRows selects the archive rows of one deleting transaction, named by its xact_key
// (unique across clusters and time), or by a decimal xact_id, which repeats across clusters: an
// xact_id whose rows carry more than one key is an error listing them. Returns the ids.
Datum TransactionRows(Restore* restore, const char* xact) {
  const char* p = xact;
  while (*p == ' ') ++p;
  bool decimal = *p != '\0';
  for (const char* q = p; *q != '\0'; ++q)
    if (*q < '0' || *q > '9') decimal = false;
  char* query;
  Oid types[1];
  Datum values[1];
  if (decimal) {
    // xid8's text form and a bigint read the same; one beyond bigint names no archive row.
    errno = 0;
    char* end = nullptr;
    unsigned long long parsed = strtoull(p, &end, 10);
    if (errno != 0 || parsed > static_cast<unsigned long long>(PG_INT64_MAX))
      ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
                      errmsg("deleted_record_restore_transaction: no archive rows of transaction %s, or you cannot see them", p)));
    types[0] = INT8OID;
    values[0] = Int64GetDatum(static_cast<int64>(parsed));
    query = psprintf("SELECT a.xact_key, pg_catalog.to_char(pg_catalog.timezone('UTC', pg_catalog.min(a.deleted_at)), 'YYYY-MM-DD HH24:MI:SS'),"
                     "       pg_catalog.array_agg(a.id ORDER BY a.id)"
                     "  FROM %s a WHERE a.xact_id OPERATOR(pg_catalog.=) $1 GROUP BY a.xact_key ORDER BY 2, 1",
                     restore->archive_name);
  } else {
    types[0] = TEXTOID;
    values[0] = CStringGetTextDatum(xact);
    query = psprintf("SELECT a.xact_key, pg_catalog.to_char(pg_catalog.timezone('UTC', pg_catalog.min(a.deleted_at)), 'YYYY-MM-DD HH24:MI:SS'),"
                     "       pg_catalog.array_agg(a.id ORDER BY a.id)"
                     "  FROM %s a WHERE a.xact_key OPERATOR(pg_catalog.=) $1 GROUP BY a.xact_key",
                     restore->archive_name);
  }
  RunQuery(query, 1, types, values, true, SPI_OK_SELECT);
  if (SPI_processed == 0)
    ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
                    errmsg("deleted_record_restore_transaction: no archive rows of transaction %s, or you cannot see them",
                           quote_literal_cstr(xact))));
  if (SPI_processed > 1) {
    StringInfoData candidates;
    initStringInfo(&candidates);
    for (uint64 r = 0; r < SPI_processed; ++r) {
      char* key = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1);
      appendStringInfo(&candidates, "%sdeleted at %s UTC: xact_key %s", r > 0 ? "; " : "",
                       SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2),
                       key != nullptr ? quote_literal_cstr(key) : "NULL (archived by 1.1: restore its rows by id)");
    }
    ereport(ERROR, (errcode(ERRCODE_AMBIGUOUS_PARAMETER),
                    errmsg("deleted_record_restore_transaction: xact_id %s names %llu deleting transactions", p,
                           static_cast<unsigned long long>(SPI_processed)),
                    errdetail("Candidates: %s.", candidates.data),
                    errhint("xact_id repeats across clusters (a dump restored elsewhere); pass the xact_key of the one "
                            "to restore. Nothing was restored.")));
  }
  bool isnull = false;
  Datum ids = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
  return PointerGetDatum(DatumGetArrayTypePCopy(ids));
}

}  // namespace

void RestoreTransactionByText(FunctionCallInfo fcinfo, const char* xact, text* on_conflict, bool dry_run, text* masked) {
  Restore restore;
  StartRestore(&restore, on_conflict, dry_run, masked);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "deleted_record: SPI_connect failed");
  Datum ids = TransactionRows(&restore, xact);
  Run(fcinfo, &restore, DatumGetArrayTypeP(ids));
  SPI_finish();
}

void RestoreTransaction(FunctionCallInfo fcinfo, int64 xact_id, text* on_conflict, bool dry_run) {
  RestoreTransactionByText(fcinfo, psprintf(INT64_FORMAT, xact_id), on_conflict, dry_run, nullptr);
}

}  // namespace deleted_record::glue

// ---- entry points of 1.2 (1.1's, without masked, stay in entry_points.cpp) -----------------

using deleted_record::glue::RestoreArchiveRows;
using deleted_record::glue::RestoreTransactionByText;

extern "C" {
PG_FUNCTION_INFO_V1(deleted_record_restore_masked);
PG_FUNCTION_INFO_V1(deleted_record_restore_transaction_masked);
PG_FUNCTION_INFO_V1(deleted_record_restore_transaction_xid8_masked);
PG_FUNCTION_INFO_V1(deleted_record_restore_transaction_text);
}

namespace {

// NeedArgument raises the error for a NULL argument that must not be.
void NeedArgument(FunctionCallInfo fcinfo, int argument, const char* function, const char* name) {
  if (PG_ARGISNULL(argument))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s: %s must not be NULL", function, name)));
}

text* OptionalText(FunctionCallInfo fcinfo, int argument) {
  return PG_NARGS() > argument && !PG_ARGISNULL(argument) ? PG_GETARG_TEXT_PP(argument) : nullptr;
}

Datum TransactionEntry(FunctionCallInfo fcinfo, const char* xact) {
  NeedArgument(fcinfo, 2, "deleted_record_restore_transaction", "dry_run");
  NeedArgument(fcinfo, 3, "deleted_record_restore_transaction", "masked");
  RestoreTransactionByText(fcinfo, xact, OptionalText(fcinfo, 1), PG_GETARG_BOOL(2), OptionalText(fcinfo, 3));
  return (Datum) 0;
}

}  // namespace

// deleted_record_restore(archive_ids uuid[], on_conflict text, dry_run boolean, masked text).
extern "C" Datum deleted_record_restore_masked(PG_FUNCTION_ARGS) {
  NeedArgument(fcinfo, 2, "deleted_record_restore", "dry_run");
  NeedArgument(fcinfo, 3, "deleted_record_restore", "masked");
  RestoreArchiveRows(fcinfo, PG_ARGISNULL(0) ? nullptr : PG_GETARG_ARRAYTYPE_P(0), OptionalText(fcinfo, 1),
                     PG_GETARG_BOOL(2), OptionalText(fcinfo, 3));
  return (Datum) 0;
}

// deleted_record_restore_transaction(xact bigint, on_conflict, dry_run, masked).
extern "C" Datum deleted_record_restore_transaction_masked(PG_FUNCTION_ARGS) {
  NeedArgument(fcinfo, 0, "deleted_record_restore_transaction", "xact");
  return TransactionEntry(fcinfo, psprintf(INT64_FORMAT, PG_GETARG_INT64(0)));
}

// deleted_record_restore_transaction(xact xid8, ...): pg_current_xact_id() values.
extern "C" Datum deleted_record_restore_transaction_xid8_masked(PG_FUNCTION_ARGS) {
  NeedArgument(fcinfo, 0, "deleted_record_restore_transaction", "xact");
  return TransactionEntry(fcinfo, psprintf(UINT64_FORMAT, U64FromFullTransactionId(PG_GETARG_FULLTRANSACTIONID(0))));
}

// deleted_record_restore_transaction(xact text, ...): an xact_key, or a decimal xact_id.
extern "C" Datum deleted_record_restore_transaction_text(PG_FUNCTION_ARGS) {
  NeedArgument(fcinfo, 0, "deleted_record_restore_transaction", "xact");
  return TransactionEntry(fcinfo, text_to_cstring(PG_GETARG_TEXT_PP(0)));
}
