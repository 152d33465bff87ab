#include "gateway/fix_time.hpp"

#include <gtest/gtest.h>

namespace tranche::gateway {
namespace {

TEST(FixTimestamp, ReadsSecondsToNanosecondsAndRefusesWhatIsNotOne) {
  EXPECT_EQ(parse_fix_timestamp("20240808-23:54:17"), parse_time("2024-08-08T23:54:17Z").value());
  EXPECT_EQ(parse_fix_timestamp("20240808-23:54:17.5"), parse_time("2024-08-08T23:54:17.5Z").value());
  EXPECT_EQ(parse_fix_timestamp("20240808-23:54:17.123456789"),
            parse_time("2024-08-08T23:54:17.123456789Z").value());
  for (const char* bad : {"", "2024-08-08T23:54:17Z", "20240808-25:00:00", "20240808-23:54:17.",
                          "20241308-00:00:00", "20240808-23:54:17.1234567890", "20240808-23:54:1x"})
    EXPECT_FALSE(parse_fix_timestamp(bad).has_value()) << bad;
  EXPECT_EQ(format_fix_timestamp(parse_time("2024-08-08T23:54:17.123456Z").value()), "20240808-23:54:17.123");
}

}  // namespace
}  // namespace tranche::gateway
