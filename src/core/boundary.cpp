// Implements the noexcept boundary: every entry catches everything the core can throw.
#include "core/boundary.hpp"

#include <cstring>
#include <stdexcept>
#include <exception>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/attachment_options.hpp"
#include "core/attachment_plan.hpp"
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

// Placement lays out an output in the glue's OutputBuffer: a first pass (Measure) counts the
// bytes, a second (Write) places them once they are known to fit; both take the same steps.
class Placement {
 public:
  explicit Placement(OutputBuffer* buffer, bool write) : buffer_(buffer), write_(write) {}

  // Names places a null-terminated array of copies of names and returns it (null when measuring).
  char** Names(const std::vector<std::string>& names) {
    used_ = (used_ + alignof(char*) - 1) / alignof(char*) * alignof(char*);
    char** array = write_ ? reinterpret_cast<char**>(Base() + used_) : nullptr;
    used_ += sizeof(char*) * (names.size() + 1);
    for (std::size_t i = 0; i < names.size(); ++i) {
      char* copy = Text(names[i]);
      if (write_) array[i] = copy;
    }
    if (write_) array[names.size()] = nullptr;
    return array;
  }

  // Text places a NUL-terminated copy of text and returns it (null when measuring).
  char* Text(const std::string& text) {
    char* copy = write_ ? Base() + used_ : nullptr;
    if (write_) std::memcpy(copy, text.c_str(), text.size() + 1);
    used_ += text.size() + 1;
    return copy;
  }

  std::size_t used() const { return used_; }

 private:
  char* Base() const { return static_cast<char*>(buffer_->data); }
  OutputBuffer* buffer_;
  bool write_;
  std::size_t used_ = 0;
};

// Place runs lay (a function of a Placement) once to measure and, when the output fits the
// glue's buffer (which must be aligned for pointers, as palloc's memory is), once to write it.
template <typename Lay>
bool Place(OutputBuffer* buffer, Lay&& lay) {
  Placement measure(buffer, false);
  lay(measure);
  buffer->required = measure.used();
  if (buffer->data == nullptr || buffer->required > buffer->capacity) return false;
  if (reinterpret_cast<std::uintptr_t>(buffer->data) % alignof(char*) != 0)
    throw std::invalid_argument("deleted_record: output buffer not aligned");
  Placement write(buffer, true);
  lay(write);
  return true;
}

std::vector<std::string> Names(NameList list) {
  std::vector<std::string> names;
  for (int i = 0; i < list.count; ++i) names.emplace_back(list.names[i]);
  return names;
}

void PlaceOptionLists(const AttachmentOptions& options, OutputBuffer* buffer, OptionLists* lists) {
  *lists = OptionLists{};
  OptionLists placed{};
  bool fits = Place(buffer, [&](Placement& at) {
    placed.exclude = at.Names(options.exclude);
    placed.mask = at.Names(options.mask);
    placed.attachment = options.attachment ? at.Text(*options.attachment) : nullptr;
    placed.retention = options.retention ? at.Text(*options.retention) : nullptr;
  });
  if (!fits) return;
  placed.exclude_count = static_cast<int>(options.exclude.size());
  placed.mask_count = static_cast<int>(options.mask.size());
  *lists = placed;
}

void PlaceText(const std::string& text, OutputBuffer* buffer) {
  Place(buffer, [&](Placement& at) { at.Text(text); });
}

}  // namespace

Verdict ParseAttachmentArgument(const char* argument, OutputBuffer* buffer, OptionLists* lists) noexcept {
  *lists = OptionLists{};
  buffer->required = 0;
  return Guarded([&] {
    std::string problem;
    auto options = ParseAttachmentOptions(argument ? argument : "", &problem);
    if (!options) return Fail(problem.c_str());
    PlaceOptionLists(*options, buffer, lists);
    return Ok();
  });
}

Verdict MergeAttachmentArguments(const char* const* arguments, int count, OutputBuffer* buffer, OptionLists* lists,
                                 int* bad) noexcept {
  *lists = OptionLists{};
  buffer->required = 0;
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
    PlaceOptionLists(MergeAttachmentOptions(triggers), buffer, lists);
    return Ok();
  });
}

Verdict BuildAttachmentArgument(const char* attachment, const char* retention, NameList exclude, NameList mask,
                                NameList columns, NameList key_columns, OutputBuffer* buffer) noexcept {
  buffer->required = 0;
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
    PlaceText(SerializeAttachmentOptions(options), buffer);
    return Ok();
  });
}

Verdict UpdateAttachmentArgument(const char* argument, const char* old_name, const char* new_name, NameList columns,
                                 OutputBuffer* buffer, bool* changed) noexcept {
  buffer->required = 0;
  *changed = false;
  return Guarded([&] {
    std::string problem;
    auto options = ParseAttachmentOptions(argument ? argument : "", &problem);
    if (!options) return Fail(problem.c_str());
    bool renamed = old_name != nullptr && new_name != nullptr && FollowRename(&*options, old_name, new_name);
    bool forgot = ForgetMissingColumns(&*options, Names(columns));
    *changed = renamed || forgot;
    if (*changed) PlaceText(SerializeAttachmentOptions(*options), buffer);
    return Ok();
  });
}

namespace {

TriggerFacts FactsOf(const ManagedTrigger& trigger) {
  return {trigger.name, trigger.calls_ours, trigger.disabled, trigger.conditional, trigger.firing};
}

// NameIn finds the glue's own copy of a trigger name on member (names are unique per relation),
// or the static name the plan gave a new trigger.
const char* NameIn(const std::string& name, int member, const ManagedTrigger* archive_triggers, int archive_trigger_count,
                   const ManagedMember* members) {
  if (member == 0 && archive_triggers != nullptr)
    for (int i = 0; i < archive_trigger_count; ++i)
      if (name == archive_triggers[i].name) return archive_triggers[i].name;
  for (int i = 0; members != nullptr && i < members[member].guard_count; ++i)
    if (name == members[member].guards[i].name) return members[member].guards[i].name;
  if (name == kArchiveTriggerName) return kArchiveTriggerName;
  if (name == kTruncateGuardName) return kTruncateGuardName;
  if (name.empty()) return "";
  throw std::logic_error("deleted_record: the plan named a trigger it was not given");
}

}  // namespace

Verdict PlanManage(ManageStage stage, bool attach, bool contract_kept, int earlier_drops,
                   const ManagedTrigger* archive_triggers, int archive_trigger_count, const ManagedMember* members,
                   int member_count, ManageStep* steps, int capacity, int* step_count, int* refused_trigger) noexcept {
  *step_count = 0;
  *refused_trigger = -1;
  return Guarded([&] {
    ManageFacts facts;
    facts.attach = attach;
    facts.contract_kept = contract_kept;
    for (int i = 0; i < archive_trigger_count; ++i) facts.archive_triggers.push_back(FactsOf(archive_triggers[i]));
    for (int m = 0; m < member_count; ++m) {
      MemberFacts member;
      member.can_have_guard = members[m].can_have_guard;
      member.attached_on_its_own = members[m].attached_on_its_own;
      for (int g = 0; g < members[m].guard_count; ++g) member.guards.push_back(FactsOf(members[m].guards[g]));
      facts.members.push_back(std::move(member));
    }
    std::vector<deleted_record::ManageStep> plan;
    if (stage == ManageStage::kArchiveTrigger) {
      auto planned = PlanArchiveTrigger(facts);
      if (auto* refusal = std::get_if<ManageRefusal>(&planned)) {
        *refused_trigger = static_cast<int>(refusal->trigger);
        return Fail("a trigger with the archive trigger's name calls another function");
      }
      plan = std::get<std::vector<deleted_record::ManageStep>>(std::move(planned));
    } else {
      plan = PlanTruncateGuards(facts, static_cast<std::size_t>(earlier_drops < 0 ? 0 : earlier_drops));
    }
    *step_count = static_cast<int>(plan.size());
    if (plan.size() > static_cast<std::size_t>(capacity)) return Ok();
    for (std::size_t i = 0; i < plan.size(); ++i) {
      int member = static_cast<int>(plan[i].member);
      steps[i] = {plan[i].kind, member, NameIn(plan[i].trigger, member, archive_triggers, archive_trigger_count, members)};
    }
    return Ok();
  });
}

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

namespace deleted_record::boundary {

namespace {

Retention RetentionOf(const AttachRetention& retention) {
  Retention value;
  value.present = retention.present;
  value.months = retention.months;
  value.days = retention.days;
  value.microseconds = retention.microseconds;
  return value;
}

}  // namespace

Verdict MergeAttachCall(const char* table, const AttachContractFacts* contract, const AttachCallFacts* call,
                        OutputBuffer* buffer, AttachMergeResult* result) noexcept {
  *result = AttachMergeResult{};
  return Guarded([&] {
    ExistingContract existing;
    if (contract->attachment != nullptr) existing.attachment = contract->attachment;
    existing.retention = RetentionOf(contract->retention);
    existing.exclude = Names(contract->exclude);
    existing.mask = Names(contract->mask);
    if (contract->truncate_policy != nullptr) existing.truncate_policy = contract->truncate_policy;
    AttachCall asked;
    if (call->on_truncate != nullptr) asked.on_truncate = call->on_truncate;
    asked.retention = RetentionOf(call->retention);
    asked.exclude = {call->exclude_given, Names(call->exclude), call->exclude_plain};
    asked.mask = {call->mask_given, Names(call->mask), call->mask_plain};
    asked.new_attachment = call->new_attachment != nullptr ? call->new_attachment : "";
    auto merged = deleted_record::MergeAttachCall(table != nullptr ? table : "", existing, asked);
    std::vector<const std::string*> texts;
    const char** slots[2];
    if (auto* refusal = std::get_if<AttachRefusal>(&merged)) {
      result->refused = true;
      texts = {&refusal->message, &refusal->hint};
      slots[0] = &result->message;
      slots[1] = &result->hint;
    } else {
      const AttachMerge& merge = std::get<AttachMerge>(merged);
      result->retention = merge.retention == RetentionChoice::kContract ? AttachRetentionChoice::kContract
                          : merge.retention == RetentionChoice::kCall   ? AttachRetentionChoice::kCall
                                                                        : AttachRetentionChoice::kNone;
      result->contract_kept = merge.contract_kept;
      texts = {&merge.attachment, &merge.on_truncate};
      slots[0] = &result->attachment;
      slots[1] = &result->on_truncate;
    }
    buffer->required = texts[0]->size() + 1 + texts[1]->size() + 1;
    if (buffer->required > buffer->capacity) return Ok();
    char* into = static_cast<char*>(buffer->data);
    for (int i = 0; i < 2; ++i) {
      std::memcpy(into, texts[i]->c_str(), texts[i]->size() + 1);
      *slots[i] = into;
      into += texts[i]->size() + 1;
    }
    return Ok();
  });
}

}  // namespace deleted_record::boundary
