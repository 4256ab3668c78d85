-- 04_relcache: per-relation facts are cached per backend but ALTER TABLE between deletes in one
-- session (add/drop/rename/retype a column, change the key, rename the table or its schema) is
-- always reflected in the next archived row.
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
CREATE SCHEMA t04;
SET search_path = t04, public;

CREATE TABLE shape (id int PRIMARY KEY, a text);
SELECT deleted_record_attach('shape');
INSERT INTO shape SELECT g, 'a' || g FROM generate_series(1, 12) g;

DELETE FROM shape WHERE id = 1;
ALTER TABLE shape ADD COLUMN b int DEFAULT 5;
DELETE FROM shape WHERE id = 2;
ALTER TABLE shape DROP COLUMN a;
DELETE FROM shape WHERE id = 3;
ALTER TABLE shape RENAME COLUMN b TO c;
DELETE FROM shape WHERE id = 4;
ALTER TABLE shape ALTER COLUMN c TYPE text USING 'c' || c;
DELETE FROM shape WHERE id = 5;
-- Change the primary key: drop it, add another (composite, in a different column order).
ALTER TABLE shape DROP CONSTRAINT shape_pkey;
ALTER TABLE shape ADD PRIMARY KEY (c, id);
DELETE FROM shape WHERE id = 6;
-- No key at all: object_id NULL.
ALTER TABLE shape DROP CONSTRAINT shape_pkey;
DELETE FROM shape WHERE id = 7;
-- Replica identity index instead.
CREATE UNIQUE INDEX shape_id_idx ON shape (id);
ALTER TABLE shape REPLICA IDENTITY USING INDEX shape_id_idx;
DELETE FROM shape WHERE id = 8;
ALTER TABLE shape ADD PRIMARY KEY (id);
DELETE FROM shape WHERE id = 9;
ALTER TABLE shape RENAME TO shape2;
DELETE FROM shape2 WHERE id = 10;
ALTER SCHEMA t04 RENAME TO t04b;
DELETE FROM t04b.shape2 WHERE id = 11;
ALTER TABLE t04b.shape2 SET SCHEMA public;
DELETE FROM public.shape2 WHERE id = 12;
ALTER TABLE public.shape2 SET SCHEMA t04b;
SELECT (data->>'id')::int AS id, schema_name, table_name, object_id, data
  FROM deleted_record WHERE schema_name IN ('t04', 't04b', 'public') AND table_name IN ('shape', 'shape2')
 ORDER BY 1;

-- The same inside one transaction (invalidations processed between statements of a transaction).
SET search_path = t04b, public;
CREATE TABLE tx (id int PRIMARY KEY, a int);
SELECT deleted_record_attach('tx');
INSERT INTO tx SELECT g, g FROM generate_series(1, 4) g;
BEGIN;
DELETE FROM tx WHERE id = 1;
ALTER TABLE tx ADD COLUMN z text DEFAULT 'zz';
DELETE FROM tx WHERE id = 2;
ALTER TABLE tx DROP COLUMN a;
DELETE FROM tx WHERE id = 3;
ALTER TABLE tx RENAME TO tx_renamed;
DELETE FROM tx_renamed WHERE id = 4;
COMMIT;
SELECT (data->>'id')::int AS id, table_name, object_id, data
  FROM deleted_record WHERE schema_name = 't04b' AND table_name IN ('tx', 'tx_renamed') ORDER BY 1;

-- A DDL change rolled back: the next delete sees the table as it is again.
CREATE TABLE rb (id int PRIMARY KEY, a int);
SELECT deleted_record_attach('rb');
INSERT INTO rb SELECT g, g FROM generate_series(1, 3) g;
DELETE FROM rb WHERE id = 1;
BEGIN;
ALTER TABLE rb ADD COLUMN extra int DEFAULT 99;
DELETE FROM rb WHERE id = 2;
ROLLBACK;
DELETE FROM rb WHERE id = 3;
SELECT (data->>'id')::int AS id, data FROM deleted_record WHERE schema_name = 't04b' AND table_name = 'rb' ORDER BY 1;

-- A dropped and recreated table with the same name and a different shape.
DROP TABLE rb;
CREATE TABLE rb (key text PRIMARY KEY, note text);
SELECT deleted_record_attach('rb');
INSERT INTO rb VALUES ('k1', 'new shape');
DELETE FROM rb;
SELECT object_id, data FROM deleted_record WHERE schema_name = 't04b' AND table_name = 'rb' AND object_id = 'k1';

-- Clean up.
DELETE FROM deleted_record WHERE schema_name IN ('t04', 't04b') OR (schema_name = 'public' AND table_name = 'shape2');
SET client_min_messages = warning;
DROP SCHEMA t04b CASCADE;
