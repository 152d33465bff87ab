// BinanceDepthSync: Binance spot's book sync rules one by one (buffering, the snapshot's bridge, stale diffs,
// gaps, the buffer's cap, zero-quantity removal), bookTicker as a check and as the fresher touch, trades,
// bad input of every kind, the md::BookView it offers, and no allocation per message once warm.
#include "gateway/binance_depth.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "md/test_data.hpp"

#include "gateway/test_allocation_counter.hpp"

namespace tranche::gateway {
namespace {

using md::testing::px;
using md::testing::qty;
using Levels = std::vector<std::pair<std::string, std::string>>;

VenueListing eth_listing() {
  VenueListing l;
  l.instrument = InstrumentId("ETH-USDT");
  l.symbol = "ETHUSDT";
  l.tick_size = px("0.01");
  l.lot_size = qty("0.0001");
  return l;
}

std::string levels_json(const Levels& levels) {
  std::string out = "[";
  for (const auto& [price, quantity] : levels) {
    if (out.size() > 1) out += ",";
    out += "[\"" + price + "\",\"" + quantity + "\"]";
  }
  return out + "]";
}

// A @depth@100ms diff in the combined-stream envelope, as Binance sends it.
std::string diff(std::uint64_t first, std::uint64_t last, const Levels& bids, const Levels& asks,
                 const std::string& symbol = "ETHUSDT") {
  std::string lower = symbol;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return "{\"stream\":\"" + lower +
         "@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1723161255308,\"s\":\"" + symbol +
         "\",\"U\":" + std::to_string(first) + ",\"u\":" + std::to_string(last) +
         ",\"b\":" + levels_json(bids) + ",\"a\":" + levels_json(asks) + "}}";
}

std::string snapshot(std::uint64_t id, const Levels& bids, const Levels& asks) {
  return "{\"lastUpdateId\":" + std::to_string(id) + ",\"bids\":" + levels_json(bids) +
         ",\"asks\":" + levels_json(asks) + "}";
}

std::string ticker(std::uint64_t id, const char* bid, const char* bid_qty, const char* ask,
                   const char* ask_qty) {
  return std::string("{\"stream\":\"ethusdt@bookTicker\",\"data\":{\"u\":") + std::to_string(id) +
         ",\"s\":\"ETHUSDT\",\"b\":\"" + bid + "\",\"B\":\"" + bid_qty + "\",\"a\":\"" + ask + "\",\"A\":\"" +
         ask_qty + "\"}}";
}

std::string trade(std::uint64_t id, const char* price, const char* quantity, bool maker_is_buyer) {
  return std::string("{\"stream\":\"ethusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1723161255612,") +
         "\"s\":\"ETHUSDT\",\"t\":" + std::to_string(id) + ",\"p\":\"" + price + "\",\"q\":\"" + quantity +
         "\",\"T\":1723161255611,\"m\":" + (maker_is_buyer ? "true" : "false") + ",\"M\":true}}";
}

// A small book: bids 100.00 x 1, 99.99 x 2; asks 100.01 x 3, 100.02 x 4.
std::string base_snapshot(std::uint64_t id) {
  return snapshot(id, {{"100.00", "1"}, {"99.99", "2"}}, {{"100.01", "3"}, {"100.02", "4"}});
}

BinanceDepthOptions small_options() {
  BinanceDepthOptions o;
  o.max_buffered_diffs = 64;
  o.max_buffered_levels = 1024;
  o.max_message_bytes = 1u << 16;
  o.reserve_levels_per_side = 64;
  return o;
}

class DepthSyncTest : public ::testing::Test {
 protected:
  DepthStatus feed(const std::string& json) { return sync_.on_message(json, ++now_); }
  // A synced book at update id 100.
  void sync_at_100() { ASSERT_EQ(feed(base_snapshot(100)), DepthStatus::Synced); }

  BinanceDepthSync sync_{eth_listing(), small_options()};
  TimestampNs now_ = 1'000'000;
};

// --- the snapshot and the buffer ---

TEST_F(DepthSyncTest, NeedsASnapshotBeforeAnything) {
  EXPECT_TRUE(sync_.needs_snapshot());
  EXPECT_FALSE(sync_.valid());
  EXPECT_EQ(sync_.update_id(), 0u);
}

TEST_F(DepthSyncTest, BuffersDiffsUntilTheSnapshotThenAppliesThoseNewerThanIt) {
  EXPECT_EQ(feed(diff(95, 100, {{"100.00", "5"}}, {})), DepthStatus::Buffered);
  EXPECT_EQ(feed(diff(101, 105, {{"99.98", "7"}}, {})), DepthStatus::Buffered);
  EXPECT_EQ(feed(diff(106, 110, {}, {{"100.01", "0"}})), DepthStatus::Buffered);
  EXPECT_EQ(sync_.buffered_diffs(), 3u);
  EXPECT_FALSE(sync_.valid());

  const TimestampNs snapshot_ns = now_ + 1;
  EXPECT_EQ(feed(base_snapshot(102)), DepthStatus::Synced);
  EXPECT_TRUE(sync_.valid());
  EXPECT_FALSE(sync_.needs_snapshot());
  EXPECT_EQ(sync_.update_id(), 110u);
  EXPECT_EQ(sync_.buffered_diffs(), 0u);
  // 95..100 is older than the snapshot (u <= lastUpdateId): its 100.00 x 5 is not applied.
  EXPECT_EQ(sync_.best(Side::Buy), px("100.00"));
  EXPECT_EQ(sync_.best_qty(Side::Buy), qty("1"));
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("99.98")), qty("7"));
  EXPECT_EQ(sync_.best(Side::Sell), px("100.02"));
  EXPECT_EQ(sync_.stats().diffs_dropped_by_snapshot, 1u);
  EXPECT_EQ(sync_.stats().diffs_replayed, 2u);
  // The replayed diffs are stamped when the snapshot arrived: the moment that book could first be known.
  EXPECT_EQ(sync_.best_updated_ns(Side::Buy), snapshot_ns);
  ASSERT_NE(sync_.event(), nullptr);
  EXPECT_EQ(sync_.event()->kind, md::EventKind::BookSnapshot);
  EXPECT_EQ(sync_.event()->last_seq, 102u);
}

TEST_F(DepthSyncTest, ADiffEndingAtLastUpdateIdIsDroppedAndTheNextOneBridges) {
  EXPECT_EQ(feed(diff(90, 100, {{"100.00", "9"}}, {})), DepthStatus::Buffered);
  EXPECT_EQ(feed(diff(101, 101, {{"99.99", "8"}}, {})), DepthStatus::Buffered);
  EXPECT_EQ(feed(base_snapshot(100)), DepthStatus::Synced);
  EXPECT_EQ(sync_.update_id(), 101u);
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("100.00")), qty("1"));
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("99.99")), qty("8"));
}

TEST_F(DepthSyncTest, RefusesASnapshotOlderThanTheBufferedDiffsAndKeepsThem) {
  EXPECT_EQ(feed(diff(110, 120, {{"99.98", "1"}}, {})), DepthStatus::Buffered);
  EXPECT_EQ(feed(diff(121, 125, {{"99.97", "2"}}, {})), DepthStatus::Buffered);
  // lastUpdateId + 1 = 101 < U = 110: updates 101..109 are missing between them.
  EXPECT_EQ(feed(base_snapshot(100)), DepthStatus::SnapshotTooOld);
  EXPECT_TRUE(requests_snapshot(DepthStatus::SnapshotTooOld));
  EXPECT_TRUE(sync_.needs_snapshot());
  EXPECT_EQ(sync_.buffered_diffs(), 2u);
  EXPECT_NE(sync_.last_error().find("fetch a newer one"), std::string_view::npos);
  // A newer snapshot inside the buffered run is bridged.
  EXPECT_EQ(feed(base_snapshot(115)), DepthStatus::Synced);
  EXPECT_EQ(sync_.update_id(), 125u);
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("99.97")), qty("2"));
}

TEST_F(DepthSyncTest, ASnapshotNewerThanEveryBufferedDiffLeavesTheBookAtTheSnapshot) {
  EXPECT_EQ(feed(diff(90, 95, {{"100.00", "9"}}, {})), DepthStatus::Buffered);
  EXPECT_EQ(feed(base_snapshot(100)), DepthStatus::Synced);
  EXPECT_EQ(sync_.update_id(), 100u);
  EXPECT_EQ(sync_.best_qty(Side::Buy), qty("1"));
}

TEST_F(DepthSyncTest, TheFirstLiveDiffAfterTheSnapshotMayOverlapIt) {
  sync_at_100();
  // U <= lastUpdateId + 1 <= u.
  EXPECT_EQ(feed(diff(95, 103, {{"100.00", "2"}}, {})), DepthStatus::Applied);
  EXPECT_EQ(sync_.update_id(), 103u);
  EXPECT_EQ(sync_.best_qty(Side::Buy), qty("2"));
}

TEST_F(DepthSyncTest, AFirstLiveDiffThatDoesNotBridgeTheSnapshotIsAGap) {
  sync_at_100();
  EXPECT_EQ(feed(diff(102, 105, {{"100.00", "2"}}, {})), DepthStatus::Gap);
  EXPECT_FALSE(sync_.valid());
  EXPECT_TRUE(sync_.needs_snapshot());
  EXPECT_EQ(sync_.stats().count(DepthStatus::Gap), 1u);
  EXPECT_EQ(sync_.stats().snapshot_requests, 1u);
  ASSERT_NE(sync_.event(), nullptr);
  EXPECT_EQ(sync_.event()->kind, md::EventKind::Gap);
  EXPECT_EQ(sync_.event()->first_seq, 101u);  // expected
  EXPECT_EQ(sync_.event()->last_seq, 102u);   // received
  // Nothing of it was applied.
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("100.00")), qty("1"));
}

TEST_F(DepthSyncTest, DropsDiffsOlderThanTheBook) {
  sync_at_100();
  EXPECT_EQ(feed(diff(90, 100, {{"100.00", "9"}}, {})), DepthStatus::Stale);
  EXPECT_EQ(feed(diff(101, 104, {{"99.99", "3"}}, {})), DepthStatus::Applied);
  EXPECT_EQ(feed(diff(103, 104, {{"99.99", "9"}}, {})), DepthStatus::Stale);
  EXPECT_TRUE(sync_.valid());
  EXPECT_EQ(sync_.update_id(), 104u);
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("99.99")), qty("3"));
  EXPECT_EQ(sync_.stats().count(DepthStatus::Stale), 2u);
  EXPECT_EQ(sync_.event(), nullptr);
}

TEST_F(DepthSyncTest, LaterDiffsMustContinueThePreviousOne) {
  sync_at_100();
  EXPECT_EQ(feed(diff(101, 105, {{"99.99", "3"}}, {})), DepthStatus::Applied);
  EXPECT_EQ(feed(diff(106, 106, {{"99.99", "4"}}, {})), DepthStatus::Applied);
  // 107 never came.
  EXPECT_EQ(feed(diff(108, 110, {{"99.99", "5"}}, {})), DepthStatus::Gap);
  EXPECT_FALSE(sync_.valid());
  EXPECT_EQ(sync_.stats().invalidations, 1u);
  EXPECT_EQ(sync_.event()->first_seq, 107u);
  EXPECT_EQ(sync_.event()->last_seq, 108u);
  EXPECT_NE(sync_.last_error().find("sequence gap"), std::string_view::npos);
  // The diff that broke the run waits for the next snapshot, which it bridges.
  EXPECT_EQ(sync_.buffered_diffs(), 1u);
  EXPECT_EQ(feed(diff(111, 112, {}, {{"100.03", "1"}})), DepthStatus::Buffered);
  EXPECT_EQ(feed(base_snapshot(109)), DepthStatus::Synced);
  EXPECT_EQ(sync_.update_id(), 112u);
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("99.99")), qty("5"));
  EXPECT_EQ(sync_.book().qty_at(Side::Sell, px("100.03")), qty("1"));
}

TEST_F(DepthSyncTest, AnOverlappingDiffAfterTheFirstIsAGap) {
  sync_at_100();
  EXPECT_EQ(feed(diff(101, 105, {{"99.99", "3"}}, {})), DepthStatus::Applied);
  EXPECT_EQ(feed(diff(104, 108, {{"99.99", "4"}}, {})), DepthStatus::Gap);
}

TEST_F(DepthSyncTest, ABufferedRunBrokenByADiffThatDoesNotContinueItStartsAgain) {
  EXPECT_EQ(feed(diff(101, 105, {{"99.98", "1"}}, {})), DepthStatus::Buffered);
  EXPECT_EQ(feed(diff(107, 110, {{"99.97", "1"}}, {})), DepthStatus::Buffered);
  EXPECT_EQ(sync_.buffered_diffs(), 1u);
  EXPECT_EQ(sync_.stats().buffer_restarts, 1u);
  // A duplicate of what is buffered is stale.
  EXPECT_EQ(feed(diff(107, 110, {{"99.97", "1"}}, {})), DepthStatus::Stale);
  // A snapshot inside the lost part cannot be bridged.
  EXPECT_EQ(feed(base_snapshot(103)), DepthStatus::SnapshotTooOld);
  EXPECT_EQ(feed(base_snapshot(106)), DepthStatus::Synced);
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("99.98")), Qty{});
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("99.97")), qty("1"));
}

TEST(DepthSyncBuffer, OverflowEmptiesTheBufferAndAsksForASnapshot) {
  BinanceDepthOptions options = small_options();
  options.max_buffered_diffs = 3;
  BinanceDepthSync sync(eth_listing(), options);
  EXPECT_EQ(sync.on_message(diff(1, 1, {{"1.00", "1"}}, {}), 1), DepthStatus::Buffered);
  EXPECT_EQ(sync.on_message(diff(2, 2, {{"1.00", "1"}}, {}), 2), DepthStatus::Buffered);
  EXPECT_EQ(sync.on_message(diff(3, 3, {{"1.00", "1"}}, {}), 3), DepthStatus::Buffered);
  EXPECT_EQ(sync.on_message(diff(4, 4, {{"1.00", "2"}}, {}), 4), DepthStatus::Overflow);
  EXPECT_TRUE(requests_snapshot(DepthStatus::Overflow));
  EXPECT_TRUE(sync.needs_snapshot());
  EXPECT_EQ(sync.buffered_diffs(), 1u);  // the newest diff starts the buffer again
  EXPECT_EQ(sync.stats().count(DepthStatus::Overflow), 1u);
  // A snapshot from before the overflow no longer reaches the buffer; a new one does.
  EXPECT_EQ(sync.on_message(snapshot(1, {{"1.00", "1"}}, {{"2.00", "1"}}), 5), DepthStatus::SnapshotTooOld);
  EXPECT_EQ(sync.on_message(snapshot(3, {{"1.00", "1"}}, {{"2.00", "1"}}), 6), DepthStatus::Synced);
  EXPECT_EQ(sync.best_qty(Side::Buy), qty("2"));
}

TEST(DepthSyncBuffer, TheLevelCapCountsToo) {
  BinanceDepthOptions options = small_options();
  options.max_buffered_levels = 5;
  BinanceDepthSync sync(eth_listing(), options);
  EXPECT_EQ(sync.on_message(diff(1, 1, {{"1.00", "1"}, {"1.01", "1"}, {"1.02", "1"}}, {}), 1),
            DepthStatus::Buffered);
  EXPECT_EQ(sync.on_message(diff(2, 2, {{"1.00", "1"}, {"1.01", "1"}, {"1.02", "1"}}, {}), 2),
            DepthStatus::Overflow);
  EXPECT_EQ(sync.buffered_diffs(), 1u);
  // A diff larger than the whole buffer cannot be kept at all.
  EXPECT_EQ(sync.on_message(diff(3, 3, {{"1.00", "1"}, {"1.01", "1"}, {"1.02", "1"}},
                                 {{"2.00", "1"}, {"2.01", "1"}, {"2.02", "1"}}),
                            3),
            DepthStatus::Overflow);
  EXPECT_EQ(sync.buffered_diffs(), 0u);
}

TEST_F(DepthSyncTest, ADroppedConnectionInvalidatesTheBookAndEmptiesTheBuffer) {
  sync_at_100();
  EXPECT_EQ(feed(ticker(105, "100.00", "1", "100.01", "3")), DepthStatus::Quote);
  sync_.on_disconnect(now_ + 1);
  EXPECT_FALSE(sync_.valid());
  EXPECT_TRUE(sync_.needs_snapshot());
  ASSERT_NE(sync_.event(), nullptr);
  EXPECT_EQ(sync_.event()->kind, md::EventKind::Gap);
  EXPECT_EQ(sync_.stats().invalidations, 1u);
  // The new connection's diffs are buffered afresh and bridged by a new snapshot.
  EXPECT_EQ(feed(diff(150, 160, {{"99.99", "6"}}, {})), DepthStatus::Buffered);
  EXPECT_EQ(sync_.buffered_diffs(), 1u);
  EXPECT_EQ(feed(base_snapshot(155)), DepthStatus::Synced);
  EXPECT_EQ(sync_.update_id(), 160u);
  // Disconnected while waiting: the buffer goes, nothing else changes.
  EXPECT_EQ(feed(diff(170, 171, {}, {})), DepthStatus::Gap);
  sync_.on_disconnect(now_ + 1);
  EXPECT_EQ(sync_.buffered_diffs(), 0u);
  EXPECT_EQ(sync_.event(), nullptr);
}

// --- levels ---

TEST_F(DepthSyncTest, AZeroQuantityRemovesTheLevel) {
  sync_at_100();
  EXPECT_EQ(feed(diff(101, 101, {{"100.00", "0.00000000"}}, {{"100.01", "0"}})), DepthStatus::Applied);
  EXPECT_EQ(sync_.best(Side::Buy), px("99.99"));
  EXPECT_EQ(sync_.best(Side::Sell), px("100.02"));
  EXPECT_EQ(sync_.book().level_count(Side::Buy), 1u);
}

TEST_F(DepthSyncTest, RemovingALevelTheBookDoesNotHaveIsNormal) {
  sync_at_100();
  EXPECT_EQ(feed(diff(101, 101, {{"90.00", "0"}}, {})), DepthStatus::Applied);
  EXPECT_TRUE(sync_.valid());
  EXPECT_EQ(sync_.book().level_count(Side::Buy), 2u);
}

TEST_F(DepthSyncTest, EachLevelIsTheNewAbsoluteQuantity) {
  sync_at_100();
  EXPECT_EQ(feed(diff(101, 101, {{"99.99", "0.5"}, {"99.50", "1.25"}}, {{"100.05", "0.0001"}})),
            DepthStatus::Applied);
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("99.99")), qty("0.5"));
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("99.50")), qty("1.25"));
  EXPECT_EQ(sync_.book().qty_at(Side::Sell, px("100.05")), qty("0.0001"));
  ASSERT_NE(sync_.event(), nullptr);
  EXPECT_EQ(sync_.event()->kind, md::EventKind::BookDelta);
  EXPECT_EQ(sync_.event()->first_seq, 101u);
  EXPECT_EQ(sync_.event()->exch_ns, 1723161255308 * kNanosPerMilli);
  EXPECT_EQ(sync_.event()->bids.size(), 2u);
}

// --- the md::BookView the kernel reads ---

TEST_F(DepthSyncTest, OffersTheBookAsAnMdBookView) {
  sync_at_100();
  const TimestampNs at = now_ + 1;
  ASSERT_EQ(feed(diff(101, 101, {{"100.00", "1.5"}}, {})), DepthStatus::Applied);
  const md::BookView& view = sync_;
  EXPECT_TRUE(view.valid());
  EXPECT_EQ(view.listing().symbol, "ETHUSDT");
  EXPECT_EQ(view.best(Side::Buy), px("100.00"));
  EXPECT_EQ(view.best_qty(Side::Buy), qty("1.5"));
  EXPECT_EQ(view.best_updated_ns(Side::Buy), at);
  EXPECT_EQ(view.last_event_ns(), at);
  md::Level out[3];
  ASSERT_EQ(view.levels(Side::Sell, out), 2u);
  EXPECT_EQ(out[0].price, px("100.01"));
  EXPECT_EQ(out[1].price, px("100.02"));
  EXPECT_EQ(out[1].qty, qty("4"));
  ASSERT_EQ(view.levels(Side::Buy, std::span<md::Level>(out, 1)), 1u);
  EXPECT_EQ(out[0].qty, qty("1.5"));
}

// --- bookTicker ---

TEST_F(DepthSyncTest, ABookTickerAtTheBooksUpdateIdIsCheckedAgainstIt) {
  sync_at_100();
  EXPECT_EQ(feed(ticker(100, "100.00", "1", "100.01", "3")), DepthStatus::Quote);
  EXPECT_EQ(sync_.stats().touch_checks, 1u);
  EXPECT_TRUE(sync_.valid());
  ASSERT_NE(sync_.event(), nullptr);
  EXPECT_EQ(sync_.event()->kind, md::EventKind::Quote);
}

TEST_F(DepthSyncTest, ABookTickerThatContradictsTheBookAtTheSameIdInvalidatesIt) {
  sync_at_100();
  EXPECT_EQ(feed(ticker(100, "100.00", "1.1", "100.01", "3")), DepthStatus::TouchMismatch);
  EXPECT_FALSE(sync_.valid());
  EXPECT_TRUE(sync_.needs_snapshot());
  EXPECT_EQ(sync_.stats().touch_mismatches, 1u);
  EXPECT_EQ(sync_.event()->kind, md::EventKind::Gap);
}

TEST_F(DepthSyncTest, ABookTickerAheadOfTheBookIsTheTouchUntilTheDiffCoversIt) {
  sync_at_100();
  // 100.00 traded away and 99.995 is not a price; the best bid is now 99.99 x 1.5, per the bookTicker.
  EXPECT_EQ(feed(ticker(103, "99.99", "1.5", "100.01", "3")), DepthStatus::Quote);
  EXPECT_EQ(sync_.best(Side::Buy), px("99.99"));
  EXPECT_EQ(sync_.best_qty(Side::Buy), qty("1.5"));
  EXPECT_EQ(sync_.best_updated_ns(Side::Buy), now_);
  EXPECT_EQ(sync_.book().best_bid(), px("100.00"));  // the book itself is untouched
  md::Level out[4];
  ASSERT_EQ(sync_.levels(Side::Buy, out), 1u);
  EXPECT_EQ(out[0].price, px("99.99"));
  EXPECT_EQ(out[0].qty, qty("1.5"));
  // The diff ending at 103 agrees: checked, and the book is the touch again.
  EXPECT_EQ(feed(diff(101, 103, {{"100.00", "0"}, {"99.99", "1.5"}}, {})), DepthStatus::Applied);
  EXPECT_EQ(sync_.stats().touch_checks, 1u);
  EXPECT_EQ(sync_.stats().touch_mismatches, 0u);
  EXPECT_EQ(sync_.best(Side::Buy), px("99.99"));
  EXPECT_EQ(sync_.book().best_bid(), px("99.99"));
}

// Regression: the fuzzer found a bookTicker with its bid above its ask shown as the touch of a synced book,
// which then read as crossed. It is refused; the touch stays the book's.
TEST_F(DepthSyncTest, ACrossedBookTickerIsRefusedAndNeverBecomesTheTouch) {
  sync_at_100();
  for (const char* ask : {"99.99", "100.00"}) {
    EXPECT_EQ(feed(ticker(103, "100.00", "1", ask, "3")), DepthStatus::BadNumber) << ask;
    EXPECT_NE(std::string(sync_.last_error()).find("is not below its ask"), std::string::npos)
        << sync_.last_error();
  }
  EXPECT_TRUE(sync_.valid());
  EXPECT_LT(sync_.best(Side::Buy), sync_.best(Side::Sell));
  EXPECT_EQ(sync_.best(Side::Sell), sync_.book().best_ask());
}

TEST_F(DepthSyncTest, ADiffThatDisagreesWithTheBookTickerOfItsUpdateIdInvalidatesTheBook) {
  sync_at_100();
  EXPECT_EQ(feed(ticker(101, "99.99", "2", "100.01", "3")), DepthStatus::Quote);
  EXPECT_EQ(feed(diff(101, 101, {{"100.00", "0.5"}}, {})), DepthStatus::TouchMismatch);
  EXPECT_FALSE(sync_.valid());
  EXPECT_EQ(sync_.event()->kind, md::EventKind::Gap);
}

TEST_F(DepthSyncTest, ABookTickerOlderThanTheBookIsStale) {
  sync_at_100();
  EXPECT_EQ(feed(diff(101, 105, {}, {})), DepthStatus::Applied);
  EXPECT_EQ(feed(ticker(104, "1.00", "1", "2.00", "1")), DepthStatus::Stale);
  EXPECT_TRUE(sync_.valid());
  EXPECT_EQ(sync_.best(Side::Buy), px("100.00"));
  EXPECT_EQ(feed(ticker(107, "100.00", "1", "100.01", "3")), DepthStatus::Quote);
  EXPECT_EQ(feed(ticker(106, "100.00", "1", "100.01", "3")), DepthStatus::Stale);
}

TEST_F(DepthSyncTest, BookTickersBeforeTheSnapshotAreCheckedOnceTheBookReachesThem) {
  EXPECT_EQ(feed(ticker(101, "100.00", "1", "100.01", "2")), DepthStatus::Quote);
  EXPECT_EQ(feed(diff(99, 101, {}, {{"100.01", "2"}})), DepthStatus::Buffered);
  EXPECT_EQ(feed(base_snapshot(100)), DepthStatus::Synced);
  EXPECT_EQ(sync_.stats().touch_checks, 1u);
  EXPECT_EQ(sync_.stats().touch_mismatches, 0u);
}

TEST(DepthSyncTicker, TheTouchFromTheBookTickerCanBeTurnedOff) {
  BinanceDepthOptions options = small_options();
  options.touch_from_book_ticker = false;
  BinanceDepthSync sync(eth_listing(), options);
  ASSERT_EQ(sync.on_message(base_snapshot(100), 1), DepthStatus::Synced);
  EXPECT_EQ(sync.on_message(ticker(103, "99.99", "1.5", "100.01", "3"), 2), DepthStatus::Quote);
  EXPECT_EQ(sync.best(Side::Buy), px("100.00"));
}

// --- trades ---

TEST_F(DepthSyncTest, ReadsTradesIntoEvents) {
  EXPECT_EQ(feed(trade(1520538925, "2683.80000000", "0.00200000", true)), DepthStatus::Trade);
  ASSERT_NE(sync_.event(), nullptr);
  const md::Event& e = *sync_.event();
  EXPECT_EQ(e.kind, md::EventKind::Trade);
  EXPECT_EQ(e.side, Side::Sell);  // the buyer was the maker: the aggressor sold
  EXPECT_EQ(e.price, px("2683.8"));
  EXPECT_EQ(e.qty, qty("0.002"));
  EXPECT_EQ(e.last_seq, 1520538925u);
  EXPECT_EQ(e.exch_ns, 1723161255612 * kNanosPerMilli);
  EXPECT_EQ(e.recv_ns, now_);
  EXPECT_EQ(feed(trade(1520538926, "2683.81", "1", false)), DepthStatus::Trade);
  EXPECT_EQ(sync_.event()->side, Side::Buy);
  // A repeated trade id is told once.
  EXPECT_EQ(feed(trade(1520538926, "2683.81", "1", false)), DepthStatus::Stale);
  EXPECT_EQ(sync_.event(), nullptr);
  EXPECT_EQ(feed(trade(1520538930, "2683.81", "1", false)), DepthStatus::Trade);
  EXPECT_EQ(sync_.stats().trade_id_gaps, 1u);
}

// --- raw payloads, the REST snapshot, streams not read ---

TEST_F(DepthSyncTest, ReadsRawPayloadsWithoutTheEnvelope) {
  ASSERT_EQ(sync_.on_snapshot(base_snapshot(100), 1), DepthStatus::Synced);
  EXPECT_EQ(
      feed("{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"ETHUSDT\",\"U\":101,\"u\":101,\"b\":[[\"99.99\",\"3\"]],"
           "\"a\":[]}"),
      DepthStatus::Applied);
  EXPECT_EQ(feed("{\"u\":101,\"s\":\"ETHUSDT\",\"b\":\"100.00\",\"B\":\"1\",\"a\":\"100.01\",\"A\":\"3\"}"),
            DepthStatus::Quote);
  EXPECT_EQ(sync_.stats().touch_checks, 1u);
  EXPECT_EQ(
      feed("{\"e\":\"trade\",\"E\":1,\"s\":\"ETHUSDT\",\"t\":5,\"p\":\"1.5\",\"q\":\"2\",\"b\":88,\"a\":50,"
           "\"T\":1,\"m\":false,\"M\":true}"),
      DepthStatus::Trade);
}

TEST_F(DepthSyncTest, IgnoresStreamsItDoesNotRead) {
  EXPECT_EQ(feed("{\"stream\":\"ethusdt@aggTrade\",\"data\":{\"e\":\"aggTrade\",\"s\":\"ETHUSDT\"}}"),
            DepthStatus::Ignored);
  EXPECT_EQ(
      feed("{\"stream\":\"ethusdt@depth20@100ms\",\"data\":{\"lastUpdateId\":5,\"bids\":[],\"asks\":[]}}"),
      DepthStatus::Ignored);
  EXPECT_EQ(feed("{\"e\":\"24hrTicker\",\"s\":\"ETHUSDT\"}"), DepthStatus::Ignored);
  EXPECT_TRUE(sync_.needs_snapshot());
}

TEST_F(DepthSyncTest, OnSnapshotTakesOnlyASnapshot) {
  EXPECT_EQ(sync_.on_snapshot(diff(1, 2, {}, {}), 1), DepthStatus::Malformed);
  EXPECT_EQ(sync_.on_snapshot("{\"bids\":[],\"asks\":[]}", 1), DepthStatus::MissingField);
  EXPECT_EQ(sync_.on_snapshot(base_snapshot(7), 1), DepthStatus::Synced);
}

TEST_F(DepthSyncTest, AnOlderSnapshotThanTheBookIsStaleAndANewerOneResyncs) {
  sync_at_100();
  EXPECT_EQ(feed(diff(101, 110, {{"99.99", "5"}}, {})), DepthStatus::Applied);
  EXPECT_EQ(feed(base_snapshot(105)), DepthStatus::Stale);
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("99.99")), qty("5"));
  EXPECT_EQ(feed(base_snapshot(120)), DepthStatus::Synced);
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("99.99")), qty("2"));
  EXPECT_EQ(feed(diff(121, 121, {}, {})), DepthStatus::Applied);
}

// --- bad input ---

TEST_F(DepthSyncTest, MalformedJsonIsAnErrorNeverACrash) {
  for (const char* text : {"", "{", "not json", "[1,2]", "{\"stream\":", "null", "{\"e\":\"depthUpdate\",}",
                           "{\"stream\":\"ethusdt@depth\",\"data\":[]}", "\xff\xfe{}"}) {
    const DepthStatus status = feed(text);
    EXPECT_TRUE(is_error(status)) << text << ": " << to_string(status);
    EXPECT_FALSE(sync_.last_error().empty()) << text;
  }
  EXPECT_TRUE(sync_.needs_snapshot());
}

// Regression: the fuzzer found an event time in milliseconds whose nanoseconds overflowed (md's reader had
// the same multiplication). A time outside 1970-2262 is malformed.
TEST_F(DepthSyncTest, AnEventTimeNanosecondsCannotHoldIsMalformedNotAnOverflow) {
  sync_at_100();
  std::string text = diff(101, 101, {{"99.99", "3"}}, {});
  text.replace(text.find("1723161255308"), 13, "17231612576931000");
  EXPECT_EQ(feed(text), DepthStatus::Malformed);
  EXPECT_NE(std::string(sync_.last_error()).find("not a time in milliseconds"), std::string::npos)
      << sync_.last_error();
  text.replace(text.find("17231612576931000"), 17, "-1");
  EXPECT_EQ(feed(text), DepthStatus::Malformed);
}

TEST_F(DepthSyncTest, TextAfterTheObjectIsMalformed) {
  sync_at_100();
  EXPECT_EQ(feed(diff(101, 101, {{"99.99", "3"}}, {}) + "}"), DepthStatus::Malformed);
}

TEST_F(DepthSyncTest, ATruncatedDiffInvalidatesAValidBook) {
  sync_at_100();
  const std::string full = diff(101, 101, {{"99.99", "3"}, {"99.98", "4"}}, {{"100.05", "1"}});
  EXPECT_EQ(feed(full.substr(0, full.size() - 20)), DepthStatus::Malformed);
  EXPECT_FALSE(sync_.valid());
  EXPECT_TRUE(sync_.needs_snapshot());
  EXPECT_EQ(sync_.stats().invalidations, 1u);
  EXPECT_EQ(sync_.stats().snapshot_requests, 1u);
  ASSERT_NE(sync_.event(), nullptr);
  EXPECT_EQ(sync_.event()->kind, md::EventKind::Gap);
}

TEST_F(DepthSyncTest, EveryTruncationOfADiffIsRefusedAndLeavesNoValidBook) {
  const std::string full = diff(101, 101, {{"99.99", "3"}, {"99.98", "4"}}, {{"100.05", "1"}});
  for (std::size_t n = 0; n < full.size(); ++n) {
    BinanceDepthSync sync(eth_listing(), small_options());
    ASSERT_EQ(sync.on_message(base_snapshot(100), 1), DepthStatus::Synced);
    const DepthStatus status = sync.on_message(std::string_view(full).substr(0, n), 2);
    EXPECT_TRUE(is_error(status)) << n << ": " << to_string(status);
    // Once the text says it is a depth diff, the valid book is gone; before that, nothing changed.
    if (sync.valid()) {
      EXPECT_EQ(sync.book().qty_at(Side::Buy, px("99.99")), qty("2")) << n;
    }
  }
}

TEST_F(DepthSyncTest, NegativeOrNonDecimalPricesAndQuantitiesAreRefused) {
  const std::vector<Levels> bad = {{{"99.99", "-1"}},        {{"-99.99", "1"}},   {{"0", "1"}},
                                   {{"abc", "1"}},           {{"1e2", "1"}},      {{"99.99", ""}},
                                   {{"99.999999999", "1"}},  {{"99.99", "0x10"}}, {{"99,99", "1"}},
                                   {{"99999999999999", "1"}}};
  for (const Levels& levels : bad) {
    BinanceDepthSync sync(eth_listing(), small_options());
    ASSERT_EQ(sync.on_message(base_snapshot(100), 1), DepthStatus::Synced);
    EXPECT_EQ(sync.on_message(diff(101, 101, levels, {}), 2), DepthStatus::BadNumber)
        << levels[0].first << " x " << levels[0].second;
    EXPECT_FALSE(sync.valid());
    EXPECT_EQ(sync.book().qty_at(Side::Buy, px("99.99")), qty("2"));  // nothing applied
  }
  // A number where Binance sends a decimal string.
  BinanceDepthSync sync(eth_listing(), small_options());
  EXPECT_EQ(
      sync.on_message(
          "{\"e\":\"depthUpdate\",\"s\":\"ETHUSDT\",\"U\":1,\"u\":1,\"b\":[[99.99,\"1\"]],\"a\":[]}", 1),
      DepthStatus::BadNumber);
  EXPECT_EQ(sync.on_message(ticker(5, "100", "-1", "101", "1"), 2), DepthStatus::BadNumber);
  EXPECT_EQ(sync.on_message(trade(5, "0", "1", true), 3), DepthStatus::BadNumber);
  EXPECT_EQ(sync.on_message(trade(5, "100", "0", true), 4), DepthStatus::BadNumber);
}

TEST_F(DepthSyncTest, AnotherSymbolsMessageIsRefusedAndLeavesTheBookAlone) {
  sync_at_100();
  EXPECT_EQ(feed(diff(101, 101, {{"99.99", "3"}}, {}, "BTCUSDT")), DepthStatus::WrongSymbol);
  // The envelope names ours but the payload another.
  std::string mixed = diff(101, 101, {{"99.99", "3"}}, {});
  mixed.replace(mixed.find("\"s\":\"ETHUSDT\""), 13, "\"s\":\"BTCUSDT\"");
  EXPECT_EQ(feed(mixed), DepthStatus::WrongSymbol);
  EXPECT_TRUE(sync_.valid());
  EXPECT_EQ(sync_.stats().count(DepthStatus::WrongSymbol), 2u);
  EXPECT_EQ(feed(diff(101, 101, {{"99.99", "3"}}, {})), DepthStatus::Applied);
}

TEST_F(DepthSyncTest, FirstIdAfterLastIdIsRefused) {
  sync_at_100();
  EXPECT_EQ(feed(diff(105, 101, {{"99.99", "3"}}, {})), DepthStatus::BadIds);
  EXPECT_FALSE(sync_.valid());
}

TEST_F(DepthSyncTest, MissingFieldsAreNamed) {
  sync_at_100();
  EXPECT_EQ(feed("{\"stream\":\"ethusdt@depth\",\"data\":{\"e\":\"depthUpdate\",\"s\":\"ETHUSDT\",\"u\":101,"
                 "\"b\":[],\"a\":[]}}"),
            DepthStatus::MissingField);
  EXPECT_NE(sync_.last_error().find("U, u, b and a"), std::string_view::npos);
  EXPECT_EQ(feed("{\"stream\":\"ethusdt@bookTicker\",\"data\":{\"u\":1,\"s\":\"ETHUSDT\",\"b\":\"1\"}}"),
            DepthStatus::MissingField);
  EXPECT_EQ(feed("{\"e\":\"depthUpdate\",\"U\":1,\"u\":1,\"b\":[],\"a\":[]}"), DepthStatus::MissingField);
}

TEST_F(DepthSyncTest, TheStreamNameAndThePayloadMustAgree) {
  EXPECT_EQ(feed("{\"stream\":\"ethusdt@trade\",\"data\":{\"e\":\"depthUpdate\",\"s\":\"ETHUSDT\",\"U\":1,"
                 "\"u\":1,\"b\":[],\"a\":[]}}"),
            DepthStatus::Malformed);
}

TEST_F(DepthSyncTest, APriceOffTheTickInvalidatesTheBook) {
  sync_at_100();
  EXPECT_EQ(feed(diff(101, 101, {{"99.995", "3"}}, {})), DepthStatus::OffTick);
  EXPECT_FALSE(sync_.valid());
  EXPECT_EQ(feed(snapshot(200, {{"99.995", "1"}}, {})), DepthStatus::OffTick);
  EXPECT_FALSE(sync_.valid());
}

TEST_F(DepthSyncTest, ACrossedBookIsInvalid) {
  sync_at_100();
  EXPECT_EQ(feed(diff(101, 101, {{"100.05", "3"}}, {})), DepthStatus::Crossed);
  EXPECT_FALSE(sync_.valid());
  EXPECT_TRUE(requests_snapshot(DepthStatus::Crossed));
}

TEST_F(DepthSyncTest, ABadSnapshotForAValidBookLosesItAndSaysSo) {
  sync_at_100();
  EXPECT_EQ(feed(snapshot(200, {{"100.05", "1"}}, {{"100.01", "1"}})), DepthStatus::Crossed);
  EXPECT_FALSE(sync_.valid());
  EXPECT_EQ(sync_.stats().invalidations, 1u);
  ASSERT_NE(sync_.event(), nullptr);
  EXPECT_EQ(sync_.event()->kind, md::EventKind::Gap);
  EXPECT_EQ(feed(base_snapshot(201)), DepthStatus::Synced);
}

TEST(DepthSyncInput, AMessageOverTheSizeCapIsRefused) {
  BinanceDepthOptions options = small_options();
  options.max_message_bytes = 100;
  BinanceDepthSync sync(eth_listing(), options);
  EXPECT_EQ(sync.on_message(std::string(101, ' '), 1), DepthStatus::TooLarge);
}

TEST(DepthSyncInput, RandomlyCorruptedMessagesNeverCrashOrLeaveACrossedValidBook) {
  std::mt19937 rng(20261205);
  const char alphabet[] = "{}[]\",:0123456789.-eE ab\\";
  BinanceDepthSync sync(eth_listing(), small_options());
  std::uint64_t next_snapshot = 1000;
  for (int round = 0; round < 3000; ++round) {
    for (int attempt = 0; attempt < 3 && !sync.valid(); ++attempt) {
      // Past anything a corrupted id could have reached.
      next_snapshot = std::max(next_snapshot, sync.update_id()) + 1'000'000;
      (void)sync.on_message(base_snapshot(next_snapshot), 1);
    }
    ASSERT_TRUE(sync.valid()) << sync.last_error();
    const std::uint64_t id = sync.update_id();
    std::string text = diff(id + 1, id + 1, {{"99.99", "3"}, {"99.98", "4"}}, {{"100.05", "1"}});
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) text[rng() % text.size()] = alphabet[rng() % (sizeof(alphabet) - 1)];
    const DepthStatus status = sync.on_message(text, 2);
    if (sync.valid()) {
      EXPECT_FALSE(sync.book().crossed());
      EXPECT_TRUE(status == DepthStatus::Applied || status == DepthStatus::Stale ||
                  status == DepthStatus::Ignored || is_error(status))
          << to_string(status);
    }
    if (status == DepthStatus::Applied) {
      EXPECT_GT(sync.update_id(), id);
    }
  }
  EXPECT_GE(sync.stats().messages, 3000u);
}

// --- the padded path and allocations ---

TEST_F(DepthSyncTest, PaddedInputIsReadInPlace) {
  sync_at_100();
  std::string text = diff(101, 101, {{"99.99", "3"}}, {});
  const std::size_t size = text.size();
  text.resize(size + BinanceDepthSync::kJsonPadding, '\0');
  EXPECT_EQ(sync_.on_message(std::string_view(text.data(), size), text.size(), 5), DepthStatus::Applied);
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("99.99")), qty("3"));
}

TEST(DepthSyncAllocation, NoAllocationPerMessageOnceWarm) {
  if (!kCountingAllocations) GTEST_SKIP() << "allocations are not counted under AddressSanitizer";
  BinanceDepthSync sync(eth_listing());  // the default sizes
  // Warm: a snapshot with levels far from the touch (the book's far-level table grows here), and a diff.
  Levels bids, asks;
  for (int i = 0; i < 1000; ++i) {
    bids.push_back({std::to_string(2000 - i) + ".00", "1"});
    asks.push_back({std::to_string(2001 + i) + ".00", "1"});
  }
  ASSERT_EQ(sync.on_message(snapshot(100, bids, asks), 1), DepthStatus::Synced);
  ASSERT_EQ(sync.on_message(diff(101, 101, {{"1999.50", "1"}}, {{"2001.50", "2"}}), 2), DepthStatus::Applied);
  md::Level out[20];
  (void)sync.levels(Side::Buy, out);

  std::vector<std::string> messages;
  std::uint64_t id = 101;
  for (int i = 0; i < 200; ++i) {
    ++id;
    messages.push_back(diff(id, id,
                            {{"1999.5" + std::to_string(i % 10), "0.5"}, {"1500.00", std::to_string(i % 3)}},
                            {{"2001.50", "1." + std::to_string(i % 7)}}));
    messages.push_back(ticker(id + 1, "2000.00", "1", "2001.00", "1"));
    messages.push_back(trade(1000 + static_cast<std::uint64_t>(i), "2000.00", "0.1", i % 2 == 0));
    messages.push_back(diff(id - 5, id - 1, {}, {}));                      // stale
    messages.push_back("{\"stream\":\"ethusdt@depth\",\"data\":{\"e\":");  // malformed: invalidates
    messages.push_back(snapshot(id, bids, asks));                          // re-sync
  }
  // The counter sees an allocation when there is one.
  g_allocations = 0;
  g_counting = true;
  delete new std::string(100, 'x');
  g_counting = false;
  ASSERT_GE(g_allocations.load(), 1u);

  g_allocations = 0;
  g_counting = true;
  TimestampNs now = 10;
  for (const std::string& m : messages) {
    (void)sync.on_message(m, ++now);
    (void)sync.levels(Side::Buy, out);
    (void)sync.best(Side::Sell);
  }
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0u);
  EXPECT_EQ(sync.stats().count(DepthStatus::Applied), 201u);
  EXPECT_EQ(sync.stats().count(DepthStatus::Trade), 200u);
}

TEST(DepthStatusNames, EveryStatusHasAName) {
  for (std::size_t i = 0; i < kDepthStatusCount; ++i)
    EXPECT_STRNE(to_string(static_cast<DepthStatus>(i)), "?");
  EXPECT_FALSE(is_error(DepthStatus::Gap));
  EXPECT_TRUE(is_error(DepthStatus::Malformed));
  EXPECT_FALSE(requests_snapshot(DepthStatus::Malformed));
}

// --- Binance futures (USD-M, COIN-M): pu continues the run, update ids need not be contiguous ---

// A USD-M @depth@100ms diff as Binance futures sends it: E, T, U, u and pu.
std::string futures_diff(std::uint64_t first, std::uint64_t last, std::uint64_t prev, const Levels& bids,
                         const Levels& asks, const std::string& symbol = "ETHUSDT") {
  std::string lower = symbol;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return "{\"stream\":\"" + lower + "@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1723161255308," +
         "\"T\":1723161255306,\"s\":\"" + symbol + "\",\"U\":" + std::to_string(first) +
         ",\"u\":" + std::to_string(last) + ",\"pu\":" + std::to_string(prev) +
         ",\"b\":" + levels_json(bids) + ",\"a\":" + levels_json(asks) + "}}";
}

BinanceDepthOptions futures_options() {
  BinanceDepthOptions o = small_options();
  o.futures = true;
  return o;
}

class FuturesDepthSyncTest : public ::testing::Test {
 protected:
  DepthStatus feed(const std::string& json) { return sync_.on_message(json, ++now_); }
  BinanceDepthSync sync_{eth_listing(), futures_options()};
  TimestampNs now_ = 1'000'000;
};

TEST_F(FuturesDepthSyncTest, ContinuesByPuAcrossIdsThatAreNotContiguous) {
  // Buffered: ids jump (U is not the previous u + 1), pu chains them.
  EXPECT_EQ(feed(futures_diff(90, 97, 80, {{"100.00", "5"}}, {})), DepthStatus::Buffered);
  EXPECT_EQ(feed(futures_diff(105, 112, 97, {{"99.98", "7"}}, {})), DepthStatus::Buffered);
  EXPECT_EQ(sync_.buffered_diffs(), 2u);
  // A snapshot inside the second diff (U <= 108 <= u): the first is dropped, the second applied.
  // A futures snapshot carries E and T too.
  EXPECT_EQ(sync_.on_snapshot("{\"lastUpdateId\":108,\"E\":1723161255300,\"T\":1723161255299,\"bids\":"
                              "[[\"100.00\",\"1\"]],\"asks\":[[\"100.01\",\"3\"]]}",
                              ++now_),
            DepthStatus::Synced);
  EXPECT_EQ(sync_.update_id(), 112u);
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("99.98")), qty("7"));
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("100.00")), qty("1"));  // the dropped diff's 5 was older
  // Next: pu = 112 continues, though U jumps to 130.
  EXPECT_EQ(feed(futures_diff(130, 131, 112, {{"100.00", "2"}}, {})), DepthStatus::Applied);
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("100.00")), qty("2"));
  // pu that is not the previous u is a gap, whatever U says.
  EXPECT_EQ(feed(futures_diff(132, 133, 125, {}, {})), DepthStatus::Gap);
  EXPECT_FALSE(sync_.valid());
  EXPECT_NE(std::string(sync_.last_error()).find("pu = 131"), std::string::npos) << sync_.last_error();
}

TEST_F(FuturesDepthSyncTest, TheFirstDiffAfterASnapshotMayEndAtItsUpdateIdOrContinueIt) {
  ASSERT_EQ(sync_.on_snapshot(base_snapshot(200), ++now_), DepthStatus::Synced);
  // u = lastUpdateId: applied (U <= 200 <= u), not dropped as spot would.
  EXPECT_EQ(feed(futures_diff(195, 200, 190, {{"99.99", "9"}}, {})), DepthStatus::Applied);
  EXPECT_EQ(sync_.book().qty_at(Side::Buy, px("99.99")), qty("9"));
  ASSERT_EQ(sync_.on_snapshot(base_snapshot(300), ++now_), DepthStatus::Synced);
  // Older than the snapshot: stale. Then one whose pu is the snapshot's id bridges it though U > 300.
  EXPECT_EQ(feed(futures_diff(280, 299, 270, {}, {})), DepthStatus::Stale);
  EXPECT_EQ(feed(futures_diff(310, 320, 300, {}, {{"100.01", "1"}})), DepthStatus::Applied);
  EXPECT_EQ(sync_.update_id(), 320u);
  ASSERT_EQ(sync_.on_snapshot(base_snapshot(400), ++now_), DepthStatus::Synced);
  // Neither U <= 400 nor pu = 400: the snapshot is not bridged.
  EXPECT_EQ(feed(futures_diff(410, 420, 405, {}, {})), DepthStatus::Gap);
}

TEST_F(FuturesDepthSyncTest, ASnapshotOlderThanTheBufferedRunIsRefusedAndADiffWithoutPuIsMissingAField) {
  EXPECT_EQ(feed(futures_diff(500, 510, 490, {}, {})), DepthStatus::Buffered);
  EXPECT_EQ(sync_.on_snapshot(base_snapshot(480), ++now_), DepthStatus::SnapshotTooOld);
  EXPECT_EQ(feed(diff(511, 512, {}, {})), DepthStatus::MissingField);  // a spot diff: no pu
  EXPECT_EQ(sync_.on_snapshot(base_snapshot(505), ++now_), DepthStatus::Synced);
  EXPECT_EQ(sync_.update_id(), 510u);
}

TEST_F(FuturesDepthSyncTest, ReadsFuturesBookTickersWhichNameTheirEventType) {
  ASSERT_EQ(sync_.on_snapshot(base_snapshot(600), ++now_), DepthStatus::Synced);
  const std::string ticker_600 =
      "{\"stream\":\"ethusdt@bookTicker\",\"data\":{\"e\":\"bookTicker\",\"u\":600,\"s\":\"ETHUSDT\","
      "\"b\":\"100.00\",\"B\":\"1\",\"a\":\"100.01\",\"A\":\"3\",\"T\":1723161255306,\"E\":1723161255308}}";
  EXPECT_EQ(feed(ticker_600), DepthStatus::Quote);
  EXPECT_EQ(sync_.stats().touch_checks, 1u);
  EXPECT_EQ(sync_.stats().touch_mismatches, 0u);
}

}  // namespace
}  // namespace tranche::gateway
