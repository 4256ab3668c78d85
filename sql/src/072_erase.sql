-- deleted_record_erase removes archive rows for good, leaving a tombstone per row in
-- deleted_record_erasure (no data). The reason is required. For roles the DBA grants it to.
CREATE FUNCTION deleted_record_erase(archive_ids uuid[], reason text) RETURNS bigint
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_erase';
REVOKE ALL ON FUNCTION deleted_record_erase(uuid[], text) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_erase(uuid[], text) IS 'Erases archive rows (a data subject''s, say), keeping a tombstone with the reason in deleted_record_erasure';
