-- deleted_record_mask returns the form in which a masked column keeps a value: 'hmac:' and the
-- hex HMAC-SHA-256 of the value's text under this database's secret. Granted like the archive:
-- WHERE data->>'email' = deleted_record_mask('alice@example.com') finds a value's rows.
CREATE FUNCTION deleted_record_mask(value text) RETURNS text
    LANGUAGE c STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'deleted_record_mask';
REVOKE ALL ON FUNCTION deleted_record_mask(text) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_mask(text) IS 'The stored form of a masked value (hmac:<hex>), to find archive rows by a value the archive does not hold';
