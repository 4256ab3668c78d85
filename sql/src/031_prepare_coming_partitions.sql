-- PLACEHOLDER (H3, until H1's version lands): deleted_record_prepare_coming_partitions prepares
-- the archive partitions of the coming periods; attach and purge call it.
CREATE FUNCTION deleted_record_prepare_coming_partitions() RETURNS integer
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    created integer;
BEGIN
    SELECT n.nspname INTO ext_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
     WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    EXECUTE format('SELECT %I.deleted_record_prepare_partitions()', ext_schema) INTO created;
    RETURN created;
END
$$;
COMMENT ON FUNCTION deleted_record_prepare_coming_partitions() IS 'Creates the archive partitions of the coming periods (placeholder)';
