// The marketable router on hand-made books: all-in prices, crossed levels, rounding, timing, safety.
#include "ems/router.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace tranche::ems {
namespace {

Price p(const char* t) {
  return Price::parse(t).value();
}
Qty q(const char* t) {
  return Qty::parse(t).value();
}

VenueView venue(const char* id, double fee_bps, DurationNs latency, std::vector<md::Level> bids,
                std::vector<md::Level> asks) {
  VenueView v;
  v.venue = VenueId(id);
  v.listing.instrument = InstrumentId("ETH-USDT");
  v.listing.tick_size = p("0.01");
  v.listing.lot_size = q("0.001");
  v.taker_fee_bps = fee_bps;
  v.latency_ns = latency;
  v.bids = std::move(bids);
  v.asks = std::move(asks);
  return v;
}

TEST(Router, LevelsAreTakenInOrderOfTheirPriceNetOfTheVenuesFee) {
  // a: 100.00 with a 10 bps fee is 100.10 all-in; b: 100.05 with none is cheaper.
  const std::vector<VenueView> views = {
      venue("a", 10, kNanosPerMilli, {{p("99.90"), q("5")}}, {{p("100.00"), q("1")}, {p("100.20"), q("5")}}),
      venue("b", 0, 3 * kNanosPerMilli, {{p("99.90"), q("5")}},
            {{p("100.05"), q("1")}, {p("100.30"), q("5")}})};
  const RoutePlan plan = route_marketable(Side::Buy, q("1.5"), Price::unset(), 100, views);
  ASSERT_EQ(plan.pieces.size(), 2u);
  EXPECT_EQ(plan.pieces[0].venue, VenueId("a"));
  EXPECT_EQ(plan.pieces[0].qty, q("0.5"));
  EXPECT_EQ(plan.pieces[0].limit, p("100.00"));
  EXPECT_EQ(plan.pieces[1].venue, VenueId("b"));
  EXPECT_EQ(plan.pieces[1].qty, q("1"));
  // The pieces arrive together: a (1 ms) waits for b (3 ms).
  EXPECT_EQ(plan.pieces[0].send_delay_ns, 2 * kNanosPerMilli);
  EXPECT_EQ(plan.pieces[1].send_delay_ns, 0);
  EXPECT_NEAR(plan.average_all_in, (0.5 * 100.10 + 100.05) / 1.5, 1e-9);
  // Without fees a is taken first.
  const RoutePlan gross = route_marketable(Side::Buy, q("1.5"), Price::unset(), 100, views,
                                           {false, true, CrossedPolicy::NoPhantomGain});
  EXPECT_EQ(gross.pieces[0].qty, q("1"));
}

TEST(Router, TheCrossedPartOfTheCombinedBookIsNeverCountedAsAGain) {
  // b's ask 100.00 is below a's bid 100.02: the combined book is crossed there.
  const std::vector<VenueView> views = {
      venue("a", 0, 0, {{p("100.02"), q("5")}}, {{p("100.03"), q("5")}}),
      venue("b", 0, 0, {{p("99.99"), q("5")}}, {{p("100.00"), q("2")}, {p("100.04"), q("5")}})};
  // By default b's 2 at 100.00 are taken but valued at 100.02, a's bid: no phantom gain.
  const RoutePlan plan = route_marketable(Side::Buy, q("3"), Price::unset(), 100.01, views);
  EXPECT_EQ(plan.crossed_base, q("2"));  // what was taken there, counted once
  const RoutePlan small = route_marketable(Side::Buy, q("0.5"), Price::unset(), 100.01, views);
  EXPECT_EQ(small.crossed_base, q("0.5"));
  ASSERT_EQ(plan.pieces.size(), 2u);
  EXPECT_NEAR(plan.average_all_in, (2 * 100.02 + 100.03) / 3, 1e-9);
  // Left out altogether, all of it goes to a.
  RouterParams strict;
  strict.crossed = CrossedPolicy::Unavailable;
  const RoutePlan without = route_marketable(Side::Buy, q("3"), Price::unset(), 100.01, views, strict);
  ASSERT_EQ(without.pieces.size(), 1u);
  EXPECT_EQ(without.pieces[0].venue, VenueId("a"));
  EXPECT_EQ(without.pieces[0].qty, q("3"));
}

TEST(Router, AVenueThatCannotTradeGetsNothingAndSaysWhy) {
  std::vector<VenueView> views = {venue("a", 0, 0, {}, {{p("100.00"), q("5")}}),
                                  venue("b", 0, 0, {}, {{p("100.10"), q("5")}})};
  views[0].tradable = false;
  views[0].not_tradable = "halted";
  const RoutePlan plan = route_marketable(Side::Buy, q("1"), Price::unset(), 100, views);
  ASSERT_EQ(plan.pieces.size(), 1u);
  EXPECT_EQ(plan.pieces[0].venue, VenueId("b"));
  EXPECT_NE(plan.explain().find("not tradable: halted"), std::string::npos) << plan.explain();
}

TEST(Router, AnInverseVenueTakesWholeContractsAndALimitIsRespected) {
  std::vector<VenueView> views = {venue("c", 0, 0, {}, {{p("100.00"), q("25")}, {p("101.00"), q("100")}})};
  views[0].listing.inverse = true;
  views[0].listing.contract_size = Amount::from_units(10);
  views[0].listing.lot_size = q("1");
  // 25 contracts at 100 are 2.5 ETH; 0.37 ETH more at 101 is 3.737 contracts: 3 whole ones.
  const RoutePlan plan = route_marketable(Side::Buy, q("2.87"), Price::unset(), 100, views);
  ASSERT_EQ(plan.pieces.size(), 1u);
  EXPECT_EQ(plan.pieces[0].qty, q("28"));
  EXPECT_EQ(plan.pieces[0].limit, p("101.00"));
  const RoutePlan limited = route_marketable(Side::Buy, q("2.87"), p("100.50"), 100, views);
  EXPECT_EQ(limited.pieces[0].qty, q("25"));
  EXPECT_EQ(limited.pieces[0].limit, p("100.00"));
}

TEST(Router, AShareTooSmallForItsVenueGoesToTheNextBestVenueInsteadOfNowhere) {
  std::vector<VenueView> views = {venue("c", 0, 0, {}, {{p("100.00"), q("100")}}),
                                  venue("b", 0, 0, {}, {{p("100.10"), q("5")}})};
  views[0].listing.inverse = true;
  views[0].listing.contract_size = Amount::from_units(10);
  views[0].listing.lot_size = q("1");
  // 0.06 ETH at 100 is 0.6 of a contract: c cannot take it, b can.
  const RoutePlan plan = route_marketable(Side::Buy, q("0.06"), Price::unset(), 100, views);
  ASSERT_EQ(plan.pieces.size(), 1u);
  EXPECT_EQ(plan.pieces[0].venue, VenueId("b"));
  EXPECT_EQ(plan.pieces[0].qty, q("0.06"));
}

TEST(Router, AVenueAbleToTakeTheRestIsNeverDroppedWithOneThatCannot) {
  // a shows 0.0008 (under its lot); b shows plenty: 0.0015 must still go somewhere.
  const std::vector<VenueView> views = {venue("a", 0, 0, {}, {{p("100.00"), q("0.0008")}}),
                                        venue("b", 0, 0, {}, {{p("100.01"), q("5")}})};
  const RoutePlan plan = route_marketable(Side::Buy, q("0.0015"), Price::unset(), 100, views);
  ASSERT_EQ(plan.pieces.size(), 1u);
  EXPECT_EQ(plan.pieces[0].venue, VenueId("b"));
  EXPECT_EQ(plan.pieces[0].qty, q("0.001"));
}

TEST(Router, ALevelLikelyGoneBeforeWeArriveCountsForLess) {
  std::vector<VenueView> views = {venue("slow", 0, 100 * kNanosPerMilli, {}, {{p("100.00"), q("10")}}),
                                  venue("fast", 0, kNanosPerMilli, {}, {{p("100.01"), q("10")}})};
  views[0].ask_change_hz = 10;  // survives 100 ms with probability e^-1
  const RoutePlan plan = route_marketable(Side::Buy, q("10"), Price::unset(), 100, views);
  ASSERT_EQ(plan.pieces.size(), 2u);
  EXPECT_NEAR(plan.pieces[0].base.to_double(), 10 * std::exp(-1.0), 1e-3);
}

TEST(Router, ASellWalksBidsDownAndPaysTheFeeOutOfWhatItGets) {
  const std::vector<VenueView> views = {venue("a", 5, 0, {{p("100.00"), q("1")}, {p("99.90"), q("5")}}, {}),
                                        venue("b", 0, 0, {{p("99.97"), q("1")}}, {})};
  // a yields 100.00 x (1 - 0.0005) = 99.95 all-in; b 99.97: b first.
  const RoutePlan plan = route_marketable(Side::Sell, q("1.5"), Price::unset(), 100, views);
  ASSERT_EQ(plan.pieces.size(), 2u);
  EXPECT_EQ(plan.pieces[1].venue, VenueId("b"));
  EXPECT_EQ(plan.pieces[1].qty, q("1"));
  EXPECT_EQ(plan.pieces[0].qty, q("0.5"));
  EXPECT_GT(plan.cost_bps, 0);  // selling below the mid
}

}  // namespace
}  // namespace tranche::ems
