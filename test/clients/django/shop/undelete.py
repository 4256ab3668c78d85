"""Undelete for Django: the recipe of test/clients/RECIPES.md."""
# recipe: django-undelete
from django.db import DEFAULT_DB_ALIAS, connections

from shop.models import DeletedRecord


def undelete(model, pk, using=DEFAULT_DB_ALIAS):
    """Restores everything the transaction that deleted this object archived (what Django's
    on_delete=CASCADE deleted with it included), named by that transaction's xact_key, and returns
    the object loaded back with the outcome of each archive row."""
    record = (DeletedRecord.objects.using(using)
              .filter(table_name=model._meta.db_table, object_id=str(pk), restored_at__isnull=True)
              .order_by("-id").first())
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT outcome FROM deleted_record_restore_transaction(%s)", [record.xact_key])
        outcomes = [outcome for (outcome,) in cursor.fetchall()]
    return model.objects.using(using).get(pk=pk), outcomes
# end recipe
