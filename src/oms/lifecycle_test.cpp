// The child-order lifecycle: one test per row of the table, driven through the OMS with real records, and
// the pairs outside the table reported as invalid transitions.
#include "oms/lifecycle.hpp"

#include <gtest/gtest.h>

#include "oms/oms_test_support.hpp"

namespace tranche::oms {
namespace {

using testing::Feeder;
using testing::q;

// Brings a fresh child to `state` with ordinary records; returns the order as sent.
NewOrder bring_to(Oms& oms, Feeder& feeder, OrderStatus state) {
  const ParentId parent = feeder.parent("10");
  NewOrder o = feeder.child(parent, "2");
  EXPECT_TRUE(feeder.feed(o).ok());
  auto report = [&](ExecType t, const char* qty = "0") {
    EXPECT_TRUE(feeder.feed(feeder.report(o, t, qty)).ok());
  };
  switch (state) {
    case OrderStatus::PendingNew:
      break;
    case OrderStatus::New:
      report(ExecType::New);
      break;
    case OrderStatus::PartiallyFilled:
      report(ExecType::New);
      report(ExecType::Trade, "0.5");
      break;
    case OrderStatus::Filled:
      report(ExecType::New);
      report(ExecType::Trade, "2");
      break;
    case OrderStatus::PendingCancel:
      report(ExecType::New);
      EXPECT_TRUE(feeder.feed(CancelOrder{o.client_order_id, o.venue, o.instrument, 0}).ok());
      break;
    case OrderStatus::Canceled:
      report(ExecType::New);
      EXPECT_TRUE(feeder.feed(CancelOrder{o.client_order_id, o.venue, o.instrument, 0}).ok());
      report(ExecType::Canceled);
      break;
    case OrderStatus::PendingReplace:
      report(ExecType::New);
      EXPECT_TRUE(
          feeder.feed(AmendOrder{o.client_order_id, o.venue, o.instrument, testing::p("99"), Qty::unset(), 0})
              .ok());
      break;
    case OrderStatus::Rejected:
      report(ExecType::Rejected);
      break;
    case OrderStatus::Expired:
      report(ExecType::New);
      report(ExecType::Expired);
      break;
    case OrderStatus::Replaced:
      ADD_FAILURE() << "Replaced is not a resting state";
      break;
  }
  EXPECT_EQ(oms.child(o.client_order_id)->status, state);
  return o;
}

// The record that carries `event` for the order.
RecordBody event_record(Feeder& feeder, const NewOrder& o, const ChildOrder& now, ChildEvent event) {
  switch (event) {
    case ChildEvent::Ack:
      return feeder.report(o, ExecType::New);
    case ChildEvent::PartialFill:
      return feeder.report(o, ExecType::Trade, "0.25");
    case ChildEvent::FullFill: {
      const std::string rest = now.leaves_qty().to_string();
      return feeder.report(o, ExecType::Trade, rest.c_str());
    }
    case ChildEvent::CancelRequest:
      return CancelOrder{o.client_order_id, o.venue, o.instrument, 0};
    case ChildEvent::Canceled:
      return feeder.report(o, ExecType::Canceled);
    case ChildEvent::ReplaceRequest:
      return AmendOrder{o.client_order_id, o.venue, o.instrument, testing::p("98"), Qty::unset(), 0};
    case ChildEvent::Replaced: {
      ExecutionReport r = feeder.report(o, ExecType::Replaced);
      r.order_price = testing::p("99");
      return r;
    }
    case ChildEvent::Rejected:
      return feeder.report(o, ExecType::Rejected);
    case ChildEvent::Expired:
      return feeder.report(o, ExecType::Expired);
    case ChildEvent::CancelRejected:
      return feeder.report(o, ExecType::CancelRejected);
    case ChildEvent::ReplaceRejected:
      return feeder.report(o, ExecType::ReplaceRejected);
  }
  return RecoveryNote{};
}

class LifecycleRowTest : public ::testing::TestWithParam<LifecycleRow> {};

TEST_P(LifecycleRowTest, TheOmsFollowsTheRow) {
  const LifecycleRow row = GetParam();
  Oms oms(testing::two_venue_config());
  std::string breach;
  oms.set_invariant_handler([&](const std::string& context) { breach = context; });
  Feeder feeder(oms);
  const NewOrder o = bring_to(oms, feeder, row.state);
  const std::size_t anomalies = oms.anomalies().size();
  const std::size_t oddities = oms.oddities().size();
  ASSERT_TRUE(feeder.feed(event_record(feeder, o, *oms.child(o.client_order_id), row.event)).ok());
  const ChildOrder& c = *oms.child(o.client_order_id);
  const OrderStatus expected = row.to_open ? (c.cum_qty.is_positive() ? OrderStatus::PartiallyFilled
                                              : c.venue_has_it        ? OrderStatus::New
                                                                      : OrderStatus::PendingNew)
                                           : row.next;
  EXPECT_EQ(c.status, expected);
  EXPECT_EQ(oms.anomalies().size(), anomalies) << oms.anomalies().back().text;
  EXPECT_EQ(oms.oddities().size(), oddities + (row.oddity.empty() ? 0 : 1));
  EXPECT_TRUE(breach.empty()) << breach;
  EXPECT_TRUE(oms.verify().ok()) << oms.verify().message();
}

std::string row_name(const ::testing::TestParamInfo<LifecycleRow>& info) {
  std::string name =
      std::string(to_string(info.param.state)) + "_on_" + std::string(to_string(info.param.event));
  for (char& ch : name)
    if (ch == ' ') ch = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(EveryRow, LifecycleRowTest,
                         ::testing::ValuesIn(lifecycle_table().begin(), lifecycle_table().end()), row_name);

TEST(Lifecycle, APairOutsideTheTableIsAnInvalidTransitionAndChangesNothing) {
  Oms oms(testing::two_venue_config());
  Feeder feeder(oms);
  const NewOrder o = bring_to(oms, feeder, OrderStatus::Rejected);
  ASSERT_TRUE(feeder.feed(feeder.report(o, ExecType::New)).ok());
  EXPECT_EQ(oms.child(o.client_order_id)->status, OrderStatus::Rejected);
  ASSERT_EQ(oms.anomalies().size(), 1u);
  EXPECT_EQ(oms.anomalies()[0].kind, "invalid_transition");
  EXPECT_EQ(oms.anomalies()[0].text, "ack in state rejected");
}

// Regression: a cancel that overtook its order at the venue was refused ("unknown order"), which put the
// child back to New though the venue had never acknowledged it; the order's own reject that followed (a
// post-only that would have taken) was then an invalid transition, and the child stayed open for ever,
// holding its parent's quantity in flight (a seek parent on the USD-M scenario expired with 72% never
// worked).
TEST(Lifecycle, ARefusedCancelThatOvertookItsOrderLeavesItPendingNewSoItsRejectEndsIt) {
  Oms oms(testing::two_venue_config());
  Feeder feeder(oms);
  const NewOrder o = bring_to(oms, feeder, OrderStatus::PendingNew);
  ASSERT_TRUE(feeder.feed(CancelOrder{o.client_order_id, o.venue, o.instrument, 0}).ok());
  ASSERT_TRUE(feeder.feed(feeder.report(o, ExecType::CancelRejected)).ok());
  EXPECT_EQ(oms.child(o.client_order_id)->status, OrderStatus::PendingNew);
  ASSERT_TRUE(feeder.feed(feeder.report(o, ExecType::Rejected)).ok());
  EXPECT_EQ(oms.child(o.client_order_id)->status, OrderStatus::Rejected);
  EXPECT_TRUE(oms.anomalies().empty()) << oms.anomalies().front().text;
  EXPECT_FALSE(oms.child(o.client_order_id)->open());
  EXPECT_TRUE(oms.verify().ok()) << oms.verify().message();
}

TEST(Lifecycle, ADuplicateExecutionIsRecognisedByItsIdAndCountedOnce) {
  Oms oms(testing::two_venue_config());
  Feeder feeder(oms);
  const NewOrder o = bring_to(oms, feeder, OrderStatus::New);
  const ExecutionReport fill = feeder.report(o, ExecType::Trade, "0.5");
  ASSERT_TRUE(feeder.feed(fill).ok());
  ASSERT_TRUE(feeder.feed(fill).ok());
  EXPECT_EQ(oms.child(o.client_order_id)->cum_qty, q("0.5"));
  EXPECT_EQ(oms.parent(o.parent_id)->executed, q("0.5"));
  ASSERT_EQ(oms.anomalies().size(), 1u);
  EXPECT_EQ(oms.anomalies()[0].kind, "duplicate_execution");
}

TEST(Lifecycle, AFillAfterTheCancelWasAcknowledgedStillCounts) {
  Oms oms(testing::two_venue_config());
  Feeder feeder(oms);
  const NewOrder o = bring_to(oms, feeder, OrderStatus::Canceled);
  ASSERT_TRUE(feeder.feed(feeder.report(o, ExecType::Trade, "1")).ok());
  EXPECT_EQ(oms.child(o.client_order_id)->status, OrderStatus::Canceled);
  EXPECT_EQ(oms.parent(o.parent_id)->executed, q("1"));
  EXPECT_EQ(oms.position(AccountId("acct"), InstrumentId("ETH-USDT"))->qty, q("1"));
  EXPECT_EQ(oms.in_flight(o.parent_id), Qty{});
}

}  // namespace
}  // namespace tranche::oms
