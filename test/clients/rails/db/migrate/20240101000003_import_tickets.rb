# Off soft deletion: the soft-deleted tickets move to the archive.
# recipe: rails-import-migration
class ImportTickets < ActiveRecord::Migration[6.1]
  # The import commits after each batch: not inside the migration's transaction.
  disable_ddl_transaction!

  def up
    execute "SELECT deleted_record_attach('tickets', retention => '30 days', " \
            "exclude_columns => '{deleted_at,deleted_by,delete_reason}')"
    execute "SELECT deleted_record_view('tickets')" # tickets_deleted
    # Each row gets the actor and reason of its own columns: enough under require_context.
    execute "CALL deleted_record_import('tickets', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at', " \
            "actor => 'deleted_by', reason => 'delete_reason', batch_size => 2)"
  end

  def down
    execute "DROP VIEW tickets_deleted"
    execute "SELECT deleted_record_detach('tickets')"
  end
end
# end recipe
