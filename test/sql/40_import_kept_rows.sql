-- 40_import_kept_rows: rows a BEFORE DELETE trigger (a soft-delete trigger) or row-level
-- security keeps from the import's DELETE: the error names that cause, the dry run warns about
-- BEFORE DELETE triggers and row-level security (review R4, finding 8). Nothing is moved.
\set SHOW_CONTEXT never
CREATE SCHEMA t40;
SET search_path = t40, public;
CREATE TABLE doc (id int PRIMARY KEY, body text, deleted_at timestamptz);
CREATE FUNCTION soft_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE t40.doc SET deleted_at = now() WHERE id = OLD.id AND deleted_at IS NULL; RETURN NULL; END $$;
CREATE TRIGGER doc_soft_delete BEFORE DELETE ON doc FOR EACH ROW EXECUTE FUNCTION soft_delete();
INSERT INTO doc VALUES (1, 'a', NULL), (2, 'b', '2025-01-09 00:00+00'), (3, 'c', '2025-01-10 00:00+00');
SELECT deleted_record_attach('doc', exclude_columns => '{deleted_at}') IS NOT NULL AS attached;
CALL deleted_record_import('t40.doc', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at', dry_run => true);
CALL deleted_record_import('doc', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at');
SELECT count(*) AS archived FROM deleted_record WHERE schema_name = 't40';
-- row-level security that lets the importing role select the rows but not delete them
DROP TRIGGER doc_soft_delete ON doc;
CREATE ROLE regress_dr_importer40;
ALTER TABLE doc OWNER TO regress_dr_importer40;
ALTER TABLE doc ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY doc_read ON doc FOR SELECT USING (true);
CREATE POLICY doc_write ON doc FOR UPDATE USING (true);
CREATE POLICY doc_delete ON doc FOR DELETE USING (id < 3);
GRANT USAGE ON SCHEMA t40 TO regress_dr_importer40;
SET ROLE regress_dr_importer40;
CALL deleted_record_import('t40.doc', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at', dry_run => true);
CALL deleted_record_import('t40.doc', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at');
RESET ROLE;
SELECT id FROM doc ORDER BY id;
-- (finding 7) a timestamp without time zone: the dry run says how it is read
RESET ROLE;
SET TimeZone = 'Europe/Berlin';
CREATE TABLE note (id int PRIMARY KEY, removed_at timestamp);
INSERT INTO note VALUES (1, '2025-01-09 00:00');
SELECT deleted_record_attach('note', exclude_columns => '{removed_at}') IS NOT NULL AS attached;
CALL deleted_record_import('note', 'removed_at IS NOT NULL', deleted_at => 'removed_at', dry_run => true);
SET client_min_messages = warning;
CALL deleted_record_import('note', 'removed_at IS NOT NULL', deleted_at => 'removed_at AT TIME ZONE ''UTC''');
RESET client_min_messages;
SELECT object_id, deleted_at AT TIME ZONE 'UTC' AS deleted_at_utc FROM deleted_record WHERE schema_name = 't40';
DROP TABLE note;
RESET TimeZone;
-- Review 7 #06: an ON DELETE DO INSTEAD rule (a soft-delete rule) rewrites the import's DELETE:
-- the import stops naming the rule (not an internal error), the dry run warns about it, nothing
-- is moved; with the rule disabled the rows move.
CREATE TABLE ruled (id int PRIMARY KEY, deleted_at timestamptz, note text);
INSERT INTO ruled VALUES (1, NULL, 'n'), (2, '2025-01-09 00:00+00', 'n');
SELECT deleted_record_attach('ruled', exclude_columns => '{deleted_at}') IS NOT NULL AS attached;
CREATE RULE ruled_soft AS ON DELETE TO ruled DO INSTEAD UPDATE t40.ruled SET note = 'soft' WHERE id = OLD.id;
CALL deleted_record_import('ruled', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at', dry_run => true);
CALL deleted_record_import('ruled', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at');
SELECT id, note FROM ruled ORDER BY id;
SELECT count(*) AS archived FROM deleted_record WHERE schema_name = 't40' AND table_name = 'ruled';
ALTER TABLE ruled DISABLE RULE ruled_soft;
SET client_min_messages = warning;
CALL deleted_record_import('ruled', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at');
RESET client_min_messages;
SELECT id, note FROM ruled ORDER BY id;
SELECT object_id FROM deleted_record WHERE schema_name = 't40' AND table_name = 'ruled';
DROP TABLE ruled;
-- cleanup
DROP TABLE doc;
DELETE FROM deleted_record WHERE schema_name = 't40';
RESET search_path;
DROP SCHEMA t40 CASCADE;
DROP ROLE regress_dr_importer40;
