-- 16_typed_view: deleted_record_view (issue 19, item 1) gives an attached table a typed view of
-- its archived rows: the table's columns typed as the table types them (exact numerics, no
-- decoding), the archive columns that matter, excluded and masked columns NULL (the masked form
-- in archive_masked), and it follows the table: columns added, renamed, dropped and retyped,
-- partitions, the table renamed or moved. Reading it needs exactly what reading the archive
-- needs, row-level security included.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_h9_reader;
DROP ROLE IF EXISTS regress_h9_owner;
DROP ROLE IF EXISTS regress_h9_other;
RESET client_min_messages;
CREATE ROLE regress_h9_reader;
CREATE ROLE regress_h9_owner;
CREATE ROLE regress_h9_other;
CREATE SCHEMA t16;
GRANT ALL ON SCHEMA t16 TO regress_h9_owner;
GRANT USAGE ON SCHEMA t16 TO regress_h9_reader, regress_h9_other;
SET search_path = t16, public;
SET TimeZone = 'UTC';

-- Types as the table has them: numerics with more digits than a double holds, bigints above
-- 2^53, arrays, domains, enums, timestamps, a collation, jsonb.
CREATE TYPE mood AS ENUM ('calm', 'busy');
CREATE DOMAIN cents AS bigint CHECK (VALUE >= 0);
CREATE TABLE ledger (id bigint PRIMARY KEY, amount numeric(30,10) NOT NULL, big bigint, tags text[],
                     fee cents, state mood, booked timestamptz, code text COLLATE "C", extra jsonb,
                     secret text, email text);
ALTER TABLE ledger OWNER TO regress_h9_owner;
SELECT deleted_record_attach('ledger', exclude_columns => '{secret}', mask_columns => '{email}');
SET ROLE regress_h9_owner;
SELECT deleted_record_view('ledger');
RESET ROLE;
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attcollation <> 0 AND a.attcollation <> t.typcollation AS own_collation
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
 WHERE a.attrelid = 'ledger_deleted'::regclass AND a.attnum > 0 ORDER BY a.attnum;
SELECT c.relowner::regrole AS owner, c.reloptions FROM pg_class c WHERE c.oid = 'ledger_deleted'::regclass;
INSERT INTO ledger VALUES (9007199254740993, 12345678901234567890.0123456789, 9007199254740993, '{a,"b c"}', 150, 'busy',
                           '2026-05-01 12:00:00+02', 'Zz', '{"k": [1, 2.50]}', 'pw', 'alice@example.com');
BEGIN;
SELECT deleted_record_set_context('support:alice', 'closing', '{"ticket": 7}');
DELETE FROM ledger;
COMMIT;
-- Exact values, typed: no JSON number ever went through a double.
SELECT id, amount, big, tags, fee, state, booked, code, extra, secret, email FROM ledger_deleted;
SELECT id = 9007199254740993 AS id_exact, amount = 12345678901234567890.0123456789 AS amount_exact,
       pg_typeof(amount) AS amount_type, pg_typeof(fee) AS fee_type, tags[2] AS second_tag
  FROM ledger_deleted;
-- The archive's columns, and the masked form for those allowed to read the archive.
SELECT archive_id = (SELECT id FROM deleted_record WHERE schema_name = 't16' AND table_name = 'ledger') AS archive_id_is_the_row,
       archive_actor, archive_reason, archive_metadata, archive_xact_key IS NOT NULL AS has_xact_key,
       archive_xact_id IS NOT NULL AS has_xact_id, archive_restored_at,
       archive_masked ->> 'email' = deleted_record_mask('alice@example.com') AS masked_form_reachable,
       archive_deleted_at = (SELECT deleted_at FROM deleted_record WHERE schema_name = 't16' AND table_name = 'ledger') AS deleted_at
  FROM ledger_deleted;
-- Restored rows say so.
SELECT outcome FROM deleted_record_restore(ARRAY(SELECT archive_id FROM ledger_deleted), masked => 'null');
SELECT archive_restored_at IS NOT NULL AS restored FROM ledger_deleted;
-- Read-only: no INSERT, UPDATE or DELETE through it.
DELETE FROM ledger_deleted;

-- It follows the table: an added column (NULL in older rows), a renamed one (older rows read
-- under its new name), a dropped one, a column of the dropped one's name added again (older
-- rows' values of the dropped column do not show in it).
ALTER TABLE ledger ADD COLUMN note text;
ALTER TABLE ledger RENAME COLUMN amount TO total;
ALTER TABLE ledger DROP COLUMN big;
ALTER TABLE ledger ADD COLUMN big text;
INSERT INTO ledger (id, total, note, big) VALUES (1, 0.5, 'second', 'new big');
DELETE FROM ledger WHERE id = 1;
SELECT id, total, note, big FROM ledger_deleted ORDER BY archive_id;
SELECT string_agg(attname, ', ' ORDER BY attnum) AS columns FROM pg_attribute WHERE attrelid = 'ledger_deleted'::regclass AND attnum > 0;
-- A retyped column: the view is made again, with its owner and grants.
GRANT SELECT ON ledger_deleted TO regress_h9_other;
ALTER TABLE ledger ALTER COLUMN total TYPE numeric(40,12);
SELECT format_type(atttypid, atttypmod) AS total_type FROM pg_attribute WHERE attrelid = 'ledger_deleted'::regclass AND attname = 'total';
SELECT c.relowner::regrole AS owner, c.relacl::text LIKE '%regress_h9_other=r/%' AS grant_kept,
       c.relacl::text LIKE '%=r/%' AS public_read_kept, c.reloptions
  FROM pg_class c WHERE c.oid = 'ledger_deleted'::regclass;
SELECT id, total FROM ledger_deleted ORDER BY archive_id;
-- A view of the user's own over it keeps working when a column is added or renamed.
CREATE VIEW ledger_report AS SELECT id, total FROM ledger_deleted;
ALTER TABLE ledger RENAME COLUMN total TO grand_total;
ALTER TABLE ledger ADD COLUMN later date;
SELECT * FROM ledger_report ORDER BY id;
SELECT id, grand_total, later FROM ledger_deleted ORDER BY archive_id;
-- ...and a drop it would lose a column for is a WARNING, the view staying as it was.
ALTER TABLE ledger DROP COLUMN later;
DROP VIEW ledger_report;
ALTER TABLE ledger DROP COLUMN note;
SELECT string_agg(attname, ', ' ORDER BY attnum) AS columns FROM pg_attribute WHERE attrelid = 'ledger_deleted'::regclass AND attnum > 10;

-- The table renamed and moved to another schema: its rows stay in its view under every name
-- it had; a new table under the old name does not show there.
ALTER TABLE ledger RENAME TO journal;
CREATE SCHEMA t16b;
ALTER TABLE journal SET SCHEMA t16b;
INSERT INTO t16b.journal (id, grand_total) VALUES (2, 2);
DELETE FROM t16b.journal WHERE id = 2;
CREATE TABLE ledger (id bigint PRIMARY KEY, amount numeric);
SELECT deleted_record_attach('ledger');
INSERT INTO ledger VALUES (3, 3);
DELETE FROM ledger;
SELECT id, grand_total FROM ledger_deleted ORDER BY archive_id;
-- Lookups by key: archive_object_id is the archive's indexed object_id.
SELECT id, grand_total FROM ledger_deleted WHERE archive_object_id = '2';
-- A name collision with the view's archive columns is refused when the view is made.
CREATE TABLE clash (id int PRIMARY KEY, archive_id int);
SELECT deleted_record_attach('clash');
SELECT deleted_record_view('clash');
SELECT deleted_record_detach('clash');

-- Partitions: the view of the partitioned table shows the rows of every partition, present
-- and future; a partition itself has no view of its own.
CREATE TABLE measure (id int, at date, value numeric(8,3), PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE measure_2025 PARTITION OF measure FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
SELECT deleted_record_attach('measure');
SELECT deleted_record_view('measure', 'measure_gone');
CREATE TABLE measure_2026 PARTITION OF measure FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO measure VALUES (1, '2025-03-01', 1.125), (2, '2026-03-01', 2.250);
DELETE FROM measure;
SELECT id, at, value FROM measure_gone ORDER BY id;
SELECT deleted_record_view('measure_2026');

-- Errors: NULL, not attached, not the owner, a name taken by another relation.
SELECT deleted_record_view(NULL);
CREATE TABLE plain (id int);
SELECT deleted_record_view('plain');
SET ROLE regress_h9_other;
SELECT deleted_record_view('measure', 'mine');
RESET ROLE;
SELECT deleted_record_view('ledger', 'plain');
SELECT deleted_record_view('ledger', 'measure_gone');
-- Calling it again on its view brings it up to date and returns it.
SELECT deleted_record_view('measure', 'measure_gone');
SELECT count(*) AS typed_views FROM pg_class WHERE relkind = 'v' AND relnamespace IN ('t16'::regnamespace, 't16b'::regnamespace);

-- Reading it needs exactly what reading the archive needs.
SET ROLE regress_h9_reader;
SELECT count(*) FROM ledger_deleted;
RESET ROLE;
GRANT SELECT ON deleted_record TO regress_h9_reader;
SET ROLE regress_h9_reader;
SELECT count(*) FROM ledger_deleted;
RESET ROLE;
-- Row-level security on the archive applies to the view's readers.
ALTER TABLE deleted_record ENABLE ROW LEVEL SECURITY;
CREATE POLICY regress_h9_reads ON deleted_record FOR SELECT TO regress_h9_reader USING (object_id = '2');
SET ROLE regress_h9_reader;
SELECT id FROM ledger_deleted;
RESET ROLE;
DROP POLICY regress_h9_reads ON deleted_record;
ALTER TABLE deleted_record DISABLE ROW LEVEL SECURITY;
REVOKE SELECT ON deleted_record FROM regress_h9_reader;

-- Dropping the table drops its view (a view left behind would list the rows of the next table
-- of that name); the archived rows stay in the archive.
SELECT deleted_record_detach('t16b.journal');
DROP TABLE t16b.journal;
SELECT to_regclass('t16.ledger_deleted') AS ledger_deleted;
SELECT count(*) FROM deleted_record WHERE schema_name IN ('t16', 't16b') AND table_name IN ('ledger', 'journal');

-- A view another role comments like a typed view (malformed, or naming a table it does not own)
-- is no typed view: everyone's ALTER TABLE goes on.
CREATE SCHEMA t16_forged AUTHORIZATION regress_h9_other;
SET ROLE regress_h9_other;
CREATE VIEW t16_forged.bad AS SELECT 1 AS x;
COMMENT ON VIEW t16_forged.bad IS 'Archived rows of x, typed (deleted_record_view; kept in step with the table by the extension, which reads what follows): {oops}';
CREATE VIEW t16_forged.claims AS SELECT 1 AS x;
DO $$ BEGIN EXECUTE format('COMMENT ON VIEW t16_forged.claims IS %L', 'Archived rows of x, typed (deleted_record_view; kept in step with the table by the extension, which reads what follows): '
  || jsonb_build_object('attachment', NULL, 'relid', 'ledger'::regclass::oid,
                        'names', jsonb_build_array(jsonb_build_object('schema', 'public', 'table', 'ledger', 'from', NULL)),
                        'columns', '{}'::jsonb, 'steps', jsonb_build_array(jsonb_build_object('drop', 'x', 'before', 'not-a-uuid')))::text); END $$;
RESET ROLE;
CREATE TABLE t16.unrelated (id int);
ALTER TABLE t16.unrelated ADD COLUMN z int;
ALTER TABLE ledger ADD COLUMN forged_probe int;
ALTER TABLE ledger DROP COLUMN forged_probe;
SELECT count(*) AS typed_views_seen FROM deleted_record_typed_views() WHERE view_schema = 't16_forged';
DROP SCHEMA t16_forged CASCADE;

SET client_min_messages = warning;
SELECT deleted_record_detach(table_name) FROM deleted_record_attached
 WHERE table_name::text LIKE 't16%' OR table_name IN ('ledger'::regclass, 'measure'::regclass);
DROP SCHEMA t16 CASCADE;
DROP SCHEMA t16b CASCADE;
DROP OWNED BY regress_h9_reader, regress_h9_owner, regress_h9_other;
DROP ROLE regress_h9_reader;
DROP ROLE regress_h9_owner;
DROP ROLE regress_h9_other;
