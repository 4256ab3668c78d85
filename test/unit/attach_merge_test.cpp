// Unit tests for attach's merge of a call into the table's contract (what the call leaves out
// is kept), through the core function and through the door.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "core/attachment_plan.hpp"
#include "core/boundary.hpp"

using namespace deleted_record;

namespace {

constexpr const char* kTable = "t.customer";
constexpr const char* kKeptId = "0190a1b2-0000-7000-8000-000000000001";
constexpr const char* kNewId = "4f2b6c1e-9d3a-4e5f-8a7b-1c2d3e4f5a6b";

Retention Interval(std::int32_t months, std::int32_t days, std::int64_t microseconds) {
  Retention retention;
  retention.present = true;
  retention.months = months;
  retention.days = days;
  retention.microseconds = microseconds;
  return retention;
}

constexpr std::int64_t kDay = INT64_C(86400000000);

ExistingContract Attached(Retention retention = {}, std::vector<std::string> exclude = {},
                          std::vector<std::string> mask = {}) {
  ExistingContract contract;
  contract.attachment = kKeptId;
  contract.retention = retention;
  contract.exclude = std::move(exclude);
  contract.mask = std::move(mask);
  contract.truncate_policy = "deny";
  return contract;
}

ColumnsArgument Columns(std::vector<std::string> names) { return {true, std::move(names), true}; }

AttachCall Call(ColumnsArgument exclude = {}, ColumnsArgument mask = {}, Retention retention = {}) {
  AttachCall call;
  call.retention = retention;
  call.exclude = std::move(exclude);
  call.mask = std::move(mask);
  call.new_attachment = kNewId;
  return call;
}

AttachMerge Merged(const ExistingContract& contract, const AttachCall& call) {
  auto merged = MergeAttachCall(kTable, contract, call);
  EXPECT_TRUE(std::holds_alternative<AttachMerge>(merged));
  return std::holds_alternative<AttachMerge>(merged) ? std::get<AttachMerge>(merged) : AttachMerge{};
}

AttachRefusal Refused(const ExistingContract& contract, const AttachCall& call) {
  auto merged = MergeAttachCall(kTable, contract, call);
  EXPECT_TRUE(std::holds_alternative<AttachRefusal>(merged));
  return std::holds_alternative<AttachRefusal>(merged) ? std::get<AttachRefusal>(merged) : AttachRefusal{};
}

}  // namespace

TEST(AttachMerge, ATableNotAttachedGetsTheNewIdTheDefaultPolicyAndANewTrigger) {
  AttachMerge merge = Merged(ExistingContract{}, Call());
  EXPECT_EQ(merge.attachment, kNewId);
  EXPECT_EQ(merge.on_truncate, "archive");
  EXPECT_EQ(merge.retention, RetentionChoice::kNone);
  EXPECT_FALSE(merge.contract_kept);  // no archive trigger to keep
}

TEST(AttachMerge, AnAttachedTableKeepsItsIdAndItsGuardsPolicy) {
  AttachMerge merge = Merged(Attached(), Call());
  EXPECT_EQ(merge.attachment, kKeptId);
  EXPECT_EQ(merge.on_truncate, "deny");
  EXPECT_TRUE(merge.contract_kept);
}

TEST(AttachMerge, TheCallsPolicyWinsAndDoesNotChangeTheContract) {
  AttachCall call = Call();
  call.on_truncate = "ignore";
  AttachMerge merge = Merged(Attached(), call);
  EXPECT_EQ(merge.on_truncate, "ignore");
  EXPECT_TRUE(merge.contract_kept);
}

TEST(AttachMerge, ATableWithoutAGuardGetsArchive) {
  ExistingContract contract = Attached();
  contract.truncate_policy.reset();
  EXPECT_EQ(Merged(contract, Call()).on_truncate, "archive");
}

TEST(AttachMerge, RetentionLeftOutIsKept) {
  AttachMerge merge = Merged(Attached(Interval(0, 30, 0)), Call());
  EXPECT_EQ(merge.retention, RetentionChoice::kContract);
  EXPECT_TRUE(merge.contract_kept);
}

TEST(AttachMerge, RetentionZeroClearsIt) {
  AttachMerge merge = Merged(Attached(Interval(0, 30, 0)), Call({}, {}, Interval(0, 0, 0)));
  EXPECT_EQ(merge.retention, RetentionChoice::kNone);
  EXPECT_FALSE(merge.contract_kept);
  // Any interval equal to zero clears it, as interval '0' = it in PostgreSQL.
  EXPECT_EQ(Merged(Attached(Interval(0, 30, 0)), Call({}, {}, Interval(1, -30, 0))).retention, RetentionChoice::kNone);
  // Clearing a retention the table does not have keeps the contract.
  AttachMerge cleared = Merged(Attached(), Call({}, {}, Interval(0, 0, 0)));
  EXPECT_EQ(cleared.retention, RetentionChoice::kNone);
  EXPECT_TRUE(cleared.contract_kept);
}

TEST(AttachMerge, ANewRetentionIsTheCallsAndChangesTheContract) {
  AttachMerge merge = Merged(Attached(Interval(0, 30, 0)), Call({}, {}, Interval(0, 90, 0)));
  EXPECT_EQ(merge.retention, RetentionChoice::kCall);
  EXPECT_FALSE(merge.contract_kept);
  // A negative one is the call's too: checking it is the options' job.
  EXPECT_EQ(Merged(Attached(), Call({}, {}, Interval(0, -1, 0))).retention, RetentionChoice::kCall);
}

TEST(AttachMerge, RetentionsCompareAsPostgreSQLIntervals) {
  // '1 mon' = '30 days' = '720 hours'; '1 mon' <> '31 days'.
  EXPECT_TRUE(Merged(Attached(Interval(1, 0, 0)), Call({}, {}, Interval(0, 30, 0))).contract_kept);
  EXPECT_TRUE(Merged(Attached(Interval(0, 30, 0)), Call({}, {}, Interval(0, 0, 720 * INT64_C(3600000000)))).contract_kept);
  EXPECT_FALSE(Merged(Attached(Interval(1, 0, 0)), Call({}, {}, Interval(0, 31, 0))).contract_kept);
  EXPECT_FALSE(Merged(Attached(), Call({}, {}, Interval(0, 1, 0))).contract_kept);
  // Large values do not overflow: 2^31-1 months is far from as many days.
  EXPECT_FALSE(SameRetention(Interval(INT32_MAX, 0, 0), Interval(0, INT32_MAX, 0)));
  EXPECT_TRUE(SameRetention(Interval(INT32_MAX, 0, 0), Interval(INT32_MAX - 1, 30, 0)));
  EXPECT_TRUE(SameRetention(Interval(0, INT32_MAX, 0), Interval(0, INT32_MAX - 1, kDay)));
  EXPECT_TRUE(SameRetention(Retention{}, Retention{}));
}

TEST(AttachMerge, LeavingOutExcludedColumnsIsRefusedWithTheListToPass) {
  AttachRefusal refusal = Refused(Attached({}, {"password_hash"}), Call({}, Columns({})));
  EXPECT_EQ(refusal.message, "deleted_record_attach: t.customer keeps columns {password_hash} out of the archive");
  EXPECT_EQ(refusal.hint, "Pass exclude_columns => '{password_hash}' to keep that, or '{}' to archive them again.");
}

TEST(AttachMerge, LeavingOutMaskedColumnsIsRefusedWithTheListToPass) {
  AttachRefusal refusal = Refused(Attached({}, {}, {"email", "phone", "born"}), Call(Columns({})));
  EXPECT_EQ(refusal.message, "deleted_record_attach: t.customer masks columns {email,phone,born}");
  EXPECT_EQ(refusal.hint, "Pass mask_columns => '{email,phone,born}' to keep that, or '{}' to archive them in clear again.");
}

TEST(AttachMerge, ExcludedColumnsAreRefusedBeforeMaskedOnes) {
  AttachRefusal refusal = Refused(Attached({}, {"a"}, {"b"}), Call());
  EXPECT_EQ(refusal.message, "deleted_record_attach: t.customer keeps columns {a} out of the archive");
}

TEST(AttachMerge, ATableWithoutColumnPoliciesMayLeaveThemOut) {
  EXPECT_TRUE(Merged(Attached(), Call()).contract_kept);
  EXPECT_FALSE(Merged(ExistingContract{}, Call()).contract_kept);
}

TEST(AttachMerge, ColumnPoliciesPassedAgainKeepTheContractAndEmptyOnesClearIt) {
  ExistingContract contract = Attached({}, {"a"}, {"b", "c"});
  EXPECT_TRUE(Merged(contract, Call(Columns({"a"}), Columns({"b", "c"}))).contract_kept);
  EXPECT_FALSE(Merged(contract, Call(Columns({}), Columns({"b", "c"}))).contract_kept);
  EXPECT_FALSE(Merged(contract, Call(Columns({"a"}), Columns({}))).contract_kept);
  // Compared as text[]: order and case matter.
  EXPECT_FALSE(Merged(contract, Call(Columns({"a"}), Columns({"c", "b"}))).contract_kept);
  EXPECT_FALSE(Merged(contract, Call(Columns({"A"}), Columns({"b", "c"}))).contract_kept);
  // '{}' on a table without policies keeps the contract.
  EXPECT_TRUE(Merged(Attached(), Call(Columns({}), Columns({}))).contract_kept);
  EXPECT_FALSE(Merged(Attached(), Call(Columns({"a"}))).contract_kept);
}

TEST(AttachMerge, AnArrayNoListEqualsNeverKeepsTheContract) {
  ColumnsArgument odd = Columns({"a"});
  odd.plain = false;  // '{{a}}' or '[2:2]={a}'
  EXPECT_FALSE(Merged(Attached({}, {"a"}), Call(odd)).contract_kept);
  ColumnsArgument nulls = Columns({});
  nulls.plain = false;  // '{NULL}'
  EXPECT_FALSE(Merged(Attached(), Call(nulls)).contract_kept);
}

TEST(AttachMerge, ArrayLiteralQuotesAsArrayOut) {
  EXPECT_EQ(ArrayLiteral({}), "{}");
  EXPECT_EQ(ArrayLiteral({"a", "b"}), "{a,b}");
  EXPECT_EQ(ArrayLiteral({"two words", "", "NuLL", "nullish"}), "{\"two words\",\"\",\"NuLL\",nullish}");
  EXPECT_EQ(ArrayLiteral({"a,b", "{x}", "q\"u", "back\\slash", "tab\there"}),
            "{\"a,b\",\"{x}\",\"q\\\"u\",\"back\\\\slash\",\"tab\there\"}");
  EXPECT_EQ(ArrayLiteral({"It's", "Größe"}), "{It's,Größe}");
}

TEST(AttachMerge, QuoteLiteralQuotesAsQuoteLiteral) {
  EXPECT_EQ(QuoteLiteral("{a}"), "'{a}'");
  EXPECT_EQ(QuoteLiteral("{It's}"), "'{It''s}'");
  EXPECT_EQ(QuoteLiteral("{\"back\\\\slash\"}"), "E'{\"back\\\\\\\\slash\"}'");
}

TEST(AttachMerge, TheRefusalQuotesOddColumnNames) {
  AttachRefusal refusal = Refused(Attached({}, {"Pass word", "it's"}), Call());
  EXPECT_EQ(refusal.message, "deleted_record_attach: t.customer keeps columns {\"Pass word\",it's} out of the archive");
  EXPECT_EQ(refusal.hint, "Pass exclude_columns => '{\"Pass word\",it''s}' to keep that, or '{}' to archive them again.");
}

// Through the door: the strings land in the glue's buffer, and a small buffer is asked again.
TEST(AttachMergeDoor, WritesIntoTheBufferOrSaysHowMuchItNeeds) {
  const char* excluded[] = {"password_hash"};
  boundary::AttachContractFacts contract{kKeptId, {true, 0, 30, 0}, {1, excluded}, {0, nullptr}, "deny"};
  boundary::AttachCallFacts call{nullptr, {false, 0, 0, 0}, true, true, {1, excluded}, false, true, {0, nullptr}, kNewId};
  char small[8];
  boundary::OutputBuffer buffer{small, sizeof small, 0};
  boundary::AttachMergeResult result;
  ASSERT_TRUE(boundary::MergeAttachCall(kTable, &contract, &call, &buffer, &result).ok);
  EXPECT_EQ(buffer.required, std::strlen(kKeptId) + 1 + std::strlen("deny") + 1);
  EXPECT_EQ(result.attachment, nullptr);
  std::vector<char> enough(buffer.required);
  buffer = {enough.data(), enough.size(), 0};
  ASSERT_TRUE(boundary::MergeAttachCall(kTable, &contract, &call, &buffer, &result).ok);
  EXPECT_FALSE(result.refused);
  EXPECT_STREQ(result.attachment, kKeptId);
  EXPECT_STREQ(result.on_truncate, "deny");
  EXPECT_EQ(result.retention, boundary::AttachRetentionChoice::kContract);
  EXPECT_TRUE(result.contract_kept);
}

TEST(AttachMergeDoor, ARefusalCarriesMessageAndHint) {
  const char* masked[] = {"email"};
  boundary::AttachContractFacts contract{kKeptId, {false, 0, 0, 0}, {0, nullptr}, {1, masked}, nullptr};
  boundary::AttachCallFacts call{"ignore", {true, 0, 0, 0}, false, true, {0, nullptr}, false, true, {0, nullptr}, kNewId};
  std::vector<char> space(1024);
  boundary::OutputBuffer buffer{space.data(), space.size(), 0};
  boundary::AttachMergeResult result;
  ASSERT_TRUE(boundary::MergeAttachCall(kTable, &contract, &call, &buffer, &result).ok);
  EXPECT_TRUE(result.refused);
  EXPECT_STREQ(result.message, "deleted_record_attach: t.customer masks columns {email}");
  EXPECT_STREQ(result.hint, "Pass mask_columns => '{email}' to keep that, or '{}' to archive them in clear again.");
}

TEST(AttachMergeDoor, ANewTableGetsTheFreshId) {
  boundary::AttachContractFacts contract{nullptr, {false, 0, 0, 0}, {0, nullptr}, {0, nullptr}, nullptr};
  boundary::AttachCallFacts call{nullptr, {true, 0, 90, 0}, false, true, {0, nullptr}, false, true, {0, nullptr}, kNewId};
  std::vector<char> space(128);
  boundary::OutputBuffer buffer{space.data(), space.size(), 0};
  boundary::AttachMergeResult result;
  ASSERT_TRUE(boundary::MergeAttachCall(kTable, &contract, &call, &buffer, &result).ok);
  EXPECT_STREQ(result.attachment, kNewId);
  EXPECT_STREQ(result.on_truncate, "archive");
  EXPECT_EQ(result.retention, boundary::AttachRetentionChoice::kCall);
  EXPECT_FALSE(result.contract_kept);
}
