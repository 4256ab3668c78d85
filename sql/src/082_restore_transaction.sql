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
