-- 19_holds: legal holds (issue 19, item 3). A hold covers archive rows of a table, of one object,
-- of a range of deletion times; purge leaves held rows (a partition holding them is not dropped,
-- its other expired rows still go), erasure of a held row fails naming the hold; release lets the
-- next purge proceed; holds and releases are recorded; placing and releasing is a grant of its own.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dr_counsel;
DROP ROLE IF EXISTS regress_dr_nobody19;
RESET client_min_messages;
CREATE SCHEMA t19;
SET search_path = t19, public;
SET TimeZone = 'UTC';

CREATE TABLE invoice (id int PRIMARY KEY, total numeric);
CREATE TABLE ledger (id int PRIMARY KEY);
SELECT deleted_record_attach('invoice', retention => '90 days'), deleted_record_attach('ledger', retention => '90 days');
-- The rows made below by hand predate the attach: register the attachments from the beginning of time.
UPDATE deleted_record_attachment SET from_id = '00000000-0000-0000-0000-000000000000'
 WHERE schema_name = 't19' AND table_name IN ('invoice', 'ledger');
CREATE FUNCTION old_archive_rows(tbl text, days int, first int, n int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO public.deleted_record (id, data, deleted_at, updated_at, object_id, table_name, schema_name)
  SELECT overlay(public.deleted_record_uuid7_floor(now() - days * interval '1 day')::text
                 PLACING '7000-8000-' || lpad(to_hex(g), 12, '0') FROM 15)::uuid,
         jsonb_build_object('id', g), now() - days * interval '1 day', now() - days * interval '1 day', g::text, tbl, 't19'
    FROM generate_series(first, first + n - 1) g
$$;
-- try_erase erases, or says why not (archive ids vary from run to run: shown as <id>).
CREATE FUNCTION try_erase(object_ids text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE detail text; hint text;
BEGIN
  RETURN 'erased ' || deleted_record_erase(ARRAY(SELECT id FROM public.deleted_record
                                                   WHERE schema_name = 't19' AND object_id = ANY (object_ids)), 'GDPR request');
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RETURN replace(regexp_replace(SQLERRM || ' / ' || detail || ' / ' || hint, '[0-9a-f]{8}-[0-9a-f-]{27}', '<id>', 'g'),
                 'Held by ' || current_user || ':', 'Held by <me>:');
END $$;
-- An old month with its own partition: invoice rows 1..10 and ledger rows 51..55, all expired.
DO $$
DECLARE lo uuid := deleted_record_uuid7_floor(date_trunc('month', now()) - interval '14 months');
        hi uuid := deleted_record_uuid7_floor(date_trunc('month', now()) - interval '13 months');
BEGIN
  EXECUTE format('CREATE TABLE public.deleted_record_hold_month PARTITION OF public.deleted_record FOR VALUES FROM (%L) TO (%L)', lo, hi);
  ALTER TABLE public.deleted_record_hold_month ADD PRIMARY KEY (id);
END $$;
SELECT old_archive_rows('invoice', 410, 1, 10), old_archive_rows('ledger', 410, 51, 5);
-- The DEFAULT partition: invoice rows 101..120 deleted 200 days ago, 121..125 deleted 100 days ago.
SELECT old_archive_rows('invoice', 200, 101, 20), old_archive_rows('invoice', 100, 121, 5);

-- (1) Bad arguments are errors; nothing is recorded.
SELECT deleted_record_hold(NULL, 'x');
SELECT deleted_record_hold('  ', 'x');
SELECT deleted_record_hold('case-1', NULL);
SELECT deleted_record_hold('case-1', ' ');
SELECT deleted_record_hold('case-1', 'x', for_object => '4');
SELECT deleted_record_hold('case-1', 'x', deleted_from => now(), deleted_until => now() - interval '1 day');
SELECT count(*) AS holds FROM deleted_record_holds;

-- (2) Three holds: one object of invoice (in the old month), a time range (a window of two
-- days around the 200-day-old rows 101..120), and ledger as a whole; the same name twice is refused while the first is in place.
SELECT deleted_record_hold('case-object', 'subpoena 17: invoice 4', for_table => 'invoice', for_object => '4');
SELECT deleted_record_hold('case-range', 'audit of last spring', deleted_from => now() - interval '201 days',
                           deleted_until => now() - interval '199 days');
SELECT deleted_record_hold('case-ledger', 'tax inspection', for_table => 'ledger');
\set VERBOSITY terse
SELECT deleted_record_hold('case-ledger', 'again');
\set VERBOSITY default
SELECT name, reason, schema_name, table_name, cardinality(attachment_ids) > 0 AS has_attachment, object_id,
       deleted_from IS NOT NULL AS has_from, deleted_until IS NOT NULL AS has_until, held_by = current_user AS by_me,
       released_at
  FROM deleted_record_holds ORDER BY name;
-- What each row is held by (the one rule, as purge and erasure ask it).
SELECT deleted_record_hold_rule('d') AS hold_rule \gset
SELECT d.table_name, :hold_rule AS hold, count(*), min(d.object_id::int), max(d.object_id::int)
  FROM deleted_record d WHERE d.schema_name = 't19' GROUP BY 1, 2 ORDER BY 1, 2;

-- (3) Purge by retention: the old month is not dropped (it holds invoice 4 and ledger's rows);
-- its other expired rows go. In the DEFAULT partition the held range stays, the 100-day-old rows
-- (not held, expired) go.
CALL deleted_record_purge(batch_size => 3);
SELECT count(*) AS hold_month_partitions FROM pg_class WHERE relname = 'deleted_record_hold_month';
SELECT table_name, count(*), string_agg(object_id, ',' ORDER BY object_id::int) FILTER (WHERE object_id::int < 100) AS old_month_rows
  FROM deleted_record WHERE schema_name = 't19' GROUP BY 1 ORDER BY 1;
-- older_than (every table) leaves them too.
CALL deleted_record_purge(older_than => '1 day');
SELECT table_name, count(*) FROM deleted_record WHERE schema_name = 't19' GROUP BY 1 ORDER BY 1;

-- (4) Erasure of a held row fails naming the hold, and erases nothing (not even the unheld row
-- in the same call); the unheld row alone is erased.
INSERT INTO invoice VALUES (900, 1);
DELETE FROM invoice WHERE id = 900;
SELECT try_erase('{4,900}');
SELECT count(*) AS invoice_rows FROM deleted_record WHERE schema_name = 't19' AND table_name = 'invoice';
SELECT count(*) AS tombstones FROM deleted_record_erasure WHERE schema_name = 't19';
SELECT try_erase('{900}');

-- (5) Release: recorded with who and when; releasing again is an error; the name may be reused.
SELECT deleted_record_release('case-ledger');
SELECT deleted_record_release('case-ledger');
SELECT deleted_record_release('no-such-hold');
SELECT name, released_at IS NOT NULL AS released, released_by = current_user AS by_me FROM deleted_record_holds ORDER BY name, held_at;
SELECT deleted_record_release('case-object');
-- The next purge proceeds: the old month is dropped whole (its rows are all expired and unheld);
-- the held range of the DEFAULT partition stays until its release.
CALL deleted_record_purge();
SELECT count(*) AS hold_month_partitions FROM pg_class WHERE relname = 'deleted_record_hold_month';
SELECT table_name, count(*) FROM deleted_record WHERE schema_name = 't19' GROUP BY 1 ORDER BY 1;
SELECT deleted_record_release('case-range');
CALL deleted_record_purge();
SELECT count(*) AS rows_left FROM deleted_record WHERE schema_name = 't19';
SELECT deleted_record_hold('case-ledger', 'reopened', for_table => 'ledger');
SELECT name, count(*) AS times_held, count(released_at) AS times_released FROM deleted_record_holds GROUP BY 1 ORDER BY 1;

-- (6) A hold follows its table's identity: rows archived after a rename are held by a hold
-- placed before it.
INSERT INTO ledger VALUES (77);
ALTER TABLE ledger RENAME TO ledger_renamed;
DELETE FROM ledger_renamed WHERE id = 77;
SELECT try_erase('{77}');
SELECT deleted_record_release('case-ledger');

-- (7) Privileges: hold and release are not PUBLIC; a granted role may place and release holds,
-- recorded under its name; without the grant it may not; the hold list is not readable by PUBLIC.
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may
  FROM pg_proc p WHERE p.proname IN ('deleted_record_hold', 'deleted_record_release', 'deleted_record_hold_rule') ORDER BY 1;
SELECT has_table_privilege('public', 'deleted_record_holds', 'SELECT') AS public_reads_holds;
CREATE ROLE regress_dr_counsel;
CREATE ROLE regress_dr_nobody19;
GRANT USAGE ON SCHEMA t19 TO regress_dr_counsel, regress_dr_nobody19;
GRANT EXECUTE ON FUNCTION deleted_record_hold(text, text, regclass, text, timestamptz, timestamptz),
                          deleted_record_release(text) TO regress_dr_counsel;
SET ROLE regress_dr_nobody19;
SELECT deleted_record_hold('case-x', 'x');
SELECT deleted_record_release('case-x');
SELECT count(*) FROM deleted_record_holds;
SET ROLE regress_dr_counsel;
SELECT deleted_record_hold('case-x', 'litigation', for_table => 't19.invoice');
SELECT deleted_record_release('case-x');
RESET ROLE;
SELECT name, held_by, released_by FROM deleted_record_holds WHERE name = 'case-x';

-- A hold names a table: a view (a typed view, say) or an index would hold nothing.
CREATE VIEW t19.invoice_view AS SELECT * FROM t19.invoice;
SELECT deleted_record_hold('case-view', 'litigation', for_table => 't19.invoice_view');
SELECT count(*) AS holds_named_case_view FROM deleted_record_holds WHERE name = 'case-view';

SET client_min_messages = warning;
DROP SCHEMA t19 CASCADE;
DELETE FROM deleted_record_holds;
REVOKE ALL ON FUNCTION deleted_record_hold(text, text, regclass, text, timestamptz, timestamptz),
                       deleted_record_release(text) FROM regress_dr_counsel;
DROP ROLE regress_dr_counsel;
DROP ROLE regress_dr_nobody19;
