// Unit tests for metadata validation, the require_context policy and the TRUNCATE policy.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/boundary.hpp"
#include "core/deletion_context.hpp"

using namespace deleted_record;

TEST(Metadata, AcceptsObjectsAndEmpty) {
  EXPECT_FALSE(MetadataProblem(""));
  EXPECT_FALSE(MetadataProblem("{}"));
  EXPECT_FALSE(MetadataProblem(R"({"ticket": 123, "tags": ["a", {"b": null}], "ok": true, "x": 1.5e300})"));
  EXPECT_FALSE(MetadataProblem(u8R"({"ключ": "значение ✓"})"));
}

TEST(Metadata, RejectsNonObjects) {
  EXPECT_EQ(MetadataProblem("[1,2]").value(), "must be a JSON object, not an array");
  EXPECT_EQ(MetadataProblem("42").value(), "must be a JSON object, not a number");
  EXPECT_EQ(MetadataProblem("\"text\"").value(), "must be a JSON object, not a string");
  EXPECT_EQ(MetadataProblem("null").value(), "must be a JSON object, not null");
}

TEST(Metadata, RejectsInvalidJsonWithAPosition) {
  auto problem = MetadataProblem("{\"a\": }");
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->rfind("is not valid JSON (at byte ", 0), 0u) << *problem;
  EXPECT_EQ(problem->find("[json.exception"), std::string::npos) << *problem;
  EXPECT_TRUE(MetadataProblem("{\"a\": 1} trailing"));
  EXPECT_TRUE(MetadataProblem("{'single': 1}"));
}

TEST(Metadata, RejectsWhatJsonbCannotStore) {
  EXPECT_EQ(MetadataProblem(R"({"a": "x\u0000y"})").value(), "contains \\u0000, which jsonb cannot store");
  std::string deep(5000, '[');
  auto problem = MetadataProblem("{\"a\": " + deep);
  ASSERT_TRUE(problem);
  EXPECT_EQ(*problem, "is nested deeper than 1000 levels");
}

TEST(RequiredContext, NamesWhatIsMissing) {
  EXPECT_FALSE(MissingContext(RequiredContext::kNone, false, false));
  EXPECT_EQ(MissingContext(RequiredContext::kReason, true, false).value(), "a reason");
  EXPECT_FALSE(MissingContext(RequiredContext::kReason, false, true));
  EXPECT_EQ(MissingContext(RequiredContext::kActor, false, true).value(), "an actor");
  EXPECT_EQ(MissingContext(RequiredContext::kActorAndReason, false, false).value(), "an actor and a reason");
  EXPECT_EQ(MissingContext(RequiredContext::kActorAndReason, true, false).value(), "a reason");
  EXPECT_FALSE(MissingContext(RequiredContext::kActorAndReason, true, true));
}

TEST(TruncatePolicy, ParsesTheThreeValuesOnly) {
  EXPECT_EQ(ParseTruncatePolicy("archive"), TruncatePolicy::kArchive);
  EXPECT_EQ(ParseTruncatePolicy("deny"), TruncatePolicy::kDeny);
  EXPECT_EQ(ParseTruncatePolicy("ignore"), TruncatePolicy::kIgnore);
  EXPECT_FALSE(ParseTruncatePolicy("Archive"));
  EXPECT_FALSE(ParseTruncatePolicy(""));
}

TEST(Boundary, TurnsProblemsIntoVerdicts) {
  EXPECT_TRUE(boundary::CheckMetadata(nullptr).ok);
  EXPECT_TRUE(boundary::CheckMetadata("{\"a\":1}").ok);
  auto verdict = boundary::CheckMetadata("[]");
  EXPECT_FALSE(verdict.ok);
  EXPECT_STREQ(verdict.message, "must be a JSON object, not an array");

  int policy = -1;
  EXPECT_TRUE(boundary::ParseTruncatePolicy("deny", &policy).ok);
  EXPECT_EQ(policy, 1);
  verdict = boundary::ParseTruncatePolicy(nullptr, &policy);
  EXPECT_FALSE(verdict.ok);
  EXPECT_STREQ(verdict.message, "allowed values are 'archive', 'deny', 'ignore'");

  EXPECT_STREQ(boundary::CheckRequiredContext(3, false, true).message, "an actor");
}

TEST(Boundary, LongMessagesAreTruncatedNotOverflowed) {
  std::string huge = "{\"" + std::string(1000, 'k') + "\": }";
  auto verdict = boundary::CheckMetadata(huge.c_str());
  EXPECT_FALSE(verdict.ok);
  EXPECT_LT(std::string(verdict.message).size(), sizeof(verdict.message));
}

TEST(Boundary, Uuid7IsOrderedAcrossCalls) {
  std::uint8_t a[16], b[16];
  boundary::NextUuid7(100, 1, 2, a);
  boundary::NextUuid7(100, 1, 2, b);
  EXPECT_LT(std::memcmp(a, b, 16), 0);
}
