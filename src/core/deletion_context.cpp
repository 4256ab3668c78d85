// Validation of the deletion context settings and the TRUNCATE policy.
#include "core/deletion_context.hpp"

#include <cstddef>
#include <nlohmann/json.hpp>

namespace deleted_record {

namespace {

// ShapeChecker is a SAX handler that records the top-level JSON type without building a
// document, and stops nesting deeper than jsonb can sensibly hold.
class ShapeChecker : public nlohmann::json_sax<nlohmann::json> {
 public:
  static constexpr int kMaxDepth = 1000;

  bool null() override { return Scalar("null"); }
  bool boolean(bool) override { return Scalar("a boolean"); }
  bool number_integer(number_integer_t) override { return Scalar("a number"); }
  bool number_unsigned(number_unsigned_t) override { return Scalar("a number"); }
  bool number_float(number_float_t, const string_t&) override { return Scalar("a number"); }
  bool string(string_t& value) override {
    // jsonb cannot store the NUL character (PostgreSQL rejects \u0000 in jsonb text).
    if (value.find('\0') != string_t::npos) {
      problem_ = "contains \\u0000, which jsonb cannot store";
      return false;
    }
    return Scalar("a string");
  }
  bool binary(binary_t&) override { return Scalar("binary"); }
  bool start_object(std::size_t) override { return Open("an object"); }
  bool key(string_t& value) override { return string(value); }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open("an array"); }
  bool end_array() override { return Close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& error) override {
    std::string what = error.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix: users need the sentence only.
    if (auto end = what.find("] "); what.rfind("[json.exception", 0) == 0 && end != std::string::npos) what.erase(0, end + 2);
    problem_ = "is not valid JSON (at byte " + std::to_string(position) + "): " + what;
    return false;
  }

  const std::string& top_level_type() const { return top_level_type_; }
  const std::string& problem() const { return problem_; }

 private:
  bool Scalar(const char* type) {
    if (top_level_type_.empty()) top_level_type_ = type;
    return true;
  }
  bool Open(const char* type) {
    if (top_level_type_.empty()) top_level_type_ = type;
    if (++depth_ > kMaxDepth) {
      problem_ = "is nested deeper than " + std::to_string(kMaxDepth) + " levels";
      return false;
    }
    return true;
  }
  bool Close() {
    --depth_;
    return true;
  }

  int depth_ = 0;
  std::string top_level_type_;
  std::string problem_;
};

}  // namespace

std::optional<std::string> MetadataProblem(std::string_view text) {
  if (text.empty()) return std::nullopt;
  ShapeChecker checker;
  bool parsed = nlohmann::json::sax_parse(text.begin(), text.end(), &checker);
  if (!checker.problem().empty()) return checker.problem();
  if (!parsed) return std::string("is not valid JSON");
  if (checker.top_level_type() != "an object") return "must be a JSON object, not " + checker.top_level_type();
  return std::nullopt;
}

std::optional<std::string> MissingContext(RequiredContext policy, bool has_actor, bool has_reason) {
  bool need_actor = (policy == RequiredContext::kActor || policy == RequiredContext::kActorAndReason) && !has_actor;
  bool need_reason = (policy == RequiredContext::kReason || policy == RequiredContext::kActorAndReason) && !has_reason;
  if (need_actor && need_reason) return std::string("an actor and a reason");
  if (need_actor) return std::string("an actor");
  if (need_reason) return std::string("a reason");
  return std::nullopt;
}

std::optional<TruncatePolicy> ParseTruncatePolicy(std::string_view text) {
  if (text == "archive") return TruncatePolicy::kArchive;
  if (text == "deny") return TruncatePolicy::kDeny;
  if (text == "ignore") return TruncatePolicy::kIgnore;
  return std::nullopt;
}

}  // namespace deleted_record
