// A sequelize-cli migration: the application's tables, attached to the archive. The foreign key
// has no ON DELETE CASCADE: Sequelize cascades itself (hasMany ... hooks: true).
'use strict';

// recipe: node-sequelize-migration
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('customers', {
      id: { type: Sequelize.BIGINT, primaryKey: true, autoIncrement: true },
      name: { type: Sequelize.TEXT },
    });
    await queryInterface.createTable('invoices', {
      id: { type: Sequelize.BIGINT, primaryKey: true, autoIncrement: true },
      customerId: { type: Sequelize.BIGINT, references: { model: 'customers', key: 'id' } },
      worker: { type: Sequelize.INTEGER, allowNull: false },
      amount: { type: Sequelize.DECIMAL(30, 10) },
      big: { type: Sequelize.BIGINT },
    });
    await queryInterface.sequelize.query('create extension if not exists deleted_record');
    await queryInterface.sequelize.query("select deleted_record_attach('customers')");
    await queryInterface.sequelize.query("select deleted_record_attach('invoices')");
  },
  async down(queryInterface) {
    await queryInterface.dropTable('invoices');
    await queryInterface.dropTable('customers');
  },
};
// end recipe
