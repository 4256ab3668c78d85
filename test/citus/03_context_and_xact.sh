#!/usr/bin/env bash
# The deletion context (actor/reason/metadata) and transaction identity inside the worker
# backends that run a distributed DELETE: what each way of setting the context delivers to the
# shard triggers, what citus.propagate_set_commands changes, whether a function can propagate a
# SET LOCAL itself, and which cluster-wide transaction identifiers a shard trigger can see.
set -uo pipefail
source "$(dirname "$0")/../lib/citus_cluster.sh"
citus_cluster_start

# A row trigger that records, on the node where it fires, what the shard's backend sees.
for n in coord w1 w2; do
  cq $n <<'SQL'
CREATE TABLE probe (id bigint, node_port int, shard text, actor text, reason text, metadata text,
                    dist_xact text, gpid bigint, local_xid xid8, app text, propagate text);
SET citus.enable_ddl_propagation = off;
CREATE FUNCTION probe_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO probe VALUES (OLD.id, current_setting('port')::int, TG_TABLE_NAME,
    current_setting('deleted_record.actor', true), current_setting('deleted_record.reason', true),
    current_setting('deleted_record.metadata', true), get_current_transaction_id()::text,
    citus_backend_gpid(), pg_current_xact_id(), current_setting('application_name'),
    current_setting('citus.propagate_set_commands'));
  RETURN OLD;
END $$;
SQL
done

cpsql coord <<'SQL'
SET citus.shard_count = 4;
SET citus.next_shard_id = 104000;
CREATE TABLE item (id bigint PRIMARY KEY, v text);
SELECT create_distributed_table('item', 'id');
INSERT INTO item SELECT g, 'v' || g FROM generate_series(1, 40) g;
SET citus.enable_unsafe_triggers = on;
CREATE TRIGGER probe_row AFTER DELETE ON item FOR EACH ROW EXECUTE FUNCTION probe_row();
SELECT deleted_record_attach('item');
RESET citus.enable_unsafe_triggers;
-- ids 1 and 2 are on different workers; ids 3, 4 on the same shard as 1, 2 resp. ...
SELECT id, nodeport FROM item JOIN citus_shards cs ON cs.shardid = get_shard_id_for_distribution_column('item', id) WHERE id <= 4 ORDER BY id;
SELECT citus_backend_gpid() AS coordinator_gpid;
SQL

cpsql coord <<'SQL'
-- A. autocommit one-row DELETE after a session-level SET
SET deleted_record.actor = 'A:session-set';
DELETE FROM item WHERE id = 1;
RESET deleted_record.actor;

-- B. transaction, SET LOCAL, citus.propagate_set_commands = none (default)
BEGIN;
SET LOCAL deleted_record.actor = 'B:set-local';
SELECT get_current_transaction_id() AS coordinator_dist_xact;
DELETE FROM item WHERE id = 2;
DELETE FROM item WHERE id = 3;
COMMIT;

-- C. transaction, SET LOCAL, citus.propagate_set_commands = local
SET citus.propagate_set_commands = 'local';
BEGIN;
SET LOCAL deleted_record.actor = 'C:set-local';
SET LOCAL deleted_record.metadata = '{"ticket": 3}';
SELECT get_current_transaction_id() AS coordinator_dist_xact, pg_current_xact_id() AS coordinator_xid;
DELETE FROM item WHERE id = 4;
DELETE FROM item WHERE id = 5;
SELECT get_current_transaction_id() AS coordinator_dist_xact_after_deletes;
COMMIT;

-- D. set_config(..., true) with propagate_set_commands = local
BEGIN;
SELECT set_config('deleted_record.actor', 'D:set_config', true);
DELETE FROM item WHERE id IN (6, 7);
COMMIT;

-- E. deleted_record_set_context() (set_config inside) with propagate_set_commands = local
BEGIN;
SELECT deleted_record_set_context('E:set_context', 'why E');
DELETE FROM item WHERE id IN (8, 9);
COMMIT;

-- F. SET LOCAL issued after the worker connections are open: sent to them mid-transaction
BEGIN;
DELETE FROM item WHERE id = 10;
SET LOCAL deleted_record.actor = 'F:late-set-local';
DELETE FROM item WHERE id = 11;
COMMIT;

-- G. autocommit multi-shard DELETE with session-level SET (propagate local does not apply)
SET deleted_record.actor = 'G:session-set';
DELETE FROM item WHERE id IN (12, 13, 14, 15);
RESET deleted_record.actor;
RESET citus.propagate_set_commands;

-- H. a function that propagates its own SET LOCAL: propagate_set_commands only inside the
--    function (SET clause), the context set with EXECUTE 'SET LOCAL ...' (a utility statement
--    Citus's hook sees), with the session at the default propagate_set_commands = none.
CREATE FUNCTION set_context_propagating(actor text, reason text) RETURNS void LANGUAGE plpgsql
  SET citus.propagate_set_commands = 'local' AS $$
BEGIN
  EXECUTE format('SET LOCAL deleted_record.actor = %L', actor);
  EXECUTE format('SET LOCAL deleted_record.reason = %L', reason);
END $$;
BEGIN;
SELECT set_context_propagating('H:function', 'why H');
SHOW citus.propagate_set_commands;
DELETE FROM item WHERE id = 16;
DELETE FROM item WHERE id = 17;
COMMIT;

-- I. the same function, called after connections are open, then a second call changes it
BEGIN;
DELETE FROM item WHERE id = 18;
SELECT set_context_propagating('I:first', 'r1');
DELETE FROM item WHERE id IN (19, 20);
SELECT set_context_propagating('I:second', 'r2');
DELETE FROM item WHERE id IN (21, 22);
COMMIT;

-- J. savepoint rolled back: the propagated SET LOCAL is undone on the workers too
BEGIN;
SELECT set_context_propagating('J:outer', 'r');
SAVEPOINT s;
SELECT set_context_propagating('J:inner', 'r');
ROLLBACK TO SAVEPOINT s;
DELETE FROM item WHERE id IN (23, 24);
COMMIT;

-- K. the function outside a transaction block (autocommit SELECT, then DELETE): nothing to keep
SELECT set_context_propagating('K:autocommit', 'r');
DELETE FROM item WHERE id = 25;

-- L. ALTER ROLE ... SET (Citus propagates it to the workers); new worker connections see it
ALTER ROLE postgres SET deleted_record.reason = 'L:role-default';
SQL
# close the coordinator's cached worker connections so new backends read the role setting
sleep 1
cpsql coord <<'SQL'
SELECT citus_remote_connection_stats() IS NOT NULL AS connections_before_reset;
SQL
for n in w1 w2; do cq $n -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'citus_internal%'" >/dev/null; done
cpsql coord <<'SQL'
DELETE FROM item WHERE id IN (26, 27);
ALTER ROLE postgres RESET deleted_record.reason;
-- M. ALTER DATABASE ... SET: is it propagated too?
ALTER DATABASE citus_test SET deleted_record.actor = 'M:database-default';
SQL
for n in w1 w2; do cq $n -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'citus_internal%'" >/dev/null; done
cpsql coord <<'SQL'
DELETE FROM item WHERE id IN (28, 29);
ALTER DATABASE citus_test RESET deleted_record.actor;
-- N. what the workers are sent (citus.log_remote_commands): transaction ids and propagated SET LOCALs
SET citus.log_remote_commands = on;
DELETE FROM item WHERE id = 30;                    -- autocommit, one shard
DELETE FROM item WHERE id IN (31, 32, 33, 34);     -- autocommit, several shards
BEGIN;
SELECT set_context_propagating('N:function', 'why N');
DELETE FROM item WHERE id = 35;
COMMIT;
RESET citus.log_remote_commands;
SQL

echo "==== what the shard triggers saw (probe rows per node: id, shard, actor, reason, metadata, get_current_transaction_id(), citus_backend_gpid(), local xid, application_name, propagate_set_commands)"
for n in w1 w2 coord; do
  echo "---- $n"
  cq $n -F ' | ' -c "SELECT id, shard, coalesce(actor,'NULL'), coalesce(reason,'NULL'), coalesce(metadata,'NULL'), dist_xact, gpid, local_xid, app, propagate FROM probe ORDER BY id"
done
echo "==== archive rows (actor, reason, metadata, xact_id) per node"
for n in w1 w2; do
  echo "---- $n"
  cq $n -F ' | ' -c "SELECT object_id, table_name, coalesce(actor,'NULL'), coalesce(reason,'NULL'), coalesce(metadata::text,'NULL'), xact_id FROM deleted_record ORDER BY object_id::int"
done
