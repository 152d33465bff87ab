#pragma once
// What Binance's JSON says of our orders, read without a session: an answer to an order request (REST or the
// WebSocket API), a query's order, and the user data stream's order updates (spot's executionReport,
// futures' ORDER_TRADE_UPDATE). BinanceSession reads every order payload through here, and so does the fuzz
// target (fuzz/binance_orders_fuzz.cpp), which feeds what they read into the OrderTracker.
#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"
#include "gateway/binance_orders.hpp"

namespace tranche::gateway::binance {

// Fields of a JSON object: false when missing or not of that type.
bool text_of(simdjson::dom::element e, const char* key, std::string_view& out);
bool int_of(simdjson::dom::element e, const char* key, std::int64_t& out);
// A venue time in milliseconds, as nanoseconds; false when missing or no time at all (millis_in_range).
bool millis_of(simdjson::dom::element e, const char* key, TimestampNs& out);
// A decimal string (Price, Qty, Amount).
template <class Fixed>
bool decimal_of(simdjson::dom::element e, const char* key, Fixed& out) {
  std::string_view text;
  return text_of(e, key, text) && Fixed::parse(text, out);
}

// An order as an answer or a query shows it: its id under `id_key` (clientOrderId, or a cancel's
// origClientOrderId), status, executedQty and the rest. nullopt, with `why`, when it cannot be read.
std::optional<OrderFacts> read_order_facts(simdjson::dom::element order, const char* id_key,
                                           std::string& why);

// An order update of the user data stream: spot's executionReport (`order` and `event` are the same object)
// or futures' ORDER_TRADE_UPDATE (`order` is its "o", `event` the envelope with T and E). nullopt, with
// `why`, when it cannot be read.
struct OrderUpdate {
  OrderFacts facts;
  ExecType type = ExecType::New;
  std::string symbol;
};
std::optional<OrderUpdate> read_order_update(simdjson::dom::element order, simdjson::dom::element event,
                                             std::string& why);

}  // namespace tranche::gateway::binance
