-- stats_8m: times deleted_record_stats and a typed view on a generated archive of 8M rows
-- (four attached tables, one with a retention), as issue 19 asks (under 100 ms): by default in
-- eight past monthly partitions of 1M rows; with -v period=day in 240 past day partitions of
-- 33,334 rows (the case where every partition is small). Run in a scratch database with the
-- extension created:
--   psql -X -d scratch -f test/bench/stats_8m.sql
--   psql -X -d scratch2 -v period=day -f test/bench/stats_8m.sql
\set ON_ERROR_STOP on
\if :{?period}
\else
\set period month
\endif
SET bench.period = :'period';
SET client_min_messages = warning;
CREATE TABLE bench_invoice (id bigint PRIMARY KEY, customer_id int, amount numeric(12,2), note text);
CREATE TABLE bench_order (id bigint PRIMARY KEY, note text);
CREATE TABLE bench_session (id bigint PRIMARY KEY, note text);
CREATE TABLE bench_rare (id bigint PRIMARY KEY, note text);
SELECT deleted_record_attach('bench_invoice', retention => '180 days'), deleted_record_attach('bench_order'),
       deleted_record_attach('bench_session'), deleted_record_attach('bench_rare');
UPDATE deleted_record_attachment SET from_id = '00000000-0000-0000-0000-000000000000' WHERE table_name LIKE 'bench_%';
-- 8M rows in eight past months (1M each) or 240 past days (33,334 each): 60% invoices, 30%
-- orders, 10% sessions, a few rare rows.
DO $$
DECLARE
  m integer;
  lo timestamptz;
  hi timestamptz;
  day boolean := current_setting('bench.period') = 'day';
  parts integer;
  per_part integer;
  part_name text;
BEGIN
  parts := CASE WHEN day THEN 240 ELSE 8 END;
  per_part := CASE WHEN day THEN 33334 ELSE 1000000 END;
  FOR m IN 1 .. parts LOOP
    IF day THEN
      lo := date_trunc('month', now()) - m * interval '1 day';
      hi := lo + interval '1 day';
    ELSE
      lo := date_trunc('month', now()) - m * interval '1 month';
      hi := lo + interval '1 month';
    END IF;
    part_name := 'deleted_record_' || to_char(lo, 'YYYYMMDD') || '_' || to_char(hi, 'YYYYMMDD');
    EXECUTE format('CREATE TABLE public.%I PARTITION OF public.deleted_record FOR VALUES FROM (%L) TO (%L)',
                   part_name, deleted_record_uuid7_floor(lo), deleted_record_uuid7_floor(hi));
    EXECUTE format($q$
      INSERT INTO public.deleted_record (id, data, deleted_at, updated_at, object_id, table_name, schema_name, actor, reason, xact_id, restored_at)
      SELECT overlay(deleted_record_uuid7_floor(t)::text PLACING lpad(to_hex(g %% 65536), 4, '0') || '-8' || lpad(to_hex(g / 65536), 3, '0')
                     || '-' || lpad(to_hex(%1$s * 1000000 + g), 12, '0') FROM 15)::uuid,
             jsonb_build_object('id', g, 'customer_id', g %% 1000, 'amount', (g %% 100000) / 100.0, 'note', 'archived row ' || g),
             t, t, g::text,
             CASE WHEN g %% 10 < 6 THEN 'bench_invoice' WHEN g %% 10 < 9 THEN 'bench_order'
                  WHEN g %% 100000 = 9 THEN 'bench_rare' ELSE 'bench_session' END,
             'public', 'bench', 'generated', g, CASE WHEN g %% 1000 = 0 THEN t END
        FROM generate_series(1, %4$s) g,
             LATERAL (SELECT %2$L::timestamptz + (g / %4$s.0) * (%3$L::timestamptz - %2$L::timestamptz) AS t) x$q$, m, lo, hi, per_part);
    EXECUTE format('ALTER TABLE public.%I ADD PRIMARY KEY (id)', part_name);
    EXECUTE format('CREATE INDEX ON public.%I (table_name, object_id)', part_name);
  END LOOP;
END $$;
VACUUM ANALYZE deleted_record;
SELECT deleted_record_view('bench_invoice');
SELECT count(*) AS archive_rows FROM deleted_record;
-- Each timing in a new session too (the first call of a session plans its statements):
\timing on
\c
SELECT * FROM deleted_record_stats WHERE kind = 'table';
SELECT * FROM deleted_record_stats WHERE kind = 'table';
SELECT * FROM deleted_record_stats WHERE kind = 'table';
SELECT partition_name, period_from, rows_archived, pg_size_pretty(bytes), estimated FROM deleted_record_stats WHERE kind = 'partition';
-- The typed view: one object's rows by its key (an index probe per partition), and the latest deletions.
SELECT id, amount, archive_deleted_at FROM bench_invoice_deleted WHERE archive_object_id = '424242';
SELECT id, amount, archive_deleted_at FROM bench_invoice_deleted WHERE archive_object_id = '424242';
SELECT id, amount FROM bench_invoice_deleted WHERE archive_id >= deleted_record_uuid7_floor(now() - interval '40 days') ORDER BY archive_id DESC LIMIT 20;
\timing off
