-- Off soft deletion in one call: deleted_record_import moves a table's soft-deleted rows into the
-- archive, with their own deletion time, actor and reason, and out of the table.

-- deleted_record_import_batch moves one batch (src/glue/import.cpp): it deletes up to batch_size
-- soft-deleted rows as the caller, the archive trigger archives them, and their archive rows get
-- the deletion time, actor and reason their expressions give. Returns how many rows moved.
CREATE FUNCTION deleted_record_import_batch(target regclass, soft_deleted text, deleted_at text, actor text, reason text,
                                            batch_size integer) RETURNS bigint
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_import_batch';
COMMENT ON FUNCTION deleted_record_import_batch(regclass, text, text, text, text, integer) IS 'Internal: one batch of deleted_record_import (the caller must own the table)';

-- deleted_record_import_may_commit raises the error that says how to call deleted_record_import
-- when it may not COMMIT between its batches.
CREATE FUNCTION deleted_record_import_may_commit() RETURNS boolean
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'deleted_record_import_may_commit';
COMMENT ON FUNCTION deleted_record_import_may_commit() IS 'Internal: whether deleted_record_import may commit between batches';

-- deleted_record_import moves the rows of target for which soft_deleted (an SQL expression over
-- the table's row, such as 'deleted_at IS NOT NULL') is true into the archive and out of the
-- table, in batches that each commit: an interrupted import is resumed by calling it again, and
-- no row is ever both in the table and in the archive, or in neither. deleted_at, actor and
-- reason are expressions giving each row's deletion time, who deleted it and why (not given:
-- the import's time and the session's deletion context). Foreign keys that reference the table
-- act as on any delete (CASCADE removes and archives children of attached tables, RESTRICT and
-- NO ACTION stop the batch). Progress is reported as NOTICEs; a dry run moves nothing and
-- reports what would move and which children it would touch. moved is the number of rows moved
-- (or that would move). It runs as the caller, who must own the table.
CREATE PROCEDURE deleted_record_import(target regclass, soft_deleted text, deleted_at text DEFAULT NULL,
                                       actor text DEFAULT NULL, reason text DEFAULT NULL,
                                       batch_size integer DEFAULT 10000, dry_run boolean DEFAULT false,
                                       INOUT moved bigint DEFAULT NULL)
    LANGUAGE plpgsql
    AS $$
DECLARE
    ext_schema name;
    total bigint;
    step bigint;
    started timestamptz := pg_catalog.clock_timestamp();
    elapsed double precision;
    fk record;
    fk_note text;
    children bigint;
    children_exist boolean;
    first_deleted timestamptz;
    last_deleted timestamptz;
BEGIN
    -- The expressions are the caller's SQL over the caller's table and run with the caller's
    -- rights and search_path; everything of the extension's is named with its schema.
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    IF target IS NULL THEN
        RAISE EXCEPTION 'deleted_record_import: target must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF soft_deleted IS NULL OR pg_catalog.btrim(soft_deleted) OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'deleted_record_import: soft_deleted must be an expression over the table''s row'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'For example ''deleted_at IS NOT NULL'', or ''is_deleted''.';
    END IF;
    IF batch_size IS NULL OR batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'deleted_record_import: batch_size must be a positive number, not %', COALESCE(batch_size::pg_catalog.text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF dry_run IS NULL THEN
        RAISE EXCEPTION 'deleted_record_import: dry_run must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- A Citus table's rows are archived on the worker nodes, where the import's stamping (on the
    -- coordinator) cannot find them: refused with a clear error rather than half done.
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1)'
           INTO children_exist USING target;
        IF children_exist THEN
            RAISE EXCEPTION 'deleted_record_import: % is a Citus table, which deleted_record_import does not support', target
                USING ERRCODE = 'feature_not_supported',
                      HINT = 'Import the soft-deleted rows before distributing the table (create_distributed_table), or undistribute it first (undistribute_table).';
        END IF;
    END IF;
    IF NOT dry_run THEN
        EXECUTE pg_catalog.format('SELECT %I.deleted_record_import_may_commit()', ext_schema);
    END IF;

    EXECUTE pg_catalog.format('SELECT pg_catalog.count(*), pg_catalog.min(%2$s), pg_catalog.max(%2$s) FROM %1$s AS t WHERE (%3$s)',
                              target, pg_catalog.format('CAST((%s) AS pg_catalog.timestamptz)', COALESCE(deleted_at, 'NULL')),
                              soft_deleted)
       INTO total, first_deleted, last_deleted;
    IF dry_run THEN
        moved := total;
        RAISE NOTICE 'deleted_record_import (dry run): % rows of % would move to the archive (deleted from % to %)',
            total, target, COALESCE(first_deleted::pg_catalog.text, 'now'), COALESCE(last_deleted::pg_catalog.text, 'now');
        -- A timestamp without time zone is read in the session's TimeZone, as PostgreSQL casts
        -- it: said, since applications often store UTC in such a column.
        IF deleted_at IS NOT NULL THEN
            EXECUTE pg_catalog.format('SELECT CAST(pg_catalog.pg_typeof(%s) AS pg_catalog.text) FROM %s AS t WHERE (%s) LIMIT 1',
                                      deleted_at, target, soft_deleted)
               INTO fk_note;
            IF fk_note OPERATOR(pg_catalog.=) 'timestamp without time zone' THEN
                RAISE NOTICE 'deleted_record_import (dry run): deleted_at is a timestamp without time zone, read as a time in the session''s TimeZone (%)',
                    pg_catalog.current_setting('TimeZone')
                    USING HINT = 'If the column holds UTC times, write deleted_at => ''deleted_at AT TIME ZONE ''''UTC''''''.';
            END IF;
        END IF;
        -- The import moves rows with DELETE: a BEFORE DELETE trigger (a soft-delete one, say) or
        -- a row-level security policy may keep them, and the import then stops at batch 1.
        SELECT pg_catalog.string_agg(pg_catalog.quote_ident(g.tgname), ', ' ORDER BY g.tgname COLLATE "C") INTO fk_note
          FROM pg_catalog.pg_trigger g
         WHERE g.tgrelid OPERATOR(pg_catalog.=) target::pg_catalog.oid AND NOT g.tgisinternal
           AND g.tgenabled OPERATOR(pg_catalog.<>) 'D'
           AND (g.tgtype::pg_catalog.int4 OPERATOR(pg_catalog.&) 2) OPERATOR(pg_catalog.<>) 0     -- BEFORE
           AND (g.tgtype::pg_catalog.int4 OPERATOR(pg_catalog.&) 8) OPERATOR(pg_catalog.<>) 0;    -- DELETE
        IF fk_note IS NOT NULL THEN
            RAISE WARNING 'deleted_record_import (dry run): % has BEFORE DELETE triggers: %', target, fk_note
                USING DETAIL = 'The import moves rows with DELETE: a trigger that keeps a row (returns NULL, as a soft-delete trigger does) stops the import at its first batch.',
                      HINT = 'Drop or disable the trigger that keeps the rows before the import.';
        END IF;
        IF EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) target::pg_catalog.oid AND c.relrowsecurity) THEN
            RAISE WARNING 'deleted_record_import (dry run): % has row-level security enabled', target
                USING DETAIL = 'Rows its policies let this role select but not delete stop the import at their batch.';
        END IF;
        -- An ON DELETE rule rewrites the import's DELETE (a soft-delete rule): the import stops
        -- at batch 1 naming it (review 7 #06).
        SELECT pg_catalog.string_agg(pg_catalog.quote_ident(r.rulename::pg_catalog.text), ', ' ORDER BY r.rulename COLLATE "C") INTO fk_note
          FROM pg_catalog.pg_rewrite r
         WHERE r.ev_class OPERATOR(pg_catalog.=) target::pg_catalog.oid AND r.ev_type OPERATOR(pg_catalog.=) '4'
           AND r.ev_enabled OPERATOR(pg_catalog.<>) 'D';
        IF fk_note IS NOT NULL THEN
            RAISE WARNING 'deleted_record_import (dry run): % has ON DELETE rules: %', target, fk_note
                USING DETAIL = 'The import moves rows with DELETE: a rule rewrites it and stops the import at its first batch.',
                      HINT = 'Disable the rules (ALTER TABLE ... DISABLE RULE) for the import.';
        END IF;
        -- What the table's foreign keys would do to the rows that reference the moving rows.
        FOR fk IN
            SELECT c.conname, c.conrelid::pg_catalog.regclass AS child, c.confdeltype,
                   (SELECT pg_catalog.string_agg('c.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.i)
                      FROM pg_catalog.unnest(c.conkey) WITH ORDINALITY k(attnum, i)
                      JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.conrelid AND a.attnum OPERATOR(pg_catalog.=) k.attnum) AS child_columns,
                   (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.i)
                      FROM pg_catalog.unnest(c.confkey) WITH ORDINALITY k(attnum, i)
                      JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.confrelid AND a.attnum OPERATOR(pg_catalog.=) k.attnum) AS parent_columns
              FROM pg_catalog.pg_constraint c
             WHERE c.contype OPERATOR(pg_catalog.=) 'f' AND c.confrelid OPERATOR(pg_catalog.=) target::pg_catalog.oid AND c.conparentid OPERATOR(pg_catalog.=) 0
             ORDER BY c.conrelid::pg_catalog.regclass::pg_catalog.text COLLATE "C", c.conname COLLATE "C"
        LOOP
            EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %1$s AS c WHERE (%2$s) IN (SELECT %3$s FROM %4$s AS t WHERE (%5$s))',
                                      fk.child, fk.child_columns, fk.parent_columns, target, soft_deleted)
               INTO children;
            RAISE NOTICE 'deleted_record_import (dry run): % rows of % reference them through %: %', children, fk.child, fk.conname,
                CASE fk.confdeltype WHEN 'c' THEN 'deleted with them (ON DELETE CASCADE; archived if that table is attached)'
                                    WHEN 'n' THEN 'set to NULL (ON DELETE SET NULL)'
                                    WHEN 'd' THEN 'set to their default (ON DELETE SET DEFAULT)'
                                    ELSE 'the import stops at the first batch that holds a referenced row (ON DELETE '
                                         OPERATOR(pg_catalog.||) CASE fk.confdeltype WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END
                                         OPERATOR(pg_catalog.||) ')' END;
        END LOOP;
        RETURN;
    END IF;

    moved := 0;
    LOOP
        EXECUTE pg_catalog.format('SELECT %I.deleted_record_import_batch($1, $2, $3, $4, $5, $6)', ext_schema)
           INTO step USING target, soft_deleted, deleted_at, actor, reason, batch_size;
        EXIT WHEN step OPERATOR(pg_catalog.=) 0;
        moved := moved OPERATOR(pg_catalog.+) step;
        EXECUTE pg_catalog.format('SELECT %I.deleted_record_report_progress($1, $2, $3, $4)', ext_schema)
          USING 'import ' OPERATOR(pg_catalog.||) target::pg_catalog.text, moved, total, started;
        COMMIT;
        elapsed := pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started);
        RAISE NOTICE 'deleted_record_import: % rows of % moved, % left', moved, target, GREATEST(total OPERATOR(pg_catalog.-) moved, 0)
            USING DETAIL = pg_catalog.format('%s rows/s over %s s', pg_catalog.round((moved::double precision OPERATOR(pg_catalog./) GREATEST(elapsed, 0.001))::pg_catalog.numeric),
                                             pg_catalog.round(elapsed::pg_catalog.numeric, 1));
    END LOOP;
    RAISE NOTICE 'deleted_record_import: moved % rows of % to the archive', moved, target;
END
$$;
COMMENT ON PROCEDURE deleted_record_import(regclass, text, text, text, text, integer, boolean, bigint) IS 'Moves a table''s soft-deleted rows into the archive with their own deletion time, actor and reason, in batches that commit separately';
