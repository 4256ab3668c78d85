// Deletion context for Knex and Sequelize (node-postgres): the recipes of test/clients/RECIPES.md.
'use strict';
const pg = require('pg');

// recipe: node-knex
// Runs fn(trx) in a Knex transaction whose deletes are archived with this actor, reason and
// metadata. The context is set inside the transaction, so it ends with it: safe behind a
// transaction-pooling pgbouncer, and never seen by another request.
async function withDeletionContext(knex, { actor, reason, metadata = null }, fn) {
  return knex.transaction(async (trx) => {
    await trx.raw('select deleted_record_set_context(?, ?, ?::jsonb)',
                  [actor, reason, metadata === null ? null : JSON.stringify(metadata)]);
    return fn(trx);
  });
}
// end recipe

// recipe: node-sequelize
// The same for Sequelize: fn(transaction) must pass { transaction } to every query it makes.
async function withSequelizeDeletionContext(sequelize, { actor, reason, metadata = null }, fn) {
  return sequelize.transaction(async (transaction) => {
    await sequelize.query('select deleted_record_set_context($1, $2, $3::jsonb)', {
      bind: [actor, reason, metadata === null ? null : JSON.stringify(metadata)],
      transaction,
    });
    return fn(transaction);
  });
}
// end recipe

// recipe: node-int8
// node-postgres returns int8 columns (xact_id too) as strings; this makes them exact BigInts.
pg.types.setTypeParser(pg.types.builtins.INT8, (text) => BigInt(text));
// end recipe

module.exports = { withDeletionContext, withSequelizeDeletionContext };
