#include "ems/algo_evidence.hpp"

#include "ems/list_balance.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/file_output.hpp"
#include "ems/algo.hpp"
#include "ems/market_meter.hpp"

namespace tranche::ems {
namespace {

using nlohmann::json;

constexpr const char* kAlgosKey = "auto_algos";
constexpr const char* kRiskWeightKey = "auto_risk_weight";
// pov's rate under auto: this many times the share of the volume that finishes the parent by its end, within
// these bounds (a margin for the volume falling; never so low it takes forever, nor so high it is the
// market).
constexpr double kPovMargin = 1.25;
constexpr double kPovRateMin = 0.02, kPovRateMax = 0.3;

std::string number(double v, int digits = 2) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(digits);
  o << v;
  return o.str();
}

bool given(const std::vector<oms::AlgoParam>& params, const std::string& key) {
  return std::any_of(params.begin(), params.end(), [&](const oms::AlgoParam& p) { return p.key == key; });
}

}  // namespace

std::string size_bucket(double participation) {
  if (participation < 0.01) return "under 1%";
  if (participation < 0.05) return "1-5%";
  if (participation < 0.2) return "5-20%";
  return "20% and over";
}

double AlgoRecord::error_sd() const {
  if (parents < 2) return 0;
  const double n = static_cast<double>(parents);
  return std::sqrt(std::max(0.0, (error_squares - error_sum * error_sum / n) / (n - 1)));
}

void AlgoEvidence::on_parent(const std::string& bucket, const std::string& algo, double estimate_bps,
                             double realised_bps) {
  if (!std::isfinite(estimate_bps) || !std::isfinite(realised_bps)) return;
  AlgoRecord& r = buckets_[bucket][algo];
  const double error = realised_bps - estimate_bps;
  ++r.parents;
  r.error_sum += error;
  r.error_squares += error * error;
  r.cost_sum += realised_bps;
}

void AlgoEvidence::on_parent(const ParentEstimate& estimate, double realised_bps) {
  on_parent(size_bucket(estimate.participation), estimate.own.algo, estimate.own.cost_bps, realised_bps);
}

const AlgoRecord* AlgoEvidence::find(const std::string& bucket, const std::string& algo) const {
  auto b = buckets_.find(bucket);
  if (b == buckets_.end()) return nullptr;
  auto a = b->second.find(algo);
  return a == b->second.end() ? nullptr : &a->second;
}

double AlgoEvidence::correction(const std::string& bucket, const std::string& algo) const {
  const AlgoRecord* r = find(bucket, algo);
  if (r == nullptr || r->parents == 0) return 0;
  const double n = static_cast<double>(r->parents);
  return r->mean_error() * n / (n + kPriorParents);
}

std::uint64_t AlgoEvidence::parents() const {
  std::uint64_t n = 0;
  for (const auto& [bucket, algos] : buckets_)
    for (const auto& [algo, r] : algos) n += r.parents;
  return n;
}

std::string AlgoEvidence::to_json() const {
  json j;
  j["format"] = "tranche-algo-evidence";
  json buckets = json::object();
  for (const auto& [bucket, algos] : buckets_)
    for (const auto& [algo, r] : algos)
      buckets[bucket][algo] = {{"parents", r.parents},
                               {"error_sum", r.error_sum},
                               {"error_squares", r.error_squares},
                               {"cost_sum", r.cost_sum},
                               {"mean_error_bps", r.mean_error()},
                               {"error_sd_bps", r.error_sd()},
                               {"mean_cost_bps", r.mean_cost()}};
  j["buckets"] = buckets;
  return j.dump(2);
}

Result<AlgoEvidence> AlgoEvidence::load(const std::string& path) {
  AlgoEvidence evidence;
  if (!std::filesystem::exists(path)) return evidence;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("format") || !j["format"].is_string() ||
      j["format"].get<std::string>() != "tranche-algo-evidence" || !j.contains("buckets") ||
      !j["buckets"].is_object())
    return make_error(path + ": not a Tranche algo evidence file");
  try {
    for (const auto& [bucket, algos] : j.at("buckets").items())
      for (const auto& [algo, v] : algos.items()) {
        AlgoRecord r;
        r.parents = v.at("parents").get<std::uint64_t>();
        r.error_sum = v.at("error_sum").get<double>();
        r.error_squares = v.at("error_squares").get<double>();
        r.cost_sum = v.at("cost_sum").get<double>();
        if (!std::isfinite(r.error_sum) || !std::isfinite(r.error_squares) || !std::isfinite(r.cost_sum) ||
            r.error_squares < 0)
          return make_error(path + ": " + bucket + " " + algo + ": its sums are not finite");
        evidence.buckets_[bucket][algo] = r;
      }
  } catch (const json::exception& e) {
    return make_error(path + ": malformed algo evidence: " + e.what());
  }
  return evidence;
}

Status AlgoEvidence::save(const std::string& path) const {
  return write_file_replacing(path, to_json() + "\n", "the algo evidence");
}

const std::vector<std::string>& auto_candidates() {
  static const std::vector<std::string> names = {"twap", "vwap", "is", "pov", "peg", "seek", "market"};
  return names;
}

std::string AutoChoice::detail() const {
  std::string out = "chose=" + algo;
  for (const auto& p : params) out += " " + p.key + "=" + p.value;
  return out + " | " + why;
}

std::optional<AutoChoice> AutoChoice::from_detail(const std::string& detail) {
  const auto bar = detail.find(" | ");
  std::istringstream in(detail.substr(0, bar));
  std::string item;
  AutoChoice c;
  while (in >> item) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) return std::nullopt;
    if (c.algo.empty()) {
      if (item.substr(0, eq) != "chose") return std::nullopt;
      c.algo = item.substr(eq + 1);
      continue;
    }
    c.params.push_back({item.substr(0, eq), item.substr(eq + 1)});
  }
  if (c.algo.empty()) return std::nullopt;
  if (bar != std::string::npos) c.why = detail.substr(bar + 3);
  return c;
}

Result<AutoSettings> auto_settings(const std::vector<oms::AlgoParam>& params) {
  AutoSettings s;
  for (const auto& p : params) {
    if (p.key == kAlgosKey) {
      std::istringstream in(p.value);
      std::string name;
      while (std::getline(in, name, '|')) {
        const auto& known = auto_candidates();
        if (std::find(known.begin(), known.end(), name) == known.end())
          return make_error(std::string(kAlgosKey) + ": '" + name + "' is not one auto may choose (" +
                            "twap, vwap, is, pov, peg, seek, market)");
        if (std::find(s.candidates.begin(), s.candidates.end(), name) != s.candidates.end())
          return make_error(std::string(kAlgosKey) + ": '" + name + "' is given twice");
        s.candidates.push_back(name);
      }
      if (s.candidates.empty()) return make_error(std::string(kAlgosKey) + " names no algo");
    } else if (p.key == kRiskWeightKey) {
      char* end = nullptr;
      s.risk_weight = std::strtod(p.value.c_str(), &end);
      if (end == p.value.c_str() || *end != '\0' || !std::isfinite(s.risk_weight) || s.risk_weight < 0 ||
          s.risk_weight > 100)
        return make_error(std::string(kRiskWeightKey) + " must be a number from 0 to 100, not '" + p.value +
                          "'");
    }
  }
  if (s.candidates.empty()) s.candidates = auto_candidates();
  return s;
}

std::vector<oms::AlgoParam> chosen_params(const std::vector<oms::AlgoParam>& params,
                                          const AutoChoice& choice) {
  std::vector<oms::AlgoParam> out;
  for (const auto& p : params)
    if (p.key != kAlgosKey && p.key != kRiskWeightKey) out.push_back(p);
  for (const auto& p : choice.params)
    if (!given(out, p.key)) out.push_back(p);
  return out;
}

Status check_algo(const oms::ParentOrder& parent) {
  if (parent.algo != kAutoAlgo) {
    auto made = make_algo(parent);
    return made ? Status{} : make_error(made.error().message);
  }
  auto settings = auto_settings(parent.params);
  if (!settings) return make_error("auto: " + settings.error().message);
  oms::ParentOrder probe = parent;
  probe.params = chosen_params(parent.params, {});
  for (const std::string& candidate : settings->candidates) {
    probe.algo = candidate;
    if (candidate == "market") continue;  // takes no parameters: auto's are never handed to it
    if (auto made = make_algo(probe); !made) return make_error("auto: " + made.error().message);
  }
  return {};
}

AutoChoice choose_algo(const tca::MarketMeasure& market, const tca::PretradeOrder& order,
                       const std::vector<oms::AlgoParam>& params, const AutoSettings& settings,
                       const AlgoEvidence* evidence) {
  AutoChoice choice;
  const std::vector<oms::AlgoParam> own = chosen_params(params, choice);
  auto parsed = parse_algo_params(without_list_terms(own));  // a list leg's terms are the kernel's
  const AlgoParams algo_params = parsed ? *parsed : AlgoParams{};
  tca::PretradeModel model = pretrade_model(algo_params);
  // pov's rate: what finishes the parent by its end, with a margin, unless the parent set one.
  std::optional<double> pov_rate;
  const double volume = market.volume_per_s();
  if (!given(own, "pov_rate") && volume > 0 && order.horizon_s > 0) {
    double rate = std::clamp(kPovMargin * order.qty / (volume * order.horizon_s), kPovRateMin, kPovRateMax);
    if (algo_params.max_participation > 0) rate = std::min(rate, algo_params.max_participation);
    pov_rate = model.pov_rate = std::max(rate, algo_params.min_participation);
  }
  const tca::PretradeEstimate all = tca::estimate_costs(market, order, model);
  const std::string bucket = size_bucket(all.participation);
  struct Scored {
    const tca::AlgoEstimate* estimate;
    double correction, corrected, score;
    std::uint64_t parents;
  };
  std::vector<Scored> scored;
  for (const std::string& name : settings.candidates)
    for (const tca::AlgoEstimate& a : all.algos) {
      if (a.algo != name || !std::isfinite(a.cost_bps)) continue;
      const double correction = evidence != nullptr ? evidence->correction(bucket, name) : 0;
      const AlgoRecord* r = evidence != nullptr ? evidence->find(bucket, name) : nullptr;
      const double corrected = a.cost_bps + correction;
      scored.push_back({&a, correction, corrected, corrected + settings.risk_weight * a.risk_bps,
                        r != nullptr ? r->parents : 0});
    }
  // Ties keep the candidates' order.
  std::stable_sort(scored.begin(), scored.end(),
                   [](const Scored& a, const Scored& b) { return a.score < b.score - 1e-12; });
  auto describe = [&](const Scored& s) {
    return s.estimate->algo + " " + number(s.estimate->cost_bps) + " " + (s.correction < 0 ? "" : "+") +
           number(s.correction) + " (" + std::to_string(s.parents) + " past) = " + number(s.corrected) +
           " bps, risk " + number(s.estimate->risk_bps);
  };
  if (scored.empty()) {
    // No estimate at all (no book to sweep and no volume): the straight line, as a trader would.
    choice.algo =
        std::find(settings.candidates.begin(), settings.candidates.end(), "twap") != settings.candidates.end()
            ? "twap"
            : settings.candidates.front();
    choice.why = "no candidate could be estimated: " + choice.algo + " by default";
  } else {
    choice.algo = scored.front().estimate->algo;
    std::ostringstream why;
    why << "bucket " << bucket << " (participation " << number(100 * all.participation, 1) << "%)";
    if (settings.risk_weight > 0) why << ", cost + " << settings.risk_weight << " x risk";
    why << ": " << describe(scored.front());
    if (scored.size() > 1) why << "; next " << describe(scored[1]);
    choice.why = why.str();
  }
  if (choice.algo == "pov" && pov_rate) choice.params.push_back({"pov_rate", number(*pov_rate, 4)});
  return choice;
}

}  // namespace tranche::ems
