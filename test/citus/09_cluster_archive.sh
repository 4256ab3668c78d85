#!/usr/bin/env bash
# Reading, restoring and purging the per-node archives from the coordinator: run_command_on_*
# (is it part of the caller's transaction? does it see the caller's uncommitted rows?), a
# transactional broadcast through a reference table whose trigger runs the operation on every
# placement, Citus's undeclared C function execute_command_on_remote_nodes_as_user, and a
# restore that puts a row back through Citus and removes its archive row in one transaction.
set -uo pipefail
source "$(dirname "$0")/../lib/citus_cluster.sh"
citus_cluster_start

cpsql coord <<'SQL'
SET citus.shard_count = 4;
CREATE TABLE item (id bigint PRIMARY KEY, v text);
SELECT create_distributed_table('item', 'id');
INSERT INTO item SELECT g, 'v' || g FROM generate_series(1, 20) g;
SET citus.enable_unsafe_triggers = on;
SELECT deleted_record_attach('item');
RESET citus.enable_unsafe_triggers;
DELETE FROM item WHERE id <= 10;

-- 1. one function over every node's archive, filters sent to the nodes
CREATE FUNCTION archive_everywhere(p_table text DEFAULT NULL, p_object text DEFAULT NULL)
RETURNS TABLE (nodeid int, id uuid, table_name text, object_id text, data jsonb, deleted_at timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  SELECT n.nodeid, a.id, a.table_name, a.object_id, a.data, a.deleted_at
    FROM run_command_on_all_nodes(format(
           $q$SELECT coalesce(json_agg(d), '[]') FROM (SELECT id, table_name, object_id, data, deleted_at FROM deleted_record
               WHERE (%1$L IS NULL OR table_name LIKE %1$L || '%%') AND (%2$L IS NULL OR object_id = %2$L)) d$q$, p_table, p_object)) n,
         json_to_recordset(n.result::json) AS a(id uuid, table_name text, object_id text, data jsonb, deleted_at timestamptz)
   WHERE n.success;
END $$;
SELECT nodeid, table_name, object_id, data FROM archive_everywhere('item') ORDER BY object_id::int;
SELECT nodeid, table_name, object_id FROM archive_everywhere(p_object => '7');

-- 2. run_command_on_all_nodes is not part of the caller's transaction
BEGIN;
SELECT nodeid, result FROM run_command_on_all_nodes($$DELETE FROM deleted_record WHERE object_id = '1'$$) ORDER BY nodeid;
ROLLBACK;
SELECT count(*) AS rows_for_object_1_after_rollback FROM archive_everywhere(p_object => '1');
-- ... and does not see the caller's uncommitted archive rows
BEGIN;
DELETE FROM item WHERE id = 11;
SELECT count(*) AS uncommitted_row_seen FROM archive_everywhere(p_object => '11');
COMMIT;
SELECT count(*) AS committed_row_seen FROM archive_everywhere(p_object => '11');

-- 3. a transactional broadcast: a reference table whose row trigger runs the statement on every placement
SET citus.enable_ddl_propagation = off;
CREATE FUNCTION run_op() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE NEW.statement;
  RETURN NULL;
END $$;
RESET citus.enable_ddl_propagation;
-- (no need to create run_op on the workers: Citus creates it there as a dependency of the trigger)
CREATE TABLE archive_op (statement text);
SELECT create_reference_table('archive_op');
SET citus.enable_unsafe_triggers = on;
CREATE TRIGGER run_op AFTER INSERT ON archive_op FOR EACH ROW EXECUTE FUNCTION run_op();
RESET citus.enable_unsafe_triggers;
BEGIN;
INSERT INTO archive_op VALUES ($$DELETE FROM deleted_record WHERE object_id IN ('2', '3')$$);
ROLLBACK;
SELECT count(*) AS rows_2_3_after_rollback FROM archive_everywhere(p_object => '2') UNION ALL SELECT count(*) FROM archive_everywhere(p_object => '3');
INSERT INTO archive_op VALUES ($$DELETE FROM deleted_record WHERE object_id IN ('2', '3')$$);
SELECT count(*) AS rows_2_3_after_commit FROM archive_everywhere(p_object => '2') UNION ALL SELECT count(*) FROM archive_everywhere(p_object => '3');
TRUNCATE archive_op;

-- 4. Citus's C function execute_command_on_remote_nodes_as_user (its SQL declaration was dropped)
CREATE FUNCTION exec_on_remote_nodes(query text, username text) RETURNS void
  LANGUAGE C STRICT AS 'citus', 'execute_command_on_remote_nodes_as_user';
BEGIN;
SELECT exec_on_remote_nodes($$DELETE FROM deleted_record WHERE object_id = '4'$$, current_user);
ROLLBACK;
SELECT count(*) AS rows_4_after_rollback FROM archive_everywhere(p_object => '4');
BEGIN;
SELECT exec_on_remote_nodes($$DELETE FROM deleted_record WHERE object_id = '4'$$, current_user);
COMMIT;
SELECT count(*) AS rows_4_after_commit FROM archive_everywhere(p_object => '4');

-- 5. restore from the coordinator: put item 5 back through Citus, drop its archive row on its node
CREATE FUNCTION restore_item(p_object text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  a record;
BEGIN
  SELECT * INTO STRICT a FROM archive_everywhere('item', p_object);
  INSERT INTO item SELECT * FROM jsonb_populate_record(NULL::item, a.data);
  INSERT INTO archive_op VALUES (format('DELETE FROM deleted_record WHERE id = %L', a.id));
END $$;
BEGIN;
SELECT restore_item('5');
SELECT * FROM item WHERE id = 5;
ROLLBACK;
SELECT count(*) AS item_5_rows_after_rollback FROM item WHERE id = 5;
SELECT count(*) AS archive_rows_5_after_rollback FROM archive_everywhere(p_object => '5');
SELECT restore_item('5');
SELECT * FROM item WHERE id = 5;
SELECT count(*) AS archive_rows_5_after_commit FROM archive_everywhere(p_object => '5');
SQL
