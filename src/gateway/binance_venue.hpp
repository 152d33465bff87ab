#pragma once
// `tranche exchange --protocol binance`: one simulated venue behind Binance spot's own API (or, for a
// futures venue, Binance USD-M's or COIN-M's REST API and streams: see futures()), without the sockets
// (binance_venue_server.hpp serves it over HTTPS and WSS). Requests come in as plain values and every answer
// leaves through a VenueOutput, so the whole venue is tested without a network.
//
// - REST (`/api/v3/...`) and the WebSocket API (`/ws-api/v3`) share one set of calls: ping, time,
//   exchangeInfo, depth, trades, bookTicker, and the SIGNED order.place / cancel / status / cancelReplace,
//   openOrders (status, cancelAll), account and myTrades, checked as Binance checks them (X-MBX-APIKEY or
//   apiKey, the HMAC-SHA256 signature, timestamp and recvWindow, then the parameters and the symbol's
//   filters) and answered in Binance's words, errors as {"code":..,"msg":..} with Binance's HTTP status.
// - Orders go into the simulator (its latency, its matching against the replayed book); an order call is
//   answered once the venue has decided it (ACK, RESULT or FULL with the fills made at once).
// - Market streams (`/ws/<stream>`, `/stream?streams=..`, SUBSCRIBE/UNSUBSCRIBE): <symbol>@depth and
//   @depth@100ms diffs numbered against the REST snapshot (binance_venue_depth.hpp), @bookTicker and @trade,
//   from the venue's book net of our impact.
// - User data over the WebSocket API (userDataStream.subscribe.signature): executionReport and
//   outboundAccountPosition.
// - Futures (USD-M /fapi, COIN-M /dapi): orders (POST, PUT to modify in place, DELETE, GET), openOrders,
//   allOpenOrders, userTrades, positionRisk, balance, account, leverageBracket, listen keys and the user data
//   stream at /ws/<listenKey> (ORDER_TRADE_UPDATE, ACCOUNT_UPDATE, listenKeyExpired), and <symbol>@markPrice.
// - Rate limits (binance_venue_limits.hpp) and an outage on demand (REST 503 / -1001, WebSockets closed);
//   the matching engine keeps running through it, as Binance's does.
// Every call happens on one thread: the one that runs the simulator.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gateway/api_key.hpp"
#include "gateway/binance_protocol.hpp"
#include "gateway/binance_venue_depth.hpp"
#include "gateway/binance_venue_limits.hpp"
#include "sim/simulator.hpp"

namespace tranche::gateway::binance {

struct HttpRequest {
  std::string_view method;   // "GET", "POST", "DELETE", ...
  std::string_view path;     // "/api/v3/order"
  std::string_view query;    // as sent, without '?'
  std::string_view body;     // as sent (application/x-www-form-urlencoded)
  std::string_view api_key;  // X-MBX-APIKEY
  std::string_view ip;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json;charset=UTF-8";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Where the venue's answers go: the server, or a test.
class VenueOutput {
 public:
  virtual ~VenueOutput() = default;
  // The answer to the REST request `token` (exactly one per request).
  virtual void respond(std::uint64_t token, HttpResponse response) = 0;
  // A text frame on WebSocket connection `conn`.
  virtual void send(std::uint64_t conn, std::string text) = 0;
  // Closes a WebSocket connection (the venue forgets it at once).
  virtual void close(std::uint64_t conn) = 0;
};

struct VenueOptions {
  std::size_t venue = 0;      // the simulator's venue this plays
  std::optional<ApiKey> key;  // the one account's key; none: every SIGNED request is refused (-2015)
  VenueLimits limits;
  // Replay time to wall time (the exchange's ReplayClock): event times and transaction times.
  std::function<TimestampNs(TimestampNs)> wall_at;
  double speed = 1;  // replay seconds per wall second (control durations are given in wall time)
  std::vector<Instrument> instruments;  // the config's: each listing's base and quote assets
  // Answered only to loopback addresses: the control endpoints (/tranche/control/...).
  bool control = true;
  // A line for each order event and refused order call (no secrets in it); empty: quiet.
  std::function<void(const std::string&)> log;
};

class BinanceVenue final : public sim::SimListener {
 public:
  enum class Call : std::uint8_t;  // the calls REST and the WebSocket API share
  BinanceVenue(sim::Simulator& sim, VenueOptions options, VenueOutput& out);
  ~BinanceVenue() override;

  // A REST request, answered through VenueOutput::respond(token, ...) at once or once the venue decided.
  void on_http(std::uint64_t token, const HttpRequest& request, TimestampNs wall_ns);
  // A WebSocket upgrade to `target` (path and query). False: refused with `refusal`.
  bool on_ws_open(std::uint64_t conn, std::string_view target, std::string_view ip, TimestampNs wall_ns,
                  HttpResponse& refusal);
  void on_ws_text(std::uint64_t conn, std::string_view text, TimestampNs wall_ns);
  void on_ws_close(std::uint64_t conn);
  // After each stretch of the simulator's run: order calls it decided are answered.
  void after_run(TimestampNs wall_ns);
  // About every 100 ms of wall time: depth diffs; the end of an outage.
  void on_tick(TimestampNs wall_ns);

  // An outage from now: REST answered 503 (-1001), WebSockets closed and refused, until it ends.
  void disconnect_for(DurationNs duration_ns, TimestampNs wall_ns);
  bool down(TimestampNs wall_ns) const { return wall_ns < down_until_ns_; }
  // Futures: the listen key expires now (its streams are told listenKeyExpired and closed).
  void expire_listen_keys(TimestampNs wall_ns);

  // --- sim::SimListener ---
  void on_execution_report(const ExecutionReport& report) override;
  void on_market_data(const md::MarketRef& ref, const md::Event& event) override;

  // What the venue executed: {"orders":..,"fills":..,"bought":..,"sold":..,"open":..}.
  std::string executed_json() const;
  const std::string& symbol(std::size_t market) const { return markets_[market].symbol; }
  // The market it plays: "spot", or Binance's futures ("usdm": /fapi/v1, "coinm": /dapi/v1). A futures venue
  // serves its market data in futures' words (REST ping, time, exchangeInfo and depth with E and T; diffs
  // with pu; bookTicker and trade events as futures sends them) and its order and account calls in futures'
  // words (REST only: futures' WebSocket API is not served).
  bool futures() const { return futures_; }
  const std::string& rest_prefix() const { return rest_prefix_; }

 private:
  struct Origin {
    bool ws = false;
    std::uint64_t id = 0;    // REST token or WebSocket connection
    std::string request_id;  // WebSocket API: the request's id, as raw JSON
    std::string ip;
    bool orders = false;  // an order call: its answer carries the order counts
    std::string call;     // REST: "PUT /fapi/v1/order", for the log; WebSocket API: the method
  };
  struct Order;
  struct Trade;
  struct PublicTrade {
    std::uint64_t id;
    Price price;
    Qty qty;
    std::int64_t time_ms;
    bool buyer_maker;
  };
  struct Market {
    std::string symbol, stream_prefix;  // "ETHUSDT", "ethusdt@"
    std::string stream_names[6];        // "ethusdt@depth@100ms", "ethusdt@depth", "ethusdt@bookTicker", ...
    std::string base, quote;
    DepthBook depth;
    int subs[6] = {0, 0, 0, 0, 0, 0};  // depth@100ms, depth, bookTicker, trade, markPrice@1s, markPrice
    // Futures: our position, the signed sum of the fills told (base on USD-M, contracts on COIN-M), what it
    // cost in the margin asset, and the profit its closing fills realized.
    Qty position;
    Amount entry_value, realized_pnl;
    std::int64_t position_ms = 0;
    Price bid = Price::unset(), ask = Price::unset();
    Qty bid_qty, ask_qty;
    std::uint64_t next_trade_id = 1;
    std::deque<PublicTrade> recent;  // the last 1000 trades
  };
  struct OrderSpec;
  struct Conn {
    bool api = false;       // the WebSocket API; else market streams
    bool combined = false;  // /stream: {"stream":..,"data":..}
    std::set<std::string> streams;
    int user_subscription = -1;
    bool user_stream = false;  // futures: connected to /ws/<listenKey>
    std::string ip;
    WindowCounter messages{kNanosPerSecond};  // market streams: 5 incoming messages a second at most
  };
  struct PlaceWait {
    Origin origin;
    std::string resp_type;  // ACK, RESULT, FULL
    bool decided = false;   // the New arrived: answered after this stretch, with the fills made at once
    std::uint64_t group = 0;
    std::string ack_json;  // futures' ACK: the order as it was accepted
  };
  struct ModifyWait {
    Origin origin;
    bool decided = false;  // the amendment arrived: answered after this stretch
  };
  struct CancelWait {
    Origin origin;
    std::uint64_t group = 0;
  };
  struct Group;

  // Calls, REST and WebSocket API alike.
  void dispatch(Call call, const Params& params, const Origin& origin, TimestampNs wall_ns);
  bool authorize(const Params& params, std::string_view api_key, std::string_view payload,
                 std::string_view signature, const Origin& origin, TimestampNs wall_ns);
  void reply(const Origin& origin, std::string result, int http_status = 200);
  void fail(const Origin& origin, int http_status, int code, std::string_view msg,
            std::string_view data = {});
  void add_limit_headers(HttpResponse& response, const std::string& ip, bool orders, TimestampNs wall_ns);
  std::string rate_limits_json(const std::string& ip, TimestampNs wall_ns) const;

  // False with Binance's error when refused before reaching the simulator.
  bool place(const OrderSpec& spec, const Origin& origin, std::uint64_t group, int& code, std::string& msg);
  bool parse_order(const Params& params, OrderSpec& spec, const Origin& origin);
  // The parameter checks spot and futures share; each answers its refusal itself (false, or -1).
  int required_market(const Params& params, const Origin& origin);
  bool parse_market_and_side(const Params& params, const Origin& origin, OrderSpec& spec);
  bool optional_market(const Params& params, const Origin& origin, int& market);  // -1: none named
  bool parse_side_param(const Params& params, const Origin& origin, Side& side);
  bool parse_qty_and_price(const Params& params, const Origin& origin, OrderSpec& spec);
  bool parse_client_id(const Params& params, const Origin& origin, std::string& client_id);
  void send_cancel(const Order& order, const Origin& origin, std::uint64_t group);
  void cancel(const Params& params, const Origin& origin);
  void cancel_replace(const Params& params, const Origin& origin);
  void cancel_all(const Params& params, const Origin& origin);
  void order_status(const Params& params, const Origin& origin);
  void open_orders(const Params& params, const Origin& origin);
  void account(const Params& params, const Origin& origin);
  void my_trades(const Params& params, const Origin& origin);
  void exchange_info(const Params& params, const Origin& origin);
  void futures_symbol_json(std::string& o, const VenueListing& listing, const Market& market,
                           const char* status) const;
  void depth(const Params& params, const Origin& origin);
  void trades(const Params& params, const Origin& origin);
  void book_ticker(const Params& params, const Origin& origin);
  void subscribe_user(const Origin& origin);
  void control(const HttpRequest& request, std::uint64_t token, TimestampNs wall_ns);
  void group_done(std::uint64_t group_id);

  // Futures (binance_venue.cpp's "Binance futures" part)
  bool parse_futures_order(const Params& params, OrderSpec& spec, const Origin& origin);
  bool futures_filters(const VenueListing& listing, Qty qty, Price price, const Origin& origin);
  bool below_min_notional(const VenueListing& listing, bool reduce_only, Price at, Qty qty) const;
  void modify(const Params& params, const Origin& origin);
  void listen_key(Call call, const Params& params, std::string_view api_key, const Origin& origin);
  void end_listen_key();
  void reply_per_market(const Params& params, const Origin& origin,
                        const std::function<void(std::string&, std::size_t)>& item);
  void positions(const Params& params, const Origin& origin);
  void futures_balance(const Origin& origin);
  void futures_account(const Origin& origin);
  void leverage_bracket(const Params& params, const Origin& origin);
  std::string futures_order_json(const Order& order) const;
  std::string order_trade_update(const Order& order, std::string_view exec_type, const Trade* trade,
                                 TimestampNs venue_ns) const;
  void account_update(const Order& order, TimestampNs venue_ns);
  void book_position(Market& market, const Order& order, Trade& trade);
  Price mark_price(std::size_t market) const;
  Amount position_value(std::size_t market, Price price, Qty qty) const;  // in the margin asset
  Amount unrealized_pnl(std::size_t market) const;
  Amount position_margin(const std::string& asset) const;
  Amount initial_margin(std::size_t market) const;
  Price entry_price(std::size_t market) const;
  Amount marked_value(std::size_t market) const;
  struct AssetMargin {
    Amount unrealized, positions, initial, available;
  };
  AssetMargin asset_margin(const sim::AssetBalance& balance) const;
  void cross_margin_json(std::string& o, const sim::AssetBalance& balance, const AssetMargin& margin) const;
  const std::string& margin_asset(std::size_t market) const;
  void publish_mark_prices(int kind);
  bool inverse() const { return venue_config_.market == "coinm"; }
  void cancel_replace_step(std::uint64_t group_id);

  // Streams
  void stream_message(std::uint64_t conn, std::string_view text);
  bool add_stream(Conn& conn, const std::string& name);
  void remove_stream(Conn& conn, const std::string& name);
  int parse_stream(const std::string& name, int& kind) const;
  void publish_to(std::size_t market, int kind, const std::string& data);
  void public_trade(std::size_t market, const PublicTrade& trade);
  void close_connections(bool user_streams_only);
  void send_stream(std::uint64_t conn_id, const Conn& conn, const std::string& stream,
                   const std::string& data);
  void publish_depth(std::size_t market);
  void user_event(const std::string& event);
  void account_position(const Order& order, TimestampNs venue_ns);

  // Orders and their JSON
  Order* find_order(const Params& params, const Origin& origin, bool for_cancel);
  std::string order_json(const Order& order) const;
  std::string result_json(const Order& order, const std::string& resp_type) const;
  std::string cancel_json(const Order& order) const;
  std::string execution_report(const Order& order, std::string_view exec_type, const Trade* trade,
                               TimestampNs venue_ns) const;
  void close_order(Order& order);
  std::int64_t wall_ms(TimestampNs replay_ns) const;
  int market_of(std::string_view symbol) const;
  std::string new_client_id();

  sim::Simulator& sim_;
  VenueOptions options_;
  bool futures_ = false;
  std::string rest_prefix_ = "/api/v3";
  VenueOutput& out_;
  const VenueConfig& venue_config_;
  RateLimiter limiter_;
  std::vector<Market> markets_;
  std::map<std::uint64_t, std::unique_ptr<Order>> orders_;         // by orderId (the simulator's id)
  std::unordered_map<std::string, std::uint64_t> open_by_client_;  // clientOrderId of an open order
  std::unordered_map<std::string, std::uint64_t> last_by_client_;  // the latest order of each clientOrderId
  std::vector<Trade> trades_;
  std::unordered_map<std::string, std::size_t> trade_by_exec_;  // the simulator's execution id -> trades_
  std::map<std::uint64_t, PlaceWait> places_;
  std::map<std::uint64_t, CancelWait> cancels_;
  std::map<std::uint64_t, std::deque<ModifyWait>> modifies_;  // futures' modify in place, in the order sent
  std::map<std::uint64_t, std::unique_ptr<Group>> groups_;
  std::map<std::uint64_t, Conn> conns_;
  std::uint64_t next_order_id_ = 0;
  std::uint64_t next_group_ = 0;
  std::uint64_t next_client_id_ = 0;
  int next_subscription_ = 0;
  TimestampNs down_until_ns_ = 0;
  // Futures: the account's one listen key while it is alive (Binance hands the same key out again).
  std::string listen_key_;
  TimestampNs listen_key_expires_ns_ = 0;
  std::uint64_t listen_keys_made_ = 0;
  TimestampNs wall_now_ns_ = 0;
  std::uint64_t ticks_ = 0;
  std::uint64_t fills_ = 0;
  // Every clientOrderId ever placed, and how many were placed again (executed_json: a client that reuses
  // an id is a defect even where Binance, which checks open orders only, would take it).
  std::set<std::string> client_ids_seen_;
  std::uint64_t client_ids_reused_ = 0;
  Qty bought_, sold_;
  std::vector<md::Level> scratch_bids_, scratch_asks_;
  DepthBook::Batch batch_;
};

// The WebSocket API's request, read from its JSON text: {"id":..,"method":"..","params":{..}}. Parameter
// values are kept as written: strings unescaped, numbers as their digits (never through a double), booleans
// as true/false. For a market stream's SUBSCRIBE, `streams` holds the params array.
struct WsRequest {
  std::string id = "null";  // raw JSON
  std::string method;
  Params params;
  std::vector<std::string> streams;
  bool params_is_array = false;
};
// False with the reason when the text is not such a request.
bool parse_ws_request(std::string_view text, WsRequest& out, std::string& error);

// Binance's quantity and price syntax: ^([0-9]{1,20})(\.[0-9]{1,20})?$.
bool decimal_syntax(std::string_view text);

}  // namespace tranche::gateway::binance
