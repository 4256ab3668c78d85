-- deleted_record_cluster_run is the one node loop of the cluster-wide functions (100..106): it
-- runs commands on Citus nodes through master_run_on_worker, as the caller, over connections of
-- their own (each node's part commits on its own), and returns each node's result text.
--   commands   one command for every node, or one per node of node_ids (same order)
--   node_ids   the nodes (pg_dist_node.nodeid; 0 = this server when it is not in the metadata);
--              NULL: every node that may hold an archive: every primary node of this cluster,
--              disabled ones included (a disabled node keeps its archive: it is reached
--              directly, and a call fails naming it when it cannot be reached), and this server
--              when it is not in the metadata
--   failure    DETAIL of the error raised when a node cannot be reached or its command fails
-- Nodes are run in parallel; the error names the node, its address and whether it is disabled.
-- Anyone may call it: it runs nothing master_run_on_worker would not run for the caller, with
-- the caller's rights. The caller (a function of the extension) builds commands that name every function, operator
-- and type with its schema: a node's session may have any search_path.
CREATE FUNCTION deleted_record_cluster_run(caller text, commands text[], node_ids integer[] DEFAULT NULL, failure text DEFAULT NULL)
    RETURNS TABLE (node_id integer, result text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    nodes record;
    ran_ok boolean[];
    ran_result text[];
    place text;
BEGIN
    WITH known AS (
        SELECT d.nodeid, d.nodename::text AS nodename, d.nodeport, d.isactive
          FROM pg_catalog.pg_dist_node d
         WHERE d.noderole OPERATOR(pg_catalog.=) 'primary'
           AND d.nodecluster OPERATOR(pg_catalog.=) pg_catalog.current_setting('citus.cluster_name')
        UNION ALL  -- this server when it is not in the metadata (run_command_on_all_nodes calls it node 0)
        SELECT 0, pg_catalog.current_setting('citus.local_hostname'), pg_catalog.current_setting('port')::integer, true
         WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_dist_node d JOIN pg_catalog.pg_dist_local_group g USING (groupid)
                            WHERE d.nodecluster OPERATOR(pg_catalog.=) pg_catalog.current_setting('citus.cluster_name'))),
    wanted AS (
        SELECT w.nodeid, w.ord FROM pg_catalog.unnest(node_ids) WITH ORDINALITY w(nodeid, ord)
        UNION ALL
        SELECT k.nodeid, NULL FROM known k WHERE node_ids IS NULL),
    picked AS (
        SELECT w.nodeid, k.nodename, k.nodeport, k.isactive,
               CASE WHEN pg_catalog.cardinality(commands) OPERATOR(pg_catalog.=) 1 THEN commands[1] ELSE commands[w.ord] END AS command
          FROM wanted w LEFT JOIN known k USING (nodeid))
    SELECT pg_catalog.array_agg(p.nodeid ORDER BY p.nodeid) AS ids, pg_catalog.array_agg(p.nodename ORDER BY p.nodeid) AS names,
           pg_catalog.array_agg(p.nodeport ORDER BY p.nodeid) AS ports, pg_catalog.array_agg(p.command ORDER BY p.nodeid) AS commands,
           pg_catalog.array_agg(p.isactive ORDER BY p.nodeid) AS active,
           pg_catalog.array_agg(p.nodeid) FILTER (WHERE p.nodename IS NULL) AS unknown
      INTO nodes FROM picked p;
    IF nodes.unknown IS NOT NULL THEN
        RAISE EXCEPTION '%: no such node in the Citus metadata: %', caller, pg_catalog.array_to_string(nodes.unknown, ', ')
            USING DETAIL = failure;
    END IF;
    IF nodes.ids IS NULL THEN
        RETURN;
    END IF;
    IF pg_catalog.array_position(nodes.commands, NULL) IS NOT NULL THEN
        RAISE EXCEPTION '%: no command for a node', caller;
    END IF;
    -- Every node at once; then the first failure in node order, if any, stops the call.
    SELECT pg_catalog.array_agg(m.success ORDER BY n.ord), pg_catalog.array_agg(m.result ORDER BY n.ord)
      INTO ran_ok, ran_result
      FROM ROWS FROM (pg_catalog.unnest(nodes.names), pg_catalog.unnest(nodes.ports)) WITH ORDINALITY n(name, port, ord)
      LEFT JOIN (SELECT * FROM pg_catalog.master_run_on_worker(nodes.names, nodes.ports, nodes.commands,
                                                               pg_catalog.cardinality(nodes.ids) OPERATOR(pg_catalog.>) 1) OFFSET 0) m
             ON m.node_name OPERATOR(pg_catalog.=) n.name AND m.node_port OPERATOR(pg_catalog.=) n.port;
    FOR i IN 1 .. pg_catalog.cardinality(nodes.ids) LOOP
        IF ran_ok[i] IS NOT TRUE THEN
            place := pg_catalog.format('node %s (%s:%s%s)', nodes.ids[i], nodes.names[i], nodes.ports[i],
                                       CASE WHEN nodes.active[i] THEN '' ELSE ', disabled' END);
            IF nodes.active[i] THEN
                RAISE EXCEPTION '%: % failed: %', caller, place, coalesce(ran_result[i], 'no answer')
                    USING DETAIL = coalesce(failure, 'Nothing was changed.');
            END IF;
            RAISE EXCEPTION '%: % failed: %', caller, place, coalesce(ran_result[i], 'no answer')
                USING DETAIL = coalesce(failure, 'Nothing was changed.'),
                      HINT = 'A disabled node keeps its archive rows: bring it back (citus_activate_node), or remove it (citus_remove_node) if it is gone for good, its archive with it.';
        END IF;
        node_id := nodes.ids[i];
        result := ran_result[i];
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION deleted_record_cluster_run(text, text[], integer[], text) IS 'Internal: runs commands on Citus nodes for the cluster-wide functions, failing with the node named';
-- deleted_record_cluster_begin is how every cluster-wide function that needs Citus starts: it
-- fails, naming the caller and the function to use instead, when Citus is not installed, and
-- returns the query that runs the node loop above through the extension's schema (whatever the
-- caller's search_path): EXECUTE it INTO node ids and results (both arrays, in node order)
-- USING the four arguments of deleted_record_cluster_run.
CREATE FUNCTION deleted_record_cluster_begin(caller text, instead text)
    RETURNS text
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_node') IS NULL THEN
        RAISE EXCEPTION '% needs Citus', caller
            USING ERRCODE = 'feature_not_supported', HINT = pg_catalog.format('Use %s.', instead);
    END IF;
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    RETURN pg_catalog.format('SELECT pg_catalog.array_agg(c.node_id ORDER BY c.node_id), pg_catalog.array_agg(c.result ORDER BY c.node_id)'
                             ' FROM %I.deleted_record_cluster_run($1, $2, $3, $4) c', ext_schema);
END
$$;
COMMENT ON FUNCTION deleted_record_cluster_begin(text, text) IS 'Internal: fails without Citus; returns the query that runs the node loop for the cluster-wide functions';
-- deleted_record_cluster_may asks every node, disabled ones included (their archive is theirs),
-- before a cluster-wide function changes anything: check is a query every node runs that answers
-- true when the caller may act there. A node that answers otherwise stops the call: "nothing was
-- <verb>d: the caller may not <verb> on <nodes> (permission denied)" with hint; a node that cannot
-- be reached stops it too, named (deleted_record_cluster_run). Returns the ids of the nodes asked,
-- in node order.
CREATE FUNCTION deleted_record_cluster_may(caller text, verb text, run_sql text, check_sql text, hint text)
    RETURNS integer[]
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ran_nodes integer[];
    ran_results text[];
    refused text;
BEGIN
    EXECUTE run_sql INTO ran_nodes, ran_results
      USING caller, ARRAY[check_sql], NULL::integer[], pg_catalog.format('Nothing was %sd.', verb);
    -- (unnest of two arrays is syntax: it cannot name pg_catalog; the search_path is pinned)
    SELECT pg_catalog.string_agg(pg_catalog.format('node %s', u.n), ', ' ORDER BY u.n) INTO refused
      FROM unnest(ran_nodes, ran_results) u(n, r) WHERE u.r IS DISTINCT FROM 't';
    IF refused IS NOT NULL THEN
        RAISE EXCEPTION '%: nothing was %d: the caller may not % on % (permission denied)', caller, verb, verb, refused
            USING ERRCODE = 'insufficient_privilege', HINT = hint;
    END IF;
    RETURN ran_nodes;
END
$$;
COMMENT ON FUNCTION deleted_record_cluster_may(text, text, text, text, text) IS 'Internal: fails unless the caller may act on every Citus node; returns the nodes asked';
