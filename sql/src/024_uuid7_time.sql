-- deleted_record_uuid7_time is the moment a UUIDv7 was made (millisecond precision).
CREATE FUNCTION deleted_record_uuid7_time(id uuid) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN pg_catalog.to_timestamp((('x' OPERATOR(pg_catalog.||) pg_catalog.substr(pg_catalog.replace(id::text, '-', ''), 1, 12))::bit(48)::bigint)::double precision
                                   OPERATOR(pg_catalog./) 1000);
COMMENT ON FUNCTION deleted_record_uuid7_time(uuid) IS 'The moment a UUIDv7 (an archive id) was made, to the millisecond';
