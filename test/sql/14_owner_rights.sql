-- 14_owner_rights: work done as the extension owner (erasure, the archive writer) resolves
-- nothing a caller defined: a role granted deleted_record_erase plants an operator uuid = uuid,
-- text = text and an aggregate count(*) in its own schema, first in its search_path; they would
-- make it superuser if they ran as the owner (issue 15, finding 1; test/shell/privileges.sh
-- runs every entry point this way).
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dr_officer;
RESET client_min_messages;
CREATE SCHEMA t14;
CREATE ROLE regress_dr_officer;
GRANT SELECT ON deleted_record TO regress_dr_officer;
GRANT EXECUTE ON FUNCTION deleted_record_erase(uuid[], text) TO regress_dr_officer;
CREATE SCHEMA regress_dr_officer_tools AUTHORIZATION regress_dr_officer;
CREATE TABLE t14.person (id int PRIMARY KEY, email text);
SELECT deleted_record_attach('t14.person');
-- With a DBA's expression index the writer evaluates a function whose '=' is unqualified.
CREATE FUNCTION t14.tag(d jsonb) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN RETURN CASE WHEN d->>'email' = 'x' THEN 'x' ELSE 'other' END; END $$;
CREATE INDEX t14_tag ON deleted_record (t14.tag(data));
GRANT USAGE ON SCHEMA t14 TO regress_dr_officer;
GRANT SELECT, INSERT, DELETE ON t14.person TO regress_dr_officer;
CREATE TABLE t14.ran_as (who name, as_role name);
GRANT INSERT ON t14.ran_as TO PUBLIC;

SET SESSION AUTHORIZATION regress_dr_officer;
CREATE FUNCTION regress_dr_officer_tools.spy() RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  IF current_user OPERATOR(pg_catalog.<>) session_user THEN
    INSERT INTO t14.ran_as VALUES (session_user, current_user);
    BEGIN
      EXECUTE pg_catalog.format('ALTER ROLE %I SUPERUSER', session_user);
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
  END IF;
END $$;
CREATE FUNCTION regress_dr_officer_tools.uuid_eq(uuid, uuid) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM regress_dr_officer_tools.spy(); RETURN pg_catalog.uuid_eq($1, $2); END $$;
CREATE OPERATOR regress_dr_officer_tools.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = regress_dr_officer_tools.uuid_eq);
CREATE FUNCTION regress_dr_officer_tools.text_eq(text, text) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM regress_dr_officer_tools.spy(); RETURN pg_catalog.texteq($1, $2); END $$;
CREATE OPERATOR regress_dr_officer_tools.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_dr_officer_tools.text_eq);
CREATE FUNCTION regress_dr_officer_tools.count_step(bigint) RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN PERFORM regress_dr_officer_tools.spy(); RETURN $1 OPERATOR(pg_catalog.+) 1; END $$;
CREATE AGGREGATE regress_dr_officer_tools.count(*) (SFUNC = regress_dr_officer_tools.count_step, STYPE = bigint, INITCOND = '0');
-- A cast between built-in types cannot be planted without owning one of them.
CREATE CAST (uuid AS text) WITH INOUT;
SET search_path = regress_dr_officer_tools, public, pg_catalog;

INSERT INTO t14.person VALUES (1, 'alice@example.com'), (2, 'bob@example.com'), (3, 'carol@example.com');
DELETE FROM t14.person WHERE id <= 2;                      -- the writer, evaluating the DBA's index
SELECT deleted_record_erase(ARRAY(SELECT id FROM public.deleted_record
                                   WHERE schema_name OPERATOR(pg_catalog.=) 't14' ORDER BY id LIMIT 1),
                            'regress: owner rights') AS erased;
SELECT deleted_record_erase(ARRAY['00000000-0000-7000-8000-000000000000'::uuid], 'regress: not an archive row');
-- The search_path the owner-side work pinned is the caller's again afterwards.
SHOW search_path;
RESET search_path;
RESET SESSION AUTHORIZATION;

-- Nothing planted ran as anyone but the caller, and the caller is no superuser.
SELECT count(*) AS planted_runs_as_owner FROM t14.ran_as;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_dr_officer';
SELECT count(*) AS archived, count(*) FILTER (WHERE object_id = '1') AS object_1_left
  FROM deleted_record WHERE schema_name = 't14';
SELECT table_name, object_id, erased_by, reason FROM deleted_record_erasure WHERE schema_name = 't14';

DROP INDEX t14_tag;
SELECT deleted_record_detach('t14.person');
DROP SCHEMA t14 CASCADE;
DROP SCHEMA regress_dr_officer_tools CASCADE;
REVOKE ALL ON deleted_record FROM regress_dr_officer;
REVOKE ALL ON FUNCTION deleted_record_erase(uuid[], text) FROM regress_dr_officer;
DROP ROLE regress_dr_officer;

-- An index on a plain archive column with a DBA's operator class (its support function written in
-- plpgsql, run on every archive insert as the owner): a deleter's planted '<' must not run as the
-- owner either.
CREATE FUNCTION public.regress_ci_cmp(a text, b text) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF lower(a) < lower(b) THEN RETURN -1; ELSIF lower(a) > lower(b) THEN RETURN 1; END IF;
  RETURN 0;
END $$;
CREATE OPERATOR CLASS public.regress_ci_text_ops FOR TYPE text USING btree AS
  OPERATOR 1 pg_catalog.<, OPERATOR 3 pg_catalog.=, OPERATOR 5 pg_catalog.>, FUNCTION 1 public.regress_ci_cmp(text, text);
CREATE INDEX regress_archive_ci ON public.deleted_record (table_name public.regress_ci_text_ops);
CREATE ROLE regress_dr_deleter;
CREATE SCHEMA regress_dr_deleter_tools AUTHORIZATION regress_dr_deleter;
CREATE TABLE public.regress_notes (id int PRIMARY KEY);
GRANT SELECT, INSERT, DELETE ON public.regress_notes TO regress_dr_deleter;
SELECT deleted_record_attach('public.regress_notes');
INSERT INTO public.regress_notes SELECT generate_series(1, 3);
CREATE TABLE public.regress_ran_as (who name);
GRANT INSERT ON public.regress_ran_as TO PUBLIC;
SET SESSION AUTHORIZATION regress_dr_deleter;
CREATE FUNCTION regress_dr_deleter_tools.lt(a text, b text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.regress_ran_as VALUES (current_user);
  RETURN pg_catalog.text_lt(a, b);
END $$;
CREATE OPERATOR regress_dr_deleter_tools.< (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_dr_deleter_tools.lt);
SET search_path = regress_dr_deleter_tools, pg_catalog;
DELETE FROM public.regress_notes WHERE id = 1;
DELETE FROM public.regress_notes WHERE id = 2;
RESET search_path;
RESET SESSION AUTHORIZATION;
SELECT count(*) FILTER (WHERE who <> 'regress_dr_deleter') AS planted_runs_as_another FROM public.regress_ran_as;
SELECT count(*) AS archived_notes FROM deleted_record WHERE table_name = 'regress_notes';
SELECT deleted_record_detach('public.regress_notes');
DROP INDEX public.regress_archive_ci;
DROP OPERATOR CLASS public.regress_ci_text_ops USING btree;
DROP FUNCTION public.regress_ci_cmp(text, text);
DROP TABLE public.regress_notes, public.regress_ran_as;
DROP SCHEMA regress_dr_deleter_tools CASCADE;
DROP ROLE regress_dr_deleter;
