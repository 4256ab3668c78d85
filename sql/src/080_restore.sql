-- deleted_record_restore puts archived rows back into their tables: one INSERT per table,
-- parents first, atomically, as the caller (INSERT privileges, RLS and triggers apply), and
-- marks them restored. The archive rows are locked first, so a concurrent restorer of the same
-- rows waits and then reports them already restored. A dry run leaves the caller's transaction
-- exactly as it found it, also when it fails. One result row per selected archive row.
CREATE FUNCTION deleted_record_restore(archive_ids uuid[], on_conflict text DEFAULT 'error', dry_run boolean DEFAULT false,
                                       masked text DEFAULT 'error')
    RETURNS TABLE (archive_id uuid, target regclass, object_id text, outcome text, detail text)
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_restore_masked';
COMMENT ON FUNCTION deleted_record_restore(uuid[], text, boolean, text) IS 'Restores archived rows into their tables (parents first, one INSERT per table, all or nothing); on_conflict: error or skip; masked: error, or null to restore masked columns as NULL';
