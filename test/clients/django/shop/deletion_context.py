"""Deletion context for Django: the recipe of test/clients/RECIPES.md."""
# recipe: django-context
import json
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction


@contextmanager
def deletion_context(actor, reason, metadata=None, using=DEFAULT_DB_ALIAS):
    """A transaction.atomic() block whose deletes are archived with this actor, reason and metadata.

    The context is set inside the transaction and ends with it: safe behind pgbouncer in
    transaction mode. Nested in another atomic block it lasts until that outer transaction ends.
    """
    with transaction.atomic(using=using):
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT deleted_record_set_context(%s, %s, %s::jsonb)",
                [actor, reason, None if metadata is None else json.dumps(metadata)],
            )
        yield
# end recipe
