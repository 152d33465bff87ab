#include "md/l2_book.hpp"

#include <gtest/gtest.h>

#include "md/test_data.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <vector>

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
  // Walk the market up 4,000 (400,000 ticks, three windows) a dollar at a time.
  for (int i = 0; i <= 400000; i += 100) {
    const Price bid = Price::from_raw(px("2000.00").raw() + i * px("0.01").raw());
    book.set_level(Side::Buy, bid, qty("1"), i);
    book.set_level(Side::Sell, bid + px("0.01"), qty("1"), i);
    if (i >= 100) book.set_level(Side::Sell, bid - px("0.99"), qty("0"), i);  // the old ask is lifted
    ASSERT_EQ(book.best_bid(), bid);
    ASSERT_EQ(book.best_ask(), bid + px("0.01"));
  }
  EXPECT_EQ(book.level_count(Side::Buy), 4001u);
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
using BidMap = std::map<std::int64_t, std::int64_t, std::greater<>>;  // tick -> raw qty, best first
using AskMap = std::map<std::int64_t, std::int64_t>;

template <class Map>
void set_in(Map& side, std::int64_t tick, std::int64_t qty) {
  if (qty == 0)
    side.erase(tick);
  else
    side[tick] = qty;
}

// The book's counts and touch (a cent tick) against the map book's.
void touch_agrees(const L2Book& book, const BidMap& bids, const AskMap& asks, unsigned seed, int step) {
  ASSERT_EQ(book.level_count(Side::Buy), bids.size()) << "seed " << seed << " step " << step;
  ASSERT_EQ(book.level_count(Side::Sell), asks.size()) << "seed " << seed << " step " << step;
  if (!bids.empty()) {
    ASSERT_EQ(book.best_bid().raw(), bids.begin()->first * 1'000'000) << "seed " << seed << " step " << step;
    ASSERT_EQ(book.best_bid_qty().raw(), bids.begin()->second) << "seed " << seed << " step " << step;
  }
  if (!asks.empty()) {
    ASSERT_EQ(book.best_ask().raw(), asks.begin()->first * 1'000'000) << "seed " << seed << " step " << step;
    ASSERT_EQ(book.best_ask_qty().raw(), asks.begin()->second) << "seed " << seed << " step " << step;
  }
}

TEST(L2Book, AgreesWithAMapBookOnRandomUpdatesAcrossAWidePriceRange) {
  const unsigned seed = 20240808;
  std::mt19937_64 rng(seed);
  L2Book book(px("0.01"));
  BidMap bids;
  AskMap asks;
  std::int64_t centre = 2680000;  // in ticks
  for (int step = 0; step < 200000; ++step) {
    if (step % 5000 == 0)
      centre += static_cast<std::int64_t>(rng() % 600001) - 300000;  // jumps beyond the window
    const bool bid = rng() % 2 == 0;
    const std::int64_t offset = static_cast<std::int64_t>(rng() % 400);
    const std::int64_t far = rng() % 50 == 0 ? static_cast<std::int64_t>(rng() % 1000000) : 0;
    const std::int64_t tick = bid ? centre - 1 - offset - far : centre + offset + far;
    if (tick <= 0) continue;
    const std::int64_t q = rng() % 3 == 0 ? 0 : static_cast<std::int64_t>(rng() % 1000 + 1);
    book.set_level(bid ? Side::Buy : Side::Sell, Price::from_raw(tick * 1'000'000), Qty::from_raw(q), step);
    if (bid)
      set_in(bids, tick, q);
    else
      set_in(asks, tick, q);
    touch_agrees(book, bids, asks, seed, step);
    if (HasFatalFailure()) return;
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

// Diffs go through BookSide::set_run (a side's levels in one run, its best and count in registers), which
// set_level does not: the same agreement with a map book, for diffs of many sorted levels on both sides,
// some far outside the window, some off the tick, deleting the best level and walking the touch across
// more than a window.
TEST(L2Book, AppliesDiffsOfManyLevelsAsAMapBookWould) {
  const unsigned seed = 20261207;
  std::mt19937_64 rng(seed);
  L2Book book(px("0.01"));
  BidMap bids;
  AskMap asks;
  std::int64_t centre = 268000;  // in ticks
  std::vector<Level> bid_levels, ask_levels;
  std::uint64_t refused = 0, off_tick_sent = 0;
  for (int step = 0; step < 20000; ++step) {
    if (step % 2000 == 0) centre += static_cast<std::int64_t>(rng() % 400001) - 150000;
    centre += static_cast<std::int64_t>(rng() % 21) - 10;
    if (centre < 200000) centre = 200000;
    bid_levels.clear();
    ask_levels.clear();
    if (!bids.empty() && rng() % 4 == 0) {  // the best bid goes first
      bid_levels.push_back(Level{Price::from_raw(bids.begin()->first * 1'000'000), Qty{}});
      bids.erase(bids.begin());
    }
    const int n = static_cast<int>(rng() % 40);
    for (int side = 0; side < 2; ++side) {
      std::set<std::int64_t> ticks;
      for (int i = 0; i < n; ++i) {
        const std::int64_t offset = rng() % 8 == 0 ? static_cast<std::int64_t>(rng() % 600000)
                                                   : static_cast<std::int64_t>(rng() % 60);
        ticks.insert(side == 0 ? centre - 1 - offset : centre + offset);
      }
      std::vector<std::int64_t> ordered(ticks.begin(), ticks.end());
      if (side == 0) std::reverse(ordered.begin(), ordered.end());  // bids best first, as venues send
      for (std::int64_t tick : ordered) {
        if (tick <= 0) continue;
        // Deletes the best bid now and then, and sends a price off the tick now and then.
        std::int64_t q = rng() % 3 == 0 ? 0 : static_cast<std::int64_t>(rng() % 1000 + 1);
        const bool off_tick = rng() % 500 == 0;
        const Level level{Price::from_raw(tick * 1'000'000 + (off_tick ? 3 : 0)), Qty::from_raw(q)};
        (side == 0 ? bid_levels : ask_levels).push_back(level);
        off_tick_sent += off_tick ? 1 : 0;
        if (off_tick) continue;
        if (side == 0)
          set_in(bids, tick, q);
        else
          set_in(asks, tick, q);
      }
    }
    Event diff;
    diff.kind = EventKind::BookDelta;
    diff.recv_ns = step;
    diff.bids = bid_levels;
    diff.asks = ask_levels;
    if (!book.apply(diff)) ++refused;
    touch_agrees(book, bids, asks, seed, step);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(refused, 0u);  // the off-tick prices were refused, not rounded
  EXPECT_EQ(book.off_tick_count(), off_tick_sent);
  EXPECT_GT(book.side(Side::Buy).recentre_count(), 0u);
  EXPECT_GT(book.side(Side::Buy).far_level_count(), 0u);
  for (Side side : {Side::Buy, Side::Sell}) {
    std::vector<BookLevel> levels;
    book.levels(side, book.level_count(side), levels);
    ASSERT_EQ(levels.size(), side == Side::Buy ? bids.size() : asks.size());
    std::size_t i = 0;
    if (side == Side::Buy) {
      for (const auto& [tick, q] : bids) {
        ASSERT_EQ(levels[i].price.raw(), tick * 1'000'000);
        ASSERT_EQ(levels[i].qty.raw(), q);
        ASSERT_EQ(book.qty_at(side, levels[i].price).raw(), q);
        ++i;
      }
    } else {
      for (const auto& [tick, q] : asks) {
        ASSERT_EQ(levels[i].price.raw(), tick * 1'000'000);
        ASSERT_EQ(levels[i].qty.raw(), q);
        ++i;
      }
    }
  }
  // A deleted level reads as empty, though its slot still holds its old quantity.
  book.clear();
  EXPECT_EQ(book.level_count(Side::Buy), 0u);
  EXPECT_EQ(book.qty_at(Side::Buy, px("2680.00")), Qty{});
}

// A copy is a book of its own with the same levels (the slots are copied level by level).
TEST(L2Book, ACopyHoldsTheSameLevelsAndChangesApart) {
  L2Book book(px("0.01"));
  book.set_level(Side::Buy, px("2680.00"), qty("1"), 1);
  book.set_level(Side::Buy, px("2679.50"), qty("2"), 1);
  book.set_level(Side::Buy, px("939.00"), qty("3"), 1);
  book.set_level(Side::Sell, px("2680.01"), qty("4"), 1);
  L2Book copy = book;
  copy.set_level(Side::Buy, px("2680.00"), qty("0"), 2);
  EXPECT_EQ(book.best_bid(), px("2680.00"));
  EXPECT_EQ(copy.best_bid(), px("2679.50"));
  EXPECT_EQ(copy.best_bid_qty(), qty("2"));
  EXPECT_EQ(copy.qty_at(Side::Buy, px("939.00")), qty("3"));
  EXPECT_EQ(copy.best_ask_qty(), qty("4"));
  L2Book assigned;
  assigned = copy;
  EXPECT_EQ(assigned.level_count(Side::Buy), 2u);
}

// The exact reciprocal agrees with division for every grid and price shape the feeds use, and refuses a
// price between ticks.
TEST(TickDivider, AgreesWithDivisionAndRefusesAPriceBetweenTicks) {
  std::mt19937_64 rng(7);
  for (std::int64_t tick : {std::int64_t{1}, std::int64_t{2}, std::int64_t{10}, std::int64_t{1'000'000},
                            std::int64_t{100'000'000}, std::int64_t{1'000'003}, std::int64_t{1} << 40}) {
    const TickDivider divider(tick);
    for (int i = 0; i < 20000; ++i) {
      const std::int64_t n =
          static_cast<std::int64_t>(rng() % (std::numeric_limits<std::int64_t>::max() / tick));
      std::int64_t ticks = -1;
      ASSERT_TRUE(divider.ticks(n * tick, ticks)) << tick << " " << n;
      ASSERT_EQ(ticks, n) << tick;
      if (tick > 1) {
        ASSERT_FALSE(divider.ticks(n * tick + 1, ticks)) << tick << " " << n;
      }
    }
    std::int64_t ticks = 0;
    EXPECT_TRUE(divider.ticks(-3 * tick, ticks));
    EXPECT_EQ(ticks, -3);
    EXPECT_FALSE(divider.exact_positive_ticks(-3 * tick, ticks));
  }
}

}  // namespace
}  // namespace tranche::md
