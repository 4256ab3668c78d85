-- deleted_record_truncate_policy checks an on_truncate value (the names live in the C core).
CREATE FUNCTION deleted_record_truncate_policy(policy text) RETURNS text
    LANGUAGE c IMMUTABLE
    AS 'MODULE_PATHNAME', 'deleted_record_truncate_policy';
COMMENT ON FUNCTION deleted_record_truncate_policy(text) IS 'Internal: checks an on_truncate value and returns it, or raises an error listing the allowed values';
