#pragma once
// `--algo auto`: the algo chosen for a parent from evidence. Two kinds of it:
//  - the pre-trade estimate (tca/pretrade.hpp) of every candidate algo on the market measured before the
//  parent;
//  - the TCA of our own past parents (AlgoEvidence): how far each algo's realised cost fell from its
//  estimate, by
//    size bucket (the parent's share of the volume expected over its horizon), learned from every parent that
//    ran with an estimate and kept in a file, as the venue scorecards are.
// Each candidate's estimate is corrected by its mean past error, shrunk toward none while there are few past
// parents (n / (n + kPriorParents) of it); the lowest corrected cost (plus a risk weight times the risk)
// wins.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "ems/market_meter.hpp"
#include "oms/records.hpp"
#include "tca/pretrade.hpp"

namespace tranche::ems {

// The algo name a parent gives to have its algo chosen for it.
inline constexpr const char* kAutoAlgo = "auto";

// The size buckets by participation: below 1%, 1-5%, 5-20%, 20% and over.
std::string size_bucket(double participation);

struct AlgoRecord {
  std::uint64_t parents = 0;
  double error_sum = 0, error_squares = 0;  // realised - estimate, bps
  double cost_sum = 0;                      // realised, bps
  double mean_error() const { return parents > 0 ? error_sum / static_cast<double>(parents) : 0; }
  double mean_cost() const { return parents > 0 ? cost_sum / static_cast<double>(parents) : 0; }
  double error_sd() const;
};

class AlgoEvidence {
 public:
  // Past parents that count as much as the estimate's own claim: with n of them, n / (n + 5) of their mean
  // error corrects the estimate.
  static constexpr double kPriorParents = 5;

  // A parent of `algo` in `bucket` estimated at `estimate_bps` that cost `realised_bps`. Non-finite figures
  // are not evidence and are left out.
  void on_parent(const std::string& bucket, const std::string& algo, double estimate_bps,
                 double realised_bps);
  // A parent that ran with `estimate` and cost `realised_bps`: its algo in its estimate's size bucket.
  void on_parent(const ParentEstimate& estimate, double realised_bps);
  const AlgoRecord* find(const std::string& bucket, const std::string& algo) const;
  // The correction to `algo`'s estimate in `bucket` (0 without evidence).
  double correction(const std::string& bucket, const std::string& algo) const;
  std::uint64_t parents() const;
  const std::map<std::string, std::map<std::string, AlgoRecord>>& buckets() const { return buckets_; }

  // A missing file is no evidence; a file that is not one is an error naming it.
  static Result<AlgoEvidence> load(const std::string& path);
  Status save(const std::string& path) const;  // written to a temporary file and renamed
  std::string to_json() const;

 private:
  std::map<std::string, std::map<std::string, AlgoRecord>> buckets_;  // bucket -> algo -> record
};

// What `auto` may choose among by default, and what it never may (an iceberg needs a display a trader sets; a
// custom algo has no estimate).
const std::vector<std::string>& auto_candidates();

struct AutoChoice {
  std::string algo;
  std::vector<oms::AlgoParam> params;  // what auto set beside the parent's own (pov's rate)
  std::string why;

  // The journal's form ("chose=ALGO [key=value ...] | why") and back.
  std::string detail() const;
  static std::optional<AutoChoice> from_detail(const std::string& detail);
};

// The auto parent's own settings, from its parameters: `auto_algos` (candidates, '|'-separated) and
// `auto_risk_weight` (0 to 100). An error names a bad one.
struct AutoSettings {
  std::vector<std::string> candidates;
  double risk_weight = 0;
};
Result<AutoSettings> auto_settings(const std::vector<oms::AlgoParam>& params);
// The parent's parameters the chosen algo gets: its own, without auto's, with the choice's.
std::vector<oms::AlgoParam> chosen_params(const std::vector<oms::AlgoParam>& params,
                                          const AutoChoice& choice);

// Whether `parent`'s algo and parameters are ones the kernel takes: its algo made (for auto: its settings,
// and its parameters made into every candidate). The error says what is wrong.
Status check_algo(const oms::ParentOrder& parent);

// Chooses among `settings.candidates` for an order of `order` on `market` (pov's rate is chosen to finish
// within the horizon, unless the parent set one).
AutoChoice choose_algo(const tca::MarketMeasure& market, const tca::PretradeOrder& order,
                       const std::vector<oms::AlgoParam>& params, const AutoSettings& settings,
                       const AlgoEvidence* evidence);

}  // namespace tranche::ems
