// Implements the noexcept boundary: every entry catches everything the core can throw.
#include "core/boundary.hpp"

#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "core/setting_names.hpp"
#include "core/uuid7.hpp"

namespace deleted_record::boundary {

namespace {

Verdict Ok() noexcept {
  Verdict verdict{};
  verdict.ok = true;
  return verdict;
}

Verdict Fail(const char* message) noexcept {
  Verdict verdict{};
  verdict.ok = false;
  std::strncpy(verdict.message, message, sizeof(verdict.message) - 1);
  return verdict;
}

// Guarded runs body and turns any exception into a failed Verdict.
template <typename Body>
Verdict Guarded(Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& error) {
    return Fail(error.what());
  } catch (...) {
    return Fail("unexpected internal error in deleted_record");
  }
}

// The process's generator: PostgreSQL backends are single-threaded, so no locking is needed.
Uuid7Generator& ProcessGenerator() noexcept {
  static Uuid7Generator generator;
  return generator;
}

}  // namespace

Verdict ParseRequiredContext(const char* text, RequiredContext* policy) noexcept {
  return Guarded([&] {
    auto parsed = deleted_record::ParseRequiredContext(text ? text : "");
    if (!parsed) return Fail((std::string("allowed values are ") + kRequiredContextValues).c_str());
    *policy = *parsed;
    return Ok();
  });
}

Verdict CheckRequiredContext(RequiredContext policy, bool has_actor, bool has_reason) noexcept {
  return Guarded([&] {
    auto missing = MissingContext(policy, has_actor, has_reason);
    return missing ? Fail(missing->c_str()) : Ok();
  });
}

const char* RequiredContextName(RequiredContext policy) noexcept { return deleted_record::RequiredContextName(policy); }

Verdict ParseTruncatePolicy(const char* text, TruncatePolicy* policy) noexcept {
  return Guarded([&] {
    auto parsed = deleted_record::ParseTruncatePolicy(text ? text : "");
    if (!parsed) return Fail((std::string("allowed values are ") + kTruncatePolicyValues).c_str());
    *policy = *parsed;
    return Ok();
  });
}

const char* TruncatePolicyName(TruncatePolicy policy) noexcept { return deleted_record::TruncatePolicyName(policy); }

bool ClosestName(const char* unknown, const char* const* known, int count, int* index) noexcept {
  try {
    std::vector<std::string_view> names(known, known + count);
    auto closest = deleted_record::ClosestName(unknown ? unknown : "", names);
    if (!closest) return false;
    *index = static_cast<int>(*closest);
    return true;
  } catch (...) {
    return false;
  }
}

void FormatUuid(const std::uint8_t bytes[16], char out[37]) noexcept { FormatUuidInto(bytes, out); }

void NextUuid7(std::uint64_t unix_ms, std::uint64_t random_a, std::uint64_t random_b, std::uint8_t out[16]) noexcept {
  Uuid uuid = ProcessGenerator().Next(unix_ms, random_a, random_b);
  std::memcpy(out, uuid.data(), uuid.size());
}

}  // namespace deleted_record::boundary
