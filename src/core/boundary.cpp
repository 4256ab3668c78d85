// Implements the noexcept boundary: every entry catches everything the core can throw.
#include "core/boundary.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <exception>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/attachment_options.hpp"
#include "core/closest_name.hpp"
#include "core/policies.hpp"
#include "core/restore_plan.hpp"
#include "core/uuid7.hpp"

namespace deleted_record::boundary {

namespace {

Verdict Ok() noexcept {
  Verdict verdict{};
  verdict.ok = true;
  return verdict;
}

Verdict Fail(const char* message) noexcept {
  Verdict verdict{};
  verdict.ok = false;
  std::strncpy(verdict.message, message, sizeof(verdict.message) - 1);
  return verdict;
}

// Guarded runs body and turns any exception into a failed Verdict.
template <typename Body>
Verdict Guarded(Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& error) {
    return Fail(error.what());
  } catch (...) {
    return Fail("unexpected internal error in deleted_record");
  }
}

// The process's generator: PostgreSQL backends are single-threaded, so no locking is needed.
Uuid7Generator& ProcessGenerator() noexcept {
  static Uuid7Generator generator;
  return generator;
}

}  // namespace

Verdict ParseRequiredContext(const char* text, RequiredContext* policy) noexcept {
  return Guarded([&] {
    auto parsed = deleted_record::ParseRequiredContext(text ? text : "");
    if (!parsed) return Fail((std::string("allowed values are ") + kRequiredContextValues).c_str());
    *policy = *parsed;
    return Ok();
  });
}

Verdict CheckRequiredContext(RequiredContext policy, bool has_actor, bool has_reason) noexcept {
  return Guarded([&] {
    auto missing = MissingContext(policy, has_actor, has_reason);
    return missing ? Fail(missing->c_str()) : Ok();
  });
}

const char* RequiredContextName(RequiredContext policy) noexcept { return deleted_record::RequiredContextName(policy); }

Verdict ParseTruncatePolicy(const char* text, TruncatePolicy* policy) noexcept {
  return Guarded([&] {
    auto parsed = deleted_record::ParseTruncatePolicy(text ? text : "");
    if (!parsed) return Fail((std::string("allowed values are ") + kTruncatePolicyValues).c_str());
    *policy = *parsed;
    return Ok();
  });
}

const char* TruncatePolicyName(TruncatePolicy policy) noexcept { return deleted_record::TruncatePolicyName(policy); }

bool ClosestName(const char* unknown, const char* const* known, int count, int* index) noexcept {
  try {
    std::vector<std::string_view> names(known, known + count);
    auto closest = deleted_record::ClosestName(unknown ? unknown : "", names);
    if (!closest) return false;
    *index = static_cast<int>(*closest);
    return true;
  } catch (...) {
    return false;
  }
}

namespace {

char* CopyText(const std::string& text) {
  char* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (copy == nullptr) throw std::bad_alloc();
  std::memcpy(copy, text.c_str(), text.size() + 1);
  return copy;
}

char** CopyNames(const std::vector<std::string>& names) {
  char** copies = static_cast<char**>(std::calloc(names.size() + 1, sizeof(char*)));
  if (copies == nullptr) throw std::bad_alloc();
  for (std::size_t i = 0; i < names.size(); ++i) copies[i] = CopyText(names[i]);
  return copies;
}

std::vector<std::string> Names(NameList list) {
  std::vector<std::string> names;
  for (int i = 0; i < list.count; ++i) names.emplace_back(list.names[i]);
  return names;
}

void FillOptionLists(const AttachmentOptions& options, OptionLists* lists) {
  lists->attachment = options.attachment ? CopyText(*options.attachment) : nullptr;
  lists->retention = options.retention ? CopyText(*options.retention) : nullptr;
  lists->exclude = CopyNames(options.exclude);
  lists->exclude_count = static_cast<int>(options.exclude.size());
  lists->mask = CopyNames(options.mask);
  lists->mask_count = static_cast<int>(options.mask.size());
}

}  // namespace

Verdict ParseAttachmentArgument(const char* argument, OptionLists* lists) noexcept {
  *lists = OptionLists{};
  return Guarded([&] {
    std::string problem;
    auto options = ParseAttachmentOptions(argument ? argument : "", &problem);
    if (!options) return Fail(problem.c_str());
    FillOptionLists(*options, lists);
    return Ok();
  });
}

Verdict MergeAttachmentArguments(const char* const* arguments, int count, OptionLists* lists, int* bad) noexcept {
  *lists = OptionLists{};
  *bad = -1;
  return Guarded([&] {
    std::vector<AttachmentOptions> triggers;
    for (int i = 0; i < count; ++i) {
      if (arguments[i] == nullptr) continue;
      std::string problem;
      auto options = ParseAttachmentOptions(arguments[i], &problem);
      if (!options) {
        *bad = i;
        return Fail(problem.c_str());
      }
      triggers.push_back(std::move(*options));
    }
    FillOptionLists(MergeAttachmentOptions(triggers), lists);
    return Ok();
  });
}

void FreeOptionLists(OptionLists* lists) noexcept {
  for (char** list : {lists->exclude, lists->mask}) {
    if (list == nullptr) continue;
    for (char** name = list; *name != nullptr; ++name) std::free(*name);
    std::free(list);
  }
  std::free(lists->retention);
  std::free(lists->attachment);
  *lists = OptionLists{};
}

Verdict BuildAttachmentArgument(const char* attachment, const char* retention, NameList exclude, NameList mask,
                                NameList columns, NameList key_columns, char** argument) noexcept {
  *argument = nullptr;
  return Guarded([&] {
    AttachmentOptions options;
    if (attachment != nullptr) {
      if (!IsAttachmentId(attachment)) return Fail("the attachment id must be a UUID");
      options.attachment = attachment;
    }
    if (retention != nullptr) options.retention = retention;
    options.exclude = Names(exclude);
    options.mask = Names(mask);
    auto problem = ColumnPolicyProblem(options.exclude, options.mask, Names(columns), Names(key_columns));
    if (problem) return Fail(problem->c_str());
    std::string text = SerializeAttachmentOptions(options);
    if (!text.empty()) *argument = CopyText(text);
    return Ok();
  });
}

Verdict UpdateAttachmentArgument(const char* argument, const char* old_name, const char* new_name, NameList columns,
                                 char** updated) noexcept {
  *updated = nullptr;
  return Guarded([&] {
    std::string problem;
    auto options = ParseAttachmentOptions(argument ? argument : "", &problem);
    if (!options) return Fail(problem.c_str());
    bool changed = old_name != nullptr && new_name != nullptr && FollowRename(&*options, old_name, new_name);
    changed |= ForgetMissingColumns(&*options, Names(columns));
    if (changed) *updated = CopyText(SerializeAttachmentOptions(*options));
    return Ok();
  });
}

void FreeText(char* text) noexcept { std::free(text); }

Verdict ParseConflictPolicy(const char* text, ConflictPolicy* policy) noexcept {
  return Guarded([&] {
    auto parsed = deleted_record::ParseConflictPolicy(text ? text : "");
    if (!parsed) return Fail((std::string("allowed values are ") + kConflictPolicyValues).c_str());
    *policy = *parsed;
    return Ok();
  });
}

Verdict ParseMaskedPolicy(const char* text, MaskedPolicy* policy) noexcept {
  return Guarded([&] {
    auto parsed = deleted_record::ParseMaskedPolicy(text ? text : "");
    if (!parsed) return Fail((std::string("allowed values are ") + kMaskedPolicyValues).c_str());
    *policy = *parsed;
    return Ok();
  });
}

Verdict PlanRestore(RestoreTablePlan* tables, int table_count, RestoreKeyPlan* keys, int key_count, int* order,
                    RestorePlanProblem* problem) noexcept {
  *problem = RestorePlanProblem{};
  problem->table = -1;
  return Guarded([&] {
    std::vector<RestoreTable> input(table_count);
    for (int t = 0; t < table_count; ++t) {
      input[t].name = tables[t].name;
      for (int c = 0; c < tables[t].column_count; ++c)
        input[t].columns.push_back({tables[t].columns[c].name, tables[t].columns[c].generated, tables[t].columns[c].identity});
      input[t].data_keys = Names(tables[t].data_keys);
      input[t].masked_keys = Names(tables[t].masked_keys);
    }
    std::vector<RestoreForeignKey> foreign_keys;
    for (int k = 0; k < key_count; ++k)
      foreign_keys.push_back({static_cast<std::size_t>(keys[k].from), static_cast<std::size_t>(keys[k].to), keys[k].name,
                              keys[k].deferrable});
    auto planned = deleted_record::PlanRestore(input, foreign_keys);
    if (auto* failed = std::get_if<RestoreProblem>(&planned)) {
      problem->table = failed->table ? static_cast<int>(*failed->table) : -1;
      std::strncpy(problem->column, failed->column.c_str(), sizeof(problem->column) - 1);
      return Fail(failed->message.c_str());
    }
    // Every output is sized by an input: one order entry per table, one flag per column and key.
    const RestorePlan& plan = std::get<RestorePlan>(planned);
    for (std::size_t s = 0; s < plan.steps.size(); ++s) {
      const RestoreStep& step = plan.steps[s];
      RestoreTablePlan& table = tables[step.table];
      order[s] = static_cast<int>(step.table);
      table.overriding_system_value = step.overriding_system_value;
      for (int c = 0; c < table.column_count; ++c) table.columns[c].inserted = false;
      for (std::size_t column : step.columns) table.columns[column].inserted = true;
    }
    for (int k = 0; k < key_count; ++k) keys[k].deferred = false;
    for (std::size_t key : plan.deferred_keys) keys[key].deferred = true;
    return Ok();
  });
}

void FormatUuid(const std::uint8_t bytes[16], char out[37]) noexcept { FormatUuidInto(bytes, out); }

void NextUuid7(std::uint64_t unix_ms, std::uint64_t random_a, std::uint64_t random_b, std::uint8_t out[16]) noexcept {
  Uuid uuid = ProcessGenerator().Next(unix_ms, random_a, random_b);
  std::memcpy(out, uuid.data(), uuid.size());
}

}  // namespace deleted_record::boundary
