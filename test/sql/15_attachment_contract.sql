-- 15_attachment_contract: one owner decides which trigger archives a table, its options and its
-- identity. Policies belong to the table, whichever archive trigger fires (finding 8); a later
-- attach keeps what it leaves out and hand-made triggers get a TRUNCATE guard (finding 14);
-- retention follows the table's identity, not its name (finding 2); no setting stops the purge
-- (finding 6); masks cannot be computed without EXECUTE on deleted_record_mask (finding 3).
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_h3_mallory;
DROP ROLE IF EXISTS regress_h3_officer;
RESET client_min_messages;
CREATE SCHEMA t15;
SET search_path = t15, public;
SET TimeZone = 'UTC';
CREATE FUNCTION archived(tbl text) RETURNS TABLE (object_id text, data jsonb) LANGUAGE sql AS $$
  SELECT object_id, data FROM public.deleted_record WHERE schema_name = 't15' AND table_name = tbl ORDER BY object_id, id
$$;

-- (8) A second archive trigger made by hand, without options, on a table attached with
-- mask_columns: the masked column is still archived masked (the hand-made trigger fires first).
CREATE TABLE patient (id int PRIMARY KEY, email text, note text);
SELECT deleted_record_attach('patient', mask_columns => '{email}', exclude_columns => '{note}');
CREATE TRIGGER a_by_hand AFTER DELETE ON patient FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
SELECT table_name, mask_columns, exclude_columns, attachment_id IS NOT NULL AS has_identity
  FROM deleted_record_attached WHERE table_name = 'patient'::regclass;
INSERT INTO patient VALUES (1, 'bob@example.com', 'secret note');
DELETE FROM patient;
SELECT object_id, data->>'email' = deleted_record_mask('bob@example.com') AS email_masked, data ? 'note' AS note_archived,
       count(*) OVER () AS archived_once
  FROM archived('patient');
-- Dropping the attach-made trigger by hand drops its policies: the view says so, as the
-- capture does (detach then removes every archive trigger, the hand-made one too).
DROP TRIGGER deleted_record_insert ON patient;
SELECT table_name, mask_columns FROM deleted_record_attached WHERE table_name = 'patient'::regclass;
SELECT deleted_record_detach('patient');

-- (14) Attaching again keeps on_truncate and retention when the call leaves them out;
-- retention => '0' clears a retention (kept forever).
CREATE TABLE ledger (id int PRIMARY KEY);
SELECT deleted_record_attach('ledger', on_truncate => 'deny', retention => '2 years');
SELECT deleted_record_attach('ledger');
SELECT table_name, on_truncate, retention FROM deleted_record_attached WHERE table_name = 'ledger'::regclass;
INSERT INTO ledger VALUES (1);
TRUNCATE ledger;
SELECT deleted_record_attach('ledger', retention => '30 days');
SELECT table_name, on_truncate, retention FROM deleted_record_attached WHERE table_name = 'ledger'::regclass;
SELECT deleted_record_attach('ledger', retention => '0');
SELECT table_name, on_truncate, retention FROM deleted_record_attached WHERE table_name = 'ledger'::regclass;
-- A trigger made by hand, as the README invites, gets the TRUNCATE guard ('archive').
CREATE TABLE by_hand (id int PRIMARY KEY, v text);
CREATE TRIGGER keep_rows AFTER DELETE ON by_hand FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
SELECT tgname FROM pg_trigger WHERE tgrelid = 'by_hand'::regclass ORDER BY tgname;
SELECT table_name, on_truncate FROM deleted_record_attached WHERE table_name = 'by_hand'::regclass;
INSERT INTO by_hand VALUES (1, 'one'), (2, 'two');
TRUNCATE by_hand;
SELECT object_id, data FROM archived('by_hand');

-- (2) Retention follows identity. Rows of a dropped table and of a renamed one are kept when
-- another role creates a table under the old name and attaches it with a tiny retention.
CREATE ROLE regress_h3_mallory;
GRANT USAGE, CREATE ON SCHEMA t15 TO regress_h3_mallory;
GRANT SELECT ON public.deleted_record TO regress_h3_mallory;
CREATE TABLE orders (id int PRIMARY KEY);
CREATE TABLE invoices (id int PRIMARY KEY);
SELECT deleted_record_attach('orders'), deleted_record_attach('invoices');
INSERT INTO orders VALUES (1), (2);
INSERT INTO invoices VALUES (10), (20);
DELETE FROM orders;
DELETE FROM invoices;
SELECT attachment_id AS orders_identity FROM deleted_record_attached WHERE table_name = 'orders'::regclass \gset
DROP TABLE orders;
ALTER TABLE invoices RENAME TO invoices_2023;
SET ROLE regress_h3_mallory;
CREATE TABLE orders (id int PRIMARY KEY);
CREATE TABLE invoices (id int PRIMARY KEY);
-- The dropped table's identity cannot be taken over by naming it in a trigger argument.
SELECT format('{"attachment":"%s","retention":"00:00:00.000001"}', :'orders_identity') AS forged \gset
\set VERBOSITY terse
CREATE TRIGGER steal AFTER DELETE ON orders FOR EACH ROW EXECUTE FUNCTION public.deleted_record_insert(:'forged');
\set VERBOSITY default
SELECT deleted_record_attach('orders', retention => '1 microsecond'), deleted_record_attach('invoices', retention => '1 microsecond');
INSERT INTO orders VALUES (3);
DELETE FROM orders;
RESET ROLE;
SELECT pg_sleep(0.01);
CALL deleted_record_purge();
-- The old orders' and the renamed invoices' rows are all kept; mallory's own row is purged.
SELECT table_name, object_id FROM public.deleted_record WHERE schema_name = 't15' AND table_name IN ('orders', 'invoices')
 ORDER BY 1, 2;
-- The renamed table keeps its identity: its retention reaches its rows archived under the old name.
SELECT deleted_record_attach('invoices_2023', retention => '1 microsecond');
SELECT pg_sleep(0.01);
CALL deleted_record_purge();
SELECT table_name, object_id FROM public.deleted_record WHERE schema_name = 't15' AND table_name IN ('orders', 'invoices')
 ORDER BY 1, 2;
-- The registry: each attachment's names over time (windows), a dropped table's closed for good.
SELECT schema_name, table_name, relid <> 0 AS table_known, until_id IS NULL AS open
  FROM deleted_record_attachment WHERE schema_name = 't15' AND table_name IN ('orders', 'invoices', 'invoices_2023')
 ORDER BY from_id;

-- A schema rename moves the window; detach ends the attachment: its rows are kept, and a later
-- attach (a new identity) with a retention does not reach them.
CREATE SCHEMA t15_old;
CREATE TABLE t15_old.notes (id int PRIMARY KEY);
SELECT deleted_record_attach('t15_old.notes');
INSERT INTO t15_old.notes VALUES (1), (2);
DELETE FROM t15_old.notes WHERE id = 1;
ALTER SCHEMA t15_old RENAME TO t15_new;
SELECT schema_name, table_name, until_id IS NULL AS open FROM deleted_record_attachment
 WHERE table_name = 'notes' ORDER BY from_id;
SELECT deleted_record_detach('t15_new.notes');
SELECT deleted_record_attach('t15_new.notes', retention => '1 microsecond');
DELETE FROM t15_new.notes WHERE id = 2;
SELECT pg_sleep(0.01);
CALL deleted_record_purge();
SELECT schema_name, object_id FROM public.deleted_record WHERE table_name = 'notes' ORDER BY 1, 2;
DROP SCHEMA t15_new CASCADE;
DELETE FROM public.deleted_record WHERE schema_name IN ('t15_old', 't15_new');

-- A hand-made archive trigger on a partitioned table: every partition gets the guard too.
CREATE TABLE events (id int, region text) PARTITION BY LIST (region);
CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');
CREATE TRIGGER keep_events AFTER DELETE ON events FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us');
SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relname LIKE 'events%' AND c.relnamespace = 't15'::regnamespace
   AND t.tgfoid = 'public.deleted_record_truncate_guard()'::regprocedure ORDER BY 1;
INSERT INTO events VALUES (1, 'eu'), (2, 'us');
TRUNCATE events;
SELECT object_id, data->>'region' AS region FROM archived('events');

-- (6) A retention or older_than far beyond the timestamp range does not stop the purge; the
-- other tables' retention still applies.
CREATE TABLE forever (id int PRIMARY KEY);
CREATE TABLE brief (id int PRIMARY KEY);
SELECT deleted_record_attach('forever', retention => '9999 years'), deleted_record_attach('brief', retention => '1 microsecond');
INSERT INTO forever VALUES (1);
INSERT INTO brief VALUES (1);
DELETE FROM forever;
DELETE FROM brief;
SELECT pg_sleep(0.01);
CALL deleted_record_purge();
CALL deleted_record_purge(older_than => '1000000 years');
SELECT table_name, count(*) FROM public.deleted_record WHERE schema_name = 't15' AND table_name IN ('forever', 'brief')
 GROUP BY 1 ORDER BY 1;

-- (3) Masking is not an oracle: without EXECUTE on deleted_record_mask, no table of one's own
-- (temporary or not) can mask columns, by attach or by a trigger made by hand, nor by copying
-- another table's argument.
SET ROLE regress_h3_mallory;
CREATE TABLE guesses (id int PRIMARY KEY, phone text);
SELECT deleted_record_attach('guesses', mask_columns => '{phone}');
CREATE TEMPORARY TABLE temp_guesses (id int PRIMARY KEY, phone text);
SELECT deleted_record_attach('temp_guesses', mask_columns => '{phone}');
CREATE TRIGGER by_hand AFTER DELETE ON guesses FOR EACH ROW EXECUTE FUNCTION public.deleted_record_insert('{"mask":["phone"]}');
CREATE TRIGGER by_hand AFTER DELETE ON temp_guesses FOR EACH ROW EXECUTE FUNCTION public.deleted_record_insert('{"mask":["phone"]}');
DROP TABLE temp_guesses;
RESET ROLE;
SELECT deleted_record_attach('patient', mask_columns => '{email}', exclude_columns => '{note}');
SELECT pg_catalog.convert_from(pg_catalog.substring(tgargs, 1, pg_catalog.length(tgargs) - 1), 'UTF8') AS patient_argument
  FROM pg_trigger WHERE tgrelid = 't15.patient'::regclass AND tgname = 'deleted_record_insert' \gset
SET ROLE regress_h3_mallory;
CREATE TABLE copycat (id int PRIMARY KEY, email text, note text);
CREATE TRIGGER copied AFTER DELETE ON copycat FOR EACH ROW EXECUTE FUNCTION public.deleted_record_insert(:'patient_argument');
-- ... nor as an element of CREATE SCHEMA (a role that may create schemas).
RESET ROLE;
-- Not even a superuser hands an attachment to a table of other names (pg_restore hands it over
-- only to the table of the same names, with its new OID).
CREATE TABLE t15.superuser_copy (id int PRIMARY KEY, email text, note text);
\set VERBOSITY terse
CREATE TRIGGER copied AFTER DELETE ON t15.superuser_copy FOR EACH ROW EXECUTE FUNCTION public.deleted_record_insert(:'patient_argument');
\set VERBOSITY default
DROP TABLE t15.superuser_copy;
DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO regress_h3_mallory', current_database()); END $$;
SET ROLE regress_h3_mallory;
CREATE SCHEMA regress_h3_guessing
  CREATE TABLE g (id int PRIMARY KEY, phone text)
  CREATE TRIGGER by_hand AFTER DELETE ON g FOR EACH ROW EXECUTE FUNCTION public.deleted_record_insert('{"mask":["phone"]}');
SELECT count(*) AS guessing_schemas FROM pg_namespace WHERE nspname = 'regress_h3_guessing';
RESET ROLE;
DO $$ BEGIN EXECUTE format('REVOKE CREATE ON DATABASE %I FROM regress_h3_mallory', current_database()); END $$;
SET ROLE regress_h3_mallory;
SELECT count(*) AS mallory_archive_triggers FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relowner = 'regress_h3_mallory'::regrole AND t.tgfoid = 'public.deleted_record_insert()'::regprocedure
   AND t.tgrelid <> ALL (ARRAY['t15.orders'::regclass, 't15.invoices'::regclass]);
RESET ROLE;
-- A role granted EXECUTE on deleted_record_mask may mask its own table's columns.
CREATE ROLE regress_h3_officer;
GRANT USAGE, CREATE ON SCHEMA t15 TO regress_h3_officer;
GRANT EXECUTE ON FUNCTION public.deleted_record_mask(text) TO regress_h3_officer;
SET ROLE regress_h3_officer;
CREATE TABLE contact (id int PRIMARY KEY, phone text);
SELECT deleted_record_attach('contact', mask_columns => '{phone}');
RESET ROLE;
SELECT table_name, mask_columns FROM deleted_record_attached WHERE table_name = 't15.contact'::regclass;

-- An archive trigger with an argument that does not parse is refused; one made before 1.2
-- checked arguments (made here with the check disabled) is listed with a warning and does not
-- stop other DDL.
CREATE TABLE legacy (id int PRIMARY KEY, v text);
CREATE TRIGGER legacy_archive AFTER DELETE ON legacy FOR EACH ROW EXECUTE FUNCTION deleted_record_insert('{"colour":"red"}');
CREATE TRIGGER legacy_archive AFTER DELETE ON legacy FOR EACH ROW EXECUTE FUNCTION deleted_record_insert('{"retention":"soon"}');
ALTER EVENT TRIGGER deleted_record_check_trigger DISABLE;
CREATE TRIGGER legacy_archive AFTER DELETE ON legacy FOR EACH ROW EXECUTE FUNCTION deleted_record_insert('{"colour":"red"}');
ALTER EVENT TRIGGER deleted_record_check_trigger ENABLE;
ALTER TABLE legacy RENAME TO legacy_renamed;
SELECT table_name, retention, mask_columns FROM deleted_record_attached WHERE table_name = 'legacy_renamed'::regclass;
DROP TABLE legacy_renamed;

-- Clean up.
DROP SCHEMA t15 CASCADE;
DELETE FROM public.deleted_record WHERE schema_name = 't15';
REVOKE ALL ON public.deleted_record FROM regress_h3_mallory;
REVOKE ALL ON FUNCTION public.deleted_record_mask(text) FROM regress_h3_officer;
DROP ROLE regress_h3_mallory;
DROP ROLE regress_h3_officer;
