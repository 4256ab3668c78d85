-- 05_api: deleted_record_attach / deleted_record_detach (errors, idempotence, on_truncate, ownership),
-- the deleted_record_attached view, and deleted_record_set_context (transaction-local).
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dr_owner;
DROP ROLE IF EXISTS regress_dr_other;
DROP ROLE IF EXISTS regress_dr_member;
RESET client_min_messages;
CREATE SCHEMA t05;
SET search_path = t05, public;

-- Errors: NULL, missing table, views, materialized views, foreign tables, sequences, indexes,
-- composite types, system catalogs, the archive table itself.
SELECT deleted_record_attach(NULL);
SELECT deleted_record_detach(NULL);
SELECT deleted_record_attach('no_such_table');
SELECT deleted_record_attach(4000000000::oid::regclass);
CREATE TABLE credit (id int PRIMARY KEY, amount int);
CREATE VIEW v_credit AS SELECT * FROM credit;
SELECT deleted_record_attach('v_credit');
CREATE MATERIALIZED VIEW mv_credit AS SELECT * FROM credit;
SELECT deleted_record_attach('mv_credit');
CREATE FOREIGN DATA WRAPPER regress_dr_dummy;
CREATE SERVER regress_dr_server FOREIGN DATA WRAPPER regress_dr_dummy;
CREATE FOREIGN TABLE ft_credit (id int) SERVER regress_dr_server;
SELECT deleted_record_attach('ft_credit');
CREATE SEQUENCE seq_credit;
SELECT deleted_record_attach('seq_credit');
SELECT deleted_record_attach('credit_pkey');
CREATE TYPE comp_type AS (a int);
SELECT deleted_record_attach('comp_type');
SELECT deleted_record_attach('pg_class');
SELECT deleted_record_attach('pg_catalog.pg_proc');
SELECT deleted_record_attach('information_schema.sql_features');
SELECT deleted_record_attach('public.deleted_record');
SELECT deleted_record_detach('public.deleted_record');
-- Nothing was attached by the failed calls (the archive keeps only its never-firing Citus guard).
SELECT count(*) AS triggers FROM pg_trigger WHERE tgname LIKE 'deleted_record%' AND tgname <> 'deleted_record_not_distributable'
   AND tgrelid IN ('v_credit'::regclass, 'mv_credit'::regclass, 'ft_credit'::regclass, 'pg_class'::regclass, 'public.deleted_record'::regclass);

-- Invalid on_truncate: error listing the allowed values; nothing attached.
SELECT deleted_record_attach('credit', 'bogus');
SELECT deleted_record_attach('credit', 'ARCHIVE');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'credit'::regclass;

-- Idempotence: attaching twice leaves exactly one delete trigger; the second call changes on_truncate.
SELECT deleted_record_attach('credit');
SELECT table_name, on_truncate FROM deleted_record_attached WHERE table_name = 'credit'::regclass;
SELECT deleted_record_attach('credit', 'deny');
SELECT deleted_record_attach('credit', 'deny');
SELECT tgname, tgtype, tgfoid::regproc AS function
  FROM pg_trigger WHERE tgrelid = 'credit'::regclass ORDER BY tgname;
SELECT table_name, on_truncate FROM deleted_record_attached WHERE table_name = 'credit'::regclass;
INSERT INTO credit VALUES (1, 10), (2, 20);
DELETE FROM credit WHERE id = 1;
SELECT count(*) AS archived_once FROM deleted_record WHERE schema_name = 't05' AND table_name = 'credit' AND object_id = '1';
TRUNCATE credit;   -- deny
SELECT count(*) AS rows_left FROM credit;
SELECT deleted_record_attach('credit', 'ignore');
SELECT table_name, on_truncate FROM deleted_record_attached WHERE table_name = 'credit'::regclass;
-- A different function already behind a trigger named deleted_record_insert: refused.
CREATE TABLE other_trigger (id int PRIMARY KEY);
CREATE FUNCTION noop_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER deleted_record_insert AFTER DELETE ON other_trigger FOR EACH ROW EXECUTE FUNCTION noop_trigger();
SELECT deleted_record_attach('other_trigger');

-- Detach removes both triggers; deletes are no longer archived; detaching again is a NOTICE.
SELECT deleted_record_detach('credit');
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'credit'::regclass;
SELECT count(*) AS listed FROM deleted_record_attached WHERE table_name = 'credit'::regclass;
DELETE FROM credit WHERE id = 2;
SELECT count(*) AS archived FROM deleted_record WHERE schema_name = 't05' AND table_name = 'credit' AND object_id = '2';
SELECT deleted_record_detach('credit');
-- After detach no TRUNCATE policy is left behind: deny no longer denies, archive no longer archives.
CREATE TABLE det_deny (id int PRIMARY KEY);
CREATE TABLE det_archive (id int PRIMARY KEY);
SELECT deleted_record_attach('det_deny', 'deny'), deleted_record_attach('det_archive', 'archive');
INSERT INTO det_deny VALUES (1);
INSERT INTO det_archive VALUES (1);
SELECT deleted_record_detach('det_deny'), deleted_record_detach('det_archive');
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid IN ('det_deny'::regclass, 'det_archive'::regclass);
TRUNCATE det_deny;
TRUNCATE det_archive;
SELECT count(*) AS archived FROM deleted_record WHERE schema_name = 't05' AND table_name IN ('det_deny', 'det_archive');
-- Detach of a table attached by hand (no TRUNCATE guard) removes its trigger.
CREATE TABLE by_hand (id int PRIMARY KEY);
CREATE TRIGGER deleted_record_insert AFTER DELETE ON by_hand FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
SELECT deleted_record_detach('by_hand');
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'by_hand'::regclass;

-- The view: one row per attached table, partitions not listed.
CREATE TABLE a1 (id int PRIMARY KEY);
CREATE TABLE a2 (id int PRIMARY KEY);
CREATE TABLE p (id int, k int, PRIMARY KEY (id, k)) PARTITION BY LIST (k);
CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);
CREATE TABLE p2 PARTITION OF p FOR VALUES IN (2);
SELECT deleted_record_attach('a1'), deleted_record_attach('a2', 'ignore'), deleted_record_attach('p', 'deny');
SELECT table_name, on_truncate FROM deleted_record_attached
 WHERE table_name::oid IN (SELECT oid FROM pg_class WHERE relnamespace = 't05'::regnamespace)
 ORDER BY table_name::text;
-- The TRUNCATE guard sits on the partitioned table and each partition.
SELECT tgrelid::regclass AS rel, tgname FROM pg_trigger
 WHERE tgrelid IN (SELECT relid FROM pg_partition_tree('p')) ORDER BY tgrelid::regclass::text COLLATE "C", tgname;
TRUNCATE p1;   -- deny applies to a partition truncated on its own
CREATE TABLE p3 PARTITION OF p FOR VALUES IN (3);
INSERT INTO p VALUES (1, 3);
TRUNCATE p3;   -- also to a partition created after the attach
SELECT count(*) AS rows_left_in_p3 FROM p3;
SELECT deleted_record_detach('p');
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid IN (SELECT relid FROM pg_partition_tree('p'));

-- Ownership: a non-superuser owner can attach its own table; another role cannot attach or
-- detach it; a member of the owning role can.
CREATE ROLE regress_dr_owner;
CREATE ROLE regress_dr_other;
CREATE ROLE regress_dr_member;
GRANT USAGE, CREATE ON SCHEMA t05 TO regress_dr_owner;
GRANT USAGE ON SCHEMA t05 TO regress_dr_other, regress_dr_member;
GRANT regress_dr_owner TO regress_dr_member;
SET ROLE regress_dr_owner;
CREATE TABLE owned (id int PRIMARY KEY, v text);
SELECT deleted_record_attach('owned');
INSERT INTO owned VALUES (1, 'one'), (2, 'two'), (3, 'three');
DELETE FROM owned WHERE id = 1;
SELECT * FROM deleted_record;   -- the owner of an attached table has no access to the archive
RESET ROLE;
SELECT object_id, data, current_user_name FROM deleted_record WHERE schema_name = 't05' AND table_name = 'owned';
GRANT SELECT, DELETE, TRIGGER ON owned TO regress_dr_other;
SET ROLE regress_dr_other;
SELECT deleted_record_attach('owned', 'ignore');
SELECT deleted_record_detach('owned');
SELECT deleted_record_attach('credit');   -- owned by the superuser
DELETE FROM owned WHERE id = 2;            -- a non-owner with DELETE: archived
SELECT count(*) AS attached_visible FROM deleted_record_attached WHERE table_name = 'owned'::regclass;
RESET ROLE;
SELECT table_name, on_truncate FROM deleted_record_attached WHERE table_name = 'owned'::regclass;
SELECT object_id, current_user_name FROM deleted_record WHERE schema_name = 't05' AND table_name = 'owned' ORDER BY object_id;
SET ROLE regress_dr_member;
SELECT deleted_record_attach('owned', 'deny');
SELECT deleted_record_detach('owned');
RESET ROLE;
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'owned'::regclass;

-- deleted_record_set_context: visible in the transaction, recorded, gone after COMMIT.
CREATE TABLE ctx (id int PRIMARY KEY);
SELECT deleted_record_attach('ctx');
INSERT INTO ctx SELECT generate_series(1, 6);
BEGIN;
SELECT deleted_record_set_context('alice', 'gdpr request', '{"ticket": 123, "tags": ["a", "b"]}');
SELECT current_setting('deleted_record.actor') AS actor, current_setting('deleted_record.reason') AS reason,
       current_setting('deleted_record.metadata')::jsonb AS metadata;
DELETE FROM ctx WHERE id = 1;
COMMIT;
SELECT current_setting('deleted_record.actor') AS actor, current_setting('deleted_record.reason') AS reason,
       current_setting('deleted_record.metadata') AS metadata;
DELETE FROM ctx WHERE id = 2;
-- Rolled back: gone too.
BEGIN;
SELECT deleted_record_set_context('bob', 'oops');
ROLLBACK;
DELETE FROM ctx WHERE id = 3;
-- Rolled back to a savepoint: the outer value is restored.
BEGIN;
SELECT deleted_record_set_context('carol', 'outer');
SAVEPOINT s;
SELECT deleted_record_set_context('dave', 'inner');
ROLLBACK TO SAVEPOINT s;
DELETE FROM ctx WHERE id = 4;
COMMIT;
-- NULLs mean unset (NULL in the archive), also when a session-level value exists.
SET deleted_record.actor = 'session-actor';
BEGIN;
SELECT deleted_record_set_context(NULL, 'reason only');
DELETE FROM ctx WHERE id = 5;
COMMIT;
RESET deleted_record.actor;
SELECT object_id, actor, reason, metadata FROM deleted_record
 WHERE schema_name = 't05' AND table_name = 'ctx' ORDER BY object_id;
-- metadata must be a JSON object.
BEGIN;
SELECT deleted_record_set_context('a', 'b', '[1, 2]');
ROLLBACK;
BEGIN;
SELECT deleted_record_set_context('a', 'b', '"text"');
ROLLBACK;
BEGIN;
SELECT deleted_record_set_context('a', 'b', '42');
ROLLBACK;
BEGIN;
SELECT deleted_record_set_context('a', 'b', 'null');
ROLLBACK;
BEGIN;
SELECT deleted_record_set_context('a', 'b', '{}');
COMMIT;
SELECT current_setting('deleted_record.actor') AS actor_outside_transaction;

-- Outside a transaction block its settings would end with its own statement and never reach a
-- delete: an error, whatever the arguments. Inside a function, DO block or procedure the same
-- statement can go on to delete, so it works there.
SELECT deleted_record_set_context('lost', 'autocommit');
SELECT * FROM deleted_record_set_context('lost', 'autocommit');
PREPARE set_ctx AS SELECT deleted_record_set_context('lost', 'prepared');
EXECUTE set_ctx;
DEALLOCATE set_ctx;
DO $$
BEGIN
  PERFORM deleted_record_set_context('do-block', 'same statement');
  DELETE FROM t05.ctx WHERE id = 6;
END $$;
CREATE FUNCTION purge_ctx(p int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM deleted_record_set_context('function', 'same statement');
  DELETE FROM t05.ctx WHERE id = p;
END $$;
INSERT INTO ctx VALUES (7);
SELECT purge_ctx(7);
CREATE FUNCTION purge_ctx_sql(p int) RETURNS void LANGUAGE sql AS $$
  SELECT deleted_record_set_context('sql function', 'same statement');
  DELETE FROM t05.ctx WHERE id = p;
$$;
INSERT INTO ctx VALUES (8);
SELECT purge_ctx_sql(8);
SELECT object_id, actor, reason FROM deleted_record
 WHERE schema_name = 't05' AND table_name = 'ctx' AND object_id IN ('6', '7', '8') ORDER BY object_id;

-- deleted_record_cluster (without Citus: this server's archive) reads for_table as written, or
-- as schema.table: one schema's table, never a same-named table of another schema.
CREATE SCHEMA "t05 Other";
CREATE TABLE twin (id int PRIMARY KEY);
CREATE TABLE "t05 Other".twin (id int PRIMARY KEY);
SELECT deleted_record_attach('twin') IS NOT NULL AND deleted_record_attach('"t05 Other".twin') IS NOT NULL AS attached;
INSERT INTO twin VALUES (1);
INSERT INTO "t05 Other".twin VALUES (2);
DELETE FROM twin;
DELETE FROM "t05 Other".twin;
SELECT schema_name, object_id FROM deleted_record_cluster(for_table => 'twin') ORDER BY 1;
SELECT schema_name, object_id FROM deleted_record_cluster(for_table => 't05.twin');
SELECT schema_name, object_id FROM deleted_record_cluster(for_table => '"t05 Other".twin');
SELECT count(*) FROM deleted_record_cluster(for_table => 'nowhere.twin');
SELECT count(*) FROM deleted_record_cluster(for_table => 'a.b.twin');

-- Clean up.
DELETE FROM deleted_record WHERE schema_name IN ('t05', 't05 Other');
SET client_min_messages = warning;
DROP SCHEMA "t05 Other" CASCADE;
DROP SCHEMA t05 CASCADE;
DROP SERVER regress_dr_server;
DROP FOREIGN DATA WRAPPER regress_dr_dummy;
DROP ROLE regress_dr_owner;
DROP ROLE regress_dr_other;
DROP ROLE regress_dr_member;
