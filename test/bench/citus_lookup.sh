#!/usr/bin/env bash
# Citus lookup benchmark (issue 18): finding one transaction on a cluster holding a million
# archived rows. A throwaway coordinator and two workers (test/lib/citus_cluster.sh); a
# distributed table of CITUS_BENCH_ROWS rows (1,000,000; CITUS_BENCH_ROWS=n for fewer) attached
# to the archive and emptied by ten bulk DELETEs (ten transactions, archived on the workers that
# hold the shards: the archive's real path, no hand-made rows). Then one transaction deletes 10
# more rows, and it times, inside the coordinator (no client start-up in the figures), the median
# of CITUS_BENCH_RUNS (7) runs of:
#   lookup  - SELECT * FROM deleted_record_cluster(for_xact_key => that transaction's key):
#             every node asked at once, each by the xact_key index: one node hop;
#   floor   - the same for a key no node holds: what one hop costs (connections, the query's
#             start-up), whatever the archive's size;
#   reference - run_command_on_all_nodes('SELECT 1'): Citus's own cost of one hop to every node
#             (master_run_on_worker opens new connections for each call);
#   restore - deleted_record_cluster_restore(those 10 ids, dry_run => true): an indexed probe of
#             every node at once, then deleted_record_restore on each node holding some of
#             them, with only its ids: 1 + (nodes holding them) hops;
# and one real restore of the 10 rows at the end (checked: they are back).
# Target: at most 50 ms per node hop (a hop is a connection to a node and one indexed query
# there; at this size a scan of a node's archive takes seconds, so the target tells an indexed
# lookup from a scan whatever the machine).
set -uo pipefail
source "$(dirname "$0")/../lib/citus_cluster.sh"
ROWS=${CITUS_BENCH_ROWS:-1000000}
RUNS=${CITUS_BENCH_RUNS:-7}
HOP_MS=50

citus_cluster_start
log "citus_lookup: loading $ROWS rows and archiving them by 10 bulk deletes"
t0=$(date +%s)
cq coord >/dev/null <<SQL || die "loading failed"
SET citus.shard_count = 8;
CREATE TABLE bench_item (id bigint PRIMARY KEY, owner text, amount numeric, note text);
SELECT create_distributed_table('bench_item', 'id');
SELECT deleted_record_attach('bench_item');
INSERT INTO bench_item SELECT g, 'owner ' || (g % 1000), g % 997, 'note ' || g FROM generate_series(1, $ROWS + 10) g;
SQL
for i in $(seq 0 9); do
  cq coord -c "BEGIN" -c "SELECT deleted_record_set_context('bench', 'bulk $i')" \
           -c "DELETE FROM bench_item WHERE id % 10 = $i AND id <= $ROWS" -c "COMMIT" >/dev/null || die "bulk delete $i failed"
done
cq coord -c "BEGIN" -c "SELECT deleted_record_set_context('bench', 'the one')" \
         -c "DELETE FROM bench_item WHERE id > $ROWS" -c "COMMIT" >/dev/null || die "the transaction to find failed"
SQL="SELECT run_command_on_all_nodes('VACUUM ANALYZE deleted_record')"; cq coord -c "$SQL" >/dev/null
archived=$(cq coord -c "SELECT sum(result::bigint) FROM run_command_on_all_nodes('SELECT count(*) FROM deleted_record')")
per_node=$(cq coord -c "SELECT string_agg(nodeid || ':' || result, ' ' ORDER BY nodeid) FROM run_command_on_all_nodes('SELECT count(*) FROM deleted_record')")
log "citus_lookup: $archived archive rows (node:rows $per_node), loaded in $(( $(date +%s) - t0 )) s"

key=$(cq w1 -c "SELECT xact_key FROM deleted_record WHERE reason = 'the one' LIMIT 1")
[ -n "$key" ] || key=$(cq w2 -c "SELECT xact_key FROM deleted_record WHERE reason = 'the one' LIMIT 1")
ids=$(cq coord -c "SELECT array_agg(id) FROM deleted_record_cluster(for_xact_key => '$key')")
found=$(cq coord -c "SELECT count(*) || ' rows on ' || count(DISTINCT node_id) || ' nodes' FROM deleted_record_cluster(for_xact_key => '$key')")
holders=$(cq coord -c "SELECT count(DISTINCT node_id) FROM deleted_record_cluster(for_xact_key => '$key')")

# median_ms QUERY: the median of RUNS timings of QUERY (in ms), run inside the coordinator
median_ms() {
  cq coord <<SQL
CREATE TEMP TABLE IF NOT EXISTS timing (ms float8);
TRUNCATE timing;
DO \$\$
DECLARE t timestamptz;
BEGIN
  FOR i IN 1 .. $RUNS LOOP
    t := clock_timestamp();
    PERFORM count(*) FROM ($1) q;
    INSERT INTO timing VALUES (1000 * extract(epoch FROM clock_timestamp() - t));
  END LOOP;
END
\$\$;
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) FROM timing;
SQL
}
lookup=$(median_ms "SELECT * FROM deleted_record_cluster(for_xact_key => '$key')")
floor=$(median_ms "SELECT * FROM deleted_record_cluster(for_xact_key => 'no such key')")
citus=$(median_ms "SELECT * FROM run_command_on_all_nodes('SELECT 1')")
restore=$(median_ms "SELECT * FROM deleted_record_cluster_restore('$ids', dry_run => true)")
real=$(cq coord -c "SELECT round((1000 * extract(epoch FROM clock_timestamp() - now()))::numeric, 1) FROM (SELECT count(*) FROM deleted_record_cluster_restore('$ids')) r" 2>&1)
back=$(cq coord -c "SELECT count(*) FROM bench_item WHERE id > $ROWS")
restore_hops=$((1 + holders))

echo
echo "Citus lookup (load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) CPUs): one transaction of 10 rows among $archived archived rows ($per_node), median of $RUNS"
printf '  %-58s %s\n' "found by deleted_record_cluster(for_xact_key)" "$found"
printf '  %-58s %8s ms  (1 hop)\n' "lookup: deleted_record_cluster(for_xact_key => ...)" "$lookup"
printf '  %-58s %8s ms  (1 hop, 0 rows: the cost of a hop)\n' "floor: deleted_record_cluster(for_xact_key => 'no such key')" "$floor"
printf '  %-58s %8s ms  (Citus alone: new connections to every node)\n' "reference: run_command_on_all_nodes('SELECT 1')" "$citus"
printf '  %-58s %8s ms  (%s hops)\n' "restore: deleted_record_cluster_restore(10 ids, dry_run)" "$restore" "$restore_hops"
printf '  %-58s %8s ms  (%s hops; %s of 10 rows back)\n' "restore: deleted_record_cluster_restore(10 ids), once" "$real" "$restore_hops" "$back"
verdict() { awk -v v="$1" -v l="$2" 'BEGIN { print (v + 0 <= l + 0) ? "PASS" : "MISS" }'; }
printf '  %-4s %-52s %6s <= %s\n' "$(verdict "$lookup" $HOP_MS)" "lookup per node hop (ms)" "$lookup" "$HOP_MS"
per_hop=$(awk -v v="$restore" -v h="$restore_hops" 'BEGIN { printf "%.1f", v / h }')
printf '  %-4s %-52s %6s <= %s\n' "$(verdict "$per_hop" $HOP_MS)" "dry-run restore per node hop (ms)" "$per_hop" "$HOP_MS"
[ "$back" = 10 ] || { echo "  MISS the restore did not bring back the 10 rows ($back)"; exit 1; }
