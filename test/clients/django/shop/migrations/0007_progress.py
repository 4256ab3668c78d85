from django.db import migrations, models


class Migration(migrations.Migration):
    """A read-only model of the extension's progress view (nothing to create)."""

    dependencies = [("shop", "0006_holds_stats")]

    operations = [
        migrations.CreateModel(
            name="Progress",
            fields=[
                ("pid", models.IntegerField(primary_key=True, serialize=False)),
                ("role_name", models.TextField()),
                ("operation", models.TextField()),
                ("rows_done", models.BigIntegerField()),
                ("rows_total", models.BigIntegerField(null=True)),
                ("rows_left", models.BigIntegerField(null=True)),
                ("percent_done", models.DecimalField(decimal_places=1, max_digits=6, null=True)),
                ("rows_per_second", models.BigIntegerField()),
                ("started", models.DateTimeField()),
            ],
            options={"db_table": "deleted_record_progress", "managed": False},
        ),
    ]
