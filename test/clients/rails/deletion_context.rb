# Deletion context for ActiveRecord: the recipes of test/clients/RECIPES.md.
require "json"

# recipe: rails-context
module DeletionContext
  # Runs the block in a transaction whose deletes are archived with this actor, reason and metadata.
  # The context is set inside the transaction and ends with it: safe behind pgbouncer in
  # transaction mode. Inside an outer transaction it joins it and lasts until that one ends.
  def self.transaction(actor:, reason:, metadata: nil, model: ActiveRecord::Base)
    model.transaction do
      model.connection.execute(model.sanitize_sql_array(
        ["SELECT deleted_record_set_context(?, ?, CAST(? AS jsonb))", actor, reason, metadata&.to_json]))
      yield
    end
  end
end
# end recipe

# recipe: rails-test-helper
# In test/test_helper.rb or spec/rails_helper.rb, after ActiveRecord::Migration.maintain_test_schema!:
# TRUNCATE-based cleaners (DatabaseCleaner's :truncation, say) then archive nothing.
module DeletionContext
  def self.ignore_truncate!(connection = ActiveRecord::Base.connection)
    connection.execute(<<~SQL)
      SELECT deleted_record_attach(table_name, 'ignore', retention, exclude_columns, mask_columns)
        FROM deleted_record_attached WHERE on_truncate <> 'ignore'
    SQL
  end
end
# end recipe
