-- 11_nothing_lost: the scenarios in which archive rows or context used to go missing, each a
-- named case. (1) Exception blocks (subtransactions) running while a delete's rows wait to be
-- written. (2) Settings the library could not check when they were set. (3) One JSON grammar
-- for deleted_record.metadata. (4) Archive triggers recognised by function, TRUNCATE guards
-- that follow partitions, foreign partitions, partition detach. (5) Columns and constraints a
-- DBA adds to the archive.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dr_late;
RESET client_min_messages;
SELECT current_database() AS regress_db, current_user AS regress_superuser \gset
CREATE SCHEMA t11;
SET search_path = t11, public;

-- archived(table): how many archive rows the table has, and how many distinct rows.
CREATE FUNCTION archived(t text) RETURNS text LANGUAGE sql AS $$
  SELECT count(*) || ' rows, ' || count(DISTINCT object_id) || ' distinct'
    FROM public.deleted_record WHERE schema_name = 't11' AND table_name = t $$;

-- (1a) A second AFTER DELETE row trigger on the attached table catches an error in an
-- exception block: every deleted row is still archived, once.
CREATE TABLE s1 (id int PRIMARY KEY);
SELECT deleted_record_attach('s1');
CREATE TABLE s1_audit (id int);
CREATE FUNCTION s1_catching_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    INSERT INTO t11.s1_audit VALUES (OLD.id);
    IF OLD.id % 2 = 0 THEN RAISE EXCEPTION 'audit of % failed', OLD.id; END IF;
  EXCEPTION WHEN others THEN NULL;
  END;
  RETURN NULL;
END $$;
CREATE TRIGGER zz_audit AFTER DELETE ON s1 FOR EACH ROW EXECUTE FUNCTION s1_catching_audit();
INSERT INTO s1 SELECT generate_series(1, 10);
DELETE FROM s1 WHERE id = 2;
DELETE FROM s1;
SELECT archived('s1') AS s1_archived, (SELECT count(*) FROM s1) AS s1_left;

-- (1b) An audit trigger with an exception block on a cascaded child that is not attached:
-- the attached parents are all archived.
CREATE TABLE s2_parent (id int PRIMARY KEY);
CREATE TABLE s2_child (id int PRIMARY KEY, parent_id int REFERENCES s2_parent ON DELETE CASCADE);
SELECT deleted_record_attach('s2_parent');
CREATE FUNCTION s2_child_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    PERFORM 1 / (OLD.id % 3);
  EXCEPTION WHEN division_by_zero THEN NULL;
  END;
  RETURN NULL;
END $$;
CREATE TRIGGER audit AFTER DELETE ON s2_child FOR EACH ROW EXECUTE FUNCTION s2_child_audit();
INSERT INTO s2_parent SELECT generate_series(1, 20);
INSERT INTO s2_child SELECT g, g FROM generate_series(1, 20) g;
DELETE FROM s2_parent;
SELECT archived('s2_parent') AS parents_archived, archived('s2_child') AS children_archived;

-- (1c) An AFTER DELETE ... FOR EACH STATEMENT trigger that updates a stats table inside
-- BEGIN ... EXCEPTION: 300 rows deleted, 300 archived.
CREATE TABLE s3 (id int PRIMARY KEY);
CREATE TABLE s3_stats (deletes int);
INSERT INTO s3_stats VALUES (0);
SELECT deleted_record_attach('s3');
CREATE FUNCTION s3_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    UPDATE t11.s3_stats SET deletes = deletes + 1;
    RAISE EXCEPTION 'stats are best effort';
  EXCEPTION WHEN others THEN NULL;
  END;
  RETURN NULL;
END $$;
CREATE TRIGGER stats AFTER DELETE ON s3 FOR EACH STATEMENT EXECUTE FUNCTION s3_count();
INSERT INTO s3 SELECT generate_series(1, 300);
DELETE FROM s3;
SELECT archived('s3') AS s3_archived, (SELECT deletes FROM s3_stats) AS stats_rolled_back;

-- (1d) The same with more rows than one flush holds (1,000), and a statement trigger that
-- itself deletes from an attached table inside a rolled-back exception block.
CREATE TABLE s4 (id int PRIMARY KEY);
CREATE TABLE s4_side (id int PRIMARY KEY);
SELECT deleted_record_attach('s4'), deleted_record_attach('s4_side');
CREATE FUNCTION s4_side_effect() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    DELETE FROM t11.s4_side WHERE id = 1;       -- undone with the block: not archived
    RAISE EXCEPTION 'undo';
  EXCEPTION WHEN others THEN NULL;
  END;
  DELETE FROM t11.s4_side WHERE id = 2;         -- kept: archived
  RETURN NULL;
END $$;
CREATE TRIGGER side AFTER DELETE ON s4 FOR EACH STATEMENT EXECUTE FUNCTION s4_side_effect();
INSERT INTO s4 SELECT generate_series(1, 2500);
INSERT INTO s4_side VALUES (1), (2);
DELETE FROM s4;
SELECT archived('s4') AS s4_archived, archived('s4_side') AS side_archived,
       (SELECT array_agg(id) FROM s4_side) AS side_left;

-- (1e) A deferred archive trigger fired by SET CONSTRAINTS inside a savepoint that is rolled
-- back: PostgreSQL fires it again at COMMIT, and the row is archived then, once.
CREATE TABLE s5 (id int PRIMARY KEY);
CREATE CONSTRAINT TRIGGER archive_later AFTER DELETE ON s5 DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
INSERT INTO s5 VALUES (1);
BEGIN;
DELETE FROM s5;
SAVEPOINT sp;
SET CONSTRAINTS ALL IMMEDIATE;
ROLLBACK TO SAVEPOINT sp;
COMMIT;
SELECT archived('s5') AS s5_archived;

-- (2) Settings made before the library is loaded in a session (a new session: nothing loaded
-- yet) that it cannot honour make the delete fail, naming the setting and the value; the row
-- stays. Once loaded, the same values are refused at SET.
CREATE TABLE late (id int PRIMARY KEY);
SELECT deleted_record_attach('late');
INSERT INTO late SELECT generate_series(1, 20);
\c -
SET deleted_record.metadata = 'not json';
DELETE FROM t11.late WHERE id = 1;
DELETE FROM t11.late WHERE id = 1;              -- still refused: the value is still set
RESET deleted_record.metadata;
DELETE FROM t11.late WHERE id = 1;              -- archived
SET deleted_record.metadata = 'not json';       -- loaded now: refused at SET
\c -
SET deleted_record.require_context = 'actr';
DELETE FROM t11.late WHERE id = 2;
SET deleted_record.require_context = 'actor';
DELETE FROM t11.late WHERE id = 2;              -- a valid policy now applies: no actor
SET deleted_record.require_context = 'actr';    -- refused at SET
RESET deleted_record.require_context;
\c -
SET deleted_record.reson = 'typo';
SET deleted_record.actr = '';                   -- a misspelt name with an empty value is harmless
DELETE FROM t11.late WHERE id = 3;
SET deleted_record.reson = 'still a typo';      -- refused at SET once loaded
RESET deleted_record.reson;
SET deleted_record.reason = 'spelt right';
DELETE FROM t11.late WHERE id = 3;              -- archived, with the reason
-- Transaction-local: a bad SET LOCAL before loading fails the delete; after ROLLBACK it is gone.
\c -
BEGIN;
SET LOCAL deleted_record.metadata = '[1, 2]';
DELETE FROM t11.late WHERE id = 4;
ROLLBACK;
DELETE FROM t11.late WHERE id = 4;              -- archived
-- A role setting made where the library was not loaded reaches the role's sessions at login:
-- their deletes fail until it is fixed, whether the library loads late or at login.
\c -
CREATE ROLE regress_dr_late LOGIN;
GRANT USAGE ON SCHEMA t11 TO regress_dr_late;
GRANT SELECT, DELETE ON t11.late TO regress_dr_late;
ALTER ROLE regress_dr_late SET deleted_record.metadata = '{"unterminated": ';
\c - regress_dr_late
DELETE FROM t11.late WHERE id = 5;
\c - :regress_superuser
ALTER ROLE regress_dr_late SET session_preload_libraries = 'deleted_record';
\c - regress_dr_late
SHOW deleted_record.metadata;
DELETE FROM t11.late WHERE id = 5;
\c - :regress_superuser
ALTER ROLE regress_dr_late RESET ALL;
\c - regress_dr_late
DELETE FROM t11.late WHERE id = 5;              -- archived
\c - :regress_superuser
SET search_path = t11, public;
SELECT object_id, reason, metadata, current_user_name FROM deleted_record
 WHERE schema_name = 't11' AND table_name = 'late' ORDER BY object_id::int;
SELECT array_agg(id ORDER BY id) AS late_left FROM late WHERE id <= 6;

-- (3) One JSON grammar: deleted_record.metadata is accepted exactly when jsonb accepts it as an
-- object, and stored as jsonb stores it. try_metadata reports what SET says, without echoing
-- long values.
LOAD 'deleted_record';
CREATE FUNCTION try_metadata(value text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE detail text;
BEGIN
  PERFORM set_config('deleted_record.metadata', value, false);
  RETURN 'accepted';
EXCEPTION WHEN invalid_parameter_value THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RETURN detail;
END $$;
-- (the byte-order mark is shown as <U+FEFF>: psql versions differ in how wide they print it)
SELECT replace(try_metadata(E'\ufeff{"bom": true}'), E'\ufeff', '<U+FEFF>') AS byte_order_mark,
       try_metadata('{"n": 0.' || repeat('1', 16384) || '}') AS fraction_16384_digits,
       try_metadata('{"n": 0.' || repeat('1', 16383) || '}') AS fraction_16383_digits,
       try_metadata('{"n": 1e-100000}') AS tiny_exponent,
       try_metadata('{"a": "x\u0000y"}') AS nul_escape,
       try_metadata(repeat('{"a": ', 10000) || '1' || repeat('}', 10000)) AS too_deep;
SET deleted_record.metadata = '{"n": 1e400, "m": 1.50, "k": -0}';
DELETE FROM late WHERE id = 6;
SELECT length(metadata->>'n') AS digits_of_1e400, metadata->'m' AS m, metadata->'k' AS k,
       metadata = '{"n": 1e400, "m": 1.50, "k": -0}'::jsonb AS stored_as_jsonb_stores_it
  FROM deleted_record WHERE schema_name = 't11' AND table_name = 'late' AND object_id = '6';
RESET deleted_record.metadata;
-- In a LATIN1 database: text jsonb accepts is accepted; escapes LATIN1 cannot hold are refused.
CREATE DATABASE regress_dr_latin1 TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C';
\c regress_dr_latin1
SET client_encoding = 'UTF8';
SET client_min_messages = warning;
CREATE EXTENSION deleted_record;
RESET client_min_messages;
CREATE TABLE l (id int PRIMARY KEY);
SELECT deleted_record_attach('l');
INSERT INTO l VALUES (1), (2);
SET deleted_record.metadata = '{"café": "Ünïcödé", "escaped": "\u00e9"}';
-- (only the start of the refusal's detail: the reason is worded differently from 16 on)
DO $$
BEGIN
  PERFORM set_config('deleted_record.metadata', '{"cjk": "\u4e2d"}', false);
  RAISE NOTICE 'accepted';
EXCEPTION WHEN invalid_parameter_value THEN
  DECLARE detail text;
  BEGIN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RAISE NOTICE 'refused: %', split_part(detail, ':', 1);
  END;
END $$;
DELETE FROM l WHERE id = 1;
SELECT object_id, metadata FROM deleted_record;
\c :regress_db
DROP DATABASE regress_dr_latin1;
SET search_path = t11, public;

-- (4a) A table whose archive trigger was created by hand under another name: attach adds no
-- second one (the view lists it once), and each row is archived once.
CREATE TABLE by_hand (id int PRIMARY KEY);
CREATE TRIGGER keep_deleted_rows AFTER DELETE ON by_hand FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
SELECT deleted_record_attach('by_hand', 'deny');
SELECT tgname FROM pg_trigger WHERE tgrelid = 'by_hand'::regclass ORDER BY tgname;
SELECT table_name, on_truncate FROM deleted_record_attached WHERE table_name = 'by_hand'::regclass;
INSERT INTO by_hand VALUES (1), (2);
DELETE FROM by_hand;
SELECT archived('by_hand') AS by_hand_archived;
-- Two archive triggers created by hand: still one archive row per deleted row.
CREATE TABLE twice (id int PRIMARY KEY);
CREATE TRIGGER a_archive AFTER DELETE ON twice FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
CREATE TRIGGER b_archive AFTER DELETE ON twice FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
INSERT INTO twice VALUES (1), (2), (3);
DELETE FROM twice;
SELECT archived('twice') AS twice_archived;
-- A disabled archive trigger is enabled by attach.
CREATE TABLE disabled (id int PRIMARY KEY);
CREATE TRIGGER archive_it AFTER DELETE ON disabled FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
ALTER TABLE disabled DISABLE TRIGGER archive_it;
SELECT deleted_record_attach('disabled');
INSERT INTO disabled VALUES (1);
DELETE FROM disabled;
SELECT archived('disabled') AS disabled_archived;

-- (4b) A table with its own archive trigger attached as a partition of an attached table:
-- the partition now has two (its own and the parent's clone); each row is archived once.
CREATE TABLE tree (id int, k int, PRIMARY KEY (id, k)) PARTITION BY LIST (k);
CREATE TABLE tree_1 PARTITION OF tree FOR VALUES IN (1);
SELECT deleted_record_attach('tree', 'deny');
CREATE TABLE tree_2 (id int NOT NULL, k int NOT NULL);
CREATE TRIGGER own_archive AFTER DELETE ON tree_2 FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
ALTER TABLE tree ATTACH PARTITION tree_2 FOR VALUES IN (2);
INSERT INTO tree VALUES (1, 1), (2, 2), (3, 2);
DELETE FROM tree;
SELECT archived('tree') AS tree_archived;

-- (4c) A partition created inside CREATE SCHEMA ... CREATE TABLE ... PARTITION OF gets its
-- TRUNCATE guard: deny denies.
CREATE SCHEMA t11b CREATE TABLE tree_3 PARTITION OF t11.tree FOR VALUES IN (3);
SELECT tgrelid::regclass AS rel, tgname FROM pg_trigger
 WHERE tgrelid = 't11b.tree_3'::regclass ORDER BY tgname;
INSERT INTO tree VALUES (4, 3);
TRUNCATE t11b.tree_3;
SELECT count(*) AS tree_3_rows_left FROM t11b.tree_3;

-- (4d) A foreign partition: DDL on the tree keeps working (it gets no guard); TRUNCATE of the
-- root under policy archive is refused rather than losing the foreign rows (postgres_fdw,
-- looping back to this database, can truncate).
SET client_min_messages = warning;
CREATE EXTENSION postgres_fdw SCHEMA public;
RESET client_min_messages;
DO $$ BEGIN
  EXECUTE format('CREATE SERVER regress_dr_loop FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host %L, port %L, dbname %L)',
                 split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_database());
END $$;
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_dr_loop;
CREATE TABLE ftree_remote (id int, k int);
INSERT INTO ftree_remote VALUES (90, 9);
CREATE TABLE ftree (id int, k int) PARTITION BY LIST (k);
CREATE TABLE ftree_1 PARTITION OF ftree FOR VALUES IN (1);
SELECT deleted_record_attach('ftree', 'archive');
CREATE FOREIGN TABLE ftree_f PARTITION OF ftree FOR VALUES IN (9) SERVER regress_dr_loop
    OPTIONS (schema_name 't11', table_name 'ftree_remote');
ALTER TABLE ftree ADD COLUMN note text;
CREATE TABLE ftree_2 PARTITION OF ftree FOR VALUES IN (2);
ALTER TABLE ftree DETACH PARTITION ftree_2;
ALTER TABLE ftree ATTACH PARTITION ftree_2 FOR VALUES IN (2);
SELECT c.relname, c.relkind, count(g.oid) AS guards FROM pg_partition_tree('ftree') t
  JOIN pg_class c ON c.oid = t.relid
  LEFT JOIN pg_trigger g ON g.tgrelid = t.relid AND g.tgname = 'deleted_record_truncate_guard'
 GROUP BY c.relname, c.relkind ORDER BY 1;
INSERT INTO ftree_1 VALUES (1, 1);
TRUNCATE ftree;
SELECT (SELECT count(*) FROM ftree_1) AS ftree_1_rows_left, (SELECT count(*) FROM ftree_remote) AS remote_rows_left;

-- (4e) deleted_record_detach on a partition of an attached table: a clear error, nothing changes.
SELECT deleted_record_detach('tree_1');
SELECT deleted_record_attach('tree_1');
SELECT count(*) AS tree_1_triggers FROM pg_trigger WHERE tgrelid = 'tree_1'::regclass;

-- (4f) A partition detached with ALTER TABLE ... DETACH PARTITION loses its guard: TRUNCATE
-- is neither denied nor archived on a table whose deletes are no longer archived.
ALTER TABLE tree DETACH PARTITION tree_1;
SELECT count(*) AS tree_1_guards FROM pg_trigger WHERE tgrelid = 'tree_1'::regclass;
INSERT INTO tree_1 VALUES (10, 1);
TRUNCATE tree_1;
SELECT count(*) AS tree_1_rows_left FROM tree_1;

-- (5) Columns and constraints a DBA adds to the archive: honoured (defaults, CHECK, generated
-- columns) or refused when the change is made (what the direct writer cannot honour).
ALTER TABLE deleted_record ADD COLUMN region text NOT NULL DEFAULT 'main';
ALTER TABLE deleted_record ADD COLUMN data_size int GENERATED ALWAYS AS (octet_length(data::text)) STORED;
ALTER TABLE deleted_record ADD CONSTRAINT no_evil_actor CHECK (actor IS DISTINCT FROM 'evil');
CREATE TABLE dba (id int PRIMARY KEY);
SELECT deleted_record_attach('dba');
INSERT INTO dba VALUES (1), (2);
DELETE FROM dba WHERE id = 1;
SELECT region, data_size = octet_length(data::text) AS generated_ok FROM deleted_record
 WHERE schema_name = 't11' AND table_name = 'dba';
-- (The failing partition's name holds a date: report the constraint.)
CREATE FUNCTION refused_by(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE name text;
BEGIN
  EXECUTE statement;
  RETURN 'accepted';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS name = CONSTRAINT_NAME;
  RETURN SQLSTATE || coalesce(' ' || nullif(name, ''), '');
END $$;
BEGIN;
SET LOCAL deleted_record.actor = 'evil';
SELECT refused_by('DELETE FROM t11.dba WHERE id = 2') AS evil_delete;
ROLLBACK;
SELECT count(*) AS dba_left FROM dba;
SELECT refused_by('ALTER TABLE deleted_record ADD COLUMN must_have int NOT NULL') AS not_null_without_default;
ALTER TABLE deleted_record ADD COLUMN ref_id int REFERENCES dba;
ALTER TABLE deleted_record ALTER COLUMN reason TYPE varchar;
ALTER TABLE deleted_record DROP COLUMN actor;
ALTER TABLE deleted_record RENAME COLUMN reason TO why;
ALTER TABLE deleted_record ADD CONSTRAINT late_unique UNIQUE (id, deleted_at) DEFERRABLE INITIALLY DEFERRED;
CREATE FUNCTION archive_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER never_fires BEFORE INSERT ON deleted_record FOR EACH ROW EXECUTE FUNCTION archive_noop();
CREATE RULE never_applies AS ON INSERT TO deleted_record DO ALSO NOTIFY archive;
CREATE INDEX deleted_record_actor_idx ON deleted_record (actor);   -- indexes are fine
SELECT attname FROM pg_attribute WHERE attrelid = 'deleted_record'::regclass AND attnum > 0 AND NOT attisdropped
 ORDER BY attnum;
ALTER TABLE deleted_record DROP CONSTRAINT no_evil_actor;
ALTER TABLE deleted_record DROP COLUMN data_size;
ALTER TABLE deleted_record DROP COLUMN region;
DROP INDEX deleted_record_actor_idx;

-- Clean up.
DELETE FROM deleted_record WHERE schema_name IN ('t11', 't11b');
SET client_min_messages = warning;
DROP SCHEMA t11 CASCADE;
DROP SCHEMA t11b CASCADE;
DROP EXTENSION postgres_fdw CASCADE;
DROP OWNED BY regress_dr_late;
DROP ROLE regress_dr_late;
