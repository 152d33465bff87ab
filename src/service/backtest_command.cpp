#include "service/backtest_command.hpp"

#include <toml++/toml.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <sstream>
#include <thread>

#include "core/config.hpp"
#include "core/file_output.hpp"
#include "core/quantity.hpp"
#include "ems/algo.hpp"
#include "ems/algo_evidence.hpp"
#include "service/execute_command.hpp"
#include "service/sim_commands.hpp"
#include "sim/simulator.hpp"

namespace tranche::service {

using nlohmann::ordered_json;

namespace {

Result<std::vector<std::string>> strings(const toml::table& t, const char* key, bool required) {
  std::vector<std::string> out;
  const toml::node* node = t.get(key);
  if (node == nullptr) {
    if (required) return make_error(std::string("[backtest] needs ") + key);
    return out;
  }
  const toml::array* arr = node->as_array();
  if (arr == nullptr) return make_error(std::string("[backtest] ") + key + " must be a list of strings");
  for (const auto& item : *arr) {
    auto s = item.value<std::string>();
    if (!s) return make_error(std::string("[backtest] ") + key + " must be a list of strings");
    out.push_back(*s);
  }
  if (required && out.empty()) return make_error(std::string("[backtest] ") + key + " is empty");
  return out;
}

std::string scenario_path(const std::string& scenario) {
  return scenario.empty() || scenario == "default" ? default_config_path() : scenario;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

double stdev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

// The variants an algo runs under: every one (market: the baseline's alone, it takes no parameters).
std::vector<std::string> variants_of(const GridSpec& spec, const std::string& algo) {
  if (spec.variants.empty()) return {""};
  if (algo == "market") return {spec.variants.front().name};
  std::vector<std::string> names;
  for (const auto& v : spec.variants) names.push_back(v.name);
  return names;
}

// Mean and standard error of the mean.
std::pair<double, double> mean_se(const std::vector<double>& v) {
  if (v.empty()) return {0, 0};
  return {mean(v), v.size() < 2 ? 0 : stdev(v) / std::sqrt(static_cast<double>(v.size()))};
}

// The runs of (algo, variant) against those of (baseline_algo, baseline_variant) in one cell, pair by pair.
PairedDifference paired(const std::vector<GridRun>& runs, const std::string& scenario,
                        const std::string& size, const std::string& horizon, const std::string& algo,
                        const std::string& variant, const std::string& baseline_algo,
                        const std::string& baseline_variant) {
  // The cell's runs of each, found in one pass; then matched by start and side within the cell.
  std::vector<const GridRun*> ours, theirs;
  for (const GridRun& r : runs) {
    if (r.scenario != scenario || r.size_label != size || r.horizon_label != horizon || !r.ok) continue;
    if (r.algo == algo && r.variant == variant) ours.push_back(&r);
    if (r.algo == baseline_algo && r.variant == baseline_variant) theirs.push_back(&r);
  }
  std::vector<double> cost, ex, mk1, mk10;
  for (const GridRun* rp : ours) {
    const GridRun& r = *rp;
    for (const GridRun* bp : theirs) {
      const GridRun& b = *bp;
      if (b.start_ns != r.start_ns || b.side != r.side) continue;
      cost.push_back(r.cost_bps - b.cost_bps);
      ex.push_back(r.cost_ex_fees_bps - b.cost_ex_fees_bps);
      if (r.passive_1s_bps && b.passive_1s_bps) mk1.push_back(*r.passive_1s_bps - *b.passive_1s_bps);
      if (r.passive_10s_bps && b.passive_10s_bps) mk10.push_back(*r.passive_10s_bps - *b.passive_10s_bps);
    }
  }
  PairedDifference d;
  d.baseline = baseline_algo;
  d.pairs = cost.size();
  std::tie(d.cost_bps, d.cost_se_bps) = mean_se(cost);
  std::tie(d.ex_fees_bps, d.ex_fees_se_bps) = mean_se(ex);
  d.markout_pairs = mk10.size();
  std::tie(d.passive_1s_bps, d.passive_1s_se_bps) = mean_se(mk1);
  std::tie(d.passive_10s_bps, d.passive_10s_se_bps) = mean_se(mk10);
  return d;
}

std::string fixed(double v, int digits = 2) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << v;
  return o.str();
}

}  // namespace

std::vector<oms::AlgoParam> run_params(const GridSpec& spec, const std::string& algo,
                                       const std::string& variant) {
  std::vector<oms::AlgoParam> params;
  if (algo == "market") return params;
  for (const auto& [name, list] : spec.params)
    if (name == algo) params = list;
  for (const auto& v : spec.variants) {
    if (v.name != variant) continue;
    for (const auto& p : v.params) {
      auto same = std::find_if(params.begin(), params.end(), [&](const auto& q) { return q.key == p.key; });
      if (same != params.end())
        same->value = p.value;
      else
        params.push_back(p);
    }
  }
  return params;
}

Result<GridSpec> load_grid(const std::string& path) {
  GridSpec spec;
  spec.source = path;
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream o;
    o << path << ":" << e.source().begin.line << ": " << e.description();
    return make_error(o.str());
  }
  const toml::table* t = root["backtest"].as_table();
  if (t == nullptr) return make_error(path + ": no [backtest] table");
  for (const auto& [key, value] : *t) {
    static const std::vector<std::string> known = {
        "instrument", "algos",  "sizes",    "horizons", "starts",    "sides",    "scenarios", "seed",
        "threads",    "params", "variants", "compare",  "estimates", "evidence", "learn"};
    if (std::find(known.begin(), known.end(), std::string(key.str())) == known.end())
      return make_error(path + ": [backtest] has no key '" + std::string(key.str()) + "'");
    (void)value;
  }
  if (t->contains("instrument")) {
    auto s = (*t)["instrument"].value<std::string>();
    if (!s) return make_error(path + ": [backtest] instrument must be a string");
    spec.instrument = *s;
  }
  auto algos = strings(*t, "algos", true);
  if (!algos) return make_error(path + ": " + algos.error().message);
  const auto known = known_algos();
  for (const auto& a : *algos)
    if (std::find(known.begin(), known.end(), a) == known.end())
      return make_error(path + ": [backtest] algos: unknown algo '" + a + "'");
  spec.algos = *algos;
  if (t->contains("estimates")) {
    auto estimates = (*t)["estimates"].value<bool>();
    if (!estimates) return make_error(path + ": [backtest] estimates must be true or false");
    spec.estimates = *estimates;
  }
  if (t->contains("evidence")) {
    auto evidence = (*t)["evidence"].value<std::string>();
    if (!evidence || evidence->empty())
      return make_error(path + ": [backtest] evidence must be a file's path");
    spec.evidence = *evidence;
  }
  if (t->contains("learn")) {
    auto learn = (*t)["learn"].value<bool>();
    if (!learn) return make_error(path + ": [backtest] learn must be true or false");
    if (spec.evidence.empty()) return make_error(path + ": [backtest] learn needs evidence = \"FILE\"");
    spec.learn = *learn;
  }
  if (t->contains("compare")) {
    auto compare = (*t)["compare"].value<std::string>();
    if (!compare) return make_error(path + ": [backtest] compare must be a string, an algo's name");
    if (*compare == "best" && std::find(spec.algos.begin(), spec.algos.end(), "auto") == spec.algos.end())
      return make_error(path +
                        ": [backtest] compare = \"best\" compares auto with the best single algo: "
                        "the grid's algos have no auto");
    if (*compare != "best" && std::find(spec.algos.begin(), spec.algos.end(), *compare) == spec.algos.end())
      return make_error(path + ": [backtest] compare: '" + *compare + "' is not one of the grid's algos");
    spec.compare = *compare;
  }
  auto sizes = strings(*t, "sizes", true);
  if (!sizes) return make_error(path + ": " + sizes.error().message);
  for (const auto& s : *sizes) {
    GridSize g;
    g.label = s;
    try {
      std::size_t used = 0;
      const std::string number = !s.empty() && s.back() == 'x' ? s.substr(0, s.size() - 1) : s;
      const double v = std::stod(number, &used);
      if (used != number.size() || !(v > 0) || !std::isfinite(v)) throw std::invalid_argument(s);
      (s.back() == 'x' ? g.multiple : g.base) = v;
    } catch (const std::exception&) {
      return make_error(path + ": [backtest] sizes: '" + s +
                        "' is neither a multiple of the touch size (\"10x\") nor a positive quantity");
    }
    spec.sizes.push_back(g);
  }
  for (std::size_t i = 0; i < spec.sizes.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (spec.sizes[i].label == spec.sizes[j].label)
        return make_error(path + ": [backtest] sizes: '" + spec.sizes[i].label + "' is listed twice");
  auto horizons = strings(*t, "horizons", true);
  if (!horizons) return make_error(path + ": " + horizons.error().message);
  for (const auto& h : *horizons) {
    auto d = parse_duration(h);
    if (!d || *d <= 0)
      return make_error(path + ": [backtest] horizons: '" + h + "' is not a positive duration");
    spec.horizons.push_back(*d);
    spec.horizon_labels.push_back(h);
  }
  // starts: a list of times, or { from, to, every }.
  if (const toml::table* range = (*t)["starts"].as_table()) {
    auto from = parse_time((*range)["from"].value_or(std::string()));
    auto to = parse_time((*range)["to"].value_or(std::string()));
    auto every = parse_duration((*range)["every"].value_or(std::string()));
    if (!from || !to || !every || *every <= 0 || *to < *from)
      return make_error(path + ": [backtest] starts = { from = TIME, to = TIME, every = DURATION }");
    if ((*to - *from) / *every > 10'000)
      return make_error(path + ": [backtest] starts: more than 10,000 start times");
    for (TimestampNs s = *from; s <= *to; s += *every) spec.starts.push_back(s);
  } else {
    auto starts = strings(*t, "starts", true);
    if (!starts) return make_error(path + ": " + starts.error().message);
    for (const auto& s : *starts) {
      auto ts = parse_time(s);
      if (!ts) return make_error(path + ": [backtest] starts: " + ts.error().message);
      spec.starts.push_back(*ts);
    }
  }
  if (t->contains("sides")) {
    auto sides = strings(*t, "sides", true);
    if (!sides) return make_error(path + ": " + sides.error().message);
    for (const auto& s : *sides)
      if (s != "buy" && s != "sell")
        return make_error(path + ": [backtest] sides: '" + s + "' is not buy or sell");
    spec.sides = *sides;
  }
  auto scenarios = strings(*t, "scenarios", false);
  if (!scenarios) return make_error(path + ": " + scenarios.error().message);
  const auto dir = std::filesystem::path(path).parent_path();
  for (const auto& s : *scenarios)
    spec.scenarios.push_back(s == "default" || s.empty() ? "default" : (dir / s).lexically_normal().string());
  if (spec.scenarios.empty()) spec.scenarios.push_back("default");
  if (t->contains("seed")) {
    auto seed = (*t)["seed"].as_integer();
    if (seed == nullptr || seed->get() < 0)
      return make_error(path + ": [backtest] seed must be a whole number, 0 or more");
    spec.seed = static_cast<std::uint64_t>(seed->get());
  }
  if (t->contains("threads")) {
    auto threads = (*t)["threads"].as_integer();
    if (threads == nullptr || threads->get() < 0 || threads->get() > 64)
      return make_error(path + ": [backtest] threads must be a whole number from 0 (every core) to 64");
    spec.threads = static_cast<int>(threads->get());
  }
  // A table of key = value parameters: strings, or numbers written with 8 decimals.
  auto param_list = [&](const toml::table& kv,
                        const std::string& where) -> Result<std::vector<oms::AlgoParam>> {
    std::vector<oms::AlgoParam> list;
    for (const auto& [k, v] : kv) {
      std::string value;
      if (auto s = v.value<std::string>())
        value = *s;
      else if (auto d = v.value<double>())
        value = fixed(*d, 8);
      else
        return make_error(path + ": " + where + " " + std::string(k.str()) + ": a string or a number");
      list.push_back({std::string(k.str()), value});
    }
    return list;
  };
  if (const toml::table* params = (*t)["params"].as_table()) {
    for (const auto& [algo, node] : *params) {
      const std::string where = "[backtest.params." + std::string(algo.str()) + "]";
      const toml::table* kv = node.as_table();
      if (kv == nullptr) return make_error(path + ": " + where + " must be a table");
      auto list = param_list(*kv, where);
      if (!list) return list.error();
      oms::ParentOrder probe;
      probe.algo = std::string(algo.str());
      probe.params = *list;
      if (probe.algo == "market")
        return make_error(path + ": [backtest.params.market]: the market sweep takes no parameters");
      if (auto s = ems::check_algo(probe); !s) return make_error(path + ": " + s.message());
      spec.params.emplace_back(probe.algo, *list);
    }
  }
  if (t->contains("variants")) {
    const toml::array* variants = (*t)["variants"].as_array();
    if (variants == nullptr || variants->empty() || !variants->is_array_of_tables())
      return make_error(path + ": [[backtest.variants]] must be tables, each { name, params }");
    for (const auto& node : *variants) {
      const toml::table& v = *node.as_table();
      for (const auto& [key, _] : v)
        if (key.str() != "name" && key.str() != "params")
          return make_error(path + ": [[backtest.variants]] has no key '" + std::string(key.str()) + "'");
      GridSpec::Variant variant;
      variant.name = v["name"].value_or(std::string());
      if (variant.name.empty())
        return make_error(path + ": [[backtest.variants]]: every variant needs a name");
      for (const auto& other : spec.variants)
        if (other.name == variant.name)
          return make_error(path + ": [[backtest.variants]]: '" + variant.name + "' is named twice");
      const std::string where = "[[backtest.variants]] " + variant.name + ":";
      if (v.contains("params")) {
        const toml::table* kv = v["params"].as_table();
        if (kv == nullptr) return make_error(path + ": " + where + " params must be a table");
        auto list = param_list(*kv, where);
        if (!list) return list.error();
        variant.params = *list;
      }
      spec.variants.push_back(variant);
    }
    if (spec.variants.size() < 2)
      return make_error(path + ": [[backtest.variants]]: name two or more (the first is the baseline)");
    // Each variant's parameters over each algo's own, checked as every run will get them.
    for (const auto& algo : spec.algos) {
      if (algo == "market") continue;
      for (const auto& variant : spec.variants) {
        oms::ParentOrder probe;
        probe.algo = algo;
        probe.params = run_params(spec, algo, variant.name);
        if (auto s = ems::check_algo(probe); !s)
          return make_error(path + ": [[backtest.variants]] " + variant.name + ": " + s.message());
      }
    }
  }
  return spec;
}

Result<double> touch_size(const std::string& scenario, const std::string& instrument, TimestampNs from,
                          TimestampNs to) {
  auto loaded = load_config(scenario_path(scenario));
  if (!loaded) return make_error(loaded.error().message);
  sim::SimOptions options;
  options.venues = {loaded->primary_venue};
  options.deliver_market_data = false;
  auto created = sim::Simulator::create(*loaded, options);
  if (!created) return make_error(created.error().message);
  auto& sim = *created.value();
  if (sim.venue_count() == 0)
    return make_error("the primary venue " + loaded->primary_venue + " is not simulated");
  const int m = sim.venue(0).market_of(InstrumentId(instrument));
  if (m < 0) return make_error(loaded->primary_venue + " does not list " + instrument);
  const auto& market = sim.venue(0).market(static_cast<std::size_t>(m));
  std::vector<double> samples;
  for (TimestampNs t = from; t < to; t += 100 * kNanosPerMilli) {
    sim.run_until(t);
    if (!market.valid()) continue;
    const Qty bid = base_from_units(market.listing(), market.best_qty(Side::Buy), market.best(Side::Buy));
    const Qty ask = base_from_units(market.listing(), market.best_qty(Side::Sell), market.best(Side::Sell));
    samples.push_back((bid.to_double() + ask.to_double()) / 2);
  }
  if (samples.empty()) return make_error("no valid book on " + loaded->primary_venue + " in the window");
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(samples.size() / 2),
                   samples.end());
  return samples[samples.size() / 2];
}

Result<GridResult> run_grid(const GridSpec& spec, std::ostream& err, int threads, bool strict_data,
                            bool fill_band) {
  GridResult result;
  // Each scenario's touch size, over the whole window the grid covers.
  const TimestampNs first = *std::min_element(spec.starts.begin(), spec.starts.end());
  const TimestampNs last = *std::max_element(spec.starts.begin(), spec.starts.end()) +
                           *std::max_element(spec.horizons.begin(), spec.horizons.end());
  // Each scenario's recordings read through once for data issues (the runs do not each scan them again).
  for (const auto& scenario : spec.scenarios) {
    auto config = load_config(scenario_path(scenario));
    if (!config) return make_error(config.error().message);
    auto issues = sim::Simulator::scan_data(*config);
    if (!issues) return make_error(scenario + ": " + issues.error().message);
    if (strict_data && !issues->empty())
      return make_error("--strict-data: " + scenario + ": " + sim::summarize(*issues));
    for (const auto& issue : *issues) result.data_issues.push_back(scenario + ": " + issue.to_string());
  }
  std::map<std::string, double> touch;
  for (const auto& scenario : spec.scenarios) {
    bool needs = false;
    for (const auto& s : spec.sizes) needs = needs || s.multiple > 0;
    if (!needs) continue;
    auto size = touch_size(scenario, spec.instrument, first, last);
    if (!size) return make_error(scenario + ": " + size.error().message);
    touch[scenario] = *size;
    result.touch_sizes.emplace_back(scenario, *size);
    err << "touch size of " << scenario << ": " << fixed(*size, 3) << " " << spec.instrument << " base\n";
  }
  for (const auto& scenario : spec.scenarios)
    for (const auto& size : spec.sizes)
      for (std::size_t h = 0; h < spec.horizons.size(); ++h)
        for (const auto& algo : spec.algos)
          for (const std::string& variant : variants_of(spec, algo))
            for (TimestampNs start : spec.starts)
              for (const auto& side : spec.sides) {
                GridRun r;
                r.scenario = scenario;
                r.algo = algo;
                r.variant = variant;
                r.side = side;
                r.size_label = size.label;
                r.horizon_label = spec.horizon_labels[h];
                r.start_ns = start;
                // Quantities to the lot of the coarsest venue that matters here (0.001).
                r.qty =
                    size.multiple > 0 ? std::round(touch[scenario] * size.multiple * 1000) / 1000 : size.base;
                result.runs.push_back(r);
              }
  std::map<std::string, DurationNs> horizon_of;
  for (std::size_t h = 0; h < spec.horizons.size(); ++h)
    horizon_of[spec.horizon_labels[h]] = spec.horizons[h];

  // The TCA of past parents auto reads: loaded once, read by every run (none writes it while they run).
  ems::AlgoEvidence evidence;
  if (!spec.evidence.empty()) {
    auto loaded = ems::AlgoEvidence::load(spec.evidence);
    if (!loaded) return make_error(loaded.error().message);
    evidence = std::move(loaded).value();
  }

  std::atomic<std::size_t> next{0}, finished{0};
  std::mutex err_mutex;
  auto worker = [&] {
    for (std::size_t i = next++; i < result.runs.size(); i = next++) {
      GridRun& r = result.runs[i];
      ExecutionRequest o;
      o.side = r.side == "buy" ? Side::Buy : Side::Sell;
      o.qty = Qty::from_raw(std::llround(r.qty * kFixedScale));
      o.instrument = spec.instrument;
      o.algo = r.algo;
      o.params = run_params(spec, r.algo, r.variant);
      o.start_ns = r.start_ns;
      o.end_ns = r.start_ns + horizon_of.at(r.horizon_label);
      o.scenario = r.scenario == "default" ? "" : r.scenario;
      o.seed = spec.seed;   // unset: each scenario's own
      o.scan_data = false;  // scanned once per scenario, above
      o.fill_band = fill_band;
      o.evidence_in = spec.evidence.empty() ? nullptr : &evidence;
      std::ostringstream run_err;
      auto ran = run_execution(o, run_err);
      if (!ran) {
        r.ok = false;
        r.error = ran.error().message;
      } else {
        const ExecutionSummary& summary = *ran;
        r.state = summary.state;
        r.done_text = summary.done_text;
        r.cost_bps = summary.implementation_shortfall_bps;
        r.cost_ex_fees_bps = r.cost_bps - summary.fees_bps;
        r.fill_ratio = summary.fill_ratio;
        r.children = summary.children;
        r.resting_share = summary.resting_share;
        // The kernel's estimate, made when the parent's algo started.
        r.estimate_bps = summary.estimate_bps;
        r.estimate_risk_bps = summary.estimate_risk_bps;
        r.algo_run = summary.algo_run;
        r.bucket = summary.bucket;
        for (const auto& m : summary.passive_markouts) {
          if (m.horizon_ns == kNanosPerSecond) r.passive_1s_bps = m.bps;
          if (m.horizon_ns == 10 * kNanosPerSecond) r.passive_10s_bps = m.bps;
        }
        for (const auto& band : summary.band) {
          if (band.model == "none") r.cost_none_bps = band.implementation_shortfall_bps;
          if (band.model == "full") r.cost_full_bps = band.implementation_shortfall_bps;
        }
        r.ok = summary.ok;
        if (!r.ok) r.error = summary.error;
      }
      const std::size_t done = ++finished;
      std::lock_guard lock(err_mutex);
      if (!r.ok)
        err << "run " << r.algo << " " << r.side << " " << r.qty << " at " << format_time(r.start_ns) << ": "
            << r.error << "\n";
      if (done % 10 == 0 || done == result.runs.size())
        err << "\r" << done << " / " << result.runs.size() << " runs"
            << (done == result.runs.size() ? "\n" : "") << std::flush;
    }
  };
  int n = threads > 0        ? threads
          : spec.threads > 0 ? spec.threads
                             : static_cast<int>(std::thread::hardware_concurrency());
  n = std::clamp(n, 1, 64);
  std::vector<std::thread> pool;
  for (int k = 1; k < n; ++k) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();

  // The summary: per scenario, size, horizon and algo, over starts and sides (so the market's drift cancels).
  // The market sweep's summary per scenario, size and horizon: what every algo's is compared with.
  std::map<std::tuple<std::string, std::string, std::string>, GridSummary> market;
  for (const auto& scenario : spec.scenarios)
    for (const auto& size : spec.sizes)
      for (const auto& horizon : spec.horizon_labels)
        for (const auto& algo : spec.algos)
          for (const std::string& variant : variants_of(spec, algo)) {
            GridSummary s;
            s.scenario = scenario;
            s.size_label = size.label;
            s.horizon_label = horizon;
            s.algo = algo;
            s.variant = variant;
            s.touch_size = touch.count(scenario) ? touch[scenario] : 0;
            std::vector<double> cost, ex, fill, none, full, resting, mk1, mk10, estimate, error;
            std::size_t within = 0;  // runs within one estimated risk of their estimate
            for (const auto& r : result.runs) {
              if (r.scenario != scenario || r.size_label != size.label || r.horizon_label != horizon ||
                  r.algo != algo || r.variant != variant)
                continue;
              s.qty = r.qty;
              ++s.runs;
              if (!r.ok) {
                ++s.failed;
                continue;
              }
              cost.push_back(r.cost_bps);
              ex.push_back(r.cost_ex_fees_bps);
              fill.push_back(r.fill_ratio);
              none.push_back(r.cost_none_bps);
              full.push_back(r.cost_full_bps);
              resting.push_back(r.resting_share);
              if (r.passive_1s_bps) mk1.push_back(*r.passive_1s_bps);
              if (r.passive_10s_bps) mk10.push_back(*r.passive_10s_bps);
              if (r.estimate_bps) {
                estimate.push_back(*r.estimate_bps);
                error.push_back(r.cost_bps - *r.estimate_bps);
                if (std::abs(error.back()) <= *r.estimate_risk_bps) ++within;
              }
            }
            s.resting_share = mean(resting);
            if (!mk1.empty()) s.passive_1s_bps = mean(mk1);
            if (!mk10.empty()) s.passive_10s_bps = mean(mk10);
            if (spec.estimates && !estimate.empty()) {
              s.estimate_bps = mean(estimate);
              s.estimate_error_bps = mean(error);
              s.estimate_error_sd_bps = stdev(error);
              s.within_risk_share = static_cast<double>(within) / static_cast<double>(estimate.size());
            }
            if (!spec.variants.empty() && algo != "market" && variant != spec.variants.front().name)
              s.vs_baseline = paired(result.runs, scenario, size.label, horizon, algo, variant, algo,
                                     spec.variants.front().name);
            if (algo == ems::kAutoAlgo)
              for (const auto& r : result.runs)
                if (r.ok && r.scenario == scenario && r.size_label == size.label &&
                    r.horizon_label == horizon && r.algo == algo && r.variant == variant)
                  ++s.chosen[r.algo_run];
            if (!spec.compare.empty() && spec.compare != "best" && algo != spec.compare && algo != "market")
              s.vs_compare =
                  paired(result.runs, scenario, size.label, horizon, algo, variant, spec.compare, variant);
            s.has_band = fill_band;
            s.cost_none_bps = mean(none);
            s.cost_full_bps = mean(full);
            s.cost_bps = mean(cost);
            s.cost_ex_fees_bps = mean(ex);
            s.risk_bps = stdev(cost);
            s.fill_ratio = mean(fill);
            if (algo == "market" && s.failed < s.runs) market[{scenario, size.label, horizon}] = s;
            result.summary.push_back(s);
          }
  for (auto& s : result.summary) {
    auto it = market.find({s.scenario, s.size_label, s.horizon_label});
    if (it != market.end()) {
      s.has_market = true;
      s.vs_market_bps = s.cost_bps - it->second.cost_bps;
      s.vs_market_none_bps = s.cost_none_bps - it->second.cost_none_bps;
      s.vs_market_full_bps = s.cost_full_bps - it->second.cost_full_bps;
    }
  }
  if (spec.compare == "best") {
    // Auto against the cell's best single algo, chosen after the fact: the lowest mean cost there.
    for (auto& s : result.summary) {
      if (s.algo != ems::kAutoAlgo) continue;
      const GridSummary* best = nullptr;
      for (const auto& other : result.summary)
        if (other.algo != ems::kAutoAlgo && other.scenario == s.scenario &&
            other.size_label == s.size_label && other.horizon_label == s.horizon_label &&
            other.variant == s.variant && other.failed < other.runs &&
            (best == nullptr || other.cost_bps < best->cost_bps))
          best = &other;
      if (best != nullptr)
        s.vs_compare = paired(result.runs, s.scenario, s.size_label, s.horizon_label, s.algo, s.variant,
                              best->algo, best->variant);
    }
  }
  if (spec.learn) {
    // Every run but auto's is evidence for the next grid: how far its cost fell from its estimate.
    for (const auto& r : result.runs)
      if (r.ok && r.algo != ems::kAutoAlgo && r.estimate_bps && !r.bucket.empty())
        evidence.on_parent(r.bucket, r.algo_run, *r.estimate_bps, r.cost_bps);
    if (auto saved = evidence.save(spec.evidence); !saved) return make_error(saved.message());
    err << "evidence: " << spec.evidence << " (" << evidence.parents() << " parents)\n";
  }
  return result;
}

namespace {

ordered_json opt(const std::optional<double>& v) {
  return v ? ordered_json(*v) : ordered_json(nullptr);
}

ordered_json paired_json(const std::optional<PairedDifference>& d) {
  if (!d) return nullptr;
  return {{"baseline", d->baseline},
          {"pairs", d->pairs},
          {"cost_bps", d->cost_bps},
          {"cost_se_bps", d->cost_se_bps},
          {"ex_fees_bps", d->ex_fees_bps},
          {"ex_fees_se_bps", d->ex_fees_se_bps},
          {"markout_pairs", d->markout_pairs},
          {"passive_markout_1s_bps", d->passive_1s_bps},
          {"passive_markout_1s_se_bps", d->passive_1s_se_bps},
          {"passive_markout_10s_bps", d->passive_10s_bps},
          {"passive_markout_10s_se_bps", d->passive_10s_se_bps}};
}

ordered_json grid_json(const GridSpec& spec, const GridResult& result) {
  ordered_json j;
  j["grid"] = {{"source", spec.source},
               {"instrument", spec.instrument},
               {"seed", spec.seed ? ordered_json(*spec.seed) : ordered_json("each scenario's own")},
               {"compare", spec.compare.empty() ? ordered_json(nullptr) : ordered_json(spec.compare)}};
  ordered_json touch = ordered_json::object();
  for (const auto& [scenario, size] : result.touch_sizes) touch[scenario] = size;
  j["touch_size"] = touch;
  ordered_json variants = ordered_json::array();
  for (const auto& v : spec.variants) {
    ordered_json params = ordered_json::object();
    for (const auto& p : v.params) params[p.key] = p.value;
    variants.push_back({{"name", v.name}, {"params", params}});
  }
  j["variants"] = variants;
  j["data_issues"] = result.data_issues;
  ordered_json summary = ordered_json::array();
  for (const auto& s : result.summary)
    summary.push_back(
        {{"scenario", s.scenario},
         {"size", s.size_label},
         {"qty", s.qty},
         {"horizon", s.horizon_label},
         {"algo", s.algo},
         {"variant", s.variant},
         {"runs", s.runs},
         {"failed", s.failed},
         {"cost_bps", s.cost_bps},
         {"cost_ex_fees_bps", s.cost_ex_fees_bps},
         {"risk_bps", s.risk_bps},
         {"fill_ratio", s.fill_ratio},
         {"vs_market_bps", s.has_market ? ordered_json(s.vs_market_bps) : ordered_json(nullptr)},
         {"resting_share", s.resting_share},
         {"passive_markout_1s_bps", opt(s.passive_1s_bps)},
         {"passive_markout_10s_bps", opt(s.passive_10s_bps)},
         {"vs_baseline", paired_json(s.vs_baseline)},
         {"vs_compare", paired_json(s.vs_compare)},
         {"chosen", s.chosen.empty() ? ordered_json(nullptr) : ordered_json(s.chosen)},
         {"estimate", s.estimate_bps ? ordered_json{{"estimate_bps", *s.estimate_bps},
                                                    {"error_bps", s.estimate_error_bps},
                                                    {"error_sd_bps", s.estimate_error_sd_bps},
                                                    {"within_risk_share", s.within_risk_share}}
                                     : ordered_json(nullptr)},
         {"fill_band", s.has_band ? ordered_json{{"none_bps", s.cost_none_bps},
                                                 {"full_bps", s.cost_full_bps},
                                                 {"vs_market_none_bps", s.vs_market_none_bps},
                                                 {"vs_market_full_bps", s.vs_market_full_bps}}
                                  : ordered_json(nullptr)}});
  j["summary"] = summary;
  ordered_json runs = ordered_json::array();
  for (const auto& r : result.runs)
    runs.push_back({{"scenario", r.scenario},
                    {"algo", r.algo},
                    {"variant", r.variant},
                    {"side", r.side},
                    {"size", r.size_label},
                    {"qty", r.qty},
                    {"horizon", r.horizon_label},
                    {"start", format_time(r.start_ns)},
                    {"ok", r.ok},
                    {"state", r.state},
                    {"done_text", r.done_text},
                    {"cost_bps", r.cost_bps},
                    {"cost_ex_fees_bps", r.cost_ex_fees_bps},
                    {"fill_ratio", r.fill_ratio},
                    {"children", r.children},
                    {"resting_share", r.resting_share},
                    {"passive_markout_1s_bps", opt(r.passive_1s_bps)},
                    {"passive_markout_10s_bps", opt(r.passive_10s_bps)},
                    {"estimate_bps", opt(r.estimate_bps)},
                    {"estimate_risk_bps", opt(r.estimate_risk_bps)},
                    {"algo_run", r.algo_run},
                    {"bucket", r.bucket},
                    {"error", r.error}});
  j["runs"] = runs;
  return j;
}

// A scenario as the tables name it: "default", or its file's name without the extension, in 27 characters.
std::string scenario_label(const std::string& scenario) {
  std::string label = scenario == "default" ? "default" : std::filesystem::path(scenario).stem().string();
  if (label.size() > 27) label.resize(27);
  return label;
}

// The rows that carry a paired difference (`which`), one line each.
void print_paired(const GridResult& result, std::optional<PairedDifference> GridSummary::*which,
                  std::ostream& out) {
  out << std::left << std::setw(28) << "scenario" << std::setw(8) << "size" << std::setw(9) << "horizon"
      << std::setw(9) << "algo" << std::setw(16) << "variant" << std::setw(9) << "against" << std::right
      << std::setw(6) << "pairs" << std::setw(18) << "cost bps" << std::setw(18) << "ex-fees bps"
      << std::setw(18) << "rest markout 1s" << std::setw(18) << "rest markout 10s\n";
  auto cell = [](double m, double se) {
    return fixed(m) + " +- " + fixed(se) + (se > 0 && std::abs(m) > 2 * se ? "*" : " ");
  };
  for (const auto& s : result.summary) {
    if (!(s.*which)) continue;
    const PairedDifference& d = *(s.*which);
    const std::string scenario = scenario_label(s.scenario);
    out << std::left << std::setw(28) << scenario << std::setw(8) << s.size_label << std::setw(9)
        << s.horizon_label << std::setw(9) << s.algo << std::setw(16) << (s.variant.empty() ? "-" : s.variant)
        << std::setw(9) << d.baseline << std::right << std::setw(6) << d.pairs << std::setw(18)
        << cell(d.cost_bps, d.cost_se_bps) << std::setw(18) << cell(d.ex_fees_bps, d.ex_fees_se_bps)
        << std::setw(18) << (d.markout_pairs ? cell(d.passive_1s_bps, d.passive_1s_se_bps) : std::string("-"))
        << std::setw(18)
        << (d.markout_pairs ? cell(d.passive_10s_bps, d.passive_10s_se_bps) : std::string("-")) << "\n";
  }
}

void print_table(const GridResult& result, std::ostream& out, const std::string& compare) {
  out << std::left << std::setw(28) << "scenario" << std::setw(8) << "size" << std::right << std::setw(10)
      << "qty" << std::setw(9) << "horizon"
      << "  " << std::left << std::setw(9) << "algo" << std::right << std::setw(6) << "runs" << std::setw(11)
      << "cost bps" << std::setw(13) << "ex-fees bps" << std::setw(11) << "risk bps" << std::setw(9)
      << "fill %" << std::setw(14) << "vs market bps" << std::setw(8) << "rest %" << std::setw(21)
      << "rest markout 1s/10s";
  const bool band = !result.summary.empty() && result.summary.front().has_band;
  const bool variants = std::any_of(result.summary.begin(), result.summary.end(),
                                    [](const GridSummary& s) { return !s.variant.empty(); });
  if (variants) out << "  variant";
  if (band) out << std::setw(22) << "band: none / full bps" << std::setw(24) << "vs market none / full";
  out << "\n";
  for (const auto& s : result.summary) {
    const bool all_failed = s.failed == s.runs;
    const std::string scenario = scenario_label(s.scenario);
    out << std::left << std::setw(28) << scenario << std::setw(8) << s.size_label << std::right
        << std::setw(10) << fixed(s.qty, 3) << std::setw(9) << s.horizon_label << "  " << std::left
        << std::setw(9) << s.algo << std::right << std::setw(6)
        << (s.failed ? std::to_string(s.runs - s.failed) + "/" + std::to_string(s.runs)
                     : std::to_string(s.runs))
        << std::setw(11) << (all_failed ? "-" : fixed(s.cost_bps)) << std::setw(13)
        << (all_failed ? "-" : fixed(s.cost_ex_fees_bps)) << std::setw(11)
        << (all_failed ? "-" : fixed(s.risk_bps)) << std::setw(9)
        << (all_failed ? "-" : fixed(100 * s.fill_ratio, 1)) << std::setw(14)
        << (s.has_market && s.algo != "market" && !all_failed ? fixed(s.vs_market_bps) : std::string("-"))
        << std::setw(8) << (all_failed ? "-" : fixed(100 * s.resting_share, 1)) << std::setw(21)
        << ((s.passive_1s_bps ? fixed(*s.passive_1s_bps) : std::string("-")) + " / " +
            (s.passive_10s_bps ? fixed(*s.passive_10s_bps) : std::string("-")));
    if (variants) out << "  " << (s.algo == "market" ? std::string("-") : s.variant);
    if (band)
      out << std::setw(22) << (all_failed ? "-" : fixed(s.cost_none_bps) + " / " + fixed(s.cost_full_bps))
          << std::setw(24)
          << (s.has_market && s.algo != "market" && !all_failed
                  ? fixed(s.vs_market_none_bps) + " / " + fixed(s.vs_market_full_bps)
                  : std::string("-"));
    out << "\n";
  }
  // Why runs failed: each distinct reason once.
  std::set<std::string> reasons;
  for (const auto& r : result.runs)
    if (!r.ok) {
      std::string why = r.error.empty() ? r.done_text : r.error;
      while (!why.empty() && why.back() == '\n') why.pop_back();
      if (reasons.insert(why).second)
        out << "failed: " << r.algo << " " << r.side << " " << r.qty << ": " << why << "\n";
    }
  out << "cost: implementation shortfall over the whole parent against the arrival mid, mean over starts and "
         "sides;\n"
         "risk: its standard deviation; positive = worse for us; rest: the share filled resting, and those "
         "fills' markouts\n";
  if (variants) {
    // Each variant against the baseline, run by run.
    std::string baseline;
    for (const auto& s : result.summary)
      if (!s.variant.empty() && !s.vs_baseline && s.algo != "market") baseline = s.variant;
    out << "\nagainst " << baseline << ", pair by pair (mean +- standard error; * beyond two):\n";
    print_paired(result, &GridSummary::vs_baseline, out);
    out << "difference = variant - baseline over the same start and side; negative = the variant costs "
           "less\n";
  }
  if (std::any_of(result.summary.begin(), result.summary.end(),
                  [](const GridSummary& s) { return s.estimate_bps.has_value(); })) {
    out << "\npre-trade estimates against the realised cost (tranche estimate's model, five minutes before "
           "each "
           "start):\n"
        << std::left << std::setw(28) << "scenario" << std::setw(8) << "size" << std::setw(9) << "horizon"
        << std::setw(9) << "algo" << std::setw(16) << "variant" << std::right << std::setw(13)
        << "estimate bps" << std::setw(13) << "realised bps" << std::setw(18) << "error mean / sd"
        << std::setw(16) << "within 1 risk\n";
    for (const auto& s : result.summary) {
      if (!s.estimate_bps) continue;
      const std::string scenario = scenario_label(s.scenario);
      out << std::left << std::setw(28) << scenario << std::setw(8) << s.size_label << std::setw(9)
          << s.horizon_label << std::setw(9) << s.algo << std::setw(16)
          << (s.variant.empty() ? "-" : s.variant) << std::right << std::setw(13) << fixed(*s.estimate_bps)
          << std::setw(13) << fixed(s.cost_bps) << std::setw(18)
          << fixed(s.estimate_error_bps) + " / " + fixed(s.estimate_error_sd_bps) << std::setw(15)
          << fixed(100 * s.within_risk_share, 0) << "%\n";
    }
    out << "error = realised - estimate, over starts and sides; within 1 risk: the share of runs whose "
           "realised "
           "cost fell within one estimated standard deviation\n";
  }
  if (compare == "best") {
    out << "\nauto against the best single algo of each cell (the lowest mean cost there, chosen after the "
           "fact), pair by pair (mean +- standard error; * beyond two):\n";
    print_paired(result, &GridSummary::vs_compare, out);
    out << "difference = auto - that algo over the same start, side and variant; negative = auto costs "
           "less\n";
    for (const auto& s : result.summary) {
      if (s.chosen.empty()) continue;
      out << "auto chose in " << scenario_label(s.scenario) << " " << s.size_label << " " << s.horizon_label
          << ":";
      for (const auto& [algo, n] : s.chosen) out << " " << algo << " " << n;
      out << "\n";
    }
  } else if (!compare.empty()) {
    out << "\nagainst " << compare << ", pair by pair (mean +- standard error; * beyond two):\n";
    print_paired(result, &GridSummary::vs_compare, out);
    out << "difference = algo - " << compare
        << " over the same start, side and variant; negative = the algo costs less\n";
  }
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else
      o += c;
  }
  return o;
}

Status write_html(const std::string& path, const GridSpec& spec, const GridResult& result) {
  std::ostringstream h;
  h << "<!doctype html><html><head><meta charset=\"utf-8\"><title>Tranche backtest</title><style>"
       "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
       "td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}td.l,th.l{text-align:left}"
       ".bar{display:inline-block;height:10px;background:#4a7bd0}.neg{background:#3a9a5b}"
       "</style></head><body><h1>Backtest: "
    << html_escape(spec.source) << "</h1>";
  h << "<p>Implementation shortfall over the whole parent against the arrival mid, in bps (positive = worse "
       "for us), "
       "mean over starts and sides; risk is its standard deviation. Bars: cost with fees.</p>";
  for (const auto& [scenario, size] : result.touch_sizes)
    h << "<p>Touch size of " << html_escape(scenario) << ": " << fixed(size, 3) << "</p>";
  double widest = 1;
  for (const auto& s : result.summary) widest = std::max(widest, std::abs(s.cost_bps));
  h << "<table><tr><th class=l>scenario</th><th class=l>size</th><th>qty</th><th>horizon</th><th "
       "class=l>algo</th>"
       "<th>runs</th><th>cost bps</th><th>ex-fees bps</th><th>risk bps</th><th>fill %</th><th>vs market "
       "bps</th>"
       "<th class=l>cost</th></tr>";
  for (const auto& s : result.summary) {
    h << "<tr><td class=l>" << html_escape(s.scenario) << "</td><td class=l>" << s.size_label << "</td><td>"
      << fixed(s.qty, 3) << "</td><td>" << s.horizon_label << "</td><td class=l>" << s.algo << "</td><td>"
      << s.runs - s.failed << "/" << s.runs << "</td><td>" << fixed(s.cost_bps) << "</td><td>"
      << fixed(s.cost_ex_fees_bps) << "</td><td>" << fixed(s.risk_bps) << "</td><td>"
      << fixed(100 * s.fill_ratio, 1) << "</td><td>"
      << (s.has_market && s.algo != "market" ? fixed(s.vs_market_bps) : "-") << "</td><td class=l>"
      << "<span class=\"bar" << (s.cost_bps < 0 ? " neg" : "")
      << "\" style=\"width:" << static_cast<int>(200 * std::abs(s.cost_bps) / widest)
      << "px\"></span></td></tr>";
  }
  h << "</table></body></html>\n";
  return write_file_replacing(path, h.str(), "the backtest report");
}

}  // namespace

int backtest_command(const BacktestOptions& options, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "tranche backtest: " << message << "\n";
    return 2;
  };
  if (!std::filesystem::exists(options.grid)) return fail(options.grid + ": no such file");
  auto spec = load_grid(options.grid);
  if (!spec) return fail(spec.error().message);
  auto result = run_grid(*spec, err, options.threads, options.strict_data, options.fill_band);
  if (!result) return fail(result.error().message);
  for (const auto& issue : result->data_issues) err << "warning: data: " << issue << "\n";
  if (!options.html.empty()) {
    if (auto s = write_html(options.html, *spec, *result); !s) return fail(s.message());
    err << "report: " << options.html << "\n";
  }
  if (options.json)
    out << grid_json(*spec, *result).dump(2) << "\n";
  else
    print_table(*result, out, spec->compare);
  for (const auto& r : result->runs)
    if (!r.ok) return 1;
  return 0;
}

}  // namespace tranche::service
