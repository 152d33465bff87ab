#include "gateway/fix_parent_acceptor.hpp"

#include <filesystem>
#include <utility>

#include "gateway/fix_acceptor_core.hpp"
#include "gateway/fix_log.hpp"
#include "gateway/fix_session_settings.hpp"
#include "gateway/fix_time.hpp"
#include "gateway/quickfix.hpp"
#include "gateway/quickfix_bind.hpp"

namespace tranche::gateway {

namespace {

constexpr int kTrancheAlgo = 7001;

char char_or_zero(const FIX::FieldMap& map, int tag) {
  const std::string v = field_or_empty(map, tag);
  return v.size() == 1 ? v[0] : (v.empty() ? 0 : '?');
}

// An order's own fields, from a message or from one order of a NewOrderList's group.
void read_order_fields(const FIX::FieldMap& message, ParentRequest& r) {
  r.cl_ord_id = field_or_empty(message, FIX::FIELD::ClOrdID);
  r.orig_cl_ord_id = field_or_empty(message, FIX::FIELD::OrigClOrdID);
  r.account = field_or_empty(message, FIX::FIELD::Account);
  r.symbol = field_or_empty(message, FIX::FIELD::Symbol);
  r.side = char_or_zero(message, FIX::FIELD::Side);
  r.ord_type = char_or_zero(message, FIX::FIELD::OrdType);
  r.qty = field_or_empty(message, FIX::FIELD::OrderQty);
  r.price = field_or_empty(message, FIX::FIELD::Price);
  r.target_strategy = field_or_empty(message, FIX::FIELD::TargetStrategy);
  r.algo = field_or_empty(message, kTrancheAlgo);
  r.strategy_params = field_or_empty(message, FIX::FIELD::TargetStrategyParameters);
  r.participation_rate = field_or_empty(message, FIX::FIELD::ParticipationRate);
  for (const auto& [tag, into] : {std::pair{FIX::FIELD::ExpireTime, &r.expire_ns},
                                  std::pair{FIX::FIELD::EffectiveTime, &r.effective_ns}}) {
    if (!message.isSetField(tag)) continue;
    const std::string text = message.getField(tag);
    *into = parse_fix_timestamp(text);
    if (!*into && r.problem.empty())
      r.problem = "tag " + std::to_string(tag) + " '" + text + "' is not a UTCTimestamp";
  }
}

// What the acceptor's handler makes of an order message (it throws FIX::UnsupportedMessageType for any
// other).
ParentRequest parent_request_from(const FIX::Message& message, std::string session) {
  ParentRequest r;
  r.session = std::move(session);
  if (field_or_empty(message.getHeader(), FIX::FIELD::MsgType) == "E") {
    r.kind = ParentRequest::Kind::NewList;
    r.list_id = field_or_empty(message, FIX::FIELD::ListID);
    r.tot_no_orders = field_or_empty(message, FIX::FIELD::TotNoOrders);
    r.one_sided_pct = field_or_empty(message, FIX::FIELD::AllowableOneSidednessPct);
    r.one_sided_value = field_or_empty(message, FIX::FIELD::AllowableOneSidednessValue);
    const std::size_t n = message.groupCount(FIX::FIELD::NoOrders);
    for (std::size_t i = 1; i <= n; ++i) {
      ParentRequest order;
      order.kind = ParentRequest::Kind::New;
      order.session = r.session;
      read_order_fields(message.getGroupRef(static_cast<int>(i), FIX::FIELD::NoOrders), order);
      if (r.problem.empty() && !order.problem.empty()) r.problem = order.problem;
      r.orders.push_back(std::move(order));
    }
    return r;
  }
  r.kind = fix_order_request_kind<ParentRequest::Kind>(message);
  read_order_fields(message, r);
  return r;
}

}  // namespace

struct FixParentAcceptor::Impl {
  FixAcceptorOptions options;
  Sink sink;
  // Last: its acceptor stops and goes before what its handlers use.
  FixAcceptorCore core{[this](const FIX::Message& m, const FIX::SessionID& id) { from_app(m, id); },
                       [this](const FIX::Message& m, const FIX::SessionID& id) { from_admin(m, id); }};

  // A Logon must carry the configured username and password when there are any.
  void from_admin(const FIX::Message& message, const FIX::SessionID&) {
    if (field_or_empty(message.getHeader(), FIX::FIELD::MsgType) != "A") return;
    const auto& c = options.config;
    if (c.username.empty() && c.password.empty()) return;
    if (field_or_empty(message, FIX::FIELD::Username) != c.username ||
        field_or_empty(message, FIX::FIELD::Password) != c.password)
      throw FIX::RejectLogon("unknown username or wrong password");
  }

  void from_app(const FIX::Message& message, const FIX::SessionID& id) {
    sink(parent_request_from(message, id.toString()));
  }

  bool send(const ParentAnswer& a) {
    FIX::Message m;
    m.getHeader().setField(FIX::FIELD::MsgType, a.cancel_reject ? "9" : "8");
    m.setField(FIX::FIELD::OrderID, a.order_id.empty() ? "NONE" : a.order_id);
    m.setField(FIX::FIELD::ClOrdID, a.cl_ord_id.empty() ? "NONE" : a.cl_ord_id);
    if (!a.orig_cl_ord_id.empty()) m.setField(FIX::FIELD::OrigClOrdID, a.orig_cl_ord_id);
    m.setField(FIX::FIELD::OrdStatus, std::string(1, a.ord_status));
    if (!a.account.empty()) m.setField(FIX::FIELD::Account, a.account);
    if (!a.text.empty()) m.setField(FIX::FIELD::Text, a.text);
    m.setField(FIX::FIELD::TransactTime, format_fix_timestamp(a.transact_ns));
    if (a.cancel_reject) {
      m.setField(FIX::FIELD::CxlRejResponseTo, std::string(1, a.cxl_rej_response_to));
      if (a.cxl_rej_reason >= 0) m.setField(FIX::FIELD::CxlRejReason, std::to_string(a.cxl_rej_reason));
    } else {
      m.setField(FIX::FIELD::ExecID, a.exec_id);
      m.setField(FIX::FIELD::ExecType, std::string(1, a.exec_type));
      m.setField(FIX::FIELD::Symbol, a.symbol.empty() ? "[N/A]" : a.symbol);
      m.setField(FIX::FIELD::Side, std::string(1, a.side));
      if (a.order_qty.is_set()) m.setField(FIX::FIELD::OrderQty, a.order_qty.to_string());
      if (a.limit.is_set()) m.setField(FIX::FIELD::Price, a.limit.to_string());
      m.setField(FIX::FIELD::LeavesQty, a.leaves_qty.to_string());
      m.setField(FIX::FIELD::CumQty, a.cum_qty.to_string());
      m.setField(FIX::FIELD::AvgPx, a.avg_px.is_set() ? a.avg_px.to_string() : "0");
      if (a.last_qty.is_set()) m.setField(FIX::FIELD::LastQty, a.last_qty.to_string());
      if (a.last_px.is_set()) m.setField(FIX::FIELD::LastPx, a.last_px.to_string());
      if (!a.last_mkt.empty()) m.setField(FIX::FIELD::LastMkt, a.last_mkt);
      if (!a.list_id.empty()) m.setField(FIX::FIELD::ListID, a.list_id);
      if (a.ord_rej_reason >= 0) m.setField(FIX::FIELD::OrdRejReason, std::to_string(a.ord_rej_reason));
    }
    return core.send(a.session, m);
  }
};

FixParentAcceptor::FixParentAcceptor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FixParentAcceptor::~FixParentAcceptor() {
  stop();
}

Result<std::unique_ptr<FixParentAcceptor>> FixParentAcceptor::start(const FixAcceptorOptions& options,
                                                                    Sink sink) {
  const FixAcceptorConfig& c = options.config;
  if (!std::filesystem::exists(options.dictionary))
    return make_error("the FIX dictionary " + options.dictionary + " is missing");
  if (!set_fix_acceptor_address(c.host))
    return make_error("[server.fix] listen: '" + c.host + "' is not an IPv4 address");
  std::error_code ec;
  std::filesystem::create_directories(options.store_dir, ec);
  if (ec) return make_error("cannot create " + options.store_dir + ": " + ec.message());
  // The store and the log hold the session's messages: the owner's alone.
  restrict_to_owner(options.store_dir);

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->sink = std::move(sink);
  FixSessionOptions session;
  session.dictionary = options.dictionary;
  session.store_dir = options.store_dir;
  session.reset_on_logon = options.reset_on_logon;
  for (const auto& client : c.clients) session.sessions.push_back({c.comp_id, client});
  if (Status started = impl->core.start(c.host, c.port, std::move(session)); !started)
    return make_error(started.message());
  return std::unique_ptr<FixParentAcceptor>(new FixParentAcceptor(std::move(impl)));
}

bool FixParentAcceptor::send(const ParentAnswer& answer) {
  return impl_->send(answer);
}

void FixParentAcceptor::stop() {
  if (impl_) impl_->core.stop();
}

int FixParentAcceptor::logged_on() const {
  return impl_->core.logged_on();
}

struct FixParentReader::Dictionary {
  FIX::DataDictionary dictionary;
};

FixParentReader::FixParentReader(std::unique_ptr<Dictionary> dictionary)
    : dictionary_(std::move(dictionary)) {}

FixParentReader::~FixParentReader() = default;

Result<std::unique_ptr<FixParentReader>> FixParentReader::open(const std::string& dictionary_path) {
  if (!std::filesystem::exists(dictionary_path))
    return make_error("the FIX dictionary " + dictionary_path + " is missing");
  auto dictionary = std::make_unique<Dictionary>();
  try {
    dictionary->dictionary.readFromURL(dictionary_path);
  } catch (const std::exception& e) {
    return make_error("the FIX dictionary " + dictionary_path + ": " + e.what());
  }
  // As the acceptor's sessions check (fix_session_settings.cpp): user-defined fields must be declared.
  dictionary->dictionary.checkUserDefinedFields(true);
  return std::unique_ptr<FixParentReader>(new FixParentReader(std::move(dictionary)));
}

Result<ParentRequest> FixParentReader::read(std::string_view raw, const std::string& session) const {
  const FIX::DataDictionary& dd = dictionary_->dictionary;
  try {
    const FIX::Message message(std::string(raw), dd, dd, true);
    FIX::DataDictionary::validate(message, &dd, &dd);
    return parent_request_from(message, session);
  } catch (const FIX::Exception& e) {
    return make_error(std::string("FIX: ") + e.type + (e.detail.empty() ? "" : ": " + e.detail));
  } catch (const std::exception& e) {
    return make_error(std::string("FIX: ") + e.what());
  }
}

}  // namespace tranche::gateway
