#include "service/basket_command.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/config.hpp"
#include "core/time.hpp"
#include "ems/algo.hpp"
#include "ems/algo_evidence.hpp"
#include "ems/kernel.hpp"
#include "ems/list_balance.hpp"
#include "ems/venue_views.hpp"
#include "service/execute_command.hpp"
#include "service/runtime.hpp"
#include "service/sim_commands.hpp"
#include "service/tca_tape.hpp"
#include "sim/simulator.hpp"

namespace tranche::service {

using nlohmann::ordered_json;

namespace {

// A decimal written as a string (prices, quantities, amounts); an error naming `what` otherwise.
Result<std::string> decimal_string(const toml::node* node, const std::string& what) {
  if (node == nullptr) return std::string();
  if (const auto* s = node->as_string()) return s->get();
  return make_error(what + " must be a decimal string (\"10\", not 10)");
}

}  // namespace

Result<BasketFile> read_basket(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream m;
    m << path << ": " << e.description() << " (line " << e.source().begin.line << ")";
    return make_error(m.str());
  }
  BasketFile file;
  for (const auto& [key, node] : root)
    if (key.str() != "list" && key.str() != "leg")
      return make_error(path + ": unknown table '" + std::string(key.str()) + "' (list, leg)");
  if (const toml::table* list = root["list"].as_table()) {
    for (const auto& [key, node] : *list) {
      const std::string k(key.str());
      if (k == "id") {
        const auto* s = node.as_string();
        if (s == nullptr) return make_error(path + ": [list] id must be a string");
        file.id = s->get();
      } else if (k == "max_imbalance" || k == "cash_limit") {
        auto v = decimal_string(&node, path + ": [list] " + k);
        if (!v) return make_error(v.error().message);
        (k == "max_imbalance" ? file.max_imbalance : file.cash_limit) = *v;
      } else {
        return make_error(path + ": unknown [list] key '" + k + "' (id, max_imbalance, cash_limit)");
      }
    }
  } else if (root.contains("list")) {
    return make_error(path + ": list must be a table, [list]");
  }
  const toml::array* legs = root["leg"].as_array();
  if (legs == nullptr || legs->empty()) return make_error(path + ": no [[leg]]");
  if (legs->size() > ems::kMaxListLegs)
    return make_error(path + ": " + std::to_string(legs->size()) + " legs, more than the " +
                      std::to_string(ems::kMaxListLegs) + " a list may have");
  const std::vector<std::string> algos = ems::algo_names();
  for (std::size_t i = 0; i < legs->size(); ++i) {
    const std::string where = path + ": leg " + std::to_string(i + 1);
    const toml::table* leg = (*legs)[i].as_table();
    if (leg == nullptr) return make_error(where + " is not a table");
    oms::ParentOrder parent;
    parent.account = AccountId("default");
    parent.strategy = "tranche-basket";
    parent.algo = "twap";
    bool side_given = false;  // never assumed: a leg on the wrong side is the worst mistake a list can make
    for (const auto& [key, node] : *leg) {
      const std::string k(key.str());
      if (k == "instrument" || k == "side" || k == "algo") {
        const auto* s = node.as_string();
        if (s == nullptr) return make_error(where + ": " + k + " must be a string");
        if (k == "instrument") {
          parent.instrument = InstrumentId(s->get());
        } else if (k == "algo") {
          parent.algo = s->get();
        } else if (s->get() == "buy" || s->get() == "sell") {
          parent.side = s->get() == "buy" ? Side::Buy : Side::Sell;
          side_given = true;
        } else {
          return make_error(where + ": side must be buy or sell, not '" + s->get() + "'");
        }
      } else if (k == "qty" || k == "limit") {
        auto v = decimal_string(&node, where + ": " + k);
        if (!v) return make_error(v.error().message);
        if (k == "qty") {
          if (!Qty::parse(*v, parent.qty) || !parent.qty.is_positive())
            return make_error(where + ": qty '" + *v + "' is not a positive decimal");
        } else if (!Price::parse(*v, parent.limit) || !parent.limit.is_positive()) {
          return make_error(where + ": limit '" + *v + "' is not a price");
        }
      } else if (k == "params") {
        const toml::table* params = node.as_table();
        if (params == nullptr) return make_error(where + ": params must be a table, { key = \"value\" }");
        for (const auto& [pk, pv] : *params) {
          std::string value;
          if (const auto* s = pv.as_string())
            value = s->get();
          else if (const auto* n = pv.as_integer())
            value = std::to_string(n->get());
          else if (const auto* d = pv.as_floating_point()) {
            std::ostringstream f;
            f << std::setprecision(15) << d->get();  // every digit a double holds exactly
            value = f.str();
          } else {
            return make_error(where + ": params." + std::string(pk.str()) + " must be a string or a number");
          }
          if (ems::is_list_key(std::string(pk.str())))
            return make_error(where + ": params." + std::string(pk.str()) +
                              " is the list's: set it in [list]");
          parent.params.push_back({std::string(pk.str()), value});
        }
      } else {
        return make_error(where + ": unknown key '" + k + "' (instrument, side, qty, algo, limit, params)");
      }
    }
    if (parent.instrument.str().empty()) return make_error(where + ": no instrument");
    if (!parent.qty.is_positive()) return make_error(where + ": no qty");
    if (!side_given) return make_error(where + ": no side (buy or sell)");
    if (std::find(algos.begin(), algos.end(), parent.algo) == algos.end())
      return make_error(where + ": unknown algo '" + parent.algo + "'");
    if (auto s = ems::check_algo(parent); !s) return make_error(where + ": " + s.message());
    file.legs.push_back(std::move(parent));
  }
  if (file.balanced()) {
    const auto terms = ems::list_params(file.id, file.legs.size(), file.max_imbalance, file.cash_limit);
    for (auto& leg : file.legs) leg.params.insert(leg.params.end(), terms.begin(), terms.end());
    if (auto s = ems::check_list(file.legs); !s) return make_error(path + ": " + s.message());
  } else {
    std::set<std::pair<std::string, int>> seen;
    for (const auto& leg : file.legs)
      if (!seen.insert({leg.instrument.str(), static_cast<int>(leg.side)}).second)
        return make_error(path + ": " + leg.instrument.str() + " is on the same side twice");
  }
  return file;
}

namespace {

// What the list leaned while it ran, from the fills as they came (not from the kernel's own count): the
// largest gap between two legs' executed shares, and the buy legs' value minus the sell legs' at each leg's
// reference price, with the moments they peaked.
class ListWatch final : public TcaTapeObserver {
 public:
  ListWatch(TcaTape& tape, const std::vector<oms::ParentOrder>& legs) : TcaTapeObserver(tape), legs_(legs) {
    executed_.assign(legs.size(), 0);
    arrival_mid_.assign(legs.size(), 0);
    notional_.assign(legs.size(), 0);
    leg_ids_.assign(legs.size(), ParentId());
  }
  void set_id(std::size_t leg, ParentId id) {
    ids_[id.value()] = leg;
    leg_ids_[leg] = id;
  }
  void set_arrival_mid(std::size_t leg, double mid) { arrival_mid_[leg] = mid; }
  // The list whose reference prices value the legs (nullptr, or before it has one: the arrival mid).
  void set_list(const ems::ListBalance* list) { list_ = list; }

  void on_child_report(ParentId parent, const ExecutionReport& report, bool fresh_fill,
                       double fill_base) override {
    TcaTapeObserver::on_child_report(parent, report, fresh_fill, fill_base);
    auto it = ids_.find(parent.value());
    if (!fresh_fill || it == ids_.end()) return;
    executed_[it->second] += fill_base;
    notional_[it->second] += fill_base * report.last_price.to_double();
    double hi = 0, lo = 1, cash = 0, real_cash = 0;
    for (std::size_t i = 0; i < legs_.size(); ++i) {
      const double share = executed_[i] / legs_[i].qty.to_double();
      hi = std::max(hi, share);
      lo = std::min(lo, share);
      const double sign = legs_[i].side == Side::Buy ? 1 : -1;
      cash += sign * executed_[i] * reference(i);
      real_cash += sign * notional_[i];
    }
    if (hi - lo > max_share_) {
      max_share_ = hi - lo;
      max_share_ns_ = report.received_ns;
    }
    if (std::abs(cash) > std::abs(max_cash_)) {
      max_cash_ = cash;
      max_cash_ns_ = report.received_ns;
    }
    max_real_cash_ = std::max(max_real_cash_, std::abs(real_cash));
  }
  void after_commit(TimestampNs now_ns) override { tape_.tick(now_ns, false); }

  double max_share() const { return max_share_; }
  TimestampNs max_share_ns() const { return max_share_ns_; }
  double max_cash() const { return max_cash_; }
  TimestampNs max_cash_ns() const { return max_cash_ns_; }
  double max_real_cash() const { return max_real_cash_; }
  double executed(std::size_t leg) const { return executed_[leg]; }

 private:
  double reference(std::size_t leg) const {
    if (list_ != nullptr)
      if (auto r = list_->reference(leg_ids_[leg])) return r->to_double();
    return arrival_mid_[leg];
  }

  const std::vector<oms::ParentOrder>& legs_;
  std::map<std::uint64_t, std::size_t> ids_;
  std::vector<ParentId> leg_ids_;
  const ems::ListBalance* list_ = nullptr;
  std::vector<double> executed_, arrival_mid_, notional_;
  double max_share_ = 0, max_cash_ = 0, max_real_cash_ = 0;
  TimestampNs max_share_ns_ = 0, max_cash_ns_ = 0;
};

double number_or_zero(const ordered_json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
}

}  // namespace

int basket_command(const BasketOptions& options, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "tranche execute --basket: " << message << "\n";
    return 2;
  };
  auto basket = read_basket(options.file);
  if (!basket) return fail(basket.error().message);
  BasketFile& file = basket.value();
  auto loaded = load_config(options.scenario.empty() ? default_config_path() : options.scenario);
  if (!loaded) return fail(loaded.error().message);
  const Config& config = *loaded;
  for (std::size_t i = 0; i < file.legs.size(); ++i) {
    const oms::ParentOrder& leg = file.legs[i];
    const Instrument* instrument = config.instrument(leg.instrument);
    if (instrument == nullptr)
      return fail("leg " + std::to_string(i + 1) + ": instrument '" + leg.instrument.str() + "' is not in " +
                  config.source);
    if (auto s = config.check_parent_qty(instrument->id, leg.qty); !s)
      return fail("leg " + std::to_string(i + 1) + ": qty: " + s.message());
    if (leg.limit.is_set() && leg.limit.raw() % instrument->tick_size.raw() != 0)
      return fail("leg " + std::to_string(i + 1) + ": limit " + leg.limit.to_string() + " is off the tick " +
                  instrument->tick_size.to_string());
  }
  for (const auto& v : options.venues)
    if (config.venue(VenueId(v)) == nullptr || !config.venue(VenueId(v))->sim)
      return fail("--venues: '" + v + "' is not a simulated venue of " + config.source);
  std::optional<TimestampNs> start_at, end_at;
  if (!options.start.empty()) {
    auto t = parse_time(options.start);
    if (!t) return fail("--start: " + t.error().message);
    start_at = *t;
  }
  if (!options.end.empty()) {
    auto t = parse_time(options.end);
    if (!t) return fail("--end: " + t.error().message);
    end_at = *t;
  }

  RuntimeOptions runtime_options;
  runtime_options.journal = options.journal;
  if (options.seed) runtime_options.sim.seed = options.seed;
  runtime_options.refuse_open_children = true;
  runtime_options.kernel.allowed_venues = options.venues;
  auto opened = Runtime::open(config, runtime_options);
  if (!opened) return fail(opened.error().message);
  Runtime& runtime = *opened.value();
  sim::Simulator& sim = runtime.sim();
  ems::Kernel& kernel = runtime.kernel();
  const TimestampNs scenario_end = config.scenario ? config.scenario->end_ns : 0;
  const TimestampNs data_start = runtime.data_start_ns();
  auto window = run_window(start_at, end_at, data_start, scenario_end);
  if (!window) return fail(window.error().message);
  const TimestampNs start = window->start_ns;
  const TimestampNs end = window->end_ns;
  for (auto& leg : file.legs) {
    leg.start_ns = start;
    leg.end_ns = end;
  }

  const bool consolidated = config.tca.arrival_mid == "consolidated";
  TcaTape tape(runtime.market(), runtime.manager(), VenueId(config.primary_venue), consolidated,
               file.legs.size(), &kernel);
  ListWatch watch(tape, file.legs);
  kernel.set_observer(&watch);
  std::vector<ParentId> ids(file.legs.size());
  Status refused;
  kernel.call_at(start, [&](TimestampNs now) {
    // The arrival: each leg's benchmark mid first (nothing is sent without an arrival price: nothing could be
    // measured), then every leg is accepted, or none works: a refused leg cancels those accepted before it.
    for (std::size_t i = 0; i < file.legs.size(); ++i) {
      const InstrumentId& instrument = file.legs[i].instrument;
      const int venue = sim.venue_index(kernel.benchmark_venue(instrument));
      const auto mid =
          venue < 0 ? std::nullopt
                    : ems::benchmark_mid(sim, instrument, static_cast<std::size_t>(venue), consolidated);
      if (!mid) {
        refused =
            make_error("no benchmark mid for " + instrument.str() + " at the arrival " + format_time(now));
        return;
      }
      tape.note_mid(instrument, now, *mid);
      watch.set_arrival_mid(i, *mid);
    }
    if (!file.balanced()) {
      for (std::size_t i = 0; i < file.legs.size(); ++i) {
        auto accepted = kernel.submit(file.legs[i]);
        if (!accepted) {
          refused = make_error("leg " + std::to_string(i + 1) + " (" + file.legs[i].instrument.str() +
                               ") refused: " + accepted.error().message);
          for (std::size_t j = 0; j < i; ++j) (void)kernel.cancel(ids[j], "another leg was refused");
          return;
        }
        ids[i] = *accepted;
        watch.set_id(i, *accepted);
      }
      return;
    }
    const ems::ListSubmission submitted = kernel.submit_list(file.legs);
    ids = submitted.legs;
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (ids[i].value() != 0) watch.set_id(i, ids[i]);
    watch.set_list(kernel.list(file.id));
    if (!submitted.refused.ok()) refused = make_error("list " + file.id + ": " + submitted.refused.message());
  });
  auto working = [&] {
    if (refused.ok() && ids.back().value() == 0) return true;  // not yet submitted
    return std::any_of(ids.begin(), ids.end(), [&](ParentId id) { return kernel.working(id); });
  };
  while (working() && sim.step()) {
    if (!kernel.market_closed() && !sim.recording_left()) kernel.data_ended();
  }
  if (working()) {
    kernel.data_ended();
    while (working() && sim.step()) {
    }
  }
  if (!kernel.error().ok()) return fail(kernel.error().message());
  if (!refused.ok()) return fail(refused.message());
  const TimestampNs ended = sim.now();
  const TimestampNs markout_until = ended + 70 * kNanosPerSecond;
  sim.run_until(scenario_end != 0 ? std::min(markout_until, scenario_end) : markout_until);
  tape.tick(sim.now(), true);

  // --- TCA: each leg's, then the list's ---
  const ems::ListBalance* list = file.balanced() ? kernel.list(file.id) : nullptr;
  ordered_json legs_json = ordered_json::array();
  std::vector<std::string> leg_lines;
  double shortfall = 0, notional = 0, filled_notional = 0;
  for (std::size_t i = 0; i < file.legs.size(); ++i) {
    const oms::ParentOrder& leg = file.legs[i];
    const oms::ParentRecord* record = runtime.manager().oms().parent(ids[i]);
    ordered_json j{{"parent_id", ids[i].value()},
                   {"instrument", leg.instrument.str()},
                   {"side", leg.side == Side::Buy ? "buy" : "sell"},
                   {"qty", leg.qty.to_string()},
                   {"algo", leg.algo},
                   {"limit", leg.limit.is_set() ? leg.limit.to_string() : std::string()},
                   {"state", record != nullptr ? oms::to_string(record->state) : "unknown"},
                   {"executed", record != nullptr ? record->executed.to_string() : "0"},
                   {"done_text", record != nullptr ? record->done_text : std::string()}};
    std::optional<Price> reference = list != nullptr ? list->reference(ids[i]) : std::nullopt;
    j["reference_price"] = reference ? reference->to_string() : std::string();
    auto report = tape.report(ids[i], sim.now());
    if (!report || !*report) {
      j["tca"] = nullptr;
      j["tca_error"] = report ? report->error().message : std::string("no TCA for the leg");
    } else {
      j["final"] = (**report).value("final", false);
      j["tca"] = (**report)["tca"];
      j["estimate"] = (**report).contains("estimate") ? (**report)["estimate"] : ordered_json(nullptr);
      const ordered_json& t = j["tca"];
      shortfall += number_or_zero(t, "implementation_shortfall");
      notional += number_or_zero(t, "parent_notional");
      filled_notional += number_or_zero(t, "filled") * number_or_zero(t, "arrival_price");
    }
    std::ostringstream line;
    line << std::fixed << "  leg " << ids[i].value() << " " << (leg.side == Side::Buy ? "buy " : "sell ")
         << leg.qty.to_string() << " " << leg.instrument.str() << " (" << leg.algo
         << "): " << (record != nullptr ? oms::to_string(record->state) : "unknown") << ", executed "
         << (record != nullptr ? record->executed.to_string() : "0");
    if (!j["tca"].is_null())
      line << ", shortfall " << std::setprecision(2)
           << number_or_zero(j["tca"], "implementation_shortfall_bps") << " bps vs "
           << kernel.benchmark_venue(leg.instrument).str() << " mid";
    else
      line << ", no TCA: " << j["tca_error"].get<std::string>();
    leg_lines.push_back(line.str());
    legs_json.push_back(std::move(j));
  }
  double final_share = 0, final_cash = 0;
  {
    double hi = 0, lo = 1;
    for (std::size_t i = 0; i < file.legs.size(); ++i) {
      const double share = watch.executed(i) / file.legs[i].qty.to_double();
      hi = std::max(hi, share);
      lo = std::min(lo, share);
    }
    final_share = hi - lo;
  }
  if (list != nullptr) final_cash = list->cash_imbalance();
  ordered_json l{
      {"id", file.id},
      {"legs", file.legs.size()},
      {"max_imbalance",
       file.max_imbalance.empty() ? ordered_json(nullptr) : ordered_json(file.max_imbalance)},
      {"cash_limit", file.cash_limit.empty() ? ordered_json(nullptr) : ordered_json(file.cash_limit)},
      {"arrival_notional", notional},
      {"implementation_shortfall", shortfall},
      {"implementation_shortfall_bps", notional > 0 ? 1e4 * shortfall / notional : 0.0},
      {"fill_ratio", notional > 0 ? filled_notional / notional : 0.0},
      {"max_share_imbalance", watch.max_share()},
      {"max_share_imbalance_ns", watch.max_share_ns()},
      {"final_share_imbalance", final_share},
      {"max_cash_imbalance", watch.max_cash()},
      {"max_cash_imbalance_ns", watch.max_cash_ns()},
      {"final_cash_imbalance", final_cash},
      {"max_real_cash_imbalance", watch.max_real_cash()},
      {"clipped_intents", list != nullptr ? list->clips() : 0},
      {"catch_ups", list != nullptr ? list->catch_ups() : 0}};
  ordered_json result{{"list", l}, {"legs", legs_json}, {"start_ns", start}, {"end_ns", end}};
  if (options.json) {
    out << result.dump(2) << "\n";
    return 0;
  }
  out << std::fixed;
  out << "list " << file.id << ": " << file.legs.size() << " legs, " << format_time(start) << " to "
      << format_time(end);
  if (!file.max_imbalance.empty()) out << ", max leg imbalance " << file.max_imbalance;
  if (!file.cash_limit.empty()) out << ", cash limit " << file.cash_limit;
  if (!file.balanced()) out << ", no limit (each leg on its own)";
  out << "\n";
  for (const auto& line : leg_lines) out << line << "\n";
  out << "  list: shortfall " << std::setprecision(2) << (notional > 0 ? 1e4 * shortfall / notional : 0.0)
      << " bps of " << std::setprecision(2) << notional << " at arrival, filled " << std::setprecision(1)
      << 100 * (notional > 0 ? filled_notional / notional : 0.0) << "%\n";
  out << "  leaned at most " << std::setprecision(2) << 100 * watch.max_share()
      << "% of a leg (executed shares), " << 100 * final_share << "% at the end";
  if (list != nullptr && !file.cash_limit.empty())
    out << "; cash " << std::setprecision(2) << watch.max_cash() << " at most at reference prices ("
        << final_cash << " at the end)";
  out << "\n";
  if (list != nullptr)
    out << "  the limit clipped " << list->clips() << " intents; " << list->catch_ups() << " catch-ups\n";
  return 0;
}

}  // namespace tranche::service
