// A Knex migration: the application's table, attached to the archive.
'use strict';

// recipe: node-knex-migration
exports.up = async (knex) => {
  await knex.schema.createTable('invoice', (t) => {
    t.bigIncrements('id');
    t.integer('worker').notNullable();
    t.decimal('amount', 30, 10);
    t.bigInteger('big');
  });
  await knex.raw('create extension if not exists deleted_record'); // a no-op when the DBA made it
  await knex.raw("select deleted_record_attach('invoice')");
};

exports.down = async (knex) => {
  await knex.raw("select deleted_record_detach('invoice')");
  await knex.schema.dropTable('invoice');
};
// end recipe
