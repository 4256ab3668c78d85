-- 02_trigger_protocol: deleted_record_insert() attached by hand as in the original article works;
-- any other use (BEFORE, FOR EACH STATEMENT, INSERT/UPDATE/TRUNCATE, INSTEAD OF, a direct call) fails clearly.
\set SHOW_CONTEXT never
CREATE SCHEMA t02;
SET search_path = t02, public;

-- Attached by hand exactly as in the article.
CREATE TABLE credit (id uuid PRIMARY KEY, amount int);
CREATE TRIGGER deleted_record_insert AFTER DELETE ON credit
    FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
INSERT INTO credit VALUES ('0190a5c4-0000-7000-8000-000000000001', 10);
DELETE FROM credit;
SELECT object_id, table_name, schema_name, data FROM deleted_record WHERE schema_name = 't02';
-- It is listed as attached, and gets the TRUNCATE guard of an attached table (on_truncate 'archive').
SELECT table_name, on_truncate FROM deleted_record_attached WHERE table_name = 't02.credit'::regclass;

CREATE TABLE wrong (id int PRIMARY KEY);
INSERT INTO wrong VALUES (1), (2);

-- BEFORE DELETE: error, the row stays.
CREATE TRIGGER t_before BEFORE DELETE ON wrong FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
DELETE FROM wrong WHERE id = 1;
DROP TRIGGER t_before ON wrong;

-- AFTER DELETE FOR EACH STATEMENT: error.
CREATE TRIGGER t_stmt AFTER DELETE ON wrong FOR EACH STATEMENT EXECUTE FUNCTION deleted_record_insert();
DELETE FROM wrong WHERE id = 1;
DROP TRIGGER t_stmt ON wrong;

-- Fired by INSERT: error.
CREATE TRIGGER t_ins AFTER INSERT ON wrong FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
INSERT INTO wrong VALUES (3);
DROP TRIGGER t_ins ON wrong;

-- Fired by UPDATE: error.
CREATE TRIGGER t_upd AFTER UPDATE ON wrong FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
UPDATE wrong SET id = 10 WHERE id = 1;
DROP TRIGGER t_upd ON wrong;

-- AFTER INSERT OR DELETE: the delete archives, the insert fails.
CREATE TRIGGER t_ins_del AFTER INSERT OR DELETE ON wrong FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
DELETE FROM wrong WHERE id = 2;
INSERT INTO wrong VALUES (4);
DROP TRIGGER t_ins_del ON wrong;

-- BEFORE TRUNCATE (statement level): error, the rows stay.
CREATE TRIGGER t_trunc BEFORE TRUNCATE ON wrong FOR EACH STATEMENT EXECUTE FUNCTION deleted_record_insert();
TRUNCATE wrong;
DROP TRIGGER t_trunc ON wrong;

-- INSTEAD OF DELETE on a view: error.
CREATE VIEW wrong_v AS SELECT * FROM wrong;
CREATE TRIGGER t_instead INSTEAD OF DELETE ON wrong_v FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
DELETE FROM wrong_v WHERE id = 1;
DROP VIEW wrong_v;

SELECT id FROM wrong ORDER BY id;
SELECT object_id FROM deleted_record WHERE schema_name = 't02' AND table_name = 'wrong';

-- Called directly: error, with SQLSTATE 39P01 (trigger_protocol_violated).
SELECT deleted_record_insert();
SELECT * FROM deleted_record_insert();
\set VERBOSITY sqlstate
SELECT deleted_record_insert();
\set VERBOSITY default

-- The TRUNCATE guard also refuses to be used as anything but a BEFORE TRUNCATE statement trigger.
SELECT deleted_record_truncate_guard();
CREATE TRIGGER t_guard_del AFTER DELETE ON wrong FOR EACH ROW EXECUTE FUNCTION deleted_record_truncate_guard('archive');
DELETE FROM wrong WHERE id = 1;
DROP TRIGGER t_guard_del ON wrong;
SELECT id FROM wrong ORDER BY id;

-- Clean up.
DELETE FROM deleted_record WHERE schema_name = 't02';
SET client_min_messages = warning;
DROP SCHEMA t02 CASCADE;
