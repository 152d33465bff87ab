// The simulated venue on small hand-made books: matching, queue models, impact, rejects, fees and accounts.
#include "sim/venue.hpp"

#include <gtest/gtest.h>

#include "md/test_data.hpp"

namespace tranche::sim {
namespace {

using md::testing::px;
using md::testing::qty;

Instrument eth() {
  Instrument i;
  i.id = InstrumentId("ETH-USDT");
  i.base = "ETH";
  i.quote = "USDT";
  i.tick_size = px("0.01");
  i.lot_size = qty("0.001");
  i.min_notional = Amount::from_units(5);
  return i;
}

VenueConfig venue_config(QueueModel model = QueueModel::RiskAverse, double resilience = 0.5,
                         CrossFill cross_fill = CrossFill::Prints) {
  VenueConfig v;
  v.id = VenueId("test-spot");
  v.market = "spot";
  v.fees.maker_bps = Amount::parse("2").value();
  v.fees.taker_bps = Amount::parse("5").value();
  VenueListing l;
  l.instrument = InstrumentId("ETH-USDT");
  l.symbol = "ETHUSDT";
  l.tick_size = px("0.01");
  l.lot_size = qty("0.001");
  l.min_notional = Amount::from_units(5);
  v.listings.push_back(l);
  v.balances["ETH"] = Amount::from_units(100);
  v.balances["USDT"] = Amount::from_units(1'000'000);
  VenueSimConfig sim;
  sim.queue_model = model;
  sim.cross_fill = cross_fill;
  sim.resilience = resilience;
  v.sim = sim;
  return v;
}

struct EventBuilder {
  TimestampNs t = 1'000'000'000;
  std::uint64_t id = 100;
  md::OwnedEvent book(md::EventKind kind, std::vector<md::Level> bids, std::vector<md::Level> asks) {
    md::OwnedEvent e;
    e.event.kind = kind;
    e.event.recv_ns = ++t;
    e.event.last_seq = ++id;
    e.bids = std::move(bids);
    e.asks = std::move(asks);
    e.relink();
    return e;
  }
  md::OwnedEvent snapshot(std::vector<md::Level> bids, std::vector<md::Level> asks) {
    return book(md::EventKind::BookSnapshot, std::move(bids), std::move(asks));
  }
  md::OwnedEvent delta(std::vector<md::Level> bids, std::vector<md::Level> asks) {
    return book(md::EventKind::BookDelta, std::move(bids), std::move(asks));
  }
  md::OwnedEvent trade(Side aggressor, const char* price, const char* q) {
    md::OwnedEvent e;
    e.event.kind = md::EventKind::Trade;
    e.event.recv_ns = ++t;
    e.event.side = aggressor;
    e.event.price = px(price);
    e.event.qty = qty(q);
    return e;
  }
  md::OwnedEvent quote(const char* bid, const char* bid_qty, const char* ask, const char* ask_qty) {
    md::OwnedEvent e;
    e.event.kind = md::EventKind::Quote;
    e.event.recv_ns = ++t;
    e.event.last_seq = ++id;
    e.event.price = px(bid);
    e.event.qty = qty(bid_qty);
    e.event.price2 = px(ask);
    e.event.qty2 = qty(ask_qty);
    return e;
  }
};

class SimVenueTest : public ::testing::Test {
 protected:
  void make(VenueConfig config) {
    venue_ = std::make_unique<SimVenue>(config, std::vector<Instrument>{eth()});
    venue_->set_state(VenueState::Open, "test", 0);
    venue_->statuses().clear();
    // Bids 99.98/99.99, asks 100.01/100.02/100.03.
    feed(ev_.snapshot({{px("99.99"), qty("2")}, {px("99.98"), qty("3")}},
                      {{px("100.01"), qty("1")}, {px("100.02"), qty("2")}, {px("100.03"), qty("5")}}));
  }
  void SetUp() override { make(venue_config()); }
  void feed(const md::OwnedEvent& e) { venue_->on_market_event(0, e.event); }
  NewOrder order(Side side, const char* q, const char* price = nullptr,
                 TimeInForce tif = TimeInForce::GoodTillCancel) {
    NewOrder o;
    o.client_order_id = ClientOrderId(++next_id_);
    o.venue = VenueId("test-spot");
    o.instrument = InstrumentId("ETH-USDT");
    o.side = side;
    o.qty = qty(q);
    if (price != nullptr) {
      o.type = OrderType::Limit;
      o.price = px(price);
    } else {
      o.type = OrderType::Market;
      o.time_in_force = TimeInForce::ImmediateOrCancel;
    }
    if (price != nullptr) o.time_in_force = tif;
    return o;
  }
  std::vector<ExecutionReport> take_reports() {
    auto out = venue_->reports();
    venue_->reports().clear();
    return out;
  }
  std::vector<ExecutionReport> fills() {
    std::vector<ExecutionReport> out;
    for (const auto& r : take_reports())
      if (r.exec_type == ExecType::Trade) out.push_back(r);
    return out;
  }
  ExecutionReport only_report() {
    auto reports = take_reports();
    EXPECT_EQ(reports.size(), 1u);
    return reports.empty() ? ExecutionReport{} : reports.front();
  }

  EventBuilder ev_;
  std::unique_ptr<SimVenue> venue_;
  std::uint64_t next_id_ = 0;
};

TEST_F(SimVenueTest, AMarketOrderWalksTheDisplayedLevelsAtSeveralPrices) {
  venue_->on_new_order(order(Side::Buy, "2.5"), ev_.t);
  auto reports = take_reports();
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0].exec_type, ExecType::New);
  EXPECT_EQ(reports[1].last_price, px("100.01"));
  EXPECT_EQ(reports[1].last_qty, qty("1"));
  EXPECT_EQ(reports[2].last_price, px("100.02"));
  EXPECT_EQ(reports[2].last_qty, qty("1.5"));
  EXPECT_EQ(reports[2].status, OrderStatus::Filled);
  EXPECT_EQ(reports[2].liquidity, Liquidity::Taker);
}

TEST_F(SimVenueTest, LiquidityWeTookStaysTakenUntilTheRecordedFlowRefillsIt) {
  venue_->on_new_order(order(Side::Buy, "1"), ev_.t);  // takes all of 100.01
  take_reports();
  EXPECT_EQ(venue_->market(0).best(Side::Sell), px("100.02"));
  // A second order at once finds the level gone: the simulator does not forget.
  venue_->on_new_order(order(Side::Buy, "1"), ev_.t);
  auto f = fills();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].last_price, px("100.02"));
  // The recording adds 1 at 100.01 (1 -> 2): with resilience 0.5 half of it restores what we took.
  feed(ev_.delta({}, {{px("100.01"), qty("2")}}));
  EXPECT_EQ(venue_->market(0).displayed_at(Side::Sell, px("100.01")), qty("1.5"));
  // A recorded decrease below what we took leaves nothing displayed.
  feed(ev_.delta({}, {{px("100.01"), qty("0.3")}}));
  EXPECT_EQ(venue_->market(0).displayed_at(Side::Sell, px("100.01")), qty("0"));
  // Enough recorded refill restores all of it.
  feed(ev_.delta({}, {{px("100.01"), qty("4")}}));
  EXPECT_EQ(venue_->market(0).displayed_at(Side::Sell, px("100.01")), qty("4"));
}

TEST_F(SimVenueTest, WithResilienceZeroTakenLiquidityNeverComesBack) {
  make(venue_config(QueueModel::RiskAverse, 0.0));
  venue_->on_new_order(order(Side::Buy, "1"), ev_.t);
  take_reports();
  feed(ev_.delta({}, {{px("100.01"), qty("6")}}));
  EXPECT_EQ(venue_->market(0).displayed_at(Side::Sell, px("100.01")), qty("5"));
}

TEST_F(SimVenueTest, BetweenDiffsTheTouchFollowsTheBookTicker) {
  // The ticker says 100.01 was taken and 100.02 now shows 1.5: the diff book still has the old levels.
  feed(ev_.quote("99.99", "2", "100.02", "1.5"));
  EXPECT_EQ(venue_->market(0).best(Side::Sell), px("100.02"));
  EXPECT_EQ(venue_->market(0).best_qty(Side::Sell), qty("1.5"));
  venue_->on_new_order(order(Side::Buy, "2"), ev_.t);
  auto f = fills();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].last_price, px("100.02"));
  EXPECT_EQ(f[0].last_qty, qty("1.5"));
  EXPECT_EQ(f[1].last_price, px("100.03"));
  // A diff with a later update id is the truth again.
  feed(ev_.delta({}, {{px("100.01"), qty("1")}, {px("100.02"), qty("2")}}));
  EXPECT_EQ(venue_->market(0).best(Side::Sell), px("100.01"));
}

TEST_F(SimVenueTest, ATickerAheadOfTheDiffBookShowsANewBestLevel) {
  feed(ev_.quote("100.00", "0.7", "100.01", "1"));
  EXPECT_EQ(venue_->market(0).best(Side::Buy), px("100.00"));
  EXPECT_EQ(venue_->market(0).best_qty(Side::Buy), qty("0.7"));
  venue_->on_new_order(order(Side::Sell, "1"), ev_.t);
  auto f = fills();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].last_price, px("100.00"));
  EXPECT_EQ(f[0].last_qty, qty("0.7"));
  EXPECT_EQ(f[1].last_price, px("99.99"));
  EXPECT_EQ(f[1].last_qty, qty("0.3"));
}

TEST_F(SimVenueTest, ARestingOrderFillsOnlyAfterTheRecordedQueueAheadHasTraded) {
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);  // 2 ahead of us
  EXPECT_EQ(only_report().exec_type, ExecType::New);
  EXPECT_EQ(venue_->market(0).orders()[0].ahead, qty("2"));
  feed(ev_.trade(Side::Sell, "99.99", "1.5"));
  EXPECT_TRUE(fills().empty());
  feed(ev_.trade(Side::Sell, "99.99", "0.8"));  // 0.5 ahead, then 0.3 reaches us
  auto f = fills();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].last_qty, qty("0.3"));
  EXPECT_EQ(f[0].last_price, px("99.99"));
  EXPECT_EQ(f[0].liquidity, Liquidity::Maker);
  EXPECT_EQ(f[0].status, OrderStatus::PartiallyFilled);
}

TEST_F(SimVenueTest, RiskAverseIgnoresCancelsAheadWhileProportionalSplitsThem) {
  // The level 99.99 drops from 2 to 1 with no trade: a cancel, somewhere in the queue.
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);
  feed(ev_.delta({{px("99.99"), qty("1")}}, {}));
  EXPECT_EQ(venue_->market(0).orders()[0].ahead, qty("2"));

  make(venue_config(QueueModel::Proportional));
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);
  // 2 ahead; the recording adds 2 behind us, then 2 are cancelled: split 2:2, so 1 comes from ahead.
  feed(ev_.delta({{px("99.99"), qty("4")}}, {}));
  feed(ev_.delta({{px("99.99"), qty("2")}}, {}));
  EXPECT_EQ(venue_->market(0).orders()[0].ahead, qty("1"));
  // A trade explained by the print is not counted as a cancel too.
  feed(ev_.trade(Side::Sell, "99.99", "0.5"));
  feed(ev_.delta({{px("99.99"), qty("1.5")}}, {}));
  EXPECT_EQ(venue_->market(0).orders()[0].ahead, qty("0.5"));
}

TEST_F(SimVenueTest, ATradeThroughOurPriceFillsUsFirst) {
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);
  take_reports();
  feed(ev_.trade(Side::Sell, "99.98", "0.4"));
  auto f = fills();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].last_qty, qty("0.4"));
  EXPECT_EQ(f[0].last_price, px("99.99"));  // a maker fills at its own price
}

TEST_F(SimVenueTest, UnderCrossFillFullABookThatCrossesOurPriceFillsUsAsMakerWithEverythingThatCrossed) {
  make(venue_config(QueueModel::Proportional, 0.5, CrossFill::Full));
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);
  take_reports();
  // The bids at 99.99 go (so nothing is ahead of us) and asks come down through our bid: 99.98 with 0.6.
  feed(ev_.delta({{px("99.99"), qty("0")}}, {{px("99.98"), qty("0.6")}}));
  auto f = fills();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].last_qty, qty("0.6"));
  EXPECT_EQ(f[0].last_price, px("99.99"));
  EXPECT_EQ(f[0].liquidity, Liquidity::Maker);
}

// The defect issue 22 pins: asks posted at or below our bid, with no trade, filled us with everything they
// showed. By default a crossing book fills no more than the prints that reached us since we rested.
TEST_F(SimVenueTest, ByDefaultABookThatCrossesOurPriceWithoutATradeFillsNothing) {
  make(venue_config(QueueModel::Proportional));
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);
  take_reports();
  feed(ev_.delta({{px("99.99"), qty("0")}}, {{px("99.98"), qty("0.6")}}));
  EXPECT_TRUE(fills().empty());
  // A buyer lifts 0.25 of those asks at 99.98, through our bid: that much sell interest would have met us.
  feed(ev_.trade(Side::Buy, "99.98", "0.25"));
  auto f = fills();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].last_qty, qty("0.25"));
  EXPECT_EQ(f[0].last_price, px("99.99"));
  EXPECT_EQ(f[0].liquidity, Liquidity::Maker);
  // The same asks, still there, add nothing without another print.
  feed(ev_.delta({}, {{px("99.98"), qty("0.35")}}));
  EXPECT_TRUE(fills().empty());
}

TEST_F(SimVenueTest, UnderCrossFillNoneOnlyTradesFillUsHoweverTheBookCrosses) {
  make(venue_config(QueueModel::Proportional, 0.5, CrossFill::None));
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);
  take_reports();
  feed(ev_.delta({{px("99.99"), qty("0")}}, {{px("99.98"), qty("0.6")}}));
  feed(ev_.trade(Side::Buy, "99.98", "0.25"));
  EXPECT_TRUE(fills().empty());
  feed(ev_.trade(Side::Sell, "99.98", "0.3"));  // a seller through our bid: a trade, so it fills us
  auto f = fills();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].last_qty, qty("0.3"));
}

TEST_F(SimVenueTest, RiskAverseWaitsForThePrintsBeforeACrossedBookFillsUs) {
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);
  take_reports();
  feed(ev_.delta({{px("99.99"), qty("0")}}, {{px("99.98"), qty("0.6")}}));
  EXPECT_TRUE(fills().empty());
  // The prints of what happened arrive: 2 traded at 99.99 (the queue ahead), then 0.6 through us.
  feed(ev_.trade(Side::Sell, "99.99", "2"));
  feed(ev_.trade(Side::Sell, "99.98", "0.6"));
  auto f = fills();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].last_qty, qty("0.6"));
}

TEST_F(SimVenueTest, APassiveOrderNoTradeReachesNeverFills) {
  venue_->on_new_order(order(Side::Buy, "1", "99.90"), ev_.t);
  take_reports();
  for (int i = 0; i < 50; ++i) {
    feed(ev_.trade(Side::Sell, "99.98", "3"));
    feed(ev_.delta({{px("99.95"), qty("1")}}, {{px("100.00"), qty("1")}}));
  }
  EXPECT_TRUE(fills().empty());
  EXPECT_EQ(venue_->market(0).orders()[0].leaves_qty, qty("1"));
}

TEST_F(SimVenueTest, RejectsAsARealVenueGivesThem) {
  venue_->on_new_order(order(Side::Buy, "1", "100.01", TimeInForce::PostOnly), ev_.t);
  EXPECT_EQ(only_report().reject_reason, RejectReason::PostOnlyWouldCross);
  venue_->on_new_order(order(Side::Buy, "1", "99.995"), ev_.t);
  EXPECT_EQ(only_report().reject_reason, RejectReason::PriceOffTick);
  venue_->on_new_order(order(Side::Buy, "1.0005", "99.99"), ev_.t);
  EXPECT_EQ(only_report().reject_reason, RejectReason::QtyOffLot);
  venue_->on_new_order(order(Side::Buy, "0.01", "99.99"), ev_.t);  // 1 USDT < 5
  EXPECT_EQ(only_report().reject_reason, RejectReason::BelowMinNotional);
  venue_->on_new_order(order(Side::Sell, "101", "101.00"), ev_.t);  // 100 ETH held
  EXPECT_EQ(only_report().reject_reason, RejectReason::InsufficientBalance);
  venue_->on_new_order(order(Side::Buy, "-1", "99.99"), ev_.t);
  EXPECT_EQ(only_report().reject_reason, RejectReason::InvalidOrder);
  venue_->on_cancel({ClientOrderId(999), VenueId("test-spot"), InstrumentId("ETH-USDT"), 0}, ev_.t);
  auto r = only_report();
  EXPECT_EQ(r.exec_type, ExecType::CancelRejected);
  EXPECT_EQ(r.reject_reason, RejectReason::UnknownOrder);
}

TEST_F(SimVenueTest, OrdersBeyondTheRateLimitAreRejected) {
  VenueConfig config = venue_config();
  config.limits.orders_per_second = 2;
  make(config);
  const TimestampNs t = ev_.t;
  for (int i = 0; i < 3; ++i) venue_->on_new_order(order(Side::Buy, "1", "99.00"), t);
  auto reports = take_reports();
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[2].reject_reason, RejectReason::RateLimited);
  venue_->on_new_order(order(Side::Buy, "1", "99.00"), t + kNanosPerSecond);  // the bucket refilled
  EXPECT_EQ(only_report().exec_type, ExecType::New);
}

TEST_F(SimVenueTest, ImmediateOrCancelAndFillOrKillNeverRest) {
  venue_->on_new_order(order(Side::Buy, "2", "100.01", TimeInForce::ImmediateOrCancel), ev_.t);
  auto reports = take_reports();
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[1].last_qty, qty("1"));
  EXPECT_EQ(reports[2].exec_type, ExecType::Expired);
  EXPECT_TRUE(venue_->market(0).orders().empty());
  venue_->on_new_order(order(Side::Buy, "10", "100.03", TimeInForce::FillOrKill), ev_.t);
  reports = take_reports();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1].exec_type, ExecType::Expired);
  EXPECT_EQ(venue_->market(0).displayed_at(Side::Sell, px("100.02")), qty("2"));  // nothing was taken
}

TEST_F(SimVenueTest, FeesFollowTheScheduleAndBalancesSettle) {
  venue_->on_new_order(order(Side::Buy, "1"), ev_.t);
  auto f = fills();
  ASSERT_EQ(f.size(), 1u);
  // 100.01 x 1 x 5 bps = 0.050005 USDT.
  EXPECT_EQ(f[0].fee.amount, qty("0.050005"));
  EXPECT_EQ(f[0].fee.asset.view(), "USDT");
  EXPECT_EQ(venue_->balance("ETH")->total, Amount::from_units(101));
  EXPECT_EQ(venue_->balance("USDT")->total, Amount::parse("999899.939995").value());
  // A maker fill pays the maker rate: 99.99 x 0.5 x 2 bps = 0.009999.
  venue_->on_new_order(order(Side::Buy, "0.5", "99.99"), ev_.t);
  take_reports();
  feed(ev_.trade(Side::Sell, "99.98", "1"));
  f = fills();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].fee.amount, qty("0.009999"));
  EXPECT_EQ(venue_->balance("USDT")->locked, Amount{});
}

TEST_F(SimVenueTest, ARebateIsANegativeFee) {
  VenueConfig config = venue_config();
  config.fees.maker_bps = Amount::parse("-1").value();
  make(config);
  venue_->on_new_order(order(Side::Sell, "1", "100.01"), ev_.t);
  take_reports();
  feed(ev_.trade(Side::Buy, "100.02", "5"));
  auto f = fills();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].fee.amount, -qty("0.010001"));
}

TEST_F(SimVenueTest, InverseContractsChargeFeesInTheCoinAndLockMarginInIt) {
  VenueConfig config = venue_config();
  config.market = "coinm";
  config.listings[0].symbol = "ETHUSD_PERP";
  config.listings[0].lot_size = qty("1");
  config.listings[0].inverse = true;
  config.listings[0].contract_size = Amount::from_units(10);
  config.balances["ETH"] = Amount::from_units(1);
  make(config);
  // Buy 3 contracts: 1 at 100.01 and 2 at 100.02 (the book's quantities are contracts here).
  venue_->on_new_order(order(Side::Buy, "3"), ev_.t);
  auto f = fills();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].fee.asset.view(), "ETH");
  // 1 contract = 10 USD = 10 / 100.01 ETH; 5 bps of it.
  EXPECT_EQ(f[0].fee.amount, Qty::from_raw(5000));  // 0.09999 ETH x 5 bps = 0.00004999.. -> 0.00005000
  EXPECT_EQ(venue_->position(0).qty, qty("3"));
  // 11 more contracts would need 1.1 ETH of margin at 1x: beyond the 1 ETH held.
  venue_->on_new_order(order(Side::Buy, "11", "100.03"), ev_.t);
  EXPECT_EQ(only_report().reject_reason, RejectReason::InsufficientBalance);
}

TEST_F(SimVenueTest, AnAmendThatLowersTheQuantityKeepsThePlaceAndANewPriceLosesIt) {
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);
  const ClientOrderId id(next_id_);
  take_reports();
  feed(ev_.trade(Side::Sell, "99.99", "1"));  // 1 ahead now
  venue_->on_amend({id, VenueId("test-spot"), InstrumentId("ETH-USDT"), Price::unset(), qty("0.5"), 0},
                   ev_.t);
  EXPECT_EQ(only_report().exec_type, ExecType::Replaced);
  EXPECT_EQ(venue_->market(0).orders()[0].ahead, qty("1"));
  venue_->on_amend({id, VenueId("test-spot"), InstrumentId("ETH-USDT"), px("99.98"), Qty::unset(), 0}, ev_.t);
  EXPECT_EQ(only_report().exec_type, ExecType::Replaced);
  EXPECT_EQ(venue_->market(0).orders()[0].ahead, qty("3"));
  venue_->on_amend(
      {ClientOrderId(12345), VenueId("test-spot"), InstrumentId("ETH-USDT"), px("99.98"), Qty::unset(), 0},
      ev_.t);
  auto r = only_report();
  EXPECT_EQ(r.exec_type, ExecType::ReplaceRejected);
  EXPECT_EQ(r.reject_reason, RejectReason::UnknownOrder);
}

TEST_F(SimVenueTest, AClosedVenueCancelsRestingOrdersAndRejectsNewOnes) {
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);
  take_reports();
  venue_->set_state(VenueState::Closed, "its recorded data ended", ev_.t);
  auto r = only_report();
  EXPECT_EQ(r.exec_type, ExecType::Canceled);
  EXPECT_NE(r.text.view().find("recorded data ended"), std::string_view::npos);
  EXPECT_EQ(venue_->statuses().back().state, VenueState::Closed);
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);
  EXPECT_EQ(only_report().reject_reason, RejectReason::VenueClosed);
}

TEST_F(SimVenueTest, AHaltedVenueFillsNothing) {
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);
  take_reports();
  venue_->set_state(VenueState::Halted, "halt", ev_.t);
  feed(ev_.trade(Side::Sell, "99.90", "5"));
  EXPECT_TRUE(fills().empty());
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);
  EXPECT_EQ(only_report().reject_reason, RejectReason::VenueClosed);
}

TEST_F(SimVenueTest, ExactQueueFollowsTheOrdersAheadByTheirIds) {
  VenueConfig config = venue_config(QueueModel::Exact);
  venue_ = std::make_unique<SimVenue>(config, std::vector<Instrument>{eth()});
  venue_->set_state(VenueState::Open, "test", 0);
  auto l3 = [&](md::EventKind kind, std::uint64_t id, Side side, const char* price, const char* q) {
    md::Event e;
    e.kind = kind;
    e.recv_ns = ++ev_.t;
    e.order_id = id;
    e.side = side;
    e.price = px(price);
    e.qty = qty(q);
    venue_->on_market_event(0, e);
  };
  l3(md::EventKind::OrderAdd, 1, Side::Buy, "99.99", "1");
  l3(md::EventKind::OrderAdd, 2, Side::Buy, "99.99", "2");
  l3(md::EventKind::OrderAdd, 3, Side::Sell, "100.01", "1");
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);
  take_reports();
  EXPECT_EQ(venue_->market(0).orders()[0].ahead, qty("3"));
  l3(md::EventKind::OrderAdd, 4, Side::Buy, "99.99", "5");  // behind us
  l3(md::EventKind::OrderCancel, 2, Side::Buy, "99.99", "2");
  EXPECT_EQ(venue_->market(0).orders()[0].ahead, qty("1"));
  l3(md::EventKind::OrderFill, 1, Side::Buy, "99.99", "1");
  EXPECT_EQ(venue_->market(0).orders()[0].ahead, qty("0"));
  EXPECT_TRUE(fills().empty());
  // The next fill at our price goes to an order behind us: it would have met us first.
  l3(md::EventKind::OrderFill, 4, Side::Buy, "99.99", "0.4");
  auto f = fills();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].last_qty, qty("0.4"));
  // Our own order is not liquidity for the displayed book.
  EXPECT_EQ(venue_->market(0).displayed_at(Side::Buy, px("99.99")), qty("4.6"));
}

// Regression tests for defects found in review; each names the defect it pins.

TEST_F(SimVenueTest, ACashVenueWithoutAQuoteBalanceStillSettlesASale) {
  // Pins: a reference to the base balance dangled when settling created the quote balance.
  VenueConfig config = venue_config();
  config.balances.erase("USDT");
  make(config);
  venue_->on_new_order(order(Side::Sell, "1"), ev_.t);
  ASSERT_EQ(fills().size(), 1u);
  EXPECT_EQ(venue_->balance("ETH")->total, Amount::from_units(99));
  EXPECT_EQ(venue_->balance("USDT")->total, Amount::parse("99.940005").value());  // 99.99 less 5 bps
}

md::Event l3_event(EventBuilder& ev, md::EventKind kind, std::uint64_t id, Side side, const char* price,
                   const char* q) {
  md::Event e;
  e.kind = kind;
  e.recv_ns = ++ev.t;
  e.order_id = id;
  e.side = side;
  e.price = px(price);
  e.qty = qty(q);
  return e;
}

TEST_F(SimVenueTest, AnMboPrintIsCountedOnceThoughItComesAsATradeAndAFillRecord) {
  // Pins: the trade record and the fill record of one MBO print both moved our queue.
  venue_ = std::make_unique<SimVenue>(venue_config(QueueModel::RiskAverse), std::vector<Instrument>{eth()});
  venue_->market(0).set_l3_fills_change_book(false);
  venue_->set_state(VenueState::Open, "test", 0);
  venue_->on_market_event(0, l3_event(ev_, md::EventKind::OrderAdd, 1, Side::Buy, "100.00", "1"));
  venue_->on_new_order(order(Side::Buy, "1", "100.00"), ev_.t);
  take_reports();
  EXPECT_EQ(venue_->market(0).orders()[0].ahead, qty("1"));
  venue_->on_market_event(0, ev_.trade(Side::Sell, "100.00", "1").event);
  venue_->on_market_event(0, l3_event(ev_, md::EventKind::OrderFill, 1, Side::Buy, "100.00", "1"));
  EXPECT_TRUE(fills().empty()) << "the whole print went to the order ahead of us";
}

TEST_F(SimVenueTest, TheExactModelNeverFillsOurOrdersForMoreThanThePrint) {
  // Pins: each of our orders was filled for the whole print.
  venue_ = std::make_unique<SimVenue>(venue_config(QueueModel::Exact), std::vector<Instrument>{eth()});
  venue_->set_state(VenueState::Open, "test", 0);
  venue_->on_market_event(0, l3_event(ev_, md::EventKind::OrderAdd, 9, Side::Sell, "100.05", "1"));
  venue_->on_new_order(order(Side::Buy, "1", "100.00"), ev_.t);
  venue_->on_new_order(order(Side::Buy, "1", "100.00"), ev_.t);
  take_reports();
  venue_->on_market_event(0, l3_event(ev_, md::EventKind::OrderAdd, 3, Side::Buy, "100.00", "1"));
  venue_->on_market_event(0, l3_event(ev_, md::EventKind::OrderFill, 3, Side::Buy, "100.00", "1"));
  auto f = fills();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].last_qty, qty("1"));
  EXPECT_EQ(f[0].client_order_id, ClientOrderId(next_id_ - 1)) << "the earlier order is first in the queue";
}

TEST_F(SimVenueTest, TheExactModelReadsNoAggressorsOwnFillRecordAsAMakersFill) {
  // Pins (found measuring the queue models on CME MBO, docs/queue-models.md): CME reports a fill record for
  // the aggressor's own order too, at the trade's price. Read at the order's resting price, a bid resting
  // below ours that bought higher up looked like a sell through every bid down to it, and our bid was filled.
  venue_ = std::make_unique<SimVenue>(venue_config(QueueModel::Exact), std::vector<Instrument>{eth()});
  venue_->set_state(VenueState::Open, "test", 0);
  venue_->on_market_event(0, l3_event(ev_, md::EventKind::OrderAdd, 7, Side::Buy, "99.95", "3"));
  venue_->on_market_event(0, l3_event(ev_, md::EventKind::OrderAdd, 9, Side::Sell, "100.05", "1"));
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);
  take_reports();
  // One venue event: the trade names order 7 as its aggressor, then the maker's fill, then the aggressor's
  // own.
  md::Event trade = l3_event(ev_, md::EventKind::Trade, 7, Side::Buy, "100.05", "1");
  venue_->on_market_event(0, trade);
  venue_->on_market_event(0, l3_event(ev_, md::EventKind::OrderFill, 9, Side::Sell, "100.05", "1"));
  md::Event own = l3_event(ev_, md::EventKind::OrderFill, 7, Side::Buy, "100.05", "1");
  own.flags = md::kFlagLastInEvent;
  venue_->on_market_event(0, own);
  EXPECT_TRUE(fills().empty()) << "our bid was filled by the aggressor's own fill record";
  // A real sell through our bid, filling order 7 at its resting price, still reaches us first.
  venue_->on_market_event(0, l3_event(ev_, md::EventKind::OrderFill, 7, Side::Buy, "99.95", "1"));
  EXPECT_EQ(fills().size(), 1u);
}

TEST_F(SimVenueTest, TwoFillsOfOneOrderInOneEventAreBothSettledAndReported) {
  // Pins: the second fill was dropped once the first had removed the filled order. (The second fill is the
  // book crossing us with no print behind it: only the optimistic model makes it.)
  venue_ = std::make_unique<SimVenue>(venue_config(QueueModel::RiskAverse, 0.5, CrossFill::Full),
                                      std::vector<Instrument>{eth()});
  venue_->set_state(VenueState::Open, "test", 0);
  venue_->on_market_event(0, l3_event(ev_, md::EventKind::OrderAdd, 3, Side::Buy, "99.98", "1"));
  venue_->on_market_event(0, l3_event(ev_, md::EventKind::OrderAdd, 4, Side::Sell, "100.05", "1"));
  venue_->on_new_order(order(Side::Buy, "2", "99.99"), ev_.t);
  take_reports();
  venue_->set_state(VenueState::Halted, "halt", ev_.t);
  venue_->on_market_event(0, l3_event(ev_, md::EventKind::OrderAdd, 5, Side::Sell, "99.99", "1.5"));
  venue_->set_state(VenueState::Open, "resume", ev_.t);
  // A print through our price (0.5), then the book still crossing us (1.5): one event, two fills.
  venue_->on_market_event(0, l3_event(ev_, md::EventKind::OrderFill, 3, Side::Buy, "99.98", "0.5"));
  auto f = fills();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].last_qty, qty("0.5"));
  EXPECT_EQ(f[0].cum_qty, qty("0.5"));
  EXPECT_EQ(f[0].status, OrderStatus::PartiallyFilled);
  EXPECT_EQ(f[1].last_qty, qty("1.5"));
  EXPECT_EQ(f[1].cum_qty, qty("2"));
  EXPECT_EQ(f[1].status, OrderStatus::Filled);
  EXPECT_EQ(venue_->balance("ETH")->total, Amount::from_units(102));
  EXPECT_TRUE(venue_->market(0).orders().empty());
}

TEST_F(SimVenueTest, ProportionalCancelsNeverLetALaterOrderOfOursOvertakeAnEarlierOne) {
  // Pins: the cap at the recorded level erased our own earlier orders from the queue ahead.
  make(venue_config(QueueModel::Proportional));
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);
  venue_->on_new_order(order(Side::Buy, "1", "99.99"), ev_.t);
  take_reports();
  feed(ev_.delta({{px("99.99"), qty("1")}}, {}));  // 1 of the 2 recorded ahead cancelled
  EXPECT_EQ(venue_->market(0).orders()[0].ahead, qty("1"));
  EXPECT_EQ(venue_->market(0).orders()[1].ahead, qty("2"));
  feed(ev_.trade(Side::Sell, "99.99", "2"));
  auto f = fills();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].client_order_id, ClientOrderId(next_id_ - 1));
}

}  // namespace
}  // namespace tranche::sim
