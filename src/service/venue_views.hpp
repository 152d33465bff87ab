#pragma once
// What the router weighs, built from the simulated venues: each venue's book as it stands, its fee and
// latency, and whether it may be traded now (open, a valid and fresh book, order rate budget left, not
// avoided).
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "ems/router.hpp"
#include "risk/risk_gate.hpp"
#include "sim/simulator.hpp"

namespace tranche::service {

struct VenueViewOptions {
  std::vector<std::string> allowed;  // empty: every venue
  std::vector<std::string> avoid;    // venues that rejected us this parent
  DurationNs max_data_age_ns = 5 * kNanosPerSecond;
  risk::RiskGate* gate = nullptr;  // for the venues' order rate budgets
  std::size_t depth = 200;         // levels a side
  int only_venue = -1;             // the simulator's venue index to build alone; -1: every venue
};

std::vector<ems::VenueView> venue_views(const sim::Simulator& sim, const InstrumentId& instrument,
                                        TimestampNs now_ns, const VenueViewOptions& options = {});

}  // namespace tranche::service
