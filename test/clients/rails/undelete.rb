# Undelete for ActiveRecord: the recipe of test/clients/RECIPES.md.

# recipe: rails-undelete
module Undelete
  # Restores everything the transaction that deleted this record archived (what dependent:
  # :destroy deleted with it included), named by that transaction's xact_key, and returns the
  # outcome of each archive row and the record loaded back. The key is bound as ActiveRecord binds
  # every value, untyped: that finds the text version of deleted_record_restore_transaction.
  def self.restore(model, id)
    xact_key = DeletedRecord.where(table_name: model.table_name, object_id: id.to_s, restored_at: nil)
                            .order(id: :desc).pick(:xact_key)
    outcomes = model.connection.select_values(
      "SELECT outcome FROM deleted_record_restore_transaction($1)", "Undelete", [xact_key])
    [outcomes, model.find(id)]
  end
end
# end recipe
