-- deleted_record_cluster_purge runs deleted_record_purge on every node (which also prepares each
-- node's archive partitions) and returns how many rows each removed. Before anything is purged
-- every node is asked whether the caller may purge there: a node that refuses, or cannot be
-- reached, stops the call with nothing purged anywhere.
CREATE FUNCTION deleted_record_cluster_purge(older_than interval DEFAULT NULL, batch_size integer DEFAULT 10000)
    RETURNS TABLE (node_id integer, removed bigint)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET intervalstyle = postgres
    AS $$
DECLARE
    ext_schema name;
    node record;
    refused text;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_node') IS NULL THEN
        RAISE EXCEPTION 'deleted_record_cluster_purge needs Citus'
            USING ERRCODE = 'feature_not_supported', HINT = 'Use CALL deleted_record_purge().';
    END IF;
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    -- Every node first: may the caller purge there? (Citus does not propagate these grants.)
    SELECT string_agg(format('node %s (%s)', c.nodeid, CASE WHEN c.success THEN 'permission denied' ELSE c.result END), ', ' ORDER BY c.nodeid)
      INTO refused
      FROM pg_catalog.run_command_on_all_nodes(format(
               'SELECT pg_catalog.has_function_privilege(%1$L, ''EXECUTE'') AND pg_catalog.has_function_privilege(%2$L, ''EXECUTE'')',
               format('%I.deleted_record_purge(interval, integer, bigint)', ext_schema),
               format('%I.deleted_record_purge_step(interval, integer, regclass[])', ext_schema))) c
     WHERE NOT c.success OR c.result <> 't';
    IF refused IS NOT NULL THEN
        RAISE EXCEPTION 'deleted_record_cluster_purge: nothing was purged: the caller may not purge on %', refused
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('On each of those nodes: GRANT EXECUTE ON PROCEDURE %1$I.deleted_record_purge(interval, integer, bigint) TO <role>; GRANT EXECUTE ON FUNCTION %1$I.deleted_record_purge_step(interval, integer, regclass[]) TO <role>; (run_command_on_all_nodes can.)', ext_schema);
    END IF;
    FOR node IN EXECUTE 'SELECT nodeid, success, result FROM pg_catalog.run_command_on_all_nodes($1) ORDER BY nodeid'
                  USING format('CALL %I.deleted_record_purge(%L::interval, %s)', ext_schema, older_than, coalesce(batch_size::text, 'NULL')) LOOP
        IF NOT node.success THEN
            RAISE EXCEPTION 'deleted_record_cluster_purge: purging on node % failed: %', node.nodeid, node.result;
        END IF;
        node_id := node.nodeid;
        removed := node.result::bigint;
        RETURN NEXT;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION deleted_record_cluster_purge(interval, integer) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_cluster_purge(interval, integer) IS 'Citus: runs deleted_record_purge on every node';
