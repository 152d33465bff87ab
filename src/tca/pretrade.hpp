#pragma once
// The pre-trade cost estimate: what an order is expected to cost under each way of working it, and how
// uncertain that is, from the market as measured just before (volatility, traded volume, spread, depth and
// fees per venue) and a few stated model constants. Costs in bps of the arrival mid, positive = worse, as in
// TCA (notes/TCA.md): spread + impact + fees; risk is the standard deviation of the cost that comes from the
// price moving while the order works (timing risk).
//
// A model, so real numbers: the measured market arrives as doubles (the caller converts at its edge).
//  - Impact: the square-root law, Y x sigma x sqrt(Q / V), with sigma the mid's volatility in bps per
//    sqrt(second) and V others' traded volume in base per second: the same for any horizon long enough to
//    trade Q (a schedule's participation, not its length, sets its impact).
//  - Spread and fees: a resting share p of the order earns half the spread and pays the cheapest maker fee;
//    the rest crosses it and pays the volume-weighted taker fee. A resting order fills only against others'
//    trades, so p is at most their volume over the algo's duration divided by the order.
//  - Risk of a schedule over H seconds: sigma x sqrt(H / 3), the standard deviation of the price moves on
//    a position worked off in a straight line.
//  - The market sweep walks the displayed books now (each venue's levels with its taker fee): no timing risk.
#include <string>
#include <utility>
#include <vector>

#include "core/side.hpp"
#include "core/time.hpp"

namespace tranche::tca {

// One venue as measured over the window before the order.
struct VenueLiquidity {
  std::string venue;
  double maker_fee_bps = 0, taker_fee_bps = 0;
  double spread_bps = 0;    // the mean quoted spread, of the mid
  double depth_base = 0;    // the mean base shown within 10 bps of the mid, on the side the order takes
  double volume_per_s = 0;  // others' traded base per second
  // The side the order takes as it stands now: (price, base) best first, for the sweep.
  std::vector<std::pair<double, double>> levels;
};

struct MarketMeasure {
  TimestampNs at_ns = 0;            // when: the order's arrival
  double mid = 0;                   // the benchmark mid now
  double sigma_bps_per_sqrt_s = 0;  // of one-second mid changes over the window
  std::size_t sigma_samples = 0;    // how many one-second changes it rests on
  double window_s = 0;              // how long the market was measured
  std::vector<VenueLiquidity> venues;
  double volume_per_s() const;  // over every venue
};

struct PretradeOrder {
  Side side = Side::Buy;
  double qty = 0;        // base
  double horizon_s = 0;  // the time the order may take (a schedule's length)
};

// The model's stated constants (docs/tca.md, "Pre-trade estimates"): the assumptions, not measurements.
struct PretradeModel {
  // Y of the square-root law, fitted on the bundled market (least squares over the twap cells of
  // grids/estimates.toml) and judged on the second scenario (docs/tca.md).
  double impact_coefficient = 0.35;
  double passive_share = 0.6;  // resting share of a schedule's fills (twap, vwap, is)
  double pegged_share = 0.9;   // resting share of peg and seek
  double pov_rate = 0.1;       // pov's default share of others' volume
  double pov_end_share = 0.1;  // pov's default floor: at most this left for the final cross
  double risk_weight = 0;      // the recommendation minimises cost + risk_weight x risk
};

struct AlgoEstimate {
  std::string algo;
  double spread_bps = 0, impact_bps = 0, fees_bps = 0;
  double cost_bps = 0;  // the sum
  double risk_bps = 0;  // one standard deviation
  double duration_s = 0;
  std::string note;  // what the estimate assumed for it
};

struct PretradeEstimate {
  double participation = 0;  // Q over Q plus others' volume expected over the horizon
  std::vector<AlgoEstimate> algos;
  std::string recommended;
  std::string why;
};

// Every algo's estimate and the recommendation; the inputs are checked by the caller (a positive quantity
// and horizon, a positive mid).
PretradeEstimate estimate_costs(const MarketMeasure& market, const PretradeOrder& order,
                                const PretradeModel& model = {});

}  // namespace tranche::tca
