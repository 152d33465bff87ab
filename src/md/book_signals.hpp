#pragma once
// What a book and its trades say about the next price move, computed per event without allocating: the
// touch's imbalance, an imbalance over the first levels, Stoikov's micro-price, the recent trade flow, and
// how long the queue at a price takes to clear at the rate it is being traded.
//
// Real numbers live here only: each signal is a model's output, converted from fixed point at this edge.
// The micro-price goes back to fixed point (Price) before anything trades on it.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/fixed_point.hpp"
#include "core/result.hpp"
#include "core/side.hpp"
#include "core/time.hpp"
#include "md/event.hpp"
#include "md/reader.hpp"

namespace tranche::md {

// (bid - ask) / (bid + ask) at the touch, in [-1, 1]: +1 all bids. 0 when both are empty.
double touch_imbalance(Qty bid_qty, Qty ask_qty);
// The same over the first `levels` levels of each side (best first), level k weighted 1 / (k + 1): the
// levels nearest the touch say most about the next move.
double depth_imbalance(std::span<const Level> bids, std::span<const Level> asks, std::size_t levels);

// Stoikov's micro-price (S. Stoikov, "The micro-price: a high-frequency estimator of future prices",
// Quantitative Finance 18(12), 2018): mid + G(I, S), G the expected change of the mid over all its future
// moves given the touch's imbalance I = bid / (bid + ask) (in buckets) and the spread S (in ticks). Fitted
// from a book's consecutive states: the transitions that leave the mid where it is (Q), those that move it
// (T, with R the expected move), then G1 = (1 - Q)^-1 R, B = (1 - Q)^-1 T and G = G1 + B G1 + B^2 G1 + ...
// The data are symmetrised (each transition also counted mirrored: bids for asks, the move negated), so G
// is odd in the imbalance and the sum converges.
class MicroPriceModel {
 public:
  static constexpr int kImbalanceBuckets = 10;
  static constexpr int kSpreadStates = 3;  // 1 tick, 2 ticks, 3 or more
  static constexpr int kStates = kImbalanceBuckets * kSpreadStates;

  // One state of a book: its touch and tick.
  struct Sample {
    Price bid, ask;
    Qty bid_qty, ask_qty;
  };

  // The weighted mid's model (G = (I - 1/2) x spread): what the micro-price is before any fit.
  MicroPriceModel();
  // A fitted model: G per state (MicroPriceFit::solve makes it).
  MicroPriceModel(const std::array<double, kStates>& g, Price tick, std::uint64_t transitions);
  // Fits G from `states`, consecutive in time (a sample where the touch is missing or crossed breaks the
  // chain). Refused when too few transitions were seen to estimate each spread state it saw.
  static Result<MicroPriceModel> fit(std::span<const Sample> states, Price tick);

  // G in ticks for a touch imbalance in [0, 1] and a spread in ticks.
  double adjustment_ticks(double imbalance, std::int64_t spread_ticks) const;
  // The micro-price of a touch, rounded to the raw unit; unset when a side is empty or the book crossed.
  Price micro_price(Price bid, Qty bid_qty, Price ask, Qty ask_qty) const;
  Price tick() const { return tick_; }
  bool fitted() const { return fitted_; }
  std::uint64_t transitions() const { return transitions_; }
  // G per spread state and imbalance bucket, in ticks (for reports).
  const std::array<double, kStates>& table() const { return g_; }
  static int bucket(double imbalance);

 private:
  std::array<double, kStates> g_{};
  Price tick_ = Price::from_raw(1);
  bool fitted_ = false;
  std::uint64_t transitions_ = 0;
};

// The counts a micro-price fit is made of, kept one transition at a time (no allocation): which states the
// touch left to (Q when the mid stayed, T when it moved) and how far the mid moved from each. solve() turns
// them into a model; decay() makes older transitions count less, so a live fit follows the market.
class MicroPriceFit {
 public:
  static constexpr int kImbalanceBuckets = MicroPriceModel::kImbalanceBuckets;
  static constexpr int kStates = MicroPriceModel::kStates;
  static constexpr std::uint64_t kMinTransitions = 100;

  explicit MicroPriceFit(Price tick = Price::from_raw(1));
  // One transition of the touch (and its mirror image). A missing or crossed side on either end is skipped.
  void add(const MicroPriceModel::Sample& from, const MicroPriceModel::Sample& to);
  // Every count times `keep` (in (0, 1]).
  void decay(double keep);
  // Refused below kMinTransitions transitions, or when the counts cannot be inverted.
  Result<MicroPriceModel> solve() const;
  std::uint64_t transitions() const { return transitions_; }
  Price tick() const { return tick_; }

 private:
  using Row = std::array<double, kStates>;
  int state(const MicroPriceModel::Sample& s) const;

  std::array<Row, kStates> stay_{}, move_{};
  Row seen_{}, moved_{};
  Price tick_;
  std::uint64_t transitions_ = 0;
};

// The recent trade flow, decayed with a half-life: how much traded on each side (by the taker's side) and
// the imbalance (buy - sell) / (buy + sell) in [-1, 1]. Times must not run back (an earlier one counts as
// now).
class TradeFlow {
 public:
  explicit TradeFlow(DurationNs half_life_ns = kNanosPerSecond);
  void on_trade(Side taker, Qty qty, TimestampNs at_ns);
  double imbalance(TimestampNs now_ns) const;
  // The decayed volume taken by takers of `taker` per second (a buy taker lifts asks).
  double rate_per_second(Side taker, TimestampNs now_ns) const;

 private:
  double decayed(double value, TimestampNs now_ns) const;
  double lambda_;  // per ns
  DurationNs half_life_ns_;
  double buy_ = 0, sell_ = 0;
  TimestampNs at_ns_ = 0;
};

// One venue's signals kept live as its book and trades arrive (the kernel keeps one per venue and
// instrument, so execute, backtest and serve read the same): each change of the touch feeds a micro-price
// fit, solved first after kFirstFit transitions and again every kRefitEvery; past kMemory transitions the
// older counts are discounted at each refit (by 0.9: about the last 20,000 transitions weigh). Trades feed
// the flow. Nothing allocates; a refit is a 30-state solve (about a millisecond at worst).
class BookSignalTracker {
 public:
  static constexpr std::uint64_t kFirstFit = 500, kRefitEvery = 2000, kMemory = 20000;

  explicit BookSignalTracker(DurationNs flow_half_life_ns = kNanosPerSecond);
  // The touch after a book event (`tick` the listing's); an unchanged touch is not a transition. A new tick
  // starts the fit again.
  void on_touch(Price bid, Qty bid_qty, Price ask, Qty ask_qty, Price tick);
  void on_trade(Side taker, Qty qty, TimestampNs at_ns) { flow_.on_trade(taker, qty, at_ns); }
  const MicroPriceModel& model() const { return model_; }
  const TradeFlow& flow() const { return flow_; }
  std::uint64_t transitions() const { return fit_.transitions(); }
  std::uint64_t refits() const { return refits_; }

 private:
  MicroPriceFit fit_;
  MicroPriceModel model_;
  TradeFlow flow_;
  MicroPriceModel::Sample last_{};
  bool have_last_ = false;
  std::uint64_t next_fit_ = kFirstFit;
  std::uint64_t refits_ = 0;
};

// Expected seconds for `ahead` to be traded away at `rate` per second; infinity when nothing trades.
double queue_clear_seconds(Qty ahead, double rate_per_second);

// How well a price forecasts the mid `horizon` later, over a recording's second half, with the model fitted
// on its first half (`tranche md signals`, the golden test): root mean square errors in ticks of the mid
// itself, the imbalance-weighted mid and the micro-price, sampled every `every_ns` of the evaluation half.
struct ForecastScore {
  std::uint64_t fit_states = 0, fit_transitions = 0, samples = 0;
  double rmse_mid_ticks = 0, rmse_weighted_ticks = 0, rmse_micro_ticks = 0;
};
// `states` with their times (consecutive, as the touch changed).
struct TimedSample {
  TimestampNs at_ns;
  MicroPriceModel::Sample state;
};
Result<ForecastScore> score_micro_price(std::span<const TimedSample> states, Price tick,
                                        DurationNs horizon_ns, DurationNs every_ns,
                                        MicroPriceModel* fitted_out = nullptr);

// Each stream's touch as it changed, read to the end of `reader`: from its bookTickers where it has them
// (they move in real time), else from its book after each depth event; `tick` is the book's (inferred) tick.
struct StreamTouches {
  std::vector<TimedSample> states;
  bool from_quotes = false;
  Price tick;
};
std::vector<StreamTouches> read_touches(EventReader& reader);

}  // namespace tranche::md
