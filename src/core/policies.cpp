// The policy name tables and their parsers.
#include "core/policies.hpp"

#include <cctype>

namespace deleted_record {

namespace {

struct RequiredContextEntry {
  const char* name;
  RequiredContext policy;
};
constexpr RequiredContextEntry kRequiredContexts[] = {
    {"none", RequiredContext::kNone},
    {"actor", RequiredContext::kActor},
    {"reason", RequiredContext::kReason},
    {"actor_and_reason", RequiredContext::kActorAndReason},
};

struct TruncatePolicyEntry {
  const char* name;
  TruncatePolicy policy;
};
constexpr TruncatePolicyEntry kTruncatePolicies[] = {
    {"archive", TruncatePolicy::kArchive},
    {"deny", TruncatePolicy::kDeny},
    {"ignore", TruncatePolicy::kIgnore},
};

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

std::optional<RequiredContext> ParseRequiredContext(std::string_view text) {
  for (const auto& entry : kRequiredContexts)
    if (EqualsIgnoringCase(text, entry.name)) return entry.policy;
  return std::nullopt;
}

const char* RequiredContextName(RequiredContext policy) {
  for (const auto& entry : kRequiredContexts)
    if (entry.policy == policy) return entry.name;
  return "none";
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
  for (const auto& entry : kTruncatePolicies)
    if (text == entry.name) return entry.policy;
  return std::nullopt;
}

const char* TruncatePolicyName(TruncatePolicy policy) {
  for (const auto& entry : kTruncatePolicies)
    if (entry.policy == policy) return entry.name;
  return "archive";
}

}  // namespace deleted_record
