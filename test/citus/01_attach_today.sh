#!/usr/bin/env bash
# What deleted_record 1.0 does today on a distributed table: attach without and with
# citus.enable_unsafe_triggers, attach before create_distributed_table, where the triggers
# end up, where archive rows land and what they contain (table_name, xact_id) on each node.
set -uo pipefail
source "$(dirname "$0")/../lib/citus_cluster.sh"
citus_cluster_start

cpsql coord <<'SQL'
SET citus.shard_count = 4;
SET citus.next_shard_id = 102000;
CREATE TABLE invoice (id bigint PRIMARY KEY, customer text, amount numeric);
SELECT create_distributed_table('invoice', 'id');
INSERT INTO invoice SELECT g, 'c' || g, g * 1.5 FROM generate_series(1, 8) g;

-- 1. attach on a distributed table, as deleted_record 1.0 does it
SELECT deleted_record_attach('invoice');

-- 2. the same with the setting
SET citus.enable_unsafe_triggers = on;
SELECT deleted_record_attach('invoice');
RESET citus.enable_unsafe_triggers;
SELECT tgrelid::regclass, tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2;
SELECT * FROM deleted_record_attached;

-- 3. where each shard lives
SELECT shardid, shard_name, nodeport FROM citus_shards WHERE table_name = 'invoice'::regclass ORDER BY shardid;
SELECT id, get_shard_id_for_distribution_column('invoice', id) AS shardid FROM invoice ORDER BY id;
SQL

for n in w1 w2; do
  echo "---- triggers on $n"
  cpsql $n -c "SELECT tgrelid::regclass, tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2"
done

cpsql coord <<'SQL'
-- 4. one-row deletes (router), a multi-shard delete, and a transaction touching both workers
DELETE FROM invoice WHERE id = 1;
DELETE FROM invoice WHERE id IN (2, 3, 4);
BEGIN;
DELETE FROM invoice WHERE id = 5;
DELETE FROM invoice WHERE id = 6;
SELECT pg_current_xact_id() AS coordinator_xid;
COMMIT;
SELECT count(*) AS coordinator_archive_rows FROM deleted_record;
SQL

for n in w1 w2; do
  echo "---- archive on $n"
  cpsql $n -c "SELECT object_id, table_name, schema_name, partition_name, xact_id, session_user_name, data FROM deleted_record ORDER BY object_id"
done

cpsql coord <<'SQL'
-- 5. attach before create_distributed_table
CREATE TABLE shipment (id bigint PRIMARY KEY, note text);
SELECT deleted_record_attach('shipment');
SELECT create_distributed_table('shipment', 'id');
SET citus.enable_unsafe_triggers = on;
SELECT create_distributed_table('shipment', 'id');
RESET citus.enable_unsafe_triggers;
SELECT shard_name, nodeport FROM citus_shards WHERE table_name = 'shipment'::regclass ORDER BY shardid LIMIT 2;
SQL
echo "---- shipment triggers on w1"
cpsql w1 -c "SELECT tgrelid::regclass, tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'shipment%' ORDER BY 1, 2"

cpsql coord <<'SQL'
-- 6. detach on a distributed table
SELECT deleted_record_detach('invoice');
SET citus.enable_unsafe_triggers = on;
SELECT deleted_record_detach('invoice');
SQL
echo "---- invoice triggers left on w1"
cpsql w1 -c "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'invoice%'"
