// Planning a restore: which tables get rows in which order (parents before children, by their
// foreign keys), which columns each INSERT names, which constraints must wait until the end,
// and what makes the restore impossible. Pure logic over facts the glue read from the catalog.
#pragma once
#include "core/choices.hpp"
#include "core/no_postgres.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace deleted_record {

// ParseConflictPolicy reads 'error' or 'skip'.
std::optional<ConflictPolicy> ParseConflictPolicy(std::string_view text);

// ParseMaskedPolicy reads 'error' or 'null'.
std::optional<MaskedPolicy> ParseMaskedPolicy(std::string_view text);

struct RestoreColumn {
  std::string name;
  bool generated = false;  // computed by the table: never inserted
  char identity = 0;       // 'a' GENERATED ALWAYS, 'd' BY DEFAULT, 0 none
};

struct RestoreTable {
  std::string name;                       // for messages
  std::vector<RestoreColumn> columns;     // today's columns
  std::vector<std::string> data_keys;     // every key of the archived rows' data
  std::vector<std::string> masked_keys;   // keys that were masked when the rows were archived
};

// RestoreForeignKey: table `from` references table `to` (indices into the tables).
struct RestoreForeignKey {
  std::size_t from = 0;
  std::size_t to = 0;
  std::string name;
  bool deferrable = false;
};

struct RestoreStep {
  std::size_t table = 0;
  std::vector<std::size_t> columns;  // indices into the table's columns, in table order
  bool overriding_system_value = false;
};

struct RestorePlan {
  std::vector<RestoreStep> steps;             // parents first
  std::vector<std::size_t> deferred_keys;     // foreign keys (indices) to check at the end
};

// RestoreProblem says why a restore cannot be planned; column is set when one column is the
// cause, table when one table is.
struct RestoreProblem {
  std::optional<std::size_t> table;
  std::string column;
  std::string message;
};

// PlanRestore orders the tables and decides each INSERT's columns.
std::variant<RestorePlan, RestoreProblem> PlanRestore(const std::vector<RestoreTable>& tables,
                                                      const std::vector<RestoreForeignKey>& foreign_keys);

}  // namespace deleted_record
