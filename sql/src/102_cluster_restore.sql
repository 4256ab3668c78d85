-- deleted_record_cluster_restore restores archived rows wherever they are archived: on each
-- node that holds some of them, in node order, deleted_record_restore runs there (all or
-- nothing on that node; Citus routes the inserts to the shards). Nodes are not one transaction:
-- an error stops at that node, and earlier nodes' rows stay restored (and marked so).
CREATE FUNCTION deleted_record_cluster_restore(archive_ids uuid[], on_conflict text DEFAULT 'error', dry_run boolean DEFAULT false,
                                               masked text DEFAULT 'error')
    RETURNS TABLE (node_id integer, archive_id uuid, target text, object_id text, outcome text, detail text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    holder record;
    node record;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_node') IS NULL THEN
        RAISE EXCEPTION 'deleted_record_cluster_restore needs Citus'
            USING ERRCODE = 'feature_not_supported', HINT = 'Use deleted_record_restore.';
    END IF;
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    FOR holder IN EXECUTE format('SELECT c.node_id, pg_catalog.array_agg(c.id) AS ids FROM %I.deleted_record_cluster() c'
                                 ' WHERE c.id = ANY ($1) GROUP BY c.node_id ORDER BY c.node_id', ext_schema)
                  USING archive_ids LOOP
        FOR node IN EXECUTE 'SELECT nodeid, success, result FROM pg_catalog.run_command_on_all_nodes($1) WHERE nodeid = $2'
                      USING format('SELECT coalesce(pg_catalog.json_agg(r), ''[]'') FROM %I.deleted_record_restore(%L::uuid[], %L, %L, %L) r'
                                   ' WHERE (SELECT n.nodeid FROM pg_catalog.pg_dist_node n JOIN pg_catalog.pg_dist_local_group g ON g.groupid = n.groupid'
                                   ' WHERE n.noderole = ''primary'') = %s',
                                   ext_schema, holder.ids, on_conflict, dry_run, masked, holder.node_id),
                            holder.node_id LOOP
            IF NOT node.success THEN
                RAISE EXCEPTION 'deleted_record_cluster_restore: restoring on node % failed: %', node.nodeid, node.result
                    USING DETAIL = 'Rows of nodes listed before it are restored; nothing of this node''s and later ones'' is.';
            END IF;
            RETURN QUERY SELECT node.nodeid, r.archive_id, r.target, r.object_id, r.outcome, r.detail
                           FROM json_to_recordset(node.result::json)
                                AS r(archive_id uuid, target text, object_id text, outcome text, detail text);
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION deleted_record_cluster_restore(uuid[], text, boolean, text) IS 'Citus: restores archived rows on the nodes that hold them (each node all or nothing, nodes one after the other); masked: error or null';
