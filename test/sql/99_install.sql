-- 99_install: DROP EXTENSION refuses while tables are attached; the install script does not adopt
-- pre-created objects (CVE-2022-2625 class); it installs into a schema named with spaces, quotes and $
-- (CVE-2023-39417 class) and works there. Runs last: it drops and recreates the extension.
\set SHOW_CONTEXT never
CREATE SCHEMA t99;
SET search_path = t99, public;
SET TimeZone = 'UTC';

-- Nothing is left attached by the earlier test files.
SELECT count(*) AS attached_before FROM deleted_record_attached;

-- DROP EXTENSION without CASCADE refuses while a table is attached.
CREATE TABLE a (id int PRIMARY KEY);
SELECT deleted_record_attach('a');
DROP EXTENSION deleted_record;
SELECT deleted_record_detach('a');
DROP EXTENSION deleted_record;
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'deleted_record';

-- A pre-created function with the extension's name in the target schema: CREATE EXTENSION fails.
CREATE SCHEMA evil_fn;
CREATE FUNCTION evil_fn.deleted_record_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE EXTENSION deleted_record SCHEMA evil_fn;
-- A pre-created table named deleted_record: fails too.
CREATE SCHEMA evil_tbl;
CREATE TABLE evil_tbl.deleted_record (id uuid, data jsonb);
CREATE EXTENSION deleted_record SCHEMA evil_tbl;
-- A pre-created attach function or view: fails too.
CREATE SCHEMA evil_api;
CREATE FUNCTION evil_api.deleted_record_attach(target regclass, on_truncate text DEFAULT 'archive', retention interval DEFAULT NULL,
                                        exclude_columns text[] DEFAULT NULL, mask_columns text[] DEFAULT NULL) RETURNS void
    LANGUAGE sql AS $$ SELECT NULL::void $$;
CREATE EXTENSION deleted_record SCHEMA evil_api;
CREATE SCHEMA evil_view;
CREATE VIEW evil_view.deleted_record_attached AS SELECT NULL::regclass AS table_name, NULL::text AS on_truncate;
CREATE EXTENSION deleted_record SCHEMA evil_view;
CREATE SCHEMA evil_uuid;
CREATE FUNCTION evil_uuid.deleted_record_uuid7() RETURNS uuid LANGUAGE sql AS $$ SELECT NULL::uuid $$;
CREATE EXTENSION deleted_record SCHEMA evil_uuid;
-- Nothing was installed and no pre-created object became a member of an extension.
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'deleted_record';
SELECT count(*) AS adopted FROM pg_depend
 WHERE deptype = 'e' AND classid = 'pg_proc'::regclass
   AND objid IN ('evil_fn.deleted_record_insert()'::regprocedure, 'evil_api.deleted_record_attach(regclass, text, interval, text[], text[])'::regprocedure,
                 'evil_uuid.deleted_record_uuid7()'::regprocedure);

-- A schema named with spaces, quotes and $: the extension installs and works there.
CREATE SCHEMA "we ird$ ""schema""";
CREATE EXTENSION deleted_record SCHEMA "we ird$ ""schema""";
SELECT extnamespace::regnamespace AS schema FROM pg_extension WHERE extname = 'deleted_record';
CREATE TABLE b (id int PRIMARY KEY, v text);
SELECT "we ird$ ""schema""".deleted_record_attach('t99.b');
SELECT table_name, on_truncate FROM "we ird$ ""schema""".deleted_record_attached;
DROP EXTENSION deleted_record;   -- refused, with a hint naming the schema correctly quoted
INSERT INTO b VALUES (1, 'one'), (2, 'two'), (3, 'three');
BEGIN;
SELECT "we ird$ ""schema""".deleted_record_set_context('installer', 'weird schema', '{"x": 1}');
DELETE FROM b WHERE id = 1;
COMMIT;
TRUNCATE b;
-- The archive is found by the trigger even though its schema is not on the search_path.
SHOW search_path;
SELECT object_id, data, table_name, schema_name, actor, reason, metadata,
       substr(id::text, 15, 1) AS version
  FROM "we ird$ ""schema""".deleted_record ORDER BY object_id;
SELECT has_table_privilege('public', '"we ird$ ""schema"""."deleted_record"', 'SELECT') AS public_can_read;
-- The trigger function can be attached by hand from there too.
CREATE TABLE c (id int PRIMARY KEY);
CREATE TRIGGER deleted_record_insert AFTER DELETE ON c FOR EACH ROW EXECUTE FUNCTION "we ird$ ""schema""".deleted_record_insert();
INSERT INTO c VALUES (9);
DELETE FROM c;
SELECT object_id, table_name FROM "we ird$ ""schema""".deleted_record WHERE table_name = 'c';
SELECT "we ird$ ""schema""".deleted_record_detach('t99.b');
SELECT "we ird$ ""schema""".deleted_record_detach('t99.c');
DROP EXTENSION deleted_record;

-- Back to the usual install in public.
CREATE EXTENSION deleted_record SCHEMA public;
SELECT extnamespace::regnamespace AS schema FROM pg_extension WHERE extname = 'deleted_record';

-- Clean up.
SET client_min_messages = warning;
DROP SCHEMA t99 CASCADE;
DROP SCHEMA evil_fn CASCADE;
DROP SCHEMA evil_tbl CASCADE;
DROP SCHEMA evil_api CASCADE;
DROP SCHEMA evil_view CASCADE;
DROP SCHEMA evil_uuid CASCADE;
DROP SCHEMA "we ird$ ""schema""" CASCADE;
