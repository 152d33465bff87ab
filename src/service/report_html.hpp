#pragma once
// `tranche execute --html FILE`: a self-contained report (charts and tables, the charting library inlined).
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "core/time.hpp"

namespace tranche::service {

// `run` is the JSON `tranche execute --json` prints; `mids` the benchmark mid over time; `filled` the
// cumulative filled base quantity over time. Written to a temporary file and renamed: never half-written.
Status write_execution_report(const std::string& path, const nlohmann::ordered_json& run,
                              const std::vector<std::pair<TimestampNs, double>>& mids,
                              const std::vector<std::pair<TimestampNs, double>>& filled,
                              const std::vector<std::pair<TimestampNs, double>>& schedule);

}  // namespace tranche::service
