#!/usr/bin/env bash
# Shards created after attach: a new worker plus rebalance, a shard split, a shard move, and a
# reference table replicated to the new worker. Do the new placements carry deleted_record's
# triggers (both of them)? Does the new worker get the extension? Where do old archive rows stay?
set -uo pipefail
source "$(dirname "$0")/../lib/citus_cluster.sh"
citus_cluster_start

cpsql coord <<'SQL'
SET citus.shard_count = 4;
SET citus.next_shard_id = 106000;
CREATE TABLE invoice (id bigint PRIMARY KEY, v text);
SELECT create_distributed_table('invoice', 'id');
CREATE TABLE country (code text PRIMARY KEY);
SELECT create_reference_table('country');
INSERT INTO invoice SELECT g, 'v' || g FROM generate_series(1, 100) g;
INSERT INTO country VALUES ('de'), ('fr');
SET citus.enable_unsafe_triggers = on;
SELECT deleted_record_attach('invoice');   -- after distribution: guard on the shell only
SELECT deleted_record_attach('country');
RESET citus.enable_unsafe_triggers;
DELETE FROM invoice WHERE id <= 10;
SQL

triggers() {  # triggers of deleted_record on shards, per node
  local n
  for n in "${CITUS_NODES[@]}"; do
    echo "---- $n: shards and their deleted_record triggers"
    cq $n -F ' ' -c "SET citus.override_table_visibility = off" -c "SELECT c.relname, string_agg(t.tgname, ', ' ORDER BY t.tgname)
      FROM pg_class c LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND t.tgname LIKE 'deleted_record%'
     WHERE c.relname ~ '^(invoice|country)_\d+$' AND c.relkind = 'r' GROUP BY 1 ORDER BY 1"
  done
}
triggers

echo "==== 1. a third worker, then a rebalance"
citus_add_worker w3
cpsql w3 -c "SELECT extname, extversion FROM pg_extension WHERE extname = 'deleted_record'" \
         -c "SELECT count(*) AS archive_table FROM pg_class WHERE relname = 'deleted_record'"
cpsql coord <<SQL
SELECT * FROM citus_rebalance_start(shard_transfer_mode => 'block_writes');
SELECT citus_rebalance_wait();
SELECT shardid, shard_name, nodeport FROM citus_shards WHERE table_name = 'invoice'::regclass ORDER BY shardid;
SELECT nodeport FROM citus_shards WHERE table_name = 'country'::regclass ORDER BY nodeport;
SQL
triggers
echo "---- deletes on every shard after the rebalance"
cpsql coord -c "DELETE FROM invoice WHERE id BETWEEN 11 AND 30"
cpsql coord -c "SELECT nodeid, result AS archived_rows FROM run_command_on_all_nodes(\$\$SELECT count(*) FROM deleted_record WHERE table_name LIKE 'invoice%'\$\$) ORDER BY nodeid"

echo "==== 2. split a shard (block_writes)"
cpsql coord <<'SQL'
SELECT shardid, shardminvalue, shardmaxvalue FROM pg_dist_shard WHERE logicalrelid = 'invoice'::regclass ORDER BY shardid LIMIT 1;
SELECT citus_split_shard_by_split_points(106000, ARRAY['-1500000000'],
         ARRAY[(SELECT nodeid FROM pg_dist_placement JOIN pg_dist_node USING (groupid) WHERE shardid = 106000),
               (SELECT nodeid FROM pg_dist_placement JOIN pg_dist_node USING (groupid) WHERE shardid = 106000)],
         'block_writes');
SELECT shardid, shard_name, nodeport FROM citus_shards WHERE table_name = 'invoice'::regclass ORDER BY shardid;
SQL

echo "==== 3. move a shard (block_writes, then force_logical)"
cpsql coord <<SQL
SELECT shardid AS moving FROM citus_shards WHERE table_name = 'invoice'::regclass AND nodeport = ${CITUS_PORT[w1]} ORDER BY shardid LIMIT 1 \gset
SELECT citus_move_shard_placement(:moving, '127.0.0.1', ${CITUS_PORT[w1]}, '127.0.0.1', ${CITUS_PORT[w2]}, 'block_writes');
SELECT shardid AS moving2 FROM citus_shards WHERE table_name = 'invoice'::regclass AND nodeport = ${CITUS_PORT[w2]} ORDER BY shardid LIMIT 1 \gset
SELECT citus_move_shard_placement(:moving2, '127.0.0.1', ${CITUS_PORT[w2]}, '127.0.0.1', ${CITUS_PORT[w1]}, 'force_logical');
SELECT shardid, shard_name, nodeport FROM citus_shards WHERE table_name = 'invoice'::regclass ORDER BY shardid;
SQL
triggers
echo "---- deletes everywhere after split and moves; archive rows per node and shard name"
cpsql coord -c "DELETE FROM invoice WHERE id > 30" -c "DELETE FROM country"
cpsql coord -c "SELECT nodeid, result FROM run_command_on_all_nodes(\$\$SELECT string_agg(t || '=' || n, ' ' ORDER BY t) FROM (SELECT table_name t, count(*) n FROM deleted_record GROUP BY 1) s\$\$) ORDER BY nodeid"
cpsql coord -c "SELECT count(*) AS invoice_rows_left FROM invoice"
