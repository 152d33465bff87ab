#include "gateway/binance_orders.hpp"

#include <gtest/gtest.h>

#include "gateway/rate_limits.hpp"

namespace tranche::gateway::binance {
namespace {

VenueConfig spot() {
  VenueConfig v;
  v.id = VenueId("binance-spot");
  v.exchange = "binance";
  v.market = "spot";
  VenueListing l;
  l.instrument = InstrumentId("ETH-USDT");
  l.symbol = "ETHUSDT";
  l.tick_size = Price::parse("0.01").value();
  l.lot_size = Qty::parse("0.0001").value();
  v.listings.push_back(l);
  return v;
}

Qty q(const char* text) {
  return Qty::parse(text).value();
}
Price p(const char* text) {
  return Price::parse(text).value();
}

class Tracker : public ::testing::Test {
 protected:
  Tracker() : venue_(spot()), tracker_(venue_, "tr") {
    order_.client_order_id = ClientOrderId(17);
    order_.venue = venue_.id;
    order_.instrument = InstrumentId("ETH-USDT");
    order_.side = Side::Buy;
    order_.price = p("2000");
    order_.qty = q("1");
    id_ = tracker_.on_new(order_);
  }
  OrderFacts facts(OrderStatus status, const char* executed, std::optional<TradeFact> trade = std::nullopt) {
    OrderFacts f;
    f.client_order_id = id_;
    f.order_id = 555;
    f.status = status;
    f.executed = q(executed);
    f.trade = trade;
    return f;
  }
  static TradeFact trade(std::int64_t id, const char* qty) {
    return TradeFact{id, q(qty), p("2000"), q("0.001"), "ETH", true};
  }
  VenueConfig venue_;
  OrderTracker tracker_;
  NewOrder order_;
  std::string id_;
  std::vector<ExecutionReport> out_;
};

TEST_F(Tracker, NamesTheOrderAfterTheChild) {
  EXPECT_EQ(id_, "tr-17");
}

TEST_F(Tracker, AnAcknowledgementIsToldOnceWhicheverWayItCame) {
  tracker_.apply(facts(OrderStatus::New, "0"), out_);
  tracker_.apply(facts(OrderStatus::New, "0"), out_);
  ASSERT_EQ(out_.size(), 1u);
  EXPECT_EQ(out_[0].exec_type, ExecType::New);
  EXPECT_EQ(out_[0].venue_order_id.view(), "555");
}

TEST_F(Tracker, ARepeatedTradeIdCountsOnce) {
  EXPECT_FALSE(tracker_.apply(facts(OrderStatus::PartiallyFilled, "0.4", trade(9, "0.4")), out_).repeated);
  EXPECT_TRUE(tracker_.apply(facts(OrderStatus::PartiallyFilled, "0.4", trade(9, "0.4")), out_).repeated);
  ASSERT_EQ(out_.size(), 2u);  // the acknowledgement, then one fill
  EXPECT_EQ(out_[1].exec_type, ExecType::Trade);
  EXPECT_EQ(out_[1].exec_id.view(), "ETHUSDT-9");
  EXPECT_EQ(out_[1].cum_qty, q("0.4"));
  EXPECT_EQ(out_[1].leaves_qty, q("0.6"));
  EXPECT_EQ(out_[1].liquidity, Liquidity::Maker);
  EXPECT_EQ(out_[1].fee.asset.view(), "ETH");
}

TEST_F(Tracker, ACancelThatOvertakesItsFillWaitsForTheFill) {
  tracker_.apply(facts(OrderStatus::New, "0"), out_);
  // The cancel's answer says 0.3 executed, but the trade has not been heard yet.
  const Applied waiting = tracker_.apply(facts(OrderStatus::Canceled, "0.3"), out_);
  EXPECT_TRUE(waiting.needs_trades);
  EXPECT_EQ(waiting.order_id, 555);
  ASSERT_EQ(out_.size(), 1u);
  tracker_.apply(facts(OrderStatus::Canceled, "0.3", trade(10, "0.3")), out_);
  ASSERT_EQ(out_.size(), 3u);
  EXPECT_EQ(out_[1].exec_type, ExecType::Trade);
  EXPECT_EQ(out_[2].exec_type, ExecType::Canceled);
  EXPECT_EQ(out_[2].cum_qty, q("0.3"));
  EXPECT_EQ(out_[2].leaves_qty, q("0"));
}

TEST_F(Tracker, ATradeThatWouldOverfillIsRefusedAndSaid) {
  tracker_.apply(facts(OrderStatus::PartiallyFilled, "0.8", trade(1, "0.8")), out_);
  const Applied a = tracker_.apply(facts(OrderStatus::Filled, "1.3", trade(2, "0.5")), out_);
  EXPECT_FALSE(a.problem.empty());
  for (const auto& r : out_) EXPECT_LE(r.cum_qty, q("1"));
}

// The defect the fuzzer found (fuzz/corpus/binance_orders/crash-trade-after-reject): a trade reported after
// the order's reject was told as a fill of an order that had ended, and the parent's room the reject gave
// back could be taken twice.
TEST_F(Tracker, ATradeAfterTheOrdersEndWasToldIsRefusedAndSaid) {
  tracker_.apply(facts(OrderStatus::Rejected, "0"), out_);
  ASSERT_EQ(out_.back().exec_type, ExecType::Rejected);
  const std::size_t told = out_.size();
  const Applied late = tracker_.apply(facts(OrderStatus::PartiallyFilled, "0.5", trade(9, "0.5")), out_);
  EXPECT_NE(late.problem.find("after its end"), std::string::npos) << late.problem;
  EXPECT_EQ(out_.size(), told) << "nothing told after the end";
}

TEST_F(Tracker, ATradeBeyondWhatTheCancelSaidExecutedIsRefused) {
  tracker_.apply(facts(OrderStatus::New, "0"), out_);
  tracker_.apply(facts(OrderStatus::Canceled, "0.3"), out_);
  tracker_.apply(facts(OrderStatus::PartiallyFilled, "0.3", trade(1, "0.3")), out_);
  ASSERT_EQ(out_.back().exec_type, ExecType::Canceled);
  const Applied late = tracker_.apply(facts(OrderStatus::PartiallyFilled, "0.5", trade(2, "0.2")), out_);
  EXPECT_FALSE(late.problem.empty());
  EXPECT_EQ(out_.back().exec_type, ExecType::Canceled);
  // The same trade told again is a repeat, not a problem.
  EXPECT_TRUE(tracker_.apply(facts(OrderStatus::PartiallyFilled, "0.3", trade(1, "0.3")), out_).repeated);
}

// The defect the fuzzer found (fuzz/corpus/binance_orders/crash-status-end-told-twice): a status answer that
// found the child by its orderId but named another clientOrderId said the child expired without ending it,
// and its real expiry was then told a second time.
TEST_F(Tracker, AStatusNamingAnotherOrderOfTheChildNeverTellsAnEndTheTrackerHasNot) {
  tracker_.apply(facts(OrderStatus::New, "0"), out_);
  OrderFacts other = facts(OrderStatus::Expired, "0");
  other.client_order_id = "tr-0";
  tracker_.status(other, out_);
  EXPECT_EQ(out_.back().exec_type, ExecType::OrderStatus);
  EXPECT_EQ(out_.back().status, OrderStatus::New);
  tracker_.apply(facts(OrderStatus::Expired, "0"), out_);
  EXPECT_EQ(out_.back().exec_type, ExecType::Expired);
  int ends = 0;
  for (const auto& r : out_) ends += r.status == OrderStatus::Expired ? 1 : 0;
  EXPECT_EQ(ends, 1);
}

// The defect the fuzzer found (fuzz/corpus/binance_orders/crash-stale-status-after-end): a status answer
// written before the order expired, arriving after its expiry was told, answered for it as open again.
TEST_F(Tracker, AStatusAnswerAfterTheEndAnswersForTheChildAsItEnded) {
  tracker_.apply(facts(OrderStatus::New, "0"), out_);
  tracker_.apply(facts(OrderStatus::Expired, "0"), out_);
  ASSERT_EQ(out_.back().exec_type, ExecType::Expired);
  tracker_.status(facts(OrderStatus::New, "0"), out_);
  EXPECT_EQ(out_.back().exec_type, ExecType::OrderStatus);
  EXPECT_EQ(out_.back().status, OrderStatus::Expired);
}

TEST_F(Tracker, AReportForAnOrderNotOursIsNotKnown) {
  OrderFacts other;
  other.client_order_id = "web_123";
  other.status = OrderStatus::New;
  other.executed = q("0");
  EXPECT_FALSE(tracker_.apply(other, out_).known);
  EXPECT_TRUE(out_.empty());
}

TEST_F(Tracker, ACancelReplaceIsOneReplacedWithTheNewOrderCarryingWhatIsLeft) {
  tracker_.apply(facts(OrderStatus::PartiallyFilled, "0.25", trade(1, "0.25")), out_);
  AmendOrder amend;
  amend.client_order_id = ClientOrderId(17);
  amend.instrument = order_.instrument;
  amend.new_price = p("2001");
  const auto replace = tracker_.on_amend(amend);
  ASSERT_TRUE(replace);
  EXPECT_EQ(replace->cancel_id, "tr-17");
  EXPECT_EQ(replace->new_id, "tr-17-r1");
  EXPECT_EQ(replace->new_order_qty, q("0.75"));
  out_.clear();
  tracker_.apply(facts(OrderStatus::Canceled, "0.25"), out_);  // the old order's end: not the child's
  EXPECT_TRUE(out_.empty());
  OrderFacts placed;
  placed.client_order_id = "tr-17-r1";
  placed.order_id = 556;
  placed.status = OrderStatus::New;
  placed.executed = q("0");
  tracker_.apply(placed, out_);
  ASSERT_EQ(out_.size(), 1u);
  EXPECT_EQ(out_[0].exec_type, ExecType::Replaced);
  EXPECT_EQ(out_[0].order_price, p("2001"));
  EXPECT_EQ(out_[0].order_qty, q("1"));
  EXPECT_EQ(out_[0].cum_qty, q("0.25"));
  EXPECT_EQ(tracker_.current_id(ClientOrderId(17)), "tr-17-r1");
  // The new order fills what is left: the child is filled.
  OrderFacts fill = placed;
  fill.status = OrderStatus::Filled;
  fill.executed = q("0.75");
  fill.trade = trade(2, "0.75");
  tracker_.apply(fill, out_);
  ASSERT_EQ(out_.size(), 2u);
  EXPECT_EQ(out_[1].status, OrderStatus::Filled);
  EXPECT_EQ(out_[1].cum_qty, q("1"));
  EXPECT_TRUE(tracker_.open_children().empty());
}

TEST_F(Tracker, AFuturesModifyKeepsTheIdsAndIsOneReplacedHoweverManyTimesTheVenueSaysIt) {
  tracker_.apply(facts(OrderStatus::PartiallyFilled, "0.25", trade(1, "0.25")), out_);
  AmendOrder amend;
  amend.client_order_id = ClientOrderId(17);
  amend.instrument = order_.instrument;
  amend.new_price = p("1999");
  amend.new_qty = q("0.8");
  const auto modify = tracker_.on_modify(amend);
  ASSERT_TRUE(modify);
  EXPECT_EQ(modify->id, "tr-17");
  EXPECT_EQ(modify->new_order_qty, q("0.8"));  // the order's new total: what it executed stays counted
  EXPECT_EQ(modify->price, p("1999"));
  EXPECT_FALSE(tracker_.on_modify(amend)) << "a second amend while one is pending";
  out_.clear();
  // The answer and the stream's AMENDMENT both say it: told once.
  EXPECT_TRUE(tracker_.modified(facts(OrderStatus::PartiallyFilled, "0.25"), out_));
  EXPECT_FALSE(tracker_.modified(facts(OrderStatus::PartiallyFilled, "0.25"), out_));
  ASSERT_EQ(out_.size(), 1u);
  EXPECT_EQ(out_[0].exec_type, ExecType::Replaced);
  EXPECT_EQ(out_[0].order_price, p("1999"));
  EXPECT_EQ(out_[0].order_qty, q("0.8"));
  EXPECT_EQ(out_[0].leaves_qty, q("0.55"));
  EXPECT_EQ(tracker_.current_id(ClientOrderId(17)), "tr-17");
  // The rest fills under the same ids: the child is filled at its new total, never past it.
  tracker_.apply(facts(OrderStatus::Filled, "0.8", trade(2, "0.55")), out_);
  ASSERT_EQ(out_.size(), 2u);
  EXPECT_EQ(out_[1].status, OrderStatus::Filled);
  EXPECT_EQ(out_[1].cum_qty, q("0.8"));
}

TEST_F(Tracker, AFuturesModifyBelowWhatIsFilledIsNeverSentAndARefusedOneFreesTheOrder) {
  tracker_.apply(facts(OrderStatus::PartiallyFilled, "0.5", trade(1, "0.5")), out_);
  AmendOrder amend;
  amend.client_order_id = ClientOrderId(17);
  amend.instrument = order_.instrument;
  amend.new_qty = q("0.5");
  EXPECT_FALSE(tracker_.on_modify(amend));
  amend.new_qty = q("0.6");
  ASSERT_TRUE(tracker_.on_modify(amend));
  out_.clear();
  tracker_.replace_refused(ClientOrderId(17), RejectReason::InvalidOrder, "No need to modify the order.",
                           out_);
  ASSERT_EQ(out_.size(), 1u);
  EXPECT_EQ(out_[0].exec_type, ExecType::ReplaceRejected);
  EXPECT_EQ(out_[0].order_qty, q("1"));
  EXPECT_FALSE(tracker_.modified(facts(OrderStatus::PartiallyFilled, "0.5"), out_));
  EXPECT_TRUE(tracker_.on_modify(amend)) << "the refused modify no longer blocks the next";
}

TEST_F(Tracker, AStatusIsToldOnlyOnceEveryTradeTheVenueCountedIsIn) {
  tracker_.apply(facts(OrderStatus::New, "0"), out_);
  out_.clear();
  const Applied a = tracker_.status(facts(OrderStatus::PartiallyFilled, "0.5"), out_);
  EXPECT_TRUE(a.needs_trades);
  EXPECT_TRUE(out_.empty());
  tracker_.apply(facts(OrderStatus::PartiallyFilled, "0.5", trade(3, "0.5")), out_);
  tracker_.status(facts(OrderStatus::PartiallyFilled, "0.5"), out_);
  ASSERT_EQ(out_.size(), 2u);
  EXPECT_EQ(out_[1].exec_type, ExecType::OrderStatus);
  EXPECT_EQ(out_[1].cum_qty, q("0.5"));
  EXPECT_EQ(out_[1].last_price, p("2000"));  // the average, as over FIX
}

TEST_F(Tracker, AnOrderTheVenueRefusedEndsRejectedWithItsReason) {
  tracker_.rejected(ClientOrderId(17), RejectReason::PostOnlyWouldCross,
                    "Order would immediately match and take.", out_);
  ASSERT_EQ(out_.size(), 1u);
  EXPECT_EQ(out_[0].exec_type, ExecType::Rejected);
  EXPECT_EQ(out_[0].reject_reason, RejectReason::PostOnlyWouldCross);
  EXPECT_TRUE(tracker_.open_children().empty());
}

TEST(RateLimitsTest, AWindowFullRefusesUntilItsBoundaryAndCountsNothingRefused) {
  RateLimits limits;
  limits.set_rules({*binance_rate_limit("REQUEST_WEIGHT", "MINUTE", 1, 10),
                    *binance_rate_limit("ORDERS", "SECOND", 10, 2)});
  const std::int64_t t = 1'699'999'980'000;  // a whole minute
  EXPECT_EQ(limits.admit(t, 4, true), 0);
  EXPECT_EQ(limits.admit(t + 1, 4, true), 0);
  EXPECT_GT(limits.admit(t + 2, 1, true), 0);   // a third order in 10 s
  EXPECT_EQ(limits.admit(t + 3, 2, false), 0);  // weight 10 of 10
  EXPECT_EQ(limits.admit(t + 4, 1, false), 60'000 - 4);
  EXPECT_EQ(limits.admit(t + 60'000, 1, false), 0);  // a new minute
}

TEST(RateLimitsTest, TheVenuesCountAndABanAreHeard) {
  RateLimits limits;
  limits.set_rules({*binance_rate_limit("REQUEST_WEIGHT", "MINUTE", 1, 100)});
  const std::int64_t t = 1'700'000'000'000;
  const auto header = binance_usage_header("x-mbx-used-weight-1m");
  ASSERT_TRUE(header);
  limits.sync(header->kind, header->interval_ms, 99, t);
  EXPECT_GT(limits.admit(t, 2, false), 0);
  EXPECT_NE(limits.describe_refusal(t, 2, false).find("100"), std::string::npos);
  limits.ban_until(t + 70'000);
  EXPECT_EQ(limits.admit(t + 65'000, 1, false), 5'000);
  EXPECT_FALSE(binance_usage_header("x-mbx-used-weight-"));
  EXPECT_FALSE(binance_usage_header("content-length"));
  EXPECT_FALSE(binance_rate_limit("REQUEST_WEIGHT", "FORTNIGHT", 1, 5));
}

}  // namespace
}  // namespace tranche::gateway::binance
