# A throwaway Citus cluster for tests and experiments: one coordinator and two workers on
# localhost, each its own PostgreSQL 15 cluster (own directory, port and socket directory),
# with deleted_record installed as `make install` put it on this machine.
#
#   source test/lib/citus_cluster.sh
#   citus_cluster_start                 # builds Citus once (cached), starts and registers 3 nodes
#   cq coord -c "SELECT * FROM citus_nodes"   # psql -qAt on a node: coord, w1, w2, ...; cpsql echoes
#   citus_add_worker w3                 # one more worker, started and registered (rebalance tests)
#   ...                                 # everything is stopped and removed on exit
#
# Citus is never installed into the machine's PostgreSQL. It is built once from the vendored
# tarball into a cache ($DELETED_RECORD_CACHE, default /var/cache/deleted_record: outside the
# checkout and readable by the postgres OS user). Each run then assembles a private
# PostgreSQL installation in its temporary directory: the Debian server's bin/ as hard links
# (copies if that fails), and lib/ and share/ as directories of symbolic links to the Debian
# files plus Citus's. PostgreSQL finds lib/ and share/ relative to the real path of its own
# binary, so a server started from that bin/ loads citus.so and finds citus.control there,
# while /usr/lib/postgresql/15 and /usr/share/postgresql/15 stay untouched. Because the links
# are made at each start, the run sees the deleted_record build that is installed right now.
#
# Environment:
#   CITUS_TARBALL          the Citus source (default: shared/vendor/citus-13.2.2.tar.gz next to the
#                          checkout, next to the repository it was cloned from, or above it)
#   DELETED_RECORD_CACHE   cache root (default /var/cache/deleted_record)
#   CITUS_DB               database created on every node (default citus_test)
#   CITUS_KEEP=1           leave the nodes running and the directory in place on exit (debugging)
#   DELETED_RECORD_VERSION create this version of deleted_record (default: the installed default)
#   DELETED_RECORD_REV     build deleted_record from this git revision of the checkout (git archive,
#                          so uncommitted work is never included) and use it instead of the
#                          system-wide installation: runs are then independent of whatever was
#                          last installed on the machine (built once per commit into the cache)
# After citus_cluster_start: PGHOST/PGPORT/PGDATABASE/PGUSER point at the coordinator;
# CITUS_DIR is the run's directory; CITUS_PORT[coord|w1|w2|...] and CITUS_SOCK[...] each node's.
# Sourcing this file also sources test/lib/own_cluster.sh (common.sh, tap.sh, q, ARCHIVE_SQL) and
# installs missing prerequisites.

source "$(dirname "${BASH_SOURCE[0]}")/own_cluster.sh"

CITUS_VERSION=13.2.2
# citus_find_tarball prints where the vendored Citus source is: the workplace keeps it in
# shared/vendor next to the checkout; a clone made elsewhere (a CI work directory) finds it next
# to the repository it was cloned from, or next to any directory above it.
citus_find_tarball() {
  local name=shared/vendor/citus-$CITUS_VERSION.tar.gz dir origin
  origin=$(git -C "$REPO_ROOT" config --get remote.origin.url 2>/dev/null || true)
  for dir in "$REPO_ROOT/.." "$origin/.."; do
    [ -n "$dir" ] && [ -f "$dir/$name" ] && { echo "$dir/$name"; return; }
  done
  dir=$REPO_ROOT
  while [ "$dir" != / ] && [ -n "$dir" ]; do
    [ -f "$dir/$name" ] && { echo "$dir/$name"; return; }
    dir=$(dirname "$dir")
  done
  echo "$REPO_ROOT/../$name"   # not found: the error names where it was expected
}
CITUS_TARBALL=${CITUS_TARBALL:-$(citus_find_tarball)}
CITUS_CACHE_ROOT=${DELETED_RECORD_CACHE:-/var/cache/deleted_record}
CITUS_PREFIX=$CITUS_CACHE_ROOT/citus-$CITUS_VERSION-pg$PG_MAJOR
CITUS_DB=${CITUS_DB:-citus_test}
CITUS_BUILD_DEPS="libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev libssl-dev libselinux1-dev libxslt1-dev libpam0g-dev libreadline-dev zlib1g-dev"

declare -A CITUS_PORT=() CITUS_SOCK=() CITUS_NODE_DIR=()
CITUS_NODES=()
CITUS_DIR=

# citus_build builds Citus into $CITUS_PREFIX unless it is there already. The build runs in a
# temporary directory under the cache root and is renamed into place only when complete, under
# an exclusive lock, so concurrent runs build it once and never see half an installation.
citus_build() {
  case "$PG_MAJOR" in
    15|16|17) ;;
    *) die "Citus $CITUS_VERSION supports PostgreSQL 15 to 17, not $PG_MAJOR (14.x needs 16 or later)" ;;
  esac
  [ -f "$CITUS_PREFIX/.complete" ] && return 0
  [ -f "$CITUS_TARBALL" ] || die "Citus source not found: $CITUS_TARBALL (set CITUS_TARBALL)"
  ensure_prereqs $CITUS_BUILD_DEPS
  if [ ! -d "$CITUS_CACHE_ROOT" ]; then
    as_root mkdir -p "$CITUS_CACHE_ROOT" && as_root chmod 755 "$CITUS_CACHE_ROOT"
    [ "$(id -u)" -eq 0 ] || as_root chown "$(id -un)" "$CITUS_CACHE_ROOT"
  fi
  [ -w "$CITUS_CACHE_ROOT" ] || die "cache $CITUS_CACHE_ROOT is not writable (set DELETED_RECORD_CACHE)"
  (
    umask 022
    exec 9>"$CITUS_CACHE_ROOT/.citus-$CITUS_VERSION-pg$PG_MAJOR.lock"
    flock 9
    [ -f "$CITUS_PREFIX/.complete" ] && exit 0
    local build; build=$(mktemp -d "$CITUS_CACHE_ROOT/.build-citus.XXXXXX")
    trap 'rm -rf "$build"' EXIT
    log "building Citus $CITUS_VERSION for PostgreSQL $PG_MAJOR into $CITUS_PREFIX (once; a few minutes)"
    local started=$SECONDS
    tar xzf "$CITUS_TARBALL" -C "$build" || die "cannot unpack $CITUS_TARBALL"
    local src=$build/citus compat
    compat=$src/src/include/pg_version_compat.h
    # PostgreSQL 15.20 exports have_createdb_privilege(); Citus 13.2.2 defines a static function
    # of that name for PostgreSQL < 16. Rename Citus's copy (and its callers) with a #define
    # placed just before its definition.
    grep -q '^have_createdb_privilege(void)' "$compat" || die "unexpected $compat: patch point not found"
    sed -i '/^static inline bool$/{N;s/^static inline bool\nhave_createdb_privilege(void)$/#define have_createdb_privilege citus_have_createdb_privilege\n&/}' "$compat"
    grep -q '^#define have_createdb_privilege citus_have_createdb_privilege$' "$compat" || die "patching $compat failed"
    (cd "$src" && ./configure PG_CONFIG="$PGBIN/pg_config") >"$build/configure.log" 2>&1 \
      || { tail -30 "$build/configure.log" >&2; die "Citus configure failed (log above)"; }
    make -C "$src" -j"$(nproc)" >"$build/make.log" 2>&1 \
      || { grep -E 'error|Error' "$build/make.log" | head -30 >&2; die "Citus build failed"; }
    make -C "$src" install DESTDIR="$build/dest" >"$build/install.log" 2>&1 \
      || { tail -30 "$build/install.log" >&2; die "Citus make install failed"; }
    sha256sum "$CITUS_TARBALL" | cut -d' ' -f1 >"$build/dest/.tarball-sha256"
    "$PGBIN/pg_config" --version >"$build/dest/.built-against"
    echo "$((SECONDS - started))" >"$build/dest/.build-seconds"
    touch "$build/dest/.complete"
    chmod -R a+rX "$build/dest"
    rm -rf "$CITUS_PREFIX"
    mv -T "$build/dest" "$CITUS_PREFIX"
    log "Citus built in $((SECONDS - started)) s"
  ) || die "Citus build failed"
}

# citus_stage DIR assembles in DIR a PostgreSQL installation that sees Citus: the Debian
# server's bin/ (hard links, or copies), and lib/ and share/ as links to the Debian files and to
# Citus's files in the cache. Prints the staged bin directory.
citus_stage() {
  local dir=$1 bindir sharedir libdir f
  bindir=$("$PGBIN/pg_config" --bindir); sharedir=$("$PGBIN/pg_config" --sharedir); libdir=$("$PGBIN/pg_config" --pkglibdir)
  mkdir -p "$dir$bindir" "$dir$libdir" "$dir$sharedir/extension"
  # PostgreSQL resolves symbolic links to its own binary before deriving share/ and lib/ from
  # its location, so bin/ must hold real files (hard links are real files).
  cp -al "$bindir/." "$dir$bindir/" 2>/dev/null || cp -a "$bindir/." "$dir$bindir/"
  # Citus's files sit in the cache under the paths of the server it was built against, which
  # may not be this one's (a private server copy, DELETED_RECORD_SERVER_COPY): find them there.
  local citus_lib citus_ext
  citus_lib=$(dirname "$(find "$CITUS_PREFIX" -name citus.so -print -quit)")
  citus_ext=$(dirname "$(find "$CITUS_PREFIX" -name citus.control -print -quit)")
  [ -f "$citus_lib/citus.so" ] && [ -f "$citus_ext/citus.control" ] || die "no Citus build in $CITUS_PREFIX"
  for f in "$libdir"/* "$citus_lib"/*; do
    [ "$(basename "$f")" = bitcode ] && continue   # JIT inlining data; the clusters run with jit = off
    ln -sfn "$f" "$dir$libdir/$(basename "$f")"
  done
  ln -sfn "$libdir/bitcode" "$dir$libdir/bitcode"
  for f in "$sharedir"/*; do
    [ "$(basename "$f")" = extension ] || ln -sfn "$f" "$dir$sharedir/$(basename "$f")"
  done
  for f in "$sharedir"/extension/* "$citus_ext"/*; do
    ln -sfn "$f" "$dir$sharedir/extension/$(basename "$f")"
  done
  # A deleted_record built by deleted_record_stage_rev replaces the system-wide one.
  if [ -n "${DELETED_RECORD_STAGED:-}" ]; then
    rm -f "$dir$sharedir"/extension/deleted_record* "$dir$libdir"/deleted_record*
    for f in "$DELETED_RECORD_STAGED$sharedir"/extension/* "$DELETED_RECORD_STAGED$libdir"/deleted_record*; do
      ln -sfn "$f" "$dir${f#"$DELETED_RECORD_STAGED"}"
    done
  fi
  echo "$dir$bindir"
}

# deleted_record_stage_rev REV: builds deleted_record at git revision REV of the checkout (from
# git archive: committed files only) and installs it with DESTDIR into a cache directory keyed by
# the commit, built once like Citus; prints that directory. citus_stage links its files over the
# system-wide ones.
deleted_record_stage_rev() {
  local sha; sha=$(git -C "$REPO_ROOT" rev-parse --verify "$1^{commit}") || die "no such revision: $1"
  local dest=$CITUS_CACHE_ROOT/deleted_record-$sha-pg$PG_MAJOR-$(printf %s "$PGBIN" | md5sum | cut -c1-8)   # paths differ per server copy
  if [ ! -f "$dest/.complete" ]; then
    [ -d "$CITUS_CACHE_ROOT" ] || { as_root mkdir -p "$CITUS_CACHE_ROOT" && as_root chmod 755 "$CITUS_CACHE_ROOT"; }
    (
      umask 022
      exec 9>"$CITUS_CACHE_ROOT/.deleted_record-$sha-pg$PG_MAJOR.lock"
      flock 9
      [ -f "$dest/.complete" ] && exit 0
      local build; build=$(mktemp -d "$CITUS_CACHE_ROOT/.build-deleted_record.XXXXXX")
      trap 'rm -rf "$build"' EXIT
      log "building deleted_record at ${sha:0:10} for the Citus nodes (once per commit)"
      git -C "$REPO_ROOT" archive --format=tar "$sha" | tar xf - -C "$build" || die "git archive $sha failed"
      make -C "$build" -s -j"$(nproc)" PG_CONFIG="$PGBIN/pg_config" >"$build/build.log" 2>&1 \
        || { tail -30 "$build/build.log" >&2; die "building deleted_record at $sha failed"; }
      make -C "$build" -s install DESTDIR="$build/dest" PG_CONFIG="$PGBIN/pg_config" >>"$build/build.log" 2>&1 \
        || { tail -30 "$build/build.log" >&2; die "staging deleted_record at $sha failed"; }
      touch "$build/dest/.complete"
      chmod -R a+rX "$build/dest"
      rm -rf "$dest"
      mv -T "$build/dest" "$dest"
    ) >&2 || die "building deleted_record at $sha failed"
  fi
  echo "$dest"
}

# cq NODE PSQL-ARGS...: psql on NODE (coord, w1, w2, ...) in $CITUS_DB, unaligned tuples only,
# stopping at the first error (like q).
cq() {
  local node=$1; shift
  [ -n "${CITUS_PORT[$node]:-}" ] || die "cq: no node $node"
  PGHOST=${CITUS_SOCK[$node]} PGPORT=${CITUS_PORT[$node]} psql -X -qAt -v ON_ERROR_STOP=1 -d "$CITUS_DB" "$@"
}

# cpsql NODE PSQL-ARGS...: psql on NODE with the default output format and no ON_ERROR_STOP,
# echoing each statement: for experiments whose transcript is the result.
cpsql() {
  local node=$1; shift
  [ -n "${CITUS_PORT[$node]:-}" ] || die "cpsql: no node $node"
  PGHOST=${CITUS_SOCK[$node]} PGPORT=${CITUS_PORT[$node]} psql -X -e -d "$CITUS_DB" "$@"
}

# CITUS_CONF: postgresql.conf lines every node gets (callers may append before starting).
CITUS_CONF=(
  "shared_preload_libraries = 'citus,deleted_record'"   # deleted_record's hooks need Citus loaded first
  "jit = off"
  "max_prepared_transactions = 100"          # Citus commits multi-node writes with 2PC
  "wal_level = logical"                      # shard moves and splits use logical replication
  "max_replication_slots = 20"
  "max_wal_senders = 20"
  "max_worker_processes = 20"
  "citus.enable_statistics_collection = off" # no phoning home (no network here)
  "citus.node_conninfo = 'sslmode=disable'"  # no self-signed certificates on localhost
  "log_min_messages = warning"
)

# citus_node_start NAME starts one node (a throwaway cluster with Citus preloaded) under
# $CITUS_DIR/NAME and creates $CITUS_DB with the citus extension in it.
citus_node_start() {
  local name=$1 saved_pgbin=$PGBIN saved_cluster=${CLUSTER_DIR:-}
  PGBIN=$CITUS_BIN
  cluster_start "$CITUS_DIR/$name" "${CITUS_CONF[@]}" >/dev/null
  PGBIN=$saved_pgbin
  CITUS_NODE_DIR[$name]=$CLUSTER_DIR; CITUS_PORT[$name]=$PGPORT; CITUS_SOCK[$name]=$PGHOST
  CITUS_NODES+=("$name")
  CLUSTER_DIR=$saved_cluster
  PGHOST=${CITUS_SOCK[$name]} PGPORT=${CITUS_PORT[$name]} psql -X -qAt -v ON_ERROR_STOP=1 -d postgres \
    -c "CREATE DATABASE $CITUS_DB" >/dev/null || die "node $name: CREATE DATABASE failed"
  cq "$name" -c "CREATE EXTENSION citus" >/dev/null || die "node $name: CREATE EXTENSION citus failed"
}

# citus_add_worker NAME starts one more worker and registers it with the coordinator. Objects
# Citus tracks (extensions created through the coordinator, distributed schemas and types,
# reference tables) are copied to it by citus_add_node; shards move only on rebalance.
citus_add_worker() {
  local name=$1
  citus_node_start "$name"
  cq coord -c "SELECT citus_add_node('127.0.0.1', ${CITUS_PORT[$name]})" >/dev/null \
    || die "citus_add_node for $name failed"
}

# citus_cluster_start: build Citus if needed, start the coordinator and workers w1 and w2,
# register them, create deleted_record through the coordinator (Citus propagates CREATE
# EXTENSION to the workers), and point PG* at the coordinator. Stops everything on exit.
citus_cluster_start() {
  citus_build
  CITUS_DIR=$(mktemp -d /tmp/deleted_record_citus.XXXXXX)
  chmod 755 "$CITUS_DIR"
  trap citus_cluster_stop EXIT
  DELETED_RECORD_STAGED=
  if [ -n "${DELETED_RECORD_REV:-}" ]; then
    DELETED_RECORD_STAGED=$(deleted_record_stage_rev "$DELETED_RECORD_REV") || exit 1
  fi
  CITUS_BIN=$(citus_stage "$CITUS_DIR/pg")
  local name
  for name in coord w1 w2; do citus_node_start "$name"; done
  cq coord -c "SELECT citus_set_coordinator_host('127.0.0.1', ${CITUS_PORT[coord]})" >/dev/null \
    || die "citus_set_coordinator_host failed"
  for name in w1 w2; do
    cq coord -c "SELECT citus_add_node('127.0.0.1', ${CITUS_PORT[$name]})" >/dev/null \
      || die "citus_add_node for $name failed"
  done
  local version_clause= source="as installed on this machine"
  [ -z "${DELETED_RECORD_REV:-}" ] || source="built at $DELETED_RECORD_REV"
  [ -z "${DELETED_RECORD_VERSION:-}" ] || version_clause=" VERSION '$DELETED_RECORD_VERSION'"
  cq coord -c "CREATE EXTENSION deleted_record$version_clause" >/dev/null || die "CREATE EXTENSION deleted_record failed"
  log "Citus $(cq coord -c "SELECT extversion FROM pg_extension WHERE extname = 'citus'"), deleted_record $(cq coord -c "SELECT extversion FROM pg_extension WHERE extname = 'deleted_record'") ($source): coordinator and $((${#CITUS_NODES[@]} - 1)) workers"
  local want; want=$(cq coord -c "SELECT extversion FROM pg_extension WHERE extname = 'deleted_record'")
  for name in w1 w2; do
    [ "$(cq "$name" -c "SELECT extversion FROM pg_extension WHERE extname = 'deleted_record'")" = "$want" ] \
      || die "deleted_record $want did not reach worker $name"
  done
  export PGHOST=${CITUS_SOCK[coord]} PGPORT=${CITUS_PORT[coord]} PGUSER=postgres PGDATABASE=$CITUS_DB
}

# citus_cluster_stop stops every node and removes the run's directory (unless CITUS_KEEP=1).
# Runs the caller's on_exit function first, if it defines one.
citus_cluster_stop() {
  if declare -F on_exit >/dev/null; then on_exit; fi
  [ -n "${CITUS_DIR:-}" ] || return 0
  if [ "${CITUS_KEEP:-0}" = 1 ]; then
    log "CITUS_KEEP=1: nodes left running in $CITUS_DIR (ports: $(for n in "${CITUS_NODES[@]}"; do printf '%s=%s ' "$n" "${CITUS_PORT[$n]}"; done))"
    return 0
  fi
  local name saved_pgbin=$PGBIN
  PGBIN=$CITUS_BIN
  for name in "${CITUS_NODES[@]}"; do
    CLUSTER_DIR=${CITUS_NODE_DIR[$name]}
    cluster_stop
  done
  PGBIN=$saved_pgbin
  rm -rf "$CITUS_DIR"
  CITUS_DIR=
}
