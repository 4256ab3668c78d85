#!/usr/bin/env bash
# Smoke test of scripts/bench.sh: a --quick run (its own throwaway cluster, about a minute)
# completes, prints a line for every contender in each of its three tables, every contender
# deleted the rows it should and archived exactly those (none for "no trigger"), and the
# ratios are judged against all six targets. (bench.sh runs its server natively even under
# scripts/test.sh --valgrind, so this stays about a minute there too.)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source test/lib/tap.sh

out=$(mktemp)
trap 'rm -f "$out" "$out.err"' EXIT
timeout 600 bash scripts/bench.sh --quick >"$out" 2>"$out.err"
rc=$?
check "scripts/bench.sh --quick exits with status 0" 0 "$rc"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$out.err" | tail -20

# row SECTION LABEL prints the figures after LABEL on its line in the table under SECTION
# ("Bulk:", "OLTP:" or "Memory:"): median, ratio to no trigger, deleted, archived, runs.
row() {
  awk -v s="$1" -v l="$2" '/^(Bulk|OLTP|Memory):/ { cur = $1 } cur == s && index($0, l) == 1 { print substr($0, length(l) + 1) }' "$out"
}

# check_rows SECTION LABEL EXPECTED_DELETED: the contender's line exists, shows a median, and its
# deleted and archived counts are right (EXPECTED_DELETED empty: any positive number).
check_rows() {
  local section=$1 label=$2 expected=$3 line median deleted archived
  line=$(row "$section" "$label")
  if [ -z "$line" ]; then not_ok "$section $label: table line printed"; return; fi
  ok "$section $label: table line printed"
  read -r median _ deleted archived _ <<<"$line"
  if [[ "$median" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then ok "$section $label: median $median"; else not_ok "$section $label: median is a number ($median)"; fi
  if [ -n "$expected" ]; then
    check "$section $label: rows deleted" "$expected" "$deleted"
  elif [[ "$deleted" =~ ^[1-9][0-9]*$ ]]; then
    ok "$section $label: $deleted rows deleted"
  else
    not_ok "$section $label: rows deleted ($deleted)"
  fi
  if [ "$label" = "no trigger" ]; then
    check "$section $label: rows archived" 0 "$archived"
  else
    check "$section $label: rows archived = rows deleted" "$deleted" "$archived"
  fi
}

bulk_rows=$(sed -n 's/^Bulk: one DELETE of \([0-9]*\) rows.*/\1/p' "$out")
mem_rows=$(sed -n 's/^Memory: one DELETE of \([0-9]*\) rows.*/\1/p' "$out")
for label in "no trigger" "CTE: DELETE RETURNING -> INSERT" "plpgsql row trigger (article)" \
             "plpgsql statement trigger (OLD TABLE)" "deleted_record extension"; do
  check_rows Bulk: "$label" "${bulk_rows:-missing}"
done
for label in "no trigger" "plpgsql row trigger (article)" "deleted_record extension"; do
  check_rows OLTP: "$label" ""
  check_rows Memory: "$label" "${mem_rows:-missing}"
done
check "six targets judged PASS or MISS" 6 "$(grep -cE '^  (PASS|MISS) ' "$out")"
check "machine line printed" 1 "$(grep -c '^machine: ' "$out")"
tap_done
