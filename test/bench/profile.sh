#!/usr/bin/env bash
# Where the time of an archived DELETE goes: runs one DELETE of N rows (default 20,000) from the
# benchmark's 11-column invoice table in a single-user backend under valgrind's callgrind, and
# prints the instructions per deleted row by phase. Instruction counts are repeatable, whatever
# else the machine is doing. Usage: test/bench/profile.sh [rows]
# With PROFILE_CTE=1 the table is detached and the DELETE is scripts/bench.sh's hand-written CTE
# contender into an archive of the same shape and indexes: its total instructions per row, the
# figure the bulk target compares with. With PROFILE_KEEP=DIR the callgrind output is kept as
# DIR/callgrind.bulk (or DIR/callgrind.cte).
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
statement="DELETE FROM invoice;"
kept=bulk
if [ "${PROFILE_CTE:-0}" = 1 ]; then
  kept=cte
  psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT deleted_record_detach('invoice');
CREATE TABLE archive_cte (LIKE public.deleted_record INCLUDING ALL);
ALTER TABLE archive_cte ADD PRIMARY KEY (id);
CREATE INDEX ON archive_cte (table_name, object_id);
CREATE INDEX ON archive_cte (xact_id);
CREATE INDEX ON archive_cte (xact_key);
CHECKPOINT;
SQL
  # scripts/bench.sh's bulk_statement cte, over this table.
  statement="WITH d AS (DELETE FROM invoice RETURNING *)
INSERT INTO archive_cte (id, data, object_id, table_name, schema_name, actor, reason, metadata,
                         xact_id, session_user_name, current_user_name, xact_key)
SELECT public.deleted_record_uuid7(), to_jsonb(d), d.id::text, 'invoice', 'public',
       nullif(current_setting('deleted_record.actor', true), ''),
       nullif(current_setting('deleted_record.reason', true), ''),
       nullif(current_setting('deleted_record.metadata', true), '')::jsonb,
       pg_current_xact_id()::text::bigint, session_user, current_user, (SELECT public.deleted_record_uuid7()::text)
  FROM d;"
fi
as_server_user "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -w stop >/dev/null
out="$work/profile"   # written by the server's account
mkdir -p "$out"
chown "$(server_user)" "$out"
# LOAD first: the statement that loads the library cannot batch (its end hook is not installed yet).
{ printf "LOAD 'deleted_record';\n"; tr '\n' ' ' <<<"$statement"; echo; } >"$out/delete.sql"
as_server_user bash -c "cd '$out' && valgrind --tool=callgrind --callgrind-out-file='$out/callgrind.out' \
  '$PGBIN/postgres' --single -D '$CLUSTER_DIR/data' postgres <'$out/delete.sql'" >"$work/valgrind.log" 2>&1
as_server_user "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w start >/dev/null

callgrind_annotate --inclusive=yes "$out/callgrind.out" >"$work/inclusive.txt" 2>/dev/null
if [ -n "${PROFILE_KEEP:-}" ]; then mkdir -p "$PROFILE_KEEP" && cp "$out/callgrind.out" "$PROFILE_KEEP/callgrind.$kept"; fi
# inclusive FUNCTION: instructions spent in FUNCTION and everything it calls.
inclusive() { awk -v f="$1" '$0 ~ (":" f "[ (\\[]") { gsub(",", "", $1); print $1; exit }' "$work/inclusive.txt"; }
total=$(grep -m1 'PROGRAM TOTALS' "$work/inclusive.txt" | awk '{gsub(",", "", $1); print $1}')
left=$(psql -X -At -c "SELECT count(*) FROM invoice")
[ "$left" -eq 0 ] || die "the DELETE under callgrind failed: $left rows left"
if [ "$kept" = cte ]; then
  printf '%-58s %9d\n' "hand-written CTE ($rows-row DELETE), total instr/row" $(( total / rows ))
  printf '%-58s %9d\n' "  of which index inserts (the same four indexes)" $(( $(inclusive ExecInsertIndexTuples) / rows ))
  exit 0
fi
executor=$(inclusive standard_ExecutorRun)
after_triggers=$(inclusive AfterTriggerEndQuery)
trigger=$(inclusive deleted_record_insert)
convert=$(inclusive 'deleted_record::glue::ConvertRow')
flush=$(inclusive 'deleted_record::glue::WriteArchiveRows')
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
row "archive index inserts (id, table_name+object_id, xact_id, xact_key)" "$indexes"
row "rest of the flush (open, identity switch, slots)" "$((flush - heap - indexes))"
row "everything else (parse, plan, commit)" "$((total - executor - after_triggers))"
row "total" "$total"
row "of which WAL record assembly (XLogInsert, all phases)" "$wal"
