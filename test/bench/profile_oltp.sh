#!/usr/bin/env bash
# Instructions per one-row DELETE transaction, the OLTP benchmark's statement, for each of its
# contenders (no trigger, the article's plpgsql trigger, the extension): runs N (default 2,000)
# single-row DELETEs by invoice number, each its own transaction, in a single-user backend under
# valgrind's callgrind, minus a run without the DELETEs (startup, LOAD), divided by N. Instruction
# counts are repeatable whatever else the machine is doing, unlike scripts/bench.sh's TPS; they
# leave out the client, the protocol and waiting (a single-user backend reads statements from its
# standard input, simple query protocol, no pgbench).
# Usage: test/bench/profile_oltp.sh [deletes]
# With PROFILE_KEEP=DIR, each contender's callgrind output is kept as DIR/callgrind.CONTENDER
# (callgrind_annotate --inclusive=yes DIR/callgrind.ext shows where the instructions go).
# With PROFILE_ARCHIVE_ROWS=N, the archive's current partition first gets N rows of earlier
# transactions (ids, xact_ids and xact_keys all older than the profiled deletes', objects
# spread): the deletes then write into indexes of a production size, several levels deep,
# instead of the one-page indexes of an empty archive.
# With PROFILE_SQL=FILE, FILE's statements run after the setup, before the archive is filled (to
# measure another index of the archive, say: drop one of the current partition's, create another).
set -euo pipefail
for var in $(compgen -e); do
  if [[ "$var" =~ ^PG[A-Z]+$ ]]; then unset "$var"; fi
done
unset VALGRIND_LOG_DIR
source "$(dirname "$0")/../../scripts/lib/common.sh"
BENCH_SQL=$REPO_ROOT/test/bench
n=${1:-2000}

ensure_prereqs valgrind
build_and_install
work=$(mktemp -d /tmp/deleted_record_profile_oltp.XXXXXX)
chmod 755 "$work"
trap 'cluster_stop; rm -rf "$work"' EXIT
cluster_start "$work/cluster" "autovacuum = off" "jit = off"

psql -X -q -v ON_ERROR_STOP=1 -v source_rows="$n" -f "$BENCH_SQL/setup.sql" >/dev/null
for c in none plpgsql ext; do
  psql -X -q -At -v ON_ERROR_STOP=1 -c "SELECT bench.recreate('p_$c', $n, '$c')" \
       -c "CREATE UNIQUE INDEX ON bench.p_$c (invoice_no)" -c "VACUUM ANALYZE bench.p_$c" >/dev/null
done
if [ -n "${PROFILE_SQL:-}" ]; then
  psql -X -q -v ON_ERROR_STOP=1 -f "$PROFILE_SQL" >/dev/null
fi
if [ "${PROFILE_ARCHIVE_ROWS:-0}" -gt 0 ]; then
  psql -X -q -v ON_ERROR_STOP=1 -c "INSERT INTO public.deleted_record (id, data, object_id, table_name, schema_name, xact_id, xact_key)
      SELECT public.deleted_record_uuid7(), jsonb_build_object('id', g), md5(g::text), 'history', 'bench',
             g - $PROFILE_ARCHIVE_ROWS - 1, public.deleted_record_uuid7()::text
        FROM generate_series(1, $PROFILE_ARCHIVE_ROWS) g" -c "VACUUM ANALYZE public.deleted_record" >/dev/null
fi
psql -X -q -c "CHECKPOINT"
as_server_user "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -w stop >/dev/null
out="$work/profile"
mkdir -p "$out"
chown "$(server_user)" "$out"

# instructions FILE: runs the statements in FILE in a single-user backend under callgrind and
# prints the program's total instruction count.
instructions() {
  as_server_user bash -c "cd '$out' && valgrind --tool=callgrind --callgrind-out-file='$out/callgrind.out' \
    '$PGBIN/postgres' --single -D '$CLUSTER_DIR/data' postgres <'$1'" >"$work/valgrind.log" 2>&1 \
    || { cat "$work/valgrind.log" >&2; exit 1; }
  callgrind_annotate "$out/callgrind.out" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done { gsub(",", "", $1); print $1; done = 1 }'
}

# Every contender's session loads the library first, as pgbench sessions of an attached table do
# on their first delete (and the statement that loads it cannot batch its rows).
printf "LOAD 'deleted_record';\n" >"$out/baseline.sql"
base=$(instructions "$out/baseline.sql")
printf '%-40s %14s\n' "contender ($n one-row DELETE transactions)" "instr/delete"
declare -A per
for c in none plpgsql ext; do
  { printf "LOAD 'deleted_record';\n"; seq 1 "$n" | sed "s/.*/DELETE FROM bench.p_$c WHERE invoice_no = &;/"; } >"$out/$c.sql"
  total=$(instructions "$out/$c.sql")
  per[$c]=$(( (total - base) / n ))
  if [ -n "${PROFILE_KEEP:-}" ]; then mkdir -p "$PROFILE_KEEP" && cp "$out/callgrind.out" "$PROFILE_KEEP/callgrind.$c"; fi
  case $c in none) label="no trigger" ;; plpgsql) label="plpgsql row trigger (article)" ;; ext) label="deleted_record extension" ;; esac
  printf '%-40s %14d\n' "$label" "${per[$c]}"
done
# The remaining rows must be gone and archived (a statement that failed would not be counted).
as_server_user "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w start >/dev/null
for c in none plpgsql ext; do
  left=$(psql -X -At -c "SELECT count(*) FROM bench.p_$c")
  [ "$left" -eq 0 ] || { echo "error: $left rows of bench.p_$c were not deleted" >&2; exit 1; }
done
archived_ext=$(psql -X -At -c "SELECT count(*) FROM public.deleted_record WHERE table_name = 'p_ext'")
archived_pl=$(psql -X -At -c "SELECT count(*) FROM article.deleted_record WHERE table_name = 'p_plpgsql'")
[ "$archived_ext" -eq "$n" ] && [ "$archived_pl" -eq "$n" ] \
  || { echo "error: archived $archived_ext (extension) and $archived_pl (plpgsql) of $n rows" >&2; exit 1; }
printf 'extension - no trigger: %d instructions per delete; plpgsql - no trigger: %d\n' \
  $(( per[ext] - per[none] )) $(( per[plpgsql] - per[none] ))
