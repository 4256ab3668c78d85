"""the typed view of deleted invoices

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    # recipe: alembic-typed-view
    op.execute("SELECT deleted_record_view('invoice')")  # invoice_deleted: typed, read-only
    # end recipe


def downgrade():
    op.execute("DROP VIEW invoice_deleted")
