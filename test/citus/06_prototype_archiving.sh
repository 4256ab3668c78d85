#!/usr/bin/env bash
# The recommended row-archiving design, prototyped in plpgsql (proto.sql) next to deleted_record
# 1.0's own trigger: attach from a function that enables unsafe triggers for itself only;
# logical table names from shard names; reference-table rows archived once (lowest group id);
# a cluster-wide transaction key; context carried by SET LOCAL propagation from a function;
# and one view on the coordinator over every node's archive.
set -uo pipefail
source "$(dirname "$0")/../lib/citus_cluster.sh"
citus_cluster_start
for n in coord w1 w2; do cq $n -f "$(dirname "$0")/proto.sql" >/dev/null; done

cpsql coord <<'SQL'
SET citus.shard_count = 4;
SET citus.next_shard_id = 107000;
CREATE TABLE country (code text PRIMARY KEY, name text);
SELECT create_reference_table('country');
CREATE TABLE invoice (id bigint PRIMARY KEY, country text REFERENCES country ON DELETE CASCADE, amount numeric);
SELECT create_distributed_table('invoice', 'id');
CREATE TABLE orders (id bigint, placed date, PRIMARY KEY (id, placed)) PARTITION BY RANGE (placed);
CREATE TABLE orders_2025 PARTITION OF orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE orders_2026 PARTITION OF orders FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT create_distributed_table('orders', 'id', colocate_with => 'invoice');
CREATE TABLE memo (id bigint PRIMARY KEY, body text);            -- plain local table on the coordinator
CREATE TABLE note (id bigint PRIMARY KEY, body text);
SELECT citus_add_local_table_to_metadata('note');                 -- Citus local table
INSERT INTO country VALUES ('de', 'Germany'), ('fr', 'France'), ('it', 'Italy');
INSERT INTO invoice SELECT g, (ARRAY['de', 'fr', 'it'])[1 + g % 3], g FROM generate_series(1, 30) g;
INSERT INTO orders SELECT g, date '2025-06-01' + g * 30 FROM generate_series(1, 12) g;
INSERT INTO memo SELECT g, 'm' FROM generate_series(1, 3) g;
INSERT INTO note SELECT g, 'n' FROM generate_series(1, 3) g;

-- attach from a function that enables unsafe triggers only for its own work
SHOW citus.enable_unsafe_triggers;
SELECT proto_attach(t) FROM unnest(ARRAY['country', 'invoice', 'orders', 'memo', 'note']::regclass[]) t;
SHOW citus.enable_unsafe_triggers;
BEGIN;
SELECT proto_attach('invoice', 'deny');
SHOW citus.enable_unsafe_triggers;   -- back to the caller's value inside the transaction too
COMMIT;
SELECT proto_attach('invoice', 'archive');
SELECT * FROM deleted_record_attached ORDER BY 1::text;
-- the prototype trigger, attached the same way (by hand: CREATE TRIGGER inside a function)
DO $$
DECLARE t regclass;
BEGIN
  PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
  FOREACH t IN ARRAY ARRAY['country', 'invoice', 'orders', 'memo', 'note']::regclass[] LOOP
    EXECUTE format('CREATE TRIGGER proto_row AFTER DELETE ON %s FOR EACH ROW EXECUTE FUNCTION proto_row()', t);
  END LOOP;
END $$;
SQL
echo "---- triggers on the coordinator's tables and shards"
cq coord -F ' ' -c "SET citus.override_table_visibility = off" -c "SELECT c.relname, string_agg(t.tgname, ', ' ORDER BY t.tgname) FROM pg_class c JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal WHERE c.relnamespace = 'public'::regnamespace GROUP BY 1 ORDER BY 1"
echo "---- triggers on w1's shards"
cq w1 -F ' ' -c "SET citus.override_table_visibility = off" -c "SELECT c.relname, string_agg(t.tgname, ', ' ORDER BY t.tgname) FROM pg_class c JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal WHERE c.relname ~ '_\d+$' GROUP BY 1 ORDER BY 1"

cpsql coord <<'SQL'
-- S1: autocommit one-row delete (router)
DELETE FROM invoice WHERE id = 1;
-- S2: a transaction with context, a multi-shard delete, a reference-table delete cascading to invoice
BEGIN;
SELECT proto_set_context('support:alice', 'GDPR #4711', '{"ticket": 4711}');
DELETE FROM country WHERE code = 'fr';        -- cascades to invoice rows of 'fr' on both workers
DELETE FROM invoice WHERE id IN (2, 4);
SELECT proto_xact_key() AS coordinator_key_at_end;
COMMIT;
-- S3: a partitioned distributed table
DELETE FROM orders WHERE id IN (1, 10);
-- S4: coordinator-local tables first, then a distributed table, in one transaction
BEGIN;
SELECT proto_set_context('ops:bob', 'cleanup');
DELETE FROM memo WHERE id = 1;
DELETE FROM note WHERE id = 1;
DELETE FROM invoice WHERE id = 3;
SELECT proto_xact_key() AS coordinator_key_at_end;
COMMIT;
-- S5: a distributed table first, then coordinator-local tables
BEGIN;
DELETE FROM invoice WHERE id = 6;
DELETE FROM memo WHERE id = 2;
DELETE FROM note WHERE id = 2;
COMMIT;

-- one view over every node's archive, on the coordinator
CREATE VIEW proto_cluster AS
SELECT n.nodeid, a.*
  FROM run_command_on_all_nodes($$SELECT coalesce(json_agg(p), '[]') FROM proto_archive p$$) n,
       json_populate_recordset(NULL::proto_archive, n.result::json) a
 WHERE n.success;
SELECT nodeid, node_group, table_name, partition_name, shard, object_id, xact_key, actor, reason, metadata
  FROM proto_cluster ORDER BY xact_key, table_name, object_id;
-- rows per transaction key: one key per distributed transaction
SELECT xact_key, count(*) AS rows, string_agg(DISTINCT nodeid::text, ',') AS nodes,
       string_agg(table_name || ':' || object_id, ' ' ORDER BY table_name, object_id) AS archived
  FROM proto_cluster GROUP BY 1 ORDER BY 1;
-- deleted_record 1.0's own archive, for comparison (same deletes)
SELECT nodeid, result FROM run_command_on_all_nodes($$SELECT string_agg(table_name || ':' || object_id || ':' || coalesce(actor, '-'), ' ' ORDER BY table_name, object_id) FROM deleted_record$$) ORDER BY nodeid;
SQL
