// The least an algo can send: core's per-listing rule, over the venues that can trade or every venue listed.
#include "ems/placer.hpp"

#include <gtest/gtest.h>

namespace tranche::ems {
namespace {

Price p(const char* t) {
  return Price::parse(t).value();
}
Qty q(const char* t) {
  return Qty::parse(t).value();
}

std::vector<VenueView> spot_and_inverse() {
  VenueView spot;
  spot.venue = VenueId("spot");
  spot.listing.lot_size = q("0.0001");
  spot.listing.min_notional = Amount::parse("5").value();
  spot.asks = {{p("2500"), q("1")}};
  spot.bids = {{p("2499"), q("1")}};
  VenueView inverse;
  inverse.venue = VenueId("inverse");
  inverse.listing.lot_size = q("1");
  inverse.listing.inverse = true;
  inverse.listing.contract_size = Amount::from_units(10);
  inverse.asks = {{p("5000"), q("100")}};
  return {spot, inverse};
}

TEST(SmallestSendable, IsTheLeastAnyTradableVenueTakesAtItsTouch) {
  const auto views = spot_and_inverse();
  // Spot: 5 USDT at 2,500 is 0.002 ETH; inverse: one 10 USD contract at 5,000 is 0.002 ETH too.
  EXPECT_EQ(smallest_sendable(views, Side::Buy), q("0.002"));
  // At 10,000 a contract is worth 0.001 ETH: less than spot takes.
  auto dearer = views;
  dearer[1].asks = {{p("10000"), q("100")}};
  EXPECT_EQ(smallest_sendable(dearer, Side::Buy), q("0.001"));
  // A sell looks at the bids, which only spot shows: 5 USDT at 2,499 takes 21 lots.
  EXPECT_EQ(smallest_sendable(dearer, Side::Sell), q("0.0021"));
}

TEST(SmallestSendable, CountsAVenueThatCannotTradeOnlyWhenAskedForEveryListedVenue) {
  auto views = spot_and_inverse();
  views[1].asks = {{p("10000"), q("100")}};
  views[1].tradable = false;
  EXPECT_EQ(smallest_sendable(views, Side::Buy), q("0.002"));
  EXPECT_EQ(smallest_sendable(views, Side::Buy, VenueScope::Listed), q("0.001"));
  views[0].tradable = false;
  EXPECT_EQ(smallest_sendable(views, Side::Buy), Qty{});
}

}  // namespace
}  // namespace tranche::ems
