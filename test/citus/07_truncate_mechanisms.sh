#!/usr/bin/env bash
# Ways to keep TRUNCATE policies on Citus tables, each tried: a BEFORE TRUNCATE guard on the
# coordinator's shell that archives through Citus first (delete / pull / pushdown, see
# proto.sql), with foreign keys between the truncated tables and on a reference table; and
# guards on the shards themselves, added after distribution with run_command_on_placements
# (is that part of the transaction?).
set -uo pipefail
source "$(dirname "$0")/../lib/citus_cluster.sh"
citus_cluster_start
for n in coord w1 w2; do cq $n -f "$(dirname "$0")/proto.sql" >/dev/null; done

setup() {  # setup VARIANT: fresh account/entry (FK without cascade) and a reference table
  cq coord <<SQL
DROP TABLE IF EXISTS entry, account, country;
SELECT run_command_on_all_nodes('TRUNCATE proto_archive');
SET citus.shard_count = 4;
CREATE TABLE account (id bigint PRIMARY KEY, owner text);
CREATE TABLE entry (id bigint, account_id bigint REFERENCES account, amount numeric, PRIMARY KEY (account_id, id));
CREATE TABLE country (code text PRIMARY KEY);
SELECT create_distributed_table('account', 'id');
SELECT create_distributed_table('entry', 'account_id', colocate_with => 'account');
SELECT create_reference_table('country');
INSERT INTO account SELECT g, 'o' || g FROM generate_series(1, 6) g;
INSERT INTO entry SELECT g, 1 + g % 6, g FROM generate_series(1, 12) g;
INSERT INTO country VALUES ('de'), ('fr');
SET citus.enable_unsafe_triggers = on;
CREATE TRIGGER proto_row AFTER DELETE ON account FOR EACH ROW EXECUTE FUNCTION proto_row();
CREATE TRIGGER proto_row AFTER DELETE ON entry FOR EACH ROW EXECUTE FUNCTION proto_row();
CREATE TRIGGER proto_row AFTER DELETE ON country FOR EACH ROW EXECUTE FUNCTION proto_row();
CREATE TRIGGER proto_truncate_guard BEFORE TRUNCATE ON account FOR EACH STATEMENT EXECUTE FUNCTION proto_truncate_guard('$1');
CREATE TRIGGER proto_truncate_guard BEFORE TRUNCATE ON entry FOR EACH STATEMENT EXECUTE FUNCTION proto_truncate_guard('$1');
CREATE TRIGGER proto_truncate_guard BEFORE TRUNCATE ON country FOR EACH STATEMENT EXECUTE FUNCTION proto_truncate_guard('$1');
SQL
}
archived() {
  cq coord -F ' ' -c "SELECT n.nodeid, count(*), string_agg(DISTINCT a.table_name || '/' || coalesce(a.shard, '?'), ' '), count(DISTINCT a.xact_key) AS keys, string_agg(DISTINCT coalesce(a.actor, '-'), ',')
    FROM run_command_on_all_nodes(\$\$SELECT coalesce(json_agg(p), '[]') FROM proto_archive p\$\$) n, json_populate_recordset(NULL::proto_archive, n.result::json) a GROUP BY 1 ORDER BY 1"
  cq coord -c "SELECT 'rows left: account ' || (SELECT count(*) FROM account) || ', entry ' || (SELECT count(*) FROM entry) || ', country ' || (SELECT count(*) FROM country)"
}

for variant in delete pull pushdown; do
  echo "==== variant $variant"
  setup $variant >/dev/null
  cpsql coord <<'SQL'
BEGIN;
SELECT proto_set_context('ops:carol', 'reset');
TRUNCATE account, entry;
COMMIT;
SQL
  archived
  echo "---- rolled back: rows stay, nothing more archived"
  cq coord -c "INSERT INTO account VALUES (100, 'x')" -c "INSERT INTO entry VALUES (100, 100, 1)"
  cpsql coord -c "BEGIN" -c "TRUNCATE account, entry" -c "ROLLBACK"
  archived
  cq coord -c "DELETE FROM entry WHERE id = 100" -c "DELETE FROM account WHERE id = 100" >/dev/null
  cq coord -c "SELECT run_command_on_all_nodes(\$\$DELETE FROM proto_archive WHERE object_id = '100'\$\$)" >/dev/null
  echo "---- TRUNCATE country (reference table)"
  cpsql coord -c "TRUNCATE country"
  archived
done

echo "==== variant delete with TRUNCATE ... CASCADE of the parent only"
setup delete >/dev/null
cpsql coord -c "TRUNCATE account CASCADE"
archived

echo "==== guards on the shards, added after distribution with run_command_on_placements"
setup none >/dev/null
cpsql coord <<'SQL'
SELECT deleted_record_attach('account', on_truncate => 'ignore');   -- fails: unsafe triggers off
SET citus.enable_unsafe_triggers = on;
SELECT deleted_record_attach('account', on_truncate => 'archive');
SELECT deleted_record_attach('entry', on_truncate => 'archive');
RESET citus.enable_unsafe_triggers;
-- is run_command_on_placements part of the transaction?
BEGIN;
SELECT shardid, success, result FROM run_command_on_placements('account',
  $$CREATE TRIGGER deleted_record_truncate_guard BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION public.deleted_record_truncate_guard('archive')$$) ORDER BY 1;
ROLLBACK;
SELECT shardid, result FROM run_command_on_placements('account', $$SELECT count(*) FROM pg_trigger WHERE tgrelid = '%s'::regclass AND tgname = 'deleted_record_truncate_guard'$$) ORDER BY 1;
SELECT shardid, success, result FROM run_command_on_placements('entry',
  $$CREATE TRIGGER deleted_record_truncate_guard BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION public.deleted_record_truncate_guard('archive')$$) ORDER BY 1;
SELECT shardid, result FROM run_command_on_placements('entry', $$SELECT count(*) FROM pg_trigger WHERE tgrelid = '%s'::regclass AND tgname = 'deleted_record_truncate_guard'$$) ORDER BY 1;
-- now every shard has a guard (the account ones survived the ROLLBACK): TRUNCATE archives on the workers
TRUNCATE account, entry;
SELECT nodeid, result FROM run_command_on_all_nodes($$SELECT string_agg(table_name || '=' || n, ' ' ORDER BY table_name) FROM (SELECT table_name, count(*) n FROM deleted_record GROUP BY 1) s$$) ORDER BY nodeid;
SQL
