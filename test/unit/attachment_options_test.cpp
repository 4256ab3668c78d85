// Unit tests for attachment options: the trigger argument's format and the column policy rules.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

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

// GlueBuffer stands for the glue's palloc'd memory: aligned for pointers, of a chosen capacity.
struct GlueBuffer {
  explicit GlueBuffer(std::size_t capacity) : storage(capacity / sizeof(void*) + 1) {
    buffer = {storage.data(), capacity, 0};
  }
  std::vector<void*> storage;
  boundary::OutputBuffer buffer;
};

TEST(Boundary, AttachmentArgumentsCrossAsPlainData) {
  const char* columns[] = {"id", "email", "ssn"};
  const char* keys[] = {"id"};
  const char* mask[] = {"email"};
  GlueBuffer built(256);
  auto verdict = boundary::BuildAttachmentArgument(nullptr, "7 days", {0, nullptr}, {1, mask}, {3, columns}, {1, keys}, &built.buffer);
  ASSERT_TRUE(verdict.ok) << verdict.message;
  const char* argument = static_cast<const char*>(built.buffer.data);
  EXPECT_STREQ(argument, R"({"retention":"7 days","mask":["email"]})");
  EXPECT_EQ(built.buffer.required, std::strlen(argument) + 1);

  GlueBuffer parsed(256);
  boundary::OptionLists lists;
  ASSERT_TRUE(boundary::ParseAttachmentArgument(argument, &parsed.buffer, &lists).ok);
  EXPECT_STREQ(lists.retention, "7 days");
  ASSERT_EQ(lists.mask_count, 1);
  EXPECT_STREQ(lists.mask[0], "email");
  EXPECT_EQ(lists.mask[1], nullptr);
  EXPECT_EQ(lists.exclude_count, 0);
  EXPECT_EQ(lists.exclude[0], nullptr);

  GlueBuffer updated(256);
  bool changed = false;
  const char* renamed[] = {"id", "mail", "ssn"};
  ASSERT_TRUE(boundary::UpdateAttachmentArgument(argument, "email", "mail", {3, renamed}, &updated.buffer, &changed).ok);
  EXPECT_TRUE(changed);
  EXPECT_STREQ(static_cast<const char*>(updated.buffer.data), R"({"retention":"7 days","mask":["mail"]})");
  GlueBuffer unchanged(256);
  ASSERT_TRUE(boundary::UpdateAttachmentArgument(argument, nullptr, nullptr, {3, columns}, &unchanged.buffer, &changed).ok);
  EXPECT_FALSE(changed);
  EXPECT_EQ(unchanged.buffer.required, 0u) << "nothing changed: nothing written";

  GlueBuffer refused(256);
  verdict = boundary::BuildAttachmentArgument(nullptr, nullptr, {1, keys}, {0, nullptr}, {3, columns}, {1, keys}, &refused.buffer);
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(refused.buffer.required, 0u);
  GlueBuffer empty(256);
  verdict = boundary::BuildAttachmentArgument(nullptr, nullptr, {0, nullptr}, {0, nullptr}, {3, columns}, {1, keys}, &empty.buffer);
  EXPECT_TRUE(verdict.ok);
  EXPECT_STREQ(static_cast<const char*>(empty.buffer.data), "") << "no options: an empty argument";
}

// An output that does not fit is not written (not one byte past the capacity): the core says
// how much it needs, and a second call with a buffer of that size gets all of it.
TEST(Boundary, OutputsSizedByTheirInputsGoIntoTheGluesBuffer) {
  const char* argument =
      R"({"attachment":"0190f1c2-7d3e-7000-8000-00000000000a","retention":"2 days","exclude":["notes"],"mask":["email","phone"]})";
  GlueBuffer small(16);
  std::memset(small.storage.data(), 0x5a, small.storage.size() * sizeof(void*));
  boundary::OptionLists lists;
  ASSERT_TRUE(boundary::ParseAttachmentArgument(argument, &small.buffer, &lists).ok);
  EXPECT_GT(small.buffer.required, small.buffer.capacity);
  EXPECT_EQ(lists.attachment, nullptr);
  EXPECT_EQ(lists.mask, nullptr);
  EXPECT_EQ(lists.mask_count, 0) << "lists stay empty until written";
  const unsigned char* bytes = reinterpret_cast<const unsigned char*>(small.storage.data());
  for (std::size_t i = 0; i < small.storage.size() * sizeof(void*); ++i) ASSERT_EQ(bytes[i], 0x5a) << "byte " << i;

  GlueBuffer exact(small.buffer.required);
  exact.buffer.capacity = small.buffer.required;
  ASSERT_TRUE(boundary::ParseAttachmentArgument(argument, &exact.buffer, &lists).ok);
  EXPECT_EQ(exact.buffer.required, small.buffer.required);
  EXPECT_STREQ(lists.attachment, "0190f1c2-7d3e-7000-8000-00000000000a");
  EXPECT_STREQ(lists.retention, "2 days");
  ASSERT_EQ(lists.exclude_count, 1);
  EXPECT_STREQ(lists.exclude[0], "notes");
  ASSERT_EQ(lists.mask_count, 2);
  EXPECT_STREQ(lists.mask[1], "phone");
  const char* begin = static_cast<const char*>(exact.buffer.data);
  for (const char* text : {lists.attachment, lists.retention, lists.exclude[0], lists.mask[0], lists.mask[1]})
    EXPECT_TRUE(text >= begin && text < begin + exact.buffer.capacity) << "every string lies in the glue's buffer";

  const char* columns[] = {"id", "a_rather_long_column_name"};
  const char* keys[] = {"id"};
  const char* exclude[] = {"a_rather_long_column_name"};
  GlueBuffer tiny(8);
  auto verdict = boundary::BuildAttachmentArgument(nullptr, nullptr, {1, exclude}, {0, nullptr}, {2, columns}, {1, keys}, &tiny.buffer);
  ASSERT_TRUE(verdict.ok);
  EXPECT_EQ(tiny.buffer.required, std::strlen(R"({"exclude":["a_rather_long_column_name"]})") + 1);

  GlueBuffer none(0);
  none.buffer.data = nullptr;
  ASSERT_TRUE(boundary::ParseAttachmentArgument("{}", &none.buffer, &lists).ok);
  EXPECT_GT(none.buffer.required, 0u) << "two empty name arrays still need their terminators";
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
  GlueBuffer merged(512);
  boundary::OptionLists lists;
  int bad = 0;
  auto verdict = boundary::MergeAttachmentArguments(arguments, 3, &merged.buffer, &lists, &bad);
  ASSERT_TRUE(verdict.ok);
  EXPECT_EQ(bad, -1);
  EXPECT_STREQ(lists.attachment, "0190f1c2-7d3e-7000-8000-00000000000a");
  EXPECT_STREQ(lists.retention, "2 days");
  ASSERT_EQ(lists.mask_count, 1);
  EXPECT_STREQ(lists.mask[0], "email");
  const char* broken[] = {R"({"mask":["email"]})", "{"};
  verdict = boundary::MergeAttachmentArguments(broken, 2, &merged.buffer, &lists, &bad);
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(bad, 1);
  EXPECT_EQ(lists.mask, nullptr);
}
