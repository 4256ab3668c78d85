-- 31_holds_follow: a hold on a table follows that table whatever its later names and attachment
-- identities (review R2, finding 11); holds and releases record the session user as well as the
-- current role, and an erasure refused by a hold names the hold only to a session that may read
-- deleted_record_holds (finding 9).
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dr_legal31;
DROP ROLE IF EXISTS regress_dr_alice31;
DROP ROLE IF EXISTS regress_dr_dpo31;
RESET client_min_messages;
CREATE SCHEMA t31;
SET search_path = t31, public;

-- try_erase erases the archive rows of these object ids, or says why not.
CREATE FUNCTION try_erase(object_ids text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE detail text; hint text; n bigint;
BEGIN
  n := public.deleted_record_erase(ARRAY(SELECT id FROM public.deleted_record
                                          WHERE schema_name = 't31' AND object_id = ANY (object_ids)), 'test');
  RETURN 'erased ' || n;
EXCEPTION WHEN object_not_in_prerequisite_state THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RETURN regexp_replace(SQLERRM, 'row [0-9a-f-]+', 'row <id>') || ' / ' || detail || ' / ' || hint;
END $$;

-- (1) Held, renamed, detached and attached again (a new attachment id): its later rows are held.
CREATE TABLE invoice (id int PRIMARY KEY);
SELECT deleted_record_attach('invoice') IS NOT NULL AS attached;
SELECT deleted_record_hold('case-1', 'litigation: all invoices', for_table => 'invoice');
INSERT INTO invoice VALUES (1), (2), (3), (4);
DELETE FROM invoice WHERE id = 1;
ALTER TABLE invoice RENAME TO bill;
DELETE FROM bill WHERE id = 2;
SELECT deleted_record_detach('bill') IS NOT NULL AS detached;
SELECT deleted_record_attach('bill') IS NOT NULL AS attached;
DELETE FROM bill WHERE id = 3;
SELECT table_name, cardinality(attachment_ids) AS attachments, table_oid = 't31.bill'::regclass AS follows_bill
  FROM deleted_record_holds WHERE name = 'case-1';
SELECT try_erase('{1}') AS under_first_name;
SELECT try_erase('{2}') AS renamed;
SELECT try_erase('{3}') AS attached_again;
-- Dropped: its rows stay held; a table attached later (its OID may be reused) is another table.
DROP TABLE bill;
SELECT table_oid AS table_oid_after_drop, cardinality(attachment_ids) AS attachments FROM deleted_record_holds WHERE name = 'case-1';
SELECT try_erase('{3}') AS after_drop;
CREATE TABLE other (id int PRIMARY KEY);
SELECT deleted_record_attach('other') IS NOT NULL AS attached;
INSERT INTO other VALUES (4); DELETE FROM other;
SELECT cardinality(attachment_ids) AS attachments FROM deleted_record_holds WHERE name = 'case-1';
SELECT try_erase('{4}') AS other_table;
-- A hold on a table not (yet) attached covers its rows once it is.
CREATE TABLE later (id int PRIMARY KEY);
SELECT deleted_record_hold('case-2', 'later table', for_table => 'later');
ALTER TABLE later RENAME TO later2;
SELECT deleted_record_attach('later2') IS NOT NULL AS attached;
INSERT INTO later2 VALUES (5); DELETE FROM later2;
SELECT try_erase('{5}') AS attached_after_hold;

-- (2) Who placed and released: current_user and the session user (SET ROLE keeps the login).
CREATE ROLE regress_dr_legal31;
CREATE ROLE regress_dr_alice31 IN ROLE regress_dr_legal31;
CREATE ROLE regress_dr_dpo31;
GRANT USAGE ON SCHEMA t31 TO regress_dr_dpo31, regress_dr_legal31;
GRANT EXECUTE ON FUNCTION deleted_record_hold(text, text, regclass, text, timestamptz, timestamptz), deleted_record_release(text)
   TO regress_dr_legal31;
GRANT EXECUTE ON FUNCTION deleted_record_erase(uuid[], text) TO regress_dr_dpo31;
GRANT SELECT ON deleted_record TO regress_dr_dpo31;
SET SESSION AUTHORIZATION regress_dr_alice31;
SET ROLE regress_dr_legal31;
SELECT deleted_record_hold('case-3', 'Merger litigation, confidential', for_table => 't31.later2');
SELECT deleted_record_release('case-2');
RESET ROLE;
RESET SESSION AUTHORIZATION;
SELECT name, held_by, held_by_session_user, released_by, released_by_session_user
  FROM deleted_record_holds WHERE name IN ('case-2', 'case-3') ORDER BY name;

-- (3) An eraser that may not read the holds learns only that a hold covers the row.
SET SESSION AUTHORIZATION regress_dr_dpo31;
SELECT try_erase('{5}') AS dpo_sees;
SELECT count(*) FROM deleted_record_holds;
RESET SESSION AUTHORIZATION;
SELECT try_erase('{5}') AS superuser_sees;

SELECT deleted_record_release('case-1'), deleted_record_release('case-3');
SELECT try_erase('{1,2,3}') AS released;
SET client_min_messages = warning;
DROP SCHEMA t31 CASCADE;
RESET client_min_messages;
DELETE FROM deleted_record_holds WHERE name LIKE 'case-_';
REVOKE ALL ON FUNCTION deleted_record_hold(text, text, regclass, text, timestamptz, timestamptz), deleted_record_release(text)
  FROM regress_dr_legal31;
REVOKE ALL ON FUNCTION deleted_record_erase(uuid[], text) FROM regress_dr_dpo31;
REVOKE ALL ON deleted_record FROM regress_dr_dpo31;
DROP ROLE regress_dr_alice31;
DROP ROLE regress_dr_legal31;
DROP ROLE regress_dr_dpo31;
