// The Tardis CSV samples in ../shared/data/nautilus/tardis, read whole. The expected counts were taken from
// the files with other tools (wc, awk, Python's csv and decimal modules), not from this decoder.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "md/tardis_reader.hpp"
#include "md/test_data.hpp"

namespace tranche::md {
namespace {

using testing::px;
using testing::qty;

std::string tardis_file(const std::string& name) {
  return testing::shared_data("nautilus/tardis/" + name);
}

const std::string kQuotes = "binance-futures_BTCUSDT_2020-02-22_tardis_quotes.csv";
const std::string kTrades = "binance-futures_BTCUSDT_2020-02-22_tardis_trades.csv";
const std::string kSnapshot25 = "binance-futures_book_snapshot_25_BTCUSDT.csv";
const std::string kSnapshot5 = "binance-futures_book_snapshot_5_BTCUSDT.csv";
const std::string kBitmexTrades = "bitmex_trades_XBTUSD.csv";
const std::string kDeribitL2 = "deribit_incremental_book_L2_BTC-PERPETUAL.csv";
const std::string kHuobiQuotes = "huobi-dm-swap_quotes_BTC-USD.csv";

struct ReadResult {
  std::unique_ptr<EventReader> reader;
  std::vector<OwnedEvent> events;
};

ReadResult read_file(const std::string& name) {
  ReadResult r;
  r.reader = make_tardis_reader({tardis_file(name)});
  Event e;
  while (r.reader->next(e)) r.events.emplace_back(e);
  return r;
}

std::string errors_of(const EventReader& reader) {
  std::string text;
  for (const auto& e : reader.errors()) text += e.to_string() + "\n";
  return text;
}

TEST(TardisGolden, ReadsEveryQuoteOfTheBinanceFuturesFileWithTheBidBelowTheAsk) {
  TRANCHE_REQUIRE_SHARED_FILE(tardis_file(kQuotes));
  const auto r = read_file(kQuotes);
  ASSERT_EQ(r.reader->error_count(), 0u) << errors_of(*r.reader);
  ASSERT_EQ(r.events.size(), 9999u);  // 10,000 lines less the header
  ASSERT_EQ(r.reader->streams().size(), 1u);
  EXPECT_EQ(r.reader->streams()[0].name(), "binance-futures:BTCUSDT");
  Price min_spread = Price::max();
  Price max_spread;
  for (const auto& owned : r.events) {
    const Event& q = owned.event;
    ASSERT_EQ(q.kind, EventKind::Quote);
    ASSERT_TRUE(q.price.is_set() && q.price2.is_set());
    ASSERT_LT(q.price, q.price2) << "crossed quote at recv_ns " << q.recv_ns;
    min_spread = std::min(min_spread, q.price2 - q.price);
    max_spread = std::max(max_spread, q.price2 - q.price);
  }
  EXPECT_EQ(min_spread, px("0.01"));
  EXPECT_EQ(max_spread, px("2.66"));
  const Event& first = r.events.front().event;
  EXPECT_EQ(first.recv_ns, 1582329603502092000);
  EXPECT_EQ(first.exch_ns, 1582329601096000000);
  EXPECT_EQ(first.price, px("9681.92"));
  EXPECT_EQ(first.qty, qty("0.67"));
  EXPECT_EQ(first.price2, px("9682"));
  EXPECT_EQ(first.qty2, qty("0.84"));
  const Event& last = r.events.back().event;
  EXPECT_EQ(last.recv_ns, 1582329827181582000);
  EXPECT_EQ(last.price, px("9671.19"));
  EXPECT_EQ(last.price2, px("9672.09"));
}

TEST(TardisGolden, ReadsEveryQuoteOfTheHuobiFileWithTheBidBelowTheAsk) {
  TRANCHE_REQUIRE_SHARED_FILE(tardis_file(kHuobiQuotes));
  const auto r = read_file(kHuobiQuotes);
  ASSERT_EQ(r.reader->error_count(), 0u) << errors_of(*r.reader);
  ASSERT_EQ(r.events.size(), 10u);
  EXPECT_EQ(r.reader->streams()[0].name(), "huobi-dm-swap:BTC-USD");
  for (const auto& owned : r.events) {
    EXPECT_EQ(owned.event.kind, EventKind::Quote);
    EXPECT_EQ(owned.event.price, px("8629.2"));
    EXPECT_EQ(owned.event.price2, px("8629.3"));
  }
  EXPECT_EQ(r.events.back().event.qty, qty("847"));
  EXPECT_EQ(r.events.back().event.qty2, qty("5411"));
}

TEST(TardisGolden, ReadsEveryBinanceFuturesTradeWithItsIdAsTheSequence) {
  TRANCHE_REQUIRE_SHARED_FILE(tardis_file(kTrades));
  const auto r = read_file(kTrades);
  ASSERT_EQ(r.reader->error_count(), 0u) << errors_of(*r.reader);
  ASSERT_EQ(r.events.size(), 9999u);
  EXPECT_TRUE(r.reader->skipped().empty());
  std::size_t buys = 0;
  Qty volume;
  Qty buy_volume;
  std::uint64_t expected_id = 42377944;  // the ids run without a hole to 42387942
  for (const auto& owned : r.events) {
    const Event& t = owned.event;
    ASSERT_EQ(t.kind, EventKind::Trade);
    ASSERT_EQ(t.last_seq, expected_id++);
    volume += t.qty;
    if (t.side == Side::Buy) {
      ++buys;
      buy_volume += t.qty;
    }
  }
  EXPECT_EQ(buys, 5267u);
  EXPECT_EQ(r.events.size() - buys, 4732u);
  EXPECT_EQ(volume, qty("4024.301"));
  EXPECT_EQ(buy_volume, qty("2059.537"));
  EXPECT_EQ(r.events.front().event.price, px("9682"));
  EXPECT_EQ(r.events.front().event.exch_ns, 1582329602111000000);
}

TEST(TardisGolden, NumbersBitmexTradesWhoseIdsAreUuidsInOrder) {
  TRANCHE_REQUIRE_SHARED_FILE(tardis_file(kBitmexTrades));
  const auto r = read_file(kBitmexTrades);
  ASSERT_EQ(r.reader->error_count(), 0u) << errors_of(*r.reader);
  ASSERT_EQ(r.events.size(), 10u);
  EXPECT_EQ(r.reader->streams()[0].name(), "bitmex:XBTUSD");
  Qty volume;
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    const Event& t = r.events[i].event;
    EXPECT_EQ(t.kind, EventKind::Trade);
    EXPECT_EQ(t.side, Side::Sell);
    EXPECT_EQ(t.last_seq, i + 1);
    EXPECT_EQ(t.price, px("8531.5"));
    volume += t.qty;
  }
  EXPECT_EQ(volume, qty("2161"));
}

TEST(TardisGolden, ReadsTheDeribitIncrementalFileAsOneSnapshotOfFifteenAsks) {
  TRANCHE_REQUIRE_SHARED_FILE(tardis_file(kDeribitL2));
  const auto r = read_file(kDeribitL2);
  ASSERT_EQ(r.reader->error_count(), 0u) << errors_of(*r.reader);
  ASSERT_EQ(r.events.size(), 1u);  // 15 rows, all is_snapshot=true with one local_timestamp
  const OwnedEvent& snapshot = r.events[0];
  EXPECT_EQ(snapshot.event.kind, EventKind::BookSnapshot);
  EXPECT_EQ(snapshot.event.recv_ns, 1585699200355684000);
  EXPECT_EQ(snapshot.event.exch_ns, 1585699200245000000);
  EXPECT_TRUE(snapshot.bids.empty());
  ASSERT_EQ(snapshot.asks.size(), 15u);
  EXPECT_EQ(snapshot.asks.front().price, px("6421.5"));
  EXPECT_EQ(snapshot.asks.front().qty, qty("18640"));
  EXPECT_EQ(snapshot.asks.back().price, px("6428.5"));
  Qty total;
  for (const Level& level : snapshot.asks) total += level.qty;
  EXPECT_EQ(total, qty("317490"));
}

void expect_full_sorted_snapshots(const std::vector<OwnedEvent>& events, std::size_t depth) {
  for (const auto& owned : events) {
    ASSERT_EQ(owned.event.kind, EventKind::BookSnapshot);
    ASSERT_EQ(owned.bids.size(), depth);
    ASSERT_EQ(owned.asks.size(), depth);
    for (std::size_t i = 1; i < depth; ++i) {
      EXPECT_GT(owned.bids[i - 1].price, owned.bids[i].price);
      EXPECT_LT(owned.asks[i - 1].price, owned.asks[i].price);
    }
    EXPECT_LT(owned.bids[0].price, owned.asks[0].price);
  }
}

TEST(TardisGolden, ReadsBothBookSnapshotFilesAsFullSnapshots) {
  TRANCHE_REQUIRE_SHARED_FILE(tardis_file(kSnapshot25));
  TRANCHE_REQUIRE_SHARED_FILE(tardis_file(kSnapshot5));
  const auto deep = read_file(kSnapshot25);
  ASSERT_EQ(deep.reader->error_count(), 0u) << errors_of(*deep.reader);
  ASSERT_EQ(deep.events.size(), 10u);
  expect_full_sorted_snapshots(deep.events, 25);
  const auto shallow = read_file(kSnapshot5);
  ASSERT_EQ(shallow.reader->error_count(), 0u) << errors_of(*shallow.reader);
  ASSERT_EQ(shallow.events.size(), 10u);
  expect_full_sorted_snapshots(shallow.events, 5);
  EXPECT_EQ(deep.events[0].asks[24].price, px("11659.34"));
  EXPECT_EQ(deep.events[0].bids[24].qty, qty("1.003"));
}

TEST(TardisGolden, TopOfTheTwentyFiveLevelSnapshotEqualsTheFiveLevelSnapshotAtTheSameTimes) {
  TRANCHE_REQUIRE_SHARED_FILE(tardis_file(kSnapshot25));
  TRANCHE_REQUIRE_SHARED_FILE(tardis_file(kSnapshot5));
  const auto deep = read_file(kSnapshot25);
  const auto shallow = read_file(kSnapshot5);
  std::map<TimestampNs, const OwnedEvent*> by_time;
  for (const auto& owned : shallow.events) by_time[owned.event.recv_ns] = &owned;
  int matched = 0;
  for (const auto& owned : deep.events) {
    const auto it = by_time.find(owned.event.recv_ns);
    if (it == by_time.end()) continue;
    ++matched;
    const OwnedEvent& five = *it->second;
    EXPECT_EQ(owned.event.exch_ns, five.event.exch_ns);
    EXPECT_EQ(owned.bids[0].price, five.bids[0].price) << owned.event.recv_ns;
    EXPECT_EQ(owned.bids[0].qty, five.bids[0].qty) << owned.event.recv_ns;
    EXPECT_EQ(owned.asks[0].price, five.asks[0].price) << owned.event.recv_ns;
    EXPECT_EQ(owned.asks[0].qty, five.asks[0].qty) << owned.event.recv_ns;
    for (std::size_t i = 1; i < 5; ++i) {  // the four levels below the top agree too
      EXPECT_EQ(owned.bids[i].price, five.bids[i].price);
      EXPECT_EQ(owned.asks[i].qty, five.asks[i].qty);
    }
  }
  EXPECT_EQ(matched, 4);  // local timestamps ...3810979, ...3894256, ...3935479, ...3969976 are in both files
}

TEST(TardisGolden, ReadsEverySampleFileInOneReaderAsFourStreams) {
  const std::vector<std::string> names = {kQuotes,       kTrades,    kSnapshot25, kSnapshot5,
                                          kBitmexTrades, kDeribitL2, kHuobiQuotes};
  std::vector<std::string> files;
  for (const auto& name : names) {
    TRANCHE_REQUIRE_SHARED_FILE(tardis_file(name));
    files.push_back(tardis_file(name));
  }
  auto reader = make_tardis_reader(files);
  std::map<EventKind, std::size_t> kinds;
  Event e;
  while (reader->next(e)) ++kinds[e.kind];
  ASSERT_EQ(reader->error_count(), 0u) << errors_of(*reader);
  EXPECT_EQ(kinds[EventKind::Quote], 9999u + 10u);
  EXPECT_EQ(kinds[EventKind::Trade], 9999u + 10u);
  EXPECT_EQ(kinds[EventKind::BookSnapshot], 10u + 10u + 1u);
  EXPECT_EQ(kinds[EventKind::BookDelta], 0u);
  EXPECT_EQ(reader->lines_read(), 10000u + 10000u + 11u + 11u + 11u + 16u + 11u);
  ASSERT_EQ(reader->streams().size(), 4u);
  EXPECT_EQ(reader->streams()[0].name(), "binance-futures:BTCUSDT");
  EXPECT_EQ(reader->streams()[1].name(), "bitmex:XBTUSD");
  EXPECT_EQ(reader->streams()[2].name(), "deribit:BTC-PERPETUAL");
  EXPECT_EQ(reader->streams()[3].name(), "huobi-dm-swap:BTC-USD");
}

}  // namespace
}  // namespace tranche::md
