-- Purge by retention drops a closed partition only when every table with rows in it has
-- expired. Which tables those are is recorded once per closed partition; a row committed into the
-- partition after that (a transaction that deleted just before the period ended and committed
-- later) must not be dropped with it: the purge checks again with the partition locked.
SET client_min_messages = warning;
CREATE SCHEMA t20;
SET search_path = t20, public;
CREATE TABLE shortlived (id int PRIMARY KEY);
CREATE TABLE kept (id int PRIMARY KEY);
SELECT deleted_record_attach('shortlived', retention => '3650 days'), deleted_record_attach('kept');
-- The rows below are made by hand, dated before these attaches: the attachments cover them.
UPDATE deleted_record_attachment SET from_id = '00000000-0000-0000-0000-000000000000'
 WHERE schema_name = 't20';
-- A closed partition four months ago, named as the extension names its own.
CREATE TABLE t20.old_month AS
SELECT a, a + interval '1 month' AS b,
       format('deleted_record_%s_%s', to_char(a AT TIME ZONE 'UTC', 'YYYYMMDD'),
              to_char((a + interval '1 month') AT TIME ZONE 'UTC', 'YYYYMMDD')) AS name
  FROM (SELECT date_trunc('month', now() AT TIME ZONE 'UTC' - interval '4 months') AT TIME ZONE 'UTC' AS a) s;
DO $$
DECLARE m record;
BEGIN
  SELECT * INTO m FROM t20.old_month;
  EXECUTE format('CREATE TABLE public.%I PARTITION OF public.deleted_record FOR VALUES FROM (%L) TO (%L)',
                 m.name, public.deleted_record_uuid7_floor(m.a), public.deleted_record_uuid7_floor(m.b));
  EXECUTE format('ALTER TABLE public.%I ADD PRIMARY KEY (id)', m.name);
END $$;
CREATE FUNCTION t20.old_rows(tbl text, n int, first int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO public.deleted_record (id, data, deleted_at, updated_at, object_id, table_name, schema_name)
  SELECT overlay(public.deleted_record_uuid7_floor(m.a + interval '10 days')::text
                 PLACING '7000-8000-' || lpad(to_hex(g), 12, '0') FROM 15)::uuid,
         jsonb_build_object('id', g), m.a + interval '10 days', m.a + interval '10 days', g::text, tbl, 't20'
    FROM t20.old_month m, generate_series(first, first + n - 1) g $$;
SELECT t20.old_rows('shortlived', 5, 1);
-- The first purge records that only shortlived has rows in the closed partition (kept, nothing
-- expired yet).
CALL deleted_record_purge();
SELECT table_name FROM deleted_record_partition_tables
 WHERE partition_name = (SELECT name FROM t20.old_month) AND table_name <> '' ORDER BY 1;
-- A late commit: a row of kept (no retention: kept forever) lands in the closed partition.
SELECT t20.old_rows('kept', 1, 100);
-- shortlived's retention now expires its rows: the bookkeeping alone would drop the partition.
SELECT deleted_record_attach('shortlived', retention => '1 day');
CALL deleted_record_purge();
SELECT table_name, count(*) FROM public.deleted_record WHERE schema_name = 't20' GROUP BY 1 ORDER BY 1;
SELECT count(*) AS partition_still_there FROM pg_class WHERE relname = (SELECT name FROM t20.old_month);
-- A purge called from PL/pgSQL (a maintenance procedure, a scheduler's wrapper) leaves the
-- caller's search_path as it was, and needs a variable for removed (an INOUT parameter).
SET client_min_messages = notice;
DO $$
DECLARE n bigint;
BEGIN
  PERFORM set_config('search_path', 't20, public', true);
  CALL deleted_record_purge(removed => n);
  RAISE NOTICE 'removed %, search_path afterwards: %', n, current_setting('search_path');
END $$;
SET client_min_messages = warning;
-- Clean up.
SELECT deleted_record_detach('shortlived'), deleted_record_detach('kept');
DO $$ BEGIN EXECUTE format('DROP TABLE public.%I', (SELECT name FROM t20.old_month)); END $$;
DELETE FROM deleted_record_partition_tables WHERE partition_name = (SELECT name FROM t20.old_month);
DROP SCHEMA t20 CASCADE;
