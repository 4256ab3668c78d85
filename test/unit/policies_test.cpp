// Unit tests for the require_context and TRUNCATE policies, the did-you-mean rule and the boundary.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/boundary.hpp"
#include "core/policies.hpp"
#include "core/closest_name.hpp"

using namespace deleted_record;

TEST(RequiredContext, ParsesNamesCaseInsensitivelyAndNothingElse) {
  EXPECT_EQ(ParseRequiredContext("none"), RequiredContext::kNone);
  EXPECT_EQ(ParseRequiredContext("ACTOR"), RequiredContext::kActor);
  EXPECT_EQ(ParseRequiredContext("Reason"), RequiredContext::kReason);
  EXPECT_EQ(ParseRequiredContext("actor_and_reason"), RequiredContext::kActorAndReason);
  EXPECT_FALSE(ParseRequiredContext("actr"));
  EXPECT_FALSE(ParseRequiredContext(""));
  EXPECT_FALSE(ParseRequiredContext("actor "));
  EXPECT_STREQ(RequiredContextName(RequiredContext::kActorAndReason), "actor_and_reason");
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

TEST(TruncatePolicy, ParsesTheThreeValuesOnlyAndNamesThem) {
  EXPECT_EQ(ParseTruncatePolicy("archive"), TruncatePolicy::kArchive);
  EXPECT_EQ(ParseTruncatePolicy("deny"), TruncatePolicy::kDeny);
  EXPECT_EQ(ParseTruncatePolicy("ignore"), TruncatePolicy::kIgnore);
  EXPECT_FALSE(ParseTruncatePolicy("Archive"));
  EXPECT_FALSE(ParseTruncatePolicy(""));
  for (auto policy : {TruncatePolicy::kArchive, TruncatePolicy::kDeny, TruncatePolicy::kIgnore})
    EXPECT_EQ(ParseTruncatePolicy(TruncatePolicyName(policy)), policy);
}

TEST(SettingNames, SuggestsPlausibleMisspellingsOnly) {
  std::vector<std::string_view> known = {"actor", "reason", "metadata", "require_context"};
  EXPECT_EQ(ClosestName("reson", known), 1u);
  EXPECT_EQ(ClosestName("actr", known), 0u);
  EXPECT_EQ(ClosestName("REASON", known), 1u);
  EXPECT_EQ(ClosestName("require_contxt", known), 3u);
  EXPECT_EQ(ClosestName("metdata", known), 2u);
  EXPECT_FALSE(ClosestName("zzzzzzzz", known));
  EXPECT_FALSE(ClosestName("x", known));
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
}

TEST(Boundary, TurnsProblemsIntoVerdicts) {
  TruncatePolicy policy = TruncatePolicy::kIgnore;
  EXPECT_TRUE(boundary::ParseTruncatePolicy("deny", &policy).ok);
  EXPECT_EQ(policy, TruncatePolicy::kDeny);
  auto verdict = boundary::ParseTruncatePolicy(nullptr, &policy);
  EXPECT_FALSE(verdict.ok);
  EXPECT_STREQ(verdict.message, "allowed values are 'archive', 'deny', 'ignore'");

  RequiredContext required = RequiredContext::kNone;
  verdict = boundary::ParseRequiredContext("actr", &required);
  EXPECT_FALSE(verdict.ok);
  EXPECT_STREQ(verdict.message, "allowed values are none, actor, reason, actor_and_reason");
  EXPECT_TRUE(boundary::ParseRequiredContext("Actor", &required).ok);
  EXPECT_EQ(required, RequiredContext::kActor);
  EXPECT_STREQ(boundary::CheckRequiredContext(RequiredContext::kActorAndReason, false, true).message, "an actor");
  EXPECT_TRUE(boundary::CheckRequiredContext(RequiredContext::kActorAndReason, true, true).ok);

  const char* known[] = {"actor", "reason"};
  int index = -1;
  EXPECT_TRUE(boundary::ClosestName("reson", known, 2, &index));
  EXPECT_EQ(index, 1);
  EXPECT_FALSE(boundary::ClosestName("completely_different", known, 2, &index));
  EXPECT_FALSE(boundary::ClosestName(nullptr, known, 2, &index));
}

TEST(Boundary, Uuid7IsOrderedAcrossCalls) {
  std::uint8_t a[16], b[16];
  boundary::NextUuid7(100, 1, 2, a);
  boundary::NextUuid7(100, 1, 2, b);
  EXPECT_LT(std::memcmp(a, b, 16), 0);
}
