// A Knex migration: off soft deletion, the soft-deleted tickets move to the archive.
'use strict';

// recipe: node-knex-import-migration
// The import commits after each batch: not inside the migration's transaction.
exports.config = { transaction: false };

exports.up = async (knex) => {
  await knex.raw("select deleted_record_attach('ticket', retention => '30 days', " +
                 "exclude_columns => '{deleted_at,deleted_by,delete_reason}')");
  await knex.raw("select deleted_record_view('ticket')"); // ticket_deleted
  // Each row gets the actor and reason of its own columns: enough under require_context.
  await knex.raw("call deleted_record_import('ticket', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at', " +
                 "actor => 'deleted_by', reason => 'delete_reason', batch_size => 2)");
};

exports.down = async (knex) => {
  await knex.raw('drop view ticket_deleted');
  await knex.raw("select deleted_record_detach('ticket')");
};
// end recipe
