# recipe: django-typed-view-migration
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_deleted_record")]

    operations = [
        # The typed view of deleted invoices (made by the table's owner: the app's role).
        migrations.RunSQL("SELECT deleted_record_view('shop_invoice')", "DROP VIEW shop_invoice_deleted"),
        migrations.CreateModel(
            name="DeletedInvoice",
            fields=[
                ("archive_id", models.UUIDField(primary_key=True, serialize=False)),
                ("archive_object_id", models.TextField()),
                ("archive_deleted_at", models.DateTimeField()),
                ("archive_actor", models.TextField(null=True)),
                ("archive_reason", models.TextField(null=True)),
                ("archive_xact_key", models.TextField(null=True)),
                ("archive_restored_at", models.DateTimeField(null=True)),
                ("invoice_id", models.IntegerField(db_column="id")),
                ("customer_id", models.IntegerField(null=True)),
                ("worker", models.IntegerField()),
                ("amount", models.DecimalField(decimal_places=10, max_digits=30)),
                ("big", models.BigIntegerField()),
            ],
            options={"db_table": "shop_invoice_deleted", "managed": False},
        ),
    ]
# end recipe
