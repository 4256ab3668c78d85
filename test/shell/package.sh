#!/usr/bin/env bash
# package: the release artefacts. META.json follows the PGXN Meta Spec 1.0.0 and matches the
# repository; the Debian source package (debian/, pg_buildext) builds from a clean copy of the tree
# outside the checkout; the .deb holds the library, the control file and every install script;
# unpacked into a staging copy of the PostgreSQL installation (never the machine's own
# directories) it serves a throwaway cluster that provably loads the staged files, and the
# pg_regress suite and the isolation specs (what `make installcheck` runs) pass against it with
# the staged pg_regress and pg_isolation_regress.
# Needs no `make install`. PACKAGE_TREE=HEAD builds `git archive HEAD` instead of the working tree
# (tracked and untracked, not ignored files).
# The package is built against Debian 12's PostgreSQL packages, which exist for 15 only:
# Runs on PostgreSQL: 15
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
source "$(dirname "$0")/../lib/tap.sh"

started=$SECONDS
ensure_prereqs build-essential debhelper dpkg-dev fakeroot postgresql-server-dev-all python3 binutils

tmp=$(mktemp -d /tmp/deleted_record_package.XXXXXX)
chmod 755 "$tmp"
cleanup() { cluster_stop; rm -rf "$tmp"; }
trap cleanup EXIT

# details FILE|-: prints text as TAP comments (at most 40 lines).
details() { sed -e 's/^/#   /' "${1:--}" | head -40; }

# --- 1. a clean copy of the tree, outside the checkout --------------------------------------
deb_version=$(dpkg-parsechangelog -l "$REPO_ROOT/debian/changelog" -S Version) || die "cannot read debian/changelog"
source_name=$(dpkg-parsechangelog -l "$REPO_ROOT/debian/changelog" -S Source)
upstream=${deb_version%-*}
upstream=${upstream#*:}
src=$tmp/$source_name-$upstream
mkdir -p "$src"
if [ "${PACKAGE_TREE:-worktree}" = HEAD ]; then
  git -C "$REPO_ROOT" archive HEAD | tar -x -C "$src" || die "git archive HEAD failed"
  tree_desc="git archive HEAD ($(git -C "$REPO_ROOT" rev-parse --short HEAD))"
else
  # The working tree as git sees it: tracked and untracked files, without ignored build products.
  files=()
  while IFS= read -r -d '' f; do
    [ -e "$REPO_ROOT/$f" ] && files+=("$f")
  done < <(git -C "$REPO_ROOT" ls-files -z --cached --others --exclude-standard)
  [ ${#files[@]} -gt 0 ] || die "git ls-files listed nothing in $REPO_ROOT"
  tar -C "$REPO_ROOT" -cf - -- "${files[@]}" | tar -x -C "$src" || die "copying the working tree failed"
  tree_desc="working tree, ${#files[@]} files"
fi
echo "# building from a copy of the $tree_desc in $src"
leftovers=$(cd "$src" && find . \( -name '*.o' -o -name '*.so' -o -name '*.bc' -o -path ./build -o -path ./results \) -print | head -5)
check "the copy holds no build products" "" "$leftovers"

# --- 2. META.json --------------------------------------------------------------------------
meta_out=$(python3 "$REPO_ROOT/test/package/validate_meta.py" --repo "$src" --self-test "$src/META.json" 2>&1)
if ! grep -qE '^(PASS|FAIL) \[spec\]' <<<"$meta_out"; then
  not_ok "META.json validator ran"; details <<<"$meta_out"
fi
# Spec and self-test checks one by one; the consistency checks with the repository as one check,
# which fails unless META.json's version is deleted_record.control's default_version and its script is there.
while IFS= read -r line; do
  case "$line" in
    "PASS [spec] "*|"PASS [self-test] "*) ok "META: ${line#PASS \[*\] }" ;;
    "FAIL [spec] "*|"FAIL [self-test] "*)
      not_ok "META: ${line#FAIL \[*\] }"
      awk -v l="$line" '$0 == l { on = 1; next } on && /^  - / { print; next } { on = 0 }' <<<"$meta_out" | details ;;
  esac
done <<<"$meta_out"
repo_fail=$(grep -c '^FAIL \[repo\]' <<<"$meta_out")
repo_all=$(grep -cE '^(PASS|FAIL) \[repo\]' <<<"$meta_out")
if [ "$repo_all" -gt 0 ] && [ "$repo_fail" -eq 0 ]; then
  ok "META: matches the repository ($repo_all checks: version = deleted_record.control default_version, provides file exists)"
else
  not_ok "META: matches the repository ($repo_fail of $repo_all checks failed)"
  awk '/^(PASS|FAIL) \[repo\]/ { on = 1; print; next } on && /^  - / { print; next } { on = 0 }' <<<"$meta_out" | details
fi
meta_version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$src/META.json" 2>/dev/null)
check "debian/changelog upstream version equals META.json version" "$meta_version" "$upstream"

# --- 3. source package: orig tarball from the copy, then dpkg-source ---------------------------
tar -C "$tmp" --exclude="$(basename "$src")/debian" -czf "$tmp/${source_name}_$upstream.orig.tar.gz" "$(basename "$src")"
if (cd "$tmp" && dpkg-source -b "$(basename "$src")") >"$tmp/source.log" 2>&1 \
   && [ -f "$tmp/${source_name}_$deb_version.dsc" ]; then
  ok "dpkg-source builds the 3.0 (quilt) source package ${source_name}_$deb_version.dsc"
else
  not_ok "dpkg-source builds the source package"; details "$tmp/source.log"
fi

# --- 4. binary package -----------------------------------------------------------------------
build_started=$SECONDS
# PG_CONFIG (exported by ensure_prereqs) must not steer the build: pg_buildext picks each major.
(cd "$src" && env -u PG_CONFIG dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1
rc=$?
check "dpkg-buildpackage -us -uc -b succeeds ($((SECONDS - build_started)) s)" 0 "$rc"
if [ "$rc" -ne 0 ]; then
  { grep -E -m 20 '(error|Error)[: ]' "$tmp/build.log"; echo '...'; tail -8 "$tmp/build.log"; } | details
fi
echo "# compiler warnings in the package build: $(grep -c 'warning:' "$tmp/build.log")"

versions=$(cd "$src" && pg_buildext supported-versions)
echo "# pg_buildext supported-versions: $(echo $versions)"
if ! grep -qx "$PG_MAJOR" <<<"$versions"; then
  not_ok "pg_buildext builds for PostgreSQL $PG_MAJOR (supported: $(echo $versions))"
  tap_done; exit
fi
arch=$(dpkg --print-architecture)
for v in $versions; do
  debs=("$tmp"/postgresql-"$v"-deleted-record_*.deb)
  check "one .deb for PostgreSQL $v: postgresql-$v-deleted-record_${deb_version}_$arch.deb" \
    "$tmp/postgresql-$v-deleted-record_${deb_version}_$arch.deb" "${debs[*]}"
done
deb=$tmp/postgresql-$PG_MAJOR-deleted-record_${deb_version}_$arch.deb
[ -f "$deb" ] || { not_ok "the .deb for PostgreSQL $PG_MAJOR exists"; tap_done; exit; }

# --- 5. what the .deb holds --------------------------------------------------------------------
info=$(dpkg-deb -I "$deb")
check "dpkg-deb -I: Package" "postgresql-$PG_MAJOR-deleted-record" "$(dpkg-deb -f "$deb" Package)"
check "dpkg-deb -I: Version" "$deb_version" "$(dpkg-deb -f "$deb" Version)"
depends=$(dpkg-deb -f "$deb" Depends)
if grep -qE "(^|, )postgresql-$PG_MAJOR( |,|$)" <<<"$depends" && grep -q 'libstdc++6' <<<"$depends"; then
  ok "dpkg-deb -I: Depends names postgresql-$PG_MAJOR and libstdc++6 ($depends)"
else
  not_ok "dpkg-deb -I: Depends names postgresql-$PG_MAJOR and libstdc++6"; details <<<"$info"
fi
contents=$(dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's:^\./:/:')
libdir=/usr/lib/postgresql/$PG_MAJOR/lib
extdir=/usr/share/postgresql/$PG_MAJOR/extension
docdir=/usr/share/doc/postgresql-$PG_MAJOR-deleted-record
expected_files="$libdir/deleted_record.so
$extdir/deleted_record.control"
# The scripts make installs: those of released versions as they are, and the ones it assembles.
printf 'print-scripts:\n\t@echo $(DATA) $(DATA_built)\n' >"$tmp/scripts.mk"
for f in $(make -s -C "$src" -f Makefile -f "$tmp/scripts.mk" print-scripts PG_CONFIG="${PG_CONFIG:-pg_config}"); do
  expected_files+=$'\n'"$extdir/$(basename "$f")"
done
missing=$(comm -23 <(sort <<<"$expected_files") <(sort <<<"$contents"))
check "the .deb holds deleted_record.so, deleted_record.control and all $(grep -c 'sql$' <<<"$expected_files") sql/deleted_record--*.sql" "" "$missing"
unexpected=$(grep -v '/$' <<<"$contents" | grep -vxF -f <(echo "$expected_files") | grep -v "^$docdir/")
check "the .deb holds nothing else (besides $docdir/)" "" "$unexpected"
echo "# .deb: $(stat -c %s "$deb") bytes; files:"
grep -v '/$' <<<"$contents" | details

# --- 7. staging root: a copy of PostgreSQL $PG_MAJOR without any deleted_record file, plus the .deb
stage=$tmp/root
mkdir -p "$stage/usr/lib/postgresql" "$stage/usr/share/postgresql"
cp -a "/usr/lib/postgresql/$PG_MAJOR" "$stage/usr/lib/postgresql/" || die "copying /usr/lib/postgresql/$PG_MAJOR failed"
cp -a "/usr/share/postgresql/$PG_MAJOR" "$stage/usr/share/postgresql/" || die "copying /usr/share/postgresql/$PG_MAJOR failed"
removed=$(find "$stage" -name 'deleted_record*' -print -exec rm -rf {} + | wc -l)
echo "# staged a copy of PostgreSQL $PG_MAJOR in $stage; removed $removed deleted_record file(s) copied from the system"
check "the staging root holds no deleted_record file before the .deb is unpacked" "" "$(find "$stage" -name 'deleted_record*')"
dpkg -x "$deb" "$stage" || die "dpkg -x failed"
check "dpkg -x unpacks exactly the .deb's files into the staging root" \
  "$(grep -v '/$' <<<"$contents" | grep -v "^$docdir/" | sort)" \
  "$(cd "$stage" && find . -name 'deleted_record*' -type f | sed 's:^\./:/:' | sort)"
staged_control=$stage$extdir/deleted_record.control
if cmp -s "$staged_control" "$src/deleted_record.control"; then
  ok "the packaged control file is the tree's deleted_record.control"
else
  not_ok "the packaged control file is the tree's deleted_record.control"
fi
syms=$(nm -D --defined-only "$stage$libdir/deleted_record.so" 2>&1)
if grep -qw Pg_magic_func <<<"$syms" && grep -qw deleted_record_insert <<<"$syms"; then
  ok "the packaged deleted_record.so exports Pg_magic_func and deleted_record_insert"
else
  not_ok "the packaged deleted_record.so exports Pg_magic_func and deleted_record_insert"; details <<<"$syms"
fi
default_version=$(sed -n "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'\{0,1\}\([^' ]*\)'\{0,1\}.*/\1/p" "$staged_control")

# --- 8. a throwaway cluster run by the staged binaries -----------------------------------------
PGBIN=$stage/usr/lib/postgresql/$PG_MAJOR/bin
export PATH="$PGBIN:$PATH"
check "the staged pg_config reports the staged directories" \
  "$stage/usr/share/postgresql/$PG_MAJOR $stage$libdir" "$("$PGBIN/pg_config" --sharedir) $("$PGBIN/pg_config" --pkglibdir)"
cluster_start "$tmp/cluster" >/dev/null
sq() { "$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 "$@"; }
check "the server runs the staged postgres binary" "$PGBIN/postgres" \
  "$(readlink "/proc/$(head -1 "$tmp/cluster/data/postmaster.pid")/exe")"
check "the server's SHAREDIR and PKGLIBDIR are the staged ones" \
  "$stage/usr/share/postgresql/$PG_MAJOR|$stage$libdir" \
  "$(sq -c "SELECT string_agg(setting, '|' ORDER BY name DESC) FROM pg_config WHERE name IN ('SHAREDIR', 'PKGLIBDIR')")"
check "pg_available_extensions offers deleted_record $default_version (the packaged control file)" \
  "deleted_record|$default_version" \
  "$(sq -c "SELECT name, default_version FROM pg_available_extensions WHERE name = 'deleted_record'")"
script_versions=$(for f in "$stage$extdir"/deleted_record--*.sql; do b=${f##*/deleted_record--}; echo "${b%.sql}"; done | grep -v -- '--')
available=$(sq -c "SELECT version FROM pg_available_extension_versions WHERE name = 'deleted_record'")
check "pg_available_extension_versions offers the version of every packaged install script ($(echo $script_versions))" \
  "" "$(comm -23 <(sort <<<"$script_versions") <(sort <<<"$available"))"
sq -c "CREATE DATABASE package_check" >/dev/null
loaded=$(sq -d package_check 2>&1 <<'SQL'
CREATE EXTENSION deleted_record;
CREATE TABLE t (id int PRIMARY KEY, v text);
SELECT deleted_record_attach('t');
INSERT INTO t VALUES (1, 'one');
DELETE FROM t;
SELECT extversion FROM pg_extension WHERE extname = 'deleted_record';
SELECT count(*) FROM deleted_record WHERE table_name = 't' AND object_id = '1';
-- every deleted_record library mapped into this backend, wherever it comes from
SELECT string_agg(DISTINCT m[1], ' ') FROM regexp_matches(pg_read_file('/proc/self/maps'), '(/\S*/deleted_record[^/\s]*\.so\S*)', 'g') m;
SQL
)
check "CREATE EXTENSION installs $default_version, a delete is archived, and the backend mapped only the staged .so" \
  "$(printf '%s\n' "$default_version" 1 "$stage$libdir/deleted_record.so")" "$(grep -v '^$' <<<"$loaded")"

# --- 9. the pg_regress suite and the isolation specs, as `make installcheck` runs them, with the
# staged PGXS (pg_config, pg_regress, pg_isolation_regress, psql all come from the staging root)
printf 'print-tests:\n\t@echo $(REGRESS)\n\t@echo $(ISOLATION)\n' >"$tmp/print.mk"
lists=$(make -s -C "$src" -f Makefile -f "$tmp/print.mk" print-tests PG_CONFIG="$PGBIN/pg_config")
regress_tests=$(sed -n 1p <<<"$lists")
isolation_tests=$(sed -n 2p <<<"$lists")
expected_tests=$(cd "$src/test/sql" && LC_ALL=C ls *.sql | sed 's/\.sql$//' | paste -sd' ')
check "the Makefile's REGRESS is every test/sql/*.sql" "$expected_tests" "$regress_tests"
expected_specs=$(cd "$src/test/isolation/specs" 2>/dev/null && LC_ALL=C ls *.spec 2>/dev/null | sed 's/\.spec$//' | paste -sd' ')
check "the Makefile's ISOLATION is every test/isolation/specs/*.spec" "$expected_specs" "$isolation_tests"

# run_suite NAME DRIVER TESTS MAKE-ARGS...: runs make installcheck for one suite (PGXS stops
# after a failing pg_regress run, so each suite runs on its own), checks that the staged DRIVER
# ran, and reports each of TESTS as one TAP check (pg_regress output of PostgreSQL 15, "test NAME
# ... ok", and of 16 and later, "ok N - NAME").
run_suite() {
  local name=$1 driver=$2 tests=$3; shift 3
  local log=$tmp/installcheck-$name.log suite_started=$SECONDS rc used t line
  make -C "$src" installcheck "$@" PG_CONFIG="$PGBIN/pg_config" >"$log" 2>&1
  rc=$?
  used=$(grep -oE "[^ ]*/$driver " "$log" | head -1)
  used=$(realpath -m "${used% }" 2>/dev/null)
  if [ "$used" = "$stage$libdir/pgxs/src/test/${name}/$driver" ] && grep -qF -- "--bindir='$PGBIN'" "$log"; then
    ok "make installcheck ran the staged $driver with the staged bindir"
  else
    not_ok "make installcheck ran the staged $driver with the staged bindir (ran: ${used:-none})"; head -5 "$log" | details
  fi
  for t in $tests; do
    line=$(grep -E "^(test +| +|(not )?ok +[0-9]+ +[-+] +)$t( |$)" "$log" | head -1)
    if grep -qE '^ok |\.\.\. ok' <<<"$line"; then
      ok "$name $t (staged install)"
    else
      not_ok "$name $t (staged install): ${line:-not run}"
    fi
  done
  echo "# $name: $((SECONDS - suite_started)) s, make installcheck exit code $rc"
  if [ "$rc" -ne 0 ]; then
    tail -5 "$log" | details
    for f in "$src/regression.diffs" "$src/output_iso/regression.diffs"; do [ -s "$f" ] && details "$f"; done
  fi
}
run_suite regress pg_regress "$regress_tests" ISOLATION=
run_suite isolation pg_isolation_regress "$isolation_tests" REGRESS=

cluster_stop
echo "# package test took $((SECONDS - started)) s"
tap_done
