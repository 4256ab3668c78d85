// Sequelize 6 through pgbouncer in transaction mode: see test/shell/clients.sh.
'use strict';
const { Sequelize, DataTypes, Op } = require('sequelize');
const { withSequelizeDeletionContext } = require('./deletion_context');
const migration = require('./sequelize_migrations/20240101000000-invoices');
const viewMigration = require('./sequelize_migrations/20240101000001-invoices-deleted');
const ticketMigration = require('./sequelize_migrations/20240101000002-tickets');
const importMigration = require('./sequelize_migrations/20240101000003-import-tickets');
const { check, show, rejection, context, env, BIG, AMOUNT } = require('./tap');

const STACK = 'sequelize';
const connect = (port, pool, user = 'app') => new Sequelize('sequelize_app', user, null,
  { host: '127.0.0.1', port, dialect: 'postgres', logging: false, pool });

function define(sequelize) {
  const Customer = sequelize.define('customer', { name: DataTypes.TEXT }, { tableName: 'customers', timestamps: false });
  const Invoice = sequelize.define('invoice', {
    worker: { type: DataTypes.INTEGER, allowNull: false },
    amount: DataTypes.DECIMAL(30, 10),
    big: DataTypes.BIGINT,
  }, { tableName: 'invoices', timestamps: false });
  Customer.hasMany(Invoice, { onDelete: 'CASCADE', hooks: true }); // Sequelize deletes the invoices itself
  const TxLog = sequelize.define('txlog', { worker: DataTypes.INTEGER, pid: DataTypes.INTEGER },
    { tableName: 'txlog', timestamps: false });
  TxLog.removeAttribute('id');
  const DeletedRecord = sequelize.define('deleted_record', {
    id: { type: DataTypes.UUID, primaryKey: true },
    data: DataTypes.JSONB,
    table_name: DataTypes.TEXT,
    object_id: DataTypes.TEXT,
    actor: DataTypes.TEXT,
    xact_id: DataTypes.BIGINT,
    xact_key: DataTypes.TEXT,
    restored_at: DataTypes.DATE,
  }, { tableName: 'deleted_record', timestamps: false });
  // recipe: node-sequelize-typed-view
  // Deleted invoices, typed: the view deleted_record_view('invoices') made (read-only). Its key is
  // the archive row's id (an invoice deleted twice has two rows); the invoice's id is invoiceId.
  const DeletedInvoice = sequelize.define('deleted_invoice', {
    archive_id: { type: DataTypes.UUID, primaryKey: true },
    archive_object_id: DataTypes.TEXT,
    archive_deleted_at: DataTypes.DATE,
    archive_actor: DataTypes.TEXT,
    archive_reason: DataTypes.TEXT,
    archive_xact_key: DataTypes.TEXT,
    archive_restored_at: DataTypes.DATE,
    invoiceId: { type: DataTypes.BIGINT, field: 'id' },
    customerId: DataTypes.BIGINT,
    worker: DataTypes.INTEGER,
    amount: DataTypes.DECIMAL(30, 10),
    big: DataTypes.BIGINT,
  }, { tableName: 'invoices_deleted', timestamps: false });
  // end recipe
  // A paranoid model: Sequelize soft-deleted its rows (deletedAt) until the import.
  const Ticket = sequelize.define('ticket', {
    title: DataTypes.TEXT,
    amount: DataTypes.DECIMAL(30, 10),
    deletedBy: DataTypes.TEXT,
    deleteReason: DataTypes.TEXT,
  }, { tableName: 'tickets', paranoid: true, createdAt: false, updatedAt: false });
  // recipe: node-sequelize-import-models
  // Deleted tickets, typed (deleted_record_view('tickets')): the imported ones too.
  const DeletedTicket = sequelize.define('deleted_ticket', {
    archive_id: { type: DataTypes.UUID, primaryKey: true },
    archive_deleted_at: DataTypes.DATE,
    archive_actor: DataTypes.TEXT,
    archive_reason: DataTypes.TEXT,
    archive_restored_at: DataTypes.DATE,
    ticketId: { type: DataTypes.BIGINT, field: 'id' },
    title: DataTypes.TEXT,
    amount: DataTypes.DECIMAL(30, 10),
  }, { tableName: 'tickets_deleted', timestamps: false });
  // end recipe
  // recipe: node-sequelize-hold-stats-models
  // deleted_record_holds: every hold placed and released. No key of its own: a name is held once
  // at a time, so (name, held_at) names a hold.
  const LegalHold = sequelize.define('legal_hold', {
    name: { type: DataTypes.TEXT, primaryKey: true },
    held_at: { type: DataTypes.DATE, primaryKey: true },
    reason: DataTypes.TEXT,
    schema_name: DataTypes.TEXT,
    table_name: DataTypes.TEXT,
    attachment_ids: DataTypes.ARRAY(DataTypes.UUID),
    object_id: DataTypes.TEXT,
    deleted_from: DataTypes.DATE,
    deleted_until: DataTypes.DATE,
    held_by: DataTypes.TEXT,
    released_at: DataTypes.DATE,
    released_by: DataTypes.TEXT,
  }, { tableName: 'deleted_record_holds', timestamps: false });
  // deleted_record_stats: a row per attached table (kind 'table') and per partition (kind
  // 'partition'): names as text, the table's schema and name, or the partition's name.
  const ArchiveStats = sequelize.define('archive_stats', {
    kind: DataTypes.TEXT,
    schema_name: DataTypes.TEXT,
    table_name: DataTypes.TEXT,
    partition_name: DataTypes.TEXT,
    period_from: DataTypes.DATE,
    period_until: DataTypes.DATE,
    rows_archived: DataTypes.BIGINT,
    rows_restored: DataTypes.BIGINT,
    rows_erased: DataTypes.BIGINT,
    bytes: DataTypes.BIGINT,
    oldest_deleted_at: DataTypes.DATE,
    newest_deleted_at: DataTypes.DATE,
    retention: DataTypes.STRING, // Sequelize 6 has no INTERVAL: node-postgres gives a PostgresInterval
    rows_awaiting_purge: DataTypes.BIGINT,
    estimated: DataTypes.BOOLEAN,
  }, { tableName: 'deleted_record_stats', timestamps: false });
  ArchiveStats.removeAttribute('id');
  // end recipe
  // recipe: node-sequelize-progress-model
  // deleted_record_progress: the extension's long operations (purge, import, large restores)
  // running now, one row per session, as pg_stat_activity lets the reader see them.
  const Progress = sequelize.define('progress', {
    pid: { type: DataTypes.INTEGER, primaryKey: true },
    role_name: DataTypes.TEXT,
    operation: DataTypes.TEXT,
    rows_done: DataTypes.BIGINT,
    rows_total: DataTypes.BIGINT,
    rows_left: DataTypes.BIGINT,
    percent_done: DataTypes.DECIMAL,
    rows_per_second: DataTypes.BIGINT,
    started: DataTypes.DATE,
  }, { tableName: 'deleted_record_progress', timestamps: false });
  // end recipe
  return { Customer, Invoice, TxLog, DeletedRecord, DeletedInvoice, Ticket, DeletedTicket, LegalHold, ArchiveStats, Progress };
}

// recipe: node-sequelize-undelete
// Undelete a customer with everything its delete took (Sequelize's own cascade deleted its invoices
// in the same transaction): restore that transaction by its xact_key, a string, bound untyped as
// Sequelize binds every value (it finds the text version of deleted_record_restore_transaction);
// then load the customer and its invoices back. An xact_id as the model reads it works the same.
async function undeleteCustomer(sequelize, { Customer, Invoice, DeletedRecord }, id) {
  const record = await DeletedRecord.findOne({
    where: { table_name: 'customers', object_id: String(id), restored_at: null }, order: [['id', 'DESC']],
  });
  const [outcomes] = await sequelize.query('select * from deleted_record_restore_transaction($1)',
                                           { bind: [record.xact_key] });
  return { outcomes, customer: await Customer.findByPk(id, { include: Invoice }) };
}
// end recipe

// The import from soft deletion (migration 20240101000003), legal holds as the counsel role
// through the pooler, and the archive's statistics for the imported table.
async function importHoldsStats(direct, D, P) {
  const soft = [1, 2, 3, 4, 5].map((day) => new Date(Date.UTC(2025, 5, day, 10, 0)));
  const amounts = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `12345678901234567890.012345678${i}`);
  const created = await D.Ticket.bulkCreate([0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({
    title: `ticket ${i}`, amount: amounts[i], deletedAt: i < 5 ? soft[i] : null,
    deletedBy: i < 5 ? `support:${i}` : null, deleteReason: i < 5 ? `duplicate ${i}` : null,
  })), { returning: true });
  const ids = created.map((t) => String(t.id));
  const paranoid = await D.Ticket.count();
  // The migrations' connection runs under require_context, with no session context: the import's
  // actor and reason expressions alone must satisfy it.
  const [session] = await direct.query("select current_setting('deleted_record.require_context') as required, " +
    "coalesce(current_setting('deleted_record.actor', true), '') as actor, coalesce(current_setting('deleted_record.reason', true), '') as reason");
  check('the migrations connect under require_context = actor_and_reason, with no session actor or reason',
    show(session) === show([{ required: 'actor_and_reason', actor: '', reason: '' }]), show(session));
  await importMigration.up(direct.getQueryInterface(), Sequelize); // call deleted_record_import(...), batches of 2
  const live = (await P.Ticket.findAll({ paranoid: false, order: [['id', 'ASC']] })).map((t) => String(t.id));
  check('the import migration left only the 3 live tickets in the table (before it, the paranoid model saw 3 of 8)',
    paranoid === 3 && show(live) === show(ids.slice(5)), paranoid, show(live));
  // recipe: node-sequelize-import-read
  const migrated = await P.DeletedTicket.findAll({ where: { archive_restored_at: null }, order: [['ticketId', 'ASC']] });
  // end recipe
  const got = migrated.map((t) => [String(t.ticketId), t.amount, t.archive_deleted_at.toISOString(), t.archive_actor, t.archive_reason]);
  const want = [0, 1, 2, 3, 4].map((i) => [ids[i], amounts[i], soft[i].toISOString(), `support:${i}`, `duplicate ${i}`]);
  check("the typed view's model reads the 5 imported tickets: exact amounts, their own deletion time, actor and reason",
    show(got) === show(want), show(got));
  const [first, held] = migrated;
  const [restored] = await P.Ticket.sequelize.query('select outcome from deleted_record_restore(array[$1]::uuid[])',
                                                    { bind: [first.archive_id] });
  const back = await P.Ticket.findByPk(first.ticketId);
  await first.reload();
  check('an imported ticket is undeleted: live again (the paranoid model finds it) with its exact amount',
    restored.map((r) => r.outcome).join() === 'restored' && back !== null && back.amount === amounts[0] &&
    back.deletedAt === null && first.archive_restored_at !== null, show(restored), show(back));

  const denied = await rejection(() => P.Ticket.sequelize.query("select deleted_record_hold('by-app', 'no grant', for_table => 'tickets')"));
  check('the app role (not granted holds) placing one is a Sequelize DatabaseError whose original error has code 42501',
    denied instanceof Sequelize.DatabaseError && denied.original && denied.original.code === '42501',
    denied && `${denied.name}: ${denied.message}`);
  // Legal hold on the second imported ticket, as counsel through the pooler.
  // recipe: node-sequelize-hold
  const counsel = connect(env.bouncer, { max: 1 }, 'counsel');
  const { LegalHold } = define(counsel);
  await counsel.query("select deleted_record_hold($1, $2, for_table => 'tickets', for_object => $3)",
                      { bind: ['case-sequelize', 'Litigation hold, letter of 2 November 2026', String(held.ticketId)] });
  const inPlace = await LegalHold.findAll({ where: { released_at: null } });
  // end recipe
  try {
    const holds = inPlace.map((h) => [h.name, h.table_name, h.object_id, h.held_by]);
    check('counsel places a hold; the LegalHold model lists it',
      show(holds) === show([['case-sequelize', 'tickets', ids[1], 'counsel']]), show(holds));
    const erase = () => counsel.query("select count(*) from deleted_record_erase(array[$1]::uuid[], 'GDPR erasure request #4711')",
                                      { bind: [held.archive_id] });
    const err = await rejection(erase);
    check('erasing the held ticket is a Sequelize DatabaseError whose original error has code 55000, naming the hold',
      err instanceof Sequelize.DatabaseError && err.original && err.original.code === '55000' &&
      err.message.includes('"case-sequelize"'), err && `${err.name}: ${err.original && err.original.code} ${err.message}`);
    await counsel.query("select deleted_record_release('case-sequelize')");
    await erase();
    const released = await LegalHold.findOne({ where: { name: 'case-sequelize' } });
    const gone = (await P.DeletedTicket.findByPk(held.archive_id)) === null;
    check('after counsel releases it the hold is history (released_by counsel) and the erasure goes through',
      released.released_by === 'counsel' && released.released_at instanceof Date && gone, show(released));
  } finally {
    await counsel.close();
  }

  // The archive's statistics for the tickets table: 4 archive rows (5 imported, 1 erased), 1 restored.
  // recipe: node-sequelize-stats
  const tickets = await P.ArchiveStats.findOne({ where: { kind: 'table', schema_name: 'public', table_name: 'tickets' } });
  // end recipe
  const figures = tickets && [tickets.schema_name, tickets.table_name, tickets.rows_archived, tickets.rows_restored, tickets.rows_erased,
    tickets.oldest_deleted_at.toISOString(), tickets.newest_deleted_at.toISOString(), tickets.retention.toPostgres(),
    tickets.rows_awaiting_purge, tickets.estimated].map((x) => (typeof x === 'bigint' ? String(x) : x));
  check('the ArchiveStats model reads the tickets table\'s figures typed: counts, deletion times, retention',
    show(figures) === show(['public', 'tickets', '4', '1', '1', soft[0].toISOString(), soft[4].toISOString(), '30 days', '0', false]) &&
    BigInt(tickets.bytes) > 0n, show(figures));
  const partitions = await P.ArchiveStats.findAll({ where: { kind: 'partition' } });
  const periods = partitions.filter((p) => p.period_from !== null); // the default partition has none
  check("and the archive's partitions, each with its name and size, the monthly ones with their period",
    periods.length > 0 && partitions.every((p) => typeof p.partition_name === 'string' && BigInt(p.bytes) > 0n &&
      p.schema_name === null && p.table_name === null) &&
    periods.every((p) => p.period_from < p.period_until), show(partitions));
}

// An import whose third batch waits for a row lock the test holds: its progress, as it stands then,
// is the import's line in deleted_record_progress. Through the pooler, under require_context: the
// actor and reason are the import's own (quoted constants), no session context.
const PROGRESS_IMPORT = `call deleted_record_import('jobs', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at',
  actor => '''jobs''', reason => '''expired''', batch_size => 2)`;

async function progress(direct, pooled, { Progress }) {
  await direct.query('create table jobs (id int primary key, deleted_at timestamptz)');
  await direct.query("insert into jobs select i, '2025-06-01 10:00+00' from generate_series(1, 6) i");
  await direct.query("select deleted_record_attach('jobs')");
  const lock = await direct.transaction();
  await direct.query('select id from jobs where id = 6 for update', { transaction: lock }); // the third batch waits for it
  const importing = pooled.query(PROGRESS_IMPORT).then(() => null, (err) => err);
  let running;
  for (let i = 0; i < 200; i++) {
    // recipe: node-sequelize-progress
    running = await Progress.findOne({ where: { operation: { [Op.startsWith]: 'import' } } });
    // end recipe
    if (running !== null && String(running.rows_done) === '4') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await lock.commit();
  const err = await importing;
  const got = running && [running.role_name, running.operation, running.rows_done, running.rows_total, running.rows_left,
    running.percent_done, running.rows_per_second, running.started instanceof Date]
    .map((x) => (typeof x === 'bigint' ? String(x) : x));
  check('while an import runs, the Progress model reads its line: rows done, total, left, percent, rate',
    got && show(got.slice(0, 6)) === show(['app', 'import jobs', '4', '6', '2', '66.7']) && got[7] === true &&
    /^[0-9]+$/.test(String(got[6])), show(got));
  const left = await Progress.count({ where: { operation: { [Op.startsWith]: 'import' } } });
  const [[{ n }]] = await pooled.query("select count(*)::int as n from deleted_record " +
    "where table_name = 'jobs' and actor = 'jobs' and reason = 'expired'");
  check("the import then ran to its end: the table is empty, the progress line gone, every row with the import's actor and reason",
    err === null && left === 0 && n === 6, err && err.message, left);
}

async function main() {
  const direct = connect(env.direct);
  const pooled = connect(env.bouncer, { max: env.workers, min: 0 });
  const D = define(direct);
  const P = define(pooled);
  try {
    await migration.up(direct.getQueryInterface(), Sequelize);
    await viewMigration.up(direct.getQueryInterface(), Sequelize);
    await ticketMigration.up(direct.getQueryInterface(), Sequelize);
    await importHoldsStats(direct, D, P);
    await progress(direct, pooled, P);
    for (let w = 1; w <= env.workers; w++) {
      await D.Invoice.bulkCreate(Array.from({ length: env.rows }, () => ({ worker: w, amount: '1.5', big: w })));
    }

    // Concurrent workers, each deleting its own rows with its own context, per transaction.
    const worker = async (w) => {
      for (let i = 0; i < env.txns; i++) {
        await withSequelizeDeletionContext(pooled, context(STACK, w), async (transaction) => {
          const [[{ pid }]] = await pooled.query('select pg_backend_pid() as pid', { transaction });
          await P.TxLog.create({ worker: w, pid }, { transaction });
          const victims = await P.Invoice.findAll({ where: { worker: w }, order: [['id', 'ASC']], limit: env.perTxn, transaction });
          await P.Invoice.destroy({ where: { id: victims.map((v) => v.id) }, transaction });
        });
      }
    };
    await Promise.all(Array.from({ length: env.workers }, (_, i) => worker(i + 1)));

    // Sequelize's own cascade (hooks: true) deletes each invoice, then the customer: one transaction.
    const customer = await D.Customer.create({ name: 'cascade' });
    await D.Invoice.bulkCreate([1, 2, 3].map(() => ({ customerId: customer.id, worker: 0 })));
    // recipe: node-sequelize-usage
    await withSequelizeDeletionContext(pooled, { actor: 'cascade', reason: 'orm cascade' }, async (transaction) => {
      const c = await P.Customer.findByPk(customer.id, { transaction });
      await c.destroy({ transaction }); // hooks: true destroys its invoices, in the same transaction
    });
    // end recipe
    const [groups] = await direct.query(
      "select count(*)::int as n, count(distinct xact_id::text)::int as xacts from deleted_record where actor = 'cascade'");
    check("Sequelize's cascade (hooks: true) archives the customer and its 3 invoices with one xact_id",
      groups[0].n === 4 && groups[0].xacts === 1, show(groups[0]));

    // Undelete the customer and its invoices (through the pooler), loaded back with Sequelize.
    const undone = await undeleteCustomer(pooled, P, customer.id);
    check('undelete by xact_key restores the customer and its 3 invoices; Sequelize loads them back',
      undone.outcomes.length === 4 && undone.outcomes.every((o) => o.outcome === 'restored') &&
      undone.customer !== null && undone.customer.name === 'cascade' && undone.customer.invoices.length === 3,
      show(undone.outcomes), show(undone.customer));
    // By xact_id as the model reads it (BIGINT attribute: a BigInt or a string), bound untyped.
    await withSequelizeDeletionContext(pooled, { actor: 'again', reason: 'undelete by xact_id' }, async (transaction) => {
      const c = await P.Customer.findByPk(customer.id, { transaction });
      await c.destroy({ transaction });
    });
    const again = await D.DeletedRecord.findOne({ where: { table_name: 'customers', object_id: String(customer.id), restored_at: null } });
    const [byId] = await pooled.query('select outcome from deleted_record_restore_transaction($1)', { bind: [again.xact_id] });
    check(`undelete by xact_id (a ${typeof again.xact_id} bound untyped) restores the customer and its invoices again`,
      byId.length === 4 && byId.every((o) => o.outcome === 'restored') &&
      (await P.Invoice.count({ where: { customerId: customer.id } })) === 3, show(byId));

    // require_context: a delete without context is Sequelize's DatabaseError around code 55000.
    const victim = await D.Invoice.create({ worker: 0, amount: AMOUNT, big: BIG });
    const err = await rejection(() => P.Invoice.destroy({ where: { id: victim.id } }));
    check('a delete without context is a Sequelize DatabaseError whose original error has code 55000',
      err instanceof Sequelize.DatabaseError && err.original && err.original.code === '55000',
      err && `${err.name}: ${err.original && err.original.code} ${err.message}`);
    check('the rejected delete left its row in place', (await D.Invoice.findByPk(victim.id)) !== null);

    // The numbers of `data`: the JSONB attribute is JSON.parse'd and rounds to doubles.
    await withSequelizeDeletionContext(pooled, { actor: 'numbers', reason: 'precision check' },
      (transaction) => P.Invoice.destroy({ where: { id: victim.id }, transaction }));
    const where = { table_name: 'invoices', object_id: String(victim.id) };
    const record = await D.DeletedRecord.findOne({ where });
    check(`data as JSON loses precision: bigint ${BIG} and numeric ${AMOUNT} come back rounded`,
      String(record.data.big) !== BIG && String(record.data.amount) !== AMOUNT, show(record.data));
    const [[text]] = await direct.query(
      "select data->>'big' as big, data->>'amount' as amount from deleted_record where object_id = $1 and table_name = 'invoices'",
      { bind: [String(victim.id)] });
    check("data->>'col' is exact", text.big === BIG && text.amount === AMOUNT, show(text));
    const typed = await direct.query(
      "select (jsonb_populate_record(null::invoices, data)).* from deleted_record where object_id = $1 and table_name = 'invoices'",
      { bind: [String(victim.id)], model: D.Invoice, mapToModel: true });
    check('jsonb_populate_record(null::invoices, data) mapped to the Invoice model is exact',
      typed.length === 1 && String(typed[0].big) === BIG && String(typed[0].amount) === AMOUNT, show(typed[0]));

    // The typed view through a read-only model: numeric as an exact string, int8 exact, no JSON.parse.
    // recipe: node-sequelize-typed-read
    const deleted = await D.DeletedInvoice.findOne({
      where: { archive_object_id: String(victim.id), archive_restored_at: null }, // indexed: the key as text
    });
    // end recipe
    check("the typed view's model reads the deleted invoice with exact numerics and no decoder",
      deleted !== null && String(deleted.amount) === AMOUNT && String(deleted.big) === BIG &&
      String(deleted.invoiceId) === String(victim.id) && deleted.archive_actor === 'numbers', show(deleted));
    const reread = await D.DeletedInvoice.findByPk(deleted.archive_id);
    await reread.reload();
    check("the typed view's model finds a row by its key (archive_id) and reloads it",
      reread.archive_id === deleted.archive_id && String(reread.amount) === AMOUNT, show(reread));
    const found = await D.DeletedRecord.findByPk(deleted.archive_id);
    await found.reload();
    check('the archive model (primaryKey: true on id) finds a row by its id and reloads it',
      found.object_id === String(victim.id) && found.table_name === 'invoices', show(found));

    // xact_id through the model's BIGINT attribute: an integer, without any type warning.
    check('xact_id reads as an integer through a BIGINT attribute',
      typeof record.xact_id === 'bigint' || Number.isSafeInteger(record.xact_id),
      `typeof ${typeof record.xact_id} (${show(record.xact_id)})`);
  } finally {
    await pooled.close();
    await direct.close();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
