#!/usr/bin/env bash
# The two C-level mechanisms of proto_hook/proto_hook.c, tried on a cluster:
# 1. create_distributed_table / create_reference_table of a table attached before distribution,
#    without the user touching citus.enable_unsafe_triggers (an fmgr hook scopes it to the call);
# 2. Citus's UseCoordinatedTransaction() called from outside Citus, so a transaction that archives
#    on the coordinator before its first distributed statement gets one key for all its rows.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/citus_cluster.sh"
citus_cluster_start
cp -r "$here/proto_hook" "$CITUS_DIR/proto_hook"
make -s -C "$CITUS_DIR/proto_hook" PG_CONFIG="$PGBIN/pg_config" >/dev/null || die "building proto_hook failed"
so=$CITUS_DIR/proto_hook/proto_hook.so
for n in coord w1 w2; do cq $n -f "$here/proto.sql" >/dev/null; done

cpsql coord -v so="$so" <<'SQL'
-- 1. distribute tables that were attached while local
SET citus.shard_count = 4;
CREATE TABLE invoice (id bigint PRIMARY KEY, v text);
CREATE TABLE country (code text PRIMARY KEY);
CREATE TABLE audited (id bigint PRIMARY KEY);
INSERT INTO invoice SELECT g, 'v' FROM generate_series(1, 10) g;
SELECT deleted_record_attach('invoice');
SELECT deleted_record_attach('country', on_truncate => 'deny');
SELECT deleted_record_attach('audited');
CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER audit AFTER INSERT ON audited FOR EACH ROW EXECUTE FUNCTION audit();
-- without the hook: Citus refuses
SELECT create_distributed_table('invoice', 'id');
-- with the hook loaded in this session
LOAD :'so';
SHOW citus.enable_unsafe_triggers;
SELECT create_distributed_table('invoice', 'id');
SHOW citus.enable_unsafe_triggers;
SELECT create_reference_table('country');
SHOW citus.enable_unsafe_triggers;
SELECT create_distributed_table('audited', 'id');          -- a trigger that is not deleted_record's: refused
-- without the other trigger, from plpgsql with the table in a variable: plpgsql plans the call with
-- the variable's value, so the hook still sees a constant
DO $$ DECLARE t regclass := 'audited'; BEGIN DROP TRIGGER audit ON audited; PERFORM create_distributed_table(t, 'id'); END $$;
SELECT logicalrelid, partmethod FROM pg_dist_partition WHERE logicalrelid::text IN ('invoice', 'country', 'audited') ORDER BY 1;
DELETE FROM invoice WHERE id <= 4;
SELECT nodeid, result FROM run_command_on_all_nodes($$SELECT count(*) FROM deleted_record WHERE table_name LIKE 'invoice%'$$) ORDER BY nodeid;
TRUNCATE country;
SQL
echo "---- shard triggers on w1 after distribution through the hook"
cq w1 -F ' ' -c "SET citus.override_table_visibility = off" -c "SELECT c.relname, string_agg(t.tgname, ', ' ORDER BY t.tgname) FROM pg_class c JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal WHERE c.relname ~ '^(invoice|country|audited)_\d+$' GROUP BY 1 ORDER BY 1"

cpsql coord -v so="$so" <<'SQL'
-- 2. one transaction key from the first archived row on the coordinator
CREATE FUNCTION proto_use_coordinated_transaction() RETURNS void LANGUAGE C AS :'so';
CREATE TABLE memo (id bigint PRIMARY KEY);
INSERT INTO memo SELECT generate_series(1, 5);
SET citus.enable_unsafe_triggers = on;
CREATE TRIGGER proto_row AFTER DELETE ON memo FOR EACH ROW EXECUTE FUNCTION proto_row();
CREATE TRIGGER proto_row AFTER DELETE ON invoice FOR EACH ROW EXECUTE FUNCTION proto_row();
RESET citus.enable_unsafe_triggers;
-- without: the local row gets a local key, the distributed rows another
BEGIN;
DELETE FROM memo WHERE id = 1;
DELETE FROM invoice WHERE id IN (5, 6);
COMMIT;
-- with: called before the first archived row (the C trigger would call it when it sees
-- transaction_number = 0 inside a transaction block on a Citus node)
BEGIN;
SELECT get_current_transaction_id() AS before;
SELECT proto_use_coordinated_transaction();
SELECT get_current_transaction_id() AS after;
DELETE FROM memo WHERE id = 2;
DELETE FROM invoice WHERE id IN (7, 8);
SELECT get_current_transaction_id() AS at_end;
COMMIT;
-- a coordinated transaction that never goes remote commits, rolls back and survives savepoints
BEGIN; SELECT proto_use_coordinated_transaction(); DELETE FROM memo WHERE id = 3; COMMIT;
BEGIN; SELECT proto_use_coordinated_transaction(); DELETE FROM memo WHERE id = 4; ROLLBACK;
BEGIN; SAVEPOINT a; SELECT proto_use_coordinated_transaction(); ROLLBACK TO SAVEPOINT a; DELETE FROM invoice WHERE id = 9; DELETE FROM memo WHERE id = 5; COMMIT;
SELECT proto_use_coordinated_transaction();   -- autocommit
SELECT xact_key, string_agg(table_name || ':' || object_id, ' ' ORDER BY table_name, object_id) AS rows
  FROM (SELECT (json_populate_recordset(NULL::proto_archive, result::json)).*
          FROM run_command_on_all_nodes($$SELECT coalesce(json_agg(p), '[]') FROM proto_archive p$$)) s
 GROUP BY 1 ORDER BY 1;
SQL
