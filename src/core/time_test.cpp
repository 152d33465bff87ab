#include "core/time.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

namespace tranche {
namespace {

TimestampNs must_parse(std::string_view text) {
  const auto result = parse_time(text);
  EXPECT_TRUE(result.ok()) << "'" << text << "': " << (result.ok() ? "" : result.error().message);
  return result.ok() ? *result : 0;
}

// Checked independently: `date -u -d 2024-08-08T23:54:17Z +%s` prints 1723161257.
constexpr TimestampNs kKnown = 1'723'161'257'000'000'000;
// `date -u -d 2024-08-08T23:55:00Z +%s` prints 1723161300.
constexpr TimestampNs kFiveToMidnight = 1'723'161'300'000'000'000;

TEST(ParseTime, ReadsAKnownIsoTimeToTheSameNanosecondsAsTheDateCommand) {
  EXPECT_EQ(must_parse("2024-08-08T23:54:17Z"), kKnown);
  EXPECT_EQ(must_parse("2024-08-08T23:55:00Z"), kFiveToMidnight);
  EXPECT_EQ(must_parse("1970-01-01T00:00:00Z"), 0);
  // `date -u -d 2000-02-29T12:34:56Z +%s` = 951827696 (a leap day of a year divisible by 400).
  EXPECT_EQ(must_parse("2000-02-29T12:34:56Z"), 951'827'696 * kNanosPerSecond);
  // `date -u -d 2100-03-01T00:00:00Z +%s` = 4107542400 (2100 is not a leap year).
  EXPECT_EQ(must_parse("2100-03-01T00:00:00Z"), 4'107'542'400 * kNanosPerSecond);
  // `date -u -d 1969-12-31T23:59:59Z +%s` = -1.
  EXPECT_EQ(must_parse("1969-12-31T23:59:59Z"), -kNanosPerSecond);
}

// Regression: the config fuzzer found year 0000 overflowing the nanoseconds (signed overflow under UBSan).
TEST(ParseTime, RefusesAYearNanosecondsSince1970In64BitsCannotHold) {
  for (const char* text : {"0000-01-01T00:00:00Z", "1677-12-31", "2262-04-12T00:00:00Z", "9999-12-31"}) {
    const auto parsed = parse_time(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_NE(parsed.error().message.find("1678 to 2261"), std::string::npos) << parsed.error().message;
  }
  EXPECT_TRUE(parse_time("1678-01-01T00:00:00Z").ok());
  EXPECT_TRUE(parse_time("2261-12-31T23:59:59.999999999Z").ok());
}

TEST(ParseTime, ReadsAFractionOfASecondToTheNanosecond) {
  EXPECT_EQ(must_parse("2024-08-08T23:55:00.123456789Z"), kFiveToMidnight + 123'456'789);
  EXPECT_EQ(must_parse("2024-08-08T23:55:00.5Z"), kFiveToMidnight + 500'000'000);
  EXPECT_EQ(must_parse("2024-08-08T23:55:00.000001Z"), kFiveToMidnight + 1'000);
  EXPECT_EQ(must_parse("2024-08-08T23:55:00.000000001"), kFiveToMidnight + 1);
}

TEST(ParseTime, AcceptsASpaceForTheTAndAMissingZAsUtc) {
  EXPECT_EQ(must_parse("2024-08-08 23:55:00"), kFiveToMidnight);
  EXPECT_EQ(must_parse("2024-08-08T23:55:00"), kFiveToMidnight);
  EXPECT_EQ(must_parse("2024-08-08 23:55:00Z"), kFiveToMidnight);
  EXPECT_EQ(must_parse("2024-08-08 23:55:00.25"), kFiveToMidnight + 250'000'000);
}

TEST(ParseTime, ReadsADateAloneAsItsMidnight) {
  EXPECT_EQ(must_parse("2024-08-08"), kFiveToMidnight - (23 * 3600 + 55 * 60) * kNanosPerSecond);
  EXPECT_EQ(must_parse("2024-08-09Z"), kFiveToMidnight + 5 * 60 * kNanosPerSecond);
}

TEST(ParseTime, ReadsABareIntegerAsNanosecondsSinceTheEpoch) {
  EXPECT_EQ(must_parse("1723161257000000000"), kKnown);
  EXPECT_EQ(must_parse("0"), 0);
  EXPECT_EQ(must_parse("42"), 42);
}

TEST(ParseTime, RejectsGarbageAndImpossibleFields) {
  for (const char* text : {"",
                           "garbage",
                           "yesterday",
                           "2024-13-01T00:00:00Z",
                           "2024-00-10T00:00:00Z",
                           "2024-08-00T00:00:00Z",
                           "2024-08-32T00:00:00Z",
                           "2024-08-08T24:00:00Z",
                           "2024-08-08T23:60:00Z",
                           "2024-08-08T23:55:61Z",
                           "2024-08-08T23:55Z",
                           "2024-08-08T23:55:00.Z",
                           "2024-08-08T23:55:00ZZ",
                           "2024-08-08T23:55:00+01:00",
                           "2024-08-08X23:55:00Z",
                           "2024/08/08",
                           "24-08-08",
                           "2024-8-8",
                           "-5",
                           "1.5",
                           "99999999999999999999999"}) {
    const auto result = parse_time(text);
    EXPECT_FALSE(result.ok()) << "'" << text << "' should be rejected, got " << (result.ok() ? *result : 0);
  }
}

TEST(ParseTime, RejectsADayThatItsMonthDoesNotHave) {
  EXPECT_FALSE(parse_time("2024-02-30T00:00:00Z").ok());
  EXPECT_FALSE(parse_time("2023-02-29T00:00:00Z").ok());
  EXPECT_FALSE(parse_time("2100-02-29").ok());
  EXPECT_FALSE(parse_time("2024-04-31").ok());
  EXPECT_FALSE(parse_time("2024-11-31").ok());
  EXPECT_TRUE(parse_time("2024-02-29").ok());
  EXPECT_TRUE(parse_time("2000-02-29").ok());
  EXPECT_TRUE(parse_time("2024-12-31").ok());
}

TEST(ParseTime, ErrorNamesTheTextAndTheAcceptedForms) {
  const auto result = parse_time("2024-13-01");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("'2024-13-01'"), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("ISO-8601"), std::string::npos) << result.error().message;
}

TEST(FormatTime, PrintsIsoUtcWithNineFractionDigits) {
  EXPECT_EQ(format_time(kKnown), "2024-08-08T23:54:17.000000000Z");
  EXPECT_EQ(format_time(kFiveToMidnight + 123'456'789), "2024-08-08T23:55:00.123456789Z");
  EXPECT_EQ(format_time(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(format_time(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(format_time(951'827'696 * kNanosPerSecond + 7), "2000-02-29T12:34:56.000000007Z");
}

TEST(FormatTime, RoundTripsThroughParseTimeForRandomInstants) {
  std::uint64_t seed;
  if (const char* env = std::getenv("TRANCHE_TEST_SEED")) {
    seed = std::strtoull(env, nullptr, 10);
  } else {
    std::random_device device;
    seed = (static_cast<std::uint64_t>(device()) << 32) | device();
  }
  SCOPED_TRACE("seed " + std::to_string(seed) + " (replay with TRANCHE_TEST_SEED=" + std::to_string(seed) +
               ")");
  std::mt19937_64 rng(seed);
  // About 1685 to 2255: the years int64 nanoseconds can hold, printed with four digits.
  std::uniform_int_distribution<TimestampNs> any(-9'000'000'000'000'000'000, 9'000'000'000'000'000'000);
  int failures = 0;
  for (int i = 0; i < 100'000 && failures < 10; ++i) {
    const TimestampNs ts = any(rng);
    const std::string text = format_time(ts);
    const auto back = parse_time(text);
    if (!back.ok() || *back != ts) {
      ++failures;
      ADD_FAILURE() << ts << " printed as " << text << " parsed "
                    << (back.ok() ? std::to_string(*back) : back.error().message);
    }
  }
}

}  // namespace
}  // namespace tranche
