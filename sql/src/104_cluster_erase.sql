-- deleted_record_cluster_erase erases archive rows wherever they are archived: on each node,
-- deleted_record_erase of the given ids it holds (tombstones stay on that node). Returns how
-- many rows each node erased. Nodes are not one transaction, so before anything is erased every
-- node is asked whether the caller may erase there (EXECUTE on deleted_record_erase, SELECT on
-- the archive: Citus propagates neither GRANT): a node that refuses, or cannot be reached (a
-- disabled node is asked too: it keeps its archive), stops
-- the call with nothing erased anywhere. Each node then receives only the ids it holds. The
-- commands each node runs name operators and types with pg_catalog, whatever search_path the
-- node's session has.
CREATE FUNCTION deleted_record_cluster_erase(archive_ids uuid[], reason text)
    RETURNS TABLE (node_id integer, erased bigint)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    run_sql text;
    ran_nodes integer[];
    ran_results text[];
    holder_nodes integer[] := '{}';
    holder_ids text[] := '{}';
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    -- Fails without Citus; run_sql runs the node loop (098) through the extension's schema.
    EXECUTE format('SELECT %I.deleted_record_cluster_begin($1, $2)', ext_schema) INTO run_sql
      USING 'deleted_record_cluster_erase'::text, 'deleted_record_erase'::text;
    IF archive_ids IS NULL OR reason IS NULL OR reason = '' THEN
        RAISE EXCEPTION 'deleted_record_cluster_erase: archive_ids and a reason are required'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- Every node first, disabled ones included (their archive is theirs): may the caller erase
    -- there? A node that cannot be reached stops the call here, named.
    EXECUTE format('SELECT %I.deleted_record_cluster_may($1, $2, $3, $4, $5)', ext_schema)
      USING 'deleted_record_cluster_erase'::text, 'erase'::text, run_sql, format(
                'SELECT pg_catalog.has_function_privilege(%1$L, ''EXECUTE'') AND pg_catalog.has_table_privilege(%2$L, ''SELECT'')',
                format('%I.deleted_record_erase(pg_catalog.uuid[], pg_catalog.text)', ext_schema), format('%I.deleted_record', ext_schema)),
            format('On each of those nodes: GRANT EXECUTE ON FUNCTION %1$I.deleted_record_erase(uuid[], text) TO <role>; GRANT SELECT ON %1$I.deleted_record TO <role>; (Citus does not propagate these grants: run_command_on_all_nodes can.)', ext_schema);
    -- Which of the ids each node holds (an indexed probe, every node at once).
    EXECUTE run_sql INTO ran_nodes, ran_results
      USING 'deleted_record_cluster_erase'::text, ARRAY[format(
                'SELECT pg_catalog.array_agg(r.id) FROM %I.deleted_record r WHERE r.id OPERATOR(pg_catalog.=) ANY (CAST(%L AS pg_catalog.uuid[]))',
                ext_schema, archive_ids)], NULL::integer[], 'Nothing was erased.'::text;
    SELECT array_agg(u.n ORDER BY u.n), array_agg(u.r ORDER BY u.n) INTO holder_nodes, holder_ids
      FROM unnest(ran_nodes, ran_results) u(n, r) WHERE u.r IS NOT NULL AND u.r <> '';
    -- Then each holder erases the ids it holds, and only those, one node after the other.
    FOR i IN 1 .. coalesce(array_length(holder_nodes, 1), 0) LOOP
        node_id := holder_nodes[i];
        EXECUTE run_sql INTO ran_nodes, ran_results
          USING 'deleted_record_cluster_erase: erasing'::text,
                ARRAY[format('SELECT %I.deleted_record_erase(CAST(%L AS pg_catalog.uuid[]), CAST(%L AS pg_catalog.text))',
                             ext_schema, holder_ids[i], reason)], ARRAY[holder_nodes[i]],
                CASE WHEN i = 1 THEN 'Nothing was erased.'
                     ELSE format('Rows on nodes %s were erased (committed there); nothing on this and later nodes.',
                                 array_to_string(holder_nodes[1:i - 1], ', ')) END;
        erased := ran_results[1]::bigint;
        RETURN NEXT;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION deleted_record_cluster_erase(uuid[], text) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_cluster_erase(uuid[], text) IS 'Citus: erases archive rows on the nodes that hold them, after checking the caller may erase on every node, keeping tombstones there';
