-- deleted_record_manage_triggers issues the DDL of an attach or detach deleted_record_manage
-- has checked: it reads the table's triggers and partition tree by OID, the C++ core decides
-- which triggers to drop, enable or create (src/core/attachment_plan.hpp), and it runs that DDL
-- as the caller. It checks again that the caller owns the table, which it locks.
CREATE FUNCTION deleted_record_manage_triggers(target regclass, action text, on_truncate text, argument text,
                                               contract_kept boolean) RETURNS void
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'deleted_record_manage_triggers';
COMMENT ON FUNCTION deleted_record_manage_triggers(regclass, text, text, text, boolean) IS 'Internal: the triggers an attach or detach drops, enables or creates';
-- deleted_record_manage_attach is the attach deleted_record_manage has checked: it reads the
-- table's contract by OID (deleted_record_attachments), lets the C++ core merge the call into it
-- (what the call leaves out is kept; column policies left out while the table has some are
-- refused), builds the archive trigger's argument and issues the DDL as
-- deleted_record_manage_triggers does. It checks again that the caller owns the table, which it
-- locks; called on its own, it names tables and writes retention as deleted_record_manage does.
CREATE FUNCTION deleted_record_manage_attach(target regclass, on_truncate text, retention interval,
                                             exclude_columns text[], mask_columns text[]) RETURNS void
    LANGUAGE c
    SET search_path = pg_catalog, pg_temp
    SET intervalstyle = postgres
    AS 'MODULE_PATHNAME', 'deleted_record_manage_attach';
COMMENT ON FUNCTION deleted_record_manage_attach(regclass, text, interval, text[], text[]) IS 'Internal: an attach with the call merged into the table''s contract';
-- deleted_record_manage does the work of deleted_record_attach and deleted_record_detach.
-- It finds this extension's functions through pg_extension (never through search_path), locks
-- the table before it looks at its triggers, refuses anything but an ordinary or partitioned
-- table owned by the current user; the table's options are deleted_record_manage_attach's to
-- work out, which triggers change deleted_record_manage_triggers's to decide.
CREATE FUNCTION deleted_record_manage(target regclass, action text, on_truncate text, retention interval,
                                      exclude_columns text[], mask_columns text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET intervalstyle = postgres
    AS $$
DECLARE
    ext_schema name;
    archive regclass;
    policy text;
    rel record;
    attached_through regclass;
    attached oid[];
    unsafe_triggers text;
    logical regclass;
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    archive := format('%I.deleted_record', ext_schema)::regclass;

    IF target IS NULL THEN
        RAISE EXCEPTION 'deleted_record_%: table must not be NULL', action
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF action = 'attach' AND on_truncate IS NOT NULL THEN
        EXECUTE format('SELECT %I.deleted_record_truncate_policy($1)', ext_schema) INTO policy USING on_truncate;
    END IF;
    -- Before any catalog query: Citus hides shards from pg_class for clients other than its own.
    EXECUTE format('SELECT %I.deleted_record_shard_of($1)', ext_schema) INTO logical USING target;
    IF logical IS NOT NULL THEN
        RAISE EXCEPTION 'deleted_record_%: % is a shard of Citus table %', action, target, logical
            USING ERRCODE = 'wrong_object_type',
                  HINT = format('Run deleted_record_%s(%L) on the coordinator: Citus gives every shard the table''s triggers.', action, logical::text);
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

    -- Citus refuses triggers on its tables unless citus.enable_unsafe_triggers is on. Ours only
    -- write the archive of the node they fire on, so attach and detach turn it on for their own
    -- statements (Citus then creates or drops them on every shard) and put it back at the end.
    unsafe_triggers := current_setting('citus.enable_unsafe_triggers', true);
    IF unsafe_triggers IS NOT NULL THEN
        PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
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

    -- Which tables are attached on their own is the attachment contract's to say.
    EXECUTE format('SELECT coalesce(array_agg(a.relation::oid), ''{}'') FROM %I.deleted_record_attachments() a', ext_schema)
       INTO attached;

    -- A partition whose parent is attached carries a clone of the parent's archive trigger,
    -- which PostgreSQL does not let anyone drop on its own.
    SELECT a.relid::regclass INTO attached_through
      FROM pg_partition_ancestors(target) WITH ORDINALITY a(relid, depth)
     WHERE a.relid <> target AND a.relid::oid = ANY (attached)
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
        EXECUTE format('SELECT %I.deleted_record_manage_triggers($1, $2, NULL, NULL, false)', ext_schema)
          USING target, action;
        IF unsafe_triggers IS NOT NULL THEN
            PERFORM set_config('citus.enable_unsafe_triggers', unsafe_triggers, true);
        END IF;
        RETURN;
    END IF;

    -- What the call leaves out is kept (on_truncate, retention, column policies, the attachment
    -- id): deleted_record_manage_attach reads the table's contract, the C++ core merges the call
    -- into it (src/core/attachment_plan.hpp, MergeAttachCall) and the triggers follow.
    EXECUTE format('SELECT %I.deleted_record_manage_attach($1, $2, $3, $4, $5)', ext_schema)
      USING target, policy, retention, exclude_columns, mask_columns;
    IF unsafe_triggers IS NOT NULL THEN
        PERFORM set_config('citus.enable_unsafe_triggers', unsafe_triggers, true);
    END IF;
END
$$;
COMMENT ON FUNCTION deleted_record_manage(regclass, text, text, interval, text[], text[]) IS 'Internal: the work of deleted_record_attach and deleted_record_detach';
