-- deleted_record_manage does the work of deleted_record_attach and deleted_record_detach.
-- It finds this extension's functions through pg_extension (never through search_path),
-- recognises archive triggers by their function whatever their name, locks the table before
-- it looks at its triggers, and refuses anything but an ordinary or partitioned table owned by
-- the current user.
CREATE FUNCTION deleted_record_manage(target regclass, action text, on_truncate text, retention interval,
                                      exclude_columns text[], mask_columns text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET intervalstyle = postgres
    AS $$
DECLARE
    ext_schema name;
    insert_fn regprocedure;
    guard_fn regprocedure;
    archive regclass;
    policy text;
    options text;
    contract record;
    attachment uuid;
    rel record;
    found_trigger record;
    attached_through regclass;
    attached oid[];
    attached_query text;
    dropped int := 0;
    member record;
    unsafe_triggers text;
    logical regclass;
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
    attached_query := format('SELECT coalesce(array_agg(a.relation::oid), ''{}'') FROM %I.deleted_record_attachments() a', ext_schema);
    EXECUTE attached_query INTO attached;

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
        FOR found_trigger IN SELECT t.tgname FROM pg_trigger t
                              WHERE t.tgrelid = target AND t.tgfoid = insert_fn AND t.tgparentid = 0 LOOP
            EXECUTE format('DROP TRIGGER %I ON %s', found_trigger.tgname, target);
            dropped := dropped + 1;
        END LOOP;
        -- TRUNCATE guards live on the table and on each of its partitions (but a partition
        -- attached on its own keeps its own).
        EXECUTE attached_query INTO attached;
        FOR member IN SELECT t.tgrelid::regclass AS relation, t.tgname FROM pg_trigger t
                       WHERE t.tgfoid = guard_fn
                         AND t.tgrelid IN (SELECT relid FROM pg_partition_tree(target) UNION SELECT target)
                         AND NOT t.tgrelid = ANY (attached) LOOP
            EXECUTE format('DROP TRIGGER %I ON %s', member.tgname, member.relation);
            dropped := dropped + 1;
        END LOOP;
        IF dropped = 0 THEN
            RAISE NOTICE 'deleted_record_detach: % is not attached, nothing to do', target;
        END IF;
        IF unsafe_triggers IS NOT NULL THEN
            PERFORM set_config('citus.enable_unsafe_triggers', unsafe_triggers, true);
        END IF;
        RETURN;
    END IF;

    -- The table's contract as it stands (attachment_contract.cpp decides it). What the call
    -- leaves out is kept: on_truncate, retention (retention => '0' clears it: kept forever) and
    -- column policies, whose omission is an error so that privacy settings change only when the
    -- call says so ('{}' clears them). The attachment id stays the table's identity.
    EXECUTE format('SELECT a.* FROM %I.deleted_record_attachments() a WHERE a.relation = $1', ext_schema)
       INTO contract USING target;
    IF exclude_columns IS NULL AND contract.exclude_columns IS NOT NULL THEN
        RAISE EXCEPTION 'deleted_record_attach: % keeps columns % out of the archive', target, contract.exclude_columns
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Pass exclude_columns => %L to keep that, or ''{}'' to archive them again.', contract.exclude_columns);
    END IF;
    IF mask_columns IS NULL AND contract.mask_columns IS NOT NULL THEN
        RAISE EXCEPTION 'deleted_record_attach: % masks columns %', target, contract.mask_columns
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Pass mask_columns => %L to keep that, or ''{}'' to archive them in clear again.', contract.mask_columns);
    END IF;
    IF policy IS NULL THEN
        EXECUTE format('SELECT %I.deleted_record_truncate_guard_policy($1)', ext_schema) INTO policy USING target;
        policy := coalesce(policy, 'archive');
    END IF;
    IF retention IS NULL THEN
        retention := contract.retention;
    ELSIF retention = interval '0' THEN
        retention := NULL;
    END IF;
    attachment := coalesce(contract.attachment_id, gen_random_uuid());
    EXECUTE format('SELECT %I.deleted_record_attachment_options($1, $2, $3, $4, $5)', ext_schema)
       INTO options USING target, attachment, retention, exclude_columns, mask_columns;

    -- The table may already have an archive trigger under any name (created by hand, say).
    -- A disabled one is enabled; one with a WHEN condition archives only some rows, so ours is
    -- added and the conditional one then leaves the archiving to it.
    SELECT t.oid, t.tgname, t.tgfoid, t.tgenabled, t.tgqual IS NOT NULL AS conditional
      INTO found_trigger
      FROM pg_trigger t
     WHERE t.tgrelid = target AND t.tgparentid = 0
       AND (t.tgfoid = insert_fn OR t.tgname = 'deleted_record_insert')
     ORDER BY (t.tgfoid = insert_fn AND t.tgqual IS NULL) DESC, (t.tgname = 'deleted_record_insert') DESC, t.tgname
     LIMIT 1;
    IF found_trigger.tgname IS NOT NULL AND found_trigger.tgfoid <> insert_fn THEN
        RAISE EXCEPTION 'deleted_record_attach: % already has a trigger named deleted_record_insert that calls %',
                        target, found_trigger.tgfoid::regprocedure
            USING ERRCODE = 'duplicate_object';
    END IF;
    IF found_trigger.tgname IS NOT NULL AND NOT found_trigger.conditional
       AND contract.attachment_id IS NOT NULL
       AND contract.retention IS NOT DISTINCT FROM retention
       AND coalesce(contract.exclude_columns, '{}') = coalesce(nullif(exclude_columns, '{}'), '{}')
       AND coalesce(contract.mask_columns, '{}') = coalesce(nullif(mask_columns, '{}'), '{}') THEN
        IF found_trigger.tgenabled = 'D' THEN
            EXECUTE format('ALTER TABLE %s ENABLE TRIGGER %I', target, found_trigger.tgname);
        END IF;
    ELSE
        IF found_trigger.tgname IS NOT NULL AND NOT found_trigger.conditional THEN
            EXECUTE format('DROP TRIGGER %I ON %s', found_trigger.tgname, target);
        END IF;
        -- On a partitioned table PostgreSQL clones this row trigger to every partition, present and future.
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s FOR EACH ROW EXECUTE FUNCTION %I.deleted_record_insert(%s)',
                       CASE WHEN found_trigger.conditional OR found_trigger.tgname IS NULL THEN 'deleted_record_insert' ELSE found_trigger.tgname END,
                       target, ext_schema, coalesce(quote_literal(options), ''));
    END IF;
    EXECUTE format('SELECT %I.deleted_record_prepare_coming_partitions()', ext_schema);

    -- Statement-level TRUNCATE triggers are not cloned to partitions, so the guard goes on the
    -- table and on each partition (foreign partitions cannot have one); it is recreated so that
    -- a second attach can change the policy.
    EXECUTE attached_query INTO attached;
    FOR member IN SELECT t.relid::regclass AS relation FROM pg_partition_tree(target) t
                    JOIN pg_class c ON c.oid = t.relid
                   WHERE c.relkind IN ('r', 'p')
                     AND (t.relid = target OR NOT t.relid::oid = ANY (attached))
                  UNION SELECT target LOOP
        FOR found_trigger IN SELECT g.tgname FROM pg_trigger g
                              WHERE g.tgrelid = member.relation AND (g.tgfoid = guard_fn OR g.tgname = 'deleted_record_truncate_guard') LOOP
            EXECUTE format('DROP TRIGGER %I ON %s', found_trigger.tgname, member.relation);
        END LOOP;
        EXECUTE format('CREATE TRIGGER deleted_record_truncate_guard BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I.deleted_record_truncate_guard(%L)',
                       member.relation, ext_schema, policy);
    END LOOP;
    IF unsafe_triggers IS NOT NULL THEN
        PERFORM set_config('citus.enable_unsafe_triggers', unsafe_triggers, true);
    END IF;
END
$$;
COMMENT ON FUNCTION deleted_record_manage(regclass, text, text, interval, text[], text[]) IS 'Internal: the work of deleted_record_attach and deleted_record_detach';
