// Unit tests for attachment options: the trigger argument's format and the column policy rules.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/attachment_options.hpp"
#include "core/boundary.hpp"

using namespace deleted_record;

TEST(AttachmentOptions, RoundTripsAndOmitsWhatIsUnset) {
  AttachmentOptions options;
  EXPECT_EQ(SerializeAttachmentOptions(options), "");
  options.retention = "30 days";
  options.exclude = {"password_hash"};
  options.mask = {"email", "na\"me"};
  std::string text = SerializeAttachmentOptions(options);
  EXPECT_EQ(text, R"({"retention":"30 days","exclude":["password_hash"],"mask":["email","na\"me"]})");
  std::string problem;
  auto parsed = ParseAttachmentOptions(text, &problem);
  ASSERT_TRUE(parsed) << problem;
  EXPECT_EQ(parsed->retention, "30 days");
  EXPECT_EQ(parsed->exclude, options.exclude);
  EXPECT_EQ(parsed->mask, options.mask);
}

TEST(AttachmentOptions, RejectsMalformedArguments) {
  std::string problem;
  EXPECT_FALSE(ParseAttachmentOptions("archive", &problem));
  EXPECT_EQ(problem, "the archive trigger's argument is not a JSON object");
  EXPECT_FALSE(ParseAttachmentOptions(R"({"mask": "email"})", &problem));
  EXPECT_EQ(problem, "\"mask\" must be an array of column names");
  EXPECT_FALSE(ParseAttachmentOptions(R"({"exclude": [1]})", &problem));
  EXPECT_FALSE(ParseAttachmentOptions(R"({"retention": 30})", &problem));
  EXPECT_FALSE(ParseAttachmentOptions(R"({"retain": "1 day"})", &problem));
  EXPECT_EQ(problem, "unknown option \"retain\" in the archive trigger's argument");
  EXPECT_TRUE(ParseAttachmentOptions("{}", &problem));
}

TEST(ColumnPolicies, NamesTheFirstProblem) {
  std::vector<std::string> columns = {"id", "email", "password_hash", "name"};
  std::vector<std::string> keys = {"id"};
  EXPECT_FALSE(ColumnPolicyProblem({"password_hash"}, {"email"}, columns, keys));
  EXPECT_EQ(ColumnPolicyProblem({"passwd"}, {}, columns, keys).value(), "column \"passwd\" does not exist");
  EXPECT_EQ(ColumnPolicyProblem({}, {"id"}, columns, keys).value(),
            "column \"id\" is part of the table's key, which makes object_id, so it cannot be masked");
  EXPECT_EQ(ColumnPolicyProblem({"email"}, {"email"}, columns, keys).value(),
            "column \"email\" cannot be both excluded and masked");
  EXPECT_EQ(ColumnPolicyProblem({"name", "name"}, {}, columns, keys).value(), "column \"name\" is listed twice");
  EXPECT_TRUE(ColumnPolicyProblem({"Email"}, {}, columns, keys)) << "names are case-sensitive, as in the catalog";
}

TEST(ColumnPolicies, FollowRenamesAndDroppedColumns) {
  AttachmentOptions options;
  options.exclude = {"password_hash"};
  options.mask = {"email", "phone"};
  EXPECT_TRUE(FollowRename(&options, "email", "mail"));
  EXPECT_EQ(options.mask, (std::vector<std::string>{"mail", "phone"}));
  EXPECT_FALSE(FollowRename(&options, "nothing", "else"));
  EXPECT_TRUE(ForgetMissingColumns(&options, {"id", "mail", "password_hash"}));
  EXPECT_EQ(options.mask, (std::vector<std::string>{"mail"}));
  EXPECT_FALSE(ForgetMissingColumns(&options, {"id", "mail", "password_hash"}));
}

TEST(Boundary, AttachmentArgumentsCrossAsPlainData) {
  const char* columns[] = {"id", "email", "ssn"};
  const char* keys[] = {"id"};
  const char* mask[] = {"email"};
  char* argument = nullptr;
  auto verdict = boundary::BuildAttachmentArgument(nullptr, "7 days", {0, nullptr}, {1, mask}, {3, columns}, {1, keys}, &argument);
  ASSERT_TRUE(verdict.ok) << verdict.message;
  EXPECT_STREQ(argument, R"({"retention":"7 days","mask":["email"]})");

  boundary::OptionLists lists;
  ASSERT_TRUE(boundary::ParseAttachmentArgument(argument, &lists).ok);
  EXPECT_STREQ(lists.retention, "7 days");
  ASSERT_EQ(lists.mask_count, 1);
  EXPECT_STREQ(lists.mask[0], "email");
  EXPECT_EQ(lists.exclude_count, 0);
  boundary::FreeOptionLists(&lists);

  char* updated = nullptr;
  const char* renamed[] = {"id", "mail", "ssn"};
  ASSERT_TRUE(boundary::UpdateAttachmentArgument(argument, "email", "mail", {3, renamed}, &updated).ok);
  EXPECT_STREQ(updated, R"({"retention":"7 days","mask":["mail"]})");
  boundary::FreeText(updated);
  ASSERT_TRUE(boundary::UpdateAttachmentArgument(argument, nullptr, nullptr, {3, columns}, &updated).ok);
  EXPECT_EQ(updated, nullptr);
  boundary::FreeText(argument);

  verdict = boundary::BuildAttachmentArgument(nullptr, nullptr, {1, keys}, {0, nullptr}, {3, columns}, {1, keys}, &argument);
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(argument, nullptr);
  verdict = boundary::BuildAttachmentArgument(nullptr, nullptr, {0, nullptr}, {0, nullptr}, {3, columns}, {1, keys}, &argument);
  EXPECT_TRUE(verdict.ok);
  EXPECT_EQ(argument, nullptr) << "no options: no argument";
}

// Policies belong to the table: a second archive trigger without options still archives the
// masked column masked, and retention follows the trigger that carries the attachment id.
TEST(AttachmentContract, MergesTheOptionsOfEveryArchiveTrigger) {
  AttachmentOptions plain;
  AttachmentOptions attached;
  attached.attachment = "0190f1c2-7d3e-7000-8000-000000000001";
  attached.retention = "30 days";
  attached.mask = {"email", "phone"};
  AttachmentOptions other;
  other.retention = "1 day";
  other.exclude = {"phone", "notes"};
  AttachmentOptions merged = MergeAttachmentOptions({plain, other, attached});
  EXPECT_EQ(merged.attachment, attached.attachment);
  EXPECT_EQ(merged.retention, "30 days");
  EXPECT_EQ(merged.exclude, (std::vector<std::string>{"phone", "notes"}));
  EXPECT_EQ(merged.mask, (std::vector<std::string>{"email"}));
  AttachmentOptions without_id = MergeAttachmentOptions({plain, other});
  EXPECT_FALSE(without_id.attachment);
  EXPECT_EQ(without_id.retention, "1 day");
  EXPECT_TRUE(MergeAttachmentOptions({plain}).mask.empty());
}

TEST(AttachmentContract, ReadsAndChecksTheAttachmentId) {
  std::string problem;
  auto parsed = ParseAttachmentOptions(R"({"attachment":"0190f1c2-7d3e-7000-8000-00000000000a","mask":["email"]})", &problem);
  ASSERT_TRUE(parsed) << problem;
  EXPECT_EQ(parsed->attachment, "0190f1c2-7d3e-7000-8000-00000000000a");
  EXPECT_EQ(SerializeAttachmentOptions(*parsed), R"({"attachment":"0190f1c2-7d3e-7000-8000-00000000000a","mask":["email"]})");
  EXPECT_FALSE(ParseAttachmentOptions(R"({"attachment":"not-a-uuid"})", &problem));
  EXPECT_FALSE(ParseAttachmentOptions(R"({"attachment":"0190F1C2-7D3E-7000-8000-00000000000A"})", &problem));
  EXPECT_FALSE(IsAttachmentId("0190f1c2x7d3e-7000-8000-00000000000a"));

  const char* arguments[] = {nullptr, R"({"mask":["email"]})", R"({"attachment":"0190f1c2-7d3e-7000-8000-00000000000a","retention":"2 days"})"};
  boundary::OptionLists lists;
  int bad = 0;
  auto verdict = boundary::MergeAttachmentArguments(arguments, 3, &lists, &bad);
  ASSERT_TRUE(verdict.ok);
  EXPECT_EQ(bad, -1);
  EXPECT_STREQ(lists.attachment, "0190f1c2-7d3e-7000-8000-00000000000a");
  EXPECT_STREQ(lists.retention, "2 days");
  ASSERT_EQ(lists.mask_count, 1);
  EXPECT_STREQ(lists.mask[0], "email");
  boundary::FreeOptionLists(&lists);
  const char* broken[] = {R"({"mask":["email"]})", "{"};
  verdict = boundary::MergeAttachmentArguments(broken, 2, &lists, &bad);
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(bad, 1);
  boundary::FreeOptionLists(&lists);
}
