#!/usr/bin/env bash
# Benchmarks deleted_record against the usual ways of archiving deleted rows, on a throwaway
# cluster (same server, same generated invoices for every contender) and prints tables, ratios
# and PASS/MISS against the project's targets:
#   Bulk   - one DELETE of 100,000 invoices (11 columns, ~330 bytes as JSON), server wall time
#            including trigger firing and commit. Contenders: no trigger; hand-written CTE
#            (DELETE ... RETURNING -> INSERT); the original article's plpgsql row trigger; a
#            plpgsql statement trigger over a transition table; the extension.
#   OLTP   - pgbench, 2 clients, synchronous_commit = off, single-row DELETE by invoice number
#            on a 1,000,000-row table: no trigger, article's plpgsql trigger, extension (TPS).
#   Memory - peak growth of the backend's private memory (RssAnon, so shared buffers do not count)
#            during one 1,000,000-row DELETE in a new session: no trigger, article's plpgsql
#            trigger, extension (MB).
#   Restore - 100,000 archived invoices (archived by deleting them through the extension) put back
#            into their emptied table: deleted_record_restore(ids), the hand-written set-based
#            statement (UPDATE ... RETURNING data -> INSERT ... jsonb_populate_record), and a
#            row-by-row plpgsql loop doing the same per id (server wall time).
#   Import - (only with --only import; see test/bench/import.sh) 1M soft-deleted rows of 2M moved
#            by deleted_record_import: time, archive size, then the undelete of a migrated row.
#   Scale  - (only with --only scale; 12-25 minutes, see test/bench/scale.sh) archiving and purge
#            cost with an archive of 1,000,000 vs 8,000,000 rows, on a cluster confined to a
#            256 MB memory cgroup: the archive is many times larger than memory.
#   Citus  - (only with --only citus; see test/bench/citus_lookup.sh, which sets up its own
#            cluster and prints its own report) finding one transaction on a Citus cluster holding
#            a million archived rows.
# Runs alternate (round 1: every contender, round 2: every contender, ...); each figure is the
# median over the rounds. Every run starts from a rebuilt or refilled table, empty archives, a
# VACUUM and a CHECKPOINT, and is checked afterwards: the archive holds exactly the deleted rows.
# Cluster: shared_buffers = 1/4 of RAM up to 1 GB, max_wal_size = 8GB, checkpoint_timeout = 1h,
# autovacuum and JIT off, fsync off (as every throwaway cluster here); synchronous_commit = off
# only for the pgbench runs. Bulk times are psql's \timing over a Unix socket, with autocommit.
# Installs prerequisites and builds the extension first, so it is one command on a fresh machine.
# Usage: scripts/bench.sh [--quick] [--rounds N] [--duration SECONDS] [--only bulk|oltp|memory|restore|scale|import|citus]
#   --quick       small sizes, 1 round, 2 s pgbench runs (a smoke run of about a minute and a half;
#                 with --only scale: a smoke run of the scale benchmark at tiny sizes)
#   --rounds N    rounds per benchmark (default 5)
#   --duration S  seconds per pgbench run (default 5; every transaction deletes a different row,
#                 so a run may use at most half of the table's rows: it stops with an error beyond)
#   --only B      run one benchmark; the others' tables and targets then show "-" (scale, import
#                 and citus, which are not part of the default run, print their own reports)
# Results go to standard output (progress to standard error): scripts/bench.sh | tee results.txt
set -euo pipefail

# Only the throwaway cluster is ever used: drop any libpq settings of the caller. The server
# always runs natively, even when called from scripts/test.sh --valgrind (VALGRIND_LOG_DIR).
for var in $(compgen -e); do
  if [[ "$var" =~ ^PG[A-Z]+$ ]]; then unset "$var"; fi
done
unset VALGRIND_LOG_DIR
source "$(dirname "$0")/lib/common.sh"
BENCH_SQL=$REPO_ROOT/test/bench

ROUNDS=5
DURATION=5
ONLY=""          # run just one benchmark: bulk, oltp, memory, restore, scale, import or citus
QUICK=0
BULK_ROWS=100000
OLTP_ROWS=1000000
MEM_ROWS=1000000
RESTORE_ROWS=100000
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; ROUNDS=1; DURATION=2; BULK_ROWS=10000; OLTP_ROWS=500000; MEM_ROWS=100000; RESTORE_ROWS=5000 ;;
    --rounds) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "--rounds needs a positive number"; ROUNDS=$2; shift ;;
    --duration) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "--duration needs a positive number"; DURATION=$2; shift ;;
    --only) [[ "${2:-}" =~ ^(bulk|oltp|memory|restore|scale|import|citus)$ ]] || die "--only takes bulk, oltp, memory, restore, scale, import or citus"; ONLY=$2; shift ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

declare -A LABEL=(
  [none]="no trigger"
  [cte]="CTE: DELETE RETURNING -> INSERT"
  [plpgsql]="plpgsql row trigger (article)"
  [stmt]="plpgsql statement trigger (OLD TABLE)"
  [ext]="deleted_record extension"
  [restore]="deleted_record_restore(ids)"
  [set]="hand-written set-based statement"
  [row]="row-by-row plpgsql loop"
)
BULK_CONTENDERS=(none cte plpgsql stmt ext)
OLTP_CONTENDERS=(none plpgsql ext)
MEM_CONTENDERS=(none plpgsql ext)
RESTORE_CONTENDERS=(restore set row)
declare -A RESULT     # "bulk:ext" -> "ms ms ms ...", "oltp:ext" -> "tps ...", "mem:ext" -> "MB ..."
declare -A DELETED    # "bulk:ext" -> rows deleted over all runs (restore: rows restored)
declare -A ARCHIVED   # "bulk:ext" -> rows archived over all runs (restore: archive rows marked)

# sql runs psql quietly against the bench cluster, stopping at the first error.
sql() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# median LIST prints the median of a space-separated list of numbers.
median() {
  tr -s ' ' '\n' <<<"$1" | grep . | sort -g \
    | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B prints A / B with two decimals, or - when B is zero.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'; }

# paired KEY A B prints the median over rounds of A's figure / B's figure in the same round.
# Contenders of one round ran minutes apart at most, so pairing them cancels slower drifts in
# what else the machine (or a virtual machine's host) is doing; - when a figure is missing.
paired() {
  local -a a b
  read -r -a a <<<"${RESULT[$1:$2]:-}"
  read -r -a b <<<"${RESULT[$1:$3]:-}"
  [ ${#a[@]} -gt 0 ] && [ ${#a[@]} -eq ${#b[@]} ] || { echo -; return; }
  local i ratios=""
  for i in "${!a[@]}"; do ratios+="$(awk -v x="${a[$i]}" -v y="${b[$i]}" 'BEGIN { print (y == 0) ? 0 : x / y }') "; done
  ratio "$(median "$ratios")" 1
}

# target DESCRIPTION VALUE OP LIMIT prints PASS or MISS for "VALUE OP LIMIT" (OP is <= or >=).
target() {
  local verdict
  if [ "$2" = "-" ]; then printf '  %-4s %-52s %6s\n' "-" "$1" "not run"; return; fi
  verdict=$(awk -v v="$2" -v op="$3" -v l="$4" 'BEGIN { ok = (op == "<=") ? v <= l : v >= l; print ok ? "PASS" : "MISS" }')
  printf '  %-4s %-52s %6s %s %s\n' "$verdict" "$1" "$2" "$3" "$4"
}

# settle vacuums a table, then checkpoints, so that every run starts from the same state.
settle() {
  sql -c "VACUUM (ANALYZE) $1" -c "CHECKPOINT"
}

# record KEY CONTENDER OUTCOME EXPECTED: adds a run's row counts (OUTCOME: "deleted archived", from
# bench.outcome) and dies unless the run deleted EXPECTED rows and archived all of them (none of
# them for "no trigger").
record() {
  local key=$1 c=$2 expected=$4 deleted archived want
  read -r deleted archived <<<"$3"
  [ "$deleted" -eq "$expected" ] || die "$key ($c): deleted $deleted rows, expected $expected"
  if [ "$c" = none ]; then want=0; else want=$deleted; fi
  [ "$archived" -eq "$want" ] || die "$key ($c): deleted $deleted rows but archived $archived (expected $want)"
  DELETED[$key:$c]=$(( ${DELETED[$key:$c]:-0} + deleted ))
  ARCHIVED[$key:$c]=$(( ${ARCHIVED[$key:$c]:-0} + archived ))
}

# bulk_statement CONTENDER CONDITION prints the contender's DELETE of the invoices matching CONDITION.
# The CTE writes what the extension writes: a time-ordered id (deleted_record_uuid7(), as the
# original article's gen_ulid()), the context settings, the 64-bit transaction id as bigint, and
# one transaction key for all its rows (a UUIDv7 as text, as the extension's xact_key).
bulk_statement() {
  local c=$1 where=$2
  if [ "$c" = cte ]; then
    cat <<EOF
WITH d AS (DELETE FROM bench.bulk_cte WHERE $where RETURNING *)
INSERT INTO bench.archive_cte (id, data, object_id, table_name, schema_name, actor, reason, metadata,
                               xact_id, session_user_name, current_user_name, xact_key)
SELECT public.deleted_record_uuid7(), to_jsonb(d), d.id::text, 'bulk_cte', 'bench',
       nullif(current_setting('deleted_record.actor', true), ''),
       nullif(current_setting('deleted_record.reason', true), ''),
       nullif(current_setting('deleted_record.metadata', true), '')::jsonb,
       pg_current_xact_id()::text::bigint, session_user, current_user, (SELECT public.deleted_record_uuid7()::text)
  FROM d
EOF
  else
    echo "DELETE FROM bench.bulk_$c WHERE $where"
  fi
}

# bulk_run CONTENDER: rebuilds the contender's table (2 x BULK_ROWS invoices), warms the backend
# up with a rolled-back one-row delete, then times the DELETE of BULK_ROWS rows as psql sees it.
bulk_run() {
  local c=$1 total=$((2 * BULK_ROWS)) out ms outcome
  sql -c "SELECT bench.recreate('bulk_$c', $total, '$c')" >/dev/null
  settle "bench.bulk_$c"
  out=$(sql <<EOF
BEGIN;
$(bulk_statement "$c" "invoice_no = $total");
ROLLBACK;
\timing on
$(bulk_statement "$c" "invoice_no <= $BULK_ROWS");
EOF
)
  ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")
  [ -n "$ms" ] || die "bulk ($c): no timing in psql output: $out"
  outcome=$(sql -c "SELECT bench.outcome('bulk_$c', $total, '$c')")
  record bulk "$c" "$outcome" "$BULK_ROWS"
  RESULT[bulk:$c]+="$ms "
  log "bulk round $round: ${LABEL[$c]}: $ms ms"
}

# oltp_run CONTENDER: refills bench.oltp, gives it the contender's trigger and runs pgbench
# (2 clients, synchronous_commit = off, DURATION seconds) deleting random invoices one by one,
# each transaction a different one (the same sequence for every contender); checks that every
# transaction deleted and archived its row.
oltp_run() {
  local c=$1 out tps xacts outcome
  sql -c "SELECT bench.refill('oltp', $OLTP_ROWS, '$c')" >/dev/null
  settle bench.oltp
  out=$(PGOPTIONS="-c synchronous_commit=off" pgbench -n -M prepared -c 2 -j 2 -T "$DURATION" \
          --random-seed=20240101 -D rows="$OLTP_ROWS" -D clients=2 -D k=0 \
          -f "$BENCH_SQL/oltp_delete.pgbench" 2>&1) || die "pgbench failed: $out"
  tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' <<<"$out")
  xacts=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
  if [ -z "$tps" ] || [ -z "$xacts" ]; then die "oltp ($c): no TPS in pgbench output: $out"; fi
  # Client i takes positions i, i + clients, ... of the permutation: with clients of unequal
  # speed the busier one runs past the end (and repeats invoices) before all rows are used.
  [ $((2 * xacts)) -lt "$OLTP_ROWS" ] || die "oltp ($c): $xacts deletes need more than half of the $OLTP_ROWS rows; use a shorter --duration"
  outcome=$(sql -c "SELECT bench.outcome('oltp', $OLTP_ROWS, '$c')")
  record oltp "$c" "$outcome" "$xacts"
  RESULT[oltp:$c]+="$tps "
  log "oltp round $round: ${LABEL[$c]}: $tps TPS ($xacts rows)"
}

# rss_anon_kb PID prints the process's private resident memory (RssAnon, kB); fails once it is gone.
rss_anon_kb() {
  local key value rest
  while read -r key value rest; do
    if [ "$key" = RssAnon: ]; then echo "$value"; return 0; fi
  done 2>/dev/null <"/proc/$1/status"
  return 1
}

# mem_run CONTENDER: in a new session, deletes all MEM_ROWS rows of a fresh table in one statement
# while sampling the backend's RssAnon every 10 ms; records the peak minus the level of the idle
# session before it. RssAnon leaves out shared memory, so the shared buffers that the DELETE and
# the archive inserts touch do not count; loading the trigger's code and caches does.
mem_run() {
  local c=$1 app="bench_mem_$1" client pid="" base peak kb outcome
  sql -c "SELECT bench.recreate('mem_$c', $MEM_ROWS, '$c')" >/dev/null
  settle "bench.mem_$c"
  PGAPPNAME=$app sql >/dev/null <<EOF &
SELECT pg_sleep(1), 'baseline';
DELETE FROM bench.mem_$c;
SELECT pg_sleep(0.5), 'after';
EOF
  client=$!
  # Take the baseline while the session sleeps before the DELETE.
  until [ -n "$pid" ]; do
    kill -0 "$client" 2>/dev/null || die "memory ($c): the DELETE session ended early"
    pid=$(sql -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$app' AND state = 'active' AND query LIKE '%''baseline''%'")
    [ -n "$pid" ] || sleep 0.05
  done
  base=$(rss_anon_kb "$pid") || die "memory ($c): cannot read /proc/$pid/status"
  peak=$base
  while kill -0 "$client" 2>/dev/null && kb=$(rss_anon_kb "$pid"); do
    [ "$kb" -gt "$peak" ] && peak=$kb
    sleep 0.01
  done
  wait "$client" || die "memory ($c): the DELETE failed"
  outcome=$(sql -c "SELECT bench.outcome('mem_$c', $MEM_ROWS, '$c')")
  record mem "$c" "$outcome" "$MEM_ROWS"
  RESULT[mem:$c]+="$(awk -v k=$((peak - base)) 'BEGIN { printf "%.1f", k / 1024 }') "
  log "memory round $round: ${LABEL[$c]}: private memory peak +$(( (peak - base) / 1024 )) MB"
}

# restore_setup: archives RESTORE_ROWS invoices of bench.restore_inv by deleting them through the
# extension (the table stays attached, with on_truncate => 'ignore' so that runs can empty it),
# and keeps those archive rows and their ids for every run.
restore_setup() {
  local n
  sql >/dev/null <<EOF
SELECT bench.recreate('restore_inv', $RESTORE_ROWS, 'none');
SELECT public.deleted_record_attach('bench.restore_inv', on_truncate => 'ignore');
DELETE FROM bench.restore_inv;
CREATE TABLE bench.restore_archive AS SELECT * FROM public.deleted_record;
CREATE TABLE bench.restore_ids AS SELECT array_agg(id ORDER BY id) AS ids FROM bench.restore_archive;
EOF
  n=$(sql -c "SELECT count(*) FROM bench.restore_archive WHERE schema_name = 'bench' AND table_name = 'restore_inv'")
  [ "$n" -eq "$RESTORE_ROWS" ] || die "restore: $n archive rows after deleting $RESTORE_ROWS invoices"
}

# restore_statement CONTENDER IDS prints the contender's restore of the archive rows IDS (an
# expression of type uuid[] over bench.restore_ids r).
restore_statement() {
  case "$1" in
    restore) echo "SELECT count(*) FILTER (WHERE x.outcome = 'restored') FROM bench.restore_ids r, public.deleted_record_restore($2) x" ;;
    set) echo "SELECT bench.restore_set($2) FROM bench.restore_ids r" ;;
    row) echo "SELECT bench.restore_row($2) FROM bench.restore_ids r" ;;
  esac
}

# restore_run CONTENDER: resets the table (empty) and the archive (the archived rows, unmarked),
# vacuums and checkpoints, warms the backend up with a rolled-back restore of one row, then times
# the restore of all RESTORE_ROWS rows as psql sees it; checks that the table then holds exactly
# those rows, each equal to the invoice deleted, and that every archive row is marked restored.
restore_run() {
  local c=$1 out ms total equal marked
  sql -c "SELECT bench.restore_reset('restore_inv')" >/dev/null
  sql -c "VACUUM (ANALYZE) public.deleted_record" -c "VACUUM (ANALYZE) bench.restore_inv" -c "CHECKPOINT"
  out=$(sql <<EOF
BEGIN;
$(restore_statement "$c" "r.ids[1:1]");
ROLLBACK;
\timing on
$(restore_statement "$c" "r.ids");
EOF
)
  ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")
  [ -n "$ms" ] || die "restore ($c): no timing in psql output: $out"
  read -r total equal marked <<<"$(sql -c "SELECT bench.restore_outcome('restore_inv')")"
  [ "$total" -eq "$RESTORE_ROWS" ] || die "restore ($c): the table holds $total rows after restoring $RESTORE_ROWS"
  [ "$equal" -eq "$RESTORE_ROWS" ] || die "restore ($c): only $equal of $total restored rows equal the deleted invoices"
  [ "$marked" -eq "$RESTORE_ROWS" ] || die "restore ($c): $marked of $RESTORE_ROWS archive rows are marked restored"
  DELETED[restore:$c]=$(( ${DELETED[restore:$c]:-0} + total ))
  ARCHIVED[restore:$c]=$(( ${ARCHIVED[restore:$c]:-0} + marked ))
  RESULT[restore:$c]+="$ms "
  log "restore round $round: ${LABEL[$c]}: $ms ms"
}

# figures DECIMALS LIST prints a space-separated list of numbers rounded to DECIMALS.
figures() {
  awk -v d="$1" '{ for (i = 1; i <= NF; i++) printf "%s" (i < NF ? " " : "\n"), sprintf("%." d "f", $i) }' <<<"$2"
}

# print_table KEY UNIT DECIMALS CONTENDERS...: one line per contender with the median, the ratio
# to the first contender's median (column BASE_HEAD), the two row counts over all runs (columns
# COUNT_HEADS) and every run's figure.
BASE_HEAD="/none"
COUNT_HEADS="deleted archived"
print_table() {
  local key=$1 unit=$2 d=$3 c m base head1 head2; shift 3
  read -r head1 head2 <<<"$COUNT_HEADS"
  if [ -z "${RESULT[$key:$1]:-}" ]; then echo "  (not run)"; return; fi
  base=$(median "${RESULT[$key:$1]}")
  printf '%-40s %11s %8s %9s %9s  %s\n' contender "median $unit" "$BASE_HEAD" "$head1" "$head2" "runs ($unit)"
  for c in "$@"; do
    m=$(median "${RESULT[$key:$c]}")
    printf '%-40s %11s %8s %9s %9s  %s\n' "${LABEL[$c]}" "$(figures "$d" "$m")" "$(ratio "$m" "$base")" \
      "${DELETED[$key:$c]}" "${ARCHIVED[$key:$c]}" "$(figures "$d" "${RESULT[$key:$c]}")"
  done
}

# report_header prints the date, the machine, its load, the server and the cluster's settings.
report_header() {
  echo "deleted_record benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
       "$(awk '/^MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
  echo "load:    1-minute load average $LOAD_BEFORE before the runs, $(cut -d' ' -f1 /proc/loadavg) after (other busy processes skew the figures)"
  echo "server:  $(sql -c 'SELECT version()')"
  echo "cluster: $(printf '%s, ' "${CLUSTER_SETTINGS[@]}")fsync = off (throwaway cluster: measures CPU and WAL volume, not disk flushes)"
}

# report prints the header, the four tables, the ratios and the targets.
report() {
  local bulk_pl bulk_cte bulk_none oltp_pl oltp_none mem_pl restore_set row_restore row_set
  bulk_pl=$(paired bulk ext plpgsql); bulk_cte=$(paired bulk ext cte); bulk_none=$(paired bulk ext none)
  oltp_pl=$(paired oltp ext plpgsql); oltp_none=$(paired oltp ext none)
  mem_pl=$(paired mem ext plpgsql)
  restore_set=$(paired restore restore set); row_restore=$(paired restore row restore); row_set=$(paired restore row set)

  report_header
  echo "data:    invoices of 11 columns, $(sql -c "SELECT round(avg(length(to_jsonb(t)::text))) FROM bench.invoice_src t WHERE invoice_no <= 10000") bytes of JSON per row on average; $ROUNDS round(s), alternating, medians;"
  echo "         deleted/archived: rows over all runs (every run is checked: archived = deleted, none without trigger);"
  echo "         restored/marked: rows over all runs (every run is checked: the table holds exactly the deleted rows, all marked)"
  echo
  echo "Bulk: one DELETE of $BULK_ROWS rows from a table of $((2 * BULK_ROWS)) (ms, lower is better; VACUUM + CHECKPOINT before each run)"
  print_table bulk ms 1 "${BULK_CONTENDERS[@]}"
  echo
  echo "OLTP: pgbench -c 2 -T $DURATION, synchronous_commit = off, DELETE ... WHERE invoice_no = random on $OLTP_ROWS rows (TPS, higher is better)"
  print_table oltp TPS 0 "${OLTP_CONTENDERS[@]}"
  echo
  echo "Memory: one DELETE of $MEM_ROWS rows in a new session, peak growth of the backend's private memory (RssAnon sampled every 10 ms, MB)"
  print_table mem MB 1 "${MEM_CONTENDERS[@]}"
  echo
  echo "Restore: $RESTORE_ROWS archived invoices put back into their emptied table (ms, lower is better; archive rows rewritten unmarked, VACUUM + CHECKPOINT before each run)"
  BASE_HEAD="/restore" COUNT_HEADS="restored marked" print_table restore ms 1 "${RESTORE_CONTENDERS[@]}"
  echo
  echo "Ratios (median over rounds of the ratio within each round):"
  echo "  bulk    extension/plpgsql $bulk_pl  extension/CTE $bulk_cte  extension/no-trigger $bulk_none"
  echo "  oltp    extension/plpgsql $oltp_pl  extension/no-trigger $oltp_none"
  echo "  memory  extension/plpgsql $mem_pl"
  echo "  restore deleted_record_restore/set-based $restore_set  row-by-row/deleted_record_restore $row_restore  row-by-row/set-based $row_set"
  echo
  echo "Targets:"
  target "bulk: extension time / plpgsql time" "$bulk_pl" "<=" 0.50
  target "bulk: extension time / CTE time" "$bulk_cte" "<=" 0.45
  target "oltp: extension TPS / plpgsql TPS" "$oltp_pl" ">=" 1.50
  target "oltp: extension TPS / no-trigger TPS" "$oltp_none" ">=" 0.80
  target "oltp (stretch): extension TPS / no-trigger TPS" "$oltp_none" ">=" 0.85
  target "memory: extension peak / plpgsql peak" "$mem_pl" "<=" 1.10
  target "restore: restore time / set-based time" "$restore_set" "<=" 1.30
  target "restore: row-by-row time / restore time" "$row_restore" ">=" 5.00
}

ensure_prereqs
build_and_install

# The scale benchmark runs on a cluster of its own (small memory, in a memory cgroup).
if [ "$ONLY" = scale ]; then
  source "$BENCH_SQL/scale.sh"
  scale_main
  exit 0
fi
# So does the Citus benchmark (a coordinator and workers of its own).
if [ "$ONLY" = citus ]; then
  exec bash "$BENCH_SQL/citus_lookup.sh"
fi

# Large shared_buffers (a quarter of RAM, at most 1 GB) so the tables stay cached; no checkpoint
# or autovacuum in the middle of a run (the script checkpoints and vacuums between runs); no JIT.
shared_mb=$(awk '/^MemTotal/ { m = int($2 / 4096); print (m > 1024) ? 1024 : m }' /proc/meminfo)
CLUSTER_SETTINGS=("shared_buffers = ${shared_mb}MB" "max_wal_size = 8GB" "checkpoint_timeout = 1h"
                  "autovacuum = off" "jit = off")
work=$(mktemp -d /tmp/deleted_record_bench.XXXXXX)
chmod 755 "$work"
trap 'cluster_stop; rm -rf "$work"' EXIT
cluster_start "$work/cluster" "${CLUSTER_SETTINGS[@]}"
# The import benchmark (--only import, test/bench/import.sh) uses this cluster and its own tables.
if [ "$ONLY" = import ]; then
  source "$BENCH_SQL/import.sh"
  import_main
  exit 0
fi

wanted() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
source_rows=$( { wanted bulk && echo $((2 * BULK_ROWS)); wanted oltp && echo "$OLTP_ROWS"; wanted memory && echo "$MEM_ROWS"
                 echo "$RESTORE_ROWS"; } | sort -n | tail -1)
log "generating $source_rows invoices"
sql -v source_rows="$source_rows" -f "$BENCH_SQL/setup.sql" >/dev/null
if wanted oltp; then
  sql -c "SELECT bench.recreate('oltp', $OLTP_ROWS, 'none')" -c "CREATE UNIQUE INDEX ON bench.oltp (invoice_no)" >/dev/null
fi

LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
for round in $(seq "$ROUNDS"); do
  wanted bulk || break
  for c in "${BULK_CONTENDERS[@]}"; do bulk_run "$c"; done
done
for round in $(seq "$ROUNDS"); do
  wanted oltp || break
  for c in "${OLTP_CONTENDERS[@]}"; do oltp_run "$c"; done
done
for round in $(seq "$ROUNDS"); do
  wanted memory || break
  for c in "${MEM_CONTENDERS[@]}"; do mem_run "$c"; done
done
if wanted restore; then
  restore_setup
  for round in $(seq "$ROUNDS"); do
    for c in "${RESTORE_CONTENDERS[@]}"; do restore_run "$c"; done
  done
fi

report
