#pragma once
// Binance spot's own words, shared by our gateway to Binance (the client) and by `tranche exchange
// --protocol binance` (the venue): request signing, parameter strings, the names of sides, order types,
// time in force and order states, and the error codes with what each means to the OMS. Nothing here touches
// the network.
//
// Signing (Binance's "SIGNED" endpoints): HMAC-SHA256 under the API secret, lower-case hex.
//  - REST: over the query string and the form body exactly as sent, query first ("totalParams").
//  - WebSocket API: over the request's parameters (signature excluded) sorted by name, as key=value joined
//    by '&', values not percent-encoded.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ids.hpp"
#include "core/order.hpp"
#include "core/side.hpp"

namespace tranche::gateway::binance {

// HMAC-SHA256 of `payload` under `secret`, as 64 lower-case hex digits.
std::string hmac_sha256_hex(std::string_view secret, std::string_view payload);

// The same, keyed once: a gateway signs every request under one secret, and re-keying (OpenSSL fetching the
// digest, making a context, hashing the key's pads) costs more than hashing a request. Not thread-safe: one
// per thread that signs (the gateway's I/O thread).
class Signer {
 public:
  explicit Signer(std::string_view secret);
  ~Signer();
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;
  // Appends the 64 hex digits of the payload's signature to `out`; false (nothing appended) if OpenSSL
  // failed.
  bool sign(std::string_view payload, std::string& out);

 private:
  struct Mac;
  Mac* mac_;
};

// Percent-encoding as Binance (and ccxt) write a parameter: unreserved characters (A-Z a-z 0-9 - _ . ~) as
// they are, everything else as %XX in upper-case hex.
std::string url_encode(std::string_view text);
// The inverse; false when a '%' is not followed by two hex digits. '+' reads as a space (form bodies).
bool url_decode(std::string_view text, std::string& out);

// A request's parameters in the order they are written.
using Params = std::vector<std::pair<std::string, std::string>>;

// "k1=v1&k2=v2", each value percent-encoded, in the given order.
std::string query_string(const Params& params);
// Splits "k1=v1&k2=v2" into decoded pairs, in order; nullopt when one is malformed.
std::optional<Params> parse_query(std::string_view query);
// The WebSocket API's signature payload: the parameters sorted by name, "k=v" joined by '&', not encoded.
std::string ws_api_payload(Params params);

// A symbol as Binance's stream names spell it: "ETHUSDT" -> "ethusdt" ("ethusdt@depth@100ms").
std::string stream_symbol(std::string_view symbol);

// Binance's symbols ("ETHUSDT"); the config names each listing's symbol, this is only for messages.
std::string_view side_name(Side side);  // "BUY" / "SELL"
std::optional<Side> parse_side(std::string_view text);

// Our order type and time in force in Binance's words: LIMIT with GTC/IOC/FOK, LIMIT_MAKER for post-only
// (which takes no timeInForce), MARKET (no price, no timeInForce).
std::string_view order_type_name(OrderType type, TimeInForce tif);
// "" for LIMIT_MAKER and MARKET, which send no timeInForce.
std::string_view time_in_force_name(OrderType type, TimeInForce tif);
// The reverse, for the venue's side: nullopt for a type or time in force we do not take.
struct OrderKind {
  OrderType type = OrderType::Limit;
  TimeInForce tif = TimeInForce::GoodTillCancel;
};
std::optional<OrderKind> parse_order_kind(std::string_view type, std::string_view time_in_force);

// Binance futures (USD-M /fapi, COIN-M /dapi) have no LIMIT_MAKER: post-only is LIMIT with timeInForce GTX
// ("good till crossing"), which the venue refuses (-5022) rather than let it take. MARKET sends no
// timeInForce.
std::string_view futures_order_type_name(OrderType type);
// "" for MARKET.
std::string_view futures_time_in_force_name(OrderType type, TimeInForce tif);
std::optional<OrderKind> parse_futures_order_kind(std::string_view type, std::string_view time_in_force);

// Order states: NEW, PARTIALLY_FILLED, FILLED, CANCELED, PENDING_CANCEL, REJECTED, EXPIRED,
// EXPIRED_IN_MATCH (self-trade prevention), PENDING_NEW.
std::string_view order_status_name(OrderStatus status);
std::optional<OrderStatus> parse_order_status(std::string_view text);
// executionReport's "x": NEW, CANCELED, REPLACED, REJECTED, TRADE, EXPIRED, TRADE_PREVENTION.
std::optional<ExecType> parse_execution_type(std::string_view text);
std::string_view execution_type_name(ExecType type);

// The error codes we send or act on (Binance's "Error codes for Binance" page).
enum ErrorCode : int {
  kUnknown = -1000,
  kDisconnected = -1001,
  kUnauthorized = -1002,
  kTooManyRequests = -1003,
  kUnexpectedResponse = -1006,
  kTimeout = -1007,  // the status of the request is unknown: query before sending again
  kServerBusy = -1008,
  kTooManyOrders = -1015,
  kInvalidTimestamp = -1021,  // outside recvWindow, or more than 1 s ahead of the server
  kInvalidSignature = -1022,
  kIllegalChars = -1100,
  kTooManyParameters = -1101,
  kMandatoryParamEmptyOrMalformed = -1102,
  kUnknownParam = -1103,
  kBadPrecision = -1111,
  kInvalidTimeInForce = -1115,
  kInvalidOrderType = -1116,
  kInvalidSide = -1117,
  kBadSymbol = -1121,
  kInvalidParameter = -1130,
  kFilterFailure = -1013,
  kNewOrderRejected = -2010,
  kCancelRejected = -2011,
  kNoSuchOrder = -2013,
  kBadApiKeyFormat = -2014,
  kRejectedApiKey = -2015,
  kOrderArchived = -2026,
  kCancelReplacePartiallyFailed = -2021,
  kCancelReplaceFailed = -2022,
};

// Futures' own codes (the same numbers can mean other things on spot: -2022 is a refused reduce-only order
// there, a failed cancel-replace here).
enum FuturesErrorCode : int {
  kFuturesMarginInsufficient = -2019,
  kFuturesReduceOnlyRejected = -2022,
  kFuturesPriceOffTick = -4014,
  kFuturesQtyOffStep = -4023,
  kFuturesMinNotional = -4164,
  kFuturesPostOnlyRejected = -5022,  // GTX that would have taken: refused, never placed
  kFuturesNoNeedToModify = -5027,    // a modify to the price and quantity the order already has
};

// What an error means to the OMS: the reject reason it closes the order with. The message matters for
// -2010 and -1013, whose causes (balance, post-only crossing, which filter) are told only there.
RejectReason reject_reason(int code, std::string_view message);
RejectReason futures_reject_reason(int code, std::string_view message);
// Errors after which the order's fate is unknown: it may or may not be at the venue, so it is queried by
// origClientOrderId before anything is sent again (-1007, -1006, -1001 and any 5xx).
bool outcome_unknown(int code, int http_status);

// Our newClientOrderId for a child: Binance takes ^[.A-Z:/a-z0-9_-]{1,36}$. `prefix` tells our orders from a
// user's others on the same account ("tr"), the child's id follows, and for a cancel-replace the chain's
// count: "tr-17", "tr-17-r2". nullopt when the result would not be valid.
std::optional<std::string> client_order_id(std::string_view prefix, const ClientOrderId& child,
                                           int replace_count = 0);
// The child our id names, and the replace count; nullopt when the id is not one of ours (another prefix).
struct ParsedClientOrderId {
  ClientOrderId child;
  int replace_count = 0;
};
std::optional<ParsedClientOrderId> parse_client_order_id(std::string_view prefix, std::string_view id);
bool valid_client_order_id(std::string_view id);

}  // namespace tranche::gateway::binance
