#pragma once
// The one configuration schema (docs/config.md): instruments, venues and the sections later components read.
// Loaded once at start-up; errors are values naming the file and key.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/fixed_point.hpp"
#include "core/ids.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace tranche {

struct Instrument {
  InstrumentId id;    // "ETH-USDT"
  std::string base;   // "ETH"
  std::string quote;  // "USDT"
  Price tick_size;
  Qty lot_size;
  Amount min_notional;  // in the quote currency
};

// How one venue lists one instrument: its own symbol and steps.
struct VenueListing {
  InstrumentId instrument;
  std::string symbol;  // the venue's own symbol, "ETHUSDT"
  Price tick_size;
  Qty lot_size;
  Amount min_notional;
  // Inverse (coin-margined) contracts: each contract is worth contract_size units of the quote currency and
  // quantities are whole contracts. Linear listings leave contract_size at zero.
  bool inverse = false;
  Amount contract_size;
};

struct VenueFees {
  Amount maker_bps;  // negative = rebate
  Amount taker_bps;
};

struct VenueLimits {
  int orders_per_second = 0;  // 0 = unlimited
  int cancels_per_second = 0;
};

// How long something takes to arrive in simulation: a constant, a draw from a seeded distribution, or the
// delay the recording itself shows (receive time minus the exchange's time, less the file's minimum, since
// the two clocks are offset).
struct LatencySpec {
  enum class Kind : std::uint8_t { Constant, Uniform, LogNormal, FromData };
  Kind kind = Kind::Constant;
  DurationNs base_ns = 0;  // constant; uniform low; lognormal median; from data: added to the recorded delay
  DurationNs high_ns = 0;  // uniform high
  double sigma = 0;        // lognormal shape
  std::string text;        // as written, for reports
};
// "0", "1ms", "250us", "uniform(1ms, 3ms)", "lognormal(2ms, 0.5)", "data", "data+1ms".
Result<LatencySpec> parse_latency(std::string_view text);
// "1500ns", "250us", "3ms", "2s", "0".
Result<DurationNs> parse_duration(std::string_view text);

// How a resting order of ours moves up its queue in simulation (docs/config.md).
enum class QueueModel : std::uint8_t { RiskAverse, Proportional, Exact };
std::string_view to_string(QueueModel);
// What fills a resting order of ours when the recorded book moves onto its price without a trade there
// (docs/simulator.md): nothing (only recorded trades fill us), no more than the recorded trades at or through
// our price beyond the queue ahead of us have shown since it rested, or everything that crossed.
enum class CrossFill : std::uint8_t { None, Prints, Full };
std::string_view to_string(CrossFill);
Result<CrossFill> parse_cross_fill(std::string_view text);  // "none", "prints" or "full"
// Spot-like cash (a buy spends the quote, a sell the base) or derivatives margin (orders and positions lock
// margin in the settlement asset).
enum class AccountModel : std::uint8_t { Cash, Margin };

struct TimeWindow {
  TimestampNs start_ns = 0;
  TimestampNs end_ns = 0;
};

// Faults a simulated venue injects on demand. Probabilities are per message.
struct VenueFaults {
  double drop_ack = 0;         // an ack (new, canceled, replaced) never reaches us
  double drop_fill = 0;        // a fill report never reaches us (the fill still happened)
  double duplicate = 0;        // a report reaches us twice
  double delay = 0;            // a report is held back by delay_by
  DurationNs delay_by_ns = 0;  //
  double reorder = 0;  // a report is held back by a random time up to reorder_within, so later ones pass it
  DurationNs reorder_within_ns = 0;
  double fill_after_cancel =
      0;              // a fill made while our cancel was on its way reaches us after the cancel's ack
  double reject = 0;  // a new order the venue would take is rejected instead
  std::vector<TimeWindow> disconnects;  // the session is down: requests fail, reports are lost
  std::vector<TimeWindow> halts;        // the venue halts trading: new orders rejected, nothing fills
  // Our market data from the venue stops (the venue trades on): stale books; a snapshot when it comes back.
  std::vector<TimeWindow> stale;
  bool any() const {
    return drop_ack > 0 || drop_fill > 0 || duplicate > 0 || delay > 0 || reorder > 0 ||
           fill_after_cancel > 0 || reject > 0 || !disconnects.empty() || !halts.empty() || !stale.empty();
  }
};

// How the simulator plays one venue: the recorded files that feed it and its models.
struct VenueSimConfig {
  // Each feed is a list of files replayed back to back (a day that continues in the next file); the venue's
  // feeds are merged by receive time. Paths are resolved against the config file's folder.
  std::vector<std::vector<std::string>> feeds;
  LatencySpec market_data_latency;  // extra delay before recorded market data reaches us
  LatencySpec order_latency;        // our new order reaching the venue
  LatencySpec response_latency;     // the venue's answer reaching us
  LatencySpec cancel_latency;       // our cancel or amend reaching the venue
  QueueModel queue_model = QueueModel::RiskAverse;
  CrossFill cross_fill = CrossFill::Prints;
  // Share of a level's recorded refill that restores liquidity we took there (0: never comes back, 1: every
  // recorded addition does).
  double resilience = 0.5;
  // Shift this venue's prices onto the scenario's recentre reference by the recent basis.
  bool recentre = false;
  DurationNs stale_after_ns = 5 * kNanosPerSecond;
  AccountModel account = AccountModel::Cash;
  Amount leverage = Amount::from_units(1);
  VenueFaults faults;
};

// A venue reached over FIX 4.4 (gateway::FixVenueSession): the session and what to do with resting
// children when it drops.
struct VenueFixConfig {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string sender_comp_id = "TRANCHE";  // ours
  std::string target_comp_id;              // the venue's; default: the venue id
  DurationNs heartbeat_ns = 30 * kNanosPerSecond;
  DurationNs reconnect_ns = 1 * kNanosPerSecond;
  // At the logon after a drop: "query" asks the venue for each resting child's status (the OMS reconciles);
  // "cancel" cancels each.
  std::string on_reconnect = "query";
  // A new FIX session (sequence numbers from 1) at every Logon. Off by default: the numbers continue across
  // reconnects and restarts; only a store with no history (a new journal) starts with a reset.
  bool reset_on_logon = false;
};

// A venue reached through Binance spot's own API (gateway::BinanceSession): where it is, how orders go,
// and where the key comes from (never the key itself: docs/gateways.md).
struct VenueBinanceConfig {
  std::string network = "production";       // "production" or "testnet": the URLs' defaults
  std::string rest_url;                     // https://api.binance.com
  std::string ws_api_url;                   // wss://ws-api.binance.com:443/ws-api/v3
  std::string stream_url;                   // wss://stream.binance.com:9443
  std::string ca_file;                      // the certificates to trust; empty: the system's store
  std::string order_api = "rest";           // "rest" or "websocket": how orders are sent
  std::string key_file;                     // an owner-only TOML file with api_key and api_secret
  std::string key_env = "BINANCE_API_KEY";  // else these environment variables
  std::string secret_env = "BINANCE_API_SECRET";
  DurationNs recv_window_ns = 5 * kNanosPerSecond;
  DurationNs request_timeout_ns = 10 * kNanosPerSecond;
  DurationNs reconnect_min_ns = 250 * kNanosPerMilli;  // backoff after a drop, doubling, with jitter
  DurationNs reconnect_max_ns = 30 * kNanosPerSecond;
  std::string client_order_prefix = "tr";  // our newClientOrderIds: "tr-17"
  std::string on_reconnect = "query";      // as [venue.fix]
};

struct VenueConfig {
  VenueId id;            // "binance-spot"
  std::string exchange;  // "binance"
  std::string market;    // "spot", "usdm", "coinm"
  VenueFees fees;
  VenueLimits limits;
  std::vector<VenueListing> listings;
  std::map<std::string, Amount> balances;     // asset -> starting balance (simulation)
  std::optional<VenueSimConfig> sim;          // present when the simulator plays this venue
  std::optional<VenueFixConfig> fix;          // present when orders go to it over FIX
  std::optional<VenueBinanceConfig> binance;  // present when orders go to it over Binance spot's API

  const VenueListing* listing(const InstrumentId& instrument) const;
  const VenueListing* listing_by_symbol(std::string_view symbol) const;
};

// A simulation run over recorded data: its window on the receive clock, its seed and the re-centring of
// venues that quote one instrument through different markets.
struct ScenarioConfig {
  std::string name;
  TimestampNs start_ns = 0;  // 0: the start of the data
  TimestampNs end_ns = 0;    // 0: the end of the data
  std::uint64_t seed = 1;
  std::string recentre_reference;  // the venue whose mid the recentred venues follow
  DurationNs recentre_window_ns = 5 * kNanosPerSecond;
  DurationNs recentre_sample_ns = 100 * kNanosPerMilli;
};

// Pre-trade limits (docs/config.md, [risk]). Quantities are per instrument in its base asset; notionals are
// in the quote currency. A zero quantity limit means none for that instrument; the notional limits always
// apply.
struct InstrumentRisk {
  Qty max_parent_qty;
  Qty max_child_qty;
  Qty max_position;  // per account, long or short, counting what is in flight
  Qty adv;           // average daily volume, for the share check; zero: no check
};

struct RiskConfig {
  Amount max_parent_notional = Amount::from_units(5'000'000);
  Amount parent_collar_bps = Amount::from_units(500);
  double max_adv_share = 0.1;
  std::vector<std::string> restricted;       // instruments nobody may trade
  std::vector<std::string> accounts;         // the accounts allowed; empty: any
  std::vector<std::string> disabled_venues;  // no orders to these
  Amount child_collar_bps = Amount::from_units(100);
  Amount max_child_notional = Amount::from_units(5'000'000);
  int max_open_orders_per_venue = 50;
  int max_open_orders_per_account = 200;
  Amount max_in_flight_notional_per_venue = Amount::from_units(6'000'000);
  Amount max_in_flight_notional_per_account = Amount::from_units(12'000'000);
  DurationNs max_market_data_age_ns = 5 * kNanosPerSecond;
  bool self_trade_prevention = true;
  std::map<std::string, InstrumentRisk> instruments;
};

// Transaction-cost analysis settings ([tca]).
struct TcaConfig {
  std::string arrival_mid =
      "primary";  // "primary": primary_venue's mid; "consolidated": the best bid and offer across venues
};

// `tranche serve`'s FIX 4.4 acceptor for parent orders (docs/fix.md).
// What the OMS keeps in memory (docs/config.md [oms]). An ended parent leaves memory with its children and
// fills once they are all closed and `forget_ended_after` has passed since it ended, on the journal's clock
// (so a replay of the journal forgets the same); queries for it read the journal. 0: kept for ever.
struct OmsConfig {
  DurationNs forget_ended_after_ns = 60 * 60 * kNanosPerSecond;
  // Anomalies, venue oddities and risk denials kept in memory (the latest); every one is counted and
  // journaled.
  int keep_recent = 1000;
};

struct FixAcceptorConfig {
  std::string host = "127.0.0.1";
  int port = 9878;
  std::string comp_id = "TRANCHE";                 // our SenderCompID
  std::vector<std::string> clients = {"CLIENT1"};  // the client CompIDs allowed to log on
  std::string username, password;                  // when set, a Logon must carry them (553, 554)
  std::string dictionary;                          // empty: the one the build generates (QuickFIX format)
  // Sequence numbers start again at every Logon. Off by default: they continue across reconnects and
  // restarts (kept in the store), and what a client missed while away is resent when it asks.
  bool reset_on_logon = false;
};

// A bearer token of the HTTP API: who it is (named in the journal and the logs), what it may do, and the
// SHA-256 of the token (hex), never the token itself.
struct ApiToken {
  std::string name;
  std::string role;    // "viewer" (read), "trader" (orders), "admin" (the kill switch and limits too)
  std::string sha256;  // 64 lower-case hex digits
};

// `tranche serve`'s HTTP/WebSocket API, blotter and metrics (docs/api.md).
struct ApiConfig {
  bool enabled = false;  // off without a [server.api] table; the bundled config turns it on
  std::string host = "127.0.0.1";
  int port = 9880;                // 0: any free port (the server says which)
  std::string tls_cert, tls_key;  // both or neither: HTTPS and WSS
  // Origins a browser's request may come from, besides the server's own; a request with any other Origin is
  // refused (403). Requests without an Origin (programs, not browsers) are not affected.
  std::vector<std::string> allowed_origins;
  std::vector<ApiToken> tokens;
  int max_body_bytes = 65536;
  int max_connections = 4096;  // beyond it a new connection is closed at once
  DurationNs idle_timeout_ns = 60 * kNanosPerSecond;
  DurationNs read_timeout_ns = 10 * kNanosPerSecond;
  int stream_keep = 10000;   // events kept for a client that reconnects
  int stream_queue = 10000;  // events waiting for one client before it is dropped as too slow
};

// `tranche serve`: the daemon (docs/serve.md).
struct ServerConfig {
  Amount speed = Amount::from_units(1);  // replay seconds per wall second
  std::string default_algo = "twap";     // for a NewOrderSingle that names none
  DurationNs default_horizon_ns = 5 * 60 * kNanosPerSecond;
  std::string on_data_end =
      "stay";  // "stay": the venues close, the server stays up; "replay": from the start again
  std::string on_shutdown = "cancel";  // "cancel": parents canceled at SIGTERM; "keep": left for the restart
  std::string journal = "tranche-serve.journal";  // relative to the working directory
  // "replay": the recorded market replayed on the wall clock (the simulator); "live": every venue's own
  // market data, through its gateway ([venue.binance]), on the wall clock.
  std::string market = "replay";
  // The CPU the kernel's thread runs on alone, every other thread of the daemon on the rest; -1: none, the
  // operating system places every thread.
  int kernel_cpu = -1;
  FixAcceptorConfig fix;
  ApiConfig api;
};

// `tranche exchange`: the simulator's venues behind a FIX 4.4 acceptor (docs/exchange.md). Each venue is a
// session whose CompID is the venue id; the symbols are the venues' own.
// `tranche exchange --protocol binance`: one venue behind Binance spot's REST, WebSocket API and streams
// over HTTPS/WSS ([exchange.binance], docs/exchange.md). The rate limits are the ones it publishes in
// exchangeInfo and enforces; their defaults are Binance spot's.
struct ExchangeBinanceConfig {
  std::string host = "127.0.0.1";
  int port = 9443;
  std::string venue;  // the venue it plays; empty: the config's binance spot venue
  int request_weight_per_minute = 6000;
  int raw_requests_per_5m = 61000;
  int orders_per_10s = 100;
  int orders_per_day = 200000;
  int refusals_before_ban = 5;  // 429s in a row before an IP is banned (418)
  DurationNs first_ban_ns = 2 * 60 * kNanosPerSecond;
  int max_body_bytes = 65536;
  DurationNs read_timeout_ns = 10 * kNanosPerSecond;
};

struct ExchangeConfig {
  std::string host = "127.0.0.1";
  int port = 9879;
  std::vector<std::string> clients = {"TRANCHE"};  // the CompIDs that may trade on every venue
  Amount speed = Amount::from_units(1);
  ExchangeBinanceConfig binance;
};

struct Config {
  std::vector<Instrument> instruments;
  std::vector<VenueConfig> venues;
  std::string primary_venue;  // the venue whose mid is the TCA benchmark
  std::optional<ScenarioConfig> scenario;
  RiskConfig risk;  // the built-in defaults when the file has no [risk]
  TcaConfig tca;
  OmsConfig oms;
  ServerConfig server;  // the built-in defaults when the file has no [server]
  ExchangeConfig exchange;
  std::string source;  // where it was loaded from, for messages

  const Instrument* instrument(const InstrumentId& id) const;
  const VenueConfig* venue(const VenueId& id) const;
  // Whether a parent of `qty` base could ever be executed: false, with the reason, when it is below the
  // smallest lot of every venue listing the instrument in base (an inverse listing's lot is in contracts,
  // worth a price-dependent base, and is not counted).
  Status check_parent_qty(const InstrumentId& instrument, Qty qty) const;
};

// "HOST:PORT" (a non-empty host, a port from 1 to 65535): every address a config or command line gives.
bool parse_host_port(std::string_view text, std::string& host, int& port);

Result<Config> parse_config(std::string_view toml_text, std::string_view source_name);
Result<Config> load_config(const std::string& path);

}  // namespace tranche
