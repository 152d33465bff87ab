#include "core/config.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace tranche {
namespace {

constexpr std::string_view kTwoVenues = R"(
primary_venue = "binance-spot"

[[instrument]]
id = "ETH-USDT"
base = "ETH"
quote = "USDT"
tick_size = "0.01"
lot_size = "0.0001"
min_notional = "5"

[[instrument]]
id = "BTC-USDT"
base = "BTC"
quote = "USDT"
tick_size = "0.1"
lot_size = "0.00001"

[[venue]]
id = "binance-spot"
exchange = "binance"
market = "spot"
maker_fee_bps = "10"
taker_fee_bps = "10"
orders_per_second = 10
cancels_per_second = 20

[venue.balances]
ETH = "2000"
USDT = "10000000.5"

[[venue.listing]]
instrument = "ETH-USDT"
symbol = "ETHUSDT"

[[venue.listing]]
instrument = "BTC-USDT"
symbol = "BTCUSDT"
min_notional = "10"

[[venue]]
id = "binance-coinm"
exchange = "binance"
market = "coinm"
maker_fee_bps = "-0.5"
taker_fee_bps = "5"

[[venue.listing]]
instrument = "ETH-USDT"
symbol = "ETHUSD_PERP"
lot_size = "1"
inverse = true
contract_size = "10"
)";

Config must_parse(std::string_view text) {
  auto result = parse_config(text, "test.toml");
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
  return result.ok() ? std::move(result).value() : Config{};
}

// Parses text that must fail and returns the message, so a test can check it names the problem.
std::string error_of(std::string_view text) {
  const auto result = parse_config(text, "test.toml");
  EXPECT_FALSE(result.ok()) << "expected an error for:\n" << text;
  return result.ok() ? std::string() : result.error().message;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

Price price(std::string_view text) {
  return *Price::parse(text);
}
Qty qty(std::string_view text) {
  return *Qty::parse(text);
}
Amount amount(std::string_view text) {
  return *Amount::parse(text);
}

constexpr std::string_view kInstrument = R"(
[[instrument]]
id = "ETH-USDT"
base = "ETH"
quote = "USDT"
tick_size = "0.01"
lot_size = "0.0001"
)";

TEST(ParseConfig, TheHttpApiIsOffWithoutItsTableAndOnWithIt) {
  EXPECT_FALSE(must_parse("").server.api.enabled);
  const Config config = must_parse(R"(
[server.api]
listen = "127.0.0.1:0"
allowed_origins = ["https://desk.example:8443"]
max_body_bytes = 4096
idle_timeout = "30s"
stream_keep = 0
[[server.api.token]]
name = "alice"
role = "trader"
sha256 = "048d72d353b33a1a1bc51db8d0d8dca5a56ebe43c362a56284af958d628fc487"
[[server.api.token]]
name = "ops"
role = "admin"
sha256 = "cce7a2cf1ae045989cfc914fb95a41526f167a838b3c7d33745143614abace7c"
)");
  const ApiConfig& api = config.server.api;
  EXPECT_TRUE(api.enabled);
  EXPECT_EQ(api.port, 0);
  EXPECT_EQ(api.allowed_origins, std::vector<std::string>{"https://desk.example:8443"});
  EXPECT_EQ(api.max_body_bytes, 4096);
  EXPECT_EQ(api.idle_timeout_ns, 30 * kNanosPerSecond);
  EXPECT_EQ(api.stream_keep, 0);
  ASSERT_EQ(api.tokens.size(), 2u);
  EXPECT_EQ(api.tokens[1].name, "ops");
  EXPECT_EQ(api.tokens[1].role, "admin");
}

TEST(ParseConfig, AnApiTokenIsRefusedInTheClearWithABadHashOrRoleOrTwice) {
  const std::string hash = "048d72d353b33a1a1bc51db8d0d8dca5a56ebe43c362a56284af958d628fc487";
  auto token = [&](std::string_view fields) {
    return "[server.api]\n[[server.api.token]]\n" + std::string(fields);
  };
  EXPECT_TRUE(contains(
      error_of(token("name = \"a\"\nrole = \"trader\"\ntoken = \"s3cret\"\nsha256 = \"" + hash + "\"\n")),
      "a token never goes in the config"));
  EXPECT_TRUE(contains(error_of(token("name = \"a\"\nrole = \"trader\"\nsha256 = \"ABC\"\n")),
                       "must be 64 lower-case hex digits"));
  EXPECT_TRUE(contains(error_of(token("name = \"a\"\nrole = \"root\"\nsha256 = \"" + hash + "\"\n")),
                       "role 'root' is not viewer, trader or admin"));
  EXPECT_TRUE(contains(error_of(token("name = \"a b\"\nrole = \"viewer\"\nsha256 = \"" + hash + "\"\n")),
                       "without spaces"));
  EXPECT_TRUE(contains(
      error_of("[server.api]\n[[server.api.token]]\nname = \"a\"\nrole = \"viewer\"\nsha256 = \"" + hash +
               "\"\n[[server.api.token]]\nname = \"b\"\nrole = \"admin\"\nsha256 = \"" + hash + "\"\n"),
      "repeats the name or the hash of 'a'"));
  EXPECT_TRUE(
      contains(error_of("[server.api]\ntls_cert = \"cert.pem\"\n"), "tls_cert and tls_key go together"));
  EXPECT_TRUE(contains(error_of("[server.api]\nallowed_origins = [\"desk.example\"]\n"), "is not an origin"));
  EXPECT_TRUE(contains(error_of("[server.api]\nmax_body_bytes = 10\n"), "out of range"));
  EXPECT_TRUE(contains(error_of("[server.api]\nlisten = \"127.0.0.1:70000\"\n"), "listen"));
  EXPECT_TRUE(contains(error_of("[server.api]\nshout = true\n"), "unknown key 'shout'"));
}

TEST(ParseConfig, ReadsInstrumentsWithExactDecimalSteps) {
  const Config config = must_parse(kTwoVenues);
  EXPECT_EQ(config.source, "test.toml");
  ASSERT_EQ(config.instruments.size(), 2u);
  const Instrument* eth = config.instrument(InstrumentId("ETH-USDT"));
  ASSERT_NE(eth, nullptr);
  EXPECT_EQ(eth->base, "ETH");
  EXPECT_EQ(eth->quote, "USDT");
  EXPECT_EQ(eth->tick_size, price("0.01"));
  EXPECT_EQ(eth->lot_size, qty("0.0001"));
  EXPECT_EQ(eth->min_notional, amount("5"));
  const Instrument* btc = config.instrument(InstrumentId("BTC-USDT"));
  ASSERT_NE(btc, nullptr);
  EXPECT_TRUE(btc->min_notional.is_zero()) << "min_notional is optional";
  EXPECT_EQ(config.instrument(InstrumentId("SOL-USDT")), nullptr);
}

TEST(ParseConfig, ReadsVenuesWithFeesLimitsAndBalances) {
  const Config config = must_parse(kTwoVenues);
  EXPECT_EQ(config.primary_venue, "binance-spot");
  ASSERT_EQ(config.venues.size(), 2u);
  const VenueConfig* spot = config.venue(VenueId("binance-spot"));
  ASSERT_NE(spot, nullptr);
  EXPECT_EQ(spot->exchange, "binance");
  EXPECT_EQ(spot->market, "spot");
  EXPECT_EQ(spot->fees.maker_bps, amount("10"));
  EXPECT_EQ(spot->fees.taker_bps, amount("10"));
  EXPECT_EQ(spot->limits.orders_per_second, 10);
  EXPECT_EQ(spot->limits.cancels_per_second, 20);
  ASSERT_EQ(spot->balances.size(), 2u);
  EXPECT_EQ(spot->balances.at("ETH"), amount("2000"));
  EXPECT_EQ(spot->balances.at("USDT"), amount("10000000.5"));

  const VenueConfig* coinm = config.venue(VenueId("binance-coinm"));
  ASSERT_NE(coinm, nullptr);
  EXPECT_EQ(coinm->fees.maker_bps, amount("-0.5")) << "a negative fee is a rebate";
  EXPECT_EQ(coinm->limits.orders_per_second, 0) << "absent limits mean unlimited";
  EXPECT_TRUE(coinm->balances.empty());
  EXPECT_EQ(config.venue(VenueId("binance-usdm")), nullptr);
}

TEST(ParseConfig, ListingsInheritTheInstrumentStepsUnlessTheyGiveTheirOwn) {
  const Config config = must_parse(kTwoVenues);
  const VenueConfig* spot = config.venue(VenueId("binance-spot"));
  ASSERT_NE(spot, nullptr);
  ASSERT_EQ(spot->listings.size(), 2u);
  const VenueListing* eth = spot->listing(InstrumentId("ETH-USDT"));
  ASSERT_NE(eth, nullptr);
  EXPECT_EQ(eth->symbol, "ETHUSDT");
  EXPECT_EQ(eth->tick_size, price("0.01"));
  EXPECT_EQ(eth->lot_size, qty("0.0001"));
  EXPECT_EQ(eth->min_notional, amount("5"));
  EXPECT_FALSE(eth->inverse);
  EXPECT_TRUE(eth->contract_size.is_zero());
  EXPECT_EQ(spot->listing_by_symbol("ETHUSDT"), eth);

  const VenueListing* btc = spot->listing_by_symbol("BTCUSDT");
  ASSERT_NE(btc, nullptr);
  EXPECT_EQ(btc->instrument, InstrumentId("BTC-USDT"));
  EXPECT_EQ(btc->tick_size, price("0.1"));
  EXPECT_EQ(btc->min_notional, amount("10")) << "the listing's own min_notional wins";
  EXPECT_EQ(spot->listing_by_symbol("ETHUSD_PERP"), nullptr);
}

TEST(ParseConfig, ReadsAnInverseListingWithItsContractSize) {
  const Config config = must_parse(kTwoVenues);
  const VenueConfig* coinm = config.venue(VenueId("binance-coinm"));
  ASSERT_NE(coinm, nullptr);
  const VenueListing* perp = coinm->listing(InstrumentId("ETH-USDT"));
  ASSERT_NE(perp, nullptr);
  EXPECT_EQ(perp->symbol, "ETHUSD_PERP");
  EXPECT_TRUE(perp->inverse);
  EXPECT_EQ(perp->contract_size, amount("10"));
  EXPECT_EQ(perp->lot_size, qty("1"));
  EXPECT_EQ(perp->tick_size, price("0.01"));
  EXPECT_EQ(coinm->listing(InstrumentId("BTC-USDT")), nullptr);
}

TEST(ParseConfig, AnInverseListingNeedsAPositiveContractSize) {
  const std::string base = std::string(kInstrument) + R"(
[[venue]]
id = "binance-coinm"
[[venue.listing]]
instrument = "ETH-USDT"
symbol = "ETHUSD_PERP"
inverse = true
)";
  const std::string missing = error_of(base);
  EXPECT_TRUE(contains(missing, "contract_size is missing")) << missing;
  EXPECT_TRUE(contains(missing, "venue 'binance-coinm'.listing[0]")) << missing;
  const std::string zero = error_of(base + "contract_size = \"0\"\n");
  EXPECT_TRUE(contains(zero, "positive contract_size")) << zero;
}

TEST(ParseConfig, AcceptsAnEmptyFile) {
  const Config empty = must_parse("");
  EXPECT_TRUE(empty.instruments.empty());
  EXPECT_TRUE(empty.venues.empty());
  EXPECT_TRUE(empty.primary_venue.empty());
  EXPECT_FALSE(empty.scenario.has_value());
}

TEST(ParseConfig, TheServerDefaultsListenOnLoopbackForClient1) {
  const Config config = must_parse("");
  EXPECT_EQ(config.server.fix.host, "127.0.0.1");
  EXPECT_EQ(config.server.fix.port, 9878);
  EXPECT_EQ(config.server.fix.comp_id, "TRANCHE");
  EXPECT_EQ(config.server.fix.clients, std::vector<std::string>{"CLIENT1"});
  EXPECT_EQ(config.server.default_algo, "twap");
  EXPECT_EQ(config.server.default_horizon_ns, 5 * 60 * kNanosPerSecond);
  EXPECT_EQ(config.server.on_shutdown, "cancel");
  EXPECT_EQ(config.server.speed, Amount::from_units(1));
  EXPECT_EQ(config.server.market, "replay");
}

TEST(ParseConfig, ReadsTheServersMarketAndRefusesAnyButReplayLiveOrPaper) {
  EXPECT_EQ(must_parse("[server]\nmarket = \"live\"\n").server.market, "live");
  EXPECT_EQ(must_parse("[server]\nmarket = \"replay\"\n").server.market, "replay");
  EXPECT_EQ(must_parse("[server]\nmarket = \"paper\"\n").server.market, "paper");
  EXPECT_NE(error_of("[server]\nmarket = \"dream\"\n").find("market 'dream' is not replay, live or paper"),
            std::string::npos);
}

TEST(ParseConfig, ReadsTheServerAndItsFixAcceptor) {
  const Config config = must_parse(R"(
[server]
speed = "2.5"
default_algo = "vwap"
default_horizon = "10m"
on_shutdown = "keep"
journal = "serve.journal"
[server.fix]
listen = "0.0.0.0:9900"
comp_id = "EMS"
clients = ["DESK1", "DESK2"]
username = "u"
password = "p"
reset_on_logon = true
)");
  EXPECT_TRUE(config.server.fix.reset_on_logon);
  EXPECT_FALSE(must_parse("[server.fix]\nlisten = \"127.0.0.1:9900\"\n").server.fix.reset_on_logon);
  EXPECT_NE(error_of("[server.fix]\nreset_on_logon = \"yes\"\n").find("reset_on_logon must be true or false"),
            std::string::npos);
  EXPECT_EQ(config.server.speed.to_string(), "2.5");
  EXPECT_EQ(config.server.default_algo, "vwap");
  EXPECT_EQ(config.server.default_horizon_ns, 10 * 60 * kNanosPerSecond);
  EXPECT_EQ(config.server.on_shutdown, "keep");
  EXPECT_EQ(config.server.fix.host, "0.0.0.0");
  EXPECT_EQ(config.server.fix.port, 9900);
  EXPECT_EQ(config.server.fix.comp_id, "EMS");
  EXPECT_EQ(config.server.fix.clients.size(), 2u);
  EXPECT_EQ(config.server.fix.password, "p");
}

TEST(ParseConfig, ReadsTheBinanceExchangesTableWithBinancesLimitsAsDefaults) {
  const Config defaults = must_parse(std::string(kInstrument));
  EXPECT_EQ(defaults.exchange.binance.port, 9443);
  EXPECT_EQ(defaults.exchange.binance.request_weight_per_minute, 6000);
  EXPECT_EQ(defaults.exchange.binance.orders_per_10s, 100);
  EXPECT_EQ(defaults.exchange.binance.first_ban_ns, 120 * kNanosPerSecond);
  const Config config = must_parse(std::string(kInstrument) + R"(
[[venue]]
id = "spot"
[exchange.binance]
listen = "127.0.0.1:19443"
venue = "spot"
request_weight_per_minute = 100
orders_per_10s = 5
first_ban = "30s"
read_timeout = "2s"
)");
  EXPECT_EQ(config.exchange.binance.port, 19443);
  EXPECT_EQ(config.exchange.binance.venue, "spot");
  EXPECT_EQ(config.exchange.binance.request_weight_per_minute, 100);
  EXPECT_EQ(config.exchange.binance.orders_per_10s, 5);
  EXPECT_EQ(config.exchange.binance.first_ban_ns, 30 * kNanosPerSecond);
  EXPECT_EQ(config.exchange.binance.read_timeout_ns, 2 * kNanosPerSecond);
  EXPECT_NE(error_of("[exchange.binance]\nweight = 1\n").find("unknown key 'weight'"), std::string::npos);
  EXPECT_NE(
      error_of(std::string(kInstrument) + "[[venue]]\nid = \"spot\"\n[exchange.binance]\nvenue = \"nope\"\n")
          .find("'nope' is not a configured venue"),
      std::string::npos);
  EXPECT_FALSE(error_of("[exchange.binance]\norders_per_10s = 0\n").empty());
}

TEST(ParseConfig, ReadsAVenueReachedThroughBinancesOwnApiOnEachMarket) {
  const Config config = must_parse(std::string(kInstrument) + R"(
[[venue]]
id = "spot"
exchange = "binance"
market = "spot"
[venue.binance]
order_api = "websocket"
[[venue]]
id = "perp"
exchange = "binance"
market = "usdm"
[venue.binance]
network = "testnet"
client_order_prefix = "ems1"
)");
  const VenueBinanceConfig& spot = *config.venues.at(0).binance;
  EXPECT_EQ(spot.rest_url, "https://api.binance.com");
  EXPECT_EQ(spot.order_api, "websocket");
  const VenueBinanceConfig& perp = *config.venues.at(1).binance;
  EXPECT_EQ(perp.rest_url, "https://testnet.binancefuture.com");  // each market's own hosts
  EXPECT_EQ(perp.stream_url, "wss://stream.binancefuture.com");
  EXPECT_EQ(perp.order_api, "rest");
  EXPECT_EQ(perp.client_order_prefix, "ems1");
  const std::string venue = std::string(kInstrument) + "[[venue]]\nid = \"perp\"\nexchange = \"binance\"\n";
  EXPECT_NE(error_of(venue + "market = \"usdm\"\n[venue.binance]\norder_api = \"websocket\"\n")
                .find("orders to Binance futures go over REST"),
            std::string::npos);
  EXPECT_NE(error_of(venue + "market = \"coinm\"\n[venue.binance]\napi_key = \"k\"\n")
                .find("never goes in the config"),
            std::string::npos);
  EXPECT_NE(error_of(venue + "market = \"coinm\"\n[venue.binance]\nstream_url = \"ws://x\"\n")
                .find("must start with wss://"),
            std::string::npos);
}

TEST(ParseConfig, ReadsAVenueReachedOverFixAndTheExchange) {
  const Config config = must_parse(std::string(kInstrument) + R"(
[[venue]]
id = "fix-venue"
[venue.fix]
connect = "127.0.0.1:9879"
heartbeat = "10s"
on_reconnect = "cancel"
reset_on_logon = true
[exchange]
listen = "0.0.0.0:9900"
clients = ["EMS1", "EMS2"]
speed = "2"
)");
  ASSERT_TRUE(config.venues.at(0).fix.has_value());
  const VenueFixConfig& fix = *config.venues.at(0).fix;
  EXPECT_EQ(fix.host, "127.0.0.1");
  EXPECT_EQ(fix.port, 9879);
  EXPECT_EQ(fix.sender_comp_id, "TRANCHE");
  EXPECT_EQ(fix.target_comp_id, "fix-venue");
  EXPECT_EQ(fix.heartbeat_ns, 10 * kNanosPerSecond);
  EXPECT_EQ(fix.on_reconnect, "cancel");
  EXPECT_TRUE(fix.reset_on_logon);  // off unless asked: sequence numbers continue across restarts
  EXPECT_FALSE(
      must_parse(std::string(kInstrument) + "[[venue]]\nid = \"v\"\n[venue.fix]\nconnect = \"h:1\"\n")
          .venues.at(0)
          .fix->reset_on_logon);
  EXPECT_EQ(config.exchange.port, 9900);
  EXPECT_EQ(config.exchange.clients.size(), 2u);
  EXPECT_EQ(config.exchange.speed, Amount::from_units(2));
  EXPECT_NE(error_of(std::string(kInstrument) + "[[venue]]\nid = \"v\"\n[venue.fix]\nconnect = \"nowhere\"\n")
                .find("not HOST:PORT"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kInstrument) +
                     "[[venue]]\nid = \"v\"\n[venue.fix]\nconnect = \"h:1\"\non_reconnect = \"pray\"\n")
                .find("not query or cancel"),
            std::string::npos);
  EXPECT_NE(error_of("[exchange]\nclients = []\n").find("nobody could log on"), std::string::npos);
}

TEST(ParseConfig, RejectsAServerItCouldNotRun) {
  EXPECT_NE(error_of("[server]\nport = 8080\n").find("server: unknown key 'port'"), std::string::npos);
  EXPECT_NE(error_of("[server]\nspeed = \"0\"\n").find("speed must be positive"), std::string::npos);
  EXPECT_NE(error_of("[server]\non_shutdown = \"panic\"\n").find("not cancel or keep"), std::string::npos);
  EXPECT_NE(error_of("[server]\non_data_end = \"loop\"\n").find("on_data_end"), std::string::npos);
  EXPECT_NE(error_of("[server]\nkernel_cpu = -2\n").find("kernel_cpu = -2 is out of range"),
            std::string::npos);
  EXPECT_NE(error_of("[server]\nkernel_cpu = \"1\"\n").find("kernel_cpu must be an integer"),
            std::string::npos);
  EXPECT_NE(error_of("[server.fix]\nlisten = \"9878\"\n").find("not HOST:PORT"), std::string::npos);
  EXPECT_NE(error_of("[server.fix]\nlisten = \"localhost:70000\"\n").find("not HOST:PORT"),
            std::string::npos);
  EXPECT_NE(error_of("[server.fix]\nclients = []\n").find("nobody could log on"), std::string::npos);
}

TEST(ParseConfig, ReadsAScenarioAndHowTheSimulatorPlaysAVenue) {
  const Config config = must_parse(std::string(kInstrument) + R"toml(
[scenario]
name = "test"
start = "2024-08-08T23:54:17Z"
end = "2024-08-08T23:59:59.8Z"
seed = 7
recentre_reference = "a"
recentre_window = "2s"
[[venue]]
id = "a"
market = "spot"
[venue.sim]
files = ["data/a.gz", "/abs/b.gz"]
[[venue]]
id = "b"
market = "usdm"
[venue.sim]
files = [["x1.gz", "x2.gz"], ["y.gz"]]
queue_model = "proportional"
resilience = "0.25"
recentre = true
stale_after = "1500ms"
leverage = "5"
[venue.sim.latency]
market_data = "250us"
order = "uniform(1ms, 3ms)"
response = "lognormal(2ms, 0.5)"
[venue.sim.faults]
drop_fill = "0.1"
disconnect = [["2024-08-08T23:55:00Z", "2024-08-08T23:55:05Z"]]
)toml");
  ASSERT_TRUE(config.scenario.has_value());
  EXPECT_EQ(config.scenario->seed, 7u);
  EXPECT_EQ(config.scenario->start_ns, parse_time("2024-08-08T23:54:17Z").value());
  EXPECT_EQ(config.scenario->recentre_window_ns, 2 * kNanosPerSecond);
  const VenueSimConfig& a = *config.venues[0].sim;
  ASSERT_EQ(a.feeds.size(), 1u);  // a flat list is one feed replayed file after file
  EXPECT_EQ(a.feeds[0].size(), 2u);
  EXPECT_EQ(a.feeds[0][1], "/abs/b.gz");
  EXPECT_EQ(a.queue_model, QueueModel::RiskAverse);
  EXPECT_EQ(a.account, AccountModel::Cash);
  const VenueSimConfig& b = *config.venues[1].sim;
  EXPECT_EQ(b.feeds.size(), 2u);
  EXPECT_EQ(b.queue_model, QueueModel::Proportional);
  EXPECT_DOUBLE_EQ(b.resilience, 0.25);
  EXPECT_TRUE(b.recentre);
  EXPECT_EQ(b.stale_after_ns, 1500 * kNanosPerMilli);
  EXPECT_EQ(b.account, AccountModel::Margin);
  EXPECT_EQ(b.leverage, amount("5"));
  EXPECT_EQ(b.market_data_latency.base_ns, 250 * kNanosPerMicro);
  EXPECT_EQ(b.order_latency.kind, LatencySpec::Kind::Uniform);
  EXPECT_EQ(b.order_latency.high_ns, 3 * kNanosPerMilli);
  EXPECT_EQ(b.response_latency.kind, LatencySpec::Kind::LogNormal);
  EXPECT_EQ(b.cancel_latency.kind, LatencySpec::Kind::Uniform);  // cancels default to the order latency
  EXPECT_DOUBLE_EQ(b.faults.drop_fill, 0.1);
  ASSERT_EQ(b.faults.disconnects.size(), 1u);
}

TEST(ParseConfig, ReadsTheTcaBenchmarkAndRefusesAnUnknownOne) {
  EXPECT_EQ(must_parse("").tca.arrival_mid, "primary");
  EXPECT_EQ(must_parse("[tca]\narrival_mid = \"consolidated\"\n").tca.arrival_mid, "consolidated");
  EXPECT_TRUE(contains(error_of("[tca]\narrival_mid = \"vwap\"\n"), "not primary or consolidated"));
}

TEST(ParseLatency, ReadsEveryKindAndRefusesTheRest) {
  EXPECT_EQ(parse_latency("3ms")->base_ns, 3 * kNanosPerMilli);
  EXPECT_EQ(parse_latency("0")->base_ns, 0);
  EXPECT_EQ(parse_latency("1.5us")->base_ns, 1500);
  EXPECT_EQ(parse_latency("data")->kind, LatencySpec::Kind::FromData);
  EXPECT_EQ(parse_latency("data+2ms")->base_ns, 2 * kNanosPerMilli);
  EXPECT_EQ(parse_latency("uniform(1ms,2ms)")->kind, LatencySpec::Kind::Uniform);
  for (const char* bad :
       {"", "3", "3 hours", "-1ms", "uniform(2ms, 1ms)", "uniform(1ms)", "lognormal(1ms, x)", "datum"})
    EXPECT_FALSE(parse_latency(bad).ok()) << bad;
}

TEST(ParseConfig, RejectsASimulatorSectionItCannotRun) {
  const std::string venue = std::string(kInstrument) + "[[venue]]\nid = \"a\"\n[venue.sim]\n";
  EXPECT_TRUE(contains(error_of(venue + "files = []\n"), "files must list"));
  EXPECT_TRUE(
      contains(error_of(venue + "files = [\"a.gz\"]\nqueue_model = \"fifo\"\n"), "queue_model 'fifo'"));
  EXPECT_TRUE(contains(error_of(venue + "files = [\"a.gz\"]\nresilience = \"1.5\"\n"), "between 0 and 1"));
  EXPECT_TRUE(contains(error_of(venue + "files = [\"a.gz\"]\nrecentre = true\n"), "recentre_reference"));
  EXPECT_TRUE(contains(error_of(venue + "files = [\"a.gz\"]\n[venue.sim.latency]\norder = \"soon\"\n"),
                       "not a latency"));
  EXPECT_TRUE(
      contains(error_of(venue + "files = [\"a.gz\"]\n[venue.sim.faults]\nhalt = [[\"2024-01-01T00:00:01Z\", "
                                "\"2024-01-01T00:00:00Z\"]]\n"),
               "end after the start"));
  EXPECT_TRUE(contains(error_of(venue + "files = [\"a.gz\"]\nstale_after = \"0\"\n"), "at least 1ms"));
  EXPECT_TRUE(contains(
      error_of(venue + "files = [\"a.gz\"]\n[venue.sim.faults]\nhalt = [[\"2024-01-01T00:00:00Z\", "
                       "\"2024-01-01T00:00:10Z\"], [\"2024-01-01T00:00:05Z\", \"2024-01-01T00:00:20Z\"]]\n"),
      "must not overlap"));
  EXPECT_TRUE(contains(error_of(std::string(kInstrument) + "[scenario]\nrecentre_sample = \"1us\"\n"),
                       "at least 1ms"));
  EXPECT_TRUE(contains(
      error_of(std::string(kInstrument) + "[scenario]\nstart = \"2024-01-02\"\nend = \"2024-01-01\"\n"),
      "end must come after start"));
}

TEST(ParseConfig, RejectsAnUnknownTopLevelKey) {
  const std::string message = error_of("primary = \"binance-spot\"\n");
  EXPECT_TRUE(contains(message, "test.toml")) << message;
  EXPECT_TRUE(contains(message, "unknown top-level key 'primary'")) << message;
  EXPECT_TRUE(contains(message, "docs/config.md")) << message;
}

TEST(ParseConfig, RejectsAnUnknownKeyInsideEveryTable) {
  const std::string in_instrument = error_of(std::string(kInstrument) + "tick = \"0.01\"\n");
  EXPECT_TRUE(contains(in_instrument, "instrument[0]: unknown key 'tick'")) << in_instrument;

  const std::string in_venue = error_of(std::string(kInstrument) + R"(
[[venue]]
id = "binance-spot"
maker_fee = "10"
)");
  EXPECT_TRUE(contains(in_venue, "venue[0]: unknown key 'maker_fee'")) << in_venue;

  const std::string in_listing = error_of(std::string(kInstrument) + R"(
[[venue]]
id = "binance-spot"
[[venue.listing]]
instrument = "ETH-USDT"
symbol = "ETHUSDT"
lot = "0.001"
)");
  EXPECT_TRUE(contains(in_listing, "listing[0]: unknown key 'lot'")) << in_listing;
}

TEST(ParseConfig, RejectsATomlNumberWhereADecimalStringBelongs) {
  const std::string as_float = error_of(R"(
[[instrument]]
id = "ETH-USDT"
base = "ETH"
quote = "USDT"
tick_size = 0.01
lot_size = "0.0001"
)");
  EXPECT_TRUE(contains(as_float, "tick_size must be a decimal string")) << as_float;
  EXPECT_TRUE(contains(as_float, "instrument[0]")) << as_float;

  const std::string fee = error_of("[[venue]]\nid = \"binance-spot\"\ntaker_fee_bps = 10\n");
  EXPECT_TRUE(contains(fee, "taker_fee_bps must be a decimal string")) << fee;

  const std::string balance = error_of("[[venue]]\nid = \"binance-spot\"\n[venue.balances]\nUSDT = 1000.0\n");
  EXPECT_TRUE(contains(balance, "USDT must be a decimal string")) << balance;
  EXPECT_TRUE(contains(balance, "'binance-spot'.balances")) << balance;
}

TEST(ParseConfig, RejectsADecimalStringThatIsNotExact) {
  const std::string message = error_of(R"(
[[instrument]]
id = "ETH-USDT"
base = "ETH"
quote = "USDT"
tick_size = "1e-2"
lot_size = "0.0001"
)");
  EXPECT_TRUE(contains(message, "tick_size = '1e-2' is not a decimal")) << message;
  const std::string nine = error_of("[[venue]]\nid = \"v\"\nmaker_fee_bps = \"0.123456789\"\n");
  EXPECT_TRUE(contains(nine, "maker_fee_bps = '0.123456789' is not a decimal")) << nine;
}

TEST(ParseConfig, RejectsMissingOrNonPositiveSteps) {
  const std::string missing =
      error_of("[[instrument]]\nid = \"ETH-USDT\"\nbase = \"ETH\"\nquote = \"USDT\"\n");
  EXPECT_TRUE(contains(missing, "tick_size is missing")) << missing;
  const std::string zero_tick = error_of(
      "[[instrument]]\nid = \"ETH-USDT\"\nbase = \"ETH\"\nquote = \"USDT\"\ntick_size = \"0\"\nlot_size = "
      "\"1\"\n");
  EXPECT_TRUE(contains(zero_tick, "tick_size must be positive")) << zero_tick;
  const std::string negative_lot = error_of(std::string(kInstrument) + R"(
[[venue]]
id = "binance-spot"
[[venue.listing]]
instrument = "ETH-USDT"
symbol = "ETHUSDT"
lot_size = "-1"
)");
  EXPECT_TRUE(contains(negative_lot, "lot_size must be positive")) << negative_lot;
}

TEST(ParseConfig, RejectsValuesOfTheWrongTomlType) {
  const std::string id = error_of("[[venue]]\nid = 5\n");
  EXPECT_TRUE(contains(id, "id must be a string")) << id;
  const std::string rate = error_of("[[venue]]\nid = \"v\"\norders_per_second = \"10\"\n");
  EXPECT_TRUE(contains(rate, "orders_per_second must be an integer")) << rate;
  const std::string inverse = error_of(std::string(kInstrument) +
                                       "[[venue]]\nid = \"v\"\n[[venue.listing]]\ninstrument = \"ETH-USDT\"\n"
                                       "symbol = \"X\"\ninverse = \"yes\"\n");
  EXPECT_TRUE(contains(inverse, "inverse must be true or false")) << inverse;
  const std::string primary = error_of("primary_venue = 1\n");
  EXPECT_TRUE(contains(primary, "primary_venue must be a string")) << primary;
  const std::string not_array = error_of("[instrument]\nid = \"ETH-USDT\"\n");
  EXPECT_TRUE(contains(not_array, "[[instrument]] must be an array of tables")) << not_array;
}

TEST(ParseConfig, RejectsAnIdDefinedTwice) {
  const std::string instrument = error_of(std::string(kInstrument) + std::string(kInstrument));
  EXPECT_TRUE(contains(instrument, "instrument 'ETH-USDT' is defined twice")) << instrument;
  const std::string venue = error_of("[[venue]]\nid = \"binance-spot\"\n[[venue]]\nid = \"binance-spot\"\n");
  EXPECT_TRUE(contains(venue, "venue 'binance-spot' is defined twice")) << venue;
}

TEST(ParseConfig, RejectsAnIdLongerThanItsInlineCapacity) {
  const std::string message = error_of("[[venue]]\nid = \"" + std::string(32, 'v') + "\"\n");
  EXPECT_TRUE(contains(message, "longer than 31 characters")) << message;
}

TEST(ParseConfig, RejectsAListingOfAnUndefinedInstrument) {
  const std::string message = error_of(std::string(kInstrument) + R"(
[[venue]]
id = "binance-spot"
[[venue.listing]]
instrument = "BTC-USDT"
symbol = "BTCUSDT"
)");
  EXPECT_TRUE(contains(message, "instrument 'BTC-USDT' is not defined in [[instrument]]")) << message;
}

TEST(ParseConfig, RejectsAPrimaryVenueThatIsNotAConfiguredVenue) {
  const std::string message =
      error_of("primary_venue = \"binance-spot\"\n[[venue]]\nid = \"binance-usdm\"\n");
  EXPECT_TRUE(contains(message, "primary_venue 'binance-spot' is not a configured venue")) << message;
}

TEST(ParseConfig, ReportsATomlSyntaxErrorWithItsLineNumber) {
  const std::string message =
      error_of("primary_venue = \"binance-spot\"\n\n[[instrument]\nid = \"ETH-USDT\"\n");
  EXPECT_TRUE(contains(message, "test.toml:3:")) << message;
}

TEST(LoadConfig, ReportsAMissingFileByItsPath) {
  const auto result = load_config("/nonexistent/tranche/missing.toml");
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error().message, "/nonexistent/tranche/missing.toml"))
      << result.error().message;
  EXPECT_TRUE(contains(result.error().message, "cannot open")) << result.error().message;
}

// The defect a hostile user found: `max_parent_qty = "-1000"` loaded and let a 1,500 ETH parent fill (a
// negative limit read as "none"), and `max_open_orders_per_venue = -50` loaded and denied every child.
TEST(ParseConfig, ANegativeRiskLimitIsAnErrorNamingItsKeyNeverALimitSwitchedOff) {
  for (const char* key : {"max_parent_qty", "max_child_qty", "max_position", "adv"}) {
    SCOPED_TRACE(key);
    const std::string text =
        std::string(kInstrument) + "[risk.instruments.\"ETH-USDT\"]\n" + key + " = \"-1000\"\n";
    const std::string error = error_of(text);
    EXPECT_TRUE(contains(error, key)) << error;
    EXPECT_TRUE(contains(error, "must not be negative")) << error;
  }
  // Zero stays "none" for these, as docs/config.md says.
  const Config zero =
      must_parse(std::string(kInstrument) + "[risk.instruments.\"ETH-USDT\"]\nmax_parent_qty = \"0\"\n");
  EXPECT_EQ(zero.risk.instruments.at("ETH-USDT").max_parent_qty, Qty{});
}

TEST(ParseConfig, CountsOutsideTheirRangeAreErrorsNamingTheKey) {
  for (const char* line : {"max_open_orders_per_venue = -50", "max_open_orders_per_venue = 0",
                           "max_open_orders_per_account = -1", "max_open_orders_per_venue = 4294967346"}) {
    SCOPED_TRACE(line);
    const std::string error = error_of(std::string("[risk]\n") + line + "\n");
    EXPECT_TRUE(contains(error, std::string(line).substr(0, std::string(line).find(' ')))) << error;
    EXPECT_TRUE(contains(error, "out of range")) << error;
  }
  for (const char* line :
       {"orders_per_second = -10", "cancels_per_second = -1", "orders_per_second = 3000000000"}) {
    SCOPED_TRACE(line);
    const std::string error = error_of(std::string("[[venue]]\nid = \"v\"\n") + line + "\n");
    EXPECT_TRUE(contains(error, "out of range")) << error;
  }
  EXPECT_TRUE(
      contains(error_of("[risk]\nmax_market_data_age = \"0\"\n"), "max_market_data_age must be positive"));
  EXPECT_TRUE(contains(error_of("[risk]\nchild_collar_bps = \"-5\"\n"), "child_collar_bps"));
  EXPECT_TRUE(contains(error_of("[risk]\nparent_collar_bps = \"20000\"\n"), "parent_collar_bps"));
  EXPECT_TRUE(contains(error_of("[[venue]]\nid = \"v\"\ntaker_fee_bps = \"5000\"\n"), "taker_fee_bps"));
  EXPECT_TRUE(contains(error_of("[[venue]]\nid = \"v\"\n[venue.balances]\nUSDT = \"-1\"\n"), "USDT"));
  EXPECT_TRUE(contains(error_of(std::string(kInstrument) + "min_notional = \"-5\"\n"), "min_notional"));
  // A rebate is a negative fee and stays one.
  EXPECT_EQ(must_parse("[[venue]]\nid = \"v\"\nmaker_fee_bps = \"-0.5\"\n").venues[0].fees.maker_bps,
            amount("-0.5"));
}

TEST(ParseConfig, ReadsTheCrossingBookFillRuleAndDefaultsToPrints) {
  const std::string venue =
      "[[venue]]\nid = \"v\"\n[[venue.listing]]\ninstrument = \"ETH-USDT\"\nsymbol = \"ETHUSDT\"\n"
      "[venue.sim]\nfiles = [\"x.gz\"]\n";
  EXPECT_EQ(must_parse(std::string(kInstrument) + venue).venues[0].sim->cross_fill, CrossFill::Prints);
  for (const auto& [text, fill] :
       {std::pair{"none", CrossFill::None}, {"prints", CrossFill::Prints}, {"full", CrossFill::Full}}) {
    const Config c = must_parse(std::string(kInstrument) + venue + "cross_fill = \"" + text + "\"\n");
    EXPECT_EQ(c.venues[0].sim->cross_fill, fill);
    EXPECT_EQ(to_string(fill), text);
  }
  EXPECT_TRUE(contains(error_of(std::string(kInstrument) + venue + "cross_fill = \"some\"\n"),
                       "cross_fill 'some' is not one of prints, none, full"));
}

TEST(ConfigCheckParentQty, RefusesAQuantityBelowEveryVenuesLotAndSaysWhichLotIsSmallest) {
  const Config config = must_parse(kTwoVenues);
  const auto below = config.check_parent_qty(InstrumentId("ETH-USDT"), qty("0.00001"));
  ASSERT_FALSE(below.ok());
  EXPECT_TRUE(contains(below.message(), "0.0001 on binance-spot")) << below.message();
  EXPECT_TRUE(config.check_parent_qty(InstrumentId("ETH-USDT"), qty("0.0001")).ok());
}

TEST(LoadConfig, TheBundledDefaultLoadsWithTheDocumentedValues) {
  const std::string path = TRANCHE_SOURCE_DIR "/config/default.toml";
  const auto result = load_config(path);
  ASSERT_TRUE(result.ok()) << result.error().message;
  const Config& config = *result;
  EXPECT_EQ(config.source, path);
  EXPECT_EQ(config.primary_venue, "binance-spot");
  ASSERT_TRUE(config.scenario.has_value());
  EXPECT_EQ(config.scenario->start_ns, parse_time("2024-08-08T23:54:17Z").value());
  EXPECT_EQ(config.scenario->end_ns, parse_time("2024-08-08T23:59:59.8Z").value());
  EXPECT_EQ(config.scenario->recentre_reference, "binance-spot");

  ASSERT_EQ(config.instruments.size(), 1u);
  const Instrument& eth = config.instruments[0];
  EXPECT_EQ(eth.id, InstrumentId("ETH-USDT"));
  EXPECT_EQ(eth.base, "ETH");
  EXPECT_EQ(eth.quote, "USDT");
  EXPECT_EQ(eth.tick_size, price("0.01"));
  EXPECT_EQ(eth.lot_size, qty("0.0001"));
  EXPECT_EQ(eth.min_notional, amount("5"));

  struct Expected {
    std::string_view id, market, symbol, tick, lot, maker, taker;
    bool inverse;
    std::string_view contract_size;
  };
  const Expected expected[] = {
      {"binance-spot", "spot", "ETHUSDT", "0.01", "0.0001", "10", "10", false, "0"},
      {"binance-usdm", "usdm", "ETHUSDT", "0.01", "0.001", "2", "5", false, "0"},
      {"binance-coinm", "coinm", "ETHUSD_PERP", "0.01", "1", "1", "5", true, "10"},
  };
  ASSERT_EQ(config.venues.size(), std::size(expected));
  for (const Expected& e : expected) {
    SCOPED_TRACE(std::string(e.id));
    const VenueConfig* venue = config.venue(VenueId(e.id));
    ASSERT_NE(venue, nullptr);
    EXPECT_EQ(venue->exchange, "binance");
    EXPECT_EQ(venue->market, e.market);
    EXPECT_EQ(venue->fees.maker_bps, amount(e.maker));
    EXPECT_EQ(venue->fees.taker_bps, amount(e.taker));
    EXPECT_EQ(venue->limits.orders_per_second, e.id == std::string_view("binance-spot") ? 10 : 30);
    ASSERT_TRUE(venue->sim.has_value());
    EXPECT_EQ(venue->sim->recentre, e.id != std::string_view("binance-spot"));
    ASSERT_EQ(venue->listings.size(), 1u);
    const VenueListing& listing = venue->listings[0];
    EXPECT_EQ(listing.instrument, InstrumentId("ETH-USDT"));
    EXPECT_EQ(listing.symbol, e.symbol);
    EXPECT_EQ(listing.tick_size, price(e.tick));
    EXPECT_EQ(listing.lot_size, qty(e.lot));
    EXPECT_EQ(listing.min_notional, amount("5"));
    EXPECT_EQ(listing.inverse, e.inverse);
    EXPECT_EQ(listing.contract_size, amount(e.contract_size));
    // Enough to buy or sell 1,000 ETH at any price the recordings show.
    ASSERT_EQ(venue->balances.size(), 2u);
    EXPECT_EQ(venue->balances.at("ETH"), amount("2000"));
    EXPECT_EQ(venue->balances.at("USDT"), amount("10000000"));
  }
}

}  // namespace
}  // namespace tranche
