-- deleted_record_purge removes archive rows past their table's retention (or older than
-- older_than, for every table), in batches that each commit, so locks, WAL and undo stay
-- bounded and deletes on attached tables go on meanwhile. CALL it outside a transaction block
-- (pg_cron does). removed reports how many rows went.
CREATE PROCEDURE deleted_record_purge(older_than interval DEFAULT NULL, batch_size integer DEFAULT 10000,
                                      INOUT removed bigint DEFAULT NULL)
    LANGUAGE plpgsql
    AS $$
DECLARE
    ext_schema name;
    step bigint;
    busy regclass;
    tried regclass[] := '{}';
    step_fn text;
    may_commit boolean;
    -- The caller's search_path, put back at the end: a procedure that commits cannot pin it
    -- with SET, so it is pinned in each transaction and must not outlive the CALL.
    caller_path text := pg_catalog.current_setting('search_path');
    started timestamptz := pg_catalog.clock_timestamp();
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    step_fn := pg_catalog.format('%I.deleted_record_purge_step(interval, integer, regclass[])', ext_schema);
    IF NOT pg_catalog.has_function_privilege(step_fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'permission denied to purge the archive'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = pg_catalog.format('A superuser can grant it: GRANT EXECUTE ON PROCEDURE %I.deleted_record_purge(interval, integer, bigint) TO <role>; GRANT EXECUTE ON FUNCTION %s TO <role>;',
                                           ext_schema, step_fn);
    END IF;
    EXECUTE pg_catalog.format('SELECT %I.deleted_record_can_commit()', ext_schema) INTO may_commit;
    removed := 0;
    EXECUTE pg_catalog.format('SELECT %I.deleted_record_prepare_coming_partitions()', ext_schema);
    LOOP
        EXECUTE pg_catalog.format('SELECT s.removed, s.busy FROM %I.deleted_record_purge_step($1, $2, $3) s', ext_schema)
           INTO step, busy USING older_than, batch_size, tried;
        IF busy IS NOT NULL AND NOT busy OPERATOR(pg_catalog.=) ANY (tried) THEN
            tried := tried OPERATOR(pg_catalog.||) busy;
        END IF;
        EXIT WHEN step IS NULL;
        removed := removed OPERATOR(pg_catalog.+) step;
        EXECUTE pg_catalog.format('SELECT %I.deleted_record_report_progress($1, $2, NULL, $3)', ext_schema)
          USING 'purge', removed, started;
        COMMIT;
        caller_path := pg_catalog.current_setting('search_path');   -- the session's, in the new transaction
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    END LOOP;
    PERFORM pg_catalog.set_config('search_path', caller_path, true);
    RAISE NOTICE 'deleted_record_purge: removed % archive rows', removed;
END
$$;
REVOKE ALL ON PROCEDURE deleted_record_purge(interval, integer, bigint) FROM PUBLIC;
COMMENT ON PROCEDURE deleted_record_purge(interval, integer, bigint) IS 'Removes archive rows past their table''s retention (or older than older_than), in batches that commit separately';
