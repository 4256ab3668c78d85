"""off soft deletion: the soft-deleted tickets move to the archive

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    # recipe: alembic-import
    op.execute("SELECT deleted_record_attach('ticket', retention => '30 days',"
               " exclude_columns => '{deleted_at,deleted_by,delete_reason}')")
    op.execute("SELECT deleted_record_view('ticket')")
    # The import commits after each batch: outside the migration's transaction. Each row gets the
    # actor and reason of its own columns: enough under require_context.
    with op.get_context().autocommit_block():
        op.execute("CALL deleted_record_import('ticket', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at',"
                   " actor => 'deleted_by', reason => 'delete_reason', batch_size => 2)")
    # end recipe


def downgrade():
    op.execute("DROP VIEW ticket_deleted")
    op.execute("SELECT deleted_record_detach('ticket')")
