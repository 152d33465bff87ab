#include "gateway/binance_venue.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>

namespace tranche::gateway::binance {

// ---------------------------------------------------------------------------------------------------------
// JSON: written by hand (decimals as strings, never through a double), read with simdjson.

namespace {

void escape_into(std::string& o, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '"':
        o += "\\\"";
        break;
      case '\\':
        o += "\\\\";
        break;
      case '\n':
        o += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          o += "\\u00";
          o += kHex[(c >> 4) & 0xf];
          o += kHex[c & 0xf];
        } else {
          o += c;
        }
    }
  }
}

// A key in an object being written: a comma unless the object (or array) has just opened.
void key(std::string& o, std::string_view k) {
  if (!o.empty() && o.back() != '{' && o.back() != '[') o += ',';
  o += '"';
  o += k;
  o += "\":";
}
void str(std::string& o, std::string_view k, std::string_view v) {
  key(o, k);
  o += '"';
  escape_into(o, v);
  o += '"';
}
void num(std::string& o, std::string_view k, std::int64_t v) {
  key(o, k);
  o += std::to_string(v);
}
void boolean(std::string& o, std::string_view k, bool v) {
  key(o, k);
  o += v ? "true" : "false";
}
void raw(std::string& o, std::string_view k, std::string_view json) {
  key(o, k);
  o += json;
}
void comma(std::string& o) {
  if (!o.empty() && o.back() != '{' && o.back() != '[') o += ',';
}
template <class Tag>
std::string dec(Fixed<Tag> v) {
  return v.is_set() ? v.to_string(8) : std::string("0.00000000");
}
std::string error_json(int code, std::string_view msg) {
  std::string o = "{";
  num(o, "code", code);
  str(o, "msg", msg);
  o += '}';
  return o;
}
// Price x quantity in the quote asset, rounded to Amount's 8 places.
Amount quote_of(Notional n) {
  const Int128 scale = static_cast<Int128>(kFixedScale);
  const Int128 r = n.raw();
  const Int128 q = r >= 0 ? (r + scale / 2) / scale : -((-r + scale / 2) / scale);
  return Amount::from_raw(static_cast<std::int64_t>(q));
}

const std::string* get(const Params& params, std::string_view name) {
  for (const auto& [k, v] : params)
    if (k == name) return &v;
  return nullptr;
}

bool parse_int(std::string_view text, std::int64_t& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

std::string mandatory(std::string_view name) {
  return "Mandatory parameter '" + std::string(name) + "' was not sent, was empty/null, or malformed.";
}
std::string not_required(std::string_view name) {
  return "Parameter '" + std::string(name) + "' sent when not required.";
}
std::string illegal_decimal(std::string_view name) {
  return "Illegal characters found in parameter '" + std::string(name) +
         "'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.";
}
constexpr const char* kIllegalClientId =
    "Illegal characters found in parameter 'newClientOrderId'; legal range is "
    "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.";
constexpr const char* kDisconnectedMsg = "Internal error; unable to process your request. Please try again.";
constexpr const char* kCancelAllDone =
    R"({"code":200,"msg":"The operation of cancel all open order is done."})";
constexpr const char* kFuturesPostOnlyMsg =
    "Due to the order could not be executed as maker, the Post Only order will be rejected. The order will "
    "not be recorded in the order history";
std::string futures_min_notional_msg(const VenueListing& listing) {
  return "Order's notional must be no smaller than " + listing.min_notional.to_string() +
         " (unless you choose reduce only).";
}

// One rate limit as exchangeInfo and the WebSocket API list it, its fields without the braces (the WebSocket
// API's add its count).
void rate_limit(std::string& o, const char* type, const char* interval, int interval_num,
                std::int64_t limit) {
  str(o, "rateLimitType", type);
  str(o, "interval", interval);
  num(o, "intervalNum", interval_num);
  num(o, "limit", limit);
}

// The request's text without its signature pair, and the signature.
void strip_signature(std::string_view text, std::string& out, std::string& signature) {
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.substr(0, 10) == "signature=") {
      signature = std::string(pair.substr(10));
      continue;
    }
    if (!out.empty() && out.back() != '\x01') out += '&';
    out += pair;
  }
}

bool loopback(std::string_view ip) {
  return ip == "127.0.0.1" || ip == "::1" || ip.substr(0, 4) == "127." || ip == "::ffff:127.0.0.1";
}

constexpr std::size_t kMaxLevels = 5000;  // Binance's deepest snapshot
constexpr std::size_t kRecentTrades = 1000;
constexpr int kMaxParams = 64;
constexpr std::int64_t kStreamMessagesPerSecond = 5;
constexpr std::int64_t kMaxRecvWindowMs = 60000;
const Qty kMaxQty = Qty::from_units(9'000'000);
const Price kMaxPrice = Price::from_units(1'000'000);
const Amount kMaxNotional = Amount::from_units(9'000'000'000);

// Market stream kinds, index into Market::subs; the mark price streams are futures' alone.
enum StreamKind : int {
  kDepth100 = 0,
  kDepth1000 = 1,
  kBookTicker = 2,
  kTrade = 3,
  kMark1s = 4,
  kMark3s = 5
};
constexpr int kStreamKinds = 6;
constexpr const char* kStreamSuffix[] = {"depth@100ms", "depth",        "bookTicker",
                                         "trade",       "markPrice@1s", "markPrice"};
constexpr DurationNs kListenKeyLife = 60 * 60 * kNanosPerSecond;

}  // namespace

bool decimal_syntax(std::string_view text) {
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  if (whole.empty() || whole.size() > 20) return false;
  if (!std::all_of(whole.begin(), whole.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  if (dot == std::string_view::npos) return true;
  const std::string_view frac = text.substr(dot + 1);
  return !frac.empty() && frac.size() <= 20 &&
         std::all_of(frac.begin(), frac.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool parse_ws_request(std::string_view text, WsRequest& out, std::string& error) {
  static thread_local simdjson::ondemand::parser parser;
  static thread_local simdjson::dom::parser validator;
  const simdjson::padded_string json(text);
  // The whole text must be one JSON value (On Demand reads lazily and would not look past the object).
  simdjson::dom::element whole;
  if (validator.parse(json).get(whole) != simdjson::SUCCESS) {
    error = "malformed JSON";
    return false;
  }
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (parser.iterate(json).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(object) != simdjson::SUCCESS) {
    error = "the message is not a JSON object";
    return false;
  }
  auto trim = [](std::string_view t) {
    while (!t.empty() && (t.back() == ' ' || t.back() == '\n' || t.back() == '\r' || t.back() == '\t'))
      t.remove_suffix(1);
    return t;
  };
  // A parameter's value as written: strings unescaped, numbers and booleans as their text.
  auto scalar = [&](simdjson::ondemand::value value, std::string& into) -> bool {
    simdjson::ondemand::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return false;
    switch (type) {
      case simdjson::ondemand::json_type::string: {
        std::string_view s;
        if (value.get_string().get(s) != simdjson::SUCCESS) return false;
        into = std::string(s);
        return true;
      }
      case simdjson::ondemand::json_type::number: {
        into = std::string(trim(value.raw_json_token()));
        return true;
      }
      case simdjson::ondemand::json_type::boolean: {
        bool b = false;
        if (value.get_bool().get(b) != simdjson::SUCCESS) return false;
        into = b ? "true" : "false";
        return true;
      }
      default:
        return false;
    }
  };
  for (auto field : object) {
    std::string_view name;
    if (field.unescaped_key().get(name) != simdjson::SUCCESS) {
      error = "malformed JSON";
      return false;
    }
    simdjson::ondemand::value value;
    if (field.value().get(value) != simdjson::SUCCESS) {
      error = "malformed JSON";
      return false;
    }
    if (name == "id") {
      simdjson::ondemand::json_type type;
      if (value.type().get(type) != simdjson::SUCCESS) {
        error = "malformed JSON";
        return false;
      }
      if (type == simdjson::ondemand::json_type::string) {
        std::string_view s;
        if (value.get_string().get(s) != simdjson::SUCCESS) {
          error = "malformed JSON";
          return false;
        }
        out.id = "\"";
        escape_into(out.id, s);
        out.id += '"';
      } else if (type == simdjson::ondemand::json_type::number) {
        std::int64_t n = 0;
        if (value.get_int64().get(n) != simdjson::SUCCESS) {
          error = "the request id must be an integer or a string";
          return false;
        }
        out.id = std::to_string(n);
      } else if (type == simdjson::ondemand::json_type::null) {
        out.id = "null";
      } else {
        error = "the request id must be an integer or a string";
        return false;
      }
    } else if (name == "method") {
      std::string_view s;
      if (value.get_string().get(s) != simdjson::SUCCESS) {
        error = "the method must be a string";
        return false;
      }
      out.method = std::string(s);
    } else if (name == "params") {
      simdjson::ondemand::json_type type;
      if (value.type().get(type) != simdjson::SUCCESS) {
        error = "malformed JSON";
        return false;
      }
      if (type == simdjson::ondemand::json_type::array) {
        out.params_is_array = true;
        simdjson::ondemand::array array;
        if (value.get_array().get(array) != simdjson::SUCCESS) {
          error = "malformed JSON";
          return false;
        }
        for (auto element : array) {
          std::string_view s;
          if (element.get_string().get(s) != simdjson::SUCCESS) {
            error = "every stream must be a string";
            return false;
          }
          out.streams.emplace_back(s);
        }
      } else if (type == simdjson::ondemand::json_type::object) {
        simdjson::ondemand::object params;
        if (value.get_object().get(params) != simdjson::SUCCESS) {
          error = "malformed JSON";
          return false;
        }
        for (auto p : params) {
          std::string_view k;
          simdjson::ondemand::value v;
          if (p.unescaped_key().get(k) != simdjson::SUCCESS || p.value().get(v) != simdjson::SUCCESS) {
            error = "malformed JSON";
            return false;
          }
          std::string text_value;
          if (!scalar(v, text_value)) {
            error = "parameter '" + std::string(k) + "' must be a string, a number or a boolean";
            return false;
          }
          out.params.emplace_back(std::string(k), std::move(text_value));
          if (out.params.size() > static_cast<std::size_t>(kMaxParams)) {
            error = "too many parameters";
            return false;
          }
        }
      } else {
        error = "params must be an object";
        return false;
      }
    } else {
      error = "unknown property '" + std::string(name) + "'";
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// The venue's records

enum class BinanceVenue::Call : std::uint8_t {
  Ping,
  Time,
  ExchangeInfo,
  Depth,
  Trades,
  BookTicker,
  Place,
  Cancel,
  Status,
  CancelReplace,
  OpenOrders,
  CancelAll,
  Account,
  MyTrades,
  UserSubscribe,
  UserUnsubscribe,
  // Futures' own
  Modify,
  ListenKeyNew,
  ListenKeyKeep,
  ListenKeyClose,
  Positions,
  Balance,
  LeverageBracket,
};

namespace {
struct Route {
  const char* method;  // REST method; nullptr: WebSocket API only
  const char* path;
  const char* ws;  // WebSocket API method; nullptr: REST only
  BinanceVenue::Call call;
};
}  // namespace

struct BinanceVenue::Order {
  std::uint64_t id = 0;
  std::size_t market = 0;
  std::string client_id;
  std::string cancel_client_id;  // the cancel request's own id, once one is sent
  std::uint64_t previous_with_id =
      0;  // the order its client id named before it (closed), found again if refused
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  TimeInForce tif = TimeInForce::GoodTillCancel;
  Price price = Price::unset();
  Qty qty, executed;
  Notional quote;
  OrderStatus status = OrderStatus::PendingNew;
  std::int64_t time_ms = 0, update_ms = 0, transact_ms = 0;
  bool open = true;
  bool acked = false;
  bool reduce_only = false;
  Amount cum_value;  // futures: what was executed in the margin asset's terms on COIN-M (cumBase)
  std::vector<std::size_t> trades;  // indices into trades_
};

struct BinanceVenue::Trade {
  std::uint64_t id = 0;
  std::uint64_t order_id = 0;
  std::size_t market = 0;
  Price price;
  Qty qty;
  Amount quote;
  Qty commission;
  std::string commission_asset;
  std::int64_t time_ms = 0;
  bool buyer = false;
  bool maker = false;
  Amount realized_pnl;  // futures: what this fill closed of the position realized
  std::string event;    // its executionReport, sent again when the simulator repeats the fill's report
};

struct BinanceVenue::OrderSpec {
  std::size_t market = 0;
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  TimeInForce tif = TimeInForce::GoodTillCancel;
  Price price = Price::unset();
  Qty qty;
  std::string client_id;
  std::string resp_type;
  bool reduce_only = false;
};

struct BinanceVenue::Group {
  bool replace = false;
  Origin origin;
  // openOrders cancelAll: the cancels still waited for, and the answers so far.
  int waiting = 0;
  std::vector<std::string> results;
  // cancelReplace
  bool allow_failure = false;
  OrderSpec spec;
  bool cancel_ok = false, new_ok = false, new_tried = false;
  std::string cancel_json, new_json;
};

BinanceVenue::BinanceVenue(sim::Simulator& sim, VenueOptions options, VenueOutput& out)
    : sim_(sim),
      options_(std::move(options)),
      out_(out),
      venue_config_(sim.venue(options_.venue).config()),
      limiter_(options_.limits) {
  const sim::SimVenue& venue = sim_.venue(options_.venue);
  if (venue_config_.market == "usdm" || venue_config_.market == "coinm") {
    futures_ = true;
    rest_prefix_ = venue_config_.market == "usdm" ? "/fapi/v1" : "/dapi/v1";
  }
  for (std::size_t m = 0; m < venue.market_count(); ++m) {
    Market market;
    market.symbol = venue.market(m).listing().symbol;
    market.stream_prefix = stream_symbol(market.symbol) + '@';
    for (int k = 0; k < kStreamKinds; ++k) market.stream_names[k] = market.stream_prefix + kStreamSuffix[k];
    for (const Instrument& instrument : options_.instruments)
      if (instrument.id == venue.market(m).listing().instrument) {
        market.base = instrument.base;
        market.quote = instrument.quote;
      }
    markets_.push_back(std::move(market));
  }
}

BinanceVenue::~BinanceVenue() = default;

std::int64_t BinanceVenue::wall_ms(TimestampNs replay_ns) const {
  return options_.wall_at(replay_ns) / kNanosPerMilli;
}

int BinanceVenue::market_of(std::string_view symbol) const {
  for (std::size_t m = 0; m < markets_.size(); ++m)
    if (markets_[m].symbol == symbol) return static_cast<int>(m);
  return -1;
}

std::string BinanceVenue::new_client_id() {
  // Binance makes a random id when none is sent; ours is a counter, so a seed replays to the same bytes.
  std::string id = "tranche-";
  const std::string n = std::to_string(++next_client_id_);
  id.append(n.size() < 8 ? 8 - n.size() : 0, '0');
  id += n;
  return id;
}

// ---------------------------------------------------------------------------------------------------------
// Answers

std::string BinanceVenue::rate_limits_json(const std::string& ip, TimestampNs wall_ns) const {
  if (futures_) return "[]";  // futures' REST carries its counts in headers only
  const VenueLimits& limits = limiter_.limits();
  std::string o = "[{";
  rate_limit(o, "REQUEST_WEIGHT", "MINUTE", 1, limits.request_weight_per_minute);
  num(o, "count", limiter_.used_weight(ip, wall_ns));
  o += "},{";
  if (limits.orders_per_second > 0) {
    rate_limit(o, "ORDERS", "SECOND", 1, limits.orders_per_second);
    num(o, "count", limiter_.orders_1s(wall_ns));
    o += "},{";
  }
  rate_limit(o, "ORDERS", "SECOND", 10, limits.orders_per_10s);
  num(o, "count", limiter_.orders_10s(wall_ns));
  o += "},{";
  rate_limit(o, "ORDERS", "DAY", 1, limits.orders_per_day);
  num(o, "count", limiter_.orders_1d(wall_ns));
  o += "}]";
  return o;
}

void BinanceVenue::add_limit_headers(HttpResponse& response, const std::string& ip, bool orders,
                                     TimestampNs wall_ns) {
  response.headers.emplace_back("X-MBX-USED-WEIGHT-1M", std::to_string(limiter_.used_weight(ip, wall_ns)));
  if (orders && futures_) {
    // Futures: ORDERS per MINUTE, and on USD-M per 10 SECOND too.
    if (limiter_.limits().orders_per_10s > 0)
      response.headers.emplace_back("X-MBX-ORDER-COUNT-10S", std::to_string(limiter_.orders_10s(wall_ns)));
    response.headers.emplace_back("X-MBX-ORDER-COUNT-1M", std::to_string(limiter_.orders_1m(wall_ns)));
  } else if (orders) {
    response.headers.emplace_back("X-MBX-ORDER-COUNT-10S", std::to_string(limiter_.orders_10s(wall_ns)));
    response.headers.emplace_back("X-MBX-ORDER-COUNT-1D", std::to_string(limiter_.orders_1d(wall_ns)));
  }
}

void BinanceVenue::reply(const Origin& origin, std::string result, int http_status) {
  if (!origin.ws && origin.id == 0) return;  // already answered (an outage told it 503)
  if (origin.ws) {
    if (!conns_.count(origin.id)) return;  // the connection closed meanwhile
    std::string o = "{";
    raw(o, "id", origin.request_id);
    num(o, "status", http_status);
    raw(o, "result", result);
    raw(o, "rateLimits", rate_limits_json(origin.ip, wall_now_ns_));
    o += '}';
    out_.send(origin.id, std::move(o));
    return;
  }
  HttpResponse response;
  response.status = http_status;
  response.body = std::move(result);
  add_limit_headers(response, origin.ip, origin.orders, wall_now_ns_);
  out_.respond(origin.id, std::move(response));
}

void BinanceVenue::fail(const Origin& origin, int http_status, int code, std::string_view msg,
                        std::string_view data) {
  if (!origin.ws && origin.id == 0) return;
  if (options_.log)
    options_.log(std::string(origin.ws ? "ws-api" : "rest") + (origin.call.empty() ? "" : " " + origin.call) +
                 " " + std::to_string(http_status) + " " + std::to_string(code) + " " + std::string(msg));
  std::string body = "{";
  num(body, "code", code);
  str(body, "msg", msg);
  if (!data.empty()) raw(body, "data", data);
  body += '}';
  if (origin.ws) {
    if (!conns_.count(origin.id)) return;
    std::string o = "{";
    raw(o, "id", origin.request_id);
    num(o, "status", http_status);
    raw(o, "error", body);
    raw(o, "rateLimits", rate_limits_json(origin.ip, wall_now_ns_));
    o += '}';
    out_.send(origin.id, std::move(o));
    return;
  }
  HttpResponse response;
  response.status = http_status;
  response.body = std::move(body);
  add_limit_headers(response, origin.ip, origin.orders, wall_now_ns_);
  out_.respond(origin.id, std::move(response));
}

// ---------------------------------------------------------------------------------------------------------
// Requests in

namespace {
// Weights as Binance spot publishes them (REST and WebSocket API alike).
int weight_of(BinanceVenue::Call call, const Params& params) {
  using C = BinanceVenue::Call;
  switch (call) {
    case C::Ping:
    case C::Time:
      return 1;
    case C::ExchangeInfo:
      return 20;
    case C::Depth: {
      std::int64_t limit = 100;
      if (const std::string* l = get(params, "limit")) (void)parse_int(*l, limit);
      return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
    }
    case C::Trades:
      return 25;
    case C::BookTicker:
      return get(params, "symbol") ? 2 : 4;
    case C::Place:
    case C::Cancel:
    case C::CancelReplace:
    case C::CancelAll:
      return 1;
    case C::Status:
      return 4;
    case C::OpenOrders:
      return get(params, "symbol") ? 6 : 80;
    case C::Account:
    case C::MyTrades:
      return 20;
    case C::UserSubscribe:
    case C::UserUnsubscribe:
      return 2;
    default:
      return 1;
  }
}

// Weights as Binance futures publish them (USD-M's; COIN-M's differ little).
int futures_weight_of(BinanceVenue::Call call, const Params& params) {
  using C = BinanceVenue::Call;
  switch (call) {
    case C::Depth: {
      std::int64_t limit = 500;
      if (const std::string* l = get(params, "limit")) (void)parse_int(*l, limit);
      return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
    }
    case C::OpenOrders:
      return get(params, "symbol") ? 1 : 40;
    case C::MyTrades:
    case C::Positions:
    case C::Balance:
    case C::Account:
      return 5;
    default:
      return 1;
  }
}

bool is_signed(BinanceVenue::Call call) {
  using C = BinanceVenue::Call;
  switch (call) {
    case C::Ping:
    case C::Time:
    case C::ExchangeInfo:
    case C::Depth:
    case C::Trades:
    case C::BookTicker:
    case C::UserUnsubscribe:
    case C::ListenKeyNew:  // the listen key calls take the API key, unsigned
    case C::ListenKeyKeep:
    case C::ListenKeyClose:
      return false;
    default:
      return true;
  }
}

// Binance futures' REST paths, after "/fapi" or "/dapi"; `market` 'u' for USD-M only, 'c' COIN-M only.
struct FuturesRoute {
  const char* method;
  const char* path;
  char market;
  BinanceVenue::Call call;
};
const FuturesRoute kFuturesRoutes[] = {
    {"GET", "/v1/ping", 0, BinanceVenue::Call::Ping},
    {"GET", "/v1/time", 0, BinanceVenue::Call::Time},
    {"GET", "/v1/exchangeInfo", 0, BinanceVenue::Call::ExchangeInfo},
    {"GET", "/v1/depth", 0, BinanceVenue::Call::Depth},
    {"POST", "/v1/order", 0, BinanceVenue::Call::Place},
    {"PUT", "/v1/order", 0, BinanceVenue::Call::Modify},
    {"DELETE", "/v1/order", 0, BinanceVenue::Call::Cancel},
    {"GET", "/v1/order", 0, BinanceVenue::Call::Status},
    {"GET", "/v1/openOrders", 0, BinanceVenue::Call::OpenOrders},
    {"DELETE", "/v1/allOpenOrders", 0, BinanceVenue::Call::CancelAll},
    {"GET", "/v1/userTrades", 0, BinanceVenue::Call::MyTrades},
    {"POST", "/v1/listenKey", 0, BinanceVenue::Call::ListenKeyNew},
    {"PUT", "/v1/listenKey", 0, BinanceVenue::Call::ListenKeyKeep},
    {"DELETE", "/v1/listenKey", 0, BinanceVenue::Call::ListenKeyClose},
    {"GET", "/v2/positionRisk", 'u', BinanceVenue::Call::Positions},
    {"GET", "/v3/positionRisk", 'u', BinanceVenue::Call::Positions},
    {"GET", "/v2/balance", 'u', BinanceVenue::Call::Balance},
    {"GET", "/v3/balance", 'u', BinanceVenue::Call::Balance},
    {"GET", "/v2/account", 'u', BinanceVenue::Call::Account},
    {"GET", "/v3/account", 'u', BinanceVenue::Call::Account},
    {"GET", "/v1/leverageBracket", 'u', BinanceVenue::Call::LeverageBracket},
    {"GET", "/v1/positionRisk", 'c', BinanceVenue::Call::Positions},
    {"GET", "/v1/balance", 'c', BinanceVenue::Call::Balance},
    {"GET", "/v1/account", 'c', BinanceVenue::Call::Account},
    {"GET", "/v2/leverageBracket", 'c', BinanceVenue::Call::LeverageBracket},
};

const Route kRoutes[] = {
    {"GET", "/api/v3/ping", "ping", BinanceVenue::Call::Ping},
    {"GET", "/api/v3/time", "time", BinanceVenue::Call::Time},
    {"GET", "/api/v3/exchangeInfo", "exchangeInfo", BinanceVenue::Call::ExchangeInfo},
    {"GET", "/api/v3/depth", "depth", BinanceVenue::Call::Depth},
    {"GET", "/api/v3/trades", "trades.recent", BinanceVenue::Call::Trades},
    {"GET", "/api/v3/ticker/bookTicker", "ticker.book", BinanceVenue::Call::BookTicker},
    {"POST", "/api/v3/order", "order.place", BinanceVenue::Call::Place},
    {"DELETE", "/api/v3/order", "order.cancel", BinanceVenue::Call::Cancel},
    {"GET", "/api/v3/order", "order.status", BinanceVenue::Call::Status},
    {"POST", "/api/v3/order/cancelReplace", "order.cancelReplace", BinanceVenue::Call::CancelReplace},
    {"GET", "/api/v3/openOrders", "openOrders.status", BinanceVenue::Call::OpenOrders},
    {"DELETE", "/api/v3/openOrders", "openOrders.cancelAll", BinanceVenue::Call::CancelAll},
    {"GET", "/api/v3/account", "account.status", BinanceVenue::Call::Account},
    {"GET", "/api/v3/myTrades", "myTrades", BinanceVenue::Call::MyTrades},
    {nullptr, nullptr, "userDataStream.subscribe.signature", BinanceVenue::Call::UserSubscribe},
    {nullptr, nullptr, "userDataStream.unsubscribe", BinanceVenue::Call::UserUnsubscribe},
};

bool places_orders(BinanceVenue::Call call) {
  return call == BinanceVenue::Call::Place || call == BinanceVenue::Call::CancelReplace ||
         call == BinanceVenue::Call::Modify;
}
}  // namespace

void BinanceVenue::on_http(std::uint64_t token, const HttpRequest& request, TimestampNs wall_ns) {
  wall_now_ns_ = wall_ns;
  if (request.path.substr(0, 17) == "/tranche/control/" && options_.control && loopback(request.ip))
    return control(request, token, wall_ns);
  Origin origin;
  origin.id = token;
  origin.ip = std::string(request.ip);
  origin.call = std::string(request.method) + " " + std::string(request.path);
  if (down(wall_ns)) return fail(origin, 503, kDisconnected, kDisconnectedMsg);
  std::optional<Call> call;
  if (futures_) {
    // A futures venue answers under its own prefix ("/fapi" or "/dapi", then the version).
    const std::string_view root = std::string_view(rest_prefix_).substr(0, 5);
    if (request.path.substr(0, root.size()) == root) {
      const std::string_view rest = request.path.substr(root.size());
      const char market = inverse() ? 'c' : 'u';
      for (const FuturesRoute& r : kFuturesRoutes)
        if ((r.market == 0 || r.market == market) && rest == r.path && request.method == r.method)
          call = r.call;
    }
  } else {
    for (const Route& r : kRoutes)
      if (r.method != nullptr && request.path == r.path && request.method == r.method) call = r.call;
  }
  if (!call) {
    // What api.binance.com's front end answers for a path it does not serve: 404 and no JSON.
    HttpResponse response;
    response.status = 404;
    response.content_type = "text/html";
    response.body = "<html><body><h2>404 Not found</h2></body></html>";
    out_.respond(token, std::move(response));
    return;
  }
  origin.orders = places_orders(*call);
  // Parameters: the query string, then the body's; one sent in both is the query string's.
  auto query = parse_query(request.query);
  std::optional<Params> body = request.body.empty() ? Params{} : parse_query(request.body);
  if (!query || !body) return fail(origin, 400, kIllegalChars, "Illegal characters found in a parameter.");
  Params params = std::move(*query);
  for (auto& [k, v] : *body)
    if (get(params, k) == nullptr) params.emplace_back(std::move(k), std::move(v));
  if (params.size() > static_cast<std::size_t>(kMaxParams))
    return fail(origin, 400, kTooManyParameters, "Too many parameters sent for this endpoint.");
  for (std::size_t i = 0; i < params.size(); ++i)
    for (std::size_t j = i + 1; j < params.size(); ++j)
      if (params[i].first == params[j].first)
        return fail(origin, 400, kTooManyParameters, "Duplicate values for a parameter detected.");

  const int weight = futures_ ? futures_weight_of(*call, params) : weight_of(*call, params);
  const auto limited = limiter_.admit(origin.ip, weight, origin.orders ? 1 : 0, wall_ns);
  if (limited.verdict != RateLimiter::Verdict::Admitted) {
    HttpResponse response;
    response.status = limited.http_status;
    response.body = error_json(limited.code, limited.msg);
    response.headers.emplace_back("Retry-After", std::to_string(limited.retry_after_s));
    add_limit_headers(response, origin.ip, origin.orders, wall_ns);
    out_.respond(token, std::move(response));
    return;
  }
  if (*call == Call::ListenKeyNew || *call == Call::ListenKeyKeep || *call == Call::ListenKeyClose)
    return listen_key(*call, params, request.api_key, origin);
  if (is_signed(*call)) {
    // REST signs the query string and the body as sent, query first ("totalParams").
    std::string payload, signature;
    strip_signature(request.query, payload, signature);
    std::string body_payload;
    strip_signature(request.body, body_payload, signature);
    payload += body_payload;
    if (!authorize(params, request.api_key, payload, signature, origin, wall_ns)) return;
  }
  dispatch(*call, params, origin, wall_ns);
}

bool BinanceVenue::authorize(const Params& params, std::string_view api_key, std::string_view payload,
                             std::string_view signature, const Origin& origin, TimestampNs wall_ns) {
  if (api_key.empty()) {
    fail(origin, 401, kBadApiKeyFormat, "API-key format invalid.");
    return false;
  }
  if (!options_.key || api_key != options_.key->key) {
    fail(origin, 401, kRejectedApiKey, "Invalid API-key, IP, or permissions for action.");
    return false;
  }
  const std::string* timestamp = get(params, "timestamp");
  std::int64_t ts_ms = 0;
  if (timestamp == nullptr || !parse_int(*timestamp, ts_ms)) {
    fail(origin, 400, kMandatoryParamEmptyOrMalformed, mandatory("timestamp"));
    return false;
  }
  if (signature.empty()) {
    fail(origin, 400, kMandatoryParamEmptyOrMalformed, mandatory("signature"));
    return false;
  }
  std::int64_t recv_window_ms = 5000;
  if (const std::string* w = get(params, "recvWindow")) {
    if (!parse_int(*w, recv_window_ms) || recv_window_ms <= 0) {
      fail(origin, 400, kMandatoryParamEmptyOrMalformed, mandatory("recvWindow"));
      return false;
    }
    if (recv_window_ms > kMaxRecvWindowMs) {
      fail(origin, 400, -1131, "recvWindow must be less than 60000.");
      return false;
    }
  }
  // Constant time over the whole of what was sent: a mismatch is never told apart by where it starts.
  const std::string expected = hmac_sha256_hex(options_.key->secret, payload);
  unsigned diff = expected.size() == signature.size() ? 0u : 1u;
  for (std::size_t i = 0; i < std::min(expected.size(), signature.size()); ++i)
    diff |= static_cast<unsigned>(
        static_cast<unsigned char>(expected[i]) ^
        static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(signature[i]))));
  if (diff != 0) {
    fail(origin, 400, kInvalidSignature, "Signature for this request is not valid.");
    return false;
  }
  const std::int64_t server_ms = wall_ns / kNanosPerMilli;
  if (ts_ms > server_ms + 1000) {
    fail(origin, 400, kInvalidTimestamp, "Timestamp for this request was 1000ms ahead of the server's time.");
    return false;
  }
  if (server_ms - ts_ms > recv_window_ms) {
    fail(origin, 400, kInvalidTimestamp, "Timestamp for this request is outside of the recvWindow.");
    return false;
  }
  return true;
}

void BinanceVenue::dispatch(Call call, const Params& params, const Origin& origin, TimestampNs wall_ns) {
  switch (call) {
    case Call::Ping:
      return reply(origin, "{}");
    case Call::Time: {
      std::string o = "{";
      num(o, "serverTime", wall_ns / kNanosPerMilli);
      o += '}';
      return reply(origin, std::move(o));
    }
    case Call::ExchangeInfo:
      return exchange_info(params, origin);
    case Call::Depth:
      return depth(params, origin);
    case Call::Trades:
      return trades(params, origin);
    case Call::BookTicker:
      return book_ticker(params, origin);
    case Call::Place: {
      OrderSpec spec;
      if (!(futures_ ? parse_futures_order(params, spec, origin) : parse_order(params, spec, origin))) return;
      int code = 0;
      std::string msg;
      if (!place(spec, origin, 0, code, msg)) fail(origin, 400, code, msg);
      return;
    }
    case Call::Cancel:
      return cancel(params, origin);
    case Call::Status:
      return order_status(params, origin);
    case Call::CancelReplace:
      return cancel_replace(params, origin);
    case Call::OpenOrders:
      return open_orders(params, origin);
    case Call::CancelAll:
      return cancel_all(params, origin);
    case Call::Account:
      return futures_ ? futures_account(origin) : account(params, origin);
    case Call::MyTrades:
      return my_trades(params, origin);
    case Call::Modify:
      return modify(params, origin);
    case Call::Positions:
      return positions(params, origin);
    case Call::Balance:
      return futures_balance(origin);
    case Call::LeverageBracket:
      return leverage_bracket(params, origin);
    case Call::ListenKeyNew:
    case Call::ListenKeyKeep:
    case Call::ListenKeyClose:
      return;  // answered in on_http, with the API key
    case Call::UserSubscribe:
      return subscribe_user(origin);
    case Call::UserUnsubscribe: {
      auto it = conns_.find(origin.id);
      if (it != conns_.end()) it->second.user_subscription = -1;
      return reply(origin, "{}");
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Market data calls

namespace {
// A lot filter (LOT_SIZE, MARKET_LOT_SIZE) of a listing, its fields without the braces.
void lot_filter(std::string& o, const VenueListing& listing, const char* type) {
  str(o, "filterType", type);
  str(o, "minQty", dec(listing.lot_size));
  str(o, "maxQty", dec(kMaxQty));
  str(o, "stepSize", dec(listing.lot_size));
}

// PRICE_FILTER, then the lot filter: what spot and futures list alike.
void price_and_lot_filters(std::string& o, const VenueListing& listing, const char* lot_type) {
  str(o, "filterType", "PRICE_FILTER");
  str(o, "minPrice", dec(listing.tick_size));
  str(o, "maxPrice", dec(kMaxPrice));
  str(o, "tickSize", dec(listing.tick_size));
  o += "},{";
  lot_filter(o, listing, lot_type);
}
}  // namespace

void BinanceVenue::exchange_info(const Params& params, const Origin& origin) {
  std::vector<std::size_t> wanted;
  if (const std::string* s = get(params, "symbol")) {
    const int m = market_of(*s);
    if (m < 0) return fail(origin, 400, kBadSymbol, "Invalid symbol.");
    wanted.push_back(static_cast<std::size_t>(m));
  } else if (const std::string* list = get(params, "symbols")) {
    // ["ETHUSDT","BTCUSDT"]
    std::string_view t = *list;
    if (t.size() < 2 || t.front() != '[' || t.back() != ']')
      return fail(origin, 400, kIllegalChars, "Illegal characters found in parameter 'symbols'.");
    t = t.substr(1, t.size() - 2);
    while (!t.empty()) {
      const std::size_t comma_at = t.find(',');
      std::string_view item = t.substr(0, comma_at);
      t = comma_at == std::string_view::npos ? std::string_view{} : t.substr(comma_at + 1);
      if (item.size() < 2 || item.front() != '"' || item.back() != '"')
        return fail(origin, 400, kIllegalChars, "Illegal characters found in parameter 'symbols'.");
      const int m = market_of(item.substr(1, item.size() - 2));
      if (m < 0) return fail(origin, 400, kBadSymbol, "Invalid symbol.");
      wanted.push_back(static_cast<std::size_t>(m));
    }
  } else {
    for (std::size_t m = 0; m < markets_.size(); ++m) wanted.push_back(m);
  }
  const sim::SimVenue& venue = sim_.venue(options_.venue);
  const char* status = venue.state() == VenueState::Open     ? "TRADING"
                       : venue.state() == VenueState::Halted ? "HALT"
                                                             : "BREAK";
  std::string o = "{";
  str(o, "timezone", "UTC");
  num(o, "serverTime", wall_now_ns_ / kNanosPerMilli);
  if (futures_) str(o, "futuresType", venue_config_.market == "usdm" ? "U_MARGINED" : "COIN_MARGINED");
  key(o, "rateLimits");
  o += "[{";
  const VenueLimits& limits = limiter_.limits();
  rate_limit(o, "REQUEST_WEIGHT", "MINUTE", 1, limits.request_weight_per_minute);
  o += "},{";
  if (futures_) {
    // Futures publish REQUEST_WEIGHT and ORDERS per MINUTE, and USD-M ORDERS per 10 SECOND.
    rate_limit(o, "ORDERS", "MINUTE", 1, limits.orders_per_minute);
    if (limits.orders_per_10s > 0) {
      o += "},{";
      rate_limit(o, "ORDERS", "SECOND", 10, limits.orders_per_10s);
    }
  } else {
    if (limits.orders_per_second > 0) {
      rate_limit(o, "ORDERS", "SECOND", 1, limits.orders_per_second);
      o += "},{";
    }
    rate_limit(o, "ORDERS", "SECOND", 10, limits.orders_per_10s);
    o += "},{";
    rate_limit(o, "ORDERS", "DAY", 1, limits.orders_per_day);
    o += "},{";
    rate_limit(o, "RAW_REQUESTS", "MINUTE", 5, limits.raw_requests_per_5m);
  }
  o += "}]";
  raw(o, "exchangeFilters", "[]");
  key(o, "symbols");
  o += '[';
  for (const std::size_t m : wanted) {
    const VenueListing& listing = venue.market(m).listing();
    const Market& market = markets_[m];
    comma(o);
    if (futures_) {
      futures_symbol_json(o, listing, market, status);
      continue;
    }
    o += '{';
    str(o, "symbol", market.symbol);
    str(o, "status", status);
    str(o, "baseAsset", market.base);
    num(o, "baseAssetPrecision", 8);
    str(o, "quoteAsset", market.quote);
    num(o, "quotePrecision", 8);
    num(o, "quoteAssetPrecision", 8);
    num(o, "baseCommissionPrecision", 8);
    num(o, "quoteCommissionPrecision", 8);
    raw(o, "orderTypes", "[\"LIMIT\",\"LIMIT_MAKER\",\"MARKET\"]");
    boolean(o, "icebergAllowed", false);
    boolean(o, "ocoAllowed", false);
    boolean(o, "otoAllowed", false);
    boolean(o, "quoteOrderQtyMarketAllowed", false);
    boolean(o, "allowTrailingStop", false);
    boolean(o, "cancelReplaceAllowed", true);
    boolean(o, "amendAllowed", false);
    boolean(o, "isSpotTradingAllowed", true);
    boolean(o, "isMarginTradingAllowed", false);
    key(o, "filters");
    o += "[{";
    price_and_lot_filters(o, listing, "LOT_SIZE");
    o += "},{";
    str(o, "filterType", "NOTIONAL");
    str(o, "minNotional", dec(listing.min_notional));
    boolean(o, "applyMinToMarket", true);
    str(o, "maxNotional", dec(kMaxNotional));
    boolean(o, "applyMaxToMarket", false);
    num(o, "avgPriceMins", 0);
    o += "}]";
    raw(o, "permissions", "[]");
    raw(o, "permissionSets", "[[\"SPOT\"]]");
    str(o, "defaultSelfTradePreventionMode", "NONE");
    raw(o, "allowedSelfTradePreventionModes", "[\"NONE\"]");
    o += '}';
  }
  o += "]}";
  reply(origin, std::move(o));
}

// A perpetual as Binance futures' exchangeInfo lists it: USD-M's linear contracts (base / quote, margined in
// the quote), COIN-M's inverse ones (base / USD, margined in the base, whole contracts of contractSize USD).
void BinanceVenue::futures_symbol_json(std::string& o, const VenueListing& listing, const Market& market,
                                       const char* status) const {
  const bool inverse = venue_config_.market == "coinm";
  const std::string quote = inverse ? "USD" : market.quote;
  o += '{';
  str(o, "symbol", market.symbol);
  str(o, "pair", market.base + quote);
  str(o, "contractType", "PERPETUAL");
  num(o, "deliveryDate", 4133404800000);  // Binance's date for a perpetual: 2100-12-25
  num(o, "onboardDate", 1569398400000);
  str(o, inverse ? "contractStatus" : "status", status);
  str(o, "baseAsset", market.base);
  str(o, "quoteAsset", quote);
  str(o, "marginAsset", inverse ? market.base : market.quote);
  num(o, "pricePrecision", std::max(listing.tick_size.decimals(), 0));
  num(o, "quantityPrecision", std::max(listing.lot_size.decimals(), 0));
  num(o, "baseAssetPrecision", 8);
  num(o, "quotePrecision", 8);
  if (inverse) raw(o, "contractSize", listing.contract_size.to_string());
  str(o, "underlyingType", "COIN");
  key(o, "filters");
  o += "[{";
  price_and_lot_filters(o, listing, "LOT_SIZE");
  o += "},{";
  lot_filter(o, listing, "MARKET_LOT_SIZE");
  if (!inverse) {
    o += "},{";
    str(o, "filterType", "MIN_NOTIONAL");
    str(o, "notional", listing.min_notional.to_string());
  }
  o += "}]";
  raw(o, "orderTypes", "[\"LIMIT\",\"MARKET\"]");
  raw(o, "timeInForce", "[\"GTC\",\"IOC\",\"FOK\",\"GTX\"]");
  o += '}';
}

void BinanceVenue::publish_depth(std::size_t m) {
  const sim::SimMarket& market = sim_.venue(options_.venue).market(m);
  scratch_bids_.clear();
  scratch_asks_.clear();
  market.for_each_level(Side::Buy, [&](Price price, Qty qty) {
    scratch_bids_.push_back({price, qty});
    return scratch_bids_.size() < kMaxLevels;
  });
  market.for_each_level(Side::Sell, [&](Price price, Qty qty) {
    scratch_asks_.push_back({price, qty});
    return scratch_asks_.size() < kMaxLevels;
  });
  markets_[m].depth.publish(scratch_bids_, scratch_asks_);
}

namespace {
void levels_json(std::string& o, std::string_view k, const std::vector<md::Level>& levels,
                 std::size_t limit) {
  key(o, k);
  o += '[';
  for (std::size_t i = 0; i < levels.size() && i < limit; ++i) {
    if (i) o += ',';
    o += "[\"";
    o += levels[i].price.to_string(8);
    o += "\",\"";
    o += levels[i].qty.to_string(8);
    o += "\"]";
  }
  o += ']';
}
}  // namespace

void BinanceVenue::depth(const Params& params, const Origin& origin) {
  const std::string* symbol = get(params, "symbol");
  if (symbol == nullptr) return fail(origin, 400, kMandatoryParamEmptyOrMalformed, mandatory("symbol"));
  const int m = market_of(*symbol);
  if (m < 0) return fail(origin, 400, kBadSymbol, "Invalid symbol.");
  std::int64_t limit = 100;
  if (const std::string* l = get(params, "limit"); l && (!parse_int(*l, limit) || limit <= 0))
    return fail(origin, 400, kMandatoryParamEmptyOrMalformed, mandatory("limit"));
  limit = std::min<std::int64_t>(limit, static_cast<std::int64_t>(kMaxLevels));
  publish_depth(static_cast<std::size_t>(m));
  const DepthBook& book = markets_[static_cast<std::size_t>(m)].depth;
  std::string o = "{";
  num(o, "lastUpdateId", static_cast<std::int64_t>(book.last_update_id()));
  if (futures_) {
    num(o, "E", wall_ms(sim_.now()));
    num(o, "T", wall_ms(sim_.now()));
  }
  levels_json(o, "bids", book.bids(), static_cast<std::size_t>(limit));
  levels_json(o, "asks", book.asks(), static_cast<std::size_t>(limit));
  o += '}';
  reply(origin, std::move(o));
}

void BinanceVenue::trades(const Params& params, const Origin& origin) {
  const std::string* symbol = get(params, "symbol");
  if (symbol == nullptr) return fail(origin, 400, kMandatoryParamEmptyOrMalformed, mandatory("symbol"));
  const int m = market_of(*symbol);
  if (m < 0) return fail(origin, 400, kBadSymbol, "Invalid symbol.");
  std::int64_t limit = 500;
  if (const std::string* l = get(params, "limit"); l && (!parse_int(*l, limit) || limit <= 0))
    return fail(origin, 400, kMandatoryParamEmptyOrMalformed, mandatory("limit"));
  const auto& recent = markets_[static_cast<std::size_t>(m)].recent;
  const std::size_t n =
      std::min<std::size_t>(recent.size(), static_cast<std::size_t>(std::min<std::int64_t>(limit, 1000)));
  std::string o = "[";
  for (std::size_t i = recent.size() - n; i < recent.size(); ++i) {
    const PublicTrade& t = recent[i];
    comma(o);
    o += '{';
    num(o, "id", static_cast<std::int64_t>(t.id));
    str(o, "price", dec(t.price));
    str(o, "qty", dec(t.qty));
    str(o, "quoteQty", dec(quote_of(Notional::of(t.price, t.qty))));
    num(o, "time", t.time_ms);
    boolean(o, "isBuyerMaker", t.buyer_maker);
    boolean(o, "isBestMatch", true);
    o += '}';
  }
  o += ']';
  reply(origin, std::move(o));
}

void BinanceVenue::book_ticker(const Params& params, const Origin& origin) {
  auto one = [&](std::size_t m) {
    const sim::SimMarket& market = sim_.venue(options_.venue).market(m);
    std::string o = "{";
    str(o, "symbol", markets_[m].symbol);
    str(o, "bidPrice", dec(market.best(Side::Buy)));
    str(o, "bidQty", dec(market.best_qty(Side::Buy)));
    str(o, "askPrice", dec(market.best(Side::Sell)));
    str(o, "askQty", dec(market.best_qty(Side::Sell)));
    o += '}';
    return o;
  };
  if (const std::string* symbol = get(params, "symbol")) {
    const int m = market_of(*symbol);
    if (m < 0) return fail(origin, 400, kBadSymbol, "Invalid symbol.");
    return reply(origin, one(static_cast<std::size_t>(m)));
  }
  std::string o = "[";
  for (std::size_t m = 0; m < markets_.size(); ++m) {
    comma(o);
    o += one(m);
  }
  o += ']';
  reply(origin, std::move(o));
}

// ---------------------------------------------------------------------------------------------------------
// Orders

// The checks spot's and futures' orders share. Each answers its refusal itself and returns false (or -1).

// "symbol", which must be sent: its market.
int BinanceVenue::required_market(const Params& params, const Origin& origin) {
  const std::string* symbol = get(params, "symbol");
  if (symbol == nullptr || symbol->empty()) {
    fail(origin, 400, kMandatoryParamEmptyOrMalformed, mandatory("symbol"));
    return -1;
  }
  const int m = market_of(*symbol);
  if (m < 0) fail(origin, 400, kBadSymbol, "Invalid symbol.");
  return m;
}

// "symbol" when sent: its market in `market`; else -1 (all of them).
bool BinanceVenue::optional_market(const Params& params, const Origin& origin, int& market) {
  market = -1;
  const std::string* symbol = get(params, "symbol");
  if (symbol == nullptr) return true;
  market = market_of(*symbol);
  if (market < 0) fail(origin, 400, kBadSymbol, "Invalid symbol.");
  return market >= 0;
}

bool BinanceVenue::parse_side_param(const Params& params, const Origin& origin, Side& side) {
  const std::string* text = get(params, "side");
  if (text == nullptr || text->empty()) {
    fail(origin, 400, kMandatoryParamEmptyOrMalformed, mandatory("side"));
    return false;
  }
  const auto parsed = parse_side(*text);
  if (!parsed) {
    fail(origin, 400, kInvalidSide, "Invalid side.");
    return false;
  }
  side = *parsed;
  return true;
}

// "quantity", then "price" (refused on a market order): Binance's syntax, then our 8 places. What does not
// fit them is refused as too large: spot's filter failure, futures' "greater than max".
bool BinanceVenue::parse_qty_and_price(const Params& params, const Origin& origin, OrderSpec& spec) {
  auto bad = [&](int code, const std::string& msg) {
    fail(origin, 400, code, msg);
    return false;
  };
  auto decimal = [&](std::string_view name, const std::string* text, auto& out, int unfit_code,
                     const char* unfit_msg) {
    if (text == nullptr || text->empty()) return bad(kMandatoryParamEmptyOrMalformed, mandatory(name));
    if (!decimal_syntax(*text)) return bad(kIllegalChars, illegal_decimal(name));
    if (!std::remove_reference_t<decltype(out)>::parse(*text, out)) {
      const std::size_t dot = text->find('.');
      if (dot != std::string::npos && dot <= 11)
        return bad(kBadPrecision, "Parameter '" + std::string(name) + "' has too much precision.");
      return bad(unfit_code, unfit_msg);
    }
    return true;
  };
  if (!decimal("quantity", get(params, "quantity"), spec.qty, futures_ ? -4005 : kFilterFailure,
               futures_ ? "Quantity greater than max quantity." : "Filter failure: LOT_SIZE"))
    return false;
  const std::string* price = get(params, "price");
  if (spec.type == OrderType::Market) return price == nullptr || bad(-1106, not_required("price"));
  return decimal("price", price, spec.price, futures_ ? -4002 : kFilterFailure,
                 futures_ ? "Price greater than max price." : "Filter failure: PRICE_FILTER");
}

// "newClientOrderId" when sent, into `client_id`.
bool BinanceVenue::parse_client_id(const Params& params, const Origin& origin, std::string& client_id) {
  const std::string* id = get(params, "newClientOrderId");
  if (id == nullptr) return true;
  if (!valid_client_order_id(*id)) {
    fail(origin, 400, kIllegalChars, kIllegalClientId);
    return false;
  }
  client_id = *id;
  return true;
}

// "symbol" and "side", which every order names.
bool BinanceVenue::parse_market_and_side(const Params& params, const Origin& origin, OrderSpec& spec) {
  const int m = required_market(params, origin);
  if (m < 0) return false;
  spec.market = static_cast<std::size_t>(m);
  return parse_side_param(params, origin, spec.side);
}

bool BinanceVenue::parse_order(const Params& params, OrderSpec& spec, const Origin& origin) {
  auto bad = [&](int code, const std::string& msg) {
    fail(origin, 400, code, msg);
    return false;
  };
  if (!parse_market_and_side(params, origin, spec)) return false;
  const std::string* type = get(params, "type");
  if (type == nullptr || type->empty()) return bad(kMandatoryParamEmptyOrMalformed, mandatory("type"));
  if (*type != "LIMIT" && *type != "MARKET" && *type != "LIMIT_MAKER")
    return bad(kInvalidOrderType, "Invalid orderType.");
  const std::string* tif = get(params, "timeInForce");
  if (*type == "LIMIT" && tif == nullptr)
    return bad(kMandatoryParamEmptyOrMalformed, mandatory("timeInForce"));
  if (*type != "LIMIT" && tif != nullptr) return bad(-1106, not_required("timeInForce"));
  const auto kind = parse_order_kind(*type, tif ? std::string_view(*tif) : std::string_view{});
  if (!kind) return bad(kInvalidTimeInForce, "Invalid timeInForce.");
  spec.type = kind->type;
  spec.tif = kind->tif;
  const VenueListing& l = sim_.venue(options_.venue).market(spec.market).listing();
  // Quantity: Binance's syntax, then our 8 places, then LOT_SIZE.
  if (get(params, "quoteOrderQty") != nullptr) return bad(-1106, not_required("quoteOrderQty"));
  if (!parse_qty_and_price(params, origin, spec) || !parse_client_id(params, origin, spec.client_id))
    return false;
  if (const std::string* r = get(params, "newOrderRespType")) {
    if (*r != "ACK" && *r != "RESULT" && *r != "FULL")
      return bad(kMandatoryParamEmptyOrMalformed, mandatory("newOrderRespType"));
    spec.resp_type = *r;
  } else {
    spec.resp_type = spec.tif == TimeInForce::PostOnly ? "ACK" : "FULL";
  }
  // The symbol's filters, as exchangeInfo publishes them.
  if (!spec.qty.is_positive() || spec.qty.raw() % l.lot_size.raw() != 0 || spec.qty > kMaxQty)
    return bad(kFilterFailure, "Filter failure: LOT_SIZE");
  if (spec.type == OrderType::Limit) {
    if (!spec.price.is_positive() || spec.price.raw() % l.tick_size.raw() != 0 || spec.price > kMaxPrice)
      return bad(kFilterFailure, "Filter failure: PRICE_FILTER");
    const Amount notional = quote_of(Notional::of(spec.price, spec.qty));
    if (notional < l.min_notional) return bad(kFilterFailure, "Filter failure: NOTIONAL");
  }
  return true;
}

bool BinanceVenue::place(const OrderSpec& spec, const Origin& origin, std::uint64_t group, int& code,
                         std::string& msg) {
  std::string client_id = spec.client_id.empty() ? new_client_id() : spec.client_id;
  if (!client_ids_seen_.insert(client_id).second) ++client_ids_reused_;
  if (open_by_client_.count(client_id)) {
    code = futures_ ? -4116 : kNewOrderRejected;
    msg = futures_ ? "ClientOrderId is duplicated." : "Duplicate order sent.";
    return false;
  }
  const std::uint64_t id = ++next_order_id_;
  auto order = std::make_unique<Order>();
  Order& o = *order;
  o.id = id;
  o.market = spec.market;
  o.client_id = client_id;
  o.side = spec.side;
  o.type = spec.type;
  o.tif = spec.tif;
  o.price = spec.price;
  o.qty = spec.qty;
  o.reduce_only = spec.reduce_only;
  o.time_ms = wall_now_ns_ / kNanosPerMilli;
  o.update_ms = o.time_ms;
  orders_[id] = std::move(order);
  open_by_client_[client_id] = id;
  if (auto previous = last_by_client_.find(client_id); previous != last_by_client_.end())
    o.previous_with_id = previous->second;
  last_by_client_[client_id] = id;
  places_[id] = PlaceWait{origin, spec.resp_type, false, group, {}};
  const sim::SimVenue& venue = sim_.venue(options_.venue);
  NewOrder n;
  n.client_order_id = ClientOrderId(id);
  n.venue = venue.config().id;
  n.instrument = venue.market(spec.market).listing().instrument;
  n.side = spec.side;
  n.type = spec.type;
  n.time_in_force = spec.tif;
  n.price = spec.type == OrderType::Market ? Price::unset() : spec.price;
  n.qty = spec.qty;
  (void)sim_.send(options_.venue, n);  // refused: the simulator's Rejected report answers it
  return true;
}

BinanceVenue::Order* BinanceVenue::find_order(const Params& params, const Origin& origin, bool for_cancel) {
  const int m = required_market(params, origin);
  if (m < 0) return nullptr;
  const std::string* order_id = get(params, "orderId");
  const std::string* client_id = get(params, "origClientOrderId");
  if (order_id == nullptr && client_id == nullptr) {
    fail(origin, 400, kMandatoryParamEmptyOrMalformed,
         "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!");
    return nullptr;
  }
  Order* found = nullptr;
  if (order_id != nullptr) {
    std::int64_t id = 0;
    if (!parse_int(*order_id, id)) {
      fail(origin, 400, kMandatoryParamEmptyOrMalformed, mandatory("orderId"));
      return nullptr;
    }
    auto it = orders_.find(static_cast<std::uint64_t>(id));
    if (it != orders_.end()) found = it->second.get();
  } else {
    auto it = last_by_client_.find(*client_id);
    if (it != last_by_client_.end()) found = orders_.at(it->second).get();
  }
  if (found != nullptr && client_id != nullptr && found->client_id != *client_id) found = nullptr;
  if (found != nullptr && found->market != static_cast<std::size_t>(m)) found = nullptr;
  if (found == nullptr) {
    if (for_cancel)
      fail(origin, 400, kCancelRejected, "Unknown order sent.");
    else
      fail(origin, 400, kNoSuchOrder, "Order does not exist.");
  }
  return found;
}

void BinanceVenue::cancel(const Params& params, const Origin& origin) {
  Order* o = find_order(params, origin, true);
  if (o == nullptr) return;
  if (!o->open || cancels_.count(o->id)) return fail(origin, 400, kCancelRejected, "Unknown order sent.");
  std::string cancel_id;  // a valid one is never empty
  if (!parse_client_id(params, origin, cancel_id)) return;
  o->cancel_client_id = cancel_id.empty() ? new_client_id() : cancel_id;
  send_cancel(*o, origin, 0);
}

// The cancel of an open order goes to the simulator; its report answers `origin` (or `group`'s).
void BinanceVenue::send_cancel(const Order& order, const Origin& origin, std::uint64_t group) {
  cancels_[order.id] = CancelWait{origin, group};
  const sim::SimVenue& venue = sim_.venue(options_.venue);
  (void)sim_.cancel(options_.venue, CancelOrder{ClientOrderId(order.id), venue.config().id,
                                                venue.market(order.market).listing().instrument, 0});
}

void BinanceVenue::cancel_all(const Params& params, const Origin& origin) {
  const int m = required_market(params, origin);
  if (m < 0) return;
  std::vector<Order*> open;
  for (auto& [id, o] : orders_)
    if (o->open && o->acked && o->market == static_cast<std::size_t>(m) && !cancels_.count(id))
      open.push_back(o.get());
  // Futures answer that it is done even when nothing was open.
  if (open.empty() && futures_) return reply(origin, kCancelAllDone);
  if (open.empty()) return fail(origin, 400, kCancelRejected, "Unknown order sent.");
  const std::uint64_t g = ++next_group_;
  auto group = std::make_unique<Group>();
  group->origin = origin;
  group->waiting = static_cast<int>(open.size());
  groups_[g] = std::move(group);
  for (Order* o : open) {
    o->cancel_client_id = new_client_id();
    send_cancel(*o, origin, g);
  }
}

void BinanceVenue::cancel_replace(const Params& params, const Origin& origin) {
  const std::string* mode = get(params, "cancelReplaceMode");
  if (mode == nullptr || mode->empty())
    return fail(origin, 400, kMandatoryParamEmptyOrMalformed, mandatory("cancelReplaceMode"));
  if (*mode != "STOP_ON_FAILURE" && *mode != "ALLOW_FAILURE")
    return fail(origin, 400, kInvalidParameter, "Invalid data sent for a parameter.");
  OrderSpec spec;
  if (!parse_order(params, spec, origin)) return;
  // The order to cancel: cancelOrderId or cancelOrigClientOrderId.
  Params target;
  target.emplace_back("symbol", markets_[spec.market].symbol);
  if (const std::string* id = get(params, "cancelOrderId")) target.emplace_back("orderId", *id);
  if (const std::string* id = get(params, "cancelOrigClientOrderId"))
    target.emplace_back("origClientOrderId", *id);
  if (target.size() == 1)
    return fail(origin, 400, kMandatoryParamEmptyOrMalformed,
                "Param 'cancelOrigClientOrderId' or 'cancelOrderId' must be sent, but both were empty/null!");
  const std::uint64_t g = ++next_group_;
  auto group = std::make_unique<Group>();
  group->replace = true;
  group->origin = origin;
  group->allow_failure = *mode == "ALLOW_FAILURE";
  group->spec = spec;
  Group& gr = *group;
  groups_[g] = std::move(group);
  // Finding the order answers nobody: its failure is the cancel's part of this answer.
  Order* o = nullptr;
  if (const std::string* id = get(target, "orderId")) {
    std::int64_t n = 0;
    if (parse_int(*id, n))
      if (auto it = orders_.find(static_cast<std::uint64_t>(n)); it != orders_.end()) o = it->second.get();
  } else if (auto it = last_by_client_.find(*get(target, "origClientOrderId")); it != last_by_client_.end()) {
    o = orders_.at(it->second).get();
  }
  if (o == nullptr || !o->open || o->market != spec.market || cancels_.count(o->id)) {
    gr.cancel_ok = false;
    gr.cancel_json = error_json(kCancelRejected, "Unknown order sent.");
    return cancel_replace_step(g);
  }
  const std::string* cancel_id = get(params, "cancelNewClientOrderId");
  o->cancel_client_id =
      cancel_id != nullptr && valid_client_order_id(*cancel_id) ? *cancel_id : new_client_id();
  send_cancel(*o, origin, g);
}

// The cancel of a cancelReplace is decided: place the new order, or answer.
void BinanceVenue::cancel_replace_step(std::uint64_t g) {
  Group& gr = *groups_.at(g);
  if (!gr.new_tried && (gr.cancel_ok || gr.allow_failure)) {
    gr.new_tried = true;
    int code = 0;
    std::string msg;
    if (place(gr.spec, gr.origin, g, code, msg)) return;  // answered when the new order is decided
    gr.new_ok = false;
    gr.new_json = error_json(code, msg);
  }
  std::string data = "{";
  str(data, "cancelResult", gr.cancel_ok ? "SUCCESS" : "FAILURE");
  str(data, "newOrderResult", !gr.new_tried ? "NOT_ATTEMPTED" : gr.new_ok ? "SUCCESS" : "FAILURE");
  raw(data, "cancelResponse", gr.cancel_json);
  raw(data, "newOrderResponse", gr.new_tried ? gr.new_json : std::string("null"));
  data += '}';
  const Origin origin = gr.origin;
  const bool ok = gr.cancel_ok && gr.new_ok;
  const bool partly = gr.cancel_ok != gr.new_ok && gr.new_tried;
  groups_.erase(g);
  if (ok) return reply(origin, std::move(data));
  if (partly)
    return fail(origin, 409, kCancelReplacePartiallyFailed, "Order cancel-replace partially failed.", data);
  fail(origin, 400, kCancelReplaceFailed, "Order cancel-replace failed.", data);
}

void BinanceVenue::group_done(std::uint64_t g) {
  auto it = groups_.find(g);
  if (it == groups_.end()) return;
  Group& gr = *it->second;
  if (gr.replace) return cancel_replace_step(g);
  if (--gr.waiting > 0) return;
  if (futures_) {
    const Origin origin = gr.origin;
    groups_.erase(it);
    return reply(origin, kCancelAllDone);
  }
  std::string o = "[";
  for (const std::string& r : gr.results) {
    comma(o);
    o += r;
  }
  o += ']';
  const Origin origin = gr.origin;
  groups_.erase(it);
  reply(origin, std::move(o));
}

void BinanceVenue::order_status(const Params& params, const Origin& origin) {
  const Order* o = find_order(params, origin, false);
  if (o != nullptr) reply(origin, futures_ ? futures_order_json(*o) : order_json(*o));
}

void BinanceVenue::open_orders(const Params& params, const Origin& origin) {
  int m = -1;
  if (!optional_market(params, origin, m)) return;
  std::string o = "[";
  for (const auto& [id, order] : orders_)
    if (order->open && order->acked && (m < 0 || order->market == static_cast<std::size_t>(m))) {
      comma(o);
      o += futures_ ? futures_order_json(*order) : order_json(*order);
    }
  o += ']';
  reply(origin, std::move(o));
}

void BinanceVenue::account(const Params& params, const Origin& origin) {
  const bool omit_zero = get(params, "omitZeroBalances") && *get(params, "omitZeroBalances") == "true";
  const VenueFees& fees = venue_config_.fees;
  std::string o = "{";
  num(o, "makerCommission", fees.maker_bps.raw() / kFixedScale);
  num(o, "takerCommission", fees.taker_bps.raw() / kFixedScale);
  num(o, "buyerCommission", 0);
  num(o, "sellerCommission", 0);
  key(o, "commissionRates");
  o += '{';
  str(o, "maker", dec(Amount::from_raw(fees.maker_bps.raw() / 10'000)));
  str(o, "taker", dec(Amount::from_raw(fees.taker_bps.raw() / 10'000)));
  str(o, "buyer", "0.00000000");
  str(o, "seller", "0.00000000");
  o += '}';
  boolean(o, "canTrade", true);
  boolean(o, "canWithdraw", false);
  boolean(o, "canDeposit", false);
  boolean(o, "brokered", false);
  boolean(o, "requireSelfTradePrevention", false);
  boolean(o, "preventSor", false);
  num(o, "updateTime", wall_now_ns_ / kNanosPerMilli);
  str(o, "accountType", "SPOT");
  key(o, "balances");
  o += '[';
  for (const sim::AssetBalance& b : sim_.venue(options_.venue).balances()) {
    if (omit_zero && b.total.is_zero()) continue;
    comma(o);
    o += '{';
    str(o, "asset", b.asset);
    str(o, "free", dec(b.total - b.locked));
    str(o, "locked", dec(b.locked));
    o += '}';
  }
  o += ']';
  raw(o, "permissions", "[\"SPOT\"]");
  num(o, "uid", 1);
  o += '}';
  reply(origin, std::move(o));
}

void BinanceVenue::my_trades(const Params& params, const Origin& origin) {
  const int m = required_market(params, origin);
  if (m < 0) return;
  std::int64_t order_id = -1, from_id = -1, start = -1, end = -1, limit = 500;
  const std::pair<const char*, std::int64_t*> numbers[] = {{"orderId", &order_id},
                                                           {"fromId", &from_id},
                                                           {"startTime", &start},
                                                           {"endTime", &end},
                                                           {"limit", &limit}};
  for (const auto& [name, into] : numbers)
    if (const std::string* v = get(params, name); v && (!parse_int(*v, *into) || *into < 0))
      return fail(origin, 400, kMandatoryParamEmptyOrMalformed, mandatory(name));
  if (limit <= 0) return fail(origin, 400, kMandatoryParamEmptyOrMalformed, mandatory("limit"));
  limit = std::min<std::int64_t>(limit, 1000);
  std::vector<const Trade*> found;
  for (const Trade& t : trades_) {
    if (t.market != static_cast<std::size_t>(m)) continue;
    if (order_id >= 0 && t.order_id != static_cast<std::uint64_t>(order_id)) continue;
    if (from_id >= 0 && t.id < static_cast<std::uint64_t>(from_id)) continue;
    if (start >= 0 && t.time_ms < start) continue;
    if (end >= 0 && t.time_ms > end) continue;
    found.push_back(&t);
  }
  // From fromId or startTime: the first `limit`; otherwise the most recent `limit`, oldest first.
  std::size_t first = 0, count = found.size();
  if (found.size() > static_cast<std::size_t>(limit)) {
    count = static_cast<std::size_t>(limit);
    if (from_id < 0 && start < 0) first = found.size() - count;
  }
  std::string o = "[";
  for (std::size_t i = first; i < first + count; ++i) {
    const Trade& t = *found[i];
    comma(o);
    o += '{';
    if (futures_) {
      // Futures' userTrades: quoteQty on USD-M; on COIN-M baseQty (the coin), its pair and margin asset.
      boolean(o, "buyer", t.buyer);
      str(o, "commission", dec(t.commission));
      str(o, "commissionAsset", t.commission_asset);
      num(o, "id", static_cast<std::int64_t>(t.id));
      boolean(o, "maker", t.maker);
      num(o, "orderId", static_cast<std::int64_t>(t.order_id));
      str(o, "price", dec(t.price));
      str(o, "qty", dec(t.qty));
      str(o, inverse() ? "baseQty" : "quoteQty", dec(t.quote));
      str(o, "realizedPnl", dec(t.realized_pnl));
      str(o, "side", t.buyer ? "BUY" : "SELL");
      str(o, "positionSide", "BOTH");
      str(o, "symbol", markets_[t.market].symbol);
      if (inverse()) {
        str(o, "pair", markets_[t.market].base + "USD");
        str(o, "marginAsset", margin_asset(t.market));
      }
      num(o, "time", t.time_ms);
      o += '}';
      continue;
    }
    str(o, "symbol", markets_[t.market].symbol);
    num(o, "id", static_cast<std::int64_t>(t.id));
    num(o, "orderId", static_cast<std::int64_t>(t.order_id));
    num(o, "orderListId", -1);
    str(o, "price", dec(t.price));
    str(o, "qty", dec(t.qty));
    str(o, "quoteQty", dec(t.quote));
    str(o, "commission", dec(t.commission));
    str(o, "commissionAsset", t.commission_asset);
    num(o, "time", t.time_ms);
    boolean(o, "isBuyer", t.buyer);
    boolean(o, "isMaker", t.maker);
    boolean(o, "isBestMatch", true);
    o += '}';
  }
  o += ']';
  reply(origin, std::move(o));
}

// ---------------------------------------------------------------------------------------------------------
// Orders' JSON

std::string BinanceVenue::order_json(const Order& order) const {
  const std::string_view tif = time_in_force_name(order.type, order.tif);
  std::string o = "{";
  str(o, "symbol", markets_[order.market].symbol);
  num(o, "orderId", static_cast<std::int64_t>(order.id));
  num(o, "orderListId", -1);
  str(o, "clientOrderId", order.client_id);
  str(o, "price", order.type == OrderType::Market ? std::string("0.00000000") : dec(order.price));
  str(o, "origQty", dec(order.qty));
  str(o, "executedQty", dec(order.executed));
  str(o, "cummulativeQuoteQty", dec(quote_of(order.quote)));
  str(o, "status", order_status_name(order.status));
  str(o, "timeInForce", tif.empty() ? "GTC" : tif);
  str(o, "type", order_type_name(order.type, order.tif));
  str(o, "side", side_name(order.side));
  str(o, "stopPrice", "0.00000000");
  str(o, "icebergQty", "0.00000000");
  num(o, "time", order.time_ms);
  num(o, "updateTime", order.update_ms);
  boolean(o, "isWorking", order.acked);
  num(o, "workingTime", order.acked ? order.transact_ms : -1);
  str(o, "origQuoteOrderQty", "0.00000000");
  str(o, "selfTradePreventionMode", "NONE");
  o += '}';
  return o;
}

std::string BinanceVenue::result_json(const Order& order, const std::string& resp_type) const {
  std::string o = "{";
  str(o, "symbol", markets_[order.market].symbol);
  num(o, "orderId", static_cast<std::int64_t>(order.id));
  num(o, "orderListId", -1);
  str(o, "clientOrderId", order.client_id);
  num(o, "transactTime", order.transact_ms);
  if (resp_type != "ACK") {
    const std::string_view tif = time_in_force_name(order.type, order.tif);
    str(o, "price", order.type == OrderType::Market ? std::string("0.00000000") : dec(order.price));
    str(o, "origQty", dec(order.qty));
    str(o, "executedQty", dec(order.executed));
    str(o, "origQuoteOrderQty", "0.00000000");
    str(o, "cummulativeQuoteQty", dec(quote_of(order.quote)));
    str(o, "status", order_status_name(order.status));
    str(o, "timeInForce", tif.empty() ? "GTC" : tif);
    str(o, "type", order_type_name(order.type, order.tif));
    str(o, "side", side_name(order.side));
    num(o, "workingTime", order.transact_ms);
    str(o, "selfTradePreventionMode", "NONE");
  }
  if (resp_type == "FULL") {
    key(o, "fills");
    o += '[';
    for (const std::size_t i : order.trades) {
      const Trade& t = trades_[i];
      comma(o);
      o += '{';
      str(o, "price", dec(t.price));
      str(o, "qty", dec(t.qty));
      str(o, "commission", dec(t.commission));
      str(o, "commissionAsset", t.commission_asset);
      num(o, "tradeId", static_cast<std::int64_t>(t.id));
      o += '}';
    }
    o += ']';
  }
  o += '}';
  return o;
}

std::string BinanceVenue::cancel_json(const Order& order) const {
  const std::string_view tif = time_in_force_name(order.type, order.tif);
  std::string o = "{";
  str(o, "symbol", markets_[order.market].symbol);
  str(o, "origClientOrderId", order.client_id);
  num(o, "orderId", static_cast<std::int64_t>(order.id));
  num(o, "orderListId", -1);
  str(o, "clientOrderId", order.cancel_client_id);
  num(o, "transactTime", order.update_ms);
  str(o, "price", order.type == OrderType::Market ? std::string("0.00000000") : dec(order.price));
  str(o, "origQty", dec(order.qty));
  str(o, "executedQty", dec(order.executed));
  str(o, "origQuoteOrderQty", "0.00000000");
  str(o, "cummulativeQuoteQty", dec(quote_of(order.quote)));
  str(o, "status", order_status_name(order.status));
  str(o, "timeInForce", tif.empty() ? "GTC" : tif);
  str(o, "type", order_type_name(order.type, order.tif));
  str(o, "side", side_name(order.side));
  str(o, "selfTradePreventionMode", "NONE");
  o += '}';
  return o;
}

std::string BinanceVenue::execution_report(const Order& order, std::string_view exec_type, const Trade* trade,
                                           TimestampNs venue_ns) const {
  const std::string_view tif = time_in_force_name(order.type, order.tif);
  const bool canceled = exec_type == "CANCELED" && !order.cancel_client_id.empty();
  std::string o = "{";
  str(o, "e", "executionReport");
  num(o, "E", wall_ms(sim_.now()));
  str(o, "s", markets_[order.market].symbol);
  str(o, "c", canceled ? order.cancel_client_id : order.client_id);
  str(o, "S", side_name(order.side));
  str(o, "o", order_type_name(order.type, order.tif));
  str(o, "f", tif.empty() ? "GTC" : tif);
  str(o, "q", dec(order.qty));
  str(o, "p", order.type == OrderType::Market ? std::string("0.00000000") : dec(order.price));
  str(o, "P", "0.00000000");
  str(o, "F", "0.00000000");
  num(o, "g", -1);
  str(o, "C", canceled ? order.client_id : std::string());
  str(o, "x", exec_type);
  str(o, "X", order_status_name(order.status));
  str(o, "r", "NONE");
  num(o, "i", static_cast<std::int64_t>(order.id));
  str(o, "l", trade ? dec(trade->qty) : std::string("0.00000000"));
  str(o, "z", dec(order.executed));
  str(o, "L", trade ? dec(trade->price) : std::string("0.00000000"));
  str(o, "n", trade ? dec(trade->commission) : std::string("0"));
  if (trade)
    str(o, "N", trade->commission_asset);
  else
    raw(o, "N", "null");
  num(o, "T", wall_ms(venue_ns));
  num(o, "t", trade ? static_cast<std::int64_t>(trade->id) : -1);
  num(o, "I", 0);
  boolean(o, "w", order.open && order.acked);
  boolean(o, "m", trade ? trade->maker : false);
  boolean(o, "M", false);
  num(o, "O", order.time_ms);
  str(o, "Z", dec(quote_of(order.quote)));
  str(o, "Y", trade ? dec(trade->quote) : std::string("0.00000000"));
  str(o, "Q", "0.00000000");
  num(o, "W", order.transact_ms);
  str(o, "V", "NONE");
  o += '}';
  return o;
}

// ---------------------------------------------------------------------------------------------------------
// What the simulator says

void BinanceVenue::close_order(Order& order) {
  order.open = false;
  auto it = open_by_client_.find(order.client_id);
  if (it != open_by_client_.end() && it->second == order.id) open_by_client_.erase(it);
}

void BinanceVenue::user_event(const std::string& event) {
  if (futures_) {
    // Futures: every connection on the live listen key, its events as they are (or in /stream's envelope).
    for (auto& [id, conn] : conns_)
      if (conn.user_stream) send_stream(id, conn, listen_key_, event);
    return;
  }
  for (auto& [id, conn] : conns_) {
    if (conn.user_subscription < 0) continue;
    std::string o = "{";
    num(o, "subscriptionId", conn.user_subscription);
    raw(o, "event", event);
    o += '}';
    out_.send(id, std::move(o));
  }
}

void BinanceVenue::account_position(const Order& order, TimestampNs venue_ns) {
  const Market& market = markets_[order.market];
  std::string o = "{";
  str(o, "e", "outboundAccountPosition");
  num(o, "E", wall_ms(sim_.now()));
  num(o, "u", wall_ms(venue_ns));
  key(o, "B");
  o += '[';
  for (const std::string* asset : {&market.base, &market.quote}) {
    const sim::AssetBalance* b = sim_.venue(options_.venue).balance(*asset);
    if (b == nullptr) continue;
    comma(o);
    o += '{';
    str(o, "a", b->asset);
    str(o, "f", dec(b->total - b->locked));
    str(o, "l", dec(b->locked));
    o += '}';
  }
  o += "]}";
  user_event(o);
}

void BinanceVenue::on_execution_report(const ExecutionReport& r) {
  auto it = orders_.find(r.client_order_id.value());
  if (it == orders_.end()) return;
  Order& o = *it->second;
  if (options_.log)
    options_.log(std::string(to_string(r.exec_type)) + " " + o.client_id + " (" + std::to_string(o.id) +
                 ") " + std::string(side_name(o.side)) + " " + r.cum_qty.to_string() + "/" +
                 o.qty.to_string() +
                 (r.exec_type == ExecType::Trade ? " at " + r.last_price.to_string() : std::string()) +
                 (r.text.empty() ? std::string() : ": " + r.text.str()));
  const std::int64_t at_ms = wall_ms(r.venue_ns);
  switch (r.exec_type) {
    case ExecType::New:
      if (o.acked) return;  // a repeat (the simulator's duplicate fault): the order is known already
      o.status = OrderStatus::New;
      o.acked = true;
      o.transact_ms = at_ms;
      o.update_ms = at_ms;
      if (auto p = places_.find(o.id); p != places_.end()) {
        p->second.decided = true;
        if (futures_) p->second.ack_json = futures_order_json(o);
      }
      if (futures_) return user_event(order_trade_update(o, "NEW", nullptr, r.venue_ns));
      user_event(execution_report(o, "NEW", nullptr, r.venue_ns));
      account_position(o, r.venue_ns);
      return;
    case ExecType::Rejected: {
      // Refused at the venue: the order never existed for the client, who gets the error.
      int code = kNewOrderRejected;
      std::string msg = std::string(r.text.view());
      int http = 400;
      switch (r.reject_reason) {
        case RejectReason::PostOnlyWouldCross:
          msg = "Order would immediately match and take.";
          break;
        case RejectReason::InsufficientBalance:
          msg = "Account has insufficient balance for requested action.";
          break;
        case RejectReason::PriceOffTick:
          code = kFilterFailure;
          msg = "Filter failure: PRICE_FILTER";
          break;
        case RejectReason::QtyOffLot:
          code = kFilterFailure;
          msg = "Filter failure: LOT_SIZE";
          break;
        case RejectReason::BelowMinNotional:
          code = kFilterFailure;
          msg = "Filter failure: NOTIONAL";
          break;
        case RejectReason::RateLimited:
          code = kTooManyOrders;
          msg = "Too many new orders.";
          http = 429;
          break;
        case RejectReason::VenueClosed:
          msg = "Market is closed.";
          break;
        default:
          break;
      }
      if (futures_) {
        // Futures' words for the same refusals.
        code = -2010;
        if (r.reject_reason == RejectReason::PostOnlyWouldCross) {
          code = kFuturesPostOnlyRejected;
          msg = kFuturesPostOnlyMsg;
        } else if (r.reject_reason == RejectReason::InsufficientBalance) {
          code = kFuturesMarginInsufficient;
          msg = "Margin is insufficient.";
        } else if (r.reject_reason == RejectReason::PriceOffTick) {
          code = kFuturesPriceOffTick;
          msg = "Price not increased by tick size.";
        } else if (r.reject_reason == RejectReason::QtyOffLot) {
          code = kFuturesQtyOffStep;
          msg = "Quantity not increased by step size.";
        } else if (r.reject_reason == RejectReason::BelowMinNotional) {
          code = kFuturesMinNotional;
          msg = futures_min_notional_msg(sim_.venue(options_.venue).market(o.market).listing());
        } else if (r.reject_reason == RejectReason::RateLimited) {
          code = kTooManyOrders;
        }
      }
      close_order(o);
      if (auto last = last_by_client_.find(o.client_id);
          last != last_by_client_.end() && last->second == o.id) {
        if (o.previous_with_id != 0)
          last->second = o.previous_with_id;
        else
          last_by_client_.erase(last);
      }
      auto p = places_.find(o.id);
      if (p != places_.end()) {
        const PlaceWait wait = p->second;
        places_.erase(p);
        if (wait.group != 0 && groups_.count(wait.group)) {
          Group& gr = *groups_.at(wait.group);
          gr.new_ok = false;
          gr.new_json = error_json(code, msg);
          orders_.erase(it);
          return cancel_replace_step(wait.group);
        }
        fail(wait.origin, http, code, msg);
      }
      orders_.erase(it);
      return;
    }
    case ExecType::Trade: {
      if (!r.exec_id.empty()) {
        // A fill's report repeated (the simulator's duplicate fault) is the same trade told twice: the same
        // executionReport, with the same trade id, sent again; nothing is booked twice.
        auto [seen, fresh] = trade_by_exec_.try_emplace(r.exec_id.str(), trades_.size());
        if (!fresh) return user_event(trades_[seen->second].event);
      }
      Market& market = markets_[o.market];
      Trade t;
      t.id = market.next_trade_id++;
      t.order_id = o.id;
      t.market = o.market;
      t.price = r.last_price;
      t.qty = r.last_qty;
      t.quote = futures_ ? position_value(o.market, r.last_price, r.last_qty)
                         : quote_of(Notional::of(r.last_price, r.last_qty));
      t.commission = r.fee.amount;
      t.commission_asset = std::string(r.fee.asset.view());
      t.time_ms = at_ms;
      t.buyer = o.side == Side::Buy;
      t.maker = r.liquidity == Liquidity::Maker;
      o.trades.push_back(trades_.size());
      trades_.push_back(t);
      o.executed = r.cum_qty;
      o.quote += Notional::of(r.last_price, r.last_qty);
      o.cum_value += t.quote;
      o.status = r.status == OrderStatus::Filled ? OrderStatus::Filled : OrderStatus::PartiallyFilled;
      o.update_ms = at_ms;
      ++fills_;
      (o.side == Side::Buy ? bought_ : sold_) += r.last_qty;
      if (o.status == OrderStatus::Filled) close_order(o);
      // Our fill is a public trade too.
      public_trade(o.market, {t.id, t.price, t.qty, at_ms, t.buyer == t.maker});
      if (futures_) {
        book_position(market, o, trades_.back());
        trades_.back().event = order_trade_update(o, "TRADE", &trades_.back(), r.venue_ns);
        user_event(trades_.back().event);
        account_update(o, r.venue_ns);
        return;
      }
      trades_.back().event = execution_report(o, "TRADE", &trades_.back(), r.venue_ns);
      user_event(trades_.back().event);
      account_position(o, r.venue_ns);
      return;
    }
    case ExecType::Canceled:
    case ExecType::Expired: {
      if (!o.open) return;  // a repeat: the order is closed already
      o.status = r.exec_type == ExecType::Canceled ? OrderStatus::Canceled : OrderStatus::Expired;
      o.update_ms = at_ms;
      close_order(o);
      if (futures_) {
        user_event(order_trade_update(o, r.exec_type == ExecType::Canceled ? "CANCELED" : "EXPIRED", nullptr,
                                      r.venue_ns));
        // A modify still waited for finds the order gone.
        if (auto mw = modifies_.find(o.id); mw != modifies_.end()) {
          std::deque<ModifyWait>& waits = mw->second;
          for (auto w = waits.begin(); w != waits.end();)
            if (w->decided) {
              ++w;
            } else {
              fail(w->origin, 400, kNoSuchOrder, "Order does not exist.");
              w = waits.erase(w);
            }
          if (waits.empty()) modifies_.erase(mw);
        }
      } else {
        user_event(execution_report(o, r.exec_type == ExecType::Canceled ? "CANCELED" : "EXPIRED", nullptr,
                                    r.venue_ns));
        account_position(o, r.venue_ns);
      }
      if (auto c = cancels_.find(o.id); c != cancels_.end()) {
        const CancelWait wait = c->second;
        cancels_.erase(c);
        if (wait.group != 0) {
          if (auto g = groups_.find(wait.group); g != groups_.end()) {
            Group& gr = *g->second;
            if (gr.replace) {
              gr.cancel_ok = true;
              gr.cancel_json = cancel_json(o);
            } else {
              gr.results.push_back(cancel_json(o));
            }
          }
          return group_done(wait.group);
        }
        reply(wait.origin, futures_ ? futures_order_json(o) : cancel_json(o));
      }
      return;
    }
    case ExecType::Replaced: {
      // Futures' modify in place: the same order, its new price and quantity, its queue place as the
      // simulator decided (kept when only the quantity went down).
      if (!o.open) return;
      o.price = r.order_price.is_set() ? r.order_price : o.price;
      if (r.order_qty.is_positive()) o.qty = r.order_qty;
      o.update_ms = at_ms;
      if (auto mw = modifies_.find(o.id); mw != modifies_.end())
        for (ModifyWait& w : mw->second)
          if (!w.decided) {
            w.decided = true;
            break;
          }
      user_event(order_trade_update(o, "AMENDMENT", nullptr, r.venue_ns));
      return;
    }
    case ExecType::ReplaceRejected: {
      auto mw = modifies_.find(o.id);
      if (mw == modifies_.end()) return;
      std::deque<ModifyWait>& waits = mw->second;
      auto w = std::find_if(waits.begin(), waits.end(), [](const ModifyWait& x) { return !x.decided; });
      if (w == waits.end()) return;
      const Origin origin = w->origin;
      waits.erase(w);
      if (waits.empty()) modifies_.erase(mw);
      switch (r.reject_reason) {
        case RejectReason::PostOnlyWouldCross:
          return fail(origin, 400, kFuturesPostOnlyRejected, kFuturesPostOnlyMsg);
        case RejectReason::InsufficientBalance:
          return fail(origin, 400, kFuturesMarginInsufficient, "Margin is insufficient.");
        case RejectReason::UnknownOrder:
          return fail(origin, 400, kNoSuchOrder, "Order does not exist.");
        case RejectReason::RateLimited:
          return fail(origin, 429, kTooManyOrders, "Too many new orders.");
        default:
          return fail(origin, 400, -2010, std::string(r.text.view()));
      }
    }
    case ExecType::CancelRejected: {
      auto c = cancels_.find(o.id);
      if (c == cancels_.end()) return;
      const CancelWait wait = c->second;
      cancels_.erase(c);
      if (wait.group != 0) {
        if (auto g = groups_.find(wait.group); g != groups_.end() && g->second->replace) {
          g->second->cancel_ok = false;
          g->second->cancel_json = error_json(kCancelRejected, "Unknown order sent.");
        }
        return group_done(wait.group);
      }
      return fail(wait.origin, 400, kCancelRejected, "Unknown order sent.");
    }
    default:
      return;
  }
}

void BinanceVenue::after_run(TimestampNs wall_ns) {
  wall_now_ns_ = wall_ns;
  for (auto it = places_.begin(); it != places_.end();) {
    if (!it->second.decided) {
      ++it;
      continue;
    }
    const PlaceWait wait = it->second;
    const Order& o = *orders_.at(it->first);
    it = places_.erase(it);
    if (wait.group != 0) {
      if (auto g = groups_.find(wait.group); g != groups_.end()) {
        g->second->new_ok = true;
        g->second->new_json = result_json(o, "FULL");
        cancel_replace_step(wait.group);
      }
      continue;
    }
    if (futures_) {
      reply(wait.origin, wait.resp_type == "RESULT" ? futures_order_json(o) : wait.ack_json);
      continue;
    }
    reply(wait.origin, result_json(o, wait.resp_type));
  }
  for (auto it = modifies_.begin(); it != modifies_.end();) {
    std::deque<ModifyWait>& waits = it->second;
    while (!waits.empty() && waits.front().decided) {
      const Origin origin = waits.front().origin;
      waits.pop_front();
      reply(origin, futures_order_json(*orders_.at(it->first)));
    }
    it = waits.empty() ? modifies_.erase(it) : std::next(it);
  }
}

// A trade on the market (a recorded print or our fill): kept for the trades call, and on its @trade stream.
void BinanceVenue::public_trade(std::size_t m, const PublicTrade& t) {
  Market& market = markets_[m];
  market.recent.push_back(t);
  if (market.recent.size() > kRecentTrades) market.recent.pop_front();
  if (market.subs[kTrade] == 0) return;
  std::string e = "{";
  str(e, "e", "trade");
  num(e, "E", wall_ms(sim_.now()));
  str(e, "s", market.symbol);
  num(e, "t", static_cast<std::int64_t>(t.id));
  str(e, "p", dec(t.price));
  str(e, "q", dec(t.qty));
  num(e, "T", t.time_ms);
  if (futures_) str(e, "X", "MARKET");
  boolean(e, "m", t.buyer_maker);
  if (!futures_) boolean(e, "M", true);
  e += '}';
  publish_to(m, kTrade, e);
}

void BinanceVenue::on_market_data(const md::MarketRef& ref, const md::Event& event) {
  if (ref.venue != options_.venue) return;
  const std::size_t m = ref.market;
  Market& market = markets_[m];
  if (event.kind == md::EventKind::Trade && !(event.flags & md::kFlagSimulated)) {
    // A recorded print (ours are published from their fills, with the ids of the account's trades).
    public_trade(
        m, {market.next_trade_id++, event.price, event.qty, wall_ms(sim_.now()), event.side == Side::Sell});
    return;
  }
  const sim::SimMarket& book = sim_.venue(options_.venue).market(m);
  const Price bid = book.best(Side::Buy), ask = book.best(Side::Sell);
  const Qty bid_qty = book.best_qty(Side::Buy), ask_qty = book.best_qty(Side::Sell);
  if (bid == market.bid && ask == market.ask && bid_qty == market.bid_qty && ask_qty == market.ask_qty)
    return;
  market.bid = bid;
  market.ask = ask;
  market.bid_qty = bid_qty;
  market.ask_qty = ask_qty;
  market.depth.bump({bid, bid_qty}, {ask, ask_qty});
  if (market.subs[kBookTicker] > 0) {
    std::string e = "{";
    if (futures_) str(e, "e", "bookTicker");
    num(e, "u", static_cast<std::int64_t>(market.depth.last_update_id()));
    str(e, "s", market.symbol);
    str(e, "b", dec(bid));
    str(e, "B", dec(bid_qty));
    str(e, "a", dec(ask));
    str(e, "A", dec(ask_qty));
    if (futures_) {
      num(e, "T", wall_ms(sim_.now()));
      num(e, "E", wall_ms(sim_.now()));
    }
    e += '}';
    publish_to(m, kBookTicker, e);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Streams

void BinanceVenue::publish_to(std::size_t m, int kind, const std::string& data) {
  const std::string& name = markets_[m].stream_names[kind];
  for (auto& [id, conn] : conns_)
    if (!conn.api && conn.streams.count(name)) send_stream(id, conn, name, data);
}

// A stream's event on a connection: as it is, or in /stream's envelope.
void BinanceVenue::send_stream(std::uint64_t id, const Conn& conn, const std::string& stream,
                               const std::string& data) {
  if (!conn.combined) return out_.send(id, data);
  std::string o = "{";
  str(o, "stream", stream);
  raw(o, "data", data);
  o += '}';
  out_.send(id, std::move(o));
}

int BinanceVenue::parse_stream(const std::string& name, int& kind) const {
  for (std::size_t m = 0; m < markets_.size(); ++m) {
    const std::string& prefix = markets_[m].stream_prefix;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string_view rest = std::string_view(name).substr(prefix.size());
    for (int k = 0; k < (futures_ ? kStreamKinds : 4); ++k)
      if (rest == kStreamSuffix[k]) {
        kind = k;
        return static_cast<int>(m);
      }
    if (rest == "depth@1000ms") {
      kind = kDepth1000;
      return static_cast<int>(m);
    }
  }
  return -1;
}

bool BinanceVenue::add_stream(Conn& conn, const std::string& requested) {
  // Futures: a live listen key names the account's user data stream.
  if (futures_ && !listen_key_.empty() && requested == listen_key_ && wall_now_ns_ < listen_key_expires_ns_) {
    conn.user_stream = true;
    return true;
  }
  int kind = 0;
  const int m = parse_stream(requested, kind);
  if (m < 0) return false;
  // One name per stream ("@depth@1000ms" is "@depth").
  const std::string& name = markets_[static_cast<std::size_t>(m)].stream_names[kind];
  if (!conn.streams.insert(name).second) return true;
  Market& market = markets_[static_cast<std::size_t>(m)];
  if (++market.subs[kind] == 1 && kind <= kDepth1000) {
    publish_depth(static_cast<std::size_t>(m));  // the baseline the stream's diffs start from
    market.depth.set_streaming(kind == kDepth100 ? 0 : 1, true);
  }
  return true;
}

void BinanceVenue::remove_stream(Conn& conn, const std::string& requested) {
  int kind = 0;
  const int m = parse_stream(requested, kind);
  if (m < 0) return;
  const std::string& name = markets_[static_cast<std::size_t>(m)].stream_names[kind];
  if (conn.streams.erase(name) == 0) return;
  Market& market = markets_[static_cast<std::size_t>(m)];
  if (--market.subs[kind] == 0 && kind <= kDepth1000)
    market.depth.set_streaming(kind == kDepth100 ? 0 : 1, false);
}

bool BinanceVenue::on_ws_open(std::uint64_t id, std::string_view target, std::string_view ip,
                              TimestampNs wall_ns, HttpResponse& refusal) {
  wall_now_ns_ = wall_ns;
  if (down(wall_ns)) {
    refusal.status = 503;
    refusal.body = error_json(kDisconnected, kDisconnectedMsg);
    return false;
  }
  const std::size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  // Binance futures also route their streams by category (`/public/ws`, `/market/ws`): the same streams here.
  if (futures_)
    for (std::string_view category :
         {std::string_view("/public"), std::string_view("/market"), std::string_view("/private")})
      if (path.substr(0, category.size()) == category &&
          (path.substr(category.size(), 4) == "/ws/" || path.substr(category.size()) == "/ws" ||
           path.substr(category.size()) == "/stream"))
        path = path.substr(category.size());
  const std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  Conn conn;
  conn.ip = std::string(ip);
  std::vector<std::string> streams;
  if (path == "/ws-api/v3" && !futures_) {
    conn.api = true;
  } else if (path == "/ws" || path == "/ws/") {
  } else if (path.substr(0, 4) == "/ws/") {
    std::string_view rest = path.substr(4);
    while (!rest.empty()) {
      const std::size_t slash = rest.find('/');
      streams.emplace_back(rest.substr(0, slash));
      rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    }
  } else if (path == "/stream") {
    conn.combined = true;
    auto params = parse_query(query);
    if (params)
      if (const std::string* list = get(*params, "streams")) {
        std::string_view rest = *list;
        while (!rest.empty()) {
          const std::size_t slash = rest.find('/');
          streams.emplace_back(rest.substr(0, slash));
          rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        }
      }
  } else {
    refusal.status = 404;
    refusal.content_type = "text/html";
    refusal.body = "<html><body><h2>404 Not found</h2></body></html>";
    return false;
  }
  // A name in the path that is no stream subscribes nothing, and the connection stays open, as Binance's does
  // (ccxt opens /ws/0, /ws/1, ... and subscribes by message).
  // Futures' private category names the listen key in the query: /private/ws?listenKey=<key>.
  if (futures_)
    if (auto params = parse_query(query))
      if (const std::string* key = get(*params, "listenKey")) streams.push_back(*key);
  Conn& stored = conns_[id] = std::move(conn);
  for (const std::string& s : streams) add_stream(stored, s);
  return true;
}

void BinanceVenue::on_ws_close(std::uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  const std::set<std::string> streams = it->second.streams;
  for (const std::string& s : streams) remove_stream(it->second, s);
  conns_.erase(it);
}

void BinanceVenue::on_ws_text(std::uint64_t id, std::string_view text, TimestampNs wall_ns) {
  wall_now_ns_ = wall_ns;
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& conn = it->second;
  WsRequest request;
  std::string error;
  const bool parsed = parse_ws_request(text, request, error);
  if (!conn.api) {
    // A market stream connection may send 5 messages a second; Binance disconnects one that sends more.
    conn.messages.add(1, wall_ns);
    if (conn.messages.used(wall_ns) > kStreamMessagesPerSecond) {
      on_ws_close(id);
      out_.close(id);
      return;
    }
    // Market streams: SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS; errors as Binance's streams give them.
    auto stream_error = [&](int code, const std::string& msg) {
      std::string o = "{";
      num(o, "code", code);
      str(o, "msg", msg);
      raw(o, "id", request.id);
      o += '}';
      out_.send(id, std::move(o));
    };
    if (!parsed) return stream_error(3, "Invalid JSON: " + error);
    if (request.method == "SUBSCRIBE" || request.method == "UNSUBSCRIBE") {
      for (const std::string& s : request.streams) {
        int kind = 0;
        if (parse_stream(s, kind) < 0) return stream_error(2, "Invalid request: unknown stream '" + s + "'");
      }
      for (const std::string& s : request.streams)
        request.method == "SUBSCRIBE" ? (void)add_stream(conn, s) : remove_stream(conn, s);
      std::string o = "{\"result\":null";
      raw(o, "id", request.id);
      o += '}';
      return out_.send(id, std::move(o));
    }
    if (request.method == "LIST_SUBSCRIPTIONS") {
      std::string o = "{\"result\":[";
      for (const std::string& s : conn.streams) {
        comma(o);
        o += '"' + s + '"';
      }
      o += ']';
      raw(o, "id", request.id);
      o += '}';
      return out_.send(id, std::move(o));
    }
    return stream_error(2, "Invalid request: unknown method '" + request.method + "'");
  }
  Origin origin;
  origin.ws = true;
  origin.id = id;
  origin.request_id = request.id;
  origin.ip = conn.ip;
  if (!parsed) return fail(origin, 400, kUnknown, "Malformed request: " + error + ".");
  const Route* route = nullptr;
  for (const Route& r : kRoutes)
    if (request.method == r.ws) route = &r;
  if (route == nullptr) {
    if (request.method.empty())
      return fail(origin, 400, kMandatoryParamEmptyOrMalformed, mandatory("method"));
    return fail(origin, 400, -1020, "This operation is not supported.");
  }
  origin.orders = places_orders(route->call);
  const auto limited =
      limiter_.admit(origin.ip, weight_of(route->call, request.params), origin.orders ? 1 : 0, wall_ns);
  if (limited.verdict != RateLimiter::Verdict::Admitted) {
    std::string data = "{";
    num(data, "retryAfter", wall_ns / kNanosPerMilli + limited.retry_after_s * 1000);
    data += '}';
    return fail(origin, limited.http_status, limited.code, limited.msg, data);
  }
  if (is_signed(route->call)) {
    // The WebSocket API signs its parameters sorted by name, the signature left out.
    const std::string* api_key = get(request.params, "apiKey");
    const std::string* signature = get(request.params, "signature");
    if (!authorize(request.params, api_key ? std::string_view(*api_key) : std::string_view{},
                   ws_api_payload(request.params),
                   signature ? std::string_view(*signature) : std::string_view{}, origin, wall_ns))
      return;
  }
  dispatch(route->call, request.params, origin, wall_ns);
}

void BinanceVenue::subscribe_user(const Origin& origin) {
  auto it = conns_.find(origin.id);
  if (it == conns_.end()) return;
  if (it->second.user_subscription < 0) it->second.user_subscription = next_subscription_++;
  std::string o = "{";
  num(o, "subscriptionId", it->second.user_subscription);
  o += '}';
  reply(origin, std::move(o));
}

void BinanceVenue::on_tick(TimestampNs wall_ns) {
  wall_now_ns_ = wall_ns;
  ++ticks_;
  if (futures_) {
    if (!listen_key_.empty() && wall_ns >= listen_key_expires_ns_) expire_listen_keys(wall_ns);
    if (ticks_ % 10 == 0) publish_mark_prices(kMark1s);
    if (ticks_ % 30 == 0) publish_mark_prices(kMark3s);
  }
  for (std::size_t m = 0; m < markets_.size(); ++m) {
    Market& market = markets_[m];
    const bool slow_due = ticks_ % 10 == 0;
    if (market.subs[kDepth100] == 0 && !(market.subs[kDepth1000] > 0 && slow_due)) continue;
    publish_depth(m);
    for (int s = 0; s < 2; ++s) {
      if (s == 1 && !slow_due) continue;
      if (!market.depth.take_batch(s, batch_)) continue;
      std::string e = "{";
      str(e, "e", "depthUpdate");
      num(e, "E", wall_ms(sim_.now()));
      if (futures_) num(e, "T", wall_ms(sim_.now()));
      str(e, "s", market.symbol);
      num(e, "U", static_cast<std::int64_t>(batch_.first_id));
      num(e, "u", static_cast<std::int64_t>(batch_.last_id));
      // Futures: the previous diff's u on this stream (our ids are contiguous, so U - 1).
      if (futures_) num(e, "pu", static_cast<std::int64_t>(batch_.first_id - 1));
      levels_json(e, "b", batch_.bids, batch_.bids.size());
      levels_json(e, "a", batch_.asks, batch_.asks.size());
      e += '}';
      publish_to(m, s == 0 ? kDepth100 : kDepth1000, e);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Binance futures (USD-M /fapi, COIN-M /dapi): orders, modify in place, positions and balances, listen keys
// and the user data stream, mark prices. The same simulated matching as spot's, behind futures' words.

namespace {
// num / den rounded to the nearest, half away from zero.
std::int64_t div_round(Int128 num, Int128 den) {
  if (den < 0) {
    num = -num;
    den = -den;
  }
  const Int128 q = num >= 0 ? (num + den / 2) / den : -((-num + den / 2) / den);
  return static_cast<std::int64_t>(q);
}
constexpr const char* kMaintMarginRatio = "0.004";  // our one leverage bracket's, a stated guess
constexpr std::int64_t kFundingIntervalMs = 8 * 3600 * 1000;
const Amount kMaxPositionValue = Amount::from_units(9'000'000'000);
Qty abs_qty(Qty q) {
  return q.is_negative() ? -q : q;
}
}  // namespace

const std::string& BinanceVenue::margin_asset(std::size_t m) const {
  return inverse() ? markets_[m].base : markets_[m].quote;
}

Amount BinanceVenue::position_value(std::size_t m, Price price, Qty q) const {
  const VenueListing& l = sim_.venue(options_.venue).market(m).listing();
  if (l.inverse) {
    // Contracts x contract size (USD) / price = coin.
    if (!price.is_positive()) return Amount{};
    return Amount::from_raw(div_round(static_cast<Int128>(q.raw()) * l.contract_size.raw(), price.raw()));
  }
  return Amount::from_raw(div_round(static_cast<Int128>(price.raw()) * q.raw(), kFixedScale));
}

// The mark price: the venue book's mid rounded to the tick (Binance's own mixes index and funding basis; ours
// is a stated guess, docs/exchange.md).
Price BinanceVenue::mark_price(std::size_t m) const {
  const sim::SimMarket& book = sim_.venue(options_.venue).market(m);
  const Price bid = book.best(Side::Buy), ask = book.best(Side::Sell);
  Price mid = Price::unset();
  if (bid.is_set() && ask.is_set())
    mid = Price::from_raw(div_round(static_cast<Int128>(bid.raw()) + ask.raw(), 2));
  else if (bid.is_set())
    mid = bid;
  else if (ask.is_set())
    mid = ask;
  else
    return mid;
  const std::int64_t tick = book.listing().tick_size.raw();
  if (tick > 0) mid = Price::from_raw(div_round(mid.raw(), tick) * tick);
  return mid;
}

Amount BinanceVenue::unrealized_pnl(std::size_t m) const {
  const Market& market = markets_[m];
  const Price mark = mark_price(m);
  if (market.position.is_zero() || !mark.is_set()) return Amount{};
  const Amount now = position_value(m, mark, abs_qty(market.position));
  const bool long_position = market.position.is_positive();
  // Linear: a long gains when the position is worth more quote; inverse: when it is worth less coin.
  if (inverse()) return long_position ? market.entry_value - now : now - market.entry_value;
  return long_position ? now - market.entry_value : market.entry_value - now;
}

// The margin a market's position holds: its entry value over the leverage.
Amount BinanceVenue::initial_margin(std::size_t m) const {
  const Amount leverage = sim_.venue(options_.venue).sim().leverage;
  if (!leverage.is_positive()) return Amount{};
  return Amount::from_raw(
      div_round(static_cast<Int128>(markets_[m].entry_value.raw()) * kFixedScale, leverage.raw()));
}

Amount BinanceVenue::position_margin(const std::string& asset) const {
  Amount total;
  for (std::size_t m = 0; m < markets_.size(); ++m)
    if (margin_asset(m) == asset) total += initial_margin(m);
  return total;
}

// The average price of a market's position (0 without one).
Price BinanceVenue::entry_price(std::size_t m) const {
  const Market& market = markets_[m];
  const Qty size = abs_qty(market.position);
  if (!size.is_positive() || !market.entry_value.is_positive()) return Price::from_raw(0);
  if (inverse())
    return Price::from_raw(div_round(
        static_cast<Int128>(size.raw()) * sim_.venue(options_.venue).market(m).listing().contract_size.raw(),
        market.entry_value.raw()));
  return Price::from_raw(div_round(static_cast<Int128>(market.entry_value.raw()) * kFixedScale, size.raw()));
}

// A market's position valued at the mark price, unsigned (0 without a mark).
Amount BinanceVenue::marked_value(std::size_t m) const {
  const Price mark = mark_price(m);
  return mark.is_set() ? position_value(m, mark, abs_qty(markets_[m].position)) : Amount{};
}

// An asset's margin account: its wallet with the profit its positions have not realized, and the margin its
// open orders and positions hold.
BinanceVenue::AssetMargin BinanceVenue::asset_margin(const sim::AssetBalance& b) const {
  AssetMargin a;
  for (std::size_t m = 0; m < markets_.size(); ++m)
    if (margin_asset(m) == b.asset) a.unrealized += unrealized_pnl(m);
  a.positions = position_margin(b.asset);
  a.initial = b.locked + a.positions;
  a.available = b.total + a.unrealized - a.initial;
  return a;
}

// A fill told moves our position as Binance's one-way mode does: the part that closes realizes its profit,
// the rest opens at the fill's price.
void BinanceVenue::book_position(Market& market, const Order& order, Trade& t) {
  const Qty signed_qty = order.side == Side::Buy ? t.qty : -t.qty;
  const Amount value = t.quote;
  if (market.position.is_zero() || market.position.is_negative() == signed_qty.is_negative()) {
    market.entry_value += value;
    market.position += signed_qty;
  } else {
    const Qty open = abs_qty(market.position);
    const Qty closing = std::min(t.qty, open);
    const Amount entry_part = Amount::from_raw(
        div_round(static_cast<Int128>(market.entry_value.raw()) * closing.raw(), open.raw()));
    const Amount exit_part =
        Amount::from_raw(div_round(static_cast<Int128>(value.raw()) * closing.raw(), t.qty.raw()));
    const bool long_position = market.position.is_positive();
    Amount pnl;
    if (inverse())
      pnl = long_position ? entry_part - exit_part : exit_part - entry_part;
    else
      pnl = long_position ? exit_part - entry_part : entry_part - exit_part;
    market.entry_value -= entry_part;
    market.position += order.side == Side::Buy ? closing : -closing;
    const Qty opening = t.qty - closing;
    if (opening.is_positive()) {
      market.position = order.side == Side::Buy ? opening : -opening;
      market.entry_value = value - exit_part;
    }
    if (market.position.is_zero()) market.entry_value = Amount{};
    t.realized_pnl = pnl;
    market.realized_pnl += pnl;
  }
  market.position_ms = t.time_ms;
}

bool BinanceVenue::parse_futures_order(const Params& params, OrderSpec& spec, const Origin& origin) {
  auto bad = [&](int code, const std::string& msg) {
    fail(origin, 400, code, msg);
    return false;
  };
  if (!parse_market_and_side(params, origin, spec)) return false;
  // One-way mode only: BOTH, or nothing.
  if (const std::string* ps = get(params, "positionSide"); ps != nullptr && *ps != "BOTH")
    return bad(-4061, "Order's position side does not match user's setting.");
  const std::string* type = get(params, "type");
  if (type == nullptr || type->empty()) return bad(kMandatoryParamEmptyOrMalformed, mandatory("type"));
  if (*type != "LIMIT" && *type != "MARKET") return bad(kInvalidOrderType, "Invalid orderType.");
  const std::string* tif = get(params, "timeInForce");
  if (*type == "LIMIT" && (tif == nullptr || tif->empty()))
    return bad(kMandatoryParamEmptyOrMalformed, mandatory("timeInForce"));
  const auto kind =
      parse_futures_order_kind(*type, *type == "LIMIT" ? std::string_view(*tif) : std::string_view{});
  if (!kind) return bad(kInvalidTimeInForce, "Invalid timeInForce.");
  spec.type = kind->type;
  spec.tif = kind->tif;
  const VenueListing& l = sim_.venue(options_.venue).market(spec.market).listing();
  if (!parse_qty_and_price(params, origin, spec)) return false;
  if (const std::string* r = get(params, "reduceOnly")) {
    if (*r != "true" && *r != "false")
      return bad(kInvalidParameter, "Data sent for parameter 'reduceOnly' is not valid.");
    spec.reduce_only = *r == "true";
  }
  if (const std::string* c = get(params, "closePosition"); c != nullptr && *c != "false")
    return bad(kInvalidParameter, "Data sent for parameter 'closePosition' is not valid.");
  if (!parse_client_id(params, origin, spec.client_id)) return false;
  spec.resp_type = "ACK";
  if (const std::string* r = get(params, "newOrderRespType")) {
    if (*r != "ACK" && *r != "RESULT")
      return bad(kInvalidParameter, "Data sent for parameter 'newOrderRespType' is not valid.");
    spec.resp_type = *r;
  }
  if (!futures_filters(l, spec.qty, spec.type == OrderType::Limit ? spec.price : Price::unset(), origin))
    return false;
  // A market order is valued at the touch it would take.
  const Price at = spec.type == OrderType::Limit
                       ? spec.price
                       : sim_.venue(options_.venue).market(spec.market).best(opposite(spec.side));
  if (below_min_notional(l, spec.reduce_only, at, spec.qty))
    return bad(kFuturesMinNotional, futures_min_notional_msg(l));
  // A reduce-only order may only reduce the position (as told by its fills), never increase or flip it.
  if (spec.reduce_only) {
    const Qty position = markets_[spec.market].position;
    const bool reduces = spec.side == Side::Buy ? position.is_negative() && spec.qty <= -position
                                                : position.is_positive() && spec.qty <= position;
    if (!reduces) return bad(kFuturesReduceOnlyRejected, "ReduceOnly Order is rejected.");
  }
  return true;
}

// The symbol's filters in futures' words: the quantity's, then the price's unless it is unset (a market
// order's).
bool BinanceVenue::futures_filters(const VenueListing& l, Qty qty, Price price, const Origin& origin) {
  auto bad = [&](int code, const std::string& msg) {
    fail(origin, 400, code, msg);
    return false;
  };
  if (!qty.is_positive()) return bad(-4003, "Quantity less than or equal to zero.");
  if (qty > kMaxQty) return bad(-4005, "Quantity greater than max quantity.");
  if (qty.raw() % l.lot_size.raw() != 0)
    return bad(kFuturesQtyOffStep, "Quantity not increased by step size.");
  if (!price.is_set()) return true;
  if (!price.is_positive()) return bad(-4001, "Price less than 0.");
  if (price > kMaxPrice) return bad(-4002, "Price greater than max price.");
  if (price.raw() % l.tick_size.raw() != 0)
    return bad(kFuturesPriceOffTick, "Price not increased by tick size.");
  return true;
}

// USD-M's minimum notional, at price `at` when it is set (COIN-M has none: its quantities are whole
// contracts; a reduce-only order is spared).
bool BinanceVenue::below_min_notional(const VenueListing& l, bool reduce_only, Price at, Qty qty) const {
  return !inverse() && !reduce_only && l.min_notional.is_positive() && at.is_set() &&
         quote_of(Notional::of(at, qty)) < l.min_notional;
}

void BinanceVenue::modify(const Params& params, const Origin& origin) {
  auto bad = [&](int code, const std::string& msg) { fail(origin, 400, code, msg); };
  Side side = Side::Buy;
  if (!parse_side_param(params, origin, side)) return;
  const std::string* q = get(params, "quantity");
  if (q == nullptr || q->empty()) return bad(kMandatoryParamEmptyOrMalformed, mandatory("quantity"));
  const std::string* p = get(params, "price");
  if (p == nullptr || p->empty()) return bad(kMandatoryParamEmptyOrMalformed, mandatory("price"));
  if (!decimal_syntax(*q)) return bad(kIllegalChars, illegal_decimal("quantity"));
  if (!decimal_syntax(*p)) return bad(kIllegalChars, illegal_decimal("price"));
  Qty new_qty;
  Price new_price;
  if (!Qty::parse(*q, new_qty)) return bad(kBadPrecision, "Parameter 'quantity' has too much precision.");
  if (!Price::parse(*p, new_price)) return bad(kBadPrecision, "Parameter 'price' has too much precision.");
  Order* o = find_order(params, origin, false);
  if (o == nullptr) return;
  if (!o->open || !o->acked || o->type != OrderType::Limit || cancels_.count(o->id))
    return bad(kNoSuchOrder, "Order does not exist.");
  if (side != o->side) return bad(kInvalidParameter, "Data sent for parameter 'side' is not valid.");
  const VenueListing& l = sim_.venue(options_.venue).market(o->market).listing();
  if (!futures_filters(l, new_qty, new_price, origin)) return;
  // The last modify waited for is what the order will be: the same again needs no modify.
  if (new_price == o->price && new_qty == o->qty && !modifies_.count(o->id))
    return bad(kFuturesNoNeedToModify, "No need to modify the order.");
  if (new_qty <= o->executed)
    return bad(-4000, "Invalid order status: the new quantity must exceed the executed quantity.");
  if (below_min_notional(l, o->reduce_only, new_price, new_qty))
    return bad(kFuturesMinNotional, futures_min_notional_msg(l));
  modifies_[o->id].push_back(ModifyWait{origin, false});
  const sim::SimVenue& venue = sim_.venue(options_.venue);
  AmendOrder amend;
  amend.client_order_id = ClientOrderId(o->id);
  amend.venue = venue.config().id;
  amend.instrument = l.instrument;
  amend.new_price = new_price;
  amend.new_qty = new_qty;
  (void)sim_.amend(options_.venue, amend);  // refused: the simulator's ReplaceRejected report answers it
}

void BinanceVenue::listen_key(Call call, const Params& params, std::string_view api_key,
                              const Origin& origin) {
  if (api_key.empty()) return fail(origin, 401, kBadApiKeyFormat, "API-key format invalid.");
  if (!options_.key || api_key != options_.key->key)
    return fail(origin, 401, kRejectedApiKey, "Invalid API-key, IP, or permissions for action.");
  const bool alive = !listen_key_.empty() && wall_now_ns_ < listen_key_expires_ns_;
  auto answer = [&] {
    std::string o = "{";
    str(o, "listenKey", listen_key_);
    o += '}';
    reply(origin, std::move(o));
  };
  if (call == Call::ListenKeyNew) {
    // The same key again while it is alive, its life renewed; else a new one (64 characters, as Binance's).
    if (!alive) {
      expire_listen_keys(wall_now_ns_);
      listen_key_ = hmac_sha256_hex("tranche listen key " + venue_config_.id.str(),
                                    std::to_string(++listen_keys_made_) + "@" + std::to_string(wall_now_ns_));
    }
    listen_key_expires_ns_ = wall_now_ns_ + kListenKeyLife;
    return answer();
  }
  const std::string* given = get(params, "listenKey");
  if (!alive || (given != nullptr && *given != listen_key_))
    return fail(origin, 400, -1125, "This listenKey does not exist.");
  if (call == Call::ListenKeyKeep) {
    listen_key_expires_ns_ = wall_now_ns_ + kListenKeyLife;
    return answer();
  }
  end_listen_key();  // closed: its streams end
  reply(origin, "{}");
}

// The listen key is gone: the connections on its user data stream are closed.
void BinanceVenue::end_listen_key() {
  close_connections(true);
  listen_key_.clear();
  listen_key_expires_ns_ = 0;
}

// Closes the WebSocket connections (only those on the user data stream, or all of them).
void BinanceVenue::close_connections(bool user_streams_only) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, conn] : conns_)
    if (conn.user_stream || !user_streams_only) ids.push_back(id);
  for (const std::uint64_t id : ids) {
    on_ws_close(id);
    out_.close(id);
  }
}

void BinanceVenue::expire_listen_keys(TimestampNs wall_ns) {
  wall_now_ns_ = std::max(wall_now_ns_, wall_ns);
  if (listen_key_.empty()) return;
  std::string e = "{";
  str(e, "e", "listenKeyExpired");
  num(e, "E", wall_ns / kNanosPerMilli);
  str(e, "listenKey", listen_key_);
  e += '}';
  user_event(e);
  end_listen_key();
}

std::string BinanceVenue::futures_order_json(const Order& order) const {
  const std::string_view tif = futures_time_in_force_name(order.type, order.tif);
  const std::string_view type = futures_order_type_name(order.type);
  std::string o = "{";
  num(o, "orderId", static_cast<std::int64_t>(order.id));
  str(o, "symbol", markets_[order.market].symbol);
  if (inverse()) str(o, "pair", markets_[order.market].base + "USD");
  str(o, "status", order_status_name(order.status));
  str(o, "clientOrderId", order.client_id);
  str(o, "price", order.type == OrderType::Market ? std::string("0") : dec(order.price));
  str(o, "avgPrice",
      order.executed.is_positive() ? dec(order.quote.average_price(order.executed))
                                   : std::string("0.00000000"));
  str(o, "origQty", dec(order.qty));
  str(o, "executedQty", dec(order.executed));
  str(o, "cumQty", dec(order.executed));
  if (inverse())
    str(o, "cumBase", dec(order.cum_value));
  else
    str(o, "cumQuote", dec(quote_of(order.quote)));
  str(o, "timeInForce", tif.empty() ? "GTC" : tif);
  str(o, "type", type);
  boolean(o, "reduceOnly", order.reduce_only);
  boolean(o, "closePosition", false);
  str(o, "side", side_name(order.side));
  str(o, "positionSide", "BOTH");
  str(o, "stopPrice", "0");
  str(o, "workingType", "CONTRACT_PRICE");
  boolean(o, "priceProtect", false);
  str(o, "origType", type);
  str(o, "priceMatch", "NONE");
  str(o, "selfTradePreventionMode", "NONE");
  num(o, "goodTillDate", 0);
  num(o, "time", order.time_ms);
  num(o, "updateTime", order.update_ms);
  o += '}';
  return o;
}

std::string BinanceVenue::order_trade_update(const Order& order, std::string_view exec_type,
                                             const Trade* trade, TimestampNs venue_ns) const {
  const std::string_view tif = futures_time_in_force_name(order.type, order.tif);
  const std::string_view type = futures_order_type_name(order.type);
  std::string o = "{";
  str(o, "e", "ORDER_TRADE_UPDATE");
  num(o, "E", wall_ms(sim_.now()));
  num(o, "T", wall_ms(venue_ns));
  key(o, "o");
  o += '{';
  str(o, "s", markets_[order.market].symbol);
  str(o, "c", order.client_id);
  str(o, "S", side_name(order.side));
  str(o, "o", type);
  str(o, "f", tif.empty() ? "GTC" : tif);
  str(o, "q", dec(order.qty));
  str(o, "p", order.type == OrderType::Market ? std::string("0") : dec(order.price));
  str(o, "ap",
      order.executed.is_positive() ? dec(order.quote.average_price(order.executed)) : std::string("0"));
  str(o, "sp", "0");
  str(o, "x", exec_type);
  str(o, "X", order_status_name(order.status));
  num(o, "i", static_cast<std::int64_t>(order.id));
  str(o, "l", trade ? dec(trade->qty) : std::string("0"));
  str(o, "z", dec(order.executed));
  str(o, "L", trade ? dec(trade->price) : std::string("0"));
  if (trade) {
    str(o, "N", trade->commission_asset);
    str(o, "n", dec(trade->commission));
  }
  num(o, "T", wall_ms(venue_ns));
  num(o, "t", trade ? static_cast<std::int64_t>(trade->id) : 0);
  str(o, "b", "0");
  str(o, "a", "0");
  boolean(o, "m", trade ? trade->maker : false);
  boolean(o, "R", order.reduce_only);
  str(o, "wt", "CONTRACT_PRICE");
  str(o, "ot", type);
  str(o, "ps", "BOTH");
  boolean(o, "cp", false);
  str(o, "rp", trade ? dec(trade->realized_pnl) : std::string("0"));
  boolean(o, "pP", false);
  num(o, "si", 0);
  num(o, "ss", 0);
  str(o, "V", "NONE");
  str(o, "pm", "NONE");
  num(o, "gtd", 0);
  o += "}}";
  return o;
}

void BinanceVenue::account_update(const Order& order, TimestampNs venue_ns) {
  const Market& market = markets_[order.market];
  const std::string& asset = margin_asset(order.market);
  const sim::AssetBalance* b = sim_.venue(options_.venue).balance(asset);
  const Amount wallet = b ? b->total : Amount{};
  std::string o = "{";
  str(o, "e", "ACCOUNT_UPDATE");
  num(o, "E", wall_ms(sim_.now()));
  num(o, "T", wall_ms(venue_ns));
  key(o, "a");
  o += '{';
  str(o, "m", "ORDER");
  key(o, "B");
  o += "[{";
  str(o, "a", asset);
  str(o, "wb", dec(wallet));
  str(o, "cw", dec(wallet));
  str(o, "bc", "0");
  o += "}]";
  key(o, "P");
  o += "[{";
  str(o, "s", market.symbol);
  str(o, "pa", dec(market.position));
  const Price entry = entry_price(order.market);
  str(o, "ep", dec(entry));
  str(o, "bep", dec(entry));
  str(o, "cr", dec(market.realized_pnl));
  str(o, "up", dec(unrealized_pnl(order.market)));
  str(o, "mt", "cross");
  str(o, "iw", "0");
  str(o, "ps", "BOTH");
  if (inverse()) str(o, "ma", asset);
  o += "}]}}";
  user_event(o);
}

// An array of one object per market: the market "symbol" names, else every market.
void BinanceVenue::reply_per_market(const Params& params, const Origin& origin,
                                    const std::function<void(std::string&, std::size_t)>& item) {
  int only = -1;
  if (!optional_market(params, origin, only)) return;
  std::string o = "[";
  for (std::size_t m = 0; m < markets_.size(); ++m) {
    if (only >= 0 && m != static_cast<std::size_t>(only)) continue;
    comma(o);
    item(o, m);
  }
  o += ']';
  reply(origin, std::move(o));
}

void BinanceVenue::positions(const Params& params, const Origin& origin) {
  const Amount leverage = sim_.venue(options_.venue).sim().leverage;
  reply_per_market(params, origin, [&](std::string& o, std::size_t m) {
    const Market& market = markets_[m];
    const Price entry = entry_price(m);
    const Price mark = mark_price(m);
    const Amount value = marked_value(m);
    const Amount notional = market.position.is_negative() ? -value : value;
    const Amount margin = initial_margin(m);
    o += '{';
    str(o, "symbol", market.symbol);
    str(o, "positionSide", "BOTH");
    str(o, "positionAmt", dec(market.position));
    str(o, "entryPrice", dec(entry));
    str(o, "breakEvenPrice", dec(entry));
    str(o, "markPrice", mark.is_set() ? dec(mark) : std::string("0"));
    str(o, "unRealizedProfit", dec(unrealized_pnl(m)));
    str(o, "liquidationPrice", "0");
    str(o, "leverage", leverage.to_string());
    str(o, "marginType", "cross");
    str(o, "isolatedMargin", "0");
    str(o, "isAutoAddMargin", "false");
    str(o, "isolatedWallet", "0");
    if (inverse()) {
      str(o, "notionalValue", dec(notional));
      str(o, "maxQty", dec(kMaxQty));
    } else {
      str(o, "notional", dec(notional));
      str(o, "maxNotionalValue", dec(kMaxPositionValue));
    }
    str(o, "marginAsset", margin_asset(m));
    str(o, "initialMargin", dec(margin));
    str(o, "maintMargin", dec(Amount::from_raw(div_round(static_cast<Int128>(value.raw()) * 4, 1000))));
    str(o, "positionInitialMargin", dec(margin));
    str(o, "openOrderInitialMargin", "0");
    num(o, "adl", 0);
    str(o, "bidNotional", "0");
    str(o, "askNotional", "0");
    num(o, "updateTime", market.position_ms);
    o += '}';
  });
}

// An asset's cross margin fields, as balance and account end each asset with them.
void BinanceVenue::cross_margin_json(std::string& o, const sim::AssetBalance& b, const AssetMargin& a) const {
  str(o, "crossWalletBalance", dec(b.total));
  str(o, "crossUnPnl", dec(a.unrealized));
  str(o, "availableBalance", dec(a.available));
  str(o, "maxWithdrawAmount", dec(a.available));
  if (inverse()) str(o, "withdrawAvailable", dec(a.available));
  boolean(o, "marginAvailable", true);
  num(o, "updateTime", wall_now_ns_ / kNanosPerMilli);
}

void BinanceVenue::futures_balance(const Origin& origin) {
  std::string o = "[";
  for (const sim::AssetBalance& b : sim_.venue(options_.venue).balances()) {
    const AssetMargin a = asset_margin(b);
    comma(o);
    o += '{';
    str(o, "accountAlias", "tranche");
    str(o, "asset", b.asset);
    str(o, "balance", dec(b.total));
    cross_margin_json(o, b, a);
    o += '}';
  }
  o += ']';
  reply(origin, std::move(o));
}

void BinanceVenue::futures_account(const Origin& origin) {
  const std::int64_t now_ms = wall_now_ns_ / kNanosPerMilli;
  std::string assets = "[";
  Amount total_wallet, total_unrealized, total_initial, total_orders, total_positions, total_available;
  const std::string& main = margin_asset(0);
  for (const sim::AssetBalance& b : sim_.venue(options_.venue).balances()) {
    const AssetMargin a = asset_margin(b);
    if (b.asset == main) {
      total_wallet = b.total;
      total_unrealized = a.unrealized;
      total_initial = a.initial;
      total_orders = b.locked;
      total_positions = a.positions;
      total_available = a.available;
    }
    comma(assets);
    assets += '{';
    str(assets, "asset", b.asset);
    str(assets, "walletBalance", dec(b.total));
    str(assets, "unrealizedProfit", dec(a.unrealized));
    str(assets, "marginBalance", dec(b.total + a.unrealized));
    str(assets, "maintMargin", "0.00000000");
    str(assets, "initialMargin", dec(a.initial));
    str(assets, "positionInitialMargin", dec(a.positions));
    str(assets, "openOrderInitialMargin", dec(b.locked));
    cross_margin_json(assets, b, a);
    assets += '}';
  }
  assets += ']';
  const Amount leverage = sim_.venue(options_.venue).sim().leverage;
  std::string positions = "[";
  for (std::size_t m = 0; m < markets_.size(); ++m) {
    const Market& market = markets_[m];
    const Amount value = marked_value(m);
    comma(positions);
    positions += '{';
    str(positions, "symbol", market.symbol);
    str(positions, "positionSide", "BOTH");
    str(positions, "positionAmt", dec(market.position));
    str(positions, "unrealizedProfit", dec(unrealized_pnl(m)));
    str(positions, "isolatedMargin", "0");
    str(positions, inverse() ? "notionalValue" : "notional",
        dec(market.position.is_negative() ? -value : value));
    str(positions, "isolatedWallet", "0");
    str(positions, "leverage", leverage.to_string());
    boolean(positions, "isolated", false);
    num(positions, "updateTime", market.position_ms);
    positions += '}';
  }
  positions += ']';
  std::string o = "{";
  if (!inverse()) {
    str(o, "totalInitialMargin", dec(total_initial));
    str(o, "totalMaintMargin", "0.00000000");
    str(o, "totalWalletBalance", dec(total_wallet));
    str(o, "totalUnrealizedProfit", dec(total_unrealized));
    str(o, "totalMarginBalance", dec(total_wallet + total_unrealized));
    str(o, "totalPositionInitialMargin", dec(total_positions));
    str(o, "totalOpenOrderInitialMargin", dec(total_orders));
    str(o, "totalCrossWalletBalance", dec(total_wallet));
    str(o, "totalCrossUnPnl", dec(total_unrealized));
    str(o, "availableBalance", dec(total_available));
    str(o, "maxWithdrawAmount", dec(total_available));
  }
  num(o, "feeTier", 0);
  boolean(o, "canTrade", true);
  boolean(o, "canDeposit", false);
  boolean(o, "canWithdraw", false);
  num(o, "updateTime", now_ms);
  raw(o, "assets", assets);
  raw(o, "positions", positions);
  o += '}';
  reply(origin, std::move(o));
}

void BinanceVenue::leverage_bracket(const Params& params, const Origin& origin) {
  const Amount leverage = sim_.venue(options_.venue).sim().leverage;
  reply_per_market(params, origin, [&](std::string& o, std::size_t m) {
    o += '{';
    str(o, "symbol", markets_[m].symbol);
    raw(o, "notionalCoef", "1.0");
    key(o, "brackets");
    o += "[{";
    num(o, "bracket", 1);
    num(o, "initialLeverage", std::max<std::int64_t>(1, leverage.raw() / kFixedScale));
    raw(o, inverse() ? "qtyCap" : "notionalCap", "9000000000");
    raw(o, inverse() ? "qtyFloor" : "notionalFloor", "0");
    raw(o, "maintMarginRatio", kMaintMarginRatio);
    raw(o, "cum", "0.0");
    o += "}]}";
  });
}

void BinanceVenue::publish_mark_prices(int kind) {
  const std::int64_t now_ms = wall_ms(sim_.now());
  for (std::size_t m = 0; m < markets_.size(); ++m) {
    if (markets_[m].subs[kind] == 0) continue;
    const Price mark = mark_price(m);
    if (!mark.is_set()) continue;
    std::string e = "{";
    str(e, "e", "markPriceUpdate");
    num(e, "E", now_ms);
    str(e, "s", markets_[m].symbol);
    str(e, "p", dec(mark));
    str(e, "i", dec(mark));
    str(e, "P", dec(mark));
    str(e, "r", "0.00010000");
    num(e, "T", (now_ms / kFundingIntervalMs + 1) * kFundingIntervalMs);
    e += '}';
    publish_to(m, kind, e);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Outages and the control endpoints

void BinanceVenue::disconnect_for(DurationNs duration_ns, TimestampNs wall_ns) {
  wall_now_ns_ = wall_ns;
  down_until_ns_ = wall_ns + duration_ns;
  // REST calls still waited for: their outcome is unknown to the client (a 5xx), though the venue decides
  // them all the same.
  auto cut = [&](Origin& origin) {
    if (origin.ws || origin.id == 0) return;
    fail(origin, 503, kDisconnected, kDisconnectedMsg);
    origin.id = 0;
  };
  for (auto& [order, wait] : places_) cut(wait.origin);
  for (auto& [order, wait] : cancels_) cut(wait.origin);
  for (auto& [order, waits] : modifies_)
    for (ModifyWait& wait : waits) cut(wait.origin);
  for (auto& [g, group] : groups_) cut(group->origin);
  close_connections(false);
}

void BinanceVenue::control(const HttpRequest& request, std::uint64_t token, TimestampNs wall_ns) {
  HttpResponse response;
  auto params = parse_query(request.query);
  auto number = [&](std::string_view name, std::int64_t fallback) {
    std::int64_t v = fallback;
    if (params)
      if (const std::string* s = get(*params, name); s && (!parse_int(*s, v) || v < 0))
        return std::int64_t{-1};
    return v;
  };
  // A day at most: longer is no test of anything, and a huge one would overflow the nanoseconds.
  constexpr std::int64_t kMaxControlMs = 86'400'000;
  if (request.path == "/tranche/control/disconnect" && request.method == "POST") {
    const std::int64_t ms = number("ms", 1000);
    if (ms < 0 || ms > kMaxControlMs) {
      response.status = 400;
      response.body = error_json(kMandatoryParamEmptyOrMalformed, "ms must be an integer from 0 to 86400000");
    } else {
      disconnect_for(ms * kNanosPerMilli, wall_ns);
      response.body = "{\"down_until\":" + std::to_string(down_until_ns_ / kNanosPerMilli) + "}";
    }
  } else if (request.path == "/tranche/control/fill-after-cancel" && request.method == "POST") {
    const std::int64_t count = number("count", 1);
    const std::int64_t hold_ms = number("max_hold_ms", 30000);
    if (count < 0 || count > 1'000'000 || hold_ms < 0 || hold_ms > kMaxControlMs) {
      response.status = 400;
      response.body = error_json(kMandatoryParamEmptyOrMalformed,
                                 "count (0 to 1000000) and max_hold_ms (0 to 86400000) must be integers");
    } else {
      // The hold is in the replay's time: the wall's at the exchange's speed.
      sim_.hold_next_cancels(
          options_.venue, static_cast<int>(count),
          static_cast<DurationNs>(static_cast<double>(hold_ms * kNanosPerMilli) * options_.speed));
      response.body = "{\"held_cancels\":" + std::to_string(count) + "}";
    }
  } else if (request.path == "/tranche/control/expire-listen-keys" && request.method == "POST") {
    const bool had = !listen_key_.empty();
    expire_listen_keys(wall_ns);
    response.body = std::string("{\"expired\":") + (had ? "1" : "0") + "}";
  } else if (request.path == "/tranche/control/status" && request.method == "GET") {
    response.body = executed_json();
  } else {
    response.status = 404;
    response.body = error_json(kUnknown, "no such control endpoint");
  }
  out_.respond(token, std::move(response));
}

std::string BinanceVenue::executed_json() const {
  std::size_t open = 0;
  for (const auto& [id, o] : orders_) open += o->open && o->acked;
  std::string o = "{";
  str(o, "venue", venue_config_.id.str());
  num(o, "orders", static_cast<std::int64_t>(orders_.size()));
  num(o, "fills", static_cast<std::int64_t>(fills_));
  str(o, "bought", bought_.to_string());
  str(o, "sold", sold_.to_string());
  num(o, "open", static_cast<std::int64_t>(open));
  num(o, "client_ids_reused", static_cast<std::int64_t>(client_ids_reused_));
  o += '}';
  return o;
}

}  // namespace tranche::gateway::binance
