-- 01_archive_table: the archive table's shape and index, UUIDv7 ids, and what one archived row holds
-- (data = to_jsonb(OLD), object_id for every kind of key, transaction time and id, the roles).
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dr_a01;
RESET client_min_messages;
CREATE SCHEMA t01;
SET search_path = t01, public;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- The archive's columns, in order, with their types and nullability.
SELECT column_name, data_type, is_nullable
  FROM information_schema.columns
 WHERE table_schema = 'public' AND table_name = 'deleted_record'
 ORDER BY ordinal_position;

-- The archive is partitioned by range of its time-ordered id; every partition has a primary key
-- on id and an index serving (table_name, object_id) (created with the partition: the parent has
-- no indexes of its own, so partitions restore from a dump as ordinary tables).
SELECT pg_get_partkeydef('public.deleted_record'::regclass) AS partition_key;
SELECT deleted_record_prepare_partitions(2) >= 0 AS prepared;
SELECT bool_and(EXISTS (SELECT FROM pg_constraint c WHERE c.conrelid = t.relid AND c.contype = 'p'
                                                    AND pg_get_constraintdef(c.oid) = 'PRIMARY KEY (id)')) AS every_partition_has_pk,
       bool_and(EXISTS (SELECT FROM pg_index i WHERE i.indrelid = t.relid AND NOT i.indisprimary
                          AND (SELECT array_agg(a.attname ORDER BY k.n) FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n)
                                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)
                              = '{table_name,object_id}'::name[])) AS every_partition_has_lookup_index,
       count(*) FILTER (WHERE pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT') AS default_partitions,
       count(*) >= 4 AS current_and_coming_periods
  FROM pg_partition_tree('public.deleted_record') t JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf;
-- One object's history is found through the partitions' indexes (partition names hold dates,
-- so the plan is summarised).
CREATE FUNCTION plan_lines(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP RETURN NEXT line; END LOOP;
END $$;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) FILTER (WHERE l ~ 'Index (Only )?Scan using deleted_record_\w+_table_name_object_id_idx')
         = (SELECT count(*) FROM pg_partition_tree('public.deleted_record') WHERE isleaf) AS index_scan_per_partition,
       count(*) FILTER (WHERE l ~ 'Seq Scan') AS seq_scans,
       count(*) FILTER (WHERE l ~ 'Index Cond: \(\(table_name = ''credit''::text\) AND \(object_id = ''42''::text\)\)')
         = count(*) FILTER (WHERE l ~ 'Index (Only )?Scan') AS every_scan_uses_both_columns
  FROM plan_lines($$SELECT * FROM deleted_record WHERE table_name = 'credit' AND object_id = '42'$$) l;
-- Rows archived since a moment: partitions before it are skipped.
SELECT count(*) FILTER (WHERE l ~ 'deleted_record_default') AS default_scanned,
       count(*) FILTER (WHERE l ~ 'Scan') < (SELECT count(*) FROM pg_partition_tree('public.deleted_record') WHERE isleaf) AS some_skipped
  FROM plan_lines($$SELECT * FROM deleted_record WHERE id >= deleted_record_uuid7_floor(now() + interval '40 days')$$) l;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- The archive is registered for pg_dump and the extension owns no sequence.
SELECT extconfig::regclass[] AS config_tables FROM pg_extension WHERE extname = 'deleted_record';
SELECT count(*) AS extension_sequences
  FROM pg_depend d JOIN pg_class c ON c.oid = d.objid AND d.classid = 'pg_class'::regclass
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'deleted_record') AND c.relkind = 'S';

-- One archived row: data is exactly to_jsonb(OLD) (typed numbers, booleans, arrays, nested json;
-- the dropped column absent, the generated column present), context columns NULL when unset,
-- deleted_at/updated_at = transaction timestamp, xact_id = the deleting transaction.
CREATE TABLE credit (
    id      bigint PRIMARY KEY,
    amount  numeric(12,2),
    note    text,
    active  boolean,
    tags    text[],
    extra   jsonb,
    created timestamptz,
    dropme  int,
    doubled numeric GENERATED ALWAYS AS (amount * 2) STORED
);
ALTER TABLE credit DROP COLUMN dropme;
SELECT deleted_record_attach('credit');
INSERT INTO credit (id, amount, note, active, tags, extra, created)
VALUES (42, 12.50, 'hello "world"', true, '{a,b,NULL}', '{"n": {"x": [1, 2.5, null, true]}}', '2024-05-01 12:00:00+02');
CREATE TEMP TABLE credit_copy AS SELECT to_jsonb(c) AS j FROM credit c WHERE id = 42;
BEGIN;
DELETE FROM credit WHERE id = 42;
SELECT data = (SELECT j FROM credit_copy) AS data_is_to_jsonb,
       deleted_at = now() AS deleted_at_is_xact_time,
       updated_at IS NOT NULL AS has_updated_at,
       xact_id = pg_current_xact_id()::text::bigint AS xact_id_is_current,
       object_id, table_name, schema_name, partition_name, actor, reason, metadata,
       session_user_name = session_user AS session_user_ok,
       current_user_name = current_user AS current_user_ok
  FROM deleted_record WHERE schema_name = 't01';
COMMIT;
SELECT data FROM deleted_record WHERE schema_name = 't01' AND table_name = 'credit';
SELECT key, jsonb_typeof(value) FROM deleted_record, jsonb_each(data)
 WHERE schema_name = 't01' AND table_name = 'credit' ORDER BY key;

-- UUIDv7 ids: version nibble 7, RFC 4122 variant, a real millisecond timestamp, strictly
-- increasing in insertion order (rows deleted one by one, in id order).
INSERT INTO credit (id, amount) SELECT g, g FROM generate_series(1, 30) g;
DO $$ BEGIN FOR i IN 1..30 LOOP DELETE FROM t01.credit WHERE id = i; END LOOP; END $$;
SELECT count(*) AS n,
       bool_and(substr(id::text, 15, 1) = '7') AS version_7,
       bool_and(substr(id::text, 20, 1) IN ('8', '9', 'a', 'b')) AS rfc_variant,
       bool_and(abs(extract(epoch FROM clock_timestamp()) * 1000
                    - ('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint) < 3600000) AS ms_timestamp,
       array_agg(id ORDER BY (data->>'id')::int) = array_agg(id ORDER BY id) AS ordered,
       count(DISTINCT id) AS distinct_ids
  FROM deleted_record WHERE schema_name = 't01' AND table_name = 'credit' AND (data->>'id')::int <= 30;
-- The same in a single multi-row DELETE (rows are deleted in heap order = insertion order here).
INSERT INTO credit (id, amount) SELECT g, g FROM generate_series(101, 400) g;
DELETE FROM credit WHERE id BETWEEN 101 AND 400;
SELECT count(*) AS n, count(DISTINCT id) AS distinct_ids,
       array_agg(id ORDER BY (data->>'id')::int) = array_agg(id ORDER BY id) AS ordered
  FROM deleted_record WHERE schema_name = 't01' AND table_name = 'credit' AND (data->>'id')::int > 100;

-- deleted_record_uuid7() is a v7 UUID generator, monotonic within the session.
SELECT bool_and(a < b) AS strictly_increasing, bool_and(substr(a::text, 15, 1) = '7') AS version_7
  FROM (SELECT u AS a, lead(u) OVER (ORDER BY n) AS b
          FROM (SELECT n, deleted_record_uuid7() AS u FROM generate_series(1, 2000) n) s) t
 WHERE b IS NOT NULL;

-- object_id for each kind of key.
-- uuid primary key
CREATE TABLE k_uuid (id uuid PRIMARY KEY, v int);
SELECT deleted_record_attach('k_uuid');
INSERT INTO k_uuid VALUES ('a3f0c1d2-0b1c-4d5e-8f90-123456789abc', 1);
DELETE FROM k_uuid;
-- text primary key (quotes and spaces kept as they are)
CREATE TABLE k_text (code text PRIMARY KEY, v int);
SELECT deleted_record_attach('k_text');
INSERT INTO k_text VALUES ('abc', 1), ('O''Brien "x" y', 2);
DELETE FROM k_text;
-- composite primary key, in key-column order (not table-column order)
CREATE TABLE k_comp (a int, b date, c text, PRIMARY KEY (a, b));
CREATE TABLE k_comp_rev (a int, b date, c text, PRIMARY KEY (b, a));
SELECT deleted_record_attach('k_comp'), deleted_record_attach('k_comp_rev');
INSERT INTO k_comp VALUES (7, '2024-05-01', 'x');
INSERT INTO k_comp_rev VALUES (7, '2024-05-01', 'x');
DELETE FROM k_comp;
DELETE FROM k_comp_rev;
-- composite key with a text that needs JSON escaping
CREATE TABLE k_comp_text (t text, n numeric, PRIMARY KEY (t, n));
SELECT deleted_record_attach('k_comp_text');
INSERT INTO k_comp_text VALUES ('say "hi"', 1.50);
DELETE FROM k_comp_text;
-- no primary key, replica identity using a unique index: that index's key
CREATE TABLE k_ri (code text NOT NULL, v int);
CREATE UNIQUE INDEX k_ri_code ON k_ri (code);
ALTER TABLE k_ri REPLICA IDENTITY USING INDEX k_ri_code;
SELECT deleted_record_attach('k_ri');
INSERT INTO k_ri VALUES ('R-1', 1);
DELETE FROM k_ri;
-- replica identity on a two-column index: a JSON array
CREATE TABLE k_ri2 (x int NOT NULL, y text NOT NULL, v int);
CREATE UNIQUE INDEX k_ri2_xy ON k_ri2 (y, x);
ALTER TABLE k_ri2 REPLICA IDENTITY USING INDEX k_ri2_xy;
SELECT deleted_record_attach('k_ri2');
INSERT INTO k_ri2 VALUES (3, 'three', 0);
DELETE FROM k_ri2;
-- a primary key wins over a replica identity index on another column
CREATE TABLE k_pk_and_ri (id int PRIMARY KEY, code text NOT NULL);
CREATE UNIQUE INDEX k_pk_and_ri_code ON k_pk_and_ri (code);
ALTER TABLE k_pk_and_ri REPLICA IDENTITY USING INDEX k_pk_and_ri_code;
SELECT deleted_record_attach('k_pk_and_ri');
INSERT INTO k_pk_and_ri VALUES (5, 'five');
DELETE FROM k_pk_and_ri;
-- no key at all (a unique index that is not the replica identity does not count): NULL
CREATE TABLE k_none (v int, u int);
CREATE UNIQUE INDEX k_none_u ON k_none (u);
SELECT deleted_record_attach('k_none');
INSERT INTO k_none VALUES (1, 1);
DELETE FROM k_none;
SELECT table_name, object_id, object_id IS NULL AS object_id_null
  FROM deleted_record WHERE schema_name = 't01' AND table_name LIKE 'k\_%'
 ORDER BY table_name, object_id;
-- composite object_id is exactly jsonb_build_array(k1, k2)::text
SELECT object_id = jsonb_build_array(7, '2024-05-01'::date)::text AS composite_matches
  FROM deleted_record WHERE schema_name = 't01' AND table_name = 'k_comp';

-- session_user_name / current_user_name: under SET ROLE the current user differs from the session user.
CREATE ROLE regress_dr_a01;
GRANT USAGE ON SCHEMA t01 TO regress_dr_a01;
GRANT SELECT, DELETE ON credit TO regress_dr_a01;
INSERT INTO credit (id, amount) VALUES (43, 1);
SET ROLE regress_dr_a01;
DELETE FROM credit WHERE id = 43;
RESET ROLE;
SELECT object_id, current_user_name,
       session_user_name = session_user AS session_user_is_login_role,
       session_user_name <> current_user_name AS differ
  FROM deleted_record WHERE schema_name = 't01' AND table_name = 'credit' AND object_id = '43';

-- Clean up.
DELETE FROM deleted_record WHERE schema_name = 't01';
SET client_min_messages = warning;
DROP SCHEMA t01 CASCADE;
DROP ROLE regress_dr_a01;
