// The pre-trade model on a market built by hand: the square-root law, the sweep walking the books level by
// level with each venue's fee, timing risk growing with the horizon, pov finishing early on plenty of volume,
// and the recommendation weighing risk when asked.
#include "tca/pretrade.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace tranche::tca {
namespace {

MarketMeasure two_venues() {
  MarketMeasure m;
  m.mid = 100;
  m.sigma_bps_per_sqrt_s = 2;
  m.sigma_samples = 299;
  m.window_s = 300;
  VenueLiquidity a;
  a.venue = "a";
  a.maker_fee_bps = 1;
  a.taker_fee_bps = 5;
  a.spread_bps = 2;
  a.volume_per_s = 3;
  a.levels = {{100.01, 2}, {100.02, 3}};
  VenueLiquidity b = a;
  b.venue = "b";
  b.maker_fee_bps = 2;
  b.taker_fee_bps = 10;
  b.volume_per_s = 1;
  b.levels = {{100.015, 1}};
  m.venues = {a, b};
  return m;
}

const AlgoEstimate& of(const PretradeEstimate& e, const std::string& algo) {
  for (const auto& a : e.algos)
    if (a.algo == algo) return a;
  throw std::runtime_error("no " + algo);
}

TEST(Pretrade, ImpactFollowsTheSquareRootOfSizeOverVolumeWhateverTheHorizon) {
  const MarketMeasure m = two_venues();
  const auto small = estimate_costs(m, {Side::Buy, 10, 120});
  const auto large = estimate_costs(m, {Side::Buy, 40, 120});
  const auto longer = estimate_costs(m, {Side::Buy, 10, 600});
  // Y sigma sqrt(Q / V) = Y x 2 x sqrt(10 / 4).
  EXPECT_NEAR(of(small, "twap").impact_bps, PretradeModel{}.impact_coefficient * 2 * std::sqrt(10.0 / 4),
              1e-12);
  EXPECT_NEAR(of(large, "twap").impact_bps, 2 * of(small, "twap").impact_bps, 1e-12);
  EXPECT_NEAR(of(longer, "twap").impact_bps, of(small, "twap").impact_bps, 1e-12);
  // Risk grows with the square root of the horizon: sigma sqrt(H / 3).
  EXPECT_NEAR(of(small, "twap").risk_bps, 2 * std::sqrt(40.0), 1e-12);
  EXPECT_NEAR(of(longer, "twap").risk_bps, of(small, "twap").risk_bps * std::sqrt(5.0), 1e-12);
}

TEST(Pretrade, ASchedulesSpreadAndFeesWeighItsRestingShare) {
  const auto e = estimate_costs(two_venues(), {Side::Sell, 10, 120});
  const AlgoEstimate& twap = of(e, "twap");
  // Half spread 1 bp; 60% rests (earns it, pays the cheapest maker fee, 1), 40% crosses (pays it, and the
  // volume-weighted taker fee, (3 x 5 + 1 x 10) / 4).
  EXPECT_NEAR(twap.spread_bps, 0.4 * 1 - 0.6 * 1, 1e-12);
  EXPECT_NEAR(twap.fees_bps, 0.6 * 1 + 0.4 * 6.25, 1e-12);
  EXPECT_NEAR(twap.cost_bps, twap.spread_bps + twap.impact_bps + twap.fees_bps, 1e-12);
}

TEST(Pretrade, ARestingShareIsNeverMoreThanOthersTradeOverTheDuration) {
  // Others trade 4 a second: over 60 s, 240. An order of 400 can rest at most 60% of itself, so peg's 90%
  // is cut to 60% and twap's 60% stands; an order of 40 keeps both.
  const auto big = estimate_costs(two_venues(), {Side::Sell, 400, 60});
  const AlgoEstimate& peg = of(big, "peg");
  EXPECT_NEAR(peg.fees_bps, 0.6 * 1 + 0.4 * 6.25, 1e-12);
  EXPECT_NE(peg.note.find("resting share 60%"), std::string::npos) << peg.note;
  EXPECT_NEAR(of(big, "twap").fees_bps, 0.6 * 1 + 0.4 * 6.25, 1e-12);
  const auto small = estimate_costs(two_venues(), {Side::Sell, 40, 60});
  EXPECT_NEAR(of(small, "peg").fees_bps, 0.9 * 1 + 0.1 * 6.25, 1e-12);
  EXPECT_EQ(of(small, "peg").note.find("resting share"), std::string::npos);
}

TEST(Pretrade, TheSweepWalksTheBooksBestPriceFirstWithEachVenuesFee) {
  const auto e = estimate_costs(two_venues(), {Side::Buy, 4, 120});
  const AlgoEstimate& market = of(e, "market");
  // Net of fees, best first: 2 at 100.01 (a, 5 bps), 3 at 100.02 (a), then 100.015 on b (10 bps: 100.115).
  const double average = (2 * 100.01 + 2 * 100.02) / 4;
  EXPECT_NEAR(market.spread_bps, 1.0, 1e-9);  // the touch, 100.01, is 1 bp over the mid
  EXPECT_NEAR(market.spread_bps + market.impact_bps, (average - 100) / 100 * 1e4, 1e-9);
  const double fees = 5.0;
  EXPECT_NEAR(market.fees_bps, fees, 1e-9);
  EXPECT_EQ(market.risk_bps, 0);
  EXPECT_EQ(market.note, "the displayed books walked now");
  // Beyond what the books show, the rest is priced at the deepest level, and it says so.
  const auto deep = estimate_costs(two_venues(), {Side::Buy, 10, 120});
  EXPECT_NE(of(deep, "market").note.find("the books show 6 of 10"), std::string::npos);
}

TEST(Pretrade, PovFinishesEarlyOnPlentyOfVolumeAndFallsBackToItsFloorOnThinVolume) {
  // 10% of 4 base a second: 10 base take 25 s.
  const auto quick = estimate_costs(two_venues(), {Side::Buy, 10, 120});
  EXPECT_NEAR(of(quick, "pov").duration_s, 25, 1e-9);
  EXPECT_LT(of(quick, "pov").risk_bps, of(quick, "twap").risk_bps);
  const auto thin = estimate_costs(two_venues(), {Side::Buy, 100, 120});  // 250 s needed
  EXPECT_EQ(of(thin, "pov").duration_s, 120);
  EXPECT_NE(of(thin, "pov").note.find("its floor"), std::string::npos);
}

TEST(Pretrade, TheRecommendationIsTheCheapestUnlessRiskIsWeighed) {
  const MarketMeasure m = two_venues();
  const auto by_cost = estimate_costs(m, {Side::Buy, 1, 600});
  EXPECT_EQ(by_cost.recommended, "peg");  // rests the most: the spread earned and the maker fee
  PretradeModel averse;
  averse.risk_weight = 10;
  const auto by_risk = estimate_costs(m, {Side::Buy, 1, 600}, averse);
  EXPECT_EQ(by_risk.recommended, "market");  // no timing risk, and 1 base is at the touch
}

}  // namespace
}  // namespace tranche::tca
