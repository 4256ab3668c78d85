#!/usr/bin/env python3
"""Django through pgbouncer in transaction mode (DJANGO_PORT): see test/shell/clients.sh.
`check_django.py` runs the checks and starts the workers, `check_django.py worker N` is worker N."""
import io
import json
import os
import subprocess
import sys
import threading
import time
import warnings
from datetime import datetime, timedelta, timezone
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import (DatabaseError, OperationalError, ProgrammingError, connection, connections,  # noqa: E402
                       transaction)
from django.db.models import TextField  # noqa: E402
from django.db.models.fields.json import KeyTextTransform  # noqa: E402

from shop.deletion_context import deletion_context  # noqa: E402
from shop.models import (ArchiveStats, Progress, Customer, DeletedInvoice, DeletedRecord, DeletedTicket, Invoice,  # noqa: E402
                         InvoiceLine, LegalHold, Ticket)
from shop.undelete import undelete  # noqa: E402

STACK = "django"
WORKERS, TXNS, PER_TXN, ROWS = (int(os.environ[v]) for v in ("WORKERS", "TXNS", "PER_TXN", "ROWS"))
BIG, AMOUNT = 9007199254740993, Decimal("12345678901234567890.0123456789")


def check(desc, cond, *diagnostics):
    print(f"{'ok' if cond else 'not ok'} - {desc}")
    if not cond:
        for d in diagnostics:
            print(f"#   {d}")


def context(w):
    return dict(actor=f"{STACK}-worker-{w}", reason=f"cleanup by {STACK} worker {w}", metadata={"stack": STACK, "worker": w})


def worker(w):
    for _ in range(TXNS):
        with deletion_context(**context(w)):
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO txlog VALUES (%s, pg_backend_pid())", [w])
            ids = list(Invoice.objects.filter(worker=w).order_by("id").values_list("id", flat=True)[:PER_TXN])
            Invoice.objects.filter(id__in=ids).delete()


def import_holds_stats():
    """The import from soft deletion (migration 0005, through the pooler), legal holds as the
    counsel role, and the archive's statistics for the imported table."""
    soft = [datetime(2025, 6, day, 10, 0, tzinfo=timezone.utc) for day in (1, 2, 3, 4, 5)]
    amounts = [Decimal(f"12345678901234567890.012345678{i}") for i in range(8)]  # 30 digits: no float holds them
    for i in range(8):  # 8 tickets, 5 of them soft-deleted by support
        Ticket.objects.create(title=f"ticket {i}", amount=amounts[i], deleted_at=soft[i] if i < 5 else None,
                              deleted_by=f"support:{i}" if i < 5 else None, delete_reason=f"duplicate {i}" if i < 5 else None)
    ids = list(Ticket.objects.order_by("id").values_list("id", flat=True))
    # The migrations' connection runs under require_context, with no session context: the import's
    # actor and reason expressions alone must satisfy it.
    with connections["direct"].cursor() as cursor:
        cursor.execute("SELECT current_setting('deleted_record.require_context'),"
                       " coalesce(current_setting('deleted_record.actor', true), ''), coalesce(current_setting('deleted_record.reason', true), '')")
        session = cursor.fetchall()
    check("the migrations connect under require_context = actor_and_reason, with no session actor or reason",
          session == [("actor_and_reason", "", "")], session)
    call_command("migrate", "shop", database="direct", verbosity=0)  # 0005: CALL deleted_record_import(...), batches of 2
    check("the import migration left only the 3 live tickets in the table",
          sorted(Ticket.objects.values_list("id", flat=True)) == ids[5:], list(Ticket.objects.values_list("id", "deleted_at")))
    # recipe: django-import-read
    migrated = DeletedTicket.objects.filter(archive_restored_at__isnull=True).order_by("ticket_id")
    # end recipe
    got = [(t.ticket_id, t.amount, t.archive_deleted_at, t.archive_actor, t.archive_reason) for t in migrated]
    check("the typed view's model reads the 5 imported tickets: exact amounts, their own deletion time, actor and reason",
          got == [(ids[i], amounts[i], soft[i], f"support:{i}", f"duplicate {i}") for i in range(5)]
          and all(isinstance(t.amount, Decimal) for t in migrated), got)
    # Undelete one imported ticket by its archive id: it is live again, deleted_at NULL (excluded).
    first = migrated[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT outcome FROM deleted_record_restore(ARRAY[%s]::uuid[])", [str(first.archive_id)])
        outcomes = [o for (o,) in cursor.fetchall()]
    back = Ticket.objects.filter(pk=first.ticket_id).first()
    check("an imported ticket is undeleted: live again with its exact amount and no deleted_at",
          outcomes == ["restored"] and back is not None and back.amount == amounts[0] and back.deleted_at is None
          and DeletedTicket.objects.get(pk=first.archive_id).archive_restored_at is not None,
          outcomes, back and (back.amount, back.deleted_at))

    # Legal hold on the second imported ticket, placed and released as the counsel role.
    held = migrated.filter(ticket_id=ids[1]).get()
    try:  # the application's role has no grant to place holds
        with connection.cursor() as cursor:
            cursor.execute("SELECT deleted_record_hold('by-app', 'no grant', for_table => 'shop_ticket')")
        error = None
    except Exception as e:  # noqa: BLE001 - the type is what is checked
        error = e
    check("the app role (not granted holds) placing one raises Django's ProgrammingError, pgcode 42501",
          isinstance(error, ProgrammingError) and getattr(error.__cause__, "pgcode", None) == "42501",
          f"{type(error).__name__}: {error}")
    # recipe: django-hold
    with connections["compliance"].cursor() as cursor:
        cursor.execute("SELECT deleted_record_hold(%s, %s, for_table => 'shop_ticket', for_object => %s)",
                       ["case-django", "Litigation hold, letter of 2 November 2026", str(held.ticket_id)])
    in_place = LegalHold.objects.using("compliance").filter(released_at__isnull=True)
    # end recipe
    holds = [(h.name, h.table_name, h.object_id, h.held_by) for h in in_place]
    check("counsel places a hold; the LegalHold model lists it", holds == [("case-django", "shop_ticket", str(ids[1]), "counsel")], holds)
    try:
        with connections["compliance"].cursor() as cursor:
            cursor.execute("SELECT deleted_record_erase(ARRAY[%s]::uuid[], 'GDPR erasure request #4711')", [str(held.archive_id)])
        error = None
    except Exception as e:  # noqa: BLE001 - the type is what is checked
        error = e
    check("erasing the held ticket raises Django's OperationalError, pgcode 55000, naming the hold",
          isinstance(error, OperationalError) and getattr(error.__cause__, "pgcode", None) == "55000"
          and '"case-django"' in str(error), f"{type(error).__name__}: {error}")
    with connections["compliance"].cursor() as cursor:
        cursor.execute("SELECT deleted_record_release('case-django')")
        cursor.execute("SELECT count(*) FROM deleted_record_erase(ARRAY[%s]::uuid[], 'GDPR erasure request #4711')",
                       [str(held.archive_id)])
    released = LegalHold.objects.using("compliance").get(name="case-django")
    check("after counsel releases it the hold is history (released_by counsel) and the erasure goes through",
          released.released_by == "counsel" and released.released_at is not None
          and not DeletedTicket.objects.filter(pk=held.archive_id).exists(), (released.released_by, released.released_at))

    # The archive's statistics for the ticket table: 4 archive rows (5 imported, 1 erased), 1 restored.
    # recipe: django-stats
    tickets = ArchiveStats.objects.get(kind="table", schema_name="public", table_name="shop_ticket")
    # end recipe
    got = (tickets.schema_name, tickets.table_name, tickets.rows_archived, tickets.rows_restored, tickets.rows_erased, tickets.oldest_deleted_at,
           tickets.newest_deleted_at, tickets.retention, tickets.rows_awaiting_purge, tickets.estimated)
    check("the ArchiveStats model reads the ticket table's figures typed: counts, deletion times, retention",
          got == ("public", "shop_ticket", 4, 1, 1, soft[0], soft[4], timedelta(days=30), 0, False) and tickets.bytes > 0, got)
    partitions = list(ArchiveStats.objects.filter(kind="partition"))
    periods = [p for p in partitions if p.period_from is not None]  # the default partition has none
    check("and the archive's partitions, each with its name and size, the monthly ones with their period",
          periods and all(isinstance(p.partition_name, str) and p.bytes > 0 and p.schema_name is None and p.table_name is None
                           for p in partitions)
          and all(p.period_from < p.period_until for p in periods),
          [(p.partition_name, p.period_from, p.period_until, p.bytes) for p in partitions])


# An import whose third batch waits for a row lock the test holds: its progress, as it stands then,
# is the import's line in deleted_record_progress. Through the pooler, under require_context: the
# actor and reason are the import's own (quoted constants), no session context.
PROGRESS_SETUP = ["CREATE TABLE shop_job (id int PRIMARY KEY, deleted_at timestamptz)",
                  "INSERT INTO shop_job SELECT i, '2025-06-01 10:00+00' FROM generate_series(1, 6) i",
                  "SELECT deleted_record_attach('shop_job')"]
PROGRESS_IMPORT = ("CALL deleted_record_import('shop_job', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at',"
                   " actor => '''jobs''', reason => '''expired''', batch_size => 2)")


def progress():
    with connections["direct"].cursor() as cursor:
        for statement in PROGRESS_SETUP:
            cursor.execute(statement)
    errors = []

    def run_import():
        try:
            with connection.cursor() as cursor:
                cursor.execute(PROGRESS_IMPORT)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
        finally:
            connection.close()

    with transaction.atomic(using="direct"):
        with connections["direct"].cursor() as cursor:
            cursor.execute("SELECT id FROM shop_job WHERE id = 6 FOR UPDATE")  # the third batch waits for it
        thread = threading.Thread(target=run_import)
        thread.start()
        running = None
        for _ in range(200):
            # recipe: django-progress
            running = Progress.objects.filter(operation__startswith="import").first()
            # end recipe
            if running is not None and running.rows_done == 4:
                break
            time.sleep(0.05)
    thread.join()
    got = running and (running.role_name, running.operation, running.rows_done, running.rows_total, running.rows_left,
                       running.percent_done, isinstance(running.rows_per_second, int), running.started is not None)
    check("while an import runs, the Progress model reads its line typed: rows done, total, left, percent, rate",
          got == ("app", "import shop_job", 4, 6, 2, Decimal("66.7"), True, True), got)
    check("the import then ran to its end: the table is empty, the progress line gone, every row with the import's"
          " actor and reason", not errors and Progress.objects.filter(operation__startswith="import").count() == 0
          and DeletedRecord.objects.filter(table_name="shop_job", actor="jobs", reason="expired").count() == 6, *errors)


def main():
    import_holds_stats()
    progress()
    for w in range(1, WORKERS + 1):
        Invoice.objects.bulk_create(Invoice(worker=w, amount="1.5", big=w) for _ in range(ROWS))
    procs = [subprocess.Popen([sys.executable, __file__, "worker", str(w)]) for w in range(1, WORKERS + 1)]
    check("every worker process ran its transactions without error", all(p.wait() == 0 for p in procs))

    # Django's own cascade (on_delete=CASCADE, no ON DELETE in the database): separate DELETE
    # statements for lines, invoices and the customer, all in the transaction of delete().
    customer = Customer.objects.create(name="cascade")
    for i in range(2):
        invoice = Invoice.objects.create(customer=customer)
        InvoiceLine.objects.bulk_create(InvoiceLine(invoice=invoice, text=f"line {j}") for j in range(2))
    customer_pk = customer.pk  # delete() sets customer.pk to None
    # recipe: django-usage
    with deletion_context("cascade", "orm cascade"):
        deleted, per_model = customer.delete()  # its invoices and their lines too, in this transaction
    # end recipe
    records = DeletedRecord.objects.filter(actor="cascade")
    xacts = {r.xact_id for r in records}
    check("Django's Python-side CASCADE archives the customer, 2 invoices and 4 lines with one xact_id",
          deleted == 7 and records.count() == 7 and len(xacts) == 1, f"deleted {per_model}, archived {records.count()}, xact_ids {xacts}")

    # Undelete (through the pooler): the customer, its invoices and their lines come back.
    back, outcomes = undelete(Customer, customer_pk)
    check("undelete by xact_key restores the customer, 2 invoices and 4 lines; Django loads them back",
          outcomes == ["restored"] * 7 and back.name == "cascade" and back.invoice_set.count() == 2
          and InvoiceLine.objects.filter(invoice__customer=back).count() == 4, outcomes)
    # By xact_id as the model reads it (an int: psycopg2 sends it as an integer literal).
    with deletion_context("again", "undelete by xact_id"):
        back.delete()
    xact_id = DeletedRecord.objects.filter(table_name="shop_customer", object_id=str(customer_pk),
                                           restored_at__isnull=True).values_list("xact_id", flat=True).get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT outcome FROM deleted_record_restore_transaction(%s)", [xact_id])
        outcomes = [o for (o,) in cursor.fetchall()]
    check("undelete by xact_id (an int) restores them again", outcomes == ["restored"] * 7
          and Invoice.objects.filter(customer_id=customer_pk).count() == 2, outcomes)

    # require_context: Django's wrapped error, its __cause__ psycopg2's with pgcode 55000.
    victim = Invoice.objects.create(worker=0, amount=AMOUNT, big=BIG)
    try:
        Invoice.objects.filter(pk=victim.pk).delete()
        error = None
    except Exception as e:  # noqa: BLE001 - the type is what is checked
        error = e
    check("a delete without context raises Django's OperationalError whose __cause__ has pgcode 55000",
          isinstance(error, OperationalError) and getattr(error.__cause__, "pgcode", None) == "55000",
          f"{type(error).__name__}: {error}; cause {type(error.__cause__).__name__ if error else None}")
    check("the rejected delete left its row in place", Invoice.objects.filter(pk=victim.pk).exists())

    # The numbers of `data`.
    pk = str(victim.pk)
    with deletion_context("numbers", "precision check"):
        victim.delete()
    archived = DeletedRecord.objects.filter(table_name="shop_invoice", object_id=pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM deleted_record WHERE table_name = 'shop_invoice' AND object_id = %s", [pk])
        as_json = json.loads(cursor.fetchone()[0])
    check(f"data as plain JSON (json.loads) rounds numeric {AMOUNT} to a float (Python keeps the bigint exact)",
          isinstance(as_json["amount"], float) and Decimal(as_json["amount"]) != AMOUNT and as_json["big"] == BIG, as_json)
    exact = archived.get().data
    check("data through the recipe's JSONField(decoder=ExactJSONDecoder) is exact",
          exact["amount"] == AMOUNT and exact["big"] == BIG, exact)
    text = archived.annotate(amount=KeyTextTransform("amount", "data", output_field=TextField()),
                             big=KeyTextTransform("big", "data", output_field=TextField())).values("amount", "big").get()
    check("data->>'col' (KeyTextTransform) is exact", text == {"amount": str(AMOUNT), "big": str(BIG)}, text)
    # recipe: django-read
    # The deleted invoice as an Invoice again, every field exact (not saved: it stays deleted).
    restored = list(Invoice.objects.raw(
        "SELECT (jsonb_populate_record(NULL::shop_invoice, data)).* FROM deleted_record"
        " WHERE table_name = 'shop_invoice' AND object_id = %s", [pk]))
    # end recipe
    check("jsonb_populate_record through Invoice.objects.raw() gives back an exact Invoice",
          len(restored) == 1 and restored[0].amount == AMOUNT and restored[0].big == BIG,
          [(r.amount, r.big) for r in restored])

    # The archive model's primary key (declared: the partitioned archive has none of its own).
    row = DeletedRecord.objects.get(pk=archived.get().pk)
    row.refresh_from_db()
    check("the archive model finds a row by its id and reloads it", row.object_id == pk and row.data["big"] == BIG, row.pk)

    # The typed view through a read-only model: exact numerics, no decoder.
    # recipe: django-typed-read
    deleted = DeletedInvoice.objects.get(archive_object_id=pk, archive_restored_at__isnull=True)  # indexed: the key as text
    # end recipe
    check("the typed view's model reads the deleted invoice with exact numerics and no decoder",
          deleted.amount == AMOUNT and isinstance(deleted.amount, Decimal) and deleted.big == BIG
          and deleted.archive_actor == "numbers", (deleted.amount, deleted.big, deleted.archive_actor))
    again = DeletedInvoice.objects.get(pk=deleted.pk)
    again.refresh_from_db()
    check("the typed view's model finds a row by its key (archive_id) and reloads it",
          again.invoice_id == int(pk) and again.amount == AMOUNT, again.pk)

    # xact_id through the model's BigIntegerField: an int, without any warning.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        xact = archived.values_list("xact_id", flat=True).get()
    check("xact_id reads as an int, without warnings", isinstance(xact, int) and not caught,
          f"{type(xact).__name__} {xact!r}, warnings {[str(w.message) for w in caught]}")
    out = io.StringIO()
    call_command("inspectdb", "deleted_record", stdout=out)
    line = next((l.strip() for l in out.getvalue().splitlines() if l.strip().startswith("xact_id =")), None)
    check("inspectdb deleted_record makes xact_id a BigIntegerField, not a guess", line is not None and "BigIntegerField" in line, line)

    # Outside atomic() (autocommit) the context would end with its own statement.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT deleted_record_set_context('a', 'b')")
        raised = False
    except DatabaseError:
        raised = True
    check("deleted_record_set_context outside atomic() is an error, not silently lost", raised, "it returned without error")


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(int(sys.argv[2]))
    else:
        main()
