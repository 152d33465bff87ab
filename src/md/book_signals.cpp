#include "md/book_signals.hpp"

#include "md/book_replay.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

namespace tranche::md {

double touch_imbalance(Qty bid_qty, Qty ask_qty) {
  const double b = bid_qty.to_double(), a = ask_qty.to_double();
  return b + a > 0 ? (b - a) / (b + a) : 0.0;
}

double depth_imbalance(std::span<const Level> bids, std::span<const Level> asks, std::size_t levels) {
  double b = 0, a = 0;
  for (std::size_t k = 0; k < levels && k < bids.size(); ++k) b += bids[k].qty.to_double() / double(k + 1);
  for (std::size_t k = 0; k < levels && k < asks.size(); ++k) a += asks[k].qty.to_double() / double(k + 1);
  return b + a > 0 ? (b - a) / (b + a) : 0.0;
}

// ---------------------------------------------------------------------------------------------------------
// The micro-price

namespace {

constexpr int kN = MicroPriceModel::kStates;
using Matrix = std::array<std::array<double, kN>, kN>;
using Vector = std::array<double, kN>;

int spread_state(std::int64_t spread_ticks) {
  return static_cast<int>(std::clamp<std::int64_t>(spread_ticks - 1, 0, MicroPriceModel::kSpreadStates - 1));
}

bool usable(const MicroPriceModel::Sample& s) {
  return s.bid.is_set() && s.ask.is_set() && s.bid < s.ask && (s.bid_qty + s.ask_qty).is_positive();
}

double share_of_bid(const MicroPriceModel::Sample& s) {
  const double b = s.bid_qty.to_double(), a = s.ask_qty.to_double();
  return b / (b + a);
}

std::int64_t spread_ticks(const MicroPriceModel::Sample& s, Price tick) {
  return std::llround(static_cast<double>((s.ask - s.bid).raw()) / static_cast<double>(tick.raw()));
}

// Inverse by Gauss-Jordan with partial pivoting; false when singular.
bool invert(Matrix a, Matrix& inv) {
  for (int i = 0; i < kN; ++i)
    for (int j = 0; j < kN; ++j) inv[i][j] = i == j ? 1.0 : 0.0;
  for (int c = 0; c < kN; ++c) {
    int p = c;
    for (int r = c + 1; r < kN; ++r)
      if (std::abs(a[r][c]) > std::abs(a[p][c])) p = r;
    if (std::abs(a[p][c]) < 1e-12) return false;
    std::swap(a[p], a[c]);
    std::swap(inv[p], inv[c]);
    const double d = a[c][c];
    for (int j = 0; j < kN; ++j) {
      a[c][j] /= d;
      inv[c][j] /= d;
    }
    for (int r = 0; r < kN; ++r) {
      if (r == c || a[r][c] == 0) continue;
      const double f = a[r][c];
      for (int j = 0; j < kN; ++j) {
        a[r][j] -= f * a[c][j];
        inv[r][j] -= f * inv[c][j];
      }
    }
  }
  return true;
}

Vector times(const Matrix& m, const Vector& v) {
  Vector out{};
  for (int i = 0; i < kN; ++i)
    for (int j = 0; j < kN; ++j) out[i] += m[i][j] * v[j];
  return out;
}

}  // namespace

int MicroPriceModel::bucket(double imbalance) {
  const int b = static_cast<int>(std::floor(imbalance * kImbalanceBuckets));
  return std::clamp(b, 0, kImbalanceBuckets - 1);
}

MicroPriceModel::MicroPriceModel() = default;

MicroPriceFit::MicroPriceFit(Price tick) : tick_(tick) {}

int MicroPriceFit::state(const MicroPriceModel::Sample& s) const {
  return spread_state(spread_ticks(s, tick_)) * kImbalanceBuckets + MicroPriceModel::bucket(share_of_bid(s));
}

void MicroPriceFit::add(const MicroPriceModel::Sample& from, const MicroPriceModel::Sample& to) {
  if (!tick_.is_positive() || !usable(from) || !usable(to)) return;
  const int x = state(from), y = state(to);
  auto mirror = [](int i) {
    const int s = i / kImbalanceBuckets, b = i % kImbalanceBuckets;
    return s * kImbalanceBuckets + (kImbalanceBuckets - 1 - b);
  };
  // The mid's move in ticks: (bid + ask) / 2, both sums exact in raw units.
  const double move = static_cast<double>((to.bid + to.ask).raw() - (from.bid + from.ask).raw()) /
                      (2.0 * static_cast<double>(tick_.raw()));
  for (const auto& [a, b, dm] : {std::tuple{x, y, move}, std::tuple{mirror(x), mirror(y), -move}}) {
    seen_[a] += 1;
    if (dm == 0) {
      stay_[a][b] += 1;
    } else {
      move_[a][b] += 1;
      moved_[a] += dm;
    }
  }
  ++transitions_;
}

void MicroPriceFit::decay(double keep) {
  for (int i = 0; i < kN; ++i) {
    seen_[i] *= keep;
    moved_[i] *= keep;
    for (int j = 0; j < kN; ++j) {
      stay_[i][j] *= keep;
      move_[i][j] *= keep;
    }
  }
}

Result<MicroPriceModel> MicroPriceFit::solve() const {
  if (!tick_.is_positive()) return make_error("the micro-price needs a positive tick");
  if (transitions_ < kMinTransitions)
    return make_error("only " + std::to_string(transitions_) + " transitions of the touch: too few to fit");
  Matrix q = stay_, t = move_;
  Vector r = moved_;
  Matrix a{};
  for (int i = 0; i < kN; ++i) {
    for (int j = 0; j < kN; ++j) {
      if (seen_[i] > 0) {
        q[i][j] /= seen_[i];
        t[i][j] /= seen_[i];
      }
      a[i][j] = (i == j ? 1.0 : 0.0) - q[i][j];
    }
    if (seen_[i] > 0) r[i] /= seen_[i];
    // A state never left without a mid move (or never seen): no adjustment there.
    if (seen_[i] == 0 || a[i][i] < 1e-12) {
      for (int j = 0; j < kN; ++j) {
        a[i][j] = i == j ? 1.0 : 0.0;
        t[i][j] = 0;
      }
      r[i] = 0;
    }
  }
  Matrix inv{};
  if (!invert(a, inv))
    return make_error("the touch's transitions could not be inverted (a state never moves)");
  const Vector g1 = times(inv, r);
  Matrix b{};
  for (int i = 0; i < kN; ++i)
    for (int k = 0; k < kN; ++k) {
      if (inv[i][k] == 0) continue;
      for (int j = 0; j < kN; ++j) b[i][j] += inv[i][k] * t[k][j];
    }
  Vector term = g1;
  Vector g = g1;
  for (int n = 0; n < 500; ++n) {
    term = times(b, term);
    double largest = 0;
    for (int i = 0; i < kN; ++i) {
      g[i] += term[i];
      largest = std::max(largest, std::abs(term[i]));
    }
    if (largest < 1e-10) break;
  }
  return MicroPriceModel(g, tick_, transitions_);
}

MicroPriceModel::MicroPriceModel(const std::array<double, kStates>& g, Price tick, std::uint64_t transitions)
    : g_(g), tick_(tick), fitted_(true), transitions_(transitions) {}

Result<MicroPriceModel> MicroPriceModel::fit(std::span<const Sample> states, Price tick) {
  if (!tick.is_positive()) return make_error("the micro-price needs a positive tick");
  MicroPriceFit fit(tick);
  for (std::size_t k = 1; k < states.size(); ++k) fit.add(states[k - 1], states[k]);
  return fit.solve();
}

double MicroPriceModel::adjustment_ticks(double imbalance, std::int64_t spread_ticks_) const {
  if (!fitted_) return (imbalance - 0.5) * static_cast<double>(spread_ticks_);
  return g_[spread_state(spread_ticks_) * kImbalanceBuckets + bucket(imbalance)];
}

Price MicroPriceModel::micro_price(Price bid, Qty bid_qty, Price ask, Qty ask_qty) const {
  const Sample s{bid, ask, bid_qty, ask_qty};
  if (!usable(s)) return Price::unset();
  const double g = adjustment_ticks(share_of_bid(s), spread_ticks(s, tick_));
  const std::int64_t mid = (bid.raw() + ask.raw()) / 2;
  return Price::from_raw(mid + std::llround(g * static_cast<double>(tick_.raw())));
}

// ---------------------------------------------------------------------------------------------------------
// Trade flow

TradeFlow::TradeFlow(DurationNs half_life_ns)
    : lambda_(std::log(2.0) / static_cast<double>(std::max<DurationNs>(half_life_ns, 1))),
      half_life_ns_(std::max<DurationNs>(half_life_ns, 1)) {}

double TradeFlow::decayed(double value, TimestampNs now_ns) const {
  return now_ns > at_ns_ ? value * std::exp(-lambda_ * static_cast<double>(now_ns - at_ns_)) : value;
}

void TradeFlow::on_trade(Side taker, Qty qty, TimestampNs at_ns) {
  buy_ = decayed(buy_, at_ns);
  sell_ = decayed(sell_, at_ns);
  at_ns_ = std::max(at_ns_, at_ns);
  (taker == Side::Buy ? buy_ : sell_) += qty.to_double();
}

double TradeFlow::imbalance(TimestampNs now_ns) const {
  const double b = decayed(buy_, now_ns), s = decayed(sell_, now_ns);
  return b + s > 0 ? (b - s) / (b + s) : 0.0;
}

double TradeFlow::rate_per_second(Side taker, TimestampNs now_ns) const {
  // An exponential kernel's decayed sum is rate / lambda: the rate is the sum times lambda.
  return decayed(taker == Side::Buy ? buy_ : sell_, now_ns) * lambda_ * static_cast<double>(kNanosPerSecond);
}

BookSignalTracker::BookSignalTracker(DurationNs flow_half_life_ns) : flow_(flow_half_life_ns) {}

void BookSignalTracker::on_touch(Price bid, Qty bid_qty, Price ask, Qty ask_qty, Price tick) {
  if (tick != fit_.tick()) {
    fit_ = MicroPriceFit(tick);
    model_ = MicroPriceModel();
    have_last_ = false;
    next_fit_ = kFirstFit;
  }
  const MicroPriceModel::Sample now{bid, ask, bid_qty, ask_qty};
  if (have_last_ && now.bid == last_.bid && now.ask == last_.ask && now.bid_qty == last_.bid_qty &&
      now.ask_qty == last_.ask_qty)
    return;
  if (have_last_) fit_.add(last_, now);
  last_ = now;
  have_last_ = true;
  if (fit_.transitions() < next_fit_) return;
  next_fit_ = fit_.transitions() + kRefitEvery;
  if (auto solved = fit_.solve()) {
    model_ = *solved;
    ++refits_;
  }
  if (fit_.transitions() > kMemory) fit_.decay(0.9);
}

double queue_clear_seconds(Qty ahead, double rate_per_second) {
  if (!ahead.is_positive()) return 0.0;
  if (rate_per_second <= 0) return std::numeric_limits<double>::infinity();
  return ahead.to_double() / rate_per_second;
}

// ---------------------------------------------------------------------------------------------------------
// The forecast score

std::vector<StreamTouches> read_touches(EventReader& reader) {
  std::vector<StreamTouches> quotes, books;
  BookReplay replay;
  Event event;
  while (reader.next(event)) {
    if (quotes.size() <= event.stream) {
      quotes.resize(event.stream + 1u);
      books.resize(event.stream + 1u);
    }
    auto& sb = replay.apply(event);
    if (event.kind == EventKind::Quote && event.price.is_set() && event.price2.is_set()) {
      quotes[event.stream].states.push_back(
          {event.recv_ns, {event.price, event.price2, event.qty, event.qty2}});
    } else if ((event.kind == EventKind::BookDelta || event.kind == EventKind::BookSnapshot) && sb.valid) {
      const L2Book& b = sb.book;
      books[event.stream].states.push_back(
          {event.recv_ns, {b.best_bid(), b.best_ask(), b.best_bid_qty(), b.best_ask_qty()}});
    }
  }
  for (std::size_t i = 0; i < quotes.size(); ++i) {
    quotes[i].from_quotes = !quotes[i].states.empty();
    if (!quotes[i].from_quotes) quotes[i].states = std::move(books[i].states);
    if (const auto* sb = replay.stream(static_cast<std::uint16_t>(i))) quotes[i].tick = sb->book.tick_size();
  }
  return quotes;
}

Result<ForecastScore> score_micro_price(std::span<const TimedSample> states, Price tick,
                                        DurationNs horizon_ns, DurationNs every_ns,
                                        MicroPriceModel* fitted_out) {
  if (states.size() < 2) return make_error("no touch to score");
  if (horizon_ns <= 0 || every_ns <= 0)
    return make_error("the horizon and the sampling step must be positive");
  const TimestampNs first = states.front().at_ns, last = states.back().at_ns;
  const TimestampNs split = first + (last - first) / 2;
  std::size_t half = 0;
  while (half < states.size() && states[half].at_ns < split) ++half;
  std::vector<MicroPriceModel::Sample> fit_states;
  fit_states.reserve(half);
  for (std::size_t i = 0; i < half; ++i) fit_states.push_back(states[i].state);
  auto model = MicroPriceModel::fit(fit_states, tick);
  if (!model) return model.error();
  ForecastScore score;
  score.fit_states = half;
  score.fit_transitions = model->transitions();
  const double t = static_cast<double>(tick.raw());
  double se_mid = 0, se_weighted = 0, se_micro = 0;
  std::size_t now = half, ahead = half;
  for (TimestampNs at = split; at + horizon_ns <= last; at += every_ns) {
    while (now + 1 < states.size() && states[now + 1].at_ns <= at) ++now;
    while (ahead + 1 < states.size() && states[ahead + 1].at_ns <= at + horizon_ns) ++ahead;
    const MicroPriceModel::Sample& s = states[now].state;
    const MicroPriceModel::Sample& f = states[ahead].state;
    if (!usable(s) || !usable(f) || states[now].at_ns > at) continue;
    const double mid = static_cast<double>(s.bid.raw() + s.ask.raw()) / 2;
    const double future = static_cast<double>(f.bid.raw() + f.ask.raw()) / 2;
    const double weighted = mid + (share_of_bid(s) - 0.5) * static_cast<double>((s.ask - s.bid).raw());
    const Price micro = model->micro_price(s.bid, s.bid_qty, s.ask, s.ask_qty);
    se_mid += std::pow((future - mid) / t, 2);
    se_weighted += std::pow((future - weighted) / t, 2);
    se_micro += std::pow((future - static_cast<double>(micro.raw())) / t, 2);
    ++score.samples;
  }
  if (score.samples == 0)
    return make_error("no moment of the second half has a touch and one a horizon later");
  const double n = static_cast<double>(score.samples);
  score.rmse_mid_ticks = std::sqrt(se_mid / n);
  score.rmse_weighted_ticks = std::sqrt(se_weighted / n);
  score.rmse_micro_ticks = std::sqrt(se_micro / n);
  if (fitted_out != nullptr) *fitted_out = *model;
  return score;
}

}  // namespace tranche::md
