#pragma once
// `tranche estimate`: the pre-trade cost of an order under each algo (tca/pretrade.hpp), from the scenario's
// recorded market over the window before the arrival time: volatility, others' traded volume, spread and
// depth per venue, fees, and the books as they stand at arrival.
#include <iosfwd>
#include <string>

#include "core/result.hpp"
#include "core/time.hpp"
#include "tca/pretrade.hpp"

namespace tranche::service {

struct EstimateOptions {
  std::string side, qty;
  std::string instrument = "ETH-USDT";
  std::string horizon = "2m";
  std::string at;  // the arrival time; empty: the data's start + the lookback
  std::string lookback = "5m";
  std::string scenario;  // empty: the bundled config
  double risk_weight = 0;
  std::string evidence;  // the TCA of past parents: also say what `--algo auto` would choose (empty: on none)
  bool json = false;
};

// The market as measured over [at - lookback, at) on every venue of the scenario listing `instrument`;
// `at_ns` 0: the data's start + the lookback.
Result<tca::MarketMeasure> measure_market(const std::string& scenario, const std::string& instrument,
                                          Side side, TimestampNs at_ns, DurationNs lookback_ns);

int estimate_command(const EstimateOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tranche::service
