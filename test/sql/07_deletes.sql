-- 07_deletes: every way rows disappear is archived (DELETE, RETURNING, MERGE, ON DELETE CASCADE,
-- CTE, prepared statements, plpgsql and SQL functions, updatable views, TRUNCATE per policy and
-- TRUNCATE ... CASCADE); rolled-back deletes leave nothing; quoted, mixed-case and Unicode names.
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
CREATE SCHEMA t07;
SET search_path = t07, public;

CREATE TABLE item (id int PRIMARY KEY, label text);
SELECT deleted_record_attach('item');
INSERT INTO item SELECT g, 'item ' || g FROM generate_series(1, 40) g;

-- Plain DELETE.
DELETE FROM item WHERE id = 1;
-- DELETE ... RETURNING.
DELETE FROM item WHERE id IN (2, 3) RETURNING id, label;
-- MERGE ... WHEN MATCHED THEN DELETE (and a non-matching source row that inserts).
MERGE INTO item t USING (VALUES (4), (5), (100)) AS s(id) ON t.id = s.id
 WHEN MATCHED THEN DELETE
 WHEN NOT MATCHED THEN INSERT VALUES (s.id, 'merged');
-- MERGE that updates instead: not archived.
MERGE INTO item t USING (VALUES (6)) AS s(id) ON t.id = s.id WHEN MATCHED THEN UPDATE SET label = 'updated';
-- DELETE inside a CTE.
WITH d AS (DELETE FROM item WHERE id IN (7, 8) RETURNING id)
SELECT count(*) AS deleted_in_cte FROM d;
-- A CTE that deletes and an outer statement that deletes again.
WITH d AS (DELETE FROM item WHERE id = 9 RETURNING id)
DELETE FROM item WHERE id = 10 AND EXISTS (SELECT FROM d);
-- Prepared statement, executed often enough to switch to a generic plan.
PREPARE del_item(int) AS DELETE FROM item WHERE id = $1;
EXECUTE del_item(11);
EXECUTE del_item(12);
EXECUTE del_item(13);
EXECUTE del_item(14);
EXECUTE del_item(15);
EXECUTE del_item(16);
EXECUTE del_item(17);
DEALLOCATE del_item;
-- DO block.
DO $$ BEGIN DELETE FROM t07.item WHERE id = 18; DELETE FROM t07.item WHERE id = 19; END $$;
-- plpgsql function (its plan is cached across calls).
CREATE FUNCTION purge_item(p int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
  DELETE FROM t07.item WHERE id = p;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
SELECT purge_item(20), purge_item(21), purge_item(22);
-- SQL function.
CREATE FUNCTION purge_item_sql(p int) RETURNS void LANGUAGE sql AS $$ DELETE FROM t07.item WHERE id = p $$;
SELECT purge_item_sql(23);
-- Procedure with a COMMIT between two deletes.
CREATE PROCEDURE purge_two(a int, b int) LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM t07.item WHERE id = a;
  COMMIT;
  DELETE FROM t07.item WHERE id = b;
END $$;
CALL purge_two(24, 25);
-- Through an automatically updatable view: archived under the table's name.
CREATE VIEW item_view AS SELECT * FROM item WHERE id > 25;
DELETE FROM item_view WHERE id = 26;
-- A BEFORE DELETE trigger that skips the row: nothing deleted, nothing archived.
CREATE FUNCTION skip_27() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF OLD.id = 27 THEN RETURN NULL; END IF; RETURN OLD; END $$;
CREATE TRIGGER skip_27 BEFORE DELETE ON item FOR EACH ROW EXECUTE FUNCTION skip_27();
DELETE FROM item WHERE id IN (27, 28);
DROP TRIGGER skip_27 ON item;
SELECT (data->>'id')::int AS id, object_id, data->>'label' AS label
  FROM deleted_record WHERE schema_name = 't07' AND table_name = 'item' ORDER BY 1;
-- Every deleted row is archived exactly once; rows not deleted are not archived.
SELECT count(*) AS archived, count(DISTINCT object_id) AS distinct_rows,
       (SELECT count(*) FROM item WHERE id <= 40) AS left_in_table
  FROM deleted_record WHERE schema_name = 't07' AND table_name = 'item';

-- Rolled-back deletes leave nothing: ROLLBACK, ROLLBACK TO SAVEPOINT, an error later in the transaction.
BEGIN;
DELETE FROM item WHERE id = 30;
ROLLBACK;
BEGIN;
DELETE FROM item WHERE id = 31;
SAVEPOINT s1;
DELETE FROM item WHERE id = 32;
ROLLBACK TO SAVEPOINT s1;
SAVEPOINT s2;
DELETE FROM item WHERE id = 33;
RELEASE SAVEPOINT s2;
COMMIT;
BEGIN;
DELETE FROM item WHERE id = 34;
SELECT 1 / 0;
COMMIT;
-- A plpgsql exception block that undoes a delete (also one whose statement failed in a later
-- AFTER trigger, after the row was handed to the archive), then a delete that stays.
CREATE FUNCTION fail_on_37_39() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF OLD.id IN (37, 39) THEN RAISE EXCEPTION 'refusing to delete %', OLD.id; END IF; RETURN OLD; END $$;
CREATE TRIGGER zz_fail AFTER DELETE ON item FOR EACH ROW EXECUTE FUNCTION fail_on_37_39();
DO $$
BEGIN
  BEGIN
    DELETE FROM t07.item WHERE id = 35;
    RAISE EXCEPTION 'undo';
  EXCEPTION WHEN others THEN NULL;
  END;
  BEGIN
    DELETE FROM t07.item WHERE id IN (36, 37);
  EXCEPTION WHEN others THEN RAISE NOTICE 'caught: %', SQLERRM;
  END;
  DELETE FROM t07.item WHERE id = 38;
END $$;
BEGIN;
SAVEPOINT s3;
DELETE FROM item WHERE id = 39;
ROLLBACK TO SAVEPOINT s3;
DELETE FROM item WHERE id = 40;
COMMIT;
DROP TRIGGER zz_fail ON item;
SELECT object_id FROM deleted_record
 WHERE schema_name = 't07' AND table_name = 'item' AND object_id::int BETWEEN 30 AND 40 ORDER BY object_id::int;
SELECT id FROM item WHERE id BETWEEN 30 AND 40 ORDER BY id;

-- A large DELETE: every row archived once.
CREATE TABLE bulk (id int PRIMARY KEY, payload text);
SELECT deleted_record_attach('bulk');
INSERT INTO bulk SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
DELETE FROM bulk;
SELECT count(*) AS archived, count(DISTINCT object_id) AS distinct_ids, count(DISTINCT xact_id) AS xacts,
       bool_and(data->>'payload' = md5(object_id)) AS data_ok
  FROM deleted_record WHERE schema_name = 't07' AND table_name = 'bulk';

-- ON DELETE CASCADE through three levels: all archived, one xact_id for the whole cascade.
-- (An ON DELETE SET NULL child is updated, not deleted: not archived.)
CREATE TABLE customer (id int PRIMARY KEY, name text);
CREATE TABLE invoice (id int PRIMARY KEY, customer_id int REFERENCES customer ON DELETE CASCADE, total numeric);
CREATE TABLE invoice_line (id int PRIMARY KEY, invoice_id int REFERENCES invoice ON DELETE CASCADE, what text);
CREATE TABLE note (id int PRIMARY KEY, customer_id int REFERENCES customer ON DELETE SET NULL);
SELECT deleted_record_attach('customer'), deleted_record_attach('invoice'),
       deleted_record_attach('invoice_line'), deleted_record_attach('note');
INSERT INTO customer VALUES (1, 'Acme'), (2, 'Globex');
INSERT INTO invoice VALUES (10, 1, 100), (11, 1, 200), (20, 2, 50);
INSERT INTO invoice_line VALUES (100, 10, 'a'), (101, 10, 'b'), (110, 11, 'c'), (200, 20, 'd');
INSERT INTO note VALUES (1, 1);
BEGIN;
DELETE FROM customer WHERE id = 1;
SELECT table_name, count(*) AS rows, bool_and(xact_id = pg_current_xact_id()::text::bigint) AS same_xact
  FROM deleted_record WHERE schema_name = 't07' AND table_name IN ('customer', 'invoice', 'invoice_line', 'note')
 GROUP BY table_name ORDER BY table_name;
COMMIT;
SELECT count(*) AS rows, count(DISTINCT xact_id) AS xact_ids, count(DISTINCT deleted_at) AS deleted_ats
  FROM deleted_record WHERE schema_name = 't07' AND table_name IN ('customer', 'invoice', 'invoice_line');
SELECT table_name, object_id FROM deleted_record
 WHERE schema_name = 't07' AND table_name IN ('customer', 'invoice', 'invoice_line', 'note') ORDER BY 1, 2;
SELECT * FROM note;

-- deleted_record_insert() attached by hand as a deferred constraint trigger fires at COMMIT:
-- the rows are archived then, in the same transaction (and not at all when it rolls back).
CREATE TABLE deferred (id int PRIMARY KEY);
CREATE CONSTRAINT TRIGGER deleted_record_insert AFTER DELETE ON deferred DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
INSERT INTO deferred VALUES (1), (2), (3);
BEGIN;
DELETE FROM deferred WHERE id IN (1, 2);
SELECT count(*) AS archived_before_commit FROM deleted_record WHERE schema_name = 't07' AND table_name = 'deferred';
COMMIT;
BEGIN;
DELETE FROM deferred WHERE id = 3;
ROLLBACK;
SELECT object_id, count(*) OVER () AS n FROM deleted_record WHERE schema_name = 't07' AND table_name = 'deferred' ORDER BY 1;
SELECT count(DISTINCT xact_id) AS xacts FROM deleted_record WHERE schema_name = 't07' AND table_name = 'deferred';

-- TRUNCATE, policy archive: rows archived (with the context), table empty.
CREATE TABLE tr_archive (id int PRIMARY KEY, v text);
SELECT deleted_record_attach('tr_archive', 'archive');
INSERT INTO tr_archive VALUES (1, 'one'), (2, 'two'), (3, 'three');
BEGIN;
SELECT deleted_record_set_context('janitor', 'truncate test');
TRUNCATE tr_archive;
SELECT count(*) AS archived, bool_and(xact_id = pg_current_xact_id()::text::bigint) AS same_xact, bool_and(deleted_at = now()) AS same_time
  FROM deleted_record WHERE schema_name = 't07' AND table_name = 'tr_archive';
COMMIT;
SELECT count(*) AS rows_left FROM tr_archive;
SELECT object_id, data, actor, reason FROM deleted_record
 WHERE schema_name = 't07' AND table_name = 'tr_archive' ORDER BY object_id;
-- A rolled-back TRUNCATE leaves nothing archived and the rows back.
INSERT INTO tr_archive VALUES (4, 'four');
BEGIN;
TRUNCATE tr_archive;
ROLLBACK;
SELECT count(*) AS rows_back FROM tr_archive;
SELECT count(*) AS archived_4 FROM deleted_record WHERE schema_name = 't07' AND table_name = 'tr_archive' AND object_id = '4';

-- TRUNCATE, policy deny: clear error, rows stay, nothing archived.
CREATE TABLE tr_deny (id int PRIMARY KEY);
SELECT deleted_record_attach('tr_deny', 'deny');
INSERT INTO tr_deny VALUES (1), (2);
TRUNCATE tr_deny;
SELECT count(*) AS rows_left FROM tr_deny;
SELECT count(*) AS archived FROM deleted_record WHERE schema_name = 't07' AND table_name = 'tr_deny';
-- DELETE still works and archives under deny.
DELETE FROM tr_deny WHERE id = 1;
SELECT count(*) AS archived FROM deleted_record WHERE schema_name = 't07' AND table_name = 'tr_deny';

-- TRUNCATE, policy ignore: table emptied, nothing archived.
CREATE TABLE tr_ignore (id int PRIMARY KEY);
SELECT deleted_record_attach('tr_ignore', 'ignore');
INSERT INTO tr_ignore VALUES (1), (2);
TRUNCATE tr_ignore;
SELECT count(*) AS rows_left FROM tr_ignore;
SELECT count(*) AS archived FROM deleted_record WHERE schema_name = 't07' AND table_name = 'tr_ignore';

-- TRUNCATE ... CASCADE of attached tables (policy archive): every row of every table archived.
INSERT INTO customer VALUES (3, 'Initech');
INSERT INTO invoice VALUES (30, 3, 10);
INSERT INTO invoice_line VALUES (300, 30, 'x'), (301, 30, 'y');
TRUNCATE customer CASCADE;
SELECT (SELECT count(*) FROM customer) + (SELECT count(*) FROM invoice) + (SELECT count(*) FROM invoice_line)
       + (SELECT count(*) FROM note) AS rows_left;
SELECT table_name, object_id FROM deleted_record
 WHERE schema_name = 't07' AND table_name IN ('customer', 'invoice', 'invoice_line', 'note') AND xact_id <> (
       SELECT xact_id FROM deleted_record WHERE schema_name = 't07' AND table_name = 'customer' AND object_id = '1')
 ORDER BY 1, 2;
-- TRUNCATE ... CASCADE reaching a table whose policy is deny: the whole TRUNCATE fails.
CREATE TABLE parent_d (id int PRIMARY KEY);
CREATE TABLE child_d (id int PRIMARY KEY, parent_id int REFERENCES parent_d);
SELECT deleted_record_attach('parent_d'), deleted_record_attach('child_d', 'deny');
INSERT INTO parent_d VALUES (1);
INSERT INTO child_d VALUES (1, 1);
TRUNCATE parent_d CASCADE;
SELECT (SELECT count(*) FROM parent_d) AS parents, (SELECT count(*) FROM child_d) AS children,
       (SELECT count(*) FROM deleted_record WHERE schema_name = 't07' AND table_name IN ('parent_d', 'child_d')) AS archived;
-- TRUNCATE of several tables in one statement.
CREATE TABLE tr_a (id int PRIMARY KEY);
CREATE TABLE tr_b (id int PRIMARY KEY);
SELECT deleted_record_attach('tr_a'), deleted_record_attach('tr_b');
INSERT INTO tr_a VALUES (1), (2);
INSERT INTO tr_b VALUES (1);
TRUNCATE tr_a, tr_b;
SELECT table_name, count(*) FROM deleted_record WHERE schema_name = 't07' AND table_name IN ('tr_a', 'tr_b')
 GROUP BY 1 ORDER BY 1;

-- Quoted, mixed-case and Unicode identifiers (schema, table and columns, one with a dot and one with a quote).
CREATE SCHEMA "Sales Dept";
CREATE TABLE "Sales Dept"."Invoice Items" ("Line No" int PRIMARY KEY, "Ünïcödé" text, "a.b" int, "quo""te" text, "MixedCase" bool);
SELECT deleted_record_attach('"Sales Dept"."Invoice Items"');
INSERT INTO "Sales Dept"."Invoice Items" VALUES (1, 'ß→✓', 2, 'q', true);
DELETE FROM "Sales Dept"."Invoice Items";
CREATE TABLE "Ünïcödé" ("ïd" text PRIMARY KEY, "🚀" int);
SELECT deleted_record_attach('"Ünïcödé"');
INSERT INTO "Ünïcödé" VALUES ('clé', 1);
DELETE FROM "Ünïcödé";
CREATE TABLE "weird.name" ("k""1" int, "k.2" text, PRIMARY KEY ("k.2", "k""1"));
SELECT deleted_record_attach('"weird.name"');
INSERT INTO "weird.name" VALUES (1, 'two');
DELETE FROM "weird.name";
SELECT schema_name, table_name, object_id, data FROM deleted_record
 WHERE schema_name IN ('Sales Dept', 't07') AND table_name IN ('Invoice Items', 'Ünïcödé', 'weird.name') ORDER BY table_name;
SELECT table_name FROM deleted_record_attached WHERE table_name = '"Sales Dept"."Invoice Items"'::regclass;

-- Clean up.
DELETE FROM deleted_record WHERE schema_name IN ('t07', 'Sales Dept');
SET client_min_messages = warning;
DROP SCHEMA t07 CASCADE;
DROP SCHEMA "Sales Dept" CASCADE;
