"""The shop's models: customers, their invoices and invoice lines (Django cascades the deletes
itself: its foreign keys have no ON DELETE in the database), and the archive, read-only."""
import json
from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.db import models


class Customer(models.Model):
    name = models.TextField()


class Invoice(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True)
    worker = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=30, decimal_places=10, default=0)
    big = models.BigIntegerField(default=0)


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE)
    text = models.TextField()


# recipe: django-model
class ExactJSONDecoder(json.JSONDecoder):
    """Decodes JSON numbers with a fraction or exponent as Decimal, not float: archived numerics stay exact."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, parse_float=Decimal, **kwargs)


class DeletedRecord(models.Model):
    """The archive of the deleted_record extension, read-only: the extension owns the table."""

    id = models.UUIDField(primary_key=True)
    data = models.JSONField(decoder=ExactJSONDecoder)
    deleted_at = models.DateTimeField()
    object_id = models.TextField(null=True)
    table_name = models.TextField()
    schema_name = models.TextField()
    partition_name = models.TextField(null=True)
    actor = models.TextField(null=True)
    reason = models.TextField(null=True)
    metadata = models.JSONField(null=True)
    xact_id = models.BigIntegerField(null=True)
    session_user_name = models.TextField(null=True)
    current_user_name = models.TextField(null=True)
    updated_at = models.DateTimeField()
    restored_at = models.DateTimeField(null=True)
    restored_by = models.TextField(null=True)
    xact_key = models.TextField(null=True)

    class Meta:
        managed = False
        db_table = "deleted_record"
# end recipe


# recipe: django-typed-view
class DeletedInvoice(models.Model):
    """Deleted invoices, typed: the view deleted_record_view('shop_invoice') made. Read-only; its
    key is the archive row's id (an invoice deleted twice has two rows). Django reserves the
    attribute name "id" for primary keys, so the invoice's own id is mapped as invoice_id."""

    archive_id = models.UUIDField(primary_key=True)
    archive_object_id = models.TextField()
    archive_deleted_at = models.DateTimeField()
    archive_actor = models.TextField(null=True)
    archive_reason = models.TextField(null=True)
    archive_xact_key = models.TextField(null=True)
    archive_restored_at = models.DateTimeField(null=True)
    invoice_id = models.IntegerField(db_column="id")
    customer_id = models.IntegerField(null=True)
    worker = models.IntegerField()
    amount = models.DecimalField(max_digits=30, decimal_places=10)
    big = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "shop_invoice_deleted"
# end recipe


class Ticket(models.Model):
    """A model that soft-deleted its rows (deleted_at set, every query said deleted_at IS NULL)
    until migration 0005 moved them to the archive."""

    title = models.TextField()
    amount = models.DecimalField(max_digits=30, decimal_places=10)
    deleted_at = models.DateTimeField(null=True)
    deleted_by = models.TextField(null=True)
    delete_reason = models.TextField(null=True)


# recipe: django-import-models
class DeletedTicket(models.Model):
    """Deleted tickets, typed (deleted_record_view('shop_ticket')): the imported ones too."""

    archive_id = models.UUIDField(primary_key=True)
    archive_object_id = models.TextField()
    archive_deleted_at = models.DateTimeField()
    archive_actor = models.TextField(null=True)
    archive_reason = models.TextField(null=True)
    archive_restored_at = models.DateTimeField(null=True)
    ticket_id = models.BigIntegerField(db_column="id")
    title = models.TextField()
    amount = models.DecimalField(max_digits=30, decimal_places=10)

    class Meta:
        managed = False
        db_table = "shop_ticket_deleted"
# end recipe


# recipe: django-hold-model
class LegalHold(models.Model):
    """deleted_record_holds, read-only: every hold placed and released. The table has no key;
    a name is unique among the holds in place (released holds of that name stay as history),
    so read it filtered on released_at."""

    name = models.TextField(primary_key=True)
    reason = models.TextField()
    schema_name = models.TextField(null=True)
    table_name = models.TextField(null=True)
    attachment_ids = ArrayField(models.UUIDField())  # from django.contrib.postgres.fields
    object_id = models.TextField(null=True)
    deleted_from = models.DateTimeField(null=True)
    deleted_until = models.DateTimeField(null=True)
    held_at = models.DateTimeField()
    held_by = models.TextField()
    released_at = models.DateTimeField(null=True)
    released_by = models.TextField(null=True)

    class Meta:
        managed = False
        db_table = "deleted_record_holds"
# end recipe


# recipe: django-stats-model
class ArchiveStats(models.Model):
    """deleted_record_stats, read-only: one row per attached table (kind "table", keyed by its
    table_name, in schema_name) and per archive partition (kind "partition", table_name NULL):
    query one kind."""

    kind = models.TextField()
    schema_name = models.TextField(null=True)
    table_name = models.TextField(primary_key=True)
    partition_name = models.TextField(null=True)
    period_from = models.DateTimeField(null=True)
    period_until = models.DateTimeField(null=True)
    rows_archived = models.BigIntegerField()
    rows_restored = models.BigIntegerField(null=True)
    rows_erased = models.BigIntegerField(null=True)
    bytes = models.BigIntegerField()
    oldest_deleted_at = models.DateTimeField(null=True)
    newest_deleted_at = models.DateTimeField(null=True)
    retention = models.DurationField(null=True)
    rows_awaiting_purge = models.BigIntegerField(null=True)
    estimated = models.BooleanField()

    class Meta:
        managed = False
        db_table = "deleted_record_stats"
# end recipe


# recipe: django-progress-model
class Progress(models.Model):
    """deleted_record_progress, read-only: the extension's long operations (purge, import, large
    restores) running now, one row per session, as pg_stat_activity lets the reader see them."""

    pid = models.IntegerField(primary_key=True)
    role_name = models.TextField()
    operation = models.TextField()
    rows_done = models.BigIntegerField()
    rows_total = models.BigIntegerField(null=True)
    rows_left = models.BigIntegerField(null=True)
    percent_done = models.DecimalField(max_digits=6, decimal_places=1, null=True)
    rows_per_second = models.BigIntegerField()
    started = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "deleted_record_progress"
# end recipe
