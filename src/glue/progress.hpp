// Progress of long operations (purge, import, large restores), reported the way PostgreSQL's
// own background work reports it: in the backend's pg_stat_activity.query, which other sessions
// read while the operation runs (the deleted_record_progress view parses it).
#pragma once
#include "glue/postgres_api.hpp"

namespace deleted_record::glue {

// ReportProgress sets this backend's pg_stat_activity.query to one line saying how far
// operation has come: done rows of total (total < 0: not known), the rate since started.
void ReportProgress(const char* operation, int64 done, int64 total, TimestampTz started);

// RequireProgressRight raises an error unless the caller may report that operation's progress
// from SQL (deleted_record_report_progress, which the purge and import procedures call as their
// caller): 'purge' for a role that may run purge steps, 'import ...' for a role that ran an
// import batch in this session, 'restore ...' never (restores report from C); superusers any.
// Other names are the caller's own business: deleted_record_progress lists only the extension's
// operations, so no role shows a made-up purge, import or restore there.
void RequireProgressRight(const char* operation);

}  // namespace deleted_record::glue
