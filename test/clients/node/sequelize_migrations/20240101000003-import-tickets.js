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
    // require_context wants a session context for the import, though each row gets the actor and
    // reason of its own columns: set and cleared in the import's own statement (a DO block: one
    // connection, although a pool may give consecutive statements different ones; the import still
    // commits each batch). Should the import fail halfway, the context stays set on that connection:
    // this runs on the migrations' direct connection, closed after them, never through the pooler.
    await sequelize.query(`do $$ declare moved bigint; begin
      perform set_config('deleted_record.actor', 'sequelize migration', false),
              set_config('deleted_record.reason', 'off soft deletion', false);
      call deleted_record_import('tickets', '"deletedAt" IS NOT NULL', deleted_at => '"deletedAt"',
                                 actor => '"deletedBy"', reason => '"deleteReason"', batch_size => 2, moved => moved);
      perform set_config('deleted_record.actor', '', false), set_config('deleted_record.reason', '', false);
    end $$`);
  },
  async down(queryInterface) {
    await queryInterface.sequelize.query('drop view tickets_deleted');
    await queryInterface.sequelize.query("select deleted_record_detach('tickets')");
  },
};
// end recipe
