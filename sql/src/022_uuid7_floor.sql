-- deleted_record_uuid7_floor is the smallest UUIDv7 of the millisecond at: "archived at or after
-- at" is id >= deleted_record_uuid7_floor(at), which lets queries skip whole partitions.
CREATE FUNCTION deleted_record_uuid7_floor(at timestamptz) RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (SELECT (pg_catalog.substr(h, 1, 8) OPERATOR(pg_catalog.||) '-' OPERATOR(pg_catalog.||) pg_catalog.substr(h, 9, 4)
                    OPERATOR(pg_catalog.||) '-0000-0000-000000000000')::uuid
              FROM (SELECT pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.floor(pg_catalog.date_part('epoch', at) OPERATOR(pg_catalog.*) 1000)::bigint), 12, '0') AS h) ms);
COMMENT ON FUNCTION deleted_record_uuid7_floor(timestamptz) IS 'Smallest UUIDv7 of a moment: WHERE id >= deleted_record_uuid7_floor(t) finds rows archived since t and skips older partitions';
