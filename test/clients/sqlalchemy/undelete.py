"""Undelete for SQLAlchemy: the recipe of test/clients/RECIPES.md."""
# recipe: sqlalchemy-undelete
from sqlalchemy import text


def undelete(session, model, pk):
    """Restores everything the transaction that deleted this object archived (what the relationship
    cascade deleted with it included), named by that transaction's xact_key; returns the outcome of
    each archive row and the object loaded back. It is part of the session's transaction."""
    xact_key = session.execute(text(
        "SELECT xact_key FROM deleted_record WHERE table_name = :table AND object_id = :pk"
        " AND restored_at IS NULL ORDER BY id DESC LIMIT 1"), {"table": model.__tablename__, "pk": str(pk)}).scalar_one()
    outcomes = session.execute(text("SELECT outcome FROM deleted_record_restore_transaction(:xact)"),
                               {"xact": xact_key}).scalars().all()
    return outcomes, session.get(model, pk)
# end recipe
