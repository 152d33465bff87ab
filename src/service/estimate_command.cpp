#include "service/estimate_command.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/config.hpp"
#include "core/quantity.hpp"
#include "ems/algo_evidence.hpp"
#include "ems/market_meter.hpp"
#include "ems/venue_views.hpp"
#include "service/sim_commands.hpp"
#include "sim/simulator.hpp"

namespace tranche::service {
namespace {

using nlohmann::ordered_json;

// Feeds the meter every event of the instrument, as the kernel feeds its own.
class MeterFeed final : public sim::SimListener {
 public:
  MeterFeed(const sim::Simulator& sim, ems::MarketMeter& meter, InstrumentId instrument)
      : sim_(sim), meter_(meter), instrument_(std::move(instrument)) {}
  void on_market_data(const md::MarketRef& ref, const md::Event& event) override {
    if (ref.instrument != instrument_) return;
    const bool print = event.kind == md::EventKind::Trade && !(event.flags & md::kFlagSimulated);
    const md::BookView* book = ref.book != nullptr ? ref.book : sim_.book(ref.venue, ref.instrument);
    const double base = print && book != nullptr && event.price.is_positive()
                            ? base_from_units(book->listing(), event.qty, event.price).to_double()
                            : 0;
    meter_.on_event(sim_, ref.venue, print, base, sim_.now());
  }

 private:
  const sim::Simulator& sim_;
  ems::MarketMeter& meter_;
  InstrumentId instrument_;
};

std::string fixed(double v, int digits = 2) {
  if (!std::isfinite(v)) return "-";
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << v;
  return o.str();
}

ordered_json number(double v) {
  return std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr);
}

}  // namespace

Result<tca::MarketMeasure> measure_market(const std::string& scenario, const std::string& instrument_name,
                                          Side side, TimestampNs at_ns, DurationNs lookback_ns) {
  auto config = load_config(scenario.empty() ? default_config_path() : scenario);
  if (!config) return make_error(config.error().message);
  sim::SimOptions options;
  auto created = sim::Simulator::create(*config, options);
  if (!created) return make_error(created.error().message);
  sim::Simulator& sim = *created.value();
  const InstrumentId instrument(instrument_name);
  if (at_ns == 0) at_ns = sim.start_ns() + lookback_ns;
  if (at_ns <= sim.start_ns() || (sim.end_ns() != 0 && at_ns >= sim.end_ns()))
    return make_error("the arrival time " + format_time(at_ns) + " is outside the data (" +
                      format_time(sim.start_ns()) + " to " + format_time(sim.end_ns()) + ")");
  // The benchmark: the primary venue's mid, or the first venue's that lists the instrument (as the kernel's).
  const int benchmark =
      ems::benchmark_venue_index(sim, instrument, sim.venue_index(VenueId(config->primary_venue)));
  if (benchmark < 0 || sim.book(static_cast<std::size_t>(benchmark), instrument) == nullptr)
    return make_error("no venue of the scenario lists " + instrument_name);
  ems::MarketMeter meter(instrument, static_cast<std::size_t>(benchmark),
                         config->tca.arrival_mid == "consolidated", lookback_ns);
  MeterFeed feed(sim, meter, instrument);
  sim.set_listener(&feed);
  sim.run_until(at_ns);
  auto m = meter.measure(sim, side, at_ns, lookback_ns);
  if (!m) return make_error(m.error().message);
  return m;
}

int estimate_command(const EstimateOptions& options, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "tranche estimate: " << message << "\n";
    return 2;
  };
  const auto side = parse_side(options.side);
  if (!side) return fail("--side must be buy or sell, not '" + options.side + "'");
  Qty qty;
  if (!Qty::parse(options.qty, qty) || !qty.is_positive())
    return fail("--qty must be a positive decimal quantity, not '" + options.qty + "'");
  auto horizon = parse_duration(options.horizon);
  if (!horizon || *horizon <= 0 || *horizon > 24 * 3600 * kNanosPerSecond)
    return fail("--horizon must be a duration above 0 and at most 24h, not '" + options.horizon + "'");
  auto lookback = parse_duration(options.lookback);
  if (!lookback || *lookback < 10 * kNanosPerSecond || *lookback > 3600 * kNanosPerSecond)
    return fail("--lookback must be a duration from 10s to 1h, not '" + options.lookback + "'");
  if (!std::isfinite(options.risk_weight) || options.risk_weight < 0 || options.risk_weight > 100)
    return fail("--risk-weight must be from 0 to 100");
  TimestampNs at = 0;
  if (!options.at.empty()) {
    auto t = parse_time(options.at);
    if (!t) return fail("--at: " + t.error().message);
    at = *t;
  }
  ems::AlgoEvidence evidence;
  if (!options.evidence.empty()) {
    auto loaded = ems::AlgoEvidence::load(options.evidence);
    if (!loaded) return fail(loaded.error().message);
    evidence = std::move(loaded).value();
  }
  auto measured = measure_market(options.scenario, options.instrument, *side, at, *lookback);
  if (!measured) return fail(measured.error().message);
  const tca::MarketMeasure& m = *measured;
  at = m.at_ns;
  tca::PretradeOrder order;
  order.side = *side;
  order.qty = qty.to_double();
  order.horizon_s = static_cast<double>(*horizon) / kNanosPerSecond;
  tca::PretradeModel model;
  model.risk_weight = options.risk_weight;
  const tca::PretradeEstimate e = tca::estimate_costs(m, order, model);
  // What auto would choose: every candidate, its estimate corrected by the evidence of past parents (none
  // without --evidence), with the risk weight given.
  ems::AutoSettings settings;
  settings.candidates = ems::auto_candidates();
  settings.risk_weight = options.risk_weight;
  const ems::AutoChoice auto_choice = ems::choose_algo(m, order, {}, settings, &evidence);
  if (m.volume_per_s() <= 0) err << "warning: no trades in the window: the impact is not estimated\n";
  if (m.sigma_samples < 30)
    err << "warning: the volatility rests on " << m.sigma_samples << " one-second changes\n";

  if (options.json) {
    ordered_json j;
    j["order"] = {{"side", std::string(to_string(*side))},
                  {"qty", qty.to_string()},
                  {"instrument", options.instrument},
                  {"horizon_s", order.horizon_s},
                  {"at", format_time(at)}};
    ordered_json venues = ordered_json::array();
    for (const auto& v : m.venues)
      venues.push_back({{"venue", v.venue},
                        {"spread_bps", v.spread_bps},
                        {"depth_base_10bps", v.depth_base},
                        {"volume_per_s", v.volume_per_s},
                        {"maker_fee_bps", v.maker_fee_bps},
                        {"taker_fee_bps", v.taker_fee_bps}});
    j["market"] = {{"window_s", m.window_s},
                   {"mid", m.mid},
                   {"sigma_bps_per_sqrt_s", m.sigma_bps_per_sqrt_s},
                   {"sigma_samples", m.sigma_samples},
                   {"volume_per_s", m.volume_per_s()},
                   {"participation", e.participation},
                   {"venues", venues}};
    ordered_json algos = ordered_json::array();
    for (const auto& a : e.algos)
      algos.push_back({{"algo", a.algo},
                       {"spread_bps", number(a.spread_bps)},
                       {"impact_bps", number(a.impact_bps)},
                       {"fees_bps", number(a.fees_bps)},
                       {"cost_bps", number(a.cost_bps)},
                       {"risk_bps", number(a.risk_bps)},
                       {"duration_s", a.duration_s},
                       {"note", a.note}});
    j["algos"] = algos;
    j["recommended"] = e.recommended;
    j["why"] = e.why;
    ordered_json auto_params = ordered_json::object();
    for (const auto& p : auto_choice.params) auto_params[p.key] = p.value;
    j["auto"] = {{"chose", auto_choice.algo},
                 {"params", auto_params},
                 {"why", auto_choice.why},
                 {"evidence_parents", evidence.parents()}};
    j["model"] = {{"impact_coefficient", model.impact_coefficient},
                  {"passive_share", model.passive_share},
                  {"pegged_share", model.pegged_share},
                  {"pov_rate", model.pov_rate},
                  {"risk_weight", model.risk_weight}};
    out << j.dump(2) << "\n";
    return 0;
  }
  out << "estimate: " << to_string(*side) << " " << qty.to_string() << " " << options.instrument << " over "
      << options.horizon << " from " << format_time(at) << "\n";
  out << "measured over the " << fixed(m.window_s, 0) << " s before: mid " << fixed(m.mid, 2)
      << ", volatility " << fixed(m.sigma_bps_per_sqrt_s, 3) << " bps per sqrt(s) (" << m.sigma_samples
      << " one-second changes), others' volume " << fixed(m.volume_per_s(), 3) << " base/s; the order is "
      << fixed(100 * e.participation, 1) << "% of the volume over its horizon\n\n";
  out << std::left << std::setw(16) << "venue" << std::right << std::setw(12) << "spread bps" << std::setw(16)
      << "depth (10 bps)" << std::setw(12) << "volume/s" << std::setw(8) << "maker" << std::setw(8) << "taker"
      << "\n";
  for (const auto& v : m.venues)
    out << std::left << std::setw(16) << v.venue << std::right << std::setw(12) << fixed(v.spread_bps, 3)
        << std::setw(16) << fixed(v.depth_base, 3) << std::setw(12) << fixed(v.volume_per_s, 3)
        << std::setw(8) << fixed(v.maker_fee_bps) << std::setw(8) << fixed(v.taker_fee_bps) << "\n";
  out << "\n"
      << std::left << std::setw(8) << "algo" << std::right << std::setw(9) << "spread" << std::setw(9)
      << "impact" << std::setw(9) << "fees" << std::setw(11) << "cost bps" << std::setw(11) << "risk bps"
      << std::setw(10) << "duration"
      << "  note\n";
  for (const auto& a : e.algos)
    out << std::left << std::setw(8) << a.algo << std::right << std::setw(9) << fixed(a.spread_bps)
        << std::setw(9) << fixed(a.impact_bps) << std::setw(9) << fixed(a.fees_bps) << std::setw(11)
        << fixed(a.cost_bps) << std::setw(11) << fixed(a.risk_bps) << std::setw(9) << fixed(a.duration_s, 0)
        << "s  " << a.note << "\n";
  out << "\nrecommended: " << e.recommended << " (" << e.why << ")\n"
      << "auto would choose " << auto_choice.algo << " (" << auto_choice.why << "; "
      << (options.evidence.empty()
              ? std::string("no evidence given")
              : std::to_string(evidence.parents()) + " past parents in " + options.evidence)
      << ")\n"
      << "cost: expected implementation shortfall against the arrival mid, positive = worse; risk: one "
         "standard "
         "deviation from the price moving while it works\n"
      << "model: square-root impact (Y = " << model.impact_coefficient << "), resting share "
      << model.passive_share << " for schedules and " << model.pegged_share
      << " for peg and seek (docs/tca.md, \"Pre-trade estimates\")\n";
  return 0;
}

}  // namespace tranche::service
