// Restore planning: column mapping by name, and a topological order of the tables by their
// foreign keys in which a cycle is allowed only when every key in it can be deferred.
#include "core/restore_plan.hpp"

#include <algorithm>
#include <functional>
#include <set>

namespace deleted_record {

namespace {

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// StronglyConnected returns, for each table, the index of its strongly connected component
// (Tarjan), over edges from -> to of foreign keys between distinct tables.
std::vector<std::size_t> StronglyConnected(std::size_t count, const std::vector<RestoreForeignKey>& keys) {
  std::vector<std::vector<std::size_t>> edges(count);
  for (const auto& key : keys)
    if (key.from != key.to) edges[key.from].push_back(key.to);
  std::vector<int> index(count, -1), low(count, 0);
  std::vector<bool> on_stack(count, false);
  std::vector<std::size_t> stack, component(count, 0);
  int next_index = 0;
  std::size_t next_component = 0;
  std::function<void(std::size_t)> visit = [&](std::size_t v) {
    index[v] = low[v] = next_index++;
    stack.push_back(v);
    on_stack[v] = true;
    for (std::size_t w : edges[v]) {
      if (index[w] < 0) {
        visit(w);
        low[v] = std::min(low[v], low[w]);
      } else if (on_stack[w]) {
        low[v] = std::min(low[v], index[w]);
      }
    }
    if (low[v] == index[v]) {
      std::size_t w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        component[w] = next_component;
      } while (w != v);
      next_component++;
    }
  };
  for (std::size_t v = 0; v < count; ++v)
    if (index[v] < 0) visit(v);
  return component;
}

}  // namespace

std::optional<ConflictPolicy> ParseConflictPolicy(std::string_view text) {
  if (text == "error") return ConflictPolicy::kError;
  if (text == "skip") return ConflictPolicy::kSkip;
  return std::nullopt;
}

std::optional<MaskedPolicy> ParseMaskedPolicy(std::string_view text) {
  if (text == "error") return MaskedPolicy::kError;
  if (text == "null") return MaskedPolicy::kNull;
  return std::nullopt;
}

std::variant<RestorePlan, RestoreProblem> PlanRestore(const std::vector<RestoreTable>& tables,
                                                      const std::vector<RestoreForeignKey>& foreign_keys) {
  RestorePlan plan;
  std::vector<RestoreStep> steps(tables.size());
  for (std::size_t t = 0; t < tables.size(); ++t) {
    const RestoreTable& table = tables[t];
    for (const auto& key : table.masked_keys)
      if (Contains(table.data_keys, key))
        return RestoreProblem{t, key,
                              "column \"" + key + "\" of table " + table.name +
                                  " was masked when the row was archived: its value is a hash and cannot be restored"};
    std::vector<std::string> names;
    for (const auto& column : table.columns) names.push_back(column.name);
    for (const auto& key : table.data_keys)
      if (!Contains(names, key))
        return RestoreProblem{t, key,
                              "table " + table.name + " has no column \"" + key +
                                  "\" any more: the archived value would be lost"};
    steps[t].table = t;
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      const RestoreColumn& column = table.columns[c];
      if (column.generated || !Contains(table.data_keys, column.name)) continue;  // computed, or its default applies
      steps[t].columns.push_back(c);
      if (column.identity == 'a') steps[t].overriding_system_value = true;
    }
  }

  // Components of the foreign-key graph: a cycle between tables can be restored only when every
  // foreign key inside it can be deferred to the end of the restore.
  std::vector<std::size_t> component = StronglyConnected(tables.size(), foreign_keys);
  std::vector<std::size_t> component_size(tables.size(), 0);
  for (std::size_t t = 0; t < tables.size(); ++t) component_size[component[t]]++;
  for (std::size_t k = 0; k < foreign_keys.size(); ++k) {
    const auto& key = foreign_keys[k];
    if (key.from == key.to || component[key.from] != component[key.to]) continue;
    if (!key.deferrable)
      return RestoreProblem{key.from, "",
                            "tables " + tables[key.from].name + " and " + tables[key.to].name +
                                " reference each other, and foreign key " + key.name +
                                " is not DEFERRABLE, so neither can be restored first"};
    plan.deferred_keys.push_back(k);
  }

  // Kahn's algorithm over components: a table waits for the tables it references (outside its
  // own component); among ready tables the earliest given goes first, for a stable order.
  std::vector<std::set<std::size_t>> waits_for(tables.size());
  for (const auto& key : foreign_keys)
    if (component[key.from] != component[key.to]) waits_for[key.from].insert(key.to);
  std::vector<bool> placed(tables.size(), false);
  for (std::size_t round = 0; round < tables.size(); ++round) {
    for (std::size_t t = 0; t < tables.size(); ++t) {
      if (placed[t]) continue;
      bool ready = std::all_of(waits_for[t].begin(), waits_for[t].end(), [&](std::size_t p) { return placed[p]; });
      if (!ready) continue;
      placed[t] = true;
      plan.steps.push_back(steps[t]);
      break;
    }
  }
  // Tables of a deferrable cycle wait for each other: place the rest in the order given.
  for (std::size_t t = 0; t < tables.size(); ++t)
    if (!placed[t]) plan.steps.push_back(steps[t]);
  return plan;
}

}  // namespace deleted_record
