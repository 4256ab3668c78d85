// Knex (node-postgres) through pgbouncer in transaction mode: see test/shell/clients.sh.
'use strict';
const path = require('path');
const Knex = require('knex');
const { DatabaseError } = require('pg');
const { withDeletionContext } = require('./deletion_context');
const { check, show, rejection, context, env, BIG, AMOUNT } = require('./tap');

const STACK = 'knex';
const connection = (port, user = 'app') => ({ host: '127.0.0.1', port, user, database: 'knex_app' });
const DIRECTORY = path.join(__dirname, 'migrations');

// recipe: node-knex-undelete
// Undelete invoice `id`: restore everything the transaction that deleted it archived (cascades
// included), named by that transaction's xact_key, a string: node-postgres sends it untyped, as
// every parameter, and it finds the text version of deleted_record_restore_transaction. An
// xact_id as the application holds it (a string, or a BigInt) works the same way.
async function undeleteInvoice(knex, id) {
  const { xact_key: xactKey } = await knex('deleted_record')
    .where({ table_name: 'invoice', object_id: String(id) }).whereNull('restored_at')
    .orderBy('id', 'desc').first('xact_key');
  const { rows } = await knex.raw('select * from deleted_record_restore_transaction(?)', [xactKey]);
  return { outcomes: rows.map((r) => r.outcome), invoice: await knex('invoice').where({ id }).first() };
}
// end recipe

// The import from soft deletion (migration 20240101000003), legal holds as the counsel role
// through the pooler, and the archive's statistics for the imported table.
async function importHoldsStats(direct, pooled) {
  const soft = [1, 2, 3, 4, 5].map((day) => new Date(Date.UTC(2025, 5, day, 10, 0)));
  const amounts = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `12345678901234567890.012345678${i}`);
  const ids = [];
  for (let i = 0; i < 8; i++) {
    const [{ id }] = await direct('ticket').insert({
      title: `ticket ${i}`, amount: amounts[i], deleted_at: i < 5 ? soft[i] : null,
      deleted_by: i < 5 ? `support:${i}` : null, delete_reason: i < 5 ? `duplicate ${i}` : null,
    }).returning('id');
    ids.push(id);
  }
  // The migrations' connection runs under require_context, with no session context: the import's
  // actor and reason expressions alone must satisfy it.
  const session = (await direct.raw("select current_setting('deleted_record.require_context') as required, " +
    "coalesce(current_setting('deleted_record.actor', true), '') as actor, coalesce(current_setting('deleted_record.reason', true), '') as reason")).rows;
  check('the migrations connect under require_context = actor_and_reason, with no session actor or reason',
    show(session) === show([{ required: 'actor_and_reason', actor: '', reason: '' }]), show(session));
  await direct.migrate.latest({ directory: DIRECTORY }); // call deleted_record_import(...), batches of 2
  const live = (await pooled('ticket').orderBy('id').pluck('id'));
  check('the import migration left only the 3 live tickets in the table', show(live) === show(ids.slice(5)), show(live));
  // recipe: node-knex-import-read
  // The imported tickets through their typed view: numeric as exact strings, int8 as BigInt.
  const migrated = await pooled('ticket_deleted').whereNull('archive_restored_at').orderBy('id');
  // end recipe
  const got = migrated.map((t) => [t.id, t.amount, t.archive_deleted_at.toISOString(), t.archive_actor, t.archive_reason]);
  const want = [0, 1, 2, 3, 4].map((i) => [ids[i], amounts[i], soft[i].toISOString(), `support:${i}`, `duplicate ${i}`]);
  check("the typed view reads the 5 imported tickets: exact amounts, their own deletion time, actor and reason",
    show(got) === show(want), show(got));
  const [first, held] = migrated;
  const restored = await pooled.raw('select outcome from deleted_record_restore(array[?]::uuid[])', [first.archive_id]);
  const back = await pooled('ticket').where({ id: first.id }).first();
  const marked = await pooled('ticket_deleted').where({ archive_id: first.archive_id }).first();
  check('an imported ticket is undeleted: live again with its exact amount and no deleted_at',
    restored.rows.map((r) => r.outcome).join() === 'restored' && back !== undefined && back.amount === amounts[0] &&
    back.deleted_at === null && marked.archive_restored_at !== null, show(restored.rows), show(back));

  const denied = await rejection(() => pooled.raw("select deleted_record_hold('by-app', 'no grant', for_table => 'ticket')"));
  check("the app role (not granted holds) placing one is rejected with node-postgres' DatabaseError, err.code 42501",
    denied instanceof DatabaseError && denied.code === '42501', denied && `${denied.code}: ${denied.message}`);
  // Legal hold on the second imported ticket, as counsel through the pooler.
  // recipe: node-knex-hold
  const counsel = Knex({ client: 'pg', connection: connection(env.bouncer, 'counsel') });
  await counsel.raw("select deleted_record_hold(?, ?, for_table => 'ticket', for_object => ?)",
                    ['case-knex', 'Litigation hold, letter of 2 November 2026', String(held.id)]);
  const inPlace = await counsel('deleted_record_holds').whereNull('released_at');
  // end recipe
  try {
    const holds = inPlace.map((h) => [h.name, h.table_name, h.object_id, h.held_by]);
    check('counsel places a hold; Knex reads deleted_record_holds',
      show(holds) === show([['case-knex', 'ticket', String(ids[1]), 'counsel']]), show(holds));
    const erase = () => counsel.raw("select count(*) from deleted_record_erase(array[?]::uuid[], 'GDPR erasure request #4711')",
                                    [held.archive_id]);
    const err = await rejection(erase);
    check("erasing the held ticket is rejected with node-postgres' DatabaseError, err.code 55000, naming the hold",
      err instanceof DatabaseError && err.code === '55000' && err.message.includes('"case-knex"'), err && `${err.code}: ${err.message}`);
    await counsel.raw("select deleted_record_release('case-knex')");
    await erase();
    const released = await counsel('deleted_record_holds').where({ name: 'case-knex' }).first();
    const gone = (await pooled('ticket_deleted').where({ archive_id: held.archive_id })).length === 0;
    check('after counsel releases it the hold is history (released_by counsel) and the erasure goes through',
      released.released_by === 'counsel' && released.released_at instanceof Date && gone, show(released));
  } finally {
    await counsel.destroy();
  }

  // The archive's statistics for the ticket table: 4 archive rows (5 imported, 1 erased), 1 restored.
  // recipe: node-knex-stats
  const tickets = await pooled('deleted_record_stats')
    .where({ kind: 'table', schema_name: 'public', table_name: 'ticket' }).first();
  // end recipe
  const figures = tickets && [tickets.schema_name, tickets.table_name, tickets.rows_archived, tickets.rows_restored, tickets.rows_erased,
    tickets.oldest_deleted_at.toISOString(), tickets.newest_deleted_at.toISOString(), tickets.retention.toPostgres(),
    tickets.rows_awaiting_purge, tickets.estimated];
  check('deleted_record_stats reads typed for the ticket table: int8 counts as BigInt, deletion times, retention',
    show(figures) === show(['public', 'ticket', 4n, 1n, 1n, soft[0].toISOString(), soft[4].toISOString(), '30 days', 0n, false]) &&
    typeof tickets.bytes === 'bigint' && tickets.bytes > 0n, show(figures));
  const partitions = await pooled('deleted_record_stats').where({ kind: 'partition' });
  const periods = partitions.filter((p) => p.period_from !== null); // the default partition has none
  check("and the archive's partitions, each with its name and size, the monthly ones with their period",
    periods.length > 0 && partitions.every((p) => typeof p.partition_name === 'string' && p.bytes > 0n &&
      p.schema_name === null && p.table_name === null) &&
    periods.every((p) => p.period_from < p.period_until), show(partitions));
}

// An import whose third batch waits for a row lock the test holds: its progress, as it stands then,
// is the import's line in deleted_record_progress. Through the pooler, under require_context: the
// actor and reason are the import's own (quoted constants), no session context.
const PROGRESS_IMPORT = (table) => `call deleted_record_import('${table}', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at',
  actor => '''jobs''', reason => '''expired''', batch_size => 2)`;

async function progress(direct, pooled) {
  await direct.raw('create table job (id int primary key, deleted_at timestamptz)');
  await direct.raw("insert into job select i, '2025-06-01 10:00+00' from generate_series(1, 6) i");
  await direct.raw("select deleted_record_attach('job')");
  const lock = await direct.transaction();
  await lock.raw('select id from job where id = 6 for update'); // the third batch waits for it
  const importing = pooled.raw(PROGRESS_IMPORT('job')).then(() => null, (err) => err);
  let running;
  for (let i = 0; i < 200; i++) {
    // recipe: node-knex-progress
    running = await pooled('deleted_record_progress').where('operation', 'like', 'import%').first();
    // end recipe
    if (running !== undefined && running.rows_done === 4n) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await lock.commit();
  const err = await importing;
  const got = running && [running.role_name, running.operation, running.rows_done, running.rows_total, running.rows_left,
    running.percent_done, typeof running.rows_per_second, running.started instanceof Date];
  check('while an import runs, Knex reads its line in deleted_record_progress: rows done, total, left, percent, rate',
    show(got) === show(['app', 'import job', 4n, 6n, 2n, '66.7', 'bigint', true]), show(got));
  const left = await pooled('deleted_record_progress').where('operation', 'like', 'import%');
  const [{ n }] = await pooled('deleted_record').where({ table_name: 'job', actor: 'jobs', reason: 'expired' }).count('* as n');
  check("the import then ran to its end: the table is empty, the progress line gone, every row with the import's actor and reason",
    err === null && left.length === 0 && n === 6n, err && err.message, show(left));
}

async function main() {
  const direct = Knex({ client: 'pg', connection: connection(env.direct) });
  // One client connection per worker; pgbouncer multiplexes them onto its few server connections.
  const pooled = Knex({ client: 'pg', connection: connection(env.bouncer), pool: { min: 0, max: env.workers } });
  try {
    for (let i = 0; i < 3; i++) await direct.migrate.up({ directory: DIRECTORY }); // up to the ticket table
    await importHoldsStats(direct, pooled);
    await progress(direct, pooled);
    for (let w = 1; w <= env.workers; w++) {
      await direct('invoice').insert(Array.from({ length: env.rows }, () => ({ worker: w, amount: '1.5', big: w })));
    }

    // Concurrent workers, each deleting its own rows with its own context, per transaction.
    const worker = async (w) => {
      for (let i = 0; i < env.txns; i++) {
        await withDeletionContext(pooled, context(STACK, w), async (trx) => {
          const { rows } = await trx.raw('select pg_backend_pid() as pid');
          await trx('txlog').insert({ worker: w, pid: rows[0].pid });
          await trx('invoice')
            .whereIn('id', trx('invoice').select('id').where({ worker: w }).orderBy('id').limit(env.perTxn))
            .del();
        });
      }
    };
    await Promise.all(Array.from({ length: env.workers }, (_, i) => worker(i + 1)));

    // require_context: a delete without context is rejected with node-postgres' error, code 55000,
    // even right after many context-setting transactions ran on the same server connections.
    const [{ id: victim }] = await direct('invoice').insert({ worker: 0, amount: AMOUNT, big: BIG }).returning('id');
    const err = await rejection(() => pooled('invoice').where({ id: victim }).del());
    check("a delete without context is rejected with node-postgres' DatabaseError, err.code 55000",
      err instanceof DatabaseError && err.code === '55000' && /requires/.test(err.message), err && `${err.code}: ${err.message}`);
    check('the rejected delete left its row in place',
      (await direct('invoice').where({ id: victim })).length === 1);

    // The numbers of `data`: JSON.parse (what node-postgres does with jsonb) rounds to doubles.
    // recipe: node-knex-usage
    await withDeletionContext(pooled, { actor: 'numbers', reason: 'precision check' }, async (trx) => {
      await trx('invoice').where({ id: victim }).del();
    });
    // end recipe
    const archived = () => direct('deleted_record').where({ table_name: 'invoice', object_id: String(victim) });
    const [{ data }] = await archived().select('data');
    check(`data as JSON loses precision: bigint ${BIG} and numeric ${AMOUNT} come back rounded`,
      String(data.big) !== BIG && String(data.amount) !== AMOUNT, show(data));
    const [text] = await archived().select(direct.raw("data->>'big' as big, data->>'amount' as amount"));
    check("data->>'col' is exact", text.big === BIG && text.amount === AMOUNT, show(text));
    // recipe: node-knex-read
    // The deleted row with its own column types, exact: no JSON.parse of its numbers.
    const [typed] = await direct('deleted_record')
      .where({ table_name: 'invoice', object_id: String(victim) })
      .select(direct.raw('(jsonb_populate_record(null::invoice, data)).*'));
    // end recipe
    check('jsonb_populate_record(null::invoice, data) is exact (int8 as BigInt, numeric as a string)',
      typed.big === BigInt(BIG) && typed.amount === AMOUNT, show(typed));

    // recipe: node-knex-typed-read
    // The deleted invoice through its typed view: numeric as an exact string, int8 as BigInt, no JSON.parse.
    const deleted = await direct('invoice_deleted').where({ archive_object_id: String(victim) }) // indexed: the key as text
      .whereNull('archive_restored_at').first();
    // end recipe
    check("the typed view reads the deleted invoice with exact numerics and no decoder",
      deleted !== undefined && deleted.amount === AMOUNT && deleted.big === BigInt(BIG) && deleted.archive_actor === 'numbers',
      show(deleted));
    const reread = await direct('invoice_deleted').where({ archive_id: deleted.archive_id }).first();
    const found = await direct('deleted_record').where({ id: deleted.archive_id }).first();
    check('the typed view and the archive find the row by its key (archive_id, the archive id) again',
      reread !== undefined && reread.amount === AMOUNT && reread.id === BigInt(victim) && found !== undefined &&
      found.object_id === String(victim), show(reread));

    // xact_id: an int8, so the int8 parser (deletion_context.js) makes it a BigInt.
    const res = await direct.raw('select xact_id from deleted_record limit 1');
    const xact = res.rows[0].xact_id;
    check('xact_id reads as an integer (int8, parsed as BigInt)', typeof xact === 'bigint',
      `typeof ${typeof xact} (${show(xact)}), type OID ${res.fields[0].dataTypeID}; int8 is OID 20`);

    // Undelete by xact_key through the pooler, and the invoice loaded back through Knex, exact.
    const undone = await undeleteInvoice(pooled, victim);
    check('undelete by xact_key (an untyped string parameter) restores the invoice; Knex loads it back exact',
      undone.outcomes.join() === 'restored' && undone.invoice !== undefined && undone.invoice.amount === AMOUNT &&
      undone.invoice.big === BigInt(BIG), show(undone));
    check('the archive row is marked restored',
      (await archived().whereNotNull('restored_at')).length === 1 && (await archived()).length === 1);
    // By xact_id as the application has it: a BigInt (with the int8 parser above), sent untyped.
    await withDeletionContext(pooled, { actor: 'again', reason: 'undelete by xact_id' }, async (trx) => {
      await trx('invoice').where({ id: victim }).del();
    });
    const [{ xact_id: again }] = await archived().whereNull('restored_at').select('xact_id');
    const byId = await pooled.raw('select outcome from deleted_record_restore_transaction(?)', [again]);
    check(`undelete by xact_id, a ${typeof again} parameter, restores the invoice again`,
      byId.rows.map((r) => r.outcome).join() === 'restored' &&
      (await pooled('invoice').where({ id: victim })).length === 1, show(byId.rows));

    // Outside a transaction (autocommit), the context would end with its own statement.
    const outside = await rejection(() => pooled.raw("select deleted_record_set_context('a', 'b')"));
    check('deleted_record_set_context outside a transaction is an error, not silently lost', outside !== null,
      'it returned without error');
  } finally {
    await pooled.destroy();
    await direct.destroy();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
