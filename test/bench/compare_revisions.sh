#!/usr/bin/env bash
# Instructions per archived row (valgrind callgrind) of deleted_record at several git revisions,
# on the same server and data: a 20,000-row DELETE from the benchmark's 11-column invoice table
# in a single-user backend, as test/bench/profile.sh runs it. Instruction counts repeat exactly
# whatever else the machine does, so small differences between revisions show (the Citus support
# was checked this way to cost nothing on servers without Citus). Each revision is built from
# git (committed files only) into the cache and run from a private installation; nothing
# system-wide changes. Usage: test/bench/compare_revisions.sh REV [REV...]   (ROWS=n to resize)
set -uo pipefail
source "$(dirname "$0")/../lib/citus_cluster.sh"   # for deleted_record_stage_rev and citus_stage
rows=${ROWS:-20000}
[ $# -gt 0 ] || die "usage: $0 REV [REV...]"
ensure_prereqs valgrind
for rev in "$@"; do
  DELETED_RECORD_STAGED=$(deleted_record_stage_rev "$rev") || exit 1
  dir=$(mktemp -d /tmp/deleted_record_revisions.XXXXXX); chmod 755 "$dir"
  saved=$PGBIN
  PGBIN=$(citus_stage "$dir/pg")
  cluster_start "$dir/cluster" >/dev/null
  psql -X -q -v ON_ERROR_STOP=1 -v rows="$rows" -f "$REPO_ROOT/test/bench/profile_setup.sql" || die "setup failed at $rev"
  as_server_user "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -w stop >/dev/null
  out="$dir/profile"; mkdir -p "$out"; chown "$(server_user)" "$out"
  # LOAD first: the statement that loads the library cannot batch (its end hook is not installed yet).
  printf "LOAD 'deleted_record';\nDELETE FROM invoice;\n" >"$out/delete.sql"
  as_server_user bash -c "cd '$out' && valgrind --tool=callgrind --callgrind-out-file='$out/callgrind.out' \
    '$PGBIN/postgres' --single -D '$CLUSTER_DIR/data' postgres <'$out/delete.sql'" >"$dir/valgrind.log" 2>&1 \
    || die "callgrind run failed at $rev (see $dir/valgrind.log)"
  callgrind_annotate --inclusive=yes "$out/callgrind.out" >"$dir/inclusive.txt" 2>/dev/null
  total=$(grep -m1 'PROGRAM TOTALS' "$dir/inclusive.txt" | awk '{gsub(",", "", $1); print $1}')
  trigger=$(awk '$0 ~ ":deleted_record_insert[ (\\[]" { gsub(",", "", $1); print $1; exit }' "$dir/inclusive.txt")
  printf '%-12s %8d instructions per deleted row, %8d of them in deleted_record_insert\n' \
    "$(git -C "$REPO_ROOT" rev-parse --short "$rev")" $((total / rows)) $((trigger / rows))
  PGBIN=$saved
  rm -rf "$dir"
done
