#include "service/estimate_command.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/config.hpp"
#include "core/quantity.hpp"
#include "service/sim_commands.hpp"
#include "sim/simulator.hpp"

namespace tranche::service {
namespace {

using nlohmann::ordered_json;

constexpr std::size_t kSweepLevels = 500;
constexpr double kDepthBandBps = 10;

// Others' prints of the instrument per venue, counted from the window's start.
class PrintCounter final : public sim::SimListener {
 public:
  PrintCounter(const InstrumentId& instrument, std::size_t venues, TimestampNs from_ns)
      : instrument_(instrument), base_(venues, 0.0), from_ns_(from_ns) {}
  void on_market_data(const md::MarketRef& ref, const md::Event& event) override {
    if (event.kind != md::EventKind::Trade || ref.instrument != instrument_ || event.recv_ns < from_ns_ ||
        ref.book == nullptr)
      return;
    base_[ref.venue] += base_from_units(ref.book->listing(), event.qty, event.price).to_double();
  }
  double base(std::size_t venue) const { return base_[venue]; }

 private:
  InstrumentId instrument_;
  std::vector<double> base_;
  TimestampNs from_ns_;
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
  const TimestampNs from = std::max(sim.start_ns(), at_ns - lookback_ns);
  PrintCounter prints(instrument, sim.venue_count(), from);
  sim.set_listener(&prints);
  int primary = sim.venue_index(VenueId(config->primary_venue));
  std::vector<std::size_t> listing;
  for (std::size_t v = 0; v < sim.venue_count(); ++v)
    if (sim.book(v, instrument) != nullptr) listing.push_back(v);
  if (listing.empty()) return make_error("no venue of the scenario lists " + instrument_name);
  if (primary < 0 || sim.book(static_cast<std::size_t>(primary), instrument) == nullptr)
    primary = static_cast<int>(listing.front());
  struct Sums {
    double spread_bps = 0, depth = 0;
    std::size_t samples = 0;
  };
  std::vector<Sums> sums(sim.venue_count());
  std::vector<double> mids;  // the benchmark mid once a second
  std::array<md::Level, 200> levels{};
  auto mid_of = [](const md::BookView& b) {
    return (b.best(Side::Buy).to_double() + b.best(Side::Sell).to_double()) / 2;
  };
  for (TimestampNs t = from; t < at_ns; t += kNanosPerSecond) {
    sim.run_until(t);
    for (std::size_t v : listing) {
      const md::BookView& b = *sim.book(v, instrument);
      if (!b.valid() || !b.best(Side::Buy).is_set() || !b.best(Side::Sell).is_set()) continue;
      const double mid = mid_of(b);
      if (static_cast<int>(v) == primary) mids.push_back(mid);
      Sums& s = sums[v];
      s.spread_bps += (b.best(Side::Sell).to_double() - b.best(Side::Buy).to_double()) / mid * 1e4;
      const std::size_t n = b.levels(opposite(side), levels);
      for (std::size_t i = 0; i < n; ++i) {
        if (std::abs(levels[i].price.to_double() - mid) / mid * 1e4 > kDepthBandBps) break;
        s.depth += base_from_units(b.listing(), levels[i].qty, levels[i].price).to_double();
      }
      ++s.samples;
    }
  }
  sim.run_until(at_ns);
  tca::MarketMeasure m;
  m.at_ns = at_ns;
  m.window_s = static_cast<double>(at_ns - from) / kNanosPerSecond;
  const md::BookView& benchmark = *sim.book(static_cast<std::size_t>(primary), instrument);
  if (!benchmark.valid() || !benchmark.best(Side::Buy).is_set() || !benchmark.best(Side::Sell).is_set())
    return make_error(config->primary_venue + " shows no book at " + format_time(at_ns));
  m.mid = mid_of(benchmark);
  double sum = 0, sq = 0;
  for (std::size_t i = 1; i < mids.size(); ++i) {
    const double d = (mids[i] - mids[i - 1]) / mids[i - 1] * 1e4;
    sum += d;
    sq += d * d;
  }
  if (mids.size() >= 3) {
    const double n = static_cast<double>(mids.size() - 1);
    m.sigma_bps_per_sqrt_s = std::sqrt(std::max(0.0, (sq - sum * sum / n) / (n - 1)));
    m.sigma_samples = mids.size() - 1;
  }
  std::vector<md::Level> book(kSweepLevels);
  for (std::size_t v : listing) {
    const VenueConfig& vc = sim.venue_config(v);
    tca::VenueLiquidity venue;
    venue.venue = vc.id.str();
    venue.maker_fee_bps = vc.fees.maker_bps.to_double();
    venue.taker_fee_bps = vc.fees.taker_bps.to_double();
    const Sums& s = sums[v];
    if (s.samples > 0) {
      venue.spread_bps = s.spread_bps / static_cast<double>(s.samples);
      venue.depth_base = s.depth / static_cast<double>(s.samples);
    }
    venue.volume_per_s = m.window_s > 0 ? prints.base(v) / m.window_s : 0;
    const md::BookView& b = *sim.book(v, instrument);
    if (b.valid()) {
      const std::size_t n = b.levels(opposite(side), book);
      for (std::size_t i = 0; i < n; ++i)
        venue.levels.emplace_back(book[i].price.to_double(),
                                  base_from_units(b.listing(), book[i].qty, book[i].price).to_double());
    }
    m.venues.push_back(std::move(venue));
  }
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
      << "cost: expected implementation shortfall against the arrival mid, positive = worse; risk: one "
         "standard "
         "deviation from the price moving while it works\n"
      << "model: square-root impact (Y = " << model.impact_coefficient << "), resting share "
      << model.passive_share << " for schedules and " << model.pegged_share
      << " for peg and seek (docs/tca.md, \"Pre-trade estimates\")\n";
  return 0;
}

}  // namespace tranche::service
