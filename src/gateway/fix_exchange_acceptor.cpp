#include "gateway/fix_exchange_acceptor.hpp"

#include <utility>

#include "gateway/fix_acceptor_core.hpp"
#include "gateway/fix_session_settings.hpp"
#include "gateway/fix_time.hpp"
#include "gateway/quickfix.hpp"
#include "gateway/quickfix_bind.hpp"

namespace tranche::gateway {

struct FixExchangeAcceptor::Impl {
  Sink sink;
  // Last: its acceptor stops and goes before what its handler uses.
  FixAcceptorCore core{[this](const FIX::Message& m, const FIX::SessionID& id) { from_app(m, id); }};

  void from_app(const FIX::Message& m, const FIX::SessionID& id) {
    ExchangeRequest r;
    r.kind = fix_order_request_kind<ExchangeRequest::Kind>(m);
    r.session = id.toString();
    r.venue = id.getSenderCompID().getValue();
    r.cl_ord_id = field_or_empty(m, FIX::FIELD::ClOrdID);
    r.orig_cl_ord_id = field_or_empty(m, FIX::FIELD::OrigClOrdID);
    r.symbol = field_or_empty(m, FIX::FIELD::Symbol);
    r.side = field_or_empty(m, FIX::FIELD::Side);
    r.ord_type = field_or_empty(m, FIX::FIELD::OrdType);
    r.qty = field_or_empty(m, FIX::FIELD::OrderQty);
    r.price = field_or_empty(m, FIX::FIELD::Price);
    r.time_in_force = field_or_empty(m, FIX::FIELD::TimeInForce);
    r.exec_inst = field_or_empty(m, FIX::FIELD::ExecInst);
    sink(std::move(r));
  }

  bool send(const ExchangeReport& a) {
    FIX::Message m;
    m.getHeader().setField(FIX::FIELD::MsgType, a.cancel_reject ? "9" : "8");
    m.setField(FIX::FIELD::OrderID, a.order_id.empty() ? "NONE" : a.order_id);
    m.setField(FIX::FIELD::ClOrdID, a.cl_ord_id.empty() ? "NONE" : a.cl_ord_id);
    // An OrderCancelReject always names the order it refused a request on (41 is required there).
    if (a.cancel_reject || !a.orig_cl_ord_id.empty())
      m.setField(FIX::FIELD::OrigClOrdID, a.orig_cl_ord_id.empty() ? "NONE" : a.orig_cl_ord_id);
    m.setField(FIX::FIELD::OrdStatus, std::string(1, a.ord_status));
    if (a.transact_ns) m.setField(FIX::FIELD::TransactTime, format_fix_timestamp(*a.transact_ns));
    if (!a.text.empty()) m.setField(FIX::FIELD::Text, a.text);
    if (a.cancel_reject) {
      m.setField(FIX::FIELD::CxlRejResponseTo, std::string(1, a.cxl_rej_response_to));
      m.setField(FIX::FIELD::CxlRejReason, std::to_string(a.cxl_rej_reason));
    } else {
      m.setField(FIX::FIELD::ExecID, a.exec_id);
      m.setField(FIX::FIELD::ExecType, std::string(1, a.exec_type));
      m.setField(FIX::FIELD::Symbol, a.symbol.empty() ? "[N/A]" : a.symbol);
      m.setField(FIX::FIELD::Side, std::string(1, a.side));
      if (a.order_qty.is_set()) m.setField(FIX::FIELD::OrderQty, a.order_qty.to_string());
      if (a.price.is_set()) m.setField(FIX::FIELD::Price, a.price.to_string());
      m.setField(FIX::FIELD::CumQty, a.cum_qty.to_string());
      m.setField(FIX::FIELD::LeavesQty, a.leaves_qty.to_string());
      if (a.fill) {
        m.setField(FIX::FIELD::LastQty, a.fill->last_qty.to_string());
        m.setField(FIX::FIELD::LastPx, a.fill->last_px.to_string());
        m.setField(FIX::FIELD::LastLiquidityInd, a.fill->maker ? "1" : "2");
        m.setField(FIX::FIELD::Commission, a.fill->commission.to_string());
        m.setField(FIX::FIELD::CommType, "3");
        if (!a.fill->commission_asset.empty()) m.setField(FIX::FIELD::CommCurrency, a.fill->commission_asset);
      }
      m.setField(FIX::FIELD::AvgPx, a.avg_px ? std::to_string(*a.avg_px) : "0");
      if (a.ord_rej_reason >= 0) m.setField(FIX::FIELD::OrdRejReason, std::to_string(a.ord_rej_reason));
    }
    return core.send(a.session, m);
  }
};

FixExchangeAcceptor::FixExchangeAcceptor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FixExchangeAcceptor::~FixExchangeAcceptor() {
  stop();
}

Result<std::unique_ptr<FixExchangeAcceptor>> FixExchangeAcceptor::start(
    const FixExchangeAcceptorOptions& options, Sink sink) {
  const ExchangeConfig& c = options.config;
  if (!set_fix_acceptor_address(c.host))
    return make_error("[exchange] listen: '" + c.host + "' is not an IPv4 address");
  auto impl = std::make_unique<Impl>();
  impl->sink = std::move(sink);
  // No store_dir: the venues keep nothing across a restart of the exchange (sequence numbers in memory, no
  // message log).
  FixSessionOptions session;
  session.dictionary = options.dictionary;
  for (const auto& venue : options.venues)
    for (const auto& client : c.clients) session.sessions.push_back({venue, client});
  if (Status started = impl->core.start(c.host, c.port, std::move(session)); !started)
    return make_error(started.message());
  return std::unique_ptr<FixExchangeAcceptor>(new FixExchangeAcceptor(std::move(impl)));
}

bool FixExchangeAcceptor::send(const ExchangeReport& report) {
  return impl_->send(report);
}

void FixExchangeAcceptor::stop() {
  if (impl_) impl_->core.stop();
}

}  // namespace tranche::gateway
