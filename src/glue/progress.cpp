// Progress lines in pg_stat_activity: one fixed format, "deleted_record progress: <operation>:
// <done> of <total> rows, <left> left, <rate> rows/s, started at epoch <seconds>" (? where not known;
// the start in seconds since 1970, so that no reader's DateStyle can misread it), that the
// deleted_record_progress view parses. Nothing is allocated that outlives the call.
#include "glue/progress.hpp"

extern "C" {
#include "utils/backend_status.h"
}

namespace deleted_record::glue {

void ReportProgress(const char* operation, int64 done, int64 total, TimestampTz started) {
  long seconds = 0;
  int microseconds = 0;
  TimestampDifference(started, GetCurrentTimestamp(), &seconds, &microseconds);
  double elapsed = static_cast<double>(seconds) + microseconds / 1e6;
  double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  char total_text[32] = "?";
  char left_text[32] = "?";
  if (total >= 0) {
    snprintf(total_text, sizeof total_text, INT64_FORMAT, total);
    snprintf(left_text, sizeof left_text, INT64_FORMAT, Max(total - done, static_cast<int64>(0)));
  }
  char line[512];
  snprintf(line, sizeof line, "deleted_record progress: %.60s: " INT64_FORMAT " of %s rows, %s left, %.0f rows/s, started at epoch %.3f",
           operation, done, total_text, left_text, rate,
           static_cast<double>(started - SetEpochTimestamp()) / USECS_PER_SEC);
  pgstat_report_activity(STATE_RUNNING, line);
}

}  // namespace deleted_record::glue
