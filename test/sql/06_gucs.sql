-- 06_gucs: the deletion context settings deleted_record.actor / .reason / .metadata through SET,
-- SET LOCAL, set_config, ALTER ROLE/DATABASE SET and before the library is loaded; read at each
-- delete; empty = NULL; long and multibyte values whole; metadata validated at SET time; the
-- reserved prefix; and deleted_record.require_context.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dr_guc;
RESET client_min_messages;
CREATE SCHEMA t06;
SET search_path = t06, public;
CREATE TABLE g (id int PRIMARY KEY);
SELECT deleted_record_attach('g');
INSERT INTO g SELECT generate_series(1, 60);

-- The settings exist once the library is loaded, which the first archived delete does
-- (nothing needs to be preloaded). Their defaults:
DELETE FROM g WHERE id = 60;
SHOW deleted_record.actor;
SHOW deleted_record.reason;
SHOW deleted_record.metadata;
SHOW deleted_record.require_context;
SELECT name, vartype, context, enumvals FROM pg_settings WHERE name LIKE 'deleted\_record.%' ORDER BY name;

-- SET (session level).
SET deleted_record.actor = 'alice';
SET deleted_record.reason = 'cleanup';
SET deleted_record.metadata = '{"b": [1, {"c": null}], "a": "x"}';
DELETE FROM g WHERE id = 1;
-- SET LOCAL overrides for one transaction, then the session value is back.
BEGIN;
SET LOCAL deleted_record.actor = 'bob';
SET LOCAL deleted_record.metadata = '{"local": true}';
DELETE FROM g WHERE id = 2;
COMMIT;
DELETE FROM g WHERE id = 3;
RESET deleted_record.actor;
RESET deleted_record.reason;
RESET deleted_record.metadata;
DELETE FROM g WHERE id = 4;
-- set_config(..., true) is transaction-local.
BEGIN;
SELECT set_config('deleted_record.reason', 'via set_config', true);
DELETE FROM g WHERE id = 5;
COMMIT;
DELETE FROM g WHERE id = 6;
-- set_config(..., false) is session-wide.
SELECT set_config('deleted_record.actor', 'session via set_config', false);
DELETE FROM g WHERE id = 7;
-- Empty string means unset: NULL in the archive.
SET deleted_record.actor = '';
SET deleted_record.reason = '';
SET deleted_record.metadata = '';
DELETE FROM g WHERE id = 8;
RESET ALL;
SET search_path = t06, public;
-- Values are read at each delete: changed between deletes of one transaction.
BEGIN;
SET LOCAL deleted_record.reason = 'first';
DELETE FROM g WHERE id = 9;
SET LOCAL deleted_record.reason = 'second';
DELETE FROM g WHERE id = 10;
SELECT set_config('deleted_record.reason', 'third', true);
DELETE FROM g WHERE id = 11;
COMMIT;
-- ... and inside one plpgsql block.
DO $$
BEGIN
  PERFORM set_config('deleted_record.actor', 'loop-' || 12, true);
  DELETE FROM t06.g WHERE id = 12;
  PERFORM set_config('deleted_record.actor', 'loop-' || 13, true);
  DELETE FROM t06.g WHERE id = 13;
END $$;
SELECT object_id, actor, reason, metadata FROM deleted_record
 WHERE schema_name = 't06' AND table_name = 'g' ORDER BY object_id::int;

-- Long (10,000 characters) and multibyte values are kept whole.
SELECT set_config('deleted_record.reason', repeat('x', 9999) || 'y', false) IS NOT NULL AS set;
SELECT set_config('deleted_record.actor', 'Jürgen Ω 日本語 🚀 ' || repeat('日本', 5000), false) IS NOT NULL AS set;
SELECT set_config('deleted_record.metadata', jsonb_build_object('note', repeat('ü', 10000), 'emoji', '🚀')::text, false) IS NOT NULL AS set;
DELETE FROM g WHERE id = 20;
RESET ALL;
SET search_path = t06, public;
SELECT length(reason) AS reason_len, reason = repeat('x', 9999) || 'y' AS reason_whole,
       length(actor) AS actor_len, octet_length(actor) AS actor_bytes,
       actor = 'Jürgen Ω 日本語 🚀 ' || repeat('日本', 5000) AS actor_whole,
       metadata = jsonb_build_object('note', repeat('ü', 10000), 'emoji', '🚀') AS metadata_whole
  FROM deleted_record WHERE schema_name = 't06' AND table_name = 'g' AND object_id = '20';

-- metadata must be a valid JSON object: rejected at SET time, the previous value kept.
SET deleted_record.metadata = '{"ok": 1}';
SET deleted_record.metadata = '{bad';
SET deleted_record.metadata = '[1, 2]';
SET deleted_record.metadata = '"a string"';
SET deleted_record.metadata = '42';
SET deleted_record.metadata = 'null';
SET deleted_record.metadata = '{"a": 1} trailing';
SELECT set_config('deleted_record.metadata', '{bad', true);
BEGIN;
SET LOCAL deleted_record.metadata = 'true';
ROLLBACK;
SHOW deleted_record.metadata;
DELETE FROM g WHERE id = 21;
RESET deleted_record.metadata;
SELECT object_id, metadata FROM deleted_record WHERE schema_name = 't06' AND object_id = '21';

-- The prefix is reserved: a typo is an error, not a silent placeholder.
SET deleted_record.reson = 'x';
SELECT set_config('deleted_record.reson', 'x', false);
SET deleted_record.actr TO 'x';

-- deleted_record.require_context: none | actor | reason | actor_and_reason.
SET deleted_record.require_context = 'bogus';
SET deleted_record.require_context = 'reason';
DELETE FROM g WHERE id = 30;                       -- no reason: error, row stays
SET deleted_record.actor = 'only actor';
DELETE FROM g WHERE id = 30;                       -- actor is not enough
SET deleted_record.reason = '';
DELETE FROM g WHERE id = 30;                       -- empty reason is missing
SET deleted_record.reason = 'has reason';
DELETE FROM g WHERE id = 30;                       -- ok
RESET deleted_record.actor;
RESET deleted_record.reason;
SET deleted_record.require_context = 'actor';
BEGIN;
SELECT deleted_record_set_context(NULL, 'a reason');
DELETE FROM g WHERE id = 31;                       -- no actor: error
ROLLBACK;
BEGIN;
SELECT deleted_record_set_context('an actor', NULL);
DELETE FROM g WHERE id = 31;                       -- ok
COMMIT;
SET deleted_record.require_context = 'actor_and_reason';
SET deleted_record.actor = 'someone';
DELETE FROM g WHERE id = 32;                       -- no reason: error
RESET deleted_record.actor;
SET deleted_record.reason = 'why';
DELETE FROM g WHERE id = 32;                       -- no actor: error
SET deleted_record.actor = 'someone';
DELETE FROM g WHERE id = 32;                       -- ok
RESET deleted_record.actor;
RESET deleted_record.reason;
-- A statement deleting several rows fails as a whole; a DELETE from an unattached table is unaffected.
DELETE FROM g WHERE id IN (33, 34);
CREATE TABLE not_attached (id int);
INSERT INTO not_attached VALUES (1);
DELETE FROM not_attached;
SET deleted_record.require_context = 'none';
DELETE FROM g WHERE id = 33;                       -- ok again
RESET deleted_record.require_context;
SELECT id FROM g WHERE id BETWEEN 30 AND 34 ORDER BY id;
SELECT object_id, actor, reason FROM deleted_record
 WHERE schema_name = 't06' AND table_name = 'g' AND object_id::int BETWEEN 30 AND 34 ORDER BY object_id;

-- ALTER ROLE ... SET and ALTER DATABASE ... SET apply at login (before the library is loaded in
-- that new session); invalid metadata is refused by ALTER ROLE too.
CREATE ROLE regress_dr_guc LOGIN;
GRANT USAGE ON SCHEMA t06 TO regress_dr_guc;
GRANT SELECT, DELETE ON g TO regress_dr_guc;
ALTER ROLE regress_dr_guc SET deleted_record.actor = 'role default';
ALTER ROLE regress_dr_guc SET deleted_record.metadata = '{"source": "role"}';
ALTER ROLE regress_dr_guc SET deleted_record.metadata = '[1]';
ALTER ROLE regress_dr_guc SET deleted_record.reson = 'typo';
SELECT current_database() AS db, current_user AS superuser \gset
ALTER DATABASE :"db" SET deleted_record.reason = 'database default';
\c - regress_dr_guc
SHOW deleted_record.actor;
SHOW deleted_record.reason;
DELETE FROM t06.g WHERE id = 40;
SHOW deleted_record.metadata;
\c - :superuser
ALTER DATABASE :"db" RESET deleted_record.reason;
-- Set in a new session before the library is loaded (placeholders), then the first delete loads it:
-- valid values are kept; an invalid metadata and a misspelled name are reported and dropped.
\c -
SET deleted_record.actor = 'set before load';
SET deleted_record.metadata = '{"early": true}';
DELETE FROM t06.g WHERE id = 41;
\c -
SET deleted_record.metadata = 'not json';
SET deleted_record.reson = 'typo before load';
DELETE FROM t06.g WHERE id = 42;
SHOW deleted_record.metadata;
SET search_path = t06, public;
SELECT object_id, actor, reason, metadata, current_user_name FROM deleted_record
 WHERE schema_name = 't06' AND table_name = 'g' AND object_id::int BETWEEN 40 AND 42 ORDER BY object_id;

-- Clean up.
DELETE FROM deleted_record WHERE schema_name = 't06';
SET client_min_messages = warning;
DROP SCHEMA t06 CASCADE;
DROP ROLE regress_dr_guc;
