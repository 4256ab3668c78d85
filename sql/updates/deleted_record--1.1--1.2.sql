-- deleted_record 1.1 -> 1.2 (assembled by sql/assemble.sh: "--@include NAME" brings in
-- sql/src/NAME.sql as CREATE OR REPLACE). Only what changed since 1.1 belongs here.
\echo Use "ALTER EXTENSION deleted_record UPDATE TO '1.2'" to load this file. \quit

-- partition upkeep for the DBA only, and for everyone through
-- deleted_record_prepare_coming_partitions (finding 11 of issue 15); cluster_erase names its
-- operator and types with pg_catalog (finding 1).
--@include 030_prepare_partitions
--@include 104_cluster_erase
REVOKE ALL ON FUNCTION deleted_record_prepare_partitions(integer) FROM PUBLIC;
-- Installs that came from 1.0 have no partitions for the coming periods until something makes
-- them: make them now. Tables created inside an extension script become its members; the
-- archive's partitions must not (pg_dump dumps them with their rows), so they leave it.
SELECT deleted_record_prepare_coming_partitions();
DO $$
DECLARE
    part regclass;
BEGIN
    FOR part IN SELECT d.objid::regclass FROM pg_catalog.pg_depend d
                  JOIN pg_catalog.pg_inherits i ON i.inhrelid OPERATOR(pg_catalog.=) d.objid
                 WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                   AND d.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e
                                                           WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record')
                   AND d.deptype OPERATOR(pg_catalog.=) 'e'
                   AND i.inhparent OPERATOR(pg_catalog.=) 'deleted_record'::pg_catalog.regclass
                   AND d.objid OPERATOR(pg_catalog.<>) 'deleted_record_default'::pg_catalog.regclass LOOP
        EXECUTE pg_catalog.format('ALTER EXTENSION deleted_record DROP TABLE %s', part);
    END LOOP;
END
$$;

-- restore and dry run that can be trusted. deleted_record_restore, restore_transaction and
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

-- one owner of the attachment contract (src/glue/attachment_contract.cpp, read from SQL
-- through deleted_record_attachments()); retention follows the table's identity (attachment
-- ids and the registry of their name windows); hand-made archive triggers are checked and get
-- a TRUNCATE guard; attach keeps what a call leaves out; the purge clamps its cutoffs.
CREATE TABLE deleted_record_attachment (
    attachment_id uuid NOT NULL,
    relid         oid  NOT NULL,
    schema_name   text COLLATE "C" NOT NULL,
    table_name    text COLLATE "C" NOT NULL,
    from_id       uuid NOT NULL,
    until_id      uuid,
    PRIMARY KEY (attachment_id, from_id)
);
REVOKE ALL ON TABLE deleted_record_attachment FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('deleted_record_attachment', '');
COMMENT ON TABLE deleted_record_attachment IS 'Internal: under which names, over which archive id ranges, each attachment archived rows (retention follows it)';
COMMENT ON COLUMN deleted_record_attachment.relid IS 'The attached table while it exists (0 once dropped, or after a restore until its trigger is recreated)';
--@include 048_attachments
DROP FUNCTION deleted_record_attachment_options(regclass, interval, text[], text[]);
--@include 050_attachment_options
--@include 052_manage
--@include 054_attach
--@include 060_attached_view
--@include 092_purge_step
--@include 094_purge
DROP EVENT TRIGGER deleted_record_guard_partitions;
--@include 110_guard_partitions
-- Tables attached under 1.1 get their attachment id: the table's contract (its archive
-- triggers' options merged) is written into the trigger that archives its rows, with a new id.
-- Their rows carry no identity, so the registry gives each a window from the beginning of time
-- under its current names: rows a dropped table of the same name left before the update count
-- as this table's (the one limit of the update).
DO $$
DECLARE
    ext_schema name;
    contract record;
    argument text;
    definition text;
BEGIN
    SELECT n.nspname INTO ext_schema
      FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
     WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    FOR contract IN EXECUTE pg_catalog.format(
        'SELECT a.*, t.oid AS trigger_oid, t.tgenabled FROM %I.deleted_record_attachments() a
           JOIN pg_catalog.pg_trigger t ON t.tgrelid OPERATOR(pg_catalog.=) a.relation::oid
                                        AND t.tgname OPERATOR(pg_catalog.=) a.archiving_trigger
          WHERE a.attachment_id IS NULL', ext_schema) LOOP
        EXECUTE pg_catalog.format('SELECT %I.deleted_record_attachment_options($1, $2, $3, $4, $5)', ext_schema)
           INTO argument USING contract.relation, pg_catalog.gen_random_uuid(), contract.retention,
                               contract.exclude_columns, contract.mask_columns;
        definition := pg_catalog.regexp_replace(pg_catalog.pg_get_triggerdef(contract.trigger_oid),
                                                'deleted_record_insert\(.*\)$',
                                                'deleted_record_insert(' OPERATOR(pg_catalog.||) pg_catalog.quote_literal(argument) OPERATOR(pg_catalog.||) ')');
        EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', contract.archiving_trigger, contract.relation);
        EXECUTE definition;
        IF contract.tgenabled OPERATOR(pg_catalog.<>) 'O' THEN
            EXECUTE pg_catalog.format('ALTER TABLE %s %s TRIGGER %I', contract.relation,
                                      CASE contract.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'A' THEN 'ENABLE ALWAYS' ELSE 'ENABLE REPLICA' END,
                                      contract.archiving_trigger);
        END IF;
    END LOOP;
    -- The event trigger opened each one a window from now on: from the beginning of time instead.
    EXECUTE pg_catalog.format('UPDATE %I.deleted_record_attachment SET from_id = ''00000000-0000-0000-0000-000000000000''', ext_schema);
END
$$;
-- Tables archived under 1.1 by a trigger made by hand had no TRUNCATE guard: they get the one
-- a 1.2 CREATE TRIGGER gives ('archive'), on the table and on each of its partitions, so that
-- TRUNCATE no longer removes their rows unarchived.
DO $$
DECLARE
    ext_schema name;
    member regclass;
BEGIN
    SELECT n.nspname INTO ext_schema
      FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
     WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    FOR member IN EXECUTE pg_catalog.format(
        'SELECT DISTINCT t.relid::pg_catalog.regclass
           FROM %1$I.deleted_record_attachments() a,
                LATERAL (SELECT a.relation::pg_catalog.oid AS relid
                         UNION SELECT p.relid FROM pg_catalog.pg_partition_tree(a.relation) p) t
           JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.relid
          WHERE %1$I.deleted_record_truncate_guard_policy(a.relation) IS NULL
            AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY[''r'', ''p'']::"char"[])
            AND %1$I.deleted_record_truncate_guard_policy(t.relid::pg_catalog.regclass) IS NULL', ext_schema) LOOP
        EXECUTE pg_catalog.format('CREATE TRIGGER deleted_record_truncate_guard BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I.deleted_record_truncate_guard(%L)',
                                  member, ext_schema, 'archive');
    END LOOP;
END
$$;


-- typed access per table (deleted_record_view, kept in step by deleted_record_follow_views),
-- an archive that reports on itself (deleted_record_stats) and progress of long operations
-- (deleted_record_report_progress, read through deleted_record_progress). All new objects.
--@include 120_typed_view
--@include 122_stats
--@include 124_progress


-- legal holds (issue 19, item 3): the hold list, the rule of what a hold covers, placing
-- and releasing (a grant of its own, like erase); purge (092_purge_step, included above) keeps
-- held rows and erasure refuses them.
--@include 130_holds
-- off soft deletion in one call (issue 19, item 2).
--@include 132_import

-- every partition gets the xact_id and xact_key indexes 1.2's partitions are made with (see
-- deleted_record_prepare_partitions), so that restoring one transaction reads that transaction's
-- rows only. Building them reads each 1.1 partition once, during the update.
DO $$
DECLARE
    ext_schema name;
    leaf record;
    column_name text;
BEGIN
    SELECT n.nspname INTO ext_schema
      FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
     WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    FOR leaf IN SELECT c.oid, c.relname
                  FROM pg_catalog.pg_partition_tree(pg_catalog.format('%I.deleted_record', ext_schema)::pg_catalog.regclass) t
                  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.relid
                 WHERE t.isleaf AND c.relkind OPERATOR(pg_catalog.=) 'r'
                 ORDER BY c.relname LOOP
        FOREACH column_name IN ARRAY ARRAY['xact_id', 'xact_key'] LOOP
            -- An index a DBA made on that column alone already serves the lookup.
            CONTINUE WHEN EXISTS (
                SELECT FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a
                    ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid AND a.attnum OPERATOR(pg_catalog.=) i.indkey[0]
                 WHERE i.indrelid OPERATOR(pg_catalog.=) leaf.oid AND i.indnkeyatts OPERATOR(pg_catalog.=) 1
                   AND i.indexprs IS NULL AND i.indpred IS NULL AND a.attname OPERATOR(pg_catalog.=) column_name);
            EXECUTE pg_catalog.format('CREATE INDEX %I ON %I.%I (%I)', leaf.relname OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) column_name OPERATOR(pg_catalog.||) '_idx',
                                      ext_schema, leaf.relname, column_name);
        END LOOP;
    END LOOP;
END
$$;

-- Citus without guesswork (issue 16). Shards and old shard copies are told by Citus's
-- metadata and by the archive trigger Citus copied (deleted_record_guard_partitions no longer
-- matches names, and leaves DDL Citus replays on a node alone); cluster-wide restore asks each
-- node only for the ids it holds and restores parents first; cluster-wide erase checks every
-- node's privileges before erasing, and sends each node only the ids it holds.
-- Their sources (102_cluster_restore, 104_cluster_erase, 110_guard_partitions) are already
-- included above, which bring their current definitions. Cluster-wide purge
-- checks every node's privileges before purging anything.
--@include 106_cluster_purge
-- deleted_record_cluster reads each node in bounded pages (rows and bytes) instead of one JSON value per node.
--@include 100_cluster
-- The cluster-wide functions share one node loop, deleted_record_cluster_run (new): it reaches
-- every node that may hold an archive, a disabled one included, and fails naming a node that
-- cannot be reached (100..106, included above, call it); deleted_record_cluster_begin (new)
-- starts the ones that need Citus and deleted_record_cluster_may (new) checks the caller's
-- rights on every node before erase and purge change anything.
--@include 098_cluster_run
-- deleted_record_protect_archive looks the extension's schema up with qualified catalogs and
-- operators, as every function does (its event trigger, 117, is unchanged).
--@include 116_protect_archive
