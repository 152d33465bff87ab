#include "gateway/fix_venue_session.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <variant>
#include <vector>

#include "gateway/fix_log.hpp"
#include "gateway/fix_session_settings.hpp"
#include "gateway/fix_time.hpp"
#include "gateway/quickfix.hpp"

namespace tranche::gateway {

namespace {

std::string field_or_empty(const FIX::FieldMap& map, int tag) {
  return map.isSetField(tag) ? map.getField(tag) : std::string();
}

std::string fix_now() {
  return format_fix_timestamp(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
}

// The child a ClOrdID of ours names: the digits before the first '.'.
std::optional<std::uint64_t> child_of(const std::string& cl_ord_id) {
  std::uint64_t id = 0;
  const char* end = cl_ord_id.data() + cl_ord_id.size();
  const char* dot = std::find(cl_ord_id.data(), end, '.');
  auto [p, ec] = std::from_chars(cl_ord_id.data(), dot, id);
  if (ec != std::errc() || p != dot || id == 0) return std::nullopt;
  return id;
}

std::optional<ExecType> exec_type_of(char c) {
  switch (c) {
    case '0':
      return ExecType::New;
    case 'F':
    case '1':  // FIX 4.2's partial fill
    case '2':  // and fill
      return ExecType::Trade;
    case '4':
      return ExecType::Canceled;
    case '5':
      return ExecType::Replaced;
    case '8':
      return ExecType::Rejected;
    case 'C':
    case '3':  // done for day: nothing more will fill
      return ExecType::Expired;
    case '6':
      return ExecType::PendingCancel;
    case 'E':
      return ExecType::PendingReplace;
    case 'I':
      return ExecType::OrderStatus;
    default:
      return std::nullopt;
  }
}

std::optional<OrderStatus> status_of(char c) {
  switch (c) {
    case '0':
      return OrderStatus::New;
    case '1':
      return OrderStatus::PartiallyFilled;
    case '2':
      return OrderStatus::Filled;
    case '4':
      return OrderStatus::Canceled;
    case '5':
      return OrderStatus::Replaced;
    case '6':
      return OrderStatus::PendingCancel;
    case '8':
      return OrderStatus::Rejected;
    case 'A':
      return OrderStatus::PendingNew;
    case 'C':
    case '3':
      return OrderStatus::Expired;
    case 'E':
      return OrderStatus::PendingReplace;
    default:
      return std::nullopt;
  }
}

RejectReason reject_reason_of(const std::string& ord_rej_reason) {
  if (ord_rej_reason == "5") return RejectReason::UnknownOrder;
  if (ord_rej_reason == "2") return RejectReason::VenueClosed;
  if (ord_rej_reason == "13") return RejectReason::QtyOffLot;
  if (ord_rej_reason == "1" || ord_rej_reason == "6" || ord_rej_reason == "11")
    return RejectReason::InvalidOrder;
  return RejectReason::Other;
}

bool decimal(const std::string& text, Qty& out) {
  return !text.empty() && Qty::parse(text, out);
}

}  // namespace

struct FixVenueSession::Impl final : public FIX::Application {
  VenueConfig venue;
  VenueFixConfig fix;
  // Fees without CommCurrency: the quote asset on a linear listing, the coin on an inverse one.
  std::map<std::string, std::string> fee_assets;  // by instrument id
  std::string fee_asset(const InstrumentId& instrument) const {
    auto it = fee_assets.find(instrument.str());
    return it == fee_assets.end() ? std::string() : it->second;
  }
  FIX::SessionID session_id;
  std::unique_ptr<FIX::SessionSettings> settings;
  std::unique_ptr<FIX::MessageStoreFactory> store;
  std::unique_ptr<FIX::LogFactory> log;
  std::unique_ptr<FIX::SocketInitiator> initiator;
  std::atomic<bool> is_logged_on{false};
  std::atomic<bool> reset_once{false};  // a new store's first logon resets (start), later ones do not
  std::atomic<bool> dropped{false};     // logged on once and lost it: the next logon re-syncs
  // This initiator's own session (QuickFIX's registry is keyed by SessionID, which a second gateway object
  // for the same venue would share).
  std::atomic<FIX::Session*> session{nullptr};
  bool stopped = false;

  // What the venue said, waiting for poll().
  struct Event {
    std::variant<ExecutionReport, VenueStatusReport> what;
    std::string cl_ord_id;  // of a report: the ClOrdID the venue answered (a replace's becomes the order's)
  };
  std::mutex mutex;
  std::vector<Event> events;
  bool logon_seen = false;   // a logon since the last poll
  bool resync_seen = false;  // ... after a drop: the resting children are re-synced there
  std::uint64_t unreadable_count = 0;
  std::string last_unreadable_text;

  // Orders sent and not yet closed (this thread-safe map is only touched on the EMS thread).
  struct Order {
    NewOrder order;
    std::string cl_ord_id;  // the order's current ClOrdID (a replace moves it on)
    int requests = 0;
  };
  std::map<std::uint64_t, Order> open;  // EMS thread only
  std::set<std::uint64_t> parked;       // status queries asked while the session was down: sent at the logon

  void push(Event e) {
    std::lock_guard lock(mutex);
    events.push_back(std::move(e));
  }
  void unreadable(const std::string& why, const FIX::Message& message) {
    std::lock_guard lock(mutex);
    ++unreadable_count;
    last_unreadable_text = why + ": " + message.toString();
    for (auto& c : last_unreadable_text)
      if (c == '\x01') c = '|';
  }

  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID&) override {
    // The first logon of a new store reset the numbers; from then on they continue.
    if (FIX::Session* s = session.load(); reset_once.exchange(false) && s != nullptr)
      s->setResetOnLogon(false);
    is_logged_on = true;
    std::lock_guard lock(mutex);
    logon_seen = true;
    resync_seen = dropped.exchange(false) || resync_seen;
    VenueStatusReport s;
    s.venue = venue.id;
    s.state = VenueState::Open;
    s.text = FixedString<95>("FIX session logged on");
    events.push_back({s, {}});
  }
  void onLogout(const FIX::SessionID&) override {
    if (!is_logged_on.exchange(false)) return;
    dropped = true;
    VenueStatusReport s;
    s.venue = venue.id;
    s.state = VenueState::Disconnected;
    s.text = FixedString<95>("FIX session dropped");
    push({s, {}});
  }
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message& message, const FIX::SessionID&) override {
    gap_fill_stale_order_requests(message);
  }
  void fromAdmin(const FIX::Message&, const FIX::SessionID&) override {}

  void fromApp(const FIX::Message& m, const FIX::SessionID&) override {
    const std::string type = field_or_empty(m.getHeader(), FIX::FIELD::MsgType);
    if (type != "8" && type != "9") return unreadable("a message type a venue does not send us", m);
    const std::string cl_ord_id = field_or_empty(m, FIX::FIELD::ClOrdID);
    const std::string orig = field_or_empty(m, FIX::FIELD::OrigClOrdID);
    auto child = child_of(cl_ord_id);
    if (!child && !orig.empty()) child = child_of(orig);
    if (!child) return unreadable("ClOrdID '" + cl_ord_id + "' is not one of ours", m);
    ExecutionReport r;
    r.client_order_id = ClientOrderId(*child);
    r.venue = venue.id;
    r.venue_order_id = VenueOrderId(field_or_empty(m, FIX::FIELD::OrderID));
    r.text = FixedString<95>(field_or_empty(m, FIX::FIELD::Text));
    r.venue_ns = parse_fix_timestamp(field_or_empty(m, FIX::FIELD::TransactTime)).value_or(0);
    const std::string symbol = field_or_empty(m, FIX::FIELD::Symbol);
    if (const VenueListing* l = venue.listing_by_symbol(symbol)) r.instrument = l->instrument;
    const std::string status = field_or_empty(m, FIX::FIELD::OrdStatus);
    if (type == "9") {
      r.exec_type = field_or_empty(m, FIX::FIELD::CxlRejResponseTo) == "2" ? ExecType::ReplaceRejected
                                                                           : ExecType::CancelRejected;
      if (field_or_empty(m, FIX::FIELD::CxlRejReason) == "1") r.reject_reason = RejectReason::UnknownOrder;
      if (auto s = status_of(status.empty() ? 0 : status[0])) r.status = *s;
      push({r, cl_ord_id});
      return;
    }
    const std::string exec_type = field_or_empty(m, FIX::FIELD::ExecType);
    const auto et = exec_type.size() == 1 ? exec_type_of(exec_type[0]) : std::nullopt;
    const auto st = status.size() == 1 ? status_of(status[0]) : std::nullopt;
    if (!et || !st)
      return unreadable("ExecType '" + exec_type + "' or OrdStatus '" + status + "' unknown", m);
    r.exec_type = *et;
    r.status = *st;
    r.exec_id = ExecId(field_or_empty(m, FIX::FIELD::ExecID));
    const std::string side = field_or_empty(m, FIX::FIELD::Side);
    r.side = side == "2" ? Side::Sell : Side::Buy;
    Qty q;
    if (decimal(field_or_empty(m, FIX::FIELD::OrderQty), q)) r.order_qty = q;
    Price p;
    if (const std::string px = field_or_empty(m, FIX::FIELD::Price); !px.empty() && Price::parse(px, p))
      r.order_price = p;
    if (!decimal(field_or_empty(m, FIX::FIELD::CumQty), r.cum_qty) ||
        !decimal(field_or_empty(m, FIX::FIELD::LeavesQty), r.leaves_qty))
      return unreadable("CumQty or LeavesQty is not a decimal", m);
    if (r.exec_type == ExecType::Trade) {
      if (!decimal(field_or_empty(m, FIX::FIELD::LastQty), r.last_qty) || !r.last_qty.is_positive() ||
          !Price::parse(field_or_empty(m, FIX::FIELD::LastPx), r.last_price) || !r.last_price.is_positive())
        return unreadable("a fill without a positive LastQty and LastPx", m);
      const std::string liquidity = field_or_empty(m, FIX::FIELD::LastLiquidityInd);
      r.liquidity = liquidity == "1"   ? Liquidity::Maker
                    : liquidity == "2" ? Liquidity::Taker
                                       : Liquidity::None;
      Qty fee;
      if (decimal(field_or_empty(m, FIX::FIELD::Commission), fee)) {
        r.fee.amount = fee;
        const std::string currency = field_or_empty(m, FIX::FIELD::CommCurrency);
        r.fee.asset = FixedString<15>(!currency.empty() ? currency : fee_asset(r.instrument));
      }
    }
    if (r.exec_type == ExecType::OrderStatus) {
      // A status carries the venue's average price: with it the OMS can book fills it never heard of.
      Price average;
      if (Price::parse(field_or_empty(m, FIX::FIELD::AvgPx), average) && average.is_positive())
        r.last_price = average;
    }
    if (r.exec_type == ExecType::Rejected || r.exec_type == ExecType::OrderStatus)
      if (m.isSetField(FIX::FIELD::OrdRejReason))
        r.reject_reason = reject_reason_of(m.getField(FIX::FIELD::OrdRejReason));
    push({r, cl_ord_id});
  }

  bool send_message(FIX::Message& m) {
    FIX::Session* s = session.load();
    if (!is_logged_on || s == nullptr) return false;
    return s->send(m);
  }
  void refuse(const ClientOrderId& id, const InstrumentId& instrument, ExecType type,
              const std::string& why) {
    ExecutionReport r;
    r.client_order_id = id;
    r.venue = venue.id;
    r.instrument = instrument;
    r.exec_type = type;
    r.status = type == ExecType::Rejected ? OrderStatus::Rejected : OrderStatus::New;
    r.reject_reason = RejectReason::VenueClosed;
    r.text = FixedString<95>(why);
    push({r, {}});
  }
  const VenueListing* listing(const InstrumentId& instrument) const { return venue.listing(instrument); }
  // A cancel's or replace's ClOrdID suffix, unique across restarts of the EMS (a venue refuses a ClOrdID used
  // before): the request's number and this process's start.
  std::string epoch = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count() %
      100000000);
  std::string suffix(int request) const { return std::to_string(request) + "-" + epoch; }
};

FixVenueSession::FixVenueSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FixVenueSession::~FixVenueSession() {
  stop();
}

Result<std::unique_ptr<FixVenueSession>> FixVenueSession::start(const VenueConfig& venue,
                                                                const Config& config,
                                                                const FixVenueOptions& options) {
  if (!venue.fix) return make_error("venue '" + venue.id.str() + "' has no [venue.fix]");
  if (!std::filesystem::exists(options.dictionary))
    return make_error("the FIX dictionary " + options.dictionary + " is missing");
  std::error_code ec;
  std::filesystem::create_directories(options.store_dir, ec);
  if (ec) return make_error("cannot create " + options.store_dir + ": " + ec.message());
  // The store and the log hold the session's messages: the owner's alone.
  restrict_to_owner(options.store_dir);
  auto impl = std::make_unique<Impl>();
  impl->venue = venue;
  impl->fix = *venue.fix;
  for (const auto& l : venue.listings)
    if (const Instrument* i = config.instrument(l.instrument))
      impl->fee_assets[i->id.str()] = l.inverse ? i->base : i->quote;
  const FixCompIds ids{venue.fix->sender_comp_id, venue.fix->target_comp_id};
  impl->session_id = fix_session_id(ids);
  try {
    FixSessionOptions session;
    session.end =
        FixInitiatorEnd{venue.fix->host, venue.fix->port, venue.fix->heartbeat_ns, venue.fix->reconnect_ns};
    session.dictionary = options.dictionary;
    session.store_dir = options.store_dir;
    // Sequence numbers continue across reconnects and restarts unless the venue's config resets them; a
    // store with no history (a new journal) starts with a reset, so stale numbers never meet the venue.
    // Orders are never sent late by a resend either way (toApp gap-fills them; the OMS queries instead).
    session.reset_on_logon = venue.fix->reset_on_logon;
    const bool fresh_store = !fix_store_has_history(options.store_dir);
    session.sessions.push_back(ids);
    impl->settings = make_fix_session_settings(session);
    impl->store = make_fix_file_stores(options.store_dir);
    impl->log = make_masked_file_log_factory(options.store_dir + "/log");
    impl->initiator =
        std::make_unique<FIX::SocketInitiator>(*impl, *impl->store, *impl->settings, *impl->log);
    impl->session = impl->initiator->getSession(impl->session_id);
    if (FIX::Session* s = impl->session.load(); fresh_store && s != nullptr && !session.reset_on_logon) {
      s->setResetOnLogon(true);
      impl->reset_once = true;
    }
    impl->initiator->start();
    restrict_to_owner(options.store_dir);  // the stores QuickFIX made for each session
  } catch (const std::exception& e) {
    return make_error("FIX session to " + venue.id.str() + ": " + e.what());
  }
  return std::unique_ptr<FixVenueSession>(new FixVenueSession(std::move(impl)));
}

VenueId FixVenueSession::venue() const {
  return impl_->venue.id;
}
bool FixVenueSession::logged_on() const {
  return impl_->is_logged_on.load();
}

bool FixVenueSession::send(const NewOrder& order) {
  const VenueListing* l = impl_->listing(order.instrument);
  if (l == nullptr) {
    impl_->refuse(order.client_order_id, order.instrument, ExecType::Rejected,
                  order.instrument.str() + " is not listed on " + impl_->venue.id.str());
    return false;
  }
  FIX::Message m;
  m.getHeader().setField(FIX::FIELD::MsgType, "D");
  const std::string cl = std::to_string(order.client_order_id.value());
  m.setField(FIX::FIELD::ClOrdID, cl);
  m.setField(FIX::FIELD::Symbol, l->symbol);
  m.setField(FIX::FIELD::Side, order.side == Side::Buy ? "1" : "2");
  m.setField(FIX::FIELD::TransactTime, fix_now());
  m.setField(FIX::FIELD::OrderQty, order.qty.to_string());
  if (order.type == OrderType::Market) {
    m.setField(FIX::FIELD::OrdType, "1");
  } else {
    m.setField(FIX::FIELD::OrdType, "2");
    m.setField(FIX::FIELD::Price, order.price.to_string());
  }
  switch (order.time_in_force) {
    case TimeInForce::GoodTillCancel:
      m.setField(FIX::FIELD::TimeInForce, "1");
      break;
    case TimeInForce::ImmediateOrCancel:
      m.setField(FIX::FIELD::TimeInForce, "3");
      break;
    case TimeInForce::FillOrKill:
      m.setField(FIX::FIELD::TimeInForce, "4");
      break;
    case TimeInForce::PostOnly:
      m.setField(FIX::FIELD::TimeInForce, "1");
      m.setField(FIX::FIELD::ExecInst, "6");  // participate, don't initiate
      break;
  }
  if (!impl_->send_message(m)) {
    impl_->refuse(order.client_order_id, order.instrument, ExecType::Rejected,
                  "the FIX session to " + impl_->venue.id.str() + " is not logged on");
    return false;
  }
  impl_->open[order.client_order_id.value()] = {order, cl, 0};
  return true;
}

bool FixVenueSession::cancel(const CancelOrder& cancel) {
  auto it = impl_->open.find(cancel.client_order_id.value());
  if (it == impl_->open.end()) {
    impl_->refuse(cancel.client_order_id, cancel.instrument, ExecType::CancelRejected,
                  "no open order " + std::to_string(cancel.client_order_id.value()) + " on this session");
    return false;
  }
  auto& o = it->second;
  const VenueListing* listed = impl_->listing(o.order.instrument);
  if (listed == nullptr) {
    impl_->refuse(cancel.client_order_id, cancel.instrument, ExecType::CancelRejected,
                  o.order.instrument.str() + " is not listed on " + impl_->venue.id.str());
    return false;
  }
  FIX::Message m;
  m.getHeader().setField(FIX::FIELD::MsgType, "F");
  m.setField(FIX::FIELD::OrigClOrdID, o.cl_ord_id);
  m.setField(FIX::FIELD::ClOrdID,
             o.cl_ord_id.substr(0, o.cl_ord_id.find('.')) + ".c" + impl_->suffix(++o.requests));
  m.setField(FIX::FIELD::Symbol, listed->symbol);
  m.setField(FIX::FIELD::Side, o.order.side == Side::Buy ? "1" : "2");
  m.setField(FIX::FIELD::TransactTime, fix_now());
  m.setField(FIX::FIELD::OrderQty, o.order.qty.to_string());
  if (!impl_->send_message(m)) {
    impl_->refuse(cancel.client_order_id, cancel.instrument, ExecType::CancelRejected,
                  "the FIX session to " + impl_->venue.id.str() + " is not logged on");
    return false;
  }
  return true;
}

bool FixVenueSession::amend(const AmendOrder& amend) {
  auto it = impl_->open.find(amend.client_order_id.value());
  if (it == impl_->open.end()) {
    impl_->refuse(amend.client_order_id, amend.instrument, ExecType::ReplaceRejected,
                  "no open order " + std::to_string(amend.client_order_id.value()) + " on this session");
    return false;
  }
  auto& o = it->second;
  const VenueListing* listed = impl_->listing(o.order.instrument);
  const Price price = amend.new_price.is_set() ? amend.new_price : o.order.price;
  if (listed == nullptr || !price.is_set()) {
    impl_->refuse(amend.client_order_id, amend.instrument, ExecType::ReplaceRejected,
                  listed == nullptr ? o.order.instrument.str() + " is not listed on " + impl_->venue.id.str()
                                    : std::string("an order without a price cannot be replaced"));
    return false;
  }
  FIX::Message m;
  m.getHeader().setField(FIX::FIELD::MsgType, "G");
  m.setField(FIX::FIELD::OrigClOrdID, o.cl_ord_id);
  m.setField(FIX::FIELD::ClOrdID,
             o.cl_ord_id.substr(0, o.cl_ord_id.find('.')) + ".r" + impl_->suffix(++o.requests));
  m.setField(FIX::FIELD::Symbol, listed->symbol);
  m.setField(FIX::FIELD::Side, o.order.side == Side::Buy ? "1" : "2");
  m.setField(FIX::FIELD::TransactTime, fix_now());
  m.setField(FIX::FIELD::OrderQty, (amend.new_qty.is_set() ? amend.new_qty : o.order.qty).to_string());
  m.setField(FIX::FIELD::OrdType, "2");
  m.setField(FIX::FIELD::Price, price.to_string());
  if (!impl_->send_message(m)) {
    impl_->refuse(amend.client_order_id, amend.instrument, ExecType::ReplaceRejected,
                  "the FIX session to " + impl_->venue.id.str() + " is not logged on");
    return false;
  }
  return true;
}

bool FixVenueSession::query(const OrderStatusQuery& query) {
  auto it = impl_->open.find(query.client_order_id.value());
  const std::string cl =
      it != impl_->open.end() ? it->second.cl_ord_id : std::to_string(query.client_order_id.value());
  const VenueListing* l = impl_->listing(query.instrument);
  FIX::Message m;
  m.getHeader().setField(FIX::FIELD::MsgType, "H");
  m.setField(FIX::FIELD::ClOrdID, cl);
  m.setField(FIX::FIELD::Symbol, l != nullptr ? l->symbol : query.instrument.str());
  m.setField(FIX::FIELD::Side, it != impl_->open.end() && it->second.order.side == Side::Sell ? "2" : "1");
  if (!impl_->send_message(m)) {
    // Asked at the next logon (the first one too: a restarted EMS reconciles before its sessions are up).
    if (it == impl_->open.end()) {
      NewOrder unknown;
      unknown.client_order_id = query.client_order_id;
      unknown.instrument = query.instrument;
      impl_->open[query.client_order_id.value()] = {unknown, cl, 0};
    }
    impl_->parked.insert(query.client_order_id.value());
    return true;
  }
  if (it == impl_->open.end()) {
    NewOrder known;
    known.client_order_id = query.client_order_id;
    known.instrument = query.instrument;
    impl_->open[query.client_order_id.value()] = {known, cl, 0};  // its answer tells whether it still works
  }
  return true;
}

std::size_t FixVenueSession::poll(ExecutionListener& listener, TimestampNs now_ns) {
  std::vector<Impl::Event> events;
  bool logon = false, resync = false;
  {
    std::lock_guard lock(impl_->mutex);
    events.swap(impl_->events);
    logon = impl_->logon_seen;
    resync = impl_->resync_seen;
    impl_->logon_seen = impl_->resync_seen = false;
  }
  for (auto& e : events) {
    if (auto* r = std::get_if<ExecutionReport>(&e.what)) {
      r->received_ns = now_ns;
      auto it = impl_->open.find(r->client_order_id.value());
      if (it != impl_->open.end()) {
        Impl::Order& o = it->second;
        if (r->instrument.str().empty()) r->instrument = o.order.instrument;
        // What the venue says of the order fills in what a re-synced order did not know.
        if (r->order_qty.is_positive()) o.order.qty = r->order_qty;
        if (r->order_price.is_set()) o.order.price = r->order_price;
        if (r->exec_type != ExecType::CancelRejected && r->exec_type != ExecType::ReplaceRejected)
          o.order.side = r->side;
        // A replace accepted moves the order's ClOrdID on; a closed order leaves this session's book.
        if (r->exec_type == ExecType::Replaced && !e.cl_ord_id.empty()) o.cl_ord_id = e.cl_ord_id;
        const bool closed =
            r->status == OrderStatus::Filled || r->status == OrderStatus::Canceled ||
            r->status == OrderStatus::Rejected || r->status == OrderStatus::Expired ||
            (r->exec_type == ExecType::OrderStatus && r->reject_reason == RejectReason::UnknownOrder);
        if (closed && r->exec_type != ExecType::CancelRejected && r->exec_type != ExecType::ReplaceRejected)
          impl_->open.erase(it);
      }
      listener.on_execution_report(*r);
    } else {
      auto& s = std::get<VenueStatusReport>(e.what);
      s.received_ns = now_ns;
      listener.on_venue_status(s);
    }
  }
  if (logon && !resync) {
    std::vector<std::uint64_t> ids(impl_->parked.begin(), impl_->parked.end());
    impl_->parked.clear();
    for (auto id : ids) {
      auto it = impl_->open.find(id);
      if (it != impl_->open.end())
        query(OrderStatusQuery{it->second.order.client_order_id, impl_->venue.id, it->second.order.instrument,
                               now_ns});
    }
  }
  if (logon && resync) {
    // After a drop: every order this session still holds open is asked for (or, configured so, canceled).
    impl_->parked.clear();
    std::vector<std::uint64_t> ids;
    for (const auto& [id, o] : impl_->open) ids.push_back(id);
    for (auto id : ids) {
      const auto& o = impl_->open[id];
      if (impl_->fix.on_reconnect == "cancel" && o.order.qty.is_positive())
        cancel(CancelOrder{o.order.client_order_id, impl_->venue.id, o.order.instrument, now_ns});
      else
        query(OrderStatusQuery{o.order.client_order_id, impl_->venue.id, o.order.instrument, now_ns});
    }
  }
  return events.size();
}

std::uint64_t FixVenueSession::unreadable() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->unreadable_count;
}

std::string FixVenueSession::last_unreadable() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->last_unreadable_text;
}

void FixVenueSession::stop() {
  if (!impl_ || impl_->stopped || !impl_->initiator) return;
  impl_->stopped = true;
  impl_->initiator->stop();
}

}  // namespace tranche::gateway
