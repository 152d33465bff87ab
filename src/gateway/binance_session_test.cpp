// The Binance spot session against a venue scripted to misbehave (a TLS server on loopback with a test CA):
// a 5xx, a new order left unanswered, a clock ahead of the venue's (-1021), a rate-limit ban, an answer that
// is not JSON. Each: a clear report, no duplicate order, nothing lost.
#include "gateway/binance_session.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "gateway/test_echo_server.hpp"
#include "gateway/test_tls.hpp"

namespace tranche::gateway {
namespace {

using Answer = testing::EchoServer::Answer;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* kExchangeInfo =
    R"({"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000},)"
    R"({"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":100}],)"
    R"("symbols":[{"symbol":"ETHUSDT","status":"TRADING","filters":[{"filterType":"PRICE_FILTER","tickSize":"0.01"},)"
    R"({"filterType":"LOT_SIZE","stepSize":"0.0001"},{"filterType":"NOTIONAL","minNotional":"5"}]}]})";

std::string order_json(const char* status) {
  return std::string(
             R"({"symbol":"ETHUSDT","orderId":7,"clientOrderId":"tr-1","price":"2000.00","origQty":"0.5",)") +
         R"("executedQty":"0","cummulativeQuoteQty":"0","status":")" + status +
         R"(","timeInForce":"GTC","type":"LIMIT","side":"BUY","updateTime":)" + std::to_string(wall_ms()) +
         "}";
}

class Collect final : public ExecutionListener {
 public:
  std::vector<ExecutionReport> reports;
  void on_execution_report(const ExecutionReport& r) override { reports.push_back(r); }
};

class BinanceSessionAgainstAScriptedVenue : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!certs_.error.empty()) GTEST_FAIL() << certs_.error;
    server_ = std::make_unique<testing::EchoServer>(certs_.cert_file, certs_.key_file);
    key_file_ = (certs_.dir / "key.toml").string();
    std::ofstream(key_file_) << "api_key = \"scriptedKey\"\napi_secret = \"scriptedSecret\"\n";
    std::filesystem::permissions(key_file_,
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace);
    server_->script(
        [this](const std::string& method, const std::string& target,
               const std::string& body) -> std::optional<Answer> {
          if (target.rfind("/api/v3/time", 0) == 0) {
            ++times_;
            return Answer{200, R"({"serverTime":)" + std::to_string(wall_ms()) + "}"};
          }
          if (target.rfind("/api/v3/exchangeInfo", 0) == 0) return Answer{200, kExchangeInfo};
          if (target.rfind("/api/v3/myTrades", 0) == 0) return Answer{200, "[]"};
          if (method == "POST" && target == "/api/v3/order") {
            ++posts_;
            last_post_body_ = body;
            return new_order_();
          }
          if (method == "GET" && target.rfind("/api/v3/order?", 0) == 0) {
            ++queries_;
            return query_();
          }
          return Answer{404, "<html>not found</html>"};
        },
        [](const std::string& text) -> std::vector<std::string> {
          const auto at = text.find(R"("id":")");
          const std::string id = text.substr(at + 6, text.find('"', at + 6) - at - 6);
          if (text.find("userDataStream.subscribe.signature") != std::string::npos)
            return {R"({"id":")" + id + R"(","status":200,"result":{"subscriptionId":0}})",
                    R"({"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":1,"u":1,)"
                    R"("B":[{"a":"ETH","f":"1.5","l":"0.25"},{"a":"USDT","f":"1000","l":"0"}]}})"};
          return {};
        });
  }
  void start() {
    venue_.id = VenueId("binance-spot");
    venue_.exchange = "binance";
    venue_.market = "spot";
    VenueListing l;
    l.instrument = InstrumentId("ETH-USDT");
    l.symbol = "ETHUSDT";
    l.tick_size = Price::parse("0.01").value();
    l.lot_size = Qty::parse("0.0001").value();
    l.min_notional = Amount::from_units(5);
    venue_.listings.push_back(l);
    VenueBinanceConfig b;
    const std::string base = "127.0.0.1:" + std::to_string(server_->port());
    b.rest_url = "https://" + base;
    b.ws_api_url = "wss://" + base + "/ws-api/v3";
    b.stream_url = "wss://" + base;
    b.ca_file = certs_.ca_file;
    b.key_file = key_file_;
    b.request_timeout_ns = 400 * kNanosPerMilli;
    b.recv_window_ns = kNanosPerSecond;
    venue_.binance = b;
    auto started = BinanceSession::start(venue_, network_, {});
    ASSERT_TRUE(started) << started.error().message;
    session_ = std::move(started).value();
  }
  NewOrder order(std::uint64_t child) const {
    NewOrder o;
    o.client_order_id = ClientOrderId(child);
    o.venue = venue_.id;
    o.instrument = InstrumentId("ETH-USDT");
    o.side = Side::Buy;
    o.price = Price::from_units(2000);
    o.qty = Qty::from_raw(50'000'000);
    return o;
  }
  // Polls until a report about `child` of one of `types` arrives (10 s at most).
  const ExecutionReport* wait_for(std::uint64_t child, std::initializer_list<ExecType> types) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      session_->poll(heard_, 0);
      for (const auto& r : heard_.reports)
        for (const ExecType t : types)
          if (r.client_order_id == ClientOrderId(child) && r.exec_type == t) return &r;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return nullptr;
  }

  testing::TestCertificates certs_;
  std::unique_ptr<testing::EchoServer> server_;
  std::string key_file_;
  VenueConfig venue_;
  NetworkThread network_;
  std::unique_ptr<BinanceSession> session_;
  Collect heard_;
  std::atomic<int> posts_{0}, queries_{0}, times_{0};
  std::string last_post_body_;
  std::function<Answer()> new_order_ = [] { return Answer{200, order_json("NEW")}; };
  std::function<Answer()> query_ = [] { return Answer{200, order_json("NEW")}; };
};

TEST_F(BinanceSessionAgainstAScriptedVenue, ANewOrderAnswered5xxIsQueriedAndNeverSentAgain) {
  new_order_ = [] {
    return Answer{503, R"({"code":-1001,"msg":"Internal error; unable to process your request."})"};
  };
  start();
  ASSERT_TRUE(session_->send(order(1)));
  const ExecutionReport* ack = wait_for(1, {ExecType::New, ExecType::Rejected});
  ASSERT_NE(ack, nullptr);
  EXPECT_EQ(ack->exec_type, ExecType::New);  // the query found it at the venue
  EXPECT_EQ(posts_.load(), 1);
  EXPECT_GE(queries_.load(), 1);
  EXPECT_NE(last_post_body_.find("newClientOrderId=tr-1"), std::string::npos);
}

TEST_F(BinanceSessionAgainstAScriptedVenue,
       AnUnansweredOrderUnknownToTheVenueIsBelievedOnlyAfterItsRecvWindow) {
  new_order_ = [] { return Answer{200, order_json("NEW"), {}, 1500}; };  // far past the 400 ms timeout
  query_ = [] { return Answer{400, R"({"code":-2013,"msg":"Order does not exist."})"}; };
  start();
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(session_->send(order(1)));
  const ExecutionReport* end = wait_for(1, {ExecType::New, ExecType::Rejected});
  ASSERT_NE(end, nullptr);
  EXPECT_EQ(end->exec_type, ExecType::Rejected);
  EXPECT_NE(end->text.view().find("never reached the venue"), std::string_view::npos) << end->text.view();
  // Not before the order's timestamp + recvWindow (1 s): until then the venue could still have taken it.
  EXPECT_GE(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(950));
  EXPECT_EQ(posts_.load(), 1);
  EXPECT_GE(queries_.load(), 2);
}

TEST_F(BinanceSessionAgainstAScriptedVenue, AClockAheadOfTheVenuesIsRefusedAndTheClockMeasuredAgain) {
  new_order_ = [] {
    return Answer{
        400, R"({"code":-1021,"msg":"Timestamp for this request was 1000ms ahead of the server's time."})"};
  };
  start();
  const int measured = times_.load();
  ASSERT_TRUE(session_->send(order(1)));
  const ExecutionReport* end = wait_for(1, {ExecType::New, ExecType::Rejected});
  ASSERT_NE(end, nullptr);
  EXPECT_EQ(end->exec_type, ExecType::Rejected);
  EXPECT_NE(end->text.view().find("ahead of the server"), std::string_view::npos);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (times_.load() == measured && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_GT(times_.load(), measured);
  EXPECT_EQ(posts_.load(), 1);
}

TEST_F(BinanceSessionAgainstAScriptedVenue, ARateLimitBanStopsEveryOrderUntilItsRetryAfter) {
  new_order_ = [] {
    return Answer{
        429,
        R"({"code":-1003,"msg":"Too many requests; current limit is 6000 request weight per 1 MINUTE."})",
        {{"Retry-After", "30"}}};
  };
  start();
  ASSERT_TRUE(session_->send(order(1)));
  const ExecutionReport* first = wait_for(1, {ExecType::New, ExecType::Rejected});
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->reject_reason, RejectReason::RateLimited);
  ASSERT_TRUE(session_->send(order(2)));
  const ExecutionReport* second = wait_for(2, {ExecType::New, ExecType::Rejected});
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->reject_reason, RejectReason::RateLimited);
  EXPECT_NE(second->text.view().find("not sent"), std::string_view::npos);
  EXPECT_EQ(posts_.load(), 1);  // never hammered
}

TEST_F(BinanceSessionAgainstAScriptedVenue, AnAnswerThatIsNotJsonIsSaidAndTheOrderQueried) {
  new_order_ = [] { return Answer{200, R"({"symbol":"ETHUSDT","orderId":)"}; };
  start();
  ASSERT_TRUE(session_->send(order(1)));
  const ExecutionReport* ack = wait_for(1, {ExecType::New, ExecType::Rejected});
  ASSERT_NE(ack, nullptr);
  EXPECT_EQ(ack->exec_type, ExecType::New);
  EXPECT_GE(session_->unreadable(), 1u);
  EXPECT_EQ(posts_.load(), 1);
}

}  // namespace
}  // namespace tranche::gateway

namespace tranche::gateway {
namespace {

TEST_F(BinanceSessionAgainstAScriptedVenue, TheAccountsBalancesAreKeptFromTheUserDataStream) {
  start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (session_->balances().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto balances = session_->balances();
  ASSERT_EQ(balances.count("ETH"), 1u);
  EXPECT_EQ(balances.at("ETH").free, Qty::parse("1.5").value());
  EXPECT_EQ(balances.at("ETH").locked, Qty::parse("0.25").value());
  EXPECT_EQ(balances.at("USDT").free, Qty::from_units(1000));
}

}  // namespace
}  // namespace tranche::gateway
