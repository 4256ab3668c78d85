"""customers, invoices and lines, attached to the archive

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = ["customer", "invoice", "invoice_line"]


def upgrade():
    op.create_table(
        "customer",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
    )
    op.create_table(
        "invoice",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("customer_id", sa.BigInteger(), sa.ForeignKey("customer.id")),
        sa.Column("worker", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("amount", sa.Numeric(30, 10)),
        sa.Column("big", sa.BigInteger()),
    )
    op.create_table(
        "invoice_line",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("invoice_id", sa.BigInteger(), sa.ForeignKey("invoice.id"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )
    # recipe: alembic-migration
    op.execute("CREATE EXTENSION IF NOT EXISTS deleted_record")  # a no-op when the DBA made it
    for table in TABLES:
        op.execute(f"SELECT deleted_record_attach('{table}')")
    # end recipe


def downgrade():
    for table in TABLES:
        op.execute(f"SELECT deleted_record_detach('{table}')")
    for table in reversed(TABLES):
        op.drop_table(table)
