#pragma once
// Transaction-cost analysis: what an execution cost and why, by the definitions of docs/tca.md (which follows
// the project's TCA notes exactly). One code path for simulated and live executions: it sees only the parent,
// its fills and the market as it stood, never where they came from.
//
// Conventions: s = +1 for a buy, -1 for a sell; costs are positive when bad for us; bps are of the parent's
// notional at arrival N = Q x P0 unless said otherwise; amounts are in the quote currency (a fee charged in
// the coin is converted at its fill's price).
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/fixed_point.hpp"
#include "core/ids.hpp"
#include "core/order.hpp"
#include "core/result.hpp"
#include "core/side.hpp"
#include "core/time.hpp"

namespace tranche::tca {

// The benchmark mid over time: m(t) is the last point at or before t.
class MidSeries {
 public:
  void add(TimestampNs t_ns, double mid);  // times non-decreasing
  // The mid was observed, unchanged, up to this time: the series covers it (markouts reach it).
  void observed_until(TimestampNs t_ns) { covered_ns_ = std::max(covered_ns_, t_ns); }
  std::optional<double> at(TimestampNs t_ns) const;
  // Time-weighted mean over [from, to] (the step function), or nullopt when it has no point at or before
  // from.
  std::optional<double> time_weighted(TimestampNs from_ns, TimestampNs to_ns) const;
  TimestampNs last_ns() const {
    return std::max(covered_ns_, points_.empty() ? TimestampNs{0} : points_.back().t_ns);
  }
  std::size_t size() const { return points_.size(); }
  // Forgets what no time from `t_ns` on reads: every point before the last one at or before it.
  void drop_before(TimestampNs t_ns);
  struct Point {
    TimestampNs t_ns;
    double mid;
  };
  const std::vector<Point>& points() const { return points_; }

 private:
  std::vector<Point> points_;
  TimestampNs covered_ns_ = 0;
};

struct TcaFill {
  ClientOrderId child;
  VenueId venue;
  std::string algo;
  double price = 0;  // quote per base unit
  double qty = 0;    // base units
  double fee = 0;    // quote (negative: rebate)
  TimestampNs fill_ns = 0;
  TimestampNs sent_ns = 0;  // when its child order was sent
  Liquidity liquidity = Liquidity::None;
};

// A print of others in the market (our own fills excluded).
struct MarketTrade {
  VenueId venue;
  TimestampNs t_ns = 0;
  double price = 0;
  double qty = 0;
};

struct TcaInput {
  Side side = Side::Buy;
  double qty = 0;  // Q, base
  TimestampNs arrival_ns = 0;
  TimestampNs end_ns = 0;  // the parent's end; T becomes the last fill when it finished early (filled)
  bool finished_early = false;
  std::string algo;
  VenueId primary_venue;
  const MidSeries* mids = nullptr;  // the benchmark mid m(t)
  std::vector<TcaFill> fills;
  std::vector<MarketTrade> trades;  // others' prints, on every venue, over at least [t0, T]
  std::vector<DurationNs> markout_horizons_ns = {kNanosPerSecond, 10 * kNanosPerSecond, 60 * kNanosPerSecond};
};

// The five parts of implementation shortfall, in quote and in bps of N.
struct CostParts {
  double delay = 0, impact = 0, spread = 0, fees = 0, opportunity = 0;
  double total() const { return delay + impact + spread + fees + opportunity; }
};

struct Breakdown {
  std::string key;  // child id, venue or algo
  double filled = 0;
  double notional = 0;  // sum q p
  double average_price = 0;
  CostParts cost;      // opportunity is always 0 here: it stays with the parent
  CostParts cost_bps;  // of N
  std::size_t fills = 0;
};

struct Markout {
  DurationNs horizon_ns = 0;
  std::optional<double> bps;  // quantity-weighted over the fills the data reaches
  std::size_t fills_covered = 0;
};

struct TcaResult {
  double arrival_price = 0;  // P0
  double end_mid = 0;        // m(T)
  TimestampNs t0_ns = 0, t_end_ns = 0;
  double parent_notional = 0;  // N
  double filled = 0;           // X
  double average_price = 0;
  CostParts cost;                           // quote
  CostParts cost_bps;                       // of N
  double implementation_shortfall = 0;      // quote: sum s q (p - P0) + fees + opportunity
  double implementation_shortfall_bps = 0;  // of N
  std::optional<double> vwap, vwap_slippage_bps;
  std::optional<double> twap, twap_slippage_bps;
  double fill_ratio = 0;
  std::optional<double> participation;
  double market_volume = 0;  // V: others' volume in [t0, T] on the venues we traded on
  std::vector<Markout> markouts;
  std::vector<Markout> passive_markouts;  // the same over our resting (maker) fills alone
  std::vector<Breakdown> by_child, by_venue, by_algo;
};

// Quantity-weighted markouts of `fills` (those of `only`'s liquidity, when given) at each horizon: the mid
// that long after each fill against its price, in bps, positive = the price went against us after it.
std::vector<Markout> markouts(Side side, const std::vector<TcaFill>& fills, const MidSeries& mids,
                              const std::vector<DurationNs>& horizons_ns,
                              std::optional<Liquidity> only = std::nullopt);

// Computes everything; an error when the input cannot be valued (no arrival mid, no quantity).
Result<TcaResult> analyze(const TcaInput& input);

}  // namespace tranche::tca
