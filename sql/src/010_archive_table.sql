-- The archive: one row per deleted row. Written only by the extension's trigger functions,
-- under the extension owner's identity; nobody else holds any privilege on it until granted.
-- Partitioned by time (the time-ordered id): each period's rows live in their own partition,
-- whose indexes stay small however large the archive grows, and a purge drops whole expired
-- partitions. The parent has no indexes of its own: each partition carries its primary key, its
-- (table_name, object_id) index and its xact_id and xact_key indexes (one transaction's rows,
-- for deleted_record_restore_transaction), so partitions restore from a dump as ordinary tables.
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
-- xact_id and xact_key grow with time: their entries are appended at the right edge of small
-- indexes (one period each), the cheapest entries an archived row adds.
CREATE INDEX deleted_record_default_xact_id_idx ON deleted_record_default (xact_id);
CREATE INDEX deleted_record_default_xact_key_idx ON deleted_record_default (xact_key);
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
