#!/usr/bin/env bash
# Where the time of deleted_record_restore goes: archives N invoices (default 100,000) of the
# benchmark's shape by deleting them through the extension, as scripts/bench.sh's restore
# benchmark does, then restores them R times (default 3) with deleted_record_restore and with the
# hand-written set-based statement (alternating, each from the same archive state), and prints
# the planning and execution time of every statement each of them runs, from pg_stat_statements
# (track = all, so statements run by the extension through SPI and by plpgsql are counted, and
# track_planning = on), as medians over the runs. Timings are wall-clock: on a shared machine,
# compare rows of one run rather than runs of different times.
# Usage: test/bench/restore_profile.sh [rows] [runs]
set -euo pipefail
for var in $(compgen -e); do
  if [[ "$var" =~ ^PG[A-Z]+$ ]]; then unset "$var"; fi
done
unset VALGRIND_LOG_DIR
source "$(dirname "$0")/../../scripts/lib/common.sh"
BENCH_SQL=$REPO_ROOT/test/bench
rows=${1:-100000}
runs=${2:-3}

ensure_prereqs
build_and_install
work=$(mktemp -d /tmp/deleted_record_restore_profile.XXXXXX)
chmod 755 "$work"
trap 'cluster_stop; rm -rf "$work"' EXIT
cluster_start "$work/cluster" "shared_buffers = 1024MB" "max_wal_size = 8GB" "checkpoint_timeout = 1h" "autovacuum = off" \
  "jit = off" "shared_preload_libraries = 'pg_stat_statements'" "pg_stat_statements.track = all" \
  "pg_stat_statements.track_planning = on" "pg_stat_statements.max = 1000"

sql() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
sql -v source_rows="$rows" -f "$BENCH_SQL/setup.sql" >/dev/null
sql >/dev/null <<EOF
CREATE EXTENSION pg_stat_statements;
SELECT bench.recreate('restore_inv', $rows, 'none');
SELECT public.deleted_record_attach('bench.restore_inv', on_truncate => 'ignore');
DELETE FROM bench.restore_inv;
CREATE TABLE bench.restore_archive AS SELECT * FROM public.deleted_record;
CREATE TABLE bench.restore_ids AS SELECT array_agg(id ORDER BY id) AS ids FROM bench.restore_archive;
CREATE TABLE bench.profile (contender text, run int, statement text, plan_ms float8, exec_ms float8, calls bigint, rows bigint);
EOF

# statement_label QUERY prints a short name for a statement pg_stat_statements recorded.
label_sql="CASE
  WHEN query LIKE 'SELECT count(*) FILTER%' THEN '0 the call: SELECT ... FROM deleted_record_restore(ids) (all of it)'
  WHEN query LIKE 'SELECT bench.restore_set%' THEN '0 the call: SELECT bench.restore_set(ids) (all of it)'
  WHEN query LIKE 'SELECT s.id, a.schema_name%' THEN '1 read the selection: unnest(ids) LEFT JOIN deleted_record'
  WHEN query LIKE 'SELECT (SELECT pg_catalog.array_agg(DISTINCT k)%' THEN '2 keys of data: array_agg(DISTINCT jsonb_object_keys), masked keys'
  WHEN query LIKE 'SELECT c.conrelid%' THEN '3 foreign keys between the tables (pg_constraint)'
  WHEN query LIKE 'INSERT INTO%jsonb_populate_record%' THEN '4 INSERT ... SELECT jsonb_populate_record ... WHERE id = ANY(ids)'
  WHEN query LIKE 'UPDATE%restored_at = pg_catalog.now()%' THEN '5 mark restored: UPDATE deleted_record ... WHERE id = ANY(ids)'
  WHEN query LIKE 'WITH r AS (UPDATE%' THEN '1 WITH r AS (UPDATE ... RETURNING data) INSERT ... jsonb_populate_record'
  ELSE '9 other: ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 60) END"

for run in $(seq "$runs"); do
  for c in restore set; do
    sql -c "SELECT bench.restore_reset('restore_inv')" >/dev/null
    sql -c "VACUUM (ANALYZE) public.deleted_record" -c "VACUUM (ANALYZE) bench.restore_inv" -c "CHECKPOINT"
    if [ "$c" = restore ]; then
      call="SELECT count(*) FILTER (WHERE x.outcome = 'restored') FROM bench.restore_ids r, public.deleted_record_restore(r.ids) x"
    else
      call="SELECT bench.restore_set(r.ids) FROM bench.restore_ids r"
    fi
    sql -c "SELECT pg_stat_statements_reset()" >/dev/null
    n=$(sql -c "$call")
    [ "$n" -eq "$rows" ] || { echo "error: $c restored $n rows, expected $rows" >&2; exit 1; }
    sql -c "INSERT INTO bench.profile SELECT '$c', $run, $label_sql, total_plan_time, total_exec_time, calls, rows
              FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE 'SELECT bench.restore_outcome%'"
    echo "==> run $run: $c done" >&2
  done
done

echo "deleted_record_restore vs the hand-written set-based statement: $rows archived invoices, medians of $runs runs"
echo "machine: $(nproc) CPUs, 1-minute load average $(cut -d' ' -f1 /proc/loadavg) at the end; server: $(sql -c 'SHOW server_version')"
for c in restore set; do
  echo
  sql -F ' | ' -P footer=off <<EOF
\\pset format aligned
\\pset tuples_only off
SELECT substr(statement, 3) AS "$c: statement", round(percentile_cont(0.5) WITHIN GROUP (ORDER BY plan_ms)::numeric, 1) AS "plan ms",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY exec_ms)::numeric, 1) AS "execute ms",
       max(calls) AS calls, max(rows) AS rows
  FROM bench.profile WHERE contender = '$c' GROUP BY statement ORDER BY statement;
EOF
done
