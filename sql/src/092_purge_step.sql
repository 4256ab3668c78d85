-- deleted_record_purge_step does one bounded piece of a purge, as the archive's owner: drops one
-- partition whose rows are all expired, or deletes up to batch_size expired rows of one
-- partition. It returns how many rows it removed (NULL when nothing is left to purge) and the
-- partition it could not drop for a lock (tried lists those of earlier steps). A row
-- expires when its deleted_at and its id's time are both older than the cutoff (now minus its
-- table's retention, or minus older_than for every table); the two differ only by how long the
-- deleting transaction ran. A table's retention applies only to the rows its attachment
-- archived (the windows of deleted_record_attachment: its identity, not its name), and only
-- while it is attached; a cutoff before the beginning of time expires nothing, so one table's
-- setting never stops the purge of the others. Rows under a legal hold (deleted_record_hold_rule
-- says which) stay: a partition holding any is not dropped, its other expired rows are deleted.
CREATE FUNCTION deleted_record_purge_step(older_than interval, batch_size integer, tried regclass[],
                                          OUT removed bigint, OUT busy regclass)
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET intervalstyle = postgres
    AS $$
DECLARE
    ext_schema name;
    archive regclass;
    now_utc timestamptz := clock_timestamp();
    -- Per-window cutoffs (retention mode), as parallel arrays: nothing here is a table a caller
    -- could have prepared.
    cut_schemas text[];
    cut_tables text[];
    cut_from uuid[];
    cut_until uuid[];
    cut_retentions interval[];
    cut_times timestamptz[] := '{}';
    older_cutoff timestamptz;
    part record;
    droppable boolean;
    late boolean;
    held boolean;
    hold_of text;
    seen_holds tid[];
    unseen boolean;
BEGIN
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'deleted_record_purge: batch_size must be a positive number, not %', coalesce(batch_size::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF older_than IS NOT NULL AND older_than < interval '0' THEN
        RAISE EXCEPTION 'deleted_record_purge: older_than must not be negative, not %', older_than
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    archive := format('%I.deleted_record', ext_schema)::regclass;
    -- One purge at a time; deletes on attached tables never wait for it.
    PERFORM pg_advisory_xact_lock(archive::oid::bigint);
    -- Holds are rare: only while one is in place does the purge ask about each row.
    -- No hold can be placed between this look at the holds and the step's deletes: placing one
    -- waits for this step's transaction (the advisory lock of holds, kHoldsLock in holds.cpp).
    PERFORM pg_advisory_xact_lock_shared(1146243140, 0);
    EXECUTE format('SELECT EXISTS (SELECT FROM %I.deleted_record_holds WHERE released_at IS NULL)', ext_schema) INTO held;
    -- The statements below read the holds with this transaction's snapshot: under REPEATABLE
    -- READ or SERIALIZABLE it was taken before this step got the holds lock, and misses a hold
    -- committed meanwhile. Such a hold (one the latest snapshot sees and this one does not) stops
    -- the step with a serialization failure, to be retried; in READ COMMITTED there is none.
    EXECUTE format('SELECT array_agg(ctid) FROM %I.deleted_record_holds WHERE released_at IS NULL', ext_schema) INTO seen_holds;
    EXECUTE format('SELECT %I.deleted_record_exists_now($1)', ext_schema) INTO unseen USING format(
           'SELECT FROM %I.deleted_record_holds h WHERE h.released_at IS NULL AND NOT h.ctid OPERATOR(pg_catalog.=) ANY (%L::pg_catalog.tid[])',
           ext_schema, coalesce(seen_holds, '{}'));
    IF unseen THEN
        RAISE EXCEPTION 'deleted_record_purge: a legal hold was placed after this transaction''s snapshot was taken'
            USING ERRCODE = 'serialization_failure',
                  DETAIL = 'Under ' || current_setting('transaction_isolation') || ' the purge cannot see it, so it purges nothing.',
                  HINT = 'Retry the purge; it sees the hold in a new transaction.';
    END IF;
    IF held THEN
        EXECUTE format('SELECT %I.deleted_record_hold_rule(''d'')', ext_schema) INTO hold_of;
    ELSE
        hold_of := 'NULL';
    END IF;

    IF older_than IS NULL THEN
        -- The windows of attached tables with a retention (a partition's rows are archived
        -- under its root's name, so only roots have windows), while the attachment's open
        -- window is still its table's.
        EXECUTE format($q$
            SELECT array_agg(w.schema_name ORDER BY w.attachment_id, w.from_id), array_agg(w.table_name ORDER BY w.attachment_id, w.from_id),
                   array_agg(w.from_id ORDER BY w.attachment_id, w.from_id), array_agg(w.until_id ORDER BY w.attachment_id, w.from_id),
                   array_agg(a.retention ORDER BY w.attachment_id, w.from_id)
              FROM %1$I.deleted_record_attachments() a
              JOIN %1$I.deleted_record_attachment w ON w.attachment_id = a.attachment_id
             WHERE a.retention IS NOT NULL
               AND EXISTS (SELECT FROM %1$I.deleted_record_attachment o
                            WHERE o.attachment_id = a.attachment_id AND o.until_id IS NULL AND o.relid = a.relation::oid)$q$, ext_schema)
          INTO cut_schemas, cut_tables, cut_from, cut_until, cut_retentions;
        IF cut_tables IS NULL THEN
            removed := NULL;
            RETURN;
        END IF;
        FOR i IN 1 .. array_length(cut_retentions, 1) LOOP
            BEGIN
                cut_times := cut_times || least(now_utc - cut_retentions[i], now_utc);
            EXCEPTION WHEN datetime_field_overflow THEN
                cut_times := cut_times || '-infinity'::timestamptz;
            END;
        END LOOP;
    ELSE
        BEGIN
            older_cutoff := now_utc - older_than;
        EXCEPTION WHEN datetime_field_overflow THEN
            removed := NULL;  -- before the beginning of time: nothing is that old
            RETURN;
        END;
    END IF;

    FOR part IN EXECUTE format($q$
        SELECT c.oid::regclass AS relation, c.relname::text AS relname, b.is_default,
               b.lower_id, b.upper_id,
               %1$I.deleted_record_uuid7_time(b.lower_id) AS lower_time, %1$I.deleted_record_uuid7_time(b.upper_id) AS upper_time
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
               LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AS is_default,
                               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([0-9a-f-]+)''\)'))[1]::uuid AS lower_id,
                               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([0-9a-f-]+)''\)'))[1]::uuid AS upper_id) b
         WHERE i.inhparent = $1
         ORDER BY b.is_default, b.upper_id NULLS LAST$q$, ext_schema) USING archive
    LOOP
        droppable := false;
        IF older_than IS NOT NULL THEN
            droppable := NOT part.is_default AND part.upper_time IS NOT NULL AND part.upper_time <= older_cutoff;
        ELSIF NOT part.is_default AND part.upper_time IS NOT NULL AND part.upper_time <= now_utc - interval '1 minute' THEN
            -- A closed partition (its period is over: no new rows) records once which tables its
            -- rows came from; it is dropped when the rows of every one of them are expired.
            EXECUTE format($q$
                INSERT INTO %1$I.deleted_record_partition_tables
                SELECT $1, '', '' WHERE NOT EXISTS (SELECT FROM %1$I.deleted_record_partition_tables WHERE partition_name = $1)
                UNION ALL
                SELECT DISTINCT $1, schema_name, table_name FROM ONLY %2$s
                 WHERE NOT EXISTS (SELECT FROM %1$I.deleted_record_partition_tables WHERE partition_name = $1)$q$,
                ext_schema, part.relation) USING part.relname;
            -- Each of its tables needs one window of an attachment whose rows expired that
            -- covers the whole partition.
            EXECUTE format($q$
                SELECT coalesce(bool_and(EXISTS (
                           SELECT FROM unnest($3, $4, $5, $6, $7) c(schema_name, table_name, from_id, until_id, cutoff)
                            WHERE c.schema_name = pt.schema_name AND c.table_name = pt.table_name
                              AND c.from_id <= $8 AND (c.until_id IS NULL OR c.until_id >= $9) AND $2 <= c.cutoff)), true)
                  FROM %I.deleted_record_partition_tables pt
                 WHERE pt.partition_name = $1 AND pt.table_name <> ''$q$, ext_schema)
               INTO droppable USING part.relname, part.upper_time, cut_schemas, cut_tables, cut_from, cut_until, cut_times,
                                    part.lower_id, part.upper_id;
        END IF;
        IF droppable AND held THEN
            EXECUTE format($q$
                SELECT NOT EXISTS (SELECT FROM ONLY %1$s d WHERE %2$s IS NOT NULL)$q$, part.relation, hold_of) INTO droppable;
        END IF;
        IF droppable THEN
            BEGIN
                -- A reader holding the archive's lock must not stall the purge: wait a little,
                -- then fall back to deleting the partition's rows in batches. A partition tried
                -- before in this purge is only tried in passing, so that steps do not each wait.
                PERFORM set_config('lock_timeout', CASE WHEN part.relation = ANY (tried) THEN '20ms' ELSE '5s' END, true);
                EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', part.relation);
                -- The bookkeeping was made from the rows visible then: a transaction that deleted
                -- before the period ended may have committed rows of another table since. With
                -- the partition locked no writer is left: if such a table shows up, the
                -- bookkeeping is made again (next step) instead of dropping its rows.
                -- Both checks read with the latest snapshot: this transaction's may be older than
                -- the rows committed while it waited for the lock (REPEATABLE READ, SERIALIZABLE).
                IF older_than IS NULL THEN
                    EXECUTE format('SELECT %I.deleted_record_exists_now($1)', ext_schema) INTO late USING format($q$
                        SELECT FROM (SELECT DISTINCT t.schema_name, t.table_name FROM ONLY %2$s t) t
                         WHERE NOT EXISTS (SELECT FROM %1$I.deleted_record_partition_tables pt
                                            WHERE pt.partition_name OPERATOR(pg_catalog.=) %3$L
                                              AND pt.schema_name OPERATOR(pg_catalog.=) t.schema_name
                                              AND pt.table_name OPERATOR(pg_catalog.=) t.table_name)$q$,
                        ext_schema, part.relation, part.relname);
                    IF late THEN
                        EXECUTE format('DELETE FROM %I.deleted_record_partition_tables WHERE partition_name = $1', ext_schema)
                          USING part.relname;
                        droppable := false;
                    END IF;
                END IF;
                -- A held row may have come in while this step waited for the lock (a transaction
                -- that deleted before the period ended committed since): looked for again.
                IF droppable AND held THEN
                    EXECUTE format('SELECT NOT %I.deleted_record_exists_now($1)', ext_schema) INTO droppable
                      USING format('SELECT FROM ONLY %1$s d WHERE %2$s IS NOT NULL', part.relation, hold_of);
                END IF;
                IF droppable THEN
                    EXECUTE format('SELECT count(*) FROM ONLY %s', part.relation) INTO removed;
                    EXECUTE format('DROP TABLE %s', part.relation);
                    EXECUTE format('DELETE FROM %I.deleted_record_partition_tables WHERE partition_name = $1', ext_schema) USING part.relname;
                    RETURN;
                END IF;
            EXCEPTION WHEN lock_not_available THEN
                busy := part.relation;
            END;
        END IF;
        IF older_than IS NOT NULL THEN
            IF part.is_default OR part.lower_time IS NULL OR part.lower_time < older_cutoff THEN
                EXECUTE format($q$
                    DELETE FROM ONLY %2$s WHERE id IN (SELECT id FROM ONLY %2$s d WHERE id < %1$I.deleted_record_uuid7_floor($1)
                                                          AND deleted_at < $1
                                                          AND %3$s IS NULL
                                                        ORDER BY id LIMIT $2)$q$, ext_schema, part.relation, hold_of)
                   USING older_cutoff, batch_size;
                GET DIAGNOSTICS removed = ROW_COUNT;
                IF removed > 0 THEN
                    RETURN;
                END IF;
            END IF;
        ELSE
            FOR i IN 1 .. array_length(cut_tables, 1) LOOP
                CONTINUE WHEN cut_times[i] = '-infinity'
                           OR NOT (part.is_default OR part.lower_time IS NULL OR part.lower_time < cut_times[i])
                           OR (part.upper_id IS NOT NULL AND part.upper_id <= cut_from[i])
                           OR (part.lower_id IS NOT NULL AND part.lower_id >= cut_until[i]);
                EXECUTE format($q$
                    DELETE FROM ONLY %2$s WHERE id IN (SELECT id FROM ONLY %2$s d WHERE table_name = $1 AND schema_name = $2
                                                          AND id < %1$I.deleted_record_uuid7_floor($3) AND deleted_at < $3
                                                          AND id >= $5 AND ($6::uuid IS NULL OR id < $6)
                                                          AND %3$s IS NULL
                                                        ORDER BY id LIMIT $4)$q$, ext_schema, part.relation, hold_of)
                   USING cut_tables[i], cut_schemas[i], cut_times[i], batch_size, cut_from[i], cut_until[i];
                GET DIAGNOSTICS removed = ROW_COUNT;
                IF removed > 0 THEN
                    RETURN;
                END IF;
            END LOOP;
        END IF;
    END LOOP;
    removed := NULL;
    RETURN;
END
$$;
REVOKE ALL ON FUNCTION deleted_record_purge_step(interval, integer, regclass[]) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_purge_step(interval, integer, regclass[]) IS 'Internal: one bounded step of deleted_record_purge (drops one expired partition or deletes one batch)';
