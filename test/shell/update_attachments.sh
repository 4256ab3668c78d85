#!/usr/bin/env bash
# update_attachments: tables attached under 1.1 across ALTER EXTENSION UPDATE 1.1 -> 1.2. Tables
# attached with deleted_record_attach keep their options and get an identity; tables archived by a
# trigger made by hand (the README's pattern) get the TRUNCATE guard a 1.2 CREATE TRIGGER gives,
# on every partition too, so TRUNCATE no longer removes their rows unarchived.
set -uo pipefail
source "$(dirname "$0")/../lib/own_cluster.sh"

start_own_cluster update_attachments
q <<'SQL' >/dev/null
CREATE EXTENSION deleted_record VERSION '1.1';
CREATE TABLE attached (id int PRIMARY KEY, email text);
SELECT deleted_record_attach('attached', on_truncate => 'deny', retention => '2 years', mask_columns => '{email}');
CREATE TABLE handmade (id int PRIMARY KEY, note text);
CREATE TRIGGER deleted_record_insert AFTER DELETE ON handmade FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
CREATE TABLE handmade_parts (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE handmade_parts_2026 PARTITION OF handmade_parts FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TRIGGER archive_by_hand AFTER DELETE ON handmade_parts FOR EACH ROW EXECUTE FUNCTION deleted_record_insert();
SQL
if q -c "ALTER EXTENSION deleted_record UPDATE TO '1.2'" >/dev/null 2>&1; then ok "ALTER EXTENSION UPDATE TO '1.2' succeeds"; else not_ok "ALTER EXTENSION UPDATE TO '1.2' succeeds"; fi
check "the attached table keeps on_truncate, retention and masks, and gets an identity" "deny|2 years|{email}|t" \
  "$(q -c "SELECT on_truncate, retention, mask_columns, attachment_id IS NOT NULL FROM deleted_record_attached WHERE table_name = 'attached'::regclass")"
check "tables archived by hand-made triggers get the 'archive' TRUNCATE policy" "handmade|archive handmade_parts|archive" \
  "$(q -c "SELECT string_agg(table_name::text || '|' || on_truncate, ' ' ORDER BY table_name::text) FROM deleted_record_attached WHERE table_name::text LIKE 'handmade%'")"
check "... with a guard on the partitioned table and on its partition" "handmade_parts handmade_parts_2026" \
  "$(q -c "SELECT string_agg(tgrelid::regclass::text, ' ' ORDER BY tgrelid::regclass::text) FROM pg_trigger WHERE tgfoid = 'deleted_record_truncate_guard()'::regprocedure AND tgrelid::regclass::text LIKE 'handmade_parts%'")"
q >/dev/null <<'SQL'
INSERT INTO handmade VALUES (1, 'x'), (2, 'y');
INSERT INTO handmade_parts VALUES (1, '2026-03-01');
TRUNCATE handmade;
TRUNCATE handmade_parts_2026;
SQL
check "TRUNCATE of a hand-made table and of a hand-made partition archives their rows" "handmade:2 handmade_parts:1" \
  "$(q -c "SELECT string_agg(table_name || ':' || n, ' ' ORDER BY table_name) FROM (SELECT table_name, count(*) AS n FROM deleted_record GROUP BY 1) a")"
check "TRUNCATE of the attached table is still denied" "ERROR" \
  "$(q -c "TRUNCATE attached" 2>&1 | grep -o '^ERROR' | head -1)"
tap_done
