// Erasure runs as the extension owner (the archive and its tombstones are the owner's) after
// the checks, with SECURITY_RESTRICTED_OPERATION; the caller's right to erase is the EXECUTE
// privilege a DBA granted on deleted_record_erase.
#include "glue/erasure.hpp"

#include "glue/archive_table.hpp"

namespace deleted_record::glue {

namespace {

// QualifiedExtensionTable names one of the extension's tables for a query.
char* QualifiedExtensionTable(const ArchiveTable* archive, const char* name) {
  return quote_qualified_identifier(get_namespace_name(archive->schema), name);
}

bool IsBlank(const char* text) {
  for (; *text != '\0'; ++text)
    if (!isspace(static_cast<unsigned char>(*text))) return false;
  return true;
}

}  // namespace

int64 EraseArchiveRows(ArrayType* archive_ids, text* reason) {
  if (archive_ids == nullptr)
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("deleted_record_erase: archive_ids must not be NULL")));
  if (array_contains_nulls(archive_ids))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("deleted_record_erase: archive_ids must not contain NULL")));
  if (reason == nullptr || IsBlank(text_to_cstring(reason)))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("deleted_record_erase: a reason is required"),
                    errhint("Say why, for example the request it fulfils: deleted_record_erase(ids, 'GDPR request #4711').")));
  const ArchiveTable* archive = ResolveArchiveTable();
  char* archive_name = QualifiedExtensionTable(archive, "deleted_record");
  char* erasure_name = QualifiedExtensionTable(archive, "deleted_record_erasure");
  Datum erased_by = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));

  Oid saved_user;
  int saved_security_context;
  GetUserIdAndSecContext(&saved_user, &saved_security_context);
  SetUserIdAndSecContext(archive->owner,
                         saved_security_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "deleted_record: SPI_connect failed");
  // Every id must name an archive row: erasing is deliberate, a typo must not pass silently.
  Oid missing_types[1] = {UUIDARRAYOID};
  Datum missing_values[1] = {PointerGetDatum(archive_ids)};
  char* missing_query = psprintf(
      "SELECT count(*), string_agg(m.id::text, ', ' ORDER BY m.id) FILTER (WHERE m.n <= 5),"
      "       count(*) FILTER (WHERE EXISTS (SELECT FROM %s e WHERE e.archive_id = m.id))"
      "  FROM (SELECT DISTINCT id, dense_rank() OVER (ORDER BY id) AS n FROM pg_catalog.unnest($1) u(id)"
      "         WHERE NOT EXISTS (SELECT FROM %s d WHERE d.id = u.id)) m",
      erasure_name, archive_name);
  if (SPI_execute_with_args(missing_query, 1, missing_types, missing_values, nullptr, true, 1) != SPI_OK_SELECT)
    elog(ERROR, "deleted_record: could not check the archive rows to erase");
  bool isnull = false;
  int64 missing = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
  if (missing > 0) {
    char* examples = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
    int64 erased_before = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
    ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
                    errmsg("deleted_record_erase: %lld of the given ids are not archive rows: %s%s",
                           static_cast<long long>(missing), examples, missing > 5 ? ", …" : ""),
                    erased_before > 0 ? errdetail("%lld of them were erased before (see deleted_record_erasure).",
                                                  static_cast<long long>(erased_before))
                                      : 0,
                    errhint("Nothing was erased.")));
  }
  Oid types[3] = {UUIDARRAYOID, TEXTOID, TEXTOID};
  Datum values[3] = {PointerGetDatum(archive_ids), erased_by, PointerGetDatum(reason)};
  char* erase_query = psprintf(
      "WITH gone AS (DELETE FROM %s WHERE id = ANY ($1)"
      "              RETURNING id, table_name, schema_name, object_id, deleted_at)"
      " INSERT INTO %s (archive_id, table_name, schema_name, object_id, deleted_at, erased_by, reason)"
      " SELECT id, table_name, schema_name, object_id, deleted_at, $2, $3 FROM gone",
      archive_name, erasure_name);
  if (SPI_execute_with_args(erase_query, 3, types, values, nullptr, false, 0) != SPI_OK_INSERT)
    elog(ERROR, "deleted_record: could not erase archive rows");
  int64 erased = static_cast<int64>(SPI_processed);
  SPI_finish();
  SetUserIdAndSecContext(saved_user, saved_security_context);
  return erased;
}

}  // namespace deleted_record::glue
