#include "tca/pretrade.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace tranche::tca {
namespace {

struct Blend {
  double half_spread_bps = 0;  // by traded volume (equally without any)
  double maker_min_bps = 0;    // where a resting child would go
  double taker_bps = 0;        // by traded volume
};

Blend blend(const MarketMeasure& m) {
  Blend b;
  double weight = 0;
  b.maker_min_bps = std::numeric_limits<double>::infinity();
  for (const VenueLiquidity& v : m.venues) weight += v.volume_per_s;
  for (const VenueLiquidity& v : m.venues) {
    const double w = weight > 0 ? v.volume_per_s / weight : 1.0 / static_cast<double>(m.venues.size());
    b.half_spread_bps += w * v.spread_bps / 2;
    b.taker_bps += w * v.taker_fee_bps;
    b.maker_min_bps = std::min(b.maker_min_bps, v.maker_fee_bps);
  }
  if (m.venues.empty()) b.maker_min_bps = 0;
  return b;
}

// What a schedule working the order over `duration_s` with resting share `p` is expected to cost.
AlgoEstimate schedule(const std::string& algo, const MarketMeasure& m, const Blend& b, const PretradeOrder& o,
                      const PretradeModel& model, double p, double duration_s, std::string note) {
  AlgoEstimate e;
  e.algo = algo;
  const double v = m.volume_per_s();
  // A resting order fills only against others' trades: at most what they trade over its duration rests.
  const double capacity = o.qty > 0 && duration_s > 0 ? v * duration_s / o.qty : p;
  if (capacity < p) {
    p = capacity;
    std::ostringstream capped;
    capped << note << "; resting share " << std::lround(100 * p) << "%: at most others' volume over "
           << std::lround(duration_s) << " s";
    note = capped.str();
  }
  e.spread_bps = (1 - 2 * p) * b.half_spread_bps;
  e.fees_bps = p * b.maker_min_bps + (1 - p) * b.taker_bps;
  e.impact_bps = v > 0 ? model.impact_coefficient * m.sigma_bps_per_sqrt_s * std::sqrt(o.qty / v) : 0;
  e.cost_bps = e.spread_bps + e.impact_bps + e.fees_bps;
  e.duration_s = duration_s;
  e.risk_bps = m.sigma_bps_per_sqrt_s * std::sqrt(std::max(0.0, duration_s) / 3);
  e.note = std::move(note);
  return e;
}

// The market sweep: the displayed books walked now, best price first, each level with its venue's taker fee.
AlgoEstimate sweep(const MarketMeasure& m, const PretradeOrder& o) {
  struct Level {
    double price, base, fee_bps;
  };
  std::vector<Level> levels;
  for (const VenueLiquidity& v : m.venues)
    for (const auto& [price, base] : v.levels)
      if (price > 0 && base > 0) levels.push_back({price, base, v.taker_fee_bps});
  // Best net of each venue's taker fee first, as the router takes them.
  auto net = [&](const Level& l) { return l.price * (1 + sign(o.side) * l.fee_bps * 1e-4); };
  std::sort(levels.begin(), levels.end(), [&](const Level& a, const Level& b) {
    return o.side == Side::Buy ? net(a) < net(b) : net(a) > net(b);
  });
  AlgoEstimate e;
  e.algo = "market";
  const double s = sign(o.side);
  double left = o.qty, notional = 0, fees = 0;
  for (const Level& l : levels) {
    if (left <= 0) break;
    const double take = std::min(left, l.base);
    notional += take * l.price;
    fees += take * l.price * l.fee_bps;
    left -= take;
  }
  const double taken = o.qty - left;
  if (taken <= 0) {
    e.note = "no book to sweep";
    e.cost_bps = std::numeric_limits<double>::quiet_NaN();
    return e;
  }
  if (left > 0) {
    // Beyond what is displayed: priced at the deepest level shown, a lower bound.
    notional += left * levels.back().price;
    fees += left * levels.back().price * levels.back().fee_bps;
    std::ostringstream why;
    why << "the books show " << taken << " of " << o.qty
        << ": the rest priced at the deepest level (a lower bound)";
    e.note = why.str();
  } else {
    e.note = "the displayed books walked now";
  }
  const double average = notional / o.qty;
  const double slip_bps = s * (average - m.mid) / m.mid * 1e4;
  double touch = levels.front().price;
  for (const Level& l : levels)
    touch = o.side == Side::Buy ? std::min(touch, l.price) : std::max(touch, l.price);
  e.spread_bps = s * (touch - m.mid) / m.mid * 1e4;
  e.impact_bps = slip_bps - e.spread_bps;
  e.fees_bps = fees / notional;
  e.cost_bps = e.spread_bps + e.impact_bps + e.fees_bps;
  e.risk_bps = 0;
  return e;
}

}  // namespace

double MarketMeasure::volume_per_s() const {
  double v = 0;
  for (const VenueLiquidity& venue : venues) v += venue.volume_per_s;
  return v;
}

PretradeEstimate estimate_costs(const MarketMeasure& market, const PretradeOrder& order,
                                const PretradeModel& model) {
  PretradeEstimate out;
  const double v = market.volume_per_s();
  const double h = order.horizon_s;
  out.participation = v * h + order.qty > 0 ? order.qty / (v * h + order.qty) : 1;
  out.algos.push_back(sweep(market, order));
  const Blend b = blend(market);
  out.algos.push_back(schedule("twap", market, b, order, model, model.passive_share, h,
                               "an even schedule, resting slices crossed at their deadlines"));
  out.algos.push_back(schedule("vwap", market, b, order, model, model.passive_share, h,
                               "as twap: the volume profile moves when it trades, not how much it costs"));
  out.algos.push_back(
      schedule("is", market, b, order, model, model.passive_share, h,
               "as twap: the default risk aversion keeps the trajectory near the straight line"));
  const double pov_duration =
      v > 0 ? order.qty / (model.pov_rate * v) : std::numeric_limits<double>::infinity();
  if (pov_duration <= h || h <= 0) {  // without a horizon, pov takes as long as its rate needs
    std::ostringstream why;
    why << model.pov_rate * 100 << "% of others' volume finishes in about " << std::lround(pov_duration)
        << " s";
    out.algos.push_back(
        schedule("pov", market, b, order, model, model.passive_share, pov_duration, why.str()));
  } else {
    std::ostringstream why;
    why << model.pov_rate * 100 << "% of others' volume would take "
        << std::lround(std::min(pov_duration, 1e9)) << " s: its floor works it as a straight line to "
        << (1 - model.pov_end_share) * 100 << "% by the end";
    out.algos.push_back(schedule("pov", market, b, order, model, model.passive_share, h, why.str()));
  }
  out.algos.push_back(schedule("peg", market, b, order, model, model.pegged_share, h,
                               "rests at the touch: fills wait for others' prints"));
  out.algos.push_back(schedule("seek", market, b, order, model, model.pegged_share, h,
                               "rests, taking a venue's touch when it shows far above its usual size"));
  const AlgoEstimate* best = nullptr;
  for (const AlgoEstimate& e : out.algos) {
    if (!std::isfinite(e.cost_bps)) continue;
    const double score = e.cost_bps + model.risk_weight * e.risk_bps;
    if (best == nullptr || score < best->cost_bps + model.risk_weight * best->risk_bps - 1e-12) best = &e;
  }
  if (best != nullptr) {
    out.recommended = best->algo;
    std::ostringstream why;
    why << "the lowest expected cost" << (model.risk_weight > 0 ? " plus risk weight x risk" : "") << ": "
        << best->cost_bps << " bps, risk " << best->risk_bps << " bps";
    out.why = why.str();
  }
  return out;
}

}  // namespace tranche::tca
