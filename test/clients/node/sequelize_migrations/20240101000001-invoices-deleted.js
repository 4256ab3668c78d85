// A sequelize-cli migration: the typed view of deleted invoices, made by the table's owner.
'use strict';

// recipe: node-sequelize-typed-view-migration
module.exports = {
  async up(queryInterface) {
    await queryInterface.sequelize.query("select deleted_record_view('invoices')"); // invoices_deleted, read-only
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query('drop view invoices_deleted');
  },
};
// end recipe
