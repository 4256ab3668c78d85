// A Knex migration: off soft deletion, the soft-deleted tickets move to the archive.
'use strict';

// recipe: node-knex-import-migration
// The import commits after each batch: not inside the migration's transaction.
exports.config = { transaction: false };

exports.up = async (knex) => {
  await knex.raw("select deleted_record_attach('ticket', retention => '30 days', " +
                 "exclude_columns => '{deleted_at,deleted_by,delete_reason}')");
  await knex.raw("select deleted_record_view('ticket')"); // ticket_deleted
  // require_context wants a session context for the import, though each row gets the actor and
  // reason of its own columns: set and cleared in the import's own statement (a DO block: one
  // connection, although a pool may give consecutive statements different ones; the import still
  // commits each batch). Should the import fail halfway, the context stays set on that connection:
  // this runs on the migrations' direct connection, closed after them, never through the pooler.
  await knex.raw(`do $$ declare moved bigint; begin
    perform set_config('deleted_record.actor', 'knex migration', false),
            set_config('deleted_record.reason', 'off soft deletion', false);
    call deleted_record_import('ticket', 'deleted_at IS NOT NULL', deleted_at => 'deleted_at',
                               actor => 'deleted_by', reason => 'delete_reason', batch_size => 2, moved => moved);
    perform set_config('deleted_record.actor', '', false), set_config('deleted_record.reason', '', false);
  end $$`);
};

exports.down = async (knex) => {
  await knex.raw('drop view ticket_deleted');
  await knex.raw("select deleted_record_detach('ticket')");
};
// end recipe
