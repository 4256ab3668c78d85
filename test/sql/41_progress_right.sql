-- 41_progress_right: only a role that may run an operation of the extension reports its
-- progress (review R4, finding 5): a purge needs EXECUTE on the purge step, an import an import
-- batch run in this session by that role; a restore is never reported from SQL. Other names do
-- not show in deleted_record_progress.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dr_any41;
DROP ROLE IF EXISTS regress_dr_purger41;
RESET client_min_messages;
CREATE ROLE regress_dr_any41;
CREATE ROLE regress_dr_purger41;
GRANT EXECUTE ON FUNCTION deleted_record_purge_step(interval, integer, regclass[]) TO regress_dr_purger41;
SET ROLE regress_dr_any41;
SELECT deleted_record_report_progress('purge', 1, 2, now());
SELECT deleted_record_report_progress('import public.invoice', 1, 2, now());
SELECT deleted_record_report_progress('restore', 1, 2, now());
-- another name is the caller's own line, and not listed as an operation of the extension
DO $$ BEGIN
  PERFORM deleted_record_report_progress('nightly job', 1, 2, now());
  RAISE NOTICE 'listed: %', (SELECT count(*) FROM deleted_record_progress WHERE pid = pg_backend_pid());
END $$;
RESET ROLE;
SET ROLE regress_dr_purger41;
SELECT deleted_record_report_progress('purge', 1, 2, now()) IS NOT NULL AS reported;
RESET ROLE;
-- an import's owner, once a batch of it ran in this session
CREATE TABLE t41 (id int PRIMARY KEY, gone boolean);
ALTER TABLE t41 OWNER TO regress_dr_any41;
SELECT deleted_record_attach('t41') IS NOT NULL AS attached;
SET ROLE regress_dr_any41;
SELECT deleted_record_import_batch('t41', 'gone', NULL, NULL, NULL, 10) AS moved;
SELECT deleted_record_report_progress('import public.t41', 0, 0, now()) IS NOT NULL AS reported;
RESET ROLE;
DROP TABLE t41;
REVOKE EXECUTE ON FUNCTION deleted_record_purge_step(interval, integer, regclass[]) FROM regress_dr_purger41;
DROP ROLE regress_dr_any41;
DROP ROLE regress_dr_purger41;
-- Review 7 #07: no reported line makes deleted_record_progress fail for its readers: a rate
-- beyond int8 (9e18 rows in a millisecond) is shown as int8's largest value; negative counts
-- and a start that is not a finite time after 1970 are refused.
DO $$ DECLARE r record; BEGIN
  PERFORM deleted_record_report_progress('purge', 9000000000000000000, NULL, clock_timestamp() - interval '1 millisecond');
  SELECT rows_done, rows_total, rows_per_second INTO r FROM deleted_record_progress WHERE pid = pg_backend_pid();
  RAISE NOTICE 'done %, total %, rate %', r.rows_done, r.rows_total, r.rows_per_second;
END $$;
SELECT deleted_record_report_progress('purge', -1, 2, now());
SELECT deleted_record_report_progress('purge', 1, -2, now());
SELECT deleted_record_report_progress('purge', 1, 2, 'infinity');
SELECT deleted_record_report_progress('purge', 1, 2, '1900-01-01 00:00+00');
