#!/usr/bin/env bash
# Smoke test of scripts/bench.sh --only scale: a --quick run (tiny archives of 20,000 rows per
# month, its own throwaway cluster in a 256 MB memory cgroup, about a minute) completes, prints a
# line for each of the four delete contenders (every delete archived), the four purge lines
# (each purge removed exactly the expired month) and the lookup lines (restore_transaction,
# one object's history, a dry run of 1,000 ids, each finding its rows), judges the targets, and
# leaves no cgroup and no directory behind. Its figures say nothing about scale (the archives fit in memory). Skipped
# where the memory cgroup cannot be made (no cgroup v1 memory controller, or neither root nor sudo).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source test/lib/tap.sh

cgroup_base=/sys/fs/cgroup/memory
if [ ! -f "$cgroup_base/memory.limit_in_bytes" ] || { [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; }; then
  ok "scripts/bench.sh --only scale --quick # SKIP needs a cgroup v1 memory controller and root"
  tap_done
  exit $?
fi
out=$(mktemp)
trap 'rm -f "$out" "$out.err"' EXIT
timeout 600 bash scripts/bench.sh --only scale --quick >"$out" 2>"$out.err"
rc=$?
check "scripts/bench.sh --only scale --quick exits with status 0" 0 "$rc"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$out.err" | tail -20

# row SECTION LABEL prints the figures after LABEL on its line in the table under SECTION
# ("Deletes:" or "Purge:"): median, ratio, the two row counts, runs.
row() {
  awk -v s="$1" -v l="$2" '/^(Deletes|Purge|Lookups):/ { cur = $1 } cur == s && index($0, l) == 1 { print substr($0, length(l) + 1) }' "$out"
}

# lookup_rows TITLE LABEL prints the figures after LABEL in the lookup table whose title line
# (two spaces, then TITLE) precedes it.
lookup_rows() {
  awk -v t="  $1" -v l="$2" '/^[A-Z]/ || /^  [a-z]/ { cur = (index($0, t) == 1) ? t : "" } cur != "" && index($0, l) == 1 { print substr($0, length(l) + 1) }' "$out"
}

month_rows=$(sed -n 's/^data: *past months of \([0-9]*\) archive rows each.*/\1/p' "$out")
for size in "${month_rows:-x}" "$(( ${month_rows:-0} * 8 ))"; do
  for design in "1.1 partitioned" "1.0 design"; do
    label="$design, archive $size rows"
    line=$(row Deletes: "$label")
    if [ -z "$line" ]; then not_ok "Deletes: $label: table line printed"; else
      ok "Deletes: $label: table line printed"
      read -r median _ deleted archived _ <<<"$line"
      if [[ "$median" =~ ^[0-9]+$ ]] && [ "$median" -gt 0 ]; then ok "Deletes: $label: median $median TPS"; else not_ok "Deletes: $label: median is a number ($median)"; fi
      if [[ "$deleted" =~ ^[1-9][0-9]*$ ]]; then ok "Deletes: $label: $deleted rows deleted"; else not_ok "Deletes: $label: rows deleted ($deleted)"; fi
      check "Deletes: $label: rows archived = rows deleted" "$deleted" "$archived"
    fi
    line=$(row Purge: "$label")
    if [ -z "$line" ]; then not_ok "Purge: $label: table line printed"; else
      ok "Purge: $label: table line printed"
      read -r median _ expired removed _ <<<"$line"
      if [[ "$median" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then ok "Purge: $label: median $median us/row"; else not_ok "Purge: $label: median is a number ($median)"; fi
      check "Purge: $label: rows expired" "${month_rows:-missing}" "$expired"
      check "Purge: $label: rows removed = rows expired" "$expired" "$removed"
    fi
  done
done
# Lookups: each of the five, at both sizes, found what it was asked for and has a time (the
# time window's row count depends on the data: found must equal expected, and be some).
for size in "${month_rows:-x}" "$(( ${month_rows:-0} * 8 ))"; do
  label="1.1 partitioned, archive $size rows"
  for spec in "restore_transaction of a 10-row transaction:10" "one object's history:1" "dry-run restore of 1,000 archive ids:1000" \
              "erasure of 100 archive ids:100" "rows of one table in a one-hour window:window"; do
    title=${spec%:*}; want=${spec##*:}
    line=$(lookup_rows "$title" "$label")
    if [ -z "$line" ]; then not_ok "Lookups: $title, $label: table line printed"; continue; fi
    read -r median _ asked got _ <<<"$line"
    if [[ "$median" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then ok "Lookups: $title, $label: median $median ms"; else not_ok "Lookups: $title, $label: median is a number ($median)"; fi
    if [ "$want" = window ]; then
      if [[ "$asked" =~ ^[1-9][0-9]*$ ]] && [ "$asked" = "$got" ]; then ok "Lookups: $title, $label: $got rows, as expected"
      else not_ok "Lookups: $title, $label: rows expected = found > 0 ($asked, $got)"; fi
    else
      check "Lookups: $title, $label: rows" "$want $want" "$asked $got"
    fi
  done
done
check "two scale targets judged PASS or MISS" 2 "$(grep -cE '^  (PASS|MISS) scale: ' "$out")"
check "fifteen lookup targets judged PASS or MISS" 15 "$(grep -cE '^  (PASS|MISS) lookup: ' "$out")"
check "memory cgroup line printed" 1 "$(grep -c '^memory: *server in a cgroup v1 memory cgroup limited to 256 MB' "$out")"
# bench.sh names its cgroup and work directory on standard error.
cgroup=$(sed -n 's/^==> scale: memory cgroup \(.*\) of 256 MB$/\1/p' "$out.err")
work=$(sed -n 's/^==> scale: work directory \(.*\)$/\1/p' "$out.err")
if [ -n "$cgroup" ] && [ ! -e "$cgroup" ]; then ok "memory cgroup $cgroup removed"; else not_ok "memory cgroup removed (${cgroup:-not named})"; fi
if [ -n "$work" ] && [ ! -e "$work" ]; then ok "work directory $work removed"; else not_ok "work directory removed (${work:-not named})"; fi
tap_done
