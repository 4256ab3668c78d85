#!/usr/bin/env bash
# Smoke test of the Citus harness (TAP): a coordinator and two workers start, deleted_record
# reaches every node, and a delete on a distributed and on a reference table is archived on
# the nodes (with citus.enable_unsafe_triggers, as deleted_record 1.0 needs) without crashing
# a backend. Takes a few minutes the first time (Citus is built once into the cache).
# Honours DELETED_RECORD_REV / DELETED_RECORD_VERSION like the harness.
set -uo pipefail
source "$(dirname "$0")/../lib/citus_cluster.sh"
started=$SECONDS
citus_cluster_start
ok "cluster started in $((SECONDS - started)) s"
check "three primary nodes registered" 3 "$(cq coord -c "SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary'")"
for n in coord w1 w2; do
  check "deleted_record installed on $n" 1 "$(cq $n -c "SELECT count(*) FROM pg_extension WHERE extname = 'deleted_record'")"
done
cq coord >/dev/null <<'SQL'
SET citus.shard_count = 4;
CREATE TABLE item (id bigint PRIMARY KEY, v text);
SELECT create_distributed_table('item', 'id');
CREATE TABLE country (code text PRIMARY KEY);
SELECT create_reference_table('country');
INSERT INTO item SELECT g, 'v' FROM generate_series(1, 10) g;
INSERT INTO country VALUES ('de'), ('fr');
SET citus.enable_unsafe_triggers = on;
SELECT deleted_record_attach('item');
SELECT deleted_record_attach('country');
SQL
check "attach on distributed and reference tables" 0 $?
cq coord -c "DELETE FROM item WHERE id <= 4" >/dev/null 2>&1
check "delete from a distributed table" 0 $?
cq coord -c "DELETE FROM country WHERE code = 'de'" >/dev/null 2>&1
check "delete from a reference table" 0 $?
check "distributed rows archived on the workers" 4 \
  "$(cq coord -c "SELECT sum(result::int) FROM run_command_on_workers(\$\$SELECT count(*) FROM deleted_record WHERE data->>'id' IS NOT NULL\$\$)")"
crashes=$(cat "${CITUS_NODE_DIR[@]/%//server.log}" | grep -c 'terminated by signal')
check "no backend crashed" 0 "$crashes"
tap_done
