# Customers, invoices and lines, attached to the archive. The foreign keys have no ON DELETE:
# ActiveRecord cascades itself (dependent: :destroy).
class CreateInvoices < ActiveRecord::Migration[6.1]
  TABLES = %w[customers invoices invoice_lines].freeze

  def change
    create_table :customers do |t|
      t.text :name
    end
    create_table :invoices do |t|
      t.references :customer, foreign_key: true
      t.integer :worker, null: false, default: 0
      t.decimal :amount, precision: 30, scale: 10
      t.bigint :big
    end
    create_table :invoice_lines do |t|
      t.references :invoice, null: false, foreign_key: true
      t.text :text
    end
    # recipe: rails-migration
    reversible do |dir|
      dir.up do
        enable_extension "deleted_record" # CREATE EXTENSION IF NOT EXISTS: a no-op when the DBA made it
        TABLES.each { |table| execute "SELECT deleted_record_attach('#{table}')" }
      end
      dir.down { TABLES.each { |table| execute "SELECT deleted_record_detach('#{table}')" } }
    end
    # end recipe
  end
end
