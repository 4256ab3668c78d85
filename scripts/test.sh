#!/usr/bin/env bash
# Runs every test of deleted_record on every supported PostgreSQL version and ends with one line
# "N passed, N failed" totalling them all. Per version, against its own throwaway cluster that
# never runs as root: unit tests of the C++ core (GoogleTest via ctest), the build with -Werror,
# the pg_regress suite, the isolation specs, and the shell tests under test/shell/.
# Usage: scripts/test.sh [--all-versions | --pg N] [--valgrind] [--only PART]...
#   --all-versions  every supported version (15 18), one after the other; the default
#   --pg N          version N only (15: Debian's packages; 18: built from Debian's source once, cached)
#   --valgrind      runs the server under valgrind memcheck
#   --only PART     runs only that part (repeatable): unit, regress, isolation, or a shell test's
#                   name (test/shell/NAME.sh); for developers, CI runs everything
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

VALGRIND=0
VERSIONS=()
ONLY=()
while [ $# -gt 0 ]; do
  case "$1" in
    --valgrind) VALGRIND=1 ;;
    --only) [ $# -ge 2 ] || die "--only needs a part"; ONLY+=("$2"); shift ;;
    --all-versions) VERSIONS+=($PG_VERSIONS) ;;
    --pg) [ $# -ge 2 ] || die "--pg needs a version, one of: $PG_VERSIONS"; VERSIONS+=("$2"); shift ;;
    --pg=*) VERSIONS+=("${1#--pg=}") ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
[ ${#VERSIONS[@]} -gt 0 ] || VERSIONS=($PG_VERSIONS)
for v in "${VERSIONS[@]}"; do
  [[ "$v" =~ ^[0-9]+$ ]] || die "--pg takes a major version such as 18, not '$v'"
  [[ " $PG_VERSIONS " == *" $v "* ]] || log "note: PostgreSQL $v is not one of the supported versions ($PG_VERSIONS)"
done
VERSIONS=($(printf '%s\n' "${VERSIONS[@]}" | awk '!seen[$0]++'))

# summary_line PASSED FAILED SKIPPED prints "N passed, N failed" (", N skipped" when any were).
summary_line() {
  if [ "$3" -gt 0 ]; then echo "$1 passed, $2 failed, $3 skipped"; else echo "$1 passed, $2 failed"; fi
}

# Several versions: each runs as a child of this script (its own environment, build and cluster),
# which reports its counts and failing tests through DELETED_RECORD_TEST_RESULT.
if [ ${#VERSIONS[@]} -gt 1 ]; then
  results=$(mktemp -d /tmp/deleted_record_versions.XXXXXX)
  trap 'rm -rf "$results"' EXIT
  total_passed=0 total_failed=0 total_skipped=0 lines=() failures=()
  for v in "${VERSIONS[@]}"; do
    log "PostgreSQL $v: the whole suite"
    started=$SECONDS
    child_opts=(--pg "$v"); [ "$VALGRIND" -eq 0 ] || child_opts+=(--valgrind)
    for part in "${ONLY[@]}"; do child_opts+=(--only "$part"); done
    PG_MAJOR=$v DELETED_RECORD_TEST_RESULT="$results/$v" bash "$0" "${child_opts[@]}"
    rc=$?
    if [ -s "$results/$v" ]; then
      read -r p f s name <"$results/$v"
    else  # died before counting (prerequisites, the server build): one failure
      p=0 f=1 s=0 name="PostgreSQL $v"
      echo "[PG $v] the run stopped early with status $rc" >"$results/$v.failures"
    fi
    [ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || { f=1; echo "[PG $v] the run exited with status $rc" >>"$results/$v.failures"; }
    total_passed=$((total_passed + p)); total_failed=$((total_failed + f)); total_skipped=$((total_skipped + s))
    lines+=("$name: $(summary_line "$p" "$f" "$s") ($((SECONDS - started)) s)")
    [ -s "$results/$v.failures" ] && mapfile -t -O "${#failures[@]}" failures <"$results/$v.failures"
  done
  echo
  echo "==== summary"
  printf '%s\n' "${lines[@]}"
  if [ ${#failures[@]} -gt 0 ]; then echo "failed:"; printf '  %s\n' "${failures[@]}"; fi
  summary_line "$total_passed" "$total_failed" "$total_skipped"
  [ "$total_failed" -eq 0 ]
  exit
fi

# wanted PART is true when PART is to run (every part runs without --only).
wanted() {
  [ ${#ONLY[@]} -eq 0 ] && return 0
  local part; for part in "${ONLY[@]}"; do [ "$part" = "$1" ] && return 0; done
  return 1
}

# One version: the whole suite in this process.
export PG_MAJOR=${VERSIONS[0]}
TAG="PG $PG_MAJOR"
passed=0
failed=0
skipped=0
failures=()
count() { passed=$((passed + $1)); failed=$((failed + $2)); }
# fail_named NAME...: records failing tests by name, each marked with the version it ran on.
fail_named() { local n; for n in "$@"; do [ -n "$n" ] && failures+=("[$TAG] $n"); done; }
# tagged: shows a log with its failing lines marked with the version they ran on.
tagged() {
  sed -E "s/^(not ok [0-9]+ +[-+] )/\1[$TAG] /; /\.\.\. +(FAILED|failed)|\((Failed|Timeout|SEGFAULT|Subprocess aborted|Not Run)\)$/s/^/[$TAG] /"
}

# finish prints the failing tests and the counts; as a child of --all-versions it reports them
# to the parent, which prints the total.
finish() {
  local name="PostgreSQL ${PG_FULL_VERSION:-$PG_MAJOR}"
  if [ ${#failures[@]} -gt 0 ]; then echo "failed on $name:"; printf '  %s\n' "${failures[@]}"; fi
  echo "$name: $(summary_line "$passed" "$failed" "$skipped")"
  if [ -n "${DELETED_RECORD_TEST_RESULT:-}" ]; then
    echo "$passed $failed $skipped $name" >"$DELETED_RECORD_TEST_RESULT"
    [ ${#failures[@]} -eq 0 ] || printf '%s\n' "${failures[@]}" >"$DELETED_RECORD_TEST_RESULT.failures"
  else
    summary_line "$passed" "$failed" "$skipped"
  fi
  [ "$failed" -eq 0 ]
  exit
}

if [ "$VALGRIND" -eq 1 ]; then ensure_prereqs valgrind; else ensure_prereqs; fi
PG_FULL_VERSION=$(pg_version)
TAG="PG $PG_MAJOR"
log "[$TAG] testing against PostgreSQL $PG_FULL_VERSION ($PGBIN)"
cd "$REPO_ROOT"
work=$(mktemp -d /tmp/deleted_record_test.XXXXXX)
chmod 755 "$work"
trap 'cluster_stop; rm -rf "$work"' EXIT

# 1. Unit tests of the PostgreSQL-free core.
if ! wanted unit; then
  :
elif log "[$TAG] unit tests (GoogleTest)"; cmake -S . -B build/core -DWERROR=ON >"$work/cmake.log" 2>&1 && cmake --build build/core -j2 >>"$work/cmake.log" 2>&1; then
  ctest --test-dir build/core --output-on-failure >"$work/ctest.log" 2>&1
  summary=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$work/ctest.log" | tail -1)
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$summary")
  bad=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$summary")
  if [ -z "$summary" ]; then
    tagged <"$work/ctest.log"; count 0 1; fail_named "unit tests: ctest printed no summary"
  else
    count $((total - bad)) "$bad"
  fi
  if [ "${bad:-1}" != 0 ]; then
    tagged <"$work/ctest.log"
    mapfile -t names < <(sed -n '/The following tests FAILED:/,$p' "$work/ctest.log" | sed -nE 's/^[[:space:]]+[0-9]+ - (.*)$/unit test \1/p')
    fail_named "${names[@]}"
  fi
  grep -E 'tests passed' "$work/ctest.log" >&2
else
  tagged <"$work/cmake.log"; count 0 1; fail_named "unit tests: cmake build"
fi

# 2. Build and install the extension (warnings are errors).
if ! build_and_install; then
  count 0 1; fail_named "build of the extension (make WERROR=1 PG_CONFIG=$PGBIN/pg_config)"
  finish
fi

# 3. A throwaway cluster, optionally under valgrind.
if [ "$VALGRIND" -eq 1 ]; then
  export VALGRIND_LOG_DIR="$work/valgrind"; mkdir -p "$VALGRIND_LOG_DIR"; chmod 777 "$VALGRIND_LOG_DIR"
fi
cluster_start "$work/cluster"

# 4. pg_regress suite and isolation specs.
# regress_results KIND LOG COUNT counts the tests of one pg_regress run and names the failing ones. It
# reads both output formats: "test x ... ok" (15) and TAP "ok 1 - x" / "not ok 2 - x" (16 and later).
regress_results() {
  local kind=$1 log=$2 ok_lines bad_lines names
  ok_lines=$(grep -cE '\.\.\. +ok|^ok [0-9]+ +[-+] ' "$log")
  bad_lines=$(grep -cE '\.\.\. +(FAILED|failed)|^not ok [0-9]+ +[-+] ' "$log")
  count "$ok_lines" "$bad_lines"
  mapfile -t names < <(sed -nE -e 's/^(test +| +)?([^ ]+) +\.\.\. +(FAILED|failed).*/\2/p' \
                              -e 's/^not ok [0-9]+ +[-+] +([^ ]+).*/\1/p' "$log" | sed "s/^/$kind /")
  fail_named "${names[@]}"
  if [ "$ok_lines" -eq 0 ] && [ "$bad_lines" -eq 0 ]; then count 0 1; fail_named "$kind: no test ran"; fi
  # Every test must have run and been judged (a spec without an expected file is not "passed").
  if [ "$((ok_lines + bad_lines))" -ne "$3" ]; then
    count 0 1; fail_named "$kind: $((ok_lines + bad_lines)) of $3 tests were judged"
  fi
}
log "[$TAG] pg_regress suite and isolation specs"
# Run separately: PGXS stops after a failing pg_regress run and would skip the specs.
rm -f regression.diffs output_iso/regression.diffs
if wanted regress; then
  make -s installcheck ISOLATION= PG_CONFIG="$PGBIN/pg_config" >"$work/regress.log" 2>&1
  tagged <"$work/regress.log" >&2
  regress_results pg_regress "$work/regress.log" "$(ls test/sql/*.sql | wc -l)"
fi
if wanted isolation; then
  make -s installcheck REGRESS= PG_CONFIG="$PGBIN/pg_config" >"$work/isolation.log" 2>&1
  tagged <"$work/isolation.log" >&2
  regress_results isolation "$work/isolation.log" "$(ls test/isolation/specs/*.spec | wc -l)"
fi
for diffs in regression.diffs output_iso/regression.diffs; do
  if [ -s "$diffs" ]; then echo "---- [$TAG] $diffs"; cat "$diffs"; fi
done

# 5. Shell tests: each prints TAP lines; a script that dies without reporting counts as one failure.
# A test whose header says "# Runs on PostgreSQL: 15" applies to those versions only (Citus 13
# and Debian's packages exist for 15 only): on others it is not run, and says so.
for t in test/shell/*.sh; do
  [ -e "$t" ] || continue
  wanted "$(basename "$t" .sh)" || continue
  versions=$(sed -n 's/^# Runs on PostgreSQL: *//p' "$t" | head -1)
  if [ -n "$versions" ] && [[ " $versions " != *" $PG_MAJOR "* ]]; then
    log "[$TAG] shell test $t: not applicable (runs on PostgreSQL $versions)"
    continue
  fi
  log "[$TAG] shell test $t"
  out="$work/$(basename "$t").log"
  bash "$t" >"$out" 2>&1
  rc=$?
  tagged <"$out" >&2
  p=$(grep -E '^ok [0-9]+' "$out" | grep -vc '# SKIP'); f=$(grep -cE '^not ok [0-9]+' "$out")
  skipped=$((skipped + $(grep -E '^ok [0-9]+' "$out" | grep -c '# SKIP')))
  mapfile -t names < <(grep -E '^not ok [0-9]+' "$out" | sed "s|^|$t: |")
  fail_named "${names[@]}"
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "# [$TAG] $t exited with $rc" >&2; fail_named "$t: exited with $rc"; fi
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
    ours=$(grep -lE 'deleted_record\.so|deleted_record::' $bad)  # not the cache path /var/cache/deleted_record
    echo "[$TAG] valgrind: errors in $(wc -l <<<"$bad") server process(es), $(grep -c . <<<"$ours") of them in deleted_record.so"
    fail_named "valgrind: memcheck errors in $(wc -l <<<"$bad") server process(es)"
    { [ -z "$ours" ] || cat $ours; cat $bad; } | head -300
  fi
fi

finish
