// LiveMarket without sockets: its venues are BinanceMarkets fed by hand. Its clock, its timers, the
// events it delivers (with the MarketRef the kernel reads) and the books and states it offers.
#include "gateway/live_market.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "md/test_data.hpp"

namespace tranche::gateway {
namespace {

using md::testing::px;
using md::testing::qty;

constexpr TimestampNs kSec = kNanosPerSecond;
constexpr TimestampNs kT0 = 1'700'000'000 * kSec;

VenueConfig venue(const char* id) {
  VenueListing l;
  l.instrument = InstrumentId("ETH-USDT");
  l.symbol = "ETHUSDT";
  l.tick_size = px("0.01");
  l.lot_size = qty("0.0001");
  VenueConfig v;
  v.id = VenueId(id);
  v.exchange = "binance";
  v.market = "spot";
  v.listings = {l};
  v.binance = VenueBinanceConfig{};
  return v;
}

struct NoFetch final : SnapshotFetcher {
  void fetch(std::size_t, const std::string&, std::uint64_t ticket) override { tickets.push_back(ticket); }
  std::vector<std::uint64_t> tickets;
};

struct Listener final : md::MarketListener {
  struct Data {
    md::MarketRef ref;
    md::EventKind kind;
    TimestampNs now;
  };
  void on_market_data(const md::MarketRef& ref, const md::Event& event) override {
    data.push_back({ref, event.kind, source->now()});
  }
  void on_timer(std::uint64_t id, TimestampNs now_ns) override {
    timers.emplace_back(id, now_ns);
    if (id == 7) source->set_timer(now_ns, 8);  // a timer set for now from a timer fires in the same pump
  }
  md::MarketSource* source = nullptr;
  std::vector<Data> data;
  std::vector<std::pair<std::uint64_t, TimestampNs>> timers;
};

BinanceMarketOptions small_options() {
  BinanceMarketOptions o;
  o.depth.max_buffered_diffs = 64;
  o.depth.max_buffered_levels = 1024;
  o.depth.max_message_bytes = 1u << 16;
  o.depth.reserve_levels_per_side = 64;
  return o;
}

class LiveMarketTest : public ::testing::Test {
 protected:
  LiveMarketTest() {
    std::vector<std::unique_ptr<BinanceMarket>> venues;
    venues.push_back(std::make_unique<BinanceMarket>(venue("binance-spot"), small_options(), &fetch_a_));
    venues.push_back(std::make_unique<BinanceMarket>(venue("binance-spot-2"), small_options(), &fetch_b_));
    spot_ = venues[0].get();
    second_ = venues[1].get();
    market_ = std::make_unique<LiveMarket>(std::move(venues), [this] { return clock_; });
    listener_.source = market_.get();
    market_->set_listener(&listener_);
  }

  TimestampNs clock_ = kT0;
  NoFetch fetch_a_, fetch_b_;
  BinanceMarket* spot_ = nullptr;
  BinanceMarket* second_ = nullptr;
  std::unique_ptr<LiveMarket> market_;
  Listener listener_;
};

TEST_F(LiveMarketTest, ItsClockIsTheWallsOutsideAPumpAndThePumpsMomentDuringIt) {
  EXPECT_EQ(market_->now(), kT0);
  clock_ = kT0 + 5;
  EXPECT_EQ(market_->now(), kT0 + 5);
  clock_ = kT0 + 2;  // a clock stepped back: never behind what was said
  EXPECT_EQ(market_->now(), kT0 + 5);
  spot_->on_open(kT0);
  spot_->on_stream_message(
      "{\"stream\":\"ethusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1,\"s\":\"ETHUSDT\",\"t\":1,\"p\":\"100."
      "00\","
      "\"q\":\"1\",\"T\":1,\"m\":true}}",
      kT0 + 3);
  clock_ = kT0 + 100;
  market_->pump(kT0 + 50);
  ASSERT_EQ(listener_.data.size(), 1u);
  EXPECT_EQ(listener_.data[0].now, kT0 + 50);
  EXPECT_EQ(market_->now(), kT0 + 100);
}

TEST_F(LiveMarketTest, FiresTimersInTimeOrderWhenDueAndThoseSetForNowInTheSamePump) {
  market_->set_timer(kT0 + 3 * kSec, 3);
  market_->set_timer(kT0 + 1 * kSec, 1);
  market_->set_timer(kT0 + 1 * kSec, 2);  // same time: in the order set
  market_->set_timer(kT0 + 2 * kSec, 7);
  EXPECT_EQ(market_->pump(kT0 + kSec / 2), 0u);
  EXPECT_TRUE(listener_.timers.empty());
  EXPECT_EQ(market_->pump(kT0 + 2 * kSec), 4u);
  ASSERT_EQ(listener_.timers.size(), 4u);
  EXPECT_EQ(listener_.timers[0], (std::pair<std::uint64_t, TimestampNs>{1, kT0 + 2 * kSec}));
  EXPECT_EQ(listener_.timers[1].first, 2u);
  EXPECT_EQ(listener_.timers[2].first, 7u);
  EXPECT_EQ(listener_.timers[3].first, 8u);
  EXPECT_EQ(market_->timers_pending(), 1u);
  market_->pump(kT0 + 3 * kSec);
  EXPECT_EQ(listener_.timers.back().first, 3u);
}

TEST_F(LiveMarketTest, FiresAtMostTheBoundOfTimersInOnePump) {
  for (std::uint64_t i = 0; i < 10; ++i) market_->set_timer(kT0, 100 + i);
  EXPECT_EQ(market_->pump(kT0, 4), 4u);
  EXPECT_EQ(market_->timers_pending(), 6u);
  market_->pump(kT0);
  EXPECT_EQ(market_->timers_pending(), 0u);
  EXPECT_EQ(listener_.timers.size(), 10u);
}

TEST_F(LiveMarketTest, DeliversEachVenuesEventsWithTheRefTheKernelReads) {
  for (BinanceMarket* m : {spot_, second_}) {
    m->on_open(kT0);
    m->on_stream_message(
        "{\"stream\":\"ethusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"ETHUSDT\",\"U\":"
        "10,"
        "\"u\":11,\"b\":[[\"100.00\",\"2\"]],\"a\":[]}}",
        kT0 + 1);
  }
  market_->pump(kT0 + 2);
  ASSERT_EQ(fetch_a_.tickets.size(), 1u);
  ASSERT_EQ(fetch_b_.tickets.size(), 1u);
  EXPECT_EQ(market_->venue_state(0), VenueState::PreOpen);
  EXPECT_FALSE(market_->all_open());
  const std::string snapshot =
      "{\"lastUpdateId\":10,\"bids\":[[\"99.99\",\"1\"]],\"asks\":[[\"100.01\",\"1\"]]}";
  second_->on_snapshot_answer(0, fetch_b_.tickets[0], 200, 0, snapshot, kT0 + 3);
  market_->pump(kT0 + 4);
  ASSERT_EQ(listener_.data.size(), 1u);
  const md::MarketRef& ref = listener_.data[0].ref;
  EXPECT_EQ(ref.venue, 1u);
  EXPECT_EQ(ref.market, 0u);
  EXPECT_EQ(ref.venue_id, VenueId("binance-spot-2"));
  EXPECT_EQ(ref.instrument, InstrumentId("ETH-USDT"));
  EXPECT_EQ(ref.book, market_->book(1, InstrumentId("ETH-USDT")));
  EXPECT_EQ(listener_.data[0].kind, md::EventKind::BookSnapshot);
  EXPECT_EQ(ref.book->best(Side::Buy), px("100.00"));
  EXPECT_EQ(market_->venue_state(1), VenueState::Open);
  EXPECT_EQ(market_->venue_state(0), VenueState::PreOpen);
  EXPECT_EQ(market_->book(0, InstrumentId("BTC-USDT")), nullptr);
  EXPECT_EQ(market_->venue_index(VenueId("binance-spot-2")), 1);
  EXPECT_EQ(market_->venue_index(VenueId("okx-spot")), -1);
  EXPECT_EQ(market_->venue_config(0).id, VenueId("binance-spot"));
  EXPECT_FALSE(market_->take_notes().empty());
}

// --- PaperMarket: the live market fed to a simulator that fills the orders ---

struct Reports final : md::MarketListener {
  void on_market_data(const md::MarketRef&, const md::Event& event) override { kinds.push_back(event.kind); }
  void on_execution_report(const ExecutionReport& report) override { reports.push_back(report); }
  std::vector<md::EventKind> kinds;
  std::vector<ExecutionReport> reports;
};

// One Binance spot venue, with or without the [venue.sim] that says how its orders fill on paper (no files:
// it is only ever played on a live feed).
Result<Config> paper_config(bool with_sim) {
  std::string toml = R"(
primary_venue = "binance-spot"
[[instrument]]
id = "ETH-USDT"
base = "ETH"
quote = "USDT"
tick_size = "0.01"
lot_size = "0.0001"
min_notional = "5"
[[venue]]
id = "binance-spot"
exchange = "binance"
market = "spot"
maker_fee_bps = "10"
taker_fee_bps = "10"
[venue.balances]
ETH = "100"
USDT = "1000000"
[[venue.listing]]
instrument = "ETH-USDT"
symbol = "ETHUSDT"
)";
  if (with_sim)
    toml += "[venue.sim]\n[venue.sim.latency]\norder = \"1ms\"\nresponse = \"1ms\"\ncancel = \"1ms\"\n";
  return parse_config(toml, "paper.toml");
}

TEST(PaperMarket, FeedsTheWholeSyncedBookToTheSimulatorWhichFillsAnOrderAgainstIt) {
  auto config = paper_config(true);
  ASSERT_TRUE(config) << config.error().message;
  sim::SimOptions options;
  options.live_feed = true;
  options.start_ns = kT0;
  auto sim = sim::Simulator::create(*config, options);
  ASSERT_TRUE(sim) << sim.error().message;
  Reports reports;
  sim.value()->set_listener(&reports);

  NoFetch fetch;
  std::vector<std::unique_ptr<BinanceMarket>> venues;
  venues.push_back(std::make_unique<BinanceMarket>(config->venues[0], small_options(), &fetch));
  BinanceMarket* spot = venues[0].get();
  auto paper = PaperMarket::create(std::move(venues), *sim.value());
  ASSERT_TRUE(paper) << paper.error().message;

  // A diff buffered before the snapshot, which it bridges: the book is the snapshot and that diff.
  spot->on_open(kT0);
  spot->on_stream_message(
      R"({"stream":"ethusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"ETHUSDT","U":10,"u":11,)"
      R"("b":[["100.00","2"]],"a":[]}})",
      kT0 + 1);
  paper.value()->pump(kT0 + 2);
  ASSERT_EQ(fetch.tickets.size(), 1u);
  spot->on_snapshot_answer(0, fetch.tickets[0], 200, 0,
                           R"({"lastUpdateId":10,"bids":[["99.99","1"]],"asks":[["100.01","1.5"]]})",
                           kT0 + 3);
  paper.value()->pump(kT0 + 4);
  EXPECT_TRUE(paper.value()->all_open());
  const md::BookView* book = sim.value()->book(0, InstrumentId("ETH-USDT"));
  ASSERT_NE(book, nullptr);
  ASSERT_TRUE(book->valid());
  EXPECT_EQ(book->best(Side::Buy), px("100.00")) << "the buffered diff applied after the snapshot is in it";
  EXPECT_EQ(book->best(Side::Sell), px("100.01"));
  EXPECT_EQ(sim.value()->now(), kT0 + 4);

  // A marketable order fills at the live ask, after the venue's latency, on the simulator's clock.
  NewOrder order;
  order.client_order_id = ClientOrderId(1);
  order.venue = VenueId("binance-spot");
  order.instrument = InstrumentId("ETH-USDT");
  order.side = Side::Buy;
  order.type = OrderType::Limit;
  order.time_in_force = TimeInForce::ImmediateOrCancel;
  order.price = px("100.01");
  order.qty = qty("1");
  ASSERT_TRUE(sim.value()->send(0, order));
  paper.value()->pump(kT0 + 10 * kNanosPerMilli);
  Qty filled;
  for (const auto& r : reports.reports)
    if (r.exec_type == ExecType::Trade) {
      filled += r.last_qty;
      EXPECT_EQ(r.last_price, px("100.01"));
    }
  EXPECT_EQ(filled, qty("1"));
  EXPECT_FALSE(sim.value()->inject(1, 0, md::Event{})) << "no such venue";
}

TEST(PaperMarket, ALiveFeedNeedsItsStartAndEveryVenueItPlaysNeedsItsSimSection) {
  auto config = paper_config(false);
  ASSERT_TRUE(config) << config.error().message;
  sim::SimOptions options;
  options.live_feed = true;
  auto no_start = sim::Simulator::create(*config, options);
  ASSERT_FALSE(no_start);
  EXPECT_NE(no_start.error().message.find("needs its start"), std::string::npos) << no_start.error().message;
  options.start_ns = kT0;
  auto sim = sim::Simulator::create(*config, options);
  ASSERT_FALSE(sim) << "a venue without [venue.sim] cannot be simulated";
}

}  // namespace
}  // namespace tranche::gateway
