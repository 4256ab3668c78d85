-- deleted_record_check_archive refuses changes to the archive table that the direct writer
-- could not honour: the extension's columns must keep their names and types; foreign keys and
-- deferrable unique or exclusion constraints would not be checked (they need triggers); a new
-- NOT NULL column needs a default; user triggers and rules on it would never fire. Defaults,
-- generated columns, CHECK and NOT NULL constraints, indexes and extra columns are honoured.
CREATE FUNCTION deleted_record_check_archive() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    archive regclass;
    members oid[];
    problem text;
BEGIN
    SELECT format('%I.deleted_record', n.nspname)::regclass INTO archive
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'deleted_record';
    SELECT array_agg(relid) INTO members FROM pg_partition_tree(archive);
    -- Only commands that changed the archive or one of its partitions, their indexes,
    -- triggers or rules.
    IF NOT EXISTS (SELECT FROM pg_event_trigger_ddl_commands() d
                    WHERE NOT d.in_extension
                      AND ((d.classid = 'pg_class'::regclass
                            AND (d.objid = ANY (members) OR d.objid IN (SELECT i.indexrelid FROM pg_index i WHERE i.indrelid = ANY (members))))
                        OR (d.classid = 'pg_trigger'::regclass AND d.objid IN (SELECT t.oid FROM pg_trigger t WHERE t.tgrelid = ANY (members)))
                        OR (d.classid = 'pg_rewrite'::regclass AND d.objid IN (SELECT r.oid FROM pg_rewrite r WHERE r.ev_class = ANY (members))))) THEN
        RETURN;
    END IF;
    SELECT string_agg(p, '; ') INTO problem FROM (
        SELECT format('column %I must exist with type %s', expected.name, expected.type) AS p
          FROM (VALUES ('id', 'uuid'), ('data', 'jsonb'), ('deleted_at', 'timestamp with time zone'),
                       ('object_id', 'text'), ('table_name', 'text'), ('schema_name', 'text'),
                       ('partition_name', 'text'), ('actor', 'text'), ('reason', 'text'), ('metadata', 'jsonb'),
                       ('xact_id', 'bigint'), ('session_user_name', 'text'), ('current_user_name', 'text'),
                       ('updated_at', 'timestamp with time zone'), ('restored_at', 'timestamp with time zone'),
                       ('restored_by', 'text'), ('excluded_columns', 'text[]'),
                       ('masked_columns', 'text[]'), ('xact_key', 'text')) expected(name, type)
         WHERE NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = archive AND a.attname = expected.name
                              AND NOT a.attisdropped AND format_type(a.atttypid, NULL) = expected.type)
        UNION ALL
        SELECT format('foreign key %I is not checked by the archive''s writer', co.conname)
          FROM pg_constraint co WHERE co.conrelid = ANY (members) AND co.contype = 'f' AND co.conparentid = 0
        UNION ALL
        SELECT format('deferrable constraint %I is not checked by the archive''s writer', co.conname)
          FROM pg_constraint co WHERE co.conrelid = ANY (members) AND co.condeferrable AND co.conparentid = 0
        UNION ALL
        SELECT format('column %I is NOT NULL without a default', a.attname)
          FROM pg_attribute a
         WHERE a.attrelid = ANY (members) AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull AND NOT a.atthasdef
           AND a.attgenerated = '' AND a.attidentity = ''
           AND a.attname NOT IN ('id', 'data', 'table_name', 'schema_name')
        UNION ALL
        SELECT format('trigger %I would never fire', t.tgname)
          FROM pg_trigger t WHERE t.tgrelid = ANY (members) AND NOT t.tgisinternal AND t.tgparentid = 0
           AND t.tgname <> 'deleted_record_not_distributable'
        UNION ALL
        SELECT format('rule %I would never fire', r.rulename)
          FROM pg_rewrite r WHERE r.ev_class = ANY (members)
    ) problems;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION 'this change to the archive table % is not supported: %', archive, problem
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'deleted_record writes archive rows directly: it fills its own columns, applies defaults, generated columns, NOT NULL and CHECK constraints and maintains every index, but fires no triggers or rules.',
                  HINT = 'Add indexes, columns with defaults or CHECK constraints instead.';
    END IF;
END
$$;
COMMENT ON FUNCTION deleted_record_check_archive() IS 'Event trigger: refuses changes to the archive table that its writer could not honour';
CREATE EVENT TRIGGER deleted_record_check_archive ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'CREATE TRIGGER', 'CREATE RULE', 'ALTER TRIGGER', 'CREATE INDEX')
    EXECUTE FUNCTION deleted_record_check_archive();
COMMENT ON EVENT TRIGGER deleted_record_check_archive IS 'Refuses changes to the archive table that its writer could not honour';
