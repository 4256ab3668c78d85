-- deleted_record_protect_archive refuses DROP EXTENSION deleted_record (without CASCADE) while
-- tables are attached, saying how to detach them and that the archive goes with the extension.
CREATE FUNCTION deleted_record_protect_archive() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    attached text;
    ext_schema name;
BEGIN
    IF current_query() !~* '\mdrop\s+extension\s+(if\s+exists\s+)?([^;]*[\s,."])?deleted_record\M'
       OR current_query() ~* '\mcascade\M' THEN
        RETURN;
    END IF;
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    SELECT string_agg(t.tgrelid::regclass::text, ', ' ORDER BY t.tgrelid::regclass::text) INTO attached
      FROM pg_trigger t
     WHERE t.tgfoid = format('%I.deleted_record_insert()', ext_schema)::regprocedure AND t.tgparentid = 0;
    IF attached IS NOT NULL THEN
        RAISE EXCEPTION 'cannot drop extension deleted_record while tables are attached: %', attached
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = 'Dropping the extension also drops its archive table deleted_record and every row in it.',
                  HINT = format('Detach them first: SELECT %I.deleted_record_detach(table_name) FROM %I.deleted_record_attached; and copy the archive elsewhere if you need it.',
                                ext_schema, ext_schema);
    END IF;
END
$$;
COMMENT ON FUNCTION deleted_record_protect_archive() IS 'Event trigger: refuses DROP EXTENSION deleted_record while tables are attached';
