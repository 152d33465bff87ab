// LiveMarket without sockets: its venues are BinanceSpotMarkets fed by hand. Its clock, its timers, the
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

BinanceSpotMarketOptions small_options() {
  BinanceSpotMarketOptions o;
  o.depth.max_buffered_diffs = 64;
  o.depth.max_buffered_levels = 1024;
  o.depth.max_message_bytes = 1u << 16;
  o.depth.reserve_levels_per_side = 64;
  return o;
}

class LiveMarketTest : public ::testing::Test {
 protected:
  LiveMarketTest() {
    std::vector<std::unique_ptr<BinanceSpotMarket>> venues;
    venues.push_back(std::make_unique<BinanceSpotMarket>(venue("binance-spot"), small_options(), &fetch_a_));
    venues.push_back(
        std::make_unique<BinanceSpotMarket>(venue("binance-spot-2"), small_options(), &fetch_b_));
    spot_ = venues[0].get();
    second_ = venues[1].get();
    market_ = std::make_unique<LiveMarket>(std::move(venues), [this] { return clock_; });
    listener_.source = market_.get();
    market_->set_listener(&listener_);
  }

  TimestampNs clock_ = kT0;
  NoFetch fetch_a_, fetch_b_;
  BinanceSpotMarket* spot_ = nullptr;
  BinanceSpotMarket* second_ = nullptr;
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
  for (BinanceSpotMarket* m : {spot_, second_}) {
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

}  // namespace
}  // namespace tranche::gateway
