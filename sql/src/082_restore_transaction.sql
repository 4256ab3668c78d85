-- deleted_record_restore_transaction restores everything one deleting transaction archived: a
-- delete and every row its cascades took. The transaction is named by its xact_key (unique
-- across clusters and time), or by its xact_id, which repeats once the archive moves to another
-- cluster: an xact_id naming rows of several keys is an error listing them. The text overload
-- takes either (and is what untyped parameters of client libraries resolve to).
CREATE FUNCTION deleted_record_restore_transaction(xact text, on_conflict text DEFAULT 'error', dry_run boolean DEFAULT false,
                                                   masked text DEFAULT 'error')
    RETURNS TABLE (archive_id uuid, target regclass, object_id text, outcome text, detail text)
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_restore_transaction_text';
COMMENT ON FUNCTION deleted_record_restore_transaction(text, text, boolean, text) IS 'Restores every row one deleting transaction archived, named by its xact_key or by a decimal xact_id';
CREATE FUNCTION deleted_record_restore_transaction(xact bigint, on_conflict text DEFAULT 'error', dry_run boolean DEFAULT false,
                                                   masked text DEFAULT 'error')
    RETURNS TABLE (archive_id uuid, target regclass, object_id text, outcome text, detail text)
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_restore_transaction_masked';
COMMENT ON FUNCTION deleted_record_restore_transaction(bigint, text, boolean, text) IS 'Restores every row one deleting transaction (xact_id) archived; an error when that xact_id names several xact_keys';
CREATE FUNCTION deleted_record_restore_transaction(xact xid8, on_conflict text DEFAULT 'error', dry_run boolean DEFAULT false,
                                                   masked text DEFAULT 'error')
    RETURNS TABLE (archive_id uuid, target regclass, object_id text, outcome text, detail text)
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_restore_transaction_xid8_masked';
COMMENT ON FUNCTION deleted_record_restore_transaction(xid8, text, boolean, text) IS 'Restores every row one deleting transaction (pg_current_xact_id()) archived; an error when it names several xact_keys';
