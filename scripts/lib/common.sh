# Shared helpers for scripts/demo.sh, scripts/test.sh, scripts/bench.sh and the shell tests:
# installing prerequisites, building, and running a throwaway PostgreSQL cluster (never as root).
# Source it; it defines functions only (plus REPO_ROOT, PG_MAJOR, PG_VERSIONS and, after
# ensure_prereqs, PGBIN and PG_CONFIG).
# PG_MAJOR selects the server (default 15): 15 comes from Debian 12's packages, other majors (18)
# are built from Debian's source packages into a cache (scripts/lib/pg_build.sh).

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PG_MAJOR=${PG_MAJOR:-15}
# Every major the project supports, oldest first (scripts/test.sh --all-versions runs each).
PG_VERSIONS="15 18"
# Majors that Debian 12 packages; any other is built from source.
PG_PACKAGED_VERSIONS="15"
# What every version needs, what a packaged server adds, and what a source build needs.
COMMON_PACKAGES="nlohmann-json3-dev libgtest-dev cmake g++ make pgbouncer"
SOURCE_BUILD_PACKAGES="gcc make perl bison flex bzip2 tar util-linux libxml2-dev libicu-dev pkg-config"
APT_PACKAGES="$COMMON_PACKAGES postgresql-common postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-$PG_MAJOR-cron"

source "$REPO_ROOT/scripts/lib/pg_build.sh"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# as_root runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# pg_is_packaged MAJOR is true when Debian 12 packages that PostgreSQL major.
pg_is_packaged() { [[ " $PG_PACKAGED_VERSIONS " == *" $1 "* ]]; }

# apt_install_missing PACKAGE... installs those of the Debian packages that are not installed.
apt_install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    # Wait for the dpkg lock instead of failing when another install is under way.
    as_root apt-get -o DPkg::Lock::Timeout=900 update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq "${missing[@]}" >/dev/null
  fi
}

# ensure_prereqs [PACKAGE...] installs what the build and the tests need for PostgreSQL $PG_MAJOR
# (plus the named Debian packages), builds that server first if it comes from source, and selects
# it: PGBIN and PG_CONFIG name its programs, and its bin directory leads PATH (psql, pg_dump...).
ensure_prereqs() {
  local bindir
  if pg_is_packaged "$PG_MAJOR"; then
    APT_PACKAGES="$COMMON_PACKAGES postgresql-common postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-$PG_MAJOR-cron"
    apt_install_missing $APT_PACKAGES "$@"
    bindir=/usr/lib/postgresql/$PG_MAJOR/bin
  else
    APT_PACKAGES="$COMMON_PACKAGES $SOURCE_BUILD_PACKAGES"
    apt_install_missing $APT_PACKAGES "$@"
    pg_source_build "$PG_MAJOR" || die "could not build PostgreSQL $PG_MAJOR from source"
    bindir=$PG_PREFIX/bin
  fi
  [ -x "$bindir/pg_config" ] || die "no pg_config in $bindir"
  [ -z "${DELETED_RECORD_SERVER_COPY:-}" ] || bindir=$(server_copy "$bindir" "$DELETED_RECORD_SERVER_COPY")
  case ":$PATH:" in
    ":$bindir:"*) ;;
    *) export PATH="$bindir:$PATH" ;;
  esac
  PGBIN=$("$bindir/pg_config" --bindir)
  export PG_CONFIG="$PGBIN/pg_config"
}

# server_copy BINDIR DIR copies the server whose programs are in BINDIR into DIR (once) and
# prints the copy's bin directory. PostgreSQL finds its files relative to its programs, so the
# copy is a server of its own: `make install` into it touches no other checkout's tests (for
# developers running several checkouts at once: DELETED_RECORD_SERVER_COPY=/tmp/mine).
server_copy() {
  local bindir=$1 dir=$2/pg-$PG_MAJOR prefix rel
  if pg_is_packaged "$PG_MAJOR"; then
    prefix=/usr
    rel=lib/postgresql/$PG_MAJOR/bin
  else
    prefix=$(cd "$bindir/.." && pwd)
    rel=bin
  fi
  if [ ! -x "$dir/$rel/pg_config" ]; then
    mkdir -p "$dir.tmp" || die "cannot create $dir.tmp"
    if pg_is_packaged "$PG_MAJOR"; then
      local d; for d in lib/postgresql/$PG_MAJOR share/postgresql/$PG_MAJOR include/postgresql; do
        mkdir -p "$dir.tmp/$(dirname "$d")" && cp -a "$prefix/$d" "$dir.tmp/$d" || die "copying $prefix/$d failed"
      done
    else
      cp -a "$prefix/." "$dir.tmp/" || die "copying $prefix failed"
    fi
    chmod -R a+rX "$dir.tmp"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  echo "$dir/$rel"
}

# pg_version prints the selected server's version, e.g. "18.6" (after ensure_prereqs).
pg_version() { "$PGBIN/pg_config" --version | sed 's/^PostgreSQL //'; }

# build_and_install compiles the extension with PGXS for the selected server and installs it
# there. Objects built for another server are removed first: make cannot tell them apart.
build_and_install() {
  local target stamp=$REPO_ROOT/build/pg_target
  target="$PGBIN/pg_config $("$PGBIN/pg_config" --version)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$target" ]; then
    make -C "$REPO_ROOT" -s clean PG_CONFIG="$PGBIN/pg_config" >/dev/null 2>&1
    mkdir -p "$(dirname "$stamp")" && echo "$target" >"$stamp"
  fi
  log "building the extension for PostgreSQL $(pg_version)"
  make -C "$REPO_ROOT" -s -j2 WERROR=1 PG_CONFIG="$PGBIN/pg_config" >/dev/null || return 1
  log "installing the extension"
  if [ -w "$("$PGBIN/pg_config" --pkglibdir)" ] && [ -w "$("$PGBIN/pg_config" --sharedir)/extension" ]; then
    make -C "$REPO_ROOT" -s install PG_CONFIG="$PGBIN/pg_config" >/dev/null
  else
    as_root make -C "$REPO_ROOT" -s install PG_CONFIG="$PGBIN/pg_config" >/dev/null
  fi
}

# server_user is the OS account that runs throwaway clusters: ourselves, or 'postgres' when root.
server_user() {
  if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

# as_server_user runs a command as the cluster's OS account.
as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# free_port prints a TCP port on 127.0.0.1 that nothing listens on. Below Linux's ephemeral
# range (32768-60999): a port some client connection is using (Citus nodes open many) accepts
# no connection, so it looks free, yet a server cannot bind it.
free_port() {
  local port
  for port in $(shuf -i 20000-32000 -n 50); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  die "no free port found"
}

# cluster_start DIR [postgresql.conf lines...] creates and starts a throwaway cluster in DIR
# and exports PGHOST, PGPORT, PGUSER and PGDATABASE so that psql, pg_regress and pgbench reach it.
cluster_start() {
  local dir=$1; shift
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
    chown postgres "$dir"; chmod 755 "$dir"
  fi
  local port; port=$(free_port)
  as_server_user "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  {
    echo "port = $port"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$dir'"
    echo "fsync = off"
    echo "max_connections = 120"
    echo "shared_buffers = 256MB"
    echo "max_prepared_transactions = 10"
    local line; for line in "$@"; do echo "$line"; done
  } | as_server_user tee -a "$dir/data/postgresql.conf" >/dev/null
  # Under valgrind (scripts/test.sh --valgrind sets VALGRIND_LOG_DIR) the server runs through a
  # wrapper that execs postgres under memcheck, one log per process; it starts much more slowly.
  # A server built from source also brings PostgreSQL's own suppressions (its frames have names).
  local exec_opt=() timeout=120 supp=()
  if [ -n "${VALGRIND_LOG_DIR:-}" ]; then
    supp=("$REPO_ROOT/test/valgrind.supp")
    [ ! -f "$("$PGBIN/pg_config" --sharedir)/valgrind.supp" ] || supp+=("$("$PGBIN/pg_config" --sharedir)/valgrind.supp")
    {
      echo '#!/bin/bash'
      printf 'exec valgrind --quiet --tool=memcheck --trace-children=yes --track-origins=no --leak-check=no --vgdb=no'
      printf ' --error-exitcode=0 --log-file=%q' "$VALGRIND_LOG_DIR/vg.%p.log"
      printf ' --suppressions=%q' "${supp[@]}"
      printf ' %q "$@"\n' "$PGBIN/postgres"
    } >"$dir/postgres-valgrind"
    chmod 755 "$dir/postgres-valgrind"
    exec_opt=(-p "$dir/postgres-valgrind"); timeout=600
  fi
  as_server_user "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" "${exec_opt[@]}" -w -t "$timeout" start >/dev/null \
    || { cat "$dir/server.log" >&2; die "server did not start"; }
  export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
  CLUSTER_DIR=$dir
}

# cluster_stop stops the cluster started by cluster_start and removes its directory.
cluster_stop() {
  [ -n "${CLUSTER_DIR:-}" ] || return 0
  as_server_user "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$CLUSTER_DIR"
  CLUSTER_DIR=
}
