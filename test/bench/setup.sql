-- Schema for scripts/bench.sh: the generated invoices, the archive tables of the contenders that
-- do not use the extension, their trigger functions, and helpers that reset a table between runs.
-- psql variable: source_rows (how many invoices to generate).
\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE EXTENSION deleted_record SCHEMA public;
CREATE SCHEMA bench;

-- The invoices every contender deletes from: 11 columns, about 330 bytes as JSON, and the same
-- values on every run and machine (derived from the invoice number only).
CREATE TABLE bench.invoice_src (
    id         uuid          NOT NULL,
    invoice_no bigint        NOT NULL,
    customer   text          NOT NULL,
    amount     numeric(12,2) NOT NULL,
    currency   char(3)       NOT NULL,
    status     text          NOT NULL,
    issued_at  timestamptz   NOT NULL,
    due_on     date          NOT NULL,
    tags       text[]        NOT NULL,
    lines      jsonb         NOT NULL,
    note       text
);
INSERT INTO bench.invoice_src
SELECT md5('invoice-' || i)::uuid,
       i,
       'Customer ' || i % 5000,
       (i * 7919) % 1000000 * 0.01,
       (ARRAY['EUR', 'USD', 'GBP'])[1 + i % 3],
       (ARRAY['paid', 'open', 'overdue', 'void'])[1 + i % 4],
       timestamptz '2024-01-01 00:00:00+00' + i * interval '17 seconds',
       date '2024-02-01' + (i % 365)::int,
       ARRAY['region-' || i % 11, 'segment-' || i % 7],
       jsonb_build_array(jsonb_build_object('sku', 'SKU-' || lpad((i % 997)::text, 5, '0'),
                                            'qty', 1 + i % 5,
                                            'unit_price', (i * 31) % 10000 * 0.01)),
       'Net 30'
  FROM generate_series(1::bigint, :source_rows) AS i;
ALTER TABLE bench.invoice_src ADD PRIMARY KEY (invoice_no);

-- Archives of the hand-written contenders: the CTE (archive_cte) and the statement-level trigger
-- (archive_stmt). LIKE copies the columns of the extension's deleted_record with their types and
-- "C" collations, so they cannot drift apart. The extension's archive is partitioned and its parent
-- has no index: each partition has PRIMARY KEY (id) and indexes on (table_name, object_id), xact_id
-- and xact_key, so these tables get exactly those four indexes (checked below against every partition of the
-- extension's archive). Ids are time-ordered, like the original article's gen_ulid() default and the
-- extension's own ids, so that every primary key grows at its right edge.
CREATE TABLE bench.archive_cte (LIKE public.deleted_record INCLUDING ALL);
ALTER TABLE bench.archive_cte ALTER COLUMN id SET DEFAULT public.deleted_record_uuid7();
ALTER TABLE bench.archive_cte ADD PRIMARY KEY (id);
CREATE INDEX ON bench.archive_cte (table_name, object_id);
CREATE INDEX ON bench.archive_cte (xact_id);
CREATE INDEX ON bench.archive_cte (xact_key);
CREATE TABLE bench.archive_stmt (LIKE bench.archive_cte INCLUDING ALL);

-- bench.index_shapes lists a table's indexes as "UNIQUE? btree (columns)" (names left out).
CREATE FUNCTION bench.index_shapes(tbl regclass) RETURNS text[]
    LANGUAGE sql
AS $$
    SELECT array_agg(regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE (UNIQUE )?INDEX .* USING ', '\1') ORDER BY 1)
      FROM pg_index i WHERE i.indrelid = tbl;
$$;
DO $$
DECLARE
    leaf regclass;
BEGIN
    PERFORM public.deleted_record_prepare_partitions();
    FOR leaf IN SELECT relid FROM pg_partition_tree('public.deleted_record') WHERE isleaf LOOP
        IF bench.index_shapes('bench.archive_cte') IS DISTINCT FROM bench.index_shapes(leaf)
           OR bench.index_shapes('bench.archive_stmt') IS DISTINCT FROM bench.index_shapes(leaf) THEN
            RAISE EXCEPTION 'the hand-written archives'' indexes % differ from those of the extension''s partition %: %',
                bench.index_shapes('bench.archive_cte'), leaf, bench.index_shapes(leaf);
        END IF;
    END LOOP;
END;
$$;

-- The original article's trigger, unchanged except that the table name is schema-qualified
-- (its table lives in schema "article" so that it does not collide with the extension's) and that
-- the id default is deleted_record_uuid7() where the article has gen_ulid(): both time-ordered.
CREATE SCHEMA article;
CREATE TABLE article.deleted_record (
    id         uuid         PRIMARY KEY DEFAULT public.deleted_record_uuid7(),
    data       jsonb        NOT NULL,
    deleted_at timestamptz  NOT NULL DEFAULT current_timestamp,
    object_id  uuid         NOT NULL,
    table_name varchar(200) NOT NULL,
    updated_at timestamptz  NOT NULL DEFAULT current_timestamp
);
CREATE FUNCTION article.deleted_record_insert() RETURNS trigger
    LANGUAGE plpgsql
AS $$
    BEGIN
        EXECUTE 'INSERT INTO article.deleted_record (data, object_id, table_name) VALUES ($1, $2, $3)'
        USING to_jsonb(OLD.*), OLD.id, TG_TABLE_NAME;

        RETURN OLD;
    END;
$$;

-- Statement-level AFTER DELETE trigger: archives the transition table in one set-based INSERT.
CREATE FUNCTION bench.archive_old_rows() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO bench.archive_stmt (id, data, object_id, table_name, schema_name, actor, reason,
                                    metadata, xact_id, session_user_name, current_user_name, xact_key)
    SELECT public.deleted_record_uuid7(), to_jsonb(o), o.id::text, TG_TABLE_NAME, TG_TABLE_SCHEMA,
           nullif(current_setting('deleted_record.actor', true), ''),
           nullif(current_setting('deleted_record.reason', true), ''),
           nullif(current_setting('deleted_record.metadata', true), '')::jsonb,
           pg_current_xact_id()::text::bigint, session_user, current_user, (SELECT public.deleted_record_uuid7()::text)
      FROM old_rows AS o;
    RETURN NULL;
END;
$$;

-- bench.attach gives a table the archiving trigger of a contender (none and cte have none).
CREATE FUNCTION bench.attach(tbl regclass, contender text) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    CASE contender
    WHEN 'none', 'cte' THEN
        NULL;
    WHEN 'plpgsql' THEN
        EXECUTE format('CREATE TRIGGER article_archive AFTER DELETE ON %s
                        FOR EACH ROW EXECUTE FUNCTION article.deleted_record_insert()', tbl);
    WHEN 'stmt' THEN
        EXECUTE format('CREATE TRIGGER stmt_archive AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION bench.archive_old_rows()', tbl);
    WHEN 'ext' THEN
        PERFORM public.deleted_record_attach(tbl);
    END CASE;
END;
$$;

-- bench.detach removes every contender's trigger from a table.
CREATE FUNCTION bench.detach(tbl regclass) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    EXECUTE format('DROP TRIGGER IF EXISTS article_archive ON %s', tbl);
    EXECUTE format('DROP TRIGGER IF EXISTS stmt_archive ON %s', tbl);
    IF EXISTS (SELECT FROM public.deleted_record_attached a WHERE a.table_name = tbl) THEN
        PERFORM public.deleted_record_detach(tbl);
    END IF;
END;
$$;

-- bench.reset_archives empties every archive table.
CREATE FUNCTION bench.reset_archives() RETURNS void
    LANGUAGE sql
AS $$
    TRUNCATE bench.archive_cte, bench.archive_stmt, article.deleted_record, public.deleted_record;
$$;

-- bench.archived counts the rows a contender has archived since the last reset.
CREATE FUNCTION bench.archived(contender text) RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    n bigint;
BEGIN
    CASE contender
    WHEN 'none'    THEN n := 0;
    WHEN 'cte'     THEN SELECT count(*) INTO n FROM bench.archive_cte;
    WHEN 'stmt'    THEN SELECT count(*) INTO n FROM bench.archive_stmt;
    WHEN 'plpgsql' THEN SELECT count(*) INTO n FROM article.deleted_record;
    WHEN 'ext'     THEN SELECT count(*) INTO n FROM public.deleted_record;
    END CASE;
    RETURN n;
END;
$$;

-- bench.recreate (re)builds bench.<name> from the first nrows invoices, with the primary key on id,
-- gives it the contender's trigger and empties the archives.
CREATE FUNCTION bench.recreate(name text, nrows bigint, contender text) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    EXECUTE format('DROP TABLE IF EXISTS bench.%I', name);
    EXECUTE format('CREATE TABLE bench.%I (LIKE bench.invoice_src)', name);
    EXECUTE format('INSERT INTO bench.%I SELECT * FROM bench.invoice_src WHERE invoice_no <= %s', name, nrows);
    EXECUTE format('ALTER TABLE bench.%I ADD PRIMARY KEY (id)', name);
    PERFORM bench.attach(format('bench.%I', name)::regclass, contender);
    PERFORM bench.reset_archives();
END;
$$;

-- bench.refill puts back the rows deleted from bench.<name> so that it holds the first nrows
-- invoices again, then gives it the contender's trigger (only) and empties the archives.
CREATE FUNCTION bench.refill(name text, nrows bigint, contender text) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM bench.detach(format('bench.%I', name)::regclass);
    EXECUTE format('INSERT INTO bench.%1$I SELECT s.* FROM bench.invoice_src s
                     WHERE s.invoice_no <= %2$s
                       AND NOT EXISTS (SELECT FROM bench.%1$I t WHERE t.invoice_no = s.invoice_no)', name, nrows);
    PERFORM bench.attach(format('bench.%I', name)::regclass, contender);
    PERFORM bench.reset_archives();
END;
$$;

-- bench.outcome reports "deleted archived" for a run on bench.<name>, which held nrows rows before it.
CREATE FUNCTION bench.outcome(name text, nrows bigint, contender text) RETURNS text
    LANGUAGE plpgsql
AS $$
DECLARE
    remaining bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM bench.%I', name) INTO remaining;
    RETURN (nrows - remaining) || ' ' || bench.archived(contender);
END;
$$;

-- Restore benchmark. bench.restore_archive keeps the archive rows of the deleted invoices (made
-- once, by deleting them through the extension) and bench.restore_ids their ids; before every run
-- bench.restore_reset empties the table and writes those archive rows back, unmarked, in id order
-- (the layout the extension's own multi-insert gave them), so every run starts from the same state.
CREATE FUNCTION bench.restore_reset(name text) RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    EXECUTE format('TRUNCATE bench.%I', name);
    TRUNCATE public.deleted_record;
    INSERT INTO public.deleted_record SELECT * FROM bench.restore_archive ORDER BY id;
END;
$$;

-- The hand-written set-based restore: mark the archive rows and insert what they held, in one
-- statement (a plpgsql function, so that ids is a bound parameter, as for the extension's own
-- statements and for an application's). jsonb_populate_record is called once per row in FROM: in
-- the select list, (jsonb_populate_record(...)).* would call it once per column.
CREATE FUNCTION bench.restore_set(ids uuid[]) RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    n bigint;
BEGIN
    WITH r AS (UPDATE public.deleted_record SET restored_at = now(), restored_by = current_user
                WHERE id = ANY (ids) RETURNING data)
    INSERT INTO bench.restore_inv SELECT p.* FROM r, jsonb_populate_record(NULL::bench.restore_inv, r.data) AS p;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END;
$$;

-- The row-by-row restore: the same, one archive row at a time.
CREATE FUNCTION bench.restore_row(ids uuid[]) RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    archive_id uuid;
    archived jsonb;
    n bigint := 0;
BEGIN
    FOREACH archive_id IN ARRAY ids LOOP
        UPDATE public.deleted_record SET restored_at = now(), restored_by = current_user
         WHERE id = archive_id RETURNING data INTO archived;
        INSERT INTO bench.restore_inv SELECT * FROM jsonb_populate_record(NULL::bench.restore_inv, archived);
        n := n + 1;
    END LOOP;
    RETURN n;
END;
$$;

-- bench.restore_outcome reports "rows equal marked" after a run: rows in bench.<name>, how many
-- of them equal their original invoice in every column, and how many archive rows of the table
-- are marked restored (restored_at and restored_by set).
CREATE FUNCTION bench.restore_outcome(name text) RETURNS text
    LANGUAGE plpgsql
AS $$
DECLARE
    total bigint;
    equal bigint;
    marked bigint;
BEGIN
    EXECUTE format('SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT FROM bench.invoice_src s
                                                                     WHERE s.invoice_no = t.invoice_no AND row(s.*)::text = row(t.*)::text))
                      FROM bench.%I t', name) INTO total, equal;
    SELECT count(*) INTO marked FROM public.deleted_record
     WHERE schema_name = 'bench' AND table_name = name AND restored_at IS NOT NULL AND restored_by = current_user;
    RETURN total || ' ' || equal || ' ' || marked;
END;
$$;
