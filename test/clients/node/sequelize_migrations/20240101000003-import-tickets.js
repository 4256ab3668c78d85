// A sequelize-cli migration: off soft deletion (Sequelize's paranoid deletedAt), the soft-deleted
// tickets move to the archive. sequelize-cli runs it outside a transaction, as the import needs.
'use strict';

// recipe: node-sequelize-import-migration
module.exports = {
  async up(queryInterface) {
    const { sequelize } = queryInterface;
    await sequelize.query(`select deleted_record_attach('tickets', retention => '30 days',
                             exclude_columns => '{deletedAt,deletedBy,deleteReason}')`);
    await sequelize.query("select deleted_record_view('tickets')"); // tickets_deleted
    // Each row gets the actor and reason of its own columns: enough under require_context.
    await sequelize.query(`call deleted_record_import('tickets', '"deletedAt" IS NOT NULL', deleted_at => '"deletedAt"',
                             actor => '"deletedBy"', reason => '"deleteReason"', batch_size => 2)`);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query('drop view tickets_deleted');
    await queryInterface.sequelize.query("select deleted_record_detach('tickets')");
  },
};
// end recipe
