#include "service/sim_commands.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>

#include "core/config.hpp"
#include "core/time.hpp"
#include "oms/order_manager.hpp"
#include "risk/risk_gate.hpp"
#include "service/runtime.hpp"
#include "sim/simulator.hpp"

namespace tranche::service {

using nlohmann::ordered_json;

std::string default_config_path() {
  if (const char* env = std::getenv("TRANCHE_CONFIG"); env != nullptr && *env != '\0') return env;
  return TRANCHE_DEFAULT_CONFIG;
}

namespace {

Result<Config> load(const std::string& path, std::ostream& err) {
  const std::string file = path.empty() ? default_config_path() : path;
  auto config = load_config(file);
  if (!config) return config.error();
  if (!config->scenario) err << "note: " << file << " has no [scenario]: the whole recording is replayed\n";
  return config;
}

Result<sim::SimOptions> sim_options(std::optional<std::uint64_t> seed, const std::string& start,
                                    const std::string& end, const std::vector<std::string>& venues) {
  sim::SimOptions options;
  options.seed = seed;
  options.venues = venues;
  if (!start.empty()) {
    auto t = parse_time(start);
    if (!t) return make_error("--start: " + t.error().message);
    options.start_ns = *t;
  }
  if (!end.empty()) {
    auto t = parse_time(end);
    if (!t) return make_error("--end: " + t.error().message);
    options.end_ns = *t;
  }
  return options;
}

std::string price_or_dash(Price p) {
  return p.is_set() ? p.to_string() : "-";
}

}  // namespace

int sim_run(const SimRunOptions& options, std::ostream& out, std::ostream& err) {
  auto config = load(options.config, err);
  if (!config) {
    err << "tranche sim run: " << config.error().message << "\n";
    return 2;
  }
  auto sim_opts = sim_options(options.seed, options.start, options.end, options.venues);
  if (!sim_opts) {
    err << "tranche sim run: " << sim_opts.error().message << "\n";
    return 2;
  }
  sim::SimOptions opts = *sim_opts;
  opts.deliver_market_data = false;
  const auto started = std::chrono::steady_clock::now();
  auto created = sim::Simulator::create(*config, opts);
  if (!created) {
    err << "tranche sim run: " << created.error().message << "\n";
    return 2;
  }
  sim::Simulator& sim = *created.value();
  sim.run();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  ordered_json j;
  j["scenario"] = config->scenario ? config->scenario->name : std::string();
  j["config"] = config->source;
  j["seed"] = sim.seed();
  j["start"] = sim.start_ns() ? format_time(sim.start_ns()) : std::string();
  j["end"] = sim.end_ns() ? format_time(sim.end_ns()) : std::string();
  j["recorded_events"] = sim.recorded_events();
  j["wall_seconds"] = seconds;
  j["events_per_second"] = seconds > 0 ? static_cast<double>(sim.recorded_events()) / seconds : 0.0;
  ordered_json venues = ordered_json::array();
  for (std::size_t v = 0; v < sim.venue_count(); ++v) {
    const auto& venue = sim.venue(v);
    const auto& stats = sim.venue_stats(v);
    ordered_json vj;
    vj["venue"] = venue.config().id.str();
    vj["events"] = stats.events;
    vj["first_event"] = stats.first_event_ns ? format_time(stats.first_event_ns) : std::string();
    vj["last_event"] = stats.last_event_ns ? format_time(stats.last_event_ns) : std::string();
    vj["state"] = std::string(to_string(venue.state()));
    vj["queue_model"] = std::string(to_string(venue.sim().queue_model));
    vj["recentred"] = venue.sim().recentre;
    vj["shift_changes"] = stats.shift_changes;
    vj["shift_min"] = price_or_dash(stats.shift_min);
    vj["shift_max"] = price_or_dash(stats.shift_max);
    vj["shift_last"] = stats.shift_last.to_string();
    vj["unmapped_events"] = stats.unmapped_events;
    vj["notes"] = stats.notes;
    venues.push_back(vj);
  }
  j["venues"] = venues;
  const auto& crossing = sim.crossing();
  j["crossed_book"] = {
      {"samples", crossing.samples},
      {"crossed", crossing.crossed},
      {"share", crossing.samples ? static_cast<double>(crossing.crossed) / crossing.samples : 0.0},
      {"mean_crossed_bps", crossing.mean_crossed_bps},
      {"max_crossed_bps", crossing.max_crossed_bps}};
  if (options.json) {
    out << j.dump(2) << "\n";
    return 0;
  }
  out << "scenario " << j["scenario"].get<std::string>() << " (seed " << sim.seed() << ")";
  if (sim.start_ns()) out << " from " << format_time(sim.start_ns());
  if (sim.end_ns()) out << " to " << format_time(sim.end_ns());
  out << "\n";
  out << std::left << std::setw(16) << "venue" << std::right << std::setw(10) << "events" << std::setw(14)
      << "queue" << std::setw(10) << "shifts" << std::setw(20) << "shift range"
      << "  state\n";
  for (const auto& vj : venues) {
    out << std::left << std::setw(16) << vj["venue"].get<std::string>() << std::right << std::setw(10)
        << vj["events"].get<std::uint64_t>() << std::setw(14) << vj["queue_model"].get<std::string>()
        << std::setw(10) << vj["shift_changes"].get<std::uint64_t>() << std::setw(20)
        << (vj["shift_min"].get<std::string>() != "-"
                ? vj["shift_min"].get<std::string>() + " .. " + vj["shift_max"].get<std::string>()
                : std::string("-"))
        << "  " << vj["state"].get<std::string>() << "\n";
    for (const auto& note : vj["notes"])
      err << "note: " << vj["venue"].get<std::string>() << ": " << note.get<std::string>() << "\n";
  }
  if (crossing.samples > 0)
    out << "combined book crossed in " << crossing.crossed << " of " << crossing.samples << " samples ("
        << std::fixed << std::setprecision(1) << 100.0 * crossing.crossed / crossing.samples << "%), mean "
        << std::setprecision(2) << crossing.mean_crossed_bps << " bps, max " << crossing.max_crossed_bps
        << " bps\n";
  err << "replayed " << sim.recorded_events() << " recorded events in " << std::setprecision(2) << seconds
      << " s\n";
  return 0;
}

namespace {

class OrderWatcher : public sim::SimListener {
 public:
  // With a journal, every report is journaled (and applied to the OMS) before anything else sees it.
  oms::OrderManager* manager = nullptr;
  void on_execution_report(const ExecutionReport& r) override {
    if (manager != nullptr) {
      manager->on_execution_report(r);
      if (auto s = manager->flush(); !s && error.ok()) error = s;
    }
    reports.push_back(r);
  }
  void on_venue_status(const VenueStatusReport& s) override {
    if (manager != nullptr) manager->on_venue_status(s);
    statuses.push_back(s);
  }
  Status error;
  void on_timer(std::uint64_t, TimestampNs) override { cancel_due = true; }
  std::vector<ExecutionReport> reports;
  std::vector<VenueStatusReport> statuses;
  bool cancel_due = false;
  bool done(ClientOrderId id) const {
    for (const auto& r : reports)
      if (r.client_order_id == id &&
          (r.status == OrderStatus::Filled || r.status == OrderStatus::Canceled ||
           r.status == OrderStatus::Rejected || r.status == OrderStatus::Expired) &&
          r.exec_type != ExecType::CancelRejected && r.exec_type != ExecType::ReplaceRejected)
        return true;
    return false;
  }
};

}  // namespace

int sim_order(const SimOrderOptions& options, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "tranche sim order: " << message << "\n";
    return 2;
  };
  auto config = load(options.config, err);
  if (!config) return fail(config.error().message);
  NewOrder order;
  order.client_order_id = ClientOrderId(1);
  order.venue = VenueId(options.venue);
  order.instrument = InstrumentId(options.instrument);
  if (options.side == "buy") {
    order.side = Side::Buy;
  } else if (options.side == "sell") {
    order.side = Side::Sell;
  } else {
    return fail("--side must be buy or sell");
  }
  auto qty = Qty::parse(options.qty);
  if (!qty) return fail("--qty: " + qty.error().message);
  order.qty = *qty;
  if (options.type == "market") {
    order.type = OrderType::Market;
    order.time_in_force = TimeInForce::ImmediateOrCancel;
    if (!options.price.empty()) return fail("a market order takes no --price");
  } else if (options.type == "limit") {
    order.type = OrderType::Limit;
    auto price = Price::parse(options.price);
    if (!price) return fail("--price: " + price.error().message);
    order.price = *price;
    if (options.tif == "gtc")
      order.time_in_force = TimeInForce::GoodTillCancel;
    else if (options.tif == "ioc")
      order.time_in_force = TimeInForce::ImmediateOrCancel;
    else if (options.tif == "fok")
      order.time_in_force = TimeInForce::FillOrKill;
    else if (options.tif == "post-only")
      order.time_in_force = TimeInForce::PostOnly;
    else
      return fail("--tif must be gtc, ioc, fok or post-only");
  } else {
    return fail("--type must be market or limit");
  }
  DurationNs cancel_after = -1;
  if (!options.cancel_after.empty()) {
    auto d = parse_duration(options.cancel_after);
    if (!d) return fail("--cancel-after: " + d.error().message);
    cancel_after = *d;
  }
  auto sim_opts = sim_options(options.seed, options.at, "", {});
  if (!sim_opts) return fail(sim_opts.error().message);
  sim::SimOptions opts = *sim_opts;
  opts.start_ns = 0;  // --at is when we send, not a new window
  opts.deliver_market_data = false;
  // With --journal the order goes through the product (journal, risk gate, OMS, the venue's gateway), built
  // in the one place that builds it; this command sends its one child itself and listens to the venue itself.
  std::unique_ptr<Runtime> runtime;
  std::unique_ptr<sim::Simulator> bare;
  if (!options.journal.empty()) {
    RuntimeOptions runtime_options;
    runtime_options.journal = options.journal;
    runtime_options.sim = opts;
    runtime_options.refuse_open_children = true;
    auto opened = Runtime::open(*config, runtime_options);
    if (!opened) return fail(opened.error().message);
    runtime = std::move(opened).value();
  } else {
    auto created = sim::Simulator::create(*config, opts);
    if (!created) return fail(created.error().message);
    bare = std::move(created).value();
  }
  sim::Simulator& sim = runtime ? runtime->sim() : *bare;
  const int v = sim.venue_index(order.venue);
  if (v < 0) return fail("venue '" + options.venue + "' is not simulated by " + config->source);
  OrderWatcher watcher;
  sim.set_listener(&watcher);
  TimestampNs at = sim.start_ns();
  if (!options.at.empty()) {
    auto t = parse_time(options.at);
    if (!t) return fail("--at: " + t.error().message);
    at = *t;
  }
  if (at == 0) at = sim.now();
  sim.run_until(at);
  // The venue's book as our order leaves: what a marketable order should expect to walk.
  const auto& market = sim.venue(static_cast<std::size_t>(v)).market(0);
  const Price bid = market.best(Side::Buy), ask = market.best(Side::Sell);

  // With --journal the order goes through the OMS: journaled as a parent and its one child, durable before
  // it leaves for the venue.
  oms::OrderManager* manager = runtime ? &runtime->manager() : nullptr;
  ParentId parent_id;
  if (manager != nullptr) {
    risk::RiskGate& gate = runtime->gate();
    for (std::size_t i = 0; i < sim.venue_count(); ++i)
      for (std::size_t m = 0; m < sim.venue(i).market_count(); ++m)
        gate.on_quote(sim.venue(i).config().id, sim.venue(i).market(m).listing().instrument,
                      sim.venue(i).market(m).best(Side::Buy), sim.venue(i).market(m).best(Side::Sell), at);
    const VenueListing* listing = config->venue(order.venue)->listing(order.instrument);
    if (listing == nullptr) return fail(options.venue + " does not list " + options.instrument);
    oms::ParentOrder parent;
    parent.account = AccountId("default");
    parent.instrument = order.instrument;
    parent.side = order.side;
    auto base = manager->oms().base_of(order.venue, order.instrument, order.qty, order.price);
    if (!base) return fail(base.error().message);
    parent.qty = *base;
    parent.limit = order.price;
    parent.algo = "direct";
    parent.params = {{"venue", options.venue}, {"type", options.type}, {"tif", options.tif}};
    parent.start_ns = at;
    auto accepted = manager->accept_parent(parent, at);
    if (!accepted) {
      (void)manager->flush();  // the denial is journaled too
      return fail(accepted.error().message);
    }
    parent_id = *accepted;
    order.parent_id = parent_id;
    auto sent = manager->send_child(order, at);
    if (!sent) {
      (void)manager->end_parent(parent_id, oms::ParentEvent::OrderRefused, sent.error().message, at);
      (void)manager->flush();
      return fail(sent.error().message);
    }
    order.client_order_id = *sent;
    if (auto s = manager->flush(); !s) return fail(s.message());
    watcher.manager = manager;
  } else {
    sim.send(static_cast<std::size_t>(v), order);
  }
  if (cancel_after >= 0) sim.set_timer(at + cancel_after, 1);
  while (!watcher.done(order.client_order_id) && sim.step()) {
    if (watcher.cancel_due) {
      watcher.cancel_due = false;
      if (manager) {
        if (auto s = manager->cancel_child(order.client_order_id, sim.now()); !s) return fail(s.message());
        if (auto s = manager->flush(); !s) return fail(s.message());
      } else {
        sim.cancel(static_cast<std::size_t>(v), {order.client_order_id, order.venue, order.instrument, 0});
      }
    }
  }
  if (manager) {
    if (!watcher.error.ok()) return fail("journal: " + watcher.error.message());
    const oms::ParentRecord* parent = manager->oms().parent(parent_id);
    // What happened; the parent lifecycle table says what that makes the parent.
    oms::ParentEvent event = oms::ParentEvent::MarketClosed;  // the data ended with the order open
    if (parent->executed == parent->order.qty) {
      event = oms::ParentEvent::ExecutedInFull;
    } else if (watcher.done(order.client_order_id) && cancel_after >= 0) {
      if (auto s = manager->cancel_parent(parent_id, "--cancel-after", sim.now()); !s)
        return fail(s.message());
      event = oms::ParentEvent::CancelCompleted;
    } else if (watcher.done(order.client_order_id)) {
      event = oms::ParentEvent::AlgoEnded;  // the venue ended it (an IOC's rest, a post-only refused)
    }
    if (auto s = manager->end_parent(parent_id, event, "the order ended", sim.now()); !s)
      return fail(s.message());
    if (auto s = manager->flush(); !s) return fail(s.message());
    err << "journal: " << options.journal << " (" << runtime->journal().durable_seq() << " records)\n";
  }

  Qty filled;
  Notional notional;
  std::map<std::string, Amount> fees;
  ordered_json reports = ordered_json::array();
  for (const auto& r : watcher.reports) {
    if (r.exec_type == ExecType::Trade) {
      filled += r.last_qty;
      notional += Notional::of(r.last_price, r.last_qty);
      fees[r.fee.asset.str()] += Amount::from_raw(r.fee.amount.raw());
    }
    ordered_json rj;
    rj["received"] = format_time(r.received_ns);
    rj["venue_time"] = format_time(r.venue_ns);
    rj["exec_type"] = std::string(to_string(r.exec_type));
    rj["status"] = std::string(to_string(r.status));
    if (r.exec_type == ExecType::Trade) {
      rj["last_qty"] = r.last_qty.to_string();
      rj["last_price"] = r.last_price.to_string();
      rj["liquidity"] = std::string(to_string(r.liquidity));
      rj["fee"] = r.fee.amount.to_string();
      rj["fee_asset"] = r.fee.asset.str();
    }
    rj["cum_qty"] = r.cum_qty.to_string();
    rj["leaves_qty"] = r.leaves_qty.to_string();
    if (r.reject_reason != RejectReason::None) rj["reject_reason"] = std::string(to_string(r.reject_reason));
    if (!r.text.empty()) rj["text"] = r.text.str();
    reports.push_back(rj);
  }
  ordered_json j;
  j["venue"] = options.venue;
  j["instrument"] = options.instrument;
  j["side"] = options.side;
  j["qty"] = order.qty.to_string();
  j["type"] = options.type;
  j["sent"] = format_time(at);
  j["book_when_sent"] = {{"bid", price_or_dash(bid)}, {"ask", price_or_dash(ask)}};
  j["filled_qty"] = filled.to_string();
  j["average_price"] = filled.is_positive() ? notional.average_price(filled).to_string() : std::string("-");
  ordered_json fj = ordered_json::object();
  for (const auto& [asset, amount] : fees) fj[asset] = amount.to_string();
  j["fees"] = fj;
  j["reports"] = reports;
  // A venue that refused the order is a failed command, with the venue's reason in the output.
  const bool rejected = !watcher.reports.empty() && watcher.reports.front().exec_type == ExecType::Rejected;
  if (options.json) {
    out << j.dump(2) << "\n";
    return rejected ? 1 : 0;
  }
  out << options.side << " " << order.qty.to_string() << " " << options.instrument << " on " << options.venue
      << " (" << options.type << ") sent " << format_time(at) << "; book then " << price_or_dash(bid) << " / "
      << price_or_dash(ask) << "\n";
  for (const auto& rj : reports) {
    out << "  " << rj["received"].get<std::string>() << "  " << std::left << std::setw(16)
        << rj["exec_type"].get<std::string>() << std::setw(18) << rj["status"].get<std::string>();
    if (rj.contains("last_qty"))
      out << rj["last_qty"].get<std::string>() << " @ " << rj["last_price"].get<std::string>() << " "
          << rj["liquidity"].get<std::string>() << " fee " << rj["fee"].get<std::string>() << " "
          << rj["fee_asset"].get<std::string>();
    if (rj.contains("text")) out << rj["text"].get<std::string>();
    out << "\n";
  }
  out << "filled " << j["filled_qty"].get<std::string>() << " at " << j["average_price"].get<std::string>();
  for (const auto& [asset, amount] : fees) out << ", fees " << amount.to_string() << " " << asset;
  out << "\n";
  return rejected ? 1 : 0;
}

}  // namespace tranche::service
