-- deleted_record_truncate_guard is the BEFORE TRUNCATE trigger; its argument is the policy.
CREATE FUNCTION deleted_record_truncate_guard() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'deleted_record_truncate_guard';
COMMENT ON FUNCTION deleted_record_truncate_guard() IS 'BEFORE TRUNCATE trigger: applies the attached table''s TRUNCATE policy (its argument)';
