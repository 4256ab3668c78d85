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
    run_sql text;
    ran_nodes integer[];
    ran_results text[];
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    -- Fails without Citus; run_sql runs the node loop (098) through the extension's schema.
    EXECUTE format('SELECT %I.deleted_record_cluster_begin($1, $2)', ext_schema) INTO run_sql
      USING 'deleted_record_cluster_purge'::text, 'CALL deleted_record_purge()'::text;
    -- Every node first, disabled ones included (their archive is theirs): may the caller purge
    -- there? (Citus does not propagate these grants.) A node that cannot be reached stops the
    -- call here, named.
    EXECUTE format('SELECT %I.deleted_record_cluster_may($1, $2, $3, $4, $5)', ext_schema) INTO nodes
      USING 'deleted_record_cluster_purge'::text, 'purge'::text, run_sql, format(
                'SELECT pg_catalog.has_function_privilege(%1$L, ''EXECUTE'') AND pg_catalog.has_function_privilege(%2$L, ''EXECUTE'')',
                format('%I.deleted_record_purge(pg_catalog.interval, pg_catalog.int4, pg_catalog.int8)', ext_schema),
                format('%I.deleted_record_purge_step(pg_catalog.interval, pg_catalog.int4, pg_catalog.regclass[])', ext_schema)),
            format('On each of those nodes: GRANT EXECUTE ON PROCEDURE %1$I.deleted_record_purge(interval, integer, bigint) TO <role>; GRANT EXECUTE ON FUNCTION %1$I.deleted_record_purge_step(interval, integer, regclass[]) TO <role>; (run_command_on_all_nodes can.)', ext_schema);
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
