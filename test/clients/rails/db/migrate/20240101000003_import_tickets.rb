# Off soft deletion: the soft-deleted tickets move to the archive.
# recipe: rails-import-migration
class ImportTickets < ActiveRecord::Migration[6.1]
  # The import commits after each batch: not inside the migration's transaction.
  disable_ddl_transaction!

  def up
    execute "SELECT deleted_record_attach('tickets', retention => '30 days', " \
            "exclude_columns => '{deleted_at,deleted_by,delete_reason}')"
    execute "SELECT deleted_record_view('tickets')" # tickets_deleted
    # Migrations connect directly (never through the transaction pooler), so a session context is
    # safe here: require_context wants one, though each row gets the actor and reason of its columns.
    execute "SELECT set_config('deleted_record.actor', 'rails migration', false), " \
            "set_config('deleted_record.reason', 'off soft deletion', false)"
    execute "CALL deleted_record_import('tickets', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at', " \
            "actor => 'deleted_by', reason => 'delete_reason', batch_size => 2)"
    execute "RESET deleted_record.actor; RESET deleted_record.reason"
  end

  def down
    execute "DROP VIEW tickets_deleted"
    execute "SELECT deleted_record_detach('tickets')"
  end
end
# end recipe
