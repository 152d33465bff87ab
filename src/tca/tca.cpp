#include "tca/tca.hpp"

#include <algorithm>
#include <set>

namespace tranche::tca {

void MidSeries::add(TimestampNs t_ns, double mid) {
  if (!points_.empty() && t_ns < points_.back().t_ns) t_ns = points_.back().t_ns;  // never backwards
  if (!points_.empty() && points_.back().t_ns == t_ns) {
    points_.back().mid = mid;
    return;
  }
  if (!points_.empty() && points_.back().mid == mid) return;  // a step function: only changes matter
  points_.push_back({t_ns, mid});
}

void MidSeries::drop_before(TimestampNs t_ns) {
  auto it = std::upper_bound(points_.begin(), points_.end(), t_ns,
                             [](TimestampNs t, const Point& p) { return t < p.t_ns; });
  if (it == points_.begin()) return;
  points_.erase(points_.begin(), it - 1);  // the last point at or before t_ns stays: at(t_ns) reads it
}

std::optional<double> MidSeries::at(TimestampNs t_ns) const {
  auto it = std::upper_bound(points_.begin(), points_.end(), t_ns,
                             [](TimestampNs t, const Point& p) { return t < p.t_ns; });
  if (it == points_.begin()) return std::nullopt;
  return std::prev(it)->mid;
}

std::optional<double> MidSeries::time_weighted(TimestampNs from_ns, TimestampNs to_ns) const {
  const auto start = at(from_ns);
  if (!start) return std::nullopt;
  if (to_ns <= from_ns) return start;
  double area = 0;
  TimestampNs t = from_ns;
  double current = *start;
  auto it = std::upper_bound(points_.begin(), points_.end(), from_ns,
                             [](TimestampNs x, const Point& p) { return x < p.t_ns; });
  for (; it != points_.end() && it->t_ns < to_ns; ++it) {
    area += current * static_cast<double>(it->t_ns - t);
    t = it->t_ns;
    current = it->mid;
  }
  area += current * static_cast<double>(to_ns - t);
  return area / static_cast<double>(to_ns - from_ns);
}

namespace {

void add_fill_costs(CostParts& c, double s, const TcaFill& f, double p0, double m_sent, double m_fill) {
  c.delay += s * f.qty * (m_sent - p0);
  c.impact += s * f.qty * (m_fill - m_sent);
  c.spread += s * f.qty * (f.price - m_fill);
  c.fees += f.fee;
}

CostParts in_bps(const CostParts& c, double n) {
  const double k = n > 0 ? 1e4 / n : 0;
  return {c.delay * k, c.impact * k, c.spread * k, c.fees * k, c.opportunity * k};
}

}  // namespace

std::vector<Markout> markouts(Side side, const std::vector<TcaFill>& fills, const MidSeries& mids,
                              const std::vector<DurationNs>& horizons_ns, std::optional<Liquidity> only) {
  const double s = side == Side::Buy ? 1.0 : -1.0;
  std::vector<Markout> out;
  for (DurationNs h : horizons_ns) {
    Markout mk;
    mk.horizon_ns = h;
    double weighted = 0, weight = 0;
    for (const auto& f : fills) {
      if (only && f.liquidity != *only) continue;
      if (f.fill_ns + h > mids.last_ns()) continue;
      const auto later = mids.at(f.fill_ns + h);
      if (!later || !(f.price > 0)) continue;
      weighted += f.qty * 1e4 * s * (f.price - *later) / f.price;
      weight += f.qty;
      ++mk.fills_covered;
    }
    if (weight > 0) mk.bps = weighted / weight;
    out.push_back(mk);
  }
  return out;
}

Result<TcaResult> analyze(const TcaInput& in) {
  if (in.mids == nullptr) return make_error("TCA needs the benchmark mid series");
  if (!(in.qty > 0)) return make_error("TCA needs a positive parent quantity");
  const auto p0 = in.mids->at(in.arrival_ns);
  if (!p0) return make_error("no benchmark mid at the parent's arrival " + format_time(in.arrival_ns));
  const double s = in.side == Side::Buy ? 1.0 : -1.0;

  TcaResult r;
  r.arrival_price = *p0;
  r.t0_ns = in.arrival_ns;
  r.t_end_ns = in.end_ns;
  if (in.finished_early && !in.fills.empty()) {
    r.t_end_ns = in.arrival_ns;
    for (const auto& f : in.fills) r.t_end_ns = std::max(r.t_end_ns, f.fill_ns);
  }
  r.end_mid = in.mids->at(r.t_end_ns).value_or(*p0);
  r.parent_notional = in.qty * r.arrival_price;

  std::map<std::string, Breakdown> by_child, by_venue, by_algo;
  auto account = [&](std::map<std::string, Breakdown>& into, const std::string& key, const TcaFill& f,
                     double m_sent, double m_fill) {
    Breakdown& b = into[key];
    b.key = key;
    b.filled += f.qty;
    b.notional += f.qty * f.price;
    ++b.fills;
    add_fill_costs(b.cost, s, f, r.arrival_price, m_sent, m_fill);
  };
  double notional = 0;
  double price_vs_arrival = 0;
  for (const auto& f : in.fills) {
    const double m_sent = in.mids->at(f.sent_ns).value_or(r.arrival_price);
    const double m_fill = in.mids->at(f.fill_ns).value_or(m_sent);
    add_fill_costs(r.cost, s, f, r.arrival_price, m_sent, m_fill);
    r.filled += f.qty;
    notional += f.qty * f.price;
    price_vs_arrival += s * f.qty * (f.price - r.arrival_price);
    account(by_child, std::to_string(f.child.value()), f, m_sent, m_fill);
    account(by_venue, f.venue.str(), f, m_sent, m_fill);
    account(by_algo, f.algo.empty() ? in.algo : f.algo, f, m_sent, m_fill);
  }
  r.average_price = r.filled > 0 ? notional / r.filled : 0;
  r.cost.opportunity = s * (in.qty - r.filled) * (r.end_mid - r.arrival_price);
  r.implementation_shortfall = price_vs_arrival + r.cost.fees + r.cost.opportunity;
  r.cost_bps = in_bps(r.cost, r.parent_notional);
  r.implementation_shortfall_bps =
      r.parent_notional > 0 ? 1e4 * r.implementation_shortfall / r.parent_notional : 0;

  // Interval benchmarks over [t0, T], our own fills excluded (the trades given are others' prints).
  std::set<std::string> traded_on;
  for (const auto& f : in.fills) traded_on.insert(f.venue.str());
  double vwap_num = 0, vwap_den = 0;
  for (const auto& t : in.trades) {
    if (t.t_ns < r.t0_ns || t.t_ns > r.t_end_ns) continue;
    if (t.venue == in.primary_venue) {
      vwap_num += t.price * t.qty;
      vwap_den += t.qty;
    }
    if (traded_on.count(t.venue.str())) r.market_volume += t.qty;
  }
  if (vwap_den > 0) {
    r.vwap = vwap_num / vwap_den;
    if (r.filled > 0) r.vwap_slippage_bps = 1e4 * s * (r.average_price - *r.vwap) / *r.vwap;
  }
  r.twap = in.mids->time_weighted(r.t0_ns, r.t_end_ns);
  if (r.twap && r.filled > 0) r.twap_slippage_bps = 1e4 * s * (r.average_price - *r.twap) / *r.twap;
  r.fill_ratio = r.filled / in.qty;
  if (r.filled + r.market_volume > 0) r.participation = r.filled / (r.filled + r.market_volume);

  // Markouts: what the mid did after each fill, where the data reaches; and after our resting fills alone
  // (the adverse selection a passive placement meets).
  r.markouts = markouts(in.side, in.fills, *in.mids, in.markout_horizons_ns);
  r.passive_markouts = markouts(in.side, in.fills, *in.mids, in.markout_horizons_ns, Liquidity::Maker);

  auto finish = [&](std::map<std::string, Breakdown>& from, std::vector<Breakdown>& to) {
    for (auto& [_, b] : from) {
      b.average_price = b.filled > 0 ? b.notional / b.filled : 0;
      b.cost_bps = in_bps(b.cost, r.parent_notional);
      to.push_back(b);
    }
  };
  finish(by_child, r.by_child);
  finish(by_venue, r.by_venue);
  finish(by_algo, r.by_algo);
  return r;
}

}  // namespace tranche::tca
