#include "md/consolidated_book.hpp"

#include <gtest/gtest.h>

#include "md/test_data.hpp"

namespace tranche::md {
namespace {

using testing::px;
using testing::qty;

TEST(ConsolidatedBook, ShowsTheBestPriceAcrossVenuesAndWhichVenueQuotesIt) {
  L2Book spot(px("0.01")), perp(px("0.01"));
  spot.set_level(Side::Buy, px("100.00"), qty("1"), 1'000);
  spot.set_level(Side::Sell, px("100.03"), qty("1"), 1'000);
  perp.set_level(Side::Buy, px("100.01"), qty("2"), 4'000);
  perp.set_level(Side::Sell, px("100.02"), qty("3"), 2'000);
  ConsolidatedBook book;
  book.add_venue("binance-spot", &spot);
  const std::size_t p = book.add_venue("binance-usdm", &perp);
  const auto bid = book.best(Side::Buy, 10'000);
  ASSERT_TRUE(bid);
  EXPECT_EQ(bid->price, px("100.01"));
  EXPECT_EQ(bid->venue, p);
  EXPECT_EQ(bid->age_ns, 6'000);
  const auto ask = book.best(Side::Sell, 10'000);
  ASSERT_TRUE(ask);
  EXPECT_EQ(ask->price, px("100.02"));
  EXPECT_EQ(book.venue_name(ask->venue), "binance-usdm");
  EXPECT_FALSE(book.crossed());
}

TEST(ConsolidatedBook, MergesLevelsOfAllVenuesBestFirst) {
  L2Book a(px("0.01")), b(px("0.01"));
  a.set_level(Side::Sell, px("10.00"), qty("1"), 0);
  a.set_level(Side::Sell, px("10.02"), qty("1"), 0);
  b.set_level(Side::Sell, px("10.01"), qty("1"), 0);
  b.set_level(Side::Sell, px("10.02"), qty("5"), 0);
  ConsolidatedBook book;
  book.add_venue("a", &a);
  book.add_venue("b", &b);
  std::vector<ConsolidatedBook::Quote> levels;
  book.levels(Side::Sell, 10, 0, levels);
  ASSERT_EQ(levels.size(), 4u);
  EXPECT_EQ(levels[0].price, px("10.00"));
  EXPECT_EQ(levels[1].price, px("10.01"));
  EXPECT_EQ(levels[2].price, px("10.02"));
  EXPECT_EQ(levels[2].venue, 1u);  // equal price: the larger quantity first
  EXPECT_EQ(levels[3].venue, 0u);
  EXPECT_EQ(book.qty_at_best(Side::Sell), qty("1"));
  book.levels(Side::Sell, 2, 0, levels);
  EXPECT_EQ(levels.size(), 2u);
}

TEST(ConsolidatedBook, ReportsACrossWhenOneVenuesBidReachesAnothersAsk) {
  L2Book a(px("0.01")), b(px("0.01"));
  a.set_level(Side::Buy, px("10.05"), qty("1"), 0);
  b.set_level(Side::Sell, px("10.04"), qty("1"), 0);
  ConsolidatedBook book;
  book.add_venue("a", &a);
  book.add_venue("b", &b);
  EXPECT_TRUE(book.crossed());
}

TEST(ConsolidatedBook, AnEmptyVenueIsIgnored) {
  L2Book a(px("0.01")), empty(px("0.01"));
  a.set_level(Side::Buy, px("10.00"), qty("1"), 0);
  ConsolidatedBook book;
  book.add_venue("empty", &empty);
  book.add_venue("a", &a);
  ASSERT_TRUE(book.best(Side::Buy, 0));
  EXPECT_EQ(book.best(Side::Buy, 0)->venue, 1u);
  EXPECT_FALSE(book.best(Side::Sell, 0));
}

}  // namespace
}  // namespace tranche::md
