// Stoikov's micro-price on the bundled recordings (data/: ETH on Binance spot, USD-M and COIN-M, 2024-08-08):
// fitted on each recording's first half, it forecasts the mid 1 s ahead on the second half better than the
// mid itself does. The figures are printed; `tranche md signals` reports the same.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "md/book_replay.hpp"
#include "md/book_signals.hpp"
#include "md/reader.hpp"
#include "md/test_data.hpp"

namespace tranche::md {
namespace {

class MicroPriceGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(MicroPriceGolden, ForecastsTheMidOneSecondAheadBetterThanTheMidOnTheUnseenHalf) {
  auto reader = open_reader({testing::bundled_data(GetParam())});
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  std::vector<TimedSample> touches;
  BookReplay replay;
  Event event;
  while ((*reader)->next(event)) {
    replay.apply(event);
    if (event.kind == EventKind::Quote && event.price.is_set() && event.price2.is_set())
      touches.push_back({event.recv_ns, {event.price, event.price2, event.qty, event.qty2}});
  }
  ASSERT_GT(touches.size(), 1000u);
  const Price tick = replay.stream(0)->book.tick_size();
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
