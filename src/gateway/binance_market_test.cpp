// BinanceMarket without sockets: messages come in as the network thread hands them over, snapshots go
// to a fake fetcher. Routing by stream, the snapshot rules (after the first diff, one in flight, one a
// second, 429/418 honoured, stale after a drop), drops and re-syncs, the venue's state, bad input counted
// and said, the queue's bound, and no allocation per message once warm.
#include "gateway/binance_market.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gateway/binance_protocol.hpp"
#include "gateway/binance_session.hpp"
#include "md/test_data.hpp"

#include "gateway/test_allocation_counter.hpp"

namespace tranche::gateway {
namespace {

using md::testing::px;
using md::testing::qty;
using Levels = std::vector<std::pair<std::string, std::string>>;

constexpr TimestampNs kSec = kNanosPerSecond;
constexpr TimestampNs kT0 = 1'700'000'000 * kSec;

VenueListing listing(const char* instrument, const char* symbol) {
  VenueListing l;
  l.instrument = InstrumentId(instrument);
  l.symbol = symbol;
  l.tick_size = px("0.01");
  l.lot_size = qty("0.0001");
  return l;
}

VenueConfig venue() {
  VenueConfig v;
  v.id = VenueId("binance-spot");
  v.exchange = "binance";
  v.market = "spot";
  v.listings = {listing("ETH-USDT", "ETHUSDT"), listing("BTC-USDT", "BTCUSDT")};
  v.binance = VenueBinanceConfig{};
  return v;
}

std::string levels_json(const Levels& levels) {
  std::string out = "[";
  for (const auto& [price, quantity] : levels) {
    if (out.size() > 1) out += ",";
    out += "[\"" + price + "\",\"" + quantity + "\"]";
  }
  return out + "]";
}

std::string diff(std::uint64_t first, std::uint64_t last, const Levels& bids, const Levels& asks,
                 const std::string& symbol = "ETHUSDT") {
  return "{\"stream\":\"" + binance::stream_symbol(symbol) +
         "@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1723161255308," + "\"s\":\"" + symbol +
         "\",\"U\":" + std::to_string(first) + ",\"u\":" + std::to_string(last) +
         ",\"b\":" + levels_json(bids) + ",\"a\":" + levels_json(asks) + "}}";
}

std::string snapshot(std::uint64_t id) {
  return "{\"lastUpdateId\":" + std::to_string(id) +
         ",\"bids\":" + levels_json({{"100.00", "1"}, {"99.99", "2"}}) +
         ",\"asks\":" + levels_json({{"100.01", "3"}, {"100.02", "4"}}) + "}";
}

std::string trade(std::uint64_t id, const std::string& symbol = "ETHUSDT") {
  return "{\"stream\":\"" + binance::stream_symbol(symbol) +
         "@trade\",\"data\":{\"e\":\"trade\",\"E\":1723161255612,\"s\":\"" + symbol +
         "\",\"t\":" + std::to_string(id) +
         ",\"p\":\"100.00\",\"q\":\"0.5\",\"T\":1723161255611,\"m\":true,\"M\":true}}";
}

std::string ticker(std::uint64_t id) {
  return "{\"stream\":\"ethusdt@bookTicker\",\"data\":{\"u\":" + std::to_string(id) +
         ",\"s\":\"ETHUSDT\",\"b\":\"100.00\",\"B\":\"1\",\"a\":\"100.01\",\"A\":\"3\"}}";
}

struct FakeFetcher final : SnapshotFetcher {
  struct Ask {
    std::size_t listing;
    std::string symbol;
    std::uint64_t ticket;
  };
  void fetch(std::size_t listing, const std::string& symbol, std::uint64_t ticket) override {
    asks.push_back({listing, symbol, ticket});
  }
  std::size_t count(const std::string& symbol) const {
    std::size_t n = 0;
    for (const auto& a : asks) n += a.symbol == symbol;
    return n;
  }
  const Ask& last(const std::string& symbol) const {
    for (auto it = asks.rbegin(); it != asks.rend(); ++it)
      if (it->symbol == symbol) return *it;
    throw std::logic_error("no snapshot asked for " + symbol);
  }
  std::vector<Ask> asks;
};

struct Sink final : MarketEventSink {
  struct Got {
    std::size_t listing;
    md::EventKind kind;
  };
  void on_market_event(std::size_t listing, const md::Event& event) override {
    got.push_back({listing, event.kind});
  }
  std::size_t count(md::EventKind kind, std::size_t listing = 0) const {
    std::size_t n = 0;
    for (const auto& g : got) n += g.kind == kind && g.listing == listing;
    return n;
  }
  std::vector<Got> got;
};

BinanceMarketOptions small_options() {
  BinanceMarketOptions o;
  o.depth.max_buffered_diffs = 64;
  o.depth.max_buffered_levels = 1024;
  o.depth.max_message_bytes = 1u << 16;
  o.depth.reserve_levels_per_side = 64;
  return o;
}

class BinanceMarketTest : public ::testing::Test {
 protected:
  BinanceMarketTest() : market_(venue(), small_options(), &fetcher_) {}
  // The stream opens at kT0 and the ETH book syncs at update id 100 (BTC's stays unsynced).
  void open_and_sync_eth() {
    market_.on_open(kT0);
    market_.on_stream_message(diff(99, 101, {{"99.98", "5"}}, {}), kT0 + 1);
    market_.poll(kT0 + 2, sink_);
    ASSERT_EQ(fetcher_.asks.size(), 1u);
    market_.on_snapshot_answer(0, fetcher_.asks[0].ticket, 200, 0, snapshot(100), kT0 + 3);
    market_.poll(kT0 + 4, sink_);
    ASSERT_TRUE(market_.book(0).valid());
  }

  FakeFetcher fetcher_;
  BinanceMarket market_;
  Sink sink_;
};

TEST_F(BinanceMarketTest, AsksForEveryListingsDepthTradeAndBookTickerOnOneCombinedStream) {
  EXPECT_EQ(market_.stream_target(),
            "/stream?streams=ethusdt@depth@100ms/ethusdt@trade/ethusdt@bookTicker/"
            "btcusdt@depth@100ms/btcusdt@trade/btcusdt@bookTicker");
  EXPECT_EQ(market_.listing_index(InstrumentId("BTC-USDT")), 1);
  EXPECT_EQ(market_.listing_index(InstrumentId("SOL-USDT")), -1);
}

TEST_F(BinanceMarketTest, IsDisconnectedUntilTheStreamOpensAndPreOpenUntilEveryBookSyncs) {
  EXPECT_EQ(market_.state(), VenueState::Disconnected);
  open_and_sync_eth();
  EXPECT_EQ(market_.state(), VenueState::PreOpen);  // BTC has no book yet
  market_.on_stream_message(diff(500, 501, {{"50000.00", "1"}}, {{"50000.01", "1"}}, "BTCUSDT"), kT0 + 5);
  market_.poll(kT0 + 6, sink_);
  ASSERT_EQ(fetcher_.asks.size(), 2u);
  EXPECT_EQ(fetcher_.asks[1].symbol, "BTCUSDT");
  market_.on_snapshot_answer(
      1, fetcher_.asks[1].ticket, 200, 0,
      "{\"lastUpdateId\":500,\"bids\":[[\"49999.00\",\"1\"]],\"asks\":[[\"50001.00\",\"1\"]]}", kT0 + 7);
  market_.poll(kT0 + 8, sink_);
  EXPECT_EQ(market_.state(), VenueState::Open);
  EXPECT_EQ(market_.book(1).best(Side::Buy), px("50000.00"));
}

TEST_F(BinanceMarketTest, RoutesEachMessageToItsListingsBookAndDeliversItsEvent) {
  open_and_sync_eth();
  EXPECT_EQ(sink_.count(md::EventKind::BookSnapshot), 1u);
  // The buffered diff 99..101 bridged the snapshot at 100.
  EXPECT_EQ(market_.book(0).update_id(), 101u);
  EXPECT_EQ(market_.book(0).book().qty_at(Side::Buy, px("99.98")), qty("5"));
  market_.on_stream_message(diff(102, 102, {{"100.00", "7"}}, {}), kT0 + 10);
  market_.on_stream_message(trade(1), kT0 + 11);
  market_.on_stream_message(trade(1, "BTCUSDT"), kT0 + 12);
  EXPECT_EQ(market_.poll(kT0 + 13, sink_), 3u);
  EXPECT_EQ(sink_.count(md::EventKind::BookDelta), 1u);
  EXPECT_EQ(sink_.count(md::EventKind::Trade, 0), 1u);
  EXPECT_EQ(sink_.count(md::EventKind::Trade, 1), 1u);
  EXPECT_EQ(market_.book(0).best_qty(Side::Buy), qty("7"));
  EXPECT_EQ(market_.book(0).last_event_ns(), kT0 + 11);  // stamped when received, not when polled
  // A bookTicker ahead of the diffs is the fresher touch.
  market_.on_stream_message(ticker(103), kT0 + 14);
  market_.poll(kT0 + 15, sink_);
  EXPECT_EQ(sink_.count(md::EventKind::Quote), 1u);
  EXPECT_EQ(market_.book(0).best_qty(Side::Buy), qty("1"));
}

TEST_F(BinanceMarketTest, AsksForASnapshotOnceTheFirstDiffIsBufferedOrAfterAQuietSecond) {
  market_.on_open(kT0);
  market_.poll(kT0 + kSec / 2, sink_);
  EXPECT_TRUE(fetcher_.asks.empty());  // no diff yet: a snapshot now could predate them
  market_.poll(kT0 + kSec, sink_);
  ASSERT_EQ(fetcher_.asks.size(), 2u);  // a quiet second: both listings' books from snapshots alone
  EXPECT_EQ(fetcher_.asks[0].symbol, "ETHUSDT");
  EXPECT_EQ(fetcher_.asks[1].symbol, "BTCUSDT");
  market_.on_snapshot_answer(0, fetcher_.asks[0].ticket, 200, 0, snapshot(100), kT0 + kSec + 1);
  market_.poll(kT0 + kSec + 2, sink_);
  EXPECT_TRUE(market_.book(0).valid());
}

TEST_F(BinanceMarketTest, NeverHasTwoSnapshotsInFlightNorAsksMoreThanOnceASecond) {
  market_.on_open(kT0);
  market_.on_stream_message(diff(99, 101, {}, {}), kT0 + 1);
  market_.poll(kT0 + 2, sink_);
  ASSERT_EQ(fetcher_.count("ETHUSDT"), 1u);
  market_.poll(kT0 + 5 * kSec, sink_);  // still in flight
  EXPECT_EQ(fetcher_.count("ETHUSDT"), 1u);
  // It fails (no answer in time): the next one follows at once, since a second has passed.
  market_.on_snapshot_answer(0, fetcher_.asks[0].ticket, 0, 0, "reading the answer: no answer in time",
                             kT0 + 5 * kSec);
  market_.poll(kT0 + 5 * kSec + 1, sink_);
  ASSERT_EQ(fetcher_.count("ETHUSDT"), 2u);
  EXPECT_NE(market_.last_error().find("no answer in time"), std::string::npos);
  // An HTTP error: said, and the next one no sooner than a second after the last was asked for.
  market_.on_snapshot_answer(0, fetcher_.last("ETHUSDT").ticket, 500, 0,
                             "{\"code\":-1001,\"msg\":\"Internal error\"}", kT0 + 5 * kSec + 2);
  market_.poll(kT0 + 5 * kSec + kSec / 2, sink_);
  EXPECT_EQ(fetcher_.count("ETHUSDT"), 2u);
  market_.poll(kT0 + 6 * kSec + 1, sink_);
  EXPECT_EQ(fetcher_.count("ETHUSDT"), 3u);
  EXPECT_EQ(market_.stats().snapshots_failed, 2u);
  EXPECT_EQ(market_.stats().snapshots_requested, 4u);  // and one for BTC, a quiet second after the open
}

TEST_F(BinanceMarketTest, HonoursA429sRetryAfterAndWaitsTwoMinutesAfterA418WithoutOne) {
  market_.on_open(kT0);
  market_.on_stream_message(diff(99, 101, {}, {}), kT0 + 1);
  market_.poll(kT0 + 2, sink_);
  market_.on_snapshot_answer(0, fetcher_.asks[0].ticket, 429, 5,
                             "{\"code\":-1003,\"msg\":\"Too many requests\"}", kT0 + 3);
  market_.poll(kT0 + 4, sink_);
  market_.poll(kT0 + 4 * kSec, sink_);
  EXPECT_EQ(fetcher_.count("ETHUSDT"), 1u);
  market_.poll(kT0 + 5 * kSec + 4, sink_);
  ASSERT_EQ(fetcher_.count("ETHUSDT"), 2u);
  market_.on_snapshot_answer(0, fetcher_.last("ETHUSDT").ticket, 418, 0,
                             "{\"code\":-1003,\"msg\":\"banned\"}", kT0 + 6 * kSec);
  const TimestampNs t = kT0 + 6 * kSec + 1;
  market_.poll(t, sink_);
  market_.poll(t + 119 * kSec, sink_);
  EXPECT_EQ(fetcher_.count("ETHUSDT"), 2u);
  market_.poll(t + 120 * kSec, sink_);
  EXPECT_EQ(fetcher_.count("ETHUSDT"), 3u);
  EXPECT_EQ(market_.stats().rate_limited, 2u);
}

TEST_F(BinanceMarketTest, ADropInvalidatesEveryBookAndTheReconnectResyncsThem) {
  open_and_sync_eth();
  market_.on_close("reading: end of stream", kT0 + kSec);
  market_.poll(kT0 + kSec + 1, sink_);
  EXPECT_EQ(market_.state(), VenueState::Disconnected);
  EXPECT_FALSE(market_.book(0).valid());
  EXPECT_EQ(sink_.count(md::EventKind::Gap), 1u);
  EXPECT_EQ(market_.stats().disconnects, 1u);
  const std::size_t asked = fetcher_.asks.size();
  market_.poll(kT0 + 5 * kSec, sink_);
  EXPECT_EQ(fetcher_.asks.size(), asked);  // nothing asked while the stream is down
  market_.on_open(kT0 + 6 * kSec);
  market_.on_stream_message(diff(150, 152, {{"100.00", "9"}}, {}), kT0 + 6 * kSec + 1);
  market_.poll(kT0 + 6 * kSec + 2, sink_);
  ASSERT_EQ(fetcher_.asks.size(), asked + 1);
  market_.on_snapshot_answer(0, fetcher_.asks.back().ticket, 200, 0, snapshot(151), kT0 + 6 * kSec + 3);
  market_.poll(kT0 + 6 * kSec + 4, sink_);
  EXPECT_TRUE(market_.book(0).valid());
  EXPECT_EQ(market_.book(0).update_id(), 152u);
  EXPECT_EQ(market_.book(0).best_qty(Side::Buy), qty("9"));
  bool said_drop = false;
  for (const auto& n : market_.take_notes())
    said_drop = said_drop || n.find("stream dropped") != std::string::npos;
  EXPECT_TRUE(said_drop);
}

TEST_F(BinanceMarketTest, ASnapshotAskedForBeforeADropIsNotAppliedAfterIt) {
  market_.on_open(kT0);
  market_.on_stream_message(diff(99, 101, {}, {}), kT0 + 1);
  market_.poll(kT0 + 2, sink_);
  ASSERT_EQ(fetcher_.asks.size(), 1u);
  market_.on_close("dropped", kT0 + 3);
  market_.on_open(kT0 + 4);
  market_.on_snapshot_answer(0, fetcher_.asks[0].ticket, 200, 0, snapshot(100), kT0 + 5);
  market_.poll(kT0 + 6, sink_);
  EXPECT_FALSE(market_.book(0).valid());
  EXPECT_EQ(market_.stats().snapshots_stale, 1u);
}

TEST_F(BinanceMarketTest, BadInputIsCountedAndSaidNeverApplied) {
  open_and_sync_eth();
  market_.on_stream_message("{\"stream\":\"ethusdt@depth@100ms\",\"data\":{\"e\":", kT0 + 10);  // truncated
  market_.on_stream_message("{\"result\":null,\"id\":1}", kT0 + 11);                            // no stream
  market_.on_stream_message("{\"stream\":\"solusdt@trade\",\"data\":{}}", kT0 + 12);            // not ours
  market_.on_stream_message(
      "{\"stream\":\"ethusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1,\"s\":\"BTCUSDT\",\"t\":5,\"p\":\"1."
      "00\","
      "\"q\":\"1\",\"T\":1,\"m\":true}}",
      kT0 + 13);                                                    // another symbol's data on our stream
  market_.on_snapshot_answer(1, 99, 200, 0, "not json", kT0 + 14);  // a ticket never asked for: ignored
  market_.poll(kT0 + 2 * kSec, sink_);
  EXPECT_EQ(market_.stats().bad_messages, 2u);
  EXPECT_EQ(market_.stats().unrouted, 2u);
  EXPECT_FALSE(market_.book(0).valid());  // the truncated diff lost the book
  EXPECT_NE(market_.last_error().find("wrong symbol"), std::string::npos) << market_.last_error();
  bool said = false;
  for (const auto& n : market_.take_notes()) said = said || n.find("4 bad messages") != std::string::npos;
  EXPECT_TRUE(said);
  // A snapshot that cannot be read: counted, said, the book still waiting.
  market_.on_stream_message(diff(103, 104, {}, {}), kT0 + 3 * kSec);
  market_.poll(kT0 + 3 * kSec + 1, sink_);
  ASSERT_FALSE(fetcher_.asks.empty());
  market_.on_snapshot_answer(0, fetcher_.last("ETHUSDT").ticket, 200, 0, "{\"lastUpdateId\":\"x\"}",
                             kT0 + 3 * kSec + 2);
  market_.poll(kT0 + 3 * kSec + 3, sink_);
  EXPECT_FALSE(market_.book(0).valid());
  EXPECT_NE(market_.last_error().find("snapshot"), std::string::npos) << market_.last_error();
}

TEST(SpotMarketQueue, DropsStreamMessagesPastItsBoundAndSaysSo) {
  FakeFetcher fetcher;
  BinanceMarketOptions options = small_options();
  options.max_queued = 4;
  BinanceMarket market(venue(), options, &fetcher);
  Sink sink;
  market.on_open(kT0);
  for (int i = 0; i < 10; ++i) market.on_stream_message(trade(static_cast<std::uint64_t>(i + 1)), kT0 + i);
  EXPECT_EQ(market.poll(kT0 + 20, sink), 4u);  // the open, and three of the messages
  EXPECT_EQ(market.stats().dropped, 7u);
  EXPECT_NE(market.last_error().find("7 stream messages dropped"), std::string::npos);
}

TEST(SpotMarketQueue, HandsMessagesFromAnotherThreadInOrder) {
  FakeFetcher fetcher;
  BinanceMarket market(venue(), small_options(), &fetcher);
  Sink sink;
  market.on_open(kT0);
  market.poll(kT0, sink);
  constexpr int kTrades = 5000;
  std::thread producer([&] {
    for (int i = 1; i <= kTrades; ++i)
      market.on_stream_message(trade(static_cast<std::uint64_t>(i)), kT0 + i);
  });
  std::size_t taken = 0;
  while (taken < kTrades) taken += market.poll(kT0 + 1, sink);
  producer.join();
  EXPECT_EQ(sink.count(md::EventKind::Trade), static_cast<std::size_t>(kTrades));
  EXPECT_EQ(market.book(0).stats().count(DepthStatus::Stale), 0u);  // trade ids arrived in order
  EXPECT_EQ(market.book(0).stats().trade_id_gaps, 0u);
}

TEST(BinanceMarketAllocation, NoAllocationPerMessageOnceWarm) {
  if (!kCountingAllocations) GTEST_SKIP() << "allocations are not counted under AddressSanitizer";
  FakeFetcher fetcher;
  BinanceMarket market(venue(), BinanceMarketOptions{}, &fetcher);
  Sink sink;
  sink.got.reserve(10'000);
  fetcher.asks.reserve(16);
  market.on_open(kT0);
  market.on_stream_message(diff(99, 101, {}, {}), kT0 + 1);
  market.poll(kT0 + 2, sink);
  market.on_snapshot_answer(0, fetcher.asks[0].ticket, 200, 0, snapshot(100), kT0 + 3);
  market.poll(kT0 + 4, sink);
  ASSERT_TRUE(market.book(0).valid());
  (void)market.take_notes();

  std::vector<std::string> messages;
  std::uint64_t id = 101;
  for (int i = 0; i < 300; ++i) {
    ++id;
    messages.push_back(diff(id, id, {{"99.9" + std::to_string(i % 10), std::to_string(i % 3)}},
                            {{"100.01", "1." + std::to_string(i % 7)}}));
    messages.push_back(trade(static_cast<std::uint64_t>(i + 1)));
  }
  // Warm the queue's slots with one round the size of the burst below.
  for (const auto& m : messages) market.on_stream_message(m, kT0 + 5);
  market.poll(kT0 + 6, sink);
  for (const auto& m : messages) market.on_stream_message(m, kT0 + 7);  // stale now: fills the other buffer
  market.poll(kT0 + 8, sink);
  sink.got.clear();

  std::vector<std::string> fresh;
  for (int i = 0; i < 300; ++i) {
    fresh.push_back(diff(id + 1, id + 1, {{"99.9" + std::to_string(i % 10), "1"}}, {}));
    fresh.push_back(trade(static_cast<std::uint64_t>(1000 + i)));
    fresh.push_back(diff(id + 2, id + 2, {}, {{"100.02", std::to_string(1 + i % 4)}}));
    id += 2;
  }
  g_allocations = 0;
  g_counting = true;
  TimestampNs t = kT0 + 10;
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    market.on_stream_message(fresh[i], ++t);
    if (i % 50 == 49) market.poll(++t, sink);
  }
  market.poll(++t, sink);
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0u);
  EXPECT_EQ(sink.got.size(), fresh.size());
  EXPECT_TRUE(market.book(0).valid()) << market.last_error();
}

// --- start(): what stops the market from being heard is said ---

VenueConfig unreachable_venue() {
  VenueConfig v = venue();
  v.binance->rest_url = "https://127.0.0.1:1";
  v.binance->stream_url = "wss://127.0.0.1:1";  // nothing listens there
  v.binance->request_timeout_ns = 300 * kNanosPerMilli;
  v.binance->reconnect_min_ns = 50 * kNanosPerMilli;
  v.binance->reconnect_max_ns = 100 * kNanosPerMilli;
  return v;
}

TEST(SpotMarketStart, SaysWhyTheStreamDidNotOpen) {
  NetworkThread network;
  auto started = BinanceMarket::start(unreachable_venue(), network);
  ASSERT_FALSE(started);
  EXPECT_NE(
      started.error().message.find("the market streams at wss://127.0.0.1:1 did not open within 300 ms"),
      std::string::npos)
      << started.error().message;
  EXPECT_NE(started.error().message.find("connecting"), std::string::npos) << started.error().message;
}

TEST(SpotMarketStart, RefusesABadUrlACaFileItCannotReadAndAVenueWithoutBinance) {
  NetworkThread network;
  VenueConfig v = unreachable_venue();
  v.binance->stream_url = "ws://127.0.0.1:1";
  auto plain = BinanceMarket::start(v, network);
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().message.find("stream_url"), std::string::npos) << plain.error().message;
  EXPECT_NE(plain.error().message.find("only https:// and wss://"), std::string::npos)
      << plain.error().message;
  v = unreachable_venue();
  v.binance->ca_file = "/nonexistent/ca.pem";
  auto no_ca = BinanceMarket::start(v, network);
  ASSERT_FALSE(no_ca);
  EXPECT_NE(no_ca.error().message.find("CA file /nonexistent/ca.pem"), std::string::npos)
      << no_ca.error().message;
  v = unreachable_venue();
  v.binance.reset();
  auto none = BinanceMarket::start(v, network);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("has no [venue.binance]"), std::string::npos) << none.error().message;
}

// What `tranche md record` writes: the tap hears every message a book read and every snapshot that synced
// one, in the order taken and with the time received; a refused message and a refused snapshot are left out.
struct Tap final : MarketTap {
  struct Heard {
    std::size_t listing;
    std::string text;
    TimestampNs recv_ns;
  };
  void on_market_message(std::size_t listing, std::string_view text, TimestampNs recv_ns) override {
    heard.push_back({listing, std::string(text), recv_ns});
  }
  std::vector<Heard> heard;
};

TEST_F(BinanceMarketTest, ATapHearsWhatTheBooksTookInOrderAndNotWhatTheyRefused) {
  Tap tap;
  market_.set_tap(&tap);
  market_.on_open(kT0);
  const std::string first = diff(99, 101, {{"99.98", "5"}}, {});
  market_.on_stream_message(first, kT0 + 1);
  market_.poll(kT0 + 2, sink_);
  ASSERT_EQ(fetcher_.asks.size(), 1u);
  // A snapshot too old for the buffered diff is refused: not heard. The next one syncs: heard.
  market_.on_snapshot_answer(0, fetcher_.asks[0].ticket, 200, 0, snapshot(90), kT0 + 3);
  market_.poll(kT0 + 2 * kSec, sink_);
  ASSERT_EQ(fetcher_.count("ETHUSDT"), 2u);
  market_.on_snapshot_answer(0, fetcher_.last("ETHUSDT").ticket, 200, 0, snapshot(100), kT0 + 2 * kSec + 1);
  market_.on_stream_message("{\"stream\":\"ethusdt@trade\",\"data\":{\"e\":\"trade\"", kT0 + 2 * kSec + 2);
  market_.on_stream_message(trade(7, "BTCUSDT"), kT0 + 2 * kSec + 3);
  market_.poll(kT0 + 2 * kSec + 4, sink_);
  ASSERT_TRUE(market_.book(0).valid());
  ASSERT_EQ(tap.heard.size(), 3u);
  EXPECT_EQ(tap.heard[0].text, first);
  EXPECT_EQ(tap.heard[0].recv_ns, kT0 + 1);
  EXPECT_EQ(tap.heard[1].text, snapshot(100));
  EXPECT_EQ(tap.heard[1].recv_ns, kT0 + 2 * kSec + 1);
  EXPECT_EQ(tap.heard[2].listing, 1u);  // the malformed trade between them was not heard
  EXPECT_EQ(tap.heard[2].text, trade(7, "BTCUSDT"));
  market_.set_tap(nullptr);
  market_.on_stream_message(trade(8), kT0 + 2 * kSec + 5);
  market_.poll(kT0 + 2 * kSec + 6, sink_);
  EXPECT_EQ(tap.heard.size(), 3u);
}

}  // namespace
}  // namespace tranche::gateway

namespace tranche::gateway {
namespace {

TEST(BinanceFuturesMarket, HearsEachListingsMarkPriceBesideItsBookAndSaysOneItCannotRead) {
  VenueConfig usdm = venue();
  usdm.id = VenueId("binance-usdm");
  usdm.market = "usdm";
  usdm.listings.resize(1);
  FakeFetcher fetcher;
  BinanceMarket market(usdm, small_options(), &fetcher);
  EXPECT_EQ(market.stream_target(),
            "/stream?streams=ethusdt@depth@100ms/ethusdt@trade/ethusdt@bookTicker/ethusdt@markPrice@1s");
  EXPECT_FALSE(market.mark_price(0).is_set());
  Sink sink;
  market.on_open(kT0);
  market.on_stream_message(
      R"({"stream":"ethusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":1723161255000,"s":"ETHUSDT",)"
      R"("p":"2601.37","P":"2600.90","i":"2601.02","r":"0.00010000","T":1723190400000}})",
      kT0 + 1);
  market.poll(kT0 + 2, sink);
  EXPECT_EQ(market.mark_price(0), px("2601.37"));
  EXPECT_EQ(market.mark_price_ns(0), kT0 + 1);
  EXPECT_EQ(market.stats().mark_prices, 1u);
  EXPECT_TRUE(sink.got.empty()) << "a mark price is no book event";
  EXPECT_EQ(market.stats().bad_messages, 0u);
  market.on_stream_message(R"({"stream":"ethusdt@markPrice@1s","data":{"e":"markPriceUpdate","p":"-1"}})",
                           kT0 + 3);
  market.poll(kT0 + 4, sink);
  EXPECT_EQ(market.mark_price(0), px("2601.37")) << "the unreadable one is not taken";
  EXPECT_EQ(market.stats().bad_messages, 1u);
  EXPECT_NE(market.last_error().find("mark price"), std::string::npos);
}

}  // namespace
}  // namespace tranche::gateway
