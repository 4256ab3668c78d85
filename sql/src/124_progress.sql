-- Progress of long operations (purge, import, large restores), the PostgreSQL way: while one
-- runs, its backend's pg_stat_activity.query says how far it has come, as autovacuum's workers
-- say what they do; deleted_record_progress reads those lines (seeing what pg_stat_activity
-- lets the reader see: its own sessions', or everyone's for members of pg_read_all_stats).

-- deleted_record_report_progress (internal) sets the calling backend's progress line: done rows
-- of total (NULL: not known), the rate since started. Long operations call it after each batch.
-- The purge and import procedures run as their caller, so it stays executable by PUBLIC, but
-- only a role that may run the operation reports it (a purge: EXECUTE on the purge step; an
-- import: an import batch ran in this session as that role; a restore: from C only), and
-- deleted_record_progress lists only those operations: no role fakes one there.
CREATE FUNCTION deleted_record_report_progress(operation text, done bigint, total bigint, started timestamptz) RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_report_progress';
COMMENT ON FUNCTION deleted_record_report_progress(text, bigint, bigint, timestamptz) IS 'Internal: reports a long operation''s progress in pg_stat_activity (read through deleted_record_progress)';

-- deleted_record_progress: one row per session running a long operation of the extension. No
-- line can make it fail for its readers: numbers beyond int8 read as its largest value, the
-- start must be a plain epoch (review 7 #07).
CREATE VIEW deleted_record_progress WITH (security_invoker = true) AS
SELECT a.pid, a.usename AS role_name, m.m[1] AS operation,
       LEAST(m.m[2]::pg_catalog.numeric, 9223372036854775807)::pg_catalog.int8 AS rows_done,
       (CASE WHEN m.m[3] OPERATOR(pg_catalog.<>) '?' THEN LEAST(m.m[3]::pg_catalog.numeric, 9223372036854775807) END)::pg_catalog.int8 AS rows_total,
       (CASE WHEN m.m[4] OPERATOR(pg_catalog.<>) '?' THEN LEAST(m.m[4]::pg_catalog.numeric, 9223372036854775807) END)::pg_catalog.int8 AS rows_left,
       pg_catalog.round(100 OPERATOR(pg_catalog.*) m.m[2]::pg_catalog.numeric
                        OPERATOR(pg_catalog./) NULLIF(NULLIF(m.m[3], '?'), '0')::pg_catalog.numeric, 1) AS percent_done,
       LEAST(m.m[5]::pg_catalog.numeric, 9223372036854775807)::pg_catalog.int8 AS rows_per_second,
       pg_catalog.to_timestamp(m.m[6]::pg_catalog.float8) AS started
  FROM pg_catalog.pg_stat_activity a,
       LATERAL pg_catalog.regexp_match(a.query,
           '^deleted_record progress: (.*?): ([0-9]+) of ([0-9]+|\?) rows, ([0-9]+|\?) left, ([0-9]+) rows/s, started at epoch ([0-9]{1,15}\.[0-9]{3})$') m(m)
 WHERE a.state OPERATOR(pg_catalog.=) 'active' AND m.m IS NOT NULL
   AND m.m[1] OPERATOR(pg_catalog.~) '^(purge|import |restore)';
GRANT SELECT ON deleted_record_progress TO PUBLIC;
COMMENT ON VIEW deleted_record_progress IS 'Long operations of deleted_record (purge, import, large restores) as they run: rows done and left, rate';
