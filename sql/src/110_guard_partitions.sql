-- deleted_record_guard_partitions keeps TRUNCATE guards in step with partition trees, however
-- partitions are created (also inside CREATE SCHEMA), attached or detached: every archived
-- ordinary or partitioned member of a touched tree gets the policy of its nearest attached
-- ancestor (the attachment contract, deleted_record_attachments(); 'archive' for a table whose
-- archive trigger was made by hand with CREATE TRIGGER, which this adopts, except while
-- check_function_bodies is off as in pg_dump's scripts, which bring their own); guards on tables
-- whose deletes are no longer archived go (for tables the current
-- user owns; a guard left elsewhere sees at TRUNCATE time that it is stale and does nothing).
-- Foreign partitions get no guard (PostgreSQL allows none on them). Citus shards are left alone:
-- Citus copies the table's triggers onto them itself, over several connections at once (a split
-- or move creates sibling shards in parallel), so touching a sibling from here would deadlock.
-- Which relations are shards (or old shard copies left for deferred drop, or a split's shards
-- before Citus records them) deleted_record_shard_of decides from Citus's metadata only
-- (pg_dist_shard, pg_dist_placement, pg_dist_cleanup), never from names or trigger arguments. DDL that Citus replays on a node over its own
-- connections (shells, shards, their triggers) is left as Citus sends it: the node that ran the
-- user's DDL has decided the guards, and Citus propagates them.
CREATE FUNCTION deleted_record_guard_partitions() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    guard_fn regprocedure;
    attached oid[];
    roots oid[];
    citus boolean;
    member record;
    desired text;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_event_trigger_ddl_commands() WHERE NOT in_extension) THEN
        RETURN;
    END IF;
    citus := EXISTS (SELECT FROM pg_extension WHERE extname = 'citus');
    -- Citus replaying DDL over its own connections, or rebuilding a table in this session
    -- (undistribute_table, alter_distributed_table, citus_schema_(un)distribute: marked by the
    -- preloaded library for the call, in a superuser-only setting no session can set itself)
    -- copies the table's triggers, guards included, itself.
    IF citus AND (current_setting('application_name') LIKE 'citus\_internal%'
                  OR coalesce(current_setting('deleted_record_citus.converting', true), '') = 'on') THEN
        RETURN;
    END IF;
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    EXECUTE format('SELECT array_agg(a.relation::oid) FROM %I.deleted_record_attachments() a', ext_schema) INTO attached;
    attached := coalesce(attached, '{}');
    guard_fn := format('%I.deleted_record_truncate_guard()', ext_schema)::regprocedure;

    FOR member IN EXECUTE format($q$
                   SELECT g.tgrelid::regclass AS relation, g.tgname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
                   WHERE g.tgfoid = $1 AND (g.tgtype::int & 32) <> 0
                     AND NOT g.tgrelid = ANY ($2)
                     AND NOT EXISTS (SELECT FROM pg_partition_ancestors(g.tgrelid) a WHERE a.relid::oid = ANY ($2))
                     AND NOT ($3 AND %1$I.deleted_record_shard_of(g.tgrelid) IS NOT NULL)
                     AND pg_has_role(current_user, c.relowner, 'MEMBER')$q$, ext_schema) USING guard_fn, attached, citus LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', member.tgname, member.relation);
    END LOOP;

    SELECT array_agg(DISTINCT coalesce(
               (SELECT a.relid FROM pg_partition_ancestors(touched.relid) a
                 WHERE NOT EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = a.relid)), touched.relid))
      INTO roots
      FROM (SELECT d.objid AS relid FROM pg_event_trigger_ddl_commands() d
             WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0 AND NOT d.in_extension
            UNION
            SELECT c.oid FROM pg_event_trigger_ddl_commands() d JOIN pg_class c ON c.relnamespace = d.objid
             WHERE d.object_type = 'schema' AND NOT d.in_extension AND c.relkind IN ('r', 'p')
            UNION
            SELECT t.tgrelid FROM pg_event_trigger_ddl_commands() d JOIN pg_trigger t ON t.oid = d.objid
             WHERE d.classid = 'pg_trigger'::regclass AND NOT d.in_extension AND t.tgfoid <> guard_fn
               -- pg_dump's scripts turn check_function_bodies off: a restore brings its own guards.
               AND current_setting('check_function_bodies') <> 'off'
               -- Citus copying a table's triggers onto another relation: the archive trigger
               -- carries the table's attachment id, which no other table outside its partition
               -- tree may carry. Citus copies the guard too.
               AND NOT (citus AND EXISTS (
                   SELECT FROM pg_trigger o
                    WHERE o.tgfoid = t.tgfoid AND o.tgargs = t.tgargs AND o.tgrelid <> t.tgrelid
                      AND o.tgrelid NOT IN (SELECT p.relid FROM pg_partition_tree(t.tgrelid) p)
                      AND o.tgrelid NOT IN (SELECT p.relid FROM pg_partition_ancestors(t.tgrelid) p)))) touched
     WHERE EXISTS (SELECT FROM pg_class c WHERE c.oid = touched.relid AND c.relkind IN ('r', 'p', 'f'));
    IF roots IS NULL THEN
        RETURN;
    END IF;
    FOR member IN EXECUTE format($q$
        SELECT t.relid::regclass AS relation, c.relkind,
               (SELECT coalesce(%1$I.deleted_record_truncate_guard_policy(a.relid), 'archive')
                  FROM (SELECT t.relid::oid, 0::bigint
                        UNION ALL SELECT x.relid::oid, x.depth FROM pg_partition_ancestors(t.relid) WITH ORDINALITY x(relid, depth)) a(relid, depth)
                 WHERE a.relid = ANY ($2)
                 ORDER BY a.depth LIMIT 1) AS policy,
               (SELECT array_agg(g.tgname) FROM pg_trigger g WHERE g.tgrelid = t.relid AND g.tgfoid = $3
                   AND (g.tgtype::int & 32) <> 0) AS guards,
               %1$I.deleted_record_truncate_guard_policy(t.relid) AS guard_policy,
               $4 AND %1$I.deleted_record_shard_of(t.relid) IS NOT NULL AS shard_copy
          FROM unnest($1) r(root),
               LATERAL (SELECT r.root::regclass AS relid UNION SELECT p.relid FROM pg_partition_tree(r.root) p) t
          JOIN pg_class c ON c.oid = t.relid
         WHERE c.relkind IN ('r', 'p')$q$, ext_schema) USING roots, attached, guard_fn, citus
    LOOP
        CONTINUE WHEN member.shard_copy;
        desired := member.policy;
        CONTINUE WHEN desired IS NOT DISTINCT FROM member.guard_policy AND coalesce(array_length(member.guards, 1), 0) <= 1;
        IF member.guards IS NOT NULL THEN
            FOR i IN 1 .. array_length(member.guards, 1) LOOP
                EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', member.guards[i], member.relation);
            END LOOP;
        END IF;
        -- (A nested run of this trigger, for the guard created on another member, may have
        -- created this one meanwhile.)
        IF desired IS NOT NULL AND NOT EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = member.relation
                                                  AND g.tgname = 'deleted_record_truncate_guard') THEN
            EXECUTE format('CREATE TRIGGER deleted_record_truncate_guard BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I.deleted_record_truncate_guard(%L)',
                           member.relation, ext_schema, desired);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION deleted_record_guard_partitions() IS 'Event trigger: keeps TRUNCATE guards in step with partition trees';
CREATE EVENT TRIGGER deleted_record_guard_partitions ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'CREATE SCHEMA', 'CREATE FOREIGN TABLE', 'CREATE TRIGGER')
    EXECUTE FUNCTION deleted_record_guard_partitions();
COMMENT ON EVENT TRIGGER deleted_record_guard_partitions IS 'Keeps TRUNCATE guards in step with partition trees of attached tables';
