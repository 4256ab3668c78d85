-- deleted_record_cluster_erase erases archive rows wherever they are archived: on each node,
-- deleted_record_erase of the given ids it holds (tombstones stay on that node). Returns how
-- many rows each node erased. Nodes are not one transaction, as above. The command each node
-- runs names its operator and types with pg_catalog, whatever search_path the node's session has.
CREATE FUNCTION deleted_record_cluster_erase(archive_ids uuid[], reason text)
    RETURNS TABLE (node_id integer, erased bigint)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    node record;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_node') IS NULL THEN
        RAISE EXCEPTION 'deleted_record_cluster_erase needs Citus'
            USING ERRCODE = 'feature_not_supported', HINT = 'Use deleted_record_erase.';
    END IF;
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    FOR node IN EXECUTE 'SELECT nodeid, success, result FROM pg_catalog.run_command_on_all_nodes($1) ORDER BY nodeid'
                  USING format('SELECT %1$I.deleted_record_erase(ARRAY(SELECT r.id FROM %1$I.deleted_record r WHERE r.id OPERATOR(pg_catalog.=) ANY (CAST(%2$L AS pg_catalog.uuid[]))), CAST(%3$L AS pg_catalog.text))',
                               ext_schema, archive_ids, reason) LOOP
        IF NOT node.success THEN
            RAISE EXCEPTION 'deleted_record_cluster_erase: erasing on node % failed: %', node.nodeid, node.result;
        END IF;
        node_id := node.nodeid;
        erased := node.result::bigint;
        RETURN NEXT;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION deleted_record_cluster_erase(uuid[], text) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_cluster_erase(uuid[], text) IS 'Citus: erases archive rows on every node that holds them, keeping tombstones there';
