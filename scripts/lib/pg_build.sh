# PostgreSQL servers that Debian 12 does not package (18, today), built once from Debian's source
# packages in sid, with pg_cron, into a cache outside the checkout. Sourced by common.sh.
# pg_source_build MAJOR sets PG_PREFIX to a complete installation: server, client programs,
# PGXS with pg_regress and pg_isolation_regress, contrib postgres_fdw and file_fdw, and pg_cron
# when its source package can be fetched (pg_has_cron tells; a missing one is retried daily).

# Bump when the build below changes: caches made by another recipe are rebuilt.
PG_BUILD_RECIPE=5
# The suite whose source packages are built (the only one carrying postgresql-18 today).
PG_SOURCE_SUITE=${PG_SOURCE_SUITE:-sid}

# pg_cache_root prints the cache directory: readable by the postgres OS user, so not under /root.
pg_cache_root() {
  if [ -n "${DELETED_RECORD_CACHE:-}" ]; then
    echo "$DELETED_RECORD_CACHE"
  elif [ "$(id -u)" -eq 0 ]; then
    echo /var/cache/deleted_record
  else
    echo "$HOME/.cache/deleted_record"
  fi
}

# debian_archive_uri prints the Debian archive address this machine's apt already uses (the
# source of its release suite, not of -security), from one-line .list and deb822 .sources files.
# DEBIAN_ARCHIVE_URI overrides it. The machine's apt configuration is only read.
debian_archive_uri() {
  if [ -n "${DEBIAN_ARCHIVE_URI:-}" ]; then echo "$DEBIAN_ARCHIVE_URI"; return 0; fi
  local codename files=() f
  codename=$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-}")
  [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
  done
  [ ${#files[@]} -gt 0 ] || return 1
  # Prints "URI SUITE" pairs of enabled deb/deb-src entries, then picks the one for the release.
  awk '
    FNR == 1 { flush(); deb822 = FILENAME ~ /\.sources$/ }
    function flush(   i, j, nu, ns, u, s) {
      if (types ~ /deb/ && enabled !~ /^[Nn][Oo]$/) {
        nu = split(uris, u, /[ \t]+/); ns = split(suites, s, /[ \t]+/)
        for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) if (u[i] != "" && s[j] != "") print u[i], s[j]
      }
      types = ""; uris = ""; suites = ""; enabled = ""
    }
    deb822 && /^[ \t]*$/ { flush(); next }
    /^[ \t]*#/ { next }
    deb822 {
      key = tolower($1); sub(/:$/, "", key); value = $0; sub(/^[^:]*:[ \t]*/, "", value)
      if (key == "types") types = value; else if (key == "uris") uris = value
      else if (key == "suites") suites = value; else if (key == "enabled") enabled = value
      next
    }
    $1 == "deb" || $1 == "deb-src" {
      line = $0; sub(/\[[^]]*\]/, "", line); split(line, w, /[ \t]+/)
      types = w[1]; uris = w[2]; suites = w[3]; flush()
    }
    END { flush() }
  ' "${files[@]}" | awk -v codename="$codename" '
    $2 == codename { print $1; found = 1; exit }
    !first && $2 !~ /-security$/ && $1 ~ /debian\/?$/ { first = $1 }
    END { if (!found && first) print first }
  ' | head -1 | sed 's:/*$::'
}

# fetch_debian_sources DIR PACKAGE... downloads the named source packages of $PG_SOURCE_SUITE
# into DIR with `apt-get source --download-only`, through an apt configuration of its own (its
# own deb-src list, package lists and cache under DIR/.apt): nothing of the machine's changes.
fetch_debian_sources() {
  local dir=$1; shift
  local uri; uri=$(debian_archive_uri) || true
  [ -n "$uri" ] || { log "no Debian archive found in /etc/apt/sources.list{,.d}; set DEBIAN_ARCHIVE_URI"; return 1; }
  local apt=$dir/.apt
  mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache/archives/partial"
  echo "deb-src $uri $PG_SOURCE_SUITE main" >"$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/sources.list.d"
              -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "Acquire::Languages=none"
              -o "APT::Get::List-Cleanup=false")
  # As root, apt downloads as the unprivileged _apt user: let it write where it downloads.
  if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
    chmod 755 "$dir"; chown -R _apt "$apt/lists" "$apt/cache" "$dir"
  fi
  log "fetching $* from $uri $PG_SOURCE_SUITE"
  apt-get -q "${opts[@]}" update >"$apt/update.log" 2>&1 \
    || { grep -E '^(E|W|Err):' "$apt/update.log" >&2; log "apt-get update of $uri $PG_SOURCE_SUITE failed"; return 1; }
  (cd "$dir" && apt-get -q "${opts[@]}" source --download-only "$@") >"$apt/source.log" 2>&1 \
    || { grep -E '^E:' "$apt/source.log" >&2; log "apt-get source $* failed"; return 1; }
}

# dsc_field DSC FIELD prints a field of a Debian source control file.
dsc_field() { sed -n "s/^$2: *//p" "$1" | head -1; }

# upstream_version DEBIAN_VERSION strips the epoch and the Debian revision: 1:18.6-3 -> 18.6.
upstream_version() { local v=${1#*:}; echo "${v%-*}"; }

# pg_cached_prefix MAJOR prints the newest complete cached build of MAJOR made by this recipe.
pg_cached_prefix() {
  local root d best=
  root=$(pg_cache_root)
  for d in "$root/pg-$1".*; do
    [ -d "$d" ] && grep -qx "recipe=$PG_BUILD_RECIPE" "$d/$PG_BUILD_STAMP" 2>/dev/null && best+="$d"$'\n'
  done
  [ -n "$best" ] || return 1
  printf '%s' "$best" | sort -V | tail -1
}
PG_BUILD_STAMP=.deleted_record-build

# pg_has_cron PREFIX is true when the cached build at PREFIX includes pg_cron.
pg_has_cron() { [ -f "$("$1/bin/pg_config" --pkglibdir)/pg_cron.so" ]; }

# _pg_cron_retry_due PREFIX: a cached build without pg_cron tries again a day later, or at once
# when DELETED_RECORD_PG_CRON_SOURCE names a source tarball.
_pg_cron_retry_due() {
  [ -n "${DELETED_RECORD_PG_CRON_SOURCE:-}" ] || [ -n "$(find "$1/$PG_BUILD_STAMP" -mmin +1440 2>/dev/null)" ]
}

# pg_source_build MAJOR sets PG_PREFIX to a cached source build of PostgreSQL MAJOR, building it
# first when there is none (about 4 minutes on 2 idle cores). The build runs in a temporary
# directory and is renamed into place only when complete; a lock makes concurrent callers wait
# for one build instead of making two.
pg_source_build() {
  local major=$1 root lock fd rc=0 started=$SECONDS
  root=$(pg_cache_root)
  if PG_PREFIX=$(pg_cached_prefix "$major"); then
    if pg_has_cron "$PG_PREFIX" || ! _pg_cron_retry_due "$PG_PREFIX"; then return 0; fi
  fi
  mkdir -p "$root" || return 1
  [ "$(id -u)" -ne 0 ] || chmod 755 "$root"
  lock=$root/.pg-$major.lock
  exec {fd}>>"$lock" || return 1
  if ! flock -n "$fd"; then
    log "waiting for another build of PostgreSQL $major (lock $lock)"
    flock "$fd"
  fi
  if PG_PREFIX=$(pg_cached_prefix "$major"); then
    if ! pg_has_cron "$PG_PREFIX" && _pg_cron_retry_due "$PG_PREFIX"; then
      _pg_add_cron "$PG_PREFIX" "$root" "$major"
    fi
    exec {fd}>&-
    return 0
  fi
  rm -rf "$root/.build-$major".*   # left by a build that was killed; we hold the lock
  PG_PREFIX=$(_pg_build_into_cache "$major" "$root") || rc=$?
  exec {fd}>&-
  if [ "$rc" -ne 0 ] || [ -z "$PG_PREFIX" ]; then PG_PREFIX=; return 1; fi
  log "PostgreSQL $major built into $PG_PREFIX in $((SECONDS - started)) s"
}

# _pg_fetch_cron DIR puts pg_cron's source tarball into DIR and its version into DIR/cron-origin:
# the tarball DELETED_RECORD_PG_CRON_SOURCE names (for mirrors that lack it), else sid's pg-cron.
_pg_fetch_cron() {
  if [ -n "${DELETED_RECORD_PG_CRON_SOURCE:-}" ]; then
    [ -f "$DELETED_RECORD_PG_CRON_SOURCE" ] || { log "DELETED_RECORD_PG_CRON_SOURCE: no file $DELETED_RECORD_PG_CRON_SOURCE"; return 1; }
    cp "$DELETED_RECORD_PG_CRON_SOURCE" "$1/" || return 1
    basename "$DELETED_RECORD_PG_CRON_SOURCE" >"$1/cron-origin"
  else
    fetch_debian_sources "$1" pg-cron || return 1
    local dsc; dsc=$(ls -d "$1"/pg-cron_*.dsc 2>/dev/null | head -1)
    [ -n "$dsc" ] && dsc_field "$dsc" Version >"$1/cron-origin"
  fi
}

# _pg_build_cron DIR PG_CONFIG PREFIX LOG builds the pg_cron tarball in DIR with PGXS and installs
# it where PG_CONFIG says (a staged server's pg_config reports its staged directories: it is
# relocatable); the rpath names PREFIX/lib, where libpq finally is.
_pg_build_cron() {
  local tarball src
  tarball=$(ls -d "$1"/*.tar.* 2>/dev/null | grep -v '\.debian\.tar\.' | head -1)
  [ -n "$tarball" ] || return 1
  mkdir -p "$1/cron-src" && tar -xf "$tarball" -C "$1/cron-src" || return 1
  src=$(ls -d "$1"/cron-src/*/ 2>/dev/null | head -1)
  [ -n "$src" ] && [ -f "$src/pg_cron.control" ] || { log "no pg_cron source in $tarball"; return 1; }
  make -C "$src" -j"$(nproc)" PG_CONFIG="$2" rpathdir="$3/lib" >>"$4" 2>&1 &&
    make -C "$src" install PG_CONFIG="$2" >>"$4" 2>&1 &&
    [ -f "$("$2" --pkglibdir)/pg_cron.so" ]
}

# _pg_add_cron PREFIX ROOT MAJOR adds pg_cron to a cached build that lacks it (under the lock).
_pg_add_cron() (
  prefix=$1
  tmp=$(mktemp -d "$2/.build-$3.XXXXXX") || exit 1
  trap 'rm -rf "$tmp"' EXIT
  chmod 755 "$tmp"   # apt downloads as the _apt user into it
  : >"$tmp/build.log"
  if _pg_fetch_cron "$tmp" && _pg_build_cron "$tmp" "$prefix/bin/pg_config" "$prefix" "$tmp/build.log"; then
    sed -i "s/^pg_cron=.*/pg_cron=$(cat "$tmp/cron-origin")/" "$prefix/$PG_BUILD_STAMP"
    log "pg_cron $(cat "$tmp/cron-origin") added to $prefix"
  else
    tail -20 "$tmp/build.log" >&2
    touch "$prefix/$PG_BUILD_STAMP"   # the next try in a day
    log "warning: still no pg_cron for $prefix (tests that need it skip or fail there)"
  fi
  chmod -R a+rX,go-w "$prefix"
)

# _pg_build_into_cache MAJOR ROOT builds in ROOT/.build-MAJOR.*, moves the finished installation
# to ROOT/pg-VERSION and prints that path. A subshell, so that its trap cleans up; every step is
# checked explicitly (set -e does not apply inside a command substitution tested with ||).
_pg_build_into_cache() (
  major=$1 root=$2
  tmp=$(mktemp -d "$root/.build-$major.XXXXXX") || exit 1
  chmod 755 "$tmp"   # apt downloads as the _apt user into it
  trap 'rm -rf "$tmp"' EXIT
  buildlog=$tmp/build.log
  : >"$buildlog"
  fail() { tail -40 "$buildlog" >&2; log "building PostgreSQL $major failed at: $1"; exit 1; }
  first() { ls -d "$@" 2>/dev/null | head -1; }

  mkdir -p "$tmp/download" "$tmp/cron" "$tmp/src" || fail mkdir
  fetch_debian_sources "$tmp/download" "postgresql-$major" || fail "apt-get source postgresql-$major"
  pg_dsc=$(first "$tmp/download/postgresql-${major}_"*.dsc)
  [ -n "$pg_dsc" ] || fail "apt-get source (no .dsc downloaded)"
  version=$(upstream_version "$(dsc_field "$pg_dsc" Version)")
  [[ "$version" == "$major".* ]] || fail "unexpected version '$version' of postgresql-$major"
  prefix=$root/pg-$version
  stage=$tmp/stage
  staged=$stage$prefix

  tar -xf "$(first "$tmp/download/postgresql-${major}_"*.orig.tar.*)" -C "$tmp/src" || fail "unpacking"
  pgsrc=$(first "$tmp/src/postgresql-"*/)
  [ -n "$pgsrc" ] || fail "unpacking (no postgresql-* directory)"

  # A minimal server: of the optional libraries only libxml, since the type tests archive an
  # xml column, and ICU, since the restore tests need a nondeterministic collation (Debian's 15
  # has both). The release tarball has no generated parser, so this
  # needs bison and flex. make install brings pg_regress and pg_isolation_regress into PGXS as
  # well (the isolation install is repeated to be explicit); tests use both FDWs, the scale
  # benchmark pg_prewarm, the restore profile pg_stat_statements.
  log "building PostgreSQL $version, about 4 minutes on 2 idle cores (log: $buildlog)"
  (cd "$pgsrc" && ./configure --prefix="$prefix" --with-libxml --with-icu --without-readline \
     --without-zlib --without-lz4 --without-zstd --without-llvm) >>"$buildlog" 2>&1 || fail configure
  make -C "$pgsrc" -j"$(nproc)" >>"$buildlog" 2>&1 || fail make
  for dir in . src/test/isolation contrib/postgres_fdw contrib/file_fdw contrib/pg_prewarm contrib/pg_stat_statements; do
    make -C "$pgsrc/$dir" install DESTDIR="$stage" >>"$buildlog" 2>&1 || fail "make -C $dir install"
  done
  # PostgreSQL's own valgrind suppressions (padding bytes written to files and sockets...), for
  # scripts/test.sh --valgrind: cluster_start passes them on when the server has them.
  cp "$pgsrc/src/tools/valgrind.supp" "$staged/share/postgresql/valgrind.supp" || fail "valgrind.supp"

  # pg_cron (a test uses it): Debian packages it for 15 only, so it is built here too. Without
  # its source the server is still cached, and pg_source_build tries pg_cron again later.
  cron=none
  if _pg_fetch_cron "$tmp/cron"; then
    log "building pg_cron $(cat "$tmp/cron/cron-origin") for PostgreSQL $version"
    if _pg_build_cron "$tmp/cron" "$staged/bin/pg_config" "$prefix" "$buildlog"; then
      cron=$(cat "$tmp/cron/cron-origin")
    else
      tail -20 "$buildlog" >&2
      log "warning: pg_cron did not build against PostgreSQL $version; caching the server without it"
    fi
  else
    log "warning: no pg_cron source (sid's pg-cron could not be fetched); caching PostgreSQL $version without it"
  fi

  printf 'recipe=%s\npostgresql=%s\npg_cron=%s\n' "$PG_BUILD_RECIPE" "$(dsc_field "$pg_dsc" Version)" "$cron" \
    >"$staged/$PG_BUILD_STAMP" || fail stamp
  chmod -R a+rX,go-w "$staged" || fail chmod
  # Replace an older build of this version (another recipe) only now that this one is complete.
  if [ -e "$prefix" ]; then mv "$prefix" "$tmp/replaced" || fail "moving the old build aside"; fi
  mv "$staged" "$prefix" || fail "moving into place"
  echo "$prefix"
)
