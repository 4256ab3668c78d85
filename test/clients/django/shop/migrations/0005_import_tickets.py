# recipe: django-import-migration
from django.db import migrations, models


class Migration(migrations.Migration):
    # deleted_record_import commits after each batch: it must not run inside the migration's
    # transaction (non-atomic: each statement is its own transaction). Each row gets the actor and
    # reason of its own columns: enough under require_context.
    atomic = False
    dependencies = [("shop", "0004_ticket")]

    operations = [
        migrations.RunSQL(
            [
                "SELECT deleted_record_attach('shop_ticket', retention => '30 days',"
                " exclude_columns => '{deleted_at,deleted_by,delete_reason}')",
                "SELECT deleted_record_view('shop_ticket')",
                "CALL deleted_record_import('shop_ticket', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at',"
                " actor => 'deleted_by', reason => 'delete_reason', batch_size => 2)",
            ],
            migrations.RunSQL.noop,  # the imported rows stay in the archive (restore them one by one)
        ),
        migrations.CreateModel(
            name="DeletedTicket",
            fields=[
                ("archive_id", models.UUIDField(primary_key=True, serialize=False)),
                ("archive_object_id", models.TextField()),
                ("archive_deleted_at", models.DateTimeField()),
                ("archive_actor", models.TextField(null=True)),
                ("archive_reason", models.TextField(null=True)),
                ("archive_restored_at", models.DateTimeField(null=True)),
                ("ticket_id", models.BigIntegerField(db_column="id")),
                ("title", models.TextField()),
                ("amount", models.DecimalField(decimal_places=10, max_digits=30)),
            ],
            options={"db_table": "shop_ticket_deleted", "managed": False},
        ),
    ]
# end recipe
