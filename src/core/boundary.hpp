// The only door between the PostgreSQL glue (src/glue) and the C++ core.
// Every function here is noexcept and takes and returns plain data, so that no C++ exception
// can reach PostgreSQL and the glue never holds a C++ object that an ereport could jump over.
// A failure inside the core comes back as a Verdict; the glue raises the PostgreSQL error
// itself, after the call has returned.
#pragma once
#include "core/no_postgres.hpp"

#include <cstddef>
#include <cstdint>

namespace deleted_record::boundary {

// Verdict is the outcome of a check: ok, or a message for the user (NUL-terminated, truncated).
struct Verdict {
  bool ok;
  char message[256];
};

// CheckMetadata validates a deleted_record.metadata value (NULL or "" mean unset).
Verdict CheckMetadata(const char* text) noexcept;

// CheckRequiredContext applies the deleted_record.require_context policy (0 none, 1 actor,
// 2 reason, 3 actor_and_reason); the message names what is missing.
Verdict CheckRequiredContext(int policy, bool has_actor, bool has_reason) noexcept;

// ParseTruncatePolicy maps 'archive'/'deny'/'ignore' to 0/1/2; on failure the message lists them.
Verdict ParseTruncatePolicy(const char* text, int* policy) noexcept;

// FormatUuid writes the 36-character text form of a 16-byte UUID, NUL-terminated, into out.
void FormatUuid(const std::uint8_t bytes[16], char out[37]) noexcept;

// NextUuid7 writes the next UUIDv7 of this process into out.
void NextUuid7(std::uint64_t unix_ms, std::uint64_t random_a, std::uint64_t random_b, std::uint8_t out[16]) noexcept;

}  // namespace deleted_record::boundary
