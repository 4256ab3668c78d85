-- deleted_record_attach archives every row deleted from target from now on (partitions included)
-- and applies the TRUNCATE policy: 'archive' (archive the rows, then truncate), 'deny' or
-- 'ignore'; retention is how long deleted_record_purge keeps its rows; exclude_columns never
-- reach the archive, mask_columns are stored as a keyed hash. Attaching again changes only what
-- the call names: a left-out on_truncate or retention keeps the table's (first attach: 'archive'
-- and forever); retention => '0' clears a retention.
-- BEGIN ATOMIC bodies are bound to deleted_record_manage by OID when the extension is created.
CREATE FUNCTION deleted_record_attach(target regclass, on_truncate text DEFAULT NULL, retention interval DEFAULT NULL,
                                      exclude_columns text[] DEFAULT NULL, mask_columns text[] DEFAULT NULL) RETURNS void
    LANGUAGE sql
BEGIN ATOMIC
    SELECT deleted_record_manage(target, 'attach', on_truncate, retention, exclude_columns, mask_columns);
END;
COMMENT ON FUNCTION deleted_record_attach(regclass, text, interval, text[], text[]) IS 'Archives every row deleted from the table (and its partitions) from now on; on_truncate: archive, deny or ignore; retention (''0'': forever); columns to exclude or mask; what is left out is kept';
