# For shell tests that need a cluster of their own (restarts, crashes, extra databases):
# start_own_cluster NAME [postgresql.conf lines...] creates a temporary directory ($tmp), starts
# a throwaway cluster in it, and on exit runs the test's on_exit function (if it defines one),
# stops the cluster and removes the directory. Also q, and the archive's full-content query.
# Sourcing it also brings scripts/lib/common.sh and tap.sh, and installs missing prerequisites.

source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
ensure_prereqs

# q [DB] PSQL-ARGS...: runs psql in database DB (default: $PGDATABASE), unaligned tuples only,
# stopping at the first error.
q() {
  local db=$PGDATABASE
  if [ $# -gt 0 ] && [[ "$1" != -* ]]; then db=$1; shift; fi
  psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# ARCHIVE_SQL lists every archived row with every column, in id order: equal output, equal archive.
ARCHIVE_SQL="SELECT id, data, object_id, table_name, schema_name, partition_name, actor, reason, metadata,
  xact_id, session_user_name, current_user_name, deleted_at, updated_at FROM deleted_record ORDER BY id"

cleanup_own_cluster() {
  if declare -F on_exit >/dev/null; then on_exit; fi
  cluster_stop
  rm -rf "$tmp"
}

start_own_cluster() {
  local name=$1; shift
  tmp=$(mktemp -d "/tmp/deleted_record_$name.XXXXXX")
  chmod 755 "$tmp"
  trap cleanup_own_cluster EXIT
  cluster_start "$tmp/cluster" "$@" >/dev/null
}
