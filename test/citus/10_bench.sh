#!/usr/bin/env bash
# Per-delete overhead of the archive trigger on a distributed table: pgbench, 2 clients,
# single-row DELETE by distribution key through the coordinator, on a table without any
# trigger and on the same table attached with deleted_record_attach (the archive trigger on
# every shard), in alternating rounds; medians and the median of per-round ratios.
# Besides TPS (which a shared, busy machine makes noisy) it reports the CPU time the servers
# used per delete: all processes of the coordinator and of the workers, from /proc (exited
# backends count through their postmaster's cutime/cstime).
# Usage: bash 10_bench.sh [ROUNDS] [SECONDS]   (default 5 rounds of 5 s)
set -uo pipefail
ROUNDS=${1:-5}
DURATION=${2:-5}
ROWS=300000
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/citus_cluster.sh"
citus_cluster_start

cq coord <<'SQL' >/dev/null
SET citus.shard_count = 8;
CREATE TABLE invoice_src (invoice_no bigint PRIMARY KEY, id uuid NOT NULL, customer text NOT NULL,
  amount numeric(12,2) NOT NULL, currency char(3) NOT NULL, status text NOT NULL, issued_at timestamptz NOT NULL,
  due_on date NOT NULL, tags text[] NOT NULL, lines jsonb NOT NULL, note text);
SELECT create_distributed_table('invoice_src', 'invoice_no');
INSERT INTO invoice_src
SELECT i, md5('invoice-' || i)::uuid, 'Customer ' || i % 5000, (i * 7919) % 1000000 * 0.01,
       (ARRAY['EUR', 'USD', 'GBP'])[1 + i % 3], (ARRAY['open', 'paid', 'void'])[1 + i % 3],
       timestamptz '2024-01-01 00:00+00' + i * interval '1 minute', date '2024-01-01' + (i % 365)::int,
       ARRAY['t' || i % 7, 't' || i % 11], jsonb_build_array(jsonb_build_object('sku', 'S' || i % 97, 'qty', 1 + i % 5)),
       CASE WHEN i % 4 = 0 THEN 'note ' || i END
  FROM generate_series(1::bigint, 300000) i;
CREATE TABLE bench_none (LIKE invoice_src INCLUDING ALL);
CREATE TABLE bench_archived (LIKE invoice_src INCLUDING ALL);
SELECT create_distributed_table('bench_none', 'invoice_no', colocate_with => 'invoice_src');
SELECT create_distributed_table('bench_archived', 'invoice_no', colocate_with => 'invoice_src');
SELECT deleted_record_attach('bench_archived', on_truncate => 'ignore');
SQL
[ $? -eq 0 ] || die "setup failed"

TICK_US=$((1000000 / $(getconf CLK_TCK)))
# cpu_ticks NODE...: CPU ticks used so far by the nodes' postmasters, their exited children and
# their live children.
cpu_ticks() {
  local n pm total=0 pid
  for n in "$@"; do
    pm=$(head -1 "${CITUS_NODE_DIR[$n]}/data/postmaster.pid")
    total=$((total + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")))
    for pid in $(ps --ppid "$pm" -o pid=); do
      total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
  done
  echo "$total"
}

run() {  # run TABLE: refill, empty the archives, checkpoint, pgbench; prints "tps deleted archived coord_us workers_us"
  local tbl=$1 out tps before after archived
  cq coord -c "TRUNCATE $tbl" -c "INSERT INTO $tbl SELECT * FROM invoice_src" -c "VACUUM ANALYZE $tbl" \
     -c "SELECT run_command_on_all_nodes('TRUNCATE deleted_record')" -c "SELECT run_command_on_all_nodes('CHECKPOINT')" >/dev/null
  before=$(cq coord -c "SELECT count(*) FROM $tbl")
  local c0 w0 c1 w1
  sleep 1   # let the refill's backends exit and be reaped, so their CPU time is not counted
  c0=$(cpu_ticks coord); w0=$(cpu_ticks w1 w2)
  sed "s/:tbl/$tbl/" "$here/bench_delete.pgbench" >"$CITUS_DIR/$tbl.pgbench"   # a table name cannot be a parameter
  out=$(pgbench -n -M prepared -c 2 -j 2 -T "$DURATION" -D k=0 -D clients=2 -D rows=$ROWS \
        -f "$CITUS_DIR/$tbl.pgbench" 2>&1) || { echo "pgbench failed: $out" >&2; echo "0 0 0"; return; }
  sleep 1   # let pgbench's backends exit and be reaped, so their CPU time is counted
  c1=$(cpu_ticks coord); w1=$(cpu_ticks w1 w2)
  tps=$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' <<<"$out" | head -1)
  after=$(cq coord -c "SELECT count(*) FROM $tbl")
  archived=$(cq coord -c "SELECT sum(result::bigint) FROM run_command_on_all_nodes('SELECT count(*) FROM deleted_record')")
  local deleted=$((before - after))
  # CPU µs per deleted row on the coordinator and on the workers together
  printf '%.0f %d %d %d %d\n' "$tps" "$deleted" "$archived" \
    $(( (c1 - c0) * TICK_US / (deleted > 0 ? deleted : 1) )) $(( (w1 - w0) * TICK_US / (deleted > 0 ? deleted : 1) ))
}

declare -a none_tps=() arch_tps=() ratios=() none_wcpu=() arch_wcpu=() none_ccpu=() arch_ccpu=() wdiff=()
log "pgbench: $ROUNDS rounds x 2 contenders x ${DURATION}s (machine load: $(cut -d' ' -f1 /proc/loadavg))"
for r in $(seq 1 "$ROUNDS"); do
  read -r t1 d1 a1 cc1 wc1 <<<"$(run bench_none)"
  read -r t2 d2 a2 cc2 wc2 <<<"$(run bench_archived)"
  [ "$t1" -gt 0 ] && [ "$t2" -gt 0 ] || die "a pgbench run failed"
  echo "round $r: no trigger $t1 TPS (deleted $d1, archived $a1, CPU µs/delete: coordinator $cc1, workers $wc1);" \
       "deleted_record $t2 TPS (deleted $d2, archived $a2, CPU µs/delete: coordinator $cc2, workers $wc2)"
  none_tps+=("$t1"); arch_tps+=("$t2"); ratios+=("$(echo "scale=3; $t2 / $t1" | bc)")
  none_wcpu+=("$wc1"); arch_wcpu+=("$wc2"); none_ccpu+=("$cc1"); arch_ccpu+=("$cc2"); wdiff+=($((wc2 - wc1)))
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "median TPS: no trigger $(median "${none_tps[@]}"), deleted_record $(median "${arch_tps[@]}"); median per-round ratio deleted_record/no trigger $(median "${ratios[@]}")"
echo "median CPU µs per delete: coordinator $(median "${none_ccpu[@]}") / $(median "${arch_ccpu[@]}"), workers $(median "${none_wcpu[@]}") / $(median "${arch_wcpu[@]}") (no trigger / deleted_record); median per-round worker difference $(median "${wdiff[@]}") µs"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
