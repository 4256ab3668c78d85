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
    }
}
# recipe: django-test-runner-setting
TEST_RUNNER = "shop.test_runner.DeletedRecordTestRunner"
# end recipe

if "DJANGO_TEST_TEMPLATE" in os.environ:
    DATABASES["default"]["TEST"]["TEMPLATE"] = os.environ["DJANGO_TEST_TEMPLATE"] or None
