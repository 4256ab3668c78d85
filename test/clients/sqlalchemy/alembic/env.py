"""Alembic environment of the SQLAlchemy client test (online mode only). The test sets
sqlalchemy.url, and config.attributes["unfiltered"] to show what autogenerate does without the recipe."""
import os
import sys

from alembic import context
from sqlalchemy import create_engine

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from models import Base  # noqa: E402

config = context.config


# recipe: alembic-env
def include_name(name, type_, parent_names):
    """Autogenerate never reflects the extension's archive (nor tables named deleted_record_*)."""
    if type_ == "table":
        return name != "deleted_record" and not name.startswith("deleted_record_")
    return True


def include_object(object, name, type_, reflected, compare_to):
    """Nor compares anything that belongs to it (its indexes, say)."""
    table = object if type_ == "table" else getattr(object, "table", None)
    return table is None or not (table.name == "deleted_record" or table.name.startswith("deleted_record_"))
# end recipe


filters = {} if config.attributes.get("unfiltered") else {"include_name": include_name, "include_object": include_object}
engine = create_engine(config.get_main_option("sqlalchemy.url"), future=True)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, **filters)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
