# Minimal TAP helpers for the shell tests under test/shell/.
# Each check prints "ok N - what" or "not ok N - what"; scripts/test.sh counts these lines.
TAP_N=0
TAP_FAILED=0

# ok DESCRIPTION: records a passing check.
ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }

# not_ok DESCRIPTION: records a failing check.
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }

# check DESCRIPTION EXPECTED ACTUAL: passes when the two strings are equal.
check() {
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; printf '#   expected: %s\n#   actual:   %s\n' "$2" "$3"; fi
}

# tap_done prints the plan and exits non-zero when any check failed.
tap_done() { echo "1..$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; }
