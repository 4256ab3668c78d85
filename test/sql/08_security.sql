-- 08_security: least privilege on the archive, rows converted to JSON as the deleting user,
-- and no capture or forgery through look-alike functions, operators or tables on the search_path.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dr_fresh;
DROP ROLE IF EXISTS regress_dr_deleter;
DROP ROLE IF EXISTS regress_dr_lowpriv;
RESET client_min_messages;
SET TimeZone = 'UTC';
CREATE SCHEMA t08;
SET search_path = t08, public;
CREATE ROLE regress_dr_fresh;
CREATE ROLE regress_dr_deleter;
CREATE ROLE regress_dr_lowpriv;

-- PUBLIC and a fresh role hold no privilege on the archive.
SELECT p AS privilege,
       has_table_privilege('regress_dr_fresh', 'public.deleted_record', p) AS fresh_role,
       has_table_privilege('public', 'public.deleted_record', p) AS public
  FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p;
SELECT has_any_column_privilege('regress_dr_fresh', 'public.deleted_record', 'SELECT') AS any_column;
SELECT count(*) AS public_acl_entries FROM pg_class, aclexplode(relacl) a
 WHERE pg_class.oid = 'public.deleted_record'::regclass AND a.grantee = 0;

-- A role allowed to DELETE from an attached table (and nothing else) deletes, and the row is archived;
-- it can neither read nor write the archive.
CREATE TABLE sec (id int PRIMARY KEY, secret text);
SELECT deleted_record_attach('sec');
INSERT INTO sec VALUES (1, 'top'), (2, 'secret');
GRANT USAGE ON SCHEMA t08 TO regress_dr_deleter;
GRANT SELECT, DELETE ON sec TO regress_dr_deleter;
SET ROLE regress_dr_deleter;
DELETE FROM sec WHERE id = 1;
SELECT * FROM deleted_record;
SELECT count(*) FROM public.deleted_record;
INSERT INTO deleted_record (id, data, table_name, schema_name) VALUES (gen_random_uuid(), '{}', 'sec', 't08');
UPDATE deleted_record SET actor = 'forged';
DELETE FROM deleted_record;
TRUNCATE deleted_record;
COPY deleted_record TO STDOUT;
-- ... nor abuse the trigger functions or the attach machinery.
SELECT deleted_record_insert();
SELECT deleted_record_truncate_guard();
SELECT deleted_record_detach('sec');
SELECT deleted_record_manage('sec', 'detach', NULL, NULL, NULL, NULL);
RESET ROLE;
SELECT object_id, data, current_user_name, session_user_name = session_user AS session_user_ok
  FROM deleted_record WHERE schema_name = 't08' AND table_name = 'sec';
SELECT table_name FROM deleted_record_attached WHERE table_name = 't08.sec'::regclass;
-- A role with DELETE and no SELECT at all (DELETE without WHERE needs no SELECT): still archived.
GRANT DELETE ON sec TO regress_dr_fresh;
GRANT USAGE ON SCHEMA t08 TO regress_dr_fresh;
SET ROLE regress_dr_fresh;
SELECT * FROM sec;
DELETE FROM sec;
RESET ROLE;
SELECT object_id, data, current_user_name FROM deleted_record
 WHERE schema_name = 't08' AND table_name = 'sec' AND current_user_name = 'regress_dr_fresh';

-- The row is converted to JSON as the deleting user: a low-privilege role owns an enum with a
-- cast to json whose function records current_user; after another role's delete, it ran as that
-- role, never as a superuser.
CREATE TABLE cast_log (who text, sess text);
GRANT INSERT ON cast_log TO PUBLIC;
GRANT USAGE ON SCHEMA t08 TO PUBLIC;
GRANT CREATE ON SCHEMA t08 TO regress_dr_lowpriv;
SET ROLE regress_dr_lowpriv;
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE FUNCTION mood_to_json(mood) RETURNS json LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO t08.cast_log VALUES (current_user, session_user);
  RETURN pg_catalog.to_json($1::text || ' (via cast)');
END $$;
CREATE CAST (mood AS json) WITH FUNCTION mood_to_json(mood);
RESET ROLE;
CREATE TABLE feelings (id int PRIMARY KEY, m mood, ms mood[]);
SELECT deleted_record_attach('feelings');
INSERT INTO feelings VALUES (1, 'happy', '{sad}'), (2, 'sad', NULL);
GRANT SELECT, DELETE ON feelings TO regress_dr_deleter;
SET ROLE regress_dr_deleter;
DELETE FROM feelings WHERE id = 1;
RESET ROLE;
SELECT who, sess = session_user AS sess_is_login_role FROM cast_log ORDER BY who;
SELECT count(*) AS ran_as_superuser FROM cast_log c JOIN pg_roles r ON r.rolname = c.who WHERE r.rolsuper;
SELECT data, current_user_name FROM deleted_record WHERE schema_name = 't08' AND table_name = 'feelings';

-- No capture: look-alike functions, operators and tables first on the search_path.
CREATE TABLE capture_log (what text);
GRANT INSERT ON capture_log TO PUBLIC;
CREATE SCHEMA t08evil;
CREATE TABLE victim (id int PRIMARY KEY, v text, ts timestamptz);
CREATE TABLE victim2 (a int, b text, c int, PRIMARY KEY (a, b));
SELECT deleted_record_attach('victim'), deleted_record_attach('victim2');
INSERT INTO victim VALUES (1, 'one', '2024-01-01 00:00:00+00'), (2, 'two', '2024-01-02 00:00:00+00');
INSERT INTO victim2 VALUES (7, 'seven', 1);
CREATE TEMP TABLE victim_copy AS SELECT r.id, pg_catalog.to_jsonb(r) AS j FROM victim r;
CREATE TEMP TABLE victim2_copy AS SELECT pg_catalog.to_jsonb(r) AS j FROM victim2 r;
-- A public.to_jsonb for the table's row type, and look-alikes of everything a trigger might call.
CREATE FUNCTION public.to_jsonb(t08.victim) RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN INSERT INTO t08.capture_log VALUES ('public.to_jsonb(victim)'); RETURN '{"forged": true}'; END $$;
CREATE FUNCTION t08evil.to_jsonb(anyelement) RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN INSERT INTO t08.capture_log VALUES ('to_jsonb(anyelement)'); RETURN '{"forged": true}'; END $$;
CREATE FUNCTION t08evil.to_json(anyelement) RETURNS json LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN INSERT INTO t08.capture_log VALUES ('to_json'); RETURN '{"forged": true}'; END $$;
CREATE FUNCTION t08evil.row_to_json(record) RETURNS json LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN INSERT INTO t08.capture_log VALUES ('row_to_json'); RETURN '{"forged": true}'; END $$;
CREATE FUNCTION t08evil.jsonb_build_array(int, text) RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN INSERT INTO t08.capture_log VALUES ('jsonb_build_array'); RETURN '["forged"]'; END $$;
CREATE FUNCTION t08evil.now() RETURNS timestamptz LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN INSERT INTO t08.capture_log VALUES ('now'); RETURN '2000-01-01 00:00:00+00'; END $$;
CREATE FUNCTION t08evil.transaction_timestamp() RETURNS timestamptz LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN INSERT INTO t08.capture_log VALUES ('transaction_timestamp'); RETURN '2000-01-01 00:00:00+00'; END $$;
CREATE FUNCTION t08evil.pg_current_xact_id() RETURNS xid8 LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN INSERT INTO t08.capture_log VALUES ('pg_current_xact_id'); RETURN '1'::xid8; END $$;
CREATE FUNCTION t08evil.current_setting(text) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN INSERT INTO t08.capture_log VALUES ('current_setting'); RETURN 'forged'; END $$;
CREATE FUNCTION t08evil.current_setting(text, boolean) RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN INSERT INTO t08.capture_log VALUES ('current_setting2'); RETURN 'forged'; END $$;
CREATE FUNCTION t08evil.gen_random_uuid() RETURNS uuid LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN INSERT INTO t08.capture_log VALUES ('gen_random_uuid'); RETURN '00000000-0000-7000-8000-000000000000'; END $$;
CREATE FUNCTION t08evil.deleted_record_uuid7() RETURNS uuid LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN INSERT INTO t08.capture_log VALUES ('deleted_record_uuid7'); RETURN '00000000-0000-7000-8000-000000000000'; END $$;
CREATE FUNCTION t08evil.text_eq(text, text) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN INSERT INTO t08.capture_log VALUES ('=(text,text)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR t08evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = t08evil.text_eq);
CREATE FUNCTION t08evil.oid_eq(oid, oid) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN INSERT INTO t08.capture_log VALUES ('=(oid,oid)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR t08evil.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = t08evil.oid_eq);
CREATE FUNCTION t08evil.name_eq(name, name) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN INSERT INTO t08.capture_log VALUES ('=(name,name)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR t08evil.= (LEFTARG = name, RIGHTARG = name, FUNCTION = t08evil.name_eq);
CREATE FUNCTION t08evil.jsonb_concat(jsonb, jsonb) RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog AS
  $$ BEGIN INSERT INTO t08.capture_log VALUES ('||(jsonb,jsonb)'); RETURN '{"forged": true}'; END $$;
CREATE OPERATOR t08evil.|| (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = t08evil.jsonb_concat);
-- Look-alike archive tables: one in the evil schema, one TEMP.
CREATE TABLE t08evil.deleted_record (LIKE public.deleted_record);
GRANT ALL ON t08evil.deleted_record TO PUBLIC;
GRANT USAGE ON SCHEMA t08evil TO PUBLIC;
CREATE TEMP TABLE deleted_record (LIKE public.deleted_record);
-- The look-alikes do capture an ordinary query on this search_path (so the test is meaningful).
SET search_path = pg_temp, t08evil, t08, public, pg_catalog;
SELECT to_jsonb(r) AS what_a_query_sees FROM victim r WHERE id = 2;
SELECT 'a'::text = 'a'::text AS looked_alike;
SELECT count(*) AS temp_archive_rows FROM deleted_record;
RESET search_path;
SELECT what FROM t08.capture_log ORDER BY what;
TRUNCATE t08.capture_log;
-- Deletes under hostile search_paths: pg_temp first, then the evil schema first.
SET search_path = pg_temp, t08evil, t08, public, pg_catalog;
SET deleted_record.actor = 'real actor';
DELETE FROM victim WHERE id = 1;
DELETE FROM victim2;
SET search_path = t08evil, pg_temp, t08, public, pg_catalog;
DELETE FROM victim WHERE id = 2;
RESET search_path;
RESET deleted_record.actor;
SET search_path = t08, public;
SELECT count(*) AS fake_calls FROM capture_log;
SELECT count(*) AS temp_table_rows FROM pg_temp.deleted_record;
SELECT count(*) AS evil_table_rows FROM t08evil.deleted_record;
SELECT d.object_id, d.data = c.j AS data_real, d.actor, d.xact_id <> 1 AS xact_real,
       d.deleted_at > '2000-01-01 00:00:00+00' AS time_real,
       d.id <> '00000000-0000-7000-8000-000000000000' AS id_real
  FROM public.deleted_record d JOIN victim_copy c ON c.id::text = d.object_id
 WHERE d.schema_name = 't08' AND d.table_name = 'victim' ORDER BY d.object_id;
SELECT d.object_id, d.data = (SELECT j FROM victim2_copy) AS data_real
  FROM public.deleted_record d WHERE d.schema_name = 't08' AND d.table_name = 'victim2';

-- Clean up.
DELETE FROM public.deleted_record WHERE schema_name = 't08';
SET client_min_messages = warning;
DROP TABLE pg_temp.deleted_record;
DROP SCHEMA t08evil CASCADE;
DROP SCHEMA t08 CASCADE;
DROP ROLE regress_dr_fresh;
DROP ROLE regress_dr_deleter;
DROP ROLE regress_dr_lowpriv;
