# The models of the ActiveRecord client test.
class Customer < ActiveRecord::Base
  has_many :invoices, dependent: :destroy
end

class Invoice < ActiveRecord::Base
  belongs_to :customer, optional: true
  has_many :invoice_lines, dependent: :destroy
end

class InvoiceLine < ActiveRecord::Base
  belongs_to :invoice
end

# Made by test/shell/clients.sh: which server backend ran each transaction.
class TxLog < ActiveRecord::Base
  self.table_name = "txlog"
end

# recipe: rails-model
# The archive, read-only: the extension owns the table.
class DeletedRecord < ActiveRecord::Base
  self.table_name = "deleted_record"

  def readonly?
    true
  end

  # data with exact numbers: the jsonb attribute parses numbers with a fraction as Float.
  def exact_data
    JSON.parse(data_before_type_cast, decimal_class: BigDecimal)
  end
end
# end recipe
