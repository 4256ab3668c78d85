// Unit tests for the UUIDv7 generator: layout, ordering and counter overflow.
#include <gtest/gtest.h>

#include <set>

#include "core/uuid7.hpp"

using deleted_record::FormatUuid;
using deleted_record::Uuid;
using deleted_record::Uuid7Generator;
using deleted_record::UuidTimestampMs;

TEST(Uuid7, HasVersionSevenAndRfcVariant) {
  Uuid7Generator generator;
  Uuid uuid = generator.Next(1700000000000ULL, 0x1234, 0xFFFFFFFFFFFFFFFFULL);
  EXPECT_EQ(uuid[6] >> 4, 7);
  EXPECT_EQ(uuid[8] >> 6, 2);
  std::string text = FormatUuid(uuid);
  EXPECT_EQ(text.size(), 36u);
  EXPECT_EQ(text[14], '7');
}

TEST(Uuid7, EncodesTheMillisecondTimestamp) {
  Uuid7Generator generator;
  Uuid uuid = generator.Next(0x0123456789ABULL, 1, 2);
  EXPECT_EQ(UuidTimestampMs(uuid), 0x0123456789ABULL);
  EXPECT_EQ(FormatUuid(uuid).substr(0, 13), "01234567-89ab");
}

TEST(Uuid7, StrictlyIncreasesWithinOneMillisecond) {
  Uuid7Generator generator;
  Uuid previous = generator.Next(1000, 5, 6);
  for (int i = 0; i < 10000; ++i) {
    Uuid next = generator.Next(1000, 0xFFFFFFFFFFFFFFFFULL, 0);
    ASSERT_LT(previous, next) << "at iteration " << i;
    EXPECT_EQ(UuidTimestampMs(next), 1000u);
    previous = next;
  }
}

TEST(Uuid7, StaysOrderedWhenTheClockGoesBackwards) {
  Uuid7Generator generator;
  Uuid later = generator.Next(5000, 1, 1);
  Uuid earlier_clock = generator.Next(4000, 1, 1);
  EXPECT_LT(later, earlier_clock);
  EXPECT_EQ(UuidTimestampMs(earlier_clock), 5000u);
}

TEST(Uuid7, NewMillisecondReseedsFromTheRandomInput) {
  Uuid7Generator generator;
  Uuid a = generator.Next(1, 0x0ABC, 0x0123456789ABCDEFULL);
  Uuid b = generator.Next(2, 0x0ABC, 0x0123456789ABCDEFULL);
  EXPECT_LT(a, b);
  // Same entropy, different millisecond: only the timestamp bytes differ.
  for (int i = 6; i < 16; ++i) EXPECT_EQ(a[i], b[i]) << "byte " << i;
}

TEST(Uuid7, CounterOverflowBorrowsTheNextMillisecond) {
  Uuid7Generator generator;
  // Start near the top of the counter: rand_a 0x7FF is the highest seed value.
  Uuid previous = generator.Next(10, 0x7FF, 0x3FFFFFFFFFFFFFFFULL);
  std::set<Uuid> seen{previous};
  for (int i = 0; i < 3000; ++i) {
    Uuid next = generator.Next(10, 0xFFFFFFFFFFFFFFFFULL, 7);
    ASSERT_LT(previous, next);
    seen.insert(next);
    previous = next;
  }
  EXPECT_EQ(seen.size(), 3001u);
}

TEST(Uuid7, FormatsIntoABufferLikePostgreSQL) {
  Uuid uuid = {0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11};
  char text[37];
  deleted_record::FormatUuidInto(uuid.data(), text);
  EXPECT_STREQ(text, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(FormatUuid(uuid), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
}
