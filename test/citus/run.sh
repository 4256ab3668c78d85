#!/usr/bin/env bash
# Runs the Citus experiments of this directory, each on a fresh cluster (test/lib/citus_cluster.sh),
# and keeps their transcripts. FINDINGS.md quotes these transcripts.
# Usage: test/citus/run.sh [--out DIR] [--rev REV|installed] [--version V|default] [NAME...]
#   NAME      experiments to run by prefix (01, 07_truncate, bench, ...); default: all but 10_bench
#   --out     where transcripts go (default: a new directory under /tmp, printed at the end)
#   --rev     deleted_record built from this commit (default 0c6d2ce: the 1.0 of the findings),
#             or 'installed' for the system-wide installation
#   --version extension version to create (default 1.0), or 'default' for the control file's
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=
rev=0c6d2ce
version=1.0
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --rev) rev=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) names+=("$1"); shift ;;
  esac
done
[ -n "$out" ] || out=$(mktemp -d /tmp/deleted_record_citus_results.XXXXXX)
mkdir -p "$out"
[ "$rev" = installed ] && rev=
[ "$version" = default ] && version=
export DELETED_RECORD_REV=$rev DELETED_RECORD_VERSION=$version

scripts=()
for f in "$here"/[0-9][0-9]_*.sh; do
  b=$(basename "$f" .sh)
  if [ ${#names[@]} -eq 0 ]; then
    [[ "$b" == 10_bench ]] || scripts+=("$f")
  else
    for n in "${names[@]}"; do [[ "$b" == "$n"* ]] && scripts+=("$f"); done
  fi
done
failed=0
for f in "${scripts[@]}"; do
  b=$(basename "$f" .sh)
  start=$SECONDS
  bash "$f" >"$out/$b.out" 2>&1
  rc=$?
  printf '%-28s exit %d, %3d s, %s\n' "$b" "$rc" $((SECONDS - start)) "$out/$b.out"
  # a crashed backend is never an expected result
  if [ "$rc" -ne 0 ] || grep -q 'server closed the connection unexpectedly\|terminated by signal' "$out/$b.out"; then
    failed=$((failed + 1))
  fi
done
echo "transcripts in $out; $failed of ${#scripts[@]} experiments failed or saw a crash"
[ "$failed" -eq 0 ]
