-- On Citus (README, "Citus"): each node archives the rows deleted from the shards it holds into
-- its own archive, under the logical table's names. The functions below read, restore and
-- purge that archive from any node through Citus's run_command_on_all_nodes. They run as the
-- caller, who needs the same privileges on every node's archive. Each node's part runs in its
-- own transaction, over its own connection, committed on its own: this node's included.

-- deleted_record_cluster returns the archive rows of every node with the node they are on
-- (pg_dist_node.nodeid), filtered on each node: by table name, object id, deletion time, or the
-- deleting distributed transaction (xact_key). Each node sends its rows in pages of at most
-- 10,000 (one bounded value each, however large its archive). Without Citus it returns this
-- server's archive with node_id NULL.
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
    page record;
    after uuid;
    page_size constant integer := 10000;
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
    -- The nodes run_command_on_all_nodes reaches (this node too when it is not in the metadata,
    -- as node 0). Each node returns its rows in pages of at most page_size rows, in id order, each
    -- filtered there: no node's whole archive travels as one value.
    FOR node IN
        SELECT d.nodeid, d.nodename, d.nodeport FROM pg_catalog.pg_dist_node d
         WHERE d.isactive AND d.noderole = 'primary' AND d.nodecluster = current_setting('citus.cluster_name')
        UNION ALL
        SELECT 0, current_setting('citus.local_hostname'), current_setting('port')::integer
         WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_dist_node d JOIN pg_catalog.pg_dist_local_group g USING (groupid)
                            WHERE d.isactive AND d.nodecluster = current_setting('citus.cluster_name'))
        ORDER BY 1 LOOP
        after := NULL;
        LOOP
            SELECT m.success, m.result INTO page
              FROM pg_catalog.master_run_on_worker(ARRAY[node.nodename], ARRAY[node.nodeport], ARRAY[format(
                       'SELECT coalesce(pg_catalog.json_agg(r ORDER BY r.id USING OPERATOR(pg_catalog.<)), ''[]'')'
                       ' FROM (SELECT %s FROM %I.deleted_record r WHERE %s AND (%L::pg_catalog.uuid IS NULL OR r.id OPERATOR(pg_catalog.>) %L::pg_catalog.uuid)'
                       ' ORDER BY r.id USING OPERATOR(pg_catalog.<) LIMIT %s) r',
                       archive_columns, ext_schema, filter, after, after, page_size)], false) m;
            IF NOT FOUND OR NOT page.success THEN
                RAISE EXCEPTION 'deleted_record_cluster: cannot read the archive on node %: %', node.nodeid, page.result;
            END IF;
            RETURN QUERY EXECUTE format('SELECT $1, %s FROM pg_catalog.json_populate_recordset(NULL::%I.deleted_record, $2) r',
                                        archive_columns, ext_schema)
                         USING node.nodeid, page.result::json;
            EXIT WHEN json_array_length(page.result::json) < page_size;
            after := (page.result::jsonb -> -1 ->> 'id')::uuid;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION deleted_record_cluster(text, text, timestamptz, text) IS 'The archive of every node of a Citus cluster, with the node each row is on (this server''s archive without Citus)';
