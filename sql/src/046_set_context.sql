-- deleted_record_set_context records who deletes and why, for the current transaction only.
CREATE FUNCTION deleted_record_set_context(actor text, reason text, metadata jsonb DEFAULT NULL) RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_set_context';
COMMENT ON FUNCTION deleted_record_set_context(text, text, jsonb) IS 'Sets deleted_record.actor, .reason and .metadata for the current transaction only; an error outside a transaction block';
