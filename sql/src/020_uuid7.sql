-- deleted_record_uuid7 returns a time-ordered UUID (version 7), monotonic within a session.
CREATE FUNCTION deleted_record_uuid7() RETURNS uuid
    LANGUAGE c VOLATILE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'deleted_record_uuid7';
COMMENT ON FUNCTION deleted_record_uuid7() IS 'A time-ordered UUID (version 7), monotonic within a session: the archive''s ids';
