#include "ems/list_balance.hpp"

#include <gtest/gtest.h>

#include <map>

namespace tranche::ems {
namespace {

Qty q(const char* s) {
  return Qty::parse(s).value();
}
Price px(const char* s) {
  return Price::parse(s).value();
}

std::vector<oms::AlgoParam> pair_params(const char* imbalance = "0.05") {
  return {{"list", "p1"}, {"list_legs", "2"}, {"list_max_imbalance", imbalance}, {"slice", "5s"}};
}

struct Legs {
  std::map<std::uint64_t, ListBalance::Progress> progress;
  ListBalance::ReadFn reader() {
    return [this](ParentId id) { return progress[id.value()]; };
  }
};

TEST(ListTerms, AreReadFromTheLegsParametersAndLeftOutOfTheAlgos) {
  auto terms = list_terms(pair_params());
  ASSERT_TRUE(terms.ok()) << terms.error().message;
  ASSERT_TRUE(terms->has_value());
  EXPECT_EQ((*terms)->id, "p1");
  EXPECT_EQ((*terms)->legs, 2u);
  EXPECT_DOUBLE_EQ((*terms)->max_imbalance, 0.05);
  EXPECT_FALSE((*terms)->cash_limit.is_set());
  const auto algo = without_list_terms(pair_params());
  ASSERT_EQ(algo.size(), 1u);
  EXPECT_EQ(algo[0].key, "slice");
  EXPECT_FALSE(list_terms({{"slice", "5s"}}).value().has_value()) << "a parent of no list";
}

TEST(ListTerms, OutOfRangeOrIncompleteTermsAreRefusedWithTheReason) {
  EXPECT_FALSE(list_terms({{"list_legs", "2"}}).ok()) << "a term without list=";
  EXPECT_FALSE(list_terms({{"list", "x"}, {"list_max_imbalance", "0.05"}}).ok()) << "no list_legs";
  EXPECT_FALSE(list_terms(pair_params("0")).ok());
  EXPECT_FALSE(list_terms(pair_params("-0.1")).ok());
  EXPECT_FALSE(list_terms(pair_params("1.5")).ok());
  EXPECT_FALSE(list_terms(pair_params("nan")).ok());
  EXPECT_FALSE(list_terms({{"list", "x"}, {"list_legs", "2"}}).ok()) << "a list without a limit";
  EXPECT_FALSE(list_terms({{"list", "x"}, {"list_legs", "3"}, {"list_max_imbalance", "0.1"}}).ok())
      << "a pair has two legs";
  EXPECT_FALSE(list_terms({{"list", "x"}, {"list_legs", "2"}, {"list_cash_limit", "-5"}}).ok());
  EXPECT_FALSE(list_terms({{"list", "x y"}, {"list_legs", "2"}, {"list_cash_limit", "5"}}).ok());
  EXPECT_FALSE(list_terms({{"list", "x"}, {"list_legs", "1"}, {"list_cash_limit", "5"}}).ok());
}

TEST(CheckList, RefusesLegsThatDoNotMakeTheListTheirTermsDescribe) {
  oms::ParentOrder a, b;
  a.instrument = InstrumentId("ETH-USDT");
  a.side = Side::Buy;
  a.params = {{"list", "b1"}, {"list_legs", "2"}, {"list_cash_limit", "1000"}};
  b = a;
  b.instrument = InstrumentId("ETH-USDT-PERP");
  b.side = Side::Sell;
  EXPECT_TRUE(check_list({a, b}).ok());
  EXPECT_FALSE(check_list({a}).ok()) << "fewer legs than list_legs";
  oms::ParentOrder both_buy = b;
  both_buy.side = Side::Buy;
  EXPECT_FALSE(check_list({a, both_buy}).ok()) << "a cash limit with no sell leg";
  oms::ParentOrder other = b;
  other.params[2].value = "2000";
  EXPECT_FALSE(check_list({a, other}).ok()) << "terms that differ";
  oms::ParentOrder twice = a;
  EXPECT_FALSE(check_list({a, twice}).ok()) << "the same instrument and side twice";
}

TEST(ListBalance, APairLegMayCommitOnlyTheLimitBeyondTheOtherLegsExecutedShare) {
  Legs legs;
  ListBalance pair(list_terms(pair_params("0.05")).value().value(), legs.reader());
  pair.add_leg(ParentId(1), Side::Buy, q("10"));
  // The other leg is not known yet: it has executed nothing, so the first may commit 5% of itself.
  EXPECT_EQ(pair.room(ParentId(1)), q("0.5"));
  pair.add_leg(ParentId(2), Side::Sell, q("200"));
  legs.progress[2] = {q("40"), q("60")};  // 20% executed, 30% committed
  legs.progress[1] = {q("1"), q("1.5")};  // 10% executed, 15% committed
  std::string why;
  // Leg 1 may commit up to 25% (20% + 5%) of 10: 2.5, of which 1.5 is committed.
  EXPECT_EQ(pair.room(ParentId(1), &why), q("1"));
  EXPECT_EQ(why, "the pair's leg imbalance");
  // Leg 2 may commit up to 15% (10% + 5%) of 200 = 30, and has committed 60: nothing more.
  EXPECT_EQ(pair.room(ParentId(2)), q("0"));
  EXPECT_NEAR(pair.share_imbalance(), 0.10, 1e-12);
}

TEST(ListBalance, APairsLaggingLegCatchesUpOnlyBeyondHalfTheLimit) {
  Legs legs;
  ListBalance pair(list_terms(pair_params("0.04")).value().value(), legs.reader());
  pair.add_leg(ParentId(1), Side::Buy, q("100"));
  pair.add_leg(ParentId(2), Side::Sell, q("100"));
  legs.progress[1] = {q("10"), q("12")};
  legs.progress[2] = {q("9"), q("9")};
  EXPECT_EQ(pair.catch_up(ParentId(2)), q("0")) << "1 point behind, within half of 4";
  legs.progress[2] = {q("7"), q("7")};
  EXPECT_EQ(pair.catch_up(ParentId(2)), q("3")) << "3 points behind: level with the leader's executed 10";
  legs.progress[2] = {q("7"), q("9")};
  EXPECT_EQ(pair.catch_up(ParentId(2)), q("3")) << "resting did not keep it level: the catch-up takes";
  legs.progress[2] = {q("7"), q("13.5")};
  EXPECT_EQ(pair.catch_up(ParentId(2)), q("0.5")) << "within its room: 10% + 4% of 100, less 13.5 committed";
  EXPECT_EQ(pair.catch_up(ParentId(1)), q("0")) << "the leader never catches up";
}

TEST(ListBalance, ABasketsSideMayCommitOnlyTheCashLimitBeyondTheOtherSidesExecutedValue) {
  Legs legs;
  ListBalance basket(
      list_terms({{"list", "b"}, {"list_legs", "3"}, {"list_cash_limit", "1000"}}).value().value(),
      legs.reader());
  basket.add_leg(ParentId(1), Side::Buy, q("10"));
  basket.add_leg(ParentId(2), Side::Buy, q("100"));
  basket.add_leg(ParentId(3), Side::Sell, q("5"));
  std::string why;
  EXPECT_EQ(basket.room(ParentId(1), &why), q("0"));
  EXPECT_EQ(why, "no reference price yet");
  basket.set_reference(ParentId(1), px("2000"));
  basket.set_reference(ParentId(2), px("50"));
  basket.set_reference(ParentId(3), px("4000"));
  legs.progress[3] = {q("0.5"), q("1")};    // sold 2,000 at reference
  legs.progress[1] = {q("0.2"), q("0.5")};  // 1,000 committed
  legs.progress[2] = {q("10"), q("20")};    // 1,000 committed
  // Buys may commit 2,000 + 1,000 = 3,000 in all; 2,000 are: 1,000 more, 0.5 of leg 1 or 20 of leg 2.
  EXPECT_EQ(basket.room(ParentId(1), &why), q("0.5"));
  EXPECT_EQ(why, "the basket's cash balance");
  EXPECT_EQ(basket.room(ParentId(2)), q("20"));
  // Sells may commit the buys' executed 0.2 x 2,000 + 10 x 50 = 900, plus 1,000: 1,900, and have 4,000
  // committed: nothing more.
  EXPECT_EQ(basket.room(ParentId(3)), q("0"));
  EXPECT_NEAR(basket.cash_imbalance(), 900.0 - 2000.0, 1e-9);
}

TEST(ListBalance, AnEndedLegCountsWhatItExecutedAfterItsProgressCanNoLongerBeRead) {
  Legs legs;
  ListBalance pair(list_terms(pair_params("0.05")).value().value(), legs.reader());
  pair.add_leg(ParentId(1), Side::Buy, q("10"));
  pair.add_leg(ParentId(2), Side::Sell, q("10"));
  legs.progress[2] = {q("4"), q("4")};
  pair.set_final(ParentId(2), q("4"));
  legs.progress.erase(2);  // the OMS forgot it: reading it gives nothing
  legs.progress[1] = {q("1"), q("1")};
  EXPECT_EQ(pair.room(ParentId(1)), q("3.5"))
      << "45% of 10, less 1 committed: the ended leg's 40% still counts";
}

TEST(ListTerms, ACashLimitOfZeroIsRefusedForItWouldHoldBothSidesForGood) {
  EXPECT_FALSE(list_terms({{"list", "x"}, {"list_legs", "2"}, {"list_cash_limit", "0"}}).ok());
}

TEST(ListBalance, ALegNeverCommitsBeyondItsOwnQuantity) {
  Legs legs;
  ListBalance pair(list_terms(pair_params("1")).value().value(), legs.reader());
  pair.add_leg(ParentId(1), Side::Buy, q("3"));
  pair.add_leg(ParentId(2), Side::Sell, q("3"));
  legs.progress[1] = {q("2"), q("2.5")};
  legs.progress[2] = {q("3"), q("3")};
  std::string why;
  EXPECT_EQ(pair.room(ParentId(1), &why), q("0.5"));
  EXPECT_EQ(why, "its own quantity");
}

}  // namespace
}  // namespace tranche::ems
