-- 39_typed_view_owner: a typed view is followed for the table its attachment id names, and only
-- when its owner owns that table (review R4, findings 6 and 11): a view whose comment claims the
-- attachment of another role's table is never followed nor warned about on that table's DDL; a
-- view whose remembered OID is now another role's relation (pg_restore into a new cluster) still
-- follows its table.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dr_victim39;
DROP ROLE IF EXISTS regress_dr_mallory39;
RESET client_min_messages;
CREATE ROLE regress_dr_victim39;
CREATE ROLE regress_dr_mallory39;
CREATE SCHEMA v39 AUTHORIZATION regress_dr_victim39;
CREATE SCHEMA m39 AUTHORIZATION regress_dr_mallory39;
SET ROLE regress_dr_victim39;
CREATE TABLE v39.invoice (id int PRIMARY KEY, amount numeric);
RESET ROLE;
SELECT deleted_record_attach('v39.invoice') IS NOT NULL AS attached;

-- (06) a forged state: the victim's attachment id (deleted_record_attachments() shows it to
-- everyone), a table of mallory's own as relid
SELECT attachment_id AS victim_attachment FROM deleted_record_attachments() WHERE relation = 'v39.invoice'::regclass \gset
SET ROLE regress_dr_mallory39;
CREATE TABLE m39.mine (id int);
CREATE VIEW m39.fake AS SELECT 1 AS x;
\set ECHO none
SELECT format('COMMENT ON VIEW m39.fake IS %L', 'Archived rows of x, typed (deleted_record_view; kept in step with the table by the extension, which reads what follows): '
  || jsonb_build_object('attachment', :'victim_attachment'::uuid,
                        'relid', 'm39.mine'::regclass::oid,
                        'names', jsonb_build_array(jsonb_build_object('schema', 'm39', 'table', 'mine', 'from', null)),
                        'columns', '{}'::jsonb, 'steps', '[]'::jsonb)::text) \gexec
\set ECHO all
RESET ROLE;
SELECT count(*) AS listed FROM deleted_record_typed_views() WHERE view_schema = 'm39';
SET ROLE regress_dr_victim39;
ALTER TABLE v39.invoice ADD COLUMN note text;      -- no warning about m39.fake
RESET ROLE;
ALTER TABLE v39.invoice ADD COLUMN note2 text;     -- a superuser's ALTER leaves m39.fake alone
SELECT attname FROM pg_attribute WHERE attrelid = 'm39.fake'::regclass AND attnum > 0 ORDER BY attnum;

-- (11) the view's remembered OID is another role's relation now: it still follows its table
SET ROLE regress_dr_victim39;
SELECT deleted_record_view('v39.invoice');
RESET ROLE;
-- (as pg_restore leaves it: no event trigger rewrites the comment meanwhile)
SET session_replication_role = replica;
DO $$ DECLARE d text; BEGIN
  d := obj_description('v39.invoice_deleted'::regclass, 'pg_class');
  d := regexp_replace(d, '"relid": "[0-9]+"', '"relid": "' || 'm39.mine'::regclass::oid || '"');
  EXECUTE format('COMMENT ON VIEW v39.invoice_deleted IS %L', d);
END $$;
RESET session_replication_role;
SELECT (state ->> 'relid')::oid = 'm39.mine'::regclass::oid AS stale_relid FROM deleted_record_typed_views() WHERE view_name = 'invoice_deleted';
SET ROLE regress_dr_victim39;
ALTER TABLE v39.invoice ADD COLUMN due date;
RESET ROLE;
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'v39.invoice_deleted'::regclass AND attname IN ('amount', 'note', 'note2', 'due') ORDER BY attnum;

-- cleanup
DROP SCHEMA v39 CASCADE;
DROP SCHEMA m39 CASCADE;
DROP ROLE regress_dr_victim39;
DROP ROLE regress_dr_mallory39;
