// Uuid7Generator makes time-ordered UUIDs (RFC 9562, version 7) that increase strictly within
// one generator, so the archive's primary-key index only ever grows at its right edge.
#pragma once
#include "core/no_postgres.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace deleted_record {

using Uuid = std::array<std::uint8_t, 16>;

class Uuid7Generator {
 public:
  // Next returns a UUIDv7 for the wall-clock time unix_ms, using random_a and random_b as the
  // entropy for a new millisecond. Within one millisecond (or when the clock goes backwards) the
  // previous value's 74-bit counter is advanced instead, so every result is greater than the last.
  Uuid Next(std::uint64_t unix_ms, std::uint64_t random_a, std::uint64_t random_b) noexcept;

 private:
  void Reseed(std::uint64_t unix_ms, std::uint64_t random_a, std::uint64_t random_b) noexcept;

  std::uint64_t last_ms_ = 0;
  std::uint16_t counter_high_ = 0;  // the 12 "rand_a" bits
  std::uint64_t counter_low_ = 0;   // the 62 "rand_b" bits
};

// FormatUuidInto writes the canonical 8-4-4-4-12 lower-case hex form (36 characters, then NUL).
void FormatUuidInto(const std::uint8_t* bytes, char* out) noexcept;

// FormatUuid renders the canonical 8-4-4-4-12 lower-case hex form.
std::string FormatUuid(const Uuid& uuid);

// UuidTimestampMs extracts the 48-bit Unix millisecond timestamp of a UUIDv7.
std::uint64_t UuidTimestampMs(const Uuid& uuid) noexcept;

}  // namespace deleted_record
