-- deleted_record_attachments is the attachment contract as SQL sees it (decided in C, in
-- src/glue/attachment_contract.cpp, the one place that reads archive triggers): one row per
-- table with an archive trigger of its own, with its attachment id, the trigger that archives
-- its rows, its TRUNCATE policy, retention and column policies (those of all its archive
-- triggers: policies belong to the table).
CREATE FUNCTION deleted_record_attachments(OUT relation regclass, OUT attachment_id uuid, OUT archiving_trigger name,
                                           OUT on_truncate text, OUT retention interval,
                                           OUT exclude_columns text[], OUT mask_columns text[])
    RETURNS SETOF record
    LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'deleted_record_attachments';
COMMENT ON FUNCTION deleted_record_attachments() IS 'Internal: the attachment contract of every attached table (what deleted_record_attached shows)';

-- deleted_record_truncate_guard_policy is the policy of a table's own TRUNCATE guard, or NULL.
CREATE FUNCTION deleted_record_truncate_guard_policy(relation regclass) RETURNS text
    LANGUAGE c STABLE STRICT
    AS 'MODULE_PATHNAME', 'deleted_record_truncate_guard_policy';
COMMENT ON FUNCTION deleted_record_truncate_guard_policy(regclass) IS 'Internal: the policy of the table''s own TRUNCATE guard, or NULL';

-- deleted_record_follow_attachments keeps the attachment registry in step with the catalog
-- after DDL: a window closes when its table is renamed, moved to another schema, becomes a
-- partition, is dropped or detached, and a new one opens under the table's current names. A
-- window opens only for an attachment id never seen before or last registered to this very
-- table, and never reaches back in time: only rows archived from now on can enter it. It runs
-- as the extension owner for whoever's DDL fired it, so every operator is schema-qualified
-- (the multi-array unnest is FROM-clause syntax, which cannot be).
CREATE FUNCTION deleted_record_follow_attachments() RETURNS event_trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    ids uuid[];
    relids oid[];
    schemas text[];
    tables text[];
    now_id uuid;
BEGIN
    -- Citus replays DDL on a node (shells, shards, their triggers) over several connections of
    -- one distributed transaction at once (attach, moves, splits, alter_distributed_table): were
    -- each to update the registry, one would wait for another of its own transaction, which
    -- Citus cancels as a distributed deadlock. DDL Citus replays leaves that node's registry as
    -- it was (see README, Citus).
    IF pg_catalog.current_setting('application_name') LIKE 'citus\_internal%' THEN
        RETURN;
    END IF;
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    IF ext_schema IS NULL OR pg_catalog.to_regclass(pg_catalog.format('%I.deleted_record_attachment', ext_schema)) IS NULL THEN
        RETURN;
    END IF;
    EXECUTE pg_catalog.format($q$
        SELECT pg_catalog.array_agg(a.attachment_id), pg_catalog.array_agg(c.oid), pg_catalog.array_agg(n.nspname::pg_catalog.text),
               pg_catalog.array_agg(c.relname::pg_catalog.text)
          FROM %1$I.deleted_record_attachments() a
          JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.relation::pg_catalog.oid
          JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
         WHERE a.attachment_id IS NOT NULL AND NOT c.relispartition$q$, ext_schema)
       INTO ids, relids, schemas, tables;
    EXECUTE pg_catalog.format('SELECT %I.deleted_record_uuid7()', ext_schema) INTO now_id;
    -- Close windows whose table is gone, no longer carries the attachment, or has other names.
    EXECUTE pg_catalog.format($q$
        UPDATE %1$I.deleted_record_attachment w SET until_id = $5
         WHERE w.until_id IS NULL
           AND NOT EXISTS (SELECT FROM unnest($1, $2, $3, $4) k(attachment_id, relid, schema_name, table_name)
                            WHERE k.attachment_id OPERATOR(pg_catalog.=) w.attachment_id AND k.relid OPERATOR(pg_catalog.=) w.relid
                              AND k.schema_name OPERATOR(pg_catalog.=) w.schema_name AND k.table_name OPERATOR(pg_catalog.=) w.table_name)$q$, ext_schema)
       USING ids, relids, schemas, tables, now_id;
    -- Open windows for attachments without one: new ids, or ids last registered to this table.
    EXECUTE pg_catalog.format($q$
        INSERT INTO %1$I.deleted_record_attachment (attachment_id, relid, schema_name, table_name, from_id)
        SELECT DISTINCT ON (k.attachment_id) k.attachment_id, k.relid, k.schema_name, k.table_name, $5
          FROM unnest($1, $2, $3, $4) k(attachment_id, relid, schema_name, table_name)
         WHERE NOT EXISTS (SELECT FROM %1$I.deleted_record_attachment w
                            WHERE w.attachment_id OPERATOR(pg_catalog.=) k.attachment_id AND w.until_id IS NULL)
           AND coalesce((SELECT w.relid FROM %1$I.deleted_record_attachment w WHERE w.attachment_id OPERATOR(pg_catalog.=) k.attachment_id
                          ORDER BY w.from_id USING OPERATOR(pg_catalog.>) LIMIT 1), k.relid) OPERATOR(pg_catalog.=) k.relid
         ORDER BY k.attachment_id USING OPERATOR(pg_catalog.<), k.relid USING OPERATOR(pg_catalog.<)$q$, ext_schema)
       USING ids, relids, schemas, tables, now_id;
    -- A closed window remembers its table only while that table still has the window's names:
    -- once it is dropped (or after a restore, where OIDs change), no other table can take over
    -- the attachment.
    EXECUTE pg_catalog.format($q$
        UPDATE %1$I.deleted_record_attachment w SET relid = 0
         WHERE w.until_id IS NOT NULL AND w.relid OPERATOR(pg_catalog.<>) 0
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
                            WHERE c.oid OPERATOR(pg_catalog.=) w.relid AND n.nspname::pg_catalog.text OPERATOR(pg_catalog.=) w.schema_name
                              AND c.relname::pg_catalog.text OPERATOR(pg_catalog.=) w.table_name)$q$, ext_schema);
END
$$;
COMMENT ON FUNCTION deleted_record_follow_attachments() IS 'Event trigger: keeps the attachment registry (retention by identity) in step with renames, drops and detaches';
CREATE EVENT TRIGGER deleted_record_follow_attachments ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER SCHEMA', 'DROP TABLE', 'DROP SCHEMA', 'DROP OWNED', 'DROP EXTENSION',
                 'CREATE TRIGGER', 'DROP TRIGGER', 'ALTER TRIGGER', 'CREATE SCHEMA')
    EXECUTE FUNCTION deleted_record_follow_attachments();
COMMENT ON EVENT TRIGGER deleted_record_follow_attachments IS 'Keeps the attachment registry in step with renames, drops and detaches';

-- deleted_record_check_trigger refuses archive triggers that break the attachment contract
-- (made by CREATE TRIGGER, or as an element of CREATE SCHEMA): an
-- argument that does not parse, masked columns without EXECUTE on deleted_record_mask, or an
-- attachment id that belongs to another table.
CREATE FUNCTION deleted_record_check_trigger() RETURNS event_trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'deleted_record_check_trigger';
COMMENT ON FUNCTION deleted_record_check_trigger() IS 'Event trigger: refuses archive triggers that break the attachment contract';
CREATE EVENT TRIGGER deleted_record_check_trigger ON ddl_command_end
    WHEN TAG IN ('CREATE TRIGGER', 'CREATE SCHEMA')
    EXECUTE FUNCTION deleted_record_check_trigger();
COMMENT ON EVENT TRIGGER deleted_record_check_trigger IS 'Refuses archive triggers that break the attachment contract';
