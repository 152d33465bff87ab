#pragma once
// `tranche execute`: one parent order against a market (the bundled three-venue default unless --scenario
// says otherwise), through the whole product: risk gate, OMS and journal, the simulated venues behind their
// gateways, and TCA at the end.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace tranche::service {

struct ExecuteOptions {
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

// `tranche scorecard FILE [--json]`: the venue scorecards an execution left.
int scorecard_command(const std::string& file, bool json, std::ostream& out, std::ostream& err);

// The algos `tranche execute --algo` knows.
std::vector<std::string> known_algos();

}  // namespace tranche::service
