// `tranche exchange --protocol binance` without sockets: the rate limiter, the depth numbering, the request
// parsing, and the venue itself on the bundled spot recording (signatures, errors, orders, streams, user
// data), with a recording VenueOutput in place of the server.
#include "gateway/binance_venue.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace tranche::gateway::binance
