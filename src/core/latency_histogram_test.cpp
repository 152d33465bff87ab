// The latency histogram: every value lands in a bucket whose bound is within 1/16 of it, and percentiles
// read off the buckets.
#include "core/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <limits>

#include <cstdint>

namespace tranche {
namespace {

TEST(LatencyHistogram, EveryValueLandsInABucketWhoseUpperBoundIsWithinASixteenthOfIt) {
  for (std::uint64_t v : {0ull, 1ull, 15ull, 16ull, 17ull, 31ull, 32ull, 999ull, 1000ull, 123456789ull,
                          (1ull << 62) + 12345, ~0ull}) {
    const std::size_t b = LatencyHistogram::bucket_of(v);
    const std::uint64_t upper = LatencyHistogram::upper_of(b);
    EXPECT_GE(upper, v) << v;
    EXPECT_LE(static_cast<double>(upper - v), static_cast<double>(v) / 16.0 + 1) << v;
    if (b > 0) EXPECT_LT(LatencyHistogram::upper_of(b - 1), v) << v;
  }
}

TEST(LatencyHistogram, KeepsTheSumAndCountsWholeBucketsAtOrBelowABound) {
  LatencyHistogram h;
  for (std::int64_t v : {100, 200, 1'000, 1'000'000}) h.record(v);
  EXPECT_EQ(h.sum(), 1'001'300u);
  EXPECT_EQ(h.count_at_most(0), 0u);
  EXPECT_EQ(h.count_at_most(250), 2u);
  EXPECT_EQ(h.count_at_most(999'999), 3u);
  EXPECT_EQ(h.count_at_most(1'100'000), 4u);  // 1 ms's bucket ends within a sixteenth above it
  EXPECT_EQ(h.count_at_most(std::numeric_limits<std::uint64_t>::max()), 4u);
}

TEST(LatencyHistogram, PercentilesOfAUniformSpreadAreWhereTheyShouldBe) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile(0.5), 0u);
  for (int i = 1; i <= 10000; ++i) h.record(i * 100);  // 100 ns .. 1 ms
  EXPECT_EQ(h.count(), 10000u);
  EXPECT_EQ(h.max(), 1'000'000u);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.5)), 500'000, 500'000 / 16.0);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.99)), 990'000, 990'000 / 16.0);
  EXPECT_EQ(h.percentile(1.0), 1'000'000u);
  h.record(-5);  // a clock that stepped back counts as 0, never as a huge value
  EXPECT_EQ(h.max(), 1'000'000u);
  h.clear();
  EXPECT_EQ(h.count(), 0u);
}

}  // namespace
}  // namespace tranche
