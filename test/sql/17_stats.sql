-- 17_stats: the archive reports on itself (issue 19, item 4). deleted_record_stats answers per
-- attached table (rows archived, restored, erased; bytes; oldest and newest deletion; rows past
-- retention awaiting purge) and per partition (period, rows, size), exact where counting is
-- cheap and marked estimated where it comes from ANALYZE's statistics; it is for roles granted
-- it. Long operations report progress in pg_stat_activity, read through deleted_record_progress.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_h9_dba;
RESET client_min_messages;
CREATE ROLE regress_h9_dba;
CREATE SCHEMA t17;
SET search_path = t17, public;
SET TimeZone = 'UTC';

CREATE TABLE kept (id int PRIMARY KEY, label text);
CREATE TABLE aged (id int PRIMARY KEY, label text);
CREATE TABLE past (id int PRIMARY KEY);
SELECT deleted_record_attach('kept'), deleted_record_attach('aged', retention => '5 years'), deleted_record_attach('past');
-- The hand-made rows below predate the attaches: register the attachments from the beginning
-- of time, as the update from 1.1 does.
UPDATE deleted_record_attachment SET from_id = '00000000-0000-0000-0000-000000000000' WHERE schema_name = 't17';
-- A partition ten years back, and archive rows there made by hand (as the owner).
DO $$
DECLARE lo uuid := deleted_record_uuid7_floor(now() - interval '10 years 60 days');
        hi uuid := deleted_record_uuid7_floor(now() - interval '10 years');
BEGIN
  EXECUTE format('CREATE TABLE public.deleted_record_t17_old PARTITION OF public.deleted_record FOR VALUES FROM (%L) TO (%L)', lo, hi);
  ALTER TABLE public.deleted_record_t17_old ADD PRIMARY KEY (id);
END $$;
CREATE FUNCTION old_rows(tbl text, days int, n int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO public.deleted_record (id, data, deleted_at, updated_at, object_id, table_name, schema_name)
  SELECT overlay(public.deleted_record_uuid7_floor(now() - interval '10 years' - days * interval '1 day')::text
                 PLACING '7000-8000-' || lpad(to_hex(g), 12, '0') FROM 15)::uuid,
         jsonb_build_object('id', g), now() - interval '10 years' - days * interval '1 day',
         now() - interval '10 years' - days * interval '1 day', g::text, tbl, 't17'
    FROM generate_series(1, n) g
$$;
SELECT old_rows('aged', 30, 20), old_rows('past', 20, 50);
-- Recent rows: 10 of kept (one restored, one erased), 5 of aged.
INSERT INTO kept SELECT g, 'kept ' || g FROM generate_series(1, 10) g;
INSERT INTO aged SELECT g, 'aged ' || g FROM generate_series(1, 5) g;
DELETE FROM kept;
DELETE FROM aged;
SELECT outcome FROM deleted_record_restore(ARRAY(SELECT id FROM deleted_record WHERE schema_name = 't17' AND table_name = 'kept' AND object_id = '1'));
SELECT deleted_record_erase(ARRAY(SELECT id FROM deleted_record WHERE schema_name = 't17' AND table_name = 'kept' AND object_id = '2'), 'test');

-- Per table: counts, oldest and newest deletion, rows past retention (aged: the 20 old rows).
SELECT s.table_name, s.rows_archived, s.rows_restored, s.rows_erased, s.bytes > 0 AS has_bytes,
       s.oldest_deleted_at = (SELECT min(deleted_at) FROM deleted_record d WHERE d.schema_name = 't17' AND d.table_name = s.table_name) AS oldest_exact,
       s.newest_deleted_at = (SELECT max(deleted_at) FROM deleted_record d WHERE d.schema_name = 't17' AND d.table_name = s.table_name) AS newest_exact,
       s.retention, s.rows_awaiting_purge, s.estimated
  FROM deleted_record_stats s
 WHERE s.kind = 'table' ORDER BY s.table_name;
-- Per partition: its period and size.
SELECT partition_name, period_until - period_from AS period, rows_archived, bytes > 0 AS has_bytes, estimated
  FROM deleted_record_stats WHERE partition_name = 'deleted_record_t17_old';
SELECT count(*) > 0 AS every_partition_listed
  FROM deleted_record_stats WHERE kind = 'partition' AND partition_name = 'deleted_record_default';
-- A large partition is estimated from its statistics, and says so.
ANALYZE deleted_record_t17_old;
SELECT table_name, rows_archived BETWEEN 45 AND 55 AS about_50, estimated
  FROM deleted_record_stats_report(exact_pages => 0) WHERE table_name = 'past'::regclass;
SELECT rows_archived, estimated FROM deleted_record_stats_report(exact_pages => 0) WHERE partition_name = 'deleted_record_t17_old'::regclass;
-- A table renamed keeps its rows in its figures; a new table under the old name starts at 0.
ALTER TABLE kept RENAME TO kept_renamed;
CREATE TABLE kept (id int PRIMARY KEY);
SELECT deleted_record_attach('kept');
SELECT table_name, rows_archived FROM deleted_record_stats WHERE table_name IN ('kept', 'kept_renamed') ORDER BY table_name;
-- Names are text, as in the archive: a plain string filters, and the schema is its own column.
SELECT schema_name, table_name FROM deleted_record_stats WHERE kind = 'table' AND table_name = 'kept_renamed';

-- For roles granted it: SELECT on the view and EXECUTE on its function, like the purge.
SET ROLE regress_h9_dba;
SELECT count(*) FROM deleted_record_stats;
RESET ROLE;
GRANT SELECT ON deleted_record_stats TO regress_h9_dba;
SET ROLE regress_h9_dba;
SELECT count(*) FROM deleted_record_stats;
RESET ROLE;
GRANT EXECUTE ON FUNCTION deleted_record_stats_report(integer) TO regress_h9_dba;
SET ROLE regress_h9_dba;
SELECT count(*) > 0 AS reads FROM deleted_record_stats;
RESET ROLE;

-- Progress: a long operation's line in pg_stat_activity, parsed by deleted_record_progress.
DO $$
DECLARE r record;
BEGIN
  PERFORM deleted_record_report_progress('purge', 30, 100, clock_timestamp() - interval '10 seconds');
  SELECT * INTO r FROM deleted_record_progress WHERE pid = pg_backend_pid();
  RAISE NOTICE 'operation %, done %, total %, left %, percent %, rate %/s, started % s ago', r.operation, r.rows_done,
               r.rows_total, r.rows_left, r.percent_done, r.rows_per_second, round(extract(epoch FROM clock_timestamp() - r.started));
END $$;
DO $$
DECLARE r record;
BEGIN
  PERFORM deleted_record_report_progress('import public.invoice', 5, NULL, clock_timestamp());
  SELECT * INTO r FROM deleted_record_progress WHERE pid = pg_backend_pid();
  RAISE NOTICE 'operation %, done %, total %, left %, percent %', r.operation, r.rows_done, r.rows_total, r.rows_left, r.percent_done;
END $$;
SELECT deleted_record_report_progress(NULL, 1, 1, now());
-- The line is replaced by the next statement: no operation shows once it is over.
SELECT count(*) FROM deleted_record_progress WHERE pid = pg_backend_pid();

SET client_min_messages = warning;
SELECT deleted_record_detach(table_name) FROM deleted_record_attached WHERE table_name::text LIKE 't17.%' OR table_name::text IN ('kept', 'kept_renamed', 'aged', 'past');
DROP TABLE public.deleted_record_t17_old;
DROP SCHEMA t17 CASCADE;
REVOKE ALL ON deleted_record_stats FROM regress_h9_dba;
REVOKE ALL ON FUNCTION deleted_record_stats_report(integer) FROM regress_h9_dba;
DROP ROLE regress_h9_dba;
