#include "gateway/binance_session.hpp"

#include <simdjson.h>

#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>
#include <variant>

#include "gateway/api_key.hpp"
#include "gateway/binance_orders.hpp"
#include "gateway/binance_payloads.hpp"
#include "gateway/binance_protocol.hpp"
#include "gateway/net.hpp"
#include "gateway/rate_limits.hpp"

namespace tranche::gateway {

NetworkThread::NetworkThread() : io_(std::make_unique<net::IoThread>()) {}
NetworkThread::~NetworkThread() = default;

namespace {

namespace dom = simdjson::dom;
using binance::decimal_of;
using binance::int_of;
using binance::millis_of;
using binance::Params;
using binance::text_of;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One of Binance's endpoints: its REST path, its WebSocket API method, and what it costs.
struct Endpoint {
  net::http::verb verb;
  std::string path;
  const char* ws_method;
  std::int64_t weight;
  bool order;    // counts against the ORDERS limits
  bool signed_;  // SIGNED: timestamp, recvWindow, signature
};

// A market's endpoints. Spot (/api/v3) amends by cancel-replace and hears user data over the WebSocket API;
// USD-M (/fapi) and COIN-M (/dapi) amend in place (PUT order: the ids stay) and hear user data on a stream
// opened with a listen key. Weights as each market's documentation gives them.
struct Api {
  Endpoint time, exchange_info, new_order, cancel, query, amend, open_orders, trades;
  Endpoint listen_key_new, listen_key_keep, positions, balances;  // futures only
};
Api spot_api() {
  using V = net::http::verb;
  return Api{{V::get, "/api/v3/time", "time", 1, false, false},
             {V::get, "/api/v3/exchangeInfo", "exchangeInfo", 20, false, false},
             {V::post, "/api/v3/order", "order.place", 1, true, true},
             {V::delete_, "/api/v3/order", "order.cancel", 1, false, true},
             {V::get, "/api/v3/order", "order.status", 4, false, true},
             {V::post, "/api/v3/order/cancelReplace", "order.cancelReplace", 1, true, true},
             {V::get, "/api/v3/openOrders", "openOrders.status", 6, false, true},
             {V::get, "/api/v3/myTrades", "myTrades", 5, false, true},
             {},
             {},
             {},
             {}};
}
Api futures_api(bool usdm) {
  using V = net::http::verb;
  const std::string p = usdm ? "/fapi/v1" : "/dapi/v1";
  // USD-M's positions and balances moved to v2; COIN-M's stayed at v1.
  const std::string account = usdm ? "/fapi/v2" : "/dapi/v1";
  return Api{{V::get, p + "/time", "", 1, false, false},
             {V::get, p + "/exchangeInfo", "", 1, false, false},
             {V::post, p + "/order", "", 1, true, true},
             {V::delete_, p + "/order", "", 1, false, true},
             {V::get, p + "/order", "", 1, false, true},
             {V::put, p + "/order", "", 1, true, true},
             {V::get, p + "/openOrders", "", 1, false, true},
             {V::get, p + "/userTrades", "", 5, false, true},
             {V::post, p + "/listenKey", "", 1, false, false},
             {V::put, p + "/listenKey", "", 1, false, false},
             {V::get, account + "/positionRisk", "", 5, false, true},
             {V::get, account + "/balance", "", 5, false, true}};
}
// A listen key lives 60 minutes from its last keep-alive; Binance asks for one every 30 at most.
constexpr auto kListenKeyKeepAlive = std::chrono::minutes(30);
constexpr int kListenKeyUnknown = -1125;

// A parameter the WebSocket API wants as a JSON number rather than a string.
bool numeric_param(std::string_view key) {
  return key == "timestamp" || key == "recvWindow" || key == "orderId" || key == "fromId" ||
         key == "startTime" || key == "endTime" || key == "limit";
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buffer;
    } else {
      out += c;
    }
  }
  out += '"';
}

// COIN-M's exchangeInfo writes contractSize as a JSON number (10), not a string.
bool int_contract_size(dom::element e, Amount& out) {
  std::int64_t n = 0;
  if (e["contractSize"].get_int64().get(n) != simdjson::SUCCESS) return false;
  out = Amount::from_units(n);
  return true;
}

// What an answer to a request says, whichever way it came (REST or the WebSocket API).
struct Answer {
  int http_status = 0;  // 0: no answer
  bool timed_out = false;
  bool not_sent = false;  // refused by us before sending (rate limit, connection down)
  int code = 0;           // Binance's error code
  std::string message;    // its msg, or the transport's failure
  std::string body;       // the result's JSON on success; the error's on failure
  bool ok() const { return http_status == 200; }
  // For a message: what went wrong, or the start of what came instead.
  std::string what() const { return message.empty() ? body.substr(0, 80) : message; }
  // Whether the request's fate at the venue is unknown: it may have been acted on.
  bool outcome_unknown() const {
    return !not_sent && (timed_out || http_status == 0 || binance::outcome_unknown(code, http_status));
  }
};

}  // namespace

struct BinanceSession::Impl : std::enable_shared_from_this<Impl> {
  using Item = std::variant<ExecutionReport, VenueStatusReport>;

  Impl(const VenueConfig& v, net::IoThread& i, ApiKey k, const BinanceSessionOptions& o)
      : venue(v),
        cfg(*v.binance),
        io(i),
        key(std::move(k)),
        signer(key.secret),
        options(o),
        futures(v.market == "usdm" || v.market == "coinm"),
        api(futures ? futures_api(v.market == "usdm") : spot_api()),
        tracker(venue, cfg.client_order_prefix) {}

  VenueConfig venue;
  VenueBinanceConfig cfg;
  net::IoThread& io;
  ApiKey key;
  binance::Signer signer;  // keyed once; I/O thread
  BinanceSessionOptions options;
  const bool futures;  // USD-M or COIN-M: listen keys, modify in place, futures' words
  const Api api;
  std::string listen_key;  // futures: the user data stream's; I/O thread
  std::shared_ptr<net::asio::ssl::context> tls;
  std::shared_ptr<net::HttpsClient> rest;
  // Spot: the WebSocket API (orders if order_api = "websocket", and user data). Futures: the user data
  // stream (stream_url/ws/<listen key>).
  std::shared_ptr<net::WsClient> ws_api;
  binance::OrderTracker tracker;  // I/O thread
  RateLimits limits;              // I/O thread
  dom::parser parser;             // I/O thread
  std::atomic<std::int64_t> offset_ms{0};
  std::atomic<bool> subscribed{false};
  std::atomic<bool> stopped{false};
  std::atomic<std::uint64_t> repeated_trades{0};  // trades heard again (the venue repeating, or two sources)

  // WebSocket API requests awaiting their answer.
  struct WsPending {
    std::function<void(Answer)> done;
    std::shared_ptr<net::asio::steady_timer> timer;
  };
  std::unordered_map<std::string, WsPending> ws_pending;
  std::uint64_t ws_sequence = 0;
  // New orders whose answer was lost: their sending time (venue ms), until a query settles them.
  std::unordered_map<std::uint64_t, std::int64_t> uncertain;
  // Children whose status is told once their missing trades are in.
  std::unordered_map<std::uint64_t, int> status_after_trades;
  std::function<void(Status)> on_started;  // start(): called once, when ready or failed

  mutable std::mutex mutex;  // guards the queue and the unreadable record
  std::vector<Item> queue;
  std::uint64_t unreadable_count = 0;
  std::deque<std::string> unreadable_last;

  // --- small helpers ---
  std::int64_t venue_now_ms() const { return wall_ms() + offset_ms.load(); }
  const VenueListing* listing_of(const InstrumentId& instrument) const { return venue.listing(instrument); }
  void push(Item item) {
    std::lock_guard lock(mutex);
    queue.push_back(std::move(item));
  }
  void push_all(std::vector<ExecutionReport>& reports) {
    if (reports.empty()) return;
    std::lock_guard lock(mutex);
    for (auto& r : reports) queue.emplace_back(std::move(r));
    reports.clear();
  }
  void note_unreadable(std::string why) {
    std::lock_guard lock(mutex);
    ++unreadable_count;
    if (unreadable_last.size() == 100) unreadable_last.pop_front();
    unreadable_last.push_back(std::move(why));
  }
  void push_status(VenueState state, const std::string& text) {
    VenueStatusReport s;
    s.venue = venue.id;
    s.state = state;
    s.text = FixedString<95>(text);
    s.venue_ns = venue_now_ms() * kNanosPerMilli;
    push(s);
  }
  void refuse(const ClientOrderId& child, const InstrumentId& instrument, ExecType type, RejectReason reason,
              const std::string& why) {
    ExecutionReport r;
    r.client_order_id = child;
    r.venue = venue.id;
    r.instrument = instrument;
    r.exec_type = type;
    r.status = type == ExecType::Rejected ? OrderStatus::Rejected : OrderStatus::New;
    r.reject_reason = reason;
    r.text = FixedString<95>(why);
    push(r);
  }

  // --- requests ---
  void call(const Endpoint& endpoint, Params params, std::function<void(Answer)> done, bool via_ws) {
    const std::int64_t now = venue_now_ms();
    if (const std::int64_t wait = limits.admit(now, endpoint.weight, endpoint.order); wait > 0) {
      Answer a;
      a.not_sent = true;
      a.code = binance::kTooManyRequests;
      a.message = "not sent: " + limits.describe_refusal(now, endpoint.weight, endpoint.order);
      return done(std::move(a));
    }
    if (endpoint.signed_) {
      params.emplace_back("recvWindow", std::to_string(cfg.recv_window_ns / kNanosPerMilli));
      params.emplace_back("timestamp", std::to_string(now));
    }
    if (via_ws)
      ws_call(endpoint, std::move(params), std::move(done));
    else
      rest_call(endpoint, std::move(params), std::move(done));
  }
  bool orders_over_ws() const { return !futures && cfg.order_api == "websocket"; }
  RejectReason reason_of(const Answer& a) const {
    if (a.not_sent) return RejectReason::RateLimited;
    return futures ? binance::futures_reject_reason(a.code, a.message)
                   : binance::reject_reason(a.code, a.message);
  }

  void rest_call(const Endpoint& endpoint, const Params& params, std::function<void(Answer)> done) {
    std::string query = binance::query_string(params);
    if (endpoint.signed_) {
      const std::size_t signed_length = query.size();
      query += query.empty() ? "signature=" : "&signature=";
      signer.sign(std::string_view(query).substr(0, signed_length), query);
    }
    net::HttpRequest request;
    request.method = endpoint.verb;
    request.timeout = std::chrono::milliseconds(cfg.request_timeout_ns / kNanosPerMilli);
    if (endpoint.verb == net::http::verb::post) {
      request.target = endpoint.path;
      request.body = query;
    } else {
      request.target = std::string(endpoint.path) + (query.empty() ? "" : "?" + query);
    }
    request.headers.emplace_back("X-MBX-APIKEY", key.key);
    rest->request(std::move(request), [self = shared_from_this(), done = std::move(done)](
                                          net::HttpResponse r) { self->on_rest_answer(std::move(r), done); });
  }

  void on_rest_answer(net::HttpResponse r, const std::function<void(Answer)>& done) {
    const std::int64_t now = venue_now_ms();
    for (const auto& [name, value] : r.headers) {
      const auto rule = binance_usage_header(name);
      std::int64_t used = 0;
      if (rule && std::from_chars(value.data(), value.data() + value.size(), used).ec == std::errc{})
        limits.sync(rule->kind, rule->interval_ms, used, now);
    }
    Answer a;
    a.http_status = r.status;
    a.timed_out = r.timed_out;
    if (r.status == 0) {
      a.message = r.error;
      return done(std::move(a));
    }
    if (r.status == 429 || r.status == 418) {
      std::int64_t seconds = 0;
      const std::string_view retry = r.header("retry-after");
      if (std::from_chars(retry.data(), retry.data() + retry.size(), seconds).ec != std::errc{} ||
          seconds <= 0)
        seconds = r.status == 418 ? 120 : 60;  // no Retry-After: a long pause rather than a hammer
      limits.ban_until(now + seconds * 1000);
      note_unreadable("the venue answered " + std::to_string(r.status) + ": everything stops for " +
                      std::to_string(seconds) + " s");
    }
    if (r.status != 200) {
      dom::element e;
      std::string_view msg;
      if (parser.parse(r.body).get(e) == simdjson::SUCCESS && e.is_object()) {
        std::int64_t code = 0;
        if (int_of(e, "code", code)) a.code = static_cast<int>(code);
        if (text_of(e, "msg", msg)) a.message = std::string(msg);
      }
      if (a.message.empty())
        a.message = "HTTP " + std::to_string(r.status) + (r.body.empty() ? "" : ": " + r.body.substr(0, 80));
    }
    a.body = std::move(r.body);
    done(std::move(a));
  }

  void ws_call(const Endpoint& endpoint, Params params, std::function<void(Answer)> done) {
    if (endpoint.signed_) {
      params.emplace_back("apiKey", key.key);
      std::string signature;
      signer.sign(binance::ws_api_payload(params), signature);
      params.emplace_back("signature", std::move(signature));
    }
    const std::string id = "t" + std::to_string(++ws_sequence);
    std::string json = "{\"id\":\"" + id + "\",\"method\":\"" + endpoint.ws_method + "\"";
    if (!params.empty()) {
      json += ",\"params\":{";
      bool first = true;
      for (const auto& [k, v] : params) {
        if (!first) json += ',';
        first = false;
        append_json_string(json, k);
        json += ':';
        if (numeric_param(k))
          json += v;
        else
          append_json_string(json, v);
      }
      json += '}';
    }
    json += '}';
    auto timer = std::make_shared<net::asio::steady_timer>(io.context());
    timer->expires_after(std::chrono::milliseconds(cfg.request_timeout_ns / kNanosPerMilli));
    ws_pending[id] = WsPending{std::move(done), timer};
    timer->async_wait([self = shared_from_this(), id](const boost::system::error_code& ec) {
      if (ec) return;
      self->finish_ws(id, [](Answer& a) {
        a.timed_out = true;
        a.message = "no answer in time on the WebSocket API";
      });
    });
    if (!ws_api->send(std::move(json)))
      finish_ws(id, [](Answer& a) {
        a.not_sent = true;
        a.message = "the WebSocket API is not connected";
      });
  }

  template <class Fill>
  void finish_ws(const std::string& id, Fill fill) {
    const auto it = ws_pending.find(id);
    if (it == ws_pending.end()) return;
    WsPending pending = std::move(it->second);
    ws_pending.erase(it);
    pending.timer->cancel();
    Answer a;
    fill(a);
    pending.done(std::move(a));
  }

  void on_ws_message(std::string_view text) {
    dom::element e;
    if (parser.parse(text.data(), text.size()).get(e) != simdjson::SUCCESS || !e.is_object())
      return note_unreadable("the WebSocket API sent what is not a JSON object: " +
                             std::string(text.substr(0, 120)));
    if (futures) return on_futures_event(e);
    dom::element event;
    if (e["event"].get(event) == simdjson::SUCCESS) return on_user_event(event);
    std::string_view id;
    if (!text_of(e, "id", id)) {
      std::int64_t numeric = 0;
      if (!int_of(e, "id", numeric))
        return note_unreadable("a WebSocket API message with neither an id nor an event: " +
                               std::string(text.substr(0, 120)));
    }
    std::int64_t status = 0;
    int_of(e, "status", status);
    Answer a;
    a.http_status = static_cast<int>(status);
    dom::array limits_array;
    if (e["rateLimits"].get(limits_array) == simdjson::SUCCESS) {
      const std::int64_t now = venue_now_ms();
      for (dom::element limit : limits_array) {
        std::string_view type, interval;
        std::int64_t num = 0, count = 0, cap = 0;
        if (!text_of(limit, "rateLimitType", type) || !text_of(limit, "interval", interval) ||
            !int_of(limit, "intervalNum", num) || !int_of(limit, "count", count))
          continue;
        int_of(limit, "limit", cap);
        if (const auto rule = binance_rate_limit(type, interval, num, std::max<std::int64_t>(cap, 1)))
          limits.sync(rule->kind, rule->interval_ms, count, now);
      }
    }
    dom::element result;
    if (e["result"].get(result) == simdjson::SUCCESS) {
      a.body = simdjson::minify(result);
    } else {
      dom::element error;
      if (e["error"].get(error) == simdjson::SUCCESS) {
        std::int64_t code = 0;
        std::string_view msg;
        if (int_of(error, "code", code)) a.code = static_cast<int>(code);
        if (text_of(error, "msg", msg)) a.message = std::string(msg);
        a.body = simdjson::minify(error);
        dom::element data;
        std::int64_t retry_after = 0;
        if ((status == 429 || status == 418) && error["data"].get(data) == simdjson::SUCCESS &&
            int_of(data, "retryAfter", retry_after))
          limits.ban_until(retry_after);
        else if (status == 429 || status == 418)
          limits.ban_until(venue_now_ms() + (status == 418 ? 120'000 : 60'000));
      }
      if (a.http_status == 200 || a.http_status == 0)
        a.http_status = a.http_status == 0 ? 500 : a.http_status;
    }
    std::string key_id = id.empty() ? std::string() : std::string(id);
    if (key_id.empty()) {
      std::int64_t numeric = 0;
      int_of(e, "id", numeric);
      key_id = std::to_string(numeric);
    }
    if (ws_pending.count(key_id) == 0)
      return note_unreadable("an answer on the WebSocket API to no request of ours (id " + key_id + ")");
    finish_ws(key_id, [&](Answer& out) { out = std::move(a); });
  }

  // --- what Binance says of orders ---
  std::optional<binance::OrderFacts> order_facts(std::string_view json, const char* id_key,
                                                 std::string& why) {
    dom::element e;
    if (parser.parse(json.data(), json.size()).get(e) != simdjson::SUCCESS || !e.is_object()) {
      why = "an order answer that is not a JSON object: " + std::string(json.substr(0, 120));
      return std::nullopt;
    }
    return order_facts(e, id_key, why);
  }
  std::optional<binance::OrderFacts> order_facts(dom::element e, const char* id_key, std::string& why) {
    return binance::read_order_facts(e, id_key, why);
  }

  void apply(const binance::OrderFacts& facts, bool as_status, const std::string& symbol) {
    std::vector<ExecutionReport> out;
    const binance::Applied a = as_status ? tracker.status(facts, out) : tracker.apply(facts, out);
    push_all(out);
    if (!a.known) {
      note_unreadable(
          "a report for order " +
          (facts.client_order_id.empty() ? std::to_string(facts.order_id) : facts.client_order_id) +
          ", which is not one of ours");
      return;
    }
    if (!a.problem.empty()) note_unreadable(a.problem);
    if (a.repeated) repeated_trades.fetch_add(1);
    if (a.order_id == -1) {
      // The new order of a cancel-replace could take the child past its quantity: canceled at once.
      if (const auto parsed = binance::parse_client_order_id(cfg.client_order_prefix, facts.client_order_id))
        cancel_now(parsed->child, symbol, "");
    }
    if (a.needs_trades && a.order_id > 0) fetch_trades(symbol, a.order_id, facts.client_order_id);
  }

  void fetch_trades(const std::string& symbol, std::int64_t order_id, const std::string& client_id) {
    Params p{{"symbol", symbol}, {"orderId", std::to_string(order_id)}};
    call(
        api.trades, std::move(p),
        [self = shared_from_this(), symbol, client_id](Answer a) {
          if (!a.ok()) {
            self->note_unreadable("myTrades for " + client_id + " failed: " + a.message);
            return;
          }
          dom::array e;
          if (self->parser.parse(a.body).get(e) != simdjson::SUCCESS)
            return self->note_unreadable("myTrades answered what is not a JSON array");
          std::vector<binance::OrderFacts> trades;
          for (dom::element t : e) {
            binance::OrderFacts f;
            binance::TradeFact trade;
            std::string_view asset;
            bool maker = false;
            if (!int_of(t, "orderId", f.order_id) || !int_of(t, "id", trade.trade_id) ||
                !decimal_of(t, "qty", trade.qty) || !decimal_of(t, "price", trade.price) ||
                !decimal_of(t, "commission", trade.commission)) {
              self->note_unreadable("a trade in myTrades that cannot be read");
              continue;
            }
            if (text_of(t, "commissionAsset", asset)) trade.commission_asset = std::string(asset);
            // Spot says isMaker, futures maker.
            if (t["isMaker"].get(maker) == simdjson::SUCCESS || t["maker"].get(maker) == simdjson::SUCCESS)
              trade.maker = maker;
            (void)millis_of(t, "time", f.venue_ns);
            f.trade = trade;
            trades.push_back(std::move(f));
          }
          for (const auto& f : trades) self->apply(f, false, symbol);
          if (const auto parsed = binance::parse_client_order_id(self->cfg.client_order_prefix, client_id)) {
            const auto waiting = self->status_after_trades.find(parsed->child.value());
            if (waiting != self->status_after_trades.end() && waiting->second < 3) {
              ++waiting->second;
              self->query_now(parsed->child, symbol, true);
            }
          }
        },
        false);
  }

  void on_user_event(dom::element event) {
    std::string_view type;
    if (!text_of(event, "e", type)) return note_unreadable("a user data event without a type");
    if (type == "eventStreamTerminated") {
      subscribed = false;
      push_status(VenueState::Disconnected, "the venue ended the user data stream");
      return subscribe();
    }
    if (type == "outboundAccountPosition") return on_balances(event);
    if (type != "executionReport") return;  // others (balanceUpdate, listStatus): nothing to tell
    if (auto update = read_order_update(event, event, "executionReport")) apply_order_update(*update);
  }

  // What spot's executionReport and futures' ORDER_TRADE_UPDATE ("o") say of an order
  // (binance::read_order_update); what cannot be read is said.
  using OrderUpdate = binance::OrderUpdate;
  std::optional<OrderUpdate> read_order_update(dom::element o, dom::element event, const char* what) {
    std::string why;
    auto update = binance::read_order_update(o, event, why);
    if (!update) note_unreadable(std::string("an ") + what + why);
    return update;
  }
  void apply_order_update(const OrderUpdate& u) {
    // Not ours (another prefix: the account's other users): not a problem, not told.
    if (!binance::parse_client_order_id(cfg.client_order_prefix, u.facts.client_order_id) &&
        u.facts.order_id == 0)
      return;
    // A futures modify taken (AMENDMENT): told once, whether its answer or this came first.
    if (u.type == ExecType::Replaced && futures) {
      std::vector<ExecutionReport> out;
      tracker.modified(u.facts, out);
      push_all(out);
    }
    apply(u.facts, false, u.symbol);
  }

  // The account's balances as the venue last said them (free and locked per asset).
  void on_balances(dom::element event) {
    dom::array balances;
    if (event["B"].get(balances) != simdjson::SUCCESS)
      return note_unreadable("an outboundAccountPosition without B");
    std::lock_guard lock(mutex);
    for (dom::element b : balances) {
      std::string_view asset;
      Qty free, locked;
      if (!text_of(b, "a", asset) || !decimal_of(b, "f", free) || !decimal_of(b, "l", locked)) continue;
      account[std::string(asset)] = {free, locked};
    }
  }
  std::map<std::string, BinanceSession::Balance> account;  // guarded by `mutex`

  // --- the requests the EMS makes ---
  void new_order(const NewOrder& order) {
    const VenueListing* l = listing_of(order.instrument);
    const std::string id = tracker.on_new(order);
    const auto& [side, type, tif] = order_kind_of(order.client_order_id);
    Params p{{"symbol", l->symbol}, {"side", side}, {"type", type}};
    if (!tif.empty()) p.emplace_back("timeInForce", tif);
    p.emplace_back("quantity", order.qty.to_string());
    if (order.type == OrderType::Limit) p.emplace_back("price", order.price.to_string());
    p.emplace_back("newClientOrderId", id);
    p.emplace_back("newOrderRespType", "RESULT");
    const std::int64_t sent_ms = venue_now_ms();
    call(
        api.new_order, std::move(p),
        [self = shared_from_this(), child = order.client_order_id, symbol = l->symbol, sent_ms](Answer a) {
          self->on_new_answer(child, symbol, sent_ms, std::move(a));
        },
        orders_over_ws());
  }

  void on_new_answer(const ClientOrderId& child, const std::string& symbol, std::int64_t sent_ms, Answer a) {
    if (a.ok()) {
      std::string why;
      if (auto facts = order_facts(a.body, "clientOrderId", why)) return apply(*facts, false, symbol);
      note_unreadable("the answer to new order " + std::to_string(child.value()) + ": " + why);
      a.timed_out = true;  // unreadable: its fate is unknown, found out by a query
    }
    if (a.outcome_unknown()) {
      uncertain[child.value()] = sent_ms;
      note_unreadable("new order " + std::to_string(child.value()) + ": " + a.message +
                      "; its fate is unknown: it is queried before anything else is sent for it");
      return query_uncertain(child, symbol);
    }
    if (a.code == binance::kInvalidTimestamp) measure_clock([](Status) {});
    std::vector<ExecutionReport> out;
    tracker.rejected(child, reason_of(a), a.message, out);
    push_all(out);
  }

  // A new order whose answer was lost: the venue is asked. "Unknown" is trusted only once the order could no
  // longer be taken (its timestamp + recvWindow has passed on the venue's clock).
  void query_uncertain(const ClientOrderId& child, const std::string& symbol) {
    const auto id = tracker.current_id(child);
    if (!id) return;
    Params p{{"symbol", symbol}, {"origClientOrderId", *id}};
    call(
        api.query, std::move(p),
        [self = shared_from_this(), child, symbol](Answer a) {
          const auto it = self->uncertain.find(child.value());
          if (it == self->uncertain.end()) return;
          if (a.ok()) {
            std::string why;
            if (auto facts = self->order_facts(a.body, "clientOrderId", why)) {
              self->uncertain.erase(it);
              return self->apply(*facts, false, symbol);
            }
            self->note_unreadable(why);
          } else if (a.code == binance::kNoSuchOrder) {
            const std::int64_t deadline = it->second + self->cfg.recv_window_ns / kNanosPerMilli;
            if (self->venue_now_ms() > deadline) {
              self->uncertain.erase(it);
              std::vector<ExecutionReport> out;
              self->tracker.rejected(child, RejectReason::Other,
                                     "never reached the venue: unknown to it once its recvWindow had passed",
                                     out);
              return self->push_all(out);
            }
            return self->after(std::chrono::milliseconds(deadline - self->venue_now_ms() + 200),
                               [self, child, symbol] { self->query_uncertain(child, symbol); });
          }
          // The query failed too: asked again in a second (or at the reconnect's reconciliation).
          self->after(std::chrono::milliseconds(1000),
                      [self, child, symbol] { self->query_uncertain(child, symbol); });
        },
        orders_over_ws());
  }

  template <class Work>
  void after(std::chrono::milliseconds wait, Work work) {
    auto timer = std::make_shared<net::asio::steady_timer>(io.context());
    timer->expires_after(wait);
    timer->async_wait([self = shared_from_this(), timer, work](const boost::system::error_code& ec) {
      if (!ec && !self->stopped) work();
    });
  }

  void cancel_now(const ClientOrderId& child, const std::string& symbol, const std::string& instrument_hint) {
    (void)instrument_hint;
    const auto id = tracker.current_id(child);
    if (!id) {
      std::vector<ExecutionReport> out;
      tracker.cancel_refused(child, RejectReason::UnknownOrder, "not an order of this session", out);
      return push_all(out);
    }
    Params p{{"symbol", symbol}, {"origClientOrderId", *id}};
    call(
        api.cancel, std::move(p),
        [self = shared_from_this(), child, symbol](Answer a) {
          if (a.ok()) {
            std::string why;
            // Spot's answer names the canceled order origClientOrderId (its clientOrderId is the cancel's
            // own); futures' is the order itself.
            if (auto facts =
                    self->order_facts(a.body, self->futures ? "clientOrderId" : "origClientOrderId", why))
              return self->apply(*facts, false, symbol);
            self->note_unreadable("the answer to a cancel: " + why);
            return self->query_now(child, symbol, false);
          }
          if (a.outcome_unknown()) return self->query_now(child, symbol, false);
          std::vector<ExecutionReport> out;
          const RejectReason reason =
              !a.not_sent && (a.code == binance::kCancelRejected || a.code == binance::kNoSuchOrder)
                  ? RejectReason::UnknownOrder
                  : self->reason_of(a);
          self->tracker.cancel_refused(child, reason, a.message, out);
          self->push_all(out);
        },
        orders_over_ws());
  }

  void query_now(const ClientOrderId& child, const std::string& symbol, bool after_trades) {
    const std::string id = tracker.current_id(child).value_or(
        binance::client_order_id(cfg.client_order_prefix, child).value_or(std::string{}));
    if (!after_trades) status_after_trades.erase(child.value());
    Params p{{"symbol", symbol}, {"origClientOrderId", id}};
    call(
        api.query, std::move(p),
        [self = shared_from_this(), child, symbol](Answer a) {
          std::vector<ExecutionReport> out;
          if (a.ok()) {
            std::string why;
            auto facts = self->order_facts(a.body, "clientOrderId", why);
            if (!facts) return self->note_unreadable("the answer to a status query: " + why);
            if (!self->tracker.knows(child)) self->adopt(child, a.body, *facts);
            binance::Applied applied = self->tracker.status(*facts, out);
            self->push_all(out);
            if (applied.needs_trades && applied.order_id > 0) {
              self->status_after_trades.try_emplace(child.value(), 0);
              self->fetch_trades(symbol, applied.order_id, facts->client_order_id);
            }
            return;
          }
          if (a.code == binance::kNoSuchOrder) {
            self->tracker.unknown(child, out);
            return self->push_all(out);
          }
          self->note_unreadable("status query for child " + std::to_string(child.value()) + ": " + a.message);
        },
        orders_over_ws());
  }

  // An order of ours the venue knows and we do not (after a restart): tracked from its answer.
  void adopt(const ClientOrderId& child, std::string_view json, const binance::OrderFacts& facts) {
    dom::element e;
    if (parser.parse(json.data(), json.size()).get(e) != simdjson::SUCCESS) return;
    std::string_view symbol, side, type, tif;
    NewOrder o;
    o.client_order_id = child;
    o.venue = venue.id;
    if (!text_of(e, "symbol", symbol) || !text_of(e, "side", side) || !text_of(e, "type", type)) return;
    text_of(e, "timeInForce", tif);
    const VenueListing* l = venue.listing_by_symbol(symbol);
    const auto s = binance::parse_side(side);
    const auto kind =
        futures ? binance::parse_futures_order_kind(type, tif) : binance::parse_order_kind(type, tif);
    if (l == nullptr || !s || !kind || !decimal_of(e, "origQty", o.qty)) return;
    o.instrument = l->instrument;
    o.side = *s;
    o.type = kind->type;
    o.time_in_force = kind->tif;
    if (!decimal_of(e, "price", o.price) || !o.price.is_positive()) o.price = Price::unset();
    tracker.adopt(child, o, facts.client_order_id, facts.order_id, Qty::from_raw(0), Qty::from_raw(0));
    kinds[child.value()] = {std::string(side), std::string(type), std::string(tif)};
  }

  // An amend the tracker would not let go: refused to the OMS at once (as unknown if the child is not ours).
  void amend_refused(const AmendOrder& amend, const char* why) {
    std::vector<ExecutionReport> out;
    tracker.replace_refused(amend.client_order_id, RejectReason::InvalidOrder, why, out);
    if (out.empty())
      refuse(amend.client_order_id, amend.instrument, ExecType::ReplaceRejected, RejectReason::UnknownOrder,
             "not an order of this session");
    push_all(out);
  }

  void amend_now(const AmendOrder& amend) {
    if (futures) return modify_now(amend);
    const VenueListing* l = listing_of(amend.instrument);
    const auto replace = tracker.on_amend(amend);
    if (!replace)
      return amend_refused(
          amend, "cannot be amended now (unknown, done, not yet acknowledged, or a replace pending)");
    Params p{{"symbol", l->symbol}};
    // The child's side and kind stay; Binance's cancel-replace sends them again.
    const auto& [side, type, tif] = order_kind_of(amend.client_order_id);
    p.emplace_back("side", side);
    p.emplace_back("type", type);
    if (!tif.empty()) p.emplace_back("timeInForce", tif);
    p.emplace_back("cancelReplaceMode", "STOP_ON_FAILURE");
    p.emplace_back("cancelOrigClientOrderId", replace->cancel_id);
    p.emplace_back("newClientOrderId", replace->new_id);
    p.emplace_back("quantity", replace->new_order_qty.to_string());
    p.emplace_back("price", replace->price.to_string());
    p.emplace_back("newOrderRespType", "RESULT");
    call(
        api.amend, std::move(p),
        [self = shared_from_this(), child = amend.client_order_id, symbol = l->symbol](Answer a) {
          self->on_replace_answer(child, symbol, std::move(a));
        },
        orders_over_ws());
  }

  std::tuple<std::string, std::string, std::string> order_kind_of(const ClientOrderId& child) {
    const auto it = kinds.find(child.value());
    if (it == kinds.end()) return {"BUY", "LIMIT", "GTC"};
    return it->second;
  }
  std::unordered_map<std::uint64_t, std::tuple<std::string, std::string, std::string>> kinds;

  void on_replace_answer(const ClientOrderId& child, const std::string& symbol, Answer a) {
    dom::element e;
    std::vector<ExecutionReport> out;
    const bool parsed = !a.body.empty() && parser.parse(a.body).get(e) == simdjson::SUCCESS && e.is_object();
    // On success the body is the result; on -2021/-2022 the error's "data" holds the two halves.
    dom::element halves = e;
    if (parsed && !a.ok()) {
      if (e["data"].get(halves) != simdjson::SUCCESS) halves = e;
    }
    std::string_view cancel_result, new_result;
    const bool have_halves = parsed && text_of(halves, "cancelResult", cancel_result);
    if (have_halves) text_of(halves, "newOrderResult", new_result);
    if (a.ok() || (have_halves && cancel_result == "SUCCESS")) {
      std::string why;
      dom::element cancel_response, new_response;
      std::optional<binance::OrderFacts> canceled, placed;
      if (halves["cancelResponse"].get(cancel_response) == simdjson::SUCCESS)
        canceled = order_facts(cancel_response, "origClientOrderId", why);
      if (new_result == "SUCCESS" && halves["newOrderResponse"].get(new_response) == simdjson::SUCCESS)
        placed = order_facts(new_response, "clientOrderId", why);
      if (!canceled) {
        note_unreadable("the answer to a cancel-replace: " + why);
        return query_now(child, symbol, false);
      }
      if (!placed) {
        // The old order is canceled and the new one was refused: the child has nothing working.
        tracker.replace_refused(child, reason_of(a),
                                "cancel-replace: canceled, but the new order was refused: " + a.message, out);
        push_all(out);
        binance::OrderFacts ended = *canceled;
        return apply(ended, false, symbol);
      }
      apply(*canceled, false, symbol);
      return apply(*placed, false, symbol);
    }
    if (a.outcome_unknown()) return query_now(child, symbol, false);
    tracker.replace_refused(child, reason_of(a), a.message, out);
    push_all(out);
  }

  // --- Binance futures: modify in place, user data on a listen key, positions and margin ---

  // The order keeps its ids; the venue takes the new total quantity and price (both sent, as Binance asks).
  void modify_now(const AmendOrder& amend) {
    const VenueListing* l = listing_of(amend.instrument);
    const auto& [side, type, tif] = order_kind_of(amend.client_order_id);
    const auto modify = type == "LIMIT" ? tracker.on_modify(amend) : std::nullopt;
    if (!modify)
      return amend_refused(amend, type != "LIMIT" ? "only a limit order can be modified"
                                                  : "cannot be amended now (unknown, done, not yet "
                                                    "acknowledged, or an amend pending)");
    Params p{{"symbol", l->symbol},
             {"origClientOrderId", modify->id},
             {"side", side},
             {"quantity", modify->new_order_qty.to_string()},
             {"price", modify->price.to_string()}};
    call(
        api.amend, std::move(p),
        [self = shared_from_this(), child = amend.client_order_id, symbol = l->symbol,
         want = *modify](Answer a) { self->on_modify_answer(child, symbol, want, std::move(a)); },
        false);
  }

  void on_modify_answer(const ClientOrderId& child, const std::string& symbol,
                        const binance::OrderTracker::Modify& want, Answer a) {
    std::vector<ExecutionReport> out;
    if (a.ok()) {
      std::string why;
      if (auto facts = order_facts(a.body, "clientOrderId", why)) {
        tracker.modified(*facts, out);
        push_all(out);
        return apply(*facts, false, symbol);
      }
      note_unreadable("the answer to a modify: " + why);
    } else if (!a.outcome_unknown()) {
      tracker.replace_refused(child, reason_of(a), a.message, out);
      return push_all(out);
    }
    settle_modify(child, symbol, want, 0);
  }

  // A modify whose answer was lost: the order as the venue has it says whether it was taken (its price and
  // quantity the new ones) or not; until then no other amend is sent for it.
  void settle_modify(const ClientOrderId& child, const std::string& symbol,
                     const binance::OrderTracker::Modify& want, int attempt) {
    call(
        api.query, {{"symbol", symbol}, {"origClientOrderId", want.id}},
        [self = shared_from_this(), child, symbol, want, attempt](Answer a) {
          std::vector<ExecutionReport> out;
          dom::element e;
          Price price;
          Qty qty;
          std::string why;
          const bool read = a.ok() && self->parser.parse(a.body).get(e) == simdjson::SUCCESS && e.is_object();
          const auto facts = read ? self->order_facts(e, "clientOrderId", why) : std::nullopt;
          if (facts && decimal_of(e, "price", price) && decimal_of(e, "origQty", qty)) {
            if (price == want.price && qty == want.new_order_qty)
              self->tracker.modified(*facts, out);
            else
              self->tracker.replace_refused(child, RejectReason::Other,
                                            "the modify's answer was lost; the venue has the order as it was",
                                            out);
            self->push_all(out);
            return self->apply(*facts, false, symbol);
          }
          if (!a.outcome_unknown() && !a.ok()) {
            self->tracker.replace_refused(child, self->reason_of(a), a.message, out);
            return self->push_all(out);
          }
          if (attempt < 10)
            return self->after(std::chrono::milliseconds(1000), [self, child, symbol, want, attempt] {
              self->settle_modify(child, symbol, want, attempt + 1);
            });
          // Ten seconds without an answer: said, and the order freed for the next amend (which names the
          // venue's order by its unchanged id either way), rather than held forever.
          self->note_unreadable("child " + std::to_string(child.value()) +
                                ": a modify's fate could not be learned in 10 queries");
          self->tracker.replace_refused(child, RejectReason::Other, "the modify's fate is unknown", out);
          self->push_all(out);
        },
        false);
  }

  // A listen key (the same one while it lives); the stream is pointed at it. Then every 30 minutes it is kept
  // alive; a key the venue no longer knows (expired, -1125) is replaced and the stream reconnected to it.
  void open_listen_key(std::function<void(Status)> done) {
    call(
        api.listen_key_new, {},
        [self = shared_from_this(), done = std::move(done)](Answer a) {
          dom::element e;
          std::string_view key;
          if (!a.ok() || self->parser.parse(a.body).get(e) != simdjson::SUCCESS ||
              !text_of(e, "listenKey", key) || key.empty())
            return done(make_error("no listen key for user data: " + a.what()));
          self->listen_key = std::string(key);
          self->ws_api->set_target("/ws/" + self->listen_key);
          done({});
        },
        false);
  }
  // One renewal at a time: a stream that keeps failing to reconnect (an outage) asks again every 2 s, not
  // once per failed attempt. `reconnect`: the stream is dropped once the new key is in, to reconnect on it.
  void renew_listen_key(bool reconnect) {
    reconnect_after_renewal = reconnect_after_renewal || reconnect;
    if (renewing) return;
    renewing = true;
    open_listen_key([self = shared_from_this()](Status s) {
      if (!s) {
        self->note_unreadable(s.message());
        return self->after(std::chrono::milliseconds(2000), [self] {
          self->renewing = false;
          self->renew_listen_key(false);
        });
      }
      self->renewing = false;
      if (std::exchange(self->reconnect_after_renewal, false)) self->ws_api->drop("a new listen key");
    });
  }
  bool renewing = false;                 // I/O thread
  bool reconnect_after_renewal = false;  // I/O thread
  void keep_listen_key_alive() {
    after(std::chrono::duration_cast<std::chrono::milliseconds>(kListenKeyKeepAlive),
          [self = shared_from_this()] {
            self->call(
                self->api.listen_key_keep, {},
                [self](Answer a) {
                  if (!a.ok()) {
                    self->note_unreadable("listen key keep-alive: " + a.message);
                    if (a.code == kListenKeyUnknown) self->renew_listen_key(true);
                  }
                },
                false);
            self->keep_listen_key_alive();
          });
  }

  void on_futures_event(dom::element event) {
    std::string_view type;
    if (!text_of(event, "e", type)) return note_unreadable("a user data event without a type");
    if (type == "listenKeyExpired") {
      note_unreadable("the venue expired the listen key: a new one is asked for");
      return renew_listen_key(true);
    }
    if (type == "ACCOUNT_UPDATE") return on_account_update(event);
    if (type == "MARGIN_CALL") return note_unreadable("a margin call from " + venue.id.str());
    if (type != "ORDER_TRADE_UPDATE") return;  // TRADE_LITE repeats ORDER_TRADE_UPDATE; config updates
    dom::element o;
    if (event["o"].get(o) != simdjson::SUCCESS) return note_unreadable("an ORDER_TRADE_UPDATE without o");
    if (auto update = read_order_update(o, event, "ORDER_TRADE_UPDATE")) apply_order_update(*update);
  }

  // ACCOUNT_UPDATE: the margin assets' wallet balances and the positions that changed.
  void on_account_update(dom::element event) {
    dom::element a;
    if (event["a"].get(a) != simdjson::SUCCESS) return note_unreadable("an ACCOUNT_UPDATE without a");
    dom::array balances, changed;
    std::lock_guard lock(mutex);
    if (a["B"].get(balances) == simdjson::SUCCESS)
      for (dom::element b : balances) {
        std::string_view asset;
        Qty wallet;
        if (text_of(b, "a", asset) && decimal_of(b, "wb", wallet))
          account[std::string(asset)] = {wallet, Qty::from_raw(0)};
      }
    if (a["P"].get(changed) == simdjson::SUCCESS)
      for (dom::element p : changed) keep_position(p, kStreamPosition);
  }

  // A position as ACCOUNT_UPDATE's P and positionRisk write it: the same fields under other names.
  struct PositionFields {
    const char *symbol, *amount, *entry_price, *unrealized_pnl, *side;
  };
  static constexpr PositionFields kStreamPosition{"s", "pa", "ep", "up", "ps"};
  static constexpr PositionFields kRestPosition{"symbol", "positionAmt", "entryPrice", "unRealizedProfit",
                                                "positionSide"};
  // Kept by its symbol (`mutex` held); nothing when it cannot be read, or is a hedge-mode leg (not how we
  // trade).
  void keep_position(dom::element p, const PositionFields& names) {
    std::string_view symbol, side;
    BinanceSession::Position position;
    if (!text_of(p, names.symbol, symbol) || !decimal_of(p, names.amount, position.amount)) return;
    if (text_of(p, names.side, side) && side != "BOTH") return;
    if (!decimal_of(p, names.entry_price, position.entry_price)) position.entry_price = Price::unset();
    if (!decimal_of(p, names.unrealized_pnl, position.unrealized_pnl))
      position.unrealized_pnl = Amount::from_raw(0);
    positions[std::string(symbol)] = position;
  }

  // At start and after every reconnection: positions and margin balances as the venue counts them.
  void fetch_account() {
    call(
        api.positions, {},
        [self = shared_from_this()](Answer a) {
          dom::array list;
          if (!a.ok() || self->parser.parse(a.body).get(list) != simdjson::SUCCESS)
            return self->note_unreadable("positionRisk: " + a.what());
          std::lock_guard lock(self->mutex);
          for (dom::element p : list) {
            // positionRisk lists every symbol of the market; ours are kept.
            std::string_view symbol;
            if (text_of(p, "symbol", symbol) && self->venue.listing_by_symbol(symbol))
              self->keep_position(p, kRestPosition);
          }
        },
        false);
    call(
        api.balances, {},
        [self = shared_from_this()](Answer a) {
          dom::array list;
          if (!a.ok() || self->parser.parse(a.body).get(list) != simdjson::SUCCESS)
            return self->note_unreadable("balance: " + a.what());
          std::lock_guard lock(self->mutex);
          for (dom::element b : list) {
            std::string_view asset;
            Qty wallet;
            if (text_of(b, "asset", asset) && decimal_of(b, "balance", wallet))
              self->account[std::string(asset)] = {wallet, Qty::from_raw(0)};
          }
        },
        false);
  }
  std::map<std::string, BinanceSession::Position> positions;  // guarded by `mutex`

  // --- connection life ---
  void measure_clock(std::function<void(Status)> done) {
    const std::int64_t before = wall_ms();
    call(
        api.time, {},
        [self = shared_from_this(), before, done = std::move(done)](Answer a) {
          const std::int64_t after = wall_ms();
          dom::element e;
          std::int64_t server = 0;
          if (!a.ok() || self->parser.parse(a.body).get(e) != simdjson::SUCCESS ||
              !int_of(e, "serverTime", server))
            return done(make_error("the venue's time could not be read: " + a.what()));
          self->offset_ms = server - (before + after) / 2;
          done({});
        },
        false);
  }

  void load_exchange_info(std::function<void(Status)> done) {
    // Spot lists the symbols asked for; futures' exchangeInfo takes no parameter and lists all.
    Params params;
    if (!futures) {
      std::string symbols = "[";
      for (const auto& l : venue.listings) symbols += (symbols.size() > 1 ? ",\"" : "\"") + l.symbol + "\"";
      symbols += "]";
      params.emplace_back("symbols", std::move(symbols));
    }
    call(
        api.exchange_info, std::move(params),
        [self = shared_from_this(), done = std::move(done)](Answer a) {
          if (!a.ok()) return done(make_error("exchangeInfo: " + a.message));
          done(self->check_exchange_info(a.body));
        },
        false);
  }

  Status check_exchange_info(const std::string& body) {
    dom::element e;
    if (parser.parse(body).get(e) != simdjson::SUCCESS || !e.is_object())
      return make_error("exchangeInfo is not a JSON object");
    std::vector<RateLimitRule> rules;
    dom::array limits_array;
    if (e["rateLimits"].get(limits_array) == simdjson::SUCCESS) {
      for (dom::element limit : limits_array) {
        std::string_view type, interval;
        std::int64_t num = 0, cap = 0;
        if (!text_of(limit, "rateLimitType", type) || !text_of(limit, "interval", interval) ||
            !int_of(limit, "intervalNum", num) || !int_of(limit, "limit", cap))
          return make_error("exchangeInfo has a rateLimits entry that cannot be read");
        const auto rule = binance_rate_limit(type, interval, num, cap);
        if (!rule)
          return make_error("exchangeInfo has a rate limit we do not know (" + std::string(type) + " per " +
                            std::to_string(num) + " " + std::string(interval) + "): refusing to run past it");
        rules.push_back(*rule);
      }
    }
    limits.set_rules(std::move(rules));
    dom::array symbols;
    if (e["symbols"].get(symbols) != simdjson::SUCCESS) return make_error("exchangeInfo has no symbols");
    std::string problems;
    for (const VenueListing& l : venue.listings) {
      bool found = false;
      for (dom::element s : symbols) {
        std::string_view name, status;
        if (!text_of(s, "symbol", name) || name != l.symbol) continue;
        found = true;
        // Not trading now (BREAK before the open, HALT): said, not refused; orders meanwhile are the venue's
        // to refuse.
        if ((text_of(s, "status", status) || text_of(s, "contractStatus", status)) && status != "TRADING")
          note_unreadable(l.symbol + " is " + std::string(status) + " at start");
        // COIN-M: a contract's worth in the quote currency, which every quantity is counted in.
        Amount contract_size;
        if (l.inverse &&
            (!decimal_of(s, "contractSize", contract_size) && !int_contract_size(s, contract_size)))
          problems += " " + l.symbol + " has no contractSize;";
        else if (l.inverse && contract_size != l.contract_size)
          problems += " " + l.symbol + " contract size " + contract_size.to_string() + " (config " +
                      l.contract_size.to_string() + ");";
        dom::array filters;
        if (s["filters"].get(filters) != simdjson::SUCCESS) continue;
        for (dom::element f : filters) {
          std::string_view type;
          if (!text_of(f, "filterType", type)) continue;
          Price tick;
          Qty step;
          Amount min_notional;
          if (type == "PRICE_FILTER" && decimal_of(f, "tickSize", tick) && tick != l.tick_size)
            problems +=
                " " + l.symbol + " tick " + tick.to_string() + " (config " + l.tick_size.to_string() + ");";
          if (type == "LOT_SIZE" && decimal_of(f, "stepSize", step) && step != l.lot_size)
            problems +=
                " " + l.symbol + " lot " + step.to_string() + " (config " + l.lot_size.to_string() + ");";
          // Spot's NOTIONAL says minNotional, USD-M's MIN_NOTIONAL says notional.
          if ((type == "NOTIONAL" || type == "MIN_NOTIONAL") &&
              (decimal_of(f, "minNotional", min_notional) || decimal_of(f, "notional", min_notional)) &&
              min_notional > l.min_notional)
            problems += " " + l.symbol + " min notional " + min_notional.to_string() + " (config " +
                        l.min_notional.to_string() + ");";
        }
      }
      if (!found) problems += " " + l.symbol + " is not listed;";
    }
    if (!problems.empty())
      return make_error(venue.id.str() + ": the venue's filters differ from the config:" + problems);
    return {};
  }

  void subscribe() {
    Params p;
    call(
        Endpoint{net::http::verb::get, "", "userDataStream.subscribe.signature", 2, false, true},
        std::move(p),
        [self = shared_from_this()](Answer a) {
          if (!a.ok()) {
            const std::string why = "user data subscription refused: " + a.message;
            self->note_unreadable(why);
            if (self->on_started) {
              auto started = std::move(self->on_started);
              self->on_started = nullptr;
              return started(make_error(why));
            }
            return self->after(std::chrono::milliseconds(2000), [self] { self->subscribe(); });
          }
          self->on_user_data_open("user data subscribed");
        },
        true);
  }

  // The venue's open orders of ours that this session does not know (after a restart: the journal's children
  // reach us by the OMS's queries, but an order cancel-replaced is known at the venue by its newest id only):
  // adopted, so that its queries and cancels name the order the venue has.
  void fetch_open_orders() {
    for (const VenueListing& l : venue.listings) {
      call(
          api.open_orders, {{"symbol", l.symbol}},
          [self = shared_from_this(), symbol = l.symbol](Answer a) {
            if (!a.ok()) return self->note_unreadable("openOrders for " + symbol + ": " + a.message);
            dom::array orders;
            if (self->parser.parse(a.body).get(orders) != simdjson::SUCCESS)
              return self->note_unreadable("openOrders answered what is not a JSON array");
            std::vector<std::string> ours;
            for (dom::element o : orders) {
              std::string_view id;
              if (text_of(o, "clientOrderId", id) &&
                  binance::parse_client_order_id(self->cfg.client_order_prefix, id))
                ours.push_back(simdjson::minify(o));
            }
            for (const std::string& json : ours) {
              std::string why;
              const auto facts = self->order_facts(json, "clientOrderId", why);
              if (!facts) {
                self->note_unreadable("an open order: " + why);
                continue;
              }
              const auto parsed =
                  binance::parse_client_order_id(self->cfg.client_order_prefix, facts->client_order_id);
              if (self->tracker.knows(parsed->child)) continue;
              self->adopt(parsed->child, json, *facts);
              self->symbols[parsed->child.value()] = symbol;
            }
          },
          orders_over_ws());
    }
  }

  // After every (re)connection: every order still open here is asked for (fills missed meanwhile are told
  // from its trades), and new orders whose fate was unknown are settled.
  void reconcile() {
    for (const ClientOrderId& child : tracker.open_children()) {
      const auto symbol = symbol_of_child(child);
      if (symbol.empty()) continue;
      if (cfg.on_reconnect == "cancel")
        cancel_now(child, symbol, "");
      else
        query_now(child, symbol, false);
    }
  }
  std::string symbol_of_child(const ClientOrderId& child) const {
    const auto it = symbols.find(child.value());
    return it == symbols.end() ? std::string() : it->second;
  }
  std::unordered_map<std::uint64_t, std::string> symbols;  // child -> symbol, I/O thread

  void on_ws_open() {
    if (!futures) return subscribe();
    on_user_data_open("user data stream open");
  }
  // User data flows (spot: subscribed; futures: the listen key's stream open): the venue is open to us, and
  // what was missed while it was not is asked for.
  void on_user_data_open(const char* what) {
    subscribed = true;
    push_status(VenueState::Open, what);
    reconcile();
    fetch_open_orders();
    if (futures) fetch_account();
    if (on_started) {
      auto started = std::move(on_started);
      on_started = nullptr;
      started({});
    }
  }
  void on_ws_close(const std::string& why) {
    // Futures: the stream reconnects by itself; the key is asked for again first (the same one while it
    // lives, a new one if it expired meanwhile), so the reconnection names a key the venue knows.
    if (futures && !stopped) renew_listen_key(false);
    const bool was = subscribed.exchange(false);
    // Requests in flight on it have lost their answers: each learns so (outcome unknown: queried later).
    std::vector<std::string> ids;
    for (const auto& [id, _] : ws_pending) ids.push_back(id);
    for (const auto& id : ids)
      finish_ws(id, [&](Answer& a) { a.message = "the WebSocket API connection dropped: " + why; });
    if (was) push_status(VenueState::Disconnected, "user data connection lost: " + why);
  }
};

Result<std::unique_ptr<BinanceSession>> BinanceSession::start(const VenueConfig& venue,
                                                              NetworkThread& network,
                                                              const BinanceSessionOptions& options) {
  if (!venue.binance) return make_error(venue.id.str() + " has no [venue.binance]");
  const VenueBinanceConfig& cfg = *venue.binance;
  const bool futures = venue.market == "usdm" || venue.market == "coinm";
  if (!futures && venue.market != "spot")
    return make_error(venue.id.str() + ": Binance has no market \"" + venue.market +
                      "\" (spot, usdm, coinm)");
  if (futures && cfg.order_api != "rest")
    return make_error(venue.id.str() +
                      ": orders to Binance futures go over REST here (order_api = \"rest\")");
  auto key =
      !cfg.key_file.empty() ? load_api_key_file(cfg.key_file) : api_key_from_env(cfg.key_env, cfg.secret_env);
  if (!key) return make_error(venue.id.str() + ": " + key.error().message);
  auto tls = net::make_client_tls(cfg.ca_file);
  if (!tls) return make_error(venue.id.str() + ": " + tls.error().message);
  auto rest_url = net::parse_url(cfg.rest_url);
  // Spot: the WebSocket API. Futures: the market stream host, on which a listen key names the user's stream.
  auto ws_url = net::parse_url(futures ? cfg.stream_url : cfg.ws_api_url);
  if (!rest_url) return make_error(venue.id.str() + ": rest_url: " + rest_url.error().message);
  if (!ws_url)
    return make_error(venue.id.str() + (futures ? ": stream_url: " : ": ws_api_url: ") +
                      ws_url.error().message);
  for (const auto& l : venue.listings)
    if (l.inverse != (venue.market == "coinm"))
      return make_error(venue.id.str() + ": " + l.symbol +
                        (l.inverse ? " is an inverse contract, which only COIN-M lists"
                                   : " is not an inverse contract, and COIN-M lists only those"));

  auto impl = std::make_shared<Impl>(venue, network.io(), std::move(key).value(), options);
  impl->tls = std::move(tls).value();
  impl->rest = std::make_shared<net::HttpsClient>(network.io(), impl->tls, *rest_url);
  net::WsClient::Options ws_options;
  ws_options.reconnect_min = std::chrono::milliseconds(cfg.reconnect_min_ns / kNanosPerMilli);
  ws_options.reconnect_max = std::chrono::milliseconds(cfg.reconnect_max_ns / kNanosPerMilli);
  ws_options.seed = options.seed;
  std::weak_ptr<Impl> weak = impl;
  net::WsClient::Handlers handlers;
  handlers.on_open = [weak] {
    if (auto self = weak.lock()) self->on_ws_open();
  };
  handlers.on_message = [weak](std::string_view text) {
    if (auto self = weak.lock()) self->on_ws_message(text);
  };
  handlers.on_close = [weak](const std::string& why) {
    if (auto self = weak.lock()) self->on_ws_close(why);
  };
  impl->ws_api = std::make_shared<net::WsClient>(network.io(), impl->tls, *ws_url, ws_options, handlers);

  std::promise<Status> started;
  auto result = started.get_future();
  auto once = std::make_shared<std::promise<Status>>(std::move(started));
  network.io().post([impl, once] {
    impl->on_started = [once](Status s) { once->set_value(std::move(s)); };
    impl->measure_clock([impl](Status clock) {
      if (!clock) {
        auto done = std::move(impl->on_started);
        impl->on_started = nullptr;
        return done(make_error(impl->venue.id.str() + ": " + clock.message()));
      }
      impl->load_exchange_info([impl](Status info) {
        if (!info) {
          auto done = std::move(impl->on_started);
          impl->on_started = nullptr;
          return done(info);
        }
        if (!impl->futures) return impl->ws_api->start();
        impl->open_listen_key([impl](Status key) {
          if (!key) {
            auto done = std::move(impl->on_started);
            impl->on_started = nullptr;
            return done(make_error(impl->venue.id.str() + ": " + key.message()));
          }
          impl->keep_listen_key_alive();
          impl->ws_api->start();
        });
      });
    });
  });
  const auto wait = std::chrono::milliseconds(3 * cfg.request_timeout_ns / kNanosPerMilli);
  if (result.wait_for(wait) != std::future_status::ready) {
    impl->stopped = true;
    impl->ws_api->stop();
    return make_error(venue.id.str() + ": no answer from " + cfg.rest_url + " / " + cfg.ws_api_url +
                      " within " + std::to_string(wait.count()) + " ms");
  }
  if (Status s = result.get(); !s) {
    impl->stopped = true;
    impl->ws_api->stop();
    return make_error(s.message());
  }
  return std::unique_ptr<BinanceSession>(new BinanceSession(std::move(impl)));
}

BinanceSession::BinanceSession(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

BinanceSession::~BinanceSession() {
  stop();
}

VenueId BinanceSession::venue() const {
  return impl_->venue.id;
}

bool BinanceSession::send(const NewOrder& order) {
  const VenueListing* l = impl_->listing_of(order.instrument);
  if (l == nullptr) {
    impl_->refuse(order.client_order_id, order.instrument, ExecType::Rejected, RejectReason::InvalidOrder,
                  impl_->venue.id.str() + " does not list " + order.instrument.str());
    return false;
  }
  if (!impl_->subscribed.load()) {
    impl_->refuse(order.client_order_id, order.instrument, ExecType::Rejected, RejectReason::VenueClosed,
                  "the connection to " + impl_->venue.id.str() + " is down");
    return false;
  }
  if (!order.qty.is_positive() || (order.type == OrderType::Limit && !order.price.is_positive())) {
    impl_->refuse(order.client_order_id, order.instrument, ExecType::Rejected, RejectReason::InvalidOrder,
                  "a quantity and (for a limit) a price above zero are needed");
    return false;
  }
  impl_->io.post([impl = impl_, order, symbol = l->symbol] {
    impl->symbols[order.client_order_id.value()] = symbol;
    impl->kinds[order.client_order_id.value()] = {
        std::string(binance::side_name(order.side)),
        std::string(impl->futures ? binance::futures_order_type_name(order.type)
                                  : binance::order_type_name(order.type, order.time_in_force)),
        std::string(impl->futures ? binance::futures_time_in_force_name(order.type, order.time_in_force)
                                  : binance::time_in_force_name(order.type, order.time_in_force))};
    impl->new_order(order);
  });
  return true;
}

bool BinanceSession::cancel(const CancelOrder& cancel) {
  const VenueListing* l = impl_->listing_of(cancel.instrument);
  if (l == nullptr || !impl_->subscribed.load()) {
    impl_->refuse(
        cancel.client_order_id, cancel.instrument, ExecType::CancelRejected, RejectReason::VenueClosed,
        l == nullptr ? "not listed here" : "the connection to " + impl_->venue.id.str() + " is down");
    return false;
  }
  impl_->io.post(
      [impl = impl_, cancel, symbol = l->symbol] { impl->cancel_now(cancel.client_order_id, symbol, ""); });
  return true;
}

bool BinanceSession::amend(const AmendOrder& amend) {
  const VenueListing* l = impl_->listing_of(amend.instrument);
  if (l == nullptr || !impl_->subscribed.load()) {
    impl_->refuse(
        amend.client_order_id, amend.instrument, ExecType::ReplaceRejected, RejectReason::VenueClosed,
        l == nullptr ? "not listed here" : "the connection to " + impl_->venue.id.str() + " is down");
    return false;
  }
  impl_->io.post([impl = impl_, amend] { impl->amend_now(amend); });
  return true;
}

bool BinanceSession::query(const OrderStatusQuery& query) {
  const VenueListing* l = impl_->listing_of(query.instrument);
  if (l == nullptr) {
    impl_->refuse(query.client_order_id, query.instrument, ExecType::OrderStatus, RejectReason::UnknownOrder,
                  "not listed here");
    return false;
  }
  impl_->io.post([impl = impl_, query, symbol = l->symbol] {
    impl->symbols.try_emplace(query.client_order_id.value(), symbol);
    impl->query_now(query.client_order_id, symbol, false);
  });
  return true;
}

std::size_t BinanceSession::poll(ExecutionListener& listener, TimestampNs now_ns) {
  std::vector<Impl::Item> items;
  {
    std::lock_guard lock(impl_->mutex);
    items.swap(impl_->queue);
  }
  for (auto& item : items) {
    if (auto* r = std::get_if<ExecutionReport>(&item)) {
      r->received_ns = now_ns;
      listener.on_execution_report(*r);
    } else {
      auto& s = std::get<VenueStatusReport>(item);
      s.received_ns = now_ns;
      listener.on_venue_status(s);
    }
  }
  return items.size();
}

bool BinanceSession::ready() const {
  return impl_->subscribed.load();
}

std::uint64_t BinanceSession::unreadable() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->unreadable_count;
}

std::string BinanceSession::last_unreadable() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->unreadable_last.empty() ? std::string() : impl_->unreadable_last.back();
}

std::uint64_t BinanceSession::repeated_trades() const {
  return impl_->repeated_trades.load();
}

std::map<std::string, BinanceSession::Balance> BinanceSession::balances() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->account;
}

std::map<std::string, BinanceSession::Position> BinanceSession::positions() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->positions;
}

std::int64_t BinanceSession::clock_offset_ms() const {
  return impl_->offset_ms.load();
}

void BinanceSession::drop_connection() {
  impl_->ws_api->drop("dropped on request");
}

void BinanceSession::stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->ws_api->stop();
  impl_->io.post([impl = impl_] { impl->rest->close(); });
}

}  // namespace tranche::gateway
