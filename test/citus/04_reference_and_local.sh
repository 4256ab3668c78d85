#!/usr/bin/env bash
# Reference tables and Citus local tables with deleted_record 1.0: how often a deleted row is
# archived (once per placement?), under which name, in which transaction; a cascade from a
# reference table into a distributed table; and what a trigger on a placement can look up to
# decide whether it is the one placement that should archive.
set -uo pipefail
source "$(dirname "$0")/../lib/citus_cluster.sh"
citus_cluster_start

cpsql coord <<'SQL'
SET citus.shard_count = 4;
SET citus.next_shard_id = 105000;
CREATE TABLE country (code text PRIMARY KEY, name text);
SELECT create_reference_table('country');
INSERT INTO country VALUES ('de', 'Germany'), ('fr', 'France'), ('it', 'Italy');
SELECT deleted_record_attach('country');
SET citus.enable_unsafe_triggers = on;
SELECT deleted_record_attach('country');
RESET citus.enable_unsafe_triggers;
SELECT shardid, shard_name, nodeport FROM citus_shards WHERE table_name = 'country'::regclass ORDER BY nodeport;
SELECT p.shardid, p.groupid, p.shardstate FROM pg_dist_placement p JOIN pg_dist_shard s USING (shardid) WHERE s.logicalrelid = 'country'::regclass ORDER BY groupid;

-- 1. one delete from a reference table
DELETE FROM country WHERE code = 'de';
SELECT nodeid, result AS archived FROM run_command_on_all_nodes($$SELECT string_agg(table_name || ':' || object_id || ':' || xact_id, ', ') FROM deleted_record$$) ORDER BY nodeid;

-- 2. a cascade from the reference table into a distributed table
CREATE TABLE city (id bigint, country text REFERENCES country ON DELETE CASCADE, name text, PRIMARY KEY (id, country));
SELECT create_distributed_table('city', 'id');
INSERT INTO city VALUES (1, 'fr', 'Paris'), (2, 'fr', 'Lyon'), (3, 'fr', 'Nice'), (4, 'it', 'Rome');
SET citus.enable_unsafe_triggers = on;
SELECT deleted_record_attach('city');
RESET citus.enable_unsafe_triggers;
BEGIN;
DELETE FROM country WHERE code = 'fr';
SELECT get_current_transaction_id() AS coordinator_dist_xact, pg_current_xact_id() AS coordinator_xid;
COMMIT;
SELECT nodeid, result AS archived FROM run_command_on_all_nodes($$SELECT string_agg(table_name || ':' || object_id || ':' || xact_id, ', ' ORDER BY table_name, object_id) FROM deleted_record WHERE data->>'code' = 'fr' OR data->>'country' = 'fr'$$) ORDER BY nodeid;
SQL

echo "==== what a trigger on a placement can look up (run on each node, as a trigger would)"
for n in coord w1 w2; do
  echo "---- $n"
  cpsql $n <<'SQL'
-- this node's group, and the logical table of a shard name (metadata is on every node since Citus 11)
-- (psql is not a Citus application name, so pg_class hides shards from it unless told otherwise;
-- C code reading the catalogs directly, like a trigger, always sees them)
SET citus.override_table_visibility = off;
SELECT groupid AS local_group FROM pg_dist_local_group;
SELECT n.nodeid, n.groupid, n.nodename, n.nodeport FROM pg_dist_node n WHERE n.groupid = (SELECT groupid FROM pg_dist_local_group);
SELECT c.relname AS shard, s.shardid, s.logicalrelid, s.logicalrelid::regclass AS logical_table, p.partmethod, p.repmodel,
       (SELECT min(pl.groupid) FROM pg_dist_placement pl WHERE pl.shardid = s.shardid AND pl.shardstate = 1) AS designated_group,
       relation_is_a_known_shard(c.oid) AS known_shard
  FROM pg_class c
  JOIN pg_dist_shard s ON s.shardid = substring(c.relname FROM '_(\d+)$')::bigint
  JOIN pg_dist_partition p ON p.logicalrelid = s.logicalrelid
 WHERE c.relname ~ '^(country|city)_\d+$' AND c.relkind = 'r'
 ORDER BY 1;
SELECT count(*) AS citus_tables_rows FROM citus_tables;
SQL
done

cpsql coord <<'SQL'
-- 3. a plain local table, then a Citus local table (citus_add_local_table_to_metadata)
CREATE TABLE note (id bigint PRIMARY KEY, body text);
INSERT INTO note VALUES (1, 'a'), (2, 'b');
SELECT deleted_record_attach('note');
DELETE FROM note WHERE id = 1;
SELECT citus_add_local_table_to_metadata('note');
SELECT tgrelid::regclass, tgname FROM pg_trigger WHERE tgname LIKE 'deleted_record%' AND tgrelid::regclass::text LIKE 'note%' ORDER BY 1, 2;
DELETE FROM note WHERE id = 2;
SELECT object_id, table_name FROM deleted_record WHERE table_name LIKE 'note%' ORDER BY object_id;
SELECT * FROM deleted_record_attached ORDER BY 1;
-- 4. a local table that gets a foreign key to a reference table becomes a Citus local table
CREATE TABLE address (id bigint PRIMARY KEY, country text, line text);
SELECT deleted_record_attach('address');
INSERT INTO country VALUES ('fr', 'France');
INSERT INTO address VALUES (1, 'fr', 'x'), (2, 'it', 'y');
ALTER TABLE address ADD FOREIGN KEY (country) REFERENCES country ON DELETE CASCADE;
SELECT logicalrelid, partmethod FROM pg_dist_partition WHERE logicalrelid = 'address'::regclass;
DELETE FROM country WHERE code = 'it';
SELECT object_id, table_name FROM deleted_record WHERE table_name LIKE 'address%';
SQL
