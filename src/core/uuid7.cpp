// UUIDv7 generation: 48-bit millisecond timestamp, version 7, 74 bits of counter/entropy.
#include "core/uuid7.hpp"

namespace deleted_record {

namespace {
constexpr std::uint64_t kLowMask = (std::uint64_t{1} << 62) - 1;
constexpr std::uint16_t kHighMask = 0x0FFF;
constexpr std::uint64_t kMaxTimestamp = (std::uint64_t{1} << 48) - 1;
}  // namespace

void Uuid7Generator::Reseed(std::uint64_t unix_ms, std::uint64_t random_a, std::uint64_t random_b) noexcept {
  last_ms_ = unix_ms & kMaxTimestamp;
  // The top bit of the counter starts clear, leaving room for 2^73 increments in this millisecond.
  counter_high_ = static_cast<std::uint16_t>(random_a & 0x07FF);
  counter_low_ = random_b & kLowMask;
}

Uuid Uuid7Generator::Next(std::uint64_t unix_ms, std::uint64_t random_a, std::uint64_t random_b) noexcept {
  unix_ms &= kMaxTimestamp;
  if (unix_ms > last_ms_) {
    Reseed(unix_ms, random_a, random_b);
  } else {
    // Same millisecond or a clock step backwards: advance by a random step of 1..2^20 so that
    // ids stay ordered without becoming trivially guessable.
    std::uint64_t step = 1 + (random_a >> 44);
    std::uint64_t low = counter_low_ + step;
    if (low > kLowMask) {
      low &= kLowMask;
      if (counter_high_ == kHighMask) {
        // Counter exhausted: borrow the next millisecond, as RFC 9562 allows.
        Reseed(last_ms_ + 1, random_a, random_b);
        low = counter_low_;
      } else {
        ++counter_high_;
      }
    }
    counter_low_ = low;
  }

  Uuid out{};
  for (int i = 0; i < 6; ++i) out[i] = static_cast<std::uint8_t>(last_ms_ >> (40 - 8 * i));
  out[6] = static_cast<std::uint8_t>(0x70 | (counter_high_ >> 8));
  out[7] = static_cast<std::uint8_t>(counter_high_ & 0xFF);
  out[8] = static_cast<std::uint8_t>(0x80 | ((counter_low_ >> 56) & 0x3F));
  for (int i = 9; i < 16; ++i) out[i] = static_cast<std::uint8_t>(counter_low_ >> (8 * (15 - i)));
  return out;
}

void FormatUuidInto(const std::uint8_t* bytes, char* out) noexcept {
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *out++ = '-';
    *out++ = kHex[bytes[i] >> 4];
    *out++ = kHex[bytes[i] & 0x0F];
  }
  *out = '\0';
}

std::string FormatUuid(const Uuid& uuid) {
  char text[37];
  FormatUuidInto(uuid.data(), text);
  return std::string(text, 36);
}

std::uint64_t UuidTimestampMs(const Uuid& uuid) noexcept {
  std::uint64_t ms = 0;
  for (int i = 0; i < 6; ++i) ms = (ms << 8) | uuid[i];
  return ms;
}

}  // namespace deleted_record
