-- 21_manage: attach and detach issue their DDL through deleted_record_manage_triggers, which
-- reads the table's triggers and partition tree by OID, lets the core plan, and runs the plan
-- as the caller. Called on its own (it is an ordinary function) it checks again that the caller
-- owns the table; a hostile search_path cannot swap the functions the triggers call; an error
-- caught by the caller's exception block leaves the session able to attach and detach.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dr21_owner;
DROP ROLE IF EXISTS regress_dr21_other;
RESET client_min_messages;
CREATE SCHEMA t21;
SET search_path = t21, public;
CREATE ROLE regress_dr21_owner;
CREATE ROLE regress_dr21_other;
GRANT USAGE ON SCHEMA t21 TO regress_dr21_owner, regress_dr21_other;
CREATE TABLE mine (id int PRIMARY KEY);
ALTER TABLE mine OWNER TO regress_dr21_owner;
-- TRIGGER privilege lets a role create triggers on the table, but not attach or detach it.
GRANT ALL ON mine TO regress_dr21_other;

-- Called on its own by a role that does not own the table: refused, nothing made or dropped.
SET ROLE regress_dr21_other;
SELECT deleted_record_manage_triggers('mine', 'attach', 'archive', NULL, false);
SELECT deleted_record_manage_triggers('mine', 'detach', NULL, NULL, false);
RESET ROLE;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'mine'::regclass;

-- What it is asked to do is checked too.
SELECT deleted_record_manage_triggers('mine', 'attach or detach', NULL, NULL, false);
SELECT deleted_record_manage_triggers('mine', 'attach', 'truncate it', NULL, false);
SELECT deleted_record_manage_triggers(NULL, 'attach', 'archive', NULL, false);
CREATE VIEW a_view AS SELECT 1 AS x;
SELECT deleted_record_manage_triggers('a_view', 'attach', 'archive', NULL, false);
SELECT deleted_record_manage_triggers('public.deleted_record', 'attach', 'archive', NULL, false);

-- A hostile search_path: functions named like the extension's come first. The triggers call
-- the extension's own functions, found by OID, and the table is archived and guarded.
CREATE SCHEMA t21_evil;
GRANT USAGE ON SCHEMA t21_evil TO PUBLIC;
CREATE FUNCTION t21_evil.deleted_record_insert() RETURNS trigger LANGUAGE plpgsql
    AS $$BEGIN RAISE EXCEPTION 'the wrong deleted_record_insert ran'; END$$;
CREATE FUNCTION t21_evil.deleted_record_truncate_guard() RETURNS trigger LANGUAGE plpgsql
    AS $$BEGIN RAISE EXCEPTION 'the wrong deleted_record_truncate_guard ran'; END$$;
CREATE FUNCTION t21_evil.deleted_record_prepare_coming_partitions() RETURNS void LANGUAGE plpgsql
    AS $$BEGIN RAISE EXCEPTION 'the wrong deleted_record_prepare_coming_partitions ran'; END$$;
SET ROLE regress_dr21_owner;
SET search_path = t21_evil, t21, public;
SELECT deleted_record_attach('t21.mine', 'deny');
SELECT deleted_record_manage_triggers('t21.mine', 'attach', 'deny', NULL, false);
RESET search_path;
RESET ROLE;
SET search_path = t21, public;
SELECT t.tgname, p.pronamespace::regnamespace AS function_schema, p.proname
  FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
 WHERE t.tgrelid = 'mine'::regclass ORDER BY t.tgname;
INSERT INTO mine VALUES (1);
DELETE FROM mine;
SELECT object_id FROM public.deleted_record WHERE schema_name = 't21' AND table_name = 'mine';
TRUNCATE mine;

-- A refusal raised after the planning connected to SPI, caught by the caller's exception block:
-- the session attaches and detaches as before.
CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
CREATE TABLE taken (id int PRIMARY KEY);
CREATE TRIGGER deleted_record_insert AFTER DELETE ON taken FOR EACH ROW EXECUTE FUNCTION noop();
DO $$
BEGIN
    PERFORM deleted_record_attach('t21.taken');
EXCEPTION WHEN duplicate_object THEN
    RAISE NOTICE 'caught: %', SQLERRM;
END
$$;
BEGIN;
SAVEPOINT before_refusal;
SELECT deleted_record_attach('taken');
ROLLBACK TO SAVEPOINT before_refusal;
SELECT deleted_record_detach('mine');
COMMIT;
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'mine'::regclass;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'taken'::regclass;

-- Called on its own on a partition archived through its parent: refused, as attach and detach
-- refuse it (detaching it alone would leave its TRUNCATE unguarded while its deletes are
-- archived); the partition keeps the clone of its parent's trigger and its guard.
CREATE TABLE parted (id int, PRIMARY KEY (id)) PARTITION BY RANGE (id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100);
SELECT deleted_record_attach('parted');
SELECT deleted_record_manage_triggers('parted_1', 'detach', NULL, NULL, false);
SELECT deleted_record_manage_triggers('parted_1', 'attach', 'ignore', NULL, false);
SELECT c.relname, t.tgname, t.tgparentid <> 0 AS is_clone
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 't21'::regnamespace AND c.relname LIKE 'parted%' ORDER BY 1, 2;
SELECT deleted_record_detach('parted');
SELECT count(*) AS triggers_left FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 't21'::regnamespace AND c.relname LIKE 'parted%';

-- A re-attach that changes the contract replaces the archive trigger and keeps its firing mode:
-- a logical replication subscriber's ENABLE ALWAYS trigger still archives the applied deletes.
CREATE TABLE replicated (id int PRIMARY KEY, v text);
SELECT deleted_record_attach('replicated');
ALTER TABLE replicated ENABLE ALWAYS TRIGGER deleted_record_insert;
SELECT deleted_record_attach('replicated', retention => '90 days');
SELECT tgenabled AS firing_after_reattach FROM pg_trigger
 WHERE tgrelid = 'replicated'::regclass AND tgname = 'deleted_record_insert';
INSERT INTO replicated VALUES (1, 'applied');
SET session_replication_role = replica;
DELETE FROM replicated;
RESET session_replication_role;
SELECT count(*) AS archived_in_replica_mode FROM public.deleted_record WHERE schema_name = 't21' AND table_name = 'replicated';
ALTER TABLE replicated ENABLE REPLICA TRIGGER deleted_record_insert;
SELECT deleted_record_attach('replicated', retention => '30 days');
SELECT tgenabled AS replica_mode_kept FROM pg_trigger
 WHERE tgrelid = 'replicated'::regclass AND tgname = 'deleted_record_insert';

-- deleted_record_manage_attach merges an attach call into the table's contract (the core
-- decides). Called on its own by a role that does not own the table: refused, nothing made.
CREATE TABLE merged (id int PRIMARY KEY, "Pass word" text, "it's" text, email text);
ALTER TABLE merged OWNER TO regress_dr21_owner;
GRANT ALL ON merged TO regress_dr21_other;
GRANT EXECUTE ON FUNCTION deleted_record_mask(text) TO regress_dr21_owner;
SET ROLE regress_dr21_other;
SELECT deleted_record_manage_attach('merged', NULL, NULL, '{"Pass word"}', NULL);
RESET ROLE;
SELECT deleted_record_manage_attach(NULL, NULL, NULL, NULL, NULL);
SELECT deleted_record_manage_attach('merged', 'truncate it', NULL, NULL, NULL);
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'merged'::regclass;
-- The owner, under a hostile search_path: the contract is read and the triggers made by OID.
SET ROLE regress_dr21_owner;
SET search_path = t21_evil, t21, public;
SELECT deleted_record_attach('t21.merged', 'deny', retention => '1 mon', exclude_columns => '{"Pass word",it''s}');
RESET search_path;
SET search_path = t21, public;
SELECT oid AS merged_trigger FROM pg_trigger WHERE tgrelid = 'merged'::regclass AND tgname = 'deleted_record_insert' \gset
-- Leaving the excluded columns out is refused, the list quoted as text[] prints it; the
-- refusal, caught by the caller's exception block, leaves the session able to attach.
SELECT deleted_record_attach('merged');
DO $$
BEGIN
    PERFORM deleted_record_attach('t21.merged');
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE NOTICE 'caught: %', SQLERRM;
END
$$;
-- The same contract in other words ('30 days' is '1 mon' to PostgreSQL): the trigger stays,
-- the guard takes the new policy.
SELECT deleted_record_attach('merged', 'ignore', retention => '30 days', exclude_columns => '{"Pass word",it''s}');
SELECT (SELECT oid FROM pg_trigger WHERE tgrelid = 'merged'::regclass AND tgname = 'deleted_record_insert')
       = :merged_trigger AS trigger_kept;
SELECT on_truncate, retention, exclude_columns, mask_columns FROM deleted_record_attached WHERE table_name = 'merged'::regclass;
-- Retention left out is kept, '0' clears it; column policies '{}' clear them; the id stays.
SELECT attachment_id AS first_id FROM deleted_record_attachments() WHERE relation = 'merged'::regclass \gset
SELECT deleted_record_attach('merged', exclude_columns => '{}', mask_columns => '{email}');
SELECT on_truncate, retention, exclude_columns, mask_columns FROM deleted_record_attached WHERE table_name = 'merged'::regclass;
SELECT deleted_record_attach('merged', retention => '0', mask_columns => '{email}');
SELECT on_truncate, retention, exclude_columns, mask_columns, attachment_id = :'first_id' AS same_id
  FROM deleted_record_attachments() WHERE relation = 'merged'::regclass;
SELECT deleted_record_attach('merged');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION deleted_record_mask(text) FROM regress_dr21_owner;
-- Called on its own under another interval style, it stores retention as attach does.
CREATE TABLE styled (id int PRIMARY KEY);
SET intervalstyle = iso_8601;
SELECT deleted_record_manage_attach('styled', NULL, '36 hours', NULL, NULL);
RESET intervalstyle;
SELECT encode(tgargs, 'escape') LIKE '%"36:00:00"%' AS retention_as_attach_writes_it, retention
  FROM pg_trigger t, deleted_record_attachments() a
 WHERE t.tgrelid = 'styled'::regclass AND t.tgname = 'deleted_record_insert' AND a.relation = t.tgrelid;

-- Clean up.
DROP SCHEMA t21 CASCADE;
DROP SCHEMA t21_evil CASCADE;
DELETE FROM public.deleted_record WHERE schema_name = 't21';
DROP ROLE regress_dr21_owner;
DROP ROLE regress_dr21_other;
