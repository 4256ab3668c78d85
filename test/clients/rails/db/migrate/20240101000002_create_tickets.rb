# The soft-deleting tickets table, as the application had it before the archive.
class CreateTickets < ActiveRecord::Migration[6.1]
  def change
    create_table :tickets do |t|
      t.text :title, null: false
      t.decimal :amount, precision: 30, scale: 10, null: false
      t.datetime :deleted_at
      t.text :deleted_by
      t.text :delete_reason
    end
  end
end
