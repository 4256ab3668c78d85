-- deleted_record_cluster_purge runs deleted_record_purge on every node (which also prepares each
-- node's archive partitions) and returns how many rows each removed. Before anything is purged
-- every node is asked whether the caller may purge there: a node that refuses, or cannot be
-- reached, stops the call with nothing purged anywhere (a disabled node is asked and purged
-- too: it keeps its archive). Nodes then purge one after the other; an error names the nodes
-- that purged (and committed) before it.
CREATE FUNCTION deleted_record_cluster_purge(older_than interval DEFAULT NULL, batch_size integer DEFAULT 10000)
    RETURNS TABLE (node_id integer, removed bigint)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET intervalstyle = postgres
    AS $$
DECLARE
    ext_schema name;
    nodes integer[];
    refused text;
    run_sql text;
    ran_nodes integer[];
    ran_results text[];
BEGIN
    IF to_regclass('pg_catalog.pg_dist_node') IS NULL THEN
        RAISE EXCEPTION 'deleted_record_cluster_purge needs Citus'
            USING ERRCODE = 'feature_not_supported', HINT = 'Use CALL deleted_record_purge().';
    END IF;
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    -- Every node first, disabled ones included (their archive is theirs): may the caller purge
    -- there? (Citus does not propagate these grants.) A node that cannot be reached stops the
    -- call here, named.
    -- The node loop (098): called through the extension's schema, whatever the caller's search_path.
    run_sql := format('SELECT pg_catalog.array_agg(c.node_id ORDER BY c.node_id), pg_catalog.array_agg(c.result ORDER BY c.node_id)'
                      ' FROM %I.deleted_record_cluster_run($1, $2, $3, $4) c', ext_schema);
    EXECUTE run_sql INTO nodes, ran_results
      USING 'deleted_record_cluster_purge'::text, ARRAY[format(
                'SELECT pg_catalog.has_function_privilege(%1$L, ''EXECUTE'') AND pg_catalog.has_function_privilege(%2$L, ''EXECUTE'')',
                format('%I.deleted_record_purge(pg_catalog.interval, pg_catalog.int4, pg_catalog.int8)', ext_schema),
                format('%I.deleted_record_purge_step(pg_catalog.interval, pg_catalog.int4, pg_catalog.regclass[])', ext_schema))],
            NULL::integer[], 'Nothing was purged.'::text;
    SELECT string_agg(format('node %s', u.n), ', ' ORDER BY u.n) INTO refused
      FROM unnest(nodes, ran_results) u(n, r) WHERE u.r IS DISTINCT FROM 't';
    IF refused IS NOT NULL THEN
        RAISE EXCEPTION 'deleted_record_cluster_purge: nothing was purged: the caller may not purge on % (permission denied)', refused
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('On each of those nodes: GRANT EXECUTE ON PROCEDURE %1$I.deleted_record_purge(interval, integer, bigint) TO <role>; GRANT EXECUTE ON FUNCTION %1$I.deleted_record_purge_step(interval, integer, regclass[]) TO <role>; (run_command_on_all_nodes can.)', ext_schema);
    END IF;
    -- Then node after node, so that an error can say which nodes purged (and committed) before.
    FOR i IN 1 .. coalesce(cardinality(nodes), 0) LOOP
        node_id := nodes[i];
        EXECUTE run_sql INTO ran_nodes, ran_results
          USING 'deleted_record_cluster_purge: purging'::text,
                ARRAY[format('CALL %I.deleted_record_purge(CAST(%L AS pg_catalog.interval), CAST(%L AS pg_catalog.int4))', ext_schema, older_than, batch_size)],
                ARRAY[nodes[i]],
                CASE WHEN i = 1 THEN 'Nothing was purged.'
                     ELSE format('Nodes %s purged (committed there); nothing on this and later nodes.', array_to_string(nodes[1:i - 1], ', ')) END;
        removed := ran_results[1]::bigint;
        RETURN NEXT;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION deleted_record_cluster_purge(interval, integer) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_cluster_purge(interval, integer) IS 'Citus: runs deleted_record_purge on every node';
