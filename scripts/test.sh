#!/usr/bin/env bash
# Runs every test of deleted_record and ends with one line "N passed, N failed":
#   unit tests of the C++ core (GoogleTest via ctest), the pg_regress suite, the isolation
#   specs, and the shell tests under test/shell/ (dump/restore, poolers, crashes, upgrades),
#   all against a throwaway PostgreSQL cluster that never runs as root.
# Usage: scripts/test.sh [--valgrind]   (--valgrind runs the server under valgrind memcheck)
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

VALGRIND=0
for arg in "$@"; do
  case "$arg" in
    --valgrind) VALGRIND=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) die "unknown option $arg (see --help)" ;;
  esac
done

passed=0
failed=0
skipped=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); }

if [ "$VALGRIND" -eq 1 ]; then ensure_prereqs valgrind; else ensure_prereqs; fi
cd "$REPO_ROOT"
work=$(mktemp -d /tmp/deleted_record_test.XXXXXX)
chmod 755 "$work"
trap 'cluster_stop; rm -rf "$work"' EXIT

# 1. Unit tests of the PostgreSQL-free core.
log "unit tests (GoogleTest)"
if cmake -S . -B build/core -DWERROR=ON >"$work/cmake.log" 2>&1 && cmake --build build/core -j2 >>"$work/cmake.log" 2>&1; then
  ctest --test-dir build/core --output-on-failure >"$work/ctest.log" 2>&1
  summary=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$work/ctest.log" | tail -1)
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$summary")
  bad=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$summary")
  if [ -z "$summary" ]; then cat "$work/ctest.log"; count 0 1; else count $((total - bad)) "$bad"; fi
  [ "${bad:-1}" = 0 ] || cat "$work/ctest.log"
  grep -E 'tests passed' "$work/ctest.log" >&2
else
  cat "$work/cmake.log"; count 0 1
fi

# 2. Build and install the extension.
build_and_install || { echo "0 passed, $((failed + 1)) failed"; exit 1; }

# 3. A throwaway cluster, optionally under valgrind.
if [ "$VALGRIND" -eq 1 ]; then
  export VALGRIND_LOG_DIR="$work/valgrind"; mkdir -p "$VALGRIND_LOG_DIR"; chmod 777 "$VALGRIND_LOG_DIR"
fi
cluster_start "$work/cluster"

# 4. pg_regress suite and isolation specs.
log "pg_regress suite and isolation specs"
# Run separately: PGXS stops after a failing pg_regress run and would skip the specs.
make -s installcheck ISOLATION= PG_CONFIG="$PGBIN/pg_config" >"$work/installcheck.log" 2>&1
make -s installcheck REGRESS= PG_CONFIG="$PGBIN/pg_config" >>"$work/installcheck.log" 2>&1
cat "$work/installcheck.log" >&2
ok_lines=$(grep -cE '\.\.\. ok' "$work/installcheck.log")
bad_lines=$(grep -cE '\.\.\. (FAILED|failed)' "$work/installcheck.log")
count "$ok_lines" "$bad_lines"
for diffs in regression.diffs output_iso/regression.diffs; do
  if [ -s "$diffs" ]; then echo "---- $diffs"; cat "$diffs"; fi
done
if [ "$ok_lines" -eq 0 ] && [ "$bad_lines" -eq 0 ]; then count 0 1; fi

# 5. Shell tests: each prints TAP lines; a script that dies without reporting counts as one failure.
for t in test/shell/*.sh; do
  [ -e "$t" ] || continue
  log "shell test $t"
  out="$work/$(basename "$t").log"
  bash "$t" >"$out" 2>&1
  rc=$?
  cat "$out" >&2
  p=$(grep -E '^ok [0-9]+' "$out" | grep -vc '# SKIP'); f=$(grep -cE '^not ok [0-9]+' "$out")
  skipped=$((skipped + $(grep -E '^ok [0-9]+' "$out" | grep -c '# SKIP')))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "# $t exited with $rc" >&2; fi
  count "$p" "$f"
done

# 6. Under valgrind, any memcheck error in a server process is a failure.
if [ "$VALGRIND" -eq 1 ]; then
  cluster_stop
  # valgrind runs with --quiet, which prints no ERROR SUMMARY: every error it reports comes with a
  # stack ("at 0x..."), so a log holding a stack frame is a process with an error. Logs whose stacks
  # go through deleted_record.so are shown first.
  bad=$(grep -l -E '^==[0-9]+== +(at|by) 0x|ERROR SUMMARY: [1-9]' "$VALGRIND_LOG_DIR"/* 2>/dev/null)
  if [ -z "$bad" ]; then
    count 1 0
  else
    count 0 1
    ours=$(grep -l 'deleted_record' $bad)
    echo "valgrind: errors in $(wc -l <<<"$bad") server process(es), $(grep -c . <<<"$ours") of them in deleted_record.so"
    { [ -z "$ours" ] || cat $ours; cat $bad; } | head -300
  fi
fi

if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
[ "$failed" -eq 0 ]
