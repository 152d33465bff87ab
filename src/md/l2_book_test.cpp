#include "md/l2_book.hpp"

#include <gtest/gtest.h>

#include "md/test_data.hpp"

#include <map>
#include <random>

namespace tranche::md {
namespace {

using testing::px;
using testing::qty;

TEST(L2Book, KeepsBidsDescendingAndAsksAscending) {
  L2Book book(px("0.01"));
  book.set_level(Side::Buy, px("100.00"), qty("1"), 1);
  book.set_level(Side::Buy, px("100.02"), qty("2"), 2);
  book.set_level(Side::Buy, px("99.50"), qty("3"), 3);
  book.set_level(Side::Sell, px("100.10"), qty("4"), 4);
  book.set_level(Side::Sell, px("100.05"), qty("5"), 5);
  EXPECT_EQ(book.best_bid(), px("100.02"));
  EXPECT_EQ(book.best_ask(), px("100.05"));
  std::vector<BookLevel> levels;
  book.levels(Side::Buy, 10, levels);
  ASSERT_EQ(levels.size(), 3u);
  EXPECT_EQ(levels[0].price, px("100.02"));
  EXPECT_EQ(levels[1].price, px("100.00"));
  EXPECT_EQ(levels[2].price, px("99.50"));
  EXPECT_EQ(levels[2].updated_ns, 3);
  book.levels(Side::Sell, 1, levels);
  ASSERT_EQ(levels.size(), 1u);
  EXPECT_EQ(levels[0].price, px("100.05"));
}

TEST(L2Book, DeletingTheBestLevelRevealsTheNextOne) {
  L2Book book(px("0.01"));
  book.set_level(Side::Buy, px("100.00"), qty("1"), 1);
  book.set_level(Side::Buy, px("90.00"), qty("2"), 1);
  book.set_level(Side::Buy, px("100.00"), qty("0"), 2);
  EXPECT_EQ(book.best_bid(), px("90.00"));
  book.set_level(Side::Buy, px("90.00"), qty("0"), 3);
  EXPECT_FALSE(book.has_bid());
  EXPECT_EQ(book.level_count(Side::Buy), 0u);
}

TEST(L2Book, KeepsLevelsFarFromTheTouchAndReturnsThemInOrder) {
  L2Book book(px("0.01"));
  book.set_level(Side::Buy, px("2680.00"), qty("1"), 1);
  book.set_level(Side::Buy, px("939.00"), qty("2"), 1);  // far below the window
  book.set_level(Side::Sell, px("2680.01"), qty("1"), 1);
  book.set_level(Side::Sell, px("7291.00"), qty("3"), 1);  // far above
  EXPECT_EQ(book.level_count(Side::Buy), 2u);
  EXPECT_EQ(book.level_count(Side::Sell), 2u);
  std::vector<BookLevel> levels;
  book.levels(Side::Sell, 10, levels);
  ASSERT_EQ(levels.size(), 2u);
  EXPECT_EQ(levels[1].price, px("7291.00"));
  EXPECT_EQ(book.qty_at(Side::Buy, px("939.00")), qty("2"));
  // The far level becomes the best once everything nearer is gone.
  book.set_level(Side::Buy, px("2680.00"), qty("0"), 2);
  EXPECT_EQ(book.best_bid(), px("939.00"));
}

TEST(L2Book, FollowsTheTouchAcrossAMoveLargerThanItsWindow) {
  L2Book book(px("0.01"));
  // Walk the market up 400 (40,000 ticks, more than two windows) one level at a time.
  for (int i = 0; i <= 40000; i += 100) {
    const Price bid = Price::from_raw(px("2000.00").raw() + i * px("0.01").raw());
    book.set_level(Side::Buy, bid, qty("1"), i);
    book.set_level(Side::Sell, bid + px("0.01"), qty("1"), i);
    if (i >= 100) book.set_level(Side::Sell, bid - px("0.99"), qty("0"), i);  // the old ask is lifted
    ASSERT_EQ(book.best_bid(), bid);
    ASSERT_EQ(book.best_ask(), bid + px("0.01"));
  }
  EXPECT_EQ(book.level_count(Side::Buy), 401u);
  EXPECT_EQ(book.level_count(Side::Sell), 1u);
  EXPECT_GT(book.side(Side::Buy).recentre_count(), 0u);
}

TEST(L2Book, SnapshotReplacesTheBookAndDeltasUpdateIt) {
  L2Book book(px("0.01"));
  std::vector<Level> bids = {{px("10.00"), qty("1")}, {px("9.99"), qty("2")}};
  std::vector<Level> asks = {{px("10.01"), qty("3")}};
  Event snapshot;
  snapshot.kind = EventKind::BookSnapshot;
  snapshot.bids = bids;
  snapshot.asks = asks;
  book.set_level(Side::Buy, px("5.00"), qty("9"), 0);
  ASSERT_TRUE(book.apply(snapshot));
  EXPECT_EQ(book.level_count(Side::Buy), 2u);
  std::vector<Level> delta_bids = {{px("10.00"), qty("0")}};
  Event delta;
  delta.kind = EventKind::BookDelta;
  delta.bids = delta_bids;
  ASSERT_TRUE(book.apply(delta));
  EXPECT_EQ(book.best_bid(), px("9.99"));
  EXPECT_EQ(book.best_bid_qty(), qty("2"));
}

TEST(L2Book, RejectsAndCountsAPriceOffItsConfiguredTick) {
  L2Book book(px("0.01"));
  EXPECT_FALSE(book.set_level(Side::Buy, px("10.005"), qty("1"), 0));
  EXPECT_EQ(book.off_tick_count(), 1u);
  EXPECT_FALSE(book.has_bid());
}

// The defect the md_binary fuzzer found (fuzz/corpus/md_binary/crash-price-key-overflow): a price near the
// 64-bit limit passed the reciprocal's rounding and overflowed its product back to a price.
TEST(L2Book, APriceNearTheSixtyFourBitLimitIsOffTickNotAnOverflow) {
  L2Book book(px("0.01"));
  EXPECT_FALSE(book.set_level(Side::Buy, Price::from_raw(9'223'372'036'854'775'000), qty("1"), 0));
  EXPECT_FALSE(book.set_level(Side::Sell, Price::from_raw(9'223'372'036'854'775'807), qty("1"), 0));
  EXPECT_EQ(book.off_tick_count(), 2u);
  EXPECT_TRUE(book.set_level(Side::Sell, Price::from_raw(9'223'372'036'000'000'000), qty("1"), 0))
      << "a price on the tick, however large, is still kept";
  EXPECT_TRUE(book.set_level(Side::Buy, px("10.01"), qty("1"), 0));
  EXPECT_EQ(book.best_bid(), px("10.01"));
}

TEST(L2Book, InfersItsTickFromTheSnapshotAndRefinesItWhenAFinerPriceArrives) {
  L2Book book;  // no tick: inferred
  std::vector<Level> bids = {{px("100.10"), qty("1")}, {px("100.00"), qty("1")}};
  std::vector<Level> asks = {{px("100.20"), qty("1")}};
  Event snapshot;
  snapshot.kind = EventKind::BookSnapshot;
  snapshot.bids = bids;
  snapshot.asks = asks;
  book.apply(snapshot);
  EXPECT_EQ(book.tick_size(), px("0.1"));
  EXPECT_TRUE(book.set_level(Side::Buy, px("100.15"), qty("2"), 1));
  EXPECT_EQ(book.tick_size(), px("0.05"));
  EXPECT_EQ(book.best_bid(), px("100.15"));
  EXPECT_EQ(book.qty_at(Side::Buy, px("100.10")), qty("1"));
  EXPECT_EQ(book.level_count(Side::Buy), 3u);
}

TEST(L2Book, SweepWalksLevelsAndReportsTheAveragePrice) {
  L2Book book(px("0.01"));
  book.set_level(Side::Sell, px("100.00"), qty("1"), 0);
  book.set_level(Side::Sell, px("100.10"), qty("2"), 0);
  book.set_level(Side::Sell, px("100.50"), qty("5"), 0);
  const SweepResult r = book.sweep(Side::Buy, qty("2"));
  EXPECT_EQ(r.filled, qty("2"));
  EXPECT_EQ(r.levels, 2);
  EXPECT_EQ(r.worst_price, px("100.10"));
  EXPECT_EQ(r.average_price(), px("100.05"));
  const SweepResult limited = book.sweep(Side::Buy, qty("100"), px("100.10"));
  EXPECT_EQ(limited.filled, qty("3"));
  const SweepResult all = book.sweep(Side::Buy, qty("100"));
  EXPECT_EQ(all.filled, qty("8"));
}

TEST(L2Book, QtyUpToAPriceCountsOnlyLevelsAtLeastThatGood) {
  L2Book book(px("0.01"));
  book.set_level(Side::Buy, px("10.00"), qty("1"), 0);
  book.set_level(Side::Buy, px("9.98"), qty("2"), 0);
  book.set_level(Side::Buy, px("9.90"), qty("4"), 0);
  EXPECT_EQ(book.qty_up_to(Side::Buy, px("9.98")), qty("3"));
  EXPECT_EQ(book.qty_up_to(Side::Buy, px("9.985")), qty("1"));
  EXPECT_EQ(book.qty_up_to(Side::Buy, px("11")), qty("0"));
}

TEST(L2Book, ImbalanceIsPositiveWhenBidsOutweighAsks) {
  L2Book book(px("0.01"));
  EXPECT_EQ(book.imbalance(5), 0.0);
  book.set_level(Side::Buy, px("10.00"), qty("3"), 0);
  book.set_level(Side::Sell, px("10.01"), qty("1"), 0);
  EXPECT_DOUBLE_EQ(book.imbalance(5), 0.5);
}

TEST(L2Book, CrossedIsReportedWhenTheBestBidReachesTheBestAsk) {
  L2Book book(px("0.01"));
  book.set_level(Side::Buy, px("10.00"), qty("1"), 0);
  book.set_level(Side::Sell, px("10.01"), qty("1"), 0);
  EXPECT_FALSE(book.crossed());
  book.set_level(Side::Buy, px("10.01"), qty("1"), 0);
  EXPECT_TRUE(book.crossed());
}

// Property: after any sequence of updates the flat-array book answers exactly like a plain map book.
TEST(L2Book, AgreesWithAMapBookOnRandomUpdatesAcrossAWidePriceRange) {
  const unsigned seed = 20240808;
  std::mt19937_64 rng(seed);
  L2Book book(px("0.01"));
  std::map<std::int64_t, std::int64_t, std::greater<>> bids;
  std::map<std::int64_t, std::int64_t> asks;
  std::int64_t centre = 268000;  // in ticks
  for (int step = 0; step < 200000; ++step) {
    if (step % 5000 == 0)
      centre += static_cast<std::int64_t>(rng() % 60001) - 30000;  // jumps beyond the window
    const bool bid = rng() % 2 == 0;
    const std::int64_t offset = static_cast<std::int64_t>(rng() % 400);
    const std::int64_t far = rng() % 50 == 0 ? static_cast<std::int64_t>(rng() % 100000) : 0;
    const std::int64_t tick = bid ? centre - 1 - offset - far : centre + offset + far;
    if (tick <= 0) continue;
    const std::int64_t q = rng() % 3 == 0 ? 0 : static_cast<std::int64_t>(rng() % 1000 + 1);
    book.set_level(bid ? Side::Buy : Side::Sell, Price::from_raw(tick * 1'000'000), Qty::from_raw(q), step);
    if (bid) {
      if (q == 0)
        bids.erase(tick);
      else
        bids[tick] = q;
    } else {
      if (q == 0)
        asks.erase(tick);
      else
        asks[tick] = q;
    }
    ASSERT_EQ(book.level_count(Side::Buy), bids.size()) << "seed " << seed << " step " << step;
    ASSERT_EQ(book.level_count(Side::Sell), asks.size()) << "seed " << seed << " step " << step;
    if (!bids.empty()) {
      ASSERT_EQ(book.best_bid().raw(), bids.begin()->first * 1'000'000)
          << "seed " << seed << " step " << step;
      ASSERT_EQ(book.best_bid_qty().raw(), bids.begin()->second) << "seed " << seed << " step " << step;
    }
    if (!asks.empty()) {
      ASSERT_EQ(book.best_ask().raw(), asks.begin()->first * 1'000'000)
          << "seed " << seed << " step " << step;
    }
  }
  std::vector<BookLevel> levels;
  book.levels(Side::Buy, bids.size(), levels);
  auto it = bids.begin();
  for (const auto& l : levels) {
    ASSERT_EQ(l.price.raw(), it->first * 1'000'000);
    ASSERT_EQ(l.qty.raw(), it->second);
    ++it;
  }
}

}  // namespace
}  // namespace tranche::md
