import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    """Read-only models of the extension's legal holds and statistics (nothing to create)."""

    dependencies = [("shop", "0005_import_tickets")]

    operations = [
        migrations.CreateModel(
            name="LegalHold",
            fields=[
                ("name", models.TextField(primary_key=True, serialize=False)),
                ("reason", models.TextField()),
                ("schema_name", models.TextField(null=True)),
                ("table_name", models.TextField(null=True)),
                ("attachment_ids", django.contrib.postgres.fields.ArrayField(base_field=models.UUIDField(), size=None)),
                ("object_id", models.TextField(null=True)),
                ("deleted_from", models.DateTimeField(null=True)),
                ("deleted_until", models.DateTimeField(null=True)),
                ("held_at", models.DateTimeField()),
                ("held_by", models.TextField()),
                ("released_at", models.DateTimeField(null=True)),
                ("released_by", models.TextField(null=True)),
            ],
            options={"db_table": "deleted_record_holds", "managed": False},
        ),
        migrations.CreateModel(
            name="ArchiveStats",
            fields=[
                ("kind", models.TextField()),
                ("schema_name", models.TextField(null=True)),
                ("table_name", models.TextField(primary_key=True, serialize=False)),
                ("partition_name", models.TextField(null=True)),
                ("period_from", models.DateTimeField(null=True)),
                ("period_until", models.DateTimeField(null=True)),
                ("rows_archived", models.BigIntegerField()),
                ("rows_restored", models.BigIntegerField(null=True)),
                ("rows_erased", models.BigIntegerField(null=True)),
                ("bytes", models.BigIntegerField()),
                ("oldest_deleted_at", models.DateTimeField(null=True)),
                ("newest_deleted_at", models.DateTimeField(null=True)),
                ("retention", models.DurationField(null=True)),
                ("rows_awaiting_purge", models.BigIntegerField(null=True)),
                ("estimated", models.BooleanField()),
            ],
            options={"db_table": "deleted_record_stats", "managed": False},
        ),
    ]
