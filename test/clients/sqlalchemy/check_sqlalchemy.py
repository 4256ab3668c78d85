#!/usr/bin/env python3
"""SQLAlchemy 1.4 + Alembic through pgbouncer in transaction mode: see test/shell/clients.sh."""
import glob
import os
import re
import tempfile
import threading
import time
import warnings
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from alembic import command
from alembic.config import Config
from sqlalchemy import BigInteger, MetaData, Table, create_engine, delete, exc, func, insert, select, text
from sqlalchemy.orm import Session

from deletion_context import deletion_context, ignore_truncate
from exact_json import exact_json_loads
from models import (ArchiveStats, Progress, Customer, DeletedInvoice, DeletedRecord, DeletedTicket, Invoice, InvoiceLine,
                    LegalHold, Ticket, txlog)
from undelete import undelete

STACK = "sqlalchemy"
HERE = os.path.dirname(os.path.abspath(__file__))
WORKERS, TXNS, PER_TXN, ROWS = (int(os.environ[v]) for v in ("WORKERS", "TXNS", "PER_TXN", "ROWS"))
BIG, AMOUNT = 9007199254740993, Decimal("12345678901234567890.0123456789")


def check(desc, cond, *diagnostics):
    print(f"{'ok' if cond else 'not ok'} - {desc}", flush=True)
    if not cond:
        for d in diagnostics:
            print(f"#   {d}", flush=True)


def url(port, db="sqla_app", user="app"):
    return f"postgresql+psycopg2://{user}@127.0.0.1:{port}/{db}"


def alembic_config(db, versions=None):
    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(HERE, "alembic"))
    cfg.set_main_option("version_locations", " ".join(filter(None, [os.path.join(HERE, "alembic", "versions"), versions])))
    cfg.set_main_option("sqlalchemy.url", url(os.environ["DIRECT_PORT"], db))
    return cfg


def autogenerate(unfiltered):
    """The upgrade operations `alembic revision --autogenerate` writes, and the warnings it gave."""
    with tempfile.TemporaryDirectory(dir=os.environ["WORK"]) as versions:
        cfg = alembic_config("sqla_app", versions)
        cfg.attributes["unfiltered"] = unfiltered
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            command.revision(cfg, message="autogenerate", autogenerate=True, version_path=versions)
        (script,) = glob.glob(os.path.join(versions, "*.py"))
        with open(script) as f:
            upgrade = f.read().split("def upgrade():")[1].split("def downgrade():")[0]
    return [line.strip() for line in upgrade.splitlines() if line.strip().startswith("op.")], [str(w.message) for w in caught]


def import_holds_stats(direct, pooled):
    """The import from soft deletion (Alembic 0004), legal holds as the counsel role through the
    pooler, and the archive's statistics for the imported table."""
    command.upgrade(alembic_config("sqla_app"), "0003")  # the soft-deleting ticket table
    soft = [datetime(2025, 6, day, 10, 0, tzinfo=timezone.utc) for day in (1, 2, 3, 4, 5)]
    amounts = [Decimal(f"12345678901234567890.012345678{i}") for i in range(8)]
    with Session(direct) as session, session.begin():
        tickets = [Ticket(title=f"ticket {i}", amount=amounts[i], deleted_at=soft[i] if i < 5 else None,
                          deleted_by=f"support:{i}" if i < 5 else None, delete_reason=f"duplicate {i}" if i < 5 else None)
                   for i in range(8)]
        session.add_all(tickets)
        session.flush()
        ids = [t.id for t in tickets]
    # The migrations' connection runs under require_context, with no session context: the import's
    # actor and reason expressions alone must satisfy it.
    with direct.connect() as conn:
        session_context = conn.execute(text(
            "SELECT current_setting('deleted_record.require_context'),"
            " coalesce(current_setting('deleted_record.actor', true), ''), coalesce(current_setting('deleted_record.reason', true), '')")).all()
    check("the migrations connect under require_context = actor_and_reason, with no session actor or reason",
          [tuple(r) for r in session_context] == [("actor_and_reason", "", "")], session_context)
    command.upgrade(alembic_config("sqla_app"), "head")  # 0004: CALL deleted_record_import(...), batches of 2
    with Session(pooled) as session:
        live = session.scalars(select(Ticket.id).order_by(Ticket.id)).all()
        check("the import migration left only the 3 live tickets in the table", live == ids[5:], live)
        # recipe: sqlalchemy-import-read
        migrated = session.scalars(select(DeletedTicket).where(DeletedTicket.archive_restored_at.is_(None))
                                   .order_by(DeletedTicket.id)).all()
        # end recipe
        got = [(t.id, t.amount, t.archive_deleted_at, t.archive_actor, t.archive_reason) for t in migrated]
        check("the typed view's model reads the 5 imported tickets: exact amounts, their own deletion time, actor and reason",
              got == [(ids[i], amounts[i], soft[i], f"support:{i}", f"duplicate {i}") for i in range(5)], got)
        first, held = migrated[0], migrated[1]
    with Session(pooled) as session, session.begin():
        outcomes = session.execute(text("SELECT outcome FROM deleted_record_restore(ARRAY[:id]::uuid[])"),
                                   {"id": str(first.archive_id)}).scalars().all()
    with Session(pooled) as session:
        back = session.get(Ticket, first.id)
        check("an imported ticket is undeleted: live again with its exact amount and no deleted_at",
              outcomes == ["restored"] and back is not None and back.amount == amounts[0] and back.deleted_at is None
              and session.get(DeletedTicket, first.archive_id).archive_restored_at is not None,
              outcomes, back and (back.amount, back.deleted_at))

    try:  # the application's role has no grant to place holds
        with Session(pooled) as session, session.begin():
            session.execute(text("SELECT deleted_record_hold('by-app', 'no grant', for_table => 'ticket')"))
        error = None
    except Exception as e:  # noqa: BLE001 - the type is what is checked
        error = e
    check("the app role (not granted holds) placing one raises SQLAlchemy's ProgrammingError, pgcode 42501",
          isinstance(error, exc.ProgrammingError) and getattr(error.orig, "pgcode", None) == "42501", f"{type(error).__name__}: {error}")
    # Legal hold on the second imported ticket, as counsel through the pooler.
    # recipe: sqlalchemy-hold
    counsel = create_engine(url(os.environ["BOUNCER_PORT"], user="counsel"), future=True)
    with Session(counsel) as session, session.begin():
        session.execute(text("SELECT deleted_record_hold(:name, :reason, for_table => 'ticket', for_object => :object)"),
                        {"name": "case-sqlalchemy", "reason": "Litigation hold, letter of 2 November 2026", "object": str(held.id)})
    with Session(counsel) as session:
        in_place = session.scalars(select(LegalHold).where(LegalHold.released_at.is_(None))).all()
    # end recipe
        holds = [(h.name, h.table_name, h.object_id, h.held_by) for h in in_place]
        check("counsel places a hold; the LegalHold model lists it", holds == [("case-sqlalchemy", "ticket", str(ids[1]), "counsel")], holds)
    erase = text("SELECT count(*) FROM deleted_record_erase(ARRAY[:id]::uuid[], 'GDPR erasure request #4711')")
    try:
        with Session(counsel) as session, session.begin():
            session.execute(erase, {"id": str(held.archive_id)})
        error = None
    except Exception as e:  # noqa: BLE001 - the type is what is checked
        error = e
    check("erasing the held ticket raises SQLAlchemy's OperationalError, pgcode 55000, naming the hold",
          isinstance(error, exc.OperationalError) and getattr(error.orig, "pgcode", None) == "55000"
          and '"case-sqlalchemy"' in str(error.orig), f"{type(error).__name__}: {error}")
    with Session(counsel) as session, session.begin():
        session.execute(text("SELECT deleted_record_release('case-sqlalchemy')"))
    with Session(counsel) as session, session.begin():
        session.execute(erase, {"id": str(held.archive_id)})
    with Session(counsel) as session:
        released = session.scalars(select(LegalHold).where(LegalHold.name == "case-sqlalchemy")).one()
        gone = session.get(DeletedTicket, held.archive_id) is None
    check("after counsel releases it the hold is history (released_by counsel) and the erasure goes through",
          released.released_by == "counsel" and released.released_at is not None and gone, (released.released_by, gone))
    counsel.dispose()

    # The archive's statistics for the ticket table: 4 archive rows (5 imported, 1 erased), 1 restored.
    with Session(pooled) as session:
        # recipe: sqlalchemy-stats
        tickets = session.scalars(select(ArchiveStats).where(ArchiveStats.kind == "table", ArchiveStats.schema_name == "public",
                                                             ArchiveStats.table_name == "ticket")).one()
        # end recipe
        got = (tickets.schema_name, tickets.table_name, tickets.rows_archived, tickets.rows_restored, tickets.rows_erased, tickets.oldest_deleted_at,
               tickets.newest_deleted_at, tickets.retention, tickets.rows_awaiting_purge, tickets.estimated)
        check("the ArchiveStats model reads the ticket table's figures typed: counts, deletion times, retention",
              got == ("public", "ticket", 4, 1, 1, soft[0], soft[4], timedelta(days=30), 0, False) and tickets.bytes > 0, got)
        partitions = session.scalars(select(ArchiveStats).where(ArchiveStats.kind == "partition")).all()
        periods = [p for p in partitions if p.period_from is not None]  # the default partition has none
        check("and the archive's partitions, each with its name and size, the monthly ones with their period",
              periods and all(isinstance(p.partition_name, str) and p.bytes > 0 and p.schema_name is None and p.table_name is None
                               for p in partitions)
              and all(p.period_from < p.period_until for p in periods),
              [(p.partition_name, p.period_from, p.period_until, p.bytes) for p in partitions])


# An import whose third batch waits for a row lock the test holds: its progress, as it stands then,
# is the import's line in deleted_record_progress. Through the pooler, under require_context: the
# actor and reason are the import's own (quoted constants), no session context.
PROGRESS_SETUP = ["CREATE TABLE job (id int PRIMARY KEY, deleted_at timestamptz)",
                  "INSERT INTO job SELECT i, '2025-06-01 10:00+00' FROM generate_series(1, 6) i",
                  "SELECT deleted_record_attach('job')"]
PROGRESS_IMPORT = ("CALL deleted_record_import('job', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at',"
                   " actor => '''jobs''', reason => '''expired''', batch_size => 2)")


def progress(direct, pooled):
    with direct.begin() as conn:
        for statement in PROGRESS_SETUP:
            conn.execute(text(statement))
    errors = []

    def run_import():
        try:
            with pooled.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(PROGRESS_IMPORT))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    with direct.begin() as lock:
        lock.execute(text("SELECT id FROM job WHERE id = 6 FOR UPDATE"))  # the third batch waits for it
        thread = threading.Thread(target=run_import)
        thread.start()
        running = None
        with Session(pooled) as session:
            for _ in range(200):
                # recipe: sqlalchemy-progress
                running = session.scalars(select(Progress).where(Progress.operation.startswith("import"))).first()
                # end recipe
                session.rollback()  # a fresh snapshot of pg_stat_activity next time
                if running is not None and running.rows_done == 4:
                    break
                time.sleep(0.05)
    thread.join()
    got = running and (running.role_name, running.operation, running.rows_done, running.rows_total, running.rows_left,
                       running.percent_done, isinstance(running.rows_per_second, int), running.started is not None)
    check("while an import runs, the Progress model reads its line typed: rows done, total, left, percent, rate",
          got == ("app", "import job", 4, 6, 2, Decimal("66.7"), True, True), got)
    with Session(pooled) as session:
        left = session.scalars(select(Progress).where(Progress.operation.startswith("import"))).all()
        archived = session.execute(text("SELECT count(*) FROM deleted_record"
                                        " WHERE table_name = 'job' AND actor = 'jobs' AND reason = 'expired'")).scalar_one()
    check("the import then ran to its end: the table is empty, the progress line gone, every row with the import's"
          " actor and reason",
          not errors and not left and archived == 6, *errors)
    with direct.begin() as conn:  # no model has it: autogenerate (below) would propose dropping it
        conn.execute(text("SELECT deleted_record_detach('job')"))
        conn.execute(text("DROP TABLE job"))


def main():
    direct = create_engine(url(os.environ["DIRECT_PORT"]), future=True)
    pooled = create_engine(url(os.environ["BOUNCER_PORT"]), future=True, pool_size=WORKERS, max_overflow=0,
                           json_deserializer=exact_json_loads)
    import_holds_stats(direct, pooled)
    progress(direct, pooled)
    with Session(direct) as session, session.begin():
        for w in range(1, WORKERS + 1):
            session.add_all(Invoice(worker=w, amount=Decimal("1.5"), big=w) for _ in range(ROWS))

    # Concurrent worker threads; each sets its context in its own contextvar, the after_begin
    # event puts it into each session's transaction.
    errors = []

    def worker(w):
        try:
            with deletion_context(f"{STACK}-worker-{w}", f"cleanup by {STACK} worker {w}", {"stack": STACK, "worker": w}):
                for _ in range(TXNS):
                    with Session(pooled) as session, session.begin():
                        session.execute(insert(txlog).values(worker=w, pid=func.pg_backend_pid()))
                        ids = select(Invoice.id).where(Invoice.worker == w).order_by(Invoice.id).limit(PER_TXN)
                        session.execute(delete(Invoice).where(Invoice.id.in_(ids.scalar_subquery()))
                                        .execution_options(synchronize_session=False))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"worker {w}: {e!r}")

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(1, WORKERS + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check("every worker thread ran its transactions without error", not errors, *errors)

    # SQLAlchemy's own cascade (relationship cascade="all, delete-orphan"): separate DELETEs for
    # lines, invoices and the customer in one flush, one transaction.
    with Session(direct, expire_on_commit=False) as session, session.begin():
        customer = Customer(name="cascade", invoices=[
            Invoice(lines=[InvoiceLine(text="a"), InvoiceLine(text="b")]) for _ in range(2)])
        session.add(customer)
    # recipe: sqlalchemy-usage
    with deletion_context("cascade", "orm cascade"), Session(pooled) as session, session.begin():
        session.delete(session.get(Customer, customer.id))  # its invoices and lines too, at the flush
    # end recipe
    with direct.connect() as conn:
        n, xacts = conn.execute(text(
            "SELECT count(*), count(DISTINCT xact_id::text) FROM deleted_record WHERE actor = 'cascade'")).one()
    check("SQLAlchemy's relationship cascade archives the customer, 2 invoices and 4 lines with one xact_id",
          (n, xacts) == (7, 1), f"archived {n}, distinct xact_ids {xacts}")

    # Undelete (through the pooler): the customer, its invoices and their lines come back.
    with Session(pooled) as session, session.begin():
        outcomes, back = undelete(session, Customer, customer.id)
        loaded = back is not None and back.name == "cascade" and len(back.invoices) == 2 \
            and sum(len(i.lines) for i in back.invoices) == 4
    check("undelete by xact_key restores the customer, 2 invoices and 4 lines; SQLAlchemy loads them back",
          outcomes == ["restored"] * 7 and loaded, outcomes)
    # By xact_id as the application reads it (an int: psycopg2 sends an integer literal).
    with deletion_context("again", "undelete by xact_id"), Session(pooled) as session, session.begin():
        session.delete(session.get(Customer, customer.id))
    with Session(pooled) as session, session.begin():
        xact_id = session.execute(text(
            "SELECT xact_id FROM deleted_record WHERE table_name = 'customer' AND object_id = :pk AND restored_at IS NULL"),
            {"pk": str(customer.id)}).scalar_one()
        outcomes = session.execute(text("SELECT outcome FROM deleted_record_restore_transaction(:xact)"),
                                   {"xact": xact_id}).scalars().all()
    with Session(direct) as session:
        back = session.get(Customer, customer.id)
        check("undelete by xact_id (an int) restores them again",
              outcomes == ["restored"] * 7 and back is not None and len(back.invoices) == 2, outcomes)

    # require_context: SQLAlchemy's DBAPIError, .orig psycopg2's error with pgcode 55000.
    with Session(direct, expire_on_commit=False) as session, session.begin():
        victim = Invoice(worker=0, amount=AMOUNT, big=BIG)
        session.add(victim)
    pk = victim.id
    try:
        with Session(pooled) as session, session.begin():
            session.execute(delete(Invoice).where(Invoice.id == pk))
        error = None
    except Exception as e:  # noqa: BLE001 - the type is what is checked
        error = e
    check("a delete without context raises OperationalError (a DBAPIError) whose .orig has pgcode 55000",
          isinstance(error, exc.OperationalError) and getattr(error.orig, "pgcode", None) == "55000", repr(error))
    with Session(direct) as session:
        check("the rejected delete left its row in place", session.get(Invoice, pk) is not None)

    # The numbers of `data`.
    with deletion_context("numbers", "precision check"), Session(pooled) as session, session.begin():
        session.execute(delete(Invoice).where(Invoice.id == pk))
    meta = MetaData()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        archive = Table("deleted_record", meta, autoload_with=direct)
    where = (archive.c.table_name == "invoice") & (archive.c.object_id == str(pk))
    with direct.connect() as conn:
        data = conn.execute(select(archive.c.data).where(where)).scalar_one()
    check(f"data as JSON (the default json_deserializer) rounds numeric {AMOUNT} to a float (Python keeps the bigint exact)",
          isinstance(data["amount"], float) and Decimal(data["amount"]) != AMOUNT and data["big"] == BIG, data)
    with pooled.connect() as conn:
        data = conn.execute(select(archive.c.data).where(where)).scalar_one()
    check("data through the recipe's json_deserializer (parse_float=Decimal) is exact",
          data["amount"] == AMOUNT and data["big"] == BIG, data)
    with direct.connect() as conn:
        as_text = conn.execute(select(archive.c.data["amount"].astext, archive.c.data["big"].astext).where(where)).one()
    check("data->>'col' (.astext) is exact", tuple(as_text) == (str(AMOUNT), str(BIG)), as_text)
    with Session(direct) as session:
        # recipe: sqlalchemy-read
        # The deleted invoice as an Invoice again, every attribute exact (read it only: its row is gone).
        restored = session.scalars(select(Invoice).from_statement(text(
            "SELECT (jsonb_populate_record(NULL::invoice, data)).* FROM deleted_record"
            " WHERE table_name = 'invoice' AND object_id = :pk")), {"pk": str(pk)}).all()
        # end recipe
    check("jsonb_populate_record through select(Invoice).from_statement() gives back an exact Invoice",
          [(r.amount, r.big) for r in restored] == [(AMOUNT, BIG)], [(r.amount, r.big) for r in restored])

    # The typed view through a read-only model: exact numerics with the default JSON decoder.
    with Session(direct) as session:
        # recipe: sqlalchemy-typed-read
        deleted = session.scalars(select(DeletedInvoice).where(  # archive_object_id is indexed: the key as text
            DeletedInvoice.archive_object_id == str(pk), DeletedInvoice.archive_restored_at.is_(None))).one()
        # end recipe
        check("the typed view's model reads the deleted invoice with exact numerics and no decoder",
              deleted.amount == AMOUNT and isinstance(deleted.amount, Decimal) and deleted.big == BIG
              and deleted.archive_actor == "numbers", (deleted.amount, deleted.big, deleted.archive_actor))
        key = deleted.archive_id
    with Session(direct) as session:
        again = session.get(DeletedInvoice, key)
        session.refresh(again)
        check("the typed view's model finds a row by its key (archive_id) and reloads it",
              again is not None and again.id == pk and again.amount == AMOUNT, key)
        row = session.get(DeletedRecord, key)
        session.refresh(row)
        check("the archive model (primary_key=True on id) finds a row by its id and reloads it",
              row is not None and row.object_id == str(pk) and row.table_name == "invoice", key)

    # xact_id of the reflected archive: a BigInteger read as int, and reflection without warnings.
    with direct.connect() as conn:
        xact = conn.execute(select(archive.c.xact_id).where(where)).scalar_one()
    check("reflecting deleted_record gives xact_id as BigInteger, read as int, without warnings",
          isinstance(archive.c.xact_id.type, BigInteger) and isinstance(xact, int) and not caught,
          f"type {archive.c.xact_id.type!r}, value {xact!r}, warnings {[str(w.message) for w in caught]}")

    # Alembic autogenerate against the models, which do not include the archive.
    ops, _ = autogenerate(unfiltered=True)
    check("autogenerate without include_name/include_object proposes dropping deleted_record (why the recipe exists)",
          any(re.match(r"op\.drop_table\('deleted_record'", op) for op in ops), *ops)
    ops, caught = autogenerate(unfiltered=False)
    check("autogenerate with the recipe's include_name/include_object proposes no operation at all, and no warning",
          not ops and not caught, *ops, *caught)

    # A test database whose cleaner empties the tables with TRUNCATE ... CASCADE.
    test_db = create_engine(url(os.environ["DIRECT_PORT"], "sqla_test"), future=True)
    command.upgrade(alembic_config("sqla_test"), "head")

    def fill_and_clean():
        with Session(test_db) as session, session.begin():
            session.add_all(Customer(name=f"c{i}", invoices=[Invoice(lines=[InvoiceLine(text="x")])]) for i in range(5))
        with test_db.begin() as conn:
            conn.execute(text("TRUNCATE customer, invoice, invoice_line CASCADE"))  # the test cleaner
            return conn.execute(text("SELECT count(*) FROM deleted_record")).scalar_one()

    check("a TRUNCATE ... CASCADE test cleaner under the default policy archives all 15 rows", fill_and_clean() == 15)
    with test_db.begin() as conn:
        ignore_truncate(conn)
    check("after the recipe's ignore_truncate, the cleaner archives nothing", fill_and_clean() == 15)
    for engine in (direct, pooled, test_db):
        engine.dispose()


if __name__ == "__main__":
    main()
