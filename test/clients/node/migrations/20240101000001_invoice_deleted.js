// A Knex migration: the typed view of deleted invoices, made by the table's owner.
'use strict';

// recipe: node-knex-typed-view-migration
exports.up = async (knex) => {
  await knex.raw("select deleted_record_view('invoice')"); // invoice_deleted, read-only
};

exports.down = async (knex) => {
  await knex.raw('drop view invoice_deleted');
};
// end recipe
