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
