-- deleted_record_attachment_options checks an attach call's retention and column policies
-- against the table (by OID) and returns the archive trigger's argument (NULL: none), carrying
-- the table's attachment id.
CREATE FUNCTION deleted_record_attachment_options(target regclass, attachment uuid, retention interval, exclude_columns text[], mask_columns text[])
    RETURNS text
    LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'deleted_record_attachment_options';
COMMENT ON FUNCTION deleted_record_attachment_options(regclass, uuid, interval, text[], text[]) IS 'Internal: checks attach options and returns the archive trigger''s argument';
