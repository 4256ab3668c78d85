// Progress lines in pg_stat_activity: one fixed format, "deleted_record progress: <operation>:
// <done> of <total> rows, <left> left, <rate> rows/s, started at epoch <seconds>" (? where not known;
// the start in seconds since 1970, so that no reader's DateStyle can misread it), that the
// deleted_record_progress view parses. Nothing is allocated that outlives the call.
#include "glue/progress.hpp"

#include "glue/archive_table.hpp"
#include "glue/import.hpp"

extern "C" {
#include "utils/backend_status.h"
}

namespace deleted_record::glue {

void ReportProgress(const char* operation, int64 done, int64 total, TimestampTz started) {
  // Nonsense is refused, not shown (review 7 #07): a negative count, a start that is not a
  // finite time after 1970 (the view reads the start as a plain epoch).
  if (done < 0 || total < -1 || TIMESTAMP_NOT_FINITE(started) || started < SetEpochTimestamp())
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("deleted_record_report_progress: done and total must not be negative, started must be a "
                           "finite time after 1970")));
  long seconds = 0;
  int microseconds = 0;
  TimestampDifference(started, GetCurrentTimestamp(), &seconds, &microseconds);
  double elapsed = static_cast<double>(seconds) + microseconds / 1e6;
  double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  // At most int8's largest value (rows done in a microsecond can give a rate of 22 digits).
  int64 whole_rate = rate >= 9.2e18 ? PG_INT64_MAX : static_cast<int64>(rate + 0.5);
  char total_text[32] = "?";
  char left_text[32] = "?";
  if (total >= 0) {
    snprintf(total_text, sizeof total_text, INT64_FORMAT, total);
    snprintf(left_text, sizeof left_text, INT64_FORMAT, Max(total - done, static_cast<int64>(0)));
  }
  char line[512];
  snprintf(line, sizeof line, "deleted_record progress: %.60s: " INT64_FORMAT " of %s rows, %s left, " INT64_FORMAT
           " rows/s, started at epoch %.3f",
           operation, done, total_text, left_text, whole_rate,
           static_cast<double>(started - SetEpochTimestamp()) / USECS_PER_SEC);
  pgstat_report_activity(STATE_RUNNING, line);
}

void RequireProgressRight(const char* operation) {
  bool allowed = true;
  if (superuser()) {
    allowed = true;
  } else if (strncmp(operation, "import", 6) == 0) {
    allowed = ImportRanAs(GetUserId());
  } else if (strncmp(operation, "restore", 7) == 0) {
    allowed = false;  // restores report from C, never through SQL
  } else if (strncmp(operation, "purge", 5) == 0) {
    // The purge procedure runs as its caller, who needs EXECUTE on the purge step.
    const ArchiveTable* archive = ResolveArchiveTable();
    Oid argtypes[3] = {INTERVALOID, INT4OID, get_array_type(REGCLASSOID)};
    List* name = list_make2(makeString(get_namespace_name(archive->schema)), makeString(pstrdup("deleted_record_purge_step")));
    Oid step = LookupFuncName(name, 3, argtypes, true);
    allowed = OidIsValid(step) && object_aclcheck(ProcedureRelationId, step, GetUserId(), ACL_EXECUTE) == ACLCHECK_OK;
  }
  if (!allowed)
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("deleted_record_report_progress: permission denied to report %s progress", operation),
                    errdetail("The extension's operations (purge, import, restore) are reported only by the roles running them.")));
}

}  // namespace deleted_record::glue
