-- Schema for the scale benchmark of scripts/bench.sh (--only scale), loaded after setup.sql into
-- each of its two databases. Archive rows of past months are written directly into the archive's
-- partitions (as the superuser), the way they would be there had the invoices been deleted then:
-- ids are UUIDv7 of their moment (deleted_record_uuid7_floor plus distinct low bits), rows are
-- spread over the month (a day's margin at each end), data is an invoice of the benchmark's shape
-- (its id the row's object_id), table bench.oltp.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE SCHEMA scale;

-- scale.month_start(k) is the start (UTC) of the k-th month before the current one (1 = last month).
CREATE FUNCTION scale.month_start(k integer) RETURNS timestamptz
    LANGUAGE sql STABLE
    RETURN (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => k)) AT TIME ZONE 'UTC';

-- scale.partition_name(k) is the name deleted_record_prepare_partitions gives that month's partition.
CREATE FUNCTION scale.partition_name(k integer) RETURNS text
    LANGUAGE sql STABLE
    RETURN format('deleted_record_%s_%s', to_char(scale.month_start(k) AT TIME ZONE 'UTC', 'YYYYMMDD'),
                  to_char(scale.month_start(k - 1) AT TIME ZONE 'UTC', 'YYYYMMDD'));

-- scale.archive_id(t, i) is a UUIDv7 of the moment t whose last 12 hex digits are i.
CREATE FUNCTION scale.archive_id(t timestamptz, i bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE
    RETURN overlay(public.deleted_record_uuid7_floor(t)::text PLACING '7000-8000-' || lpad(to_hex(i), 12, '0') FROM 15)::uuid;

-- scale.row_time(k, i, n) is the moment the i-th of n rows of month k was archived.
CREATE FUNCTION scale.row_time(k integer, i bigint, n bigint) RETURNS timestamptz
    LANGUAGE sql STABLE
    RETURN scale.month_start(k) + interval '1 day'
           + (i - 1) * ((scale.month_start(k - 1) - scale.month_start(k) - interval '2 days') / n);

-- scale.fill_template(k, n) creates scale.template with n generated archive rows of month k, the
-- oldest month of the benchmark: the other months are copies of it with their own ids, times and
-- objects, and a purged month is rebuilt from it. (Created in the transaction that fills it, so
-- that with wal_level = minimal, as while the archives are built, it is written without WAL.)
CREATE FUNCTION scale.fill_template(k integer, n bigint) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    CREATE TABLE scale.template (LIKE public.deleted_record INCLUDING DEFAULTS);
    INSERT INTO scale.template (id, data, deleted_at, object_id, table_name, schema_name, xact_id,
                                session_user_name, current_user_name, updated_at)
    SELECT scale.archive_id(t.at, i), to_jsonb(inv), t.at, inv.id::text, 'oltp', 'bench', 100000000 * k + i,
           'app', 'app', t.at
      FROM generate_series(1::bigint, n) AS i,
           LATERAL (SELECT scale.row_time(k, i, n) AS at) AS t,
           LATERAL (SELECT md5('archived-' || k || '-' || i)::uuid AS id,
                           i AS invoice_no,
                           'Customer ' || i % 5000 AS customer,
                           ((i * 7919) % 1000000 * 0.01)::numeric(12,2) AS amount,
                           (ARRAY['EUR', 'USD', 'GBP'])[1 + i % 3]::char(3) AS currency,
                           (ARRAY['paid', 'open', 'overdue', 'void'])[1 + i % 4] AS status,
                           timestamptz '2024-01-01 00:00:00+00' + i * interval '17 seconds' AS issued_at,
                           date '2024-02-01' + (i % 365)::int AS due_on,
                           ARRAY['region-' || i % 11, 'segment-' || i % 7] AS tags,
                           jsonb_build_array(jsonb_build_object('sku', 'SKU-' || lpad((i % 997)::text, 5, '0'),
                                                                'qty', 1 + i % 5,
                                                                'unit_price', (i * 31) % 10000 * 0.01)) AS lines,
                           'Net 30' AS note) AS inv;
END;
$$;

-- scale.create_month(k, k_template, n, tbl) creates the table tbl (in public) holding the n
-- archive rows of month k, copied from scale.template (the rows of month k_template) with the ids,
-- times and objects of month k, with the indexes every archive partition has and a CHECK
-- constraint of month k's partition bounds, so that attaching it as that partition needs no scan.
CREATE FUNCTION scale.create_month(k integer, k_template integer, n bigint, tbl text) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    EXECUTE format('CREATE TABLE public.%I (LIKE public.deleted_record INCLUDING DEFAULTS)', tbl);
    IF k = k_template THEN
        EXECUTE format('INSERT INTO public.%I SELECT * FROM scale.template', tbl);
    ELSE
        EXECUTE format($q$
            INSERT INTO public.%I (id, data, deleted_at, object_id, table_name, schema_name, xact_id,
                                   session_user_name, current_user_name, updated_at)
            SELECT scale.archive_id(t.at, r.i), jsonb_set(s.data, '{id}', to_jsonb(o.id)), t.at, o.id, s.table_name,
                   s.schema_name, 100000000 * $1 + r.i, s.session_user_name, s.current_user_name, t.at
              FROM scale.template s,
                   LATERAL (SELECT ('x' || right(s.id::text, 12))::bit(48)::bigint AS i) AS r,
                   LATERAL (SELECT scale.row_time($1, r.i, $2) AS at) AS t,
                   LATERAL (SELECT md5('archived-' || $1 || '-' || r.i)::uuid::text AS id) AS o$q$, tbl)
        USING k, n;
    END IF;
    PERFORM scale.finish_month(k, tbl);
END;
$$;

-- scale.finish_month(k, tbl) gives tbl the indexes every archive partition has and a CHECK
-- constraint of month k's partition bounds, so that attaching it as that partition needs no scan.
CREATE FUNCTION scale.finish_month(k integer, tbl text) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    EXECUTE format('ALTER TABLE public.%I ADD CONSTRAINT %I PRIMARY KEY (id)', tbl, tbl || '_pkey');
    EXECUTE format('CREATE INDEX %I ON public.%I (table_name, object_id)', tbl || '_table_name_object_id_idx', tbl);
    EXECUTE format('CREATE INDEX %I ON public.%I (xact_id)', tbl || '_xact_id_idx', tbl);
    EXECUTE format('CREATE INDEX %I ON public.%I (xact_key)', tbl || '_xact_key_idx', tbl);
    EXECUTE format('ALTER TABLE public.%I ADD CONSTRAINT %I CHECK (id >= %L::uuid AND id < %L::uuid)', tbl, tbl || '_bounds',
                   public.deleted_record_uuid7_floor(scale.month_start(k)), public.deleted_record_uuid7_floor(scale.month_start(k - 1)));
    EXECUTE format('REVOKE ALL ON TABLE public.%I FROM PUBLIC', tbl);
END;
$$;

-- scale.use_lookup_months(keep, months, total) gives the archive total past monthly partitions
-- for the lookup measurements: the oldest keep of the data months 1..months (as use_months), an
-- empty stand-in for each other month up to months, and empty months months+1..total before
-- them; the young and the old archive then have the same partitions, the old one's full.
CREATE FUNCTION scale.use_lookup_months(keep integer, months integer, total integer) RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    empty text;
BEGIN
    -- Stand-ins out first (a data month takes their place), then the data months, then the rest in.
    FOR k IN months - keep + 1 .. months LOOP
        empty := 'scale_empty_' || k;
        IF EXISTS (SELECT FROM pg_inherits WHERE inhrelid = to_regclass(format('public.%I', empty))) THEN
            EXECUTE format('ALTER TABLE public.deleted_record DETACH PARTITION public.%I', empty);
        END IF;
    END LOOP;
    PERFORM scale.use_months(keep, months);
    FOR k IN 1 .. total LOOP
        empty := 'scale_empty_' || k;
        IF to_regclass(format('public.%I', empty)) IS NULL THEN
            EXECUTE format('CREATE TABLE public.%I (LIKE public.deleted_record INCLUDING DEFAULTS)', empty);
            PERFORM scale.finish_month(k, empty);
        END IF;
        IF k > months - keep AND k <= months THEN
            NULL;  -- a data month
        ELSIF NOT EXISTS (SELECT FROM pg_inherits WHERE inhrelid = format('public.%I', empty)::regclass) THEN
            EXECUTE format('ALTER TABLE public.deleted_record ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)',
                           empty, public.deleted_record_uuid7_floor(scale.month_start(k)),
                           public.deleted_record_uuid7_floor(scale.month_start(k - 1)));
        END IF;
    END LOOP;
END;
$$;

-- scale.drop_lookup_months(total) detaches and drops the empty months of use_lookup_months.
CREATE FUNCTION scale.drop_lookup_months(total integer) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    FOR k IN 1 .. total LOOP
        IF to_regclass(format('public.scale_empty_%s', k)) IS NOT NULL THEN
            IF EXISTS (SELECT FROM pg_inherits WHERE inhrelid = format('public.scale_empty_%s', k)::regclass) THEN
                EXECUTE format('ALTER TABLE public.deleted_record DETACH PARTITION public.scale_empty_%s', k);
            END IF;
            EXECUTE format('DROP TABLE public.scale_empty_%s', k);
        END IF;
    END LOOP;
END;
$$;

-- scale.attach_month(k) makes month k's table a partition of the archive (no-op when it is one).
CREATE FUNCTION scale.attach_month(k integer) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_inherits WHERE inhrelid = format('public.%I', scale.partition_name(k))::regclass) THEN
        EXECUTE format('ALTER TABLE public.deleted_record ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)',
                       scale.partition_name(k), public.deleted_record_uuid7_floor(scale.month_start(k)),
                       public.deleted_record_uuid7_floor(scale.month_start(k - 1)));
    END IF;
END;
$$;

-- scale.detach_month(k) takes month k's partition out of the archive (no-op when it is not in it).
CREATE FUNCTION scale.detach_month(k integer) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_inherits WHERE inhrelid = format('public.%I', scale.partition_name(k))::regclass) THEN
        EXECUTE format('ALTER TABLE public.deleted_record DETACH PARTITION public.%I', scale.partition_name(k));
    END IF;
END;
$$;

-- scale.use_months(keep, months) makes the archive hold the oldest keep of months 1..months (each
-- month's table is attached as its partition, or detached and kept aside).
CREATE FUNCTION scale.use_months(keep integer, months integer) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    FOR k IN 1 .. months LOOP
        IF k > months - keep THEN
            PERFORM scale.attach_month(k);
        ELSE
            PERFORM scale.detach_month(k);
        END IF;
    END LOOP;
END;
$$;

-- scale.use_default(tbl) makes tbl the archive's DEFAULT partition, in place of the one it has.
-- In the database that stands for the 1.0 design the archive has no other partition: every row
-- goes to that one table with its two indexes, as in 1.0's unpartitioned archive.
CREATE FUNCTION scale.use_default(tbl text) RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    current_default regclass;
BEGIN
    SELECT c.oid INTO current_default
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'public.deleted_record'::regclass AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT';
    IF current_default = format('public.%I', tbl)::regclass THEN
        RETURN;
    END IF;
    IF current_default IS NOT NULL THEN
        EXECUTE format('ALTER TABLE public.deleted_record DETACH PARTITION %s', current_default);
    END IF;
    EXECUTE format('ALTER TABLE public.deleted_record ATTACH PARTITION public.%I DEFAULT', tbl);
END;
$$;
