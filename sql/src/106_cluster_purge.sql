-- deleted_record_cluster_purge runs deleted_record_purge on every node (which also prepares each
-- node's archive partitions) and returns how many rows each removed.
CREATE FUNCTION deleted_record_cluster_purge(older_than interval DEFAULT NULL, batch_size integer DEFAULT 10000)
    RETURNS TABLE (node_id integer, removed bigint)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET intervalstyle = postgres
    AS $$
DECLARE
    ext_schema name;
    node record;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_node') IS NULL THEN
        RAISE EXCEPTION 'deleted_record_cluster_purge needs Citus'
            USING ERRCODE = 'feature_not_supported', HINT = 'Use CALL deleted_record_purge().';
    END IF;
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
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
