// A venue's book signals as the placer reads them: from the view's own touch, with our resting orders taken
// out where the venue's book holds them.
#include "ems/venue_views.hpp"

#include <gtest/gtest.h>

#include "md/test_data.hpp"

namespace tranche::ems {
namespace {

using md::testing::px;
using md::testing::qty;

VenueView touch_of(const char* bid_qty, const char* ask_qty) {
  VenueView v;
  v.venue = VenueId("a");
  v.listing.tick_size = px("0.01");
  v.bids = {{px("100.00"), qty(bid_qty)}, {px("99.99"), qty("2")}};
  v.asks = {{px("100.02"), qty(ask_qty)}, {px("100.03"), qty("2")}};
  return v;
}

TEST(FillSignals, ReadsTheTouchOfTheViewBeforeAnyFitAsTheWeightedMid) {
  VenueView v = touch_of("3", "1");
  const md::BookSignalTracker tracker;
  fill_signals(v, tracker, 0);
  EXPECT_TRUE(v.signals.known);
  EXPECT_FALSE(v.signals.fitted);
  EXPECT_DOUBLE_EQ(v.signals.touch_imbalance, 0.5);
  // The weighted mid: 100.01 + (3/4 - 1/2) x 0.02 = 100.015, half a tick above the mid.
  EXPECT_EQ(v.signals.micro_price, px("100.015"));
  EXPECT_DOUBLE_EQ(v.signals.micro_ticks, 0.5);
  EXPECT_GT(v.signals.depth_imbalance, 0);
}

TEST(FillSignals, TakesOurOwnRestingOrdersOutOfTheTouchTheyAreShownIn) {
  // Three of the four at the bid are ours: the others' touch is balanced, and the micro-price the mid.
  VenueView v = touch_of("4", "1");
  const md::BookSignalTracker tracker;
  fill_signals(v, tracker, 0, qty("3"), Qty{});
  EXPECT_DOUBLE_EQ(v.signals.touch_imbalance, 0.0);
  EXPECT_EQ(v.signals.micro_price, px("100.01"));
  EXPECT_DOUBLE_EQ(v.signals.depth_imbalance, 0.0);
  // More of ours than the book shows (its diff has not caught up): nothing left there, never less.
  fill_signals(v, tracker, 0, qty("9"), Qty{});
  EXPECT_DOUBLE_EQ(v.signals.touch_imbalance, -1.0);
  // The view itself is left as it was: the placer's queue estimates read the book as shown.
  EXPECT_EQ(v.bids.front().qty, qty("4"));
}

TEST(FillSignals, AOneSidedBookHasNoMicroPrice) {
  VenueView v = touch_of("1", "1");
  v.asks.clear();
  const md::BookSignalTracker tracker;
  fill_signals(v, tracker, 0);
  EXPECT_TRUE(v.signals.known);
  EXPECT_FALSE(v.signals.micro_price.is_set());
  EXPECT_DOUBLE_EQ(v.signals.depth_imbalance, 1.0);
}

}  // namespace
}  // namespace tranche::ems
