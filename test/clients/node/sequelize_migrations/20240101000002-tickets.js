// A sequelize-cli migration: the soft-deleting tickets table, as the application had it.
'use strict';

module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('tickets', {
      id: { type: Sequelize.BIGINT, primaryKey: true, autoIncrement: true },
      title: { type: Sequelize.TEXT, allowNull: false },
      amount: { type: Sequelize.DECIMAL(30, 10), allowNull: false },
      deletedAt: { type: Sequelize.DATE },
      deletedBy: { type: Sequelize.TEXT },
      deleteReason: { type: Sequelize.TEXT },
    });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('tickets');
  },
};
