// `tranche exchange --protocol binance` without sockets: the rate limiter, the depth numbering, the request
// parsing, and the venue itself on the bundled spot recording (signatures, errors, orders, streams, user
// data), with a recording VenueOutput in place of the server.
#include "gateway/binance_venue.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <map>

#include "gateway/binance_protocol.hpp"
#include "gateway/binance_venue_depth.hpp"
#include "gateway/binance_venue_limits.hpp"

namespace tranche::gateway::binance {
namespace {

using json = nlohmann::json;

Price px(std::string_view s) {
  return Price::parse(s).value();
}
Qty qty(std::string_view s) {
  return Qty::parse(s).value();
}

// ---------------------------------------------------------------------------------------------------------
// Rate limits

TEST(BinanceVenueLimits, AdmitsUpToTheWeightOfAMinuteThenRefusesWith429UntilTheMinuteEnds) {
  VenueLimits limits;
  limits.request_weight_per_minute = 50;
  RateLimiter limiter(limits);
  const TimestampNs minute = 1'700'000'020 * kNanosPerSecond;  // 40 s into a minute
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(limiter.admit("1.2.3.4", 5, 0, minute).verdict, RateLimiter::Verdict::Admitted);
  EXPECT_EQ(limiter.used_weight("1.2.3.4", minute), 50);
  const auto refused = limiter.admit("1.2.3.4", 1, 0, minute + kNanosPerSecond);
  EXPECT_EQ(refused.verdict, RateLimiter::Verdict::TooMany);
  EXPECT_EQ(refused.http_status, 429);
  EXPECT_EQ(refused.code, -1003);
  EXPECT_EQ(refused.retry_after_s, 19);  // the minute's window ends 19 s later
  EXPECT_NE(refused.msg.find("current limit is 50 request weight per 1 MINUTE"), std::string::npos);
  // Another IP has its own weight; the next minute starts from zero.
  EXPECT_EQ(limiter.admit("5.6.7.8", 5, 0, minute).verdict, RateLimiter::Verdict::Admitted);
  EXPECT_EQ(limiter.admit("1.2.3.4", 5, 0, minute + 20 * kNanosPerSecond).verdict,
            RateLimiter::Verdict::Admitted);
  EXPECT_EQ(limiter.used_weight("1.2.3.4", minute + 20 * kNanosPerSecond), 5);
}

TEST(BinanceVenueLimits, AnIpThatKeepsGoingAfter429sIsBannedWith418ForLongerEachTime) {
  VenueLimits limits;
  limits.request_weight_per_minute = 1;
  limits.refusals_before_ban = 3;
  limits.first_ban_ns = 120 * kNanosPerSecond;
  RateLimiter limiter(limits);
  const TimestampNs t = 1'700'000'000 * kNanosPerSecond;
  EXPECT_EQ(limiter.admit("ip", 1, 0, t).verdict, RateLimiter::Verdict::Admitted);
  EXPECT_EQ(limiter.admit("ip", 1, 0, t).http_status, 429);
  EXPECT_EQ(limiter.admit("ip", 1, 0, t).http_status, 429);
  const auto ban = limiter.admit("ip", 1, 0, t);
  EXPECT_EQ(ban.http_status, 418);
  EXPECT_EQ(ban.retry_after_s, 120);
  EXPECT_NE(ban.msg.find("IP banned until " + std::to_string(t / kNanosPerMilli + 120'000)),
            std::string::npos);
  // Banned even in the next minute, until the ban ends.
  EXPECT_EQ(limiter.admit("ip", 1, 0, t + 100 * kNanosPerSecond).http_status, 418);
  const TimestampNs after = t + 121 * kNanosPerSecond;
  EXPECT_EQ(limiter.admit("ip", 1, 0, after).verdict, RateLimiter::Verdict::Admitted);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(limiter.admit("ip", 1, 0, after).http_status, 429);
  EXPECT_EQ(limiter.admit("ip", 1, 0, after).retry_after_s, 240);  // the second ban is twice as long
}

TEST(BinanceVenueLimits, NewOrdersAreCountedPerTenSecondsAndRefusedWith1015) {
  VenueLimits limits;
  limits.orders_per_10s = 2;
  RateLimiter limiter(limits);
  const TimestampNs t = 1'700'000'000 * kNanosPerSecond;
  EXPECT_EQ(limiter.admit("ip", 1, 1, t).verdict, RateLimiter::Verdict::Admitted);
  EXPECT_EQ(limiter.admit("ip", 1, 1, t).verdict, RateLimiter::Verdict::Admitted);
  EXPECT_EQ(limiter.admit("ip", 1, 0, t).verdict, RateLimiter::Verdict::Admitted) << "a query is no order";
  const auto refused = limiter.admit("ip", 1, 1, t);
  EXPECT_EQ(refused.http_status, 429);
  EXPECT_EQ(refused.code, -1015);
  EXPECT_EQ(limiter.orders_10s(t), 2);
  EXPECT_EQ(limiter.orders_1d(t), 2);
  EXPECT_EQ(limiter.admit("ip", 1, 1, t + 10 * kNanosPerSecond).verdict, RateLimiter::Verdict::Admitted);
}

// ---------------------------------------------------------------------------------------------------------
// Depth numbering

TEST(BinanceVenueDepth, DiffsCarryTheLevelsThatChangedAndBridgeTheSnapshotsUpdateId) {
  DepthBook book;
  std::vector<md::Level> bids{{px("10.00"), qty("1")}, {px("9.99"), qty("2")}};
  std::vector<md::Level> asks{{px("10.01"), qty("3")}};
  EXPECT_TRUE(book.publish(bids, asks));
  book.set_streaming(0, true);
  const std::uint64_t baseline = book.last_update_id();
  // A bid level changes, one goes, an ask is added; then a touch change between publications (a bookTicker).
  bids = {{px("10.00"), qty("1.5")}};
  asks = {{px("10.01"), qty("3")}, {px("10.02"), qty("4")}};
  book.bump();
  EXPECT_TRUE(book.publish(bids, asks));
  const std::uint64_t snapshot_id = book.last_update_id();  // a REST snapshot taken now
  bids = {{px("10.00"), qty("1.25")}};
  EXPECT_TRUE(book.publish(bids, asks));
  DepthBook::Batch batch;
  ASSERT_TRUE(book.take_batch(0, batch));
  EXPECT_EQ(batch.first_id, baseline + 1);
  EXPECT_EQ(batch.last_id, book.last_update_id());
  EXPECT_LE(batch.first_id, snapshot_id + 1);
  EXPECT_GE(batch.last_id, snapshot_id + 1);
  ASSERT_EQ(batch.bids.size(), 2u);  // best first: 10.00 at its latest quantity, 9.99 gone
  EXPECT_EQ(batch.bids[0].price, px("10.00"));
  EXPECT_EQ(batch.bids[0].qty, qty("1.25"));
  EXPECT_EQ(batch.bids[1].price, px("9.99"));
  EXPECT_TRUE(batch.bids[1].qty.is_zero());
  ASSERT_EQ(batch.asks.size(), 1u);
  EXPECT_EQ(batch.asks[0].price, px("10.02"));
  // Nothing changed since: no batch; ids taken meanwhile fold into the next one, which starts one past.
  EXPECT_FALSE(book.take_batch(0, batch));
  const std::uint64_t last = book.last_update_id();
  book.bump();
  EXPECT_FALSE(book.publish(bids, asks));
  EXPECT_FALSE(book.take_batch(0, batch));
  asks = {{px("10.01"), qty("3")}};
  EXPECT_TRUE(book.publish(bids, asks));
  ASSERT_TRUE(book.take_batch(0, batch));
  EXPECT_EQ(batch.first_id, last + 1);
  EXPECT_EQ(batch.last_id, last + 2);
}

TEST(BinanceVenueDepth, ADiffEndsOnTheBookTickersIdWhenItShowsItsTouchSoAClientCanCheckOneAgainstTheOther) {
  DepthBook book;
  std::vector<md::Level> bids{{px("10.00"), qty("1")}}, asks{{px("10.01"), qty("3")}};
  book.publish(bids, asks);
  book.set_streaming(0, true);
  const std::uint64_t baseline = book.last_update_id();
  // The touch moves (a bookTicker), then deeper levels change too: the batch ends on the ticker's id.
  book.bump({px("10.00"), qty("2")}, {px("10.01"), qty("3")});
  const std::uint64_t ticker = book.last_update_id();
  bids = {{px("10.00"), qty("2")}, {px("9.98"), qty("5")}};
  EXPECT_TRUE(book.publish(bids, asks));
  EXPECT_EQ(book.last_update_id(), ticker);
  DepthBook::Batch batch;
  ASSERT_TRUE(book.take_batch(0, batch));
  EXPECT_EQ(batch.first_id, baseline + 1);
  EXPECT_EQ(batch.last_id, ticker);
  // A copy whose touch is not the ticker's (the book moved again without one) takes an id of its own.
  book.bump({px("10.00"), qty("3")}, {px("10.01"), qty("3")});
  const std::uint64_t second = book.last_update_id();
  bids = {{px("10.00"), qty("4")}};
  EXPECT_TRUE(book.publish(bids, asks));
  EXPECT_EQ(book.last_update_id(), second + 1);
  // An empty side matches a ticker with no level on it.
  book.bump({px("10.00"), qty("4")}, {Price::unset(), Qty{}});
  asks.clear();
  EXPECT_TRUE(book.publish(bids, asks));
  EXPECT_EQ(book.last_update_id(), second + 2);
  ASSERT_TRUE(book.take_batch(0, batch));
  EXPECT_EQ(batch.first_id, ticker + 1);
  EXPECT_EQ(batch.last_id, second + 2);
}

TEST(BinanceVenueDepth, AStreamThatIsNotOnCollectsNothing) {
  DepthBook book;
  std::vector<md::Level> bids{{px("10.00"), qty("1")}}, asks;
  book.publish(bids, asks);
  DepthBook::Batch batch;
  bids[0].qty = qty("2");
  book.publish(bids, asks);
  EXPECT_FALSE(book.take_batch(1, batch));
  book.set_streaming(1, true);
  EXPECT_FALSE(book.take_batch(1, batch));
}

// ---------------------------------------------------------------------------------------------------------
// Parsing

TEST(BinanceVenueParsing, AWebSocketApiRequestKeepsNumbersAsWrittenNeverThroughADouble) {
  WsRequest r;
  std::string error;
  ASSERT_TRUE(parse_ws_request(
      R"({"id":"a-1","method":"order.place","params":{"quantity":0.10000000,"price":"2683.81","timestamp":1723161420000,"test":true}})",
      r, error))
      << error;
  EXPECT_EQ(r.id, "\"a-1\"");
  EXPECT_EQ(r.method, "order.place");
  ASSERT_EQ(r.params.size(), 4u);
  EXPECT_EQ(r.params[0].second, "0.10000000");
  EXPECT_EQ(r.params[1].second, "2683.81");
  EXPECT_EQ(r.params[2].second, "1723161420000");
  EXPECT_EQ(r.params[3].second, "true");
}

TEST(BinanceVenueParsing, MalformedTruncatedOrMistypedRequestsAreRefusedWithAReason) {
  for (const char* text :
       {"", "{", R"({"id":1,"method":"ping")", "[1,2]", R"({"id":1,"method":7})",
        R"({"id":1.5,"method":"ping"})", R"({"id":1,"method":"ping","params":{"a":{"b":1}}})",
        R"({"id":1,"method":"ping","params":"x"})", R"({"id":1,"method":"ping","extra":1})",
        R"({"id":1,"method":"ping"} trailing)", "\x01\x02\xff"}) {
    WsRequest r;
    std::string error;
    EXPECT_FALSE(parse_ws_request(text, r, error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(BinanceVenueParsing, QuantitiesFollowBinancesSyntax) {
  for (const char* good : {"1", "0.1", "2683.81000000", "00001.5"}) EXPECT_TRUE(decimal_syntax(good)) << good;
  for (const char* bad :
       {"", "-1", "+1", "1.", ".5", "1e5", "1,5", " 1", "NaN", "0x10", "123456789012345678901"})
    EXPECT_FALSE(decimal_syntax(bad)) << bad;
}

// ---------------------------------------------------------------------------------------------------------
// The venue on the bundled spot recording, with a recording output in place of the server

class Recorded : public VenueOutput {
 public:
  void respond(std::uint64_t token, HttpResponse response) override {
    responses[token] = std::move(response);
  }
  void send(std::uint64_t conn, std::string text) override { frames[conn].push_back(std::move(text)); }
  void close(std::uint64_t conn) override { closed.push_back(conn); }
  std::map<std::uint64_t, HttpResponse> responses;
  std::map<std::uint64_t, std::vector<std::string>> frames;
  std::vector<std::uint64_t> closed;
};

class VenueTest : public ::testing::Test {
 protected:
  void SetUp() override { make(VenueLimits{}); }
  void make(VenueLimits limits, TimestampNs wall_offset_ns = kWallOffset,
            ApiKey key = ApiKey{"the-key", "the-secret"}, const std::function<void(Config&)>& edit = {}) {
    wall_offset_ = wall_offset_ns;
    auto loaded = load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml");
    ASSERT_TRUE(loaded.ok());
    Config config = *loaded;
    if (edit) edit(config);
    sim::SimOptions options;
    options.venues = {venue_id_};
    if (venue_id_ != "binance-spot") options.venues.push_back("binance-spot");  // the re-centring reference
    sim_ = std::move(sim::Simulator::create(config, options)).value();
    VenueOptions vo;
    vo.venue = static_cast<std::size_t>(sim_->venue_index(VenueId(venue_id_)));
    vo.key = key;
    vo.limits = limits;
    vo.wall_at = [this](TimestampNs replay) { return replay + wall_offset_; };
    vo.instruments = config.instruments;
    venue_ = std::make_unique<BinanceVenue>(*sim_, vo, out_);
    sim_->set_listener(venue_.get());
    sim_->run_until(parse_time("2024-08-08T23:56:00Z").value());
  }
  TimestampNs wall() const { return sim_->now() + wall_offset_; }
  std::string timestamp() const { return std::to_string(wall() / kNanosPerMilli); }
  // A REST call, signed over the query string (and body) as sent unless `sign` is false; the simulator then
  // runs a few milliseconds so that order calls are decided.
  json call(std::string_view method, std::string_view path, std::string query, int* status = nullptr,
            std::string_view key = "the-key", std::string_view secret = "the-secret") {
    std::string body;
    if (!secret.empty()) query += "&signature=" + hmac_sha256_hex(secret, query);
    if (method == "POST") std::swap(body, query);
    const std::uint64_t token = ++token_;
    venue_->on_http(token, HttpRequest{method, path, query, body, key, "127.0.0.1"}, wall());
    for (int i = 0; i < 20 && !out_.responses.count(token); ++i) {
      sim_->run_until(sim_->now() + kNanosPerMilli);
      venue_->after_run(wall());
    }
    EXPECT_TRUE(out_.responses.count(token)) << path;
    const HttpResponse& r = out_.responses[token];
    if (status) *status = r.status;
    return r.content_type.find("json") != std::string::npos ? json::parse(r.body) : json(r.body);
  }
  json order(const std::string& rest, int* status = nullptr) {
    return call("POST", "/api/v3/order", "symbol=ETHUSDT&" + rest + "&timestamp=" + timestamp(), status);
  }
  Price best(Side side) { return sim_->venue(0).market(0).best(side); }

  static constexpr TimestampNs kWallOffset = 86400 * 365 * kNanosPerSecond;
  std::string venue_id_ = "binance-spot";
  TimestampNs wall_offset_ = kWallOffset;
  std::unique_ptr<sim::Simulator> sim_;
  Recorded out_;
  std::unique_ptr<BinanceVenue> venue_;
  std::uint64_t token_ = 0;
};

TEST_F(VenueTest, ASignedCallIsCheckedForItsKeySignatureAndTimestampInBinancesWords) {
  int status = 0;
  const std::string ts = "timestamp=" + timestamp();
  EXPECT_EQ(call("GET", "/api/v3/account", ts, &status)["balances"].size(), 2u);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(call("GET", "/api/v3/account", ts, &status, "")["code"], -2014);
  EXPECT_EQ(status, 401);
  EXPECT_EQ(call("GET", "/api/v3/account", ts, &status, "another-key")["code"], -2015);
  EXPECT_EQ(status, 401);
  EXPECT_EQ(call("GET", "/api/v3/account", ts, &status, "the-key", "wrong-secret")["code"], -1022);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(call("GET", "/api/v3/account", ts, &status, "the-key", "")["code"], -1102);
  EXPECT_EQ(call("GET", "/api/v3/account", "recvWindow=5000", &status)["code"], -1102);
  const std::int64_t now_ms = wall() / kNanosPerMilli;
  json ahead = call("GET", "/api/v3/account", "timestamp=" + std::to_string(now_ms + 1500), &status);
  EXPECT_EQ(ahead["code"], -1021);
  EXPECT_EQ(ahead["msg"], "Timestamp for this request was 1000ms ahead of the server's time.");
  EXPECT_EQ(
      call("GET", "/api/v3/account", "timestamp=" + std::to_string(now_ms + 900), &status)["balances"].size(),
      2u);
  json old = call("GET", "/api/v3/account", "timestamp=" + std::to_string(now_ms - 6000), &status);
  EXPECT_EQ(old["msg"], "Timestamp for this request is outside of the recvWindow.");
  EXPECT_EQ(call("GET", "/api/v3/account", "timestamp=" + std::to_string(now_ms - 6000) + "&recvWindow=10000",
                 &status)["balances"]
                .size(),
            2u);
  EXPECT_EQ(call("GET", "/api/v3/account", ts + "&recvWindow=70000", &status)["code"], -1131);
}

TEST_F(VenueTest, TheRestSignatureCoversTheQueryStringThenTheBodyAsSent) {
  // Binance's mixed example: part of the parameters in the query string, the rest in the body, the signature
  // over both run together.
  const std::string query = "symbol=ETHUSDT&side=BUY&type=LIMIT&timeInForce=GTC";
  const std::string body = "quantity=0.01&price=" + (best(Side::Buy) - Price::from_units(50)).to_string(2) +
                           "&recvWindow=5000&timestamp=" + timestamp();
  const std::string signed_body = body + "&signature=" + hmac_sha256_hex("the-secret", query + body);
  venue_->on_http(99, HttpRequest{"POST", "/api/v3/order", query, signed_body, "the-key", "127.0.0.1"},
                  wall());
  for (int i = 0; i < 20 && !out_.responses.count(99); ++i) {
    sim_->run_until(sim_->now() + kNanosPerMilli);
    venue_->after_run(wall());
  }
  ASSERT_TRUE(out_.responses.count(99));
  EXPECT_EQ(out_.responses[99].status, 200) << out_.responses[99].body;
  EXPECT_EQ(json::parse(out_.responses[99].body)["status"], "NEW");
}

// Binance's documented example of a signature over a query string and a body together ("Example 3: Mixed
// query string and request body" of its REST API docs): the two run together, no '&' between. Its timestamp
// is 2017's, so the venue's wall clock is put there; the symbol is not listed here, which it is told only
// once signed.
TEST_F(VenueTest, BinancesMixedQueryAndBodyExampleIsSignedOverBothRunTogether) {
  const TimestampNs example_ms = 1499827319559;
  make(VenueLimits{}, example_ms * kNanosPerMilli - sim_->now(),
       ApiKey{"vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
              "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"});
  const std::string query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC";
  const std::string body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
  EXPECT_EQ(hmac_sha256_hex("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j", query + body),
            "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77");
  const std::string signed_body =
      body + "&signature=0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77";
  venue_->on_http(
      1,
      HttpRequest{"POST", "/api/v3/order", query, signed_body,
                  "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A", "127.0.0.1"},
      wall());
  ASSERT_TRUE(out_.responses.count(1));
  EXPECT_EQ(json::parse(out_.responses[1].body)["code"], -1121) << out_.responses[1].body;
  // The same body with the '&' a naive signer would put between: not Binance's signature.
  const std::string wrong =
      hmac_sha256_hex("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j", query + "&" + body);
  venue_->on_http(
      2,
      HttpRequest{"POST", "/api/v3/order", query, body + "&signature=" + wrong,
                  "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A", "127.0.0.1"},
      wall());
  EXPECT_EQ(json::parse(out_.responses[2].body)["code"], -1022);
}

TEST_F(VenueTest, BadOrderParametersAreRefusedWithBinancesCodes) {
  const std::string bid = best(Side::Buy).to_string(2);
  const std::pair<std::string, int> cases[] = {
      {"side=BUY&type=LIMIT&timeInForce=GTC&quantity=-1&price=" + bid, -1100},
      {"side=BUY&type=LIMIT&timeInForce=GTC&quantity=1e5&price=" + bid, -1100},
      {"side=BUY&type=LIMIT&timeInForce=GTC&quantity=abc&price=" + bid, -1100},
      {"side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.123456789&price=" + bid, -1111},
      {"side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00001&price=" + bid, -1013},  // off the lot
      {"side=BUY&type=LIMIT&timeInForce=GTC&quantity=0&price=" + bid, -1013},
      {"side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=2683.005", -1013},  // off the tick
      {"side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=" + bid, -1013},   // below 5 USDT
      {"side=BUY&type=LIMIT&timeInForce=GTC&quantity=99999999999999&price=" + bid, -1013},
      {"side=SIDEWAYS&type=LIMIT&timeInForce=GTC&quantity=1&price=" + bid, -1117},
      {"side=BUY&type=STOP&quantity=1&price=" + bid, -1116},
      {"side=BUY&type=LIMIT&timeInForce=GTD&quantity=1&price=" + bid, -1115},
      {"side=BUY&type=LIMIT&quantity=1&price=" + bid, -1102},
      {"side=BUY&type=MARKET&quantity=1&price=" + bid, -1106},
      {"side=BUY&type=LIMIT_MAKER&timeInForce=GTC&quantity=1&price=" + bid, -1106},
      {"side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=" + bid + "&newClientOrderId=no%20spaces",
       -1100},
  };
  for (const auto& [params, code] : cases) {
    int status = 0;
    const json r = order(params, &status);
    EXPECT_EQ(r["code"], code) << params << " -> " << r.dump();
    EXPECT_EQ(status, 400) << params;
  }
  int status = 0;
  EXPECT_EQ(call("POST", "/api/v3/order",
                 "symbol=DOGEUSDT&side=BUY&type=MARKET&quantity=1&timestamp=" + timestamp(), &status)["code"],
            -1121);
  EXPECT_EQ(call("GET", "/api/v3/depth", "symbol=ETHUSDT&limit=%zz", &status, "the-key", "")["code"], -1100);
  EXPECT_EQ(call("GET", "/api/v3/depth", "symbol=ETHUSDT&symbol=BTCUSDT", &status, "the-key", "")["code"],
            -1101);
  EXPECT_NE(venue_->executed_json().find("\"orders\":0"), std::string::npos)
      << "a refused order never reached the venue";
}

TEST_F(VenueTest, AMarketOrderIsAnsweredFullWithItsFillsAndItsStatusAndTradesAgree) {
  int status = 0;
  const json r = order("side=BUY&type=MARKET&quantity=1.5", &status);
  ASSERT_EQ(status, 200) << r.dump();
  EXPECT_EQ(r["status"], "FILLED");
  EXPECT_EQ(r["executedQty"], "1.50000000");
  ASSERT_FALSE(r["fills"].empty());
  Qty filled;
  for (const auto& f : r["fills"]) {
    filled += qty(f["qty"].get<std::string>());
    EXPECT_EQ(f["commissionAsset"], "USDT");
  }
  EXPECT_EQ(filled, qty("1.5"));
  const std::string id = std::to_string(r["orderId"].get<std::int64_t>());
  const json s =
      call("GET", "/api/v3/order", "symbol=ETHUSDT&orderId=" + id + "&timestamp=" + timestamp(), &status);
  EXPECT_EQ(s["status"], "FILLED");
  EXPECT_EQ(s["cummulativeQuoteQty"], r["cummulativeQuoteQty"]);
  const json trades =
      call("GET", "/api/v3/myTrades", "symbol=ETHUSDT&orderId=" + id + "&timestamp=" + timestamp());
  ASSERT_EQ(trades.size(), r["fills"].size());
  for (std::size_t i = 0; i < trades.size(); ++i) EXPECT_EQ(trades[i]["id"], r["fills"][i]["tradeId"]);
  // A filled order cannot be canceled; an order never seen does not exist.
  EXPECT_EQ(call("DELETE", "/api/v3/order", "symbol=ETHUSDT&orderId=" + id + "&timestamp=" + timestamp(),
                 &status)["code"],
            -2011);
  EXPECT_EQ(
      call("GET", "/api/v3/order", "symbol=ETHUSDT&orderId=987654&timestamp=" + timestamp(), &status)["code"],
      -2013);
  EXPECT_EQ(call("GET", "/api/v3/order", "symbol=ETHUSDT&timestamp=" + timestamp(), &status)["code"], -1102);
}

TEST_F(VenueTest, TheVenueRefusesWhatItsBookAndAccountRefuse) {
  const std::string far = (best(Side::Buy) - Price::from_units(100)).to_string(2);
  int status = 0;
  EXPECT_EQ(order("side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=" + far + "&newClientOrderId=mine",
                  &status)["status"],
            "NEW");
  const json dup = order(
      "side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=" + far + "&newClientOrderId=mine", &status);
  EXPECT_EQ(dup["code"], -2010);
  EXPECT_EQ(dup["msg"], "Duplicate order sent.");
  const std::string crossing = (best(Side::Sell) + Price::from_units(1)).to_string(2);
  const json maker = order("side=BUY&type=LIMIT_MAKER&quantity=0.01&price=" + crossing, &status);
  EXPECT_EQ(maker["msg"], "Order would immediately match and take.");
  const json broke = order("side=SELL&type=LIMIT&timeInForce=GTC&quantity=5000&price=" + crossing, &status);
  EXPECT_EQ(broke["code"], -2010);
  EXPECT_EQ(broke["msg"], "Account has insufficient balance for requested action.");
  // Canceled by its client order id, then unknown to a second cancel.
  const json canceled = call("DELETE", "/api/v3/order",
                             "symbol=ETHUSDT&origClientOrderId=mine&timestamp=" + timestamp(), &status);
  EXPECT_EQ(canceled["status"], "CANCELED");
  EXPECT_EQ(canceled["origClientOrderId"], "mine");
  EXPECT_EQ(call("DELETE", "/api/v3/order", "symbol=ETHUSDT&origClientOrderId=mine&timestamp=" + timestamp(),
                 &status)["code"],
            -2011);
}

TEST_F(VenueTest, UnknownPathsMalformedWebSocketRequestsAndOutagesGetClearAnswers) {
  int status = 0;
  call("GET", "/api/v3/nothing", "", &status, "", "");
  EXPECT_EQ(status, 404);
  call("GET", "/sapi/v1/system/status", "", &status, "", "");
  EXPECT_EQ(status, 404);
  HttpResponse refusal;
  ASSERT_TRUE(venue_->on_ws_open(7, "/ws-api/v3", "127.0.0.1", wall(), refusal));
  for (const char* text : {"{", "not json", R"({"id":1,"method":"order.place","params":{"quantity":[1]}})",
                           R"({"id":2,"method":"no.such.method"})"}) {
    venue_->on_ws_text(7, text, wall());
    const json answer = json::parse(out_.frames[7].back());
    EXPECT_EQ(answer["status"], 400) << text;
    EXPECT_TRUE(answer["error"]["code"].is_number()) << text;
  }
  venue_->on_ws_text(7, R"({"id":"p","method":"ping"})", wall());
  EXPECT_EQ(json::parse(out_.frames[7].back())["status"], 200);
  venue_->disconnect_for(2 * kNanosPerSecond, wall());
  EXPECT_EQ(out_.closed, std::vector<std::uint64_t>{7});
  const json down = call("GET", "/api/v3/time", "", &status, "", "");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(down["code"], -1001);
  EXPECT_FALSE(venue_->on_ws_open(8, "/ws", "127.0.0.1", wall(), refusal));
  EXPECT_EQ(refusal.status, 503);
}

TEST_F(VenueTest, OverTheWeightLimitA429CarriesRetryAfterAndTheUsedWeight) {
  VenueLimits limits;
  limits.request_weight_per_minute = 30;
  make(limits);
  int status = 0;
  call("GET", "/api/v3/exchangeInfo", "", &status, "", "");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(out_.responses[token_].headers.front().first, "X-MBX-USED-WEIGHT-1M");
  EXPECT_EQ(out_.responses[token_].headers.front().second, "20");
  const json refused = call("GET", "/api/v3/exchangeInfo", "", &status, "", "");
  EXPECT_EQ(status, 429);
  EXPECT_EQ(refused["code"], -1003);
  bool retry_after = false;
  for (const auto& [name, value] : out_.responses[token_].headers) retry_after |= name == "Retry-After";
  EXPECT_TRUE(retry_after);
}

// What ccxt 4.5.84 signs for each call, with key "the-key", secret "the-secret" and its clock fixed at
// 2024-08-08T23:56:00Z (tests/ccxt/signature_vectors.js prints them). Our HMAC over each payload is ccxt's
// signature, and the venue, its wall clock at that moment, accepts every one of them.
TEST_F(VenueTest, CcxtsSignatureOverEveryRequestTypeIsOursAndTheVenueAcceptsIt) {
  make(VenueLimits{}, 0);
  ASSERT_EQ(wall() / kNanosPerMilli, 1723161360000);
  struct Vector {
    const char* method;
    const char* path;
    const char* query;
    const char* body;
  };
  const Vector vectors[] = {
      {"POST", "/api/v3/order", "",
       "timestamp=1723161360000&symbol=ETHUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=2600."
       "00&newClientOrderId=x-ccxt-1&newOrderRespType=FULL&recvWindow=5000&signature="
       "77be12632901fd19f591c37ceaec060e1ecd65673acd822f75cc0e38bb4d1b0b"},
      {"POST", "/api/v3/order", "",
       "timestamp=1723161360000&symbol=ETHUSDT&side=BUY&type=MARKET&quantity=0.5&newClientOrderId=x-ccxt-2&"
       "newOrderRespType=FULL&recvWindow=5000&signature="
       "4ab2fc44d5fd9647e038a032ef6383bde68fd02e98f76acb75473d06b88fc8ac"},
      {"GET", "/api/v3/order",
       "timestamp=1723161360000&symbol=ETHUSDT&orderId=1&recvWindow=5000&signature="
       "a2466e163c2eed863ca8a50b55263783e815a32d42e78c30dac5154eb6eaacb6",
       ""},
      {"DELETE", "/api/v3/order",
       "timestamp=1723161360000&symbol=ETHUSDT&orderId=1&recvWindow=5000&signature="
       "a2466e163c2eed863ca8a50b55263783e815a32d42e78c30dac5154eb6eaacb6",
       ""},
      {"POST", "/api/v3/order/cancelReplace", "",
       "timestamp=1723161360000&symbol=ETHUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=2601."
       "00&cancelReplaceMode=STOP_ON_FAILURE&cancelOrderId=1&recvWindow=5000&signature="
       "5c7c0df55b02b5d8a39ebbb608de041de030a9c280bcc5d1159b3fbbcd179e26"},
      {"GET", "/api/v3/openOrders",
       "timestamp=1723161360000&symbol=ETHUSDT&recvWindow=5000&signature="
       "64c83d92637143b97b55093e3d61c84db5f55e7e995fd6afe7684652def50fab",
       ""},
      {"DELETE", "/api/v3/openOrders",
       "timestamp=1723161360000&symbol=ETHUSDT&recvWindow=5000&signature="
       "64c83d92637143b97b55093e3d61c84db5f55e7e995fd6afe7684652def50fab",
       ""},
      {"GET", "/api/v3/account",
       "timestamp=1723161360000&recvWindow=5000&signature="
       "4a519c0bf8a2b9f963bb62eebb2eaf8b8bf7f27d0494fd3568cc318507cbf09c",
       ""},
      {"GET", "/api/v3/myTrades",
       "timestamp=1723161360000&symbol=ETHUSDT&fromId=1&recvWindow=5000&signature="
       "3d7e3e5471ae626f5712b7fd4e459341f3a803c639fc59352df8c418f98f4738",
       ""},
  };
  int answered = 0, refused = 0;
  for (const Vector& v : vectors) {
    std::string payload, signature;
    for (std::string_view part : {std::string_view(v.query), std::string_view(v.body)}) {
      const std::size_t at = part.find("&signature=");
      if (at == std::string_view::npos) continue;
      payload += part.substr(0, at);
      signature = std::string(part.substr(at + 11));
    }
    EXPECT_EQ(hmac_sha256_hex("the-secret", payload), signature) << v.path;
    const std::uint64_t token = ++token_;
    venue_->on_http(token, HttpRequest{v.method, v.path, v.query, v.body, "the-key", "127.0.0.1"}, wall());
    for (int i = 0; i < 20 && !out_.responses.count(token); ++i) {
      sim_->run_until(sim_->now() + kNanosPerMilli);
      venue_->after_run(wall());
    }
    ASSERT_TRUE(out_.responses.count(token)) << v.method << " " << v.path;
    // Accepted: answered, or refused for what it asks (an order already canceled by an earlier vector), never
    // for its key, signature or timestamp.
    const json r = json::parse(out_.responses[token].body);
    const int code = r.is_object() && r.contains("code") ? r["code"].get<int>() : 0;
    for (const int auth : {-1021, -1022, -1102, -2014, -2015})
      EXPECT_NE(code, auth) << v.path << " " << r.dump();
    ++(out_.responses[token].status == 200 ? answered : refused);
  }
  EXPECT_EQ(answered,
            7);  // the cancel-replace and the cancel-all find order 1 already canceled: -2022, -2011
  EXPECT_EQ(refused, 2);
  // The WebSocket API: the parameters sorted by name.
  HttpResponse refusal;
  ASSERT_TRUE(venue_->on_ws_open(1, "/ws-api/v3", "127.0.0.1", wall(), refusal));
  venue_->on_ws_text(
      1,
      R"({"id":1,"method":"userDataStream.subscribe.signature","params":{"apiKey":"the-key","recvWindow":5000,"timestamp":1723161360000,"signature":"f9b768e668f0d33782de5a62352cf2a682f0617c0f23e6e69ce609487f247e36"}})",
      wall());
  EXPECT_EQ(json::parse(out_.frames[1].back())["result"]["subscriptionId"], 0);
  venue_->on_ws_text(
      1,
      R"({"id":1,"method":"order.place","params":{"apiKey":"the-key","price":"2800.00","quantity":"0.01","recvWindow":5000,"side":"SELL","symbol":"ETHUSDT","timeInForce":"GTC","timestamp":1723161360000,"type":"LIMIT","signature":"37cda66cf8000ad4249334f65b95523daf140abcc441fed88656865f1bb021e9"}})",
      wall());
  for (int i = 0; i < 20; ++i) {
    sim_->run_until(sim_->now() + kNanosPerMilli);
    venue_->after_run(wall());
  }
  bool placed = false;
  for (const std::string& frame : out_.frames[1]) {
    const json f = json::parse(frame);
    if (f.contains("id") && f["id"] == 1 && f.contains("result") && f["result"].contains("orderId"))
      placed = true;
    EXPECT_FALSE(f.contains("error")) << frame;
  }
  EXPECT_TRUE(placed);
}

TEST_F(VenueTest, TheUserDataStreamTellsEveryFillWithItsCommissionMakerFlagTradeIdAndBalances) {
  HttpResponse refusal;
  ASSERT_TRUE(venue_->on_ws_open(5, "/ws-api/v3", "127.0.0.1", wall(), refusal));
  Params sub{{"apiKey", "the-key"}, {"timestamp", timestamp()}};
  const std::string sig = hmac_sha256_hex("the-secret", ws_api_payload(sub));
  venue_->on_ws_text(
      5,
      R"({"id":"s","method":"userDataStream.subscribe.signature","params":{"apiKey":"the-key","timestamp":)" +
          timestamp() + R"(,"signature":")" + sig + "\"}}",
      wall());
  ASSERT_EQ(json::parse(out_.frames[5].back())["status"], 200);
  int status = 0;
  const json r = order("side=SELL&type=MARKET&quantity=2", &status);
  ASSERT_EQ(status, 200) << r.dump();
  std::vector<json> reports, positions;
  for (const std::string& frame : out_.frames[5]) {
    const json f = json::parse(frame);
    if (!f.contains("event")) continue;
    EXPECT_EQ(f["subscriptionId"], 0);
    (f["event"]["e"] == "executionReport" ? reports : positions).push_back(f["event"]);
  }
  ASSERT_GE(reports.size(), 2u);
  EXPECT_EQ(reports.front()["x"], "NEW");
  EXPECT_EQ(reports.front()["N"], nullptr);
  std::size_t fill = 0;
  for (const json& e : reports) {
    if (e["x"] != "TRADE") continue;
    const json& expected = r["fills"][fill++];
    EXPECT_EQ(e["t"], expected["tradeId"]);
    EXPECT_EQ(e["n"], expected["commission"]);
    EXPECT_EQ(e["N"], "USDT");
    EXPECT_EQ(e["L"], expected["price"]);
    EXPECT_EQ(e["l"], expected["qty"]);
    EXPECT_EQ(e["m"], false);
    EXPECT_EQ(e["S"], "SELL");
    EXPECT_EQ(e["i"], r["orderId"]);
  }
  EXPECT_EQ(fill, r["fills"].size());
  EXPECT_EQ(reports.back()["X"], "FILLED");
  EXPECT_EQ(reports.back()["z"], "2.00000000");
  ASSERT_FALSE(positions.empty());
  const json& last = positions.back()["B"];
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0]["a"], "ETH");
  EXPECT_EQ(last[0]["f"], "1998.00000000");
}

TEST_F(VenueTest, TheFirstDepthDiffAfterASnapshotBridgesItsLastUpdateIdAndLaterDiffsFollowOn) {
  HttpResponse refusal;
  ASSERT_TRUE(venue_->on_ws_open(3, "/stream?streams=ethusdt@depth@100ms/ethusdt@bookTicker", "127.0.0.1",
                                 wall(), refusal));
  const json snapshot = call("GET", "/api/v3/depth", "symbol=ETHUSDT&limit=5000", nullptr, "", "");
  const std::int64_t last_update_id = snapshot["lastUpdateId"];
  // Our own market order moves the book too.
  order("side=BUY&type=MARKET&quantity=3");
  std::vector<json> diffs;
  int tickers = 0;
  for (int i = 0; i < 30; ++i) {
    sim_->run_until(sim_->now() + 100 * kNanosPerMilli);
    venue_->after_run(wall());
    venue_->on_tick(wall());
  }
  for (const std::string& frame : out_.frames[3]) {
    const json f = json::parse(frame);
    ASSERT_TRUE(f.contains("stream")) << frame;
    if (f["stream"] == "ethusdt@bookTicker") ++tickers;
    if (f["stream"] == "ethusdt@depth@100ms") diffs.push_back(f["data"]);
  }
  EXPECT_GT(tickers, 0);
  ASSERT_GE(diffs.size(), 2u);
  // Apply the diffs onto the snapshot as a client does; the result is the venue's book.
  std::map<std::int64_t, std::string> bids, asks;
  for (const auto& l : snapshot["bids"]) bids[px(l[0].get<std::string>()).raw()] = l[1];
  for (const auto& l : snapshot["asks"]) asks[px(l[0].get<std::string>()).raw()] = l[1];
  std::int64_t previous = -1;
  bool bridged = false;
  for (const json& d : diffs) {
    EXPECT_EQ(d["e"], "depthUpdate");
    const std::int64_t first = d["U"], last = d["u"];
    if (previous >= 0) {
      EXPECT_EQ(first, previous + 1);
    }
    previous = last;
    if (last <= last_update_id) continue;
    if (!bridged) {
      EXPECT_LE(first, last_update_id + 1);
      bridged = true;
    }
    for (const auto& l : d["b"]) {
      if (qty(l[1].get<std::string>()).is_zero())
        bids.erase(px(l[0].get<std::string>()).raw());
      else
        bids[px(l[0].get<std::string>()).raw()] = l[1];
    }
    for (const auto& l : d["a"]) {
      if (qty(l[1].get<std::string>()).is_zero())
        asks.erase(px(l[0].get<std::string>()).raw());
      else
        asks[px(l[0].get<std::string>()).raw()] = l[1];
    }
  }
  EXPECT_TRUE(bridged);
  const json now = call("GET", "/api/v3/depth", "symbol=ETHUSDT&limit=5000", nullptr, "", "");
  // Between the last tick and this snapshot nothing ran: the book a client rebuilt is the venue's.
  ASSERT_EQ(now["lastUpdateId"].get<std::int64_t>(), previous);
  ASSERT_EQ(bids.size(), now["bids"].size());
  std::size_t i = 0;
  for (auto it = bids.rbegin(); it != bids.rend(); ++it, ++i) {
    EXPECT_EQ(it->first, px(now["bids"][i][0].get<std::string>()).raw());
    EXPECT_EQ(it->second, now["bids"][i][1]);
  }
  ASSERT_EQ(asks.size(), now["asks"].size());
  i = 0;
  for (auto it = asks.begin(); it != asks.end(); ++it, ++i) EXPECT_EQ(it->second, now["asks"][i][1]);
}

TEST_F(VenueTest, AStreamConnectionThatSendsMoreThanFiveMessagesASecondIsDisconnected) {
  HttpResponse refusal;
  ASSERT_TRUE(venue_->on_ws_open(9, "/ws", "127.0.0.1", wall(), refusal));
  for (int i = 0; i < 5; ++i)
    venue_->on_ws_text(9, R"({"method":"LIST_SUBSCRIPTIONS","id":1})", wall() + i * 100 * kNanosPerMilli);
  EXPECT_TRUE(out_.closed.empty());
  EXPECT_EQ(out_.frames[9].size(), 5u);
  venue_->on_ws_text(9, R"({"method":"LIST_SUBSCRIPTIONS","id":1})", wall() + 500 * kNanosPerMilli);
  EXPECT_EQ(out_.closed, std::vector<std::uint64_t>{9});
  EXPECT_EQ(out_.frames[9].size(), 5u);
}

// The simulator's duplicate fault repeats a fill's report: the venue tells the same trade twice (the same
// executionReport, the same trade id) and books it once.
TEST_F(VenueTest, ARepeatedFillIsTheSameTradeToldTwiceAndBookedOnce) {
  make(VenueLimits{}, kWallOffset, ApiKey{"the-key", "the-secret"},
       [](Config& c) { c.venues[0].sim->faults.duplicate = 1; });
  HttpResponse refusal;
  ASSERT_TRUE(venue_->on_ws_open(5, "/ws-api/v3", "127.0.0.1", wall(), refusal));
  const Params sub{{"apiKey", "the-key"}, {"timestamp", timestamp()}};
  venue_->on_ws_text(
      5,
      R"({"id":1,"method":"userDataStream.subscribe.signature","params":{"apiKey":"the-key","timestamp":)" +
          timestamp() + R"(,"signature":")" + hmac_sha256_hex("the-secret", ws_api_payload(sub)) + "\"}}",
      wall());
  int status = 0;
  const json r = order("side=BUY&type=MARKET&quantity=1", &status);
  ASSERT_EQ(status, 200) << r.dump();
  for (int i = 0; i < 10; ++i) sim_->run_until(sim_->now() + kNanosPerMilli);  // the repeats arrive
  std::map<std::int64_t, int> told;
  int news = 0;
  for (const std::string& frame : out_.frames[5]) {
    const json f = json::parse(frame);
    if (!f.contains("event") || f["event"]["e"] != "executionReport") continue;
    if (f["event"]["x"] == "TRADE") ++told[f["event"]["t"].get<std::int64_t>()];
    if (f["event"]["x"] == "NEW") ++news;
  }
  ASSERT_EQ(told.size(), r["fills"].size());
  for (const auto& [trade, times] : told) EXPECT_EQ(times, 2) << trade;
  EXPECT_EQ(news, 1) << "a repeated acknowledgement is not told again";
  const json trades = call("GET", "/api/v3/myTrades", "symbol=ETHUSDT&timestamp=" + timestamp());
  EXPECT_EQ(trades.size(), r["fills"].size());
  EXPECT_EQ(json::parse(venue_->executed_json())["fills"].get<std::size_t>(), r["fills"].size());
  EXPECT_EQ(json::parse(venue_->executed_json())["bought"], "1");
}

TEST_F(VenueTest, ExchangeInfoPublishesTheLimitsTheVenueEnforces) {
  VenueLimits limits;
  limits.orders_per_second = 2;
  limits.request_weight_per_minute = 1200;
  make(limits);
  const json info = call("GET", "/api/v3/exchangeInfo", "", nullptr, "", "");
  std::map<std::string, std::int64_t> published;
  for (const auto& l : info["rateLimits"])
    published[l["rateLimitType"].get<std::string>() + "/" + l["interval"].get<std::string>() + "/" +
              std::to_string(l["intervalNum"].get<int>())] = l["limit"];
  EXPECT_EQ(published["REQUEST_WEIGHT/MINUTE/1"], 1200);
  EXPECT_EQ(published["ORDERS/SECOND/1"], 2);
  EXPECT_EQ(published["ORDERS/SECOND/10"], 100);
  EXPECT_EQ(published["ORDERS/DAY/1"], 200000);
  EXPECT_EQ(published["RAW_REQUESTS/MINUTE/5"], 61000);
  const std::string far = (best(Side::Buy) - Price::from_units(100)).to_string(2);
  int status = 0;
  for (int i = 0; i < 2; ++i) {
    order("side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=" + far, &status);
    EXPECT_EQ(status, 200);
  }
  const json third = order("side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=" + far, &status);
  EXPECT_EQ(status, 429);
  EXPECT_EQ(third["code"], -1015);
  EXPECT_EQ(third["msg"], "Too many new orders; current limit is 2 orders per SECOND.");
}

TEST_F(VenueTest, StreamSubscriptionsAreAnsweredAndAnUnknownStreamIsAnError) {
  HttpResponse refusal;
  ASSERT_TRUE(venue_->on_ws_open(4, "/ws/0", "127.0.0.1", wall(), refusal));
  venue_->on_ws_text(4, R"({"method":"SUBSCRIBE","params":["ethusdt@trade"],"id":1})", wall());
  EXPECT_EQ(json::parse(out_.frames[4].back()), json::parse(R"({"result":null,"id":1})"));
  venue_->on_ws_text(4, R"({"method":"SUBSCRIBE","params":["dogeusdt@trade"],"id":2})", wall());
  EXPECT_EQ(json::parse(out_.frames[4].back())["code"], 2);
  venue_->on_ws_text(4, R"({"method":"SUBSCRIBE","params":["ethusdt@trade")", wall());
  EXPECT_EQ(json::parse(out_.frames[4].back())["code"], 3);
  venue_->on_ws_text(4, R"({"method":"LIST_SUBSCRIPTIONS","id":3})", wall());
  EXPECT_EQ(json::parse(out_.frames[4].back())["result"], json::parse(R"(["ethusdt@trade"])"));
  const std::size_t before = out_.frames[4].size();
  sim_->run_until(sim_->now() + 5 * kNanosPerSecond);
  ASSERT_GT(out_.frames[4].size(), before) << "recorded prints reach @trade";
  const json trade = json::parse(out_.frames[4].back());
  EXPECT_EQ(trade["e"], "trade");
  EXPECT_EQ(trade["s"], "ETHUSDT");
}

// ---------------------------------------------------------------------------------------------------------
// Binance futures: every test on USD-M (/fapi) and on COIN-M (/dapi), the bundled ETH perpetuals.

class FuturesVenueTest : public VenueTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    venue_id_ = "binance-" + GetParam();
    make(limits());
  }
  // Futures' shapes, as `tranche exchange` sets them.
  VenueLimits limits() const {
    VenueLimits l;
    l.request_weight_per_minute = 2400;
    l.raw_requests_per_5m = 0;
    l.orders_per_minute = 1200;
    l.orders_per_10s = usdm() ? 300 : 0;
    l.orders_per_second = 0;
    l.orders_per_day = 0;
    return l;
  }
  bool usdm() const { return GetParam() == "usdm"; }
  std::string prefix() const { return usdm() ? "/fapi/v1" : "/dapi/v1"; }
  std::string symbol() const { return usdm() ? "ETHUSDT" : "ETHUSD_PERP"; }
  std::string lot() const { return usdm() ? "0.01" : "1"; }  // a small order: 26 USDT, or one 10 USD contract
  std::string margin_asset() const { return usdm() ? "USDT" : "ETH"; }
  const sim::SimMarket& book() const {
    return sim_->venue(static_cast<std::size_t>(sim_->venue_index(VenueId(venue_id_)))).market(0);
  }
  // A price `ticks` from the touch of `side` (positive: away from the other side), as a decimal string.
  std::string price_from(Side side, std::int64_t ticks) const {
    const std::int64_t tick = book().listing().tick_size.raw();
    const Price touch = book().best(side);
    return Price::from_raw(touch.raw() + (side == Side::Buy ? -ticks : ticks) * tick).to_string();
  }
  // `path` after the prefix ("/order"), or after "/fapi" or "/dapi" when it starts "/../" ("/../v2/balance").
  json fcall(std::string_view method, const std::string& path, const std::string& rest,
             int* status = nullptr) {
    const std::string full =
        path.rfind("/../", 0) == 0 ? prefix().substr(0, 5) + path.substr(3) : prefix() + path;
    return call(method, full,
                "symbol=" + symbol() + (rest.empty() ? "" : "&" + rest) + "&timestamp=" + timestamp(),
                status);
  }
  json place(const std::string& rest, int* status = nullptr) { return fcall("POST", "/order", rest, status); }
  std::string header(const std::string& name) {
    for (const auto& [k, v] : out_.responses[token_].headers)
      if (k == name) return v;
    return "";
  }
  void settle(int ms = 50) {
    for (int i = 0; i < ms; ++i) {
      sim_->run_until(sim_->now() + kNanosPerMilli);
      venue_->after_run(wall());
    }
  }
  // A listen key, and the user data stream on connection `conn` at /ws/<listenKey>.
  std::string open_user_stream(std::uint64_t conn) {
    const json k = call("POST", prefix() + "/listenKey", "", nullptr, "the-key", "");
    const std::string key = k["listenKey"];
    HttpResponse refusal;
    EXPECT_TRUE(venue_->on_ws_open(conn, "/ws/" + key, "127.0.0.1", wall(), refusal));
    return key;
  }
  std::vector<json> events(std::uint64_t conn, std::string_view type) {
    std::vector<json> found;
    for (const std::string& f : out_.frames[conn]) {
      json e = json::parse(f);
      if (e.value("e", "") == type) found.push_back(std::move(e));
    }
    return found;
  }
};

TEST_P(FuturesVenueTest, ALimitOrderRestsAndIsAnsweredWithFuturesOrderFields) {
  int status = 0;
  const std::string price = price_from(Side::Buy, 500);
  const json r = place("side=BUY&type=LIMIT&timeInForce=GTC&quantity=" + lot() + "&price=" + price +
                           "&newClientOrderId=rest-1&newOrderRespType=RESULT",
                       &status);
  ASSERT_EQ(status, 200) << r.dump();
  EXPECT_EQ(r["status"], "NEW");
  EXPECT_EQ(r["clientOrderId"], "rest-1");
  EXPECT_EQ(r["positionSide"], "BOTH");
  EXPECT_EQ(r["timeInForce"], "GTC");
  EXPECT_EQ(r["type"], "LIMIT");
  EXPECT_EQ(r["origType"], "LIMIT");
  EXPECT_EQ(r["reduceOnly"], false);
  EXPECT_EQ(qty(r["origQty"].get<std::string>()), qty(lot()));
  EXPECT_EQ(px(r["price"].get<std::string>()), px(price));
  EXPECT_EQ(r.contains("cumQuote"), usdm());
  EXPECT_EQ(r.contains("cumBase"), !usdm());
  if (!usdm()) {
    EXPECT_EQ(r["pair"], "ETHUSD");
  }
  EXPECT_EQ(header("X-MBX-ORDER-COUNT-1M"), "1");
  EXPECT_EQ(header("X-MBX-ORDER-COUNT-10S"), usdm() ? "1" : "");
  EXPECT_FALSE(header("X-MBX-USED-WEIGHT-1M").empty());
  const std::string id = std::to_string(r["orderId"].get<std::int64_t>());
  const json s = fcall("GET", "/order", "orderId=" + id);
  EXPECT_EQ(s["status"], "NEW");
  EXPECT_EQ(s["clientOrderId"], "rest-1");
  const json open = fcall("GET", "/openOrders", "");
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0]["orderId"], r["orderId"]);
  // ACK is the default: the order as it was accepted.
  const json ack = place("side=BUY&type=LIMIT&timeInForce=GTC&quantity=" + lot() + "&price=" + price +
                         "&newClientOrderId=rest-2");
  EXPECT_EQ(ack["status"], "NEW");
  EXPECT_EQ(ack["clientOrderId"], "rest-2");
  const json dup = place("side=BUY&type=LIMIT&timeInForce=GTC&quantity=" + lot() + "&price=" + price +
                             "&newClientOrderId=rest-2",
                         &status);
  EXPECT_EQ(dup["code"], -4116);
}

TEST_P(FuturesVenueTest, APostOnlyOrderThatWouldCrossIsRefusedWith5022AndNeverRecorded) {
  int status = 0;
  const json r = place("side=BUY&type=LIMIT&timeInForce=GTX&quantity=" + lot() +
                           "&price=" + price_from(Side::Sell, 2) + "&newClientOrderId=gtx-1",
                       &status);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(r["code"], -5022);
  EXPECT_EQ(
      r["msg"],
      "Due to the order could not be executed as maker, the Post Only order will be rejected. The order will "
      "not be recorded in the order history");
  EXPECT_EQ(fcall("GET", "/order", "origClientOrderId=gtx-1", &status)["code"], -2013);
  EXPECT_TRUE(fcall("GET", "/openOrders", "").empty());
  EXPECT_NE(venue_->executed_json().find("\"orders\":0"), std::string::npos);
  // One that rests is taken as GTX.
  const json maker = place("side=BUY&type=LIMIT&timeInForce=GTX&quantity=" + lot() +
                           "&price=" + price_from(Side::Buy, 5) + "&newOrderRespType=RESULT");
  EXPECT_EQ(maker["status"], "NEW");
  EXPECT_EQ(maker["timeInForce"], "GTX");
}

TEST_P(FuturesVenueTest, AModifyChangesPriceAndQuantityInPlaceAndIsToldAsAnAmendment) {
  open_user_stream(7);
  const json r = place("side=BUY&type=LIMIT&timeInForce=GTC&quantity=" + lot() +
                       "&price=" + price_from(Side::Buy, 500) + "&newClientOrderId=mod-1");
  const std::string id = std::to_string(r["orderId"].get<std::int64_t>());
  const std::string new_price = price_from(Side::Buy, 600);
  const std::string new_qty = usdm() ? "0.02" : "2";
  int status = 0;
  const json m = fcall("PUT", "/order",
                       "orderId=" + id + "&side=BUY&quantity=" + new_qty + "&price=" + new_price, &status);
  ASSERT_EQ(status, 200) << m.dump();
  EXPECT_EQ(m["orderId"], r["orderId"]);
  EXPECT_EQ(m["clientOrderId"], "mod-1");
  EXPECT_EQ(m["status"], "NEW");
  EXPECT_EQ(px(m["price"].get<std::string>()), px(new_price));
  EXPECT_EQ(qty(m["origQty"].get<std::string>()), qty(new_qty));
  bool amended = false;
  for (const json& e : events(7, "ORDER_TRADE_UPDATE"))
    if (e["o"]["x"] == "AMENDMENT") {
      amended = true;
      EXPECT_EQ(e["o"]["i"], r["orderId"]);
      EXPECT_EQ(e["o"]["c"], "mod-1");
      EXPECT_EQ(qty(e["o"]["q"].get<std::string>()), qty(new_qty));
      EXPECT_EQ(e["o"]["X"], "NEW");
    }
  EXPECT_TRUE(amended) << "ORDER_TRADE_UPDATE with x AMENDMENT";
  // By its client id too; the same price and quantity again need no modify.
  const json same =
      fcall("PUT", "/order", "origClientOrderId=mod-1&side=BUY&quantity=" + new_qty + "&price=" + new_price,
            &status);
  EXPECT_EQ(same["code"], -5027);
  EXPECT_EQ(same["msg"], "No need to modify the order.");
  EXPECT_EQ(fcall("PUT", "/order", "orderId=987654&side=BUY&quantity=" + new_qty + "&price=" + new_price,
                  &status)["code"],
            -2013);
  EXPECT_EQ(fcall("PUT", "/order", "orderId=" + id + "&side=BUY&quantity=" + new_qty, &status)["code"],
            -1102);
  // Canceled, it no longer exists to be modified.
  EXPECT_EQ(fcall("DELETE", "/order", "orderId=" + id)["status"], "CANCELED");
  EXPECT_EQ(fcall("PUT", "/order", "orderId=" + id + "&side=BUY&quantity=" + lot() + "&price=" + new_price,
                  &status)["code"],
            -2013);
}

TEST_P(FuturesVenueTest, ACancelAnswersTheOrderCanceledAndAnUnknownOneIsRefusedWith2011) {
  const std::string price = price_from(Side::Buy, 500);
  const json r = place("side=BUY&type=LIMIT&timeInForce=GTC&quantity=" + lot() + "&price=" + price);
  const std::string id = std::to_string(r["orderId"].get<std::int64_t>());
  int status = 0;
  const json c = fcall("DELETE", "/order", "orderId=" + id, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(c["status"], "CANCELED");
  EXPECT_EQ(c["orderId"], r["orderId"]);
  const json again = fcall("DELETE", "/order", "orderId=" + id, &status);
  EXPECT_EQ(again["code"], -2011);
  EXPECT_EQ(again["msg"], "Unknown order sent.");
  EXPECT_EQ(fcall("GET", "/order", "orderId=" + id)["status"], "CANCELED");
  for (int i = 0; i < 2; ++i)
    place("side=BUY&type=LIMIT&timeInForce=GTC&quantity=" + lot() + "&price=" + price);
  EXPECT_EQ(fcall("GET", "/openOrders", "").size(), 2u);
  const json all = fcall("DELETE", "/allOpenOrders", "", &status);
  EXPECT_EQ(all, json::parse(R"({"code":200,"msg":"The operation of cancel all open order is done."})"));
  EXPECT_TRUE(fcall("GET", "/openOrders", "").empty());
}

TEST_P(FuturesVenueTest, AMarketOrderFillsMovesThePositionAndIsToldAsTradeThenAccountUpdate) {
  open_user_stream(8);
  const std::string size = usdm() ? "0.5" : "5";
  int status = 0;
  const json r = place("side=BUY&type=MARKET&quantity=" + size, &status);
  ASSERT_EQ(status, 200) << r.dump();
  settle();
  const std::string id = std::to_string(r["orderId"].get<std::int64_t>());
  const json s = fcall("GET", "/order", "orderId=" + id);
  EXPECT_EQ(s["status"], "FILLED");
  EXPECT_EQ(qty(s["executedQty"].get<std::string>()), qty(size));
  EXPECT_GT(px(s["avgPrice"].get<std::string>()), Price{});
  const json trades = fcall("GET", "/userTrades", "orderId=" + id);
  ASSERT_FALSE(trades.empty());
  Qty filled;
  for (const json& t : trades) {
    filled += qty(t["qty"].get<std::string>());
    EXPECT_EQ(t["side"], "BUY");
    EXPECT_EQ(t["buyer"], true);
    EXPECT_EQ(t["positionSide"], "BOTH");
    EXPECT_EQ(t["commissionAsset"], margin_asset());
    EXPECT_EQ(t.contains("quoteQty"), usdm());
    EXPECT_EQ(t.contains("baseQty"), !usdm());
    if (!usdm()) {
      EXPECT_EQ(t["marginAsset"], "ETH");
    }
  }
  EXPECT_EQ(filled, qty(size));
  // Told on the user data stream: each fill, then the account it moved.
  const auto updates = events(8, "ORDER_TRADE_UPDATE");
  std::size_t told = 0;
  for (const json& e : updates)
    if (e["o"]["x"] == "TRADE") {
      EXPECT_EQ(e["o"]["i"], r["orderId"]);
      EXPECT_EQ(e["o"]["t"], trades[told]["id"]);
      ++told;
    }
  EXPECT_EQ(told, trades.size());
  const auto accounts = events(8, "ACCOUNT_UPDATE");
  ASSERT_EQ(accounts.size(), trades.size());
  const json& last = accounts.back()["a"];
  EXPECT_EQ(last["m"], "ORDER");
  EXPECT_EQ(last["B"][0]["a"], margin_asset());
  EXPECT_EQ(last["P"][0]["s"], symbol());
  EXPECT_EQ(qty(last["P"][0]["pa"].get<std::string>()), qty(size));
  EXPECT_EQ(last["P"][0]["ps"], "BOTH");
  // The position and the account.
  const json positions = fcall("GET", usdm() ? "/../v2/positionRisk" : "/positionRisk", "");
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_EQ(qty(positions[0]["positionAmt"].get<std::string>()), qty(size));
  EXPECT_GT(px(positions[0]["entryPrice"].get<std::string>()), Price{});
  EXPECT_GT(px(positions[0]["markPrice"].get<std::string>()), Price{});
  const json balances = fcall("GET", usdm() ? "/../v2/balance" : "/balance", "");
  bool margin_listed = false;
  for (const json& b : balances) margin_listed |= b["asset"] == margin_asset();
  EXPECT_TRUE(margin_listed);
  const json account = fcall("GET", usdm() ? "/../v3/account" : "/account", "");
  EXPECT_FALSE(account["assets"].empty());
  EXPECT_EQ(qty(account["positions"][0]["positionAmt"].get<std::string>()), qty(size));
  // Selling it back closes the position, its profit realized.
  place("side=SELL&type=MARKET&quantity=" + size);
  settle();
  EXPECT_TRUE(qty(fcall("GET", usdm() ? "/../v3/positionRisk" : "/positionRisk", "")[0]["positionAmt"]
                      .get<std::string>())
                  .is_zero());
}

TEST_P(FuturesVenueTest, AReduceOnlyOrderThatWouldIncreaseOrFlipThePositionIsRefused) {
  int status = 0;
  const json flat = place("side=BUY&type=LIMIT&timeInForce=GTC&quantity=" + lot() +
                              "&price=" + price_from(Side::Buy, 500) + "&reduceOnly=true",
                          &status);
  EXPECT_EQ(flat["code"], -2022);
  EXPECT_EQ(flat["msg"], "ReduceOnly Order is rejected.");
  const std::string size = usdm() ? "0.5" : "5";
  place("side=BUY&type=MARKET&quantity=" + size);
  settle();
  const std::string twice = usdm() ? "1" : "10";
  EXPECT_EQ(place("side=SELL&type=MARKET&quantity=" + twice + "&reduceOnly=true", &status)["code"], -2022);
  EXPECT_EQ(place("side=BUY&type=MARKET&quantity=" + lot() + "&reduceOnly=true", &status)["code"], -2022);
  EXPECT_EQ(place("side=SELL&type=MARKET&quantity=" + lot() + "&reduceOnly=maybe", &status)["code"], -1130);
  const json ok = place("side=SELL&type=MARKET&quantity=" + size + "&reduceOnly=true", &status);
  EXPECT_EQ(status, 200) << ok.dump();
  EXPECT_EQ(ok["reduceOnly"], true);
  settle();
  EXPECT_TRUE(qty(fcall("GET", usdm() ? "/../v2/positionRisk" : "/positionRisk", "")[0]["positionAmt"]
                      .get<std::string>())
                  .is_zero());
}

TEST_P(FuturesVenueTest, AListenKeyIsHandedOutAgainWhileAliveKeptAliveAndToldWhenItExpires) {
  int status = 0;
  const std::string key = call("POST", prefix() + "/listenKey", "", &status, "the-key", "")["listenKey"];
  EXPECT_EQ(status, 200);
  EXPECT_EQ(key.size(), 64u);
  EXPECT_EQ(call("POST", prefix() + "/listenKey", "", &status, "the-key", "")["listenKey"], key);
  EXPECT_EQ(call("POST", prefix() + "/listenKey", "", &status, "", "")["code"], -2014);
  EXPECT_EQ(status, 401);
  call("PUT", prefix() + "/listenKey", "listenKey=" + key, &status, "the-key", "");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(call("PUT", prefix() + "/listenKey", "listenKey=nope", &status, "the-key", "")["code"], -1125);
  HttpResponse refusal;
  ASSERT_TRUE(venue_->on_ws_open(9, "/ws/" + key, "127.0.0.1", wall(), refusal));
  // An hour without a keepalive: expired, said on the stream, which closes.
  wall_offset_ += 61 * 60 * kNanosPerSecond;
  venue_->on_tick(wall());
  ASSERT_FALSE(out_.frames[9].empty());
  const json expired = json::parse(out_.frames[9].back());
  EXPECT_EQ(expired["e"], "listenKeyExpired");
  EXPECT_EQ(expired["listenKey"], key);
  EXPECT_NE(std::find(out_.closed.begin(), out_.closed.end(), 9u), out_.closed.end());
  EXPECT_EQ(call("PUT", prefix() + "/listenKey", "", &status, "the-key", "")["code"], -1125);
  const std::string second = call("POST", prefix() + "/listenKey", "", &status, "the-key", "")["listenKey"];
  EXPECT_NE(second, key);
  // The control endpoint expires it at once (a client must make a new one).
  ASSERT_TRUE(venue_->on_ws_open(10, "/private/ws?listenKey=" + second, "127.0.0.1", wall(), refusal));
  venue_->on_http(500, HttpRequest{"POST", "/tranche/control/expire-listen-keys", "", "", "", "127.0.0.1"},
                  wall());
  EXPECT_EQ(out_.responses[500].status, 200);
  EXPECT_EQ(json::parse(out_.frames[10].back())["e"], "listenKeyExpired");
  EXPECT_EQ(call("DELETE", prefix() + "/listenKey", "", &status, "the-key", "")["code"], -1125);
}

TEST_P(FuturesVenueTest, ExchangeInfoPublishesFuturesRateLimitsAndOrdersOverThemAreRefusedWith429) {
  VenueLimits l = limits();
  l.orders_per_minute = 2;
  make(l);
  const json info = call("GET", prefix() + "/exchangeInfo", "", nullptr, "", "");
  std::map<std::string, std::int64_t> published;
  for (const auto& x : info["rateLimits"])
    published[x["rateLimitType"].get<std::string>() + "/" + x["interval"].get<std::string>() + "/" +
              std::to_string(x["intervalNum"].get<int>())] = x["limit"];
  std::map<std::string, std::int64_t> expected{{"REQUEST_WEIGHT/MINUTE/1", 2400}, {"ORDERS/MINUTE/1", 2}};
  if (usdm()) expected["ORDERS/SECOND/10"] = 300;
  EXPECT_EQ(published, expected);
  int status = 0;
  const std::string price = price_from(Side::Buy, 500);
  for (int i = 0; i < 2; ++i) {
    place("side=BUY&type=LIMIT&timeInForce=GTC&quantity=" + lot() + "&price=" + price, &status);
    EXPECT_EQ(status, 200);
  }
  const json third =
      place("side=BUY&type=LIMIT&timeInForce=GTC&quantity=" + lot() + "&price=" + price, &status);
  EXPECT_EQ(status, 429);
  EXPECT_EQ(third["code"], -1015);
  EXPECT_FALSE(header("Retry-After").empty());
  EXPECT_EQ(header("X-MBX-ORDER-COUNT-1M"), "2");
  EXPECT_EQ(fcall("GET", "/openOrders", "").size(), 2u);
}

TEST_P(FuturesVenueTest, BadOrdersAreRefusedWithFuturesCodesAndNeverReachTheVenue) {
  const std::string bid = price_from(Side::Buy, 5);
  const std::int64_t tick = book().listing().tick_size.raw();
  const std::string off_tick = Price::from_raw(px(bid).raw() + tick / 2).to_string();
  std::vector<std::pair<std::string, int>> cases = {
      {"side=BUY&type=LIMIT&timeInForce=GTC&positionSide=LONG&quantity=" + lot() + "&price=" + bid, -4061},
      {"side=BUY&type=LIMIT&timeInForce=GTC&quantity=" + lot() + "&price=" + off_tick, -4014},
      {"side=BUY&type=LIMIT&timeInForce=GTC&quantity=" + std::string(usdm() ? "0.0101" : "1.5") +
           "&price=" + bid,
       -4023},
      {"side=BUY&type=LIMIT&quantity=" + lot() + "&price=" + bid, -1102},
      {"side=BUY&type=STOP&quantity=" + lot() + "&price=" + bid, -1116},
      {"side=BUY&type=LIMIT&timeInForce=GTD&quantity=" + lot() + "&price=" + bid, -1115},
      {"side=BUY&type=MARKET&quantity=" + lot() + "&price=" + bid, -1106},
      {"side=BUY&type=LIMIT&timeInForce=GTC&quantity=0&price=" + bid, -4003},
      {"side=SIDEWAYS&type=MARKET&quantity=" + lot(), -1117},
  };
  if (usdm()) cases.emplace_back("side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=" + bid, -4164);
  for (const auto& [params, code] : cases) {
    int status = 0;
    const json r = place(params, &status);
    EXPECT_EQ(r["code"], code) << params << " -> " << r.dump();
    EXPECT_EQ(status, 400) << params;
  }
  if (usdm()) {
    EXPECT_EQ(place("side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=" + bid)["msg"],
              "Order's notional must be no smaller than 5 (unless you choose reduce only).");
  }
  int status = 0;
  call("GET", "/api/v3/order", "symbol=ETHUSDT&orderId=1&timestamp=" + timestamp(), &status);
  EXPECT_EQ(status, 404) << "a futures venue serves no spot paths";
  EXPECT_NE(venue_->executed_json().find("\"orders\":0"), std::string::npos)
      << "a refused order never reached the venue";
}

TEST_P(FuturesVenueTest, TheMarkPriceStreamSaysTheBooksMidRoundedToTheTickEverySecond) {
  HttpResponse refusal;
  std::string stream = symbol();
  std::transform(stream.begin(), stream.end(), stream.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  ASSERT_TRUE(venue_->on_ws_open(5, "/ws/" + stream + "@markPrice@1s", "127.0.0.1", wall(), refusal));
  for (int i = 0; i < 10; ++i) venue_->on_tick(wall());
  ASSERT_FALSE(out_.frames[5].empty());
  const json e = json::parse(out_.frames[5].back());
  EXPECT_EQ(e["e"], "markPriceUpdate");
  EXPECT_EQ(e["s"], symbol());
  EXPECT_EQ(e["r"], "0.00010000");
  const std::int64_t tick = book().listing().tick_size.raw();
  const Price mid = Price::from_raw((book().best(Side::Buy).raw() + book().best(Side::Sell).raw()) / 2);
  const Price mark = px(e["p"].get<std::string>());
  EXPECT_EQ(mark.raw() % tick, 0);
  EXPECT_LE(std::abs(mark.raw() - mid.raw()), tick);
  EXPECT_GT(e["T"].get<std::int64_t>(), e["E"].get<std::int64_t>());
  // Spot's venue has no such stream.
  EXPECT_EQ(events(5, "markPriceUpdate").size(), out_.frames[5].size());
}

// The simulator's amend decides the queue: a smaller quantity at the same price keeps the order's place, a
// new price (or a larger quantity) sends it behind the orders that came after it.
TEST_P(FuturesVenueTest, AModifyKeepsTheQueuePlaceWhenOnlyTheQuantityGoesDownAndLosesItOtherwise) {
  const std::string price = price_from(Side::Buy, 500);
  const std::string two = usdm() ? "0.02" : "2";
  const json first = place("side=BUY&type=LIMIT&timeInForce=GTC&quantity=" + two + "&price=" + price);
  const json second = place("side=BUY&type=LIMIT&timeInForce=GTC&quantity=" + two + "&price=" + price);
  auto priority = [&](const json& order) {
    for (const sim::OwnOrder& o : book().orders())
      if (o.client_order_id.value() == order["orderId"].get<std::uint64_t>()) return o.priority;
    return std::uint64_t{0};
  };
  ASSERT_LT(priority(first), priority(second));
  const std::string id = std::to_string(first["orderId"].get<std::int64_t>());
  int status = 0;
  fcall("PUT", "/order", "orderId=" + id + "&side=BUY&quantity=" + lot() + "&price=" + price, &status);
  EXPECT_EQ(status, 200);
  EXPECT_LT(priority(first), priority(second)) << "a smaller quantity keeps its place";
  fcall("PUT", "/order", "orderId=" + id + "&side=BUY&quantity=" + two + "&price=" + price, &status);
  EXPECT_EQ(status, 200);
  EXPECT_GT(priority(first), priority(second)) << "a larger one goes to the back";
}

// An outage while a modify is waited for: the client is told 503 (its outcome unknown), the venue decides it
// all the same, and a query afterwards tells which.
TEST_P(FuturesVenueTest, AModifyCaughtByAnOutageIsAnswered503AndDecidedAllTheSame) {
  const json r =
      place("side=BUY&type=LIMIT&timeInForce=GTC&quantity=" + lot() + "&price=" + price_from(Side::Buy, 500));
  const std::string id = std::to_string(r["orderId"].get<std::int64_t>());
  const std::string new_price = price_from(Side::Buy, 520);
  const std::string query = "symbol=" + symbol() + "&orderId=" + id + "&side=BUY&quantity=" + lot() +
                            "&price=" + new_price + "&timestamp=" + timestamp();
  venue_->on_http(
      777,
      HttpRequest{"PUT", prefix() + "/order", query + "&signature=" + hmac_sha256_hex("the-secret", query),
                  "", "the-key", "127.0.0.1"},
      wall());
  venue_->disconnect_for(kNanosPerMilli, wall());
  ASSERT_TRUE(out_.responses.count(777));
  EXPECT_EQ(out_.responses[777].status, 503);
  sim_->run_until(sim_->now() + 50 * kNanosPerMilli);
  venue_->after_run(wall());
  venue_->on_tick(wall());
  EXPECT_EQ(px(fcall("GET", "/order", "orderId=" + id)["price"].get<std::string>()), px(new_price));
}

INSTANTIATE_TEST_SUITE_P(BinanceFutures, FuturesVenueTest, ::testing::Values("usdm", "coinm"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace tranche::gateway::binance
