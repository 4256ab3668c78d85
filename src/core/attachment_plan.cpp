// Planning an attach or a detach (see attachment_plan.hpp).
#include "core/attachment_plan.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace deleted_record {

namespace {

// ChosenArchiveTrigger is the table's archive trigger attach works with, or -1: an
// unconditional one calling ours first, then one with the default name, then by name (bytewise,
// as PostgreSQL orders names).
int ChosenArchiveTrigger(const std::vector<TriggerFacts>& triggers) {
  auto rank = [](const TriggerFacts& trigger) {
    return std::make_tuple(!(trigger.calls_ours && !trigger.conditional), trigger.name != kArchiveTriggerName,
                           trigger.name);
  };
  int chosen = -1;
  for (std::size_t i = 0; i < triggers.size(); ++i)
    if (chosen < 0 || rank(triggers[i]) < rank(triggers[static_cast<std::size_t>(chosen)])) chosen = static_cast<int>(i);
  return chosen;
}

}  // namespace

std::variant<std::vector<ManageStep>, ManageRefusal> PlanArchiveTrigger(const ManageFacts& facts) {
  std::vector<ManageStep> steps;
  if (!facts.attach) {
    for (const TriggerFacts& trigger : facts.archive_triggers)
      if (trigger.calls_ours) steps.push_back({ManageStepKind::kDropTrigger, 0, trigger.name});
    return steps;
  }
  int chosen = ChosenArchiveTrigger(facts.archive_triggers);
  const TriggerFacts* found = chosen >= 0 ? &facts.archive_triggers[static_cast<std::size_t>(chosen)] : nullptr;
  if (found != nullptr && !found->calls_ours) return ManageRefusal{static_cast<std::size_t>(chosen)};
  bool unconditional = found != nullptr && !found->conditional;
  if (unconditional && facts.contract_kept) {
    if (found->disabled) steps.push_back({ManageStepKind::kEnableTrigger, 0, found->name});
  } else {
    if (unconditional) steps.push_back({ManageStepKind::kDropTrigger, 0, found->name});
    // On a partitioned table PostgreSQL clones this row trigger to every partition.
    steps.push_back({ManageStepKind::kCreateArchiveTrigger, 0, unconditional ? found->name : kArchiveTriggerName});
    // A new trigger fires in origin mode: a replaced ENABLE ALWAYS (REPLICA) one stays so, or a
    // subscriber's applied deletes would stop being archived.
    if (unconditional && found->firing == boundary::TriggerFiring::kAlways)
      steps.push_back({ManageStepKind::kEnableTriggerAlways, 0, found->name});
    if (unconditional && found->firing == boundary::TriggerFiring::kReplica)
      steps.push_back({ManageStepKind::kEnableTriggerReplica, 0, found->name});
  }
  steps.push_back({ManageStepKind::kPrepareComingPartitions, 0, ""});
  return steps;
}

std::vector<ManageStep> PlanTruncateGuards(const ManageFacts& facts, std::size_t earlier_drops) {
  if (facts.members.empty()) throw std::invalid_argument("deleted_record: no table to plan for");
  std::vector<ManageStep> steps;
  // Statement-level TRUNCATE triggers are not cloned to partitions. The table itself counts as
  // attached on attach, and no longer on detach, whatever its own triggers were.
  for (std::size_t m = 0; m < facts.members.size(); ++m) {
    const MemberFacts& member = facts.members[m];
    if (m != 0 && member.attached_on_its_own) continue;
    if (facts.attach && !member.can_have_guard) continue;
    for (const TriggerFacts& guard : member.guards)
      if (facts.attach || guard.calls_ours) steps.push_back({ManageStepKind::kDropTrigger, m, guard.name});
    if (facts.attach) steps.push_back({ManageStepKind::kCreateTruncateGuard, m, kTruncateGuardName});
  }
  if (!facts.attach && steps.empty() && earlier_drops == 0)
    steps.push_back({ManageStepKind::kReportNotAttached, 0, ""});
  return steps;
}

namespace {

// RetentionSpan is PostgreSQL's interval_cmp_value: the interval in microseconds, a month as 30 days.
__int128 RetentionSpan(const Retention& retention) {
  constexpr std::int64_t kMicrosecondsPerDay = INT64_C(86400000000);
  std::int64_t days = static_cast<std::int64_t>(retention.months) * 30 + retention.days;
  return static_cast<__int128>(retention.microseconds) + static_cast<__int128>(days) * kMicrosecondsPerDay;
}

// SameColumns compares the contract's policy with the call's ('{}' or left out: none), as
// PostgreSQL compares the text[] values.
bool SameColumns(const std::vector<std::string>& contract, const ColumnsArgument& call) {
  if (!call.given || call.names.empty()) return contract.empty() && call.plain;
  return call.plain && contract == call.names;
}

}  // namespace

bool SameRetention(const Retention& a, const Retention& b) {
  if (a.present != b.present) return false;
  return !a.present || RetentionSpan(a) == RetentionSpan(b);
}

std::string ArrayLiteral(const std::vector<std::string>& names) {
  // array_out: an element is quoted when it is empty, is NULL in any case, or holds a brace, the
  // delimiter, a quote, a backslash or white space; quotes and backslashes are escaped.
  auto needs_quotes = [](const std::string& name) {
    if (name.empty()) return true;
    if (name.size() == 4) {
      std::string lower;
      for (char c : name) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      if (lower == "null") return true;
    }
    for (char c : name)
      if (c == '"' || c == '\\' || c == '{' || c == '}' || c == ',' || c == ' ' || c == '\t' || c == '\n' ||
          c == '\r' || c == '\v' || c == '\f')
        return true;
    return false;
  };
  std::string text = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += ',';
    if (!needs_quotes(names[i])) {
      text += names[i];
      continue;
    }
    text += '"';
    for (char c : names[i]) {
      if (c == '"' || c == '\\') text += '\\';
      text += c;
    }
    text += '"';
  }
  return text + "}";
}

std::string QuoteLiteral(std::string_view text) {
  // quote_literal: quotes and backslashes doubled; with a backslash, an E'' literal.
  std::string quoted = text.find('\\') != std::string_view::npos ? "E'" : "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') quoted += c;
    quoted += c;
  }
  return quoted + "'";
}

std::variant<AttachMerge, AttachRefusal> MergeAttachCall(std::string_view table, const ExistingContract& contract,
                                                         const AttachCall& call) {
  const std::string name(table);
  if (!call.exclude.given && !contract.exclude.empty()) {
    std::string columns = ArrayLiteral(contract.exclude);
    return AttachRefusal{"deleted_record_attach: " + name + " keeps columns " + columns + " out of the archive",
                         "Pass exclude_columns => " + QuoteLiteral(columns) +
                             " to keep that, or '{}' to archive them again."};
  }
  if (!call.mask.given && !contract.mask.empty()) {
    std::string columns = ArrayLiteral(contract.mask);
    return AttachRefusal{"deleted_record_attach: " + name + " masks columns " + columns,
                         "Pass mask_columns => " + QuoteLiteral(columns) +
                             " to keep that, or '{}' to archive them in clear again."};
  }
  AttachMerge merge;
  merge.on_truncate = call.on_truncate ? *call.on_truncate : contract.truncate_policy ? *contract.truncate_policy : "archive";
  Retention retention;
  if (!call.retention.present) {
    retention = contract.retention;
    merge.retention = retention.present ? RetentionChoice::kContract : RetentionChoice::kNone;
  } else if (RetentionSpan(call.retention) == 0) {
    merge.retention = RetentionChoice::kNone;  // retention => '0': kept forever
  } else {
    retention = call.retention;
    merge.retention = RetentionChoice::kCall;
  }
  merge.attachment = contract.attachment ? *contract.attachment : call.new_attachment;
  merge.contract_kept = contract.attachment.has_value() && SameRetention(contract.retention, retention) &&
                        SameColumns(contract.exclude, call.exclude) && SameColumns(contract.mask, call.mask);
  return merge;
}

}  // namespace deleted_record
