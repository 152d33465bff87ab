// TCA on small fixtures whose every figure is worked out by hand in the comments.
#include "tca/tca.hpp"

#include <gtest/gtest.h>

namespace tranche::tca {
namespace {

constexpr TimestampNs S = kNanosPerSecond;

// Mid: 100 from t=0, 101 from t=10 s, 102 from t=20 s, 99 from t=80 s.
MidSeries mids() {
  MidSeries m;
  m.add(0, 100);
  m.add(10 * S, 101);
  m.add(20 * S, 102);
  m.add(80 * S, 99);
  m.add(200 * S, 99.5);
  return m;
}

TcaFill fill(std::uint64_t child, const char* venue, double price, double qty, double fee, TimestampNs t,
             TimestampNs sent, Liquidity liq = Liquidity::Taker) {
  return {ClientOrderId(child), VenueId(venue), "", price, qty, fee, t, sent, liq};
}

// A buy of 10 arriving at t=0 (P0 = 100), ending at t=30 s:
//  fill A: 4 @ 101.5, fee 0.4, sent at 5 s (m 100), filled at 12 s (m 101), venue x;
//  fill B: 3 @ 101.8, fee -0.1 (rebate), sent at 15 s (m 101), filled at 25 s (m 102), venue y.
// Unfilled: 3, marked at m(30 s) = 102.
TcaInput buy_fixture(const MidSeries& m) {
  TcaInput in;
  in.side = Side::Buy;
  in.qty = 10;
  in.arrival_ns = 0;
  in.end_ns = 30 * S;
  in.algo = "test";
  in.primary_venue = VenueId("x");
  in.mids = &m;
  in.fills = {fill(1, "x", 101.5, 4, 0.4, 12 * S, 5 * S),
              fill(2, "y", 101.8, 3, -0.1, 25 * S, 15 * S, Liquidity::Maker)};
  // Others' prints: on x, 2 @ 101 at 11 s and 6 @ 102 at 21 s (VWAP (202 + 612) / 8 = 101.75); on y, 4 at 22
  // s; and one on x after the end, which does not count.
  in.trades = {{VenueId("x"), 11 * S, 101, 2},
               {VenueId("x"), 21 * S, 102, 6},
               {VenueId("y"), 22 * S, 103, 4},
               {VenueId("x"), 40 * S, 150, 100}};
  return in;
}

TEST(Tca, TheShortfallAndItsFivePartsMatchTheHandComputation) {
  const MidSeries m = mids();
  const auto r = analyze(buy_fixture(m)).value();
  EXPECT_DOUBLE_EQ(r.arrival_price, 100);
  EXPECT_DOUBLE_EQ(r.parent_notional, 1000);
  // delay  = 4 (100 - 100) + 3 (101 - 100) = 3
  // impact = 4 (101 - 100) + 3 (102 - 101) = 7
  // spread = 4 (101.5 - 101) + 3 (101.8 - 102) = 2 - 0.6 = 1.4
  // fees   = 0.4 - 0.1 = 0.3
  // opportunity = 3 (102 - 100) = 6
  EXPECT_NEAR(r.cost.delay, 3, 1e-12);
  EXPECT_NEAR(r.cost.impact, 7, 1e-12);
  EXPECT_NEAR(r.cost.spread, 1.4, 1e-12);
  EXPECT_NEAR(r.cost.fees, 0.3, 1e-12);
  EXPECT_NEAR(r.cost.opportunity, 6, 1e-12);
  // Directly: 4 (1.5) + 3 (1.8) + 0.3 + 6 = 6 + 5.4 + 0.3 + 6 = 17.7, i.e. 177 bps of 1,000.
  EXPECT_NEAR(r.implementation_shortfall, 17.7, 1e-12);
  EXPECT_NEAR(r.cost.total(), r.implementation_shortfall, 1e-12) << "the parts must add up to the total";
  EXPECT_NEAR(r.implementation_shortfall_bps, 177, 1e-9);
  EXPECT_NEAR(r.cost_bps.impact, 70, 1e-9);
  EXPECT_NEAR(r.filled, 7, 1e-12);
  EXPECT_NEAR(r.average_price, (406 + 305.4) / 7, 1e-12);
  EXPECT_DOUBLE_EQ(r.fill_ratio, 0.7);
}

TEST(Tca, IntervalBenchmarksParticipationAndMarkoutsMatchTheHandComputation) {
  const MidSeries m = mids();
  const auto r = analyze(buy_fixture(m)).value();
  const double avg = (406 + 305.4) / 7;  // 101.62857...
  ASSERT_TRUE(r.vwap.has_value());
  EXPECT_NEAR(*r.vwap, 101.75, 1e-12);
  EXPECT_NEAR(*r.vwap_slippage_bps, 1e4 * (avg - 101.75) / 101.75, 1e-9);  // negative: better than VWAP
  // TWAP over [0, 30 s]: 10 s at 100, 10 s at 101, 10 s at 102 = 101.
  EXPECT_NEAR(*r.twap, 101, 1e-12);
  EXPECT_NEAR(*r.twap_slippage_bps, 1e4 * (avg - 101) / 101, 1e-9);
  // Others' volume on the venues we traded on, in [0, 30 s]: 2 + 6 on x and 4 on y = 12; X = 7.
  EXPECT_NEAR(r.market_volume, 12, 1e-12);
  EXPECT_NEAR(*r.participation, 7.0 / 19.0, 1e-12);
  // Markout 60 s: A at 12 s -> m(72 s) = 102: 1e4 (101.5 - 102) / 101.5; B at 25 s -> m(85 s) = 99: 1e4
  // (101.8 - 99) / 101.8.
  ASSERT_EQ(r.markouts.size(), 3u);
  const double a = 1e4 * (101.5 - 102) / 101.5, b = 1e4 * (101.8 - 99) / 101.8;
  EXPECT_NEAR(*r.markouts[2].bps, (4 * a + 3 * b) / 7, 1e-9);
  EXPECT_EQ(r.markouts[2].fills_covered, 2u);
  // Markout 1 s: A -> m(13 s) = 101, B -> m(26 s) = 102.
  EXPECT_NEAR(*r.markouts[0].bps, (4 * 1e4 * (101.5 - 101) / 101.5 + 3 * 1e4 * (101.8 - 102) / 101.8) / 7,
              1e-9);
}

TEST(Tca, BreakdownsPerChildVenueAndAlgoSplitTheCostsAndLeaveOpportunityWithTheParent) {
  const MidSeries m = mids();
  const auto r = analyze(buy_fixture(m)).value();
  ASSERT_EQ(r.by_venue.size(), 2u);
  const Breakdown& x = r.by_venue[0];
  EXPECT_EQ(x.key, "x");
  EXPECT_NEAR(x.cost.delay, 0, 1e-12);
  EXPECT_NEAR(x.cost.impact, 4, 1e-12);
  EXPECT_NEAR(x.cost.spread, 2, 1e-12);
  EXPECT_NEAR(x.cost.fees, 0.4, 1e-12);
  EXPECT_NEAR(x.cost.opportunity, 0, 1e-12);
  EXPECT_NEAR(x.cost_bps.impact, 40, 1e-9);
  double parts = 0;
  for (const auto& v : r.by_venue) parts += v.cost.total();
  EXPECT_NEAR(parts + r.cost.opportunity, r.implementation_shortfall, 1e-9);
  ASSERT_EQ(r.by_child.size(), 2u);
  ASSERT_EQ(r.by_algo.size(), 1u);
  EXPECT_EQ(r.by_algo[0].key, "test");
  EXPECT_NEAR(r.by_algo[0].filled, 7, 1e-12);
}

TEST(Tca, ASellIsCostedWithItsSignAndAFinishedParentEndsAtItsLastFill) {
  const MidSeries m = mids();
  TcaInput in;
  in.side = Side::Sell;
  in.qty = 2;
  in.arrival_ns = 12 * S;  // P0 = 101
  in.end_ns = 100 * S;
  in.finished_early = true;
  in.mids = &m;
  in.primary_venue = VenueId("x");
  in.fills = {fill(1, "x", 100.5, 2, 0.2, 22 * S, 12 * S)};  // sold below arrival: a cost
  const auto r = analyze(in).value();
  EXPECT_EQ(r.t_end_ns, 22 * S);
  // s = -1: price vs arrival -2 (100.5 - 101) = 1; fees 0.2; nothing unfilled: 1.2, 1.2 / 202 = 59.4 bps.
  EXPECT_NEAR(r.implementation_shortfall, 1.2, 1e-12);
  EXPECT_NEAR(r.cost.delay, 0, 1e-12);
  EXPECT_NEAR(r.cost.impact, -2, 1e-12);  // the mid rose to 102 before the fill: good for a seller
  EXPECT_NEAR(r.cost.spread, 3, 1e-12);   // -2 (100.5 - 102)
  EXPECT_NEAR(r.cost.total(), r.implementation_shortfall, 1e-12);
  EXPECT_NEAR(r.implementation_shortfall_bps, 1e4 * 1.2 / 202, 1e-9);
}

TEST(Tca, NothingFilledIsAllOpportunityCost) {
  const MidSeries m = mids();
  TcaInput in;
  in.side = Side::Buy;
  in.qty = 5;
  in.arrival_ns = 0;
  in.end_ns = 90 * S;  // m(T) = 99: the price fell, so not buying was good
  in.mids = &m;
  in.primary_venue = VenueId("x");
  const auto r = analyze(in).value();
  EXPECT_NEAR(r.cost.opportunity, -5, 1e-12);
  EXPECT_NEAR(r.implementation_shortfall, -5, 1e-12);
  EXPECT_DOUBLE_EQ(r.fill_ratio, 0);
  EXPECT_FALSE(r.vwap_slippage_bps.has_value());
  EXPECT_FALSE(r.markouts[0].bps.has_value());
}

TEST(Tca, AParentWithoutAnArrivalMidCannotBeValued) {
  MidSeries m;
  m.add(10 * S, 100);
  TcaInput in;
  in.qty = 1;
  in.arrival_ns = 5 * S;
  in.mids = &m;
  EXPECT_FALSE(analyze(in).ok());
}

TEST(MidSeries, DroppingWhatIsBeforeATimeKeepsEveryReadFromThatTimeOn) {
  MidSeries m;
  m.add(10, 100.0);
  m.add(20, 101.0);
  m.add(30, 102.0);
  m.drop_before(25);
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(*m.at(25), 101.0);
  EXPECT_EQ(*m.at(30), 102.0);
  EXPECT_FALSE(m.at(15));
  m.drop_before(5);  // nothing before it: nothing dropped
  EXPECT_EQ(m.size(), 2u);
}

TEST(MidSeries, IsAStepFunctionAndItsTimeWeightedMeanIntegratesTheSteps) {
  MidSeries m;
  m.add(0, 10);
  m.add(1 * S, 12);
  m.add(1 * S, 14);  // same time: replaces
  m.add(3 * S, 14);  // no change: dropped
  EXPECT_EQ(m.size(), 2u);
  EXPECT_FALSE(m.at(-1).has_value());
  EXPECT_DOUBLE_EQ(*m.at(999'999'999), 10);
  EXPECT_DOUBLE_EQ(*m.at(S), 14);
  EXPECT_DOUBLE_EQ(*m.time_weighted(0, 4 * S), (10 * 1 + 14 * 3) / 4.0);
}

}  // namespace
}  // namespace tranche::tca
