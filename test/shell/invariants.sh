#!/usr/bin/env bash
# invariants: every committed delete of an attached table is archived exactly once, with its context.
# Runs test/random/invariants.py against a throwaway cluster: three deterministic scenarios (exception
# blocks whose subtransactions used to take archive rows with them), then a seeded random mix of
# deletes, cascades, partitions, TRUNCATE, savepoints, exception blocks, extra triggers and context
# settings, checked against a reference log after every transaction, then a self-test of the checks;
# then the lifecycle phase: three sessions restoring, dry-running, erasing and purging at once, checked
# by token against what the functions report (and its own self-test).
# Knobs (environment): INVARIANTS_SEED, INVARIANTS_TRANSACTIONS, INVARIANTS_EXCEPTION_BLOCKS=no-triggers|none,
# INVARIANTS_ONLY=scenarios|random|lifecycle, INVARIANTS_LIFECYCLE=0 (leaves the lifecycle phase out),
# INVARIANTS_LIFECYCLE_ROUNDS, INVARIANTS_LIFECYCLE_SESSIONS, INVARIANTS_ARTIFACTS (where reproduction
# scripts and logs go, default /tmp).
# Arguments are passed to invariants.py (--help lists them).
set -uo pipefail
source "$(dirname "$0")/../lib/own_cluster.sh"
ensure_prereqs python3-psycopg2

# Under valgrind the server is ~20 times slower: a smaller random part (about 2 minutes in all), and
# no autovacuum: its truncations send smgr invalidations, which memcheck misreports in a backend that
# sent catalog invalidations (sinval ring padding; Debian's server is not built with USE_VALGRIND).
conf=()
if [ -n "${VALGRIND_LOG_DIR:-}" ]; then
  export INVARIANTS_TRANSACTIONS=${INVARIANTS_TRANSACTIONS:-25}
  conf=("autovacuum = off")
fi

start_own_cluster invariants "${conf[@]}"

# Debian's python3 (python3-psycopg2), not whatever python3 comes first in PATH.
# invariants.py prints "ok - ..." / "not ok - ..." and "# ..." lines; number the checks as TAP here.
finished=0
while IFS= read -r line; do
  case "$line" in
    "ok - "*) ok "${line#ok - }" ;;
    "not ok - "*) not_ok "${line#not ok - }" ;;
    "__exit "*) rc=${line#__exit } ;;
    "# invariants.py finished: "*) finished=1; printf '%s\n' "$line" ;;
    *) printf '%s\n' "$line" ;;
  esac
done < <(/usr/bin/python3 -u "$REPO_ROOT/test/random/invariants.py" "$@" 2>&1; echo "__exit $?")
if [ "$finished" -ne 1 ]; then
  not_ok "invariants.py ran to completion (exit status ${rc:-unknown})"
fi

tap_done
