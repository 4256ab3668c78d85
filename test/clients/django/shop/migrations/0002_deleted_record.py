# recipe: django-migration
from django.db import migrations

TABLES = ["shop_customer", "shop_invoice", "shop_invoiceline"]


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        # Creating the extension needs a superuser; where it exists already (made by the DBA, or
        # in the test database's template) this is a no-op that any role may run.
        migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS deleted_record", migrations.RunSQL.noop),
        migrations.RunSQL(
            [f"SELECT deleted_record_attach('{table}')" for table in TABLES],
            [f"SELECT deleted_record_detach('{table}')" for table in TABLES],
        ),
    ]
# end recipe
