#!/usr/bin/env bash
# update_paths: the upgrade harness. For every update path the installed scripts offer
# (pg_extension_update_paths), install the source version, archive some rows, ALTER EXTENSION
# UPDATE to the target, and check that the archive survived unchanged, that the attached tables
# keep archiving, and that the extension's objects are exactly those of a fresh install of the
# target. With a single version there is nothing to update: one check says so and verifies that
# the installed versions are exactly those of sql/deleted_record--*.sql.
# DELETED_RECORD_SQL_DIR overrides the directory of install scripts (for testing this harness).
set -uo pipefail
source "$(dirname "$0")/../lib/own_cluster.sh"
sql_dir=${DELETED_RECORD_SQL_DIR:-$REPO_ROOT/sql}

start_own_cluster update

# The extension's objects and their definitions, one sorted line (or block) per fact.
FINGERPRINT_SQL=$(cat <<'SQL'
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'deleted_record'),
members AS (
  SELECT d.classid, d.objid FROM pg_depend d JOIN ext ON d.refobjid = ext.oid
   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'),
rels AS (SELECT c.* FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid)
SELECT line FROM (
  SELECT 'member: ' || pg_describe_object(classid, objid, 0) FROM members
  UNION ALL
  SELECT 'extension: ' || extname || ' schema ' || extnamespace::regnamespace || ' relocatable ' || extrelocatable
         || ' config ' || coalesce(extconfig::regclass[]::text, '-') || ' ' || coalesce(extcondition::text, '-')
    FROM pg_extension WHERE oid = (SELECT oid FROM ext)
  UNION ALL
  SELECT 'function: ' || p.oid::regprocedure || ' acl ' || coalesce(p.proacl::text, 'default') || E'\n'
         || CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) ELSE 'kind ' || p.prokind::text END
    FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
  UNION ALL
  SELECT 'type: ' || format_type(t.oid, NULL) || ' ' || t.typtype::text || ' '
         || coalesce((SELECT string_agg(enumlabel::text, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid), '')
    FROM pg_type t JOIN members m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
  UNION ALL
  SELECT 'relation: ' || c.oid::regclass || ' kind ' || c.relkind::text || ' persistence ' || c.relpersistence::text
         || ' replident ' || c.relreplident::text || ' acl ' || coalesce(c.relacl::text, 'default')
         || ' options ' || coalesce(c.reloptions::text, '-')
    FROM rels c
  UNION ALL
  SELECT 'column: ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
         || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
         || coalesce(' DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid), '')
         || CASE WHEN a.attcollation <> 0 THEN ' COLLATE ' || a.attcollation::regcollation ELSE '' END
         || ' storage ' || a.attstorage::text || coalesce(' acl ' || a.attacl::text, '')
    FROM rels c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
  UNION ALL
  SELECT 'index: ' || pg_get_indexdef(i.indexrelid) FROM rels c JOIN pg_index i ON i.indrelid = c.oid
  UNION ALL
  SELECT 'constraint: ' || co.conrelid::regclass || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
    FROM rels c JOIN pg_constraint co ON co.conrelid = c.oid
  UNION ALL
  SELECT 'trigger: ' || pg_get_triggerdef(t.oid) FROM rels c JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal
  UNION ALL
  SELECT 'event trigger: ' || e.evtname || ' on ' || e.evtevent || ' tags ' || coalesce(e.evttags::text, '-')
         || ' executes ' || e.evtfoid::regprocedure || ' enabled ' || e.evtenabled::text
    FROM pg_event_trigger e JOIN members m ON m.classid = 'pg_event_trigger'::regclass AND m.objid = e.oid
  UNION ALL
  SELECT 'policy: ' || pol.polname || ' on ' || pol.polrelid::regclass FROM rels c JOIN pg_policy pol ON pol.polrelid = c.oid
  UNION ALL
  SELECT 'view: ' || c.oid::regclass || E'\n' || pg_get_viewdef(c.oid) FROM rels c WHERE c.relkind IN ('v', 'm')
  UNION ALL
  SELECT 'comment: ' || pg_describe_object(d.classoid, d.objoid, d.objsubid) || ' = ' || d.description
    FROM pg_description d JOIN members m ON d.classoid = m.classid AND d.objoid = m.objid
  UNION ALL
  SELECT 'init privs: ' || pg_describe_object(ip.classoid, ip.objoid, ip.objsubid) || ' ' || ip.privtype::text || ' ' || ip.initprivs::text
    FROM pg_init_privs ip JOIN members m ON ip.classoid = m.classid AND ip.objoid = m.objid
) facts(line)
ORDER BY 1
SQL
)

# Versions the scripts in sql_dir provide, and versions the server offers.
file_versions=$(for f in "$sql_dir"/deleted_record--*.sql; do
  v=${f##*/deleted_record--}; v=${v%.sql}
  case "$v" in *--*) ;; *) echo "$v" ;; esac
done | sort)
server_versions=$(q postgres -c "SELECT version FROM pg_available_extension_versions WHERE name = 'deleted_record' ORDER BY 1")
paths=$(q postgres -c "SELECT source, target, path FROM pg_extension_update_paths('deleted_record')
                        WHERE path IS NOT NULL ORDER BY 1, 2")

if [ -z "$paths" ]; then
  if [ -n "$file_versions" ] && [ "$server_versions" = "$file_versions" ] && [ "$(wc -l <<<"$file_versions")" -eq 1 ]; then
    ok "no update paths yet (only $file_versions)"
  else
    not_ok "no update paths yet (only one version)"
    printf '#   versions in %s: %s\n#   versions offered by the server: %s\n' "$sql_dir" \
      "$(echo $file_versions)" "$(echo $server_versions)"
  fi
  tap_done; exit
fi

check "the server offers exactly the versions in $sql_dir" "$(echo $file_versions)" "$(echo $server_versions)"
default_version=$(q postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'deleted_record'")
for v in $file_versions; do
  # Every version older than the default one must have a way up to it.
  [ "$(printf '%s\n' "$v" "$default_version" | sort -V | head -1)" = "$v" ] && [ "$v" != "$default_version" ] || continue
  check "version $v can be updated to the default version $default_version" "$v" \
    "$(awk -F'|' -v s="$v" -v t="$default_version" '$1 == s && $2 == t {print $1}' <<<"$paths")"
done

n=0
while IFS='|' read -r source target path; do
  n=$((n + 1)); db=upgrade_$n; fresh=fresh_$n
  what="update $source -> $target (path $path)"
  createdb "$db" && createdb "$fresh" || die "createdb failed"
  out=$(q "$db" 2>&1 <<SQL
CREATE EXTENSION deleted_record VERSION '$source';
CREATE TABLE items (id int PRIMARY KEY, label text, at timestamptz);
CREATE TABLE pairs (a int, b text, PRIMARY KEY (a, b)) PARTITION BY RANGE (a);
CREATE TABLE pairs_low PARTITION OF pairs FOR VALUES FROM (0) TO (50);
CREATE TABLE pairs_high PARTITION OF pairs FOR VALUES FROM (50) TO (100);
SELECT deleted_record_attach('items');
SELECT deleted_record_attach('pairs', 'deny');
INSERT INTO items SELECT i, 'item ' || i, '2024-05-06 07:08:09+00'::timestamptz + i * interval '1 day' FROM generate_series(1, 50) i;
INSERT INTO pairs SELECT i, 'b' || i FROM generate_series(0, 99) i;
BEGIN;
SELECT set_config('deleted_record.actor', 'upgrader', true), set_config('deleted_record.reason', 'before update', true),
       set_config('deleted_record.metadata', '{"from": "$source"}', true);
DELETE FROM items WHERE id <= 20;
DELETE FROM pairs WHERE a % 10 = 0;
COMMIT;
DELETE FROM items WHERE id = 21;
SQL
)
  rc=$?; check "$what: version $source installs, attaches and archives" "0" "$rc"
  [ "$rc" -eq 0 ] || { sed 's/^/#   /' <<<"$out"; continue; }
  before=$(q "$db" -c "$ARCHIVE_SQL")
  attached_before=$(q "$db" -c "SELECT table_name::text, on_truncate FROM deleted_record_attached ORDER BY 1")
  check "$what: 31 rows archived before the update" "31" "$(q "$db" -c "SELECT count(*) FROM deleted_record")"

  out=$(q "$db" -c "ALTER EXTENSION deleted_record UPDATE TO '$target'" 2>&1)
  rc=$?; check "$what: ALTER EXTENSION UPDATE succeeds" "0" "$rc"
  [ "$rc" -eq 0 ] || sed 's/^/#   /' <<<"$out"
  check "$what: the installed version is $target" "$target" \
    "$(q "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'deleted_record'")"
  after=$(q "$db" -c "$ARCHIVE_SQL")
  check "$what: the archive is unchanged (md5 of every row)" "$(md5sum <<<"$before")" "$(md5sum <<<"$after")"
  check "$what: the same tables are attached with the same on_truncate" "$attached_before" \
    "$(q "$db" -c "SELECT table_name::text, on_truncate FROM deleted_record_attached ORDER BY 1")"
  check "$what: attached tables keep archiving after the update" "upgrader-after|33" \
    "$(q "$db" -c "BEGIN" -c "SELECT set_config('deleted_record.actor', 'upgrader-after', true)" \
                  -c "DELETE FROM items WHERE id = 30" -c "DELETE FROM pairs WHERE a = 55" -c "COMMIT" >/dev/null 2>&1
       q "$db" -c "SELECT max(actor) FILTER (WHERE actor = 'upgrader-after') || '|' || count(*) FROM deleted_record")"

  out=$(q "$fresh" -c "CREATE EXTENSION deleted_record VERSION '$target'" 2>&1)
  rc=$?; check "$what: a fresh install of $target succeeds" "0" "$rc"
  [ "$rc" -eq 0 ] || sed 's/^/#   /' <<<"$out"
  q "$db" -c "$FINGERPRINT_SQL" >"$tmp/$db.objects" 2>&1 && q "$fresh" -c "$FINGERPRINT_SQL" >"$tmp/$fresh.objects" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ] && grep -q '^member: ' "$tmp/$fresh.objects" && cmp -s "$tmp/$db.objects" "$tmp/$fresh.objects"; then
    ok "$what: the updated extension's objects and definitions equal a fresh install of $target ($(grep -c '^member: ' "$tmp/$db.objects") members)"
  else
    not_ok "$what: the updated extension's objects and definitions equal a fresh install of $target"
    diff -u --label "updated from $source" --label "fresh $target" "$tmp/$db.objects" "$tmp/$fresh.objects" | head -60 | sed 's/^/#   /'
  fi
done <<<"$paths"

# 1.0 -> 1.1 in particular: the 1.0 archive becomes a partition of the partitioned archive. What a
# DBA gave the 1.0 table (grants, row-level security, an extra column) carries over; rows
# archived under 1.0 can be restored after the update; new deletes land in new partitions.
if grep -q "^1.0|1.1|" <<<"$paths"; then
  db=upgrade_carry
  createdb "$db" || die "createdb failed"
  out=$(q "$db" 2>&1 <<'SQL'
SET client_min_messages = warning;
DROP ROLE IF EXISTS upd_auditor;
CREATE ROLE upd_auditor;
CREATE EXTENSION deleted_record VERSION '1.0';
CREATE TABLE items (id int PRIMARY KEY, label text);
CREATE TABLE other (id int PRIMARY KEY);
SELECT deleted_record_attach('items'), deleted_record_attach('other');
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 5) g;
INSERT INTO other VALUES (1);
ALTER TABLE deleted_record ADD COLUMN region text NOT NULL DEFAULT 'main';
GRANT SELECT ON deleted_record TO upd_auditor;
ALTER TABLE deleted_record ENABLE ROW LEVEL SECURITY;
CREATE POLICY items_only ON deleted_record FOR SELECT TO upd_auditor USING (table_name = 'items');
BEGIN;
SELECT set_config('deleted_record.actor', 'before', true);
DELETE FROM items WHERE id <= 3;
DELETE FROM other;
COMMIT;
ALTER EXTENSION deleted_record UPDATE TO '1.1';
SQL
)
  rc=$?; check "1.0 -> 1.1 carry-over: a 1.0 archive with a grant, RLS and an extra column updates" 0 "$rc"
  [ "$rc" -eq 0 ] || sed 's/^/#   /' <<<"$out"
  check "1.0 -> 1.1 carry-over: the 1.0 rows are in the partition deleted_record_before_1_1" "4" \
    "$(q "$db" -c "SELECT count(*) FROM deleted_record WHERE tableoid = 'deleted_record_before_1_1'::regclass")"
  check "1.0 -> 1.1 carry-over: it is no member of the extension (so pg_dump dumps it)" "0" \
    "$(q "$db" -c "SELECT count(*) FROM pg_depend WHERE objid = 'deleted_record_before_1_1'::regclass AND deptype = 'e'")"
  check "1.0 -> 1.1 carry-over: the grant and the policy apply to the new archive" "3" \
    "$(q "$db" -c "SET ROLE upd_auditor" -c "SELECT count(*) FROM deleted_record")"
  check "1.0 -> 1.1 carry-over: the extra column and its default apply to new rows" "main" \
    "$(q "$db" -c "DELETE FROM items WHERE id = 4" -c "SELECT region FROM deleted_record WHERE object_id = '4' AND table_name = 'items'")"
  check "1.0 -> 1.1 carry-over: partitions for the months after it are made" "t" \
    "$(q "$db" -c "SELECT deleted_record_prepare_partitions()" >/dev/null
       q "$db" -c "SELECT count(*) >= 3 FROM pg_partition_tree('deleted_record')
                   WHERE isleaf AND relid::regclass::text ~ '^deleted_record_[0-9]{8}_[0-9]{8}$'")"
  check "1.0 -> 1.1 carry-over: rows archived under 1.0 restore after the update" "restored|restored|restored" \
    "$(q "$db" -c "SELECT string_agg(outcome, '|') FROM deleted_record_restore(ARRAY(SELECT id FROM deleted_record WHERE table_name = 'items' AND object_id IN ('1','2','3')))")"
  check "1.0 -> 1.1 carry-over: the restored rows are back" "1,2,3,5" \
    "$(q "$db" -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM items")"
  q postgres -c "DROP DATABASE $db" >/dev/null 2>&1
  q postgres -c "DROP ROLE upd_auditor" >/dev/null 2>&1
fi

tap_done
