#!/usr/bin/env bash
# Where the time of an archived DELETE goes: runs one DELETE of N rows (default 20,000) from the
# benchmark's 11-column invoice table in a single-user backend under valgrind's callgrind, and
# prints the instructions per deleted row by phase. Instruction counts are repeatable, whatever
# else the machine is doing. Usage: test/bench/profile.sh [rows]
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
rows=${1:-20000}

ensure_prereqs valgrind
build_and_install
unset PGHOST PGPORT PGUSER PGDATABASE
work=$(mktemp -d /tmp/deleted_record_profile.XXXXXX)
chmod 755 "$work"
trap 'cluster_stop; rm -rf "$work"' EXIT
cluster_start "$work/cluster"

psql -X -q -v ON_ERROR_STOP=1 -v rows="$rows" -f "$REPO_ROOT/test/bench/profile_setup.sql"
as_server_user "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -w stop >/dev/null
out="$work/profile"   # written by the server's account
mkdir -p "$out"
chown "$(server_user)" "$out"
# LOAD first: the statement that loads the library cannot batch (its end hook is not installed yet).
printf "LOAD 'deleted_record';\nDELETE FROM invoice;\n" >"$out/delete.sql"
as_server_user bash -c "cd '$out' && valgrind --tool=callgrind --callgrind-out-file='$out/callgrind.out' \
  '$PGBIN/postgres' --single -D '$CLUSTER_DIR/data' postgres <'$out/delete.sql'" >"$work/valgrind.log" 2>&1
as_server_user "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w start >/dev/null

callgrind_annotate --inclusive=yes "$out/callgrind.out" >"$work/inclusive.txt" 2>/dev/null
# inclusive FUNCTION: instructions spent in FUNCTION and everything it calls.
inclusive() { awk -v f="$1" '$0 ~ (":" f "[ (\\[]") { gsub(",", "", $1); print $1; exit }' "$work/inclusive.txt"; }
total=$(grep -m1 'PROGRAM TOTALS' "$work/inclusive.txt" | awk '{gsub(",", "", $1); print $1}')
executor=$(inclusive standard_ExecutorRun)
after_triggers=$(inclusive AfterTriggerEndQuery)
trigger=$(inclusive deleted_record_insert)
convert=$(inclusive 'deleted_record::glue::ConvertRow')
flush=$(inclusive 'deleted_record::glue::FlushArchiveBuffer')
heap=$(inclusive heap_multi_insert)
indexes=$(inclusive ExecInsertIndexTuples)
wal=$(inclusive XLogInsert)
row() { printf '%-58s %9d %6.1f%%\n' "$1" $(( $2 / rows )) "$(echo "100 * $2 / $total" | bc -l)"; }
printf '%-58s %9s %7s\n' "phase (callgrind, $rows-row DELETE)" "instr/row" "share"
row "DELETE itself (scan, heap_delete, its WAL)" "$executor"
row "after-trigger queue: refetch OLD, call the trigger" "$((after_triggers - trigger))"
row "row -> jsonb and object_id (ConvertRow)" "$convert"
row "context, ids, forming the archive row" "$((trigger - convert - flush))"
row "archive heap insert (table_multi_insert, incl. its WAL)" "$heap"
row "archive index inserts (primary key, table_name+object_id)" "$indexes"
row "rest of the flush (open, identity switch, slots)" "$((flush - heap - indexes))"
row "everything else (parse, plan, commit)" "$((total - executor - after_triggers))"
row "total" "$total"
row "of which WAL record assembly (XLogInsert, all phases)" "$wal"
