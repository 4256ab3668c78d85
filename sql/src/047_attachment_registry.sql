-- The identity of attached tables, for retention. Every attach gives the table an attachment id
-- (a UUID, also kept in its archive trigger's argument, so that it survives dump and restore and
-- travels to partitions and Citus shards). This registry records under which schema and table
-- names each attachment archived rows, over which ranges of archive ids (ids are UUIDv7, so
-- time-ordered): a window [from_id, until_id), until_id NULL while open. A purge applies a
-- table's retention only to the rows of its own windows, so another table that later takes its
-- name never gets its rows purged. Kept in step with renames, drops and detaches by the
-- deleted_record_follow_attachments event trigger; readable by the extension owner only.
CREATE TABLE deleted_record_attachment (
    attachment_id uuid NOT NULL,
    relid         oid  NOT NULL,
    schema_name   text COLLATE "C" NOT NULL,
    table_name    text COLLATE "C" NOT NULL,
    from_id       uuid NOT NULL,
    until_id      uuid,
    PRIMARY KEY (attachment_id, from_id)
);
REVOKE ALL ON TABLE deleted_record_attachment FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('deleted_record_attachment', '');
COMMENT ON TABLE deleted_record_attachment IS 'Internal: under which names, over which archive id ranges, each attachment archived rows (retention follows it)';
COMMENT ON COLUMN deleted_record_attachment.relid IS 'The attached table while it exists (0 once dropped, or after a restore until its trigger is recreated)';
