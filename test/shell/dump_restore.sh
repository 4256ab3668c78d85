#!/usr/bin/env bash
# dump_restore: the archive and the attachments survive pg_dump/pg_restore (custom format) and
# pg_dump/psql (plain format) unchanged, restoring archives nothing, the restored triggers archive,
# and DROP EXTENSION (without CASCADE) refuses while tables are attached.
set -uo pipefail
source "$(dirname "$0")/../lib/own_cluster.sh"

start_own_cluster dump

ATTACHED_SQL="SELECT table_name::text, on_truncate FROM deleted_record_attached ORDER BY 1"
TRIGGERS_SQL="SELECT tgrelid::regclass::text, tgname, tgenabled, tgparentid <> 0, pg_get_triggerdef(oid)
  FROM pg_trigger WHERE tgname LIKE 'deleted_record%' ORDER BY 1, 2"

createdb src || die "createdb src failed"
q src >/dev/null <<'SQL' || die "source setup failed"
CREATE EXTENSION deleted_record;
CREATE SCHEMA "app data";
CREATE TABLE plain_t (id int PRIMARY KEY, body text, n numeric, at timestamptz, raw bytea, tags text[]);
CREATE TABLE "app data"."Comp T" (a int, b text, v jsonb, PRIMARY KEY (a, b));
CREATE TABLE part_t (id int, region text, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE part_t_eu PARTITION OF part_t FOR VALUES IN ('eu');
CREATE TABLE part_t_us PARTITION OF part_t FOR VALUES IN ('us');
CREATE TABLE not_attached (id int PRIMARY KEY);
SELECT deleted_record_attach('plain_t');
SELECT deleted_record_attach('"app data"."Comp T"', 'deny');
SELECT deleted_record_attach('part_t', 'ignore');
INSERT INTO plain_t SELECT i, 'body ' || i || E' \u00e9\n"q"', i / 7.0, '2024-01-02 03:04:05+00'::timestamptz + i * interval '1 hour',
                           decode(md5(i::text), 'hex'), ARRAY['a', 'b' || i]
  FROM generate_series(1, 20) i;
INSERT INTO "app data"."Comp T" SELECT i % 3, 'k' || i, jsonb_build_object('i', i, 'nested', jsonb_build_array(i, NULL, true))
  FROM generate_series(1, 12) i;
INSERT INTO part_t SELECT i, CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END, 'v' || i FROM generate_series(1, 20) i;
INSERT INTO not_attached SELECT generate_series(1, 5);
BEGIN;
SELECT deleted_record_set_context('alice', 'cleanup', '{"ticket": 42, "tags": ["x", "y"]}');
DELETE FROM plain_t WHERE id <= 5;
COMMIT;
BEGIN;
SET LOCAL deleted_record.actor = 'bob';
SET LOCAL deleted_record.reason = 'gdpr request';
SET LOCAL deleted_record.metadata = '{"k": "v"}';
DELETE FROM "app data"."Comp T" WHERE a = 1;
DELETE FROM part_t WHERE id <= 6;
COMMIT;
DELETE FROM plain_t WHERE id = 6;
DELETE FROM not_attached WHERE id = 1;
SQL

src_count=$(q src -c "SELECT count(*) FROM deleted_record")
check "source archive holds the 5+4+6+1 deleted rows" 16 "$src_count"
src_archive=$(q src -c "$ARCHIVE_SQL")
src_attached=$(q src -c "$ATTACHED_SQL")
src_triggers=$(q src -c "$TRIGGERS_SQL")
src_acl=$(q src -c "SELECT relacl FROM pg_class WHERE oid = 'deleted_record'::regclass")
check "source lists the three attached tables" \
  "$(printf '%s\n' '"app data"."Comp T"|deny' 'part_t|ignore' 'plain_t|archive')" "$src_attached"

# Custom format -> pg_restore, plain format -> psql.
pg_dump -Fc -f "$tmp/src.dump" src 2>"$tmp/dump_c.err"
check "pg_dump -Fc succeeds" "0" "$?"
pg_dump -Fp -f "$tmp/src.sql" src 2>"$tmp/dump_p.err"
check "pg_dump -Fp succeeds" "0" "$?"
createdb restored_custom && createdb restored_plain || die "createdb failed"
pg_restore --exit-on-error -d restored_custom "$tmp/src.dump" >"$tmp/restore_c.log" 2>&1
rc=$?; check "pg_restore into a fresh database succeeds" "0" "$rc"
[ "$rc" -eq 0 ] || sed 's/^/# /' "$tmp/restore_c.log"
psql -X -q -v ON_ERROR_STOP=1 -d restored_plain -f "$tmp/src.sql" >"$tmp/restore_p.log" 2>&1
rc=$?; check "psql replay of the plain dump into a fresh database succeeds" "0" "$rc"
[ "$rc" -eq 0 ] || sed 's/^/# /' "$tmp/restore_p.log"

for db in restored_custom restored_plain; do
  check "$db: archive row count equals the source (restore archived nothing)" "$src_count" \
    "$(q "$db" -c "SELECT count(*) FROM deleted_record")"
  archive=$(q "$db" -c "$ARCHIVE_SQL")
  if [ -n "$archive" ] && [ "$archive" = "$src_archive" ]; then
    ok "$db: every archived row restored unchanged (md5 $(md5sum <<<"$archive" | cut -c1-12))"
  else
    not_ok "$db: every archived row restored unchanged"
    diff <(echo "$src_archive") <(echo "$archive") | head -20 | sed 's/^/# /'
  fi
  check "$db: deleted_record_attached lists the same tables and on_truncate" "$src_attached" \
    "$(q "$db" -c "$ATTACHED_SQL")"
  check "$db: the same deleted_record triggers exist (partitions included)" "$src_triggers" \
    "$(q "$db" -c "$TRIGGERS_SQL")"
  check "$db: archive privileges restored (PUBLIC has none)" "$src_acl" \
    "$(q "$db" -c "SELECT relacl FROM pg_class WHERE oid = 'deleted_record'::regclass")"
  out=$(q "$db" 2>&1 <<'SQL'
BEGIN;
SELECT deleted_record_set_context('carol', 'after restore');
DELETE FROM plain_t WHERE id IN (7, 8);
DELETE FROM part_t WHERE id = 7;
DELETE FROM "app data"."Comp T" WHERE a = 2 AND b = 'k2';
COMMIT;
SQL
)
  rc=$?; check "$db: first delete after restore succeeds" "0" "$rc"
  [ "$rc" -eq 0 ] || sed 's/^/# /' <<<"$out"
  check "$db: archive grew by the 4 deleted rows" "$((src_count + 4))" \
    "$(q "$db" -c "SELECT count(*) FROM deleted_record")"
  check "$db: the new archive rows carry their context, table and key" \
    "$(printf '%s\n' 'Comp T|app data||[2, "k2"]|carol|after restore' 'part_t|public|part_t_us|[7, "us"]|carol|after restore' \
                     'plain_t|public||7|carol|after restore' 'plain_t|public||8|carol|after restore')" \
    "$(q "$db" -c "SELECT table_name, schema_name, partition_name, object_id, actor, reason FROM deleted_record
                   WHERE actor = 'carol' ORDER BY 1, 4")"
  if q "$db" -c 'TRUNCATE "app data"."Comp T"' >/dev/null 2>&1; then
    not_ok "$db: on_truncate 'deny' still enforced after restore"
  else
    ok "$db: on_truncate 'deny' still enforced after restore"
  fi
done

# DROP EXTENSION without CASCADE must refuse while tables are attached (the triggers depend on
# its functions), and keep the archive.
err=$(q src -c "DROP EXTENSION deleted_record" 2>&1)
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'ERROR: ' <<<"$err"; then
  ok "DROP EXTENSION without CASCADE fails while tables are attached"
else
  not_ok "DROP EXTENSION without CASCADE fails while tables are attached"
  echo "#   rc=$rc"; sed 's/^/#   /' <<<"$err"
fi
check "the archive still exists with all its rows after the refused DROP" "$src_count" \
  "$(q src -c "SELECT count(*) FROM deleted_record" 2>&1)"
q src >/dev/null 2>&1 <<'SQL'
SELECT deleted_record_detach('plain_t');
SELECT deleted_record_detach('"app data"."Comp T"');
SELECT deleted_record_detach('part_t');
SQL
check "detaching every table leaves no deleted_record trigger" "0|0" \
  "$(q src -c "SELECT (SELECT count(*) FROM deleted_record_attached), count(*) FROM pg_trigger WHERE tgname LIKE 'deleted_record%' AND tgname <> 'deleted_record_not_distributable'")"
err=$(q src -c "DROP EXTENSION deleted_record" 2>&1)
rc=$?; check "DROP EXTENSION succeeds once every table is detached" "0" "$rc"
[ "$rc" -eq 0 ] || sed 's/^/#   /' <<<"$err"
check "the extension and its archive are gone" "0|" \
  "$(q src -c "SELECT (SELECT count(*) FROM pg_extension WHERE extname = 'deleted_record'), to_regclass('deleted_record')")"

tap_done
