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

}  // namespace deleted_record
