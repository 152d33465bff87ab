// The OMS projection: parents and children, in-flight accounting, positions and P&L, invariants, queries.
#include "oms/oms.hpp"

#include <gtest/gtest.h>

#include "oms/oms_test_support.hpp"

namespace tranche::oms {
namespace {

using testing::Feeder;
using testing::p;
using testing::q;

class OmsTest : public ::testing::Test {
 protected:
  OmsTest() : oms_(testing::two_venue_config()), feeder_(oms_) {
    oms_.set_invariant_handler([this](const std::string& context) { breaches_.push_back(context); });
  }
  Oms oms_;
  Feeder feeder_;
  std::vector<std::string> breaches_;
};

TEST_F(OmsTest, AChildNotYetAcknowledgedCountsAsInFlightAgainstItsParent) {
  const ParentId parent = feeder_.parent("10");
  const NewOrder first = feeder_.child(parent, "6");
  ASSERT_TRUE(feeder_.feed(first).ok());
  EXPECT_EQ(oms_.in_flight(parent), q("6"));
  // Another 5 would make 11 of 10, though nothing has been acknowledged yet.
  const NewOrder second = feeder_.child(parent, "5");
  EXPECT_FALSE(oms_.can_send(second).ok());
  EXPECT_NE(oms_.can_send(second).message().find("4 left of 10"), std::string::npos)
      << oms_.can_send(second).message();
  EXPECT_FALSE(feeder_.feed(second).ok());
  EXPECT_TRUE(breaches_.empty());
}

TEST_F(OmsTest, ChildrenLostFromTheParentAfterACancelAreNotForgotten) {
  // A partial fill, then a cancel: the parent keeps what executed and frees only the rest.
  const ParentId parent = feeder_.parent("10");
  const NewOrder o = feeder_.child(parent, "4");
  ASSERT_TRUE(feeder_.feed(o).ok());
  ASSERT_TRUE(feeder_.feed(feeder_.report(o, ExecType::New)).ok());
  ASSERT_TRUE(feeder_.feed(feeder_.report(o, ExecType::Trade, "1.5", "100")).ok());
  ASSERT_TRUE(feeder_.feed(CancelOrder{o.client_order_id, o.venue, o.instrument, 0}).ok());
  EXPECT_EQ(oms_.in_flight(parent), q("2.5"));  // still in flight until the venue confirms
  ASSERT_TRUE(feeder_.feed(feeder_.report(o, ExecType::Canceled)).ok());
  EXPECT_EQ(oms_.in_flight(parent), Qty{});
  EXPECT_EQ(oms_.parent(parent)->executed, q("1.5"));
  EXPECT_TRUE(oms_.can_send(feeder_.child(parent, "8.5")).ok());
  EXPECT_FALSE(oms_.can_send(feeder_.child(parent, "8.6")).ok());
}

TEST_F(OmsTest, APartialFillReachesThePositionAndItsAveragePrice) {
  const ParentId parent = feeder_.parent("10");
  const NewOrder o = feeder_.child(parent, "4");
  ASSERT_TRUE(feeder_.feed(o).ok());
  ASSERT_TRUE(feeder_.feed(feeder_.report(o, ExecType::Trade, "1", "100")).ok());
  ASSERT_TRUE(feeder_.feed(feeder_.report(o, ExecType::Trade, "3", "102")).ok());
  const Position& pos = *oms_.position(AccountId("acct"), InstrumentId("ETH-USDT"));
  EXPECT_EQ(pos.qty, q("4"));
  EXPECT_EQ(pos.average_entry(), p("101.5"));
  EXPECT_EQ(pos.fees.at("USDT"), Amount::parse("0.02").value());
  EXPECT_DOUBLE_EQ(pos.unrealized_pnl(p("103")), 6.0);
  EXPECT_EQ(oms_.parent(parent)->average_price(), p("101.5"));
  EXPECT_EQ(oms_.child(o.client_order_id)->status, OrderStatus::Filled);
}

TEST_F(OmsTest, FillsTheVenueMadeUnseenAreBookedFromItsStatusAtTheAverageItGives) {
  // 1 heard of at 100; the venue's status later says 4 executed at an average of 101.5: the 3 unseen are one
  // fill at 102, so the venue's average holds and the parent counts them.
  const ParentId parent = feeder_.parent("10");
  const NewOrder o = feeder_.child(parent, "4");
  ASSERT_TRUE(feeder_.feed(o).ok());
  ASSERT_TRUE(feeder_.feed(feeder_.report(o, ExecType::New)).ok());
  ASSERT_TRUE(feeder_.feed(feeder_.report(o, ExecType::Trade, "1", "100")).ok());
  ExecutionReport status = feeder_.report(o, ExecType::OrderStatus);
  status.status = OrderStatus::Filled;
  status.cum_qty = q("4");
  status.last_price = p("101.5");
  ASSERT_TRUE(feeder_.feed(status).ok());
  EXPECT_EQ(oms_.child(o.client_order_id)->cum_qty, q("4"));
  EXPECT_EQ(oms_.child(o.client_order_id)->status, OrderStatus::Filled);
  EXPECT_EQ(oms_.parent(parent)->executed, q("4"));
  EXPECT_EQ(oms_.parent(parent)->average_price(), p("101.5"));
  ASSERT_EQ(oms_.fills().size(), 2u);
  EXPECT_EQ(oms_.fills().back().price, p("102"));
  EXPECT_TRUE(oms_.anomalies().empty());
  // The same status again books nothing more.
  ASSERT_TRUE(feeder_.feed(status).ok());
  EXPECT_EQ(oms_.parent(parent)->executed, q("4"));
  // Without an average price nothing is invented: the gap is an anomaly.
  const NewOrder other = feeder_.child(parent, "2");
  ASSERT_TRUE(feeder_.feed(other).ok());
  ASSERT_TRUE(feeder_.feed(feeder_.report(other, ExecType::New)).ok());
  ExecutionReport unpriced = feeder_.report(other, ExecType::OrderStatus);
  unpriced.cum_qty = q("1");
  unpriced.status = OrderStatus::PartiallyFilled;
  ASSERT_TRUE(feeder_.feed(unpriced).ok());
  EXPECT_EQ(oms_.child(other.client_order_id)->cum_qty, q("0"));
  ASSERT_EQ(oms_.anomalies().size(), 1u);
  EXPECT_EQ(oms_.anomalies()[0].kind, "unseen_fills");
}

// Regression (sequence numbers kept across a restart): after a reconnect the venue's status booked the fills
// we had missed, then the venue resent their own reports (PossDup, answering our ResendRequest). Counting
// them again would double the fills, or overfill the child.
TEST_F(OmsTest, FillsResentAfterAStatusBookedThemAreNotCountedTwice) {
  const ParentId parent = feeder_.parent("10");
  const NewOrder o = feeder_.child(parent, "4");
  ASSERT_TRUE(feeder_.feed(o).ok());
  ASSERT_TRUE(feeder_.feed(feeder_.report(o, ExecType::New)).ok());
  ExecutionReport status = feeder_.report(o, ExecType::OrderStatus);
  status.status = OrderStatus::PartiallyFilled;
  status.cum_qty = q("3");
  status.last_price = p("101");
  ASSERT_TRUE(feeder_.feed(status).ok());
  ASSERT_EQ(oms_.child(o.client_order_id)->cum_qty, q("3"));
  for (const auto& [qty, cum] : {std::pair{"1", "1"}, std::pair{"2", "3"}}) {
    ExecutionReport resent = feeder_.report(o, ExecType::Trade, qty, "101");
    resent.cum_qty = q(cum);
    ASSERT_TRUE(feeder_.feed(resent).ok());
  }
  EXPECT_EQ(oms_.child(o.client_order_id)->cum_qty, q("3"));
  EXPECT_EQ(oms_.parent(parent)->executed, q("3"));
  ASSERT_EQ(oms_.anomalies().size(), 2u);
  EXPECT_EQ(oms_.anomalies()[0].kind, "counted_by_status");
  // A fill beyond what the status covered is new and counts.
  ExecutionReport next = feeder_.report(o, ExecType::Trade, "1", "102");
  next.cum_qty = q("4");
  ASSERT_TRUE(feeder_.feed(next).ok());
  EXPECT_EQ(oms_.parent(parent)->executed, q("4"));
  EXPECT_TRUE(breaches_.empty());
}

TEST_F(OmsTest, SellingBackRealizesPnLAgainstTheAverageEntry) {
  const ParentId buy = feeder_.parent("4");
  const NewOrder b = feeder_.child(buy, "4");
  ASSERT_TRUE(feeder_.feed(b).ok());
  ASSERT_TRUE(feeder_.feed(feeder_.report(b, ExecType::Trade, "4", "100")).ok());
  const ParentId sell = feeder_.parent("6", Side::Sell);
  const NewOrder s = feeder_.child(sell, "6", "110", "spot", Side::Sell);
  ASSERT_TRUE(feeder_.feed(s).ok());
  ASSERT_TRUE(feeder_.feed(feeder_.report(s, ExecType::Trade, "6", "110")).ok());
  const Position& pos = *oms_.position(AccountId("acct"), InstrumentId("ETH-USDT"));
  EXPECT_EQ(pos.qty, q("-2"));
  EXPECT_DOUBLE_EQ(pos.realized_pnl.to_double(), 40.0);  // 4 x (110 - 100)
  EXPECT_EQ(pos.average_entry(), p("110"));
  EXPECT_TRUE(oms_.verify().ok()) << oms_.verify().message();
}

TEST_F(OmsTest, AnInverseChildCountsAgainstItsParentAtItsLimitPrice) {
  const ParentId parent = feeder_.parent("1");
  // 25 contracts of 10 USD at 250 = 1 ETH.
  const NewOrder o = feeder_.child(parent, "25", "250", "coinm");
  ASSERT_TRUE(oms_.can_send(o).ok()) << oms_.can_send(o).message();
  ASSERT_TRUE(feeder_.feed(o).ok());
  EXPECT_EQ(oms_.in_flight(parent), q("1"));
  EXPECT_FALSE(oms_.can_send(feeder_.child(parent, "1", "250", "coinm")).ok());
  // Filled better (at 200): the position holds what 25 contracts are worth there, 1.25 ETH; the parent
  // counts 1.
  ASSERT_TRUE(feeder_.feed(feeder_.report(o, ExecType::Trade, "25", "200")).ok());
  EXPECT_EQ(oms_.parent(parent)->executed, q("1"));
  EXPECT_EQ(oms_.position(AccountId("acct"), InstrumentId("ETH-USDT"))->qty, q("1.25"));
  // A market child on an inverse listing has no price to count at.
  NewOrder market = feeder_.child(parent, "1", "250", "coinm");
  market.price = Price::unset();
  market.type = OrderType::Market;
  EXPECT_FALSE(oms_.can_send(market).ok());
}

TEST_F(OmsTest, AnOverfillStopsTheOmsWithItsContext) {
  const ParentId parent = feeder_.parent("10");
  const NewOrder o = feeder_.child(parent, "2");
  ASSERT_TRUE(feeder_.feed(o).ok());
  ASSERT_TRUE(feeder_.feed(feeder_.report(o, ExecType::Trade, "2")).ok());
  ASSERT_TRUE(feeder_.feed(feeder_.report(o, ExecType::Trade, "0.5")).ok());
  ASSERT_EQ(breaches_.size(), 1u);
  EXPECT_NE(breaches_[0].find("overfill"), std::string::npos) << breaches_[0];
  EXPECT_EQ(oms_.child(o.client_order_id)->cum_qty, q("2"));
}

TEST_F(OmsTest, TheDefaultInvariantHandlerStopsTheProcessLoudly) {
  EXPECT_DEATH(
      {
        Oms oms(testing::two_venue_config());
        Feeder feeder(oms);
        const ParentId parent = feeder.parent("1");
        const NewOrder o = feeder.child(parent, "1");
        (void)feeder.feed(o);
        (void)feeder.feed(feeder.report(o, ExecType::Trade, "1"));
        (void)feeder.feed(feeder.report(o, ExecType::Trade, "1"));
      },
      "OMS invariant broken, stopping: .*overfill");
}

TEST_F(OmsTest, ClientOrderIdsAreNeverReused) {
  const ParentId parent = feeder_.parent("10");
  const NewOrder o = feeder_.child(parent, "1");
  ASSERT_TRUE(feeder_.feed(o).ok());
  EXPECT_EQ(oms_.next_client_order_id(), o.client_order_id.value() + 1);
  NewOrder again = feeder_.child(parent, "1");
  again.client_order_id = o.client_order_id;
  EXPECT_FALSE(oms_.can_send(again).ok());
}

TEST_F(OmsTest, AReportForAnOrderNeverSentIsKeptAsAnAnomaly) {
  const ParentId parent = feeder_.parent("10");
  NewOrder ghost = feeder_.child(parent, "1");
  ASSERT_TRUE(feeder_.feed(feeder_.report(ghost, ExecType::Trade, "1")).ok());
  ASSERT_EQ(oms_.anomalies().size(), 1u);
  EXPECT_EQ(oms_.anomalies()[0].kind, "unknown_order");
  EXPECT_EQ(oms_.parent(parent)->executed, Qty{});
}

TEST_F(OmsTest, QueriesFindOrdersByParentStateAndVenueWithTheirHistory) {
  const ParentId parent = feeder_.parent("10");
  const NewOrder a = feeder_.child(parent, "1");
  const NewOrder b = feeder_.child(parent, "25", "250", "coinm");
  ASSERT_TRUE(feeder_.feed(a).ok());
  ASSERT_TRUE(feeder_.feed(b).ok());
  ASSERT_TRUE(feeder_.feed(feeder_.report(a, ExecType::New)).ok());
  ASSERT_TRUE(feeder_.feed(feeder_.report(a, ExecType::Trade, "1")).ok());
  EXPECT_EQ(oms_.children_of(parent).size(), 2u);
  EXPECT_EQ(oms_.children_in(OrderStatus::Filled).size(), 1u);
  EXPECT_EQ(oms_.children_on(VenueId("coinm")).size(), 1u);
  EXPECT_EQ(oms_.open_children().size(), 1u);
  EXPECT_EQ(oms_.history(a.client_order_id).size(), 3u);
  EXPECT_EQ(oms_.fills_of(a.client_order_id).size(), 1u);
}

TEST_F(OmsTest, WhatACancelAckSaysExecutedStaysInFlightUntilItsFillArrives) {
  // Found by the property test: the cancel's ack overtook a fill, the room looked free, a new child took it,
  // and the late fill overfilled the parent.
  const ParentId parent = feeder_.parent("3");
  const NewOrder o = feeder_.child(parent, "3");
  ASSERT_TRUE(feeder_.feed(o).ok());
  ASSERT_TRUE(feeder_.feed(CancelOrder{o.client_order_id, o.venue, o.instrument, 0}).ok());
  ExecutionReport canceled = feeder_.report(o, ExecType::Canceled);
  canceled.cum_qty = q("1");  // the venue executed 1 before canceling
  ASSERT_TRUE(feeder_.feed(canceled).ok());
  EXPECT_EQ(oms_.in_flight(parent), q("1"));
  EXPECT_FALSE(oms_.can_send(feeder_.child(parent, "3")).ok());
  EXPECT_TRUE(oms_.can_send(feeder_.child(parent, "2")).ok());
  ASSERT_TRUE(feeder_.feed(feeder_.report(o, ExecType::Trade, "1")).ok());
  EXPECT_EQ(oms_.in_flight(parent), Qty{});
  EXPECT_EQ(oms_.parent(parent)->executed, q("1"));
  EXPECT_TRUE(breaches_.empty());
}

TEST_F(OmsTest, AParentCannotShrinkBelowWhatItExecutedAndHasInFlight) {
  const ParentId parent = feeder_.parent("10");
  const NewOrder o = feeder_.child(parent, "6");
  ASSERT_TRUE(feeder_.feed(o).ok());
  EXPECT_FALSE(feeder_.feed(ParentAmend{parent, q("5"), Price::unset(), 0}).ok());
  EXPECT_TRUE(feeder_.feed(ParentAmend{parent, q("6"), Price::unset(), 0}).ok());
  EXPECT_EQ(oms_.parent(parent)->order.qty, q("6"));
}

}  // namespace
}  // namespace tranche::oms

namespace tranche::oms {
namespace {

// The defect the fuzzer found (fuzz/corpus/journal/crash-fee-overflow): a journal whose fill carried a fee
// near the 64-bit limit overflowed the fee sums. The fill is booked without it, and said.
TEST(OmsFees, AFeeBeyondAnyRealOneIsNotCountedAndTheFillIsStillBooked) {
  Oms oms(testing::two_venue_config());
  std::vector<std::string> breaches;
  oms.set_invariant_handler([&](const std::string& context) { breaches.push_back(context); });
  Feeder feeder(oms);
  const ParentId parent = feeder.parent("10");
  const NewOrder o = feeder.child(parent, "4");
  ASSERT_TRUE(feeder.feed(o).ok());
  ExecutionReport first = feeder.report(o, ExecType::Trade, "1", "100");
  first.fee.amount = Qty::from_raw(9'223'372'036'854'775'772);
  ASSERT_TRUE(feeder.feed(first).ok());
  ASSERT_TRUE(feeder.feed(feeder.report(o, ExecType::Trade, "1", "100")).ok());
  EXPECT_EQ(oms.parent(parent)->executed, q("2"));
  EXPECT_EQ(oms.parent(parent)->fees.at("USDT"), Amount::parse("0.01").value());
  ASSERT_EQ(oms.anomalies_total(), 1u);
  EXPECT_EQ(oms.anomalies().back().kind, "malformed_fee");
  EXPECT_TRUE(oms.verify().ok()) << oms.verify().message();
  EXPECT_TRUE(breaches.empty());
}

// The defect the journal fuzzer found (fuzz/corpus/journal/crash-inverse-fill-at-zero): an inverse child's
// fill at a price of 0 divided by zero converting contracts to base. A fill needs a positive price.
TEST(OmsFees, AFillAtAPriceOfZeroIsAMalformedExecutionNotADivisionByZero) {
  Oms oms(testing::two_venue_config());
  Feeder feeder(oms);
  const ParentId parent = feeder.parent("10");
  const NewOrder o = feeder.child(parent, "2", "2000", "coinm");
  ASSERT_TRUE(feeder.feed(o).ok());
  ExecutionReport zero = feeder.report(o, ExecType::Trade, "1", "100");
  zero.last_price = Price::from_raw(0);
  ASSERT_TRUE(feeder.feed(zero).ok());
  ExecutionReport negative = feeder.report(o, ExecType::Trade, "1", "100");
  negative.last_price = Price::from_raw(-5);
  ASSERT_TRUE(feeder.feed(negative).ok());
  EXPECT_EQ(oms.parent(parent)->executed, Qty{});
  EXPECT_EQ(oms.anomalies_total(), 2u);
  EXPECT_EQ(oms.anomalies().back().kind, "malformed_execution");
}

}  // namespace
}  // namespace tranche::oms
