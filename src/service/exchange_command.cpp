#include "service/exchange_command.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "gateway/api_key.hpp"
#include "gateway/binance_venue.hpp"
#include "gateway/binance_venue_server.hpp"
#include "gateway/fix_exchange_acceptor.hpp"
#include "service/replay_clock.hpp"
#include "service/sim_commands.hpp"
#include "sim/simulator.hpp"

namespace tranche::service {

namespace {

using gateway::ExchangeReport;
using gateway::ExchangeRequest;
using Kind = ExchangeRequest::Kind;

// The venues' side of the wire: requests into the simulator, its reports out as ExecutionReports (the FIX
// acceptor in gateway writes them onto the wire). Orders are known by every ClOrdID of their chain, per
// session; inside, each is one of the simulator's client order ids.
class Exchange final : public sim::SimListener {
 public:
  Exchange(sim::Simulator& sim, gateway::FixExchangeAcceptor& acceptor, const ReplayClock& clock,
           std::ostream& err, bool quiet)
      : sim_(sim), acceptor_(acceptor), clock_(clock), err_(err), quiet_(quiet) {}

  void on_request(const ExchangeRequest& r) {
    const int v = sim_.venue_index(VenueId(r.venue));
    if (v < 0) return;  // the session names no venue: QuickFIX only creates sessions for the venues
    const VenueConfig& venue = sim_.venue(static_cast<std::size_t>(v)).config();
    if (r.kind == Kind::New) return on_new(r, static_cast<std::size_t>(v), venue);
    const auto known =
        by_cl_.find(r.session + '\n' + (r.kind == Kind::Status ? r.cl_ord_id : r.orig_cl_ord_id));
    const char response_to = r.kind == Kind::Replace ? '2' : '1';
    if (known == by_cl_.end()) {
      if (r.kind == Kind::Status) return status_unknown(r);
      return cancel_reject(r, response_to, 1, "unknown order", '8');
    }
    Order& o = orders_[known->second];
    const ClientOrderId id(known->second);
    if (r.kind == Kind::Status) {
      o.status_cl = r.cl_ord_id;
      sim_.query(o.venue, OrderStatusQuery{id, venue.id, o.instrument, 0});
      return;
    }
    if (o.closed) return cancel_reject(r, response_to, 0, "too late: the order is done", o.last_status);
    if (!o.pending_cl.empty())
      return cancel_reject(r, response_to, 3, "a cancel or replace is already pending", o.last_status);
    if (!r.cl_ord_id.empty() && by_cl_.count(r.session + '\n' + r.cl_ord_id))
      return cancel_reject(r, response_to, 6, "ClOrdID already in use", o.last_status);
    o.pending_cl = r.cl_ord_id;
    by_cl_[r.session + '\n' + r.cl_ord_id] = known->second;
    if (r.kind == Kind::Cancel) {
      sim_.cancel(o.venue, CancelOrder{id, venue.id, o.instrument, 0});
      return;
    }
    AmendOrder amend{id, venue.id, o.instrument, Price::unset(), Qty::unset(), 0};
    Qty q;
    Price p;
    if (!r.qty.empty() && Qty::parse(r.qty, q) && q != o.qty) amend.new_qty = q;
    if (!r.price.empty() && Price::parse(r.price, p) && p != o.price) amend.new_price = p;
    o.pending_qty = amend.new_qty.is_set() ? amend.new_qty : o.qty;
    o.pending_price = amend.new_price.is_set() ? amend.new_price : o.price;
    sim_.amend(o.venue, amend);
  }

  void on_execution_report(const ExecutionReport& report) override {
    auto it = orders_.find(report.client_order_id.value());
    if (it == orders_.end()) return;
    Order& o = it->second;
    const bool cancel_answer =
        report.exec_type == ExecType::CancelRejected || report.exec_type == ExecType::ReplaceRejected;
    ExchangeReport m;
    m.session = o.session;
    m.cancel_reject = cancel_answer;
    m.order_id = report.venue_order_id.str();
    std::string cl = o.cl_ord_id;
    std::string orig;
    if (report.exec_type == ExecType::Canceled || report.exec_type == ExecType::Replaced || cancel_answer) {
      if (!o.pending_cl.empty()) {
        orig = o.cl_ord_id;
        cl = o.pending_cl;
      }
    }
    if (report.exec_type == ExecType::OrderStatus && !o.status_cl.empty()) cl = o.status_cl;
    // An OrderCancelReject always names the order (a repeat finds no request pending any more).
    if (cancel_answer && orig.empty()) orig = o.cl_ord_id;
    m.cl_ord_id = cl;
    m.orig_cl_ord_id = orig;
    m.ord_status = ord_status(report.status);
    m.transact_ns = clock_.wall_at(sim_.now());
    m.text = std::string(report.text.view());
    if (cancel_answer) {
      m.cxl_rej_response_to = report.exec_type == ExecType::ReplaceRejected ? '2' : '1';
      m.cxl_rej_reason = report.reject_reason == RejectReason::UnknownOrder ? 1 : 99;
      o.pending_cl.clear();
      acceptor_.send(m);
      return;
    }
    m.exec_id = report.exec_id.str().empty() ? next_exec_id() : report.exec_id.str();
    m.exec_type = exec_type(report.exec_type);
    m.symbol = o.symbol;
    m.side = report.side == Side::Sell || o.side == Side::Sell ? '2' : '1';
    if (report.exec_type == ExecType::Replaced && !o.pending_cl.empty()) {
      o.qty = o.pending_qty;
      o.price = o.pending_price;
    }
    m.order_qty = report.order_qty.is_positive() ? report.order_qty : o.qty;
    m.price = o.price;
    m.cum_qty = report.cum_qty;
    m.leaves_qty = report.leaves_qty;
    if (report.exec_type == ExecType::Trade &&
        seen_exec_.insert(o.venue_id + "/" + report.exec_id.str()).second) {
      Executed& e = executed_[o.venue_id];
      ++e.fills;
      (o.side == Side::Buy ? e.bought : e.sold) = (o.side == Side::Buy ? e.bought : e.sold) + report.last_qty;
    }
    if (report.exec_type == ExecType::Trade) {
      o.notional += report.last_price.to_double() * report.last_qty.to_double();
      m.fill = ExchangeReport::Fill{report.last_qty, report.last_price, report.liquidity == Liquidity::Maker,
                                    report.fee.amount, std::string(report.fee.asset.view())};
    }
    const double cum = report.cum_qty.to_double();
    if (cum > 0) m.avg_px = o.notional / cum;
    if (report.exec_type == ExecType::Rejected ||
        (report.exec_type == ExecType::OrderStatus && report.reject_reason == RejectReason::UnknownOrder))
      m.ord_rej_reason = report.reject_reason == RejectReason::UnknownOrder ? 5 : 99;
    if (report.exec_type == ExecType::Replaced && !o.pending_cl.empty()) o.cl_ord_id = o.pending_cl;
    if (report.exec_type == ExecType::Canceled || report.exec_type == ExecType::Replaced)
      o.pending_cl.clear();
    o.last_status = ord_status(report.status);
    o.closed = report.status == OrderStatus::Filled || report.status == OrderStatus::Canceled ||
               report.status == OrderStatus::Rejected || report.status == OrderStatus::Expired;
    if (!quiet_)
      err_ << format_time(sim_.now()).substr(11, 12) << " " << o.venue_id << " " << cl << " "
           << to_string(report.exec_type) << " " << report.cum_qty.to_string() << "/"
           << (report.order_qty.is_positive() ? report.order_qty : o.qty).to_string() << "\n";
    if (!acceptor_.send(m))
      err_ << "tranche exchange: the report for " << cl << " could not be sent: its session is down\n";
  }

 private:
  struct Order {
    std::string session, venue_id, symbol, cl_ord_id;
    std::string pending_cl;  // a cancel's or replace's ClOrdID until the venue answers it
    std::string status_cl;   // the ClOrdID the last status request asked by
    std::size_t venue = 0;
    InstrumentId instrument;
    Side side = Side::Buy;
    Qty qty, pending_qty;
    Price price = Price::unset(), pending_price = Price::unset();
    double notional = 0;
    char last_status = '0';
    bool closed = false;
  };

  static char ord_status(OrderStatus s) {
    switch (s) {
      case OrderStatus::PendingNew:
        return 'A';
      case OrderStatus::New:
      case OrderStatus::Replaced:
        return '0';
      case OrderStatus::PartiallyFilled:
        return '1';
      case OrderStatus::Filled:
        return '2';
      case OrderStatus::PendingCancel:
        return '6';
      case OrderStatus::Canceled:
        return '4';
      case OrderStatus::PendingReplace:
        return 'E';
      case OrderStatus::Rejected:
        return '8';
      case OrderStatus::Expired:
        return 'C';
    }
    return '0';
  }
  static char exec_type(ExecType t) {
    switch (t) {
      case ExecType::New:
        return '0';
      case ExecType::Trade:
        return 'F';
      case ExecType::Canceled:
        return '4';
      case ExecType::Replaced:
        return '5';
      case ExecType::Rejected:
        return '8';
      case ExecType::Expired:
        return 'C';
      case ExecType::PendingCancel:
        return '6';
      case ExecType::PendingReplace:
        return 'E';
      case ExecType::OrderStatus:
        return 'I';
      default:
        return '0';
    }
  }

  void on_new(const ExchangeRequest& r, std::size_t v, const VenueConfig& venue) {
    const VenueListing* listing = venue.listing_by_symbol(r.symbol);
    NewOrder order;
    order.venue = venue.id;
    Qty qty;
    Price price = Price::unset();
    std::string problem;
    if (r.cl_ord_id.empty() || by_cl_.count(r.session + '\n' + r.cl_ord_id)) {
      problem = "duplicate ClOrdID";
      ++cl_ord_ids_reused_;
    } else if (listing == nullptr)
      problem = "unknown symbol '" + r.symbol + "' on " + venue.id.str();
    else if (r.side != "1" && r.side != "2")
      problem = "Side must be 1 or 2";
    else if (!Qty::parse(r.qty, qty) || !qty.is_positive())
      problem = "OrderQty must be a positive decimal";
    else if (r.ord_type == "2" && (!Price::parse(r.price, price) || !price.is_positive()))
      problem = "a limit order needs a positive Price";
    else if (r.ord_type != "1" && r.ord_type != "2")
      problem = "OrdType must be 1 (market) or 2 (limit)";
    if (!problem.empty()) return reject_new(r, problem);
    const std::uint64_t id = ++next_id_;
    Order o;
    o.session = r.session;
    o.venue_id = venue.id.str();
    o.symbol = r.symbol;
    o.cl_ord_id = r.cl_ord_id;
    o.venue = v;
    o.instrument = listing->instrument;
    o.side = r.side == "2" ? Side::Sell : Side::Buy;
    o.qty = qty;
    o.price = price;
    orders_[id] = o;
    ++executed_[o.venue_id].orders;
    by_cl_[r.session + '\n' + r.cl_ord_id] = id;
    order.client_order_id = ClientOrderId(id);
    order.instrument = listing->instrument;
    order.side = o.side;
    order.type = r.ord_type == "1" ? OrderType::Market : OrderType::Limit;
    order.price = price;
    order.qty = qty;
    order.time_in_force = r.exec_inst.find('6') != std::string::npos ? TimeInForce::PostOnly
                          : r.time_in_force == "3"                   ? TimeInForce::ImmediateOrCancel
                          : r.time_in_force == "4"                   ? TimeInForce::FillOrKill
                                                                     : TimeInForce::GoodTillCancel;
    sim_.send(v, order);
  }

  void reject_new(const ExchangeRequest& r, const std::string& why) { answer_unknown(r, '8', 99, why); }
  void status_unknown(const ExchangeRequest& r) { answer_unknown(r, 'I', 5, "unknown order"); }

  // Our own ExecIDs, for reports the simulator gave none. Appended rather than "S" + ...: GCC 12 warns
  // falsely (-Wrestrict) on that operator+ once inlined here.
  std::string next_exec_id() {
    std::string id = "S";
    id += std::to_string(++exec_seq_);
    return id;
  }

  // An ExecutionReport about no order of ours: a refused new one, or a status asked for one never seen.
  void answer_unknown(const ExchangeRequest& r, char exec_type, int ord_rej_reason, const std::string& text) {
    ExchangeReport m;
    m.session = r.session;
    m.cl_ord_id = r.cl_ord_id;
    m.exec_id = next_exec_id();
    m.exec_type = exec_type;
    m.ord_status = '8';
    m.symbol = r.symbol;
    m.side = r.side == "2" ? '2' : '1';
    m.ord_rej_reason = ord_rej_reason;
    m.text = text;
    m.transact_ns = clock_.wall_at(sim_.now());
    acceptor_.send(m);
  }

  void cancel_reject(const ExchangeRequest& r, char response_to, int reason, const std::string& why,
                     char status) {
    ExchangeReport m;
    m.session = r.session;
    m.cancel_reject = true;
    m.cl_ord_id = r.cl_ord_id;
    m.orig_cl_ord_id = r.orig_cl_ord_id;
    m.ord_status = status;
    m.cxl_rej_response_to = response_to;
    m.cxl_rej_reason = reason;
    m.text = why;
    acceptor_.send(m);
  }

  struct Executed {
    std::uint64_t orders = 0, fills = 0;
    Qty bought, sold;  // listing units
  };

 public:
  // What each venue executed for its clients: each fill once (a report the simulator repeats is one fill).
  void print_executed(std::ostream& out) const {
    out << "{\"venues\": {";
    bool first = true;
    for (const auto& [venue, e] : executed_) {
      out << (first ? "" : ", ") << "\"" << venue << "\": {\"orders\": " << e.orders
          << ", \"fills\": " << e.fills << ", \"bought\": \"" << e.bought.to_string() << "\", \"sold\": \""
          << e.sold.to_string() << "\"}";
      first = false;
    }
    out << "}, \"cl_ord_ids_reused\": " << cl_ord_ids_reused_ << "}\n";
  }

 private:
  std::map<std::string, Executed> executed_;
  std::set<std::string> seen_exec_;
  sim::Simulator& sim_;
  gateway::FixExchangeAcceptor& acceptor_;
  const ReplayClock& clock_;
  std::ostream& err_;
  bool quiet_;
  std::map<std::uint64_t, Order> orders_;
  std::map<std::string, std::uint64_t> by_cl_;  // session + '\n' + any ClOrdID of the chain
  std::uint64_t next_id_ = 0;
  std::uint64_t exec_seq_ = 0;
  std::uint64_t cl_ord_ids_reused_ = 0;  // NewOrderSingles whose ClOrdID the session had used before
};

// `--protocol binance`: one venue behind Binance spot's API (a futures venue: Binance USD-M's or COIN-M's
// REST API and streams) on one HTTPS/WSS port. The simulator, the venue
// and the server share the main thread.
int binance_exchange(const ExchangeOptions& options, const Config& config, std::ostream& out,
                     std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "tranche exchange: " << message << "\n";
    return 2;
  };
  if (options.cert.empty() || options.key.empty())
    return fail("--protocol binance serves HTTPS and WSS only: give --cert FILE and --key FILE (PEM)");
  std::string venue_id = !options.venue.empty() ? options.venue : config.exchange.binance.venue;
  if (venue_id.empty())
    for (const auto& v : config.venues)
      if (v.sim && v.exchange == "binance" && v.market == "spot") {
        venue_id = v.id.str();
        break;
      }
  if (venue_id.empty())
    return fail("no venue to play: the config has no simulated binance spot venue (name one with --venue)");
  const VenueConfig* venue_config = config.venue(VenueId(venue_id));
  if (venue_config == nullptr) return fail("--venue " + venue_id + " is not in the config");
  if (!venue_config->sim)
    return fail("venue " + venue_id + " has no [venue.sim] section: the simulator cannot play it");
  if (venue_config->exchange != "binance" ||
      (venue_config->market != "spot" && venue_config->market != "usdm" && venue_config->market != "coinm"))
    return fail("venue " + venue_id +
                " is not a Binance spot, USD-M or COIN-M market: --protocol binance "
                "cannot play it");
  std::optional<gateway::ApiKey> key;
  if (!options.keys.empty()) {
    auto loaded = gateway::load_api_key_file(options.keys);
    if (!loaded) return fail("--keys: " + loaded.error().message);
    key = *loaded;
  }
  sim::SimOptions sim_options;
  sim_options.seed = options.seed;
  sim_options.venues = {venue_id};
  // A venue re-centred on another plays it only with its reference mounted.
  if (venue_config->sim->recentre && config.scenario && !config.scenario->recentre_reference.empty() &&
      config.scenario->recentre_reference != venue_id)
    sim_options.venues.push_back(config.scenario->recentre_reference);
  // The venue's own order rate becomes a published limit, ORDERS per SECOND of wall time, enforced with the
  // others at the API (429, Retry-After); the simulator's bucket, counted in replay time, is left out.
  // Binance limits no cancels.
  Config played = config;
  int orders_per_second = 0;
  for (auto& v : played.venues)
    if (v.id.str() == venue_id) {
      orders_per_second = v.limits.orders_per_second;
      v.limits.orders_per_second = 0;
      v.limits.cancels_per_second = 0;
    }
  auto created = sim::Simulator::create(played, sim_options);
  if (!created) return fail(created.error().message);
  std::unique_ptr<sim::Simulator> sim = std::move(created).value();
  const TimestampNs data_start = std::max(sim->now(), sim->start_ns());
  TimestampNs anchor = wall_now_ns();
  if (!options.anchor.empty()) {
    auto t = parse_time(options.anchor);
    if (!t) return fail("--anchor: " + t.error().message);
    anchor = *t;
  }
  const ReplayClock clock{data_start, anchor, config.exchange.speed.to_double()};

  const ExchangeBinanceConfig& bx = config.exchange.binance;
  gateway::binance::VenueServerOptions server_options;
  server_options.host = bx.host;
  server_options.port = options.port ? *options.port : bx.port;
  server_options.cert_file = options.cert;
  server_options.key_file = options.key;
  server_options.max_body_bytes = static_cast<std::size_t>(bx.max_body_bytes);
  server_options.read_timeout_ns = bx.read_timeout_ns;
  auto server = gateway::binance::BinanceVenueServer::start(server_options);
  if (!server) return fail(server.error().message);

  gateway::binance::VenueOptions venue_options;
  venue_options.venue = static_cast<std::size_t>(sim->venue_index(VenueId(venue_id)));
  venue_options.key = key;
  venue_options.limits.request_weight_per_minute = bx.request_weight_per_minute;
  venue_options.limits.raw_requests_per_5m = bx.raw_requests_per_5m;
  venue_options.limits.orders_per_second = orders_per_second;
  venue_options.limits.orders_per_10s = bx.orders_per_10s;
  venue_options.limits.orders_per_day = bx.orders_per_day;
  venue_options.limits.refusals_before_ban = bx.refusals_before_ban;
  if (venue_config->market != "spot") {
    // Binance futures' shapes: REQUEST_WEIGHT 2400 a minute (or the config's, when lower), ORDERS 1200 a
    // minute, and on USD-M the venue's own order rate as ORDERS per 10 SECOND; no raw-request or daily limit.
    venue_options.limits.request_weight_per_minute = std::min(bx.request_weight_per_minute, 2400);
    venue_options.limits.raw_requests_per_5m = 0;
    venue_options.limits.orders_per_minute = 1200;
    venue_options.limits.orders_per_10s = venue_config->market == "usdm" ? 10 * orders_per_second : 0;
    venue_options.limits.orders_per_second = 0;
    venue_options.limits.orders_per_day = 0;
  }
  venue_options.limits.first_ban_ns = bx.first_ban_ns;
  venue_options.wall_at = [clock](TimestampNs replay_ns) { return clock.wall_at(replay_ns); };
  venue_options.speed = clock.speed;
  venue_options.instruments = config.instruments;
  if (!options.quiet)
    venue_options.log = [&err, &sim](const std::string& line) {
      err << format_time(sim->now()).substr(11, 12) << " " << line << "\n";
    };
  gateway::binance::BinanceVenue venue(*sim, venue_options, server.value()->output());
  sim->set_listener(&venue);

  const std::string base = "https://" + bx.host + ":" + std::to_string(server.value()->port());
  const std::string ws = "wss://" + bx.host + ":" + std::to_string(server.value()->port());
  std::string symbols;
  for (std::size_t m = 0; m < sim->venue(venue_options.venue).market_count(); ++m)
    symbols += (symbols.empty() ? "" : ", ") + venue.symbol(m);
  if (venue.futures())
    err << "tranche exchange: Binance " << (venue_config->market == "usdm" ? "USD-M" : "COIN-M")
        << " futures API for " << venue_id << " (" << symbols << "): REST " << base << venue.rest_prefix()
        << " (market data, orders, modify, userTrades, positionRisk, balance, account, listenKey), streams "
           "and "
           "user data "
        << ws << "/ws and " << ws << "/stream; control " << base
        << "/tranche/control (loopback only); account key "
        << (key ? key->key_hint() : std::string("none: every signed request is refused (-2015)")) << "; ";
  else
    err << "tranche exchange: Binance spot API for " << venue_id << " (" << symbols << "): REST " << base
        << "/api/v3, WebSocket API " << ws << "/ws-api/v3, streams " << ws << "/ws and " << ws
        << "/stream; control " << base << "/tranche/control (loopback only); account key "
        << (key ? key->key_hint() : std::string("none: every signed request is refused (-2015)")) << "; ";
  err << (config.scenario ? config.scenario->name : std::string("(no scenario)")) << " from "
      << format_time(data_start) << " at " << config.exchange.speed.to_string() << "x, anchored at "
      << format_time(anchor) << "\n";

  install_stop_handlers();
  bool ended_said = false;
  const std::function<void()> step = [&] {
    const TimestampNs now = wall_now_ns();
    (void)sim->run_until(std::max(sim->now(), clock.replay_at(now)), 20000);
    venue.after_run(now);
    if (!ended_said && !sim->recording_left()) {
      ended_said = true;
      err << "tranche exchange: the recorded data ended at " << format_time(sim->now())
          << "; the venue takes no more orders that could trade\n";
    }
  };
  server.value()->run(venue, step, stop_signal());
  err << "tranche exchange: stopping\n";
  if (options.json) out << "{\"venues\": {\"" << venue_id << "\": " << venue.executed_json() << "}}\n";
  return 0;
}

}  // namespace

int exchange_command(const ExchangeOptions& options, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "tranche exchange: " << message << "\n";
    return 2;
  };
  auto loaded = load_config(options.scenario.empty() ? default_config_path() : options.scenario);
  if (!loaded) return fail(loaded.error().message);
  Config config = *loaded;
  if (!options.speed.empty()) {
    Amount speed;
    if (!Amount::parse(options.speed, speed) || !speed.is_positive())
      return fail("--speed '" + options.speed + "' is not a positive decimal");
    config.exchange.speed = speed;
  }
  if (options.protocol == "binance") {
    if (options.port && (*options.port < 0 || *options.port > 65535))
      return fail("--port must be 0 to 65535");
    return binance_exchange(options, config, out, err);
  }
  if (options.protocol != "fix")
    return fail("--protocol must be fix or binance, not '" + options.protocol + "'");
  if (options.port) {
    if (*options.port <= 0 || *options.port > 65535) return fail("--port must be 1 to 65535");
    config.exchange.port = *options.port;
  }
  sim::SimOptions sim_options;
  sim_options.seed = options.seed;
  auto created = sim::Simulator::create(config, sim_options);
  if (!created) return fail(created.error().message);
  std::unique_ptr<sim::Simulator> sim = std::move(created).value();
  const TimestampNs data_start = std::max(sim->now(), sim->start_ns());
  TimestampNs anchor = wall_now_ns();
  if (!options.anchor.empty()) {
    auto t = parse_time(options.anchor);
    if (!t) return fail("--anchor: " + t.error().message);
    anchor = *t;
  }
  const ReplayClock clock{data_start, anchor, config.exchange.speed.to_double()};

  HandoffQueue<ExchangeRequest> queue;
  gateway::FixExchangeAcceptorOptions fix_options;
  fix_options.config = config.exchange;
  fix_options.dictionary =
      config.server.fix.dictionary.empty() ? TRANCHE_FIX_DICTIONARY : config.server.fix.dictionary;
  std::string venues;
  for (std::size_t v = 0; v < sim->venue_count(); ++v) {
    fix_options.venues.push_back(sim->venue(v).config().id.str());
    venues += (venues.empty() ? "" : ", ") + fix_options.venues.back();
  }
  auto acceptor =
      gateway::FixExchangeAcceptor::start(fix_options, [&](ExchangeRequest r) { queue.push(std::move(r)); });
  if (!acceptor) return fail(acceptor.error().message);
  Exchange exchange(*sim, *acceptor.value(), clock, err, options.quiet);
  sim->set_listener(&exchange);

  std::string clients;
  for (const auto& c : config.exchange.clients) clients += (clients.empty() ? "" : ", ") + c;
  err << "tranche exchange: FIX 4.4 on " << config.exchange.host << ":" << config.exchange.port << " for "
      << clients << "; venues (their CompIDs): " << venues << "; "
      << (config.scenario ? config.scenario->name : std::string("(no scenario)")) << " from "
      << format_time(data_start) << " at " << config.exchange.speed.to_string() << "x, anchored at "
      << format_time(anchor) << "\n";

  install_stop_handlers();
  bool ended_said = false;
  while (stop_signal().load() == 0) {
    for (const ExchangeRequest& r : queue.take(std::chrono::microseconds(1000))) exchange.on_request(r);
    sim->run_until(std::max(sim->now(), clock.replay_at(wall_now_ns())));
    if (!ended_said && !sim->recording_left()) {
      ended_said = true;
      err << "tranche exchange: the recorded data ended at " << format_time(sim->now())
          << "; the venues take no more orders that could trade\n";
    }
  }
  err << "tranche exchange: stopping\n";
  acceptor.value()->stop();
  if (options.json) exchange.print_executed(out);
  return 0;
}

}  // namespace tranche::service
