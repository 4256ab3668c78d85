-- deleted_record_can_commit is true inside a procedure that may commit (CALL outside a
-- transaction block).
CREATE FUNCTION deleted_record_can_commit() RETURNS boolean
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_can_commit';
COMMENT ON FUNCTION deleted_record_can_commit() IS 'Internal: whether the calling procedure may COMMIT';
