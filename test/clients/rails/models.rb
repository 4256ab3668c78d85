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
  # The partitioned archive cannot have a primary key of its own (each partition has one).
  self.primary_key = "id"

  def readonly?
    true
  end

  # data with exact numbers: the jsonb attribute parses numbers with a fraction as Float.
  def exact_data
    JSON.parse(data_before_type_cast, decimal_class: BigDecimal)
  end
end
# end recipe

# recipe: rails-typed-view
# Deleted invoices, typed: the view deleted_record_view('invoices') made. Read-only; its key is
# the archive row's id (an invoice deleted twice has two rows). ActiveRecord's id attribute is
# always the primary key, so the invoice's own id column is also selected as invoice_id.
class DeletedInvoice < ActiveRecord::Base
  self.table_name = "invoices_deleted"
  self.primary_key = "archive_id"
  default_scope { select(arel_table[Arel.star], arel_table[:id].as("invoice_id")) }

  def readonly?
    true
  end
end
# end recipe

# A model that soft-deleted its rows until the migration ImportTickets moved them to the archive.
class Ticket < ActiveRecord::Base
end

# recipe: rails-import-models
# Deleted tickets, typed (deleted_record_view('tickets')): the imported ones too.
class DeletedTicket < ActiveRecord::Base
  self.table_name = "tickets_deleted"
  self.primary_key = "archive_id"
  default_scope { select(arel_table[Arel.star], arel_table[:id].as("ticket_id")) }

  def readonly?
    true
  end
end
# end recipe

# recipe: rails-hold-stats-models
# Legal holds are placed and read by the counsel role, on a connection of its own.
# (ComplianceRecord.establish_connection(:counsel) once the configurations are loaded.)
class ComplianceRecord < ActiveRecord::Base
  self.abstract_class = true
end

# deleted_record_holds: every hold placed and released (no key of its own: read it, never save).
class LegalHold < ComplianceRecord
  self.table_name = "deleted_record_holds"

  def readonly?
    true
  end
end

# deleted_record_stats: a row per attached table (kind "table": schema_name, table_name) and per
# partition (kind "partition": partition_name), names as text.
class ArchiveStats < ActiveRecord::Base
  self.table_name = "deleted_record_stats"

  def readonly?
    true
  end
end
# end recipe

# recipe: rails-progress-model
# deleted_record_progress: the extension's long operations (purge, import, large restores) running
# now, one row per session, as pg_stat_activity lets the reader see them.
class Progress < ActiveRecord::Base
  self.table_name = "deleted_record_progress"
  self.primary_key = "pid"

  def readonly?
    true
  end
end
# end recipe
