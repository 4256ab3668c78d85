#!/usr/bin/python3
"""Randomised invariant test of deleted_record: every committed delete archived exactly once, with its context.

Run by test/shell/invariants.sh against a throwaway cluster (PG* environment variables); prints
"ok - ..." / "not ok - ..." lines (the wrapper numbers them as TAP) and "# ..." diagnostics.

1. Three deterministic scenarios (subtransactions inside exception blocks that used to take archive
   rows with them): each its own check, each printed as a psql script when it fails.
2. A seeded random workload over attached tables (plain, keyless, partitioned, a cascade chain with an
   unattached middle level) and unattached ones, with random extra triggers (AFTER row/statement,
   BEFORE row skipping rows; with and without exception blocks, raising and catching, running DML),
   savepoints, DO blocks and functions deleting row by row in exception blocks, large deletes over
   the flush thresholds, cross-partition moves, TRUNCATE (CASCADE), inserts, context set per statement
   in every way, COMMIT / ROLLBACK / PREPARE TRANSACTION and intentional errors. After every
   transaction test/random/oracle.sql's inv_check() verifies the invariants against a reference log.
3. A self-test: violations planted in a rolled-back transaction must all be reported.
4. The lifecycle phase (database inv_lifecycle): three sessions delete, restore (the same archive rows
   at once too, keyless tables included), restore by transaction, dry-run, erase and purge; checked
   by token against what the functions report (lc_check), plus retention that must follow a renamed,
   dropped or detached table's identity and dry runs that must leave the transaction as they found
   it. Then its own self-test.

Everything random comes from one seed (--seed / INVARIANTS_SEED). On a failure the program prints the
failing transaction's statements, writes a self-contained psql script that reproduces it (verified and
shrunk on a fresh database when possible) and the whole statement history, and says where they are.

Environment (each also an option, see --help): INVARIANTS_SEED, INVARIANTS_TRANSACTIONS (default 450,
about 4,700 statements), INVARIANTS_EXCEPTION_BLOCKS (all | no-triggers | none), INVARIANTS_ONLY
(all | scenarios | random | lifecycle), INVARIANTS_LIFECYCLE (1 | 0: leave the lifecycle phase out),
INVARIANTS_LIFECYCLE_ROUNDS (100), INVARIANTS_LIFECYCLE_SESSIONS (3), INVARIANTS_ARTIFACTS (default /tmp), INVARIANTS_SHRINK_SECONDS,
INVARIANTS_MAX_SECONDS; INVARIANTS_PROFILE=1 prints each check's time and a digest of the tables'
contents after each transaction to stderr (two runs of a seed must print the same digests).
See test/random/README.md.
"""

import argparse
import os
import random
import re
import sys
import time

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE_SQL = open(os.path.join(HERE, "oracle.sql")).read()

# ---------------------------------------------------------------------------------------------
# The workload's tables. Attached: acct (plain, bigserial key), note (no key: object_id NULL),
# meas (range-partitioned, composite key, default partition), gp and gch (top and bottom of a
# cascade chain). Not attached: ch (the middle of the chain), memo (a second cascaded child of gp,
# without children of its own) and side. memo is created before ch: its foreign-key trigger on gp
# fires first, so memo's triggers run before ch's foreign-key trigger on gch runs a statement (which
# would write out the buffered gp rows first and hide a subtransaction losing them).
TABLES_SQL = r"""
SET TimeZone = 'UTC';
CREATE SEQUENCE inv_tok;
CREATE TABLE inv_stats (name text PRIMARY KEY, n bigint NOT NULL CHECK (n >= 0));
INSERT INTO inv_stats VALUES ('fired', 0), ('quota', 0);
CREATE TABLE acct (id bigserial PRIMARY KEY, tok bigint NOT NULL DEFAULT nextval('inv_tok'), tag text, name text,
    amount numeric, at timestamptz, f float8, flags int[], blob bytea, doc jsonb, span interval, pad text);
CREATE TABLE note (tok bigint NOT NULL DEFAULT nextval('inv_tok'), tag text, body text, at timestamptz);
CREATE SEQUENCE meas_id;
CREATE TABLE meas (id bigint NOT NULL DEFAULT nextval('meas_id'), k int NOT NULL, tok bigint NOT NULL DEFAULT nextval('inv_tok'),
    tag text, v float8, at timestamptz, pad text, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
CREATE TABLE meas_p0 PARTITION OF meas FOR VALUES FROM (0) TO (100);
CREATE TABLE meas_p1 PARTITION OF meas FOR VALUES FROM (100) TO (200);
CREATE TABLE meas_p2 PARTITION OF meas FOR VALUES FROM (200) TO (300);
CREATE TABLE meas_pd PARTITION OF meas DEFAULT;
CREATE TABLE gp (id bigserial PRIMARY KEY, tok bigint NOT NULL DEFAULT nextval('inv_tok'), tag text, name text, pad text);
CREATE TABLE memo (id bigserial PRIMARY KEY, gp_id bigint NOT NULL REFERENCES gp ON DELETE CASCADE,
    tok bigint NOT NULL DEFAULT nextval('inv_tok'), tag text, body text);
CREATE TABLE ch (id bigserial PRIMARY KEY, gp_id bigint NOT NULL REFERENCES gp ON DELETE CASCADE,
    tok bigint NOT NULL DEFAULT nextval('inv_tok'), tag text, note text);
CREATE TABLE gch (id bigserial PRIMARY KEY, ch_id bigint NOT NULL REFERENCES ch ON DELETE CASCADE,
    tok bigint NOT NULL DEFAULT nextval('inv_tok'), tag text, v numeric, pad text);
CREATE TABLE side (id bigserial PRIMARY KEY, tok bigint NOT NULL DEFAULT nextval('inv_tok'), tag text, pad text);
CREATE INDEX ON acct (tok); CREATE INDEX ON note (tok); CREATE INDEX ON meas (tok); CREATE INDEX ON gp (tok);
CREATE INDEX ON memo (tok); CREATE INDEX ON memo (gp_id); CREATE INDEX ON ch (tok); CREATE INDEX ON ch (gp_id); CREATE INDEX ON gch (tok); CREATE INDEX ON gch (ch_id);
CREATE INDEX ON side (tok);
SELECT deleted_record_attach('acct'), deleted_record_attach('note'), deleted_record_attach('meas'),
       deleted_record_attach('gp'), deleted_record_attach('gch');
SELECT inv_watch('acct', 'id'), inv_watch('note', 'none'), inv_watch('meas', 'id,k'),
       inv_watch('gp', 'id'), inv_watch('gch', 'id');
SELECT inv_register('ch', false), inv_register('memo', false), inv_register('side', false);

-- inv_xt: the random extra triggers. TG_ARGV: mode, modulus and remainder selecting the rows
-- ("hit") on which the mode's error happens (statement level: always), and for BEFORE triggers the
-- modulus and remainder of the rows skipped (RETURN NULL; 0 = none).
CREATE FUNCTION inv_xt() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    mode text := TG_ARGV[0];
    hit boolean := true;
    skip boolean := false;
    x int;
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        hit := TG_ARGV[1]::int > 0 AND OLD.tok % TG_ARGV[1]::int = TG_ARGV[2]::int;
        skip := TG_ARGV[3]::int > 0 AND OLD.tok % TG_ARGV[3]::int = TG_ARGV[4]::int;
    END IF;
    IF mode = 'dml' THEN
        UPDATE inv_stats SET n = n + 1 WHERE name = 'fired';
    ELSIF mode = 'delete' THEN
        DELETE FROM note WHERE tok = (SELECT min(tok) FROM note);
    ELSIF mode = 'exc_noerr' THEN
        BEGIN
            UPDATE inv_stats SET n = n + 1 WHERE name = 'fired';
        EXCEPTION WHEN raise_exception THEN NULL;
        END;
    ELSIF mode = 'exc_raise' THEN
        BEGIN
            UPDATE inv_stats SET n = n + 1 WHERE name = 'fired';
            IF hit THEN RAISE EXCEPTION 'inv: caught by the trigger'; END IF;
        EXCEPTION WHEN raise_exception THEN NULL;
        END;
    ELSIF mode = 'exc_expr' THEN
        BEGIN
            x := 1 / (CASE WHEN hit THEN 0 ELSE 1 END);
        EXCEPTION WHEN division_by_zero THEN NULL;
        END;
    ELSIF mode = 'exc_check1' THEN
        BEGIN
            UPDATE inv_stats SET n = CASE WHEN hit THEN -1 ELSE n + 1 END WHERE name = 'fired';
        EXCEPTION WHEN check_violation THEN NULL;
        END;
    ELSIF mode = 'exc_check2' THEN
        BEGIN
            UPDATE inv_stats SET n = n + 1 WHERE name = 'fired';
            IF hit THEN UPDATE inv_stats SET n = n - 1 WHERE name = 'quota'; END IF;
        EXCEPTION WHEN check_violation THEN NULL;
        END;
    ELSIF mode = 'exc_select' THEN
        BEGIN
            PERFORM n FROM inv_stats WHERE name = 'fired';
            IF hit THEN RAISE EXCEPTION 'inv: caught by the trigger'; END IF;
        EXCEPTION WHEN raise_exception THEN NULL;
        END;
    ELSIF mode = 'exc_delete' THEN
        BEGIN
            DELETE FROM note WHERE tok = (SELECT min(tok) FROM note);
            IF hit THEN RAISE EXCEPTION 'inv: caught by the trigger'; END IF;
        EXCEPTION WHEN raise_exception THEN NULL;
        END;
    END IF;
    IF TG_WHEN = 'BEFORE' AND TG_LEVEL = 'ROW' THEN
        IF skip THEN RETURN NULL; END IF;
        RETURN OLD;
    END IF;
    RETURN NULL;
END $$;

-- inv_delete_each deletes the matching rows one by one, each in its own exception block, undoing
-- every undo_every-th by raising; with actor, each deletion gets its own actor.
CREATE FUNCTION inv_delete_each(tbl regclass, pred text, undo_every int, actor text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    t bigint;
    i int := 0;
    kept int := 0;
BEGIN
    FOR t IN EXECUTE format('SELECT tok FROM %s WHERE %s ORDER BY tok LIMIT 40', tbl, pred) LOOP
        i := i + 1;
        BEGIN
            IF actor IS NOT NULL THEN PERFORM set_config('deleted_record.actor', actor || '-' || i, true); END IF;
            EXECUTE format('DELETE FROM %s WHERE tok = $1', tbl) USING t;
            IF undo_every > 0 AND i % undo_every = 0 THEN RAISE EXCEPTION 'inv: undo %', i; END IF;
            kept := kept + 1;
        EXCEPTION WHEN raise_exception THEN NULL;
        END;
    END LOOP;
    RETURN kept;
END $$;

-- The same without exception blocks.
CREATE FUNCTION inv_delete_each_plain(tbl regclass, pred text, actor text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    t bigint;
    i int := 0;
BEGIN
    FOR t IN EXECUTE format('SELECT tok FROM %s WHERE %s ORDER BY tok LIMIT 40', tbl, pred) LOOP
        i := i + 1;
        IF actor IS NOT NULL THEN PERFORM set_config('deleted_record.actor', actor || '-' || i, true); END IF;
        EXECUTE format('DELETE FROM %s WHERE tok = $1', tbl) USING t;
    END LOOP;
    RETURN i;
END $$;
"""

KINDS = [
    ("missing", "every committed delete from an attached table is archived"),
    ("duplicate", "no deleted row is archived twice"),
    ("live_and_archived", "rows still live (rolled-back deletes, moved or skipped rows) are not archived"),
    ("not_attached", "rows of unattached tables and rolled-back inserts are never archived"),
    ("no_deletion_logged", "nothing is archived without a committed deletion"),
    ("data", "archived data equals the row at its deletion"),
    ("context", "actor, reason and metadata equal the settings at the moment of deletion"),
    ("columns", "table_name, schema_name, partition_name, object_id, xact_id, role names and times are right"),
    ("oracle", "the test's own bookkeeping is consistent (tokens unique, every live token in the ledger)"),
]

# Trigger modes: the ones with an exception block, and the ones without.
EXC_MODES = ["exc_noerr", "exc_raise", "exc_raise", "exc_expr", "exc_check1", "exc_check2", "exc_check2",
             "exc_select", "exc_delete"]
PLAIN_MODES = ["noop", "dml", "delete"]
ROW_TARGETS = ["acct", "note", "meas", "meas_p1", "gp", "ch", "memo", "gch", "side"]
DELETE_TARGETS = ["acct", "acct", "note", "meas", "meas", "meas_p0", "meas_p1", "meas_p2", "meas_pd",
                  "gp", "gp", "ch", "memo", "gch", "side"]
ATTACHED = {"acct", "note", "meas", "gp", "gch"}


def sql_literal(s):
    return "'" + s.replace("'", "''") + "'"


class Failure(Exception):
    pass


class Tap:
    def __init__(self):
        self.failed = 0

    def ok(self, desc):
        print(f"ok - {desc}", flush=True)

    def not_ok(self, desc, diag=""):
        self.failed += 1
        print(f"not ok - {desc}", flush=True)
        self.diag(diag)

    def check(self, cond, desc, diag=""):
        if cond:
            self.ok(desc)
        else:
            self.not_ok(desc, diag)

    @staticmethod
    def diag(text):
        for line in str(text).splitlines():
            print(f"#   {line}" if line else "#", flush=True)


def connect(dbname, app="invariants"):
    conn = psycopg2.connect(dbname=dbname, application_name=app)
    conn.autocommit = True
    return conn


# ---------------------------------------------------------------------------------------------
# Deterministic scenarios: each a standalone psql script (its own tables), then a query whose
# result must equal the expected one.
SCENARIOS = [
    dict(
        name="scenario 1: a second AFTER DELETE row trigger that runs a statement and catches an error "
             "loses no archive row",
        sql=r"""
CREATE TABLE sc1_item (id int PRIMARY KEY, label text);
CREATE TABLE sc1_counter (n int NOT NULL);
INSERT INTO sc1_counter VALUES (0);
INSERT INTO sc1_item SELECT g, 'item ' || g FROM generate_series(1, 10) g;
SELECT deleted_record_attach('sc1_item');
CREATE FUNCTION sc1_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        UPDATE sc1_counter SET n = n + 1;
        IF OLD.id = 5 THEN RAISE EXCEPTION 'item 5 is special'; END IF;
    EXCEPTION WHEN raise_exception THEN
        NULL;  -- ignored on purpose
    END;
    RETURN NULL;
END $$;
CREATE TRIGGER sc1_count_delete AFTER DELETE ON sc1_item FOR EACH ROW EXECUTE FUNCTION sc1_count_delete();
BEGIN;
SELECT deleted_record_set_context('scenario-1', 'row trigger catches an error', '{"scenario": 1}');
DELETE FROM sc1_item;
COMMIT;
""",
        check="""SELECT (SELECT count(*) FROM sc1_item) || ' live, ' || count(*) || ' archived ('
                      || coalesce(string_agg(data->>'id', ',' ORDER BY (data->>'id')::int), '') || '), '
                      || count(*) FILTER (WHERE actor = 'scenario-1' AND reason = 'row trigger catches an error'
                                          AND metadata = '{"scenario": 1}') || ' with the context'
                 FROM deleted_record WHERE table_name = 'sc1_item'""",
        expected="0 live, 10 archived (1,2,3,4,5,6,7,8,9,10), 10 with the context",
    ),
    dict(
        name="scenario 2: an audit trigger with an exception block on an unattached cascaded child table "
             "loses no archived parent",
        sql=r"""
CREATE TABLE sc2_customer (id int PRIMARY KEY, name text);
CREATE TABLE sc2_order (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES sc2_customer ON DELETE CASCADE, total numeric);
CREATE TABLE sc2_audit (order_id int, at timestamptz DEFAULT now());
INSERT INTO sc2_customer SELECT g, 'customer ' || g FROM generate_series(1, 6) g;
-- the orders of customers 1-3 are large: auditing them fails (and the audit trigger catches that)
INSERT INTO sc2_order SELECT c * 10 + i, c, CASE WHEN c <= 3 THEN 150 ELSE 50 END + i FROM generate_series(1, 6) c, generate_series(1, 2) i;
SELECT deleted_record_attach('sc2_customer');   -- sc2_order is not attached
CREATE FUNCTION sc2_audit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        INSERT INTO sc2_audit (order_id) VALUES (OLD.id);
        IF OLD.total > 100 THEN RAISE EXCEPTION 'order % needs a manual review', OLD.id; END IF;
    EXCEPTION WHEN raise_exception THEN
        NULL;  -- the audit is best effort
    END;
    RETURN NULL;
END $$;
CREATE TRIGGER sc2_audit_order AFTER DELETE ON sc2_order FOR EACH ROW EXECUTE FUNCTION sc2_audit_order();
BEGIN;
SET LOCAL deleted_record.actor = 'scenario-2';
SET LOCAL deleted_record.reason = 'cascade with an audit trigger';
DELETE FROM sc2_customer;
COMMIT;
""",
        check="""SELECT (SELECT count(*) FROM sc2_customer) || ' live, ' || count(*) || ' archived ('
                      || coalesce(string_agg(data->>'id', ',' ORDER BY (data->>'id')::int), '') || '), '
                      || count(*) FILTER (WHERE actor = 'scenario-2' AND reason = 'cascade with an audit trigger')
                      || ' with the context, ' || (SELECT count(*) FROM deleted_record WHERE table_name = 'sc2_order')
                      || ' orders archived'
                 FROM deleted_record WHERE table_name = 'sc2_customer'""",
        expected="0 live, 6 archived (1,2,3,4,5,6), 6 with the context, 0 orders archived",
    ),
    dict(
        name="scenario 3: an AFTER DELETE FOR EACH STATEMENT trigger updating a stats table inside "
             "BEGIN ... EXCEPTION loses no archive row",
        sql=r"""
CREATE TABLE sc3_event (id int PRIMARY KEY, payload text);
CREATE TABLE sc3_stats (name text PRIMARY KEY, n bigint NOT NULL CHECK (n >= 0));
INSERT INTO sc3_stats VALUES ('delete statements', 0), ('quota', 0);
INSERT INTO sc3_event SELECT g, 'event ' || g FROM generate_series(1, 300) g;
SELECT deleted_record_attach('sc3_event');
CREATE FUNCTION sc3_count_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        UPDATE sc3_stats SET n = n + 1 WHERE name = 'delete statements';
        UPDATE sc3_stats SET n = n - 1 WHERE name = 'quota';   -- the quota is exhausted: check_violation
    EXCEPTION WHEN check_violation THEN
        NULL;  -- statistics are best effort
    END;
    RETURN NULL;
END $$;
CREATE TRIGGER sc3_count_statement AFTER DELETE ON sc3_event FOR EACH STATEMENT EXECUTE FUNCTION sc3_count_statement();
BEGIN;
SELECT set_config('deleted_record.actor', 'scenario-3', true), set_config('deleted_record.metadata', '{"scenario": 3}', true);
DELETE FROM sc3_event;
COMMIT;
""",
        check="""SELECT (SELECT count(*) FROM sc3_event) || ' live, ' || count(*) || ' archived, '
                      || count(DISTINCT data->>'id') || ' distinct, '
                      || count(*) FILTER (WHERE actor = 'scenario-3' AND metadata = '{"scenario": 3}') || ' with the context'
                 FROM deleted_record WHERE table_name = 'sc3_event'""",
        expected="0 live, 300 archived, 300 distinct, 300 with the context",
    ),
]


def run_scenarios(tap, maint, db_prefix):
    for i, sc in enumerate(SCENARIOS, 1):
        db = f"{db_prefix}_scenario{i}"
        with maint.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {db}")
            cur.execute(f"CREATE DATABASE {db}")
        conn = connect(db)
        try:
            cur = conn.cursor()
            cur.execute("CREATE EXTENSION deleted_record")
            error = None
            try:
                cur.execute(sc["sql"])
            except psycopg2.Error as e:
                error = str(e).strip()
                cur.execute("ROLLBACK")
            try:
                cur.execute(sc["check"])
                got = cur.fetchone()[0]
            except psycopg2.Error as e:
                got = f"the check query failed: {str(e).strip()}"
        finally:
            conn.close()
        with maint.cursor() as cur:
            cur.execute(f"DROP DATABASE {db}")
        desc = f"{sc['name']} ({got})"
        if error is None and got == sc["expected"]:
            tap.ok(desc)
        else:
            tap.not_ok(desc, f"expected: {sc['expected']}\nactual:   {got}" + (f"\nerror: {error}" if error else "")
                       + "\nreproduce with psql in a new database:\nCREATE EXTENSION deleted_record;"
                       + sc["sql"] + sc["check"].strip() + ";")


# ---------------------------------------------------------------------------------------------
class Workload:
    def __init__(self, args, tap, maint):
        self.args = args
        self.tap = tap
        self.maint = maint
        self.rng = random.Random(args.seed)
        # exception blocks in the extra triggers, and in the DO blocks and functions deleting row by row
        self.exc_triggers = args.exception_blocks == "all"
        self.exc = args.exception_blocks != "none"
        self.db = f"{args.db_prefix}_random"
        self.history = []          # every statement the workload session ran, in order
        self.base = []             # setup + initial data: the prefix of every reproduction script
        self.triggers = {}         # name -> CREATE TRIGGER statement of the extra triggers in place
        self.n_trig = 0
        self.n_tag = 0
        self.n_ctx = 0
        self.stats = dict(statements=0, committed=0, rolled_back=0, aborted=0, prepared=0, errors_expected=0)
        self.action_counts = {}
        self.unexpected = []       # (txn, sql, error)
        self.failures = []         # dict(txn=, statements=, triggers=, violations=[(tok, kind, detail)])
        self.reported = set()      # tokens already reported (not re-reported by the full checks)
        self.check_seconds = 0.0

    # -- plumbing -------------------------------------------------------------------------------
    def setup(self, dry=False):
        """Creates the database, the oracle, the tables and the initial data. dry: only records the
        statements (for --print-setup)."""
        if dry:
            class Dry:
                def execute(self, sql):
                    pass
            self.cur = Dry()
        else:
            with self.maint.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {self.db}")
                cur.execute(f"CREATE DATABASE {self.db}")
            self.conn = connect(self.db, "invariants")
            self.cur = self.conn.cursor()
            self.chk = connect(self.db, "invariants-check").cursor()
            self.chk.execute("SHOW max_prepared_transactions")
            self.can_prepare = int(self.chk.fetchone()[0]) > 0
        for sql in ["CREATE EXTENSION deleted_record", ORACLE_SQL, TABLES_SQL]:
            self.raw(sql)
        self.txn_stmts = []
        self.refill(initial=True)
        self.base = list(self.history)

    def raw(self, sql):
        """Runs a statement outside the random transactions (setup, DDL); errors are fatal."""
        self.history.append(sql)
        self.cur.execute(sql)

    def stmt(self, sql, expect=None):
        """Runs one statement of the current transaction. expect: a regex the error must match when the
        statement is meant to fail. Returns True when it succeeded."""
        self.history.append(sql)
        self.txn_stmts.append(sql)
        self.stats["statements"] += 1
        try:
            self.cur.execute(sql)
            return True
        except psycopg2.Error as e:
            msg = (e.pgerror or str(e)).strip()
            if expect and re.search(expect, msg):
                self.stats["errors_expected"] += 1
            else:
                self.unexpected.append((self.txn_no, sql, msg))
            self.aborted = True
            return False

    def count_action(self, name):
        self.action_counts[name] = self.action_counts.get(name, 0) + 1

    def new_tag(self, prefix="t"):
        self.n_tag += 1
        return f"{prefix}{self.n_tag}"

    # -- data -----------------------------------------------------------------------------------
    def insert_sql(self, table, n, tag):
        b = self.n_tag * 1000 % 99991
        if table == "acct":
            return [f"""INSERT INTO acct (tag, name, amount, at, f, flags, blob, doc, span, pad)
SELECT '{tag}', 'name ' || g, round((g + {b}) * 1.37, 2), timestamptz '2024-01-01 00:00:00+00' + (g + {b}) * interval '97 minutes 13.5 seconds',
       CASE WHEN g % 53 = 0 THEN 'NaN'::float8 WHEN g % 59 = 0 THEN '-Infinity' ELSE (g + {b}) / 7.0 END,
       ARRAY[g, {b}], decode(md5((g + {b})::text), 'hex'), jsonb_build_object('g', g, 'b', {b}, 'l', jsonb_build_array(g, 'x')),
       make_interval(days => g % 40, secs => g * 1.5), repeat('p', (g * 7) % 200)
  FROM generate_series(1, {n}) g"""]
        if table == "note":
            return [f"""INSERT INTO note (tag, body, at) SELECT '{tag}', 'note ' || g || ' ' || repeat('n', g % 30),
       timestamptz '2024-06-01 00:00:00+00' + (g + {b}) * interval '1 day 1 second' FROM generate_series(1, {n}) g"""]
        if table == "meas":
            return [f"""INSERT INTO meas (tag, k, v, at, pad) SELECT '{tag}', (g * 37 + {b}) % 400, g * 0.1 + {b},
       timestamptz '2025-01-01 00:00:00+00' + g * interval '1 minute', md5(g::text) FROM generate_series(1, {n}) g"""]
        if table == "side":
            return [f"INSERT INTO side (tag, pad) SELECT '{tag}', 'side ' || g FROM generate_series(1, {n}) g"]
        if table == "gp":  # a family: n parents, 1-3 children each, 1-3 grandchildren per child, memos
            c, gc, mm = self.rng.randint(1, 3), self.rng.randint(1, 3), self.rng.randint(1, 3)
            return [f"INSERT INTO gp (tag, name, pad) SELECT '{tag}', 'gp ' || g, repeat('g', g % 20) FROM generate_series(1, {n}) g",
                    f"INSERT INTO memo (tag, gp_id, body) SELECT '{tag}', gp.id, 'memo ' || i FROM gp, generate_series(1, {mm}) i "
                    f"WHERE gp.tag = '{tag}' AND gp.id % 3 <> 0 ORDER BY gp.id, i",
                    f"INSERT INTO ch (tag, gp_id, note) SELECT '{tag}', gp.id, 'ch ' || i FROM gp, generate_series(1, {c}) i WHERE gp.tag = '{tag}' ORDER BY gp.id, i",
                    f"INSERT INTO gch (tag, ch_id, v, pad) SELECT '{tag}', ch.id, ch.id * 1.5 + i, md5(i::text) FROM ch, generate_series(1, {gc}) i WHERE ch.tag = '{tag}' ORDER BY ch.id, i"]
        raise ValueError(table)

    TARGET_ROWS = dict(acct=250, note=200, meas=300, gp=60, side=80)

    def refill(self, initial=False):
        """Tops up tables that ran low, in a transaction of its own."""
        if initial:
            counts = dict.fromkeys(self.TARGET_ROWS, 0)
        else:
            self.chk.execute("SELECT (SELECT count(*) FROM acct), (SELECT count(*) FROM note), (SELECT count(*) FROM meas), "
                             "(SELECT count(*) FROM gp), (SELECT count(*) FROM side)")
            counts = dict(zip(["acct", "note", "meas", "gp", "side"], self.chk.fetchone()))
        todo = [(t, want) for t, want in self.TARGET_ROWS.items() if counts[t] < want // 2 or initial]
        if not todo:
            return
        self.txn_no = "refill"
        self.txn_stmts = []
        self.aborted = False
        self.stmt("BEGIN")
        for t, want in todo:
            for sql in self.insert_sql(t, want - counts[t] + self.rng.randint(0, want // 3), self.new_tag("r")):
                self.stmt(sql)
        self.stmt("COMMIT")
        if self.aborted:
            raise Failure(f"refill failed: {self.unexpected[-1]}")

    # -- extra triggers -------------------------------------------------------------------------
    def trigger_epoch(self):
        for name in sorted(self.triggers):
            if self.rng.random() < 0.5:
                table = self.triggers[name][0]
                self.raw(f"DROP TRIGGER {name} ON {table}")
                del self.triggers[name]
        for _ in range(self.rng.randint(1, 4)):
            if len(self.triggers) >= 9:
                break
            self.add_trigger()

    def add_trigger(self):
        rng = self.rng
        kind = rng.choice(["after_row", "after_row", "after_row", "after_stmt", "after_stmt", "before_row"])
        table = rng.choice(ROW_TARGETS)
        modes = (EXC_MODES + PLAIN_MODES) if self.exc_triggers else PLAIN_MODES
        mode = rng.choice(modes)
        if table == "note" and mode in ("delete", "exc_delete"):
            mode = "dml"   # a trigger on note deleting from note would recurse
        m = rng.choice([1, 2, 3, 5, 7, 11])
        r = rng.randrange(m)
        sm, sr = 0, 0
        if kind == "before_row" and table not in ("ch", "gch") and rng.random() < 0.7:
            sm = rng.choice([3, 4, 6, 9])
            sr = rng.randrange(sm)
        self.n_trig += 1
        name = f"{rng.choice(['a', 'z'])}_x{self.n_trig}_{mode}"
        when = "BEFORE" if kind == "before_row" else "AFTER"
        level = "STATEMENT" if kind == "after_stmt" else "ROW"
        sql = (f"CREATE TRIGGER {name} {when} DELETE ON {table} FOR EACH {level} "
               f"EXECUTE FUNCTION inv_xt('{mode}', '{m}', '{r}', '{sm}', '{sr}')")
        self.raw(sql)
        self.triggers[name] = (table, sql)

    # -- the random transaction ---------------------------------------------------------------
    def pred(self, table):
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            m = rng.choice([2, 3, 5, 7, 11, 13, 17, 29, 41, 67])
            return f"tok % {m} = {rng.randrange(m)}"
        if r < 0.75:
            order = rng.choice(["", " DESC"])
            return f"tok IN (SELECT tok FROM {table} ORDER BY tok{order} LIMIT {rng.randint(1, 8)})"
        if r < 0.9 and table.startswith("meas"):
            a = rng.randrange(400)
            return f"k BETWEEN {a} AND {a + rng.randint(3, 60)}"
        if r < 0.9 and self.n_tag:
            return f"tag = 'r{rng.randint(max(1, self.n_tag - 30), self.n_tag)}'"
        m = rng.choice([3, 4, 5])
        return f"tok % {m} <> {rng.randrange(m)} AND tok % 7 = {rng.randrange(7)}"

    def act_context(self):
        rng = self.rng
        self.n_ctx += 1
        c = self.n_ctx
        actor, reason, meta = f"actor-{c}", f"reason {c}", f'{{"c": {c}, "s": "{self.args.seed}"}}'
        how = rng.random()
        if how < 0.3:
            parts = []
            if rng.random() < 0.8:
                parts.append(f"SET LOCAL deleted_record.actor = {sql_literal(actor)}")
            if rng.random() < 0.6:
                parts.append(f"SET LOCAL deleted_record.reason = {sql_literal(reason if rng.random() < 0.9 else '')}")
            if rng.random() < 0.5:
                parts.append(f"SET LOCAL deleted_record.metadata = {sql_literal(meta)}")
            for p in parts or [f"SET LOCAL deleted_record.actor = {sql_literal(actor)}"]:
                self.stmt(p)
        elif how < 0.55:
            cols = [f"set_config('deleted_record.actor', {sql_literal(actor)}, true)"]
            if rng.random() < 0.6:
                cols.append(f"set_config('deleted_record.reason', {sql_literal(reason)}, true)")
            if rng.random() < 0.5:
                cols.append(f"set_config('deleted_record.metadata', {sql_literal(meta)}, true)")
            self.stmt("SELECT " + ", ".join(cols))
        elif how < 0.85:
            a = sql_literal(actor) if rng.random() < 0.9 else "NULL"
            r = sql_literal(reason) if rng.random() < 0.8 else "NULL"
            if rng.random() < 0.6:
                self.stmt(f"SELECT deleted_record_set_context({a}, {r}, {sql_literal(meta)})")
            else:
                self.stmt(f"SELECT deleted_record_set_context({a}, {r})")
        elif how < 0.93:
            self.stmt(f"SET deleted_record.actor = {sql_literal('session-' + actor)}")   # session level
        else:
            self.stmt(rng.choice(["RESET deleted_record.actor", "RESET deleted_record.reason",
                                  "RESET deleted_record.metadata"]))

    def act_settings(self):
        self.stmt(self.rng.choice([
            "SET LOCAL TimeZone = 'America/New_York'", "SET LOCAL TimeZone = 'Asia/Kolkata'",
            "SET LOCAL DateStyle = 'SQL, DMY'", "SET LOCAL IntervalStyle = 'sql_standard'",
            "SET LOCAL extra_float_digits = 0", "SET LOCAL bytea_output = 'escape'"]))

    def act_delete(self):
        rng = self.rng
        t = rng.choice(DELETE_TARGETS)
        p = self.pred(t)
        form = rng.random()
        if form < 0.6:
            self.stmt(f"DELETE FROM {t} WHERE {p}")
        elif form < 0.75:
            self.stmt(f"DELETE FROM {t} WHERE {p} RETURNING tok")
        elif form < 0.9:
            self.stmt(f"WITH d AS (DELETE FROM {t} WHERE {p} RETURNING *) SELECT count(*) FROM d")
        else:
            self.stmt(f"MERGE INTO {t} USING (SELECT tok FROM {t} WHERE {p}) s ON {t}.tok = s.tok WHEN MATCHED THEN DELETE")

    def act_delete_big(self):
        """Over 1,000 rows in one statement (the buffer's row threshold), or in one cascade."""
        rng = self.rng
        tag = self.new_tag("big")
        if rng.random() < 0.3:
            self.stmt(f"INSERT INTO gp (tag, name) VALUES ('{tag}', 'big family')")
            self.stmt(f"INSERT INTO ch (tag, gp_id) SELECT '{tag}', id FROM gp, generate_series(1, 3) WHERE tag = '{tag}' ORDER BY id")
            self.stmt(f"INSERT INTO gch (tag, ch_id, v) SELECT '{tag}', ch.id, i FROM ch, generate_series(1, {rng.randint(350, 700)}) i WHERE ch.tag = '{tag}' ORDER BY ch.id, i")
            self.stmt(f"DELETE FROM gp WHERE tag = '{tag}'")
            return
        t = rng.choice(["acct", "note", "meas"])
        for sql in self.insert_sql(t, rng.randint(1000, 2500), tag):
            self.stmt(sql)
        extra = rng.choice(["", "", f" AND tok % 50 <> {rng.randrange(50)}"])
        self.stmt(f"DELETE FROM {t} WHERE tag = '{tag}'{extra}")

    def act_delete_bytes(self):
        """About 8 MB of archive rows in one statement (the buffer's byte threshold)."""
        tag = self.new_tag("mb")
        n = self.rng.randint(70, 110)
        self.stmt(f"INSERT INTO acct (tag, name, pad) SELECT '{tag}', 'wide ' || g, repeat(md5(g::text || '{tag}'), 3000) "
                  f"FROM generate_series(1, {n}) g")
        self.stmt(f"DELETE FROM acct WHERE tag = '{tag}'")

    def act_update_move(self):
        d = self.rng.choice([100, 200, 300, 37, 250])
        self.stmt(f"UPDATE meas SET k = (k + {d}) % 400, v = v + 1 WHERE {self.pred('meas')}")

    def act_update(self):
        t = self.rng.choice(["acct", "note", "gch", "gp"])
        s = dict(acct="amount = amount + 1, doc = doc || '{\"u\": 1}'", note="body = body || '!'",
                 gch="v = v * 2", gp="name = name || '+'")[t]
        self.stmt(f"UPDATE {t} SET {s} WHERE {self.pred(t)}")

    def act_truncate(self):
        sql, expect = self.rng.choice([
            ("TRUNCATE note", None), ("TRUNCATE acct, note", None), ("TRUNCATE meas_p0", None),
            ("TRUNCATE meas_p2", None), ("TRUNCATE meas", None), ("TRUNCATE gch", None),
            ("TRUNCATE gp CASCADE", None), ("TRUNCATE ch CASCADE", None), ("TRUNCATE side", None), ("TRUNCATE memo", None),
            ("TRUNCATE gp", "cannot truncate a table referenced in a foreign key constraint")])
        self.stmt(sql, expect)

    def act_insert(self):
        t = self.rng.choice(["acct", "note", "meas", "gp", "side"])
        for sql in self.insert_sql(t, self.rng.randint(1, 30), self.new_tag("r")):
            self.stmt(sql)

    def act_savepoint(self):
        self.n_sp += 1
        name = f"sp{self.n_sp}"
        self.stmt(f"SAVEPOINT {name}")
        self.savepoints.append(name)

    def act_release(self):
        if not self.savepoints:
            return self.act_savepoint()
        i = self.rng.randrange(len(self.savepoints))
        self.stmt(f"RELEASE SAVEPOINT {self.savepoints[i]}")
        del self.savepoints[i:]

    def act_rollback_to(self):
        if not self.savepoints:
            return self.act_savepoint()
        i = self.rng.randrange(len(self.savepoints))
        self.stmt(f"ROLLBACK TO SAVEPOINT {self.savepoints[i]}")
        del self.savepoints[i + 1:]

    def act_do_loop(self):
        rng = self.rng
        t = rng.choice(DELETE_TARGETS)
        p = self.pred(t)
        ctx = ""
        if rng.random() < 0.4:
            self.n_ctx += 1
            ctx = f"PERFORM set_config('deleted_record.actor', 'loop-{self.n_ctx}-' || i, true);\n            "
        if not self.exc:
            self.stmt(f"""DO $inv$
DECLARE r record; i int := 0;
BEGIN
    FOR r IN SELECT tok FROM {t} WHERE {p} ORDER BY tok LIMIT {rng.randint(2, 30)} LOOP
        i := i + 1;
        {ctx}DELETE FROM {t} WHERE tok = r.tok;
    END LOOP;
END $inv$""")
            return
        if rng.random() < 0.25:   # one block around a whole DELETE, undone or not, and a nested one
            t2 = rng.choice(DELETE_TARGETS)
            raise1 = "RAISE EXCEPTION 'inv: undo';" if rng.random() < 0.5 else "NULL;"
            raise2 = "RAISE EXCEPTION 'inv: undo inner';" if rng.random() < 0.5 else "NULL;"
            self.stmt(f"""DO $inv$
BEGIN
    DELETE FROM {t} WHERE {p};
    BEGIN
        DELETE FROM {t2} WHERE {self.pred(t2)};
        BEGIN
            DELETE FROM {t} WHERE {self.pred(t)};
            {raise2}
        EXCEPTION WHEN raise_exception THEN NULL;
        END;
        {raise1}
    EXCEPTION WHEN raise_exception THEN NULL;
    END;
END $inv$""")
            return
        undo = rng.choice([0, 2, 3, 4, 7])
        self.stmt(f"""DO $inv$
DECLARE r record; i int := 0;
BEGIN
    FOR r IN SELECT tok FROM {t} WHERE {p} ORDER BY tok LIMIT {rng.randint(2, 30)} LOOP
        i := i + 1;
        BEGIN
            {ctx}DELETE FROM {t} WHERE tok = r.tok;
            IF {undo} > 0 AND i % {max(undo, 1)} = 0 THEN RAISE EXCEPTION 'inv: undo %', i; END IF;
        EXCEPTION WHEN raise_exception THEN NULL;
        END;
    END LOOP;
END $inv$""")

    def act_func_loop(self):
        rng = self.rng
        t = rng.choice(DELETE_TARGETS)
        self.n_ctx += 1
        actor = sql_literal(f"fn-{self.n_ctx}") if rng.random() < 0.5 else "NULL"
        if self.exc:
            self.stmt(f"SELECT inv_delete_each({sql_literal(t)}, {sql_literal(self.pred(t))}, {rng.choice([0, 2, 3, 5])}, {actor})")
        else:
            self.stmt(f"SELECT inv_delete_each_plain({sql_literal(t)}, {sql_literal(self.pred(t))}, {actor})")

    def act_error(self):
        sql, expect = self.rng.choice([
            ("DO $inv$BEGIN RAISE EXCEPTION 'inv: intentional abort'; END $inv$", "intentional abort"),
            ("SELECT 1 / 0 AS intentional_abort", "division by zero"),
            ("TRUNCATE gp", "cannot truncate a table referenced in a foreign key constraint"),
            ("INSERT INTO ch (tag, gp_id) VALUES ('bad', -1)", "violates foreign key constraint")])
        self.stmt(sql, expect)

    ACTIONS = [("delete", 30), ("context", 14), ("do_loop", 8), ("func_loop", 4), ("savepoint", 7),
               ("release", 4), ("rollback_to", 5), ("update_move", 5), ("update", 4), ("insert", 6),
               ("delete_big", 1.2), ("delete_bytes", 0.4), ("truncate", 1.5), ("settings", 1), ("error", 1.5)]

    def transaction(self):
        rng = self.rng
        self.txn_stmts = []
        self.aborted = False
        self.savepoints = []
        self.n_sp = 0
        self.stmt("BEGIN")
        names = [a for a, _ in self.ACTIONS]
        weights = [w for _, w in self.ACTIONS]
        for _ in range(rng.randint(1, 8)):
            if self.aborted:
                break
            if rng.random() < 0.5:
                self.count_action("context")
                self.act_context()
            action = rng.choices(names, weights)[0]
            self.count_action(action)
            getattr(self, "act_" + action)()
            if self.aborted and self.savepoints and rng.random() < 0.6:
                # recover from the error by rolling back to the innermost savepoint
                self.aborted = False
                self.stmt(f"ROLLBACK TO SAVEPOINT {self.savepoints[-1]}")
        end = rng.random()
        if self.aborted:
            self.stmt("ROLLBACK")
            self.stats["aborted"] += 1
        elif end < 0.70:
            self.stmt("SELECT inv_harvest()")
            self.stmt("COMMIT")
            self.stats["committed"] += 1
        elif end < 0.74 and self.can_prepare:
            gid = f"inv_{self.txn_no}"
            self.stmt("SELECT inv_harvest()")
            self.stmt(f"PREPARE TRANSACTION '{gid}'")
            self.stmt(f"{rng.choice(['COMMIT', 'COMMIT', 'ROLLBACK'])} PREPARED '{gid}'")
            self.stats["prepared"] += 1
        else:
            self.stmt("ROLLBACK")
            self.stats["rolled_back"] += 1
        if self.aborted:   # COMMIT or PREPARE itself failed
            self.cur.execute("ROLLBACK")

    def check(self, full=False):
        t = time.time()
        try:
            return self._check(full)
        finally:
            self.check_seconds += time.time() - t
            if os.environ.get("INVARIANTS_PROFILE"):
                self.chk.execute("SELECT count(*) FROM inv_touched")
                print(f"# check {self.txn_no} full={full} {time.time() - t:.3f}s touched={self.chk.fetchone()[0]}", file=sys.stderr)
                self.chk.execute("SELECT concat_ws(' ', (SELECT count(*) || ':' || sum(tok) FROM acct), (SELECT count(*) || ':' || sum(tok) FROM note), "
                                 "(SELECT count(*) || ':' || sum(tok) FROM meas), (SELECT count(*) || ':' || sum(tok) FROM gp), "
                                 "(SELECT count(*) || ':' || sum(tok) FROM ch), (SELECT count(*) || ':' || sum(tok) FROM gch), "
                                 "(SELECT count(*) || ':' || sum(tok) FROM side), (SELECT last_value FROM inv_tok))")
                print(f"# state {self.txn_no} {self.chk.fetchone()[0]}", file=sys.stderr)

    def _check(self, full=False):
        self.chk.execute(f"SELECT tok, kind, detail FROM inv_check({'true' if full else 'false'}) ORDER BY tok, kind")
        return [v for v in self.chk.fetchall() if v[0] not in self.reported]

    def record(self, txn, violations, full=False):
        self.failures.append(dict(txn=txn, statements=list(self.txn_stmts) if not full else [], hist_end=len(self.history),
                                  triggers=[s for _, s in self.triggers.values()], violations=violations))
        self.reported.update(v[0] for v in violations)

    def run(self):
        args = self.args
        t0 = time.time()
        self.setup()
        v = self.check(full=True)
        if v:
            self.record("setup", v, full=True)
        for i in range(1, args.transactions + 1):
            self.txn_no = i
            if i % args.epoch == 1 or args.epoch == 1:
                self.trigger_epoch()
            if i % 5 == 0:
                self.refill()
                self.txn_no = i
            self.transaction()
            v = self.check(full=bool(args.full_every) and i % args.full_every == 0)
            if v:
                self.record(i, v)
            if time.time() - t0 > args.max_seconds:
                Tap.diag(f"stopping after {i} transactions: --max-seconds {args.max_seconds} reached")
                break
        v = self.check(full=True)
        if v:
            self.record("final full check", v, full=True)
        self.elapsed = time.time() - t0
        self.chk.execute("SELECT (SELECT count(*) FROM inv_log), (SELECT count(*) FROM inv_log WHERE op = 'truncate'), "
                         "(SELECT count(*) FROM deleted_record), (SELECT count(*) FROM inv_ledger)")
        self.logged, self.truncated, self.archived, self.ledgered = self.chk.fetchone()

    # -- reporting ------------------------------------------------------------------------------
    def report(self, reproduce=True):
        tap, args = self.tap, self.args
        s = self.stats
        Tap.diag(f"random part: seed {args.seed}, {self.txn_no} transactions, {s['statements']} statements in "
                 f"{self.elapsed:.1f} s ({self.check_seconds:.1f} s of it checking); {s['committed']} committed, {s['prepared']} prepared, {s['rolled_back']} "
                 f"rolled back, {s['aborted']} aborted by an error ({s['errors_expected']} intentional)")
        Tap.diag(f"rows: {self.ledgered} committed into attached tables, {self.logged} deletions logged "
                 f"({self.truncated} by TRUNCATE, moves included), {self.archived} archive rows")
        Tap.diag("actions: " + ", ".join(f"{k} {v}" for k, v in sorted(self.action_counts.items())))
        Tap.diag(f"extra triggers created: {self.n_trig}; exception blocks: {args.exception_blocks}")
        by_kind = {}
        for f in self.failures:
            for v in f["violations"]:
                by_kind.setdefault(v[1], []).append((f, v))
        first = self.failures[0] if self.failures else None
        for kind, desc in KINDS:
            hits = by_kind.get(kind, [])
            if not hits:
                tap.ok(f"random (seed {args.seed}): {desc}")
                continue
            txns = sorted({str(f["txn"]) for f, _ in hits}, key=lambda x: (not x.isdigit(), int(x) if x.isdigit() else 0))
            lines = [f"{len(hits)} violations in {len(txns)} transactions ({', '.join(txns[:15])}{', ...' if len(txns) > 15 else ''})"]
            for f, v in hits[:3]:
                lines.append(f"transaction {f['txn']}: token {v[0]}: {v[2]}")
            tap.not_ok(f"random (seed {args.seed}): {desc}", "\n".join(lines))
        if self.unexpected:
            lines = [f"{len(self.unexpected)} unexpected errors; the first ones:"]
            for txn, sql, msg in self.unexpected[:5]:
                lines.append(f"transaction {txn}: {msg.splitlines()[0]}\n  in: {sql[:400]}")
            tap.not_ok(f"random (seed {args.seed}): no statement fails unexpectedly", "\n".join(lines))
        else:
            tap.ok(f"random (seed {args.seed}): no statement fails unexpectedly")
        if first:
            self.report_failure(first, reproduce)

    def write_history(self, path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as out:
            out.write(f"-- deleted_record invariants, seed {self.args.seed}: every statement of the run, in order.\n"
                      "-- Replay in a new database: psql -X -f THIS (errors of aborted transactions are expected);\n"
                      "-- the last query lists the violations (none when the archive keeps its promise).\n")
            for sql in self.history:
                out.write(sql.rstrip().rstrip(";") + ";\n")
            out.write("SELECT * FROM inv_check(true);\n")

    def report_failure(self, f, reproduce):
        args = self.args
        Tap.diag(f"first failing transaction: {f['txn']} (seed {args.seed}); replay with INVARIANTS_ONLY=random INVARIANTS_SEED={args.seed}"
                 f"{' INVARIANTS_EXCEPTION_BLOCKS=' + args.exception_blocks if args.exception_blocks != 'all' else ''} INVARIANTS_TRANSACTIONS={f['txn'] if isinstance(f['txn'], int) else args.transactions}"
                 f" test/shell/invariants.sh")
        kinds = {}
        for v in f["violations"]:
            kinds[v[1]] = kinds.get(v[1], 0) + 1
        Tap.diag("violations: " + ", ".join(f"{k} {n}" for k, n in kinds.items()))
        for v in f["violations"][:6]:
            Tap.diag(f"  token {v[0]} {v[1]}: {v[2]}")
        stem = os.path.join(args.artifacts, f"deleted_record_invariants.{args.seed}")
        self.write_history(stem + ".history.sql")
        Tap.diag(f"whole history (replayable with psql): {stem}.history.sql")
        if not f["statements"]:
            return
        Tap.diag("the failing transaction's statements:")
        for sql in f["statements"]:
            Tap.diag("    " + sql.replace("\n", "\n    ") + ";")
        if not reproduce:
            return
        r = Reproducer(self, f)
        script, verified = r.minimal()
        with open(stem + ".repro.sql", "w") as out:
            out.write(script)
        if verified:
            Tap.diag(f"minimal reproduction (verified on a fresh database, {r.attempts} runs to shrink it): "
                     f"{stem}.repro.sql, or in a new database")
            Tap.diag(f"  test/random/invariants.py --seed {args.seed} --print-setup | psql -X -d repro")
            Tap.diag("then with psql in that database:")
            for line in r.tail.splitlines():
                Tap.diag("    " + line)
        else:
            Tap.diag(f"the transaction alone on fresh data did not reproduce it; {stem}.repro.sql replays "
                     "the history up to it")


def setup_script(statements):
    return "\n".join(s.rstrip().rstrip(";") + ";" for s in statements)


class Reproducer:
    """Builds a self-contained psql script for a failing transaction: setup, fresh initial data, the extra
    triggers in place, the transaction, and inv_check(true). Verifies it on fresh databases (copies of a
    template holding setup + data) and drops triggers and statements that are not needed."""

    def __init__(self, wl, failure):
        self.wl = wl
        self.f = failure
        self.attempts = 0
        self.tail = ""
        self.template = f"{wl.args.db_prefix}_repro_template"

    def script(self, triggers, statements, prefix=None):
        head = ("-- deleted_record invariants: reproduction, seed %s, transaction %s.\n"
                "-- Run in a new database: createdb repro && psql -X -d repro -f THIS\n"
                "-- (errors of an aborted transaction are expected). The last query lists the violations:\n"
                "-- rows mean the archive broke its promise.\n" % (self.wl.args.seed, self.f["txn"]))
        body = setup_script(prefix if prefix is not None else self.wl.base)
        session = ["LOAD 'deleted_record'", "SET TimeZone = 'UTC'"]   # as in the workload's session
        tail = [s.rstrip().rstrip(";") + ";" for s in session + triggers + statements] + ["SELECT * FROM inv_check(true);"]
        self.tail = "\n".join(tail) + "\n"
        return head + body + "\n-- the extra triggers and the failing transaction\n" + self.tail

    def run(self, triggers, statements):
        """True when the triggers and statements, run on fresh data, leave a violation."""
        self.attempts += 1
        db = f"{self.wl.args.db_prefix}_repro"
        maint = self.wl.maint.cursor()
        maint.execute(f"DROP DATABASE IF EXISTS {db}")
        maint.execute(f"CREATE DATABASE {db} TEMPLATE {self.template}")
        conn = connect(db, "invariants-repro")
        try:
            cur = conn.cursor()
            # as in the workload's session: the library loaded (else the first archiving statement writes
            # row by row) and the session's TimeZone
            cur.execute("LOAD 'deleted_record'")
            cur.execute("SET TimeZone = 'UTC'")
            for sql in triggers + statements:
                try:
                    cur.execute(sql)
                except psycopg2.Error:
                    pass   # an aborted transaction: the rest fails until its ROLLBACK or COMMIT
            if conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                cur.execute("ROLLBACK")
            cur.execute("SELECT count(*) FROM inv_check(true)")
            bad = cur.fetchone()[0] > 0
            cur.execute("SELECT gid FROM pg_prepared_xacts WHERE database = current_database()")
            for (gid,) in cur.fetchall():
                cur.execute(f"ROLLBACK PREPARED '{gid}'")
        finally:
            conn.close()
        maint.execute(f"DROP DATABASE {db}")
        return bad

    def minimal(self):
        wl = self.wl
        maint = wl.maint.cursor()
        maint.execute(f"DROP DATABASE IF EXISTS {self.template}")
        maint.execute(f"CREATE DATABASE {self.template}")
        conn = connect(self.template, "invariants-repro")
        cur = conn.cursor()
        for sql in wl.base:
            cur.execute(sql)
        conn.close()
        triggers = list(self.f["triggers"])
        stmts = list(self.f["statements"])
        deadline = time.time() + wl.args.shrink_seconds
        try:
            if not self.run(triggers, stmts):
                prefix = wl.history[:self.f["hist_end"] - len(stmts)]
                return self.script([], stmts, prefix=prefix), False
            fixed = {"BEGIN", "COMMIT", "ROLLBACK", "SELECT inv_harvest()"}
            # drop extra triggers, then statements, one at a time, while it still reproduces
            for kind in ("triggers", "statements"):
                i = 0
                while time.time() < deadline:
                    items = triggers if kind == "triggers" else stmts
                    if i >= len(items):
                        break
                    if kind == "statements" and (items[i] in fixed or items[i].startswith(("PREPARE", "COMMIT", "ROLLBACK PREPARED"))):
                        i += 1
                        continue
                    trial = items[:i] + items[i + 1:]
                    if self.run(trial if kind == "triggers" else triggers, trial if kind == "statements" else stmts):
                        items[:] = trial
                    else:
                        i += 1
            return self.script(triggers, stmts), True
        finally:
            maint.execute(f"DROP DATABASE IF EXISTS {self.template}")


# ---------------------------------------------------------------------------------------------
def self_test(tap, wl):
    """Plants one violation of each kind in a transaction that is rolled back: inv_check must report each."""
    cur = wl.chk
    cur.execute("BEGIN")
    try:
        cur.execute("""SELECT d.id, (d.data->>'tok')::bigint FROM deleted_record d JOIN inv_arch a ON a.id = d.id
                        WHERE d.table_name = 'acct' AND NOT (a.tok = ANY(%s)) ORDER BY d.id DESC LIMIT 5""",
                    (list(wl.reported) or [0],))
        rows = cur.fetchall()
        cur.execute("SELECT (SELECT tok FROM acct ORDER BY tok LIMIT 1), (SELECT tok FROM side ORDER BY tok LIMIT 1)")
        live_acct, live_side = cur.fetchone()
        if len(rows) < 5 or live_acct is None or live_side is None:
            tap.ok("the checker reports planted violations of every kind # SKIP not enough rows left to plant them")
            return
        (a_id, a_tok), (b_id, b_tok), (e_id, e_tok), (f_id, f_tok), (g_id, g_tok) = rows
        copy = ("INSERT INTO deleted_record SELECT (jsonb_populate_record(NULL::deleted_record, "
                "to_jsonb(d) || jsonb_build_object('id', gen_random_uuid()) || %s::jsonb)).* FROM deleted_record d WHERE d.id = %s")
        cur.execute("DELETE FROM deleted_record WHERE id = %s", (a_id,))                      # missing
        cur.execute(copy, ("{}", b_id))                                                         # duplicate
        cur.execute(copy, ('{"data": {"tok": %d}}' % live_acct, e_id))                          # live_and_archived
        cur.execute(copy, ('{"data": {"tok": %d}}' % live_side, e_id))                          # not_attached
        cur.execute("UPDATE deleted_record SET data = data || '{\"name\": \"tampered\"}' WHERE id = %s", (e_id,))
        cur.execute("UPDATE deleted_record SET actor = coalesce(actor, '') || 'x' WHERE id = %s", (f_id,))
        cur.execute("UPDATE deleted_record SET object_id = 'tampered' WHERE id = %s", (g_id,))
        cur.execute(copy, ('{"data": {}}', g_id))                                               # no token at all
        cur.execute("SELECT tok, kind FROM inv_check(true)")
        found = set(cur.fetchall())
    finally:
        cur.execute("ROLLBACK")
    want = {(a_tok, "missing"), (b_tok, "duplicate"), (live_acct, "live_and_archived"), (live_side, "not_attached"),
            (e_tok, "data"), (f_tok, "context"), (g_tok, "columns"), (None, "not_attached")}
    missed = want - found
    tap.check(not missed, "the checker reports planted violations of every kind (a missing, a duplicate, a live, "
              "an unattached archive row, one without a token, altered data, context and object_id)",
              f"not reported: {sorted(missed, key=str)}")



# ---------------------------------------------------------------------------------------------
# The lifecycle phase: restores, dry runs, erasures and purges from several sessions at once, in
# a database of its own (inv_lifecycle), checked by token against the functions' own reports.
#
# Tables (tokens from one sequence, like the random part): lc_acct (primary key, no retention),
# lc_note (no unique key: two restorers of one archive row must not both insert it; retention 10
# years), lc_short (primary key, retention 1 second) and lc_shortnote (no key, retention 1 second).
# Every committed insert is in lc_ledger and every committed deletion in lc_deleted (row triggers,
# so they commit or roll back with the work they log). The sessions log what the functions report,
# in the same transaction as the call: lc_restored (one row per outcome 'restored'), lc_erased (the
# archive rows an erase was given, with their tokens) and lc_erase_call / lc_purge_call (what erase
# and purge returned). Each session is its own role (lc_s1, ...): restored_by and the tombstones'
# erased_by say which session did it.
LIFECYCLE_SQL = r"""
SET TimeZone = 'UTC';
CREATE SEQUENCE lc_tok;
CREATE TABLE lc_tables (relid oid PRIMARY KEY, name text NOT NULL, purgeable boolean NOT NULL, mix boolean NOT NULL);
CREATE TABLE lc_ledger (tok bigint PRIMARY KEY, relid oid NOT NULL);
CREATE TABLE lc_deleted (tok bigint NOT NULL, relid oid NOT NULL, xid text NOT NULL, who text NOT NULL,
                         at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE INDEX ON lc_deleted (tok);
CREATE TABLE lc_restored (archive_id uuid NOT NULL, tok bigint, session int NOT NULL, who text NOT NULL, how text NOT NULL);
CREATE TABLE lc_erased (archive_id uuid NOT NULL, tok bigint, session int NOT NULL);
CREATE TABLE lc_erase_call (session int NOT NULL, who text NOT NULL, ids uuid[] NOT NULL, returned bigint NOT NULL);
CREATE TABLE lc_purge_call (session int NOT NULL, who text NOT NULL, how text NOT NULL, removed bigint NOT NULL);
CREATE TABLE lc_marker (label text NOT NULL);

CREATE FUNCTION lc_log_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lc_ledger SELECT a.tok, TG_RELID FROM added a ON CONFLICT (tok) DO NOTHING;
    RETURN NULL;
END $$;
CREATE FUNCTION lc_log_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lc_deleted (tok, relid, xid, who) VALUES (OLD.tok, TG_RELID, pg_current_xact_id()::text, current_user);
    RETURN NULL;
END $$;

-- lc_table creates a table of the phase, attaches it (retention: NULL for none) and logs it.
CREATE FUNCTION lc_table(name text, keyed boolean, retention interval, purgeable boolean, mix boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF keyed THEN
        EXECUTE format('CREATE TABLE %I (id bigserial PRIMARY KEY, tok bigint NOT NULL DEFAULT nextval(''lc_tok''), v text)', name);
    ELSE
        EXECUTE format('CREATE TABLE %I (tok bigint NOT NULL DEFAULT nextval(''lc_tok''), v text)', name);
    END IF;
    EXECUTE format('CREATE INDEX ON %I (tok)', name);
    PERFORM deleted_record_attach(name::regclass, retention => retention);
    EXECUTE format('CREATE TRIGGER lc_log_insert AFTER INSERT ON %I REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION lc_log_insert()', name);
    EXECUTE format('CREATE TRIGGER lc_log_delete AFTER DELETE ON %I FOR EACH ROW EXECUTE FUNCTION lc_log_delete()', name);
    INSERT INTO lc_tables VALUES (name::regclass, name, purgeable, mix);
END $$;

-- The live tokens of every table of the phase that still exists.
CREATE FUNCTION lc_live() RETURNS TABLE (tok bigint, relid oid) LANGUAGE plpgsql AS $$
DECLARE
    t oid;
BEGIN
    FOR t IN SELECT x.relid FROM lc_tables x JOIN pg_class c ON c.oid = x.relid ORDER BY 1 LOOP
        RETURN QUERY EXECUTE format('SELECT tok, %s::oid FROM %s', t, t::regclass);
    END LOOP;
END $$;

-- lc_check lists the violations of the lifecycle invariants, one row per token (or session) and kind:
--   accounting      live + archived not restored + erased not restored + purged not restored <> 1
--   live_twice      a token live more than once at a time
--   restored_twice  an archive row reported 'restored' more than once (by two calls or sessions)
--   restore_mark    restored_at/restored_by disagree with the 'restored' reports
--   purged_wrong    an archive row purged although its table has no expired retention
--                   (older_than_done: after the purge with older_than, which purges every table)
--   erase_count     erase's return values disagree with the tombstones of its session
--   purge_count     the purges' removed counts disagree with the archive rows that went
-- Purged rows are what is left: deletions that have neither an archive row nor a tombstone.
CREATE FUNCTION lc_check(older_than_done boolean) RETURNS TABLE (kind text, tok bigint, detail text) LANGUAGE plpgsql
    SET jit = off AS $$
BEGIN
    RETURN QUERY
    WITH live AS (SELECT l.tok, count(*) AS n FROM lc_live() l GROUP BY l.tok),
         arch AS (SELECT d.id, (d.data->>'tok')::bigint AS tok, d.restored_at, d.restored_by FROM deleted_record d),
         rest AS (SELECT r.archive_id, count(*) AS n, max(r.tok) AS tok, min(r.who) AS who,
                         string_agg(format('session %s as %s (%s)', r.session, r.who, r.how), ', ' ORDER BY r.session) AS sessions
                    FROM lc_restored r GROUP BY r.archive_id),
         er AS (SELECT DISTINCT e.archive_id, x.tok FROM deleted_record_erasure e JOIN lc_erased x ON x.archive_id = e.archive_id),
         dels AS (SELECT d.tok, count(*) AS n, string_agg(format('xact %s by %s', d.xid, d.who), ', ' ORDER BY d.at) AS how
                    FROM lc_deleted d GROUP BY d.tok),
         archt AS (SELECT a.tok, count(*) AS present, count(*) FILTER (WHERE a.restored_at IS NULL) AS pu,
                          string_agg(a.id::text || CASE WHEN a.restored_at IS NULL THEN '' ELSE ' (restored by ' || a.restored_by || ')' END, ', ' ORDER BY a.id) AS ids
                     FROM arch a GROUP BY a.tok),
         ert AS (SELECT er.tok, count(*) AS erased, count(*) FILTER (WHERE rest.archive_id IS NULL) AS eu,
                        string_agg(er.archive_id::text, ', ' ORDER BY er.archive_id) AS ids
                   FROM er LEFT JOIN rest ON rest.archive_id = er.archive_id GROUP BY er.tok),
         restt AS (SELECT rest.tok, count(*) AS restored, count(*) FILTER (WHERE a.id IS NULL AND er.archive_id IS NULL) AS pr,
                          string_agg(rest.archive_id::text || ' by ' || rest.sessions, '; ') AS who
                     FROM rest LEFT JOIN arch a ON a.id = rest.archive_id LEFT JOIN er ON er.archive_id = rest.archive_id
                    GROUP BY rest.tok),
         per AS (SELECT g.tok, g.relid, coalesce(t.name, g.relid::text) AS rel, coalesce(t.purgeable, false) AS purgeable,
                        coalesce(live.n, 0) AS live, coalesce(dels.n, 0) AS deletions, dels.how AS deleted_how,
                        coalesce(archt.present, 0) AS present, coalesce(archt.pu, 0) AS pu, archt.ids AS arch_ids,
                        coalesce(ert.erased, 0) AS erased, coalesce(ert.eu, 0) AS eu, ert.ids AS erased_ids,
                        coalesce(restt.restored, 0) AS restored, coalesce(restt.pr, 0) AS pr, restt.who AS restored_how
                   FROM lc_ledger g LEFT JOIN lc_tables t ON t.relid = g.relid LEFT JOIN live ON live.tok = g.tok
                   LEFT JOIN dels ON dels.tok = g.tok LEFT JOIN archt ON archt.tok = g.tok LEFT JOIN ert ON ert.tok = g.tok
                   LEFT JOIN restt ON restt.tok = g.tok),
         acc AS (SELECT p.*, p.deletions - p.present - p.erased AS purged FROM per p)
    SELECT 'accounting', acc.tok,
           format('token %s of %s: live %s + archived not restored %s + erased not restored %s + purged not restored %s <> 1 '
                  '(deleted %s times: %s; archive rows now: %s; erased: %s; restored: %s)',
                  acc.tok, acc.rel, acc.live, acc.pu, acc.eu, acc.purged - acc.pr, acc.deletions, coalesce(acc.deleted_how, '-'),
                  coalesce(acc.arch_ids, '-'), coalesce(acc.erased_ids, '-'), coalesce(acc.restored_how, '-'))
      FROM acc WHERE acc.live + acc.pu + acc.eu + (acc.purged - acc.pr) <> 1 OR acc.purged < 0
    UNION ALL
    SELECT 'live_twice', acc.tok, format('token %s of %s is live %s times (restored: %s; archive rows: %s)',
           acc.tok, acc.rel, acc.live, coalesce(acc.restored_how, '-'), coalesce(acc.arch_ids, '-'))
      FROM acc WHERE acc.live > 1
    UNION ALL
    SELECT 'restored_twice', rest.tok, format('archive row %s (token %s) reported restored %s times: %s',
           rest.archive_id, rest.tok, rest.n, rest.sessions)
      FROM rest WHERE rest.n > 1
    UNION ALL
    SELECT 'restore_mark', a.tok, format('archive row %s (token %s): restored_at %s, restored_by %s; reported restored by: %s',
           a.id, a.tok, coalesce(a.restored_at::text, 'NULL'), coalesce(a.restored_by, 'NULL'), coalesce(rest.sessions, 'nobody'))
      FROM arch a LEFT JOIN rest ON rest.archive_id = a.id
     WHERE (a.restored_at IS NULL) <> (rest.archive_id IS NULL)
        OR (rest.n = 1 AND a.restored_by IS DISTINCT FROM rest.who)
    UNION ALL
    SELECT 'purged_wrong', acc.tok, format('token %s of %s (no expired retention): %s archive row(s) purged (deleted: %s; archive rows now: %s)',
           acc.tok, acc.rel, acc.purged, coalesce(acc.deleted_how, '-'), coalesce(acc.arch_ids, '-'))
      FROM acc WHERE acc.purged > 0 AND NOT acc.purgeable AND NOT older_than_done
    UNION ALL
    SELECT 'erase_count', NULL::bigint, format('session %s: erase returned %s in all, its tombstones number %s', s.who, s.returned, s.tombstones)
      FROM (SELECT c.who, sum(c.returned) AS returned,
                   (SELECT count(*) FROM deleted_record_erasure e WHERE e.erased_by = c.who) AS tombstones
              FROM lc_erase_call c GROUP BY c.who) s
     WHERE s.returned <> s.tombstones
    UNION ALL
    SELECT 'erase_count', NULL::bigint, format('tombstone of archive row %s (%s, object_id %s, erased by %s) that no logged erase was given',
           e.archive_id, e.table_name, e.object_id, e.erased_by)
      FROM deleted_record_erasure e WHERE NOT EXISTS (SELECT FROM lc_erased x WHERE x.archive_id = e.archive_id)
    UNION ALL
    SELECT 'purge_count', NULL::bigint, format('the purges reported %s archive rows removed (%s); %s archive rows went without a tombstone',
           p.removed, p.calls, q.purged)
      FROM (SELECT coalesce(sum(c.removed), 0) AS removed, coalesce(string_agg(c.how || ': ' || c.removed, ', '), 'no purge') AS calls FROM lc_purge_call c) p,
           (SELECT coalesce(sum(acc.purged), 0) AS purged FROM acc) q
     WHERE p.removed <> q.purged;
END $$;
"""

LC_KINDS = [
    ("accounting", "for every token: live rows + archived not restored + erased + purged (from the functions' reports) = 1"),
    ("live_twice", "no token is live twice at once (no archive row restored twice into a table)"),
    ("restored_twice", "no archive row is reported restored twice (by two calls or two sessions)"),
    ("restore_mark", "restored_at/restored_by are set exactly for the rows reported restored, by the session that restored them"),
    ("purged_wrong", "purge removes only archive rows past their own table's retention"),
    ("erase_count", "erase returns how many rows it erased: its tombstones, session by session"),
    ("purge_count", "purge's removed counts equal the archive rows that went without a tombstone"),
]
LC_MIX = ["lc_acct", "lc_note", "lc_short", "lc_shortnote"]
LC_KEYED = {"lc_acct", "lc_short"}
# Errors a session may legitimately meet: a row taken by another session first (erased, purged,
# restored), a conflict it planted, a deadlock between two sessions working on the same rows.
LC_EXPECTED = (r"cannot restore|does not exist, or you cannot see it|are not archive rows|needs a primary key"
               r"|deadlock detected|no archive rows of transaction|xact must not be NULL|duplicate key value")


class LifecycleSession:
    def __init__(self, lc, n):
        self.lc = lc
        self.n = n
        self.role = f"lc_s{n}"
        self.rng = random.Random(lc.args.seed * 1000 + n)
        self.conn = None
        self.reconnect()
        self.log = []            # (round, action, sql, outcome)
        self.errors = []         # unexpected: (round, sql, message)
        self.expected = 0
        self.counts = {}

    def reconnect(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg2.Error:
                pass
        self.conn = connect(self.lc.db, f"invariants-lifecycle-{self.n}")
        self.cur = self.conn.cursor()
        self.cur.execute(f"SET ROLE {self.role}")
        self.cur.execute("SET TimeZone = 'UTC'")
        self.cur.execute("SELECT pg_backend_pid()")
        self.pid = self.cur.fetchone()[0]

    def state_problem(self):
        """Why the session is not as an autocommit statement should leave it (None when it is)."""
        status = self.conn.get_transaction_status()
        names = {psycopg2.extensions.TRANSACTION_STATUS_INTRANS: "inside a transaction block nobody opened",
                 psycopg2.extensions.TRANSACTION_STATUS_INERROR: "in an aborted transaction block",
                 psycopg2.extensions.TRANSACTION_STATUS_ACTIVE: "still running a statement"}
        if status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            return names.get(status, f"in transaction status {status}")
        return None

    def run(self, rnd, action, statements, expect=LC_EXPECTED):
        """Runs statements (strings; or callables taking the previous results) as one unit; on an
        error rolls back. Returns the rows of every statement, or None after an error."""
        results = []
        sql = None
        try:
            for s in statements:
                sql = s(results) if callable(s) else s
                if sql is None:
                    continue
                self.cur.execute(sql)
                results.append(self.cur.fetchall() if self.cur.description else None)
            self.log.append((rnd, action, " ; ".join(str(x) for x in statements if not callable(x))[:300], "ok"))
            return results
        except psycopg2.Error as e:
            msg = (e.pgerror or str(e)).strip()
            self.log.append((rnd, action, (sql or "")[:300], msg.splitlines()[0] if msg else "error"))
            if expect and re.search(expect, msg):
                self.expected += 1
            else:
                self.errors.append((rnd, sql, msg))
            if self.conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                try:
                    self.cur.execute("ROLLBACK")
                except psycopg2.Error:
                    pass
            if self.conn.closed or self.conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                self.reconnect()
            return None

    # -- the actions ------------------------------------------------------------------------------
    def pick_ids(self, where, limit):
        self.cur.execute(f"SELECT id FROM deleted_record WHERE table_name IN ('lc_acct', 'lc_note', 'lc_short', 'lc_shortnote') "
                         f"AND {where} ORDER BY id LIMIT {int(limit)}")
        return [r[0] for r in self.cur.fetchall()]

    def own_ids(self, limit):
        m = self.rng.choice([2, 3, 5, 7])
        r = self.rng.randrange(m)
        return self.pick_ids(f"restored_at IS NULL AND (data->>'tok')::bigint % {m} = {r}", limit)

    def act_delete(self, rnd, hot):
        rng = self.rng
        tables = rng.sample(LC_MIX, rng.choice([1, 1, 2]))
        stmts = ["BEGIN"]
        for t in tables:
            m = rng.choice([3, 5, 7, 11])
            stmts.append(f"DELETE FROM {t} WHERE tok IN (SELECT tok FROM {t} WHERE tok % {m} = {rng.randrange(m)} "
                         f"ORDER BY tok LIMIT {rng.randint(1, 6)}) RETURNING tok")
        stmts.append("ROLLBACK" if rng.random() < 0.1 else "COMMIT")
        self.run(rnd, "delete", stmts)

    def act_insert(self, rnd, hot):
        t = self.rng.choice(LC_MIX)
        self.run(rnd, "insert", [f"INSERT INTO {t} (v) SELECT 's{self.n} r{rnd} ' || g FROM generate_series(1, {self.rng.randint(2, 10)}) g"])

    def restore_statements(self, call, how):
        """A restore call and, in its transaction, the log of what it reported restored."""
        n = self.n

        def log(results):
            rows = results[-1]
            restored = [(r[0], r[3]) for r in rows if r[1] == "restored"]
            bad = [r for r in rows if r[1] not in ("restored", "skipped", "already restored")]
            if bad:
                self.errors.append((None, call, f"unexpected outcomes: {bad[:3]}"))
            if not restored:
                return None
            return ("INSERT INTO lc_restored (archive_id, tok, session, who, how) VALUES "
                    + ", ".join(f"('{a}', {t if t is not None else 'NULL'}, {n}, '{self.role}', {sql_literal(how)})" for a, t in restored))
        return ["BEGIN",
                f"SELECT r.archive_id, r.outcome, r.detail, (d.data->>'tok')::bigint FROM {call} r "
                f"LEFT JOIN deleted_record d ON d.id = r.archive_id",
                log, "COMMIT"]

    def act_restore(self, rnd, hot):
        ids = hot if (hot and self.rng.random() < 0.6) else self.own_ids(self.rng.randint(1, 5))
        if not ids:
            return
        oc = self.rng.choice(["error", "skip"])
        call = f"deleted_record_restore('{{{','.join(ids)}}}'::uuid[], on_conflict => '{oc}')"
        self.run(rnd, "restore", self.restore_statements(call, f"round {rnd}, restore, {oc}"))

    def act_restore_xact(self, rnd, hot):
        ids = hot[:1] if (hot and self.rng.random() < 0.5) else self.own_ids(1)
        if not ids:
            return
        oc = self.rng.choice(["error", "skip"])
        call = (f"deleted_record_restore_transaction((SELECT xact_id FROM deleted_record WHERE id = '{ids[0]}'), "
                f"on_conflict => '{oc}')")
        self.run(rnd, "restore_xact", self.restore_statements(call, f"round {rnd}, restore_transaction of {ids[0]}, {oc}"))

    def act_dry_run(self, rnd, hot):
        ids = hot if (hot and self.rng.random() < 0.5) else self.own_ids(self.rng.randint(1, 4))
        if not ids:
            return
        oc = self.rng.choice(["error", "skip"])
        sql = f"SELECT archive_id, outcome FROM deleted_record_restore('{{{','.join(ids)}}}'::uuid[], on_conflict => '{oc}', dry_run => true)"
        if self.rng.random() < 0.3:
            return self.dry_run_in_block(rnd, ids, sql)
        try:
            self.cur.execute(sql)
            rows = self.cur.fetchall()
            outcome = "ok"
            bad = [r for r in rows if r[1] not in ("would restore", "would skip", "already restored")]
            if bad:
                self.lc.dry_problems.append(f"session {self.n} ({self.role}), round {rnd}: dry run of {ids} reported {bad[:3]}")
        except psycopg2.Error as e:
            outcome = (e.pgerror or str(e)).strip().splitlines()[0]
        problem = self.state_problem()
        self.log.append((rnd, "dry_run", sql[:300], outcome))
        self.counts["dry_run_failed" if outcome != "ok" else "dry_run_ok"] = \
            self.counts.get("dry_run_failed" if outcome != "ok" else "dry_run_ok", 0) + 1
        if problem:
            self.lc.dry_problems.append(f"session {self.n} ({self.role}), round {rnd}: after a dry run of archive rows "
                                        f"{', '.join(ids)} ({outcome}) the session is {problem}")
            self.reconnect()

    def dry_run_in_block(self, rnd, ids, sql):
        """The dry run inside a transaction block, after work of its own, behind a savepoint that is
        rolled back to when it fails: the xact id stays, and the work before and after commits."""
        label = f"session {self.n} round {rnd} dry run in a block"
        where = f"session {self.n} ({self.role}), round {rnd}: a dry run of archive rows {', '.join(ids)} in a transaction block"
        xids = []
        outcome = "ok"
        try:
            self.cur.execute("BEGIN")
            self.cur.execute("INSERT INTO lc_marker VALUES (%s)", (label + " before",))
            self.cur.execute("SELECT pg_current_xact_id_if_assigned()::text")
            xids.append(self.cur.fetchone()[0])
            self.cur.execute("SAVEPOINT lc_dry")
            try:
                self.cur.execute(sql)
                self.cur.fetchall()
                self.cur.execute("RELEASE SAVEPOINT lc_dry")
            except psycopg2.Error as e:
                outcome = (e.pgerror or str(e)).strip().splitlines()[0]
                self.cur.execute("ROLLBACK TO SAVEPOINT lc_dry")
            self.cur.execute("SELECT pg_current_xact_id_if_assigned()::text")
            xids.append(self.cur.fetchone()[0])
            self.cur.execute("INSERT INTO lc_marker VALUES (%s)", (label + " after",))
            self.cur.execute("COMMIT")
            self.lc.expected_markers += [(where, label + " before"), (where, label + " after")]
        except psycopg2.Error as e:
            self.lc.dry_problems.append(f"{where} ({outcome}): {(e.pgerror or str(e)).strip().splitlines()[0]}")
        self.log.append((rnd, "dry_run in a block", sql[:300], outcome))
        self.counts["dry_run_failed" if outcome != "ok" else "dry_run_ok"] = \
            self.counts.get("dry_run_failed" if outcome != "ok" else "dry_run_ok", 0) + 1
        if len(set(xids)) > 1:
            self.lc.dry_problems.append(f"{where} ({outcome}): pg_current_xact_id_if_assigned() changed from {xids[0]} to {xids[1]}")
        problem = self.state_problem()
        if problem:
            self.lc.dry_problems.append(f"{where} ({outcome}): after its COMMIT the session is {problem}")
            self.reconnect()

    def act_erase(self, rnd, hot):
        ids = hot[:2] if (hot and self.rng.random() < 0.5) else self.own_ids(self.rng.randint(1, 3))
        if not ids:
            return
        arr = f"'{{{','.join(ids)}}}'::uuid[]"
        n = self.n
        self.run(rnd, "erase", [
            "BEGIN",
            f"INSERT INTO lc_erased SELECT u.id, (d.data->>'tok')::bigint, {n} FROM unnest({arr}) u(id) LEFT JOIN deleted_record d ON d.id = u.id",
            f"SELECT deleted_record_erase({arr}, 'lifecycle session {n}, round {rnd}')",
            lambda res: f"INSERT INTO lc_erase_call VALUES ({n}, '{self.role}', {arr}, {int(res[-1][0][0])})",
            "COMMIT"])

    def act_purge(self, rnd, hot):
        res = self.run(rnd, "purge", ["CALL deleted_record_purge()"])
        if res is not None:
            self.run(rnd, "purge-log", [f"INSERT INTO lc_purge_call VALUES ({self.n}, '{self.role}', 'round {rnd}', {int(res[0][0][0])})"],
                     expect=None)

    def act_squat(self, rnd, hot):
        """Inserts a live row under the key of an archived one: its restore then conflicts."""
        t = self.rng.choice(sorted(LC_KEYED))
        self.run(rnd, "squat", [f"INSERT INTO {t} (id, v) SELECT (data->>'id')::bigint, 'squatter of ' || id FROM deleted_record "
                                f"WHERE table_name = '{t}' AND restored_at IS NULL ORDER BY id DESC LIMIT 1"])

    ACTIONS = [("delete", 26), ("insert", 8), ("restore", 18), ("restore_xact", 7), ("dry_run", 12), ("erase", 8),
               ("purge", 5), ("squat", 3)]

    def step(self, rnd, hot):
        names = [a for a, _ in self.ACTIONS]
        action = self.rng.choices(names, [w for _, w in self.ACTIONS])[0]
        self.counts[action] = self.counts.get(action, 0) + 1
        getattr(self, "act_" + action)(rnd, hot)


class Lifecycle:
    def __init__(self, args, tap, maint):
        self.args = args
        self.tap = tap
        self.maint = maint
        self.db = f"{args.db_prefix}_lifecycle"
        self.rng = random.Random(args.seed + 7)
        self.dry_problems = []     # dry runs in the concurrent mix that left their session changed
        self.expected_markers = []  # (where, label): work committed around dry runs in the mix
        self.live_twice = []       # found during the rounds
        self.live_twice_seen = set()
        self.violations = []       # (checkpoint, kind, tok, detail)

    def setup(self):
        cur = self.maint.cursor()
        cur.execute(f"DROP DATABASE IF EXISTS {self.db}")
        for i in range(1, self.args.lifecycle_sessions + 1):
            cur.execute(f"DROP ROLE IF EXISTS lc_s{i}")
            cur.execute(f"CREATE ROLE lc_s{i}")
        cur.execute(f"CREATE DATABASE {self.db}")
        self.conn = connect(self.db, "invariants-lifecycle")
        self.cur = self.conn.cursor()
        self.cur.execute("CREATE EXTENSION deleted_record")
        self.cur.execute(LIFECYCLE_SQL)
        roles = ", ".join(f"lc_s{i}" for i in range(1, self.args.lifecycle_sessions + 1))
        self.cur.execute(f"""
SELECT lc_table('lc_acct', true, NULL, false, true), lc_table('lc_note', false, '10 years', false, true),
       lc_table('lc_short', true, '1 second', true, true), lc_table('lc_shortnote', false, '1 second', true, true);
GRANT SELECT, INSERT, DELETE ON lc_acct, lc_note, lc_short, lc_shortnote TO {roles};
GRANT USAGE ON SEQUENCE lc_tok, lc_acct_id_seq, lc_short_id_seq TO {roles};
GRANT SELECT, INSERT ON lc_ledger, lc_deleted, lc_restored, lc_erased, lc_erase_call, lc_purge_call, lc_marker TO {roles};
-- the privacy officer's grants (README) and the janitor's: every function and procedure of the purge
GRANT SELECT ON deleted_record TO {roles};
GRANT EXECUTE ON FUNCTION deleted_record_erase(uuid[], text) TO {roles};
DO $g$
DECLARE p regprocedure;
BEGIN
    FOR p IN SELECT oid FROM pg_proc WHERE proname LIKE 'deleted_record\\_purge%' LOOP
        EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO {roles}', p);
    END LOOP;
END $g$;
INSERT INTO lc_acct (v) SELECT 'a' || g FROM generate_series(1, 150) g;
INSERT INTO lc_note (v) SELECT 'n' || g FROM generate_series(1, 150) g;
INSERT INTO lc_short (v) SELECT 's' || g FROM generate_series(1, 100) g;
INSERT INTO lc_shortnote (v) SELECT 'sn' || g FROM generate_series(1, 100) g;
""")

    # -- finding 2: retention follows the table, not its name ----------------------------------
    def identity_setup(self):
        """Tables whose archive rows must outlive a purge: one renamed, one dropped, one detached and
        renamed; each name then taken by a new table attached with retention => '1 microsecond'."""
        self.cur.execute("""
SELECT lc_table('lc_old', true, '100 years', false, false), lc_table('lc_drop', true, '100 years', false, false),
       lc_table('lc_det', true, '100 years', false, false);
INSERT INTO lc_old (v) SELECT 'old ' || g FROM generate_series(1, 5) g;
INSERT INTO lc_drop (v) SELECT 'dropped ' || g FROM generate_series(1, 5) g;
INSERT INTO lc_det (v) SELECT 'detached ' || g FROM generate_series(1, 5) g;
DELETE FROM lc_old; DELETE FROM lc_drop; DELETE FROM lc_det;
CREATE TABLE lc_kept AS SELECT id, (data->>'tok')::bigint AS tok, table_name FROM deleted_record WHERE table_name IN ('lc_old', 'lc_drop', 'lc_det');
ALTER TABLE lc_old RENAME TO lc_old_renamed;
DROP TABLE lc_drop;
SELECT deleted_record_detach('lc_det');
ALTER TABLE lc_det RENAME TO lc_det_renamed;
UPDATE lc_tables SET name = CASE name WHEN 'lc_old' THEN 'lc_old (renamed lc_old_renamed)' WHEN 'lc_drop' THEN 'lc_drop (dropped)'
                                      ELSE 'lc_det (detached, renamed lc_det_renamed)' END
 WHERE name IN ('lc_old', 'lc_drop', 'lc_det');
SELECT lc_table('lc_old', true, '1 microsecond', true, false), lc_table('lc_drop', false, '1 microsecond', true, false),
       lc_table('lc_det', true, '1 microsecond', true, false);
INSERT INTO lc_old (v) VALUES ('new 1'), ('new 2'); INSERT INTO lc_drop (v) VALUES ('new 1'); INSERT INTO lc_det (v) VALUES ('new 1');
DELETE FROM lc_old; DELETE FROM lc_drop; DELETE FROM lc_det;
""")

    def identity_lost(self, cur):
        cur.execute("""SELECT k.table_name, k.id, k.tok FROM lc_kept k
                        WHERE NOT EXISTS (SELECT FROM deleted_record d WHERE d.id = k.id) ORDER BY k.id""")
        return cur.fetchall()

    # -- finding 4: dry runs leave the transaction state they found ----------------------------
    def dry_setup(self):
        self.cur.execute("""
CREATE TABLE lc_dry (id int PRIMARY KEY, tok bigint NOT NULL DEFAULT nextval('lc_tok'), v text);
CREATE TABLE lc_gone (id int PRIMARY KEY, tok bigint NOT NULL DEFAULT nextval('lc_tok'), v text);
SELECT deleted_record_attach('lc_dry'), deleted_record_attach('lc_gone');
INSERT INTO lc_dry (id, v) SELECT g, 'dry ' || g FROM generate_series(1, 4) g;
INSERT INTO lc_gone (id, v) VALUES (1, 'gone');
DELETE FROM lc_dry WHERE id <= 2; DELETE FROM lc_gone;
INSERT INTO lc_dry (id, v) VALUES (1, 'takes the key of archive row 1');
DROP TABLE lc_gone;
CREATE FUNCTION lc_try(ids uuid[]) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM * FROM deleted_record_restore(ids, dry_run => true);
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE PROCEDURE lc_proc(ids uuid[], label text) LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lc_marker VALUES (label || ' before');
    COMMIT;
    BEGIN
        PERFORM * FROM deleted_record_restore(ids, dry_run => true);
    EXCEPTION WHEN OTHERS THEN
        NULL;
    END;
    INSERT INTO lc_marker VALUES (label || ' after');
    COMMIT;
END $$;
GRANT ALL ON lc_dry, lc_marker TO PUBLIC;
""")
        self.cur.execute("""SELECT (SELECT id FROM deleted_record WHERE table_name = 'lc_dry' AND object_id = '1'),
                                   (SELECT id FROM deleted_record WHERE table_name = 'lc_dry' AND object_id = '2'),
                                   (SELECT id FROM deleted_record WHERE table_name = 'lc_gone'),
                                   (SELECT string_agg(format('%s (token %s, %s %s)', id, data->>'tok', table_name, object_id), ', ')
                                      FROM deleted_record WHERE table_name IN ('lc_dry', 'lc_gone'))""")
        self.conflict_id, self.ok_id, self.gone_id, self.dry_rows = self.cur.fetchone()

    def dry_case(self, name, steps, markers_in, markers_out, planted=False):
        """Runs steps (SQL strings) on a fresh session; returns what is wrong afterwards: an error
        other than the dry run's own caught one, the session left in a transaction, markers not
        committed (or committed although rolled back), xact ids changed, the dry run's rows changed."""
        try:
            return self._dry_case(name, steps, markers_in, markers_out)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as e:
            # the server process crashed (a caught dry run left the backend inconsistent): report it,
            # wait for the server's crash recovery and go on with fresh connections
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            self.wait_for_server()
            return [f"the server lost the connection (a backend crashed, see the server log): {msg}"]

    def wait_for_server(self):
        deadline = time.time() + 120
        while True:
            try:
                self.conn = connect(self.db, "invariants-lifecycle")
                self.cur = self.conn.cursor()
                self.cur.execute("SELECT 1")
                return
            except psycopg2.Error:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)

    def _dry_case(self, name, steps, markers_in, markers_out):
        conn = connect(self.db, "invariants-lifecycle-dry")
        cur = conn.cursor()
        problems = []
        xids = []
        try:
            cur.execute("DELETE FROM lc_marker")
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]
            for sql in steps:
                try:
                    cur.execute(sql)
                    if sql.startswith("SELECT pg_current_xact_id_if_assigned()"):
                        xids.append(cur.fetchone()[0])
                    elif cur.description:
                        cur.fetchall()
                except psycopg2.Error as e:
                    msg = (e.pgerror or str(e)).strip().splitlines()[0]
                    if not sql.startswith("SELECT * FROM deleted_record_restore"):   # a dry run's error is its own
                        problems.append(f"{sql[:160]!r} failed: {msg}")
            status = conn.get_transaction_status()
            if status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                problems.append("the session is left " + {psycopg2.extensions.TRANSACTION_STATUS_INTRANS: "inside a transaction block nobody opened",
                                                          psycopg2.extensions.TRANSACTION_STATUS_INERROR: "in an aborted transaction block"}
                                .get(status, f"in transaction status {status}"))
            if len(set(xids)) > 1:
                problems.append(f"pg_current_xact_id_if_assigned() changed within the transaction: {xids}")
            obs = self.cur
            obs.execute("SELECT state, backend_xid::text, backend_xmin::text FROM pg_stat_activity WHERE pid = %s", (pid,))
            row = obs.fetchone()
            if row and (row[0] != "idle" or row[1] or row[2]):
                problems.append(f"pg_stat_activity shows the session {row[0]} (xid {row[1]}, xmin {row[2]})")
        finally:
            conn.close()   # whatever is left open is rolled back here, as at any disconnect
        obs = self.cur
        obs.execute("SELECT coalesce(array_agg(label ORDER BY label), '{}') FROM lc_marker")
        seen = set(obs.fetchone()[0])
        lost = [m for m in markers_in if m not in seen]
        if lost:
            problems.append(f"work done in the same session did not commit: {lost}")
        back = [m for m in markers_out if m in seen]
        if back:
            problems.append(f"work rolled back by the caller was committed: {back}")
        obs.execute("""SELECT count(*) FILTER (WHERE restored_at IS NOT NULL), (SELECT count(*) FROM lc_dry)
                         FROM deleted_record WHERE table_name IN ('lc_dry', 'lc_gone')""")
        marked, live = obs.fetchone()
        if (marked, live) != (0, 3):
            problems.append(f"the dry runs changed data: {marked} archive rows marked restored, lc_dry has {live} rows (3 before)")
        obs.execute("DELETE FROM lc_marker")
        return problems

    def dry_cases(self):
        c, ok, gone = (f"'{{{x}}}'::uuid[]" for x in (self.conflict_id, self.ok_id, self.gone_id))
        dr = "SELECT * FROM deleted_record_restore({}, dry_run => true)"
        xid = "SELECT pg_current_xact_id_if_assigned()"
        return [
            ("in autocommit (a conflict, a missing table, one that would restore)",
             [dr.format(c), "INSERT INTO lc_marker VALUES ('a1')", dr.format(gone), "INSERT INTO lc_marker VALUES ('a2')",
              dr.format(ok), "INSERT INTO lc_marker VALUES ('a3')"], ["a1", "a2", "a3"], []),
            ("in a transaction block, rolled back to a savepoint",
             ["BEGIN", "INSERT INTO lc_marker VALUES ('b1')", xid, "SAVEPOINT s", dr.format(c), "ROLLBACK TO SAVEPOINT s",
              xid, "SAVEPOINT t", dr.format(gone), "ROLLBACK TO SAVEPOINT t", "RELEASE SAVEPOINT s",
              "INSERT INTO lc_marker VALUES ('b2')", dr.format(ok), xid, "INSERT INTO lc_marker VALUES ('b3')", "COMMIT"],
             ["b1", "b2", "b3"], []),
            ("caught by a plpgsql EXCEPTION block in a DO block (autocommit)",
             [f"""DO $lc$
BEGIN
    INSERT INTO lc_marker VALUES ('c1');
    BEGIN
        PERFORM * FROM deleted_record_restore({c}, dry_run => true);
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    INSERT INTO lc_marker VALUES ('c2');
    BEGIN
        PERFORM * FROM deleted_record_restore({gone}, dry_run => true);
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    INSERT INTO lc_marker VALUES ('c3');
END $lc$""", "INSERT INTO lc_marker VALUES ('c4')"], ["c1", "c2", "c3", "c4"], []),
            ("caught by a function's EXCEPTION block inside a transaction block with savepoints",
             ["BEGIN", "INSERT INTO lc_marker VALUES ('d1')", xid, "SAVEPOINT a", f"SELECT lc_try({c})", f"SELECT lc_try({gone})",
              xid, "INSERT INTO lc_marker VALUES ('d2')", "ROLLBACK TO SAVEPOINT a", "INSERT INTO lc_marker VALUES ('d3')",
              f"SELECT lc_try({ok})", xid, "COMMIT"], ["d1", "d3"], ["d2"]),
            ("caught inside a procedure that commits",
             [f"CALL lc_proc({c}, 'e1')", f"CALL lc_proc({gone}, 'e2')", "INSERT INTO lc_marker VALUES ('e3')"],
             ["e1 before", "e1 after", "e2 before", "e2 after", "e3"], []),
        ]

    # -- the concurrent rounds ---------------------------------------------------------------------
    def hot_ids(self, rnd):
        """The archive rows every session works on in a round: the oldest unrestored ones of one table."""
        t = LC_MIX[rnd % len(LC_MIX)]
        self.cur.execute(f"SELECT id::text FROM deleted_record WHERE table_name = '{t}' AND restored_at IS NULL "
                         f"ORDER BY id LIMIT {self.rng.randint(1, 4)}")
        return [r[0] for r in self.cur.fetchall()]

    def rounds(self, sessions):
        import threading
        n_rounds = self.args.lifecycle_rounds
        steps = 3
        barrier = threading.Barrier(len(sessions))
        crashed = []

        def work(s, hot, rnd):
            try:
                for _ in range(steps):
                    barrier.wait(timeout=120)
                    s.step(rnd, hot)
            except Exception as e:   # a bug of the test itself: reported, not hidden
                crashed.append(f"session {s.n}, round {rnd}: {type(e).__name__}: {e}")
                barrier.abort()

        for rnd in range(1, n_rounds + 1):
            hot = self.hot_ids(rnd)
            threads = [threading.Thread(target=work, args=(s, hot, rnd)) for s in sessions]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if crashed:
                raise Failure("; ".join(crashed))
            barrier.reset()
            # cheap check during the phase: no token live twice
            self.cur.execute("SELECT l.tok, l.relid::regclass::text, count(*) FROM lc_live() l GROUP BY 1, 2 HAVING count(*) > 1")
            for tok, rel, n in self.cur.fetchall():
                if tok in self.live_twice_seen:
                    continue   # reported once, at the first round it was seen
                self.live_twice_seen.add(tok)
                self.cur.execute("SELECT coalesce(string_agg(format('%%s by session %%s (%%s)', archive_id, session, how), '; '), '-') "
                                 "FROM lc_restored WHERE tok = %s", (tok,))
                self.live_twice.append(f"round {rnd}: token {tok} of {rel} live {n} times; restored: {self.cur.fetchone()[0]}")
            if rnd % 5 == 0:   # top up
                self.cur.execute("""SELECT 'lc_acct', count(*) FROM lc_acct UNION ALL SELECT 'lc_note', count(*) FROM lc_note
                                    UNION ALL SELECT 'lc_short', count(*) FROM lc_short UNION ALL SELECT 'lc_shortnote', count(*) FROM lc_shortnote""")
                for t, n in self.cur.fetchall():
                    if n < 60:
                        self.cur.execute(f"INSERT INTO {t} (v) SELECT 'refill ' || g FROM generate_series(1, 80) g")

    def checkpoint(self, label, older_than_done=False):
        self.cur.execute("SELECT kind, tok, detail FROM lc_check(%s) ORDER BY kind, tok", (older_than_done,))
        for kind, tok, detail in self.cur.fetchall():
            self.violations.append((label, kind, tok, detail))

    def controlled_purge(self, older_than=None):
        time.sleep(1.2)   # everything archived so far is older than the short retentions (and than 1 second)
        self.cur.execute("SELECT count(*) FROM deleted_record")
        before = self.cur.fetchone()[0]
        if older_than:
            self.cur.execute(f"CALL deleted_record_purge(older_than => '{older_than}')")
        else:
            self.cur.execute("CALL deleted_record_purge()")
        removed = self.cur.fetchone()[0]
        self.cur.execute("INSERT INTO lc_purge_call VALUES (0, current_user, %s, %s)",
                         (f"controlled, older_than {older_than}" if older_than else "controlled, by retention", removed))
        return before, removed

    def run(self):
        args, tap = self.args, self.tap
        seed = args.seed
        t0 = time.time()
        self.setup()
        self.identity_setup()
        sessions = [LifecycleSession(self, i) for i in range(1, self.args.lifecycle_sessions + 1)]
        self.rounds(sessions)
        errors = [(s, e) for s in sessions for e in s.errors]
        self.cur.execute("SELECT coalesce(array_agg(label), '{}') FROM lc_marker")
        committed = set(self.cur.fetchone()[0])
        self.dry_problems += [f"{where}: the work around it did not commit ({label!r})"
                              for where, label in self.expected_markers if label not in committed]
        for s in sessions:
            s.conn.close()
        self.checkpoint("after the concurrent rounds")
        # a purge by retention with nobody else at work: the short retentions' rows go, nothing else
        _, removed_retention = self.controlled_purge()
        self.checkpoint("after a purge by retention")
        lost = self.identity_lost(self.cur)
        self.cur.execute("""SELECT count(*), coalesce(string_agg(d.id::text || ' (' || d.table_name || ')', ', '), '')
                              FROM deleted_record d JOIN lc_tables t ON t.name = d.table_name AND t.purgeable
                              JOIN lc_deleted x ON x.tok = (d.data->>'tok')::bigint AND x.relid = t.relid""")
        short_left, short_ids = self.cur.fetchone()
        # a purge with older_than, for every table, in a controlled step
        before, removed_all = self.controlled_purge(older_than="1 second")
        self.checkpoint("after a purge with older_than", older_than_done=True)
        self.cur.execute("SELECT count(*) FROM deleted_record")
        after = self.cur.fetchone()[0]
        self.dry_setup()
        dry = [(name, self.dry_case(name, steps, ins, outs)) for name, steps, ins, outs in self.dry_cases()]
        self.elapsed = time.time() - t0

        counts = {}
        for s in sessions:
            for k, v in s.counts.items():
                counts[k] = counts.get(k, 0) + v
        self.cur.execute("""SELECT (SELECT count(*) FROM lc_ledger), (SELECT count(*) FROM lc_deleted), (SELECT count(*) FROM lc_restored),
                                   (SELECT count(*) FROM deleted_record_erasure), (SELECT coalesce(sum(removed), 0) FROM lc_purge_call)""")
        ledger, deleted, restored, erased, purged = self.cur.fetchone()
        Tap.diag(f"lifecycle phase: seed {seed}, {args.lifecycle_sessions} sessions, {args.lifecycle_rounds} rounds in {self.elapsed:.1f} s; "
                 f"{ledger} tokens inserted, {deleted} deletions, {restored} rows reported restored, {erased} erased, {purged} purged; "
                 f"{sum(s.expected for s in sessions)} expected errors (rows taken by another session first, planted conflicts)")
        Tap.diag("actions: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        by_kind = {}
        for label, kind, tok, detail in self.violations:
            by_kind.setdefault(kind, []).append((label, tok, detail))
        for kind, desc in LC_KINDS:
            hits = by_kind.get(kind, [])
            if kind == "live_twice":
                hits = [("during the rounds", None, x) for x in self.live_twice] + hits   # the earliest first
            tap.check(not hits, f"lifecycle (seed {seed}): {desc}",
                      f"{len(hits)} violations; the first ones:\n" + "\n".join(f"{label}: {detail}" for label, _, detail in hits[:6]))
        tap.check(not lost, f"lifecycle (seed {seed}): no archive row of a renamed, dropped-and-recreated or detached table is purged "
                  "by the retention of a new table with its name",
                  f"{len(lost)} archive rows purged; a new table of the same name was attached with retention => '1 microsecond':\n"
                  + "\n".join(f"archive row {i} (token {t}) of the old {n}" for n, i, t in lost[:10]))
        tap.check(short_left == 0 and removed_retention is not None, f"lifecycle (seed {seed}): a purge by retention removes the rows of "
                  f"tables with a retention of 1 second or less (it removed {removed_retention})",
                  f"{short_left} expired archive rows left: {short_ids[:600]}")
        tap.check(removed_all == before and after == 0, f"lifecycle (seed {seed}): a purge with older_than removes every older row "
                  f"({before} archive rows before, removed {removed_all}, {after} left)")
        mix = self.dry_problems
        tap.check(not mix, f"lifecycle (seed {seed}): dry runs from the concurrent sessions report would restore/would skip and leave "
                  f"each session as they found it ({counts.get('dry_run_ok', 0)} succeeded, {counts.get('dry_run_failed', 0)} failed)",
                  "\n".join(mix[:6]))
        for name, problems in dry:
            tap.check(not problems, f"lifecycle (seed {seed}): a dry run that fails {name} leaves the transaction state it found",
                      f"archive rows: {self.dry_rows}\n" + "\n".join(problems))
        if errors:
            lines = [f"{len(errors)} unexpected errors; the first ones:"]
            for s, (rnd, sql, msg) in errors[:5]:
                lines.append(f"session {s.n} ({s.role}), round {rnd}: {msg.splitlines()[0] if msg else msg}\n  in: {(sql or '')[:300]}")
            tap.not_ok(f"lifecycle (seed {seed}): no statement fails unexpectedly", "\n".join(lines))
        else:
            tap.ok(f"lifecycle (seed {seed}): no statement fails unexpectedly")
        if self.violations or lost or mix or any(p for _, p in dry) or errors:
            Tap.diag(f"replay with INVARIANTS_ONLY=lifecycle INVARIANTS_SEED={seed} test/shell/invariants.sh (the sessions' statements "
                     "are the same; their interleaving is up to the server)")
            path = os.path.join(args.artifacts, f"deleted_record_invariants.{seed}.lifecycle.log")
            with open(path, "w") as out:
                for s in sessions:
                    for rnd, action, sql, outcome in s.log:
                        out.write(f"session {s.n} round {rnd} {action}: {sql}\n    -> {outcome}\n")
            Tap.diag(f"every session's statements and outcomes: {path}")

    def self_test(self):
        """Plants one violation of each new kind (rolled back) and checks that it is reported."""
        tap, cur = self.tap, self.cur
        found = set()
        cur.execute("BEGIN")
        try:
            # an archive row of lc_acct (no retention) with a token, for the purge plants
            cur.execute("INSERT INTO lc_acct (v) VALUES ('plant 1'), ('plant 2'), ('plant 3'), ('plant 4') RETURNING tok")
            toks = [r[0] for r in cur.fetchall()]
            cur.execute("DELETE FROM lc_acct WHERE tok = ANY(%s)", (toks,))
            cur.execute("INSERT INTO lc_note (v) VALUES ('plant 5') RETURNING tok")
            live_tok = cur.fetchone()[0]
            cur.execute("SELECT id, (data->>'tok')::bigint FROM deleted_record WHERE (data->>'tok')::bigint = ANY(%s) ORDER BY 2", (toks,))
            (a1, t1), (a2, t2), (a3, t3), (a4, t4) = cur.fetchall()
            cur.execute("INSERT INTO lc_acct (tok, v) VALUES (%s, 'a deleted token live again, unrestored')", (t1,))   # accounting
            cur.execute("INSERT INTO lc_note (tok, v) VALUES (%s, 'a second copy')", (live_tok,))                  # live_twice
            cur.execute("INSERT INTO lc_restored VALUES (%s, %s, 1, 'lc_s1', 'plant'), (%s, %s, 2, 'lc_s2', 'plant')",
                        (a2, t2, a2, t2))                                                                            # restored_twice
            cur.execute("UPDATE deleted_record SET restored_at = now(), restored_by = 'lc_s1' WHERE id = %s", (a3,))  # restore_mark
            # purged_wrong and purge_count; and, as the archive row of a renamed table, the identity check
            cur.execute("INSERT INTO lc_kept VALUES (%s, %s, 'lc_acct')", (a4, t4))
            cur.execute("DELETE FROM deleted_record WHERE id = %s", (a4,))
            cur.execute("INSERT INTO lc_erase_call VALUES (9, 'lc_s9', '{}', 1)")                                   # erase_count
            cur.execute("SELECT kind, tok FROM lc_check(false)")
            found = set(cur.fetchall())
            lost = self.identity_lost(cur)
        finally:
            cur.execute("ROLLBACK")
        want = {("accounting", t1), ("live_twice", live_tok), ("restored_twice", t2), ("restore_mark", t3),
                ("purged_wrong", t4), ("erase_count", None), ("purge_count", None)}
        missed = want - found
        if not any(i == a4 for _, i, _ in lost):
            missed.add(("renamed table's row purged", a4))
        # a session left in a transaction block (what a broken dry run does), planted with BEGIN
        problems = self.dry_case("planted", ["BEGIN", "INSERT INTO lc_marker VALUES ('p1')"], ["p1"], [])
        if not any("transaction block" in p for p in problems) or not any("did not commit" in p for p in problems):
            missed.add(("dry run state", None))
        # the same, as the concurrent sessions check it after each dry run
        s = LifecycleSession(self, 1)
        s.cur.execute("BEGIN")
        if s.state_problem() is None:
            missed.add(("dry run state in the concurrent mix", None))
        s.conn.close()
        tap.check(not missed, "the lifecycle checker reports planted violations of every kind (a token live and archived, live twice, "
              "restored twice, an unreported restored_at, a purged row of a table without retention, a wrong erase count, "
              "a renamed table's purged row, a session left in a transaction block)", f"not reported: {sorted(missed, key=str)}")

    def close(self, keep):
        self.conn.close()
        if not keep:
            cur = connect("postgres", "invariants-maint").cursor()   # a crash may have ended self.maint's
            cur.execute(f"DROP DATABASE {self.db}")
            for i in range(1, self.args.lifecycle_sessions + 1):
                cur.execute(f"DROP ROLE IF EXISTS lc_s{i}")


def main():
    env = os.environ.get
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=int(env("INVARIANTS_SEED", "20261123")))
    ap.add_argument("--transactions", type=int, default=int(env("INVARIANTS_TRANSACTIONS", "450")),
                    help="random transactions (about 6 statements each)")
    ap.add_argument("--full-every", type=int, default=int(env("INVARIANTS_FULL_EVERY", "0")),
                    help="also check every token (not only those a transaction touched) every N transactions; "
                         "always done at the end")
    ap.add_argument("--epoch", type=int, default=int(env("INVARIANTS_EPOCH", "20")),
                    help="transactions between changes of the random extra triggers")
    ap.add_argument("--exception-blocks", choices=["all", "no-triggers", "none"],
                    default=env("INVARIANTS_EXCEPTION_BLOCKS", "all"),
                    help="where the random workload uses exception blocks: everywhere (default); not in the extra "
                         "triggers (DO blocks and functions keep theirs); nowhere. The last two validate the checks "
                         "themselves on code that loses rows only through exception blocks in triggers")
    ap.add_argument("--only", choices=["all", "scenarios", "random", "lifecycle"], default=env("INVARIANTS_ONLY", "all"))
    ap.add_argument("--lifecycle", type=int, choices=[0, 1], default=int(env("INVARIANTS_LIFECYCLE", "1")),
                    help="0 leaves the lifecycle phase (concurrent restores, dry runs, erasures, purges) out")
    ap.add_argument("--lifecycle-rounds", type=int, default=int(env("INVARIANTS_LIFECYCLE_ROUNDS", "100")),
                    help="rounds of the lifecycle phase (each session acts 3 times per round)")
    ap.add_argument("--lifecycle-sessions", type=int, default=int(env("INVARIANTS_LIFECYCLE_SESSIONS", "3")),
                    help="concurrent sessions of the lifecycle phase (1: no concurrency, to tell races from the rest)")
    ap.add_argument("--max-seconds", type=float, default=float(env("INVARIANTS_MAX_SECONDS", "600")))
    ap.add_argument("--shrink-seconds", type=float, default=float(env("INVARIANTS_SHRINK_SECONDS", "30")))
    ap.add_argument("--artifacts", default=env("INVARIANTS_ARTIFACTS", "/tmp"),
                    help="where reproduction scripts are written on a failure")
    ap.add_argument("--db-prefix", default="inv")
    ap.add_argument("--print-setup", action="store_true",
                    help="print the random part's setup (extension, oracle, tables, initial data) as a psql script and exit")
    ap.add_argument("--history", help="write every statement of the random part to this file (psql-replayable)")
    ap.add_argument("--keep-db", action="store_true", help="keep the random part's database (inv_random) at the end")
    args = ap.parse_args()

    if args.print_setup:
        wl = Workload(args, None, None)
        wl.setup(dry=True)
        print(setup_script(wl.base))
        return 0
    tap = Tap()
    print(f"# seed {args.seed} (set INVARIANTS_SEED or --seed to change it), {args.transactions} random transactions"
          f"{', exception blocks: ' + args.exception_blocks if args.exception_blocks != 'all' else ''}", flush=True)
    maint = connect("postgres", "invariants-maint")
    if args.only in ("all", "scenarios"):
        run_scenarios(tap, maint, args.db_prefix)
    if args.only in ("all", "random"):
        wl = Workload(args, tap, maint)
        try:
            wl.run()
        except Failure as e:
            tap.not_ok(f"random (seed {args.seed}): the workload ran", str(e))
            return 1
        wl.report()
        if args.history:
            wl.write_history(args.history)
        self_test(tap, wl)
        wl.conn.close()
        wl.chk.connection.close()
        if not args.keep_db:
            maint.cursor().execute(f"DROP DATABASE {wl.db}")
    if args.only in ("all", "lifecycle") and args.lifecycle:
        lc = Lifecycle(args, tap, maint)
        try:
            lc.run()
        except Failure as e:
            tap.not_ok(f"lifecycle (seed {args.seed}): the phase ran", str(e))
            return 1
        lc.self_test()
        lc.close(args.keep_db)
    elif args.only in ("all", "lifecycle"):
        print("# lifecycle phase left out (INVARIANTS_LIFECYCLE=0)", flush=True)
    print(f"# invariants.py finished: {tap.failed} checks failed", flush=True)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
