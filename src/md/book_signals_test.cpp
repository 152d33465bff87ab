// The book signals one by one: imbalances, the micro-price before and after a fit (on a chain whose next move
// the bid's share predicts), the trade flow's decay and rate, and the queue's clearing time.
#include "md/book_signals.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "md/test_data.hpp"

namespace tranche::md {
namespace {

using testing::px;
using testing::qty;

TEST(BookSignals, TouchImbalanceIsTheBidsShareMadeSymmetric) {
  EXPECT_DOUBLE_EQ(touch_imbalance(qty("3"), qty("1")), 0.5);
  EXPECT_DOUBLE_EQ(touch_imbalance(qty("0"), qty("2")), -1.0);
  EXPECT_DOUBLE_EQ(touch_imbalance(Qty{}, Qty{}), 0.0);
}

TEST(BookSignals, DepthImbalanceWeighsTheLevelsNearTheTouchMost) {
  const std::vector<Level> bids{{px("100.00"), qty("1")}, {px("99.99"), qty("10")}};
  const std::vector<Level> asks{{px("100.01"), qty("2")}, {px("100.02"), qty("2")}};
  // bids 1 + 10/2 = 6, asks 2 + 2/2 = 3: (6 - 3) / 9.
  EXPECT_DOUBLE_EQ(depth_imbalance(bids, asks, 2), 1.0 / 3.0);
  // The touch alone: (1 - 2) / 3.
  EXPECT_DOUBLE_EQ(depth_imbalance(bids, asks, 1), -1.0 / 3.0);
  EXPECT_DOUBLE_EQ(depth_imbalance({}, {}, 5), 0.0);
}

TEST(MicroPrice, BeforeAFitItIsTheImbalanceWeightedMid) {
  MicroPriceModel model;
  EXPECT_FALSE(model.fitted());
  // Three quarters of the touch on the bid: the mid plus a quarter of the spread.
  EXPECT_EQ(model.micro_price(px("100.00"), qty("3"), px("100.02"), qty("1")), px("100.015"));
  EXPECT_FALSE(model.micro_price(px("100.02"), qty("3"), px("100.00"), qty("1")).is_set()) << "crossed";
  EXPECT_FALSE(model.micro_price(Price::unset(), qty("3"), px("100.00"), qty("1")).is_set());
}

// A touch whose bid share says where the mid goes next: above 60% it moves up a tick with probability 0.7,
// below 40% down; in between it stays or moves either way alike.
std::vector<MicroPriceModel::Sample> predictive_chain(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<MicroPriceModel::Sample> out;
  std::int64_t bid = 10'000;  // in ticks of 0.01
  for (std::size_t i = 0; i < n; ++i) {
    const double share = u(rng);
    const auto bid_qty = Qty::from_raw(static_cast<std::int64_t>(share * 1e8) + 1);
    const auto ask_qty = Qty::from_raw(static_cast<std::int64_t>((1 - share) * 1e8) + 1);
    out.push_back(
        {Price::from_raw(bid * 1'000'000), Price::from_raw((bid + 1) * 1'000'000), bid_qty, ask_qty});
    const double p = u(rng);
    if (share > 0.6)
      bid += p < 0.7 ? 1 : (p < 0.8 ? -1 : 0);
    else if (share < 0.4)
      bid += p < 0.7 ? -1 : (p < 0.8 ? 1 : 0);
    else
      bid += p < 0.2 ? 1 : (p < 0.4 ? -1 : 0);
  }
  return out;
}

TEST(MicroPrice, AFitLearnsThatTheBidsShareForecastsTheNextMove) {
  const auto chain = predictive_chain(20'000, 7);
  auto model = MicroPriceModel::fit(chain, px("0.01"));
  ASSERT_TRUE(model) << model.error().message;
  EXPECT_TRUE(model->fitted());
  EXPECT_EQ(model->transitions(), chain.size() - 1);
  // Up where the bid is heavy, down where it is light, and symmetric (the data are mirrored).
  EXPECT_GT(model->adjustment_ticks(0.95, 1), 0.3);
  EXPECT_LT(model->adjustment_ticks(0.05, 1), -0.3);
  for (int b = 0; b < MicroPriceModel::kImbalanceBuckets; ++b)
    EXPECT_NEAR(model->table()[b], -model->table()[MicroPriceModel::kImbalanceBuckets - 1 - b], 1e-9) << b;
  // The micro-price sits above the mid for a heavy bid, below for a heavy ask.
  const Price heavy_bid = model->micro_price(px("100.00"), qty("9"), px("100.01"), qty("1"));
  const Price heavy_ask = model->micro_price(px("100.00"), qty("1"), px("100.01"), qty("9"));
  EXPECT_GT(heavy_bid, px("100.005"));
  EXPECT_LT(heavy_ask, px("100.005"));
}

TEST(MicroPrice, AFitNeedsEnoughTransitionsAndAPositiveTick) {
  const auto chain = predictive_chain(50, 1);
  EXPECT_FALSE(MicroPriceModel::fit(chain, px("0.01")));
  EXPECT_FALSE(MicroPriceModel::fit(predictive_chain(500, 1), Price{}));
}

TEST(MicroPrice, TheScoreFitsOnTheFirstHalfAndJudgesTheMidForecastOnTheSecond) {
  const auto chain = predictive_chain(20'000, 11);
  std::vector<TimedSample> timed;
  for (std::size_t i = 0; i < chain.size(); ++i)
    timed.push_back({static_cast<TimestampNs>(i) * kNanosPerMilli, chain[i]});
  MicroPriceModel model;
  auto score = score_micro_price(timed, px("0.01"), kNanosPerMilli, kNanosPerMilli, &model);
  ASSERT_TRUE(score) << score.error().message;
  EXPECT_TRUE(model.fitted());
  EXPECT_NEAR(static_cast<double>(score->fit_states), 10'000, 1);
  EXPECT_GT(score->samples, 9'000u);
  // One step ahead on this chain the micro-price is the better forecast.
  EXPECT_LT(score->rmse_micro_ticks, score->rmse_mid_ticks);
  EXPECT_FALSE(score_micro_price(timed, px("0.01"), 0, kNanosPerMilli));
}

TEST(MicroPriceFit, CountsThatAllShrinkAlikeSolveToTheSameModel) {
  // decay() discounts history; a fit whose every count is scaled by the same factor is the same fit (a count
  // left out of the decay would change it).
  const auto chain = predictive_chain(5'000, 3);
  MicroPriceFit fit(px("0.01"));
  for (std::size_t k = 1; k < chain.size(); ++k) fit.add(chain[k - 1], chain[k]);
  const auto before = fit.solve();
  ASSERT_TRUE(before) << before.error().message;
  fit.decay(0.5);
  const auto after = fit.solve();
  ASSERT_TRUE(after) << after.error().message;
  for (int i = 0; i < MicroPriceModel::kStates; ++i)
    EXPECT_NEAR(before->table()[i], after->table()[i], 1e-9) << i;
}

TEST(MicroPriceFit, DecayedHistoryGivesWayToWhatTheTouchDoesNow) {
  // The bid's share first predicts the next move, then predicts the opposite: after the turn, the decayed
  // fit follows the new behaviour where an undecayed one is still split between the two.
  auto chain = predictive_chain(20'000, 5);
  MicroPriceFit kept(px("0.01")), decayed(px("0.01"));
  for (std::size_t k = 1; k < chain.size(); ++k) {
    kept.add(chain[k - 1], chain[k]);
    decayed.add(chain[k - 1], chain[k]);
  }
  // The same chain with the moves turned round (each bid share now sees the opposite move).
  auto turned = predictive_chain(20'000, 6);
  for (std::size_t k = 1; k < turned.size(); ++k) {
    MicroPriceModel::Sample from = turned[k - 1], to = turned[k];
    std::swap(from.bid_qty, from.ask_qty);
    std::swap(to.bid_qty, to.ask_qty);
    kept.add(from, to);
    if (k % 2'000 == 0) decayed.decay(0.5);
    decayed.add(from, to);
  }
  const auto k = kept.solve(), d = decayed.solve();
  ASSERT_TRUE(k && d);
  EXPECT_LT(d->adjustment_ticks(0.95, 1), -0.2);  // a heavy bid now means the mid falls
  EXPECT_LT(d->adjustment_ticks(0.95, 1), k->adjustment_ticks(0.95, 1));
}

TEST(BookSignalTracker, FitsAfterItsFirstTransitionsRefitsAsTheTouchMovesAndRestartsOnANewTick) {
  BookSignalTracker tracker;
  const auto chain = predictive_chain(BookSignalTracker::kFirstFit + BookSignalTracker::kRefitEvery + 10, 9);
  for (std::size_t i = 0; i < BookSignalTracker::kFirstFit; ++i) {
    const auto& s = chain[i];
    tracker.on_touch(s.bid, s.bid_qty, s.ask, s.ask_qty, px("0.01"));
    // The same touch again is not a transition.
    tracker.on_touch(s.bid, s.bid_qty, s.ask, s.ask_qty, px("0.01"));
  }
  EXPECT_EQ(tracker.transitions(), BookSignalTracker::kFirstFit - 1);
  EXPECT_FALSE(tracker.model().fitted()) << "the weighted mid until the first fit";
  const auto& next = chain[BookSignalTracker::kFirstFit];
  tracker.on_touch(next.bid, next.bid_qty, next.ask, next.ask_qty, px("0.01"));
  EXPECT_TRUE(tracker.model().fitted());
  EXPECT_EQ(tracker.refits(), 1u);
  EXPECT_GT(tracker.model().adjustment_ticks(0.95, 1), 0.2);
  for (std::size_t i = BookSignalTracker::kFirstFit + 1; i < chain.size(); ++i)
    tracker.on_touch(chain[i].bid, chain[i].bid_qty, chain[i].ask, chain[i].ask_qty, px("0.01"));
  EXPECT_EQ(tracker.refits(), 2u);
  // A listing whose tick changed: the old fit says nothing of the new ticks.
  tracker.on_touch(chain[0].bid, chain[0].bid_qty, chain[0].ask, chain[0].ask_qty, px("0.1"));
  EXPECT_FALSE(tracker.model().fitted());
  EXPECT_EQ(tracker.transitions(), 0u);
  tracker.on_trade(Side::Buy, qty("2"), 5);
  EXPECT_DOUBLE_EQ(tracker.flow().imbalance(5), 1.0);
}

TEST(TradeFlow, ImbalanceDecaysWithItsHalfLifeAndTheRateIsTheFlowPerSecond) {
  TradeFlow flow(kNanosPerSecond);
  flow.on_trade(Side::Buy, qty("3"), 0);
  flow.on_trade(Side::Sell, qty("1"), 0);
  EXPECT_DOUBLE_EQ(flow.imbalance(0), 0.5);
  EXPECT_DOUBLE_EQ(flow.imbalance(5 * kNanosPerSecond), 0.5) << "both sides decay alike";
  const double rate_now = flow.rate_per_second(Side::Buy, 0);
  EXPECT_NEAR(flow.rate_per_second(Side::Buy, kNanosPerSecond), rate_now / 2, 1e-12);
  // A steady flow of 2 a second, every 10 ms, for a minute: the rate settles near 2.
  TradeFlow steady(kNanosPerSecond);
  for (int i = 0; i < 6000; ++i) steady.on_trade(Side::Sell, qty("0.02"), i * 10 * kNanosPerMilli);
  EXPECT_NEAR(steady.rate_per_second(Side::Sell, 60 * kNanosPerSecond), 2.0, 0.05);
  EXPECT_DOUBLE_EQ(steady.rate_per_second(Side::Buy, 60 * kNanosPerSecond), 0.0);
  EXPECT_DOUBLE_EQ(steady.imbalance(60 * kNanosPerSecond), -1.0);
}

TEST(QueueClear, IsWhatIsAheadOverTheRateAndNeverWhenNothingTrades) {
  EXPECT_DOUBLE_EQ(queue_clear_seconds(qty("10"), 2.0), 5.0);
  EXPECT_DOUBLE_EQ(queue_clear_seconds(Qty{}, 2.0), 0.0);
  EXPECT_TRUE(std::isinf(queue_clear_seconds(qty("1"), 0.0)));
}

}  // namespace
}  // namespace tranche::md
