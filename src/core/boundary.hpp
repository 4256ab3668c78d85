// The only door between the PostgreSQL glue (src/glue) and the C++ core.
// Every function here is noexcept and takes and returns plain data, so that no C++ exception
// can reach PostgreSQL and the glue never holds a C++ object that an ereport could jump over.
// A failure inside the core comes back as a Verdict; the glue raises the PostgreSQL error
// itself, after the call has returned.
#pragma once
#include "core/no_postgres.hpp"

#include <cstddef>
#include <cstdint>

#include "core/policies.hpp"

namespace deleted_record::boundary {

// Verdict is the outcome of a check: ok, or a message for the user (NUL-terminated, truncated).
struct Verdict {
  bool ok;
  char message[256];
};

// ParseRequiredContext reads a deleted_record.require_context value; the message lists the names.
Verdict ParseRequiredContext(const char* text, RequiredContext* policy) noexcept;

// CheckRequiredContext applies the policy; the message names what is missing.
Verdict CheckRequiredContext(RequiredContext policy, bool has_actor, bool has_reason) noexcept;

// RequiredContextName is the canonical name of a policy (a static string).
const char* RequiredContextName(RequiredContext policy) noexcept;

// ParseTruncatePolicy reads 'archive', 'deny' or 'ignore'; on failure the message lists them.
Verdict ParseTruncatePolicy(const char* text, TruncatePolicy* policy) noexcept;

// TruncatePolicyName is the stored name of a policy (a static string).
const char* TruncatePolicyName(TruncatePolicy policy) noexcept;

// ClosestName sets *index to the entry of known[0..count) that unknown most plausibly
// misspells and returns true, or returns false when none is close.
bool ClosestName(const char* unknown, const char* const* known, int count, int* index) noexcept;

// FormatUuid writes the 36-character text form of a 16-byte UUID, NUL-terminated, into out.
void FormatUuid(const std::uint8_t bytes[16], char out[37]) noexcept;

// NextUuid7 writes the next UUIDv7 of this process into out.
void NextUuid7(std::uint64_t unix_ms, std::uint64_t random_a, std::uint64_t random_b, std::uint8_t out[16]) noexcept;

}  // namespace deleted_record::boundary
