// The selection: the archive rows a restore was asked for, read as the caller (SELECT on the
// archive and its row-level security apply), locked before they are restored, and their keys.
#include "glue/archive_table.hpp"
#include "glue/restore/restore_state.hpp"

namespace deleted_record::glue::restore {

namespace {

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

}  // namespace

// LoadCandidates reads the selected archive rows (each id once, in the order given) as the
// caller: a row the caller cannot see is an error, like one that does not exist.
void LoadCandidates(Restore* restore, ArrayType* archive_ids) {
  // The archive rows are read in one pass (ArchiveIdsOf), then matched to the ids given.
  ArchiveIds selected = ArchiveIdsOf("a", "$1", archive_ids);
  char* query = psprintf(
      "WITH a AS MATERIALIZED (SELECT %s a.id, a.schema_name, a.table_name, a.object_id, a.restored_at, a.restored_by"
      "                          FROM %s a%s WHERE %s)"
      "SELECT s.id, a.schema_name, a.table_name, a.object_id,"
      "       pg_catalog.to_char(pg_catalog.timezone('UTC', a.restored_at), 'YYYY-MM-DD HH24:MI:SS') OPERATOR(pg_catalog.||) ' UTC',"
      "       a.restored_by,"
      "       a.id IS NOT NULL AS found"
      "  FROM (SELECT DISTINCT ON (u.id) u.id, u.n FROM pg_catalog.unnest($1) WITH ORDINALITY u(id, n)"
      "         ORDER BY u.id, u.n) s"
      "  LEFT JOIN a ON a.id OPERATOR(pg_catalog.=) s.id"
      " ORDER BY s.n",
      // (the joined form meets an id given twice twice)
      selected.from[0] != '\0' ? "DISTINCT ON (a.id)" : "", restore->archive_name, selected.from, selected.where);
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

// CompareCandidates orders positions in restore->candidates (the Restore passed as arg) by id.
static int CompareCandidates(const void* a, const void* b, void* arg) {
  const Restore* restore = static_cast<const Restore*>(arg);
  return memcmp(DatumGetUUIDP(restore->candidates[*static_cast<const int*>(a)].id)->data,
                DatumGetUUIDP(restore->candidates[*static_cast<const int*>(b)].id)->data, UUID_LEN);
}

// RowIdAt is the uuid in the first column of row r of the SPI result.
static const unsigned char* RowIdAt(uint64 r) {
  bool isnull = false;
  return DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull))->data;
}

// LockPending locks the archive rows about to be restored (as the owner: the caller needs no
// UPDATE privilege on the archive), in id order so that restorers of overlapping selections do
// not deadlock. A row another session is restoring is waited for; the locked rows are read
// again, so one it marked restored meanwhile is reported already restored, not restored twice,
// and one erased or purged meanwhile (the locking read skips it) is an error, as if it had never
// existed: else its table's INSERT would find fewer rows than it was given.
void LockPending(Restore* restore) {
  int count = 0;
  Datum* ids = RestoredIds(restore, &count);
  if (count == 0) return;
  ArchiveIds rows = ArchiveIdsOf("a", "$1", count);
  char* query = psprintf(
      "SELECT a.id, pg_catalog.to_char(pg_catalog.timezone('UTC', a.restored_at), 'YYYY-MM-DD HH24:MI:SS'), a.restored_by"
      "  FROM %s a%s WHERE %s ORDER BY a.id FOR UPDATE OF a",
      restore->archive_name, rows.from, rows.where);
  Oid types[1] = {UUIDARRAYOID};
  Datum values[1] = {UuidArray(ids, count)};
  RunQueryAsOwner(restore, query, 1, types, values, SPI_OK_SELECT);
  // The rows come in id order (uuid order is byte order): each id is looked up by binary search
  // (comparing every pair cost the square of the ids, review 7 #04).
  uint64 locked_count = SPI_processed;
  if (locked_count < static_cast<uint64>(count)) {
    for (int i = 0; i < count; ++i) {
      CHECK_FOR_INTERRUPTS();
      const unsigned char* wanted = DatumGetUUIDP(ids[i])->data;
      uint64 low = 0, high = locked_count;  // the first row id >= wanted is in [low, high]
      while (low < high) {
        uint64 middle = low + (high - low) / 2;
        if (memcmp(RowIdAt(middle), wanted, UUID_LEN) < 0)
          low = middle + 1;
        else
          high = middle;
      }
      if (low >= locked_count || memcmp(RowIdAt(low), wanted, UUID_LEN) != 0)
        ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
                        errmsg("deleted_record_restore: archive row %s does not exist, or you cannot see it",
                               UuidText(ids[i])),
                        errdetail("Another session erased or purged it while this restore waited for it."),
                        errhint("Nothing was restored.")));
    }
  }
  // Candidates sorted by id, for the rows marked restored meanwhile.
  int* order = static_cast<int*>(palloc(sizeof(int) * Max(restore->candidate_count, 1)));
  for (int i = 0; i < restore->candidate_count; ++i) order[i] = i;
  qsort_arg(order, restore->candidate_count, sizeof(int), CompareCandidates, restore);
  bool changed = false;
  for (uint64 r = 0; r < locked_count; ++r) {
    CHECK_FOR_INTERRUPTS();
    HeapTuple row = SPI_tuptable->vals[r];
    char* restored_at = SPI_getvalue(row, SPI_tuptable->tupdesc, 2);
    if (restored_at == nullptr) continue;
    const unsigned char* id = RowIdAt(r);
    char* restored_by = SPI_getvalue(row, SPI_tuptable->tupdesc, 3);
    int low = 0, high = restore->candidate_count;  // the first candidate id >= id is in [low, high]
    while (low < high) {
      int middle = low + (high - low) / 2;
      if (memcmp(DatumGetUUIDP(restore->candidates[order[middle]].id)->data, id, UUID_LEN) < 0)
        low = middle + 1;
      else
        high = middle;
    }
    for (int k = low; k < restore->candidate_count; ++k) {
      Candidate* candidate = &restore->candidates[order[k]];
      if (memcmp(DatumGetUUIDP(candidate->id)->data, id, UUID_LEN) != 0) break;
      candidate->outcome = Outcome::kAlreadyRestored;
      candidate->detail = psprintf("restored at %s UTC by %s", restored_at, restored_by != nullptr ? restored_by : "?");
      changed = true;
    }
  }
  pfree(order);
  if (!changed) return;
  for (int t = 0; t < restore->target_count; ++t) restore->targets[t].pending_count = 0;
  for (int i = 0; i < restore->candidate_count; ++i)
    if (restore->candidates[i].outcome == Outcome::kRestored)
      AddPending(&restore->targets[restore->candidates[i].target], restore->candidates[i].id, i);
}

// LoadKeys reads which keys the archived rows' data holds, and which were masked, into the
// target's plan. One pass checks each of the table's columns with jsonb's key test and whether
// anything else is there; only then (a column dropped since, or masked values) are the keys
// listed one by one.
void LoadKeys(Restore* restore, Target* target) {
  boundary::RestoreTablePlan* plan = target->plan;
  Oid types[2] = {UUIDARRAYOID, TEXTARRAYOID};
  Datum* names = static_cast<Datum*>(palloc(sizeof(Datum) * Max(plan->column_count, 1)));
  ArchiveIds rows = ArchiveIdsOf("a", "$1", target->pending_count);
  StringInfoData checks;
  initStringInfo(&checks);
  for (int c = 0; c < plan->column_count; ++c) {
    names[c] = CStringGetTextDatum(plan->columns[c].name);
    appendStringInfo(&checks, "pg_catalog.bool_or(a.data OPERATOR(pg_catalog.?) %s), ",
                     quote_literal_cstr(plan->columns[c].name));
  }
  char* query = psprintf(
      "SELECT %s pg_catalog.bool_or((a.data OPERATOR(pg_catalog.-) $2) OPERATOR(pg_catalog.<>) '{}'::pg_catalog.jsonb),"
      "       pg_catalog.bool_or(a.masked_columns IS NOT NULL)"
      "  FROM %s a%s WHERE %s",
      checks.data, restore->archive_name, rows.from, rows.where);
  Datum values[2] = {UuidArray(target->pending, target->pending_count),
                     PointerGetDatum(construct_array(names, plan->column_count, TEXTOID, -1, false, TYPALIGN_INT))};
  RunQuery(query, 2, types, values, true, SPI_OK_SELECT);
  HeapTuple row = SPI_tuptable->vals[0];
  TupleDesc descriptor = SPI_tuptable->tupdesc;
  bool isnull = false;
  bool other_keys = DatumGetBool(SPI_getbinval(row, descriptor, plan->column_count + 1, &isnull)) && !isnull;
  bool masked = DatumGetBool(SPI_getbinval(row, descriptor, plan->column_count + 2, &isnull)) && !isnull;
  if (!other_keys && !masked) {
    const char** keys = static_cast<const char**>(palloc(sizeof(char*) * Max(plan->column_count, 1)));
    int count = 0;
    for (int c = 0; c < plan->column_count; ++c) {
      bool present = DatumGetBool(SPI_getbinval(row, descriptor, c + 1, &isnull)) && !isnull;
      if (present) keys[count++] = plan->columns[c].name;
    }
    plan->data_keys = {count, keys};
    plan->masked_keys = {0, nullptr};
    return;
  }
  query = psprintf(
      "SELECT (SELECT pg_catalog.array_agg(k.k) FROM (SELECT DISTINCT k FROM %s a%s, pg_catalog.jsonb_object_keys(a.data) k"
      "                                                WHERE %s) k),"
      "       (SELECT pg_catalog.array_agg(DISTINCT m) FROM %s a%s, pg_catalog.unnest(a.masked_columns) m"
      "         WHERE %s AND a.data OPERATOR(pg_catalog.?) m)",
      restore->archive_name, rows.from, rows.where, restore->archive_name, rows.from, rows.where);
  RunQuery(query, 1, types, values, true, SPI_OK_SELECT);
  int count = 0;
  Datum keys = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
  char** data_keys = TextArrayStrings(keys, isnull, &count);
  plan->data_keys = {count, data_keys};
  Datum masked_keys = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
  char** masked_names = TextArrayStrings(masked_keys, isnull, &count);
  plan->masked_keys = {count, masked_names};
}

// FirstRowWithKey finds an archive row of target whose data has the key (for messages).
char* FirstRowWithKey(Restore* restore, Target* target, const char* key) {
  ArchiveIds rows = ArchiveIdsOf("a", "$1", target->pending_count);
  char* query = psprintf("SELECT a.id FROM %s a%s WHERE %s AND a.data OPERATOR(pg_catalog.?) $2 ORDER BY a.id LIMIT 1",
                         restore->archive_name, rows.from, rows.where);
  Oid types[2] = {UUIDARRAYOID, TEXTOID};
  Datum values[2] = {UuidArray(target->pending, target->pending_count), CStringGetTextDatum(key)};
  RunQuery(query, 2, types, values, true, SPI_OK_SELECT);
  return SPI_processed > 0 ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : pstrdup("?");
}

// ArchivedValue is one archived column's value as text (for the message of a culprit column).
char* ArchivedValue(Restore* restore, Datum id, const char* column) {
  char* query = psprintf("SELECT a.data OPERATOR(pg_catalog.->>) $2 FROM %s a WHERE a.id OPERATOR(pg_catalog.=) $1", restore->archive_name);
  Oid types[2] = {UUIDOID, TEXTOID};
  Datum values[2] = {id, CStringGetTextDatum(column)};
  RunQuery(query, 2, types, values, true, SPI_OK_SELECT);
  char* value = SPI_processed > 0 ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : nullptr;
  return value != nullptr ? value : pstrdup("NULL");
}

}  // namespace deleted_record::glue::restore
