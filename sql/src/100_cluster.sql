-- On Citus (README, "Citus"): each node archives the rows deleted from the shards it holds into
-- its own archive, under the logical table's names. The functions below read, restore and
-- purge that archive from any node through Citus's run_command_on_all_nodes. They run as the
-- caller, who needs the same privileges on every node's archive. Each node's part runs in its
-- own transaction, over its own connection, committed on its own: this node's included.

-- deleted_record_cluster returns the archive rows of every node with the node they are on
-- (pg_dist_node.nodeid), filtered on each node: by table name, object id, deletion time, or the
-- deleting distributed transaction (xact_key). Without Citus it returns this server's archive
-- with node_id NULL.
CREATE FUNCTION deleted_record_cluster(for_table text DEFAULT NULL, for_object text DEFAULT NULL,
                                       since timestamptz DEFAULT NULL, for_xact_key text DEFAULT NULL)
    RETURNS TABLE (node_id integer, id uuid, data jsonb, deleted_at timestamptz, object_id text, table_name text,
                   schema_name text, partition_name text, actor text, reason text, metadata jsonb, xact_id bigint,
                   session_user_name text, current_user_name text, updated_at timestamptz, restored_at timestamptz,
                   restored_by text, excluded_columns text[], masked_columns text[], xact_key text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    archive_columns constant text := 'r.id, r.data, r.deleted_at, r.object_id, r.table_name, r.schema_name, r.partition_name, '
        'r.actor, r.reason, r.metadata, r.xact_id, r.session_user_name, r.current_user_name, r.updated_at, '
        'r.restored_at, r.restored_by, r.excluded_columns, r.masked_columns, r.xact_key';
    filter text;
    node record;
BEGIN
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    -- Literals every node reads the same way (the time as epoch seconds, whatever DateStyle).
    filter := format('(%1$L::text IS NULL OR r.table_name = %1$L) AND (%2$L::text IS NULL OR r.object_id = %2$L)'
                     ' AND (%3$L::numeric IS NULL OR (r.deleted_at >= pg_catalog.to_timestamp(%3$L::double precision)'
                     ' AND r.id >= %5$I.deleted_record_uuid7_floor(pg_catalog.to_timestamp(%3$L::double precision))))'
                     ' AND (%4$L::text IS NULL OR r.xact_key = %4$L)',
                     for_table, for_object, extract(epoch FROM since), for_xact_key, ext_schema);
    IF to_regclass('pg_catalog.pg_dist_node') IS NULL THEN
        RETURN QUERY EXECUTE format('SELECT NULL::integer, %s FROM %I.deleted_record r WHERE %s', archive_columns, ext_schema, filter);
        RETURN;
    END IF;
    FOR node IN EXECUTE 'SELECT nodeid, success, result FROM pg_catalog.run_command_on_all_nodes($1) ORDER BY nodeid'
                  USING format('SELECT coalesce(pg_catalog.json_agg(r), ''[]'') FROM (SELECT %s FROM %I.deleted_record r WHERE %s) r',
                               archive_columns, ext_schema, filter) LOOP
        IF NOT node.success THEN
            RAISE EXCEPTION 'deleted_record_cluster: cannot read the archive on node %: %', node.nodeid, node.result;
        END IF;
        RETURN QUERY EXECUTE format('SELECT $1, %s FROM pg_catalog.json_populate_recordset(NULL::%I.deleted_record, $2::json) r',
                                    archive_columns, ext_schema)
                     USING node.nodeid, node.result;
    END LOOP;
END
$$;
COMMENT ON FUNCTION deleted_record_cluster(text, text, timestamptz, text) IS 'The archive of every node of a Citus cluster, with the node each row is on (this server''s archive without Citus)';
