# The typed view of deleted invoices, made by the table's owner (the app's role).
class CreateInvoicesDeleted < ActiveRecord::Migration[6.1]
  # recipe: rails-typed-view-migration
  def up
    execute "SELECT deleted_record_view('invoices')" # invoices_deleted: typed, read-only
  end

  def down
    execute "DROP VIEW invoices_deleted"
  end
  # end recipe
end
