#pragma once
// `tranche backtest --grid FILE`: every combination of algos x sizes x horizons x start times x sides x
// scenarios, each run in process as `tranche execute` runs it (its own simulator, journal and kernel, the
// whole product; results as typed values), on the worker threads; a comparison table on the terminal, as JSON
// (--json) and as HTML (--html). Deterministic for a given seed: each run is.
#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "oms/records.hpp"

namespace tranche::service {

struct GridSize {
  std::string label;    // as written: "10x" or "25"
  double multiple = 0;  // of the touch size; 0: `base` is a quantity
  double base = 0;
};

// The [backtest] table of a grid file (docs/config.md).
struct GridSpec {
  std::string source;
  std::string instrument = "ETH-USDT";
  std::vector<std::string> algos;
  std::vector<GridSize> sizes;
  std::vector<DurationNs> horizons;
  std::vector<std::string> horizon_labels;
  std::vector<TimestampNs> starts;
  std::vector<std::string> sides = {"buy", "sell"};
  std::vector<std::string> scenarios;  // config files; "default": the bundled one
  std::optional<std::uint64_t> seed;   // unset: each scenario's own
  int threads = 0;                     // 0: every core
  std::vector<std::pair<std::string, std::vector<oms::AlgoParam>>> params;  // per algo
  // [[backtest.variants]]: each algo (but market) runs once per variant, its parameters over the algo's own;
  // the first is the baseline the others are compared with, run by run. Empty: one run, no comparison.
  struct Variant {
    std::string name;
    std::vector<oms::AlgoParam> params;
  };
  std::vector<Variant> variants;
  // `compare = "twap"`: every other algo is also compared with this one run by run (same scenario, size,
  // horizon, variant, start and side). `compare = "best"`: auto is compared with the cell's best single
  // algo (the lowest mean cost of the grid's other algos there). Empty: no such comparison.
  std::string compare;
  // `evidence = "FILE"`: the TCA of past parents by algo and size, read by every auto run (a path from the
  // working directory). `learn = true`: after the grid, every run but auto's is added to it and it is saved.
  std::string evidence;
  bool learn = false;
  // `estimates = true`: each run also gets its algo's pre-trade estimate (tca/pretrade.hpp) from the five
  // minutes of market before its start, and the summary how far the realised cost fell from it.
  bool estimates = false;
};

Result<GridSpec> load_grid(const std::string& path);
// The parameters a run of `algo` under `variant` gets: the algo's [backtest.params.ALGO], the variant's over
// them (market: none).
std::vector<oms::AlgoParam> run_params(const GridSpec& spec, const std::string& algo,
                                       const std::string& variant);

struct GridRun {
  std::string scenario, algo, side, size_label, horizon_label;
  std::string variant;  // empty without variants (and for market)
  TimestampNs start_ns = 0;
  double qty = 0;
  // The result.
  bool ok = false;
  std::string error, state, done_text;
  double cost_bps = 0;          // implementation shortfall over the whole parent, fees included
  double cost_ex_fees_bps = 0;  // the same without fees
  double fill_ratio = 0;
  std::uint64_t children = 0;
  // With the fill-model band: the same run's cost under cross_fill none and full.
  double cost_none_bps = 0, cost_full_bps = 0;
  // Our resting fills: their share of the filled base, and their markouts 1 s and 10 s on (bps, positive =
  // the price went against us after the fill; unset when none filled resting or the data ends first).
  double resting_share = 0;
  std::optional<double> passive_1s_bps, passive_10s_bps;
  // With `estimates`: the pre-trade estimate of the run's algo (cost and its risk, bps); unset for an algo
  // the model does not know.
  std::optional<double> estimate_bps, estimate_risk_bps;
  std::string algo_run;  // the algo that worked it (auto's choice)
  std::string bucket;    // its size bucket (ems::size_bucket)
};

// A variant against the baseline over the same runs (same scenario, size, horizon, algo, start and side):
// the mean of the differences and its standard error, so the market's path cancels in each pair.
struct PairedDifference {
  std::string baseline;  // the algo compared with
  std::size_t pairs = 0;
  double cost_bps = 0, cost_se_bps = 0;
  double ex_fees_bps = 0, ex_fees_se_bps = 0;
  // Markouts of resting fills, over the pairs where both have them.
  std::size_t markout_pairs = 0;
  double passive_1s_bps = 0, passive_1s_se_bps = 0;
  double passive_10s_bps = 0, passive_10s_se_bps = 0;
};

struct GridSummary {
  std::string scenario, size_label, horizon_label, algo;
  std::string variant;
  double touch_size = 0;
  double qty = 0;
  std::size_t runs = 0, failed = 0;
  double cost_bps = 0, cost_ex_fees_bps = 0;  // means over starts and sides
  double risk_bps = 0;                        // standard deviation of cost_bps
  double fill_ratio = 0;
  double vs_market_bps = 0;  // cost_bps minus market's in the same scenario, size and horizon
  bool has_market = false;
  // With the fill-model band: means under cross_fill none and full, and the same against market's.
  bool has_band = false;
  double cost_none_bps = 0, cost_full_bps = 0;
  double vs_market_none_bps = 0, vs_market_full_bps = 0;
  // Resting fills: their mean share, and their markouts' means over the runs that have them.
  double resting_share = 0;
  std::optional<double> passive_1s_bps, passive_10s_bps;
  // Against the baseline variant (set on every other variant's rows).
  std::optional<PairedDifference> vs_baseline;
  // Against the grid's `compare` algo under the same variant (set on every other algo's rows but market's).
  std::optional<PairedDifference> vs_compare;
  // With `estimates`: the estimate's mean, the realised cost less it (mean and standard deviation over the
  // runs) and the share of runs whose realised cost fell within one estimated risk of the estimate.
  std::optional<double> estimate_bps;
  double estimate_error_bps = 0, estimate_error_sd_bps = 0, within_risk_share = 0;
  std::map<std::string, std::size_t> chosen;  // auto's rows: how often it chose each algo
};

struct GridResult {
  std::vector<std::pair<std::string, double>> touch_sizes;  // per scenario
  std::vector<std::string> data_issues;  // what the runs' replays met in the recordings, each once, sorted
  std::vector<GridRun> runs;
  std::vector<GridSummary> summary;
};

// Runs the grid (`threads` workers; 0: the spec's, else every core). Progress on `err`.
// With `strict_data`, a run whose recording ends early or has an unusable stretch fails; with `fill_band`,
// each run is also made under cross_fill none and full (docs/simulator.md).
Result<GridResult> run_grid(const GridSpec& spec, std::ostream& err, int threads = 0,
                            bool strict_data = false, bool fill_band = false);

// The time-weighted median of the quantity shown at the best bid and offer (their mean) of the scenario's
// primary venue over [from, to), sampled every 100 ms.
Result<double> touch_size(const std::string& scenario, const std::string& instrument, TimestampNs from,
                          TimestampNs to);

struct BacktestOptions {
  std::string grid;
  bool json = false;
  std::string html;
  int threads = 0;
  bool strict_data = false;
  bool fill_band = false;
};

int backtest_command(const BacktestOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tranche::service
