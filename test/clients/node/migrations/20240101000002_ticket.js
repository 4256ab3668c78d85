// A Knex migration: the soft-deleting ticket table, as the application had it before the archive.
'use strict';

exports.up = async (knex) => {
  await knex.schema.createTable('ticket', (t) => {
    t.bigIncrements('id');
    t.text('title').notNullable();
    t.decimal('amount', 30, 10).notNullable();
    t.timestamp('deleted_at', { useTz: true });
    t.text('deleted_by');
    t.text('delete_reason');
  });
};

exports.down = async (knex) => {
  await knex.schema.dropTable('ticket');
};
