#include "service/exchange_command.hpp"

#include <charconv>
#include <cstdint>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "gateway/fix_time.hpp"
#include "gateway/quickfix.hpp"
#include "gateway/quickfix_bind.hpp"
#include "service/replay_clock.hpp"
#include "service/sim_commands.hpp"
#include "sim/simulator.hpp"

namespace tranche::service {

namespace {

using gateway::format_fix_timestamp;

std::string field(const FIX::FieldMap& m, int tag) {
  return m.isSetField(tag) ? m.getField(tag) : std::string();
}

// A request off the wire, for the exchange's thread.
struct VenueRequest {
  std::string session;  // SessionID::toString(): the answers go back there
  std::string venue;    // our CompID on that session: the venue id
  std::string type;     // D, F, G, H
  std::string cl_ord_id, orig_cl_ord_id, symbol, side, ord_type, qty, price, tif, exec_inst;
};

class ExchangeApplication final : public FIX::Application {
 public:
  explicit ExchangeApplication(HandoffQueue<VenueRequest>& queue) : queue_(queue) {}
  void onCreate(const FIX::SessionID& id) override {
    std::lock_guard lock(mutex_);
    sessions_[id.toString()] = id;
  }
  void onLogon(const FIX::SessionID&) override {}
  void onLogout(const FIX::SessionID&) override {}
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) override {}
  void fromAdmin(const FIX::Message&, const FIX::SessionID&) override {}
  void fromApp(const FIX::Message& m, const FIX::SessionID& id) override {
    VenueRequest r;
    r.type = field(m.getHeader(), FIX::FIELD::MsgType);
    if (r.type != "D" && r.type != "F" && r.type != "G" && r.type != "H") throw FIX::UnsupportedMessageType();
    r.session = id.toString();
    r.venue = id.getSenderCompID().getValue();
    r.cl_ord_id = field(m, FIX::FIELD::ClOrdID);
    r.orig_cl_ord_id = field(m, FIX::FIELD::OrigClOrdID);
    r.symbol = field(m, FIX::FIELD::Symbol);
    r.side = field(m, FIX::FIELD::Side);
    r.ord_type = field(m, FIX::FIELD::OrdType);
    r.qty = field(m, FIX::FIELD::OrderQty);
    r.price = field(m, FIX::FIELD::Price);
    r.tif = field(m, FIX::FIELD::TimeInForce);
    r.exec_inst = field(m, FIX::FIELD::ExecInst);
    queue_.push(std::move(r));
  }
  bool send(const std::string& session, FIX::Message& m) {
    FIX::SessionID id;
    {
      std::lock_guard lock(mutex_);
      auto it = sessions_.find(session);
      if (it == sessions_.end()) return false;
      id = it->second;
    }
    try {
      return FIX::Session::sendToTarget(m, id);
    } catch (const FIX::SessionNotFound&) {
      return false;
    }
  }

 private:
  HandoffQueue<VenueRequest>& queue_;
  std::mutex mutex_;
  std::map<std::string, FIX::SessionID> sessions_;
};

// The venues' side of the wire: requests into the simulator, its reports out as ExecutionReports. Orders are
// known by every ClOrdID of their chain, per session; inside, each is one of the simulator's client order
// ids.
class Exchange final : public sim::SimListener {
 public:
  Exchange(sim::Simulator& sim, ExchangeApplication& app, const ReplayClock& clock, std::ostream& err,
           bool quiet)
      : sim_(sim), app_(app), clock_(clock), err_(err), quiet_(quiet) {}

  void on_request(const VenueRequest& r) {
    const int v = sim_.venue_index(VenueId(r.venue));
    if (v < 0) return;  // the session names no venue: QuickFIX only creates sessions for the venues
    const VenueConfig& venue = sim_.venue(static_cast<std::size_t>(v)).config();
    if (r.type == "D") return on_new(r, static_cast<std::size_t>(v), venue);
    const auto known = by_cl_.find(r.session + '\n' + (r.type == "H" ? r.cl_ord_id : r.orig_cl_ord_id));
    if (known == by_cl_.end()) {
      if (r.type == "H") return status_unknown(r);
      return cancel_reject(r, r.type == "G" ? '2' : '1', 1, "unknown order", '8');
    }
    Order& o = orders_[known->second];
    const ClientOrderId id(known->second);
    if (r.type == "H") {
      o.status_cl = r.cl_ord_id;
      sim_.query(o.venue, OrderStatusQuery{id, venue.id, o.instrument, 0});
      return;
    }
    if (o.closed)
      return cancel_reject(r, r.type == "G" ? '2' : '1', 0, "too late: the order is done", o.last_status);
    if (!o.pending_cl.empty())
      return cancel_reject(r, r.type == "G" ? '2' : '1', 3, "a cancel or replace is already pending",
                           o.last_status);
    if (!r.cl_ord_id.empty() && by_cl_.count(r.session + '\n' + r.cl_ord_id))
      return cancel_reject(r, r.type == "G" ? '2' : '1', 6, "ClOrdID already in use", o.last_status);
    o.pending_cl = r.cl_ord_id;
    by_cl_[r.session + '\n' + r.cl_ord_id] = known->second;
    if (r.type == "F") {
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
    FIX::Message m;
    m.getHeader().setField(FIX::FIELD::MsgType, cancel_answer ? "9" : "8");
    m.setField(FIX::FIELD::OrderID,
               report.venue_order_id.str().empty() ? "NONE" : report.venue_order_id.str());
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
    m.setField(FIX::FIELD::ClOrdID, cl);
    if (!orig.empty()) m.setField(FIX::FIELD::OrigClOrdID, orig);
    m.setField(FIX::FIELD::OrdStatus, std::string(1, ord_status(report.status)));
    m.setField(FIX::FIELD::TransactTime, format_fix_timestamp(clock_.wall_at(sim_.now())));
    if (report.text.size() > 0) m.setField(FIX::FIELD::Text, std::string(report.text.view()));
    if (cancel_answer) {
      m.setField(FIX::FIELD::CxlRejResponseTo, report.exec_type == ExecType::ReplaceRejected ? "2" : "1");
      m.setField(FIX::FIELD::CxlRejReason, report.reject_reason == RejectReason::UnknownOrder ? "1" : "99");
      o.pending_cl.clear();
      app_.send(o.session, m);
      return;
    }
    m.setField(FIX::FIELD::ExecID,
               report.exec_id.str().empty() ? "S" + std::to_string(++exec_seq_) : report.exec_id.str());
    m.setField(FIX::FIELD::ExecType, std::string(1, exec_type(report.exec_type)));
    m.setField(FIX::FIELD::Symbol, o.symbol);
    m.setField(FIX::FIELD::Side, report.side == Side::Sell || o.side == Side::Sell ? "2" : "1");
    if (report.exec_type == ExecType::Replaced && !o.pending_cl.empty()) {
      o.qty = o.pending_qty;
      o.price = o.pending_price;
    }
    m.setField(FIX::FIELD::OrderQty, (report.order_qty.is_positive() ? report.order_qty : o.qty).to_string());
    if (o.price.is_set()) m.setField(FIX::FIELD::Price, o.price.to_string());
    m.setField(FIX::FIELD::CumQty, report.cum_qty.to_string());
    m.setField(FIX::FIELD::LeavesQty, report.leaves_qty.to_string());
    if (report.exec_type == ExecType::Trade &&
        seen_exec_.insert(o.venue_id + "/" + report.exec_id.str()).second) {
      Executed& e = executed_[o.venue_id];
      ++e.fills;
      (o.side == Side::Buy ? e.bought : e.sold) = (o.side == Side::Buy ? e.bought : e.sold) + report.last_qty;
    }
    if (report.exec_type == ExecType::Trade) {
      o.notional += report.last_price.to_double() * report.last_qty.to_double();
      m.setField(FIX::FIELD::LastQty, report.last_qty.to_string());
      m.setField(FIX::FIELD::LastPx, report.last_price.to_string());
      m.setField(FIX::FIELD::LastLiquidityInd, report.liquidity == Liquidity::Maker ? "1" : "2");
      m.setField(FIX::FIELD::Commission, report.fee.amount.to_string());
      m.setField(FIX::FIELD::CommType, "3");
      if (report.fee.asset.size() > 0)
        m.setField(FIX::FIELD::CommCurrency, std::string(report.fee.asset.view()));
    }
    const double cum = report.cum_qty.to_double();
    m.setField(FIX::FIELD::AvgPx, cum > 0 ? std::to_string(o.notional / cum) : "0");
    if (report.exec_type == ExecType::Rejected ||
        (report.exec_type == ExecType::OrderStatus && report.reject_reason == RejectReason::UnknownOrder))
      m.setField(FIX::FIELD::OrdRejReason, report.reject_reason == RejectReason::UnknownOrder ? "5" : "99");
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
    if (!app_.send(o.session, m))
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

  void on_new(const VenueRequest& r, std::size_t v, const VenueConfig& venue) {
    const VenueListing* listing = venue.listing_by_symbol(r.symbol);
    NewOrder order;
    order.venue = venue.id;
    Qty qty;
    Price price = Price::unset();
    std::string problem;
    if (r.cl_ord_id.empty() || by_cl_.count(r.session + '\n' + r.cl_ord_id))
      problem = "duplicate ClOrdID";
    else if (listing == nullptr)
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
                          : r.tif == "3"                             ? TimeInForce::ImmediateOrCancel
                          : r.tif == "4"                             ? TimeInForce::FillOrKill
                                                                     : TimeInForce::GoodTillCancel;
    sim_.send(v, order);
  }

  void reject_new(const VenueRequest& r, const std::string& why) { answer_unknown(r, '8', "99", why); }
  void status_unknown(const VenueRequest& r) { answer_unknown(r, 'I', "5", "unknown order"); }

  // An ExecutionReport about no order of ours: a refused new one, or a status asked for one never seen.
  void answer_unknown(const VenueRequest& r, char exec_type, const char* ord_rej_reason,
                      const std::string& text) {
    FIX::Message m;
    m.getHeader().setField(FIX::FIELD::MsgType, "8");
    m.setField(FIX::FIELD::OrderID, "NONE");
    m.setField(FIX::FIELD::ClOrdID, r.cl_ord_id.empty() ? "NONE" : r.cl_ord_id);
    m.setField(FIX::FIELD::ExecID, "S" + std::to_string(++exec_seq_));
    m.setField(FIX::FIELD::ExecType, std::string(1, exec_type));
    m.setField(FIX::FIELD::OrdStatus, "8");
    m.setField(FIX::FIELD::Symbol, r.symbol.empty() ? "[N/A]" : r.symbol);
    m.setField(FIX::FIELD::Side, r.side == "2" ? "2" : "1");
    m.setField(FIX::FIELD::LeavesQty, "0");
    m.setField(FIX::FIELD::CumQty, "0");
    m.setField(FIX::FIELD::AvgPx, "0");
    m.setField(FIX::FIELD::OrdRejReason, ord_rej_reason);
    m.setField(FIX::FIELD::Text, text);
    m.setField(FIX::FIELD::TransactTime, format_fix_timestamp(clock_.wall_at(sim_.now())));
    app_.send(r.session, m);
  }

  void cancel_reject(const VenueRequest& r, char response_to, int reason, const std::string& why,
                     char status) {
    FIX::Message m;
    m.getHeader().setField(FIX::FIELD::MsgType, "9");
    m.setField(FIX::FIELD::OrderID, "NONE");
    m.setField(FIX::FIELD::ClOrdID, r.cl_ord_id.empty() ? "NONE" : r.cl_ord_id);
    m.setField(FIX::FIELD::OrigClOrdID, r.orig_cl_ord_id.empty() ? "NONE" : r.orig_cl_ord_id);
    m.setField(FIX::FIELD::OrdStatus, std::string(1, status));
    m.setField(FIX::FIELD::CxlRejResponseTo, std::string(1, response_to));
    m.setField(FIX::FIELD::CxlRejReason, std::to_string(reason));
    m.setField(FIX::FIELD::Text, why);
    app_.send(r.session, m);
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
    out << "}}\n";
  }

 private:
  std::map<std::string, Executed> executed_;
  std::set<std::string> seen_exec_;
  sim::Simulator& sim_;
  ExchangeApplication& app_;
  const ReplayClock& clock_;
  std::ostream& err_;
  bool quiet_;
  std::map<std::uint64_t, Order> orders_;
  std::map<std::string, std::uint64_t> by_cl_;  // session + '\n' + any ClOrdID of the chain
  std::uint64_t next_id_ = 0;
  std::uint64_t exec_seq_ = 0;
};

}  // namespace

int exchange_command(const ExchangeOptions& options, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "tranche exchange: " << message << "\n";
    return 2;
  };
  auto loaded = load_config(options.scenario.empty() ? default_config_path() : options.scenario);
  if (!loaded) return fail(loaded.error().message);
  Config config = *loaded;
  if (options.port) {
    if (*options.port <= 0 || *options.port > 65535) return fail("--port must be 1 to 65535");
    config.exchange.port = *options.port;
  }
  if (!options.speed.empty()) {
    Amount speed;
    if (!Amount::parse(options.speed, speed) || !speed.is_positive())
      return fail("--speed '" + options.speed + "' is not a positive decimal");
    config.exchange.speed = speed;
  }
  sim::SimOptions sim_options;
  sim_options.seed = options.seed;
  auto created = sim::Simulator::create(config, sim_options);
  if (!created) return fail(created.error().message);
  std::unique_ptr<sim::Simulator> sim =
      std::move(const_cast<std::unique_ptr<sim::Simulator>&>(created.value()));
  const TimestampNs data_start = std::max(sim->now(), sim->start_ns());
  TimestampNs anchor = wall_now_ns();
  if (!options.anchor.empty()) {
    auto t = parse_time(options.anchor);
    if (!t) return fail("--anchor: " + t.error().message);
    anchor = *t;
  }
  const ReplayClock clock{data_start, anchor, config.exchange.speed.to_double()};

  HandoffQueue<VenueRequest> queue;
  ExchangeApplication app(queue);
  Exchange exchange(*sim, app, clock, err, options.quiet);
  sim->set_listener(&exchange);

  if (!gateway::set_fix_acceptor_address(config.exchange.host))
    return fail("[exchange] listen: '" + config.exchange.host + "' is not an IPv4 address");
  std::unique_ptr<FIX::SessionSettings> settings;
  std::unique_ptr<FIX::MemoryStoreFactory> store;
  std::unique_ptr<FIX::ScreenLogFactory> log;
  std::unique_ptr<FIX::SocketAcceptor> acceptor;
  std::string venues;
  try {
    settings = std::make_unique<FIX::SessionSettings>();
    FIX::Dictionary d;
    d.setString("ConnectionType", "acceptor");
    d.setInt("SocketAcceptPort", config.exchange.port);
    d.setBool("SocketReuseAddress", true);
    d.setBool("SocketNodelay", true);
    d.setString("StartTime", "00:00:00");
    d.setString("EndTime", "00:00:00");
    d.setBool("UseDataDictionary", true);
    d.setString("DataDictionary",
                config.server.fix.dictionary.empty() ? TRANCHE_FIX_DICTIONARY : config.server.fix.dictionary);
    d.setBool("ResetOnLogon", true);
    settings->set(d);
    for (std::size_t v = 0; v < sim->venue_count(); ++v) {
      const std::string id = sim->venue(v).config().id.str();
      venues += (venues.empty() ? "" : ", ") + id;
      for (const auto& client : config.exchange.clients)
        settings->set(FIX::SessionID("FIX.4.4", id, client), FIX::Dictionary());
    }
    store = std::make_unique<FIX::MemoryStoreFactory>();
    log = std::make_unique<FIX::ScreenLogFactory>(false, false, false);
    acceptor = std::make_unique<FIX::SocketAcceptor>(app, *store, *settings, *log);
    acceptor->start();
  } catch (const std::exception& e) {
    return fail("FIX acceptor on " + config.exchange.host + ":" + std::to_string(config.exchange.port) +
                ": " + e.what());
  }
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
    for (const VenueRequest& r : queue.take(std::chrono::microseconds(1000))) exchange.on_request(r);
    sim->run_until(std::max(sim->now(), clock.replay_at(wall_now_ns())));
    if (!ended_said && !sim->recording_left()) {
      ended_said = true;
      err << "tranche exchange: the recorded data ended at " << format_time(sim->now())
          << "; the venues take no more orders that could trade\n";
    }
  }
  err << "tranche exchange: stopping\n";
  acceptor->stop();
  if (options.json) exchange.print_executed(out);
  return 0;
}

}  // namespace tranche::service
