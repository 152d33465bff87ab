#include "gateway/binance_payloads.hpp"

#include "gateway/binance_protocol.hpp"

namespace tranche::gateway::binance {

namespace dom = simdjson::dom;

bool text_of(dom::element e, const char* key, std::string_view& out) {
  return e[key].get(out) == simdjson::SUCCESS;
}

bool int_of(dom::element e, const char* key, std::int64_t& out) {
  return e[key].get_int64().get(out) == simdjson::SUCCESS;
}

bool millis_of(dom::element e, const char* key, TimestampNs& out) {
  std::int64_t ms = 0;
  if (!int_of(e, key, ms) || !millis_in_range(ms)) return false;
  out = ms * kNanosPerMilli;
  return true;
}

std::optional<OrderFacts> read_order_facts(dom::element e, const char* id_key, std::string& why) {
  OrderFacts f;
  std::string_view text;
  if (!e.is_object()) {
    why = "an order answer that is not a JSON object";
    return std::nullopt;
  }
  if (!text_of(e, id_key, text)) {
    why = std::string("an order answer without ") + id_key;
    return std::nullopt;
  }
  f.client_order_id = std::string(text);
  int_of(e, "orderId", f.order_id);
  if (!text_of(e, "status", text) || !(f.status = parse_order_status(text))) {
    why = "order " + f.client_order_id + " with no status we know";
    return std::nullopt;
  }
  if (!decimal_of(e, "executedQty", f.executed) || f.executed < Qty::from_raw(0)) {
    why = "order " + f.client_order_id + " without a readable executedQty";
    return std::nullopt;
  }
  decimal_of(e, "cummulativeQuoteQty", f.quote_executed);
  (void)(millis_of(e, "transactTime", f.venue_ns) || millis_of(e, "updateTime", f.venue_ns) ||
         millis_of(e, "time", f.venue_ns));
  return f;
}

std::optional<OrderUpdate> read_order_update(dom::element o, dom::element event, std::string& why) {
  std::string_view symbol, exec, cancel_of, text;
  OrderUpdate u;
  OrderFacts& f = u.facts;
  auto unreadable = [&](const std::string& what) {
    why = what;
    return std::nullopt;
  };
  if (!o.is_object()) return unreadable(" that is not a JSON object");
  if (!text_of(o, "s", symbol) || !text_of(o, "x", exec) || !text_of(o, "c", text))
    return unreadable(" without s, x or c");
  f.client_order_id = std::string(text);
  const auto exec_type = parse_execution_type(exec);
  if (!exec_type) return unreadable(" of type " + std::string(exec) + " we do not know");
  u.type = *exec_type;
  // Spot names a canceled order in C (c is the cancel's own id); futures has no C.
  if (u.type == ExecType::Canceled && text_of(o, "C", cancel_of) && !cancel_of.empty())
    f.client_order_id = std::string(cancel_of);
  int_of(o, "i", f.order_id);
  if (!text_of(o, "X", text) || !(f.status = parse_order_status(text)))
    return unreadable(" for " + f.client_order_id + " with no status we know");
  if (!decimal_of(o, "z", f.executed) || f.executed < Qty::from_raw(0))
    return unreadable(" without z (or a negative one)");
  decimal_of(o, "Z", f.quote_executed);  // spot's cumulative quote
  (void)(millis_of(o, "T", f.venue_ns) || millis_of(event, "T", f.venue_ns) ||
         millis_of(event, "E", f.venue_ns));
  if (u.type == ExecType::Trade) {
    TradeFact trade;
    std::string_view asset;
    bool maker = false;
    if (!int_of(o, "t", trade.trade_id) || !decimal_of(o, "l", trade.qty) || !decimal_of(o, "L", trade.price))
      return unreadable(" (TRADE) for " + f.client_order_id + " without t, l or L");
    if (!decimal_of(o, "n", trade.commission)) trade.commission = Qty::from_raw(0);
    if (text_of(o, "N", asset)) trade.commission_asset = std::string(asset);
    if (o["m"].get(maker) == simdjson::SUCCESS) trade.maker = maker;
    f.trade = trade;
  }
  if (u.type == ExecType::Rejected && text_of(o, "r", text)) f.text = std::string(text);
  u.symbol = std::string(symbol);
  return u;
}

}  // namespace tranche::gateway::binance
