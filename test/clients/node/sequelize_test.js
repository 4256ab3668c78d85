// Sequelize 6 through pgbouncer in transaction mode: see test/shell/clients.sh.
'use strict';
const { Sequelize, DataTypes } = require('sequelize');
const { withSequelizeDeletionContext } = require('./deletion_context');
const migration = require('./sequelize_migrations/20240101000000-invoices');
const viewMigration = require('./sequelize_migrations/20240101000001-invoices-deleted');
const { check, show, rejection, context, env, BIG, AMOUNT } = require('./tap');

const STACK = 'sequelize';
const connect = (port, pool) => new Sequelize('sequelize_app', 'app', null,
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
  return { Customer, Invoice, TxLog, DeletedRecord, DeletedInvoice };
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

async function main() {
  const direct = connect(env.direct);
  const pooled = connect(env.bouncer, { max: env.workers, min: 0 });
  const D = define(direct);
  const P = define(pooled);
  try {
    await migration.up(direct.getQueryInterface(), Sequelize);
    await viewMigration.up(direct.getQueryInterface(), Sequelize);
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
