-- deleted_record_prepare_partitions makes sure the archive has a partition for the current
-- period and the next `ahead` ones (deleted_record.partition_period: day, week or month, in
-- UTC). It runs as the extension's owner (the archive's owner); a period whose rows already
-- went to the DEFAULT partition, or that an existing partition overlaps, is left as it is.
-- For the DBA (and roles granted it): the period is the DBA's setting, which only a superuser
-- can set once the library is loaded, so the library is loaded before it is read (a value an
-- ordinary session set before is then discarded). Attach and purge call
-- deleted_record_prepare_coming_partitions() instead.
CREATE FUNCTION deleted_record_prepare_partitions(ahead integer DEFAULT 3) RETURNS integer
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '2s'
    AS $$
DECLARE
    ext_schema name;
    period text;
    period_start timestamp;
    period_end timestamp;
    lower_bound uuid;
    upper_bound uuid;
    partition_name text;
    created integer := 0;
BEGIN
    IF ahead IS NULL OR ahead < 0 OR ahead > 36 THEN
        RAISE EXCEPTION 'deleted_record_prepare_partitions: ahead must be between 0 and 36, not %', coalesce(ahead::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    -- Loading the library defines deleted_record.partition_period as a superuser setting and
    -- drops a placeholder value an unprivileged role set before (PostgreSQL 15 and later).
    EXECUTE format('SELECT %I.deleted_record_uuid7()', ext_schema);
    period := coalesce(nullif(current_setting('deleted_record.partition_period', true), ''), 'month');
    IF period NOT IN ('day', 'week', 'month') THEN
        RAISE EXCEPTION 'deleted_record.partition_period must be day, week or month, not %', quote_literal(period)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    period_start := date_trunc(period, clock_timestamp() AT TIME ZONE 'UTC');
    FOR i IN 0 .. ahead LOOP
        period_end := period_start + ('1 ' || period)::interval;
        EXECUTE format('SELECT %I.deleted_record_uuid7_floor($1), %I.deleted_record_uuid7_floor($2)', ext_schema, ext_schema)
           INTO lower_bound, upper_bound USING period_start AT TIME ZONE 'UTC', period_end AT TIME ZONE 'UTC';
        partition_name := format('deleted_record_%s_%s', to_char(period_start, 'YYYYMMDD'), to_char(period_end, 'YYYYMMDD'));
        -- Creating a partition locks the archive against its readers: only for periods that no
        -- partition covers yet, and only if the lock comes within lock_timeout (else the rows
        -- wait in the DEFAULT partition and a later call tries again).
        IF NOT EXISTS (SELECT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
                              LATERAL (SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([0-9a-f-]+)''\)'))[1]::uuid AS lower_id,
                                              (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([0-9a-f-]+)''\)'))[1]::uuid AS upper_id) b
                        WHERE i.inhparent = format('%I.deleted_record', ext_schema)::regclass
                          AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
                          AND (b.lower_id IS NULL OR b.lower_id < upper_bound)
                          AND (b.upper_id IS NULL OR b.upper_id > lower_bound)) THEN
        BEGIN
            EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.deleted_record FOR VALUES FROM (%L) TO (%L)',
                           ext_schema, partition_name, ext_schema, lower_bound, upper_bound);
            EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I PRIMARY KEY (id)', ext_schema, partition_name, partition_name || '_pkey');
            EXECUTE format('CREATE INDEX %I ON %I.%I (table_name, object_id)',
                           partition_name || '_table_name_object_id_idx', ext_schema, partition_name);
            -- One transaction's rows (deleted_record_restore_transaction, by xact_id or xact_key).
            EXECUTE format('CREATE INDEX %I ON %I.%I (xact_id)', partition_name || '_xact_id_idx', ext_schema, partition_name);
            EXECUTE format('CREATE INDEX %I ON %I.%I (xact_key)', partition_name || '_xact_key_idx', ext_schema, partition_name);
            EXECUTE format('REVOKE ALL ON TABLE %I.%I FROM PUBLIC', ext_schema, partition_name);
            EXECUTE format('COMMENT ON TABLE %I.%I IS %L', ext_schema, partition_name,
                           format('Archive rows with ids from %s to %s (UTC)', period_start, period_end));
            created := created + 1;
        EXCEPTION
            WHEN duplicate_table OR invalid_object_definition OR check_violation OR lock_not_available THEN
                NULL;  -- made meanwhile, its rows are in the DEFAULT partition, or the archive is busy
        END;
        END IF;
        period_start := period_end;
    END LOOP;
    RETURN created;
END
$$;
REVOKE ALL ON FUNCTION deleted_record_prepare_partitions(integer) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_prepare_partitions(integer) IS 'Creates the archive partitions for the current period and the next ones (for the DBA; attach and purge call deleted_record_prepare_coming_partitions)';

-- deleted_record_prepare_coming_partitions is partition upkeep for everyone (attach and purge
-- call it): the current period and the next three, in the DBA's period, with no knob a caller
-- could turn. It runs as the extension's owner, which may call deleted_record_prepare_partitions.
CREATE FUNCTION deleted_record_prepare_coming_partitions() RETURNS integer
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    created integer;
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    EXECUTE format('SELECT %I.deleted_record_prepare_partitions(3)', ext_schema) INTO created;
    RETURN created;
END
$$;
COMMENT ON FUNCTION deleted_record_prepare_coming_partitions() IS 'Internal: creates the archive partitions of the current period and the next three (called by attach and purge)';
