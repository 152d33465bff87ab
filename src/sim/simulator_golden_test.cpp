// The simulator on the bundled recordings (data/binance, the default three-venue market): its fills checked
// against the recorded books and trades themselves, determinism, closing, re-centring and faults.
#include "sim/simulator.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <sstream>

#include "md/test_data.hpp"

namespace tranche::sim {
namespace {

using md::testing::px;
using md::testing::qty;

Config default_config() {
  auto config = load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml");
  EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error().message);
  return *config;
}

std::string venue_file(const Config& config, const std::string& venue) {
  return config.venue(VenueId(venue))->sim->feeds.at(0).at(0);
}

std::unique_ptr<Simulator> make_sim(const Config& config, SimOptions options = {}) {
  auto sim = Simulator::create(config, options);
  EXPECT_TRUE(sim.ok()) << (sim.ok() ? "" : sim.error().message);
  return std::move(sim).value();
}

class Recorder : public SimListener {
 public:
  void on_execution_report(const ExecutionReport& r) override {
    reports.push_back(r);
    if (on_report) on_report(r);
  }
  void on_venue_status(const VenueStatusReport& s) override { statuses.push_back(s); }
  void on_timer(std::uint64_t id, TimestampNs now) override {
    if (on_timer_fn) on_timer_fn(id, now);
  }
  void on_market_data(const MarketDataRef& ref, const md::Event& e) override {
    if (on_md) on_md(ref, e);
  }
  std::vector<ExecutionReport> fills(ClientOrderId id) const {
    std::vector<ExecutionReport> out;
    for (const auto& r : reports)
      if (r.client_order_id == id && r.exec_type == ExecType::Trade) out.push_back(r);
    return out;
  }
  std::vector<ExecutionReport> reports;
  std::vector<VenueStatusReport> statuses;
  std::function<void(const ExecutionReport&)> on_report;
  std::function<void(std::uint64_t, TimestampNs)> on_timer_fn;
  std::function<void(const MarketDataRef&, const md::Event&)> on_md;
};

// The venue's book at a time rebuilt straight from the recording, independently of the simulator: the
// depth diffs as the truth, the touch taken from a bookTicker newer than the last diff.
struct RecordedBook {
  md::L2Book book;
  std::uint64_t depth_id = 0;
  md::Event ticker{};
  bool has_ticker = false;

  RecordedBook(const std::string& file, Price tick, TimestampNs at_ns) : book(tick) {
    auto reader = md::open_reader({file});
    md::Event e;
    while ((*reader)->next(e) && e.recv_ns <= at_ns) {
      if (e.kind == md::EventKind::BookSnapshot || e.kind == md::EventKind::BookDelta) {
        book.apply(e);
        depth_id = e.last_seq;
      } else if (e.kind == md::EventKind::Quote) {
        ticker = e;
        ticker.bids = {};
        ticker.asks = {};
        has_ticker = true;
      }
    }
  }
  // The asks (a buy's walk) or bids, best first, as the venue showed them.
  std::vector<md::Level> side(Side side) const {
    std::vector<md::BookLevel> levels;
    book.levels(side, 100000, levels);
    std::vector<md::Level> out;
    const bool override = has_ticker && ticker.last_seq > depth_id;
    const Price top = side == Side::Buy ? ticker.price : ticker.price2;
    const Qty top_qty = side == Side::Buy ? ticker.qty : ticker.qty2;
    auto better = [&](Price a, Price b) { return side == Side::Buy ? a > b : a < b; };
    if (override) out.push_back({top, top_qty});
    for (const auto& l : levels) {
      if (override && !better(top, l.price)) continue;
      out.push_back({l.price, l.qty});
    }
    return out;
  }
};

std::vector<md::Level> walk(const std::vector<md::Level>& levels, Qty q, Price shift) {
  std::vector<md::Level> out;
  for (const auto& l : levels) {
    if (!q.is_positive()) break;
    const Qty got = std::min(q, l.qty);
    out.push_back({l.price + shift, got});
    q -= got;
  }
  return out;
}

struct WalkCase {
  const char* venue;
  Side side;
  const char* qty;
};

TEST(SimulatorGolden, AnImmediateMarketOrderCostsExactlyTheWalkOfTheVenueBookAtItsArrival) {
  const Config config = default_config();
  const std::vector<const char*> times = {"2024-08-08T23:54:30Z", "2024-08-08T23:55:45.123Z",
                                          "2024-08-08T23:57:10.5Z", "2024-08-08T23:59:00Z"};
  const std::vector<WalkCase> cases = {{"binance-spot", Side::Buy, "50"},
                                       {"binance-spot", Side::Sell, "300"},
                                       {"binance-usdm", Side::Buy, "400"},
                                       {"binance-coinm", Side::Sell, "20000"}};
  std::uint64_t checked_levels = 0;
  for (const char* when : times) {
    for (const auto& c : cases) {
      SCOPED_TRACE(std::string(c.venue) + " at " + when);
      auto sim = make_sim(config);
      Recorder recorder;
      sim->set_listener(&recorder);
      const std::size_t v = static_cast<std::size_t>(sim->venue_index(VenueId(c.venue)));
      const TimestampNs send_at = parse_time(when).value();
      sim->run_until(send_at);
      NewOrder order;
      order.client_order_id = ClientOrderId(7);
      order.venue = VenueId(c.venue);
      order.instrument = InstrumentId("ETH-USDT");
      order.side = c.side;
      order.type = OrderType::Market;
      order.time_in_force = TimeInForce::ImmediateOrCancel;
      order.qty = qty(c.qty);
      ASSERT_TRUE(sim->send(v, order));
      const DurationNs latency = config.venue(VenueId(c.venue))->sim->order_latency.base_ns;
      // The shift (re-centring) in force when the order is matched: a timer at the arrival runs right after
      // it.
      Price shift = Price::unset();
      recorder.on_timer_fn = [&](std::uint64_t, TimestampNs) { shift = sim->venue(v).market(0).shift(); };
      sim->set_timer(send_at + latency, 1);
      sim->run_until(send_at + latency + 30 * kNanosPerMilli);
      const auto fills = recorder.fills(order.client_order_id);
      ASSERT_FALSE(fills.empty());
      const TimestampNs arrival = fills.front().venue_ns;
      EXPECT_EQ(arrival, send_at + latency);
      const RecordedBook recorded(venue_file(config, c.venue), px("0.01"), arrival);
      const auto expected = walk(recorded.side(opposite(c.side)), order.qty, shift);
      ASSERT_EQ(fills.size(), expected.size());
      for (std::size_t i = 0; i < fills.size(); ++i) {
        EXPECT_EQ(fills[i].last_price, expected[i].price) << "level " << i;
        EXPECT_EQ(fills[i].last_qty, expected[i].qty) << "level " << i;
        ++checked_levels;
      }
    }
  }
  EXPECT_GT(checked_levels, 40u);
}

// Every recorded trade of a file after a time, in order.
std::vector<md::OwnedEvent> trades_after(const std::string& file, TimestampNs from_ns) {
  std::vector<md::OwnedEvent> out;
  auto reader = md::open_reader({file});
  md::Event e;
  while ((*reader)->next(e))
    if (e.kind == md::EventKind::Trade && e.recv_ns > from_ns) out.emplace_back(e);
  return out;
}

TEST(SimulatorGolden, APassiveOrderThatRecordedTradesNeverReachNeverFills) {
  const Config config = default_config();
  const TimestampNs at = parse_time("2024-08-08T23:55:00Z").value();
  Price lowest = Price::max();
  for (const auto& t : trades_after(venue_file(config, "binance-spot"), at))
    lowest = std::min(lowest, t.event.price);
  auto sim = make_sim(config);
  Recorder recorder;
  sim->set_listener(&recorder);
  sim->run_until(at);
  NewOrder order;
  order.client_order_id = ClientOrderId(1);
  order.venue = VenueId("binance-spot");
  order.instrument = InstrumentId("ETH-USDT");
  order.side = Side::Buy;
  order.price = lowest - px("0.01");  // one tick below every print to come
  order.qty = qty("1");
  ASSERT_TRUE(sim->send(0, order));
  sim->run();
  EXPECT_TRUE(recorder.fills(order.client_order_id).empty());
  // It rested until the venue closed at the scenario's end.
  ASSERT_FALSE(recorder.reports.empty());
  EXPECT_EQ(recorder.reports.back().exec_type, ExecType::Canceled);
  EXPECT_NE(recorder.reports.back().text.view().find("scenario ended"), std::string_view::npos);
}

TEST(SimulatorGolden, APassiveOrderAtTheTouchFillsNoEarlierThanTheQueueAheadHasTraded) {
  const Config config = default_config();
  int filled_orders = 0;
  for (const char* when :
       {"2024-08-08T23:54:40Z", "2024-08-08T23:56:00Z", "2024-08-08T23:57:30Z", "2024-08-08T23:58:45Z"}) {
    for (Side side : {Side::Buy, Side::Sell}) {
      SCOPED_TRACE(std::string(when) + (side == Side::Buy ? " buy" : " sell"));
      auto sim = make_sim(config);
      Recorder recorder;
      sim->set_listener(&recorder);
      const TimestampNs at = parse_time(when).value();
      sim->run_until(at);
      NewOrder order;
      order.client_order_id = ClientOrderId(1);
      order.venue = VenueId("binance-spot");
      order.instrument = InstrumentId("ETH-USDT");
      order.side = side;
      order.price = sim->venue(0).market(0).best(side);
      order.qty = qty("0.5");
      ASSERT_TRUE(sim->send(0, order));
      sim->run_until(at + 2 * kNanosPerMilli);
      ASSERT_EQ(sim->venue(0).market(0).orders().size(), 1u);
      const Qty ahead = sim->venue(0).market(0).orders()[0].ahead;
      const TimestampNs arrival = sim->venue(0).market(0).orders()[0].accepted_ns;
      sim->run();
      // From the recording alone: when did prints at our price exceed the queue ahead, or trade through it?
      TimestampNs reached = 0;
      Qty traded;
      for (const auto& t : trades_after(venue_file(config, "binance-spot"), arrival)) {
        if (t.event.side == side) continue;  // aggressors on our side never meet us
        const bool through = side == Side::Buy ? t.event.price < order.price : t.event.price > order.price;
        if (t.event.price == order.price) traded += t.event.qty;
        if (through || traded > ahead) {
          reached = t.event.recv_ns;
          break;
        }
      }
      const auto fills = recorder.fills(order.client_order_id);
      if (!fills.empty()) {
        ++filled_orders;
        ASSERT_NE(reached, 0) << "filled though the recorded prints never reached it";
        EXPECT_GE(fills.front().venue_ns, reached);
      }
    }
  }
  EXPECT_GT(filled_orders, 2);
}

TEST(SimulatorGolden, FeesAreChargedPerTheVenuesSchedule) {
  const Config config = default_config();
  auto sim = make_sim(config);
  Recorder recorder;
  sim->set_listener(&recorder);
  sim->run_until(parse_time("2024-08-08T23:56:00Z").value());
  std::uint64_t id = 0;
  for (std::size_t v = 0; v < sim->venue_count(); ++v) {
    NewOrder order;
    order.client_order_id = ClientOrderId(++id);
    order.venue = sim->venue(v).config().id;
    order.instrument = InstrumentId("ETH-USDT");
    order.side = Side::Buy;
    order.type = OrderType::Market;
    order.time_in_force = TimeInForce::ImmediateOrCancel;
    order.qty = sim->venue(v).market(0).listing().inverse ? qty("3000") : qty("20");
    sim->send(v, order);
  }
  sim->run_until(parse_time("2024-08-08T23:56:01Z").value());
  int fills = 0;
  for (const auto& r : recorder.reports) {
    if (r.exec_type != ExecType::Trade) continue;
    ++fills;
    const VenueConfig& venue = *config.venue(r.venue);
    const VenueListing& listing = venue.listings[0];
    // Linear: price x qty in USDT; inverse: contracts x 10 USD / price in ETH.
    const double value = listing.inverse ? r.last_qty.to_double() * 10.0 / r.last_price.to_double()
                                         : r.last_price.to_double() * r.last_qty.to_double();
    EXPECT_NEAR(r.fee.amount.to_double(), value * venue.fees.taker_bps.to_double() / 1e4, 1e-8);
    EXPECT_EQ(r.fee.asset.view(), listing.inverse ? "ETH" : "USDT");
  }
  EXPECT_GE(fills, 3);
}

// A scripted strategy: every 100 ms of market time on every venue, a buy at the touch replaces the previous
// one; every 10 s a market order. Returns the log of everything the venues answered.
std::string scripted_run(Config config, std::uint64_t seed, std::uint64_t* fill_count = nullptr) {
  for (auto& venue : config.venues) {
    venue.sim->order_latency = parse_latency("uniform(1ms, 5ms)").value();
    venue.sim->response_latency = parse_latency("lognormal(2ms, 0.5)").value();
    venue.sim->faults.reorder = 0.05;
    venue.sim->faults.duplicate = 0.01;
    venue.limits = {};
  }
  SimOptions options;
  options.seed = seed;
  auto sim = make_sim(config, options);
  Recorder recorder;
  std::ostringstream log;
  std::uint64_t next_id = 0, fills = 0;
  std::vector<std::uint64_t> resting(sim->venue_count(), 0);
  recorder.on_report = [&](const ExecutionReport& r) {
    log << r.received_ns << ' ' << r.venue.view() << ' ' << r.client_order_id.value() << ' '
        << to_string(r.exec_type) << ' ' << to_string(r.status) << ' ' << r.last_qty.to_string() << '@'
        << (r.last_price.is_set() ? r.last_price.to_string() : "-") << ' ' << r.fee.amount.to_string()
        << '\n';
    if (r.exec_type == ExecType::Trade) ++fills;
  };
  Simulator* s = sim.get();
  recorder.on_timer_fn = [&](std::uint64_t tick, TimestampNs now) {
    for (std::size_t v = 0; v < s->venue_count(); ++v) {
      const SimMarket& market = s->venue(v).market(0);
      const bool inverse = market.listing().inverse;
      if (resting[v] != 0)
        s->cancel(v, {ClientOrderId(resting[v]), s->venue(v).config().id, InstrumentId("ETH-USDT"), 0});
      NewOrder order;
      order.client_order_id = ClientOrderId(++next_id);
      order.venue = s->venue(v).config().id;
      order.instrument = InstrumentId("ETH-USDT");
      order.side = Side::Buy;
      if (tick % 100 == 0) {
        order.type = OrderType::Market;
        order.time_in_force = TimeInForce::ImmediateOrCancel;
        order.qty = inverse ? qty("200") : qty("1");
        resting[v] = 0;
      } else {
        order.price = market.best(Side::Buy);
        if (!order.price.is_set()) continue;
        order.qty = inverse ? qty("20") : qty("0.1");
        resting[v] = next_id;
      }
      s->send(v, order);
    }
    s->set_timer(now + 100 * kNanosPerMilli, tick + 1);
  };
  sim->set_listener(&recorder);
  sim->set_timer(sim->start_ns(), 1);
  sim->run();
  if (fill_count) *fill_count = fills;
  return log.str();
}

TEST(SimulatorGolden, TheSameSeedReplaysToTheSameFillLog) {
  const Config config = default_config();
  std::uint64_t fills = 0;
  const std::string first = scripted_run(config, 42, &fills);
  const std::string second = scripted_run(config, 42);
  EXPECT_GT(fills, 100u);
  EXPECT_EQ(first, second) << "seed 42 replayed differently";
  EXPECT_NE(first, scripted_run(config, 43)) << "the seed does not reach the latency draws";
}

TEST(SimulatorGolden, TheRecentredPerpetualsQuoteOnSpotsTickAndCloserToSpot) {
  const Config config = default_config();
  auto sim = make_sim(config);
  double recorded_gap = 0, shifted_gap = 0;
  int samples = 0;
  for (TimestampNs t = parse_time("2024-08-08T23:54:30Z").value();
       t < parse_time("2024-08-08T23:59:30Z").value(); t += kNanosPerSecond) {
    sim->run_until(t);
    const Price spot = sim->venue(0).market(0).mid();
    for (std::size_t v = 1; v < sim->venue_count(); ++v) {
      const SimMarket& market = sim->venue(v).market(0);
      ASSERT_EQ(market.shift().raw() % px("0.01").raw(), 0);
      ASSERT_EQ(market.best(Side::Buy).raw() % px("0.01").raw(), 0);
      recorded_gap += std::abs((market.mid() - market.shift() - spot).to_double());
      shifted_gap += std::abs((market.mid() - spot).to_double());
      ++samples;
    }
  }
  EXPECT_GT(samples, 500);
  EXPECT_LT(shifted_gap, recorded_gap / 2) << "re-centring should bring the perpetuals onto spot";
  EXPECT_GT(sim->venue_stats(1).shift_changes, 0u);
  sim->run();
  EXPECT_GT(sim->crossing().samples, 3000u);
}

TEST(SimulatorGolden, WhenAVenuesDataEndsItClosesAndCancelsRestingOrders) {
  Config config = default_config();
  config.scenario->end_ns = 0;  // replay to the end of the recordings
  auto sim = make_sim(config);
  Recorder recorder;
  sim->set_listener(&recorder);
  sim->run_until(parse_time("2024-08-08T23:59:00Z").value());
  NewOrder order;
  order.client_order_id = ClientOrderId(1);
  order.venue = VenueId("binance-usdm");
  order.instrument = InstrumentId("ETH-USDT");
  order.side = Side::Buy;
  order.price = sim->venue(1).market(0).best(Side::Buy) - px("5");
  order.qty = qty("1");
  sim->send(1, order);
  sim->run();
  ASSERT_FALSE(recorder.reports.empty());
  const auto& last = recorder.reports.back();
  EXPECT_EQ(last.exec_type, ExecType::Canceled);
  EXPECT_NE(last.text.view().find("recorded data ended"), std::string_view::npos);
  bool said_closed = false;
  for (const auto& s : recorder.statuses)
    said_closed |= s.venue == VenueId("binance-usdm") && s.state == VenueState::Closed;
  EXPECT_TRUE(said_closed);
}

TEST(SimulatorGolden, AVenueWhoseDataGoesStaleClosesAndReopensWhenItResumes) {
  Config config = default_config();
  config.venues[0].sim->stale_after_ns = 150 * kNanosPerMilli;
  SimOptions options;
  options.venues = {"binance-spot"};
  auto sim = make_sim(config, options);
  Recorder recorder;
  sim->set_listener(&recorder);
  sim->run();
  int closed = 0, reopened = 0;
  for (const auto& s : recorder.statuses) {
    if (s.state == VenueState::Closed && s.text.view().find("stale") != std::string_view::npos) ++closed;
    if (s.state == VenueState::Open && s.text.view().find("resumed") != std::string_view::npos) ++reopened;
  }
  EXPECT_GT(closed, 0);
  EXPECT_EQ(closed, reopened);
}

class FaultTest : public ::testing::Test {
 protected:
  std::unique_ptr<Simulator> run_with(const std::function<void(VenueFaults&)>& set, Recorder& recorder,
                                      const std::function<void(Simulator&)>& script) {
    Config config = default_config();
    set(config.venues[0].sim->faults);
    SimOptions options;
    options.venues = {"binance-spot"};
    auto sim = make_sim(config, options);
    sim->set_listener(&recorder);
    script(*sim);
    return sim;
  }
  // A good-till-cancel limit buy of `size` at `price`.
  static NewOrder limit_buy(std::uint64_t id, Price price, Qty size) {
    NewOrder order = market_buy(id);
    order.type = OrderType::Limit;
    order.time_in_force = TimeInForce::GoodTillCancel;
    order.price = price;
    order.qty = size;
    return order;
  }
  static NewOrder market_buy(std::uint64_t id) {
    NewOrder order;
    order.client_order_id = ClientOrderId(id);
    order.venue = VenueId("binance-spot");
    order.instrument = InstrumentId("ETH-USDT");
    order.side = Side::Buy;
    order.type = OrderType::Market;
    order.time_in_force = TimeInForce::ImmediateOrCancel;
    order.qty = qty("20");
    return order;
  }
  const TimestampNs t0 = parse_time("2024-08-08T23:56:00Z").value();
};

TEST_F(FaultTest, DroppedAcksLeaveOnlyTheFills) {
  Recorder recorder;
  run_with([](VenueFaults& f) { f.drop_ack = 1; }, recorder,
           [&](Simulator& sim) {
             sim.run_until(t0);
             sim.send(0, market_buy(1));
             sim.run_until(t0 + kNanosPerSecond);
           });
  ASSERT_FALSE(recorder.reports.empty());
  for (const auto& r : recorder.reports) EXPECT_EQ(r.exec_type, ExecType::Trade);
}

TEST_F(FaultTest, DuplicatedReportsCarryTheSameExecutionId) {
  Recorder recorder;
  run_with([](VenueFaults& f) { f.duplicate = 1; }, recorder,
           [&](Simulator& sim) {
             sim.run_until(t0);
             sim.send(0, market_buy(1));
             sim.run_until(t0 + kNanosPerSecond);
           });
  std::map<std::string, int> seen;
  for (const auto& r : recorder.reports)
    if (r.exec_type == ExecType::Trade) ++seen[r.exec_id.str()];
  ASSERT_FALSE(seen.empty());
  for (const auto& [id, count] : seen) EXPECT_EQ(count, 2) << id;
}

TEST_F(FaultTest, AFillMadeWhileOurCancelTravelledArrivesAfterTheCancelsAck) {
  Recorder recorder;
  run_with([](VenueFaults& f) { f.fill_after_cancel = 1; }, recorder,
           [&](Simulator& sim) {
             sim.run_until(t0);
             // A marketable limit order that takes what is at the touch and rests the rest; the cancel
             // follows at once.
             NewOrder order = market_buy(1);
             order.type = OrderType::Limit;
             order.time_in_force = TimeInForce::GoodTillCancel;
             order.price = sim.venue(0).market(0).best(Side::Sell);
             order.qty = sim.venue(0).market(0).best_qty(Side::Sell) + qty("1");
             sim.send(0, order);
             sim.cancel(0, {ClientOrderId(1), VenueId("binance-spot"), InstrumentId("ETH-USDT"), 0});
             sim.run_until(t0 + kNanosPerSecond);
           });
  std::vector<ExecType> types;
  for (const auto& r : recorder.reports) types.push_back(r.exec_type);
  ASSERT_GE(types.size(), 3u);
  EXPECT_EQ(types[0], ExecType::New);
  EXPECT_EQ(types[1], ExecType::Canceled);
  EXPECT_EQ(types.back(), ExecType::Trade);
}

TEST_F(FaultTest, ADisconnectRefusesRequestsAndLosesReportsUntilTheReconnect) {
  Recorder recorder;
  auto sim = run_with(
      [&](VenueFaults& f) {
        f.disconnects = {{t0 + kNanosPerSecond, t0 + 2 * kNanosPerSecond}};
      },
      recorder,
      [&](Simulator& sim) {
        sim.run_until(t0 + kNanosPerSecond + kNanosPerMilli);
        EXPECT_FALSE(sim.send(0, market_buy(1)));
        sim.run_until(t0 + 3 * kNanosPerSecond);
        EXPECT_TRUE(sim.send(0, market_buy(2)));
        sim.run_until(t0 + 4 * kNanosPerSecond);
      });
  ASSERT_FALSE(recorder.reports.empty());
  EXPECT_EQ(recorder.reports.front().client_order_id, ClientOrderId(1));
  EXPECT_EQ(recorder.reports.front().reject_reason, RejectReason::VenueClosed);
  EXPECT_EQ(recorder.fills(ClientOrderId(2)).size() > 0, true);
  ASSERT_GE(recorder.statuses.size(), 2u);
  bool down = false, up = false;
  for (const auto& s : recorder.statuses) {
    down |= s.state == VenueState::Disconnected;
    up |= down && s.state == VenueState::Open && s.text.view().find("reconnected") != std::string_view::npos;
  }
  EXPECT_TRUE(down);
  EXPECT_TRUE(up);
}

// Regression (found by the chaos test): a cancel refused because the session was down was reported as the
// order's rejection, so the OMS closed a child that went on resting, and filling, at the venue.
TEST_F(FaultTest, ACancelRefusedWhileTheSessionIsDownIsACancelRejectAndTheOrderStaysOpen) {
  Recorder recorder;
  run_with([](VenueFaults&) {}, recorder,
           [&](Simulator& sim) {
             sim.run_until(t0);
             const Price below = sim.venue(0).market(0).best(Side::Buy) - Price::parse("5").value();
             ASSERT_TRUE(sim.send(0, limit_buy(1, below, qty("1"))));
             sim.run_until(t0 + 100 * kNanosPerMilli);
             sim.disconnect_for(0, kNanosPerSecond);
             sim.run_until(t0 + 200 * kNanosPerMilli);
             const InstrumentId eth("ETH-USDT");
             EXPECT_FALSE(sim.cancel(0, {ClientOrderId(1), VenueId("binance-spot"), eth, 0}));
             // A status asked while down is asked once the session is back, not answered with "down".
             EXPECT_TRUE(sim.query(0, {ClientOrderId(1), VenueId("binance-spot"), eth, 0}));
             sim.run_until(t0 + 900 * kNanosPerMilli);
             for (const auto& r : recorder.reports) EXPECT_NE(r.exec_type, ExecType::OrderStatus);
             sim.run_until(t0 + 2 * kNanosPerSecond);
           });
  std::vector<ExecType> types;
  for (const auto& r : recorder.reports)
    if (r.client_order_id == ClientOrderId(1)) types.push_back(r.exec_type);
  ASSERT_EQ(types.size(), 3u);
  EXPECT_EQ(types[0], ExecType::New);
  EXPECT_EQ(types[1], ExecType::CancelRejected);
  EXPECT_EQ(types[2], ExecType::OrderStatus);
  EXPECT_EQ(recorder.reports.back().status, OrderStatus::New);
}

TEST_F(FaultTest, TheRejectFaultRefusesNewOrdersAtTheVenue) {
  Recorder recorder;
  auto sim = run_with([](VenueFaults& f) { f.reject = 1; }, recorder,
                      [&](Simulator& sim) {
                        sim.run_until(t0);
                        EXPECT_TRUE(sim.send(0, market_buy(1)));
                        sim.run_until(t0 + kNanosPerSecond);
                      });
  ASSERT_EQ(recorder.reports.size(), 1u);
  EXPECT_EQ(recorder.reports[0].exec_type, ExecType::Rejected);
  EXPECT_NE(recorder.reports[0].text.view().find("fault injection"), std::string_view::npos);
  EXPECT_EQ(sim->venue_stats(0).orders_rejected, 1u);
}

TEST_F(FaultTest, AStaleWindowWithholdsTheVenuesMarketDataAndEndsWithASnapshot) {
  Recorder recorder;
  std::vector<std::pair<TimestampNs, md::EventKind>> heard;
  TimestampNs last_ns = 0;
  recorder.on_md = [&](const MarketDataRef&, const md::Event& e) { heard.push_back({last_ns, e.kind}); };
  auto sim = run_with(
      [&](VenueFaults& f) {
        f.stale = {{t0 + kNanosPerSecond, t0 + 2 * kNanosPerSecond}};
      },
      recorder,
      [&](Simulator& sim) {
        for (TimestampNs t = t0; t <= t0 + 3 * kNanosPerSecond; t += kNanosPerMilli) {
          last_ns = t;
          sim.run_until(t);
        }
      });
  std::size_t during = 0, snapshots_at_end = 0, after = 0;
  for (const auto& [t, kind] : heard) {
    if (t > t0 + kNanosPerSecond + kNanosPerMilli && t < t0 + 2 * kNanosPerSecond) ++during;
    if (t >= t0 + 2 * kNanosPerSecond && t <= t0 + 2 * kNanosPerSecond + kNanosPerMilli &&
        kind == md::EventKind::BookSnapshot)
      ++snapshots_at_end;
    if (t > t0 + 2 * kNanosPerSecond) ++after;
  }
  EXPECT_EQ(during, 0u);
  EXPECT_EQ(snapshots_at_end, 1u);
  EXPECT_GT(after, 0u);
  EXPECT_GT(sim->venue_stats(0).market_data_withheld, 0u);
}

TEST_F(FaultTest, ADisconnectOnDemandStartsNowAndEndsAfterItsDuration) {
  Recorder recorder;
  run_with([](VenueFaults&) {}, recorder,
           [&](Simulator& sim) {
             sim.run_until(t0);
             sim.disconnect_for(0, kNanosPerSecond);
             sim.run_until(t0 + kNanosPerMilli);
             EXPECT_FALSE(sim.send(0, market_buy(1)));
             sim.run_until(t0 + kNanosPerSecond + kNanosPerMilli);
             EXPECT_TRUE(sim.send(0, market_buy(2)));
             sim.run_until(t0 + 2 * kNanosPerSecond);
           });
  ASSERT_FALSE(recorder.reports.empty());
  EXPECT_EQ(recorder.reports.front().client_order_id, ClientOrderId(1));
  EXPECT_EQ(recorder.reports.front().reject_reason, RejectReason::VenueClosed);
  EXPECT_FALSE(recorder.fills(ClientOrderId(2)).empty());
  std::vector<VenueState> states;
  for (const auto& s : recorder.statuses) states.push_back(s.state);
  ASSERT_GE(states.size(), 2u);
  EXPECT_EQ(states[states.size() - 2], VenueState::Disconnected);
  EXPECT_EQ(states.back(), VenueState::Open);
  EXPECT_GE(recorder.statuses.back().venue_ns, t0 + kNanosPerSecond);
}

// A resting buy at the best bid, canceled at once with the cancel held: the recorded market fills it during
// the hold, the fill is reported first and the cancel is answered after it (canceling what is left, or
// refused when nothing is). The fill is one the market made: it comes no earlier than the cancel reached the
// venue.
TEST_F(FaultTest, AHeldCancelIsAnsweredAfterTheFillTheRecordedMarketMakesMeanwhile) {
  Recorder recorder;
  TimestampNs cancel_sent = 0;
  auto sim =
      run_with([](VenueFaults&) {}, recorder,
               [&](Simulator& sim) {
                 sim.run_until(t0);
                 sim.send(0, limit_buy(1, sim.venue(0).market(0).best(Side::Buy), qty("1")));
                 sim.run_until(t0 + 10 * kNanosPerMilli);
                 sim.hold_next_cancels(0, 1, 120 * kNanosPerSecond);
                 cancel_sent = sim.now();
                 sim.cancel(0, {ClientOrderId(1), VenueId("binance-spot"), InstrumentId("ETH-USDT"), 0});
                 sim.run_until(t0 + 150 * kNanosPerSecond);
               });
  std::vector<ExecType> types;
  for (const auto& r : recorder.reports) types.push_back(r.exec_type);
  ASSERT_GE(types.size(), 3u);
  EXPECT_EQ(types[0], ExecType::New);
  EXPECT_EQ(types[1], ExecType::Trade) << "the fill comes first";
  EXPECT_GT(recorder.reports[1].venue_ns, cancel_sent);
  EXPECT_TRUE(types.back() == ExecType::Canceled || types.back() == ExecType::CancelRejected);
  if (types.back() == ExecType::CancelRejected) {
    EXPECT_EQ(recorder.reports.back().reject_reason, RejectReason::UnknownOrder);
    EXPECT_EQ(recorder.reports.back().status, OrderStatus::Filled);
  }
  EXPECT_EQ(sim->held_cancels(), 0u);
}

TEST_F(FaultTest, AHeldCancelOfAnOrderTheMarketNeverReachesIsAppliedAtTheEndOfTheHold) {
  Recorder recorder;
  TimestampNs cancel_sent = 0;
  run_with([](VenueFaults&) {}, recorder,
           [&](Simulator& sim) {
             sim.run_until(t0);
             NewOrder order = market_buy(1);
             order.type = OrderType::Limit;
             order.time_in_force = TimeInForce::GoodTillCancel;
             order.price = px("2000.00");
             order.qty = qty("1");
             sim.send(0, order);
             sim.run_until(t0 + 10 * kNanosPerMilli);
             sim.hold_next_cancels(0, 1, 2 * kNanosPerSecond);
             cancel_sent = sim.now();
             sim.cancel(0, {ClientOrderId(1), VenueId("binance-spot"), InstrumentId("ETH-USDT"), 0});
             sim.run_until(t0 + 5 * kNanosPerSecond);
           });
  ASSERT_EQ(recorder.reports.size(), 2u);
  EXPECT_EQ(recorder.reports[1].exec_type, ExecType::Canceled);
  EXPECT_GE(recorder.reports[1].venue_ns, cancel_sent + 2 * kNanosPerSecond);
}

TEST_F(FaultTest, AHaltedVenueRejectsNewOrders) {
  Recorder recorder;
  run_with(
      [&](VenueFaults& f) {
        f.halts = {{t0, t0 + kNanosPerSecond}};
      },
      recorder,
      [&](Simulator& sim) {
        sim.run_until(t0 + kNanosPerMilli);
        sim.send(0, market_buy(1));
        sim.run_until(t0 + 2 * kNanosPerSecond);
        sim.send(0, market_buy(2));
        sim.run_until(t0 + 3 * kNanosPerSecond);
      });
  ASSERT_FALSE(recorder.reports.empty());
  EXPECT_EQ(recorder.reports.front().reject_reason, RejectReason::VenueClosed);
  EXPECT_NE(recorder.reports.front().text.view().find("halted"), std::string_view::npos);
  EXPECT_FALSE(recorder.fills(ClientOrderId(2)).empty());
}

TEST(SimulatorGolden, WhatWeSeeOfARecentredVenueIsInItsOwnPricesAndNetOfWhatWeTook) {
  const Config config = default_config();
  auto sim = make_sim(config);
  Recorder recorder;
  md::L2Book seen(px("0.01"));
  recorder.on_md = [&](const MarketDataRef& ref, const md::Event& e) {
    if (ref.venue == 1) seen.apply(e);
  };
  sim->set_listener(&recorder);
  sim->run_until(parse_time("2024-08-08T23:57:00Z").value());
  const SimMarket& usdm = sim->venue(1).market(0);
  // A snapshot follows every shift, so the book rebuilt from what we were sent is in the venue's prices.
  EXPECT_NEAR(seen.best_bid().to_double(), usdm.best(Side::Buy).to_double(), 0.5);
  NewOrder order;
  order.client_order_id = ClientOrderId(1);
  order.venue = VenueId("binance-usdm");
  order.instrument = InstrumentId("ETH-USDT");
  order.side = Side::Buy;
  order.type = OrderType::Market;
  order.time_in_force = TimeInForce::ImmediateOrCancel;
  order.qty = usdm.best_qty(Side::Sell) + qty("0.5");
  const Price ask_before = usdm.best(Side::Sell);
  sim->send(1, order);
  sim->run_until(parse_time("2024-08-08T23:57:00.010Z").value());
  const auto fills = recorder.fills(order.client_order_id);
  ASSERT_FALSE(fills.empty());
  EXPECT_EQ(seen.qty_at(Side::Sell, fills.front().last_price),
            usdm.displayed_at(Side::Sell, fills.front().last_price));
  EXPECT_GE(usdm.best(Side::Sell), ask_before);
}

}  // namespace
}  // namespace tranche::sim

namespace tranche::sim {
namespace {

TEST(SimulatorGolden, TheUsdmScenarioMountsTwoInstrumentsOnOneVenueWithLatencyFromTheData) {
  const std::string path = std::string(TRANCHE_SOURCE_DIR) + "/scenarios/binance-usdm-2024-07-18.toml";
  auto config = load_config(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  for (const auto& feed : config->venues[0].sim->feeds)
    for (const auto& file : feed) TRANCHE_REQUIRE_SHARED_FILE(file);
  auto sim = make_sim(*config);
  Recorder recorder;
  sim->set_listener(&recorder);
  const TimestampNs at = parse_time("2024-07-19T00:01:00Z").value();
  sim->run_until(at);
  ASSERT_EQ(sim->venue_count(), 1u);
  ASSERT_EQ(sim->venue(0).market_count(), 2u);
  std::uint64_t id = 0;
  for (std::size_t m = 0; m < 2; ++m) {
    const SimMarket& market = sim->venue(0).market(m);
    ASSERT_TRUE(market.valid());
    NewOrder order;
    order.client_order_id = ClientOrderId(++id);
    order.venue = VenueId("binance-usdm");
    order.instrument = market.listing().instrument;
    order.side = Side::Sell;
    order.type = OrderType::Market;
    order.time_in_force = TimeInForce::ImmediateOrCancel;
    order.qty = qty("2");
    sim->send(0, order);
  }
  sim->run_until(at + kNanosPerSecond);
  for (std::uint64_t i = 1; i <= 2; ++i) {
    const auto fills = recorder.fills(ClientOrderId(i));
    ASSERT_FALSE(fills.empty());
    // The order travelled for the feed's own delay plus 1 ms.
    EXPECT_GT(fills.front().venue_ns - at, kNanosPerMilli);
    EXPECT_LT(fills.front().venue_ns - at, kNanosPerSecond);
  }
  EXPECT_GT(recorder.fills(ClientOrderId(1)).front().last_price, px("50000"));  // BTC
  EXPECT_LT(recorder.fills(ClientOrderId(2)).front().last_price, px("5000"));   // ETH
}

}  // namespace
}  // namespace tranche::sim
