// The risk gate: each check at its boundary, through the OrderManager (so every denial is journaled), the
// kill switch, reloading limits, and a property: no sequence of requests and venue events sends an order that
// breaks a limit.
#include "risk/risk_gate.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <unistd.h>

#include <deque>
#include <filesystem>

#include "oms/order_manager.hpp"

namespace tranche::risk {
namespace {

Qty q(const char* t) {
  return Qty::parse(t).value();
}
Price p(const char* t) {
  return Price::parse(t).value();
}

constexpr const char* kConfig = R"toml(
primary_venue = "spot"
[risk]
max_parent_notional = "9000"
parent_collar_bps = "500"
max_adv_share = "0.1"
child_collar_bps = "100"
max_child_notional = "1000"
max_open_orders_per_venue = 5
max_open_orders_per_account = 6
max_in_flight_notional_per_venue = "2500"
max_in_flight_notional_per_account = "4000"
max_market_data_age = "1s"
restricted = ["BAD-USDT"]
[risk.instruments."ETH-USDT"]
max_parent_qty = "100"
max_child_qty = "10"
max_position = "15"
adv = "500"
[[instrument]]
id = "ETH-USDT"
base = "ETH"
quote = "USDT"
tick_size = "0.01"
lot_size = "0.001"
min_notional = "5"
[[instrument]]
id = "BAD-USDT"
base = "BAD"
quote = "USDT"
tick_size = "0.01"
lot_size = "1"
[[venue]]
id = "spot"
market = "spot"
orders_per_second = 5
cancels_per_second = 2
[venue.balances]
ETH = "8"
USDT = "3500"
[[venue.listing]]
instrument = "ETH-USDT"
symbol = "ETHUSDT"
[[venue]]
id = "perp"
market = "usdm"
[venue.balances]
USDT = "100000"
[[venue.listing]]
instrument = "ETH-USDT"
symbol = "ETHUSDT"
)toml";

Config test_config(const std::string& extra_replace_from = "", const std::string& extra_replace_to = "") {
  std::string text = kConfig;
  if (!extra_replace_from.empty())
    text.replace(text.find(extra_replace_from), extra_replace_from.size(), extra_replace_to);
  auto parsed = parse_config(text, "risk_test.toml");
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
  return *parsed;
}

std::string journal_path(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::exists("/dev/shm")
                                        ? std::filesystem::path("/dev/shm")
                                        : std::filesystem::temp_directory_path();
  const auto path = dir / ("tranche_risk_" + std::to_string(::getpid()) + "_" + name);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return path.string();
}

class FakeVenue : public VenueSession {
 public:
  explicit FakeVenue(std::string id) : id_(std::move(id)) {}
  VenueId venue() const override { return id_; }
  bool send(const NewOrder& o) override {
    sent.push_back(o);
    return true;
  }
  bool cancel(const CancelOrder& c) override {
    canceled.push_back(c);
    return true;
  }
  bool amend(const AmendOrder&) override { return true; }
  bool query(const OrderStatusQuery&) override { return true; }
  std::vector<NewOrder> sent;
  std::vector<CancelOrder> canceled;

 private:
  VenueId id_;
};

class RiskGateTest : public ::testing::Test {
 protected:
  void SetUp() override { start(test_config()); }
  void start(const Config& config, bool keep_journal = false) {
    manager_.reset();
    journal_.reset();
    config_ = config;
    gate_ = std::make_unique<RiskGate>(config_);
    if (!keep_journal) path_ = journal_path(::testing::UnitTest::GetInstance()->current_test_info()->name());
    journal_ = oms::Journal::open(path_).value();
    manager_ = oms::OrderManager::open(config_, *journal_, *gate_).value();
    manager_->add_session(&spot_);
    manager_->add_session(&perp_);
    quote(now_);
  }
  void TearDown() override {
    manager_.reset();
    journal_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  void quote(TimestampNs t) {
    gate_->on_quote(VenueId("spot"), InstrumentId("ETH-USDT"), p("99.99"), p("100.01"), t);
    gate_->on_quote(VenueId("perp"), InstrumentId("ETH-USDT"), p("99.99"), p("100.01"), t);
  }
  oms::ParentOrder parent(const char* qty, Side side = Side::Buy, const char* limit = nullptr) {
    oms::ParentOrder po;
    po.account = AccountId("alice");
    po.instrument = InstrumentId("ETH-USDT");
    po.side = side;
    po.qty = q(qty);
    if (limit) po.limit = p(limit);
    po.algo = "test";
    return po;
  }
  // The reason code of the parent's denial, or "" when accepted.
  std::string parent_denial(const oms::ParentOrder& po) {
    auto r = manager_->accept_parent(po, now_);
    EXPECT_TRUE(manager_->flush().ok());
    return r.ok() ? "" : manager_->oms().denials().back().reason_code;
  }
  ParentId accepted(const char* qty, Side side = Side::Buy) {
    auto r = manager_->accept_parent(parent(qty, side), now_);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : ParentId(0);
  }
  NewOrder child(ParentId parent_id, const char* qty, const char* price, const char* venue = "spot",
                 Side side = Side::Buy) {
    NewOrder o;
    o.parent_id = parent_id;
    o.venue = VenueId(venue);
    o.instrument = InstrumentId("ETH-USDT");
    o.side = side;
    o.price = p(price);
    o.qty = q(qty);
    return o;
  }
  std::string child_denial(const NewOrder& o) {
    auto r = manager_->send_child(o, now_);
    if (r.ok()) {
      EXPECT_TRUE(manager_->flush().ok());
      return "";
    }
    EXPECT_TRUE(manager_->flush().ok());
    last_text_ = r.error().message;
    if (r.error().message.rfind("risk denied", 0) != 0) return "not a risk denial: " + r.error().message;
    return manager_->oms().denials().back().reason_code;
  }
  void fill(ClientOrderId id, const char* qty, const char* price) {
    const oms::ChildOrder& c = *manager_->oms().child(id);
    ExecutionReport r;
    r.client_order_id = id;
    r.venue = c.order.venue;
    r.instrument = c.order.instrument;
    r.exec_type = ExecType::Trade;
    r.side = c.order.side;
    r.last_qty = q(qty);
    r.last_price = p(price);
    r.exec_id = ExecId("x" + std::to_string(++execs_));
    r.received_ns = now_;
    manager_->on_execution_report(r);
    ASSERT_TRUE(manager_->flush().ok());
  }

  Config config_;
  std::unique_ptr<RiskGate> gate_;
  std::unique_ptr<oms::Journal> journal_;
  std::unique_ptr<oms::OrderManager> manager_;
  FakeVenue spot_{"spot"}, perp_{"perp"};
  std::string path_;
  TimestampNs now_ = 1'000 * kNanosPerSecond;
  int execs_ = 0;
  std::string last_text_;
};

TEST_F(RiskGateTest, AParentAtItsQuantityLimitPassesAndOneLotMoreIsDenied) {
  // 90 ETH at 100 is the 9,000 notional limit too, so the quantity limit is tested with the notional raised.
  start(test_config("max_parent_notional = \"9000\"", "max_parent_notional = \"20000\""));
  EXPECT_EQ(parent_denial(parent("50")), "");
  EXPECT_EQ(parent_denial(parent("100.001")), "max_parent_qty");
}

TEST_F(RiskGateTest, AParentAtItsNotionalLimitPassesAndBeyondIsDenied) {
  start(test_config("adv = \"500\"", "adv = \"0\""));
  EXPECT_EQ(parent_denial(parent("90")), "");  // 90 x 100.00 = 9,000
  EXPECT_EQ(parent_denial(parent("90.001")), "max_parent_notional");
}

TEST_F(RiskGateTest, AParentLimitMustBeWithinItsCollarOfTheReference) {
  EXPECT_EQ(parent_denial(parent("1", Side::Buy, "105.00")), "");  // 500 bps of 100.00
  EXPECT_EQ(parent_denial(parent("1", Side::Buy, "105.01")), "parent_price_collar");
  EXPECT_EQ(parent_denial(parent("1", Side::Sell, "94.99")), "parent_price_collar");
}

TEST_F(RiskGateTest, AParentOverItsShareOfDailyVolumeIsDenied) {
  EXPECT_EQ(parent_denial(parent("50")), "");  // 10% of 500
  EXPECT_EQ(parent_denial(parent("50.001")), "adv_share");
}

TEST_F(RiskGateTest, RestrictedInstrumentsUnknownAccountsAndMissingPricesAreDenied) {
  oms::ParentOrder bad = parent("1");
  bad.instrument = InstrumentId("BAD-USDT");
  EXPECT_EQ(parent_denial(bad), "restricted");
  start(test_config("restricted = [\"BAD-USDT\"]", "restricted = []\naccounts = [\"bob\"]"));
  EXPECT_EQ(parent_denial(parent("1")), "account_not_allowed");
  start(test_config());
  now_ += 2 * kNanosPerSecond;  // the quotes are now stale
  EXPECT_EQ(parent_denial(parent("1")), "no_reference_price");
}

TEST_F(RiskGateTest, AChildNeedsMarketDataNoOlderThanTheLimit) {
  const ParentId id = accepted("20");
  now_ += kNanosPerSecond;  // exactly the limit
  EXPECT_EQ(child_denial(child(id, "1", "100.00")), "");
  now_ += 1;
  EXPECT_EQ(child_denial(child(id, "1", "100.00")), "stale_market_data");
}

TEST_F(RiskGateTest, AChildMustFitTheVenuesStepsAndMinimum) {
  const ParentId id = accepted("20");
  EXPECT_EQ(child_denial(child(id, "1.0005", "100.00")), "qty_off_lot");
  EXPECT_EQ(child_denial(child(id, "1", "100.005")), "price_off_tick");
  EXPECT_EQ(child_denial(child(id, "0.049", "100.00")), "below_min_notional");
  EXPECT_EQ(child_denial(child(id, "0.05", "100.00")), "");
}

TEST_F(RiskGateTest, AChildPriceMustBeWithinItsCollarOfTheVenueMid) {
  const ParentId buy = accepted("20");
  EXPECT_EQ(child_denial(child(buy, "1", "101.00")), "");  // 100 bps of 100.00
  EXPECT_EQ(child_denial(child(buy, "1", "101.01")), "price_collar");
  const ParentId sell = accepted("2", Side::Sell);
  EXPECT_EQ(child_denial(child(sell, "1", "98.99", "perp", Side::Sell)), "price_collar");
}

TEST_F(RiskGateTest, AChildAtItsSizeLimitsPassesAndBeyondIsDenied) {
  const ParentId id = accepted("40");
  EXPECT_EQ(child_denial(child(id, "10", "100.00", "perp")), "");  // 1,000 notional, 10 ETH
  EXPECT_EQ(child_denial(child(id, "10", "100.01", "perp")), "max_order_notional");
  start(test_config("max_child_notional = \"1000\"", "max_child_notional = \"5000\""));
  const ParentId again = accepted("40");
  EXPECT_EQ(child_denial(child(again, "10.001", "100.00", "perp")), "max_order_qty");
}

TEST_F(RiskGateTest, OpenOrdersAndInFlightNotionalAreCountedPerVenueAndPerAccount) {
  start(test_config("max_position = \"15\"", "max_position = \"1000\""));
  const ParentId id = accepted("45");
  EXPECT_EQ(child_denial(child(id, "10", "100.00")), "");
  EXPECT_EQ(child_denial(child(id, "10", "100.00")), "");  // 2,000 in flight on spot, not acknowledged
  EXPECT_EQ(child_denial(child(id, "5.001", "100.00")), "max_in_flight_notional_venue");
  EXPECT_EQ(child_denial(child(id, "5", "100.00")), "");           // 2,500 exactly
  EXPECT_EQ(child_denial(child(id, "10", "100.00", "perp")), "");  // account: 3,500
  EXPECT_EQ(child_denial(child(id, "5.001", "100.00", "perp")), "max_in_flight_notional_account")
      << last_text_;
  EXPECT_EQ(child_denial(child(id, "1", "100.00", "perp")), "");
  EXPECT_EQ(child_denial(child(id, "1", "100.00", "perp")), "");  // 6 open for alice
  EXPECT_EQ(child_denial(child(id, "0.1", "100.00", "perp")), "max_open_orders_account");
}

TEST_F(RiskGateTest, APositionLimitCountsWhatIsInFlight) {
  start(test_config("max_in_flight_notional_per_venue = \"2500\"",
                    "max_in_flight_notional_per_venue = \"100000\""));
  const ParentId id = accepted("40");
  auto sent = manager_->send_child(child(id, "10", "100.00", "perp"), now_);
  ASSERT_TRUE(sent.ok());
  fill(*sent, "10", "100.00");  // long 10
  EXPECT_EQ(child_denial(child(id, "5.001", "100.00", "perp")), "max_position");
  EXPECT_EQ(child_denial(child(id, "5", "100.00", "perp")), "");  // 10 held + 5 in flight = 15
  EXPECT_EQ(child_denial(child(id, "0.05", "100.00", "perp")), "max_position");
}

TEST_F(RiskGateTest, ACashVenueNeedsTheBalanceToSellAndToBuy) {
  const ParentId sell = accepted("20", Side::Sell);
  EXPECT_EQ(child_denial(child(sell, "8.001", "100.00", "spot", Side::Sell)),
            "insufficient_balance");  // 8 ETH held
  EXPECT_EQ(child_denial(child(sell, "8", "100.00", "spot", Side::Sell)), "");
  EXPECT_EQ(child_denial(child(sell, "0.1", "100.00", "spot", Side::Sell)), "insufficient_balance");
}

TEST_F(RiskGateTest, OurBuyAndOurSellNeverMeetOnOneVenue) {
  const ParentId buy = accepted("5");
  const ParentId sell = accepted("5", Side::Sell);
  EXPECT_EQ(child_denial(child(buy, "1", "100.00")), "");
  EXPECT_EQ(child_denial(child(sell, "1", "100.00", "spot", Side::Sell)), "self_trade");
  EXPECT_EQ(child_denial(child(sell, "1", "100.01", "spot", Side::Sell)), "");
  EXPECT_EQ(child_denial(child(sell, "1", "100.00", "perp", Side::Sell)), "");  // another venue
}

TEST_F(RiskGateTest, OrdersAndCancelsBeyondTheVenuesRateAreDenied) {
  start(test_config("max_open_orders_per_venue = 5", "max_open_orders_per_venue = 50"));
  const ParentId id = accepted("10");
  std::vector<ClientOrderId> sent;
  for (int i = 0; i < 5; ++i) {
    auto r = manager_->send_child(child(id, "0.1", "100.00"), now_);
    ASSERT_TRUE(r.ok()) << i;
    sent.push_back(*r);
  }
  EXPECT_EQ(child_denial(child(id, "0.1", "100.00")), "rate_limit");
  now_ += kNanosPerSecond / 5;  // one token back
  quote(now_);
  EXPECT_EQ(child_denial(child(id, "0.1", "100.00")), "");
  EXPECT_TRUE(manager_->cancel_child(sent[0], now_).ok());
  EXPECT_TRUE(manager_->cancel_child(sent[1], now_).ok());
  EXPECT_FALSE(manager_->cancel_child(sent[2], now_).ok());
  EXPECT_EQ(manager_->oms().denials().back().reason_code, "cancel_rate_limit");
}

TEST_F(RiskGateTest, TheBudgetInUseIsWhatWasSpentLessWhatRefilledAndLooksWithoutTaking) {
  start(test_config("max_open_orders_per_venue = 5", "max_open_orders_per_venue = 50"));
  const ParentId id = accepted("10");
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(manager_->send_child(child(id, "0.1", "100.00"), now_).ok());
  auto spot_use = [&](TimestampNs at) {
    for (const auto& b : gate_->budget_use(at))
      if (b.venue == VenueId("spot")) return b;
    ADD_FAILURE() << "no spot budget";
    return RiskGate::BudgetUse{};
  };
  EXPECT_DOUBLE_EQ(spot_use(now_).orders_per_second, 5);
  EXPECT_NEAR(spot_use(now_).orders_used, 4, 1e-9);
  EXPECT_NEAR(spot_use(now_ + kNanosPerSecond / 5).orders_used, 3, 1e-9);   // one token back
  EXPECT_NEAR(spot_use(now_ + 10 * kNanosPerSecond).orders_used, 0, 1e-9);  // full again, never above
  // Looking took nothing: the fifth order still goes, the sixth is denied.
  EXPECT_EQ(child_denial(child(id, "0.1", "100.00")), "");
  EXPECT_EQ(child_denial(child(id, "0.1", "100.00")), "rate_limit");
}

TEST_F(RiskGateTest, TheKillSwitchCancelsEverythingInItsScopeAndBlocksUntilReleased) {
  const ParentId id = accepted("20");
  auto a = manager_->send_child(child(id, "1", "100.00"), now_);
  auto b = manager_->send_child(child(id, "1", "100.00", "perp"), now_);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(manager_->flush().ok());
  ASSERT_TRUE(manager_->engage_kill_switch(oms::KillScope::Venue, "spot", "spot misbehaves", now_).ok());
  ASSERT_TRUE(manager_->flush().ok());
  ASSERT_EQ(spot_.canceled.size(), 1u);
  EXPECT_EQ(spot_.canceled[0].client_order_id, *a);
  EXPECT_TRUE(perp_.canceled.empty());
  EXPECT_EQ(child_denial(child(id, "1", "100.00")), "kill_switch");
  EXPECT_EQ(child_denial(child(id, "1", "100.00", "perp")), "");
  // It survives a restart: it is journaled.
  start(config_, true);
  EXPECT_TRUE(manager_->oms().blocked(AccountId("alice"), VenueId("spot")));
  ASSERT_TRUE(manager_->release_kill_switch(oms::KillScope::Venue, "spot", "fixed", now_).ok());
  EXPECT_EQ(child_denial(child(id, "1", "100.00")), "");
  ASSERT_TRUE(manager_->engage_kill_switch(oms::KillScope::Global, "", "stop everything", now_).ok());
  EXPECT_EQ(child_denial(child(id, "1", "100.00", "perp")), "kill_switch");
  EXPECT_EQ(parent_denial(parent("1")), "kill_switch");
}

TEST_F(RiskGateTest, LimitsReloadWithoutARestart) {
  const ParentId id = accepted("20");
  EXPECT_EQ(child_denial(child(id, "6", "100.00", "perp")), "");
  ASSERT_TRUE(gate_->reload(test_config("max_child_qty = \"10\"", "max_child_qty = \"5\"")).ok());
  EXPECT_EQ(child_denial(child(id, "6", "100.00", "perp")), "max_order_qty");
  EXPECT_EQ(child_denial(child(id, "5", "100.00", "perp")), "");  // the market view carried over
}

TEST_F(RiskGateTest, EveryDenialIsJournaledWithItsReason) {
  const ParentId id = accepted("20");
  EXPECT_EQ(child_denial(child(id, "1", "150.00")), "price_collar");
  EXPECT_EQ(parent_denial(parent("1000")), "max_parent_qty");
  manager_.reset();
  auto journal = oms::Journal::open(path_, {false, true});
  ASSERT_TRUE(journal.ok());
  std::vector<std::string> codes;
  ASSERT_TRUE((*journal)
                  ->replay([&](const oms::Record& r) {
                    if (const auto* d = std::get_if<oms::RiskDenial>(&r.body))
                      codes.push_back(d->reason_code);
                    return Status{};
                  })
                  .ok());
  EXPECT_EQ(codes, (std::vector<std::string>{"price_collar", "max_parent_qty"}));
}

// Property: whatever we ask and whatever the venues do, no order that leaves breaks a limit.
RC_GTEST_PROP(RiskGateProperty, NoSequenceOfRequestsAndVenueEventsSendsAnOrderThatBreaksALimit, ()) {
  const Config config = test_config("max_open_orders_per_venue = 5", "max_open_orders_per_venue = 4");
  RiskGate gate(config);
  const std::string path = journal_path("property");
  auto journal = oms::Journal::open(path).value();
  auto manager = oms::OrderManager::open(config, *journal, gate).value();
  std::string breach;
  manager->oms().set_invariant_handler([&](const std::string& c) { breach = c; });
  FakeVenue spot("spot"), perp("perp");
  manager->add_session(&spot);
  manager->add_session(&perp);
  TimestampNs now = 1'000 * kNanosPerSecond;
  Price mid = p("100.00");
  auto requote = [&] {
    gate.on_quote(VenueId("spot"), InstrumentId("ETH-USDT"), mid - p("0.01"), mid + p("0.01"), now);
    gate.on_quote(VenueId("perp"), InstrumentId("ETH-USDT"), mid - p("0.01"), mid + p("0.01"), now);
  };
  requote();
  std::vector<ParentId> parents;
  for (Side side : {Side::Buy, Side::Sell}) {
    oms::ParentOrder po;
    po.account = AccountId("alice");
    po.instrument = InstrumentId("ETH-USDT");
    po.side = side;
    po.qty = q("40");
    parents.push_back(*manager->accept_parent(po, now));
  }
  std::deque<TimestampNs> sent_times_spot;
  int went = 0, denied = 0;
  std::uint64_t exec = 0;
  const int steps = *rc::gen::inRange(20, 150);
  for (int step = 0; step < steps; ++step) {
    const int action = *rc::gen::inRange(0, 8);
    if (action <= 2) {  // ask for a child
      const oms::Oms& oms = manager->oms();
      NewOrder o;
      const Side side = *rc::gen::arbitrary<bool>() ? Side::Buy : Side::Sell;
      o.parent_id = parents[side == Side::Buy ? 0 : 1];
      o.venue = VenueId(*rc::gen::arbitrary<bool>() ? "spot" : "perp");
      o.instrument = InstrumentId("ETH-USDT");
      o.side = side;
      o.price = mid + Price::from_raw(*rc::gen::inRange<std::int64_t>(-200, 200) * 1'000'000);  // +-2.00
      o.qty = Qty::from_raw(*rc::gen::inRange<std::int64_t>(1, 12'000) * 100'000);              // 0.001 .. 12
      // The state the send is judged against, computed here independently of the gate.
      const oms::Exposure venue = oms.venue_exposure(o.venue.view());
      const oms::InstrumentExposure flight = oms.instrument_exposure("alice", "ETH-USDT");
      const oms::Position* pos = oms.position(AccountId("alice"), InstrumentId("ETH-USDT"));
      const Qty held = pos ? pos->qty : Qty{};
      bool crosses_own = false;
      for (std::uint64_t id : oms.open_child_ids()) {
        const auto& other = oms.child(ClientOrderId(id))->order;
        if (other.venue == o.venue && other.side != o.side &&
            (o.side == Side::Buy ? o.price >= other.price : o.price <= other.price))
          crosses_own = true;
      }
      auto sent = manager->send_child(o, now);
      RC_ASSERT(manager->flush().ok());
      if (!sent.ok()) {
        ++denied;
        continue;
      }
      ++went;
      // It went: every limit must hold for it.
      const double distance_bps = std::abs((o.price - mid).to_double()) / mid.to_double() * 1e4;
      RC_ASSERT(distance_bps <= 100.0 + 1e-9);
      RC_ASSERT(o.qty <= q("10"));
      RC_ASSERT(o.price.to_double() * o.qty.to_double() <= 1000.0 + 1e-9);
      RC_ASSERT(venue.open_orders + 1 <= 4);
      RC_ASSERT((venue.in_flight_notional.to_double() + o.price.to_double() * o.qty.to_double()) <=
                2500.0 + 1e-9);
      if (side == Side::Buy) RC_ASSERT(held + flight.buy_in_flight + o.qty <= q("15"));
      if (side == Side::Sell) RC_ASSERT(held - flight.sell_in_flight - o.qty >= -q("15"));
      RC_ASSERT(!crosses_own);
      if (o.venue == VenueId("spot")) {
        sent_times_spot.push_back(now);
        while (!sent_times_spot.empty() && sent_times_spot.front() <= now - kNanosPerSecond)
          sent_times_spot.pop_front();
        RC_ASSERT(sent_times_spot.size() <=
                  10u);  // a bucket of 5 a second never lets more than 2x5 through in 1 s
      }
    } else if (action == 3 || action == 4) {  // the venue fills an open child, in part or whole
      const auto& open = manager->oms().open_child_ids();
      if (open.empty()) continue;
      auto it = open.begin();
      std::advance(it, *rc::gen::inRange<std::size_t>(0, open.size()));
      const oms::ChildOrder& c = *manager->oms().child(ClientOrderId(*it));
      ExecutionReport r;
      r.client_order_id = c.order.client_order_id;
      r.venue = c.order.venue;
      r.instrument = c.order.instrument;
      r.exec_type = ExecType::Trade;
      r.side = c.order.side;
      r.last_qty =
          action == 3
              ? c.leaves_qty()
              : Qty::from_raw(std::max<std::int64_t>(c.leaves_qty().raw() / 2 / 100'000 * 100'000, 100'000));
      if (r.last_qty > c.leaves_qty()) r.last_qty = c.leaves_qty();
      r.last_price = c.order.price;
      r.exec_id = ExecId("p" + std::to_string(++exec));
      r.cum_qty = c.cum_qty + r.last_qty;
      r.received_ns = now;
      manager->on_execution_report(r);
      RC_ASSERT(manager->flush().ok());
    } else if (action == 5) {  // the venue cancels one (or expires it)
      const auto& open = manager->oms().open_child_ids();
      if (open.empty()) continue;
      const oms::ChildOrder& c = *manager->oms().child(ClientOrderId(*open.begin()));
      ExecutionReport r;
      r.client_order_id = c.order.client_order_id;
      r.venue = c.order.venue;
      r.instrument = c.order.instrument;
      r.exec_type = ExecType::Canceled;
      r.cum_qty = c.cum_qty;
      r.received_ns = now;
      manager->on_execution_report(r);
      RC_ASSERT(manager->flush().ok());
    } else if (action == 6) {  // time passes and the market moves
      now += *rc::gen::inRange<std::int64_t>(1, 400) * kNanosPerMilli;
      mid = mid + Price::from_raw(*rc::gen::inRange<std::int64_t>(-50, 50) * 1'000'000);
      requote();
    } else {  // we cancel one
      const auto& open = manager->oms().open_child_ids();
      if (!open.empty()) (void)manager->cancel_child(ClientOrderId(*open.begin()), now);
      RC_ASSERT(manager->flush().ok());
    }
    if (!breach.empty()) RC_FAIL(breach);
  }
  RC_TAG(went > 5 ? "many sent" : "few sent");
  RC_TAG(denied > 5 ? "many denied" : "few denied");
  manager.reset();
  journal.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

}  // namespace
}  // namespace tranche::risk
