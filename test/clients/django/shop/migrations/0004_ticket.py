from django.db import migrations, models


class Migration(migrations.Migration):
    """The soft-deleting model as the application had it before the archive."""

    dependencies = [("shop", "0003_deleted_invoice")]

    operations = [
        migrations.CreateModel(
            name="Ticket",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("title", models.TextField()),
                ("amount", models.DecimalField(decimal_places=10, max_digits=30)),
                ("deleted_at", models.DateTimeField(null=True)),
                ("deleted_by", models.TextField(null=True)),
                ("delete_reason", models.TextField(null=True)),
            ],
        ),
    ]
