-- 33_stats_bounds: deleted_record_stats' oldest and newest deletion are min and max of
-- deleted_at (also after an import, whose rows' ids do not follow their deletion times); rows a
-- legal hold keeps are not awaiting purge; exact counting has a total budget, spent on the
-- newest partitions first, beyond which partitions are estimated and say so (review R2,
-- findings 3 and 7).
\set SHOW_CONTEXT never
-- Other tests leave partitions of any size: counted exactly here with a budget that covers them.
\set all_pages 100000000
CREATE SCHEMA t33;
SET search_path = t33, public;
SET TimeZone = 'UTC';

-- (1) After an import: oldest and newest are the earliest and latest deletion, not those of the
-- first and last row moved.
CREATE TABLE ticket (id int PRIMARY KEY, title text, deleted_at timestamptz);
INSERT INTO ticket VALUES (1, 'a', '2025-06-01'), (2, 'b', '2024-01-01'), (3, 'c', '2025-12-01'), (4, 'd', '2025-03-01'),
                          (5, 'live', NULL);
SELECT deleted_record_attach('ticket', exclude_columns => '{deleted_at}', retention => '30 days') IS NOT NULL AS attached;
\set VERBOSITY terse
CALL deleted_record_import('ticket', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at');
\set VERBOSITY default
SELECT min(deleted_at) AS true_oldest, max(deleted_at) AS true_newest
  FROM deleted_record WHERE schema_name = 't33' AND table_name = 'ticket';
SELECT oldest_deleted_at, newest_deleted_at, rows_archived, rows_awaiting_purge, estimated
  FROM deleted_record_stats_report(exact_pages => :all_pages) WHERE table_name = 'ticket'::regclass;

-- (2) Held rows are not awaiting purge: the purge keeps them. A row deleted 200 days ago (made
-- by hand, as test/sql/19_holds.sql does), retention 30 days.
UPDATE deleted_record_attachment SET from_id = '00000000-0000-0000-0000-000000000000' WHERE schema_name = 't33' AND table_name = 'ticket';
INSERT INTO deleted_record (id, data, deleted_at, updated_at, object_id, table_name, schema_name)
SELECT overlay(deleted_record_uuid7_floor(now() - interval '200 days')::text PLACING '7000-8000-000000000001' FROM 15)::uuid,
       '{"id": 99}', now() - interval '200 days', now() - interval '200 days', '99', 'ticket', 't33';
SELECT rows_awaiting_purge FROM deleted_record_stats_report(exact_pages => :all_pages) WHERE table_name = 'ticket'::regclass;
SELECT deleted_record_hold('case-33', 'litigation', for_table => 'ticket', for_object => '99');
SELECT rows_awaiting_purge FROM deleted_record_stats_report(exact_pages => :all_pages) WHERE table_name = 'ticket'::regclass;
CALL deleted_record_purge();
SELECT count(*) AS held_row_left_after_purge FROM deleted_record WHERE schema_name = 't33' AND object_id = '99';
SELECT rows_awaiting_purge FROM deleted_record_stats_report(exact_pages => :all_pages) WHERE table_name = 'ticket'::regclass;
SELECT deleted_record_release('case-33');
SELECT rows_awaiting_purge FROM deleted_record_stats_report(exact_pages => :all_pages) WHERE table_name = 'ticket'::regclass;
CALL deleted_record_purge();
SELECT rows_awaiting_purge, rows_archived FROM deleted_record_stats_report(exact_pages => :all_pages) WHERE table_name = 'ticket'::regclass;

-- (3) The budget of exact counting is total: three old day partitions of 3000 rows each, and a
-- budget that covers every partition but the two older ones: those two are estimated.
CREATE TABLE event (id int PRIMARY KEY);
SELECT deleted_record_attach('event') IS NOT NULL AS attached;
UPDATE deleted_record_attachment SET from_id = '00000000-0000-0000-0000-000000000000' WHERE schema_name = 't33' AND table_name = 'event';
DO $$
DECLARE d integer; lo timestamptz;
BEGIN
  FOR d IN 1 .. 3 LOOP
    lo := date_trunc('day', now()) - (400 + d) * interval '1 day';
    EXECUTE format('CREATE TABLE public.%I PARTITION OF public.deleted_record FOR VALUES FROM (%L) TO (%L)', 'deleted_record_t33_' || d,
                   deleted_record_uuid7_floor(lo), deleted_record_uuid7_floor(lo + interval '1 day'));
    EXECUTE format('ALTER TABLE public.%I ADD PRIMARY KEY (id)', 'deleted_record_t33_' || d);
    INSERT INTO public.deleted_record (id, data, deleted_at, updated_at, object_id, table_name, schema_name)
    SELECT overlay(deleted_record_uuid7_floor(lo + g * interval '1 second')::text PLACING '7000-8000-' || lpad(to_hex(g), 12, '0') FROM 15)::uuid,
           jsonb_build_object('id', g), lo + g * interval '1 second', lo + g * interval '1 second', g::text, 'event', 't33'
      FROM generate_series(1, 3000) g;
    EXECUTE format('ANALYZE public.%I', 'deleted_record_t33_' || d);
  END LOOP;
END $$;
-- The budget: the pages of the default partition and of every partition from deleted_record_t33_1 on.
SELECT sum(pg_relation_size(s.partition_name) / current_setting('block_size')::bigint) AS budget
  FROM deleted_record_stats_report(exact_pages => :all_pages) s
 WHERE s.kind = 'partition'
   AND (s.period_from IS NULL OR s.period_from >= (SELECT o.period_from FROM deleted_record_stats_report(exact_pages => 0) o
                                                   WHERE o.partition_name = 'deleted_record_t33_1'::regclass)) \gset
SELECT partition_name, rows_archived BETWEEN 2900 AND 3100 AS about_3000, estimated
  FROM deleted_record_stats_report(exact_pages => :budget) WHERE partition_name::text LIKE 'deleted_record_t33_%' ORDER BY 1;
SELECT rows_archived BETWEEN 8900 AND 9100 AS about_9000, estimated,
       oldest_deleted_at = (SELECT min(deleted_at) FROM deleted_record WHERE schema_name = 't33' AND table_name = 'event') AS oldest_right,
       newest_deleted_at = (SELECT max(deleted_at) FROM deleted_record WHERE schema_name = 't33' AND table_name = 'event') AS newest_right
  FROM deleted_record_stats_report(exact_pages => :budget) WHERE table_name = 'event'::regclass;
-- With a budget that covers them the three are counted exactly.
SELECT rows_archived, estimated FROM deleted_record_stats_report(exact_pages => :all_pages) WHERE table_name = 'event'::regclass;

SET client_min_messages = warning;
DELETE FROM deleted_record_holds WHERE name = 'case-33';
DROP TABLE public.deleted_record_t33_1, public.deleted_record_t33_2, public.deleted_record_t33_3;
DROP SCHEMA t33 CASCADE;
