"""Settings of the shop test project. The server comes from the environment (test/shell/clients.sh):
DJANGO_PORT (pgbouncer or the server itself), DJANGO_DB, DJANGO_USER and, to try other ways of
creating the test database, DJANGO_TEST_TEMPLATE ("" for PostgreSQL's default, template1)."""
import os

SECRET_KEY = "test only"
INSTALLED_APPS = ["shop"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "127.0.0.1",
        "PORT": os.environ["DJANGO_PORT"],
        "NAME": os.environ.get("DJANGO_DB", "django_app"),
        "USER": os.environ.get("DJANGO_USER", "app"),
        # recipe: django-settings
        "DISABLE_SERVER_SIDE_CURSORS": True,  # behind pgbouncer in transaction mode
        "TEST": {"TEMPLATE": "deleted_record_template"},  # test databases start with the extension
        # end recipe
    },
}
# recipe: django-compliance-database
# Legal holds and erasure are granted to a role of their own (counsel), not to the application's:
# a second database alias that logs in as that role (in tests, the default database stands in).
DATABASES["compliance"] = dict(DATABASES["default"], USER="counsel", TEST={"MIRROR": "default"})
# end recipe
# Migrations connect to the server itself, not through the pooler (test/shell/clients.sh).
if "DIRECT_PORT" in os.environ:
    DATABASES["direct"] = dict(DATABASES["default"], PORT=os.environ["DIRECT_PORT"], TEST={"MIRROR": "default"})
# recipe: django-test-runner-setting
TEST_RUNNER = "shop.test_runner.DeletedRecordTestRunner"
# end recipe

if "DJANGO_TEST_TEMPLATE" in os.environ:
    DATABASES["default"]["TEST"]["TEMPLATE"] = os.environ["DJANGO_TEST_TEMPLATE"] or None
