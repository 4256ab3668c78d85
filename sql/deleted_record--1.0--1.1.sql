-- deleted_record 1.0 -> 1.1. The archive gains restored_at/restored_by and stores xact_id as
-- bigint (a type every client understands); deleted_record_set_context becomes a C function
-- that refuses to run where its settings could never reach a delete; attach/detach recognise
-- archive triggers by function and lock first; TRUNCATE guards follow partitions however they
-- are created, attached or detached; changes to the archive its writer cannot honour are refused.
\echo Use "ALTER EXTENSION deleted_record UPDATE TO '1.1'" to load this file. \quit

-- The old DDL event trigger is replaced below; drop it first so it does not fire on this script.
DROP EVENT TRIGGER deleted_record_guard_new_partitions;
DROP FUNCTION deleted_record_guard_new_partitions();

ALTER TABLE deleted_record ALTER COLUMN xact_id TYPE bigint USING (xact_id::text::bigint);
ALTER TABLE deleted_record ADD COLUMN restored_at timestamptz, ADD COLUMN restored_by text,
    ADD COLUMN excluded_columns text[], ADD COLUMN masked_columns text[];
COMMENT ON COLUMN deleted_record.id IS 'Time-ordered UUIDv7 of the archive row';
COMMENT ON COLUMN deleted_record.data IS 'The deleted row as to_jsonb(OLD) renders it under canonical settings (TimeZone UTC, DateStyle ISO)';
COMMENT ON COLUMN deleted_record.deleted_at IS 'Start time of the deleting transaction';
COMMENT ON COLUMN deleted_record.object_id IS 'Primary key (or replica identity key) of the deleted row as text; composite keys as a JSON array';
COMMENT ON COLUMN deleted_record.table_name IS 'Table the application deleted from (the partitioned root for partitions)';
COMMENT ON COLUMN deleted_record.schema_name IS 'Schema of table_name';
COMMENT ON COLUMN deleted_record.partition_name IS 'Leaf partition the row lived in, when table_name is partitioned';
COMMENT ON COLUMN deleted_record.actor IS 'Self-declared deleter (deleted_record.actor); compare with session_user_name';
COMMENT ON COLUMN deleted_record.reason IS 'Why the row was deleted (deleted_record.reason)';
COMMENT ON COLUMN deleted_record.metadata IS 'JSON object of further context (deleted_record.metadata)';
COMMENT ON COLUMN deleted_record.xact_id IS 'Deleting transaction (pg_current_xact_id() as bigint): groups a delete with its cascades';
COMMENT ON COLUMN deleted_record.session_user_name IS 'Session user that ran the delete';
COMMENT ON COLUMN deleted_record.current_user_name IS 'Current user (role) that ran the delete';
COMMENT ON COLUMN deleted_record.updated_at IS 'Same as deleted_at; kept for queries written for the original pattern';
COMMENT ON COLUMN deleted_record.restored_at IS 'When deleted_record_restore put the row back; NULL until restored';
COMMENT ON COLUMN deleted_record.restored_by IS 'Role that restored the row; NULL until restored';
COMMENT ON COLUMN deleted_record.excluded_columns IS 'Columns kept out of data at capture (the attached table''s exclude_columns); NULL when none';
COMMENT ON COLUMN deleted_record.masked_columns IS 'Columns of data stored as a keyed hash (the attached table''s mask_columns); NULL when none';
COMMENT ON INDEX deleted_record_table_object_idx IS 'Finds the archived versions of one row: table_name = ... AND object_id = ...';


COMMENT ON FUNCTION deleted_record_uuid7() IS 'A time-ordered UUID (version 7), monotonic within a session: the archive''s ids';
COMMENT ON FUNCTION deleted_record_insert() IS 'AFTER DELETE FOR EACH ROW trigger: archives the deleted row into deleted_record';
COMMENT ON FUNCTION deleted_record_truncate_guard() IS 'BEFORE TRUNCATE trigger: applies the attached table''s TRUNCATE policy (its argument)';

-- deleted_record_truncate_policy checks an on_truncate value (the names live in the C core).
CREATE FUNCTION deleted_record_truncate_policy(policy text) RETURNS text
    LANGUAGE c IMMUTABLE
    AS 'MODULE_PATHNAME', 'deleted_record_truncate_policy';
COMMENT ON FUNCTION deleted_record_truncate_policy(text) IS 'Internal: checks an on_truncate value and returns it, or raises an error listing the allowed values';

-- deleted_record_set_context records who deletes and why, for the current transaction only.
CREATE OR REPLACE FUNCTION deleted_record_set_context(actor text, reason text, metadata jsonb DEFAULT NULL) RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_set_context';
COMMENT ON FUNCTION deleted_record_set_context(text, text, jsonb) IS 'Sets deleted_record.actor, .reason and .metadata for the current transaction only; an error outside a transaction block';

-- deleted_record_manage does the work of deleted_record_attach and deleted_record_detach.
-- It finds this extension's functions through pg_extension (never through search_path),
-- recognises archive triggers by their function whatever their name, locks the table before
-- it looks at its triggers, and refuses anything but an ordinary or partitioned table owned by
-- the current user.
CREATE OR REPLACE FUNCTION deleted_record_manage(target regclass, action text, on_truncate text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    insert_fn regprocedure;
    guard_fn regprocedure;
    archive regclass;
    policy text;
    rel record;
    found_trigger record;
    attached_through regclass;
    dropped int := 0;
    member record;
BEGIN
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    insert_fn := format('%I.deleted_record_insert()', ext_schema)::regprocedure;
    guard_fn := format('%I.deleted_record_truncate_guard()', ext_schema)::regprocedure;
    archive := format('%I.deleted_record', ext_schema)::regclass;

    IF target IS NULL THEN
        RAISE EXCEPTION 'deleted_record_%: table must not be NULL', action
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF action = 'attach' THEN
        EXECUTE format('SELECT %I.deleted_record_truncate_policy($1)', ext_schema) INTO policy USING on_truncate;
    END IF;
    SELECT c.relkind, c.relowner, c.relispartition, n.nspname, c.relname INTO rel
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
    IF target = archive OR target IN (SELECT relid FROM pg_partition_tree(archive)) THEN
        RAISE EXCEPTION 'deleted_record_%: % is the archive table itself', action, target
            USING ERRCODE = 'wrong_object_type';
    END IF;
    IF NOT pg_has_role(current_user, rel.relowner, 'MEMBER') THEN
        RAISE EXCEPTION 'deleted_record_%: must be owner of table %', action, target
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('Only the owner (%s), its members and superusers can %s it.', rel.relowner::regrole, action);
    END IF;

    -- Take the lock CREATE TRIGGER takes before looking at the triggers, so that concurrent
    -- attach/detach calls on one table run one after the other; then make sure the name still
    -- means the same table.
    EXECUTE format('LOCK TABLE %I.%I IN SHARE ROW EXCLUSIVE MODE', rel.nspname, rel.relname);
    IF NOT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE c.oid = target AND n.nspname = rel.nspname AND c.relname = rel.relname) THEN
        RAISE EXCEPTION 'deleted_record_%: table % was renamed or dropped concurrently', action, target
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Try again.';
    END IF;

    -- A partition whose parent is attached carries a clone of the parent's archive trigger,
    -- which PostgreSQL does not let anyone drop on its own.
    SELECT a.relid::regclass INTO attached_through
      FROM pg_partition_ancestors(target) WITH ORDINALITY a(relid, depth)
      JOIN pg_trigger t ON t.tgrelid = a.relid AND t.tgfoid = insert_fn AND t.tgparentid = 0
     WHERE a.relid <> target
     ORDER BY a.depth LIMIT 1;
    IF attached_through IS NOT NULL THEN
        RAISE EXCEPTION 'deleted_record_%: % is a partition of attached table %', action, target, attached_through
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Its deletes are archived, and its TRUNCATE policy set, through %s.', attached_through),
                  HINT = CASE action
                         WHEN 'detach' THEN format('Detach %s, or ALTER TABLE %s DETACH PARTITION %s first.',
                                                   attached_through, (SELECT i.inhparent::regclass FROM pg_inherits i WHERE i.inhrelid = target), target)
                         ELSE format('Attach or detach %s instead.', attached_through) END;
    END IF;

    IF action = 'detach' THEN
        FOR found_trigger IN SELECT t.tgname FROM pg_trigger t
                              WHERE t.tgrelid = target AND t.tgfoid = insert_fn AND t.tgparentid = 0 LOOP
            EXECUTE format('DROP TRIGGER %I ON %s', found_trigger.tgname, target);
            dropped := dropped + 1;
        END LOOP;
        -- TRUNCATE guards live on the table and on each of its partitions (but a partition
        -- attached on its own keeps its own).
        FOR member IN SELECT t.tgrelid::regclass AS relation, t.tgname FROM pg_trigger t
                       WHERE t.tgfoid = guard_fn
                         AND t.tgrelid IN (SELECT relid FROM pg_partition_tree(target) UNION SELECT target)
                         AND NOT EXISTS (SELECT FROM pg_trigger own WHERE own.tgrelid = t.tgrelid
                                            AND own.tgfoid = insert_fn AND own.tgparentid = 0) LOOP
            EXECUTE format('DROP TRIGGER %I ON %s', member.tgname, member.relation);
            dropped := dropped + 1;
        END LOOP;
        IF dropped = 0 THEN
            RAISE NOTICE 'deleted_record_detach: % is not attached, nothing to do', target;
        END IF;
        RETURN;
    END IF;

    -- The table may already have an archive trigger under any name (created by hand, say).
    -- A disabled one is enabled; one with a WHEN condition archives only some rows, so ours is
    -- added and the conditional one then leaves the archiving to it.
    SELECT t.tgname, t.tgfoid, t.tgenabled, t.tgqual IS NOT NULL AS conditional INTO found_trigger
      FROM pg_trigger t
     WHERE t.tgrelid = target AND t.tgparentid = 0
       AND (t.tgfoid = insert_fn OR t.tgname = 'deleted_record_insert')
     ORDER BY (t.tgfoid = insert_fn AND t.tgqual IS NULL) DESC, (t.tgname = 'deleted_record_insert') DESC, t.tgname
     LIMIT 1;
    IF found_trigger.tgname IS NOT NULL AND found_trigger.tgfoid <> insert_fn THEN
        RAISE EXCEPTION 'deleted_record_attach: % already has a trigger named deleted_record_insert that calls %',
                        target, found_trigger.tgfoid::regprocedure
            USING ERRCODE = 'duplicate_object';
    ELSIF found_trigger.tgname IS NULL OR found_trigger.conditional THEN
        -- On a partitioned table PostgreSQL clones this row trigger to every partition, present and future.
        EXECUTE format('CREATE TRIGGER deleted_record_insert AFTER DELETE ON %s FOR EACH ROW EXECUTE FUNCTION %I.deleted_record_insert()',
                       target, ext_schema);
    ELSIF found_trigger.tgenabled = 'D' THEN
        EXECUTE format('ALTER TABLE %s ENABLE TRIGGER %I', target, found_trigger.tgname);
    END IF;

    -- Statement-level TRUNCATE triggers are not cloned to partitions, so the guard goes on the
    -- table and on each partition (foreign partitions cannot have one); it is recreated so that
    -- a second attach can change the policy.
    FOR member IN SELECT t.relid::regclass AS relation FROM pg_partition_tree(target) t
                    JOIN pg_class c ON c.oid = t.relid
                   WHERE c.relkind IN ('r', 'p')
                     AND (t.relid = target OR NOT EXISTS (SELECT FROM pg_trigger own WHERE own.tgrelid = t.relid
                                                            AND own.tgfoid = insert_fn AND own.tgparentid = 0))
                  UNION SELECT target LOOP
        FOR found_trigger IN SELECT g.tgname FROM pg_trigger g
                              WHERE g.tgrelid = member.relation AND (g.tgfoid = guard_fn OR g.tgname = 'deleted_record_truncate_guard') LOOP
            EXECUTE format('DROP TRIGGER %I ON %s', found_trigger.tgname, member.relation);
        END LOOP;
        EXECUTE format('CREATE TRIGGER deleted_record_truncate_guard BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I.deleted_record_truncate_guard(%L)',
                       member.relation, ext_schema, policy);
    END LOOP;
END
$$;
COMMENT ON FUNCTION deleted_record_manage(regclass, text, text) IS 'Internal: the work of deleted_record_attach and deleted_record_detach';

COMMENT ON FUNCTION deleted_record_attach(regclass, text) IS 'Archives every row deleted from the table (and its partitions) from now on; on_truncate: archive, deny or ignore';
COMMENT ON FUNCTION deleted_record_detach(regclass) IS 'Stops archiving deletes from the table: removes its archive trigger and TRUNCATE guards';

-- deleted_record_attached lists the tables whose deletes are archived: every table with an
-- archive trigger of its own, whatever the trigger's name (partitions are not listed).
CREATE OR REPLACE VIEW deleted_record_attached AS
SELECT t.tgrelid::pg_catalog.regclass AS table_name,
       coalesce((SELECT pg_catalog.convert_from(pg_catalog.substring(g.tgargs, 1, pg_catalog.length(g.tgargs) OPERATOR(pg_catalog.-) 1), 'SQL_ASCII')
                   FROM pg_catalog.pg_trigger g
                  WHERE g.tgrelid OPERATOR(pg_catalog.=) t.tgrelid
                    AND g.tgfoid OPERATOR(pg_catalog.=) guard.oid
                  LIMIT 1), 'ignore') AS on_truncate
  FROM pg_catalog.pg_trigger t
  JOIN pg_catalog.pg_extension e ON e.extname OPERATOR(pg_catalog.=) 'deleted_record'
  JOIN pg_catalog.pg_proc p ON p.pronamespace OPERATOR(pg_catalog.=) e.extnamespace
                           AND p.proname OPERATOR(pg_catalog.=) 'deleted_record_insert'
                           AND p.pronargs OPERATOR(pg_catalog.=) 0
  JOIN pg_catalog.pg_proc guard ON guard.pronamespace OPERATOR(pg_catalog.=) e.extnamespace
                               AND guard.proname OPERATOR(pg_catalog.=) 'deleted_record_truncate_guard'
                               AND guard.pronargs OPERATOR(pg_catalog.=) 0
 WHERE t.tgfoid OPERATOR(pg_catalog.=) p.oid
   AND t.tgparentid OPERATOR(pg_catalog.=) 0
 GROUP BY t.tgrelid, guard.oid;
COMMENT ON VIEW deleted_record_attached IS 'Tables whose deletes are archived, with their TRUNCATE policy (partitions are not listed)';
COMMENT ON COLUMN deleted_record_attached.table_name IS 'The attached table';
COMMENT ON COLUMN deleted_record_attached.on_truncate IS 'archive, deny or ignore';

-- deleted_record_guard_partitions keeps TRUNCATE guards in step with partition trees, however
-- partitions are created (also inside CREATE SCHEMA), attached or detached: every archived
-- ordinary or partitioned member of a touched tree gets the policy of its nearest attached
-- ancestor; guards on tables whose deletes are no longer archived go (for tables the current
-- user owns; a guard left elsewhere sees at TRUNCATE time that it is stale and does nothing).
-- Foreign partitions get no guard (PostgreSQL allows none on them).
CREATE FUNCTION deleted_record_guard_partitions() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    insert_fn regprocedure;
    guard_fn regprocedure;
    roots oid[];
    member record;
    desired text;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_event_trigger_ddl_commands() WHERE NOT in_extension) THEN
        RETURN;
    END IF;
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    insert_fn := format('%I.deleted_record_insert()', ext_schema)::regprocedure;
    guard_fn := format('%I.deleted_record_truncate_guard()', ext_schema)::regprocedure;

    FOR member IN SELECT g.tgrelid::regclass AS relation, g.tgname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
                   WHERE g.tgfoid = guard_fn
                     AND NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = g.tgrelid AND t.tgfoid = insert_fn)
                     AND pg_has_role(current_user, c.relowner, 'MEMBER') LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', member.tgname, member.relation);
    END LOOP;

    SELECT array_agg(DISTINCT coalesce(
               (SELECT a.relid FROM pg_partition_ancestors(touched.relid) a
                 WHERE NOT EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = a.relid)), touched.relid))
      INTO roots
      FROM (SELECT d.objid AS relid FROM pg_event_trigger_ddl_commands() d
             WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0 AND NOT d.in_extension
            UNION
            SELECT c.oid FROM pg_event_trigger_ddl_commands() d JOIN pg_class c ON c.relnamespace = d.objid
             WHERE d.object_type = 'schema' AND NOT d.in_extension AND c.relkind IN ('r', 'p')) touched
     WHERE EXISTS (SELECT FROM pg_class c WHERE c.oid = touched.relid AND c.relkind IN ('r', 'p', 'f'));
    IF roots IS NULL THEN
        RETURN;
    END IF;
    FOR member IN
        SELECT t.relid::regclass AS relation, c.relkind,
               EXISTS (SELECT FROM pg_trigger x WHERE x.tgrelid = t.relid AND x.tgfoid = insert_fn) AS archived,
               (SELECT convert_from(substring(g.tgargs, 1, length(g.tgargs) - 1), 'UTF8')
                  FROM pg_partition_ancestors(t.relid) WITH ORDINALITY a(relid, depth)
                  JOIN pg_trigger own ON own.tgrelid = a.relid AND own.tgfoid = insert_fn AND own.tgparentid = 0
                  JOIN pg_trigger g ON g.tgrelid = a.relid AND g.tgfoid = guard_fn
                 ORDER BY a.depth LIMIT 1) AS policy,
               (SELECT array_agg(g.tgname) FROM pg_trigger g WHERE g.tgrelid = t.relid AND g.tgfoid = guard_fn) AS guards,
               (SELECT min(convert_from(substring(g.tgargs, 1, length(g.tgargs) - 1), 'UTF8'))
                  FROM pg_trigger g WHERE g.tgrelid = t.relid AND g.tgfoid = guard_fn) AS guard_policy
          FROM unnest(roots) r(root), pg_partition_tree(r.root) t
          JOIN pg_class c ON c.oid = t.relid
         WHERE c.relkind IN ('r', 'p')
    LOOP
        desired := CASE WHEN member.archived THEN member.policy END;
        CONTINUE WHEN desired IS NOT DISTINCT FROM member.guard_policy AND coalesce(array_length(member.guards, 1), 0) <= 1;
        IF member.guards IS NOT NULL THEN
            FOR i IN 1 .. array_length(member.guards, 1) LOOP
                EXECUTE format('DROP TRIGGER %I ON %s', member.guards[i], member.relation);
            END LOOP;
        END IF;
        IF desired IS NOT NULL THEN
            EXECUTE format('CREATE TRIGGER deleted_record_truncate_guard BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I.deleted_record_truncate_guard(%L)',
                           member.relation, ext_schema, desired);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION deleted_record_guard_partitions() IS 'Event trigger: keeps TRUNCATE guards in step with partition trees';
CREATE EVENT TRIGGER deleted_record_guard_partitions ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'CREATE SCHEMA', 'CREATE FOREIGN TABLE')
    EXECUTE FUNCTION deleted_record_guard_partitions();
COMMENT ON EVENT TRIGGER deleted_record_guard_partitions IS 'Keeps TRUNCATE guards in step with partition trees of attached tables';

-- deleted_record_check_archive refuses changes to the archive table that the direct writer
-- could not honour: the extension's columns must keep their names and types; foreign keys and
-- deferrable unique or exclusion constraints would not be checked (they need triggers); a new
-- NOT NULL column needs a default; user triggers and rules on it would never fire. Defaults,
-- generated columns, CHECK and NOT NULL constraints, indexes and extra columns are honoured.
CREATE FUNCTION deleted_record_check_archive() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    archive regclass;
    problem text;
BEGIN
    SELECT format('%I.deleted_record', n.nspname)::regclass INTO archive
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    -- Only commands that changed the archive, its indexes, triggers or rules.
    IF NOT EXISTS (SELECT FROM pg_event_trigger_ddl_commands() d
                    WHERE NOT d.in_extension
                      AND ((d.classid = 'pg_class'::regclass
                            AND (d.objid = archive OR d.objid IN (SELECT i.indexrelid FROM pg_index i WHERE i.indrelid = archive)))
                        OR (d.classid = 'pg_trigger'::regclass AND d.objid IN (SELECT t.oid FROM pg_trigger t WHERE t.tgrelid = archive))
                        OR (d.classid = 'pg_rewrite'::regclass AND d.objid IN (SELECT r.oid FROM pg_rewrite r WHERE r.ev_class = archive)))) THEN
        RETURN;
    END IF;
    SELECT string_agg(p, '; ') INTO problem FROM (
        SELECT format('column %I must exist with type %s', expected.name, expected.type) AS p
          FROM (VALUES ('id', 'uuid'), ('data', 'jsonb'), ('deleted_at', 'timestamp with time zone'),
                       ('object_id', 'text'), ('table_name', 'text'), ('schema_name', 'text'),
                       ('partition_name', 'text'), ('actor', 'text'), ('reason', 'text'), ('metadata', 'jsonb'),
                       ('xact_id', 'bigint'), ('session_user_name', 'text'), ('current_user_name', 'text'),
                       ('updated_at', 'timestamp with time zone'), ('restored_at', 'timestamp with time zone'),
                       ('restored_by', 'text'), ('excluded_columns', 'text[]'),
                       ('masked_columns', 'text[]')) expected(name, type)
         WHERE NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = archive AND a.attname = expected.name
                              AND NOT a.attisdropped AND format_type(a.atttypid, NULL) = expected.type)
        UNION ALL
        SELECT format('foreign key %I is not checked by the archive''s writer', co.conname)
          FROM pg_constraint co WHERE co.conrelid = archive AND co.contype = 'f'
        UNION ALL
        SELECT format('deferrable constraint %I is not checked by the archive''s writer', co.conname)
          FROM pg_constraint co WHERE co.conrelid = archive AND co.condeferrable
        UNION ALL
        SELECT format('column %I is NOT NULL without a default', a.attname)
          FROM pg_attribute a
         WHERE a.attrelid = archive AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull AND NOT a.atthasdef
           AND a.attgenerated = '' AND a.attidentity = ''
           AND a.attname NOT IN ('id', 'data', 'table_name', 'schema_name')
        UNION ALL
        SELECT format('trigger %I would never fire', t.tgname)
          FROM pg_trigger t WHERE t.tgrelid = archive AND NOT t.tgisinternal
        UNION ALL
        SELECT format('rule %I would never fire', r.rulename)
          FROM pg_rewrite r WHERE r.ev_class = archive
    ) problems;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION 'this change to the archive table % is not supported: %', archive, problem
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'deleted_record writes archive rows directly: it fills its own columns, applies defaults, generated columns, NOT NULL and CHECK constraints and maintains every index, but fires no triggers or rules.',
                  HINT = 'Add indexes, columns with defaults or CHECK constraints instead.';
    END IF;
END
$$;
COMMENT ON FUNCTION deleted_record_check_archive() IS 'Event trigger: refuses changes to the archive table that its writer could not honour';
CREATE EVENT TRIGGER deleted_record_check_archive ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'CREATE TRIGGER', 'CREATE RULE', 'ALTER TRIGGER', 'CREATE INDEX')
    EXECUTE FUNCTION deleted_record_check_archive();
COMMENT ON EVENT TRIGGER deleted_record_check_archive IS 'Refuses changes to the archive table that its writer could not honour';

-- deleted_record_protect_archive refuses DROP EXTENSION deleted_record (without CASCADE) while
-- tables are attached, saying how to detach them and that the archive goes with the extension.
CREATE OR REPLACE FUNCTION deleted_record_protect_archive() RETURNS event_trigger
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
      FROM pg_trigger t
     WHERE t.tgfoid = format('%I.deleted_record_insert()', ext_schema)::regprocedure AND t.tgparentid = 0;
    IF attached IS NOT NULL THEN
        RAISE EXCEPTION 'cannot drop extension deleted_record while tables are attached: %', attached
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = 'Dropping the extension also drops its archive table deleted_record and every row in it.',
                  HINT = format('Detach them first: SELECT %I.deleted_record_detach(table_name) FROM %I.deleted_record_attached; and copy the archive elsewhere if you need it.',
                                ext_schema, ext_schema);
    END IF;
END
$$;
COMMENT ON FUNCTION deleted_record_protect_archive() IS 'Event trigger: refuses DROP EXTENSION deleted_record while tables are attached';
COMMENT ON FUNCTION deleted_record_protect_archive() IS 'Event trigger: refuses DROP EXTENSION deleted_record while tables are attached';
COMMENT ON EVENT TRIGGER deleted_record_protect_archive IS 'Refuses DROP EXTENSION deleted_record while tables are attached';
