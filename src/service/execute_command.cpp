#include "service/execute_command.hpp"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <sstream>

#include "core/config.hpp"
#include "core/quantity.hpp"
#include "ems/algo.hpp"
#include "ems/algo_evidence.hpp"
#include "ems/kernel.hpp"
#include "ems/scorecard.hpp"
#include "ems/venue_views.hpp"
#include "oms/order_manager.hpp"
#include "service/basket_command.hpp"
#include "service/report_html.hpp"
#include "service/runtime.hpp"
#include "service/sim_commands.hpp"
#include "service/tca_tape.hpp"
#include "sim/simulator.hpp"
#include "tca/tca.hpp"

namespace tranche::service {

using nlohmann::ordered_json;

std::vector<std::string> known_algos() {
  return ems::algo_names();
}

namespace {

// Everything the run leaves for the report, recorded from what the kernel did.
struct RunRecord {
  struct Child {
    NewOrder order;
    TimestampNs venue_ns = 0;  // when the venue first answered
  };
  std::vector<Child> children;
  std::vector<tca::TcaFill> fills;
  std::vector<Fee> raw_fees;
  std::vector<oms::RiskDenial> denials;
  tca::MidSeries mids;                                           // the benchmark (primary venue) mid
  std::vector<tca::MarketTrade> trades;                          // others' prints
  std::vector<std::pair<TimestampNs, double>> filled_over_time;  // cumulative base filled
  std::vector<std::pair<TimestampNs, double>> schedule;  // the algo's own schedule: base wanted by then
  std::optional<ems::ParentEstimate> estimate;           // the kernel's pre-trade estimate of the parent
  std::optional<ems::AutoChoice> auto_choice;            // an auto parent's choice
};

// What one parent's run is, as the kernel tells it: the benchmark mid and others' prints of its
// instrument, its children and fills (each fill once), its risk denials, and a progress bar.
class ExecutionRecorder final : public ems::KernelObserver {
 public:
  ExecutionRecorder(const sim::Simulator& sim, const oms::OrderManager& manager, const ems::Kernel& kernel,
                    InstrumentId instrument, std::size_t primary, bool consolidated, RunRecord& record,
                    std::ostream& err, bool progress)
      : sim_(sim),
        manager_(manager),
        kernel_(kernel),
        instrument_(std::move(instrument)),
        primary_(primary),
        consolidated_(consolidated),
        record_(record),
        err_(err),
        progress_(progress) {}

  void set_parent(const oms::ParentOrder& parent) {
    parent_ = parent;
    denials_before_ = manager_.oms().denials_total();
  }
  TimestampNs end_ns() const { return end_ns_; }
  bool ended() const { return end_ns_ != 0; }
  double filled() const { return filled_; }

  // The benchmark mid now, recorded.
  void record_benchmark(TimestampNs now) {
    if (auto mid = ems::benchmark_mid(sim_, instrument_, primary_, consolidated_)) {
      record_.mids.add(now, *mid);
      record_.mids.observed_until(now);
    }
  }

  void on_market_event(const md::MarketRef& ref, const md::Event& event,
                       std::optional<double> benchmark_mid) override {
    if (ref.instrument != instrument_) return;  // other instruments' prints are not this parent's market
    // What we see arrives now (after any market-data latency): it is stamped with our clock.
    const TimestampNs now = sim_.now();
    record_tca_market(ref, event, benchmark_mid,
                      ref.book != nullptr ? ref.book : sim_.book(ref.venue, ref.instrument), now,
                      record_.mids, record_.trades);
  }

  void on_child_report(ParentId parent, const ExecutionReport& report, bool fresh_fill,
                       double fill_base) override {
    if (parent != parent_.id) return;
    note_children();
    for (auto& c : record_.children)
      if (c.order.client_order_id == report.client_order_id && c.venue_ns == 0) c.venue_ns = report.venue_ns;
    // A fill reported twice (the venue repeated it) is one fill: the OMS ignores the repeat, and so does TCA.
    if (!fresh_fill) return;
    record_.fills.push_back(
        tca_fill_of(report, fill_base, manager_.oms(), book_of(report.venue), parent_.algo));
    record_.raw_fees.push_back(report.fee);
    filled_ += fill_base;
    record_.filled_over_time.emplace_back(report.received_ns, filled_);
    show_progress(report.received_ns);
  }

  void on_parent_ended(ParentId parent, TimestampNs now_ns) override {
    if (parent != parent_.id) return;
    note_children();
    end_ns_ = now_ns;
    if (const ems::ParentEstimate* e = kernel_.estimate(parent)) record_.estimate = *e;
    if (const ems::AutoChoice* c = kernel_.auto_choice(parent)) record_.auto_choice = *c;
    if (progress_) err_ << "\n";
  }

  void after_commit(TimestampNs now_ns) override {
    if (parent_.id.value() == 0) return;
    note_children();
    if (const ems::Algo* algo = kernel_.algo(parent_.id))
      if (record_.schedule.empty() || record_.schedule.back().second != algo->scheduled().to_double())
        record_.schedule.emplace_back(now_ns, algo->scheduled().to_double());
  }

  // The risk gate's denials of this parent and its children.
  void take_denials() {
    // The OMS keeps the latest denials: those since this parent began are the last (total - before).
    const auto& kept = manager_.oms().denials();
    const std::uint64_t since = manager_.oms().denials_total() - denials_before_;
    const std::size_t from =
        kept.size() - static_cast<std::size_t>(std::min<std::uint64_t>(since, kept.size()));
    record_.denials.assign(kept.begin() + static_cast<std::ptrdiff_t>(from), kept.end());
  }

 private:
  const md::BookView* book_of(const VenueId& venue) const {
    const int v = sim_.venue_index(venue);
    return v < 0 ? nullptr : sim_.book(static_cast<std::size_t>(v), instrument_);
  }

  // The children the kernel sent for this parent since the last look, for the report and TCA.
  void note_children() {
    const oms::ParentRecord* p = manager_.oms().parent(parent_.id);
    if (p == nullptr) return;
    for (; children_seen_ < p->children.size(); ++children_seen_)
      if (const oms::ChildOrder* c = manager_.oms().child(p->children[children_seen_]))
        record_.children.push_back({c->order, 0});
    take_denials();
  }

  void show_progress(TimestampNs now) {
    if (!progress_) return;
    const double share = std::clamp(filled_ / parent_.qty.to_double(), 0.0, 1.0);
    const auto p0 = record_.mids.at(parent_.start_ns);
    double shortfall_bps = 0;
    if (p0 && *p0 > 0) {
      double cost = 0;
      const double s = parent_.side == Side::Buy ? 1 : -1;
      for (const auto& f : record_.fills) cost += s * f.qty * (f.price - *p0) + f.fee;
      shortfall_bps = 1e4 * cost / (parent_.qty.to_double() * *p0);
    }
    const ems::Algo* algo = kernel_.algo(parent_.id);
    const int width = 30;
    const int bars = static_cast<int>(share * width + 0.5);
    err_ << "\r[" << std::string(static_cast<std::size_t>(bars), '#')
         << std::string(static_cast<std::size_t>(width - bars), '.') << "] " << std::fixed
         << std::setprecision(1) << 100 * share << "% filled, schedule "
         << (algo != nullptr
                 ? 100 * std::clamp(algo->scheduled().to_double() / parent_.qty.to_double(), 0.0, 1.0)
                 : 100.0)
         << "% (" << parent_.algo << "), shortfall so far " << std::setprecision(2) << shortfall_bps
         << " bps  " << format_time(now).substr(11, 12) << std::flush;
  }

  const sim::Simulator& sim_;
  const oms::OrderManager& manager_;
  const ems::Kernel& kernel_;
  InstrumentId instrument_;
  std::size_t primary_;
  bool consolidated_;
  RunRecord& record_;
  std::ostream& err_;
  bool progress_;
  oms::ParentOrder parent_;
  std::size_t denials_before_ = 0;
  std::size_t children_seen_ = 0;
  double filled_ = 0;
  TimestampNs end_ns_ = 0;
};

}  // namespace

namespace {

// What one run leaves: its exit code, its summary, and (for `execute`) its JSON and the report's series.
struct RunOutput {
  int code = 2;
  ExecutionSummary summary;
  ordered_json json;
  RunRecord record;
  tca::TcaResult tca;
  TimestampNs start_ns = 0;
  std::string benchmark;  // "binance-spot" or "consolidated"
};

RunOutput run_parent(const ExecutionRequest& request, std::ostream& err) {
  RunOutput result;
  auto fail = [&](const std::string& message) {
    err << "tranche execute: " << message << "\n";
    result.code = 2;
    result.summary.error = message;
    return std::move(result);
  };
  const Side side = request.side;
  const Qty qty = request.qty;
  if (!qty.is_positive()) return fail("--qty must be positive, not " + qty.to_string());
  auto loaded = load_config(request.scenario.empty() ? default_config_path() : request.scenario);
  if (!loaded) return fail(loaded.error().message);
  if (request.cross_fill)
    for (auto& v : loaded.value().venues)
      if (v.sim) v.sim->cross_fill = *request.cross_fill;
  const Config& config = *loaded;
  const Instrument* instrument = config.instrument(InstrumentId(request.instrument));
  if (instrument == nullptr)
    return fail("instrument '" + request.instrument + "' is not in " + config.source);
  if (auto sendable = config.check_parent_qty(instrument->id, qty); !sendable)
    return fail("--qty: " + sendable.message());
  const Price limit = request.limit;
  if (limit.is_set() && limit.raw() % instrument->tick_size.raw() != 0)
    return fail("--limit " + limit.to_string() + " is off the tick " + instrument->tick_size.to_string());
  if (request.start_ns && request.end_ns && *request.end_ns <= *request.start_ns)
    return fail("--end must come after --start");
  // Every venue of the scenario makes the market (the perpetuals follow spot's price); --venues says where
  // orders may go.
  for (const auto& v : request.venues)
    if (config.venue(VenueId(v)) == nullptr || !config.venue(VenueId(v))->sim)
      return fail("--venues: '" + v + "' is not a simulated venue of " + config.source);
  const TimestampNs scenario_end = config.scenario ? config.scenario->end_ns : 0;
  sim::SimOptions sim_options;
  sim_options.seed = request.seed;
  // The recordings read through first: a file that ends early or has an unusable stretch is said before
  // anything trades on it (and refused with --strict-data), wherever in the window it is.
  std::vector<sim::DataIssue> data_issues_found;
  if (request.scan_data) {
    auto scanned = sim::Simulator::scan_data(config, sim_options);
    if (!scanned) return fail(scanned.error().message);
    data_issues_found = std::move(scanned).value();
    if (request.strict_data && !data_issues_found.empty())
      return fail("--strict-data: " + sim::summarize(data_issues_found));
    for (const auto& issue : data_issues_found) err << "warning: data: " << issue.to_string() << "\n";
  }

  // --- the product: journal, risk gate, OMS, the simulated venues and their gateways, the kernel ---
  ems::Scorecards cards;
  if (!request.scorecard.empty()) {
    auto kept = ems::Scorecards::load(request.scorecard);
    if (!kept) return fail(kept.error().message);
    cards = std::move(kept).value();
  }
  RuntimeOptions runtime_options;
  runtime_options.journal = request.journal;
  runtime_options.sim = sim_options;
  runtime_options.refuse_open_children = true;
  runtime_options.kernel.allowed_venues = request.venues;
  if (!request.scorecard.empty()) runtime_options.kernel.cards = &cards;
  ems::AlgoEvidence evidence;
  runtime_options.kernel.evidence = request.evidence_in;
  if (!request.evidence.empty()) {
    auto kept = ems::AlgoEvidence::load(request.evidence);
    if (!kept) return fail(kept.error().message);
    evidence = std::move(kept).value();
    runtime_options.kernel.evidence = &evidence;
  }
  // The benchmark: the primary venue's mid, or the first mounted venue listing the instrument (the kernel's
  // own choice for an instrument its primary venue does not list: a perpetual beside spot).
  {
    auto probe = config.venue(VenueId(config.primary_venue));
    const bool mounted = probe != nullptr && probe->sim;
    if (!mounted || probe->listing(instrument->id) == nullptr) {
      for (const auto& v : config.venues)
        if (v.sim && v.listing(instrument->id) != nullptr) {
          runtime_options.kernel.benchmark_venue = v.id.str();
          break;
        }
      if (runtime_options.kernel.benchmark_venue.empty())
        return fail("no mounted venue lists " + request.instrument);
      if (!mounted)
        err << "note: the primary venue " << config.primary_venue << " is not mounted; the benchmark mid is "
            << runtime_options.kernel.benchmark_venue << "'s\n";
    }
  }
  auto opened = Runtime::open(config, runtime_options);
  if (!opened) return fail(opened.error().message);
  Runtime& runtime = *opened.value();
  sim::Simulator& sim = runtime.sim();
  const TimestampNs data_start = runtime.data_start_ns();
  auto window = run_window(request.start_ns, request.end_ns, data_start, scenario_end);
  if (!window) return fail(window.error().message);
  const TimestampNs start = window->start_ns;
  const TimestampNs end = window->end_ns;
  const std::string benchmark_venue = runtime_options.kernel.benchmark_venue.empty()
                                          ? config.primary_venue
                                          : runtime_options.kernel.benchmark_venue;
  const int primary = sim.venue_index(VenueId(benchmark_venue));
  const bool consolidated = config.tca.arrival_mid == "consolidated";
  for (const auto& issue : data_issues_found)
    if (issue.kind == sim::DataIssue::Kind::EndsEarly && issue.venue == benchmark_venue &&
        issue.at_ns < start && !consolidated)
      err << "warning: the benchmark mid is " << benchmark_venue << "'s, whose data stops at "
          << format_time(issue.at_ns) << ", before the arrival: the arrival price and the costs measured "
          << "against it are stale (a --start before then, or [tca] arrival_mid = \"consolidated\")\n";

  oms::ParentOrder parent;
  parent.account = AccountId("default");
  parent.instrument = instrument->id;
  parent.side = side;
  parent.qty = qty;
  parent.limit = limit;
  parent.algo = request.algo;
  parent.params = request.params;
  parent.strategy = "tranche-execute";
  parent.start_ns = start;
  parent.end_ns = end;
  RunRecord& record = result.record;
  const bool progress = request.progress && ::isatty(STDERR_FILENO);
  ems::Kernel& kernel = runtime.kernel();
  ExecutionRecorder recorder(sim, runtime.manager(), kernel, instrument->id,
                             static_cast<std::size_t>(primary), consolidated, record, err, progress);
  kernel.set_observer(&recorder);
  // At the arrival: the benchmark's first point, then the parent (nothing is sent without an arrival price:
  // nothing could be measured).
  Status refused;
  ParentId parent_id;
  kernel.call_at(start, [&](TimestampNs now) {
    recorder.record_benchmark(now);
    if (!record.mids.at(now)) {
      refused =
          make_error("no benchmark mid (" + std::string(consolidated ? "consolidated" : benchmark_venue) +
                     ") at the arrival " + format_time(now));
      return;
    }
    recorder.set_parent(parent);
    auto accepted = kernel.submit(parent);
    recorder.take_denials();
    if (!accepted) {
      refused = make_error(accepted.error().message);
      return;
    }
    parent_id = *accepted;
    parent.id = *accepted;
    recorder.set_parent(parent);
  });
  // Run the parent, then on to its end plus the longest markout horizon (or the end of the data) for the
  // mids. The data running out closes the venues: the parent ends with what it executed.
  while (refused.ok() && (parent_id.value() == 0 || kernel.working(parent_id)) && sim.step()) {
    // The data ran out: the venues close, and what still works ends (at the latest 10 s on).
    if (!kernel.market_closed() && !sim.recording_left()) kernel.data_ended();
  }
  if (refused.ok() && kernel.working(parent_id)) {
    kernel.data_ended();
    while (kernel.working(parent_id) && sim.step()) {
    }
  }
  if (!kernel.error().ok()) return fail(kernel.error().message());
  if (!refused.ok() && parent_id.value() == 0 && record.denials.empty()) return fail(refused.message());
  const TimestampNs end_ns = recorder.ended() ? recorder.end_ns() : sim.now();
  const TimestampNs markout_until = end_ns + 70 * kNanosPerSecond;
  sim.run_until(scenario_end != 0 ? std::min(markout_until, scenario_end) : markout_until);
  record.mids.observed_until(sim.now());
  if (request.recorded_events != nullptr) *request.recorded_events = sim.recorded_events();
  // A copy: the OMS is gone before the summary is printed.
  std::optional<oms::ParentRecord> final_record;
  if (const oms::ParentRecord* p = runtime.manager().oms().parent(parent_id)) final_record = *p;
  const oms::ParentRecord* final_parent = final_record ? &*final_record : nullptr;
  const bool filled_state = final_parent != nullptr && final_parent->state == oms::ParentState::Filled;

  // --- TCA ---
  tca::TcaInput input;
  input.side = side;
  input.qty = qty.to_double();
  input.arrival_ns = start;
  input.end_ns = end_ns;
  input.finished_early = filled_state;
  input.algo = request.algo;
  input.primary_venue = VenueId(benchmark_venue);
  input.mids = &record.mids;
  input.fills = record.fills;
  input.trades = record.trades;
  auto analyzed = tca::analyze(input);
  if (!analyzed) return fail(analyzed.error().message);
  const tca::TcaResult& tca = *analyzed;
  if (!request.scorecard.empty()) {
    // Each venue's markouts, fill by fill, where the data reaches.
    const double sign = side == Side::Buy ? 1.0 : -1.0;
    for (const auto& f : record.fills)
      for (const auto& [name, h] : {std::pair<const char*, DurationNs>{"1s", kNanosPerSecond},
                                    {"10s", 10 * kNanosPerSecond},
                                    {"60s", 60 * kNanosPerSecond}}) {
        if (f.fill_ns + h > record.mids.last_ns()) continue;
        const auto later = record.mids.at(f.fill_ns + h);
        if (later && f.price > 0)
          cards.on_markout(f.venue, name, 1e4 * sign * (f.price - *later) / f.price, f.qty);
      }
    if (auto saved = cards.save(request.scorecard); !saved) return fail(saved.message());
  }
  if (!request.evidence.empty() && record.estimate && final_parent != nullptr) {
    // This parent is evidence for the next: how far its cost fell from its estimate, in its size bucket.
    evidence.on_parent(*record.estimate, tca.implementation_shortfall_bps);
    if (auto saved = evidence.save(request.evidence); !saved) return fail(saved.message());
  }
  const std::string own_model = std::string(to_string(config.venues.empty() || !config.venues.front().sim
                                                          ? CrossFill::Prints
                                                          : config.venues.front().sim->cross_fill));
  ExecutionSummary& summary = result.summary;
  summary.state = final_parent ? oms::to_string(final_parent->state) : "rejected";
  summary.done_text = final_parent ? final_parent->done_text : std::string();
  summary.implementation_shortfall_bps = tca.implementation_shortfall_bps;
  summary.fees_bps = tca.cost_bps.fees;
  summary.fill_ratio = tca.fill_ratio;
  summary.children = record.children.size();
  double filled = 0, resting = 0;
  for (const auto& f : record.fills) {
    filled += f.qty;
    if (f.liquidity == Liquidity::Maker) resting += f.qty;
  }
  summary.resting_share = filled > 0 ? resting / filled : 0;
  summary.passive_markouts = tca.passive_markouts;
  if (record.estimate && std::isfinite(record.estimate->own.cost_bps)) {
    summary.estimate_bps = record.estimate->own.cost_bps;
    summary.estimate_risk_bps = record.estimate->own.risk_bps;
  }
  summary.algo_run = record.auto_choice ? record.auto_choice->algo : request.algo;
  if (record.estimate) summary.bucket = ems::size_bucket(record.estimate->participation);
  summary.ok = final_parent != nullptr;
  if (!summary.ok) {
    summary.error = refused.ok() ? "parent " + summary.state : refused.message();
    for (const auto& d : record.denials) summary.error += "; " + d.reason_code + ": " + d.text;
  }
  if (request.fill_band) {
    // The same parent under the pessimistic and the optimistic crossing-book fill models, beside this run's
    // (docs/simulator.md): a conclusion that holds under both does not rest on how a simulator guesses.
    for (const CrossFill model : {CrossFill::None, CrossFill::Prints, CrossFill::Full}) {
      if (std::string(to_string(model)) == own_model) {
        summary.band.push_back({own_model, tca.implementation_shortfall_bps, tca.fill_ratio});
        continue;
      }
      ExecutionRequest other = request;
      other.cross_fill = model;
      other.fill_band = false;
      other.scan_data = false;
      other.progress = false;
      other.journal.clear();
      other.scorecard.clear();
      other.evidence.clear();
      other.evidence_in = runtime_options.kernel.evidence;  // the same choice
      other.keep_details = false;
      other.recorded_events = nullptr;
      std::ostringstream other_err;
      RunOutput o = run_parent(other, other_err);
      if (o.code == 2)
        return fail("--fill-band: the run under cross_fill = " + std::string(to_string(model)) +
                    " failed: " + other_err.str());
      summary.band.push_back(
          {std::string(to_string(model)), o.summary.implementation_shortfall_bps, o.summary.fill_ratio});
    }
  }
  result.code = final_parent == nullptr ? 1 : 0;
  result.start_ns = start;
  result.benchmark = consolidated ? std::string("consolidated") : benchmark_venue;
  if (!request.keep_details) return result;

  ordered_json& j = result.json;
  j["parent"] = {{"side", side == Side::Buy ? "buy" : "sell"},
                 {"qty", qty.to_string()},
                 {"instrument", request.instrument},
                 {"algo", request.algo},
                 {"limit", limit.is_set() ? limit.to_string() : std::string()},
                 {"arrival_ns", start},
                 {"end_ns", end_ns},
                 {"state", summary.state},
                 {"executed", final_parent ? final_parent->executed.to_string() : "0"},
                 {"done_text", summary.done_text}};
  ordered_json children = ordered_json::array();
  for (const auto& c : record.children)
    children.push_back(
        {{"child_id", c.order.client_order_id.value()},
         {"venue", c.order.venue.str()},
         {"type", std::string(to_string(c.order.type)) + "/" + std::string(to_string(c.order.time_in_force))},
         {"price", c.order.price.is_set() ? c.order.price.to_string() : std::string()},
         {"qty", c.order.qty.to_string()},
         {"sent_ns", c.order.sent_ns},
         {"venue_ns", c.venue_ns}});
  j["children"] = children;
  ordered_json fills = ordered_json::array();
  for (std::size_t i = 0; i < record.fills.size(); ++i) {
    const auto& f = record.fills[i];
    fills.push_back(
        {{"child_id", f.child.value()},
         {"venue", f.venue.str()},
         {"price", f.price},
         {"qty", f.qty},
         {"liquidity", f.liquidity == Liquidity::Maker ? "maker" : "taker"},
         {"fee", f.fee},
         {"fee_charged", record.raw_fees[i].amount.to_string() + " " + record.raw_fees[i].asset.str()},
         {"ts_ns", f.fill_ns}});
  }
  j["fills"] = fills;
  ordered_json t = tca_json(tca, consolidated ? "consolidated mid" : benchmark_venue + " mid");
  j["tca"] = t;
  j["auto"] = record.auto_choice ? ordered_json{{"chose", record.auto_choice->algo},
                                                {"params",
                                                 [&] {
                                                   ordered_json params = ordered_json::object();
                                                   for (const auto& p : record.auto_choice->params)
                                                     params[p.key] = p.value;
                                                   return params;
                                                 }()},
                                                {"why", record.auto_choice->why}}
                                 : ordered_json(nullptr);
  j["estimate"] = record.estimate ? estimate_json(*record.estimate, tca.implementation_shortfall_bps)
                                  : ordered_json(nullptr);
  ordered_json denials = ordered_json::array();
  for (const auto& d : record.denials) denials.push_back({{"reason_code", d.reason_code}, {"text", d.text}});
  j["denials"] = denials;
  ordered_json data_issues = ordered_json::array();
  for (const auto& issue : data_issues_found)
    data_issues.push_back({{"venue", issue.venue},
                           {"files", issue.files},
                           {"at", format_time(issue.at_ns)},
                           {"at_ns", issue.at_ns},
                           {"text", issue.to_string()}});
  j["data_issues"] = data_issues;
  if (request.fill_band) {
    ordered_json band = ordered_json::object();
    for (const auto& b : summary.band)
      band[b.model] = {{"implementation_shortfall_bps", b.implementation_shortfall_bps},
                       {"fill_ratio", b.fill_ratio}};
    j["fill_band"] = band;
  }
  result.tca = tca;
  return result;
}

}  // namespace

Result<RunWindow> run_window(std::optional<TimestampNs> start_at, std::optional<TimestampNs> end_at,
                             TimestampNs data_start, TimestampNs scenario_end) {
  const TimestampNs start = start_at.value_or(data_start);
  TimestampNs end = end_at.value_or(start + 2 * 60 * kNanosPerSecond);
  if (!end_at && scenario_end != 0) end = std::min(end, scenario_end);  // never past the data
  if (start < data_start || (scenario_end != 0 && start >= scenario_end))
    return make_error("--start " + format_time(start) + " is outside the data (" + format_time(data_start) +
                      " to " + (scenario_end ? format_time(scenario_end) : std::string("its end")) + ")");
  if (end <= start) return make_error("--end must come after the start " + format_time(start));
  if (scenario_end != 0 && end > scenario_end)
    return make_error("--end " + format_time(end) + " is past the end of the data " +
                      format_time(scenario_end));
  return RunWindow{start, end};
}

Result<ExecutionSummary> run_execution(const ExecutionRequest& request, std::ostream& err) {
  ExecutionRequest r = request;
  r.keep_details = false;
  RunOutput o = run_parent(r, err);
  if (o.code == 2) return make_error(o.summary.error);
  return std::move(o.summary);
}

int execute_command(const ExecuteOptions& options, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "tranche execute: " << message << "\n";
    return 2;
  };
  if (!options.basket.empty()) {
    if (!options.side.empty() || !options.qty.empty() || !options.params.empty() || !options.limit.empty() ||
        options.algo != "market" || options.instrument != "ETH-USDT")
      return fail("--basket FILE names its legs: no --side, --qty, --instrument, --algo, --param or --limit");
    if (!options.html.empty() || !options.scorecard.empty() || !options.evidence.empty() ||
        options.fill_band || !options.cross_fill.empty())
      return fail("--basket runs without --html, --scorecard, --evidence, --fill-band or --cross-fill");
    BasketOptions basket;
    basket.file = options.basket;
    basket.scenario = options.scenario;
    basket.start = options.start;
    basket.end = options.end;
    basket.venues = options.venues;
    basket.seed = options.seed;
    basket.journal = options.journal;
    basket.json = options.json;
    return basket_command(basket, out, err);
  }
  if (options.side.empty() || options.qty.empty())
    return fail("--side and --qty are required (or --basket FILE)");
  // --- the order, checked before anything runs ---
  ExecutionRequest request;
  if (options.side == "buy") {
    request.side = Side::Buy;
  } else if (options.side == "sell") {
    request.side = Side::Sell;
  } else {
    return fail("--side must be buy or sell, not '" + options.side + "'");
  }
  if (!Qty::parse(options.qty, request.qty)) return fail("--qty '" + options.qty + "' is not a decimal");
  if (!request.qty.is_positive()) return fail("--qty must be positive, not " + options.qty);
  const std::vector<std::string> algos = known_algos();
  if (std::find(algos.begin(), algos.end(), options.algo) == algos.end()) {
    std::string list;
    for (const auto& a : algos) list += (list.empty() ? "" : ", ") + a;
    return fail("unknown algo '" + options.algo + "' (known: " + list + ")");
  }
  request.algo = options.algo;
  request.instrument = options.instrument;
  for (const auto& item : options.params) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) return fail("--param '" + item + "' is not KEY=VALUE");
    request.params.push_back({item.substr(0, eq), item.substr(eq + 1)});
  }
  if (options.algo == "market" && !request.params.empty()) return fail("--algo market takes no parameters");
  {
    oms::ParentOrder probe;
    probe.algo = options.algo;
    probe.params = request.params;
    if (auto s = ems::check_algo(probe); !s) return fail(s.message());
  }
  if (!options.cross_fill.empty()) {
    const auto fill = parse_cross_fill(options.cross_fill);
    if (!fill) return fail("--cross-fill: " + fill.error().message);
    request.cross_fill = *fill;
  }
  if (!options.limit.empty()) {
    if (!Price::parse(options.limit, request.limit) || !request.limit.is_positive())
      return fail("--limit '" + options.limit + "' is not a price");
  }
  if (!options.start.empty()) {
    auto t = parse_time(options.start);
    if (!t) return fail("--start: " + t.error().message);
    request.start_ns = *t;
  }
  if (!options.end.empty()) {
    auto t = parse_time(options.end);
    if (!t) return fail("--end: " + t.error().message);
    request.end_ns = *t;
  }
  request.venues = options.venues;
  request.scenario = options.scenario;
  request.seed = options.seed;
  request.journal = options.journal;
  request.scorecard = options.scorecard;
  request.evidence = options.evidence;
  request.fill_band = options.fill_band;
  request.scan_data = options.scan_data;
  request.strict_data = options.strict_data;
  request.progress = options.progress && !options.json;
  request.recorded_events = options.recorded_events;
  RunOutput run = run_parent(request, err);
  if (run.code == 2) return 2;
  const ordered_json& j = run.json;
  const RunRecord& record = run.record;
  const tca::TcaResult& tca = run.tca;
  const TimestampNs start = run.start_ns;
  if (!options.html.empty()) {
    // The chart starts 10 s before arrival, with the mid as it stood then.
    std::vector<std::pair<TimestampNs, double>> mids;
    const TimestampNs from = start - 10 * kNanosPerSecond;
    if (auto before = record.mids.at(from)) mids.emplace_back(from, *before);
    for (const auto& p : record.mids.points())
      if (p.t_ns > from) mids.emplace_back(p.t_ns, p.mid);
    if (auto s = write_execution_report(options.html, j, mids, record.filled_over_time, record.schedule); !s)
      return fail(s.message());
  }
  if (!options.journal.empty()) err << "journal: " << options.journal << "\n";
  if (!options.html.empty()) err << "report: " << options.html << "\n";
  if (options.json) {
    out << j.dump(2) << "\n";
    return run.code;
  }
  const std::string& done_text = run.summary.done_text;
  const std::string& state = run.summary.state;
  auto bps = [](double v) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(2) << v;
    return o.str();
  };
  auto money = [](double v) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(2) << v;
    return o.str();
  };
  out << options.side << " " << request.qty.to_string() << " " << options.instrument << " (" << options.algo
      << ") from " << format_time(start) << ": " << state << ", filled " << tca.filled << " ("
      << bps(100 * tca.fill_ratio) << "%) at " << money(tca.average_price) << "\n";
  if (!done_text.empty()) out << "  " << done_text << "\n";
  if (record.auto_choice)
    out << "  auto chose " << record.auto_choice->algo << ": " << record.auto_choice->why << "\n";
  for (const auto& d : record.denials) out << "  risk denied: " << d.reason_code << ": " << d.text << "\n";
  out << "  arrival price " << money(tca.arrival_price) << " (" << run.benchmark << " mid)\n\n";
  out << "  " << std::left << std::setw(30) << "cost" << std::right << std::setw(12) << "bps" << std::setw(16)
      << "quote"
      << "\n";
  auto row = [&](const std::string& name, double b, double q) {
    out << "  " << std::left << std::setw(30) << name << std::right << std::setw(12) << bps(b)
        << std::setw(16) << money(q) << "\n";
  };
  row("delay", tca.cost_bps.delay, tca.cost.delay);
  row("impact", tca.cost_bps.impact, tca.cost.impact);
  row("spread", tca.cost_bps.spread, tca.cost.spread);
  row("fees", tca.cost_bps.fees, tca.cost.fees);
  row("opportunity", tca.cost_bps.opportunity, tca.cost.opportunity);
  row("implementation shortfall", tca.implementation_shortfall_bps, tca.implementation_shortfall);
  if (record.estimate && std::isfinite(record.estimate->own.cost_bps)) {
    const ems::ParentEstimate& e = *record.estimate;
    out << "  pre-trade estimate (" << e.model << ")  " << bps(e.own.cost_bps) << " bps, risk "
        << bps(e.own.risk_bps) << " bps: realised - estimate "
        << bps(tca.implementation_shortfall_bps - e.own.cost_bps) << " bps";
    if (!e.recommended.empty() && e.recommended != e.model)
      out << "; the model would have chosen " << e.recommended << " (" << bps(e.recommended_cost_bps)
          << " bps)";
    out << "\n";
  }
  if (j.contains("fill_band")) {
    out << "  fill-model band (crossing-book fills):";
    for (const auto& [model, v] : j["fill_band"].items())
      out << "  " << model << " " << bps(v["implementation_shortfall_bps"].get<double>()) << " bps ("
          << bps(100 * v["fill_ratio"].get<double>()) << "% filled)";
    out << "\n";
  }
  out << "\n";
  if (tca.vwap_slippage_bps)
    out << "  vs interval VWAP " << money(*tca.vwap) << ": " << bps(*tca.vwap_slippage_bps) << " bps\n";
  if (tca.twap_slippage_bps)
    out << "  vs interval TWAP " << money(*tca.twap) << ": " << bps(*tca.twap_slippage_bps) << " bps\n";
  if (tca.participation) out << "  participation " << bps(100 * *tca.participation) << "%\n";
  for (const auto& [label, list] :
       {std::pair{"  markouts:", &tca.markouts}, std::pair{"\n  of resting fills:", &tca.passive_markouts}}) {
    out << label;
    for (const auto& m : *list)
      out << "  " << m.horizon_ns / kNanosPerSecond << "s "
          << (m.bps ? bps(*m.bps) + " bps" : std::string("n/a"));
  }
  out << "\n  by venue:\n";
  for (const auto& v : tca.by_venue)
    out << "    " << std::left << std::setw(16) << v.key << std::right << " filled " << v.filled << " at "
        << money(v.average_price) << ", cost " << bps(v.cost_bps.total()) << " bps\n";
  return run.code;
}

int scorecard_command(const std::string& file, bool json, std::ostream& out, std::ostream& err) {
  if (!std::filesystem::exists(file)) {
    err << "tranche scorecard: " << file << ": no such file\n";
    return 2;
  }
  auto cards = ems::Scorecards::load(file);
  if (!cards) {
    err << "tranche scorecard: " << cards.error().message << "\n";
    return 2;
  }
  if (json) {
    out << cards->to_json() << "\n";
    return 0;
  }
  out << std::left << std::setw(16) << "venue" << std::right << std::setw(8) << "orders" << std::setw(8)
      << "fills" << std::setw(11) << "fill rate" << std::setw(9) << "rejects" << std::setw(14) << "round trip"
      << std::setw(12) << "markout 1s" << std::setw(12) << "10s" << std::setw(10) << "60s"
      << "\n";
  for (const auto& [name, s] : cards->venues()) {
    out << std::left << std::setw(16) << name << std::right << std::setw(8) << s.orders << std::setw(8)
        << s.fills << std::setw(10) << std::fixed << std::setprecision(1) << 100 * s.fill_rate() << "%"
        << std::setw(8) << 100 * s.reject_rate() << "%" << std::setw(11) << std::setprecision(0)
        << s.median_round_trip_us() << " us" << std::setprecision(2) << std::setw(12) << s.markout_bps("1s")
        << std::setw(12) << s.markout_bps("10s") << std::setw(10) << s.markout_bps("60s") << "\n";
  }
  out << "markouts in bps, positive = the price went against us after our fill\n";
  return 0;
}

}  // namespace tranche::service
