// Unit tests for planning attach and detach: which triggers are dropped, enabled or created on
// a table and its partitions, from the facts the glue reads from the catalog.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "core/attachment_plan.hpp"
#include "core/boundary.hpp"

using namespace deleted_record;
using Kind = ManageStepKind;

namespace {

TriggerFacts Ours(const std::string& name, bool disabled = false, bool conditional = false) {
  return {name, true, disabled, conditional};
}

TriggerFacts Foreign(const std::string& name) { return {name, false, false, false}; }

MemberFacts Table(std::vector<TriggerFacts> guards = {}) {
  MemberFacts member;
  member.guards = std::move(guards);
  return member;
}

ManageFacts Attach(std::vector<TriggerFacts> triggers, std::vector<MemberFacts> members, bool contract_kept = false) {
  ManageFacts facts;
  facts.attach = true;
  facts.contract_kept = contract_kept;
  facts.archive_triggers = std::move(triggers);
  facts.members = std::move(members);
  return facts;
}

ManageFacts Detach(std::vector<TriggerFacts> triggers, std::vector<MemberFacts> members) {
  ManageFacts facts = Attach(std::move(triggers), std::move(members));
  facts.attach = false;
  return facts;
}

// Steps is both stages, when the first stage's DDL left the facts of the second as they were.
std::vector<ManageStep> Steps(const ManageFacts& facts) {
  auto planned = PlanArchiveTrigger(facts);
  EXPECT_TRUE(std::holds_alternative<std::vector<ManageStep>>(planned)) << "the plan was refused";
  if (!std::holds_alternative<std::vector<ManageStep>>(planned)) return {};
  std::vector<ManageStep> steps = std::get<std::vector<ManageStep>>(planned);
  std::size_t drops = 0;
  for (const ManageStep& step : steps) drops += step.kind == Kind::kDropTrigger;
  std::vector<ManageStep> guards = PlanTruncateGuards(facts, drops);
  steps.insert(steps.end(), guards.begin(), guards.end());
  return steps;
}

const ManageStep kPrepare = {Kind::kPrepareComingPartitions, 0, ""};

ManageStep Guard(std::size_t member) { return {Kind::kCreateTruncateGuard, member, "deleted_record_truncate_guard"}; }

ManageStep Drop(std::size_t member, const std::string& name) { return {Kind::kDropTrigger, member, name}; }

}  // namespace

TEST(AttachmentPlan, FirstAttachCreatesTheArchiveTriggerThenTheGuard) {
  EXPECT_EQ(Steps(Attach({}, {Table()})), (std::vector<ManageStep>{
                                              {Kind::kCreateArchiveTrigger, 0, "deleted_record_insert"}, kPrepare, Guard(0)}));
}

TEST(AttachmentPlan, AttachingTwiceKeepsTheTriggerAndRemakesTheGuard) {
  auto steps = Steps(Attach({Ours("deleted_record_insert")}, {Table({Ours("deleted_record_truncate_guard")})}, true));
  EXPECT_EQ(steps, (std::vector<ManageStep>{kPrepare, Drop(0, "deleted_record_truncate_guard"), Guard(0)}))
      << "an unchanged contract leaves the archive trigger alone; the guard is made anew for a new policy";
}

TEST(AttachmentPlan, AttachingTwiceEnablesADisabledTrigger) {
  auto steps = Steps(Attach({Ours("deleted_record_insert", true)}, {Table()}, true));
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps[0], (ManageStep{Kind::kEnableTrigger, 0, "deleted_record_insert"}));
}

TEST(AttachmentPlan, ChangedOptionsReplaceTheTriggerUnderItsOwnName) {
  auto steps = Steps(Attach({Ours("audit_deletes")}, {Table()}, false));
  EXPECT_EQ(steps, (std::vector<ManageStep>{Drop(0, "audit_deletes"), {Kind::kCreateArchiveTrigger, 0, "audit_deletes"},
                                            kPrepare, Guard(0)}));
  auto disabled = Steps(Attach({Ours("audit_deletes", true)}, {Table()}, false));
  EXPECT_EQ(disabled[1], (ManageStep{Kind::kCreateArchiveTrigger, 0, "audit_deletes"}))
      << "a disabled trigger with other options is replaced (the new one is enabled)";
}

TEST(AttachmentPlan, AReplacedTriggerKeepsItsFiringMode) {
  // A logical replication subscriber's archive trigger is ENABLE ALWAYS; created anew it would
  // fire in origin mode only, and the applied deletes would no longer be archived.
  TriggerFacts always = Ours("deleted_record_insert");
  always.firing = deleted_record::boundary::TriggerFiring::kAlways;
  auto steps = Steps(Attach({always}, {Table()}, false));
  EXPECT_EQ(steps, (std::vector<ManageStep>{Drop(0, "deleted_record_insert"),
                                            {Kind::kCreateArchiveTrigger, 0, "deleted_record_insert"},
                                            {Kind::kEnableTriggerAlways, 0, "deleted_record_insert"}, kPrepare, Guard(0)}));
  TriggerFacts replica = Ours("audit_deletes");
  replica.firing = deleted_record::boundary::TriggerFiring::kReplica;
  auto replica_steps = Steps(Attach({replica}, {Table()}, false));
  EXPECT_EQ(replica_steps[2], (ManageStep{Kind::kEnableTriggerReplica, 0, "audit_deletes"}));
  auto kept = Steps(Attach({always}, {Table()}, true));
  EXPECT_EQ(kept, (std::vector<ManageStep>{kPrepare, Guard(0)})) << "a kept trigger keeps its mode untouched";
}

TEST(AttachmentPlan, AFirstAttachWithoutIdReplacesATriggerMadeByHand) {
  // A trigger made by hand carries no attachment id: the contract is never "kept" for it.
  auto steps = Steps(Attach({Ours("by_hand")}, {Table()}, false));
  EXPECT_EQ(steps[0], Drop(0, "by_hand"));
  EXPECT_EQ(steps[1], (ManageStep{Kind::kCreateArchiveTrigger, 0, "by_hand"}));
}

TEST(AttachmentPlan, AConditionalTriggerStaysAndOursIsAdded) {
  auto steps = Steps(Attach({Ours("only_some", false, true)}, {Table()}, true));
  EXPECT_EQ(steps, (std::vector<ManageStep>{{Kind::kCreateArchiveTrigger, 0, "deleted_record_insert"}, kPrepare, Guard(0)}))
      << "a WHEN condition archives only some rows: ours is added, the conditional one is not dropped";
}

TEST(AttachmentPlan, AnUnconditionalTriggerIsPreferredThenTheDefaultNameThenByName) {
  auto steps = Steps(Attach({Ours("a_conditional", false, true), Ours("zeta"), Ours("beta")}, {Table()}, false));
  EXPECT_EQ(steps[0], Drop(0, "beta"));
  steps = Steps(Attach({Ours("beta"), Ours("deleted_record_insert"), Ours("Zeta")}, {Table()}, false));
  EXPECT_EQ(steps[0], Drop(0, "deleted_record_insert"));
  steps = Steps(Attach({Ours("beta"), Ours("Zeta")}, {Table()}, false));
  EXPECT_EQ(steps[0], Drop(0, "Zeta")) << "names compare bytewise, as PostgreSQL's name type does";
}

TEST(AttachmentPlan, AForeignTriggerWithTheArchiveTriggersNameIsRefused) {
  auto planned = PlanArchiveTrigger(Attach({Foreign("deleted_record_insert")}, {Table()}));
  ASSERT_TRUE(std::holds_alternative<ManageRefusal>(planned));
  EXPECT_EQ(std::get<ManageRefusal>(planned).trigger, 0u);
  // Our own unconditional trigger outranks a foreign one of the default name: no refusal.
  auto steps = Steps(Attach({Foreign("deleted_record_insert"), Ours("mine")}, {Table()}, true));
  EXPECT_EQ(steps.front(), kPrepare);
  // A conditional one of ours does not: the default name is taken by the foreign trigger.
  planned = PlanArchiveTrigger(Attach({Ours("mine", false, true), Foreign("deleted_record_insert")}, {Table()}));
  ASSERT_TRUE(std::holds_alternative<ManageRefusal>(planned));
  EXPECT_EQ(std::get<ManageRefusal>(planned).trigger, 1u);
}

TEST(AttachmentPlan, PartitionsGetGuardsUnlessForeignOrAttachedOnTheirOwn) {
  MemberFacts foreign_partition = Table();
  foreign_partition.can_have_guard = false;
  MemberFacts own = Table({Ours("deleted_record_truncate_guard")});
  own.attached_on_its_own = true;
  MemberFacts other_owner = Table({Foreign("deleted_record_truncate_guard"), Ours("old_guard")});
  auto steps = Steps(Attach({}, {Table(), foreign_partition, own, other_owner}));
  EXPECT_EQ(steps, (std::vector<ManageStep>{{Kind::kCreateArchiveTrigger, 0, "deleted_record_insert"}, kPrepare, Guard(0),
                                            Drop(3, "deleted_record_truncate_guard"), Drop(3, "old_guard"), Guard(3)}))
      << "a partition owned by another role is planned like any other (its DDL then needs that role's rights); a "
         "trigger only named like the guard is replaced too";
}

TEST(AttachmentPlan, TheTableItselfIsGuardedEvenWhenAttachedOnItsOwn) {
  MemberFacts target = Table();
  target.attached_on_its_own = true;
  auto steps = Steps(Attach({Ours("deleted_record_insert")}, {target}, true));
  EXPECT_EQ(steps.back(), Guard(0));
}

TEST(DetachPlan, DropsTheArchiveTriggersAndTheGuardsOfTheTree) {
  MemberFacts own = Table({Ours("deleted_record_truncate_guard")});
  own.attached_on_its_own = true;
  auto steps = Steps(Detach({Ours("deleted_record_insert"), Ours("second"), Foreign("deleted_record_insert_x")},
                            {Table({Ours("deleted_record_truncate_guard"), Foreign("deleted_record_truncate_guard_2")}),
                             Table({Ours("deleted_record_truncate_guard")}), own}));
  EXPECT_EQ(steps, (std::vector<ManageStep>{Drop(0, "deleted_record_insert"), Drop(0, "second"),
                                            Drop(0, "deleted_record_truncate_guard"), Drop(1, "deleted_record_truncate_guard")}))
      << "detach drops by function only, and leaves a partition attached on its own as it is";
}

TEST(DetachPlan, ATableNotAttachedIsReported) {
  EXPECT_EQ(Steps(Detach({}, {Table(), Table()})), (std::vector<ManageStep>{{Kind::kReportNotAttached, 0, ""}}));
  EXPECT_EQ(Steps(Detach({Foreign("deleted_record_insert")}, {Table({Foreign("deleted_record_truncate_guard")})})),
            (std::vector<ManageStep>{{Kind::kReportNotAttached, 0, ""}}))
      << "triggers only named like ours are not ours to drop";
  auto steps = Steps(Detach({}, {Table({Ours("deleted_record_truncate_guard")})}));
  EXPECT_EQ(steps, (std::vector<ManageStep>{Drop(0, "deleted_record_truncate_guard")}))
      << "a guard left behind is still dropped";
}

// The archive trigger's DDL fires deleted_record_guard_partitions, which adopts a new archive
// trigger with a guard, or drops the guards of a table no longer archived: the second stage
// works from what is there then, not from what was there before.
TEST(AttachmentPlan, GuardsArePlannedFromTheCatalogAfterTheArchiveTrigger) {
  auto first = std::get<std::vector<ManageStep>>(PlanArchiveTrigger(Attach({}, {Table()})));
  EXPECT_EQ(first, (std::vector<ManageStep>{{Kind::kCreateArchiveTrigger, 0, "deleted_record_insert"}, kPrepare}));
  auto guards = PlanTruncateGuards(Attach({}, {Table({Ours("deleted_record_truncate_guard")})}), 0);
  EXPECT_EQ(guards, (std::vector<ManageStep>{Drop(0, "deleted_record_truncate_guard"), Guard(0)}))
      << "the guard the event trigger made is replaced, not made twice";
  auto detached = PlanTruncateGuards(Detach({}, {Table()}), 1);
  EXPECT_TRUE(detached.empty()) << "the event trigger dropped the guard already; the archive trigger was dropped";
}

TEST(Boundary, ManagePlanCrossesAsPlainDataIntoTheGluesArray) {
  using boundary::ManageStage;
  boundary::ManagedTrigger triggers[] = {{"audit", true, false, false, boundary::TriggerFiring::kOrigin}};
  boundary::ManagedTrigger guards[] = {{"deleted_record_truncate_guard", true, false, false, boundary::TriggerFiring::kOrigin}};
  boundary::ManagedMember members[] = {{true, false, 1, guards}, {false, false, 0, nullptr}};
  boundary::ManageStep steps[8];
  int count = 0, refused = 0;
  auto verdict = boundary::PlanManage(ManageStage::kArchiveTrigger, true, false, 0, triggers, 1, nullptr, 0, steps, 2,
                                      &count, &refused);
  ASSERT_TRUE(verdict.ok) << verdict.message;
  EXPECT_EQ(count, 3) << "too small: the count needed, nothing written";
  EXPECT_EQ(refused, -1);
  verdict = boundary::PlanManage(ManageStage::kArchiveTrigger, true, false, 0, triggers, 1, nullptr, 0, steps, 8, &count,
                                 &refused);
  ASSERT_TRUE(verdict.ok) << verdict.message;
  ASSERT_EQ(count, 3);
  EXPECT_EQ(steps[0].kind, boundary::ManageStepKind::kDropTrigger);
  EXPECT_EQ(steps[0].trigger, triggers[0].name) << "names point at the glue's own strings";
  EXPECT_EQ(steps[1].kind, boundary::ManageStepKind::kCreateArchiveTrigger);
  EXPECT_EQ(steps[1].trigger, triggers[0].name);
  EXPECT_EQ(steps[2].kind, boundary::ManageStepKind::kPrepareComingPartitions);

  verdict = boundary::PlanManage(ManageStage::kTruncateGuards, true, false, 1, nullptr, 0, members, 2, steps, 8, &count,
                                 &refused);
  ASSERT_TRUE(verdict.ok) << verdict.message;
  ASSERT_EQ(count, 2) << "the foreign partition (member 1) gets no guard";
  EXPECT_EQ(steps[0].trigger, guards[0].name);
  EXPECT_EQ(steps[0].member, 0);
  EXPECT_EQ(steps[1].kind, boundary::ManageStepKind::kCreateTruncateGuard);
  EXPECT_STREQ(steps[1].trigger, "deleted_record_truncate_guard");

  boundary::ManagedTrigger foreign[] = {{"deleted_record_insert", false, false, false, boundary::TriggerFiring::kOrigin}};
  verdict = boundary::PlanManage(ManageStage::kArchiveTrigger, true, false, 0, foreign, 1, nullptr, 0, steps, 8, &count,
                                 &refused);
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(refused, 0);
  EXPECT_EQ(count, 0);
  verdict = boundary::PlanManage(ManageStage::kTruncateGuards, true, false, 0, nullptr, 0, members, 0, steps, 8, &count,
                                 &refused);
  EXPECT_FALSE(verdict.ok) << "no table: an error, not a crash";
}
