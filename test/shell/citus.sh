#!/usr/bin/env bash
# Citus (TAP): a coordinator and two workers (a third joins later), deleted_record created
# through the coordinator, preloaded after citus on every node. Checks what README's "Citus"
# section promises: attach before or after distribution, every deleted row archived exactly once
# under its logical table with one key per distributed transaction, the context on every node
# (or an error), TRUNCATE policies, an archive Citus cannot distribute, later shards, reading,
# restoring and purging the cluster's archive from the coordinator, and a randomised run of
# transactions checked against what the tables lost. CITUS_SEED=n replays the random part.
# Issue 16's scenarios each have a section ("Issue 16: ..."), each failing on 1.1: an ordinary
# table named like a shard (1), TRUNCATE under row-level security (2) and with a column named t
# (3), a reference table with its lowest worker disabled and the coordinator outside the
# metadata (4), delegated function and procedure calls (5), SET ROLE: the login role and one
# context on every node, or an error (6), new partitions, schema-based
# sharding and alter_distributed_table of attached tables (7), cluster reads in pages bounded in
# rows and bytes, each node sent only its ids and a filter it reads whatever its search_path (8),
# a cluster restore of a reference -> distributed cascade when the coordinator joined last (9),
# cluster erase and purge refused before anything changes when a node lacks the grant, a purge
# failing midway naming the nodes that purged (10); a disabled node's archive read and erased,
# its rows' restore refused naming it, and every call failing naming it while it is down.
# Citus 13.2 supports PostgreSQL 15 to 17 (Citus 14, for 16 to 18, is not available here):
# Runs on PostgreSQL: 15
set -uo pipefail
source "$(dirname "$0")/../lib/citus_cluster.sh"

citus_cluster_start

# all SQL: one value from every node (coordinator first), space-separated
on_nodes() { local n out=(); for n in coord w1 w2 "$@"; do out+=("$(cq "$n" -c "$SQL" 2>&1)"); done; echo "${out[*]}"; }
# archived KEY...: the cluster's archive rows matching a WHERE clause, as "table:object" sorted
archived() { cq coord -c "SELECT string_agg(table_name || ':' || object_id, ' ' ORDER BY table_name, object_id) FROM deleted_record_cluster() WHERE $1"; }

cq coord >/dev/null <<'SQL'
SET citus.shard_count = 4;
CREATE TABLE country (code text PRIMARY KEY, name text);
SELECT create_reference_table('country');
INSERT INTO country SELECT 'c' || g, 'country ' || g FROM generate_series(1, 30) g;
CREATE TABLE item (id bigint PRIMARY KEY, country text, label text);
SELECT create_distributed_table('item', 'id');
ALTER TABLE item ADD FOREIGN KEY (country) REFERENCES country ON DELETE CASCADE;
INSERT INTO item SELECT g, 'c' || (1 + g % 30), 'item ' || g FROM generate_series(1, 400) g;
CREATE TABLE memo (id int PRIMARY KEY, body text);
INSERT INTO memo SELECT g, 'memo ' || g FROM generate_series(1, 50) g;
CREATE TABLE note (id int PRIMARY KEY, body text);
INSERT INTO note SELECT g, 'note ' || g FROM generate_series(1, 50) g;
SELECT citus_add_local_table_to_metadata('note');
CREATE TABLE orders (id bigint, placed date, PRIMARY KEY (id, placed)) PARTITION BY RANGE (placed);
CREATE TABLE orders_2025 PARTITION OF orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE orders_2026 PARTITION OF orders FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT create_distributed_table('orders', 'id');
INSERT INTO orders SELECT g, CASE WHEN g % 2 = 0 THEN date '2025-06-01' ELSE date '2026-06-01' END FROM generate_series(1, 20) g;
SQL

# ---- Attach -----------------------------------------------------------------------------------
err=$(cq coord 2>&1 <<'SQL'
CREATE TABLE shipment (id bigint PRIMARY KEY, item bigint);
INSERT INTO shipment SELECT g, g FROM generate_series(1, 40) g;
SELECT deleted_record_attach('shipment', on_truncate => 'deny');
SELECT create_distributed_table('shipment', 'id');
SELECT truncate_local_data_after_distributing_table('shipment');
SQL
)
check "a table attached before create_distributed_table distributes (its stale local copy truncates under 'deny')" "0" "$?"
[ -z "$err" ] || grep -v '^NOTICE\|^DETAIL\|^HINT\|^$' <<<"$err" | sed 's/^/#   /'
check "  and nothing was archived by that clean-up" "0" "$(cq coord -c "SELECT count(*) FROM deleted_record_cluster(for_table => 'shipment')")"
err=$(cq coord -c "SELECT deleted_record_attach('item')" -c "SELECT deleted_record_attach('country')" \
        -c "SELECT deleted_record_attach('note')" -c "SELECT deleted_record_attach('memo')" \
        -c "SELECT deleted_record_attach('orders')" 2>&1)
check "attach works on distributed, reference, Citus local, local and partitioned distributed tables" "0" "$?"
[ -z "$err" ] || sed 's/^/#   /' <<<"$err"
check "citus.enable_unsafe_triggers is untouched afterwards" "off" "$(cq coord -c "SHOW citus.enable_unsafe_triggers")"
# Citus hides shards from pg_class for clients other than its own, unless told not to.
SQL="SET citus.override_table_visibility = off; SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relname ~ '^item_[0-9]+$' AND t.tgname LIKE 'deleted_record_insert%'"
check "every shard of item has the archive trigger (4 shards, 2 per worker)" "0 2 2" "$(on_nodes)"
check "deleted_record_attached lists the logical tables, no shard" "country item memo note orders shipment" \
  "$(cq coord -c "SELECT string_agg(table_name::text, ' ' ORDER BY table_name::text) FROM deleted_record_attached")"
shard=$(cq w1 -c "SET citus.override_table_visibility = off" -c "SELECT relname FROM pg_class WHERE relname ~ '^item_[0-9]+$' LIMIT 1")
err=$(cq w1 -c "SELECT deleted_record_attach('$shard')" 2>&1)
check "attaching a shard is refused, naming its table" "ERROR:  deleted_record_attach: public.$shard is a shard of Citus table public.item" "$(head -1 <<<"$err")"
err=$(cq coord 2>&1 <<'SQL'
CREATE TABLE audited (id bigint PRIMARY KEY);
CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER audit AFTER DELETE ON audited FOR EACH ROW EXECUTE FUNCTION audit();
SELECT deleted_record_attach('audited');
SELECT create_distributed_table('audited', 'id');
SQL
)
check "a table with someone else's trigger keeps Citus's refusal" "ERROR:  cannot distribute relation \"audited\" because it has triggers" "$(grep ERROR <<<"$err")"

# ---- Import refused on Citus tables ------------------------------------------------------------
# deleted_record_import stamps the archive rows on the coordinator, but a Citus table's rows are
# archived on the workers: it refuses (0A000) before any batch, dry run or not.
cq coord >/dev/null 2>&1 <<'SQL'
CREATE TABLE soft_item (id bigint PRIMARY KEY, gone boolean);
SELECT create_distributed_table('soft_item', 'id');
INSERT INTO soft_item SELECT g, true FROM generate_series(1, 12) g;
SELECT deleted_record_attach('soft_item');
SQL
err=$(cq coord -v VERBOSITY=verbose -c "CALL deleted_record_import('soft_item', 'true')" 2>&1)
check "deleted_record_import of a distributed table fails with 0A000 and moves nothing" \
  "ERROR:  0A000: deleted_record_import: soft_item is a Citus table, which deleted_record_import does not support|12|0" \
  "$(grep -m1 '^ERROR' <<<"$err")|$(cq coord -c "SELECT count(*) FROM soft_item")|$(cq coord -c "SELECT count(*) FROM deleted_record_cluster(for_table => 'soft_item')")"
# The batch function behind the procedure refuses too, called directly on a reference table
# (where Citus itself would let the batch's DELETE through).
cq coord >/dev/null 2>&1 <<'SQL'
CREATE TABLE soft_ref (id bigint PRIMARY KEY, gone boolean);
SELECT create_reference_table('soft_ref');
INSERT INTO soft_ref SELECT g, true FROM generate_series(1, 5) g;
SELECT deleted_record_attach('soft_ref');
SQL
err=$(cq coord -v VERBOSITY=verbose -c "SELECT deleted_record_import_batch('soft_ref', 'true', NULL, NULL, NULL, 10)" 2>&1)
check "deleted_record_import_batch called directly on a reference table fails with 0A000 and moves nothing" \
  "ERROR:  0A000: deleted_record_import: soft_ref is a Citus table, which deleted_record_import does not support|5|0" \
  "$(grep -m1 '^ERROR' <<<"$err")|$(cq coord -c "SELECT count(*) FROM soft_ref")|$(cq coord -c "SELECT count(*) FROM deleted_record_cluster(for_table => 'soft_ref')")"

# ---- Exactly once, logical names, one key, context -------------------------------------------
cq coord >/dev/null 2>&1 <<'SQL'
BEGIN;
-- Citus's rule: a reference table's DML after a parallel multi-shard DML needs sequential mode.
SET LOCAL citus.multi_shard_modify_mode TO 'sequential';
SELECT deleted_record_set_context('ops:carol', 'ticket 1', '{"ticket": 1}');
DELETE FROM item WHERE id IN (1, 2, 3, 4, 5, 6);
DELETE FROM country WHERE code = 'c2';               -- cascades to items 1..400 with country c2
DELETE FROM memo WHERE id = 1;
DELETE FROM note WHERE id = 1;
DELETE FROM orders WHERE id IN (1, 2);
COMMIT;
SQL
expected_items=$(cq coord -c "SELECT count(*) FROM generate_series(1, 400) g WHERE g <= 6 OR 1 + g % 30 = 2")
check "one transaction: every row it deleted is archived once (items, cascaded items, country, memo, note, orders)" \
  "$((expected_items + 5))|$((expected_items + 5))" \
  "$(cq coord -c "SELECT count(*), count(DISTINCT (table_name, object_id)) FROM deleted_record_cluster() WHERE reason = 'ticket 1'")"
check "  the country row once, on one node, though every node holds a placement" "1" \
  "$(cq coord -c "SELECT count(*) FROM deleted_record_cluster(for_table => 'country') WHERE reason = 'ticket 1'")"
check "  under logical table names only" "country item memo note orders" \
  "$(cq coord -c "SELECT string_agg(DISTINCT table_name, ' ' ORDER BY table_name) FROM deleted_record_cluster() WHERE reason = 'ticket 1'")"
check "  a partition of a distributed table under its root and leaf" "orders/orders_2026:[1, \"2026-06-01\"] orders/orders_2025:[2, \"2025-06-01\"]" \
  "$(cq coord -c "SELECT string_agg(table_name || '/' || partition_name || ':' || object_id, ' ' ORDER BY object_id) FROM deleted_record_cluster(for_table => 'orders')")"
check "  on three nodes, all with one distributed key, the actor and the metadata" "3|1|d|1|1" \
  "$(cq coord -c "SELECT count(DISTINCT node_id), count(DISTINCT xact_key), min(left(xact_key, 1)), count(DISTINCT actor), count(DISTINCT metadata) FROM deleted_record_cluster() WHERE reason = 'ticket 1'")"
check "  xact_id still differs per node (it is the local transaction)" "t" \
  "$(cq coord -c "SELECT count(DISTINCT (node_id, xact_id)) = count(DISTINCT node_id) FROM deleted_record_cluster() WHERE reason = 'ticket 1'")"

cq coord >/dev/null 2>&1 <<'SQL'
BEGIN; SET LOCAL deleted_record.actor = 'set-local'; DELETE FROM item WHERE id IN (11, 12, 13, 14); COMMIT;
SET deleted_record.actor = 'session-set';
BEGIN; DELETE FROM item WHERE id IN (15, 16, 17, 18); COMMIT;
RESET deleted_record.actor;
BEGIN; SELECT set_config('deleted_record.actor', 'set-config', true); DELETE FROM item WHERE id IN (19, 20, 21, 22); COMMIT;
SQL
for actor in set-local session-set set-config; do
  check "context set with $actor reaches every node inside a transaction block" "4|2" \
    "$(cq coord -c "SELECT count(*), count(DISTINCT node_id) FROM deleted_record_cluster(for_table => 'item') WHERE actor = '$actor'")"
done
err=$(cq coord -c "SET deleted_record.actor = 'lost'" -c "DELETE FROM item WHERE id IN (23, 24, 25, 26)" 2>&1)
check "session context with an autocommit distributed DELETE is an error, not a silent NULL" \
  "ERROR:  deleted_record: the deletion context set in this session cannot reach the Citus nodes that archive this statement's rows" "$(head -1 <<<"$err")"
check "  and nothing was deleted" "4" "$(cq coord -c "SELECT count(*) FROM item WHERE id IN (23, 24, 25, 26)")"
err=$(cq coord -c "SELECT deleted_record_set_context('a', 'b')" 2>&1)
check "deleted_record_set_context outside a transaction block is an error" \
  "ERROR:  deleted_record_set_context() must be called inside a transaction block" "$(head -1 <<<"$err")"
err=$(cq coord -c "SET deleted_record.require_context = 'actor'" -c "BEGIN" -c "DELETE FROM item WHERE id IN (23, 24, 25, 26)" -c "COMMIT" 2>&1)
check "require_context set in the session is enforced where the rows are archived" "ERROR:  deleting from public.item requires" \
  "$(grep -o '^ERROR:  deleting from [a-z.]* requires' <<<"$err")"
[ -n "$(grep -o '^ERROR:  deleting from [a-z.]* requires' <<<"$err")" ] || sed 's/^/#   /' <<<"$err"
cq coord -c "DELETE FROM item WHERE id IN (23, 24, 25, 26)" >/dev/null 2>&1
check "an autocommit DELETE without session context needs nothing" "4" \
  "$(cq coord -c "SELECT count(*) FROM deleted_record_cluster(for_table => 'item') WHERE object_id IN ('23', '24', '25', '26')")"
check "  one key per node's part (a one-shard statement is local to its node)" "t" \
  "$(cq coord -c "SELECT bool_and(xact_key LIKE 'l:%' OR xact_key LIKE 'd:%') FROM deleted_record_cluster(for_table => 'item') WHERE object_id IN ('23', '24', '25', '26')")"
cq coord -c "DO \$\$ BEGIN PERFORM deleted_record_set_context('in-do', 'do block'); DELETE FROM item WHERE id IN (51, 52, 53, 54); END \$\$" 2>&1 | sed 's/^/#   /'
check "deleted_record_set_context in an autocommit DO block reaches every node" "4|2" \
  "$(cq coord -c "SELECT count(*), count(DISTINCT node_id) FROM deleted_record_cluster(for_table => 'item') WHERE actor = 'in-do'")"
cq coord -c "DO \$\$ BEGIN PERFORM deleted_record_set_context('in-do-2', 'after a caught error');
                  BEGIN PERFORM 1 / 0; EXCEPTION WHEN division_by_zero THEN NULL; END;
                  DELETE FROM item WHERE id IN (71, 72, 73, 74); END \$\$" 2>&1 | sed 's/^/#   /'
check "  also after an exception block rolled back a subtransaction" "4|2" \
  "$(cq coord -c "SELECT count(*), count(DISTINCT node_id) FROM deleted_record_cluster(for_table => 'item') WHERE actor = 'in-do-2'")"
cq w1 -c "BEGIN" -c "SET LOCAL deleted_record.actor = 'from-w1'" -c "DELETE FROM item WHERE id IN (55, 56, 57, 58)" -c "COMMIT" >/dev/null 2>&1
check "a transaction started on a worker carries its context to the other worker" "4|2" \
  "$(cq coord -c "SELECT count(*), count(DISTINCT node_id) FROM deleted_record_cluster(for_table => 'item') WHERE actor = 'from-w1'")"
cq coord >/dev/null 2>&1 <<'SQL'
CREATE ROLE clerk LOGIN;
GRANT SELECT, DELETE ON item TO clerk;
ALTER ROLE clerk SET deleted_record.reason = 'role default';
SQL
PGUSER=clerk cq coord -c "DELETE FROM item WHERE id IN (63, 64, 65, 66)" 2>&1 | sed 's/^/#   /'
check "a role's default context reaches the workers in an autocommit DELETE" "4|2|clerk" \
  "$(cq coord -c "SELECT count(*), count(DISTINCT node_id), min(session_user_name) FROM deleted_record_cluster(for_table => 'item') WHERE reason = 'role default'")"
cq coord >/dev/null 2>&1 <<'SQL'
CREATE TABLE item_source (id bigint PRIMARY KEY);
SELECT create_distributed_table('item_source', 'id', colocate_with => 'item');
INSERT INTO item_source VALUES (41), (42), (43), (44);
BEGIN; SELECT deleted_record_set_context('merger', 'merge');
MERGE INTO item i USING item_source s ON i.id = s.id WHEN MATCHED THEN DELETE;
COMMIT;
SQL
check "MERGE ... THEN DELETE on a distributed table is archived with its context" "item:41 item:42 item:43 item:44" "$(archived "actor = 'merger'")"

# ---- TRUNCATE ---------------------------------------------------------------------------------
rows=$(cq coord -c "SELECT count(*) FROM orders")
cq coord -c "BEGIN" -c "TRUNCATE orders" -c "ROLLBACK" >/dev/null 2>&1
check "TRUNCATE rolled back archives nothing and keeps the rows" "$rows|2" \
  "$(cq coord -c "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM deleted_record_cluster(for_table => 'orders'))")"
cq coord >/dev/null 2>&1 <<'SQL'
BEGIN; SELECT deleted_record_set_context('ops:dave', 'reset orders'); TRUNCATE orders; COMMIT;
SQL
check "TRUNCATE under 'archive' archives every row of every shard once, with the context and one key" "0|$rows|$rows|1|orders" \
  "$(cq coord -c "SELECT (SELECT count(*) FROM orders), count(*), count(DISTINCT object_id), count(DISTINCT xact_key), string_agg(DISTINCT table_name, ' ') FROM deleted_record_cluster(for_table => 'orders') WHERE reason = 'reset orders'")"
err=$(cq coord -c "TRUNCATE shipment" 2>&1)
check "TRUNCATE under 'deny' is refused and keeps the rows" "ERROR:  TRUNCATE of table \"shipment\" is denied by deleted_record 40" \
  "$(head -1 <<<"$err") $(cq coord -c "SELECT count(*) FROM shipment")"
cq coord -c "SELECT deleted_record_attach('shipment', on_truncate => 'ignore')" -c "TRUNCATE shipment" >/dev/null 2>&1
check "TRUNCATE under 'ignore' archives nothing" "0|0" \
  "$(cq coord -c "SELECT (SELECT count(*) FROM shipment), count(*) FROM deleted_record_cluster(for_table => 'shipment')")"
before=$(cq coord -c "SELECT count(*) FROM country")
cq coord -c "TRUNCATE note" -c "BEGIN" -c "SELECT deleted_record_set_context('ops', 'reset countries')" -c "TRUNCATE country CASCADE" -c "COMMIT" >/dev/null 2>&1
check "TRUNCATE of a reference table archives each row once (and its cascade's)" "$before|$before" \
  "$(cq coord -c "SELECT count(*), count(DISTINCT object_id) FROM deleted_record_cluster(for_table => 'country') WHERE reason = 'reset countries'")"
check "  the cascaded distributed table too, once per row" "0|t" \
  "$(cq coord -c "SELECT (SELECT count(*) FROM item), count(*) = count(DISTINCT object_id) FROM deleted_record_cluster(for_table => 'item') WHERE reason = 'reset countries'")"
check "TRUNCATE of a Citus local table archives its rows" "49" "$(cq coord -c "SELECT count(*) FROM deleted_record_cluster(for_table => 'note') WHERE reason IS NULL")"

# ---- The archive stays local ------------------------------------------------------------------
for call in "create_distributed_table('deleted_record', 'id')" "create_reference_table('deleted_record')" \
            "citus_add_local_table_to_metadata('deleted_record')"; do
  err=$(cq coord -c "SET citus.enable_unsafe_triggers = on" -c "SELECT $call" 2>&1)
  check "$call is refused (even with citus.enable_unsafe_triggers)" "ERROR:  the archive table \"deleted_record\" cannot be made a Citus table" "$(head -1 <<<"$err")"
done
check "  and the archive is no Citus table" "0" "$(cq coord -c "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'deleted_record%'")"

# ---- Shards created later ---------------------------------------------------------------------
cq coord >/dev/null 2>&1 <<'SQL'
INSERT INTO country SELECT 'c' || g, 'country ' || g FROM generate_series(1, 30) g;
INSERT INTO item SELECT g, 'c' || (1 + g % 30), 'item ' || g FROM generate_series(1001, 1400) g;
SQL
citus_add_worker w3
err=$(cq coord -c "SELECT rebalance_table_shards(shard_transfer_mode => 'block_writes')" 2>&1)
check "a third worker joins and shards move to it" "t" "$(cq coord -c "SELECT count(*) > 0 FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid) WHERE n.nodeport = ${CITUS_PORT[w3]}")"
[ -z "$err" ] || grep ERROR <<<"$err" | sed 's/^/#   /'
check "  it has deleted_record, its shards the archive trigger" "1|t" \
  "$(cq w3 -c "SET citus.override_table_visibility = off" -c "SELECT (SELECT count(*) FROM pg_extension WHERE extname = 'deleted_record'), count(*) > 0 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relname ~ '_[0-9]+$' AND t.tgname LIKE 'deleted_record_insert%'")"
cq coord -c "BEGIN" -c "SELECT deleted_record_set_context('ops', 'after rebalance')" -c "DELETE FROM item WHERE id BETWEEN 1001 AND 1400" -c "COMMIT" >/dev/null 2>&1
check "after the rebalance every deleted row is archived once, on the nodes now holding the shards" "400|400|1" \
  "$(cq coord -c "SELECT count(*), count(DISTINCT object_id), count(DISTINCT xact_key) FROM deleted_record_cluster(for_table => 'item') WHERE reason = 'after rebalance'")"
check "  w3 among them" "t" \
  "$(cq coord -c "SELECT count(*) > 0 FROM deleted_record_cluster(for_table => 'item') c JOIN pg_dist_node n ON n.nodeid = c.node_id WHERE c.reason = 'after rebalance' AND n.nodeport = ${CITUS_PORT[w3]}")"

# A split makes new shards out of one (Citus creates them from the table's definition, triggers
# included): rows the new shards hold are archived like any other, once, under the logical name.
cq coord -c "INSERT INTO item SELECT g, 'c' || (1 + g % 30), 'item ' || g FROM generate_series(2001, 2400) g" >/dev/null 2>&1
max_shard=$(cq coord -c "SELECT max(shardid) FROM pg_dist_shard")
# Citus's maintenance daemon drops old shards 15 s after a split; hold that off while we look.
cq coord -c "ALTER SYSTEM SET citus.defer_shard_delete_interval = -1" -c "SELECT pg_reload_conf()" >/dev/null
IFS='|' read -r split_shard split_point split_node <<<"$(cq coord -c "
  SELECT s.shardid, ((s.shardminvalue::bigint + s.shardmaxvalue::bigint) / 2)::text, n.nodeid
    FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
   WHERE s.logicalrelid = 'item'::regclass ORDER BY s.shardid LIMIT 1")"
err=$(cq coord -c "SELECT citus_split_shard_by_split_points($split_shard, ARRAY['$split_point'], ARRAY[$split_node, $split_node], shard_transfer_mode => 'block_writes')" 2>&1)
[ -z "$err" ] || grep ERROR <<<"$err" | sed 's/^/#   /'
in_new_shards="SELECT count(*) FROM item WHERE id BETWEEN 2001 AND 2400 AND get_shard_id_for_distribution_column('item', id) > $max_shard"
moved=$(cq coord -c "$in_new_shards")
check "a shard split makes two new shards of item, holding some of its rows" "2|t" \
  "$(cq coord -c "SELECT count(*), $moved > 0 FROM pg_dist_shard WHERE logicalrelid = 'item'::regclass AND shardid > $max_shard")"
# The split's old shard stays on its worker until Citus drops it (deferred), its foreign key to
# the reference table too: a cascade from country also deletes the stale copies there.
check "  the old shard is still there, left for Citus's deferred drop" "t" \
  "$(cq coord -c "SELECT count(*) > 0 FROM pg_dist_cleanup WHERE object_name LIKE '%item%$split_shard'")"
cascaded=$(cq coord -c "SELECT count(*) FROM item WHERE country = 'c7'")
cq coord -c "BEGIN" -c "SELECT deleted_record_set_context('ops', 'cascade after split')" -c "DELETE FROM country WHERE code = 'c7'" -c "COMMIT" >/dev/null 2>&1
check "a cascade reaching the old shard's stale copies archives each row once, under the table's name" "$cascaded|$cascaded|item" \
  "$(cq coord -c "SELECT count(*), count(DISTINCT object_id), string_agg(DISTINCT table_name, ',') FROM deleted_record_cluster() WHERE reason = 'cascade after split' AND table_name <> 'country'")"
moved=$(cq coord -c "$in_new_shards")
cq coord -c "BEGIN" -c "SELECT deleted_record_set_context('ops', 'after split')" -c "DELETE FROM item WHERE id BETWEEN 2001 AND 2400" -c "COMMIT" >/dev/null 2>&1
check "after the split every deleted row is archived once, under the table's name, with one key" "$((400 - cascaded))|$((400 - cascaded))|1|item" \
  "$(cq coord -c "SELECT count(*), count(DISTINCT object_id), count(DISTINCT xact_key), string_agg(DISTINCT table_name, ',') FROM deleted_record_cluster(for_table => 'item') WHERE reason = 'after split'")"
check "  the new shards' rows among them" "$moved" \
  "$(cq coord -c "SELECT count(*) FROM deleted_record_cluster(for_table => 'item') WHERE reason = 'after split' AND get_shard_id_for_distribution_column('item', object_id::bigint) > $max_shard")"

# ---- Reading, restoring, purging from the coordinator -----------------------------------------
SQL="SELECT count(*) FROM deleted_record"
per_node=$(on_nodes w3)
check "deleted_record_cluster() returns every node's archive" "$(tr ' ' '\n' <<<"$per_node" | awk '{ s += $1 } END { print s }')" \
  "$(cq coord -c "SELECT count(*) FROM deleted_record_cluster()")"
ids=$(cq coord -c "SELECT array_agg(id) FROM deleted_record_cluster(for_table => 'item') WHERE reason = 'after rebalance' AND object_id::int <= 1010")
out=$(cq coord -c "SELECT count(*), count(DISTINCT node_id) > 1, min(outcome), max(outcome) FROM deleted_record_cluster_restore('$ids')" 2>&1)
check "deleted_record_cluster_restore restores rows archived on several nodes" "10|t|restored|restored" "$out"
check "  the rows are back and marked restored where they are archived" "10|10" \
  "$(cq coord -c "SELECT (SELECT count(*) FROM item WHERE id BETWEEN 1001 AND 1010), count(*) FROM deleted_record_cluster(for_table => 'item') WHERE restored_at IS NOT NULL")"
cq coord -c "SELECT pg_sleep(0.01)" >/dev/null
out=$(cq coord -c "SELECT count(*) FROM deleted_record_cluster_purge(older_than => interval '1 microsecond')" 2>&1)
check "deleted_record_cluster_purge purges every node" "4 0" "$out $(cq coord -c "SELECT count(*) FROM deleted_record_cluster()")"

cq coord >/dev/null 2>&1 <<'SQL'
CREATE ROLE auditor LOGIN;
SELECT run_command_on_all_nodes($$GRANT SELECT ON deleted_record TO auditor$$);
SQL
check "a role granted SELECT on every node's archive reads the cluster's archive" "$(cq coord -c "SELECT count(*) FROM deleted_record_cluster()")" \
  "$(PGUSER=auditor cq coord -c "SELECT count(*) FROM deleted_record_cluster()" 2>&1)"
check "  a role without it cannot" "1" "$(PGUSER=clerk cq coord -c "SELECT count(*) FROM deleted_record_cluster()" 2>&1 | grep -c 'permission denied')"
cq coord -c "BEGIN" -c "SELECT deleted_record_set_context('erase-me', 'gdpr')" -c "DELETE FROM item WHERE id IN (1001, 1002, 1003, 1004)" -c "COMMIT" >/dev/null 2>&1
ids=$(cq coord -c "SELECT array_agg(id) FROM deleted_record_cluster(for_table => 'item') WHERE actor = 'erase-me'")
out=$(cq coord -c "SELECT sum(erased) FROM deleted_record_cluster_erase('$ids', 'data subject request')" 2>&1)
check "deleted_record_cluster_erase erases rows on every node that holds them" "4" "$out"
check "  they are gone, a tombstone for each is left where it was" "0|4" \
  "$(cq coord -c "SELECT (SELECT count(*) FROM deleted_record_cluster() WHERE actor = 'erase-me'), (SELECT sum(result::int) FROM run_command_on_all_nodes('SELECT count(*) FROM deleted_record_erasure'))")"
check "every node has its own masking secret (README: compare masked values within a node)" "$(cq coord -c "SELECT count(*) FROM pg_dist_node")" \
  "$(cq coord -c "SELECT count(DISTINCT result) FROM run_command_on_all_nodes(\$\$SELECT deleted_record_mask('alice@example.com')\$\$)")"

# ---- Randomised: every committed delete archived exactly once ---------------------------------
# Transactions of router, multi-shard, cascading (reference -> distributed) and local deletes,
# savepoints and rollbacks, TRUNCATE of a table under row-level security, and calls of a
# distributed function, run on the coordinator or delegated to a worker (force_delegation), and
# distributed DELETEs under SET ROLE, refused and caught by an exception block (they must delete
# and archive nothing, and leave the rest of the transaction whole); run by a role that
# row-level security restricts. Each run has at least one committed transaction
# with a TRUNCATE and a delegated call, and prints how many it had of each kind. random_run LABEL N
# runs N transactions and checks every row the tables lost against the cluster's archive; it
# runs again later while a worker is disabled.
seed=${CITUS_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$seed
ok "randomised run: seed $seed (CITUS_SEED=$seed replays it)"
cq coord >/dev/null 2>&1 <<'SQL'
TRUNCATE item_source;
SELECT deleted_record_attach('country', on_truncate => 'archive');
CREATE TABLE rnd_t (id bigint PRIMARY KEY, visible boolean);
SELECT create_distributed_table('rnd_t', 'id');
SELECT deleted_record_attach('rnd_t', on_truncate => 'archive');
CREATE ROLE rnd LOGIN;
GRANT ALL ON item TO rnd;
GRANT ALL ON country TO rnd;
GRANT ALL ON memo TO rnd;
GRANT ALL ON rnd_t TO rnd;
ALTER TABLE rnd_t ENABLE ROW LEVEL SECURITY;
CREATE POLICY half ON rnd_t TO rnd USING (visible);
CREATE FUNCTION rnd_del(p bigint) RETURNS int LANGUAGE plpgsql AS $$ BEGIN DELETE FROM item WHERE id = p; RETURN 1; END $$;
SELECT create_distributed_function('rnd_del(bigint)', 'p', colocate_with => 'item');
GRANT EXECUTE ON FUNCTION rnd_del(bigint) TO rnd;
-- force_delegation: Citus delegates its calls to the worker inside transaction blocks too.
CREATE FUNCTION rnd_del_f(p bigint) RETURNS int LANGUAGE plpgsql AS $$ BEGIN DELETE FROM item WHERE id = p; RETURN 1; END $$;
SELECT create_distributed_function('rnd_del_f(bigint)', 'p', colocate_with => 'item', force_delegation => true);
GRANT EXECUTE ON FUNCTION rnd_del_f(bigint) TO rnd;
-- A role rnd may SET ROLE to: its distributed DELETEs are refused, in the caller's exception block.
CREATE ROLE rnd_set LOGIN;
GRANT rnd_set TO rnd;
GRANT ALL ON item TO rnd_set;
SQL
random_run() {
  local label=$1 count=$2 lo tx n end stmts must tally=() kind
  cq coord >/dev/null 2>&1 <<SQL
INSERT INTO country SELECT 'c' || g, 'country ' || g FROM generate_series(1, 30) g ON CONFLICT DO NOTHING;
INSERT INTO item SELECT g, 'c' || (1 + g % 30), 'item ' || g FROM generate_series(2001, 3000) g ON CONFLICT DO NOTHING;
INSERT INTO memo SELECT g, 'memo ' || g FROM generate_series(2001, 2100) g ON CONFLICT DO NOTHING;
INSERT INTO rnd_t SELECT g, g % 2 = 0 FROM generate_series(1, 200) g ON CONFLICT DO NOTHING;
DROP TABLE IF EXISTS initial;
CREATE TABLE initial AS
  SELECT 'item' AS t, id::text AS o FROM item UNION ALL SELECT 'country', code FROM country
  UNION ALL SELECT 'memo', id::text FROM memo UNION ALL SELECT 'rnd_t', id::text FROM rnd_t;
SQL
  # One transaction, at random, surely TRUNCATEs the table under row-level security and makes a
  # delegated call, and commits: every run covers both.
  must=$((1 + RANDOM % count))
  for tx in $(seq 1 "$count"); do
    stmts=()
    n=$((1 + RANDOM % 4))
    for _ in $(seq 1 "$n"); do
      case $((RANDOM % 10)) in
        0|1) lo=$((2001 + RANDOM % 1000)); stmts+=("DELETE FROM item WHERE id BETWEEN $lo AND $((lo + RANDOM % 25));") ;;
        2) stmts+=("DELETE FROM item WHERE id % 97 = $((RANDOM % 97)) AND id > 2000;") ;;
        3) stmts+=("DELETE FROM country WHERE code = 'c$((1 + RANDOM % 30))';") ;;
        4) lo=$((2001 + RANDOM % 100)); stmts+=("DELETE FROM memo WHERE id BETWEEN $lo AND $((lo + RANDOM % 5));") ;;
        5) lo=$((2001 + RANDOM % 1000)); stmts+=("SAVEPOINT s; DELETE FROM item WHERE id BETWEEN $lo AND $((lo + 10)); ROLLBACK TO SAVEPOINT s;") ;;
        6) lo=$((1 + RANDOM % 200)); stmts+=("DELETE FROM rnd_t WHERE id BETWEEN $lo AND $((lo + 9));") ;;
        7) [ $((RANDOM % 5)) -eq 0 ] && stmts+=("TRUNCATE rnd_t;") ;;
        8) if [ $((RANDOM % 2)) -eq 0 ]; then stmts+=("SELECT rnd_del($((2001 + RANDOM % 1000)));")
           else stmts+=("SELECT rnd_del_f($((2001 + RANDOM % 1000)));"); fi ;;
        9) lo=$((2001 + RANDOM % 1000))
           stmts+=("DO \$\$ BEGIN SET LOCAL ROLE rnd_set; DELETE FROM item WHERE id BETWEEN $lo AND $((lo + 5)); RAISE EXCEPTION 'a distributed DELETE under SET ROLE went through'; EXCEPTION WHEN feature_not_supported THEN END \$\$;") ;;
      esac
    done
    end=COMMIT; [ $((RANDOM % 4)) -eq 0 ] && end=ROLLBACK
    [ "$tx" -ne "$must" ] || { stmts+=("TRUNCATE rnd_t;" "SELECT rnd_del_f($((2001 + RANDOM % 1000)));"); end=COMMIT; }
    for kind in "TRUNCATE" "rnd_del(" "rnd_del_f(" "DELETE FROM rnd_t" "DELETE FROM country" "SET LOCAL ROLE"; do
      [[ "${stmts[*]}" != *"$kind"* ]] || tally+=("$kind $end")
    done
    printf 'BEGIN; SET LOCAL citus.multi_shard_modify_mode TO sequential; SELECT deleted_record_set_context(%s, %s); %s %s;\n' "'$label'" "'tx $tx $end'" "${stmts[*]}" "$end" | PGUSER=rnd cq coord >"$CITUS_DIR/rnd.out" 2>&1 \
      || { not_ok "random transaction $tx failed"; printf '#   %s\n' "${stmts[*]}"; grep -m1 ERROR "$CITUS_DIR/rnd.out" | sed 's/^/#   /'; }
  done
  printf '# %s: transactions with (committed/rolled back):' "$label"
  for kind in "TRUNCATE" "rnd_del(" "rnd_del_f(" "DELETE FROM rnd_t" "DELETE FROM country" "SET LOCAL ROLE"; do
    printf ' %s %s/%s;' "$kind" "$(printf '%s\n' "${tally[@]}" | grep -cxF "$kind COMMIT")" "$(printf '%s\n' "${tally[@]}" | grep -cxF "$kind ROLLBACK")"
  done
  echo
  check "$label: every row the tables lost is archived exactly once, nothing else" "0|0|0" \
    "$(cq coord -c "WITH lost AS (SELECT t, o FROM initial EXCEPT ALL (SELECT 'item', id::text FROM item UNION ALL SELECT 'country', code FROM country
                                                                      UNION ALL SELECT 'memo', id::text FROM memo UNION ALL SELECT 'rnd_t', id::text FROM rnd_t)),
                         archived AS (SELECT table_name AS t, object_id AS o, reason FROM deleted_record_cluster() WHERE actor = '$label'),
                         arch AS (SELECT t, o FROM archived)
                    SELECT (SELECT count(*) FROM (SELECT * FROM lost EXCEPT ALL SELECT * FROM arch) missing),
                           (SELECT count(*) FROM (SELECT * FROM arch EXCEPT ALL SELECT * FROM lost) extra),
                           (SELECT count(*) FROM archived WHERE reason LIKE '%ROLLBACK')")"
  check "$label: the run deleted rows (and committed some transactions)" "t" \
    "$(cq coord -c "SELECT count(*) > 0 FROM deleted_record_cluster() WHERE actor = '$label'")"
  check "$label: each committed transaction's rows share one key, and no two transactions share one" "t" \
    "$(cq coord -c "SELECT count(*) = count(DISTINCT key) AND bool_and(keys = 1)
                     FROM (SELECT reason, count(DISTINCT xact_key) AS keys, min(xact_key) AS key FROM deleted_record_cluster() WHERE actor = '$label' GROUP BY reason) k")"
}
random_run rnd 40

# ---- Issue 16: shards known, not guessed (1) ------------------------------------------------
# An ordinary table named like a shard (orders_2024), with a trigger of its own whose name ends in
# the same number, is no shard copy: its deletes are archived and its TRUNCATE policy holds.
cq coord >/dev/null 2>&1 <<'SQL'
CREATE TABLE orders_2024 (id int PRIMARY KEY, body text);
INSERT INTO orders_2024 SELECT g, 'o' || g FROM generate_series(1, 10) g;
CREATE FUNCTION orders_2024_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER trg_orders_2024 BEFORE INSERT ON orders_2024 FOR EACH ROW EXECUTE FUNCTION orders_2024_touch();
SELECT deleted_record_attach('orders_2024', on_truncate => 'deny');
SQL
cq coord -c "DELETE FROM orders_2024 WHERE id <= 3" >/dev/null 2>&1
check "an ordinary table named like a shard, with a trigger named like a shard's copy, is archived" "3" \
  "$(cq coord -c "SELECT count(*) FROM deleted_record WHERE table_name = 'orders_2024'")"
err=$(cq coord -c "TRUNCATE orders_2024" 2>&1)
check "  and its TRUNCATE under 'deny' is refused" "ERROR:  TRUNCATE of table \"orders_2024\" is denied by deleted_record 7" \
  "$(head -1 <<<"$err") $(cq coord -c "SELECT count(*) FROM orders_2024")"

# ---- Issue 16: TRUNCATE reads no column by name (3) ----------------------------------------
cq coord >/dev/null 2>&1 <<'SQL'
CREATE TABLE tcol (id bigint PRIMARY KEY, gone int, t text);
SELECT create_distributed_table('tcol', 'id');
ALTER TABLE tcol DROP COLUMN gone;
INSERT INTO tcol SELECT g, 'text ' || g FROM generate_series(1, 20) g;
SELECT deleted_record_attach('tcol', on_truncate => 'archive');
SQL
cq coord -c "BEGIN" -c "SELECT deleted_record_set_context('ops', 'truncate tcol')" -c "TRUNCATE tcol" -c "COMMIT" >/dev/null 2>&1
check "TRUNCATE of a distributed table with a column named t (and a dropped column) archives every row as it was" "20|20|0|0" \
  "$(cq coord -c "SELECT count(*), count(*) FILTER (WHERE data->>'t' = 'text ' || object_id), count(*) FILTER (WHERE data ? 'gone'), (SELECT count(*) FROM tcol) FROM deleted_record_cluster(for_table => 'tcol') WHERE reason = 'truncate tcol'")"
check "  the coordinator is still up (no backend crashed)" "0" "$(cat "${CITUS_NODE_DIR[coord]}/server.log" | grep -c 'terminated by signal')"

# ---- Issue 16: TRUNCATE is not filtered by row-level security (2) ----------------------------
cq coord >/dev/null 2>&1 <<'SQL'
CREATE TABLE secret (id bigint PRIMARY KEY, owner_name text);
SELECT create_distributed_table('secret', 'id');
INSERT INTO secret SELECT g, CASE WHEN g <= 10 THEN 'a' ELSE 'b' END FROM generate_series(1, 20) g;
CREATE ROLE truncator LOGIN;
GRANT ALL ON secret TO truncator;
ALTER TABLE secret ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_a ON secret TO truncator USING (owner_name = 'a');
SELECT deleted_record_attach('secret', on_truncate => 'archive');
SQL
check "  (the truncating role sees 10 of the 20 rows)" "10" "$(PGUSER=truncator cq coord -c "SELECT count(*) FROM secret" 2>&1)"
err=$(PGUSER=truncator cq coord -c "BEGIN" -c "SELECT deleted_record_set_context('truncator', 'rls truncate')" -c "TRUNCATE secret" -c "COMMIT" 2>&1)
[ -z "$err" ] || grep ERROR <<<"$err" | sed 's/^/#   /'
check "TRUNCATE under row-level security archives every row it removes, not only the visible ones" "20|20|0" \
  "$(cq coord -c "SELECT count(*), count(DISTINCT object_id), (SELECT count(*) FROM secret) FROM deleted_record_cluster(for_table => 'secret') WHERE reason = 'rls truncate'")"

# ---- Issue 16: Citus operations on attached tables, no enable_unsafe_triggers (7) -----------
err=$(cq coord 2>&1 <<'SQL'
CREATE TABLE orders_2027 PARTITION OF orders FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
SELECT create_time_partitions('orders', INTERVAL '1 year', '2030-01-01', '2028-01-01');
CREATE TABLE orders_2031 (id bigint, placed date, PRIMARY KEY (id, placed));
ALTER TABLE orders ATTACH PARTITION orders_2031 FOR VALUES FROM ('2031-01-01') TO ('2032-01-01');
INSERT INTO orders VALUES (9001, '2027-03-01'), (9002, '2029-03-01'), (9003, '2031-03-01');
SQL
)
check "an attached distributed partitioned table gets new partitions (PARTITION OF, create_time_partitions, ATTACH PARTITION)" "0" "$?"
[ -z "$err" ] || grep ERROR <<<"$err" | sed 's/^/#   /'
cq coord -c "BEGIN" -c "SELECT deleted_record_set_context('ops', 'new partitions')" -c "DELETE FROM orders WHERE id IN (9001, 9002, 9003)" -c "COMMIT" >/dev/null 2>&1
check "  their rows are archived under the table's name, each once" "3|orders" \
  "$(cq coord -c "SELECT count(DISTINCT object_id), string_agg(DISTINCT table_name, ',') FROM deleted_record_cluster(for_table => 'orders') WHERE reason = 'new partitions'")"
cq coord -c "INSERT INTO orders SELECT g, date '2025-03-01' + (g % 5) * 365 FROM generate_series(9101, 9140) g" >/dev/null 2>&1
rows=$(cq coord -c "SELECT count(*) FROM orders")
cq coord -c "BEGIN" -c "SELECT deleted_record_set_context('ops', 'truncate orders')" -c "TRUNCATE orders" -c "COMMIT" >/dev/null 2>&1
check "TRUNCATE of an attached distributed partitioned table archives every row of every partition once" "0|40|40|orders" \
  "$(cq coord -c "SELECT (SELECT count(*) FROM orders), count(*), count(DISTINCT object_id), string_agg(DISTINCT table_name, ',') FROM deleted_record_cluster(for_table => 'orders') WHERE reason = 'truncate orders'")"
err=$(cq coord 2>&1 <<'SQL'
SET citus.enable_schema_based_sharding = on;
CREATE SCHEMA tenant1;
RESET citus.enable_schema_based_sharding;
CREATE TABLE joiner (id int PRIMARY KEY, body text);
INSERT INTO joiner SELECT g, 'j' || g FROM generate_series(1, 5) g;
SELECT deleted_record_attach('joiner');
ALTER TABLE joiner SET SCHEMA tenant1;
SQL
)
check "an attached table joins schema-based sharding" "0" "$?"
[ -z "$err" ] || grep ERROR <<<"$err" | sed 's/^/#   /'
err=$(cq coord -c "SELECT alter_distributed_table('tcol', shard_count => 6, cascade_to_colocated => false)" 2>&1)
check "alter_distributed_table of an attached table works" "0" "$?"
[ -z "$err" ] || grep ERROR <<<"$err" | sed 's/^/#   /'
cq coord -c "BEGIN" -c "SELECT deleted_record_set_context('ops', 'tenant delete')" -c "DELETE FROM tenant1.joiner WHERE id <= 2" -c "COMMIT" >/dev/null 2>&1
check "  the tenant table is distributed and its deletes archived once" "t|2" \
  "$(cq coord -c "SELECT EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = 'tenant1.joiner'::regclass), count(*) FROM deleted_record_cluster() WHERE reason = 'tenant delete'")"
cq coord -c "INSERT INTO tcol SELECT g, 'again ' || g FROM generate_series(1, 12) g" \
         -c "BEGIN" -c "SELECT deleted_record_set_context('ops', 'after alter_distributed_table')" -c "DELETE FROM tcol" -c "COMMIT" >/dev/null 2>&1
check "  after alter_distributed_table (6 shards) every deleted row is archived once" "6|12|12" \
  "$(cq coord -c "SELECT (SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'tcol'::regclass), count(*), count(DISTINCT object_id) FROM deleted_record_cluster(for_table => 'tcol') WHERE reason = 'after alter_distributed_table'")"
check "  citus.enable_unsafe_triggers is still off" "off" "$(cq coord -c "SHOW citus.enable_unsafe_triggers")"

# ---- Issue 16: delegated function and procedure calls (5) -----------------------------------
cq coord >/dev/null 2>&1 <<'SQL'
INSERT INTO country VALUES ('c97', 'country 97') ON CONFLICT DO NOTHING;
INSERT INTO item SELECT g, 'c97', 'item ' || g FROM generate_series(7001, 7006) g;
CREATE FUNCTION del_item(p bigint) RETURNS int LANGUAGE plpgsql AS $$ BEGIN DELETE FROM item WHERE id = p; RETURN 1; END $$;
SELECT create_distributed_function('del_item(bigint)', 'p', colocate_with => 'item');
CREATE PROCEDURE del_item_p(p bigint) LANGUAGE plpgsql AS $$ BEGIN DELETE FROM item WHERE id = p; END $$;
SELECT create_distributed_function('del_item_p(bigint)', 'p', colocate_with => 'item');
SQL
err=$(cq coord -c "SET deleted_record.actor = 'delegated'" -c "SELECT del_item(7001)" 2>&1)
check "session context with an autocommit call of a distributed function (delegated to a worker) is an error" \
  "ERROR:  deleted_record: the deletion context set in this session cannot reach the Citus node that runs distributed function del_item(bigint)" "$(head -1 <<<"$err")"
err=$(cq coord -c "SET deleted_record.actor = 'delegated'" -c "CALL del_item_p(7002)" 2>&1)
check "  and of a distributed procedure" \
  "ERROR:  deleted_record: the deletion context set in this session cannot reach the Citus node that runs distributed function del_item_p(bigint)" "$(head -1 <<<"$err")"
err=$(cq coord -c "SET deleted_record.require_context = 'actor'" -c "SELECT del_item(7003)" 2>&1)
check "  require_context set in the session is not lost on the way either" "ERROR" "$(head -1 <<<"$err" | cut -c1-5)"
check "  nothing was deleted, nothing archived with a lost context" "3|0" \
  "$(cq coord -c "SELECT (SELECT count(*) FROM item WHERE id IN (7001, 7002, 7003)), count(*) FROM deleted_record_cluster(for_table => 'item') WHERE object_id IN ('7001', '7002', '7003')")"
cq coord -c "BEGIN" -c "SELECT deleted_record_set_context('delegator', 'in a block')" -c "SELECT del_item(7004)" -c "CALL del_item_p(7005)" -c "COMMIT" >/dev/null 2>&1
check "  in a transaction block the calls archive with the context" "7004 7005" \
  "$(cq coord -c "SELECT string_agg(object_id, ' ' ORDER BY object_id) FROM deleted_record_cluster(for_table => 'item') WHERE actor = 'delegator'")"
cq coord >/dev/null 2>&1 <<'SQL'
INSERT INTO item SELECT g, 'c97', 'item ' || g FROM generate_series(7011, 7014) g;
CREATE FUNCTION del_items_here(lo bigint, hi bigint) RETURNS void LANGUAGE plpgsql AS $$ BEGIN DELETE FROM item WHERE id BETWEEN lo AND hi; END $$;
SQL
err=$(cq coord -c "SET deleted_record.actor = 'in-function'" -c "SELECT del_items_here(7011, 7014)" 2>&1)
check "  a distributed DELETE in an autocommit plpgsql function (not delegated) with session context is an error too" \
  "ERROR:  deleted_record: the deletion context set in this session cannot reach the Citus nodes that archive this statement's rows|4|0" \
  "$(head -1 <<<"$err")|$(cq coord -c "SELECT count(*) FROM item WHERE id BETWEEN 7011 AND 7014")|$(cq coord -c "SELECT count(*) FROM deleted_record_cluster(for_table => 'item') WHERE object_id IN ('7011', '7012', '7013', '7014')")"
cq coord -c "SELECT del_item(7006)" >/dev/null 2>&1
check "  without session context an autocommit delegated call needs nothing" "1" \
  "$(cq coord -c "SELECT count(*) FROM deleted_record_cluster(for_table => 'item') WHERE object_id = '7006'")"

# ---- Issue 16: SET ROLE, one context and the login role on every node, or an error (6) ------
cq coord >/dev/null 2>&1 <<'SQL'
CREATE ROLE login_r LOGIN;
CREATE ROLE target_r LOGIN;  -- Citus connects to the other nodes as the role set
GRANT target_r TO login_r;
GRANT ALL ON item TO target_r;
GRANT ALL ON memo TO target_r;
ALTER ROLE target_r SET deleted_record.actor = 'target-default';
INSERT INTO country VALUES ('c96', 'country 96') ON CONFLICT DO NOTHING;
INSERT INTO item SELECT g, 'c96', 'item ' || g FROM generate_series(8001, 8012) g;
INSERT INTO memo SELECT g, 'memo ' || g FROM generate_series(8001, 8002) g;
SQL
# Citus connects to the other nodes as target_r, and no node can verify a login role sent to
# it: rather than record target_r (or a claimed login_r) there, the DELETE fails.
err=$(PGUSER=login_r cq coord -c "BEGIN" -c "SET LOCAL ROLE target_r" -c "SET LOCAL deleted_record.reason = 'set role'" \
        -c "DELETE FROM item WHERE id BETWEEN 8001 AND 8008" -c "DELETE FROM memo WHERE id IN (8001, 8002)" -c "COMMIT" 2>&1)
check "after SET LOCAL ROLE in a block a distributed DELETE fails, naming the role set and the login role" \
  'ERROR:  deleted_record: the rows of this statement would be archived on other Citus nodes as done by role "target_r", not by the login role "login_r"|0|8' \
  "$(grep -m1 '^ERROR' <<<"$err")|$(cq coord -c "SELECT count(*) FROM deleted_record_cluster() WHERE reason = 'set role'")|$(cq coord -c "SELECT count(*) FROM item WHERE id BETWEEN 8001 AND 8008")"
err=$(PGUSER=login_r cq coord -c "SET ROLE target_r" -c "DELETE FROM item WHERE id BETWEEN 8009 AND 8012" 2>&1)
check "  an autocommit distributed DELETE under SET ROLE fails the same way, deleting nothing" \
  'ERROR:  deleted_record: the rows of this statement would be archived on other Citus nodes as done by role "target_r", not by the login role "login_r"|4' \
  "$(head -1 <<<"$err")|$(cq coord -c "SELECT count(*) FROM item WHERE id BETWEEN 8009 AND 8012")"

# ---- Issue 16: cluster-wide reads come in bounded pages, nodes get only their ids (8) --------
# Statements each node received are read from its log (log_statement = all while we look): the
# evidence of what was sent where, free of timing.
node_log_mark() { local n; for n in coord w1 w2 w3; do LOG_MARK[$n]=$(wc -c <"${CITUS_NODE_DIR[$n]}/server.log"); done; }
node_log() { tail -c +"$((LOG_MARK[$1] + 1))" "${CITUS_NODE_DIR[$1]}/server.log"; }
declare -A LOG_MARK=()
for n in coord w1 w2 w3; do cq $n -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null; done; sleep 1
cq coord -c "INSERT INTO memo SELECT g, 'bulk ' || g FROM generate_series(100001, 112000) g" \
         -c "BEGIN" -c "SELECT deleted_record_set_context('ops', 'bulk')" -c "DELETE FROM memo WHERE id > 100000" -c "COMMIT" >/dev/null 2>&1
node_log_mark
check "deleted_record_cluster returns a node's 12,000 rows (pages of 10,000) each once" "12000|12000|100001|112000" \
  "$(cq coord -c "SELECT count(*), count(DISTINCT id), min(object_id::int), max(object_id::int) FROM deleted_record_cluster(for_table => 'memo') WHERE reason = 'bulk'")"
check "  the coordinator, which holds them, was asked for two pages; each worker for one" "2 1 1 1" \
  "$(for n in coord w1 w2 w3; do node_log $n | grep -c "statement: SELECT pg_catalog.json_build_object('rows'"; done | xargs)"
# 24 rows of about 600 kB each (random text: it does not compress): more than one page of 8 MB.
cq coord -c "INSERT INTO memo SELECT g, (SELECT string_agg(md5(random()::text || g || s), '') FROM generate_series(1, 20000) s) FROM generate_series(120001, 120024) g" \
         -c "BEGIN" -c "SELECT deleted_record_set_context('ops', 'wide')" -c "DELETE FROM memo WHERE id > 120000" -c "COMMIT" >/dev/null 2>&1
node_log_mark
check "24 rows of 640 kB each come back whole, each once, in pages cut at 8 MB of row data" "24|24|15360000" \
  "$(cq coord -c "SELECT count(*), count(DISTINCT id), sum(length(data->>'body')) FROM deleted_record_cluster(for_table => 'memo') WHERE reason = 'wide'")"
check "  the coordinator was asked for more than one page" "t" \
  "$(node_log coord | grep -c "statement: SELECT pg_catalog.json_build_object('rows'" | awk '{ print ($1 > 1) ? "t" : "f" }')"
ids=$(cq coord -c "SELECT array_agg(id) FROM (SELECT id FROM deleted_record_cluster(for_table => 'memo') WHERE reason = 'bulk' AND object_id::int IN (100001, 112000)) x")
check "  and a restore of two of them restores those two" "2 2" \
  "$(cq coord -c "SELECT count(*) FILTER (WHERE outcome = 'restored') FROM deleted_record_cluster_restore('$ids')" 2>&1) $(cq coord -c "SELECT count(*) FROM memo WHERE id IN (100001, 112000)")"
# A restore of rows archived on several workers: each worker receives only the ids it holds.
cq coord -c "INSERT INTO country VALUES ('c95', 'country 95') ON CONFLICT DO NOTHING" -c "INSERT INTO item SELECT g, 'c95', 'item ' || g FROM generate_series(9101, 9140) g ON CONFLICT DO NOTHING" \
         -c "BEGIN" -c "SELECT deleted_record_set_context('ops', 'sent where')" -c "DELETE FROM item WHERE id BETWEEN 9101 AND 9140" -c "COMMIT" >/dev/null 2>&1
ids=$(cq coord -c "SELECT array_agg(id) FROM deleted_record_cluster(for_table => 'item') WHERE reason = 'sent where'")
node_log_mark
out=$(cq coord -c "SELECT count(*), count(DISTINCT node_id) > 1, min(outcome) FROM deleted_record_cluster_restore('$ids', dry_run => true)" 2>&1)
check "a dry-run cluster restore of 40 rows archived on several nodes" "40|t|would restore" "$out"
sent=() held=()
for n in coord w1 w2 w3; do
  sent+=("$(node_log $n | grep 'deleted_record_restore(CAST(' | grep -oE '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' | LC_ALL=C sort -u | xargs | tr ' ' ,)")
  held+=("$(cq $n -c "SELECT coalesce(string_agg(id::text, ',' ORDER BY id::text COLLATE \"C\"), '') FROM deleted_record WHERE id = ANY ('$ids')")")
done
check "  each node was sent exactly the ids it holds, nothing of the others' (coordinator, w1, w2, w3)" "${held[*]}" "${sent[*]}"
for n in coord w1 w2 w3; do cq $n -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null; done
# A hostile search_path on every node (a role default there, with an = of its own that is always
# true) changes nothing in what the node filters.
cq coord -c "SELECT run_command_on_all_nodes(\$\$SET citus.enable_ddl_propagation = off; CREATE SCHEMA evil;
  CREATE FUNCTION evil.texteq_evil(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
  CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.texteq_evil);
  GRANT USAGE ON SCHEMA evil TO auditor; ALTER ROLE auditor SET search_path = evil, pg_catalog, public\$\$)" >/dev/null 2>&1
check "a reader whose search_path on every node puts a schema with an always-true = first gets only the filtered rows" \
  "$(cq coord -c "SELECT count(*) FROM deleted_record_cluster(for_object => '9101')")" \
  "$(PGUSER=auditor cq coord -c "SELECT count(*) FROM deleted_record_cluster(for_object => '9101')" 2>&1)"
cq coord -c "SELECT run_command_on_all_nodes(\$\$ALTER ROLE auditor RESET search_path\$\$)" >/dev/null 2>&1

# ---- Issue 16: cluster-wide erase checks every node first (10) -------------------------------
cq coord >/dev/null 2>&1 <<'SQL'
CREATE ROLE eraser LOGIN;
INSERT INTO country VALUES ('c98', 'country 98') ON CONFLICT DO NOTHING;
INSERT INTO item SELECT g, 'c98', 'item ' || g FROM generate_series(6001, 6004) g;
BEGIN; SELECT deleted_record_set_context('erase-partial', 'gdpr'); DELETE FROM memo WHERE id IN (41, 42); DELETE FROM item WHERE id IN (6001, 6002, 6003, 6004); COMMIT;
SET citus.enable_ddl_propagation = off;
GRANT EXECUTE ON FUNCTION deleted_record_erase(uuid[], text) TO eraser;
GRANT SELECT ON deleted_record TO eraser;
GRANT EXECUTE ON FUNCTION deleted_record_cluster_erase(uuid[], text) TO eraser;
SQL
ids=$(cq coord -c "SELECT array_agg(id) FROM deleted_record_cluster() WHERE actor = 'erase-partial'")
err=$(PGUSER=eraser cq coord -c "SELECT sum(erased) FROM deleted_record_cluster_erase('$ids', 'partial?')" 2>&1)
check "cluster erase by a role granted erase on the coordinator only is refused, naming the nodes" "ERROR:  deleted_record_cluster_erase: nothing was erased: the caller may not erase on node" \
  "$(head -1 <<<"$err" | grep -o '^ERROR:  deleted_record_cluster_erase: nothing was erased: the caller may not erase on node')"
check "  and nothing was erased anywhere, the coordinator's rows included" "6|2" \
  "$(cq coord -c "SELECT count(*), count(*) FILTER (WHERE table_name = 'memo') FROM deleted_record_cluster() WHERE actor = 'erase-partial'")"
cq coord -c "SELECT run_command_on_all_nodes(\$\$GRANT EXECUTE ON FUNCTION deleted_record_erase(uuid[], text) TO eraser\$\$)" \
         -c "SELECT run_command_on_all_nodes(\$\$GRANT SELECT ON deleted_record TO eraser\$\$)" >/dev/null 2>&1
check "  granted on every node, it erases every row, each node only its own" "6" \
  "$(PGUSER=eraser cq coord -c "SELECT sum(erased) FROM deleted_record_cluster_erase('$ids', 'now allowed')" 2>&1)"

cq coord >/dev/null 2>&1 <<'SQL'
CREATE ROLE purger LOGIN;
SET citus.enable_ddl_propagation = off;
GRANT EXECUTE ON PROCEDURE deleted_record_purge(interval, integer, bigint) TO purger;
GRANT EXECUTE ON FUNCTION deleted_record_purge_step(interval, integer, regclass[]) TO purger;
GRANT EXECUTE ON FUNCTION deleted_record_cluster_purge(interval, integer) TO purger;
SQL
before=$(cq coord -c "SELECT count(*) FROM deleted_record_cluster()")
err=$(PGUSER=purger cq coord -c "SELECT * FROM deleted_record_cluster_purge(older_than => interval '1 microsecond')" 2>&1)
check "cluster purge by a role granted purge on the coordinator only is refused before anything is purged" \
  "ERROR:  deleted_record_cluster_purge: nothing was purged: the caller may not purge on node|$before" \
  "$(head -1 <<<"$err" | grep -o '^ERROR:  deleted_record_cluster_purge: nothing was purged: the caller may not purge on node')|$(cq coord -c "SELECT count(*) FROM deleted_record_cluster()")"
# Granted everywhere, but the last node (in node id order) refuses to write for this role: the
# nodes before it purged and committed, and the error says which.
cq coord -c "SELECT run_command_on_all_nodes(\$\$SET citus.enable_ddl_propagation = off; GRANT EXECUTE ON PROCEDURE deleted_record_purge(interval, integer, bigint) TO purger; GRANT EXECUTE ON FUNCTION deleted_record_purge_step(interval, integer, regclass[]) TO purger\$\$)" >/dev/null 2>&1
last=$(cq coord -c "SELECT nodeid || ':' || nodeport FROM pg_dist_node ORDER BY nodeid DESC LIMIT 1")
before_last=$(cq coord -c "SELECT string_agg(nodeid::text, ', ' ORDER BY nodeid) FROM pg_dist_node WHERE nodeid < ${last%%:*}")
for n in "${CITUS_NODES[@]}"; do [ "${CITUS_PORT[$n]}" = "${last#*:}" ] && last_node=$n; done
cq $last_node -c "SET citus.enable_ddl_propagation = off" -c "ALTER ROLE purger SET default_transaction_read_only = on" >/dev/null
err=$(PGUSER=purger cq coord -c "SELECT * FROM deleted_record_cluster_purge(older_than => interval '100 years')" 2>&1)
check "a cluster purge that fails on the last node names it, and the nodes that purged before" \
  "ERROR:  deleted_record_cluster_purge: purging: node ${last%%:*} (127.0.0.1:${last#*:}) failed|DETAIL:  Nodes $before_last purged (committed there); nothing on this and later nodes." \
  "$(head -1 <<<"$err" | grep -o "^ERROR:  deleted_record_cluster_purge: purging: node ${last%%:*} (127.0.0.1:${last#*:}) failed")|$(grep '^DETAIL' <<<"$err")"
cq $last_node -c "SET citus.enable_ddl_propagation = off" -c "ALTER ROLE purger RESET default_transaction_read_only" >/dev/null

# ---- Issue 16: reference tables with a disabled node, coordinator outside the metadata (4) ----
# Citus local tables live on the coordinator: they become local tables again first.
err=$(cq coord -c "SELECT undistribute_table('note')" \
               -c "SELECT citus_remove_node('127.0.0.1', ${CITUS_PORT[coord]})" 2>&1)
check "the coordinator leaves the metadata" "0" "$(cq coord -c "SELECT count(*) FROM pg_dist_node WHERE groupid = 0")"
[ -z "$err" ] || grep ERROR <<<"$err" | sed 's/^/#   /'
cq coord >/dev/null 2>&1 <<'SQL'
CREATE TABLE ref_dn (code text PRIMARY KEY, body text);
SELECT create_reference_table('ref_dn');
INSERT INTO ref_dn SELECT 'r' || g, 'ref ' || g FROM generate_series(1, 10) g;
SELECT deleted_record_attach('ref_dn');
SQL
lowest=$(cq coord -c "SELECT nodename || ':' || nodeport FROM pg_dist_node WHERE noderole = 'primary' ORDER BY groupid LIMIT 1")
# Citus disables no node holding a shard's only placement: drain it first.
err=$(cq coord -c "SELECT citus_set_node_property('127.0.0.1', ${lowest#*:}, 'shouldhaveshards', false)" \
               -c "SELECT rebalance_table_shards(drain_only => true, shard_transfer_mode => 'block_writes')" \
               -c "SELECT citus_disable_node('127.0.0.1', ${lowest#*:}, synchronous => true)" 2>&1)
check "the lowest worker group's node is disabled" "f" "$(cq coord -c "SELECT isactive FROM pg_dist_node WHERE nodeport = ${lowest#*:}")"
[ -z "$err" ] || grep ERROR <<<"$err" | sed 's/^/#   /'
cq coord -c "BEGIN" -c "SELECT deleted_record_set_context('ops', 'ref while disabled')" -c "DELETE FROM ref_dn WHERE code IN ('r1', 'r2', 'r3', 'r4', 'r5')" -c "COMMIT" >/dev/null 2>&1
SQL="SELECT count(*) FROM deleted_record WHERE reason = 'ref while disabled'"
check "with the lowest worker disabled, a reference table's deletes are archived exactly once" "5" \
  "$(on_nodes w3 | tr ' ' '\n' | awk '{ s += $1 } END { print s }')"
random_run rnd-disabled 20
# The disabled node keeps its archive: cluster reads and erasures reach it directly, a restore
# of its rows is refused naming it (its Citus metadata is no longer kept up to date), and when
# it cannot be reached at all every call fails naming it. (1.2's first cut skipped it silently.)
for n in "${CITUS_NODES[@]}"; do [ "${CITUS_PORT[$n]}" = "${lowest#*:}" ] && dn=$n; done
dn_id=$(cq coord -c "SELECT nodeid FROM pg_dist_node WHERE nodeport = ${lowest#*:}")
check "deleted_record_cluster reads the disabled node's archive too (it holds rows)" "$(cq $dn -c "SELECT count(*) || '|' || (count(*) > 0) FROM deleted_record")" \
  "$(cq coord -c "SELECT count(*) || '|' || (count(*) > 0) FROM deleted_record_cluster() WHERE node_id = $dn_id" 2>&1)"
ids=$(cq $dn -c "SELECT array_agg(id) FROM (SELECT id FROM deleted_record WHERE table_name = 'item' ORDER BY id LIMIT 3) x")
err=$(cq coord -c "SELECT * FROM deleted_record_cluster_restore('$ids', dry_run => true)" 2>&1)
check "  a cluster restore of rows archived there is refused, naming the node" \
  "ERROR:  deleted_record_cluster_restore: nothing was restored: rows to restore are archived on node $dn_id (127.0.0.1:${lowest#*:}), which is disabled" \
  "$(head -1 <<<"$err")"
check "  a cluster erase of them erases them there" "$dn_id|3|0" \
  "$(cq coord -c "SELECT node_id, erased FROM deleted_record_cluster_erase('$ids', 'erase on a disabled node')" 2>&1)|$(cq $dn -c "SELECT count(*) FROM deleted_record WHERE id = ANY ('$ids')")"
as_server_user "$CITUS_BIN/pg_ctl" -D "${CITUS_NODE_DIR[$dn]}/data" -m fast -w stop >/dev/null 2>&1
for call in "deleted_record_cluster()" "deleted_record_cluster_erase('$ids', 'while down')" "deleted_record_cluster_purge()"; do
  err=$(cq coord -c "SELECT count(*) FROM $call" 2>&1)
  check "  with the disabled node down, $(sed 's/(.*//' <<<"$call") fails naming it" \
    "ERROR:  ${call%%(*}: node $dn_id (127.0.0.1:${lowest#*:}, disabled) failed" \
    "$(head -1 <<<"$err" | grep -o "^ERROR:  ${call%%(*}: node $dn_id (127.0.0.1:${lowest#*:}, disabled) failed")"
done
as_server_user "$CITUS_BIN/pg_ctl" -D "${CITUS_NODE_DIR[$dn]}/data" -l "${CITUS_NODE_DIR[$dn]}/server.log" -w start >/dev/null 2>&1
cq coord -c "SELECT citus_activate_node('127.0.0.1', ${lowest#*:})" >/dev/null 2>&1
check "  the node comes back" "t" "$(cq coord -c "SELECT bool_and(isactive) FROM pg_dist_node")"

# ---- Issue 16: restore parents first across nodes (9) ----------------------------------------
# The coordinator joins the metadata again, after the workers: its node id is now the highest,
# and the reference table's rows are archived there (the lowest group).
cq coord -c "SELECT citus_set_coordinator_host('127.0.0.1', ${CITUS_PORT[coord]})" -c "SELECT replicate_reference_tables()" >/dev/null 2>&1
check "the coordinator is back in the metadata with the highest node id" "t" \
  "$(cq coord -c "SELECT (SELECT nodeid FROM pg_dist_node WHERE groupid = 0) = (SELECT max(nodeid) FROM pg_dist_node)")"
cq coord -c "INSERT INTO country VALUES ('c99', 'country 99') ON CONFLICT DO NOTHING" \
         -c "INSERT INTO item SELECT g, 'c99', 'item ' || g FROM generate_series(5001, 5020) g" >/dev/null 2>&1
cq coord -c "BEGIN" -c "SELECT deleted_record_set_context('ops', 'cascade to restore')" -c "DELETE FROM country WHERE code = 'c99'" -c "COMMIT" >/dev/null 2>&1
ids=$(cq coord -c "SELECT array_agg(id) FROM deleted_record_cluster() WHERE reason = 'cascade to restore'")
out=$(cq coord -c "SELECT count(*), min(outcome), max(outcome) FROM deleted_record_cluster_restore('$ids')" 2>&1)
check "a reference -> distributed cascade is undone by one cluster restore, parents first" "21|restored|restored" "$out"
check "  the rows are back" "1|20" "$(cq coord -c "SELECT (SELECT count(*) FROM country WHERE code = 'c99'), (SELECT count(*) FROM item WHERE country = 'c99')")"

# ---- Detach -----------------------------------------------------------------------------------
# Old shard copies (move, split) keep their triggers until Citus drops them; drop them now.
cq coord -c "CALL citus_cleanup_orphaned_resources()" -c "ALTER SYSTEM RESET citus.defer_shard_delete_interval" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
cq coord -c "SELECT deleted_record_detach('item')" >/dev/null 2>&1
SQL="SET citus.override_table_visibility = off; SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relname ~ '^item(_[0-9]+)?$' AND t.tgname LIKE 'deleted_record_insert%'"
check "detach removes the trigger from the table and every shard" "0 0 0 0" "$(on_nodes w3)"

crashes=$(cat "${CITUS_NODE_DIR[@]/%//server.log}" | grep -c 'terminated by signal')
check "no backend crashed" 0 "$crashes"
tap_done
