-- deleted_record 1.0 -> 1.1.
--  * The archive becomes a table partitioned by time (range of the time-ordered id). The 1.0
--    table, with every row archived so far, becomes its first partition, deleted_record_before_1_1,
--    covering ids up to the end of the current month; like every partition made at run time it
--    is not a member of the extension, so pg_dump dumps it (and its rows) as an ordinary table.
--    Grants, row-level security policies and columns a DBA gave the 1.0 table carry over to the
--    new archive. xact_id is stored as bigint; restored_at/restored_by and the column-policy
--    columns are added. Masking secret, erasure tombstones and purge bookkeeping tables are new.
--  * deleted_record_set_context becomes a C function that refuses to run where its settings
--    could never reach a delete; attach/detach recognise archive triggers by function, lock first
--    and take retention and column policies; TRUNCATE guards follow partitions however they are
--    created, attached or detached; changes to the archive its writer cannot honour are refused.
--  * New: deleted_record_purge, deleted_record_erase, deleted_record_mask, deleted_record_restore,
--    deleted_record_restore_transaction, deleted_record_uuid7_floor/_time; for Citus the
--    xact_key column, deleted_record_cluster/_cluster_restore/_cluster_purge and a never-firing
--    trigger that keeps the archive from being distributed.
\echo Use "ALTER EXTENSION deleted_record UPDATE TO '1.1'" to load this file. \quit

-- The old DDL event trigger is replaced below; drop it first so it does not fire on this script.
DROP EVENT TRIGGER deleted_record_guard_new_partitions;
DROP FUNCTION deleted_record_guard_new_partitions();

ALTER TABLE deleted_record RENAME TO deleted_record_before_1_1;
ALTER INDEX deleted_record_pkey RENAME TO deleted_record_before_1_1_pkey;
ALTER INDEX deleted_record_table_object_idx RENAME TO deleted_record_before_1_1_table_name_object_id_idx;
ALTER TABLE deleted_record_before_1_1
    ALTER COLUMN xact_id TYPE bigint USING (xact_id::text::bigint),
    ADD COLUMN restored_at timestamptz,
    ADD COLUMN restored_by text,
    ADD COLUMN excluded_columns text[],
    ADD COLUMN masked_columns text[],
    ADD COLUMN xact_key text COLLATE "C";
ALTER EXTENSION deleted_record DROP TABLE deleted_record_before_1_1;
-- PostgreSQL 18 names NOT NULL constraints after their table: free the names the new archive's
-- constraints get (the loop finds nothing before 18).
DO $rename$
DECLARE
    item record;
BEGIN
    FOR item IN SELECT c.conname FROM pg_catalog.pg_constraint c
                 WHERE c.conrelid = 'deleted_record_before_1_1'::regclass AND c.contype = 'n'
                   AND c.conname LIKE 'deleted\_record\_%' LOOP
        EXECUTE pg_catalog.format('ALTER TABLE deleted_record_before_1_1 RENAME CONSTRAINT %I TO %I', item.conname,
                                  'deleted_record_before_1_1_' || pg_catalog.substr(item.conname, pg_catalog.length('deleted_record_') + 1));
    END LOOP;
END
$rename$;
COMMENT ON TABLE deleted_record_before_1_1 IS 'Archive rows of deleted_record 1.0, a partition of deleted_record since the update to 1.1';

-- The archive: one row per deleted row. Written only by the extension's trigger functions,
-- under the extension owner's identity; nobody else holds any privilege on it until granted.
-- Partitioned by time (the time-ordered id): each period's rows live in their own partition,
-- whose indexes stay small however large the archive grows, and a purge drops whole expired
-- partitions. The parent has no indexes of its own: each partition carries its primary key and
-- (table_name, object_id) index, so partitions restore from a dump as ordinary tables.
CREATE TABLE deleted_record (
    id                uuid        NOT NULL,
    data              jsonb       NOT NULL,
    deleted_at        timestamptz NOT NULL DEFAULT pg_catalog.transaction_timestamp(),
    object_id         text        COLLATE "C",
    table_name        text        COLLATE "C" NOT NULL,
    schema_name       text        COLLATE "C" NOT NULL,
    partition_name    text        COLLATE "C",
    actor             text,
    reason            text,
    metadata          jsonb,
    xact_id           bigint,
    session_user_name text,
    current_user_name text,
    updated_at        timestamptz NOT NULL DEFAULT pg_catalog.transaction_timestamp(),
    restored_at       timestamptz,
    restored_by       text,
    excluded_columns  text[],
    masked_columns    text[],
    xact_key          text        COLLATE "C"
) PARTITION BY RANGE (id);
REVOKE ALL ON TABLE deleted_record FROM PUBLIC;

-- Rows whose period has no partition of its own land here (so that nothing is ever refused).
CREATE TABLE deleted_record_default PARTITION OF deleted_record DEFAULT;
ALTER TABLE deleted_record_default ADD CONSTRAINT deleted_record_default_pkey PRIMARY KEY (id);
-- Lookups are by equality, so the key columns use the "C" collation: byte comparisons keep
-- this index cheap to maintain on every archived row.
CREATE INDEX deleted_record_default_table_name_object_id_idx ON deleted_record_default (table_name, object_id);
REVOKE ALL ON TABLE deleted_record_default FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('deleted_record_default', '');

COMMENT ON TABLE deleted_record IS 'Rows deleted from attached tables, as jsonb, with who deleted them and why (partitioned by time)';
COMMENT ON COLUMN deleted_record.id IS 'Time-ordered UUIDv7 of the archive row; the partition key';
COMMENT ON COLUMN deleted_record.data IS 'The deleted row as to_jsonb(OLD) renders it under canonical settings (TimeZone UTC, DateStyle ISO)';
COMMENT ON COLUMN deleted_record.deleted_at IS 'Start time of the deleting transaction';
COMMENT ON COLUMN deleted_record.object_id IS 'Primary key (or replica identity key) of the deleted row as text; composite keys as a JSON array';
COMMENT ON COLUMN deleted_record.table_name IS 'Table the application deleted from (the partitioned root for partitions)';
COMMENT ON COLUMN deleted_record.schema_name IS 'Schema of table_name';
COMMENT ON COLUMN deleted_record.partition_name IS 'Leaf partition the row lived in, when table_name is partitioned';
COMMENT ON COLUMN deleted_record.actor IS 'Self-declared deleter (deleted_record.actor); compare with session_user_name';
COMMENT ON COLUMN deleted_record.reason IS 'Why the row was deleted (deleted_record.reason)';
COMMENT ON COLUMN deleted_record.metadata IS 'JSON object of further context (deleted_record.metadata)';
COMMENT ON COLUMN deleted_record.xact_id IS 'Deleting transaction (pg_current_xact_id() as bigint): groups a delete with its cascades';
COMMENT ON COLUMN deleted_record.session_user_name IS 'Session user that ran the delete';
COMMENT ON COLUMN deleted_record.current_user_name IS 'Current user (role) that ran the delete';
COMMENT ON COLUMN deleted_record.updated_at IS 'Same as deleted_at; kept for queries written for the original pattern';
COMMENT ON COLUMN deleted_record.restored_at IS 'When deleted_record_restore put the row back; NULL until restored';
COMMENT ON COLUMN deleted_record.restored_by IS 'Role that restored the row; NULL until restored';
COMMENT ON COLUMN deleted_record.excluded_columns IS 'Columns kept out of data at capture (the attached table''s exclude_columns); NULL when none';
COMMENT ON COLUMN deleted_record.masked_columns IS 'Columns of data stored as a keyed hash (the attached table''s mask_columns); NULL when none';
COMMENT ON COLUMN deleted_record.xact_key IS 'On Citus: the deleting distributed transaction, the same on every node (xact_id is per node); NULL without Citus';
COMMENT ON TABLE deleted_record_default IS 'Archive rows of periods without a partition of their own';

-- Citus distributes, or makes a reference or local Citus table of, any table it is asked to:
-- the archive too, after which every archived row would vanish into the local heap of a table
-- that Citus reads from elsewhere. Citus refuses tables with triggers, and triggers that depend
-- on an extension even when told to allow triggers: this one never fires (WHEN (false)) and
-- exists only for that refusal.
CREATE FUNCTION deleted_record_not_distributable() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    RAISE EXCEPTION 'deleted_record_not_distributable() is never meant to run';
END
$$;
COMMENT ON FUNCTION deleted_record_not_distributable() IS 'Internal: the never-firing trigger that keeps Citus from distributing the archive';
CREATE TRIGGER deleted_record_not_distributable BEFORE UPDATE ON deleted_record
    FOR EACH STATEMENT WHEN (false) EXECUTE FUNCTION deleted_record_not_distributable();
ALTER TRIGGER deleted_record_not_distributable ON deleted_record DEPENDS ON EXTENSION deleted_record;
COMMENT ON TRIGGER deleted_record_not_distributable ON deleted_record IS 'Never fires; makes Citus refuse to distribute the archive';

-- The key of masked columns: one random secret per database, readable only by the extension's
-- owner. The oldest row is the one in use (a restored dump's secret is older than the one a
-- fresh CREATE EXTENSION makes, so masked values stay comparable across dump and restore).
CREATE TABLE deleted_record_secret (
    created_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    secret     bytea       NOT NULL CHECK (pg_catalog.octet_length(secret) >= 32)
);
REVOKE ALL ON TABLE deleted_record_secret FROM PUBLIC;
INSERT INTO deleted_record_secret (secret)
SELECT pg_catalog.decode(pg_catalog.replace(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text
                                            || pg_catalog.gen_random_uuid()::text, '-', ''), 'hex');
SELECT pg_catalog.pg_extension_config_dump('deleted_record_secret', '');
COMMENT ON TABLE deleted_record_secret IS 'Key of the HMAC that masks columns (the oldest row is used); readable by the extension owner only';

-- Tombstones of erased archive rows: the proof that an erasure happened, without the data.
CREATE TABLE deleted_record_erasure (
    archive_id  uuid        NOT NULL PRIMARY KEY,
    table_name  text        COLLATE "C" NOT NULL,
    schema_name text        COLLATE "C" NOT NULL,
    object_id   text        COLLATE "C",
    deleted_at  timestamptz NOT NULL,
    erased_at   timestamptz NOT NULL DEFAULT pg_catalog.transaction_timestamp(),
    erased_by   text        NOT NULL,
    reason      text        NOT NULL
);
REVOKE ALL ON TABLE deleted_record_erasure FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('deleted_record_erasure', '');
COMMENT ON TABLE deleted_record_erasure IS 'One tombstone per erased archive row: which row, of which table, when and by whom it was erased, and why';
COMMENT ON COLUMN deleted_record_erasure.archive_id IS 'id of the erased archive row';
COMMENT ON COLUMN deleted_record_erasure.object_id IS 'object_id of the erased archive row (the key, not the data)';
COMMENT ON COLUMN deleted_record_erasure.deleted_at IS 'When the row had been deleted';
COMMENT ON COLUMN deleted_record_erasure.erased_at IS 'When the archive row was erased';
COMMENT ON COLUMN deleted_record_erasure.erased_by IS 'Role that erased it';
COMMENT ON COLUMN deleted_record_erasure.reason IS 'Why it was erased (required)';

-- Which attached tables have rows in each closed partition: computed once by the purge (a
-- closed partition gets no new rows), so that purging never rescans partitions it keeps.
CREATE TABLE deleted_record_partition_tables (
    partition_name name NOT NULL,
    schema_name    text COLLATE "C" NOT NULL,
    table_name     text COLLATE "C" NOT NULL,
    PRIMARY KEY (partition_name, schema_name, table_name)
);
REVOKE ALL ON TABLE deleted_record_partition_tables FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('deleted_record_partition_tables', '');
COMMENT ON TABLE deleted_record_partition_tables IS 'Internal: the tables whose rows each closed archive partition holds (kept by deleted_record_purge)';

COMMENT ON FUNCTION deleted_record_uuid7() IS 'A time-ordered UUID (version 7), monotonic within a session: the archive''s ids';
COMMENT ON FUNCTION deleted_record_insert() IS 'AFTER DELETE FOR EACH ROW trigger: archives the deleted row into deleted_record';
COMMENT ON FUNCTION deleted_record_truncate_guard() IS 'BEFORE TRUNCATE trigger: applies the attached table''s TRUNCATE policy (its argument)';

-- deleted_record_uuid7_floor is the smallest UUIDv7 of the millisecond at: "archived at or after
-- at" is id >= deleted_record_uuid7_floor(at), which lets queries skip whole partitions.
CREATE FUNCTION deleted_record_uuid7_floor(at timestamptz) RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (SELECT (pg_catalog.substr(h, 1, 8) OPERATOR(pg_catalog.||) '-' OPERATOR(pg_catalog.||) pg_catalog.substr(h, 9, 4)
                    OPERATOR(pg_catalog.||) '-0000-0000-000000000000')::uuid
              FROM (SELECT pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.floor(pg_catalog.date_part('epoch', at) OPERATOR(pg_catalog.*) 1000)::bigint), 12, '0') AS h) ms);
COMMENT ON FUNCTION deleted_record_uuid7_floor(timestamptz) IS 'Smallest UUIDv7 of a moment: WHERE id >= deleted_record_uuid7_floor(t) finds rows archived since t and skips older partitions';

-- deleted_record_uuid7_time is the moment a UUIDv7 was made (millisecond precision).
CREATE FUNCTION deleted_record_uuid7_time(id uuid) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN pg_catalog.to_timestamp((('x' OPERATOR(pg_catalog.||) pg_catalog.substr(pg_catalog.replace(id::text, '-', ''), 1, 12))::bit(48)::bigint)::double precision
                                   OPERATOR(pg_catalog./) 1000);
COMMENT ON FUNCTION deleted_record_uuid7_time(uuid) IS 'The moment a UUIDv7 (an archive id) was made, to the millisecond';

-- deleted_record_prepare_partitions makes sure the archive has a partition for the current
-- period and the next `ahead` ones (deleted_record.partition_period: day, week or month, in
-- UTC). It runs as the extension's owner (the archive's owner) and is called by attach and
-- purge; a period whose rows already went to the DEFAULT partition, or that an existing
-- partition overlaps, is left as it is.
CREATE FUNCTION deleted_record_prepare_partitions(ahead integer DEFAULT 3) RETURNS integer
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '2s'
    AS $$
DECLARE
    ext_schema name;
    period text := coalesce(nullif(current_setting('deleted_record.partition_period', true), ''), 'month');
    period_start timestamp;
    period_end timestamp;
    lower_bound uuid;
    upper_bound uuid;
    partition_name text;
    created integer := 0;
BEGIN
    IF ahead IS NULL OR ahead < 0 OR ahead > 36 THEN
        RAISE EXCEPTION 'deleted_record_prepare_partitions: ahead must be between 0 and 36, not %', coalesce(ahead::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF period NOT IN ('day', 'week', 'month') THEN
        RAISE EXCEPTION 'deleted_record.partition_period must be day, week or month, not %', quote_literal(period)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    period_start := date_trunc(period, clock_timestamp() AT TIME ZONE 'UTC');
    FOR i IN 0 .. ahead LOOP
        period_end := period_start + ('1 ' || period)::interval;
        EXECUTE format('SELECT %I.deleted_record_uuid7_floor($1), %I.deleted_record_uuid7_floor($2)', ext_schema, ext_schema)
           INTO lower_bound, upper_bound USING period_start AT TIME ZONE 'UTC', period_end AT TIME ZONE 'UTC';
        partition_name := format('deleted_record_%s_%s', to_char(period_start, 'YYYYMMDD'), to_char(period_end, 'YYYYMMDD'));
        -- Creating a partition locks the archive against its readers: only for periods that no
        -- partition covers yet, and only if the lock comes within lock_timeout (else the rows
        -- wait in the DEFAULT partition and a later call tries again).
        IF NOT EXISTS (SELECT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
                              LATERAL (SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([0-9a-f-]+)''\)'))[1]::uuid AS lower_id,
                                              (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([0-9a-f-]+)''\)'))[1]::uuid AS upper_id) b
                        WHERE i.inhparent = format('%I.deleted_record', ext_schema)::regclass
                          AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
                          AND (b.lower_id IS NULL OR b.lower_id < upper_bound)
                          AND (b.upper_id IS NULL OR b.upper_id > lower_bound)) THEN
        BEGIN
            EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.deleted_record FOR VALUES FROM (%L) TO (%L)',
                           ext_schema, partition_name, ext_schema, lower_bound, upper_bound);
            EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I PRIMARY KEY (id)', ext_schema, partition_name, partition_name || '_pkey');
            EXECUTE format('CREATE INDEX %I ON %I.%I (table_name, object_id)',
                           partition_name || '_table_name_object_id_idx', ext_schema, partition_name);
            EXECUTE format('REVOKE ALL ON TABLE %I.%I FROM PUBLIC', ext_schema, partition_name);
            EXECUTE format('COMMENT ON TABLE %I.%I IS %L', ext_schema, partition_name,
                           format('Archive rows with ids from %s to %s (UTC)', period_start, period_end));
            created := created + 1;
        EXCEPTION
            WHEN duplicate_table OR invalid_object_definition OR check_violation OR lock_not_available THEN
                NULL;  -- made meanwhile, its rows are in the DEFAULT partition, or the archive is busy
        END;
        END IF;
        period_start := period_end;
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION deleted_record_prepare_partitions(integer) IS 'Creates the archive partitions for the current period and the next ones (called by attach and purge)';

-- deleted_record_truncate_policy checks an on_truncate value (the names live in the C core).
CREATE FUNCTION deleted_record_truncate_policy(policy text) RETURNS text
    LANGUAGE c IMMUTABLE
    AS 'MODULE_PATHNAME', 'deleted_record_truncate_policy';
COMMENT ON FUNCTION deleted_record_truncate_policy(text) IS 'Internal: checks an on_truncate value and returns it, or raises an error listing the allowed values';

-- deleted_record_set_context records who deletes and why, for the current transaction only.
CREATE OR REPLACE FUNCTION deleted_record_set_context(actor text, reason text, metadata jsonb DEFAULT NULL) RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_set_context';
COMMENT ON FUNCTION deleted_record_set_context(text, text, jsonb) IS 'Sets deleted_record.actor, .reason and .metadata for the current transaction only; an error outside a transaction block';

-- deleted_record_attachment_options checks an attach call's retention and column policies
-- against the table (by OID) and returns the archive trigger's argument (NULL: none).
CREATE FUNCTION deleted_record_attachment_options(target regclass, retention interval, exclude_columns text[], mask_columns text[])
    RETURNS text
    LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'deleted_record_attachment_options';
COMMENT ON FUNCTION deleted_record_attachment_options(regclass, interval, text[], text[]) IS 'Internal: checks attach options and returns the archive trigger''s argument';

-- deleted_record_manage does the work of deleted_record_attach and deleted_record_detach.
-- It finds this extension's functions through pg_extension (never through search_path),
-- recognises archive triggers by their function whatever their name, locks the table before
-- it looks at its triggers, and refuses anything but an ordinary or partitioned table owned by
-- the current user.
CREATE FUNCTION deleted_record_manage(target regclass, action text, on_truncate text, retention interval,
                                      exclude_columns text[], mask_columns text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET intervalstyle = postgres
    AS $$
DECLARE
    ext_schema name;
    insert_fn regprocedure;
    guard_fn regprocedure;
    archive regclass;
    policy text;
    options text;
    current_options jsonb;
    rel record;
    found_trigger record;
    attached_through regclass;
    dropped int := 0;
    member record;
    unsafe_triggers text;
    logical regclass;
BEGIN
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    insert_fn := format('%I.deleted_record_insert()', ext_schema)::regprocedure;
    guard_fn := format('%I.deleted_record_truncate_guard()', ext_schema)::regprocedure;
    archive := format('%I.deleted_record', ext_schema)::regclass;

    IF target IS NULL THEN
        RAISE EXCEPTION 'deleted_record_%: table must not be NULL', action
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF action = 'attach' THEN
        EXECUTE format('SELECT %I.deleted_record_truncate_policy($1)', ext_schema) INTO policy USING on_truncate;
    END IF;
    -- Before any catalog query: Citus hides shards from pg_class for clients other than its own.
    EXECUTE format('SELECT %I.deleted_record_shard_of($1)', ext_schema) INTO logical USING target;
    IF logical IS NOT NULL THEN
        RAISE EXCEPTION 'deleted_record_%: % is a shard of Citus table %', action, target, logical
            USING ERRCODE = 'wrong_object_type',
                  HINT = format('Run deleted_record_%s(%L) on the coordinator: Citus gives every shard the table''s triggers.', action, logical::text);
    END IF;
    SELECT c.relkind, c.relowner, c.relispartition, n.nspname, c.relname INTO rel
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = target;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'deleted_record_%: relation with OID % does not exist', action, target::oid
            USING ERRCODE = 'undefined_table';
    END IF;
    IF rel.relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION 'deleted_record_%: % is %, not a table', action, target,
            CASE rel.relkind WHEN 'v' THEN 'a view' WHEN 'm' THEN 'a materialized view'
                             WHEN 'f' THEN 'a foreign table' WHEN 'S' THEN 'a sequence'
                             WHEN 'i' THEN 'an index' WHEN 'I' THEN 'a partitioned index'
                             WHEN 'c' THEN 'a composite type' WHEN 't' THEN 'a TOAST table'
                             ELSE 'of relkind ' || rel.relkind::text END
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'Only ordinary and partitioned tables can be attached.';
    END IF;
    IF rel.nspname IN ('pg_catalog', 'information_schema') OR rel.nspname LIKE 'pg\_toast%' THEN
        RAISE EXCEPTION 'deleted_record_%: % is a system catalog', action, target
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF target = archive OR target IN (SELECT relid FROM pg_partition_tree(archive)) THEN
        RAISE EXCEPTION 'deleted_record_%: % is the archive table itself', action, target
            USING ERRCODE = 'wrong_object_type';
    END IF;
    IF NOT pg_has_role(current_user, rel.relowner, 'MEMBER') THEN
        RAISE EXCEPTION 'deleted_record_%: must be owner of table %', action, target
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('Only the owner (%s), its members and superusers can %s it.', rel.relowner::regrole, action);
    END IF;

    -- Citus refuses triggers on its tables unless citus.enable_unsafe_triggers is on. Ours only
    -- write the archive of the node they fire on, so attach and detach turn it on for their own
    -- statements (Citus then creates or drops them on every shard) and put it back at the end.
    unsafe_triggers := current_setting('citus.enable_unsafe_triggers', true);
    IF unsafe_triggers IS NOT NULL THEN
        PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
    END IF;

    -- Take the lock CREATE TRIGGER takes before looking at the triggers, so that concurrent
    -- attach/detach calls on one table run one after the other; then make sure the name still
    -- means the same table.
    EXECUTE format('LOCK TABLE %I.%I IN SHARE ROW EXCLUSIVE MODE', rel.nspname, rel.relname);
    IF NOT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE c.oid = target AND n.nspname = rel.nspname AND c.relname = rel.relname) THEN
        RAISE EXCEPTION 'deleted_record_%: table % was renamed or dropped concurrently', action, target
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Try again.';
    END IF;

    -- A partition whose parent is attached carries a clone of the parent's archive trigger,
    -- which PostgreSQL does not let anyone drop on its own.
    SELECT a.relid::regclass INTO attached_through
      FROM pg_partition_ancestors(target) WITH ORDINALITY a(relid, depth)
      JOIN pg_trigger t ON t.tgrelid = a.relid AND t.tgfoid = insert_fn AND t.tgparentid = 0
     WHERE a.relid <> target
     ORDER BY a.depth LIMIT 1;
    IF attached_through IS NOT NULL THEN
        RAISE EXCEPTION 'deleted_record_%: % is a partition of attached table %', action, target, attached_through
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Its deletes are archived, and its TRUNCATE policy set, through %s.', attached_through),
                  HINT = CASE action
                         WHEN 'detach' THEN format('Detach %s, or ALTER TABLE %s DETACH PARTITION %s first.',
                                                   attached_through, (SELECT i.inhparent::regclass FROM pg_inherits i WHERE i.inhrelid = target), target)
                         ELSE format('Attach or detach %s instead.', attached_through) END;
    END IF;

    IF action = 'detach' THEN
        FOR found_trigger IN SELECT t.tgname FROM pg_trigger t
                              WHERE t.tgrelid = target AND t.tgfoid = insert_fn AND t.tgparentid = 0 LOOP
            EXECUTE format('DROP TRIGGER %I ON %s', found_trigger.tgname, target);
            dropped := dropped + 1;
        END LOOP;
        -- TRUNCATE guards live on the table and on each of its partitions (but a partition
        -- attached on its own keeps its own).
        FOR member IN SELECT t.tgrelid::regclass AS relation, t.tgname FROM pg_trigger t
                       WHERE t.tgfoid = guard_fn
                         AND t.tgrelid IN (SELECT relid FROM pg_partition_tree(target) UNION SELECT target)
                         AND NOT EXISTS (SELECT FROM pg_trigger own WHERE own.tgrelid = t.tgrelid
                                            AND own.tgfoid = insert_fn AND own.tgparentid = 0) LOOP
            EXECUTE format('DROP TRIGGER %I ON %s', member.tgname, member.relation);
            dropped := dropped + 1;
        END LOOP;
        IF dropped = 0 THEN
            RAISE NOTICE 'deleted_record_detach: % is not attached, nothing to do', target;
        END IF;
        IF unsafe_triggers IS NOT NULL THEN
            PERFORM set_config('citus.enable_unsafe_triggers', unsafe_triggers, true);
        END IF;
        RETURN;
    END IF;

    -- The table may already have an archive trigger under any name (created by hand, say).
    -- A disabled one is enabled; one with a WHEN condition archives only some rows, so ours is
    -- added and the conditional one then leaves the archiving to it.
    SELECT t.oid, t.tgname, t.tgfoid, t.tgenabled, t.tgqual IS NOT NULL AS conditional,
           CASE WHEN t.tgnargs = 1 THEN convert_from(substring(t.tgargs, 1, length(t.tgargs) - 1), current_setting('server_encoding'))::jsonb END AS options
      INTO found_trigger
      FROM pg_trigger t
     WHERE t.tgrelid = target AND t.tgparentid = 0
       AND (t.tgfoid = insert_fn OR t.tgname = 'deleted_record_insert')
     ORDER BY (t.tgfoid = insert_fn AND t.tgqual IS NULL) DESC, (t.tgname = 'deleted_record_insert') DESC, t.tgname
     LIMIT 1;
    IF found_trigger.tgname IS NOT NULL AND found_trigger.tgfoid <> insert_fn THEN
        RAISE EXCEPTION 'deleted_record_attach: % already has a trigger named deleted_record_insert that calls %',
                        target, found_trigger.tgfoid::regprocedure
            USING ERRCODE = 'duplicate_object';
    END IF;
    -- Column policies are never dropped by leaving them out: privacy settings change only when
    -- the call says so ('{}' clears them).
    current_options := CASE WHEN found_trigger.tgfoid = insert_fn AND NOT found_trigger.conditional THEN found_trigger.options END;
    IF exclude_columns IS NULL AND current_options ? 'exclude' THEN
        RAISE EXCEPTION 'deleted_record_attach: % keeps columns % out of the archive', target,
                        (SELECT array_agg(x) FROM jsonb_array_elements_text(current_options->'exclude') x)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Pass exclude_columns => %L to keep that, or ''{}'' to archive them again.',
                                (SELECT array_agg(x) FROM jsonb_array_elements_text(current_options->'exclude') x));
    END IF;
    IF mask_columns IS NULL AND current_options ? 'mask' THEN
        RAISE EXCEPTION 'deleted_record_attach: % masks columns %', target,
                        (SELECT array_agg(x) FROM jsonb_array_elements_text(current_options->'mask') x)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Pass mask_columns => %L to keep that, or ''{}'' to archive them in clear again.',
                                (SELECT array_agg(x) FROM jsonb_array_elements_text(current_options->'mask') x));
    END IF;
    EXECUTE format('SELECT %I.deleted_record_attachment_options($1, $2, $3, $4)', ext_schema)
       INTO options USING target, retention, exclude_columns, mask_columns;
    IF found_trigger.tgname IS NOT NULL AND NOT found_trigger.conditional
       AND found_trigger.options IS NOT DISTINCT FROM options::jsonb THEN
        IF found_trigger.tgenabled = 'D' THEN
            EXECUTE format('ALTER TABLE %s ENABLE TRIGGER %I', target, found_trigger.tgname);
        END IF;
    ELSE
        IF found_trigger.tgname IS NOT NULL AND NOT found_trigger.conditional THEN
            EXECUTE format('DROP TRIGGER %I ON %s', found_trigger.tgname, target);
        END IF;
        -- On a partitioned table PostgreSQL clones this row trigger to every partition, present and future.
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s FOR EACH ROW EXECUTE FUNCTION %I.deleted_record_insert(%s)',
                       CASE WHEN found_trigger.conditional OR found_trigger.tgname IS NULL THEN 'deleted_record_insert' ELSE found_trigger.tgname END,
                       target, ext_schema, coalesce(quote_literal(options), ''));
    END IF;
    EXECUTE format('SELECT %I.deleted_record_prepare_partitions()', ext_schema);

    -- Statement-level TRUNCATE triggers are not cloned to partitions, so the guard goes on the
    -- table and on each partition (foreign partitions cannot have one); it is recreated so that
    -- a second attach can change the policy.
    FOR member IN SELECT t.relid::regclass AS relation FROM pg_partition_tree(target) t
                    JOIN pg_class c ON c.oid = t.relid
                   WHERE c.relkind IN ('r', 'p')
                     AND (t.relid = target OR NOT EXISTS (SELECT FROM pg_trigger own WHERE own.tgrelid = t.relid
                                                            AND own.tgfoid = insert_fn AND own.tgparentid = 0))
                  UNION SELECT target LOOP
        FOR found_trigger IN SELECT g.tgname FROM pg_trigger g
                              WHERE g.tgrelid = member.relation AND (g.tgfoid = guard_fn OR g.tgname = 'deleted_record_truncate_guard') LOOP
            EXECUTE format('DROP TRIGGER %I ON %s', found_trigger.tgname, member.relation);
        END LOOP;
        EXECUTE format('CREATE TRIGGER deleted_record_truncate_guard BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I.deleted_record_truncate_guard(%L)',
                       member.relation, ext_schema, policy);
    END LOOP;
    IF unsafe_triggers IS NOT NULL THEN
        PERFORM set_config('citus.enable_unsafe_triggers', unsafe_triggers, true);
    END IF;
END
$$;
COMMENT ON FUNCTION deleted_record_manage(regclass, text, text, interval, text[], text[]) IS 'Internal: the work of deleted_record_attach and deleted_record_detach';

-- deleted_record_detach stops archiving deletes from target.
CREATE OR REPLACE FUNCTION deleted_record_detach(target regclass) RETURNS void
    LANGUAGE sql
BEGIN ATOMIC
    SELECT deleted_record_manage(target, 'detach', NULL, NULL, NULL, NULL);
END;
COMMENT ON FUNCTION deleted_record_detach(regclass) IS 'Stops archiving deletes from the table: removes its archive trigger and TRUNCATE guards';

-- deleted_record_shard_of returns the Citus table relation is a shard of, or NULL (also
-- without Citus): shards carry copies of their table's triggers but are not attached tables.
CREATE OR REPLACE FUNCTION deleted_record_shard_of(relation regclass) RETURNS regclass
    LANGUAGE c STABLE STRICT
    AS 'MODULE_PATHNAME', 'deleted_record_shard_of';
COMMENT ON FUNCTION deleted_record_shard_of(regclass) IS 'The Citus table a relation is a shard of, or NULL';

DROP FUNCTION deleted_record_attach(regclass, text);
-- deleted_record_attach archives every row deleted from target from now on (partitions included)
-- and applies the TRUNCATE policy: 'archive' (archive the rows, then truncate), 'deny' or
-- 'ignore'; retention (NULL: forever) is how long deleted_record_purge keeps its rows;
-- exclude_columns never reach the archive, mask_columns are stored as a keyed hash.
-- BEGIN ATOMIC bodies are bound to deleted_record_manage by OID when the extension is created.
CREATE FUNCTION deleted_record_attach(target regclass, on_truncate text DEFAULT 'archive', retention interval DEFAULT NULL,
                                      exclude_columns text[] DEFAULT NULL, mask_columns text[] DEFAULT NULL) RETURNS void
    LANGUAGE sql
BEGIN ATOMIC
    SELECT deleted_record_manage(target, 'attach', on_truncate, retention, exclude_columns, mask_columns);
END;
COMMENT ON FUNCTION deleted_record_attach(regclass, text, interval, text[], text[]) IS 'Archives every row deleted from the table (and its partitions) from now on; on_truncate: archive, deny or ignore; retention; columns to exclude or mask';

DROP FUNCTION deleted_record_manage(regclass, text, text);

-- deleted_record_attached lists the tables whose deletes are archived: every table with an
-- archive trigger of its own, whatever the trigger's name (partitions are not listed), with its
-- TRUNCATE policy, retention and column policies (the archive trigger's argument).
CREATE OR REPLACE VIEW deleted_record_attached AS
SELECT a.table_name, a.on_truncate,
       (a.options OPERATOR(pg_catalog.->>) 'retention')::interval AS retention,
       (SELECT pg_catalog.array_agg(x.name ORDER BY x.n) FROM pg_catalog.jsonb_array_elements_text(a.options OPERATOR(pg_catalog.->) 'exclude') WITH ORDINALITY x(name, n)) AS exclude_columns,
       (SELECT pg_catalog.array_agg(x.name ORDER BY x.n) FROM pg_catalog.jsonb_array_elements_text(a.options OPERATOR(pg_catalog.->) 'mask') WITH ORDINALITY x(name, n)) AS mask_columns
  FROM (SELECT t.tgrelid::pg_catalog.regclass AS table_name,
               coalesce((SELECT pg_catalog.convert_from(pg_catalog.substring(g.tgargs, 1, pg_catalog.length(g.tgargs) OPERATOR(pg_catalog.-) 1), 'SQL_ASCII')
                           FROM pg_catalog.pg_trigger g
                          WHERE g.tgrelid OPERATOR(pg_catalog.=) t.tgrelid
                            AND g.tgfoid OPERATOR(pg_catalog.=) guard.oid
                          LIMIT 1), 'ignore') AS on_truncate,
               (SELECT pg_catalog.convert_from(pg_catalog.substring(o.tgargs, 1, pg_catalog.length(o.tgargs) OPERATOR(pg_catalog.-) 1),
                                               pg_catalog.current_setting('server_encoding'))::jsonb
                  FROM pg_catalog.pg_trigger o
                 WHERE o.tgrelid OPERATOR(pg_catalog.=) t.tgrelid AND o.tgfoid OPERATOR(pg_catalog.=) p.oid
                   AND o.tgparentid OPERATOR(pg_catalog.=) 0 AND o.tgnargs OPERATOR(pg_catalog.=) 1 AND o.tgqual IS NULL
                 ORDER BY o.tgname LIMIT 1) AS options
          FROM pg_catalog.pg_trigger t
          JOIN pg_catalog.pg_extension e ON e.extname OPERATOR(pg_catalog.=) 'deleted_record'
          JOIN pg_catalog.pg_proc p ON p.pronamespace OPERATOR(pg_catalog.=) e.extnamespace
                                   AND p.proname OPERATOR(pg_catalog.=) 'deleted_record_insert'
                                   AND p.pronargs OPERATOR(pg_catalog.=) 0
          JOIN pg_catalog.pg_proc guard ON guard.pronamespace OPERATOR(pg_catalog.=) e.extnamespace
                                       AND guard.proname OPERATOR(pg_catalog.=) 'deleted_record_truncate_guard'
                                       AND guard.pronargs OPERATOR(pg_catalog.=) 0
         WHERE t.tgfoid OPERATOR(pg_catalog.=) p.oid
           AND t.tgparentid OPERATOR(pg_catalog.=) 0
           AND deleted_record_shard_of(t.tgrelid) IS NULL
         GROUP BY t.tgrelid, guard.oid, p.oid) a;
COMMENT ON VIEW deleted_record_attached IS 'Tables whose deletes are archived, with their TRUNCATE policy (partitions are not listed)';
COMMENT ON COLUMN deleted_record_attached.table_name IS 'The attached table';
COMMENT ON COLUMN deleted_record_attached.on_truncate IS 'archive, deny or ignore';
COMMENT ON COLUMN deleted_record_attached.retention IS 'How long deleted_record_purge keeps the table''s archive rows (NULL: forever)';
COMMENT ON COLUMN deleted_record_attached.exclude_columns IS 'Columns never archived';
COMMENT ON COLUMN deleted_record_attached.mask_columns IS 'Columns archived as a keyed hash (deleted_record_mask)';

-- deleted_record_mask returns the form in which a masked column keeps a value: 'hmac:' and the
-- hex HMAC-SHA-256 of the value's text under this database's secret. Granted like the archive:
-- WHERE data->>'email' = deleted_record_mask('alice@example.com') finds a value's rows.
CREATE FUNCTION deleted_record_mask(value text) RETURNS text
    LANGUAGE c STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'deleted_record_mask';
REVOKE ALL ON FUNCTION deleted_record_mask(text) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_mask(text) IS 'The stored form of a masked value (hmac:<hex>), to find archive rows by a value the archive does not hold';

-- deleted_record_erase removes archive rows for good, leaving a tombstone per row in
-- deleted_record_erasure (no data). The reason is required. For roles the DBA grants it to.
CREATE FUNCTION deleted_record_erase(archive_ids uuid[], reason text) RETURNS bigint
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_erase';
REVOKE ALL ON FUNCTION deleted_record_erase(uuid[], text) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_erase(uuid[], text) IS 'Erases archive rows (a data subject''s, say), keeping a tombstone with the reason in deleted_record_erasure';

-- deleted_record_restore puts archived rows back into their tables: one INSERT per table,
-- parents first, atomically, as the caller (INSERT privileges, RLS and triggers apply), and
-- marks them restored. One result row per selected archive row.
CREATE FUNCTION deleted_record_restore(archive_ids uuid[], on_conflict text DEFAULT 'error', dry_run boolean DEFAULT false)
    RETURNS TABLE (archive_id uuid, target regclass, object_id text, outcome text, detail text)
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_restore';
COMMENT ON FUNCTION deleted_record_restore(uuid[], text, boolean) IS 'Restores archived rows into their tables (parents first, one INSERT per table, all or nothing); on_conflict: error or skip';

-- deleted_record_restore_transaction restores everything one deleting transaction archived: a
-- delete and every row its cascades took.
CREATE FUNCTION deleted_record_restore_transaction(xact bigint, on_conflict text DEFAULT 'error', dry_run boolean DEFAULT false)
    RETURNS TABLE (archive_id uuid, target regclass, object_id text, outcome text, detail text)
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_restore_transaction';
COMMENT ON FUNCTION deleted_record_restore_transaction(bigint, text, boolean) IS 'Restores every row one deleting transaction (xact_id) archived';
CREATE FUNCTION deleted_record_restore_transaction(xact xid8, on_conflict text DEFAULT 'error', dry_run boolean DEFAULT false)
    RETURNS TABLE (archive_id uuid, target regclass, object_id text, outcome text, detail text)
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_restore_transaction_xid8';
COMMENT ON FUNCTION deleted_record_restore_transaction(xid8, text, boolean) IS 'Restores every row one deleting transaction (pg_current_xact_id()) archived';

-- deleted_record_can_commit is true inside a procedure that may commit (CALL outside a
-- transaction block).
CREATE FUNCTION deleted_record_can_commit() RETURNS boolean
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_can_commit';
COMMENT ON FUNCTION deleted_record_can_commit() IS 'Internal: whether the calling procedure may COMMIT';

-- deleted_record_purge_step does one bounded piece of a purge, as the archive's owner: drops one
-- partition whose rows are all expired, or deletes up to batch_size expired rows of one
-- partition. It returns how many rows it removed (NULL when nothing is left to purge) and the
-- partition it could not drop for a lock (tried lists those of earlier steps). A row
-- expires when its deleted_at and its id's time are both older than the cutoff (now minus its
-- table's retention, or minus older_than for every table); the two differ only by how long the
-- deleting transaction ran.
CREATE FUNCTION deleted_record_purge_step(older_than interval, batch_size integer, tried regclass[],
                                          OUT removed bigint, OUT busy regclass)
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET intervalstyle = postgres
    AS $$
DECLARE
    ext_schema name;
    insert_fn regprocedure;
    archive regclass;
    now_utc timestamptz := clock_timestamp();
    -- Per-table cutoffs (retention mode), as parallel arrays: nothing here is a table a caller
    -- could have prepared.
    cut_schemas text[];
    cut_tables text[];
    cut_times timestamptz[];
    part record;
    droppable boolean;
BEGIN
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'deleted_record_purge: batch_size must be a positive number, not %', coalesce(batch_size::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF older_than IS NOT NULL AND older_than < interval '0' THEN
        RAISE EXCEPTION 'deleted_record_purge: older_than must not be negative, not %', older_than
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    insert_fn := format('%I.deleted_record_insert()', ext_schema)::regprocedure;
    archive := format('%I.deleted_record', ext_schema)::regclass;
    -- One purge at a time; deletes on attached tables never wait for it.
    PERFORM pg_advisory_xact_lock(archive::oid::bigint);

    IF older_than IS NULL THEN
        -- The retention of attached tables, under the names the archive records (a partition's
        -- rows are archived under its root's name).
        SELECT array_agg(r.schema_name ORDER BY r.schema_name, r.table_name), array_agg(r.table_name ORDER BY r.schema_name, r.table_name),
               array_agg(now_utc - r.retention ORDER BY r.schema_name, r.table_name)
          INTO cut_schemas, cut_tables, cut_times
          FROM (SELECT n.nspname::text AS schema_name, c.relname::text AS table_name,
                       min((convert_from(substring(t.tgargs, 1, length(t.tgargs) - 1), current_setting('server_encoding'))::jsonb->>'retention')::interval) AS retention
                  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE t.tgfoid = insert_fn AND t.tgparentid = 0 AND t.tgnargs = 1 AND NOT c.relispartition
                   AND convert_from(substring(t.tgargs, 1, length(t.tgargs) - 1), current_setting('server_encoding'))::jsonb ? 'retention'
                 GROUP BY 1, 2) r;
        IF cut_tables IS NULL THEN
            removed := NULL;
            RETURN;
        END IF;
    END IF;

    FOR part IN EXECUTE format($q$
        SELECT c.oid::regclass AS relation, c.relname::text AS relname, b.is_default,
               %1$I.deleted_record_uuid7_time(b.lower_id) AS lower_time, %1$I.deleted_record_uuid7_time(b.upper_id) AS upper_time
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
               LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AS is_default,
                               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([0-9a-f-]+)''\)'))[1]::uuid AS lower_id,
                               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([0-9a-f-]+)''\)'))[1]::uuid AS upper_id) b
         WHERE i.inhparent = $1
         ORDER BY b.is_default, b.upper_id NULLS LAST$q$, ext_schema) USING archive
    LOOP
        droppable := false;
        IF older_than IS NOT NULL THEN
            droppable := NOT part.is_default AND part.upper_time IS NOT NULL AND part.upper_time <= now_utc - older_than;
        ELSIF NOT part.is_default AND part.upper_time IS NOT NULL AND part.upper_time <= now_utc - interval '1 minute' THEN
            -- A closed partition (its period is over: no new rows) records once which tables its
            -- rows came from; it is dropped when the rows of every one of them are expired.
            EXECUTE format($q$
                INSERT INTO %1$I.deleted_record_partition_tables
                SELECT $1, '', '' WHERE NOT EXISTS (SELECT FROM %1$I.deleted_record_partition_tables WHERE partition_name = $1)
                UNION ALL
                SELECT DISTINCT $1, schema_name, table_name FROM ONLY %2$s
                 WHERE NOT EXISTS (SELECT FROM %1$I.deleted_record_partition_tables WHERE partition_name = $1)$q$,
                ext_schema, part.relation) USING part.relname;
            EXECUTE format($q$
                SELECT coalesce(bool_and(c.cutoff IS NOT NULL AND $2 <= c.cutoff), true)
                  FROM %I.deleted_record_partition_tables pt
                  LEFT JOIN unnest($3, $4, $5) c(schema_name, table_name, cutoff)
                         ON c.schema_name = pt.schema_name AND c.table_name = pt.table_name
                 WHERE pt.partition_name = $1 AND pt.table_name <> ''$q$, ext_schema)
               INTO droppable USING part.relname, part.upper_time, cut_schemas, cut_tables, cut_times;
        END IF;
        IF droppable THEN
            BEGIN
                -- A reader holding the archive's lock must not stall the purge: wait a little,
                -- then fall back to deleting the partition's rows in batches. A partition tried
                -- before in this purge is only tried in passing, so that steps do not each wait.
                PERFORM set_config('lock_timeout', CASE WHEN part.relation = ANY (tried) THEN '20ms' ELSE '5s' END, true);
                EXECUTE format('SELECT count(*) FROM ONLY %s', part.relation) INTO removed;
                EXECUTE format('DROP TABLE %s', part.relation);
                EXECUTE format('DELETE FROM %I.deleted_record_partition_tables WHERE partition_name = $1', ext_schema) USING part.relname;
                RETURN;
            EXCEPTION WHEN lock_not_available THEN
                busy := part.relation;
            END;
        END IF;
        IF older_than IS NOT NULL THEN
            IF part.is_default OR part.lower_time IS NULL OR part.lower_time < now_utc - older_than THEN
                EXECUTE format($q$
                    DELETE FROM ONLY %2$s WHERE id IN (SELECT id FROM ONLY %2$s WHERE id < %1$I.deleted_record_uuid7_floor($1)
                                                          AND deleted_at < $1 ORDER BY id LIMIT $2)$q$, ext_schema, part.relation)
                   USING now_utc - older_than, batch_size;
                GET DIAGNOSTICS removed = ROW_COUNT;
                IF removed > 0 THEN
                    RETURN;
                END IF;
            END IF;
        ELSE
            FOR i IN 1 .. array_length(cut_tables, 1) LOOP
                CONTINUE WHEN NOT (part.is_default OR part.lower_time IS NULL OR part.lower_time < cut_times[i]);
                EXECUTE format($q$
                    DELETE FROM ONLY %2$s WHERE id IN (SELECT id FROM ONLY %2$s WHERE table_name = $1 AND schema_name = $2
                                                          AND id < %1$I.deleted_record_uuid7_floor($3) AND deleted_at < $3
                                                        ORDER BY id LIMIT $4)$q$, ext_schema, part.relation)
                   USING cut_tables[i], cut_schemas[i], cut_times[i], batch_size;
                GET DIAGNOSTICS removed = ROW_COUNT;
                IF removed > 0 THEN
                    RETURN;
                END IF;
            END LOOP;
        END IF;
    END LOOP;
    removed := NULL;
    RETURN;
END
$$;
REVOKE ALL ON FUNCTION deleted_record_purge_step(interval, integer, regclass[]) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_purge_step(interval, integer, regclass[]) IS 'Internal: one bounded step of deleted_record_purge (drops one expired partition or deletes one batch)';

-- deleted_record_purge removes archive rows past their table's retention (or older than
-- older_than, for every table), in batches that each commit, so locks, WAL and undo stay
-- bounded and deletes on attached tables go on meanwhile. CALL it outside a transaction block
-- (pg_cron does). removed reports how many rows went.
CREATE PROCEDURE deleted_record_purge(older_than interval DEFAULT NULL, batch_size integer DEFAULT 10000,
                                      INOUT removed bigint DEFAULT NULL)
    LANGUAGE plpgsql
    AS $$
DECLARE
    ext_schema name;
    step bigint;
    busy regclass;
    tried regclass[] := '{}';
    step_fn text;
    may_commit boolean;
BEGIN
    -- A procedure that commits cannot pin search_path with SET: pin it in each transaction.
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    SELECT n.nspname INTO ext_schema
      FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
     WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    step_fn := pg_catalog.format('%I.deleted_record_purge_step(interval, integer, regclass[])', ext_schema);
    IF NOT pg_catalog.has_function_privilege(step_fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'permission denied to purge the archive'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = pg_catalog.format('A superuser can grant it: GRANT EXECUTE ON PROCEDURE %I.deleted_record_purge(interval, integer, bigint), FUNCTION %s TO <role>;',
                                           ext_schema, step_fn);
    END IF;
    EXECUTE pg_catalog.format('SELECT %I.deleted_record_can_commit()', ext_schema) INTO may_commit;
    removed := 0;
    EXECUTE pg_catalog.format('SELECT %I.deleted_record_prepare_partitions()', ext_schema);
    LOOP
        EXECUTE pg_catalog.format('SELECT s.removed, s.busy FROM %I.deleted_record_purge_step($1, $2, $3) s', ext_schema)
           INTO step, busy USING older_than, batch_size, tried;
        IF busy IS NOT NULL AND NOT busy OPERATOR(pg_catalog.=) ANY (tried) THEN
            tried := tried OPERATOR(pg_catalog.||) busy;
        END IF;
        EXIT WHEN step IS NULL;
        removed := removed OPERATOR(pg_catalog.+) step;
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    END LOOP;
    RAISE NOTICE 'deleted_record_purge: removed % archive rows', removed;
END
$$;
REVOKE ALL ON PROCEDURE deleted_record_purge(interval, integer, bigint) FROM PUBLIC;
COMMENT ON PROCEDURE deleted_record_purge(interval, integer, bigint) IS 'Removes archive rows past their table''s retention (or older than older_than), in batches that commit separately';

-- On Citus (README, "Citus"): each node archives the rows deleted from the shards it holds into
-- its own archive, under the logical table's names. The functions below read, restore and
-- purge that archive from any node through Citus's run_command_on_all_nodes. They run as the
-- caller, who needs the same privileges on every node's archive. Each node's part runs in its
-- own transaction, over its own connection, committed on its own: this node's included.

-- deleted_record_cluster returns the archive rows of every node with the node they are on
-- (pg_dist_node.nodeid), filtered on each node: by table name, object id, deletion time, or the
-- deleting distributed transaction (xact_key). Without Citus it returns this server's archive
-- with node_id NULL.
CREATE FUNCTION deleted_record_cluster(for_table text DEFAULT NULL, for_object text DEFAULT NULL,
                                       since timestamptz DEFAULT NULL, for_xact_key text DEFAULT NULL)
    RETURNS TABLE (node_id integer, id uuid, data jsonb, deleted_at timestamptz, object_id text, table_name text,
                   schema_name text, partition_name text, actor text, reason text, metadata jsonb, xact_id bigint,
                   session_user_name text, current_user_name text, updated_at timestamptz, restored_at timestamptz,
                   restored_by text, excluded_columns text[], masked_columns text[], xact_key text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    archive_columns constant text := 'r.id, r.data, r.deleted_at, r.object_id, r.table_name, r.schema_name, r.partition_name, '
        'r.actor, r.reason, r.metadata, r.xact_id, r.session_user_name, r.current_user_name, r.updated_at, '
        'r.restored_at, r.restored_by, r.excluded_columns, r.masked_columns, r.xact_key';
    filter text;
    node record;
BEGIN
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    -- Literals every node reads the same way (the time as epoch seconds, whatever DateStyle).
    filter := format('(%1$L::text IS NULL OR r.table_name = %1$L) AND (%2$L::text IS NULL OR r.object_id = %2$L)'
                     ' AND (%3$L::numeric IS NULL OR (r.deleted_at >= pg_catalog.to_timestamp(%3$L::double precision)'
                     ' AND r.id >= %5$I.deleted_record_uuid7_floor(pg_catalog.to_timestamp(%3$L::double precision))))'
                     ' AND (%4$L::text IS NULL OR r.xact_key = %4$L)',
                     for_table, for_object, extract(epoch FROM since), for_xact_key, ext_schema);
    IF to_regclass('pg_catalog.pg_dist_node') IS NULL THEN
        RETURN QUERY EXECUTE format('SELECT NULL::integer, %s FROM %I.deleted_record r WHERE %s', archive_columns, ext_schema, filter);
        RETURN;
    END IF;
    FOR node IN EXECUTE 'SELECT nodeid, success, result FROM pg_catalog.run_command_on_all_nodes($1) ORDER BY nodeid'
                  USING format('SELECT coalesce(pg_catalog.json_agg(r), ''[]'') FROM (SELECT %s FROM %I.deleted_record r WHERE %s) r',
                               archive_columns, ext_schema, filter) LOOP
        IF NOT node.success THEN
            RAISE EXCEPTION 'deleted_record_cluster: cannot read the archive on node %: %', node.nodeid, node.result;
        END IF;
        RETURN QUERY EXECUTE format('SELECT $1, %s FROM pg_catalog.json_populate_recordset(NULL::%I.deleted_record, $2::json) r',
                                    archive_columns, ext_schema)
                     USING node.nodeid, node.result;
    END LOOP;
END
$$;
COMMENT ON FUNCTION deleted_record_cluster(text, text, timestamptz, text) IS 'The archive of every node of a Citus cluster, with the node each row is on (this server''s archive without Citus)';

-- deleted_record_cluster_restore restores archived rows wherever they are archived: on each
-- node that holds some of them, in node order, deleted_record_restore runs there (all or
-- nothing on that node; Citus routes the inserts to the shards). Nodes are not one transaction:
-- an error stops at that node, and earlier nodes' rows stay restored (and marked so).
CREATE FUNCTION deleted_record_cluster_restore(archive_ids uuid[], on_conflict text DEFAULT 'error', dry_run boolean DEFAULT false)
    RETURNS TABLE (node_id integer, archive_id uuid, target text, object_id text, outcome text, detail text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    holder record;
    node record;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_node') IS NULL THEN
        RAISE EXCEPTION 'deleted_record_cluster_restore needs Citus'
            USING ERRCODE = 'feature_not_supported', HINT = 'Use deleted_record_restore.';
    END IF;
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    FOR holder IN EXECUTE format('SELECT c.node_id, pg_catalog.array_agg(c.id) AS ids FROM %I.deleted_record_cluster() c'
                                 ' WHERE c.id = ANY ($1) GROUP BY c.node_id ORDER BY c.node_id', ext_schema)
                  USING archive_ids LOOP
        FOR node IN EXECUTE 'SELECT nodeid, success, result FROM pg_catalog.run_command_on_all_nodes($1) WHERE nodeid = $2'
                      USING format('SELECT coalesce(pg_catalog.json_agg(r), ''[]'') FROM %I.deleted_record_restore(%L::uuid[], %L, %L) r'
                                   ' WHERE (SELECT n.nodeid FROM pg_catalog.pg_dist_node n JOIN pg_catalog.pg_dist_local_group g ON g.groupid = n.groupid'
                                   ' WHERE n.noderole = ''primary'') = %s',
                                   ext_schema, holder.ids, on_conflict, dry_run, holder.node_id),
                            holder.node_id LOOP
            IF NOT node.success THEN
                RAISE EXCEPTION 'deleted_record_cluster_restore: restoring on node % failed: %', node.nodeid, node.result
                    USING DETAIL = 'Rows of nodes listed before it are restored; nothing of this node''s and later ones'' is.';
            END IF;
            RETURN QUERY SELECT node.nodeid, r.archive_id, r.target, r.object_id, r.outcome, r.detail
                           FROM json_to_recordset(node.result::json)
                                AS r(archive_id uuid, target text, object_id text, outcome text, detail text);
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION deleted_record_cluster_restore(uuid[], text, boolean) IS 'Citus: restores archived rows on the nodes that hold them (each node all or nothing, nodes one after the other)';

-- deleted_record_cluster_erase erases archive rows wherever they are archived: on each node,
-- deleted_record_erase of the given ids it holds (tombstones stay on that node). Returns how
-- many rows each node erased. Nodes are not one transaction, as above.
CREATE FUNCTION deleted_record_cluster_erase(archive_ids uuid[], reason text)
    RETURNS TABLE (node_id integer, erased bigint)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    node record;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_node') IS NULL THEN
        RAISE EXCEPTION 'deleted_record_cluster_erase needs Citus'
            USING ERRCODE = 'feature_not_supported', HINT = 'Use deleted_record_erase.';
    END IF;
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    FOR node IN EXECUTE 'SELECT nodeid, success, result FROM pg_catalog.run_command_on_all_nodes($1) ORDER BY nodeid'
                  USING format('SELECT %1$I.deleted_record_erase(ARRAY(SELECT r.id FROM %1$I.deleted_record r WHERE r.id = ANY (%2$L::uuid[])), %3$L)',
                               ext_schema, archive_ids, reason) LOOP
        IF NOT node.success THEN
            RAISE EXCEPTION 'deleted_record_cluster_erase: erasing on node % failed: %', node.nodeid, node.result;
        END IF;
        node_id := node.nodeid;
        erased := node.result::bigint;
        RETURN NEXT;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION deleted_record_cluster_erase(uuid[], text) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_cluster_erase(uuid[], text) IS 'Citus: erases archive rows on every node that holds them, keeping tombstones there';

-- deleted_record_cluster_purge runs deleted_record_purge on every node (which also prepares each
-- node's archive partitions) and returns how many rows each removed.
CREATE FUNCTION deleted_record_cluster_purge(older_than interval DEFAULT NULL, batch_size integer DEFAULT 10000)
    RETURNS TABLE (node_id integer, removed bigint)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET intervalstyle = postgres
    AS $$
DECLARE
    ext_schema name;
    node record;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_node') IS NULL THEN
        RAISE EXCEPTION 'deleted_record_cluster_purge needs Citus'
            USING ERRCODE = 'feature_not_supported', HINT = 'Use CALL deleted_record_purge().';
    END IF;
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    FOR node IN EXECUTE 'SELECT nodeid, success, result FROM pg_catalog.run_command_on_all_nodes($1) ORDER BY nodeid'
                  USING format('CALL %I.deleted_record_purge(%L::interval, %s)', ext_schema, older_than, coalesce(batch_size::text, 'NULL')) LOOP
        IF NOT node.success THEN
            RAISE EXCEPTION 'deleted_record_cluster_purge: purging on node % failed: %', node.nodeid, node.result;
        END IF;
        node_id := node.nodeid;
        removed := node.result::bigint;
        RETURN NEXT;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION deleted_record_cluster_purge(interval, integer) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_cluster_purge(interval, integer) IS 'Citus: runs deleted_record_purge on every node';

-- The 1.0 archive joins the new one as its first partition, after the new archive got what the
-- DBA had given the old one: extra columns, grants, row-level security.
DO $migrate$
DECLARE
    ext_schema name;
    archive regclass;
    legacy regclass;
    owner oid;
    item record;
    bound uuid;
BEGIN
    SELECT n.nspname INTO ext_schema
      FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    archive := pg_catalog.format('%I.deleted_record', ext_schema)::regclass;
    legacy := pg_catalog.format('%I.deleted_record_before_1_1', ext_schema)::regclass;
    SELECT c.relowner INTO owner FROM pg_catalog.pg_class c WHERE c.oid = legacy;
    FOR item IN SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
                       pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default_expression,
                       CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation END AS collation
                  FROM pg_catalog.pg_attribute a
                  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                  LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                 WHERE a.attrelid = legacy AND a.attnum > 0 AND NOT a.attisdropped
                   AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute p WHERE p.attrelid = archive AND p.attname = a.attname)
                 ORDER BY a.attnum LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ADD COLUMN %I %s%s%s%s', archive, item.attname, item.type,
                                  CASE WHEN item.collation IS NOT NULL THEN ' COLLATE ' || item.collation::regcollation::text ELSE '' END,
                                  CASE WHEN item.default_expression IS NOT NULL THEN ' DEFAULT ' || item.default_expression ELSE '' END,
                                  CASE WHEN item.attnotnull THEN ' NOT NULL' ELSE '' END);
    END LOOP;
    FOR item IN SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(r.rolname) END AS grantee,
                       x.privilege_type, x.is_grantable
                  FROM pg_catalog.aclexplode((SELECT c.relacl FROM pg_catalog.pg_class c WHERE c.oid = legacy)) x
                  LEFT JOIN pg_catalog.pg_roles r ON r.oid = x.grantee
                 WHERE x.grantee <> owner LOOP
        EXECUTE pg_catalog.format('GRANT %s ON %s TO %s%s', item.privilege_type, archive, item.grantee,
                                  CASE WHEN item.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    FOR item IN SELECT a.attname, CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(r.rolname) END AS grantee,
                       x.privilege_type, x.is_grantable
                  FROM pg_catalog.pg_attribute a, pg_catalog.aclexplode(a.attacl) x
                  LEFT JOIN pg_catalog.pg_roles r ON r.oid = x.grantee
                 WHERE a.attrelid = legacy AND a.attacl IS NOT NULL AND x.grantee <> owner LOOP
        EXECUTE pg_catalog.format('GRANT %s (%I) ON %s TO %s%s', item.privilege_type, item.attname, archive, item.grantee,
                                  CASE WHEN item.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    IF (SELECT c.relrowsecurity FROM pg_catalog.pg_class c WHERE c.oid = legacy) THEN
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', archive);
    END IF;
    IF (SELECT c.relforcerowsecurity FROM pg_catalog.pg_class c WHERE c.oid = legacy) THEN
        EXECUTE pg_catalog.format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', archive);
    END IF;
    FOR item IN SELECT p.polname, p.polpermissive, p.polcmd,
                       (SELECT pg_catalog.string_agg(CASE WHEN role = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(role)) END, ', ')
                          FROM pg_catalog.unnest(p.polroles) role) AS roles,
                       pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual,
                       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
                  FROM pg_catalog.pg_policy p WHERE p.polrelid = legacy LOOP
        EXECUTE pg_catalog.format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', item.polname, archive,
                                  CASE WHEN item.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                                  CASE item.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                                   WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                                  item.roles,
                                  CASE WHEN item.qual IS NOT NULL THEN ' USING (' || item.qual || ')' ELSE '' END,
                                  CASE WHEN item.with_check IS NOT NULL THEN ' WITH CHECK (' || item.with_check || ')' ELSE '' END);
    END LOOP;
    -- Every 1.0 id was made before now; the partition takes the rest of this month too, so the
    -- monthly partitions start with the next one.
    EXECUTE pg_catalog.format('SELECT %I.deleted_record_uuid7_floor($1)', ext_schema)
       INTO bound USING (pg_catalog.date_trunc('month', pg_catalog.clock_timestamp() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
    EXECUTE pg_catalog.format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (MINVALUE) TO (%L)', archive, legacy, bound);
END
$migrate$;

-- deleted_record_guard_partitions keeps TRUNCATE guards in step with partition trees, however
-- partitions are created (also inside CREATE SCHEMA), attached or detached: every archived
-- ordinary or partitioned member of a touched tree gets the policy of its nearest attached
-- ancestor; guards on tables whose deletes are no longer archived go (for tables the current
-- user owns; a guard left elsewhere sees at TRUNCATE time that it is stale and does nothing).
-- Foreign partitions get no guard (PostgreSQL allows none on them). Citus shards are left alone:
-- Citus copies the table's triggers onto them itself, over several connections at once (a split
-- or move creates sibling shards in parallel), so touching a sibling from here would deadlock.
CREATE FUNCTION deleted_record_guard_partitions() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    insert_fn regprocedure;
    guard_fn regprocedure;
    roots oid[];
    citus boolean;
    member record;
    desired text;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_event_trigger_ddl_commands() WHERE NOT in_extension) THEN
        RETURN;
    END IF;
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    insert_fn := format('%I.deleted_record_insert()', ext_schema)::regprocedure;
    guard_fn := format('%I.deleted_record_truncate_guard()', ext_schema)::regprocedure;
    -- A Citus shard's name ends in _<shard id>, and so do the names of the triggers Citus copied
    -- onto it. The test needs no Citus metadata (a split records its new shards only after it
    -- has created them and their triggers) and looks at each trigger in the same snapshot as the
    -- decision about it: siblings commit while we look.
    citus := EXISTS (SELECT FROM pg_extension WHERE extname = 'citus');

    FOR member IN SELECT g.tgrelid::regclass AS relation, g.tgname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
                   WHERE g.tgfoid = guard_fn
                     AND NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = g.tgrelid AND t.tgfoid = insert_fn)
                     AND NOT (citus AND coalesce(g.tgname LIKE '%' || substring(c.relname FROM '_[0-9]{6,}$'), false))
                     AND pg_has_role(current_user, c.relowner, 'MEMBER') LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', member.tgname, member.relation);
    END LOOP;

    SELECT array_agg(DISTINCT coalesce(
               (SELECT a.relid FROM pg_partition_ancestors(touched.relid) a
                 WHERE NOT EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = a.relid)), touched.relid))
      INTO roots
      FROM (SELECT d.objid AS relid FROM pg_event_trigger_ddl_commands() d
             WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0 AND NOT d.in_extension
            UNION
            SELECT c.oid FROM pg_event_trigger_ddl_commands() d JOIN pg_class c ON c.relnamespace = d.objid
             WHERE d.object_type = 'schema' AND NOT d.in_extension AND c.relkind IN ('r', 'p')) touched
     WHERE EXISTS (SELECT FROM pg_class c WHERE c.oid = touched.relid AND c.relkind IN ('r', 'p', 'f'));
    IF roots IS NULL THEN
        RETURN;
    END IF;
    FOR member IN
        SELECT t.relid::regclass AS relation, c.relkind,
               EXISTS (SELECT FROM pg_trigger x WHERE x.tgrelid = t.relid AND x.tgfoid = insert_fn) AS archived,
               (SELECT convert_from(substring(g.tgargs, 1, length(g.tgargs) - 1), 'UTF8')
                  FROM pg_partition_ancestors(t.relid) WITH ORDINALITY a(relid, depth)
                  JOIN pg_trigger own ON own.tgrelid = a.relid AND own.tgfoid = insert_fn AND own.tgparentid = 0
                  JOIN pg_trigger g ON g.tgrelid = a.relid AND g.tgfoid = guard_fn
                 ORDER BY a.depth LIMIT 1) AS policy,
               (SELECT array_agg(g.tgname) FROM pg_trigger g WHERE g.tgrelid = t.relid AND g.tgfoid = guard_fn) AS guards,
               (SELECT min(convert_from(substring(g.tgargs, 1, length(g.tgargs) - 1), 'UTF8'))
                  FROM pg_trigger g WHERE g.tgrelid = t.relid AND g.tgfoid = guard_fn) AS guard_policy,
               citus AND EXISTS (SELECT FROM pg_trigger x WHERE x.tgrelid = t.relid
                                    AND x.tgname LIKE '%' || substring(c.relname FROM '_[0-9]{6,}$')) AS shard_copy
          FROM unnest(roots) r(root), pg_partition_tree(r.root) t
          JOIN pg_class c ON c.oid = t.relid
         WHERE c.relkind IN ('r', 'p')
    LOOP
        CONTINUE WHEN member.shard_copy;
        desired := CASE WHEN member.archived THEN member.policy END;
        CONTINUE WHEN desired IS NOT DISTINCT FROM member.guard_policy AND coalesce(array_length(member.guards, 1), 0) <= 1;
        IF member.guards IS NOT NULL THEN
            FOR i IN 1 .. array_length(member.guards, 1) LOOP
                EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', member.guards[i], member.relation);
            END LOOP;
        END IF;
        IF desired IS NOT NULL THEN
            EXECUTE format('CREATE TRIGGER deleted_record_truncate_guard BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I.deleted_record_truncate_guard(%L)',
                           member.relation, ext_schema, desired);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION deleted_record_guard_partitions() IS 'Event trigger: keeps TRUNCATE guards in step with partition trees';
CREATE EVENT TRIGGER deleted_record_guard_partitions ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'CREATE SCHEMA', 'CREATE FOREIGN TABLE')
    EXECUTE FUNCTION deleted_record_guard_partitions();
COMMENT ON EVENT TRIGGER deleted_record_guard_partitions IS 'Keeps TRUNCATE guards in step with partition trees of attached tables';

-- deleted_record_check_archive refuses changes to the archive table that the direct writer
-- could not honour: the extension's columns must keep their names and types; foreign keys and
-- deferrable unique or exclusion constraints would not be checked (they need triggers); a new
-- NOT NULL column needs a default; user triggers and rules on it would never fire. Defaults,
-- generated columns, CHECK and NOT NULL constraints, indexes and extra columns are honoured.
CREATE FUNCTION deleted_record_check_archive() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    archive regclass;
    members oid[];
    problem text;
BEGIN
    SELECT format('%I.deleted_record', n.nspname)::regclass INTO archive
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    SELECT array_agg(relid) INTO members FROM pg_partition_tree(archive);
    -- Only commands that changed the archive or one of its partitions, their indexes,
    -- triggers or rules.
    IF NOT EXISTS (SELECT FROM pg_event_trigger_ddl_commands() d
                    WHERE NOT d.in_extension
                      AND ((d.classid = 'pg_class'::regclass
                            AND (d.objid = ANY (members) OR d.objid IN (SELECT i.indexrelid FROM pg_index i WHERE i.indrelid = ANY (members))))
                        OR (d.classid = 'pg_trigger'::regclass AND d.objid IN (SELECT t.oid FROM pg_trigger t WHERE t.tgrelid = ANY (members)))
                        OR (d.classid = 'pg_rewrite'::regclass AND d.objid IN (SELECT r.oid FROM pg_rewrite r WHERE r.ev_class = ANY (members))))) THEN
        RETURN;
    END IF;
    SELECT string_agg(p, '; ') INTO problem FROM (
        SELECT format('column %I must exist with type %s', expected.name, expected.type) AS p
          FROM (VALUES ('id', 'uuid'), ('data', 'jsonb'), ('deleted_at', 'timestamp with time zone'),
                       ('object_id', 'text'), ('table_name', 'text'), ('schema_name', 'text'),
                       ('partition_name', 'text'), ('actor', 'text'), ('reason', 'text'), ('metadata', 'jsonb'),
                       ('xact_id', 'bigint'), ('session_user_name', 'text'), ('current_user_name', 'text'),
                       ('updated_at', 'timestamp with time zone'), ('restored_at', 'timestamp with time zone'),
                       ('restored_by', 'text'), ('excluded_columns', 'text[]'),
                       ('masked_columns', 'text[]'), ('xact_key', 'text')) expected(name, type)
         WHERE NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = archive AND a.attname = expected.name
                              AND NOT a.attisdropped AND format_type(a.atttypid, NULL) = expected.type)
        UNION ALL
        SELECT format('foreign key %I is not checked by the archive''s writer', co.conname)
          FROM pg_constraint co WHERE co.conrelid = ANY (members) AND co.contype = 'f' AND co.conparentid = 0
        UNION ALL
        SELECT format('deferrable constraint %I is not checked by the archive''s writer', co.conname)
          FROM pg_constraint co WHERE co.conrelid = ANY (members) AND co.condeferrable AND co.conparentid = 0
        UNION ALL
        SELECT format('column %I is NOT NULL without a default', a.attname)
          FROM pg_attribute a
         WHERE a.attrelid = ANY (members) AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull AND NOT a.atthasdef
           AND a.attgenerated = '' AND a.attidentity = ''
           AND a.attname NOT IN ('id', 'data', 'table_name', 'schema_name')
        UNION ALL
        SELECT format('trigger %I would never fire', t.tgname)
          FROM pg_trigger t WHERE t.tgrelid = ANY (members) AND NOT t.tgisinternal AND t.tgparentid = 0
           AND t.tgname <> 'deleted_record_not_distributable'
        UNION ALL
        SELECT format('rule %I would never fire', r.rulename)
          FROM pg_rewrite r WHERE r.ev_class = ANY (members)
    ) problems;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION 'this change to the archive table % is not supported: %', archive, problem
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'deleted_record writes archive rows directly: it fills its own columns, applies defaults, generated columns, NOT NULL and CHECK constraints and maintains every index, but fires no triggers or rules.',
                  HINT = 'Add indexes, columns with defaults or CHECK constraints instead.';
    END IF;
END
$$;
COMMENT ON FUNCTION deleted_record_check_archive() IS 'Event trigger: refuses changes to the archive table that its writer could not honour';
CREATE EVENT TRIGGER deleted_record_check_archive ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'CREATE TRIGGER', 'CREATE RULE', 'ALTER TRIGGER', 'CREATE INDEX')
    EXECUTE FUNCTION deleted_record_check_archive();
COMMENT ON EVENT TRIGGER deleted_record_check_archive IS 'Refuses changes to the archive table that its writer could not honour';

-- deleted_record_follow_columns keeps column policies (exclude_columns, mask_columns) in step
-- with the table: a renamed column keeps its policy under its new name, a dropped column's
-- policy goes with it.
CREATE FUNCTION deleted_record_follow_columns() RETURNS event_trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'deleted_record_follow_columns';
COMMENT ON FUNCTION deleted_record_follow_columns() IS 'Event trigger: column policies follow column renames and drops';
CREATE EVENT TRIGGER deleted_record_follow_columns ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE')
    EXECUTE FUNCTION deleted_record_follow_columns();
COMMENT ON EVENT TRIGGER deleted_record_follow_columns IS 'Column policies of attached tables follow column renames and drops';

-- deleted_record_protect_archive refuses DROP EXTENSION deleted_record (without CASCADE) while
-- tables are attached, saying how to detach them and that the archive goes with the extension.
CREATE OR REPLACE FUNCTION deleted_record_protect_archive() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    attached text;
    ext_schema name;
BEGIN
    IF current_query() !~* '\mdrop\s+extension\s+(if\s+exists\s+)?([^;]*[\s,."])?deleted_record\M'
       OR current_query() ~* '\mcascade\M' THEN
        RETURN;
    END IF;
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    SELECT string_agg(t.tgrelid::regclass::text, ', ' ORDER BY t.tgrelid::regclass::text) INTO attached
      FROM pg_trigger t
     WHERE t.tgfoid = format('%I.deleted_record_insert()', ext_schema)::regprocedure AND t.tgparentid = 0;
    IF attached IS NOT NULL THEN
        RAISE EXCEPTION 'cannot drop extension deleted_record while tables are attached: %', attached
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = 'Dropping the extension also drops its archive table deleted_record and every row in it.',
                  HINT = format('Detach them first: SELECT %I.deleted_record_detach(table_name) FROM %I.deleted_record_attached; and copy the archive elsewhere if you need it.',
                                ext_schema, ext_schema);
    END IF;
END
$$;
COMMENT ON FUNCTION deleted_record_protect_archive() IS 'Event trigger: refuses DROP EXTENSION deleted_record while tables are attached';
COMMENT ON FUNCTION deleted_record_protect_archive() IS 'Event trigger: refuses DROP EXTENSION deleted_record while tables are attached';
COMMENT ON EVENT TRIGGER deleted_record_protect_archive IS 'Refuses DROP EXTENSION deleted_record while tables are attached';
