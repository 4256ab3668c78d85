-- Prototype, in plpgsql, of the Citus-aware archiving the findings recommend for the C trigger.
-- Loaded into every node's database by the experiments (with DDL propagation off, so each node
-- has its own copy). It writes to proto_archive, a plain local table on each node:
--   * table_name/schema_name/partition_name name the logical table, found from a shard's name
--     through pg_dist_shard (metadata is on every node since Citus 11);
--   * a reference table's row is archived only on the placement with the lowest group id;
--   * xact_key is the same for every row of one distributed transaction:
--     d:<initiator group>:<distributed transaction number>:<stamp in µs> when Citus assigned one,
--     else l:<local group>:<local xid> (a transaction that ran on one node only).
SET citus.enable_ddl_propagation = off;
CREATE TABLE proto_archive (
  node_group int, table_name text, schema_name text, partition_name text, shard text,
  object_id text, xact_key text, xact_id xid8, actor text, reason text, metadata text, data jsonb);

-- proto_logical returns the logical table behind relation rel (itself when rel is not a shard),
-- whether it is a reference table, and its shard id.
-- Citus hides shards from pg_class in SQL run by sessions whose application_name is not
-- Citus's own (a client session doing local execution on the coordinator, say), so the
-- functions that read pg_class switch that off for themselves. (C code reading the syscache is
-- not affected.)
CREATE FUNCTION proto_logical(rel regclass, OUT logical regclass, OUT is_reference bool, OUT shard_id bigint)
LANGUAGE plpgsql STABLE SET citus.override_table_visibility = off AS $$
DECLARE
  relname text;
BEGIN
  SELECT c.relname INTO relname FROM pg_class c WHERE c.oid = rel;
  shard_id := substring(relname FROM '_(\d+)$')::bigint;
  SELECT s.logicalrelid, (p.partmethod = 'n' AND p.repmodel = 't') INTO logical, is_reference
    FROM pg_dist_shard s JOIN pg_dist_partition p USING (logicalrelid)
   WHERE s.shardid = shard_id
     AND relname = (SELECT c.relname FROM pg_class c WHERE c.oid = s.logicalrelid) || '_' || shard_id
     AND rel <> s.logicalrelid;
  IF logical IS NULL THEN
    logical := rel; is_reference := false; shard_id := NULL;
  END IF;
END $$;

-- proto_xact_key: the cluster-wide grouping key of the current transaction.
CREATE FUNCTION proto_xact_key() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  tx record;
BEGIN
  tx := get_current_transaction_id();
  IF tx.transaction_number <> 0 THEN
    RETURN format('d:%s:%s:%s', tx.initiator_node_identifier, tx.transaction_number,
                  (extract(epoch FROM tx.transaction_stamp) * 1000000)::bigint);
  END IF;
  RETURN format('l:%s:%s', (SELECT groupid FROM pg_dist_local_group), pg_current_xact_id());
END $$;

-- proto_archive_one archives one row of relation rel (shard or not) if this placement should.
CREATE FUNCTION proto_archive_one(rel regclass, row_data jsonb) RETURNS void LANGUAGE plpgsql
SET citus.override_table_visibility = off AS $$
DECLARE
  l record;
  root regclass;
  designated int;
BEGIN
  l := proto_logical(rel);
  IF l.is_reference THEN
    SELECT min(groupid) INTO designated FROM pg_dist_placement WHERE shardid = l.shard_id AND shardstate = 1;
    IF designated IS DISTINCT FROM (SELECT groupid FROM pg_dist_local_group) THEN
      RETURN;   -- another placement of this reference table archives the row
    END IF;
  END IF;
  root := coalesce(pg_partition_root(l.logical), l.logical);
  INSERT INTO proto_archive
  SELECT (SELECT groupid FROM pg_dist_local_group), c.relname, n.nspname,
         CASE WHEN root <> l.logical THEN (SELECT relname FROM pg_class WHERE oid = l.logical) END,
         (SELECT relname FROM pg_class WHERE oid = rel),
         coalesce(row_data->>'id', row_data->>'code'), proto_xact_key(), pg_current_xact_id(),
         current_setting('deleted_record.actor', true), current_setting('deleted_record.reason', true),
         current_setting('deleted_record.metadata', true), row_data
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = root;
END $$;

CREATE FUNCTION proto_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM proto_archive_one(TG_RELID, to_jsonb(OLD));
  RETURN NULL;
END $$;

-- proto_archive_row: the same, called per row by a query Citus pushes down to the shards.
CREATE FUNCTION proto_archive_row(rel regclass, row_data jsonb) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  PERFORM proto_archive_one(rel, row_data);
  RETURN 1;
END $$;

-- proto_set_context: deleted_record_set_context that also reaches the workers of the current
-- distributed transaction: SET LOCAL through SPI while citus.propagate_set_commands = 'local'.
CREATE FUNCTION proto_set_context(actor text, reason text, metadata jsonb DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  saved text := current_setting('citus.propagate_set_commands', true);
BEGIN
  PERFORM set_config('citus.propagate_set_commands', 'local', true);
  EXECUTE format('SET LOCAL deleted_record.actor = %L', coalesce(actor, ''));
  EXECUTE format('SET LOCAL deleted_record.reason = %L', coalesce(reason, ''));
  EXECUTE format('SET LOCAL deleted_record.metadata = %L', coalesce(metadata::text, ''));
  PERFORM set_config('citus.propagate_set_commands', saved, true);
END $$;

-- proto_attach: deleted_record_attach with citus.enable_unsafe_triggers switched on only
-- around its own work (and back to the caller's value afterwards).
CREATE FUNCTION proto_attach(target regclass, on_truncate text DEFAULT 'archive') RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  saved text := current_setting('citus.enable_unsafe_triggers', true);
BEGIN
  PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
  PERFORM deleted_record_attach(target, on_truncate);
  PERFORM set_config('citus.enable_unsafe_triggers', saved, true);
END $$;
RESET citus.enable_ddl_propagation;

-- proto_archive_pushed: archive one row from a query Citus pushed down to one placement of each
-- shard (so a reference table's row is read on one placement only: no designated check).
SET citus.enable_ddl_propagation = off;
CREATE FUNCTION proto_archive_pushed(rel regclass, row_data jsonb) RETURNS int LANGUAGE plpgsql
SET citus.override_table_visibility = off AS $$
DECLARE
  l record;
  root regclass;
BEGIN
  l := proto_logical(rel);
  root := coalesce(pg_partition_root(l.logical), l.logical);
  INSERT INTO proto_archive
  SELECT (SELECT groupid FROM pg_dist_local_group), c.relname, n.nspname, NULL, (SELECT relname FROM pg_class WHERE oid = rel),
         coalesce(row_data->>'id', row_data->>'code'), proto_xact_key(), pg_current_xact_id(),
         current_setting('deleted_record.actor', true), current_setting('deleted_record.reason', true),
         current_setting('deleted_record.metadata', true), row_data
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = root;
  RETURN 1;
END $$;

-- proto_truncate_guard(variant): BEFORE TRUNCATE on a Citus table's shell; archives the rows
-- about to be truncated through Citus, in the same distributed transaction:
--   delete    DELETE FROM the table (the shards' row triggers archive)
--   pull      INSERT INTO the local proto_archive SELECT ... FROM the table (rows come to this node)
--   pushdown  SELECT sum(proto_archive_pushed(tableoid, row)) FROM the table (each shard archives its rows)
-- On a shard (Citus truncating it) it does nothing: the shell's guard has done the work.
CREATE FUNCTION proto_truncate_guard() RETURNS trigger LANGUAGE plpgsql
SET citus.override_table_visibility = off AS $$
DECLARE
  l record;
  n bigint;
BEGIN
  l := proto_logical(TG_RELID);
  RAISE NOTICE 'proto_truncate_guard(%) on % (group %)', TG_ARGV[0], TG_TABLE_NAME, (SELECT groupid FROM pg_dist_local_group);
  IF l.shard_id IS NOT NULL THEN
    RETURN NULL;
  END IF;
  IF TG_ARGV[0] = 'delete' THEN
    EXECUTE format('DELETE FROM %s', TG_RELID::regclass);
  ELSIF TG_ARGV[0] = 'pull' THEN
    EXECUTE format($q$INSERT INTO proto_archive (node_group, table_name, schema_name, shard, object_id, xact_key, xact_id, actor, data)
                      SELECT (SELECT groupid FROM pg_dist_local_group), %L, %L, 'pulled', coalesce(r->>'id', r->>'code'), proto_xact_key(),
                             pg_current_xact_id(), current_setting('deleted_record.actor', true), r
                        FROM (SELECT to_jsonb(t) AS r FROM %s t) s$q$, TG_TABLE_NAME, TG_TABLE_SCHEMA, TG_RELID::regclass);
  ELSIF TG_ARGV[0] = 'pushdown' THEN
    EXECUTE format('SELECT sum(proto_archive_pushed(t.tableoid::regclass, to_jsonb(t))) FROM %s t', TG_RELID::regclass) INTO n;
  END IF;
  RETURN NULL;
END $$;
RESET citus.enable_ddl_propagation;
