-- An archive that reports on itself, without a counter any delete must update: what the
-- archive holds per attached table and per partition, read from the catalog, from ANALYZE's
-- statistics and from exact counts bounded in total. Partitions are counted exactly newest
-- first while their pages add up to at most exact_pages in all (512 pages, 4 MB, by default:
-- tens of milliseconds whatever the number or size of partitions); older ones are estimated
-- from their statistics (reltuples and the most common values of table_name), and every figure
-- that is an estimate says so (estimated). A partition never analyzed is counted exactly
-- whatever the budget (there is nothing to estimate from; autovacuum analyzes it soon).
-- Oldest and newest deletions are min(deleted_at) and max(deleted_at) where counted exactly;
-- in estimated partitions they are the deletion times of the rows at each end of the id order
-- (which differ from min/max only for rows whose deleted_at does not follow their id: imported
-- rows), and the table's row says estimated. Rows awaiting purge leave out the rows a legal hold
-- keeps (where counted exactly). Erasures are counted exactly from the tombstones.
--
-- deleted_record_stats_report (internal) does the work as the archive's owner (it reads the
-- partitions and their statistics, which no reader is granted); PUBLIC may not execute it.
-- exact_pages: the budget of pages counted exactly, over all partitions together.
CREATE FUNCTION deleted_record_stats_report(exact_pages integer DEFAULT 512, OUT kind text, OUT table_name regclass, OUT partition_name regclass,
                                            OUT period_from timestamptz, OUT period_until timestamptz,
                                            OUT rows_archived bigint, OUT rows_restored bigint, OUT rows_erased bigint,
                                            OUT bytes bigint, OUT oldest_deleted_at timestamptz, OUT newest_deleted_at timestamptz,
                                            OUT retention interval, OUT rows_awaiting_purge bigint, OUT estimated boolean)
    RETURNS SETOF record
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    ext_schema name;
    archive regclass;
    now_utc timestamptz := clock_timestamp();
    part record;
    pstats jsonb;           -- per partition name: {mcv, mcf, mcf_sum, nd, rnf} from pg_stats
    ps jsonb;
    st_mcv text[];
    st_mcf real[];
    st_nd real;
    w_i integer[];
    w_table text[];
    w_from uuid[];
    w_until uuid[];
    k integer;
    -- Attached tables, by position: the relation, its retention and purge cutoff, and the
    -- windows of names (schema, table, from id, until id) its attachment archived rows under.
    tabs regclass[];
    retentions interval[];
    cutoffs timestamptz[];
    windows jsonb;          -- [[position, schema, table, from, until, cutoff], ...]
    n_rows double precision[];
    n_restored double precision[];
    n_bytes double precision[];
    n_purge double precision[];
    n_estimated boolean[];
    n_oldest timestamptz[];
    n_newest timestamptz[];
    wrecs jsonb;            -- the windows as records: {i, s, t, f, u, c (cutoff), cf (its id floor)}
    hold_of text;
    tab record;
    w record;
    g record;
    freq double precision;
    part_rows double precision;
    exact boolean;
    cutoff timestamptz;
    probe timestamptz;
    found_at timestamptz;
    pass integer;
    parts jsonb := '[]';
    p jsonb;
    i integer;
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'deleted_record';
    archive := format('%I.deleted_record', ext_schema)::regclass;

    tabs := '{}'; retentions := '{}'; cutoffs := '{}'; windows := '[]'; wrecs := '[]';
    n_oldest := '{}'; n_newest := '{}';
    n_rows := '{}'; n_restored := '{}'; n_bytes := '{}'; n_purge := '{}'; n_estimated := '{}';
    FOR tab IN EXECUTE format($q$
        SELECT a.relation, a.retention,
               coalesce((SELECT jsonb_agg(jsonb_build_array(w.schema_name, w.table_name, w.from_id, w.until_id) ORDER BY w.from_id)
                           FROM %1$I.deleted_record_attachment w WHERE w.attachment_id = a.attachment_id),
                        (SELECT jsonb_build_array(jsonb_build_array(n.nspname, c.relname, NULL, NULL))
                           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = a.relation)) AS names
          FROM %1$I.deleted_record_attachments() a
         ORDER BY a.relation::text$q$, ext_schema)
    LOOP
        i := coalesce(array_length(tabs, 1), 0) + 1;
        cutoff := NULL;
        IF tab.retention IS NOT NULL THEN
            BEGIN
                cutoff := least(now_utc - tab.retention, now_utc);
            EXCEPTION WHEN datetime_field_overflow THEN
                cutoff := '-infinity';
            END;
        END IF;
        tabs := tabs || tab.relation;
        retentions := retentions || tab.retention;
        cutoffs := cutoffs || cutoff;
        n_rows := n_rows || 0::double precision; n_restored := n_restored || 0::double precision;
        n_bytes := n_bytes || 0::double precision; n_purge := n_purge || 0::double precision;
        n_estimated := n_estimated || false;
        n_oldest := n_oldest || NULL::timestamptz; n_newest := n_newest || NULL::timestamptz;
        SELECT windows || coalesce(jsonb_agg(jsonb_build_array(i, n.value -> 0, n.value -> 1, n.value -> 2, n.value -> 3, cutoff)), '[]')
          INTO windows FROM jsonb_array_elements(tab.names) n;
    END LOOP;
    EXECUTE format($q$
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'i', (w.value ->> 0)::integer, 's', w.value ->> 1, 't', w.value ->> 2,
                   'f', coalesce(w.value ->> 3, '00000000-0000-0000-0000-000000000000'),
                   'u', coalesce(w.value ->> 4, 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
                   'c', w.value ->> 5,
                   'cf', CASE WHEN w.value ->> 5 IS NOT NULL THEN %1$I.deleted_record_uuid7_floor((w.value ->> 5)::timestamptz) END)), '[]')
          FROM jsonb_array_elements($1) w$q$, ext_schema) INTO wrecs USING windows;
    -- Rows a legal hold keeps are not awaiting purge (asked only while a hold is in place).
    EXECUTE format('SELECT EXISTS (SELECT FROM %I.deleted_record_holds WHERE released_at IS NULL)', ext_schema) INTO exact;
    IF exact THEN
        EXECUTE format('SELECT %I.deleted_record_hold_rule(''a'')', ext_schema) INTO hold_of;
    ELSE
        hold_of := 'NULL';
    END IF;

    -- The windows as arrays (read once per estimated partition), and the statistics of every
    -- partition in one look at pg_stats.
    SELECT array_agg((x.value ->> 0)::integer ORDER BY x.n), array_agg(x.value ->> 2 ORDER BY x.n),
           array_agg((x.value ->> 3)::uuid ORDER BY x.n), array_agg((x.value ->> 4)::uuid ORDER BY x.n)
      INTO w_i, w_table, w_from, w_until
      FROM jsonb_array_elements(windows) WITH ORDINALITY x(value, n);
    SELECT coalesce(jsonb_object_agg(t.tablename, t.o), '{}') INTO pstats
      FROM (SELECT s.tablename,
                   jsonb_build_object('mcv', max(s.most_common_vals::text) FILTER (WHERE s.attname = 'table_name'),
                                      'mcf', max(s.most_common_freqs::text) FILTER (WHERE s.attname = 'table_name'),
                                      'mcf_sum', max((SELECT sum(f) FROM unnest(s.most_common_freqs) f)) FILTER (WHERE s.attname = 'table_name'),
                                      'nd', max(s.n_distinct) FILTER (WHERE s.attname = 'table_name'),
                                      'rnf', max(s.null_frac) FILTER (WHERE s.attname = 'restored_at')) AS o
              FROM pg_stats s
             WHERE s.schemaname = ext_schema AND s.attname IN ('table_name', 'restored_at')
             GROUP BY s.tablename) t;

    -- Partitions, oldest first (the default partition last), with their periods and sizes; which
    -- are counted exactly (newest first, within the budget), and their size: exact where counted,
    -- from the page counts of the catalog (as of the last VACUUM or ANALYZE) where estimated.
    FOR part IN EXECUTE format($q$
        SELECT x.*, CASE WHEN x.exact THEN pg_total_relation_size(x.relation) ELSE x.catalog_bytes END AS total_bytes
          FROM (SELECT c.oid::regclass AS relation, c.relname::text AS relname, c.relpages, c.reltuples,
                       sum(pg_relation_size(c.oid) / current_setting('block_size')::bigint)
                           OVER (ORDER BY b.is_default DESC, b.upper_id DESC) <= $2 OR c.reltuples < 0 AS exact,
                       (c.relpages::bigint + coalesce((SELECT t.relpages FROM pg_class t WHERE t.oid = c.reltoastrelid), 0)
                        + coalesce((SELECT sum(ic.relpages) FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
                                     WHERE x.indrelid = c.oid), 0)) * current_setting('block_size')::bigint AS catalog_bytes,
                       b.is_default, b.lower_id, b.upper_id,
                       %1$I.deleted_record_uuid7_time(b.lower_id) AS lower_time, %1$I.deleted_record_uuid7_time(b.upper_id) AS upper_time
                  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
                       LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS bound) e,
                       LATERAL (SELECT e.bound = 'DEFAULT' AS is_default,
                                       (regexp_match(e.bound, 'FROM \(''([0-9a-f-]+)''\)'))[1]::uuid AS lower_id,
                                       (regexp_match(e.bound, 'TO \(''([0-9a-f-]+)''\)'))[1]::uuid AS upper_id) b
                 WHERE i.inhparent = $1) x
         ORDER BY x.is_default, x.upper_id$q$, ext_schema) USING archive, exact_pages
    LOOP
        exact := coalesce(part.exact, false);
        IF exact THEN
            -- One scan: each table's rows, those archived under one of its names within that
            -- name's window (other rows: i NULL).
            part_rows := 0;
            FOR g IN EXECUTE format($q$
                SELECT w.i, count(*) AS n, count(a.restored_at) AS restored, sum(pg_column_size(a.*)) AS bytes,
                       count(*) FILTER (WHERE a.deleted_at < w.c AND a.id < w.cf AND %2$s IS NULL) AS expired,
                       min(a.deleted_at) AS oldest, max(a.deleted_at) AS newest
                  FROM ONLY %1$s a
                  LEFT JOIN jsonb_to_recordset($1) w(i integer, s text, t text, f uuid, u uuid, c timestamptz, cf uuid)
                    ON a.table_name = w.t AND a.schema_name = w.s AND a.id >= w.f AND a.id < w.u
                 GROUP BY 1$q$, part.relation, hold_of) USING wrecs
            LOOP
                part_rows := part_rows + g.n;
                CONTINUE WHEN g.i IS NULL;
                n_rows[g.i] := n_rows[g.i] + g.n;
                n_restored[g.i] := n_restored[g.i] + g.restored;
                n_bytes[g.i] := n_bytes[g.i] + g.bytes;
                n_purge[g.i] := n_purge[g.i] + g.expired;
                n_oldest[g.i] := least(n_oldest[g.i], g.oldest);
                n_newest[g.i] := greatest(n_newest[g.i], g.newest);
            END LOOP;
        ELSE
            -- Estimated from ANALYZE's statistics: the share of each table name among the
            -- partition's rows (schemas and windows are told apart only where counted exactly).
            part_rows := part.reltuples;
            ps := pstats -> part.relname;
            st_mcv := (ps ->> 'mcv')::text[];
            st_mcf := (ps ->> 'mcf')::real[];
            st_nd := (ps ->> 'nd')::real;
            FOR k IN 1 .. coalesce(array_length(w_i, 1), 0) LOOP
                CONTINUE WHEN (w_from[k] IS NOT NULL AND part.upper_id IS NOT NULL AND part.upper_id <= w_from[k])
                           OR (w_until[k] IS NOT NULL AND part.lower_id IS NOT NULL AND part.lower_id >= w_until[k]);
                -- The window reaches into this partition: the table's figures are estimates, even
                -- when its share is too small to show in the statistics.
                n_estimated[w_i[k]] := true;
                IF st_mcv IS NOT NULL AND w_table[k] = ANY (st_mcv) THEN
                    freq := st_mcf[array_position(st_mcv, w_table[k])];
                ELSIF st_nd IS NOT NULL THEN
                    freq := greatest(0, 1 - coalesce((ps ->> 'mcf_sum')::double precision, 0))
                            / greatest(1, CASE WHEN st_nd >= 0 THEN st_nd ELSE -st_nd * part_rows END
                                          - coalesce(array_length(st_mcv, 1), 0));
                ELSE
                    freq := 0;
                END IF;
                CONTINUE WHEN freq * part_rows < 0.5;
                n_rows[w_i[k]] := n_rows[w_i[k]] + freq * part_rows;
                n_restored[w_i[k]] := n_restored[w_i[k]] + freq * part_rows * (1 - coalesce((ps ->> 'rnf')::double precision, 1));
                n_bytes[w_i[k]] := n_bytes[w_i[k]] + freq * part.total_bytes;
                cutoff := cutoffs[w_i[k]];
                IF cutoff IS NOT NULL AND cutoff > '-infinity' THEN
                    IF part.upper_time IS NOT NULL AND part.upper_time <= cutoff THEN
                        n_purge[w_i[k]] := n_purge[w_i[k]] + freq * part_rows;
                    ELSIF part.lower_time IS NOT NULL AND part.lower_time < cutoff THEN
                        -- The share of the partition's period that lies before the cutoff.
                        n_purge[w_i[k]] := n_purge[w_i[k]] + freq * part_rows
                                        * extract(epoch FROM cutoff - part.lower_time) / extract(epoch FROM part.upper_time - part.lower_time);
                    END IF;
                END IF;
            END LOOP;
        END IF;
        parts := parts || jsonb_build_array(jsonb_build_object('relation', part.relation::oid, 'is_default', part.is_default,
                                                               'lower_id', part.lower_id, 'upper_id', part.upper_id, 'exact', exact));
        kind := 'partition';
        table_name := NULL;
        partition_name := part.relation;
        period_from := part.lower_time;
        period_until := part.upper_time;
        rows_archived := round(part_rows);
        rows_restored := NULL;
        rows_erased := NULL;
        bytes := part.total_bytes;
        oldest_deleted_at := NULL;
        newest_deleted_at := NULL;
        retention := NULL;
        rows_awaiting_purge := NULL;
        estimated := NOT exact;
        RETURN NEXT;
    END LOOP;

    FOR i IN 1 .. coalesce(array_length(tabs, 1), 0) LOOP
        kind := 'table';
        table_name := tabs[i];
        partition_name := NULL;
        period_from := NULL;
        period_until := NULL;
        rows_archived := round(n_rows[i]);
        rows_restored := round(n_restored[i]);
        bytes := round(n_bytes[i]);
        retention := retentions[i];
        rows_awaiting_purge := CASE WHEN cutoffs[i] IS NULL THEN NULL ELSE round(n_purge[i]) END;
        estimated := n_estimated[i];
        EXECUTE format($q$
            SELECT count(*) FROM %I.deleted_record_erasure e
              JOIN jsonb_array_elements($1) w
                ON (w.value ->> 0)::integer = $2 AND e.table_name = w.value ->> 2 AND e.schema_name = w.value ->> 1
               AND e.archive_id >= coalesce((w.value ->> 3)::uuid, '00000000-0000-0000-0000-000000000000')
               AND (w.value ->> 4 IS NULL OR e.archive_id < (w.value ->> 4)::uuid)$q$, ext_schema)
           INTO rows_erased USING windows, i;
        -- Oldest and newest deletion: exact (min and max) from the partitions counted exactly;
        -- from the others, probe the table's windows (oldest first) and in each the estimated
        -- partitions it overlaps, from each end, until one has a row; the default partition,
        -- which may hold any period, is always probed. Each probe is one index scan with the
        -- names and ids as plain conditions, which the planner can match to an index.
        oldest_deleted_at := n_oldest[i];
        newest_deleted_at := n_newest[i];
        FOR pass IN 1 .. 2 LOOP
            FOR w IN SELECT x.value ->> 1 AS schema_name, x.value ->> 2 AS table_name,
                            coalesce((x.value ->> 3)::uuid, '00000000-0000-0000-0000-000000000000') AS from_id,
                            coalesce((x.value ->> 4)::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff') AS until_id
                       FROM jsonb_array_elements(windows) WITH ORDINALITY x(value, n)
                      WHERE (x.value ->> 0)::integer = i
                      ORDER BY CASE WHEN pass = 1 THEN x.n ELSE -x.n END LOOP
                probe := NULL;
                FOR p IN SELECT e.value FROM jsonb_array_elements(parts) WITH ORDINALITY e(value, n)
                          WHERE NOT (e.value ->> 'exact')::boolean
                            AND ((e.value ->> 'is_default')::boolean
                                 OR ((e.value ->> 'upper_id')::uuid > w.from_id AND (e.value ->> 'lower_id')::uuid < w.until_id))
                          ORDER BY (e.value ->> 'is_default')::boolean DESC, CASE WHEN pass = 1 THEN e.n ELSE -e.n END LOOP
                    EXECUTE format('SELECT a.deleted_at FROM ONLY %s a
                                     WHERE a.table_name = $1 AND a.schema_name = $2 AND a.id >= $3 AND a.id < $4
                                     ORDER BY a.id %s LIMIT 1', (p ->> 'relation')::oid::regclass,
                                   CASE WHEN pass = 1 THEN 'ASC' ELSE 'DESC' END)
                       INTO found_at USING w.table_name, w.schema_name, w.from_id, w.until_id;
                    IF pass = 1 THEN
                        probe := least(probe, found_at);
                    ELSE
                        probe := greatest(probe, found_at);
                    END IF;
                    EXIT WHEN found_at IS NOT NULL AND NOT (p ->> 'is_default')::boolean;
                END LOOP;
                IF pass = 1 THEN
                    oldest_deleted_at := least(oldest_deleted_at, probe);
                ELSE
                    newest_deleted_at := greatest(newest_deleted_at, probe);
                END IF;
                EXIT WHEN probe IS NOT NULL;
            END LOOP;
        END LOOP;
        RETURN NEXT;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION deleted_record_stats_report(integer) FROM PUBLIC;
COMMENT ON FUNCTION deleted_record_stats_report(integer) IS 'Internal: what deleted_record_stats shows (exact for small partitions, estimated from statistics for large ones)';

-- deleted_record_stats: one row per attached table (kind 'table') and per archive partition
-- (kind 'partition'). For the DBA and roles granted it (SELECT on the view and EXECUTE on
-- deleted_record_stats_report(integer)), like the purge.
-- Names are text, as in the archive (schema_name, table_name): an application filters by them
-- with a plain string, which a regclass column would refuse ('invalid input syntax for type oid').
CREATE VIEW deleted_record_stats AS
SELECT s.kind, tn.nspname::text AS schema_name, t.relname::text AS table_name, p.relname::text AS partition_name,
       s.period_from, s.period_until, s.rows_archived, s.rows_restored,
       s.rows_erased, s.bytes, s.oldest_deleted_at, s.newest_deleted_at, s.retention, s.rows_awaiting_purge, s.estimated
  FROM deleted_record_stats_report() s
  LEFT JOIN pg_catalog.pg_class t ON t.oid OPERATOR(pg_catalog.=) s.table_name::pg_catalog.oid
  LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid OPERATOR(pg_catalog.=) t.relnamespace
  LEFT JOIN pg_catalog.pg_class p ON p.oid OPERATOR(pg_catalog.=) s.partition_name::pg_catalog.oid;
REVOKE ALL ON deleted_record_stats FROM PUBLIC;
COMMENT ON VIEW deleted_record_stats IS 'What the archive holds: per attached table (kind = ''table'') and per partition (kind = ''partition''); estimated says where a figure comes from statistics';
COMMENT ON COLUMN deleted_record_stats.schema_name IS 'Table rows: the attached table''s schema';
COMMENT ON COLUMN deleted_record_stats.table_name IS 'Table rows: the attached table''s name (as in the archive''s table_name)';
COMMENT ON COLUMN deleted_record_stats.partition_name IS 'Partition rows: the archive partition''s name (in the extension''s schema)';
COMMENT ON COLUMN deleted_record_stats.rows_archived IS 'Archive rows (of the table, or in the partition)';
COMMENT ON COLUMN deleted_record_stats.rows_restored IS 'Of those, rows put back by deleted_record_restore';
COMMENT ON COLUMN deleted_record_stats.rows_erased IS 'Rows erased (tombstones in deleted_record_erasure), exact';
COMMENT ON COLUMN deleted_record_stats.bytes IS 'Table: bytes of its archive rows; partition: its size with indexes';
COMMENT ON COLUMN deleted_record_stats.oldest_deleted_at IS 'Earliest deleted_at of the table''s archive rows (min; exact unless estimated)';
COMMENT ON COLUMN deleted_record_stats.newest_deleted_at IS 'Latest deleted_at of the table''s archive rows (max; exact unless estimated)';
COMMENT ON COLUMN deleted_record_stats.rows_awaiting_purge IS 'Rows past the table''s retention that the next purge removes, not those a legal hold keeps (NULL: no retention)';
COMMENT ON COLUMN deleted_record_stats.estimated IS 'true when a count or size comes from ANALYZE statistics rather than an exact count (exact counting has a total budget, newest partitions first)';
