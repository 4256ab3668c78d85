-- On Citus (README, "Citus"): each node archives the rows deleted from the shards it holds into
-- its own archive, under the logical table's names. The functions below read, restore and
-- purge that archive from any node through Citus's run_command_on_all_nodes. They run as the
-- caller, who needs the same privileges on every node's archive. Each node's part runs in its
-- own transaction, over its own connection, committed on its own: this node's included.

-- deleted_record_cluster returns the archive rows of every node with the node they are on
-- (pg_dist_node.nodeid), filtered on each node: by table name, object id, deletion time, or the
-- deleting distributed transaction (xact_key), each a condition the node's indexes serve. Each
-- node sends its rows in pages (deleted_record_cluster_run): at most 10,000 rows and about
-- 8 MB of row data each (at least one row), one bounded text value each, however large its
-- archive; the rows are returned as they come (PostgreSQL spills a large result to disk). A
-- disabled node is read too, or the call fails naming it. Without Citus it returns this
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
    table_parts text[];
    for_schema text;
    page_head text;
    page_mid text;
    page_tail text;
    run_sql text;
    ran_nodes integer[];
    ran_results text[];
    more_nodes integer[];
    more_results text[];
    page json;
    rows json;
    after uuid;
    page_rows constant integer := 10000;
    page_bytes constant bigint := 8 * 1024 * 1024;
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    -- Literals every node reads the same way (the time as epoch seconds, whatever DateStyle);
    -- operators, functions and types named with their schema, whatever the node's search_path.
    -- A qualified for_table ('tenant_a.invoice', '"My Schema"."Invoice"') names one schema's table;
    -- a bare name is taken as it is written and matches that name in every schema.
    IF for_table IS NOT NULL AND strpos(for_table, '.') > 0 THEN
        table_parts := parse_ident(for_table);
        IF cardinality(table_parts) <> 2 THEN
            RAISE EXCEPTION 'deleted_record_cluster: for_table must be a table name or schema.table, not %', for_table
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        for_schema := table_parts[1];
        for_table := table_parts[2];
    END IF;
    filter := format('(%6$L::pg_catalog.text IS NULL OR r.schema_name OPERATOR(pg_catalog.=) %6$L::pg_catalog.text)'
                     ' AND (%1$L::pg_catalog.text IS NULL OR r.table_name OPERATOR(pg_catalog.=) %1$L::pg_catalog.text)'
                     ' AND (%2$L::pg_catalog.text IS NULL OR r.object_id OPERATOR(pg_catalog.=) %2$L::pg_catalog.text)'
                     ' AND (%3$L::pg_catalog.numeric IS NULL OR (r.deleted_at OPERATOR(pg_catalog.>=) pg_catalog.to_timestamp(%3$L::pg_catalog.float8)'
                     ' AND r.id OPERATOR(pg_catalog.>=) %5$I.deleted_record_uuid7_floor(pg_catalog.to_timestamp(%3$L::pg_catalog.float8))))'
                     ' AND (%4$L::pg_catalog.text IS NULL OR r.xact_key OPERATOR(pg_catalog.=) %4$L::pg_catalog.text)',
                     for_table, for_object, extract(epoch FROM since), for_xact_key, ext_schema, for_schema);
    IF to_regclass('pg_catalog.pg_dist_node') IS NULL THEN
        RETURN QUERY EXECUTE format('SELECT NULL::integer, %s FROM %I.deleted_record r WHERE %s', archive_columns, ext_schema, filter);
        RETURN;
    END IF;
    -- A page: the next rows after the last id, in id order, cut at page_rows rows or once
    -- page_bytes of row data are reached (a row larger than that comes alone), and whether more
    -- may follow. The first page of every node is asked at once, the next ones node by node.
    -- (the id after which a page starts goes between page_head, page_mid and page_tail: the
    -- filter holds the caller's literals, which no second format() may read)
    page_head := format(
        'SELECT pg_catalog.json_build_object(''rows'', coalesce(pg_catalog.json_agg(p.r ORDER BY p.r_id USING OPERATOR(pg_catalog.<)) FILTER (WHERE p.keep), ''[]''),'
        '                                    ''more'', pg_catalog.count(*) OPERATOR(pg_catalog.=) %4$s OR coalesce(pg_catalog.bool_or(NOT p.keep), false))'
        ' FROM (SELECT r, r.id AS r_id, (pg_catalog.sum(pg_catalog.pg_column_size(r.*)) OVER w OPERATOR(pg_catalog.-) pg_catalog.pg_column_size(r.*)'
        '                                OPERATOR(pg_catalog.<) %5$s OR pg_catalog.row_number() OVER w OPERATOR(pg_catalog.=) 1) AS keep'
        '         FROM (SELECT %1$s FROM %2$I.deleted_record r WHERE %3$s AND (',
        archive_columns, ext_schema, filter, page_rows, page_bytes);
    page_mid := '::pg_catalog.uuid IS NULL OR r.id OPERATOR(pg_catalog.>) ';
    page_tail := format(
        '::pg_catalog.uuid) ORDER BY r.id USING OPERATOR(pg_catalog.<) LIMIT %s) r'
        '       WINDOW w AS (ORDER BY r.id USING OPERATOR(pg_catalog.<))) p', page_rows);
    -- The node loop (098): called through the extension's schema, whatever the caller's search_path.
    run_sql := format('SELECT pg_catalog.array_agg(c.node_id ORDER BY c.node_id), pg_catalog.array_agg(c.result ORDER BY c.node_id)'
                      ' FROM %I.deleted_record_cluster_run($1, $2, $3, $4) c', ext_schema);
    EXECUTE run_sql INTO ran_nodes, ran_results
      USING 'deleted_record_cluster'::text, ARRAY[page_head || 'NULL' || page_mid || 'NULL' || page_tail], NULL::integer[], 'The archive was not read.'::text;
    FOR i IN 1 .. coalesce(cardinality(ran_nodes), 0) LOOP
        page := ran_results[i]::json;
        ran_results[i] := NULL;
        LOOP
            rows := page -> 'rows';
            RETURN QUERY EXECUTE format('SELECT $1, %s FROM pg_catalog.json_populate_recordset(NULL::%I.deleted_record, $2) r',
                                        archive_columns, ext_schema)
                         USING ran_nodes[i], rows;
            EXIT WHEN NOT (page ->> 'more')::boolean OR json_array_length(rows) = 0;
            after := (rows -> (json_array_length(rows) - 1) ->> 'id')::uuid;
            EXECUTE run_sql INTO more_nodes, more_results
              USING 'deleted_record_cluster'::text, ARRAY[page_head || quote_literal(after) || page_mid || quote_literal(after) || page_tail],
                    ARRAY[ran_nodes[i]], 'The archive was not read.'::text;
            page := more_results[1]::json;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION deleted_record_cluster(text, text, timestamptz, text) IS 'The archive of every node of a Citus cluster, with the node each row is on (this server''s archive without Citus)';
