// The algos measured on real data, through the product (`tranche backtest` on grids/default.toml, less the
// 1x size): 2-minute horizons starting every 30 s from 23:54:30 to 23:57:30, each as a buy and as a sell so
// the market's drift cancels, sizes 10x and 50x binance-spot's touch size. At both sizes every scheduling
// algo (twap, vwap, pov, is) costs less than a marketable sweep of the same size, fees included, and every
// run finishes its order. The whole table is printed for the record.
#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>

#include "service/backtest_command.hpp"

namespace tranche {
namespace {

TEST(AlgoQuality, EverySchedulingAlgoCostsLessThanTheMarketSweepAt10xAnd50xTheTouchSize) {
  auto spec = service::load_grid(std::string(TRANCHE_SOURCE_DIR) + "/grids/default.toml");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  spec.value().sizes.erase(spec.value().sizes.begin());  // 1x: printed by `tranche backtest`, not asserted
  ASSERT_EQ(spec.value().sizes.front().label, "10x");
  std::ostringstream progress;
  auto result = service::run_grid(*spec, progress, 2);
  ASSERT_TRUE(result.ok()) << result.error().message;
  std::printf("seed %llu; touch size %.3f\n", static_cast<unsigned long long>(spec->seed.value_or(0)),
              result->touch_sizes.front().second);
  std::printf("%-6s %-8s %10s %12s %10s %8s %12s\n", "size", "algo", "cost bps", "ex-fees bps", "risk bps",
              "fill %", "vs market");
  for (const auto& s : result->summary)
    std::printf("%-6s %-8s %10.2f %12.2f %10.2f %8.1f %12.2f\n", s.size_label.c_str(), s.algo.c_str(),
                s.cost_bps, s.cost_ex_fees_bps, s.risk_bps, 100 * s.fill_ratio, s.vs_market_bps);
  for (const auto& r : result->runs) {
    EXPECT_TRUE(r.ok) << r.algo << " " << r.side << " " << r.qty << " at " << format_time(r.start_ns) << ": "
                      << r.error;
    EXPECT_GE(r.fill_ratio, 0.99) << r.algo << " " << r.side << " " << r.qty << " at "
                                  << format_time(r.start_ns) << ": " << r.done_text;
  }
  for (const auto& s : result->summary) {
    if (s.algo == "market" || s.algo == "iceberg" || s.algo == "peg") continue;
    ASSERT_TRUE(s.has_market);
    EXPECT_LT(s.vs_market_bps, 0) << s.algo << " at " << s.size_label << " costs " << s.cost_bps
                                  << " bps, the market sweep " << s.cost_bps - s.vs_market_bps << " bps";
  }
}

}  // namespace
}  // namespace tranche
