-- 32_typed_view_lifecycle: a typed view never fails on an old value of a column since retyped
-- (it comes back NULL, the raw value stays in the archive's data), and it goes with its table
-- (review R2, findings 4 and 5).
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dr_reader32;
DROP ROLE IF EXISTS regress_dr_owner32;
RESET client_min_messages;
CREATE ROLE regress_dr_reader32;
CREATE ROLE regress_dr_owner32;
CREATE SCHEMA t32;
GRANT ALL ON SCHEMA t32 TO regress_dr_owner32;
GRANT USAGE ON SCHEMA t32 TO regress_dr_reader32;
GRANT SELECT ON deleted_record TO regress_dr_reader32;
SET search_path = t32, public;

-- (1) Retyped columns: values archived before that do not convert come back NULL, the others
-- as the new type; rows archived after the retype are typed as usual.
CREATE DOMAIN small_positive AS int CHECK (VALUE BETWEEN 1 AND 100);
-- A check that raises an error of its own (not a check violation).
CREATE FUNCTION t32.picky(value text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF length(value) > 3 THEN RAISE EXCEPTION 'picky: % is too long', value; END IF;
  RETURN true;
END $$;
CREATE DOMAIN picky_text AS text CHECK (t32.picky(VALUE));
CREATE TABLE item (id int PRIMARY KEY, code text, price numeric, note varchar(20), qty int, tag text);
SELECT deleted_record_attach('item') IS NOT NULL AS attached;
SELECT deleted_record_view('item');
INSERT INTO item VALUES (1, 'abc', 1.5, 'a rather long note', 500, 'long tag'), (2, '42', 2, 'short', 5, 'ok'), (3, '7', 3, 'x', 7, 'new');
DELETE FROM item WHERE id IN (1, 2);
ALTER TABLE item ALTER COLUMN code TYPE int USING 0, ALTER COLUMN price TYPE int, ALTER COLUMN note TYPE varchar(5),
                 ALTER COLUMN qty TYPE small_positive, ALTER COLUMN tag TYPE picky_text;
DELETE FROM item WHERE id = 3;
SELECT id, code, price, note, qty, tag FROM item_deleted ORDER BY id;
SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
 WHERE a.attrelid = 'item_deleted'::regclass AND a.attname IN ('code', 'price', 'note', 'qty', 'tag') ORDER BY a.attnum;
-- The raw value stays reachable in the archive.
SELECT d.data ->> 'code' AS code, d.data ->> 'note' AS note FROM item_deleted v JOIN deleted_record d ON d.id = v.archive_id
 WHERE v.id = 1;
-- Retyped back: the old values convert again.
ALTER TABLE item ALTER COLUMN code TYPE text;
SELECT id, code FROM item_deleted ORDER BY id;
-- A reader of the archive reads the view too (the conversion runs as the reader).
SET ROLE regress_dr_reader32;
SELECT id, code, price, note, qty, tag FROM item_deleted ORDER BY id;
RESET ROLE;

-- (2) Dropped with its table: the next table of that name gets a view of its own, with only its rows.
CREATE TABLE gadget (id int PRIMARY KEY, code text);
SELECT deleted_record_attach('gadget') IS NOT NULL AS attached;
SELECT deleted_record_view('gadget');
INSERT INTO gadget VALUES (1, 'old-1'); DELETE FROM gadget;
DROP TABLE gadget;
SELECT to_regclass('t32.gadget_deleted') AS view_after_drop;
CREATE TABLE gadget (id bigint PRIMARY KEY, code text, ssn text);
SELECT deleted_record_attach('gadget', exclude_columns => '{ssn}') IS NOT NULL AS attached;
SELECT deleted_record_view('gadget');
INSERT INTO gadget VALUES (7, 'new-7', '123-45-6789'); DELETE FROM gadget;
SELECT id, code, ssn FROM gadget_deleted;
-- A view with dependents is left with a warning, and the DROP TABLE goes through.
CREATE VIEW gadget_codes AS SELECT code FROM gadget_deleted;
DROP TABLE gadget;
SELECT to_regclass('t32.gadget_deleted') IS NOT NULL AS view_kept_for_dependents;
DROP VIEW gadget_codes, gadget_deleted;
-- Dropping a same-named table of another schema leaves the view of a live table alone.
CREATE SCHEMA t32b;
CREATE TABLE t32b.item (id int);
DROP TABLE t32b.item;
SELECT to_regclass('t32.item_deleted') IS NOT NULL AS view_of_live_table_kept;
DROP SCHEMA t32b;
-- DROP SCHEMA ... CASCADE: table and view go together without a word.
DROP SCHEMA t32 CASCADE;
REVOKE ALL ON deleted_record FROM regress_dr_reader32;
DROP ROLE regress_dr_reader32;
DROP ROLE regress_dr_owner32;
