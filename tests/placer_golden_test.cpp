// The placer on the three-venue default, through the OrderManager and the risk gate: a passive child keeps
// its place while the touch holds and re-prices when the market moves away; at the deadline what is left
// crosses; the venue it rests on follows the maker fees.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "ems/placer.hpp"
#include "ems/venue_views.hpp"
#include "gateway/sim_gateway.hpp"
#include "risk/risk_gate.hpp"
#include "sim/simulator.hpp"

namespace tranche {
namespace {

const InstrumentId kEth("ETH-USDT");

class Harness : public sim::SimListener {
 public:
  explicit Harness(Config config, const std::string& name) : config_(std::move(config)), gate_(config_) {
    sim_ = sim::Simulator::create(config_, {}).value();
    const std::filesystem::path dir = std::filesystem::exists("/dev/shm")
                                          ? std::filesystem::path("/dev/shm")
                                          : std::filesystem::temp_directory_path();
    path_ = (dir / ("tranche_placer_" + std::to_string(::getpid()) + "_" + name)).string();
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + s);
    journal_ = oms::Journal::open(path_).value();
    manager_ = oms::OrderManager::open(config_, *journal_, gate_).value();
    gateways_ = gateway::make_sim_gateways(*sim_);
    for (auto& g : gateways_) manager_->add_session(g.get());
    placer_ = std::make_unique<ems::Placer>(config_, *manager_);
    sim_->set_listener(this);
  }
  ~Harness() override {
    manager_.reset();
    journal_.reset();
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + s);
  }

  std::vector<ems::VenueView> views() {
    ems::VenueViewOptions options;
    options.depth = 5;
    options.gate = &gate_;
    return ems::venue_views(*sim_, kEth, sim_->now(), options);
  }

  void on_market_data(const sim::MarketDataRef& ref, const md::Event& e) override {
    const sim::SimMarket& m = sim_->venue(ref.venue).market(ref.market);
    gate_.on_quote(ref.venue_id, kEth, m.best(Side::Buy), m.best(Side::Sell), sim_->now());
    if (e.kind == md::EventKind::Trade && !(e.flags & md::kFlagSimulated)) {
      double base = e.qty.to_double();
      if (m.listing().inverse) base = base * m.listing().contract_size.to_double() / e.price.to_double();
      placer_->on_trade(ref.venue_id, e.side, e.price, base, sim_->now());
    }
    if (!active_) return;
    // Every passive child that is open now, with the touch of its venue.
    std::vector<std::pair<ClientOrderId, bool>> held;  // child, at the touch
    for (const oms::ChildOrder* c : manager_->oms().open_children()) {
      if (c->order.time_in_force != TimeInForce::PostOnly || c->status == OrderStatus::PendingCancel)
        continue;
      const int v = sim_->venue_index(c->order.venue);
      held.emplace_back(c->order.client_order_id,
                        sim_->venue(static_cast<std::size_t>(v)).market(0).best(Side::Buy) <= c->order.price);
    }
    placer_->on_market(views(), sim_->now());
    for (const auto& [id, at_touch] : held) {
      const oms::ChildOrder* c = manager_->oms().child(id);
      if (c->status == OrderStatus::PendingCancel && at_touch &&
          sim_->now() < deadline_ - 2 * kNanosPerSecond)
        ++canceled_while_price_held_;
      if (c->status == OrderStatus::PendingCancel && !at_touch) ++repriced_when_moved_;
    }
  }
  void on_execution_report(const ExecutionReport& r) override {
    manager_->on_execution_report(r);
    (void)manager_->flush();
    placer_->on_report(r);
  }

  Config config_;
  risk::RiskGate gate_;
  std::unique_ptr<sim::Simulator> sim_;
  std::string path_;
  std::unique_ptr<oms::Journal> journal_;
  std::unique_ptr<oms::OrderManager> manager_;
  std::vector<std::unique_ptr<gateway::SimGateway>> gateways_;
  std::unique_ptr<ems::Placer> placer_;
  bool active_ = false;
  TimestampNs deadline_ = 0;
  int canceled_while_price_held_ = 0;
  int repriced_when_moved_ = 0;
};

Config default_config() {
  return load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml").value();
}

ParentId parent(Harness& h, Qty qty, TimestampNs now) {
  oms::ParentOrder po;
  po.account = AccountId("desk");
  po.instrument = kEth;
  po.side = Side::Buy;
  po.qty = qty;
  po.algo = "placer-test";
  auto id = h.manager_->accept_parent(po, now);
  EXPECT_TRUE(id.ok()) << (id.ok() ? "" : id.error().message);
  return *id;
}

TEST(PlacerGolden, APassiveChildKeepsItsPlaceWhileThePriceHoldsAndRepricesWhenTheMarketMovesAway) {
  Harness h(default_config(), "keep");
  const TimestampNs t = parse_time("2024-08-08T23:56:00Z").value();
  h.sim_->run_until(t);
  h.deadline_ = t + 90 * kNanosPerSecond;
  const Qty two = Qty::from_units(2);
  ems::Intent intent{parent(h, two, t),     kEth,       Side::Buy, two, Price::unset(),
                     ems::Urgency::Passive, h.deadline_};
  const std::size_t id = h.placer_->submit(intent, h.views(), t);
  ASSERT_EQ(h.placer_->state(id).children, 1u) << h.placer_->state(id).last_decision;
  h.active_ = true;
  h.sim_->run_until(h.deadline_ + 5 * kNanosPerSecond);
  const ems::IntentState& st = h.placer_->state(id);
  std::printf("passive 2 ETH over 90 s: %llu children, %llu re-prices, crossed %llu times, filled %.4f\n",
              static_cast<unsigned long long>(st.children), static_cast<unsigned long long>(st.reprices),
              static_cast<unsigned long long>(st.crossed), st.filled.to_double());
  EXPECT_EQ(h.canceled_while_price_held_, 0) << "a child was pulled while its price was still the touch";
  EXPECT_GT(h.repriced_when_moved_, 0) << "the market moved away in 90 s of ETH, yet nothing was re-priced";
  EXPECT_GT(st.reprices, 0u);
  // By the deadline it is done: filled passively, or the rest crossed; what is left is below every minimum.
  EXPECT_TRUE(st.done) << st.last_decision;
  EXPECT_NEAR(st.filled.to_double(), 2.0, 0.01) << st.last_decision;
  Qty from_oms;
  for (const oms::ChildOrder* c : h.manager_->oms().children_of(intent.parent))
    for (const oms::Fill* f : h.manager_->oms().fills_of(c->order.client_order_id)) from_oms += f->base_qty;
  EXPECT_EQ(st.filled, from_oms);
  EXPECT_TRUE(h.manager_->oms().verify().ok());
}

TEST(PlacerGolden, APegFollowsTheTouchBothWaysWithinItsLimit) {
  Harness h(default_config(), "peg");
  const TimestampNs t = parse_time("2024-08-08T23:57:00Z").value();
  h.sim_->run_until(t);
  h.deadline_ = 0;
  const Price limit = h.sim_->venue(0).market(0).best(Side::Buy) + Price::parse("0.50").value();
  const Qty half = Qty::parse("0.5").value();
  ems::Intent intent{parent(h, half, t), kEth, Side::Buy, half, limit, ems::Urgency::Peg, 0};
  const std::size_t id = h.placer_->submit(intent, h.views(), t);
  ASSERT_EQ(h.placer_->state(id).children, 1u) << h.placer_->state(id).last_decision;
  h.active_ = true;
  h.sim_->run_until(t + 30 * kNanosPerSecond);
  const ems::IntentState& st = h.placer_->state(id);
  EXPECT_GT(st.reprices, 0u);
  // Never above its limit.
  for (const oms::ChildOrder* c : h.manager_->oms().children_of(intent.parent))
    EXPECT_LE(c->order.price, limit);
  EXPECT_TRUE(h.manager_->oms().verify().ok());
}

TEST(PlacerGolden, APassiveChildRestsWhereTheMakerFeeIsLowest) {
  Config config = default_config();
  config.venues[1].fees.maker_bps = Amount::parse("-5").value();  // binance-usdm pays a rebate
  Harness h(config, "fees");
  const TimestampNs t = parse_time("2024-08-08T23:57:00Z").value();
  h.sim_->run_until(t);
  const Qty one = Qty::from_units(1);
  ems::Intent intent{parent(h, one, t), kEth, Side::Buy, one, Price::unset(), ems::Urgency::Passive, 0};
  const std::size_t id = h.placer_->submit(intent, h.views(), t);
  const auto children = h.manager_->oms().children_of(intent.parent);
  ASSERT_EQ(children.size(), 1u) << h.placer_->state(id).last_decision;
  EXPECT_EQ(children[0]->order.venue, VenueId("binance-usdm")) << h.placer_->state(id).last_decision;
  EXPECT_EQ(children[0]->order.time_in_force, TimeInForce::PostOnly);
}

// --- the book signals (docs/algos.md, "Placement on the book's signals") ---

// The views as they stand with every venue's signals set: the micro-price `micro_ticks` from the mid.
std::vector<ems::VenueView> signalled(Harness& h, double micro_ticks) {
  auto views = h.views();
  for (auto& v : views) {
    v.signals.known = true;
    v.signals.fitted = true;
    v.signals.micro_ticks = micro_ticks;
    v.signals.micro_price = v.bids.front().price;  // set; the placer reads micro_ticks
  }
  return views;
}

ems::Intent signal_intent(Harness& h, TimestampNs t, Qty qty) {
  ems::Intent intent{parent(h, qty, t),       kEth, Side::Buy, qty, Price::unset(), ems::Urgency::Passive,
                     t + 90 * kNanosPerSecond};
  intent.signals = true;
  return intent;
}

TEST(PlacerSignals, ANewChildRestsATickBehindWhileTheMicroPriceSaysTheBidIsAboutToBeTradedThrough) {
  Harness h(default_config(), "behind");
  const TimestampNs t = parse_time("2024-08-08T23:56:00Z").value();
  h.sim_->run_until(t);
  const ems::Intent intent = signal_intent(h, t, Qty::from_units(1));
  const auto views = signalled(h, -6);
  const std::size_t id = h.placer_->submit(intent, views, t);
  const ems::IntentState& st = h.placer_->state(id);
  ASSERT_EQ(st.children, 1u) << st.last_decision;
  EXPECT_EQ(st.signal_waits, 1u);
  EXPECT_NE(st.last_decision.find("rest behind on signal"), std::string::npos) << st.last_decision;
  const oms::ChildOrder* child = h.manager_->oms().children_of(intent.parent).front();
  for (const auto& v : views)
    if (v.venue == child->order.venue)
      EXPECT_EQ(child->order.price, v.bids.front().price - v.listing.tick_size) << "one tick behind the bid";
  // A tick behind the touch is a re-price by the ordinary rule, but not while the signal holds.
  h.placer_->on_market(signalled(h, -6), t + 500 * kNanosPerMilli);
  EXPECT_NE(h.manager_->oms().child(child->order.client_order_id)->status, OrderStatus::PendingCancel);
  // The signal turned: it moves up to the touch.
  h.placer_->on_market(signalled(h, 0), t + 600 * kNanosPerMilli);
  EXPECT_EQ(h.manager_->oms().child(child->order.client_order_id)->status, OrderStatus::PendingCancel);
  EXPECT_EQ(st.reprices, 1u);
  EXPECT_TRUE(h.manager_->oms().verify().ok());
}

TEST(PlacerSignals, ANewChildWaitsWhileTheMicroPriceSaysTheBidIsAboutToBeTradedThrough) {
  Harness h(default_config(), "wait");
  const TimestampNs t = parse_time("2024-08-08T23:56:00Z").value();
  h.sim_->run_until(t);
  ems::Intent intent = signal_intent(h, t, Qty::from_units(1));
  intent.signal.wait_behind_ticks = 0;  // held back, not rested behind
  const std::size_t id = h.placer_->submit(intent, signalled(h, -6), t);
  const ems::IntentState& st = h.placer_->state(id);
  EXPECT_EQ(st.children, 0u) << st.last_decision;
  EXPECT_EQ(st.signal_waits, 1u);
  EXPECT_NE(st.last_decision.find("wait on signal"), std::string::npos) << st.last_decision;
  EXPECT_NE(st.last_decision.find("micro -6.00 ticks"), std::string::npos) << st.last_decision;
  // Still pointing through the bid a second later: still waiting.
  h.placer_->on_market(signalled(h, -6), t + kNanosPerSecond);
  EXPECT_EQ(st.children, 0u) << st.last_decision;
  // The signal turned: it joins the touch at once.
  h.placer_->on_market(signalled(h, 0), t + kNanosPerSecond + kNanosPerMilli);
  EXPECT_EQ(st.children, 1u) << st.last_decision;
  EXPECT_EQ(st.signal_waits, 1u);
  EXPECT_TRUE(h.manager_->oms().verify().ok());
}

TEST(PlacerSignals, TheRateBudgetEndsARunOfWaitsAndASignalOffIntentNeverWaits) {
  Harness h(default_config(), "budget");
  const TimestampNs t = parse_time("2024-08-08T23:56:00Z").value();
  h.sim_->run_until(t);
  ems::Intent intent = signal_intent(h, t, Qty::from_units(1));
  intent.signal.wait_behind_ticks = 0;
  intent.signal.actions_per_minute = 6;  // one action in the bucket, the next after 10 s
  const std::size_t id = h.placer_->submit(intent, signalled(h, -6), t);
  EXPECT_EQ(h.placer_->state(id).signal_waits, 1u);
  // The wait ran out (2 s) with the signal unchanged and no budget left for another: it places.
  h.placer_->on_market(signalled(h, -6), t + 2100 * kNanosPerMilli);
  EXPECT_EQ(h.placer_->state(id).children, 1u) << h.placer_->state(id).last_decision;
  EXPECT_EQ(h.placer_->state(id).signal_waits, 1u);

  ems::Intent plain = signal_intent(h, t, Qty::from_units(1));
  plain.signals = false;
  const std::size_t off = h.placer_->submit(plain, signalled(h, -6), t + 2200 * kNanosPerMilli);
  EXPECT_EQ(h.placer_->state(off).children, 1u) << h.placer_->state(off).last_decision;
  EXPECT_EQ(h.placer_->state(off).signal_waits, 0u);
}

TEST(PlacerSignals, ARestingChildIsPulledWhenItsLevelIsAboutToBeRunThroughButNotBeforeItsMinimumRest) {
  Harness h(default_config(), "pull");
  const TimestampNs t = parse_time("2024-08-08T23:56:00Z").value();
  h.sim_->run_until(t);
  const ems::Intent intent = signal_intent(h, t, Qty::from_units(1));
  const std::size_t id = h.placer_->submit(intent, signalled(h, 0), t);
  ASSERT_EQ(h.placer_->state(id).children, 1u) << h.placer_->state(id).last_decision;
  const ClientOrderId child = h.manager_->oms().children_of(intent.parent).front()->order.client_order_id;
  // The book as it stood when the child was placed (the simulator is not run on): only the signal changes.
  // 100 ms after it was placed it stays (250 ms is the least a child rests before it is moved).
  h.placer_->on_market(signalled(h, -6), t + 100 * kNanosPerMilli);
  EXPECT_NE(h.manager_->oms().child(child)->status, OrderStatus::PendingCancel);
  EXPECT_EQ(h.placer_->state(id).signal_pulls, 0u);
  h.placer_->on_market(signalled(h, -6), t + 300 * kNanosPerMilli);
  EXPECT_EQ(h.manager_->oms().child(child)->status, OrderStatus::PendingCancel);
  EXPECT_EQ(h.placer_->state(id).signal_pulls, 1u);
  EXPECT_EQ(h.placer_->state(id).reprices, 0u) << "a pull on the signal is not a re-price";
  EXPECT_NE(h.placer_->state(id).last_decision.find("on signal"), std::string::npos);
  // A weaker signal (3 ticks, under the 4-tick threshold) pulls nothing.
  const ems::Intent second = signal_intent(h, t, Qty::from_units(1));
  const std::size_t other = h.placer_->submit(second, signalled(h, 0), t + 400 * kNanosPerMilli);
  h.placer_->on_market(signalled(h, -3), t + 800 * kNanosPerMilli);
  EXPECT_EQ(h.placer_->state(other).signal_pulls, 0u);
  EXPECT_TRUE(h.manager_->oms().verify().ok());
}

TEST(PlacerSignals, ASliceCrossesWhenThePriceIsLeavingFasterThanTheSpreadAndTheFeeGapCost) {
  // With the bundled fees the taker fee's excess (3 to 4 bps: about 100 ticks of ETH) dwarfs a 20-tick
  // signal: the slice rests.
  {
    Harness h(default_config(), "nocross");
    const TimestampNs t = parse_time("2024-08-08T23:56:00Z").value();
    h.sim_->run_until(t);
    ems::Intent intent = signal_intent(h, t, Qty::from_units(1));
    intent.signal.cross_margin_ticks = 1;
    const std::size_t id = h.placer_->submit(intent, signalled(h, 20), t);
    EXPECT_EQ(h.placer_->state(id).signal_crosses, 0u);
    const auto children = h.manager_->oms().children_of(intent.parent);
    ASSERT_EQ(children.size(), 1u);
    EXPECT_EQ(children[0]->order.time_in_force, TimeInForce::PostOnly);
  }
  // Maker and taker alike: crossing costs the spread alone, and 20 ticks is more.
  Config config = default_config();
  for (auto& v : config.venues) v.fees.taker_bps = v.fees.maker_bps;
  Harness h(config, "cross");
  const TimestampNs t = parse_time("2024-08-08T23:56:00Z").value();
  h.sim_->run_until(t);
  ems::Intent intent = signal_intent(h, t, Qty::from_units(1));
  intent.signal.cross_margin_ticks = 1;  // crossing on the signal is off by default
  const auto views = signalled(h, 20);
  const std::size_t id = h.placer_->submit(intent, views, t);
  EXPECT_EQ(h.placer_->state(id).signal_crosses, 1u) << h.placer_->state(id).last_decision;
  const auto children = h.manager_->oms().children_of(intent.parent);
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0]->order.time_in_force, TimeInForce::ImmediateOrCancel);
  for (const auto& v : views)
    if (v.venue == children[0]->order.venue) EXPECT_EQ(children[0]->order.price, v.asks.front().price);
  // Never more than the slice, however much the far touch shows.
  EXPECT_LE(h.placer_->in_flight(id), Qty::from_units(1));
}

}  // namespace
}  // namespace tranche
