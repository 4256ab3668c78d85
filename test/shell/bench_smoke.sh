#!/usr/bin/env bash
# Smoke test of scripts/bench.sh: a --quick run (its own throwaway cluster, about a minute and a
# half) completes, prints a line for every contender in each of its four tables, every contender
# deleted the rows it should and archived exactly those (none for "no trigger"), every restore
# contender put back every archived row and marked it, and the ratios are judged against all
# eight targets. (bench.sh runs its server natively even under scripts/test.sh --valgrind, so
# this takes as long there too.)
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
# ("Bulk:", "OLTP:", "Memory:" or "Restore:"): median, ratio to the first contender, the two row
# counts (deleted and archived; restored and marked), runs.
row() {
  awk -v s="$1" -v l="$2" '/^(Bulk|OLTP|Memory|Restore):/ { cur = $1 } cur == s && index($0, l) == 1 { print substr($0, length(l) + 1) }' "$out"
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
restore_rows=$(sed -n 's/^Restore: \([0-9]*\) archived invoices.*/\1/p' "$out")
for label in "deleted_record_restore(ids)" "hand-written set-based statement" "row-by-row plpgsql loop"; do
  line=$(row Restore: "$label")
  if [ -z "$line" ]; then not_ok "Restore: $label: table line printed"; continue; fi
  ok "Restore: $label: table line printed"
  read -r median _ restored marked _ <<<"$line"
  if [[ "$median" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then ok "Restore: $label: median $median"; else not_ok "Restore: $label: median is a number ($median)"; fi
  check "Restore: $label: rows restored" "${restore_rows:-missing}" "$restored"
  check "Restore: $label: archive rows marked restored" "${restore_rows:-missing}" "$marked"
done
check "eight targets judged PASS or MISS" 8 "$(grep -cE '^  (PASS|MISS) ' "$out")"
check "machine line printed" 1 "$(grep -c '^machine: ' "$out")"
tap_done
