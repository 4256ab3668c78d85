#!/usr/bin/env bash
# Distributing the archive table itself: what happens today with create_distributed_table,
# create_reference_table and citus_add_local_table_to_metadata on deleted_record (and to the
# rows archived afterwards), which event triggers fire during them, and whether a trigger on the
# archive that depends on the extension makes Citus refuse all three.
# Runs each case on a fresh cluster: bash 08_distribute_archive.sh [today|guarded]
set -uo pipefail
if [ $# -eq 0 ]; then
  for mode in today guarded; do echo "######## $mode"; bash "$0" "$mode"; done
  exit 0
fi
mode=$1
source "$(dirname "$0")/../lib/citus_cluster.sh"
citus_cluster_start

cpsql coord <<'SQL'
CREATE TABLE ddl_log (at timestamptz DEFAULT clock_timestamp(), event text, tag text, obj text);
CREATE FUNCTION log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_EVENT = 'ddl_command_end' THEN
    INSERT INTO public.ddl_log (event, tag, obj) SELECT TG_EVENT, command_tag, object_identity FROM pg_event_trigger_ddl_commands();
  ELSE
    INSERT INTO public.ddl_log (event, tag) VALUES (TG_EVENT, TG_TAG);
  END IF;
END $$;
CREATE EVENT TRIGGER log_start ON ddl_command_start EXECUTE FUNCTION log_ddl();
CREATE EVENT TRIGGER log_end ON ddl_command_end EXECUTE FUNCTION log_ddl();
CREATE EVENT TRIGGER log_rewrite ON table_rewrite EXECUTE FUNCTION log_ddl();
SET citus.shard_count = 4;
CREATE TABLE invoice (id bigint PRIMARY KEY, v text);
INSERT INTO invoice SELECT g, 'v' FROM generate_series(1, 4) g;
SELECT deleted_record_attach('invoice');      -- a local table on the coordinator
DELETE FROM invoice WHERE id = 1;
TRUNCATE ddl_log;
SQL

if [ "$mode" = guarded ]; then
  cpsql coord <<'SQL'
-- A statement trigger on the archive that never fires (WHEN (false)), made dependent on the
-- extension: Citus refuses to distribute tables with triggers unless citus.enable_unsafe_triggers
-- is on, and with it on refuses triggers that depend on an extension.
CREATE FUNCTION deleted_record_not_distributable() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER deleted_record_not_distributable BEFORE UPDATE ON deleted_record
  FOR EACH STATEMENT WHEN (false) EXECUTE FUNCTION deleted_record_not_distributable();
ALTER TRIGGER deleted_record_not_distributable ON deleted_record DEPENDS ON EXTENSION deleted_record;
SELECT t.tgname, d.deptype FROM pg_trigger t JOIN pg_depend d ON d.classid = 'pg_trigger'::regclass AND d.objid = t.oid AND d.refclassid = 'pg_extension'::regclass WHERE t.tgrelid = 'deleted_record'::regclass;
-- archive writes and reads are unaffected
DELETE FROM invoice WHERE id = 2;
UPDATE deleted_record SET reason = reason WHERE false;
SELECT count(*) FROM deleted_record;
SQL
fi

cpsql coord <<'SQL'
SELECT create_distributed_table('deleted_record', 'id');
SELECT event, tag, obj FROM ddl_log ORDER BY at;
SET citus.enable_unsafe_triggers = on;
SELECT create_distributed_table('deleted_record', 'id');
RESET citus.enable_unsafe_triggers;
SELECT logicalrelid, partmethod FROM pg_dist_partition WHERE logicalrelid = 'deleted_record'::regclass;
SQL
distributed=$(cq coord -c "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'deleted_record'::regclass")
if [ "$distributed" = 1 ]; then
  cpsql coord <<'SQL'
-- the archive is now distributed: what happens to rows archived on the coordinator and on workers?
SELECT count(*) AS visible_archive_rows FROM deleted_record;
SET citus.shard_count = 4;
SET citus.enable_unsafe_triggers = on;
CREATE TABLE item (id bigint PRIMARY KEY);
SELECT create_distributed_table('item', 'id');
INSERT INTO item SELECT generate_series(1, 4);
SELECT deleted_record_attach('item');
DELETE FROM item WHERE id <= 2;
DELETE FROM invoice WHERE id = 3;
SELECT count(*) AS visible_archive_rows_after_more_deletes FROM deleted_record;
SQL
  echo "---- rows in the coordinator's local heap of deleted_record (the shell), and in the workers' shells"
  echo "     (SELECT on any node is routed to the shards; the shells' own heaps are read with pageinspect)"
  for n in coord w1 w2; do
    cq $n -c "SET citus.enable_ddl_propagation = off" -c "CREATE EXTENSION IF NOT EXISTS pageinspect" \
      -c "SELECT '$n: tuples in the shell heap: ' || count(*)
            FROM generate_series(0, pg_relation_size('deleted_record') / 8192 - 1) b, heap_page_items(get_raw_page('deleted_record', b::int)) WHERE t_xmin IS NOT NULL"
  done
fi

cpsql coord <<'SQL'
SELECT create_reference_table('deleted_record');
SET citus.enable_unsafe_triggers = on;
SELECT create_reference_table('deleted_record');
RESET citus.enable_unsafe_triggers;
SELECT citus_add_local_table_to_metadata('deleted_record');
SELECT logicalrelid, partmethod, repmodel FROM pg_dist_partition WHERE logicalrelid = 'deleted_record'::regclass;
SELECT event, tag, obj FROM ddl_log ORDER BY at;
SQL
