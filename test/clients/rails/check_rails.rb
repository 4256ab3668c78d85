# ActiveRecord 6.1 (Debian's ruby-activerecord + ruby-pg) through pgbouncer in transaction mode:
# see test/shell/clients.sh.
require "active_record"
require "bigdecimal"
require "erb"
require "json"
require "stringio"
require "tempfile"
require "yaml"
require_relative "deletion_context"
require_relative "models"
require_relative "undelete"

STACK = "rails"
WORKERS, TXNS, PER_TXN, ROWS = %w[WORKERS TXNS PER_TXN ROWS].map { |v| Integer(ENV.fetch(v)) }
BIG = 9_007_199_254_740_993
AMOUNT = BigDecimal("12345678901234567890.0123456789")

def check(desc, cond, *diagnostics)
  puts "#{cond ? 'ok' : 'not ok'} - #{desc}"
  diagnostics.each { |d| puts "#   #{d}" } unless cond
  $stdout.flush
end

# captured_stderr runs the block and returns [its value, what it and its child processes (pg_dump,
# psql) wrote to standard error, Kernel#warn included].
def captured_stderr
  saved = $stderr.dup
  Tempfile.create("stderr") do |file|
    $stderr.reopen(file)
    begin
      value = yield
    ensure
      $stderr.flush
      $stderr.reopen(saved)
    end
    return [value, File.read(file.path)]
  end
end

ActiveRecord::Migration.verbose = false
ActiveRecord::Base.configurations =
  YAML.safe_load(ERB.new(File.read(File.join(__dir__, "config", "database.yml"))).result, aliases: true)
config = ->(env) { ActiveRecord::Base.configurations.configs_for(env_name: env).first }

ActiveRecord::Base.establish_connection(:direct)
migrations = ActiveRecord::MigrationContext.new(File.join(__dir__, "db", "migrate"), ActiveRecord::SchemaMigration)
migrations.migrate(20240101000002) # up to the soft-deleting tickets table

# Off soft deletion: 8 tickets, 5 soft-deleted by support, imported by the migration ImportTickets.
soft = (1..5).map { |day| Time.utc(2025, 6, day, 10, 0) }
amounts = (0..7).map { |i| BigDecimal("12345678901234567890.012345678#{i}") }
ids = (0..7).map do |i|
  Ticket.create!(title: "ticket #{i}", amount: amounts[i], deleted_at: soft[i], deleted_by: i < 5 ? "support:#{i}" : nil,
                 delete_reason: i < 5 ? "duplicate #{i}" : nil).id
end
# The migrations' connection runs under require_context, with no session context: the import's
# actor and reason expressions alone must satisfy it.
session_context = ActiveRecord::Base.connection.select_rows(
  "SELECT current_setting('deleted_record.require_context'), " \
  "coalesce(current_setting('deleted_record.actor', true), ''), coalesce(current_setting('deleted_record.reason', true), '')"
)
check "the migrations connect under require_context = actor_and_reason, with no session actor or reason",
      session_context == [["actor_and_reason", "", ""]], session_context.inspect
migrations.migrate # ImportTickets: CALL deleted_record_import(...), batches of 2
ActiveRecord::Base.establish_connection(:pooled)
check "the import migration left only the 3 live tickets in the table", Ticket.order(:id).pluck(:id) == ids[5..],
      Ticket.order(:id).pluck(:id, :deleted_at).inspect
# recipe: rails-import-read
migrated = DeletedTicket.where(archive_restored_at: nil).order(:id).to_a
# end recipe
got = migrated.map { |t| [t.ticket_id, t.amount, t.archive_deleted_at, t.archive_actor, t.archive_reason] }
check "the typed view's model reads the 5 imported tickets: exact amounts, their own deletion time, actor and reason",
      got == (0..4).map { |i| [ids[i], amounts[i], soft[i], "support:#{i}", "duplicate #{i}"] } &&
        migrated.all? { |t| t.amount.is_a?(BigDecimal) }, got.inspect
first, held = migrated
outcomes = ActiveRecord::Base.connection.select_values(
  "SELECT outcome FROM deleted_record_restore(ARRAY[$1]::uuid[])", "Undelete", [first.archive_id])
back = Ticket.find_by(id: first.ticket_id)
check "an imported ticket is undeleted: live again with its exact amount and no deleted_at",
      outcomes == ["restored"] && back && back.amount == amounts[0] && back.deleted_at.nil? &&
        !DeletedTicket.find(first.archive_id).archive_restored_at.nil?, outcomes.inspect, [back&.amount, back&.deleted_at].inspect

error = begin # the application's role has no grant to place holds
  ActiveRecord::Base.connection.select_value("SELECT deleted_record_hold('by-app', 'no grant', for_table => 'tickets')")
  nil
rescue StandardError => e
  e
end
check "the app role (not granted holds) placing one raises ActiveRecord::StatementInvalid caused by PG::InsufficientPrivilege (42501)",
      error.is_a?(ActiveRecord::StatementInvalid) && error.cause.is_a?(PG::InsufficientPrivilege), "#{error.class}: #{error&.message}"
# Legal hold on the second imported ticket, as counsel through the pooler.
# recipe: rails-hold
ComplianceRecord.establish_connection(:counsel)
ComplianceRecord.connection.select_value(
  "SELECT deleted_record_hold($1, $2, for_table => 'tickets', for_object => $3)", "Hold",
  ["case-rails", "Litigation hold, letter of 2 November 2026", held.ticket_id.to_s])
in_place = LegalHold.where(released_at: nil).to_a
# end recipe
holds = in_place.map { |h| [h.name, h.table_name, h.object_id, h.held_by] }
check "counsel places a hold; the LegalHold model lists it", holds == [["case-rails", "tickets", ids[1].to_s, "counsel"]], holds.inspect
erase = "SELECT count(*) FROM deleted_record_erase(ARRAY[$1]::uuid[], 'GDPR erasure request #4711')"
error = begin
  ComplianceRecord.connection.select_value(erase, "Erase", [held.archive_id])
  nil
rescue StandardError => e
  e
end
check "erasing the held ticket raises ActiveRecord::StatementInvalid caused by PG::ObjectNotInPrerequisiteState (55000), naming the hold",
      error.is_a?(ActiveRecord::StatementInvalid) && error.cause.is_a?(PG::ObjectNotInPrerequisiteState) &&
        error.cause.result.error_field(PG::PG_DIAG_SQLSTATE) == "55000" && error.message.include?('"case-rails"'),
      "#{error.class}: #{error&.message}; cause #{error&.cause.class}"
ComplianceRecord.connection.select_value("SELECT deleted_record_release('case-rails')")
ComplianceRecord.connection.select_value(erase, "Erase", [held.archive_id])
released = LegalHold.find_by!(name: "case-rails")
check "after counsel releases it the hold is history (released_by counsel) and the erasure goes through",
      released.released_by == "counsel" && !released.released_at.nil? && !DeletedTicket.exists?(held.archive_id),
      [released.released_by, released.released_at].inspect

# The archive's statistics for the tickets table: 4 archive rows (5 imported, 1 erased), 1 restored.
tickets, warned = captured_stderr do
  # recipe: rails-stats
  ArchiveStats.find_by!(kind: "table", schema_name: "public", table_name: "tickets")
  # end recipe
end
got = [tickets.schema_name, tickets.table_name, tickets.rows_archived, tickets.rows_restored, tickets.rows_erased, tickets.oldest_deleted_at,
       tickets.newest_deleted_at, tickets.retention, tickets.rows_awaiting_purge, tickets.estimated]
check "the ArchiveStats model reads the tickets table's figures typed: counts, deletion times, retention",
      got == ["public", "tickets", 4, 1, 1, soft[0], soft[4], 30.days, 0, false] && tickets.bytes.positive?, got.inspect
# Every column of the view is of a type ActiveRecord knows: loading them warns of no unknown OID.
check "... loading the view's columns, ActiveRecord warns of no unknown OID (the names are text)",
      !warned.include?("unknown OID") && ArchiveStats.columns_hash.values_at("schema_name", "table_name", "partition_name").map(&:type) ==
        %i[text text text],
      warned.strip
partitions = ArchiveStats.where(kind: "partition").to_a
periods = partitions.reject { |p| p.period_from.nil? } # the default partition has none
check "and the archive's partitions, each with its name and size, the monthly ones with their period",
      !periods.empty? && partitions.all? { |p| p.partition_name.is_a?(String) && p.bytes.positive? && p.schema_name.nil? && p.table_name.nil? } &&
        periods.all? { |p| p.period_from < p.period_until },
      partitions.map { |p| [p.partition_name, p.period_from, p.period_until, p.bytes] }.inspect

# An import whose third batch waits for a row lock the test holds: its progress, as it stands then,
# is the import's line in deleted_record_progress. Through the pooler, under require_context: the
# actor and reason are the import's own (quoted constants), no session context.
direct_config = config.call("direct").configuration_hash
lock = PG.connect(host: direct_config[:host], port: direct_config[:port], dbname: direct_config[:database],
                  user: direct_config[:username])
lock.exec("CREATE TABLE jobs (id int PRIMARY KEY, deleted_at timestamptz)")
lock.exec("INSERT INTO jobs SELECT i, '2025-06-01 10:00+00' FROM generate_series(1, 6) i")
lock.exec("SELECT deleted_record_attach('jobs')")
lock.exec("BEGIN")
lock.exec("SELECT id FROM jobs WHERE id = 6 FOR UPDATE") # the third batch waits for it
importer = Thread.new do
  ActiveRecord::Base.connection_pool.with_connection do |conn|
    conn.execute("CALL deleted_record_import('jobs', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at', " \
                 "actor => '''jobs''', reason => '''expired''', batch_size => 2)")
  end
  nil
rescue StandardError => e
  "#{e.class}: #{e.message}"
end
running = nil
_, warned = captured_stderr do
  200.times do
    # recipe: rails-progress
    running = Progress.where("operation LIKE 'import%'").first
    # end recipe
    break if running&.rows_done == 4

    sleep 0.05
  end
end
lock.exec("COMMIT")
import_error = importer.value
lock.close
got = running && [running.role_name, running.operation, running.rows_done, running.rows_total, running.rows_left,
                  running.percent_done, running.rows_per_second.is_a?(Integer), running.started.is_a?(Time)]
check "while an import runs, the Progress model reads its line typed: rows done, total, left, percent, rate",
      got == ["app", "import jobs", 4, 6, 2, BigDecimal("66.7"), true, true] && !warned.include?("unknown OID"),
      got.inspect, warned.strip
check "the import then ran to its end: the table is empty, the progress line gone, every row with the import's actor and reason",
      import_error.nil? && !Progress.where("operation LIKE 'import%'").exists? &&
        DeletedRecord.where(table_name: "jobs", actor: "jobs", reason: "expired").count == 6, import_error
ActiveRecord::Base.connection.execute("SELECT deleted_record_detach('jobs')") # not the application's: not
ActiveRecord::Base.connection.execute("DROP TABLE jobs")                       # in its structure.sql below
ActiveRecord::Base.establish_connection(:direct)
(1..WORKERS).each do |w|
  Invoice.insert_all!(Array.new(ROWS) { { worker: w, amount: "1.5", big: w } })
end

# Concurrent worker threads, each with its own pooled connection (shared by pgbouncer).
ActiveRecord::Base.establish_connection(:pooled)
threads = (1..WORKERS).map do |w|
  Thread.new do
    ActiveRecord::Base.connection_pool.with_connection do
      TXNS.times do
        DeletionContext.transaction(actor: "#{STACK}-worker-#{w}", reason: "cleanup by #{STACK} worker #{w}",
                                    metadata: { stack: STACK, worker: w }) do
          TxLog.create!(worker: w, pid: ActiveRecord::Base.connection.select_value("SELECT pg_backend_pid()"))
          Invoice.where(id: Invoice.where(worker: w).order(:id).limit(PER_TXN).pluck(:id)).delete_all
        end
      end
    end
    nil
  rescue StandardError => e
    "worker #{w}: #{e.class}: #{e.message}"
  end
end
errors = threads.map(&:value).compact
check "every worker thread ran its transactions without error", errors.empty?, *errors

# xact_id, on a fresh connection: an Integer, without "unknown OID" warnings.
ActiveRecord::Base.establish_connection(:direct)
xact, warned = captured_stderr { DeletedRecord.where(table_name: "invoices").pick(:xact_id) }
check "xact_id reads as an Integer without unknown-OID warnings", xact.is_a?(Integer) && !warned.include?("unknown OID"),
      "#{xact.class} #{xact.inspect}; stderr: #{warned.strip}"
ActiveRecord::Base.establish_connection(:pooled)

# ActiveRecord's own cascade (dependent: :destroy): one DELETE per line, invoice and customer.
customer = Customer.create!(name: "cascade")
2.times { customer.invoices.create!.invoice_lines.create!([{ text: "a" }, { text: "b" }]) }
# recipe: rails-usage
DeletionContext.transaction(actor: "cascade", reason: "orm cascade") do
  Customer.find(customer.id).destroy! # its invoices and their lines too, in this transaction
end
# end recipe
archived = DeletedRecord.where(actor: "cascade")
xacts = archived.distinct.pluck(Arel.sql("xact_id::text"))
check "dependent: :destroy archives the customer, 2 invoices and 4 lines with one xact_id",
      archived.count == 7 && xacts.size == 1, "archived #{archived.count}, xact_ids #{xacts}"

# Undelete (through the pooler): the customer, its invoices and their lines come back.
outcomes, back = Undelete.restore(Customer, customer.id)
check "undelete by xact_key restores the customer, 2 invoices and 4 lines; ActiveRecord loads them back",
      outcomes == ["restored"] * 7 && back.name == "cascade" && back.invoices.count == 2 &&
        InvoiceLine.where(invoice_id: back.invoices.select(:id)).count == 4, outcomes.inspect
# By xact_id as the model reads it (an Integer), bound untyped as ActiveRecord binds it.
DeletionContext.transaction(actor: "again", reason: "undelete by xact_id") { Customer.find(customer.id).destroy! }
xact_id = DeletedRecord.where(table_name: "customers", object_id: customer.id.to_s, restored_at: nil).pick(:xact_id)
outcomes = ActiveRecord::Base.connection.select_values(
  "SELECT outcome FROM deleted_record_restore_transaction($1)", "Undelete", [xact_id])
check "undelete by xact_id (an #{xact_id.class}, bound untyped) restores them again",
      outcomes == ["restored"] * 7 && Customer.find(customer.id).invoices.count == 2, outcomes.inspect

# require_context: ActiveRecord::StatementInvalid caused by PG::ObjectNotInPrerequisiteState (55000).
victim = Invoice.create!(worker: 0, amount: AMOUNT, big: BIG)
error = begin
  Invoice.where(id: victim.id).delete_all
  nil
rescue StandardError => e
  e
end
check "a delete without context raises ActiveRecord::StatementInvalid caused by PG::ObjectNotInPrerequisiteState (55000)",
      error.is_a?(ActiveRecord::StatementInvalid) && error.cause.is_a?(PG::ObjectNotInPrerequisiteState) &&
        error.cause.result.error_field(PG::PG_DIAG_SQLSTATE) == "55000",
      "#{error.class}: #{error&.message}; cause #{error&.cause.class}"
check "the rejected delete left its row in place", Invoice.exists?(victim.id)

# The numbers of `data`.
DeletionContext.transaction(actor: "numbers", reason: "precision check") { victim.destroy! }
record = DeletedRecord.find_by!(table_name: "invoices", object_id: victim.id.to_s)
check "data as JSON (the jsonb attribute) rounds numeric #{AMOUNT.to_s('F')} to a Float (Ruby keeps the bigint exact)",
      record.data["amount"].is_a?(Float) && record.data["amount"].to_d != AMOUNT && record.data["big"] == BIG,
      record.data.inspect
exact = record.exact_data
check "the recipe's DeletedRecord#exact_data (JSON.parse with decimal_class: BigDecimal) is exact",
      exact["amount"] == AMOUNT && exact["big"] == BIG, exact.inspect
text = DeletedRecord.where(id: record.id).pick(Arel.sql("data->>'amount'"), Arel.sql("data->>'big'"))
check "data->>'col' is exact", text == [AMOUNT.to_s("F"), BIG.to_s], text.inspect
# recipe: rails-read
# The deleted invoice as an Invoice again, every attribute exact (readonly: it stays deleted).
restored = Invoice.find_by_sql(["SELECT (jsonb_populate_record(NULL::invoices, data)).* FROM deleted_record " \
                                "WHERE table_name = 'invoices' AND object_id = ?", victim.id.to_s]).each(&:readonly!)
# end recipe
check "jsonb_populate_record through Invoice.find_by_sql gives back an exact Invoice",
      restored.map { |i| [i.amount, i.big] } == [[AMOUNT, BIG]], restored.map { |i| [i.amount, i.big] }.inspect

# The archive model's declared primary key: find by id and reload.
found = DeletedRecord.find(record.id).reload
check "the archive model (self.primary_key = \"id\") finds a row by its id and reloads it",
      found["object_id"] == victim.id.to_s && found.table_name == "invoices", found.id
# The typed view through a read-only model: exact numerics, no decoder.
# recipe: rails-typed-read
deleted = DeletedInvoice.find_by!(archive_object_id: victim.id.to_s, archive_restored_at: nil) # indexed: the key as text
# end recipe
check "the typed view's model reads the deleted invoice with exact numerics and no decoder",
      deleted.amount == AMOUNT && deleted.amount.is_a?(BigDecimal) && deleted.big == BIG &&
        deleted.invoice_id == victim.id && deleted.archive_actor == "numbers",
      [deleted.amount, deleted.big, deleted.invoice_id, deleted.archive_actor].inspect
again = DeletedInvoice.find(deleted.archive_id).reload
check "the typed view's model finds a row by its key (archive_id) and reloads it",
      again.archive_id == deleted.archive_id && again.amount == AMOUNT, again.archive_id
check "the typed view's model is read-only", again.readonly?

# Schema dumps. The default (:ruby) schema.rb has no triggers: a database loaded from it archives nothing.
ActiveRecord::Base.establish_connection(:direct)
schema_rb = StringIO.new
_, warned = captured_stderr { ActiveRecord::SchemaDumper.dump(ActiveRecord::Base.connection, schema_rb) }
check "schema.rb (schema_format :ruby) carries no trigger, so it cannot be the recipe",
      !schema_rb.string.match?(/deleted_record_(insert|attach)\(/i) # calls; deleted_record_attachment is a table
schema_rb.string.each_line.grep(/deleted_record/).each { |l| puts "#   schema.rb: #{l.strip}" }
warned.each_line.each { |l| puts "#   schema dump warned: #{l.strip}" }

captured_stderr { ActiveRecord::Tasks::DatabaseTasks.create(config.call("loaded_from_ruby")) }
ActiveRecord::Base.establish_connection(:loaded_from_ruby)
rb_error = begin
  captured_stderr { eval(schema_rb.string) } # rails db:schema:load with schema.rb
  nil
rescue StandardError => e
  "#{e.class}: #{e.message.lines.first}"
end
archives = rb_error.nil? && begin
  invoice = Invoice.create!(amount: 1)
  DeletionContext.transaction(actor: "rb", reason: "from schema.rb") { invoice.destroy! }
  DeletedRecord.count.positive?
end
check "a database loaded from schema.rb does not archive (its load fails, or it has no trigger)", !archives
puts "#   loading schema.rb: #{rb_error || 'loaded'}"
ActiveRecord::Base.establish_connection(:direct)

# recipe: rails-structure-sql
# config/application.rb: config.active_record.schema_format = :sql, which sets
ActiveRecord::Base.schema_format = :sql
# The archive's partitions belong to the extension's owner, and pg_dump must lock every table it
# dumps: leave them out (the extension makes its own partitions in the loaded database).
ActiveRecord::Tasks::DatabaseTasks.structure_dump_flags = ["--exclude-table=*.deleted_record_*"]
# end recipe
ActiveRecord::Tasks::DatabaseTasks.db_dir = File.join(ENV.fetch("WORK"), "rails_db")
ActiveRecord::Tasks::DatabaseTasks.dump_schema(config.call("direct")) # rails db:schema:dump
structure = Dir.glob(File.join(ActiveRecord::Tasks::DatabaseTasks.db_dir, "*structure.sql")).first
sql = File.read(structure)
check "structure.sql (pg_dump) has CREATE EXTENSION and the triggers of all four tables",
      sql.include?("CREATE EXTENSION IF NOT EXISTS deleted_record") &&
        sql.scan(/CREATE TRIGGER deleted_record_insert AFTER DELETE ON public\.(\w+)/).flatten.sort == %w[customers invoice_lines invoices tickets]
loaded = config.call("loaded")
captured_stderr { ActiveRecord::Tasks::DatabaseTasks.create(loaded) } # rails db:create
load_error = begin
  ActiveRecord::Tasks::DatabaseTasks.load_schema(loaded, :sql, structure) # rails db:schema:load
  nil
rescue StandardError => e
  "#{e.class}: #{e.message}"
end
check "a database loaded from structure.sql (rails db:create db:schema:load)", load_error.nil?, load_error
ActiveRecord::Base.establish_connection(loaded)
invoice = Invoice.create!(amount: 1)
DeletionContext.transaction(actor: "loaded", reason: "from structure.sql") { invoice.destroy! }
check "... archives deletes, with their context", DeletedRecord.where(actor: "loaded", object_id: invoice.id.to_s).count == 1

# The app role, no superuser, cannot load it even where the template made the extension: pg_dump
# writes COMMENT ON EXTENSION, which only the extension's owner may run (friction, see RECIPES.md).
captured_stderr { ActiveRecord::Tasks::DatabaseTasks.create(config.call("loaded_as_app")) }
app_error = captured_stderr do
  ActiveRecord::Tasks::DatabaseTasks.load_schema(config.call("loaded_as_app"), :sql, structure)
rescue StandardError => e
  e.message
end.join
check "structure.sql does not load as the app role (no superuser): COMMENT ON EXTENSION needs the extension's owner",
      app_error.to_s.include?("must be owner of extension deleted_record"), app_error || "it loaded"
ActiveRecord::Base.establish_connection(loaded)

# As a test database: the test helper makes TRUNCATE-based cleaners archive nothing.
DeletionContext.ignore_truncate!
before = DeletedRecord.count
3.times { Customer.create!(name: "x").invoices.create!.invoice_lines.create!(text: "y") }
ActiveRecord::Base.connection.execute("TRUNCATE TABLE customers, invoices, invoice_lines RESTART IDENTITY CASCADE;")
check "after the test helper's ignore_truncate!, a DatabaseCleaner-style TRUNCATE ... CASCADE archives nothing",
      DeletedRecord.count == before && Customer.count.zero?, "archive #{before} -> #{DeletedRecord.count}"
ActiveRecord::Base.connection_pool.disconnect!
