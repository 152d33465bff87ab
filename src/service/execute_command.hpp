#pragma once
// `tranche execute`: one parent order against a market (the bundled three-venue default unless --scenario
// says otherwise), through the whole product: risk gate, OMS and journal, the simulated venues behind their
// gateways, and TCA at the end.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/fixed_point.hpp"
#include "core/result.hpp"
#include "core/side.hpp"
#include "core/time.hpp"
#include "ems/algo_evidence.hpp"
#include "oms/records.hpp"
#include "tca/tca.hpp"

namespace tranche::service {

struct ExecuteOptions {
  std::string basket;  // a list of parents executed as one (docs/lists.md); then no side, qty, algo
  std::string side;
  std::string qty;
  std::string instrument = "ETH-USDT";
  std::string algo = "market";
  std::vector<std::string> params;  // KEY=VALUE, the algo's parameters (docs/algos.md)
  std::string start, end;  // receive clock; start: the data's (the scenario's) start; end: start + 2 minutes
  std::string limit;
  std::vector<std::string> venues;
  std::string scenario;  // a config file; empty: the bundled default
  std::optional<std::uint64_t> seed;
  std::string journal;  // empty: a temporary journal, removed at the end
  std::string html;
  std::string scorecard;  // venue scorecards to read, update and save (empty: none kept)
  std::string evidence;   // the TCA of past parents by algo (auto reads it), updated and saved (empty: none)
  bool json = false;
  bool strict_data =
      false;              // a recording that ends early or has an unusable stretch is an error, not a warning
  bool scan_data = true;  // read the recordings for data issues first (backtest scans once per scenario)
  std::string cross_fill;  // overrides every simulated venue's [venue.sim] cross_fill: none, prints or full
  bool fill_band = false;  // also run under cross_fill none and full, and report the costs side by side
  bool progress = true;    // a progress bar on stderr when it is a terminal
  std::uint64_t* recorded_events = nullptr;  // benchmarks: set to the recorded events the run replayed
};

int execute_command(const ExecuteOptions& options, std::ostream& out, std::ostream& err);

// The window a run covers: from `start` (the data's start when unset) to `end` (start + 2 minutes when unset,
// never past the data), checked against the data (`scenario_end` 0: it has no stated end). The error names
// the option at fault.
struct RunWindow {
  TimestampNs start_ns = 0, end_ns = 0;
};
Result<RunWindow> run_window(std::optional<TimestampNs> start, std::optional<TimestampNs> end,
                             TimestampNs data_start, TimestampNs scenario_end);

// One parent's run as typed values: what `execute` runs once and `backtest` runs for each grid cell, in
// process (each on its own simulator, journal and kernel).
struct ExecutionRequest {
  Side side = Side::Buy;
  Qty qty;
  std::string instrument = "ETH-USDT";
  std::string algo = "market";
  std::vector<oms::AlgoParam> params;
  std::optional<TimestampNs> start_ns, end_ns;  // unset: the data's start; start + 2 minutes
  Price limit = Price::unset();
  std::vector<std::string> venues;  // where orders may go (empty: every venue)
  std::string scenario;             // a config file; empty: the bundled default
  std::optional<std::uint64_t> seed;
  std::string journal;    // empty: a temporary journal, removed at the end
  std::string scorecard;  // venue scorecards to read, update and save (empty: none kept)
  std::string evidence;   // the TCA of past parents by algo: read (auto), updated and saved (empty: none)
  const ems::AlgoEvidence* evidence_in = nullptr;  // read only (a grid's), when `evidence` is empty
  std::optional<CrossFill> cross_fill;
  bool fill_band = false;
  bool scan_data = true;
  bool strict_data = false;
  bool progress = false;
  bool keep_details = true;  // children, fills and series for the report (a grid cell needs only costs)
  std::uint64_t* recorded_events = nullptr;
};

// The costs of one run under one crossing-book fill model.
struct BandCost {
  std::string model;  // none, prints, full
  double implementation_shortfall_bps = 0;
  double fill_ratio = 0;
};

struct ExecutionSummary {
  std::string state = "rejected";  // the parent's final state
  std::string done_text;
  std::string error;  // why the run failed or the parent was refused (empty: it ran)
  double implementation_shortfall_bps = 0, fees_bps = 0, fill_ratio = 0;
  std::size_t children = 0;
  double resting_share = 0;                    // of the filled base, what filled resting (maker)
  std::vector<tca::Markout> passive_markouts;  // of the resting fills: 1 s, 10 s, 60 s
  std::vector<BandCost> band;                  // with fill_band: none, prints and full
  // The kernel's pre-trade estimate of the parent's algo (docs/tca.md): its cost and risk, bps.
  std::optional<double> estimate_bps, estimate_risk_bps;
  std::string algo_run;  // the algo that worked it (auto's choice)
  std::string bucket;    // its size bucket (ems::size_bucket of the estimate's participation)
  bool ok = false;       // ran, and the parent was accepted
};

// Runs `request` (messages on `err`); the summary of what it cost. An error is a request that could not
// run at all (bad input, a missing file).
Result<ExecutionSummary> run_execution(const ExecutionRequest& request, std::ostream& err);

// `tranche scorecard FILE [--json]`: the venue scorecards an execution left.
int scorecard_command(const std::string& file, bool json, std::ostream& out, std::ostream& err);

// The algos `tranche execute --algo` knows.
std::vector<std::string> known_algos();

}  // namespace tranche::service
