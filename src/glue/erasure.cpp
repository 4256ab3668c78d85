// Erasure runs as the extension owner (the archive and its tombstones are the owner's) after
// the checks, through AsExtensionOwner; the caller's right to erase is the EXECUTE privilege a
// DBA granted on deleted_record_erase. Its statements name every function and operator with
// pg_catalog, so nothing a caller defined can run with the owner's rights.
#include "glue/erasure.hpp"

#include "glue/archive_table.hpp"
#include "glue/holds.hpp"
#include "glue/owner.hpp"
#include "glue/restore.hpp"
#include "glue/spi_connection.hpp"

namespace deleted_record::glue {

namespace {

// Erasure is what the owner-side work needs, and what it found.
struct Erasure {
  const ArchiveTable* archive;
  const char* archive_name;
  const char* erasure_name;
  ArrayType* archive_ids;
  Datum erased_by;
  text* reason;
  int64 erased;
};

// CheckAllArchived raises an error unless every id names an archive row: erasing is
// deliberate, a typo must not pass silently.
void CheckAllArchived(const Erasure* erasure) {
  Oid types[1] = {UUIDARRAYOID};
  Datum values[1] = {PointerGetDatum(erasure->archive_ids)};
  // The archive rows are read in one pass (ArchiveIdsOf), then matched to the ids given.
  ArchiveIds rows = ArchiveIdsOf("d", "$1", erasure->archive_ids);
  char* query = psprintf(
      "WITH found AS MATERIALIZED (SELECT d.id FROM %s d%s WHERE %s)"
      "SELECT pg_catalog.count(*),"
      "       pg_catalog.string_agg(CAST(m.id AS pg_catalog.text), ', ' ORDER BY m.id)"
      "         FILTER (WHERE m.n OPERATOR(pg_catalog.<=) 5),"
      "       pg_catalog.count(*) FILTER (WHERE EXISTS (SELECT FROM %s e WHERE e.archive_id OPERATOR(pg_catalog.=) m.id))"
      "  FROM (SELECT DISTINCT u.id, pg_catalog.dense_rank() OVER (ORDER BY u.id) AS n"
      "          FROM pg_catalog.unnest($1) AS u(id)"
      "         WHERE NOT EXISTS (SELECT FROM found f WHERE f.id OPERATOR(pg_catalog.=) u.id)) AS m",
      erasure->archive_name, rows.from, rows.where, erasure->erasure_name);
  if (SPI_execute_with_args(query, 1, types, values, nullptr, true, 1) != SPI_OK_SELECT)
    elog(ERROR, "deleted_record: could not check the archive rows to erase");
  bool isnull = false;
  int64 missing = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
  if (missing == 0) return;
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

// EraseAsOwner is the owner-side work: check the ids, then delete the rows and leave tombstones.
void EraseAsOwner(void* argument) {
  auto* erasure = static_cast<Erasure*>(argument);
  ConnectSpi();
  CheckAllArchived(erasure);
  // A legal hold outranks an erasure request: nothing is erased while any row is held, and no
  // hold can arrive between this check and the delete (LockHoldsShared).
  LockHoldsShared();
  RefuseHeldRows(erasure->archive, erasure->archive_ids);
  ArchiveIds gone = ArchiveIdsOf("d", "$1", erasure->archive_ids);
  Oid types[3] = {UUIDARRAYOID, TEXTOID, TEXTOID};
  Datum values[3] = {PointerGetDatum(erasure->archive_ids), erasure->erased_by, PointerGetDatum(erasure->reason)};
  char* query = psprintf(
      "WITH gone AS (DELETE FROM %s AS d%s WHERE %s"
      "              RETURNING d.id, d.table_name, d.schema_name, d.object_id, d.deleted_at)"
      " INSERT INTO %s (archive_id, table_name, schema_name, object_id, deleted_at, erased_by, reason)"
      " SELECT g.id, g.table_name, g.schema_name, g.object_id, g.deleted_at, $2, $3 FROM gone AS g",
      erasure->archive_name, gone.from[0] != '\0' ? psprintf(" USING %s", gone.from + 2) : "", gone.where,
      erasure->erasure_name);
  if (SPI_execute_with_args(query, 3, types, values, nullptr, false, 0) != SPI_OK_INSERT)
    elog(ERROR, "deleted_record: could not erase archive rows");
  erasure->erased = static_cast<int64>(SPI_processed);
  FinishSpi();
}

}  // namespace

int64 EraseArchiveRows(ArrayType* archive_ids, text* reason) {
  if (archive_ids == nullptr)
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("deleted_record_erase: archive_ids must not be NULL")));
  if (array_contains_nulls(archive_ids))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                    errmsg("deleted_record_erase: archive_ids must not contain NULL")));
  if (IsBlankText(reason))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("deleted_record_erase: a reason is required"),
                    errhint("Say why, for example the request it fulfils: deleted_record_erase(ids, 'GDPR request #4711').")));
  const ArchiveTable* archive = ResolveArchiveTable();
  Erasure erasure = {archive,
                     ExtensionObjectName(archive, "deleted_record"),
                     ExtensionObjectName(archive, "deleted_record_erasure"),
                     archive_ids,
                     CStringGetTextDatum(GetUserNameFromId(GetUserId(), false)),
                     reason,
                     0};
  AsExtensionOwner(archive->owner, EraseAsOwner, &erasure);
  return erasure.erased;
}

}  // namespace deleted_record::glue
