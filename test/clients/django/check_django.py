#!/usr/bin/env python3
"""Django through pgbouncer in transaction mode (DJANGO_PORT): see test/shell/clients.sh.
`check_django.py` runs the checks and starts the workers, `check_django.py worker N` is worker N."""
import io
import json
import os
import subprocess
import sys
import warnings
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, OperationalError, connection  # noqa: E402
from django.db.models import TextField  # noqa: E402
from django.db.models.fields.json import KeyTextTransform  # noqa: E402

from shop.deletion_context import deletion_context  # noqa: E402
from shop.models import Customer, DeletedInvoice, DeletedRecord, Invoice, InvoiceLine  # noqa: E402
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


def main():
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
