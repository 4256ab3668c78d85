-- deleted_record 1.1 -> 1.2 (assembled by sql/assemble.sh: "--@include NAME" brings in
-- sql/src/NAME.sql as CREATE OR REPLACE). Only what changed since 1.1 belongs here.
\echo Use "ALTER EXTENSION deleted_record UPDATE TO '1.2'" to load this file. \quit

-- H2: restore and dry run that can be trusted. deleted_record_restore, restore_transaction and
-- cluster_restore take masked => 'error' | 'null'; restore_transaction also takes xact text (an
-- xact_key, or a decimal xact_id). Signatures change, so the 1.1 functions are dropped first.
-- The 1.2 functions are created next to them, take over the privileges a DBA granted or revoked
-- on the 1.1 ones (the new text overload those of the bigint one), and then the 1.1 ones go.
--@include 080_restore
--@include 082_restore_transaction
--@include 102_cluster_restore
DO $$
DECLARE
    pair record;
    entry record;
BEGIN
    FOR pair IN
        SELECT p.proacl, p.proowner, pg_catalog.to_regprocedure(v.new_signature) AS new_function
          FROM (VALUES ('deleted_record_restore(uuid[],text,boolean)', 'deleted_record_restore(uuid[],text,boolean,text)'),
                       ('deleted_record_restore_transaction(bigint,text,boolean)', 'deleted_record_restore_transaction(bigint,text,boolean,text)'),
                       ('deleted_record_restore_transaction(bigint,text,boolean)', 'deleted_record_restore_transaction(text,text,boolean,text)'),
                       ('deleted_record_restore_transaction(xid8,text,boolean)', 'deleted_record_restore_transaction(xid8,text,boolean,text)'),
                       ('deleted_record_cluster_restore(uuid[],text,boolean)', 'deleted_record_cluster_restore(uuid[],text,boolean,text)'))
               AS v(old_signature, new_signature)
          JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure(v.old_signature)
         WHERE p.proacl IS NOT NULL
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', pair.new_function);
        FOR entry IN SELECT a.grantee, a.is_grantable FROM pg_catalog.aclexplode(pair.proacl) a
                      WHERE a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE' AND a.grantee OPERATOR(pg_catalog.<>) pair.proowner LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s%s', pair.new_function,
                                      CASE WHEN entry.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC'
                                           ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(entry.grantee)) END,
                                      CASE WHEN entry.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        END LOOP;
    END LOOP;
END
$$;
DROP FUNCTION deleted_record_restore(uuid[], text, boolean);
DROP FUNCTION deleted_record_restore_transaction(bigint, text, boolean);
DROP FUNCTION deleted_record_restore_transaction(xid8, text, boolean);
DROP FUNCTION deleted_record_cluster_restore(uuid[], text, boolean);
