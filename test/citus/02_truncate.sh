#!/usr/bin/env bash
# TRUNCATE of distributed tables: which BEFORE TRUNCATE triggers fire where (coordinator shell,
# worker shells, shards), what deleted_record 1.0's guard does with each policy when attached
# after and before create_distributed_table, and whether a guard on the coordinator's shell
# table can archive the shard rows by running a DELETE through Citus first.
set -uo pipefail
source "$(dirname "$0")/../lib/citus_cluster.sh"
citus_cluster_start

# A BEFORE TRUNCATE trigger that reports where it runs, created in every database the same way.
probe_fn="CREATE FUNCTION truncate_probe() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  RAISE NOTICE 'truncate_probe fired on % (port %)', TG_TABLE_NAME, current_setting('port');
  INSERT INTO probe_log VALUES (TG_TABLE_NAME, current_setting('port')::int);
  RETURN NULL;
END \$\$;"
for n in coord w1 w2; do
  cq $n -c "CREATE TABLE probe_log (tbl text, port int)" -c "SET citus.enable_ddl_propagation = off" -c "$probe_fn"
done

cpsql coord <<'SQL'
SET citus.shard_count = 4;
SET citus.next_shard_id = 103000;
CREATE TABLE after_dist (id bigint PRIMARY KEY, v text);
SELECT create_distributed_table('after_dist', 'id');
INSERT INTO after_dist SELECT g, 'v' || g FROM generate_series(1, 10) g;
SET citus.enable_unsafe_triggers = on;
SELECT deleted_record_attach('after_dist');                 -- default policy: archive
CREATE TRIGGER truncate_probe BEFORE TRUNCATE ON after_dist FOR EACH STATEMENT EXECUTE FUNCTION truncate_probe();
RESET citus.enable_unsafe_triggers;
SELECT tgrelid::regclass, tgname FROM pg_trigger WHERE tgrelid = 'after_dist'::regclass ORDER BY 2;

-- 1. attached after distribution, policy archive
TRUNCATE after_dist;
SELECT count(*) AS rows_left FROM after_dist;
SELECT count(*) AS coordinator_archive FROM deleted_record;
SQL
for n in w1 w2; do
  echo "---- $n: archive rows and probe log"
  cq $n -c "SELECT count(*) FROM deleted_record" -c "SELECT * FROM probe_log"
done

cpsql coord <<'SQL'
-- 2. attached after distribution, policy deny
INSERT INTO after_dist SELECT g, 'v' || g FROM generate_series(1, 10) g;
SET citus.enable_unsafe_triggers = on;
SELECT deleted_record_attach('after_dist', on_truncate => 'deny');
RESET citus.enable_unsafe_triggers;
TRUNCATE after_dist;
SELECT count(*) AS rows_left FROM after_dist;

-- 3. attached before distribution (guards are copied to the shards)
SET citus.shard_count = 4;
SET citus.next_shard_id = 103100;
CREATE TABLE before_dist (id bigint PRIMARY KEY, v text);
SELECT deleted_record_attach('before_dist');
CREATE TRIGGER truncate_probe BEFORE TRUNCATE ON before_dist FOR EACH STATEMENT EXECUTE FUNCTION truncate_probe();
SET citus.enable_unsafe_triggers = on;
SELECT create_distributed_table('before_dist', 'id');
RESET citus.enable_unsafe_triggers;
INSERT INTO before_dist SELECT g, 'v' || g FROM generate_series(1, 10) g;
TRUNCATE before_dist;
SELECT count(*) AS rows_left FROM before_dist;
SQL
for n in w1 w2; do
  echo "---- $n: archive rows per table and probe log"
  cq $n -c "SELECT table_name, count(*) FROM deleted_record GROUP BY 1 ORDER BY 1" -c "SELECT * FROM probe_log"
done

cpsql coord <<'SQL'
-- 4. same, policy deny on shards and shell
INSERT INTO before_dist SELECT g, 'v' || g FROM generate_series(1, 4) g;
SET citus.enable_unsafe_triggers = on;
SELECT deleted_record_attach('before_dist', on_truncate => 'deny');
RESET citus.enable_unsafe_triggers;
TRUNCATE before_dist;
SQL
echo "---- guards on the shards of before_dist after re-attach with deny (w1)"
cq w1 -c "SELECT tgrelid::regclass, tgname, encode(tgargs, 'escape') AS args FROM pg_trigger WHERE tgname LIKE 'deleted_record_truncate_guard%' AND tgrelid::regclass::text LIKE 'before_dist%' ORDER BY 1"

cpsql coord <<'SQL'
-- 5. can a BEFORE TRUNCATE trigger on the coordinator's shell archive the shard rows by
--    deleting them through Citus first (the row triggers on the shards archive them)?
SET citus.shard_count = 4;
SET citus.next_shard_id = 103200;
CREATE TABLE via_delete (id bigint PRIMARY KEY, v text);
SELECT create_distributed_table('via_delete', 'id');
INSERT INTO via_delete SELECT g, 'v' || g FROM generate_series(1, 10) g;
SET citus.enable_unsafe_triggers = on;
SELECT deleted_record_attach('via_delete', on_truncate => 'ignore');
CREATE FUNCTION delete_before_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'shell guard on % (port %): deleting through Citus', TG_TABLE_NAME, current_setting('port');
  EXECUTE format('DELETE FROM %I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME);
  RETURN NULL;
END $$;
SET citus.enable_ddl_propagation = off;   -- the function and trigger exist on the coordinator only
CREATE TRIGGER delete_before_truncate BEFORE TRUNCATE ON via_delete FOR EACH STATEMENT EXECUTE FUNCTION delete_before_truncate();
RESET citus.enable_ddl_propagation;
RESET citus.enable_unsafe_triggers;
BEGIN;
SELECT deleted_record_set_context('ops:bob', 'reset test data');
TRUNCATE via_delete;
COMMIT;
SELECT count(*) AS rows_left FROM via_delete;
SELECT result AS archived_per_node FROM run_command_on_all_nodes($$SELECT count(*) FROM deleted_record WHERE table_name LIKE 'via_delete%'$$) ORDER BY nodeid;
-- rolled back: nothing archived, nothing truncated
INSERT INTO via_delete SELECT g, 'v' || g FROM generate_series(1, 10) g;
BEGIN;
TRUNCATE via_delete;
ROLLBACK;
SELECT count(*) AS rows_after_rollback FROM via_delete;
SELECT result AS archived_per_node FROM run_command_on_all_nodes($$SELECT count(*) FROM deleted_record WHERE table_name LIKE 'via_delete%'$$) ORDER BY nodeid;
SQL

cpsql coord <<'SQL'
-- 7. truncate_local_data_after_distributing_table: Citus truncates the shell's own (stale) heap
--    with citus.enable_ddl_propagation off; the shell's guard fires, the shards are not touched
CREATE TABLE with_local_data (id bigint PRIMARY KEY, v text);
INSERT INTO with_local_data SELECT g, 'v' || g FROM generate_series(1, 5) g;
SELECT deleted_record_attach('with_local_data', on_truncate => 'deny');
SET citus.enable_unsafe_triggers = on;
SELECT create_distributed_table('with_local_data', 'id');
RESET citus.enable_unsafe_triggers;
SELECT truncate_local_data_after_distributing_table('with_local_data');
SET citus.enable_unsafe_triggers = on;
SELECT deleted_record_attach('with_local_data', on_truncate => 'archive');
RESET citus.enable_unsafe_triggers;
SELECT truncate_local_data_after_distributing_table('with_local_data');
SELECT count(*) AS rows_still_in_the_table FROM with_local_data;
SELECT count(*) AS archived_on_the_coordinator FROM deleted_record WHERE table_name = 'with_local_data';
SQL

echo "---- 6. TRUNCATE of a shard directly on a worker (shard of after_dist: no guard on shards)"
shard=$(cq w1 -c "SELECT shard_name FROM citus_shards WHERE table_name = 'after_dist'::regclass AND nodeport = ${CITUS_PORT[w1]} LIMIT 1")
cpsql w1 -c "SELECT count(*) FROM $shard" -c "TRUNCATE $shard" -c "SELECT count(*) FROM deleted_record WHERE table_name = '$shard'"
