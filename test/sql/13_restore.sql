-- 13_restore: undelete. One row, a whole cascade, any selection; parents first whatever order
-- the ids come in; columns by name into today's table; conflicts; atomic failures that name the
-- archive row, the table and the reason; dry runs; triggers; privileges.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dr_restorer;
RESET client_min_messages;
CREATE SCHEMA t13;
SET search_path = t13, public;
SET TimeZone = 'UTC';
-- restored(outcome rows) without ids or timestamps, which differ per run.
CREATE FUNCTION outcomes(rows_ jsonb) RETURNS TABLE (target text, object_id text, outcome text, detail text)
LANGUAGE sql AS $$
  SELECT r->>'target', r->>'object_id', r->>'outcome',
         regexp_replace(r->>'detail', 'restored at [0-9-]+ [0-9:]+ UTC by', 'restored at <time> UTC by')
    FROM jsonb_array_elements(rows_) r
$$;
-- failure(statement): its error, with archive ids masked.
CREATE FUNCTION failure(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE message text; detail text; hint text;
BEGIN
  EXECUTE statement;
  RETURN 'no error';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RETURN regexp_replace(SQLSTATE || ': ' || message || coalesce(' / ' || nullif(detail, ''), '') || coalesce(' / ' || nullif(hint, ''), ''),
                        '[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g');
END $$;
CREATE FUNCTION restore_json(ids uuid[], on_conflict text DEFAULT 'error', dry_run boolean DEFAULT false) RETURNS jsonb
LANGUAGE sql AS $$ SELECT jsonb_agg(to_jsonb(r)) FROM deleted_record_restore(ids, on_conflict, dry_run) r $$;
CREATE FUNCTION ids_of(tbl text, keys text[] DEFAULT NULL) RETURNS uuid[] LANGUAGE sql AS $$
  SELECT array_agg(id ORDER BY id DESC) FROM public.deleted_record
   WHERE schema_name = 't13' AND table_name = tbl AND restored_at IS NULL AND (keys IS NULL OR object_id = ANY (keys))
$$;

-- A three-level cascade (customer -> invoice -> invoice_line) restored by its transaction.
CREATE TABLE customer (id int PRIMARY KEY, name text);
CREATE TABLE invoice (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customer ON DELETE CASCADE, total numeric);
CREATE TABLE invoice_line (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                           invoice_id int NOT NULL REFERENCES invoice ON DELETE CASCADE, what text);
SELECT deleted_record_attach('customer'), deleted_record_attach('invoice'), deleted_record_attach('invoice_line');
INSERT INTO customer VALUES (1, 'Acme'), (2, 'Globex');
INSERT INTO invoice VALUES (10, 1, 100.50), (11, 1, 200), (20, 2, 5);
INSERT INTO invoice_line (invoice_id, what) VALUES (10, 'a'), (10, 'b'), (11, 'c'), (20, 'd');
CREATE TEMP TABLE before_delete AS
SELECT 'customer' AS t, to_jsonb(c) AS j FROM customer c UNION ALL
SELECT 'invoice', to_jsonb(i) FROM invoice i UNION ALL SELECT 'invoice_line', to_jsonb(l) FROM invoice_line l;
DELETE FROM customer WHERE id = 1;
SELECT (SELECT count(*) FROM invoice) AS invoices_left, (SELECT count(*) FROM invoice_line) AS lines_left;
-- A dry run reports and changes nothing.
SELECT * FROM outcomes((SELECT jsonb_agg(to_jsonb(r)) FROM deleted_record_restore_transaction(
    (SELECT xact_id FROM deleted_record WHERE schema_name = 't13' AND table_name = 'customer'), dry_run => true) r));
SELECT (SELECT count(*) FROM customer) AS customers, (SELECT count(*) FROM deleted_record
        WHERE schema_name = 't13' AND restored_at IS NOT NULL) AS marked;
-- The real thing, by xid8 as pg_current_xact_id() gives it.
SELECT * FROM outcomes((SELECT jsonb_agg(to_jsonb(r)) FROM deleted_record_restore_transaction(
    (SELECT xact_id::text::xid8 FROM deleted_record WHERE schema_name = 't13' AND table_name = 'customer')) r));
-- Every row is back exactly as it was (identity values kept), and the archive rows are marked.
SELECT t, j FROM before_delete b
 WHERE NOT EXISTS (SELECT FROM customer c WHERE to_jsonb(c) = b.j) AND NOT EXISTS (SELECT FROM invoice i WHERE to_jsonb(i) = b.j)
   AND NOT EXISTS (SELECT FROM invoice_line l WHERE to_jsonb(l) = b.j);
SELECT count(*) AS marked, bool_and(restored_by = current_user) AS by_me, count(DISTINCT restored_at) AS one_restore_time
  FROM deleted_record WHERE schema_name = 't13' AND restored_at IS NOT NULL;
-- A second attempt: already restored, nothing inserted twice.
SELECT * FROM outcomes(restore_json((SELECT array_agg(id) FROM deleted_record WHERE schema_name = 't13' AND table_name = 'customer')));
-- Deleted again: archived again as a new row, restorable again.
DELETE FROM invoice_line WHERE what = 'a';
SELECT count(*) AS archive_rows_of_line_1 FROM deleted_record WHERE schema_name = 't13' AND table_name = 'invoice_line' AND object_id = '1';
SELECT * FROM outcomes(restore_json(ids_of('invoice_line')));

-- Parents first whatever order the ids come in, also for several parents, and a self-reference
-- (an employee -> manager tree deleted together).
CREATE TABLE product (id int PRIMARY KEY);
CREATE TABLE order_item (id int PRIMARY KEY, invoice_id int REFERENCES invoice ON DELETE CASCADE,
                         product_id int REFERENCES product ON DELETE CASCADE);
CREATE TABLE employee (id int PRIMARY KEY, manager_id int REFERENCES employee ON DELETE CASCADE, name text);
SELECT deleted_record_attach('product'), deleted_record_attach('order_item'), deleted_record_attach('employee');
INSERT INTO product VALUES (7);
INSERT INTO order_item VALUES (1, 20, 7);
INSERT INTO employee VALUES (1, NULL, 'boss'), (2, 1, 'lead'), (3, 2, 'dev'), (4, 2, 'dev2');
DELETE FROM product;
DELETE FROM customer WHERE id = 2;
DELETE FROM employee WHERE id = 1;
SELECT * FROM outcomes(restore_json(ids_of('order_item') || ids_of('employee') || ids_of('invoice_line')
                                    || ids_of('invoice') || ids_of('product') || ids_of('customer')))
 ORDER BY target, object_id;
SELECT (SELECT count(*) FROM order_item) AS items, (SELECT count(*) FROM employee) AS employees,
       (SELECT count(*) FROM invoice_line) AS lines;

-- Foreign keys that form a cycle: restorable when DEFERRABLE, a clear error otherwise.
CREATE TABLE husband (id int PRIMARY KEY, wife_id int);
CREATE TABLE wife (id int PRIMARY KEY, husband_id int REFERENCES husband DEFERRABLE);
ALTER TABLE husband ADD CONSTRAINT husband_wife FOREIGN KEY (wife_id) REFERENCES wife DEFERRABLE;
SELECT deleted_record_attach('husband'), deleted_record_attach('wife');
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
INSERT INTO husband VALUES (1, 1);
INSERT INTO wife VALUES (1, 1);
COMMIT;
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
DELETE FROM husband;
DELETE FROM wife;
COMMIT;
SELECT * FROM outcomes(restore_json(ids_of('husband') || ids_of('wife')));
SELECT h.id, w.id FROM husband h JOIN wife w ON w.husband_id = h.id AND h.wife_id = w.id;
ALTER TABLE husband DROP CONSTRAINT husband_wife;
ALTER TABLE husband ADD CONSTRAINT husband_wife FOREIGN KEY (wife_id) REFERENCES wife;
ALTER TABLE wife DROP CONSTRAINT wife_husband_id_fkey;
ALTER TABLE wife ADD CONSTRAINT wife_husband FOREIGN KEY (husband_id) REFERENCES husband;
SELECT deleted_record_attach('husband'), deleted_record_attach('wife');
UPDATE husband SET wife_id = NULL;
DELETE FROM wife;
DELETE FROM husband;
SELECT failure(format('SELECT deleted_record_restore(%L)', ids_of('husband') || ids_of('wife'))) AS cycle;

-- Columns by name into today's table: an added column gets its default, a generated column is
-- computed; a value whose column was dropped is an error naming table and column; a value that
-- no longer converts is an error naming row, column and value; a masked value cannot come back,
-- an excluded column gets its default.
CREATE TABLE shape (id int PRIMARY KEY, amount numeric, note text, code text);
SELECT deleted_record_attach('shape');
INSERT INTO shape VALUES (1, 10, 'one', 'A1'), (2, 20, 'two', 'B2');
DELETE FROM shape;
ALTER TABLE shape ADD COLUMN added text DEFAULT 'default value';
ALTER TABLE shape ADD COLUMN doubled numeric GENERATED ALWAYS AS (amount * 2) STORED;
SELECT * FROM outcomes(restore_json(ids_of('shape', '{1}')));
SELECT * FROM shape;
ALTER TABLE shape DROP COLUMN note;
SELECT failure(format('SELECT deleted_record_restore(%L)', ids_of('shape', '{2}'))) AS dropped_column;
ALTER TABLE shape ADD COLUMN note text;
ALTER TABLE shape ALTER COLUMN code TYPE int USING 0;
SELECT failure(format('SELECT deleted_record_restore(%L)', ids_of('shape', '{2}'))) AS unconvertible;
SELECT count(*) AS shape_rows FROM shape;
CREATE TABLE private (id int PRIMARY KEY, email text, password_hash text, name text);
SELECT deleted_record_attach('private', exclude_columns => '{password_hash}', mask_columns => '{email}');
INSERT INTO private VALUES (1, 'a@example.com', 'secret', 'A');
DELETE FROM private;
SELECT failure(format('SELECT deleted_record_restore(%L)', ids_of('private'))) AS masked;
ALTER TABLE private ALTER COLUMN password_hash SET DEFAULT 'reset-me';
SELECT deleted_record_attach('private', exclude_columns => '{password_hash,email}', mask_columns => '{}');
INSERT INTO private VALUES (2, 'b@example.com', 'secret', 'B');
DELETE FROM private WHERE id = 2;
SELECT * FROM outcomes(restore_json(ids_of('private', '{2}')));
SELECT * FROM private;

-- Where: the table that archived the rows, by its identity: a renamed table gets its rows back
-- under its new name; a table dropped is an error, even when another table took its name (that
-- table is not the one that archived them); a partitioned table's rows go through its root into
-- the partition that fits today.
CREATE TABLE gone (id int PRIMARY KEY);
SELECT deleted_record_attach('gone');
INSERT INTO gone VALUES (1);
DELETE FROM gone;
ALTER TABLE gone RENAME TO gone_renamed;
SELECT * FROM outcomes(restore_json(ids_of('gone')));
SELECT * FROM gone_renamed;
DELETE FROM gone_renamed;
SELECT deleted_record_detach('gone_renamed');
DROP TABLE gone_renamed;
CREATE TABLE gone_renamed (id int PRIMARY KEY);   -- another table takes the name
SELECT failure(format('SELECT deleted_record_restore(%L)', ids_of('gone_renamed'))) AS dropped_table;
SELECT count(*) AS rows_in_the_new_table FROM gone_renamed;
DROP TABLE gone_renamed;
CREATE TABLE event (id int, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE event_eu PARTITION OF event FOR VALUES IN ('eu');
CREATE TABLE event_other PARTITION OF event DEFAULT;
SELECT deleted_record_attach('event');
INSERT INTO event VALUES (1, 'us');
DELETE FROM event;
SELECT partition_name FROM deleted_record WHERE schema_name = 't13' AND table_name = 'event';
CREATE TABLE event_us PARTITION OF event FOR VALUES IN ('us');
SELECT * FROM outcomes(restore_json(ids_of('event')));
SELECT tableoid::regclass, * FROM event;

-- Conflicts: a live row with the same key fails the whole call (naming row and constraint), or
-- is skipped and reported with 'skip'; other values are refused.
INSERT INTO product VALUES (100), (101);
DELETE FROM product WHERE id IN (100, 101);
INSERT INTO product VALUES (100);
SELECT failure(format('SELECT deleted_record_restore(%L)', ids_of('product', '{100,101}'))) AS conflict;
SELECT count(*) AS products FROM product;
SELECT failure(format('SELECT deleted_record_restore(%L, %L)', ids_of('product', '{100,101}'), 'ignore')) AS bad_policy;
SELECT failure(format('SELECT deleted_record_restore(%L, NULL)', ids_of('product', '{100,101}'))) AS null_policy;
SELECT * FROM outcomes(restore_json(ids_of('product', '{100,101}'), 'skip', true)) ORDER BY object_id;
SELECT * FROM outcomes(restore_json(ids_of('product', '{100,101}'), 'skip')) ORDER BY object_id;
SELECT id FROM product WHERE id >= 100 ORDER BY id;
SELECT object_id, restored_at IS NOT NULL AS marked FROM deleted_record
 WHERE schema_name = 't13' AND table_name = 'product' AND object_id IN ('100', '101') ORDER BY 1;
-- Two selected archive rows with one key: the first is restored, the other skipped (or, with
-- 'error', the call fails).
INSERT INTO product VALUES (102);
DELETE FROM product WHERE id = 102;
INSERT INTO product VALUES (102);
DELETE FROM product WHERE id = 102;
SELECT failure(format('SELECT deleted_record_restore(%L)', ids_of('product', '{102}'))) AS duplicate_in_selection;
SELECT * FROM outcomes(restore_json(ids_of('product', '{102}'), 'skip')) ORDER BY outcome;

-- Triggers: restoring is an INSERT, so the table's INSERT triggers run; a BEFORE INSERT
-- trigger that keeps rows out fails the restore instead of losing them silently.
CREATE TABLE audited (id int PRIMARY KEY);
CREATE TABLE audit_log (what text);
CREATE FUNCTION log_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO t13.audit_log VALUES ('inserted ' || NEW.id); RETURN NEW; END $$;
CREATE TRIGGER log_insert AFTER INSERT ON audited FOR EACH ROW EXECUTE FUNCTION log_insert();
SELECT deleted_record_attach('audited');
INSERT INTO audited VALUES (1), (2);
DELETE FROM audited;
DELETE FROM audit_log;
SELECT * FROM outcomes(restore_json(ids_of('audited', '{1}')));
SELECT * FROM audit_log;
CREATE FUNCTION keep_out() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER keep_out BEFORE INSERT ON audited FOR EACH ROW EXECUTE FUNCTION keep_out();
SELECT failure(format('SELECT deleted_record_restore(%L)', ids_of('audited', '{2}'))) AS kept_out;
DROP TRIGGER keep_out ON audited;

-- Names with quotes, dots and Unicode are resolved by OID and quoted.
CREATE TABLE "Wéird.Tåble" ("Ïd" int PRIMARY KEY, "quo""te" text);
SELECT deleted_record_attach('"Wéird.Tåble"');
INSERT INTO "Wéird.Tåble" VALUES (1, 'q');
DELETE FROM "Wéird.Tåble";
SELECT * FROM outcomes(restore_json(ids_of('Wéird.Tåble')));
SELECT * FROM "Wéird.Tåble";

-- Bad input: NULL or NULL-containing ids, unknown ids, NULL dry_run, an unknown transaction.
SELECT failure('SELECT deleted_record_restore(NULL)') AS null_ids;
SELECT failure('SELECT deleted_record_restore(ARRAY[NULL]::uuid[])') AS null_id;
SELECT failure($$SELECT deleted_record_restore('{00000000-0000-7000-8000-000000000000}')$$) AS unknown_id;
SELECT failure(format('SELECT deleted_record_restore(%L, %L, NULL)', ids_of('audited'), 'error')) AS null_dry_run;
SELECT failure('SELECT deleted_record_restore_transaction(1::bigint)') AS unknown_transaction;
SELECT count(*) AS empty_selection FROM deleted_record_restore('{}');

-- Privileges: the inserts run as the caller (INSERT on the table, its RLS policies), reading
-- the archive needs SELECT on it; marking restored needs nothing from the caller.
CREATE ROLE regress_dr_restorer;
GRANT USAGE ON SCHEMA t13 TO regress_dr_restorer;
INSERT INTO audited VALUES (3);
DELETE FROM audited WHERE id = 3;
SET ROLE regress_dr_restorer;
SELECT failure(format('SELECT deleted_record_restore(%L)', (SELECT array_agg(id) FROM pg_catalog.unnest(ARRAY[gen_random_uuid()]) id))) AS no_archive_access;
RESET ROLE;
GRANT SELECT ON deleted_record TO regress_dr_restorer;
SET ROLE regress_dr_restorer;
SELECT failure(format('SELECT deleted_record_restore(%L)', ids_of('audited', '{3}'))) AS no_insert_privilege;
RESET ROLE;
GRANT INSERT ON audited, audit_log TO regress_dr_restorer;
ALTER TABLE audited ENABLE ROW LEVEL SECURITY;
CREATE POLICY small_ids ON audited FOR INSERT TO regress_dr_restorer WITH CHECK (id < 3);
SET ROLE regress_dr_restorer;
SELECT failure(format('SELECT deleted_record_restore(%L)', ids_of('audited', '{3}'))) AS rls_refuses;
RESET ROLE;
DROP POLICY small_ids ON audited;
CREATE POLICY all_ids ON audited FOR INSERT TO regress_dr_restorer WITH CHECK (true);
SET ROLE regress_dr_restorer;
SELECT * FROM outcomes(restore_json(ids_of('audited', '{3}')));
RESET ROLE;
SELECT object_id, restored_by FROM deleted_record WHERE schema_name = 't13' AND table_name = 'audited' AND object_id = '3';
SELECT has_table_privilege('regress_dr_restorer', 'deleted_record', 'UPDATE') AS restorer_may_update_archive;
-- A hostile search_path: an operator uuid = uuid listed before pg_catalog is never used by a
-- restore, neither as the caller nor as the owner (locking and marking the archive rows).
CREATE SCHEMA t13_evil;
GRANT USAGE ON SCHEMA t13_evil TO regress_dr_restorer;
CREATE FUNCTION t13_evil.uuid_eq(uuid, uuid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'hostile = ran as %', current_user; RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR t13_evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = t13_evil.uuid_eq);
INSERT INTO audited VALUES (5);
DELETE FROM audited WHERE id = 5;
SET ROLE regress_dr_restorer;
SET search_path = t13_evil, pg_catalog, t13, public;
SELECT object_id, outcome FROM deleted_record_restore(ids_of('audited', '{5}'), dry_run => true);
SELECT object_id, outcome FROM deleted_record_restore(ids_of('audited', '{5}'));
SET search_path = t13, public;
RESET ROLE;
-- Skip mode matches inserted rows back by the key's equality, named by the unique index's
-- operator class (pg_catalog.= for an integer key), never a caller's integer = before it.
CREATE FUNCTION t13_evil.int4_eq(integer, integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'hostile integer = ran as %', current_user; RETURN true; END $$;
CREATE OPERATOR t13_evil.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = t13_evil.int4_eq);
CREATE TABLE keyed (id int PRIMARY KEY);
SELECT deleted_record_attach('keyed');
INSERT INTO keyed VALUES (6), (7);
DELETE FROM keyed;
INSERT INTO keyed VALUES (7);
GRANT INSERT, SELECT (id) ON keyed TO regress_dr_restorer;  -- skip mode reads the inserted keys back
SET ROLE regress_dr_restorer;
SET search_path = t13_evil, pg_catalog, t13, public;
SELECT object_id, outcome FROM deleted_record_restore(ids_of('keyed', '{6,7}'), on_conflict => 'skip') ORDER BY object_id;
SET search_path = t13, public;
RESET ROLE;

-- A failing dry run leaves the caller's transaction exactly as it found it (1.1 left a
-- subtransaction open: the session stayed in a transaction nobody opened, and ROLLBACK ended it
-- with FATAL). The row is found by a dry run; a DO block catches its error and goes on working.
CREATE TABLE kept (id int PRIMARY KEY);
CREATE TABLE work_log (what text);
SELECT deleted_record_attach('kept');
INSERT INTO kept VALUES (1), (2), (3), (4);
DELETE FROM kept WHERE id = 1;
INSERT INTO kept VALUES (1);
CREATE FUNCTION dry_run_caught(what text, dry boolean DEFAULT true) RETURNS text LANGUAGE plpgsql AS $$
DECLARE caught text := 'no error';
BEGIN
  BEGIN
    PERFORM deleted_record_restore(t13.ids_of('kept', '{1}'), dry_run => dry);
  EXCEPTION WHEN unique_violation THEN
    caught := 'caught ' || SQLSTATE;
  END;
  INSERT INTO t13.work_log VALUES (what);
  RETURN caught;
END $$;
-- Autocommit: the DO block commits, and the next statement runs in a transaction of its own.
DO $$ BEGIN RAISE NOTICE '%', t13.dry_run_caught('autocommit'); DELETE FROM t13.kept WHERE id = 2; END $$;
SELECT pg_current_xact_id_if_assigned() IS NULL AS new_transaction, now() = statement_timestamp() AS own_snapshot_time;
ROLLBACK;
SELECT what FROM work_log;
SELECT count(*) AS archived_2 FROM deleted_record WHERE schema_name = 't13' AND table_name = 'kept' AND object_id = '2';
-- An uncaught failing dry run in autocommit: the session is idle afterwards, ROLLBACK is harmless.
SELECT failure(format('SELECT deleted_record_restore(%L, dry_run => true)', ids_of('kept', '{1}'))) AS uncaught_dry_run;
\set VERBOSITY sqlstate
SELECT * FROM deleted_record_restore(ids_of('kept', '{1}'), dry_run => true);
\set VERBOSITY default
ROLLBACK;
SELECT 'the session goes on' AS after_rollback;
-- A transaction block: the transaction and its savepoints are the same before and after.
BEGIN;
CREATE TEMP TABLE xact_before AS SELECT pg_current_xact_id() AS x;
SAVEPOINT outer_point;
SELECT dry_run_caught('in savepoint');
DELETE FROM kept WHERE id = 3;
ROLLBACK TO SAVEPOINT outer_point;
SELECT dry_run_caught('after savepoint');
SELECT dry_run_caught('real restore', false);
SELECT x = pg_current_xact_id() AS same_transaction FROM xact_before;
RELEASE SAVEPOINT outer_point;
DELETE FROM kept WHERE id = 4;
COMMIT;
SELECT what FROM work_log ORDER BY what;
SELECT id FROM kept ORDER BY id;
SELECT object_id FROM deleted_record WHERE schema_name = 't13' AND table_name = 'kept' ORDER BY object_id;
-- A procedure that commits after catching a dry run's error (1.1: "cannot commit while a
-- subtransaction is active").
CREATE PROCEDURE dry_run_then_commit() LANGUAGE plpgsql AS $$
BEGIN
  PERFORM t13.dry_run_caught('procedure');
  COMMIT;
  INSERT INTO t13.work_log VALUES ('after commit');
END $$;
CALL dry_run_then_commit();
SELECT what FROM work_log WHERE what IN ('procedure', 'after commit') ORDER BY what;

-- Deferrable keys: a DEFERRABLE primary key is the table's key (object_id is set), skip works
-- on it, and deferred constraints are checked by a dry run and by the restore itself before it
-- returns, naming the archive row (1.1: 'would restore', then a failure at COMMIT).
CREATE TABLE deferred_key (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, v text);
CREATE TABLE deferred_parent (id int PRIMARY KEY);
CREATE TABLE deferred_child (id int PRIMARY KEY, parent_id int REFERENCES deferred_parent DEFERRABLE INITIALLY DEFERRED);
SELECT deleted_record_attach('deferred_key'), deleted_record_attach('deferred_child');
INSERT INTO deferred_key VALUES (1, 'one'), (2, 'two');
INSERT INTO deferred_parent VALUES (1), (2);
INSERT INTO deferred_child VALUES (10, 1), (20, 2);
DELETE FROM deferred_child;
DELETE FROM deferred_key WHERE id = 2;
SELECT table_name, object_id FROM deleted_record WHERE schema_name = 't13' AND table_name LIKE 'deferred%' ORDER BY 1, 2;
INSERT INTO deferred_key VALUES (2, 'live');
SELECT * FROM outcomes(restore_json(ids_of('deferred_key'), 'skip', true));
SELECT failure(format('SELECT deleted_record_restore(%L, dry_run => true)', ids_of('deferred_key'))) AS deferred_unique_dry_run;
SELECT failure(format('SELECT deleted_record_restore(%L)', ids_of('deferred_key'))) AS deferred_unique;
BEGIN;
SELECT * FROM outcomes(restore_json(ids_of('deferred_key'), 'skip'));
SELECT id, v FROM deferred_key ORDER BY id;
COMMIT;
-- A child whose parent is gone: the deferred foreign key refuses it now, naming the row.
DELETE FROM deferred_parent WHERE id = 2;
SELECT failure(format('SELECT deleted_record_restore(%L, dry_run => true)', ids_of('deferred_child', '{20}'))) AS deferred_fk_dry_run;
BEGIN;
SELECT failure(format('SELECT deleted_record_restore(%L)', ids_of('deferred_child', '{20}'))) AS deferred_fk;
SELECT count(*) AS children FROM deferred_child;
COMMIT;
-- The caller's own deferral stays as it was: when the transaction already has deferred checks
-- pending on a table, they (and the restored rows) are checked at COMMIT, not early.
BEGIN;
INSERT INTO deferred_child VALUES (30, 99);
SELECT * FROM outcomes(restore_json(ids_of('deferred_child', '{10}')));
DELETE FROM deferred_child WHERE id = 30;
COMMIT;
SELECT id, parent_id FROM deferred_child ORDER BY id;

-- Skip mode with a BEFORE INSERT trigger that changes the key: every row inserted is reported
-- restored and marked (1.1 reported it skipped and left it restorable again and again).
CREATE TABLE member (email text PRIMARY KEY, name text);
SELECT deleted_record_attach('member');
INSERT INTO member VALUES ('Ann@Example.com', 'Ann'), ('Bob@Example.com', 'Bob');
DELETE FROM member;
CREATE FUNCTION lower_email() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.email := lower(NEW.email); RETURN NEW; END $$;
CREATE TRIGGER lower_email BEFORE INSERT ON member FOR EACH ROW EXECUTE FUNCTION lower_email();
INSERT INTO member VALUES ('bob@example.com', 'Bob again');
SELECT * FROM outcomes(restore_json(ids_of('member'), 'skip')) ORDER BY object_id;
SELECT email, name FROM member ORDER BY email;
SELECT object_id, restored_at IS NOT NULL AS marked FROM deleted_record
 WHERE schema_name = 't13' AND table_name = 'member' ORDER BY object_id;
SELECT * FROM outcomes(restore_json(ARRAY(SELECT id FROM deleted_record WHERE schema_name = 't13' AND table_name = 'member'), 'skip'))
 ORDER BY object_id;
-- A unique violation raised by a trigger writing to another table is an error, not a skip.
CREATE TABLE member_log (email text PRIMARY KEY);
INSERT INTO member_log VALUES ('carl@example.com');
CREATE FUNCTION log_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO t13.member_log VALUES (NEW.email); RETURN NEW; END $$;
INSERT INTO member VALUES ('Carl@Example.com', 'Carl');
DELETE FROM member WHERE email = 'carl@example.com';
CREATE TRIGGER log_member AFTER INSERT ON member FOR EACH ROW EXECUTE FUNCTION log_member();
SELECT failure(format('SELECT deleted_record_restore(%L, %L)', ids_of('member', '{carl@example.com}'), 'skip')) AS trigger_conflict;
DROP TRIGGER log_member ON member;
-- A unique index on an expression: skip mode works row by row instead of refusing.
CREATE TABLE tagged (id int, tag text);
CREATE UNIQUE INDEX tagged_lower ON tagged (lower(tag));
SELECT deleted_record_attach('tagged');
INSERT INTO tagged VALUES (1, 'A'), (2, 'B');
DELETE FROM tagged;
INSERT INTO tagged VALUES (3, 'a');
SELECT * FROM outcomes(restore_json(ids_of('tagged'), 'skip')) ORDER BY outcome;
SELECT id, tag FROM tagged ORDER BY id;
-- Skip mode matches inserted rows back to archive rows by the unique key (hashed, by the
-- index's own equality); rows whose key has a NULL are inserted one by one (review 7 #02),
-- here both NULL-key rows are restored, the one whose key is live is skipped.
CREATE TABLE coded (code text, region text, note text);
CREATE UNIQUE INDEX coded_key ON coded (code, region);
SELECT deleted_record_attach('coded');
INSERT INTO coded VALUES ('a', 'x', 'one'), ('a', NULL, 'two'), ('a', NULL, 'three'), ('b', 'x', 'four');
DELETE FROM coded;
INSERT INTO coded VALUES ('b', 'x', 'live');
SELECT r.outcome, a.data->>'note' AS note FROM deleted_record_restore(ids_of('coded'), 'skip') r
  JOIN deleted_record a ON a.id = r.archive_id ORDER BY 2;
SELECT code, region, note FROM coded ORDER BY note;
-- Review 7 #02: a NULL-key row is reported by what its own INSERT did. Here two rows share the
-- NULL-bearing key (1, NULL) and the second is kept out by ANOTHER unique index (c = 2 is live):
-- it is skipped, not marked restored, and restores later once the live row is gone. With a
-- UNIQUE NULLS NOT DISTINCT key the second (1, NULL) row conflicts with the first: skipped.
CREATE TABLE nullkey (a int, b int, c int);
CREATE UNIQUE INDEX nullkey_ab ON nullkey (a, b);
CREATE UNIQUE INDEX nullkey_c ON nullkey (c);
SELECT deleted_record_attach('nullkey') IS NOT NULL AS attached;
INSERT INTO nullkey VALUES (1, NULL, 1), (1, NULL, 2);
DELETE FROM nullkey;
INSERT INTO nullkey VALUES (9, 9, 2);
SELECT r.outcome, a.data->>'c' AS c FROM deleted_record_restore(ids_of('nullkey'), 'skip') r
  JOIN deleted_record a ON a.id = r.archive_id ORDER BY 2;
SELECT a, b, c FROM nullkey ORDER BY c, a;
SELECT data->>'c' AS c, restored_at IS NOT NULL AS marked_restored FROM deleted_record
 WHERE schema_name = 't13' AND table_name = 'nullkey' ORDER BY 1;
DELETE FROM nullkey WHERE a = 9;
SELECT r.outcome FROM deleted_record_restore(ARRAY(SELECT id FROM deleted_record WHERE schema_name = 't13'
  AND table_name = 'nullkey' AND data->>'c' = '2' AND data->>'a' = '1')) r;
SELECT a, b, c FROM nullkey ORDER BY c;
CREATE TABLE nnd (a int, b int, v text);
CREATE UNIQUE INDEX nnd_ab ON nnd (a, b) NULLS NOT DISTINCT;
SELECT deleted_record_attach('nnd') IS NOT NULL AS attached;
INSERT INTO nnd VALUES (1, NULL, 'first'); DELETE FROM nnd;
INSERT INTO nnd VALUES (1, NULL, 'second'); DELETE FROM nnd;
SELECT r.outcome, a.data->>'v' AS v FROM deleted_record_restore(ids_of('nnd'), 'skip') r
  JOIN deleted_record a ON a.id = r.archive_id ORDER BY 2;
SELECT v FROM nnd;
SELECT data->>'v' AS v, restored_at IS NOT NULL AS marked_restored FROM deleted_record
 WHERE schema_name = 't13' AND table_name = 'nnd' ORDER BY 1;
-- Review 7 #03: skip mode compares keys as the unique index does, in the index's collation:
-- unique (k COLLATE "C") on a case-insensitive column holds 'Bob' and 'bob' both; both restore.
CREATE COLLATION t13_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE cased (k text COLLATE t13_ci NOT NULL, v int);
CREATE UNIQUE INDEX cased_k ON cased (k COLLATE "C");
SELECT deleted_record_attach('cased') IS NOT NULL AS attached;
INSERT INTO cased VALUES ('Bob', 1), ('bob', 2), ('Ann', 3);
DELETE FROM cased;
INSERT INTO cased VALUES ('Ann', 4);
SELECT r.outcome, a.data->>'k' AS k FROM deleted_record_restore(ids_of('cased'), 'skip') r
  JOIN deleted_record a ON a.id = r.archive_id ORDER BY a.data->>'k' COLLATE "C";
SELECT k, v FROM cased ORDER BY v;

-- masked => 'null': masked columns come back as NULL, excluded ones get their default; the
-- default stays an error, and other values are refused.
SELECT failure(format('SELECT deleted_record_restore(%L, masked => %L)', ids_of('private', '{1}'), 'error')) AS masked_error;
SELECT failure(format('SELECT deleted_record_restore(%L, masked => %L)', ids_of('private', '{1}'), 'NULL')) AS masked_bad;
SELECT failure(format('SELECT deleted_record_restore(%L, masked => NULL)', ids_of('private', '{1}'))) AS masked_null_value;
SELECT object_id, outcome FROM deleted_record_restore(ids_of('private', '{1}'), masked => 'null');
SELECT * FROM private ORDER BY id;
UPDATE private SET email = 'new@example.com' WHERE email IS NULL;
ALTER TABLE private ALTER COLUMN email SET NOT NULL;
INSERT INTO private VALUES (3, 'c@example.com', 'x', 'C');
SELECT deleted_record_attach('private', exclude_columns => '{password_hash}', mask_columns => '{email}');
DELETE FROM private WHERE id = 3;
SELECT failure(format('SELECT deleted_record_restore(%L, masked => %L)', ids_of('private', '{3}'), 'null')) AS masked_not_null;

-- Transactions are named by xact_key, unique across clusters: every archive row of one
-- deleting transaction has the same one, and an xact_id that names rows of two keys (here an
-- archive row as another cluster's transaction with the same id would leave it) is an error
-- listing them; the key restores exactly its rows. Untyped values resolve to the text overload.
CREATE TABLE moved (id int PRIMARY KEY);
SELECT deleted_record_attach('moved');
INSERT INTO moved VALUES (1), (2), (3);
BEGIN;
DELETE FROM moved WHERE id = 1;
SAVEPOINT s;
DELETE FROM moved WHERE id = 2;
RELEASE SAVEPOINT s;
COMMIT;
SELECT count(DISTINCT xact_key) AS keys, count(*) AS rows_, bool_and(xact_key ~ '^[0-9a-f]{8}-[0-9a-f]{4}-7') AS uuid7
  FROM deleted_record WHERE schema_name = 't13' AND table_name = 'moved';
SELECT xact_id AS moved_xact, xact_key AS moved_key FROM deleted_record WHERE schema_name = 't13' AND table_name = 'moved' LIMIT 1 \gset
INSERT INTO deleted_record (id, data, deleted_at, object_id, table_name, schema_name, xact_id, xact_key)
VALUES (deleted_record_uuid7(), '{"id": 3}', '2001-02-03 04:05:06+00', '3', 'moved', 't13', :moved_xact, 'key-of-another-cluster');
DELETE FROM moved WHERE id = 3;
CREATE FUNCTION ambiguity(statement text) RETURNS text LANGUAGE sql AS $$
  SELECT regexp_replace(regexp_replace(t13.failure(statement), 'xact_id [0-9]+', 'xact_id <xact>'),
                        'deleted at [0-9-]+ [0-9:]+ UTC: xact_key ''<id>''', 'deleted at <now>: xact_key ''<id>''')
$$;
SELECT ambiguity(format('SELECT deleted_record_restore_transaction(%s::bigint)', :moved_xact)) AS by_bigint;
SELECT ambiguity(format('SELECT deleted_record_restore_transaction(%L::xid8)', :moved_xact)) AS by_xid8;
SELECT ambiguity(format('SELECT deleted_record_restore_transaction(%L)', :moved_xact)) AS by_untyped;
SELECT object_id, outcome FROM deleted_record_restore_transaction(:'moved_key', dry_run => true) ORDER BY object_id;
PREPARE restore_by(unknown) AS SELECT object_id, outcome FROM deleted_record_restore_transaction($1) ORDER BY object_id;
EXECUTE restore_by(:'moved_key');
SELECT id FROM moved ORDER BY id;
SELECT object_id, xact_key = 'key-of-another-cluster' AS other_cluster, restored_at IS NOT NULL AS marked
  FROM deleted_record WHERE schema_name = 't13' AND table_name = 'moved' ORDER BY xact_key = 'key-of-another-cluster', object_id;
SELECT failure($$SELECT deleted_record_restore_transaction('no-such-key')$$) AS unknown_key;
SELECT failure($$SELECT deleted_record_restore_transaction('123456789012')$$) AS unknown_untyped_id;
SELECT pg_get_function_identity_arguments(p.oid) AS signature FROM pg_proc p
 WHERE p.proname IN ('deleted_record_restore', 'deleted_record_restore_transaction') ORDER BY 1;

-- A cycle restored inside the caller's transaction leaves the caller's SET CONSTRAINTS as it
-- was: keys the caller deferred stay deferred (its own rows, inconsistent for a moment, are
-- checked at COMMIT, not inside the restore).
CREATE TABLE emp (id int PRIMARY KEY, dept int);
CREATE TABLE dept (id int PRIMARY KEY, boss int REFERENCES emp DEFERRABLE INITIALLY IMMEDIATE);
ALTER TABLE emp ADD CONSTRAINT emp_dept_fk FOREIGN KEY (dept) REFERENCES dept DEFERRABLE INITIALLY IMMEDIATE;
SELECT deleted_record_attach('emp'), deleted_record_attach('dept');
BEGIN; SET CONSTRAINTS ALL DEFERRED; INSERT INTO emp VALUES (1, 10); INSERT INTO dept VALUES (10, 1); COMMIT;
BEGIN; SET CONSTRAINTS ALL DEFERRED; DELETE FROM emp; DELETE FROM dept; COMMIT;
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
SELECT outcome FROM deleted_record_restore(ARRAY(SELECT id FROM deleted_record WHERE schema_name = 't13'
                                                   AND table_name IN ('emp', 'dept') AND restored_at IS NULL));
INSERT INTO emp VALUES (2, 20);      -- its department comes next, in the same transaction
INSERT INTO dept VALUES (20, 2);
COMMIT;
SELECT (SELECT count(*) FROM emp) AS employees, (SELECT count(*) FROM dept) AS departments;

-- Clean up.
DELETE FROM deleted_record WHERE schema_name = 't13';
SET client_min_messages = warning;
DROP SCHEMA t13 CASCADE;
DROP SCHEMA t13_evil CASCADE;
REVOKE ALL ON deleted_record FROM regress_dr_restorer;
DROP ROLE regress_dr_restorer;
