-- 12_lawful_archive: retention and purge, columns kept out at capture (excluded or masked), and
-- erasure of a data subject; who may do what; every bad input is a clear error that changes nothing.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dr_janitor;
DROP ROLE IF EXISTS regress_dr_nobody;
RESET client_min_messages;
CREATE SCHEMA t12;
SET search_path = t12, public;
SET TimeZone = 'UTC';

-- (1) Column policies at attach: exclude_columns never reach the archive; mask_columns are kept
-- as 'hmac:' and a keyed hash that deleted_record_mask reproduces.
CREATE TABLE customer (id int PRIMARY KEY, email text, password_hash text, phone bigint, born date, name text);
SELECT deleted_record_attach('customer', retention => '30 days', exclude_columns => '{password_hash}',
                             mask_columns => '{email,phone,born}');
SELECT table_name, on_truncate, retention, exclude_columns, mask_columns FROM deleted_record_attached
 WHERE table_name = 'customer'::regclass;
INSERT INTO customer VALUES (1, 'alice@example.com', '$2b$secret', 15551234567, '1990-05-01', 'Alice'),
                            (2, NULL, 'x', NULL, NULL, 'Nobody');
DELETE FROM customer;
SELECT object_id, data ? 'password_hash' AS has_excluded, data->>'name' AS name,
       data->>'email' ~ '^hmac:[0-9a-f]{64}$' AS email_masked, data->'email' = 'null'::jsonb AS null_stays_null,
       data->>'email' = deleted_record_mask('alice@example.com') AS email_matches,
       data->>'phone' = deleted_record_mask('15551234567') AS phone_matches,
       data->>'born' = deleted_record_mask('1990-05-01') AS date_matches,
       excluded_columns, masked_columns
  FROM deleted_record WHERE schema_name = 't12' AND table_name = 'customer' ORDER BY object_id;
-- The archive does not hold the value anywhere.
SELECT count(*) AS rows_holding_the_email FROM deleted_record WHERE data::text LIKE '%alice@example.com%';
-- The same value masks the same way in every table and every session; another value differs.
SELECT deleted_record_mask('alice@example.com') = deleted_record_mask('alice@example.com') AS stable,
       deleted_record_mask('alice@example.com') <> deleted_record_mask('Alice@example.com') AS case_sensitive,
       length(deleted_record_mask('')) AS length_of_form;

-- Errors: unknown columns, key columns, a column both excluded and masked, a name twice, NULL in
-- a list, a retention that is not positive. Nothing changes.
SELECT deleted_record_attach('customer', exclude_columns => '{passwd}', mask_columns => '{email,phone,born}');
SELECT deleted_record_attach('customer', exclude_columns => '{password_hash}', mask_columns => '{id}');
SELECT deleted_record_attach('customer', exclude_columns => '{email}', mask_columns => '{email}');
SELECT deleted_record_attach('customer', exclude_columns => '{name,name}', mask_columns => '{email}');
SELECT deleted_record_attach('customer', exclude_columns => ARRAY[NULL], mask_columns => '{email}');
SELECT deleted_record_attach('customer', retention => '-1 day', exclude_columns => '{}', mask_columns => '{}');
-- Leaving policies out of a later attach does not drop them: say so explicitly, or '{}' to stop.
SELECT deleted_record_attach('customer', 'deny');
SELECT deleted_record_attach('customer', 'deny', exclude_columns => '{password_hash}');
SELECT table_name, on_truncate, retention, exclude_columns, mask_columns FROM deleted_record_attached
 WHERE table_name = 'customer'::regclass;

-- Policies follow ALTER TABLE ... RENAME COLUMN; a dropped column's policy goes with it.
SELECT deleted_record_attach('customer', 'archive', '30 days', '{password_hash}', '{email,phone,born}');
ALTER TABLE customer RENAME COLUMN email TO mail;
ALTER TABLE customer RENAME COLUMN password_hash TO pw;
SELECT exclude_columns, mask_columns FROM deleted_record_attached WHERE table_name = 'customer'::regclass;
ALTER TABLE customer DROP COLUMN born;
SELECT exclude_columns, mask_columns FROM deleted_record_attached WHERE table_name = 'customer'::regclass;
INSERT INTO customer VALUES (3, 'carol@example.com', 'pw', 1, 'Carol');
DELETE FROM customer;
SELECT data ? 'pw' AS has_excluded, data->>'mail' = deleted_record_mask('carol@example.com') AS mail_masked,
       excluded_columns, masked_columns
  FROM deleted_record WHERE schema_name = 't12' AND object_id = '3';

-- Partitions (present and future) and TRUNCATE follow the policies of the attached table.
CREATE TABLE account (id int, region text, secret text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE account_eu PARTITION OF account FOR VALUES IN ('eu');
SELECT deleted_record_attach('account', mask_columns => '{secret}');
CREATE TABLE account_us PARTITION OF account FOR VALUES IN ('us');
INSERT INTO account VALUES (1, 'eu', 's1'), (2, 'us', 's2'), (3, 'us', 's3');
DELETE FROM account WHERE id = 1;
DELETE FROM account_us WHERE id = 2;
TRUNCATE account;
SELECT object_id, partition_name, data->>'secret' = deleted_record_mask(data->>'id' || '') AS nonsense,
       data->>'secret' = deleted_record_mask('s' || (data->>'id')) AS secret_masked
  FROM deleted_record WHERE schema_name = 't12' AND table_name = 'account' ORDER BY object_id;

-- (2) Retention and purge. Archive rows from the past are made here by hand (as the owner); a
-- partition of an old month shows whole-partition drops.
CREATE TABLE invoice (id int PRIMARY KEY, total numeric);
CREATE TABLE ledger (id int PRIMARY KEY);
SELECT deleted_record_attach('invoice', retention => '90 days'), deleted_record_attach('ledger');
-- Retention applies to the rows a table's attachment archived (its identity's windows); the
-- rows made below by hand predate this attach, so the test registers the attachment from the
-- beginning of time, as the update from 1.1 does for tables attached then.
UPDATE deleted_record_attachment SET from_id = '00000000-0000-0000-0000-000000000000'
 WHERE schema_name = 't12' AND table_name IN ('invoice', 'ledger');
CREATE FUNCTION old_archive_rows(tbl text, days int, n int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO public.deleted_record (id, data, deleted_at, updated_at, object_id, table_name, schema_name)
  SELECT overlay(public.deleted_record_uuid7_floor(now() - days * interval '1 day')::text
                 PLACING '7000-8000-' || lpad(to_hex(g), 12, '0') FROM 15)::uuid,
         jsonb_build_object('id', g), now() - days * interval '1 day', now() - days * interval '1 day', g::text, tbl, 't12'
    FROM generate_series(1, n) g
$$;
-- An old month with its own partition: only invoice rows, all past retention.
DO $$
DECLARE lo uuid := deleted_record_uuid7_floor(date_trunc('month', now()) - interval '12 months');
        hi uuid := deleted_record_uuid7_floor(date_trunc('month', now()) - interval '11 months');
BEGIN
  EXECUTE format('CREATE TABLE public.deleted_record_old_month PARTITION OF public.deleted_record FOR VALUES FROM (%L) TO (%L)', lo, hi);
  ALTER TABLE public.deleted_record_old_month ADD PRIMARY KEY (id);
END $$;
SELECT old_archive_rows('invoice', 350, 40);
-- The DEFAULT partition: invoice rows 120 days old (expired) and 10 days old (kept), ledger rows
-- 400 days old (no retention: kept forever).
SELECT old_archive_rows('invoice', 120, 25), old_archive_rows('invoice', 10, 5), old_archive_rows('ledger', 400, 7);
SELECT table_name, count(*) FROM deleted_record WHERE schema_name = 't12' AND table_name IN ('invoice', 'ledger')
 GROUP BY 1 ORDER BY 1;
-- Inside a transaction block it refuses (it commits between batches); bad arguments are errors.
BEGIN;
CALL deleted_record_purge();
ROLLBACK;
CALL deleted_record_purge(batch_size => 0);
CALL deleted_record_purge(older_than => '-1 day');
-- By retention, in batches of 10: the old month's partition is dropped whole, the DEFAULT
-- partition loses only the expired invoice rows.
CALL deleted_record_purge(batch_size => 10);
SELECT table_name, count(*), min(deleted_at) > now() - interval '90 days' AS all_within_retention
  FROM deleted_record WHERE schema_name = 't12' AND table_name IN ('invoice', 'ledger') GROUP BY 1 ORDER BY 1;
SELECT count(*) AS old_month_partitions FROM pg_class WHERE relname = 'deleted_record_old_month';
-- Nothing left to purge: removes 0.
CALL deleted_record_purge();
-- older_than applies to every table, with or without retention.
CALL deleted_record_purge(older_than => '300 days');
SELECT table_name, count(*) FROM deleted_record WHERE schema_name = 't12' AND table_name IN ('invoice', 'ledger')
 GROUP BY 1 ORDER BY 1;

-- (3) Erasure: rows go, tombstones stay (no data), with who, when and why.
CREATE TABLE person (id int PRIMARY KEY, name text, friend_id int);
SELECT deleted_record_attach('person', mask_columns => '{name}');
INSERT INTO person VALUES (42, 'Dana', NULL), (43, 'Eve', 42), (44, 'Finn', 42), (45, 'Gus', 7);
DELETE FROM person;
-- Finding a person's rows: their own row by object_id, rows pointing at them through data,
-- masked values through deleted_record_mask.
CREATE TEMP TABLE subject AS
SELECT id FROM deleted_record
 WHERE schema_name = 't12' AND table_name = 'person'
   AND (object_id = '42' OR data->>'friend_id' = '42' OR data->>'name' = deleted_record_mask('Dana'));
SELECT count(*) AS subject_rows FROM subject;
-- Errors change nothing: no reason, a blank reason, NULL ids, an id that is not an archive row.
SELECT deleted_record_erase((SELECT array_agg(id) FROM subject), NULL);
SELECT deleted_record_erase((SELECT array_agg(id) FROM subject), '   ');
SELECT deleted_record_erase(NULL, 'gdpr');
SELECT deleted_record_erase(ARRAY[NULL]::uuid[], 'gdpr');
SELECT deleted_record_erase((SELECT array_agg(id) FROM subject) || '00000000-0000-7000-8000-000000000000'::uuid, 'gdpr');
SELECT count(*) AS still_there FROM deleted_record d JOIN subject s USING (id);
SELECT deleted_record_erase((SELECT array_agg(id) || array_agg(id) FROM subject), 'GDPR request #4711') AS erased;
SELECT count(*) AS left_in_archive FROM deleted_record d JOIN subject s USING (id);
SELECT e.table_name, e.schema_name, e.object_id, e.erased_by = current_user AS by_me, e.reason,
       e.erased_at BETWEEN now() - interval '1 hour' AND now() AS erased_now, e.deleted_at IS NOT NULL AS has_deleted_at
  FROM deleted_record_erasure e JOIN subject s ON s.id = e.archive_id ORDER BY e.object_id;
-- The tombstone table holds no data.
SELECT string_agg(attname, ', ' ORDER BY attnum) AS tombstone_columns FROM pg_attribute
 WHERE attrelid = 'public.deleted_record_erasure'::regclass AND attnum > 0;
-- Erasing again: the rows are gone; the error says they were erased before (ids masked here).
CREATE FUNCTION failure(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE message text; detail text;
BEGIN
  EXECUTE statement;
  RETURN 'no error';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || regexp_replace(message || ' / ' || coalesce(detail, ''), '[0-9a-f]{8}-[0-9a-f-]{27}', '<id>', 'g');
END $$;
SELECT failure(format('SELECT deleted_record_erase(%L, %L)', (SELECT array_agg(id) FROM subject), 'again')) AS erase_again;
-- The other person's row is untouched.
SELECT object_id FROM deleted_record WHERE schema_name = 't12' AND table_name = 'person';

-- (4) Privileges: purge, erase and mask are for roles the DBA grants them to; the secret is
-- readable by the owner only.
CREATE ROLE regress_dr_nobody;
CREATE ROLE regress_dr_janitor;
GRANT USAGE ON SCHEMA t12 TO regress_dr_nobody, regress_dr_janitor;
SELECT p.proname, has_function_privilege('regress_dr_nobody', p.oid, 'EXECUTE') AS nobody_may
  FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
   AND p.proname IN ('deleted_record_purge', 'deleted_record_purge_step', 'deleted_record_erase', 'deleted_record_mask')
 ORDER BY 1;
SELECT c.relname, has_table_privilege('regress_dr_nobody', c.oid, 'SELECT') AS nobody_reads
  FROM pg_class c WHERE c.relname IN ('deleted_record_secret', 'deleted_record_erasure', 'deleted_record_partition_tables')
 ORDER BY 1;
SET ROLE regress_dr_nobody;
SELECT deleted_record_mask('x');
SELECT deleted_record_erase('{}', 'x');
CALL deleted_record_purge();
SELECT * FROM deleted_record_secret;
RESET ROLE;
-- Granting the procedure alone is not enough; the message says what else to grant.
GRANT EXECUTE ON PROCEDURE deleted_record_purge(interval, integer, bigint) TO regress_dr_janitor;
SET ROLE regress_dr_janitor;
CALL deleted_record_purge();
RESET ROLE;
GRANT EXECUTE ON FUNCTION deleted_record_purge_step(interval, integer, regclass[]) TO regress_dr_janitor;
SET ROLE regress_dr_janitor;
CALL deleted_record_purge();
RESET ROLE;

-- Clean up.
DELETE FROM deleted_record WHERE schema_name = 't12';
DELETE FROM deleted_record_erasure WHERE schema_name = 't12';
SET client_min_messages = warning;
DROP SCHEMA t12 CASCADE;
DROP OWNED BY regress_dr_janitor, regress_dr_nobody;
DROP ROLE regress_dr_janitor;
DROP ROLE regress_dr_nobody;
