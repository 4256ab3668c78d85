"""Run by `manage.py test` in test/shell/clients.sh: the test database has the extension, the
tables are attached, and TRUNCATE between TransactionTestCases (flush) archives nothing."""
from django.db import connection
from django.test import TestCase, TransactionTestCase

from shop.deletion_context import deletion_context
from shop.models import Customer, DeletedRecord, Invoice


class ArchiveTests(TestCase):
    def test_deletes_are_archived_with_their_context(self):
        invoice = Invoice.objects.create(amount="1.25")
        pk = invoice.pk
        with deletion_context("test-suite", "unit test", {"case": 1}):
            invoice.delete()
        record = DeletedRecord.objects.get(table_name="shop_invoice", object_id=str(pk))
        self.assertEqual((record.actor, record.reason, record.metadata), ("test-suite", "unit test", {"case": 1}))

    def test_test_database_ignores_truncate(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT table_name::text, on_truncate FROM deleted_record_attached ORDER BY 1")
            attached = cursor.fetchall()
        self.assertEqual(attached, [(t, "ignore") for t in ("shop_customer", "shop_invoice", "shop_invoiceline", "shop_ticket")])


class FlushTests(TransactionTestCase):
    """TransactionTestCase empties every table with TRUNCATE (manage.py flush) after each test."""

    def test_1_fill(self):
        Customer.objects.bulk_create(Customer(name=f"customer {i}") for i in range(5))
        self.assertEqual(Customer.objects.count(), 5)

    def test_2_the_flush_archived_nothing(self):
        self.assertEqual(Customer.objects.count(), 0)
        self.assertFalse(DeletedRecord.objects.filter(table_name="shop_customer").exists())
