// Binance's order payloads read without a session: answers, queries and user data updates, and what is
// refused with a reason.
#include "gateway/binance_payloads.hpp"

#include <gtest/gtest.h>

namespace tranche::gateway::binance {
namespace {

class Payloads : public ::testing::Test {
 protected:
  simdjson::dom::element parse(std::string_view json) {
    simdjson::dom::element e;
    EXPECT_EQ(parser_.parse(json.data(), json.size()).get(e), simdjson::SUCCESS) << json;
    return e;
  }
  simdjson::dom::parser parser_;
  std::string why_;
};

TEST_F(Payloads, AnAnswerGivesTheOrdersIdStatusExecutedAndTime) {
  auto e =
      parse(R"({"orderId":28,"clientOrderId":"tr-1","transactTime":1723161254024,"executedQty":"0.4000",)"
            R"("cummulativeQuoteQty":"1039.80","status":"PARTIALLY_FILLED"})");
  auto facts = read_order_facts(e, "clientOrderId", why_);
  ASSERT_TRUE(facts) << why_;
  EXPECT_EQ(facts->client_order_id, "tr-1");
  EXPECT_EQ(facts->order_id, 28);
  EXPECT_EQ(facts->status, OrderStatus::PartiallyFilled);
  EXPECT_EQ(facts->executed, Qty::parse("0.4").value());
  EXPECT_EQ(facts->venue_ns, 1723161254024 * kNanosPerMilli);
}

TEST_F(Payloads, AnAnswerWithoutItsIdStatusOrANonNegativeExecutedIsRefusedWithTheReason) {
  EXPECT_FALSE(read_order_facts(parse(R"({"status":"NEW","executedQty":"0"})"), "clientOrderId", why_));
  EXPECT_NE(why_.find("without clientOrderId"), std::string::npos) << why_;
  EXPECT_FALSE(read_order_facts(parse(R"({"clientOrderId":"tr-1","status":"WEIRD","executedQty":"0"})"),
                                "clientOrderId", why_));
  EXPECT_NE(why_.find("no status we know"), std::string::npos) << why_;
  EXPECT_FALSE(read_order_facts(parse(R"({"clientOrderId":"tr-1","status":"NEW","executedQty":"-1"})"),
                                "clientOrderId", why_));
  EXPECT_NE(why_.find("executedQty"), std::string::npos) << why_;
  EXPECT_FALSE(read_order_facts(parse(R"([1,2])"), "clientOrderId", why_));
}

TEST_F(Payloads, AFuturesTradeUpdateIsReadFromItsOrderWithTheEnvelopesTime) {
  auto e =
      parse(R"({"e":"ORDER_TRADE_UPDATE","T":1723161254100,"E":1723161254101,"o":{"s":"ETHUSDT","c":"tr-3",)"
            R"("x":"TRADE","X":"FILLED","i":5001,"l":"0.300","z":"0.500","L":"2601.00","N":"USDT",)"
            R"("n":"0.156","t":3002,"m":false}})");
  simdjson::dom::element o;
  ASSERT_EQ(e["o"].get(o), simdjson::SUCCESS);
  auto u = read_order_update(o, e, why_);
  ASSERT_TRUE(u) << why_;
  EXPECT_EQ(u->type, ExecType::Trade);
  EXPECT_EQ(u->symbol, "ETHUSDT");
  ASSERT_TRUE(u->facts.trade);
  EXPECT_EQ(u->facts.trade->trade_id, 3002);
  EXPECT_EQ(u->facts.trade->price, Price::parse("2601").value());
  EXPECT_EQ(u->facts.venue_ns, 1723161254100 * kNanosPerMilli);
}

TEST_F(Payloads, ASpotCancelNamesTheCanceledOrderInCapitalC) {
  auto e = parse(R"({"e":"executionReport","s":"ETHUSDT","c":"x-cancel","C":"tr-2","x":"CANCELED",)"
                 R"("X":"CANCELED","i":31,"z":"0.5000","E":1723161255001})");
  auto u = read_order_update(e, e, why_);
  ASSERT_TRUE(u) << why_;
  EXPECT_EQ(u->facts.client_order_id, "tr-2");
  EXPECT_EQ(u->type, ExecType::Canceled);
}

TEST_F(Payloads, AnUpdateWithoutItsFieldsOrWithANegativeExecutedIsRefused) {
  EXPECT_FALSE(read_order_update(parse(R"({"s":"ETHUSDT","x":"NEW"})"), parse("{}"), why_));
  EXPECT_NE(why_.find("without s, x or c"), std::string::npos) << why_;
  auto e = parse(R"({"s":"ETHUSDT","c":"tr-1","x":"TRADE","X":"FILLED","z":"1","l":"1","L":"2600"})");
  EXPECT_FALSE(read_order_update(e, e, why_)) << "a trade without its id";
  auto negative = parse(R"({"s":"ETHUSDT","c":"tr-1","x":"NEW","X":"NEW","z":"-0.5"})");
  EXPECT_FALSE(read_order_update(negative, negative, why_));
  EXPECT_NE(why_.find("without z"), std::string::npos) << why_;
  EXPECT_FALSE(read_order_update(parse("7"), parse("7"), why_));
}

}  // namespace
}  // namespace tranche::gateway::binance
