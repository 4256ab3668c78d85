-- The oracle and the invariant checker of test/random/invariants.py. Installed into a database that
-- has the deleted_record extension; independent of the tables the workload uses.
--
-- The reference log. For every row deleted from an attached table, a plain plpgsql AFTER DELETE row
-- trigger (deleted_record_insert_oracle: it fires right after deleted_record_insert) records the
-- token, to_jsonb(OLD) under the archive's canonical settings (its md5, and the row itself unless it
-- is over 4 kB as text), the expected object_id and the context settings as current_setting() sees
-- them; a BEFORE TRUNCATE statement trigger (deleted_record_truncate_oracle, right after the guard)
-- does the same for every row of ONLY its table. PostgreSQL's own transaction and subtransaction
-- semantics make this log right.
--
-- The oracle must not change what it observes. The extension flushes its buffered archive rows at the
-- end of ANY statement, nested ones too; an oracle that ran an INSERT per row would flush the buffer
-- after every row and hide exactly the bugs this test hunts (rows buffered by an outer statement,
-- flushed inside a subtransaction that then rolls back). So the row oracle runs no SQL statement at
-- all: it only evaluates plpgsql simple expressions (no executor, no ExecutorFinish) and appends its
-- entry to session-level custom settings inv.b<shard> (64 entries each; inv.n counts). Settings are
-- transactional like rows: a rolled-back (sub)transaction takes its entries with it. inv_harvest(),
-- run by the workload just before COMMIT, moves the entries into inv_log.

CREATE SEQUENCE inv_batch;
CREATE TABLE inv_tables (rel regclass PRIMARY KEY, attached boolean NOT NULL);
CREATE TABLE inv_log (
    batch    bigint NOT NULL,        -- harvest number: later batches are later deletions
    n        bigint NOT NULL,        -- order within the batch
    tok      bigint NOT NULL,
    relid    oid NOT NULL,           -- the table or leaf partition the row was deleted from
    op       text NOT NULL,          -- delete | truncate
    md5      text NOT NULL,          -- md5(to_jsonb(row)::text) under canonical settings
    data     jsonb,                  -- to_jsonb(row) itself, unless over 4 kB
    objid    text,                   -- the expected object_id
    actor    text, reason text, metadata text,   -- current_setting(..., true) at that moment
    xid      text NOT NULL, su text NOT NULL, cu text NOT NULL, ts timestamptz NOT NULL,
    PRIMARY KEY (batch, n));
CREATE INDEX inv_log_tok ON inv_log (tok, batch, n);
-- Every token committed into an attached table (AFTER INSERT statement triggers, transactional).
CREATE TABLE inv_ledger (seq bigserial UNIQUE, tok bigint PRIMARY KEY, root text NOT NULL);
-- The archive rows the checker has seen, by token; and how far the incremental check has got.
CREATE TABLE inv_arch (id uuid PRIMARY KEY, tok bigint);
CREATE INDEX inv_arch_tok ON inv_arch (tok);
CREATE TABLE inv_mark (batch bigint NOT NULL, ledger bigint NOT NULL, arch uuid NOT NULL);
CREATE TABLE inv_touched (tok bigint PRIMARY KEY);      -- the tokens one check looks at
INSERT INTO inv_mark VALUES (0, 0, '00000000-0000-0000-0000-000000000000');

-- True when to_jsonb() renders as the archive does (TimeZone UTC, ISO, postgres intervals,
-- shortest-exact floats, hex bytea).
CREATE FUNCTION inv_is_canonical() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RETURN current_setting('TimeZone') = 'UTC' AND current_setting('DateStyle') LIKE 'ISO%'
       AND current_setting('IntervalStyle') = 'postgres' AND current_setting('extra_float_digits')::int >= 1
       AND current_setting('bytea_output') = 'hex';
END $$;

-- The row's jsonb under canonical settings (a plpgsql RETURN is a simple expression: no executor).
CREATE FUNCTION inv_canonical_jsonb(r anyelement) RETURNS jsonb LANGUAGE plpgsql
    SET TimeZone = 'UTC' SET DateStyle = 'ISO, MDY' SET IntervalStyle = 'postgres'
    SET extra_float_digits = 1 SET bytea_output = 'hex'
    AS $$ BEGIN RETURN to_jsonb(r); END $$;

CREATE FUNCTION inv_objid(j jsonb, kind text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN CASE kind WHEN 'id' THEN j->>'id' WHEN 'id,k' THEN jsonb_build_array(j->'id', j->'k')::text END;
END $$;

-- inv_append records one deletion in the settings buffer (simple expressions only, see above).
CREATE FUNCTION inv_append(tok bigint, relid oid, op text, j jsonb, objid text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    n bigint := coalesce(nullif(current_setting('inv.n', true), ''), '0')::bigint;
    shard text := 'inv.b' || (n / 64);
    t text := j::text;
    ignored text;
BEGIN
    ignored := set_config(shard, coalesce(current_setting(shard, true), '') || jsonb_build_object(
        'i', n, 'tok', tok, 'relid', relid, 'op', op, 'md5', md5(t), 'data', CASE WHEN length(t) <= 4096 THEN j END,
        'objid', objid,
        'actor', current_setting('deleted_record.actor', true),
        'reason', current_setting('deleted_record.reason', true),
        'metadata', current_setting('deleted_record.metadata', true),
        'xid', pg_current_xact_id()::text, 'su', session_user, 'cu', current_user,
        'ts', transaction_timestamp())::text || chr(10), false);
    ignored := set_config('inv.n', (n + 1)::text, false);
    RETURN true;
END $$;

-- The row oracle. TG_ARGV[0]: how object_id is formed (id, "id,k" or none).
CREATE FUNCTION inv_oracle_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    j jsonb := CASE WHEN inv_is_canonical() THEN to_jsonb(OLD) ELSE inv_canonical_jsonb(OLD) END;
    ok boolean;
BEGIN
    ok := inv_append((j->>'tok')::bigint, TG_RELID, 'delete', j, inv_objid(j, TG_ARGV[0]));
    RETURN NULL;
END $$;

-- The TRUNCATE oracle: every row of ONLY this table (partitions have their own trigger).
CREATE FUNCTION inv_oracle_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
    ok boolean;
BEGIN
    FOR r IN EXECUTE format('SELECT CASE WHEN inv_is_canonical() THEN to_jsonb(t) ELSE inv_canonical_jsonb(t) END AS j
                               FROM ONLY %s t', TG_RELID::regclass) LOOP
        ok := inv_append((r.j->>'tok')::bigint, TG_RELID, 'truncate', r.j, inv_objid(r.j, TG_ARGV[0]));
    END LOOP;
    RETURN NULL;
END $$;

CREATE FUNCTION inv_ledger_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inv_ledger (tok, root) SELECT a.tok, TG_ARGV[0] FROM added a ON CONFLICT (tok) DO NOTHING;
    RETURN NULL;
END $$;

-- The live tokens of the registered tables, attached or not: views rebuilt by inv_register.
CREATE VIEW inv_live_attached AS SELECT NULL::bigint AS tok WHERE false;
CREATE VIEW inv_live_other AS SELECT NULL::bigint AS tok, NULL::text AS rel WHERE false;

CREATE FUNCTION inv_register(rel regclass, attached boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    a text;
    o text;
BEGIN
    INSERT INTO inv_tables VALUES (rel, attached);
    SELECT coalesce(string_agg(format('SELECT tok FROM %s', t.rel), ' UNION ALL '), 'SELECT NULL::bigint AS tok WHERE false')
      INTO a FROM inv_tables t WHERE t.attached;
    SELECT coalesce(string_agg(format('SELECT tok, %L::text AS rel FROM %s', t.rel::text, t.rel), ' UNION ALL '),
                    'SELECT NULL::bigint AS tok, NULL::text AS rel WHERE false')
      INTO o FROM inv_tables t WHERE NOT t.attached;
    EXECUTE 'CREATE OR REPLACE VIEW inv_live_attached AS ' || a;
    EXECUTE 'CREATE OR REPLACE VIEW inv_live_other AS ' || o;
END $$;

-- inv_watch puts the oracle and the ledger on an attached table (and its partitions).
CREATE FUNCTION inv_watch(rel regclass, objkind text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    p regclass;
BEGIN
    EXECUTE format('CREATE TRIGGER deleted_record_insert_oracle AFTER DELETE ON %s FOR EACH ROW EXECUTE FUNCTION inv_oracle_row(%L)', rel, objkind);
    FOR p IN SELECT relid FROM pg_partition_tree(rel) UNION SELECT rel LOOP   -- the tree is empty for plain tables
        EXECUTE format('CREATE TRIGGER deleted_record_truncate_oracle BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION inv_oracle_truncate(%L)', p, objkind);
    END LOOP;
    EXECUTE format('CREATE TRIGGER inv_ledger AFTER INSERT ON %s REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION inv_ledger_add(%L)', rel, rel::text);
    PERFORM inv_register(rel, true);
END $$;

-- inv_harvest moves the buffered log entries into inv_log; the workload runs it just before COMMIT.
CREATE FUNCTION inv_harvest() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint := coalesce(nullif(current_setting('inv.n', true), ''), '0')::bigint;
    b bigint;
    ignored text;
BEGIN
    IF n = 0 THEN RETURN 0; END IF;
    b := nextval('inv_batch');
    INSERT INTO inv_log (batch, n, tok, relid, op, md5, data, objid, actor, reason, metadata, xid, su, cu, ts)
    SELECT b, (e->>'i')::bigint, (e->>'tok')::bigint, (e->>'relid')::oid, e->>'op', e->>'md5', nullif(e->'data', 'null'), e->>'objid',
           e->>'actor', e->>'reason', e->>'metadata', e->>'xid', e->>'su', e->>'cu', (e->>'ts')::timestamptz
      FROM generate_series(0, (n - 1) / 64) s(i),
           LATERAL regexp_split_to_table(current_setting('inv.b' || s.i), chr(10)) line,
           LATERAL (SELECT line::jsonb) x(e)
     WHERE line <> '';
    FOR i IN 0 .. (n - 1) / 64 LOOP
        ignored := set_config('inv.b' || i, '', false);
    END LOOP;
    ignored := set_config('inv.n', '0', false);
    RETURN n;
END $$;

-- inv_violations lists the violations of the invariants among the tokens in inv_touched, one row
-- per token and kind:
--   missing            committed, deleted (not live) and not archived
--   duplicate          archived more than once
--   live_and_archived  archived although the row is live (rolled-back delete, moved or skipped row)
--   not_attached       archived although never committed into an attached table
--   no_deletion_logged archived, not live, but no deletion of it was ever committed
--   data               archived data differs from the row at its last deletion
--   context            actor, reason or metadata differ from the settings at that moment
--   columns            table_name, schema_name, partition_name, object_id, xact_id, roles or times differ
--   oracle             the test's own bookkeeping is inconsistent (a token live twice or unledgered)
-- A token's reference is its latest logged deletion: moves are logged too, but the row stays live.
CREATE VIEW inv_violations AS
  WITH la AS (SELECT v.tok, count(*) AS n FROM inv_live_attached v JOIN inv_touched x ON x.tok = v.tok GROUP BY v.tok),
       lo AS (SELECT v.tok, min(v.rel) AS rel FROM inv_live_other v JOIN inv_touched x ON x.tok = v.tok GROUP BY v.tok),
       ar AS (SELECT a.tok, count(*) AS n, (array_agg(a.id))[1] AS id FROM inv_arch a JOIN inv_touched x ON x.tok = a.tok GROUP BY a.tok),
       ll AS (SELECT DISTINCT ON (l.tok) l.* FROM inv_log l JOIN inv_touched x ON x.tok = l.tok ORDER BY l.tok, l.batch DESC, l.n DESC),
       st AS (SELECT x.tok, coalesce(la.n, 0) AS live, lo.rel AS other_rel, coalesce(ar.n, 0) AS arch, ar.id AS arch_id,
                     g.tok IS NOT NULL AS ledger, ll.tok IS NOT NULL AS logged
                FROM inv_touched x LEFT JOIN la ON la.tok = x.tok LEFT JOIN lo ON lo.tok = x.tok LEFT JOIN ar ON ar.tok = x.tok
                     LEFT JOIN inv_ledger g ON g.tok = x.tok LEFT JOIN ll ON ll.tok = x.tok),
       cmp AS (
         SELECT st.tok, d.data, d.actor, d.reason, d.metadata, d.table_name, d.schema_name, d.partition_name,
                d.object_id, d.xact_id, d.session_user_name, d.current_user_name, d.deleted_at, d.updated_at,
                l.op AS l_op, l.relid AS l_relid, l.md5 AS l_md5, l.data AS l_data, l.objid AS l_objid,
                nullif(l.actor, '') AS l_actor, nullif(l.reason, '') AS l_reason,
                nullif(l.metadata, '')::jsonb AS l_metadata, l.xid AS l_xid, l.su AS l_su, l.cu AS l_cu, l.ts AS l_ts,
                rc.relname::text AS e_table, rn.nspname::text AS e_schema,
                CASE WHEN pc.relispartition THEN pc.relname::text END AS e_partition
           FROM st JOIN deleted_record d ON d.id = st.arch_id JOIN ll l ON l.tok = st.tok
           JOIN pg_class pc ON pc.oid = l.relid
           JOIN pg_class rc ON rc.oid = CASE WHEN pc.relispartition THEN pg_partition_root(pc.oid) ELSE pc.oid END
           JOIN pg_namespace rn ON rn.oid = rc.relnamespace
          WHERE st.arch = 1 AND st.live = 0 AND st.ledger)
  SELECT st.tok, 'missing' AS kind, format('%s from %s (%s), actor %s, reason %s, metadata %s; not archived',
         CASE l.op WHEN 'truncate' THEN 'truncated' ELSE 'deleted' END, l.relid::regclass, 'xact ' || l.xid,
         coalesce(quote_literal(nullif(l.actor, '')), 'unset'), coalesce(quote_literal(nullif(l.reason, '')), 'unset'),
         coalesce(nullif(l.metadata, ''), 'unset')) AS detail
    FROM st LEFT JOIN ll l ON l.tok = st.tok WHERE st.ledger AND st.live = 0 AND st.arch = 0
  UNION ALL
  SELECT st.tok, 'duplicate', format('archived %s times', st.arch) FROM st WHERE st.arch > 1
  UNION ALL
  SELECT st.tok, 'live_and_archived', format('archived (%s) but still live', st.arch_id) FROM st WHERE st.live > 0 AND st.arch > 0
  UNION ALL
  SELECT st.tok, 'not_attached', format('archived (%s) but never committed into an attached table%s', st.arch_id,
         coalesce('; live in unattached ' || st.other_rel, ''))
    FROM st WHERE st.arch > 0 AND NOT st.ledger
  UNION ALL
  SELECT st.tok, 'no_deletion_logged', format('archived (%s), not live, but no committed deletion logged', st.arch_id)
    FROM st WHERE st.arch = 1 AND st.live = 0 AND st.ledger AND NOT st.logged
  UNION ALL
  SELECT st.tok, 'oracle', format('live %s times, in ledger: %s', st.live, st.ledger)
    FROM st WHERE st.live > 1 OR (st.live > 0 AND NOT st.ledger)
  UNION ALL
  SELECT c.tok, 'data', format('archived data differs from the row at its %s from %s: %s', c.l_op, c.l_relid::regclass,
         CASE WHEN c.l_data IS NULL THEN format('md5 %s, was %s (the row was over 4 kB)', md5(c.data::text), c.l_md5)
              ELSE (SELECT string_agg(format('%s archived %s, was %s', key, coalesce(left(a.value::text, 120), '(absent)'),
                                             coalesce(left(r.value::text, 120), '(absent)')), '; ' ORDER BY key)
                      FROM jsonb_each(c.data) a FULL JOIN jsonb_each(c.l_data) r USING (key)
                     WHERE a.value IS DISTINCT FROM r.value) END)
    FROM cmp c WHERE md5(c.data::text) <> c.l_md5
  UNION ALL
  SELECT c.tok, 'context', format('archived actor %s, reason %s, metadata %s; at the %s from %s they were %s, %s, %s',
         coalesce(quote_literal(c.actor), 'NULL'), coalesce(quote_literal(c.reason), 'NULL'), coalesce(c.metadata::text, 'NULL'),
         c.l_op, c.l_relid::regclass,
         coalesce(quote_literal(c.l_actor), 'NULL'), coalesce(quote_literal(c.l_reason), 'NULL'), coalesce(c.l_metadata::text, 'NULL'))
    FROM cmp c WHERE c.actor IS DISTINCT FROM c.l_actor OR c.reason IS DISTINCT FROM c.l_reason
                  OR c.metadata IS DISTINCT FROM c.l_metadata
  UNION ALL
  SELECT c.tok, 'columns', format('archived %s; expected %s', row(c.table_name, c.schema_name, c.partition_name, c.object_id,
           c.xact_id::text, c.session_user_name, c.current_user_name, c.deleted_at, c.updated_at),
         row(c.e_table, c.e_schema, c.e_partition, c.l_objid, c.l_xid, c.l_su, c.l_cu, c.l_ts, c.l_ts))
    FROM cmp c
   WHERE c.table_name IS DISTINCT FROM c.e_table OR c.schema_name IS DISTINCT FROM c.e_schema
      OR c.partition_name IS DISTINCT FROM c.e_partition OR c.object_id IS DISTINCT FROM c.l_objid
      OR c.xact_id::text IS DISTINCT FROM c.l_xid OR c.session_user_name IS DISTINCT FROM c.l_su
      OR c.current_user_name IS DISTINCT FROM c.l_cu OR c.deleted_at IS DISTINCT FROM c.l_ts
      OR c.updated_at IS DISTINCT FROM c.l_ts;

-- inv_check(full_check) fills inv_touched and returns inv_violations (plus archive rows without a
-- token). Incremental (false): the tokens touched since the last call (new log entries, new ledger
-- entries, new archive rows: archive ids are UUIDv7, increasing within the workload's session).
-- Full (true): every token, the archive re-read from scratch. (jit off: poor row estimates make JIT
-- compile this query for seconds; work_mem: its sorts and hashes stay in memory. Statement plans are
-- cached by plpgsql; inv_touched is emptied with DELETE, which does not invalidate them.)
CREATE FUNCTION inv_check(full_check boolean) RETURNS TABLE (tok bigint, kind text, detail text) LANGUAGE plpgsql
    SET jit = off SET work_mem = '64MB' AS $$
DECLARE
    m inv_mark;
    touched bigint;
BEGIN
    SELECT * INTO m FROM inv_mark;
    DELETE FROM inv_touched;
    IF full_check THEN
        DELETE FROM inv_arch;
        INSERT INTO inv_arch SELECT d.id, (d.data->>'tok')::bigint FROM deleted_record d;
        INSERT INTO inv_touched
        SELECT a.tok FROM inv_arch a WHERE a.tok IS NOT NULL
        UNION SELECT l.tok FROM inv_log l UNION SELECT g.tok FROM inv_ledger g UNION SELECT v.tok FROM inv_live_attached v;
    ELSE
        INSERT INTO inv_arch SELECT d.id, (d.data->>'tok')::bigint FROM deleted_record d WHERE d.id > m.arch;
        INSERT INTO inv_touched
        SELECT a.tok FROM inv_arch a WHERE a.id > m.arch AND a.tok IS NOT NULL
        UNION SELECT l.tok FROM inv_log l WHERE l.batch > m.batch
        UNION SELECT g.tok FROM inv_ledger g WHERE g.seq > m.ledger;
    END IF;
    GET DIAGNOSTICS touched = ROW_COUNT;
    -- Archive rows without a token (whatever their table) are violations too.
    RETURN QUERY SELECT NULL::bigint, 'not_attached', format('archive row %s of %s has no token: %s', d.id, d.table_name, left(d.data::text, 200))
                   FROM inv_arch a JOIN deleted_record d ON d.id = a.id WHERE a.tok IS NULL AND (full_check OR a.id > m.arch);
    UPDATE inv_mark SET batch = coalesce((SELECT max(l.batch) FROM inv_log l), 0),
                        ledger = coalesce((SELECT max(g.seq) FROM inv_ledger g), 0),
                        arch = coalesce((SELECT a.id FROM inv_arch a ORDER BY a.id DESC LIMIT 1), m.arch);
    IF touched = 0 THEN RETURN; END IF;
    -- A few tokens: the plan plpgsql cached at the first call (nested loops over the indexes) is right.
    -- Many: a plan made now, without nested loops (hash joins over whole tables cost milliseconds; a
    -- cached nested-loop plan once took minutes on the full check). No ANALYZE or TRUNCATE here: a
    -- backend that sends catalog invalidations and reads another one's smgr invalidations shows
    -- PostgreSQL-internal noise under valgrind.
    IF full_check OR touched > 300 THEN
        SET LOCAL enable_nestloop = off;
        RETURN QUERY EXECUTE 'SELECT v.tok, v.kind, v.detail FROM inv_violations v';
    ELSE
        RETURN QUERY SELECT v.tok, v.kind, v.detail FROM inv_violations v;
    END IF;
END $$;
