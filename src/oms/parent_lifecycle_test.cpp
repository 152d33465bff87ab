// The parent-order lifecycle: every row of the table, the final states that take no event, and the rows a
// trader relies on named one by one.
#include "oms/parent_lifecycle.hpp"

#include <gtest/gtest.h>

#include <set>

namespace tranche::oms {
namespace {

constexpr ParentEvent kEvents[] = {ParentEvent::CancelRequested,     ParentEvent::ExecutedInFull,
                                   ParentEvent::RemainderUnsendable, ParentEvent::AlgoEnded,
                                   ParentEvent::AlgoFailed,          ParentEvent::MarketClosed,
                                   ParentEvent::CancelCompleted,     ParentEvent::OrderRefused};

TEST(ParentLifecycle, EveryRowOfTheTableIsWhatNextParentStateAnswers) {
  std::set<std::pair<int, int>> seen;
  for (const auto& row : parent_lifecycle_table()) {
    EXPECT_TRUE(seen.insert({static_cast<int>(row.state), static_cast<int>(row.event)}).second)
        << "a pair is listed twice: " << to_string(row.state) << " + " << to_string(row.event);
    const auto next = next_parent_state(row.state, row.event);
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(*next, row.next) << to_string(row.state) << " + " << to_string(row.event);
    EXPECT_FALSE(row.why.empty());
  }
}

TEST(ParentLifecycle, AFinalParentTakesNoEvent) {
  for (ParentState final_state :
       {ParentState::Filled, ParentState::Canceled, ParentState::Expired, ParentState::Rejected})
    for (ParentEvent e : kEvents)
      EXPECT_FALSE(next_parent_state(final_state, e).has_value())
          << to_string(final_state) << " + " << to_string(e);
}

TEST(ParentLifecycle, AWorkingParentAnswersEveryEventButACancelCompletedItNeverAskedFor) {
  for (ParentEvent e : kEvents)
    EXPECT_EQ(next_parent_state(ParentState::Working, e).has_value(), e != ParentEvent::CancelCompleted)
        << to_string(e);
}

TEST(ParentLifecycle, ARemainderBelowWhatAnyVenueTakesEndsTheParentFilledWhetherOrNotACancelWasUnderWay) {
  EXPECT_EQ(next_parent_state(ParentState::Working, ParentEvent::RemainderUnsendable), ParentState::Filled);
  EXPECT_EQ(next_parent_state(ParentState::PendingCancel, ParentEvent::RemainderUnsendable),
            ParentState::Filled);
}

TEST(ParentLifecycle, AnAlgoEndingShortExpiresTheParentUnlessACancelWasAskedFor) {
  EXPECT_EQ(next_parent_state(ParentState::Working, ParentEvent::AlgoEnded), ParentState::Expired);
  EXPECT_EQ(next_parent_state(ParentState::PendingCancel, ParentEvent::AlgoEnded), ParentState::Canceled);
  EXPECT_EQ(next_parent_state(ParentState::Working, ParentEvent::MarketClosed), ParentState::Expired);
  EXPECT_EQ(next_parent_state(ParentState::PendingCancel, ParentEvent::MarketClosed), ParentState::Canceled);
}

TEST(ParentLifecycle, AParentThatFillsWhileItsCancelTravelsIsFilled) {
  EXPECT_EQ(next_parent_state(ParentState::PendingCancel, ParentEvent::ExecutedInFull), ParentState::Filled);
  EXPECT_EQ(next_parent_state(ParentState::PendingCancel, ParentEvent::CancelCompleted),
            ParentState::Canceled);
}

}  // namespace
}  // namespace tranche::oms
