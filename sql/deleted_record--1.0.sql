-- deleted_record 1.0: the archive table, the trigger functions and the SQL API.
-- Hardening: no CREATE OR REPLACE / IF NOT EXISTS (a pre-created object makes CREATE EXTENSION
-- fail instead of being adopted), no substitution of the schema name (schema names with quotes
-- or $ must work, and PostgreSQL refuses to substitute those),
-- every catalog reference qualified with pg_catalog, helper functions pin search_path.
\echo Use "CREATE EXTENSION deleted_record" to load this file. \quit

-- The archive: one row per deleted row. Written only by the extension's trigger functions,
-- under the extension owner's identity; nobody else holds any privilege on it until granted.
CREATE TABLE deleted_record (
    id                uuid        NOT NULL PRIMARY KEY,
    data              jsonb       NOT NULL,
    deleted_at        timestamptz NOT NULL DEFAULT pg_catalog.transaction_timestamp(),
    object_id         text        COLLATE "C",
    table_name        text        COLLATE "C" NOT NULL,
    schema_name       text        COLLATE "C" NOT NULL,
    partition_name    text        COLLATE "C",
    actor             text,
    reason            text,
    metadata          jsonb,
    xact_id           xid8,
    session_user_name text,
    current_user_name text,
    updated_at        timestamptz NOT NULL DEFAULT pg_catalog.transaction_timestamp()
);
-- Lookups are by equality, so the key columns use the "C" collation: byte comparisons keep
-- this index cheap to maintain on every archived row.
CREATE INDEX deleted_record_table_object_idx ON deleted_record (table_name, object_id);
REVOKE ALL ON TABLE deleted_record FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('deleted_record', '');

COMMENT ON TABLE deleted_record IS 'Rows deleted from attached tables, as jsonb, with who deleted them and why';
COMMENT ON COLUMN deleted_record.object_id IS 'Primary key (or replica identity key) of the deleted row as text; composite keys as a JSON array';
COMMENT ON COLUMN deleted_record.table_name IS 'Table the application deleted from (the partitioned root for partitions)';
COMMENT ON COLUMN deleted_record.partition_name IS 'Leaf partition the row lived in, when table_name is partitioned';
COMMENT ON COLUMN deleted_record.actor IS 'Self-declared deleter (deleted_record.actor); compare with session_user_name';

-- deleted_record_uuid7 returns a time-ordered UUID (version 7), monotonic within a session.
CREATE FUNCTION deleted_record_uuid7() RETURNS uuid
    LANGUAGE c VOLATILE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'deleted_record_uuid7';

-- deleted_record_insert is the AFTER DELETE FOR EACH ROW trigger that archives OLD.
CREATE FUNCTION deleted_record_insert() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'deleted_record_insert';

-- deleted_record_truncate_guard is the BEFORE TRUNCATE trigger; its argument is the policy.
CREATE FUNCTION deleted_record_truncate_guard() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'deleted_record_truncate_guard';

-- deleted_record_manage does the work of deleted_record_attach and deleted_record_detach.
-- It finds this extension's schema through pg_extension (never through search_path) and
-- refuses anything but an ordinary or partitioned table owned by the current user.
CREATE FUNCTION deleted_record_manage(target regclass, action text, on_truncate text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    insert_fn regprocedure;
    rel record;
    existing oid;
    dropped int := 0;
    leaf regclass;
BEGIN
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    insert_fn := format('%I.deleted_record_insert()', ext_schema)::regprocedure;

    IF target IS NULL THEN
        RAISE EXCEPTION 'deleted_record_%: table must not be NULL', action
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT c.relkind, c.relowner, n.nspname, c.relname INTO rel
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = target;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'deleted_record_%: relation with OID % does not exist', action, target::oid
            USING ERRCODE = 'undefined_table';
    END IF;
    IF rel.relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION 'deleted_record_%: % is %, not a table', action, target,
            CASE rel.relkind WHEN 'v' THEN 'a view' WHEN 'm' THEN 'a materialized view'
                             WHEN 'f' THEN 'a foreign table' WHEN 'S' THEN 'a sequence'
                             WHEN 'i' THEN 'an index' WHEN 'I' THEN 'a partitioned index'
                             WHEN 'c' THEN 'a composite type' WHEN 't' THEN 'a TOAST table'
                             ELSE 'of relkind ' || rel.relkind::text END
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'Only ordinary and partitioned tables can be attached.';
    END IF;
    IF rel.nspname IN ('pg_catalog', 'information_schema') OR rel.nspname LIKE 'pg\_toast%' THEN
        RAISE EXCEPTION 'deleted_record_%: % is a system catalog', action, target
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF rel.relname = 'deleted_record' AND rel.nspname = ext_schema THEN
        RAISE EXCEPTION 'deleted_record_%: % is the archive table itself', action, target
            USING ERRCODE = 'wrong_object_type';
    END IF;
    IF NOT pg_has_role(current_user, rel.relowner, 'MEMBER') THEN
        RAISE EXCEPTION 'deleted_record_%: must be owner of table %', action, target
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('Only the owner (%s), its members and superusers can %s it.', rel.relowner::regrole, action);
    END IF;

    IF action = 'detach' THEN
        IF EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = target AND t.tgname = 'deleted_record_insert' AND t.tgparentid = 0) THEN
            EXECUTE format('DROP TRIGGER deleted_record_insert ON %s', target);
            dropped := dropped + 1;
        END IF;
        -- TRUNCATE guards live on the table and on each of its partitions.
        FOR leaf IN SELECT t.tgrelid::regclass FROM pg_trigger t
                     WHERE t.tgname = 'deleted_record_truncate_guard'
                       AND t.tgrelid IN (SELECT relid FROM pg_partition_tree(target) UNION SELECT target) LOOP
            EXECUTE format('DROP TRIGGER deleted_record_truncate_guard ON %s', leaf);
            dropped := dropped + 1;
        END LOOP;
        IF dropped = 0 THEN
            RAISE NOTICE 'deleted_record_detach: % is not attached, nothing to do', target;
        END IF;
        RETURN;
    END IF;

    IF on_truncate IS NULL OR on_truncate NOT IN ('archive', 'deny', 'ignore') THEN
        RAISE EXCEPTION 'deleted_record_attach: invalid on_truncate value %', coalesce(quote_literal(on_truncate), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Allowed values are ''archive'', ''deny'' and ''ignore''.';
    END IF;

    SELECT t.tgfoid INTO existing FROM pg_trigger t
     WHERE t.tgrelid = target AND t.tgname = 'deleted_record_insert';
    IF existing IS NULL THEN
        -- On a partitioned table PostgreSQL clones this row trigger to every partition, present and future.
        EXECUTE format('CREATE TRIGGER deleted_record_insert AFTER DELETE ON %s FOR EACH ROW EXECUTE FUNCTION %I.deleted_record_insert()',
                       target, ext_schema);
    ELSIF existing <> insert_fn THEN
        RAISE EXCEPTION 'deleted_record_attach: % already has a trigger named deleted_record_insert that calls %',
                        target, existing::regprocedure
            USING ERRCODE = 'duplicate_object';
    END IF;

    -- Statement-level TRUNCATE triggers are not cloned to partitions, so the guard goes on the
    -- table and on each partition; it is recreated so that a second attach can change the policy.
    FOR leaf IN SELECT relid FROM pg_partition_tree(target) UNION SELECT target LOOP
        IF EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = leaf AND t.tgname = 'deleted_record_truncate_guard') THEN
            EXECUTE format('DROP TRIGGER deleted_record_truncate_guard ON %s', leaf);
        END IF;
        EXECUTE format('CREATE TRIGGER deleted_record_truncate_guard BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I.deleted_record_truncate_guard(%L)',
                       leaf, ext_schema, on_truncate);
    END LOOP;
END
$$;

-- deleted_record_attach archives every row deleted from target from now on (partitions included)
-- and applies the TRUNCATE policy: 'archive' (archive the rows, then truncate), 'deny' or 'ignore'.
-- BEGIN ATOMIC bodies are bound to deleted_record_manage by OID when the extension is created.
CREATE FUNCTION deleted_record_attach(target regclass, on_truncate text DEFAULT 'archive') RETURNS void
    LANGUAGE sql
BEGIN ATOMIC
    SELECT deleted_record_manage(target, 'attach', on_truncate);
END;

-- deleted_record_detach stops archiving deletes from target.
CREATE FUNCTION deleted_record_detach(target regclass) RETURNS void
    LANGUAGE sql
BEGIN ATOMIC
    SELECT deleted_record_manage(target, 'detach', NULL);
END;

-- deleted_record_set_context records who deletes and why, for the current transaction only.
CREATE FUNCTION deleted_record_set_context(actor text, reason text, metadata jsonb DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF metadata IS NOT NULL AND jsonb_typeof(metadata) <> 'object' THEN
        RAISE EXCEPTION 'deleted_record_set_context: metadata must be a JSON object, not %', jsonb_typeof(metadata)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM set_config('deleted_record.actor', coalesce(actor, ''), true);
    PERFORM set_config('deleted_record.reason', coalesce(reason, ''), true);
    PERFORM set_config('deleted_record.metadata', coalesce(metadata::text, ''), true);
END
$$;

-- deleted_record_attached lists the tables whose deletes are archived (partitions are not listed).
CREATE VIEW deleted_record_attached AS
SELECT t.tgrelid::pg_catalog.regclass AS table_name,
       coalesce((SELECT pg_catalog.convert_from(pg_catalog.substring(g.tgargs, 1, pg_catalog.length(g.tgargs) OPERATOR(pg_catalog.-) 1), 'SQL_ASCII')
                   FROM pg_catalog.pg_trigger g
                  WHERE g.tgrelid OPERATOR(pg_catalog.=) t.tgrelid
                    AND g.tgname OPERATOR(pg_catalog.=) 'deleted_record_truncate_guard'), 'ignore') AS on_truncate
  FROM pg_catalog.pg_trigger t
  JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) t.tgfoid
  JOIN pg_catalog.pg_extension e ON e.extname OPERATOR(pg_catalog.=) 'deleted_record'
                                AND e.extnamespace OPERATOR(pg_catalog.=) p.pronamespace
 WHERE t.tgname OPERATOR(pg_catalog.=) 'deleted_record_insert'
   AND p.proname OPERATOR(pg_catalog.=) 'deleted_record_insert'
   AND t.tgparentid OPERATOR(pg_catalog.=) 0;
GRANT SELECT ON deleted_record_attached TO PUBLIC;

-- deleted_record_guard_new_partitions gives a partition created or attached under an attached
-- table the same TRUNCATE guard as its parent: statement triggers are not cloned to partitions,
-- and TRUNCATE of a bare partition would otherwise remove rows unarchived.
CREATE FUNCTION deleted_record_guard_new_partitions() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    command record;
    member record;
BEGIN
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    FOR command IN SELECT DISTINCT objid FROM pg_event_trigger_ddl_commands()
                    WHERE object_type IN ('table', 'table column') AND objid IS NOT NULL LOOP
        -- Every unguarded member of the tree below the topmost root, with its nearest guarded ancestor's policy.
        FOR member IN
            WITH root AS (
                SELECT coalesce((SELECT a.relid FROM pg_partition_ancestors(command.objid) a
                                  WHERE NOT EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = a.relid)),
                                command.objid) AS relid)
            SELECT t.relid::regclass AS relation,
                   (SELECT convert_from(substring(g.tgargs, 1, length(g.tgargs) - 1), 'UTF8')
                      FROM pg_partition_ancestors(t.relid) WITH ORDINALITY a(relid, depth)
                      JOIN pg_trigger g ON g.tgrelid = a.relid AND g.tgname = 'deleted_record_truncate_guard'
                     ORDER BY a.depth LIMIT 1) AS policy
              FROM root, pg_partition_tree(root.relid) t
             WHERE NOT EXISTS (SELECT FROM pg_trigger g
                                WHERE g.tgrelid = t.relid AND g.tgname = 'deleted_record_truncate_guard')
        LOOP
            CONTINUE WHEN member.policy IS NULL;
            EXECUTE format('CREATE TRIGGER deleted_record_truncate_guard BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I.deleted_record_truncate_guard(%L)',
                           member.relation, ext_schema, member.policy);
        END LOOP;
    END LOOP;
END
$$;
CREATE EVENT TRIGGER deleted_record_guard_new_partitions ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION deleted_record_guard_new_partitions();

-- deleted_record_protect_archive refuses DROP EXTENSION deleted_record (without CASCADE) while
-- tables are attached, saying how to detach them and that the archive goes with the extension.
CREATE FUNCTION deleted_record_protect_archive() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    attached text;
    ext_schema name;
BEGIN
    IF current_query() !~* '\mdrop\s+extension\s+(if\s+exists\s+)?([^;]*[\s,."])?deleted_record\M'
       OR current_query() ~* '\mcascade\M' THEN
        RETURN;
    END IF;
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    SELECT string_agg(t.tgrelid::regclass::text, ', ' ORDER BY t.tgrelid::regclass::text) INTO attached
      FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
     WHERE t.tgname = 'deleted_record_insert' AND t.tgparentid = 0
       AND p.proname = 'deleted_record_insert'
       AND p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = ext_schema);
    IF attached IS NOT NULL THEN
        RAISE EXCEPTION 'cannot drop extension deleted_record while tables are attached: %', attached
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = 'Dropping the extension also drops its archive table deleted_record and every row in it.',
                  HINT = format('Detach them first: SELECT %I.deleted_record_detach(table_name) FROM %I.deleted_record_attached; and copy the archive elsewhere if you need it.',
                                ext_schema, ext_schema);
    END IF;
END
$$;
CREATE EVENT TRIGGER deleted_record_protect_archive ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION')
    EXECUTE FUNCTION deleted_record_protect_archive();
