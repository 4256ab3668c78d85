-- deleted_record_cluster_restore restores archived rows wherever they are archived. Each node is
-- first asked which of the ids it holds, and of which tables (it reads only those rows); the rows
-- are then restored parents first: grouped by table, tables ordered by their foreign keys (a
-- referenced table before the tables that reference it, across nodes: a reference table's row
-- archived on one node before the distributed rows that cascaded from it on others), and within
-- that by node. Each group runs deleted_record_restore on its node with only its ids (all or
-- nothing there; Citus routes the inserts to the shards). Rows archived on a disabled node stop
-- the call before anything is restored, naming the node. Groups are not one transaction: an
-- error stops at that group, and earlier groups' rows stay restored (and marked so).
CREATE FUNCTION deleted_record_cluster_restore(archive_ids uuid[], on_conflict text DEFAULT 'error', dry_run boolean DEFAULT false,
                                               masked text DEFAULT 'error')
    RETURNS TABLE (node_id integer, archive_id uuid, target text, object_id text, outcome text, detail text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    node record;
    held jsonb := '[]';
    grp record;
    done text[] := '{}';
    run_sql text;
    ran_nodes integer[];
    ran_results text[];
    disabled text;
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    -- Fails without Citus; run_sql runs the node loop (098) through the extension's schema.
    EXECUTE format('SELECT %I.deleted_record_cluster_begin($1, $2)', ext_schema) INTO run_sql
      USING 'deleted_record_cluster_restore'::text, 'deleted_record_restore'::text;
    -- Every node is asked, at once, which of the ids it holds (an indexed probe: it reads only
    -- those rows); a disabled node too, or the call fails naming it.
    EXECUTE run_sql INTO ran_nodes, ran_results
      USING 'deleted_record_cluster_restore'::text, ARRAY[format(
                'SELECT pg_catalog.json_agg(pg_catalog.json_build_array(r.id, r.schema_name, r.table_name)) FROM %I.deleted_record r'
                ' WHERE r.id OPERATOR(pg_catalog.=) ANY (CAST(%L AS pg_catalog.uuid[]))', ext_schema, archive_ids)],
            NULL::integer[], 'Nothing was restored.'::text;
    FOR i IN 1 .. coalesce(cardinality(ran_nodes), 0) LOOP
        IF ran_results[i] IS NOT NULL AND ran_results[i] <> '' THEN
            held := held || (SELECT jsonb_agg(jsonb_build_object('node', ran_nodes[i], 'id', e->>0, 'schema', e->>1, 'table', e->>2))
                               FROM jsonb_array_elements(ran_results[i]::jsonb) e);
        END IF;
    END LOOP;
    -- A disabled node's Citus metadata is no longer kept up to date: rows archived there are
    -- not restored through it (nothing is restored at all).
    SELECT string_agg(DISTINCT format('node %s (%s:%s)', d.nodeid, d.nodename, d.nodeport), ', ') INTO disabled
      FROM jsonb_array_elements(held) h JOIN pg_catalog.pg_dist_node d ON d.nodeid = (h->>'node')::integer
     WHERE NOT d.isactive;
    IF disabled IS NOT NULL THEN
        RAISE EXCEPTION 'deleted_record_cluster_restore: nothing was restored: rows to restore are archived on %, which is disabled', disabled
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Bring the node back (citus_activate_node), then restore; deleted_record_cluster reads its rows meanwhile.';
    END IF;
    FOR grp IN
        WITH RECURSIVE held_rows AS (
            SELECT (h->>'node')::integer AS node, (h->>'id')::uuid AS id, h->>'schema' AS schema_name, h->>'table' AS table_name
              FROM jsonb_array_elements(held) h),
        tables AS (
            SELECT DISTINCT r.schema_name, r.table_name, c.oid AS relid
              FROM held_rows r
              LEFT JOIN pg_namespace s ON s.nspname = r.schema_name
              LEFT JOIN pg_class c ON c.relnamespace = s.oid AND c.relname = r.table_name),
        -- above(relid, depth): the tables relid references, directly or not, with the distance
        above(relid, referenced, depth) AS (
            SELECT k.conrelid, k.confrelid, 1 FROM pg_constraint k
             WHERE k.contype = 'f' AND k.conrelid <> k.confrelid AND k.conrelid IN (SELECT t.relid FROM tables t)
            UNION
            SELECT a.relid, k.confrelid, a.depth + 1 FROM above a JOIN pg_constraint k ON k.conrelid = a.referenced
             WHERE k.contype = 'f' AND k.conrelid <> k.confrelid AND a.depth < 32)
        SELECT r.node, coalesce((SELECT max(a.depth) FROM above a WHERE a.relid = t.relid), 0) AS depth,
               r.schema_name, r.table_name, array_agg(r.id ORDER BY r.id) AS ids
          FROM held_rows r JOIN tables t USING (schema_name, table_name)
         GROUP BY r.node, t.relid, r.schema_name, r.table_name
         ORDER BY depth, r.schema_name, r.table_name, r.node
    LOOP
        EXECUTE run_sql INTO ran_nodes, ran_results
          USING format('deleted_record_cluster_restore: restoring rows of %s.%s', grp.schema_name, grp.table_name),
                ARRAY[format('SELECT coalesce(pg_catalog.json_agg(r), ''[]'') FROM %I.deleted_record_restore(CAST(%L AS pg_catalog.uuid[]), %L, %L, %L) r',
                             ext_schema, grp.ids, on_conflict, dry_run, masked)], ARRAY[grp.node],
                CASE WHEN cardinality(done) = 0 THEN 'Nothing was restored.'
                     ELSE format('Restored before (committed there): %s; nothing of this and later groups.', array_to_string(done, ', ')) END;
        done := done || format('%s.%s on node %s', grp.schema_name, grp.table_name, grp.node);
        RETURN QUERY SELECT grp.node, r.archive_id, r.target, r.object_id, r.outcome, r.detail
                       FROM json_to_recordset(ran_results[1]::json)
                            AS r(archive_id uuid, target text, object_id text, outcome text, detail text);
    END LOOP;
END
$$;
COMMENT ON FUNCTION deleted_record_cluster_restore(uuid[], text, boolean, text) IS 'Citus: restores archived rows on the nodes that hold them, parents first (each node''s group all or nothing, groups one after the other); masked: error or null';
