// Progress of long operations (purge, import, large restores), reported the way PostgreSQL's
// own background work reports it: in the backend's pg_stat_activity.query, which other sessions
// read while the operation runs (the deleted_record_progress view parses it).
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// ReportProgress sets this backend's pg_stat_activity.query to one line saying how far
// operation has come: done rows of total (total < 0: not known), the rate since started.
void ReportProgress(const char* operation, int64 done, int64 total, TimestampTz started);

}  // namespace deleted_record::glue
