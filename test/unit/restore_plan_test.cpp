// Unit tests for restore planning: foreign-key order (cascades, several parents, self
// references, cycles), column mapping (added, dropped, generated, identity, masked columns).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "core/boundary.hpp"
#include "core/restore_plan.hpp"

using namespace deleted_record;

namespace {

RestoreTable Table(const std::string& name, std::vector<std::string> columns, std::vector<std::string> keys = {}) {
  RestoreTable table;
  table.name = name;
  for (auto& column : columns) table.columns.push_back({column, false, 0});
  table.data_keys = keys.empty() ? columns : keys;
  return table;
}

std::vector<std::string> Order(const RestorePlan& plan, const std::vector<RestoreTable>& tables) {
  std::vector<std::string> names;
  for (const auto& step : plan.steps) names.push_back(tables[step.table].name);
  return names;
}

std::size_t Position(const std::vector<std::string>& order, const std::string& name) {
  return std::find(order.begin(), order.end(), name) - order.begin();
}

}  // namespace

TEST(RestorePlan, ParentsComeFirstWhateverOrderTheyAreGiven) {
  // invoice_line -> invoice -> customer, given children first.
  std::vector<RestoreTable> tables = {Table("invoice_line", {"id", "invoice_id"}), Table("invoice", {"id", "customer_id"}),
                                      Table("customer", {"id"})};
  std::vector<RestoreForeignKey> keys = {{0, 1, "line_invoice", false}, {1, 2, "invoice_customer", false}};
  auto plan = std::get<RestorePlan>(PlanRestore(tables, keys));
  EXPECT_EQ(Order(plan, tables), (std::vector<std::string>{"customer", "invoice", "invoice_line"}));
  EXPECT_TRUE(plan.deferred_keys.empty());
}

TEST(RestorePlan, SeveralParentsAndUnrelatedTables) {
  std::vector<RestoreTable> tables = {Table("order_item", {"id"}), Table("product", {"id"}), Table("orders", {"id"}),
                                      Table("note", {"id"}), Table("customer", {"id"})};
  std::vector<RestoreForeignKey> keys = {{0, 1, "item_product", false}, {0, 2, "item_order", false},
                                         {2, 4, "order_customer", false}};
  auto plan = std::get<RestorePlan>(PlanRestore(tables, keys));
  auto order = Order(plan, tables);
  ASSERT_EQ(order.size(), 5u);
  EXPECT_LT(Position(order, "product"), Position(order, "order_item"));
  EXPECT_LT(Position(order, "orders"), Position(order, "order_item"));
  EXPECT_LT(Position(order, "customer"), Position(order, "orders"));
}

TEST(RestorePlan, SelfReferencesNeedNoOrder) {
  // employee -> employee (manager): one INSERT; PostgreSQL checks the key at its end.
  std::vector<RestoreTable> tables = {Table("employee", {"id", "manager_id"})};
  std::vector<RestoreForeignKey> keys = {{0, 0, "employee_manager", false}};
  auto plan = std::get<RestorePlan>(PlanRestore(tables, keys));
  ASSERT_EQ(plan.steps.size(), 1u);
  EXPECT_TRUE(plan.deferred_keys.empty());
}

TEST(RestorePlan, CyclesNeedDeferrableKeys) {
  std::vector<RestoreTable> tables = {Table("a", {"id", "b_id"}), Table("b", {"id", "a_id"}), Table("c", {"id", "a_id"})};
  std::vector<RestoreForeignKey> keys = {{0, 1, "a_b", true}, {1, 0, "b_a", false}, {2, 0, "c_a", false}};
  auto problem = std::get<RestoreProblem>(PlanRestore(tables, keys));
  EXPECT_EQ(problem.message,
            "tables b and a reference each other, and foreign key b_a is not DEFERRABLE, so neither can be restored first");
  keys[1].deferrable = true;
  auto plan = std::get<RestorePlan>(PlanRestore(tables, keys));
  EXPECT_EQ(plan.deferred_keys, (std::vector<std::size_t>{0, 1}));
  auto order = Order(plan, tables);
  EXPECT_EQ(order.back(), "c") << "c references the cycle, so it comes after it";
}

TEST(RestorePlan, ColumnsByNameIntoTodaysTable) {
  RestoreTable table;
  table.name = "t";
  table.columns = {{"id", false, 'a'}, {"added_later", false, 0}, {"total", false, 0}, {"doubled", true, 0}};
  table.data_keys = {"id", "total", "doubled"};  // archived before added_later existed
  auto plan = std::get<RestorePlan>(PlanRestore({table}, {}));
  ASSERT_EQ(plan.steps.size(), 1u);
  EXPECT_EQ(plan.steps[0].columns, (std::vector<std::size_t>{0, 2})) << "added_later gets its default, doubled is computed";
  EXPECT_TRUE(plan.steps[0].overriding_system_value) << "GENERATED ALWAYS identity keeps the archived value";
}

TEST(RestorePlan, ValuesWithoutAColumnOrMaskedAreRefused) {
  RestoreTable table = Table("t", {"id", "name"}, {"id", "name", "dropped"});
  auto problem = std::get<RestoreProblem>(PlanRestore({table}, {}));
  EXPECT_EQ(problem.column, "dropped");
  EXPECT_EQ(problem.message, "table t has no column \"dropped\" any more: the archived value would be lost");
  table = Table("t", {"id", "email"});
  table.masked_keys = {"email"};
  problem = std::get<RestoreProblem>(PlanRestore({table}, {}));
  EXPECT_EQ(problem.column, "email");
  EXPECT_EQ(*problem.table, 0u);
  // A masked column that was also excluded later (absent from data) is no problem.
  table.data_keys = {"id"};
  EXPECT_TRUE(std::holds_alternative<RestorePlan>(PlanRestore({table}, {})));
}

TEST(RestorePlan, ConflictPolicies) {
  EXPECT_EQ(ParseConflictPolicy("error"), ConflictPolicy::kError);
  EXPECT_EQ(ParseConflictPolicy("skip"), ConflictPolicy::kSkip);
  EXPECT_FALSE(ParseConflictPolicy("ignore"));
  ConflictPolicy policy;
  auto verdict = boundary::ParseConflictPolicy("Skip", &policy);
  EXPECT_FALSE(verdict.ok);
  EXPECT_STREQ(verdict.message, "allowed values are 'error', 'skip'");
}

TEST(RestorePlan, MaskedPolicies) {
  EXPECT_EQ(ParseMaskedPolicy("error"), MaskedPolicy::kError);
  EXPECT_EQ(ParseMaskedPolicy("null"), MaskedPolicy::kNull);
  EXPECT_FALSE(ParseMaskedPolicy("NULL"));
  EXPECT_FALSE(ParseMaskedPolicy(""));
  MaskedPolicy policy = MaskedPolicy::kError;
  auto verdict = boundary::ParseMaskedPolicy("default", &policy);
  EXPECT_FALSE(verdict.ok);
  EXPECT_STREQ(verdict.message, "allowed values are 'error', 'null'");
  EXPECT_TRUE(boundary::ParseMaskedPolicy("null", &policy).ok);
  EXPECT_EQ(policy, MaskedPolicy::kNull);
}

TEST(Boundary, RestorePlansCrossAsPlainDataIntoTheCallersBuffers) {
  // The glue's buffers: facts in, decisions written beside them; nothing to free afterwards.
  boundary::RestoreColumnPlan parent_columns[] = {{"id", false, 0, true}};
  boundary::RestoreColumnPlan child_columns[] = {{"id", false, 'a', false}, {"parent_id", false, 0, false},
                                                 {"total", true, 0, true}};
  const char* parent_keys[] = {"id"};
  const char* child_keys[] = {"id", "parent_id", "total"};
  boundary::RestoreTablePlan tables[] = {{"child", 3, child_columns, {3, child_keys}, {0, nullptr}, false},
                                         {"parent", 1, parent_columns, {1, parent_keys}, {0, nullptr}, true}};
  boundary::RestoreKeyPlan keys[] = {{0, 1, "child_parent", false, true}};
  int order[2] = {-1, -1};
  boundary::RestorePlanProblem problem;
  auto verdict = boundary::PlanRestore(tables, 2, keys, 1, order, &problem);
  ASSERT_TRUE(verdict.ok) << verdict.message;
  EXPECT_EQ(order[0], 1) << "the parent first";
  EXPECT_EQ(order[1], 0);
  EXPECT_TRUE(child_columns[0].inserted);
  EXPECT_TRUE(child_columns[1].inserted);
  EXPECT_FALSE(child_columns[2].inserted) << "a generated column is computed, never inserted";
  EXPECT_TRUE(tables[0].overriding_system_value) << "GENERATED ALWAYS identity keeps the archived value";
  EXPECT_FALSE(tables[1].overriding_system_value);
  EXPECT_TRUE(parent_columns[0].inserted);
  EXPECT_FALSE(keys[0].deferred) << "a key outside a cycle is checked as usual";

  // A cycle of deferrable keys: both are deferred to the end of the restore.
  boundary::RestoreKeyPlan cycle[] = {{0, 1, "child_parent", true, false}, {1, 0, "parent_child", true, false}};
  verdict = boundary::PlanRestore(tables, 2, cycle, 2, order, &problem);
  ASSERT_TRUE(verdict.ok) << verdict.message;
  EXPECT_TRUE(cycle[0].deferred);
  EXPECT_TRUE(cycle[1].deferred);

  const char* bad_keys[] = {"id", "gone"};
  tables[1].data_keys = {2, bad_keys};
  verdict = boundary::PlanRestore(tables, 2, keys, 1, order, &problem);
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(problem.table, 1);
  EXPECT_STREQ(problem.column, "gone");
  EXPECT_STREQ(verdict.message, "table parent has no column \"gone\" any more: the archived value would be lost");
}
