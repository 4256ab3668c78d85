-- 30_lookup_indexes: every archive partition has the indexes its lookups use, and restoring one
-- transaction reads that transaction's rows through them, never a whole partition: by xact_id and
-- by xact_key, among 30,000 rows of other transactions in the same partition (counted with the
-- cumulative statistics of the partition and its indexes). So do the other lookups README names:
-- one table's rows in a time window (partitions pruned by the id range, read by the primary key),
-- an erasure by ids (by the primary key) and one object's history (by (table_name, object_id)).
\set SHOW_CONTEXT never
CREATE SCHEMA t30;
SET search_path = t30, public;
SET TimeZone = 'UTC';

-- Every partition (the coming periods and DEFAULT) has single-column indexes on xact_id and xact_key.
SELECT deleted_record_prepare_partitions(2) >= 0 AS prepared;
CREATE FUNCTION has_index_on(leaf regclass, col name) RETURNS boolean LANGUAGE sql AS $$
  SELECT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                  WHERE i.indrelid = leaf AND i.indnkeyatts = 1 AND i.indexprs IS NULL AND i.indpred IS NULL
                    AND a.attname = col)
$$;
SELECT bool_and(has_index_on(relid, 'xact_id')) AS every_partition_indexes_xact_id,
       bool_and(has_index_on(relid, 'xact_key')) AS every_partition_indexes_xact_key,
       count(*) FILTER (WHERE pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT') AS default_partitions
  FROM pg_partition_tree('public.deleted_record') t JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf;

-- A 10-row deleting transaction, then 30,000 archive rows of 3,000 other transactions in the same
-- partition (written directly, as a long history would have).
CREATE TABLE invoice (id int PRIMARY KEY, note text);
SELECT deleted_record_attach('invoice');
INSERT INTO invoice SELECT g, 'note ' || g FROM generate_series(1, 10) g;
BEGIN;
DELETE FROM invoice;
SELECT pg_current_xact_id()::text::bigint AS xact \gset
COMMIT;
SELECT xact_key AS key, tableoid::regclass AS leaf FROM deleted_record WHERE xact_id = :xact LIMIT 1 \gset
INSERT INTO deleted_record (id, data, object_id, table_name, schema_name, xact_id, xact_key)
SELECT deleted_record_uuid7(), jsonb_build_object('id', g, 'note', 'other ' || g), g::text, 'other', 't30',
       (:xact)::bigint + 1000 + g / 10, 'other-key-' || lpad((g / 10)::text, 6, '0')
  FROM generate_series(1, 30000) g;
SELECT count(*) = 1 AS rows_in_one_partition FROM (SELECT DISTINCT tableoid FROM deleted_record WHERE table_name IN ('invoice', 'other')) p;
ANALYZE deleted_record;

-- record_scans() records the partition's sequential and index scans so far, and those of its xact indexes.
CREATE TABLE scan_counts (label text, seq_scan bigint, idx_scan bigint, xact_id_scans bigint, xact_key_scans bigint);
CREATE FUNCTION record_scans(label text, leaf regclass) RETURNS void LANGUAGE sql AS $$
  INSERT INTO scan_counts
  SELECT label, t.seq_scan, t.idx_scan,
         (SELECT sum(i.idx_scan) FROM pg_stat_all_indexes i JOIN pg_index x ON x.indexrelid = i.indexrelid
                                 JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
           WHERE i.relid = leaf AND a.attname = 'xact_id'),
         (SELECT sum(i.idx_scan) FROM pg_stat_all_indexes i JOIN pg_index x ON x.indexrelid = i.indexrelid
                                 JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
           WHERE i.relid = leaf AND a.attname = 'xact_key')
    FROM pg_stat_all_tables t WHERE t.relid = leaf
$$;
-- Statistics reach the shared counters when a statement ends after pg_stat_force_next_flush().
SELECT pg_stat_force_next_flush();
SELECT record_scans('before', :'leaf');

-- Restore (dry run) by xact_id: the transaction's 10 rows, found through the xact_id index.
SELECT count(*) AS rows, count(*) FILTER (WHERE outcome = 'would restore') AS would_restore
  FROM deleted_record_restore_transaction(:xact, dry_run => true);
SELECT pg_stat_force_next_flush();
SELECT record_scans('by xact_id', :'leaf');
-- Restore (dry run) by xact_key: through the xact_key index.
SELECT count(*) AS rows, count(*) FILTER (WHERE outcome = 'would restore') AS would_restore
  FROM deleted_record_restore_transaction(:'key', dry_run => true);
SELECT pg_stat_force_next_flush();
SELECT record_scans('by xact_key', :'leaf');
-- And for real, by xact_id: the rows are back, marked restored.
SELECT count(*) AS restored FROM deleted_record_restore_transaction(:xact);
SELECT pg_stat_force_next_flush();
SELECT record_scans('restored', :'leaf');
SELECT count(*) AS back FROM invoice;

-- plan_scans(query) lists the scans of query's plan: node, relation, index.
CREATE FUNCTION plan_scans(query text) RETURNS TABLE (node text, relation text, index_name text) LANGUAGE plpgsql AS $$
DECLARE
  plan json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON, COSTS OFF) ' || query INTO plan;
  RETURN QUERY WITH RECURSIVE n(x) AS (SELECT plan->0->'Plan' UNION ALL SELECT c FROM n, json_array_elements(n.x->'Plans') c)
    SELECT x->>'Node Type', x->>'Relation Name', x->>'Index Name' FROM n WHERE x->>'Relation Name' IS NOT NULL;
END $$;
SELECT relname AS leaf_name FROM pg_class WHERE oid = :'leaf'::regclass \gset
-- One table's rows in a time window (a slice of the other rows' ids): the partitions outside it
-- are pruned, the one inside is read by its primary key, not scanned whole.
-- (ids are time-ordered: those of rows 100 to 299, found by their transactions' xact_id)
SELECT id AS lo FROM deleted_record WHERE xact_id = (:xact)::bigint + 1010 ORDER BY id LIMIT 1 \gset
SELECT id AS hi FROM deleted_record WHERE xact_id = (:xact)::bigint + 1029 ORDER BY id DESC LIMIT 1 \gset
SELECT pg_stat_force_next_flush();
SELECT record_scans('before window', :'leaf');
SELECT node, relation = :'leaf_name' AS in_window_partition, index_name LIKE '%pkey' AS by_primary_key
  FROM plan_scans(format('SELECT * FROM public.deleted_record WHERE table_name = %L AND id >= %L AND id <= %L', 'other', :'lo', :'hi'));
SELECT count(*) AS window_rows FROM deleted_record WHERE table_name = 'other' AND id >= :'lo' AND id <= :'hi';
SELECT pg_stat_force_next_flush();
SELECT record_scans('time window', :'leaf');
-- One object's history: no period is known, so every partition is probed (the empty ones cost
-- nothing); the one holding rows is read by its (table_name, object_id) index, not scanned.
SELECT count(*) > 1 AS every_partition_probed,
       bool_and(index_name LIKE '%table_name_object_id_idx') FILTER (WHERE relation = :'leaf_name') AS by_object_index
  FROM plan_scans(format('SELECT * FROM public.deleted_record WHERE table_name = %L AND object_id = %L', 'other', '77'));
SELECT count(*) AS history_rows FROM deleted_record WHERE table_name = 'other' AND object_id = '77';
SELECT pg_stat_force_next_flush();
SELECT record_scans('object history', :'leaf');
-- An erasure by ids: 10 rows of other transactions, found by the primary key.
SELECT array_agg(id) AS erase_ids FROM deleted_record WHERE table_name = 'other' AND xact_id = (:xact)::bigint + 1500 \gset
SELECT pg_stat_force_next_flush();
SELECT record_scans('before erasure', :'leaf');
SELECT deleted_record_erase(:'erase_ids', 'regression test of the erasure lookup') AS erased;
SELECT pg_stat_force_next_flush();
SELECT record_scans('erased by ids', :'leaf');

-- No sequential scan of the partition at any step; each lookup used its index.
SELECT label, seq_scan - lag(seq_scan) OVER w AS seq_scans,
       xact_id_scans - lag(xact_id_scans) OVER w > 0 AS used_xact_id_index,
       xact_key_scans - lag(xact_key_scans) OVER w > 0 AS used_xact_key_index,
       (idx_scan - xact_id_scans - xact_key_scans) - lag(idx_scan - xact_id_scans - xact_key_scans) OVER w > 0 AS used_other_index
  FROM scan_counts WINDOW w AS (ORDER BY ctid) ORDER BY ctid;

-- Selections of more than 4,096 ids read the archive joined with unnest(ids) instead of by
-- id = ANY (ids) (whose planning costs memory by the element): the same outcomes. 5,000 rows of
-- the other transactions, one id given twice, one row whose key is live again.
CREATE TABLE other (id int PRIMARY KEY, note text);
SELECT array_agg(id ORDER BY id) AS many FROM (SELECT id FROM deleted_record WHERE table_name = 'other' AND restored_at IS NULL
                                               ORDER BY id LIMIT 5000) x \gset
SELECT count(*) AS results, count(DISTINCT archive_id) AS distinct_ids, count(*) FILTER (WHERE outcome = 'would restore') AS would_restore
  FROM deleted_record_restore(:'many'::uuid[] || (:'many'::uuid[])[1:1], dry_run => true);
SELECT deleted_record_restore(:'many'::uuid[] || '00000000-0000-7000-8000-000000000000'::uuid, dry_run => true);
INSERT INTO other SELECT (data->>'id')::int, 'live' FROM deleted_record WHERE id = (:'many'::uuid[])[2500];
SELECT outcome, count(*) FROM deleted_record_restore(:'many', on_conflict => 'skip') GROUP BY 1 ORDER BY 1;
SELECT count(*) AS back, count(*) FILTER (WHERE note = 'live') AS live FROM other;
SELECT count(*) FILTER (WHERE restored_at IS NOT NULL) AS marked FROM deleted_record WHERE id = ANY (:'many');
SELECT outcome, count(*) FROM deleted_record_restore(:'many', on_conflict => 'skip') GROUP BY 1 ORDER BY 1;
SELECT deleted_record_erase(:'many'::uuid[] || (:'many'::uuid[])[1:1], 'regression test: many ids') AS erased;
SELECT count(*) AS tombstones FROM deleted_record_erasure WHERE archive_id = ANY (:'many');
SELECT count(*) AS left_in_archive FROM deleted_record WHERE id = ANY (:'many');

-- Clean up: the archive rows of this file, and the attachment.
DELETE FROM deleted_record WHERE table_name IN ('invoice', 'other');
DELETE FROM deleted_record_erasure WHERE schema_name = 't30';
SELECT deleted_record_detach('invoice');

-- The writer keeps the IndexInfo of a partition's btree indexes across writes: an index made on
-- the partition afterwards is maintained all the same (a unique one refuses a duplicate), and
-- once dropped it is not.
CREATE TABLE gadget (id int PRIMARY KEY);
SELECT deleted_record_attach('gadget');
INSERT INTO gadget VALUES (1), (2);
DELETE FROM gadget WHERE id = 1;
SELECT tableoid::regclass AS gadget_leaf FROM deleted_record WHERE table_name = 'gadget' \gset
CREATE UNIQUE INDEX t30_one_per_object ON :gadget_leaf (table_name, object_id);
INSERT INTO gadget VALUES (1);
DELETE FROM gadget WHERE id = 1;
DELETE FROM gadget WHERE id = 2;
DROP INDEX t30_one_per_object;
DELETE FROM gadget WHERE id = 1;
SELECT object_id, count(*) FROM deleted_record WHERE table_name = 'gadget' GROUP BY 1 ORDER BY 1;
DELETE FROM deleted_record WHERE table_name = 'gadget';
SELECT deleted_record_detach('gadget');
DROP SCHEMA t30 CASCADE;
