"""Deletion context for SQLAlchemy: the recipe of test/clients/RECIPES.md."""
# recipe: sqlalchemy-context
import contextvars
import json
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.orm import Session

_deletion_context = contextvars.ContextVar("deletion_context", default=None)


@contextmanager
def deletion_context(actor, reason, metadata=None):
    """Sessions that begin inside this block archive their deletes with this actor, reason and metadata.

    A contextvar: each thread and each asyncio task has its own.
    """
    token = _deletion_context.set((actor, reason, None if metadata is None else json.dumps(metadata)))
    try:
        yield
    finally:
        _deletion_context.reset(token)


@event.listens_for(Session, "after_begin")
def _set_deletion_context(session, transaction, connection):
    # Inside the session's transaction, so the context ends with it: safe behind a transaction pooler.
    context = _deletion_context.get()
    if context is not None:
        connection.execute(
            text("SELECT deleted_record_set_context(:actor, :reason, CAST(:metadata AS jsonb))"),
            dict(zip(("actor", "reason", "metadata"), context)),
        )
# end recipe


# recipe: sqlalchemy-test-database
def ignore_truncate(connection):
    """For a test database: its TRUNCATE-based cleaners archive nothing (run once after creating the schema)."""
    connection.execute(text(
        "SELECT deleted_record_attach(table_name, 'ignore', retention, exclude_columns, mask_columns)"
        " FROM deleted_record_attached WHERE on_truncate <> 'ignore'"
    ))
# end recipe
