// Stoikov's micro-price on the bundled recordings (data/: ETH on Binance spot, USD-M and COIN-M, 2024-08-08):
// fitted on each recording's first half, it forecasts the mid 1 s ahead on the second half better than the
// mid itself does. The figures are printed; `tranche md signals` reports the same.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "md/book_signals.hpp"
#include "md/reader.hpp"
#include "md/test_data.hpp"

namespace tranche::md {
namespace {

class MicroPriceGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(MicroPriceGolden, ForecastsTheMidOneSecondAheadBetterThanTheMidOnTheUnseenHalf) {
  auto reader = open_reader({testing::bundled_data(GetParam())});
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  const std::vector<StreamTouches> streams = read_touches(**reader);
  ASSERT_EQ(streams.size(), 1u);
  ASSERT_TRUE(streams[0].from_quotes);
  const std::vector<TimedSample>& touches = streams[0].states;
  ASSERT_GT(touches.size(), 1000u);
  const Price tick = streams[0].tick;
  MicroPriceModel model;
  auto score = score_micro_price(touches, tick, kNanosPerSecond, 100 * kNanosPerMilli, &model);
  ASSERT_TRUE(score) << score.error().message;
  std::printf(
      "%s: %llu transitions fitted; mid 1 s ahead over %llu samples, RMSE in ticks: mid %.3f, weighted mid "
      "%.3f, micro-price %.3f (%.4fx the mid's)\n",
      GetParam(), static_cast<unsigned long long>(score->fit_transitions),
      static_cast<unsigned long long>(score->samples), score->rmse_mid_ticks, score->rmse_weighted_ticks,
      score->rmse_micro_ticks, score->rmse_micro_ticks / score->rmse_mid_ticks);
  EXPECT_GT(score->samples, 1000u);
  EXPECT_LT(score->rmse_micro_ticks, score->rmse_mid_ticks);
  // A heavy bid lifts the forecast, a heavy ask lowers it.
  EXPECT_GT(model.adjustment_ticks(0.95, 1), 0);
  EXPECT_LT(model.adjustment_ticks(0.05, 1), 0);
}

INSTANTIATE_TEST_SUITE_P(BundledRecordings, MicroPriceGolden,
                         ::testing::Values("binance/spot/ethusdt_20240808.gz",
                                           "binance/usdm/ethusdt_20240808.gz",
                                           "binance/cm/ethusd_perp_20240808.gz"));

}  // namespace
}  // namespace tranche::md
