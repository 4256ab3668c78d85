"""Test runner for databases with the deleted_record extension: the recipe of test/clients/RECIPES.md."""
# recipe: django-test-runner
from django.db import connections
from django.db.models.signals import post_migrate
from django.test.runner import DiscoverRunner

IGNORE_TRUNCATE = (
    "SELECT deleted_record_attach(table_name, 'ignore', retention, exclude_columns, mask_columns)"
    " FROM deleted_record_attached WHERE on_truncate <> 'ignore'"
)


def ignore_truncate(using, **kwargs):
    """In a test database, TRUNCATE (flush between TransactionTestCases) archives nothing."""
    with connections[using].cursor() as cursor:
        cursor.execute(IGNORE_TRUNCATE)


class DeletedRecordTestRunner(DiscoverRunner):
    def setup_databases(self, **kwargs):
        # Connected here, so only test databases (and their --parallel clones) are changed.
        post_migrate.connect(ignore_truncate, dispatch_uid="deleted_record_ignore_truncate")
        return super().setup_databases(**kwargs)
# end recipe
