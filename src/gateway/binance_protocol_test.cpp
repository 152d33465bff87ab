#include "gateway/binance_protocol.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gateway/api_key.hpp"

namespace tranche::gateway::binance {
namespace {

TEST(BinanceSigning, MatchesBinancesDocumentedVector) {
  // From Binance's "SIGNED endpoint examples" (../shared/notes/INTEGRATION.md).
  const std::string secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
  const std::string payload =
      "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp="
      "1499827319559";
  EXPECT_EQ(hmac_sha256_hex(secret, payload),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
}

TEST(BinanceSigning, TheKeyedSignerSignsAsTheOneShotDoesRequestAfterRequest) {
  const std::string secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
  Signer signer(secret);
  for (const std::string payload : {"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&"
                                    "recvWindow=5000&timestamp=1499827319559",
                                    "", "timestamp=1"}) {
    std::string out = "signature=";
    ASSERT_TRUE(signer.sign(payload, out));
    EXPECT_EQ(out, "signature=" + hmac_sha256_hex(secret, payload));
  }
}

TEST(BinanceSigning, TheQueryStringWeBuildIsTheOneTheVectorSigns) {
  const Params params = {
      {"symbol", "LTCBTC"}, {"side", "BUY"},  {"type", "LIMIT"},      {"timeInForce", "GTC"},
      {"quantity", "1"},    {"price", "0.1"}, {"recvWindow", "5000"}, {"timestamp", "1499827319559"}};
  EXPECT_EQ(
      query_string(params),
      "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp="
      "1499827319559");
}

TEST(BinanceSigning, WebSocketApiSignsTheParametersSortedByNameWithoutTheSignature) {
  const Params params = {
      {"symbol", "BTCUSDT"}, {"apiKey", "k"}, {"timestamp", "1"}, {"signature", "x"}, {"price", "52000.00"}};
  EXPECT_EQ(ws_api_payload(params), "apiKey=k&price=52000.00&symbol=BTCUSDT&timestamp=1");
}

TEST(BinanceQuery, EncodesReservedCharactersAndDecodesThemBack) {
  EXPECT_EQ(url_encode("a b/c:d"), "a%20b%2Fc%3Ad");
  const auto parsed = parse_query("newClientOrderId=tr-1%3A2&x=a+b");
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].second, "tr-1:2");
  EXPECT_EQ((*parsed)[1].second, "a b");
}

TEST(BinanceQuery, RefusesATruncatedPercentEscapeAndAPairWithoutAName) {
  EXPECT_FALSE(parse_query("a=%4"));
  EXPECT_FALSE(parse_query("a=%zz"));
  EXPECT_FALSE(parse_query("=1"));
  EXPECT_FALSE(parse_query("novalue"));
  EXPECT_TRUE(parse_query(""));
}

TEST(BinanceNames, OrderKindsRoundTrip) {
  for (const TimeInForce tif : {TimeInForce::GoodTillCancel, TimeInForce::ImmediateOrCancel,
                                TimeInForce::FillOrKill, TimeInForce::PostOnly}) {
    const auto kind =
        parse_order_kind(order_type_name(OrderType::Limit, tif), time_in_force_name(OrderType::Limit, tif));
    ASSERT_TRUE(kind);
    EXPECT_EQ(kind->tif, tif);
  }
  EXPECT_EQ(order_type_name(OrderType::Market, TimeInForce::ImmediateOrCancel), "MARKET");
  EXPECT_EQ(time_in_force_name(OrderType::Market, TimeInForce::ImmediateOrCancel), "");
  EXPECT_FALSE(parse_order_kind("STOP_LOSS", ""));
  EXPECT_FALSE(parse_order_kind("LIMIT", "GTX"));
  EXPECT_EQ(parse_order_status("EXPIRED_IN_MATCH"), OrderStatus::Expired);
  EXPECT_FALSE(parse_order_status("new"));
}

TEST(BinanceNames, FuturesPostOnlyIsGtxAndTheirKindsRoundTrip) {
  EXPECT_EQ(futures_time_in_force_name(OrderType::Limit, TimeInForce::PostOnly), "GTX");
  EXPECT_EQ(futures_order_type_name(OrderType::Limit), "LIMIT");
  EXPECT_EQ(futures_time_in_force_name(OrderType::Market, TimeInForce::ImmediateOrCancel), "");
  for (const TimeInForce tif : {TimeInForce::GoodTillCancel, TimeInForce::ImmediateOrCancel,
                                TimeInForce::FillOrKill, TimeInForce::PostOnly}) {
    const auto kind = parse_futures_order_kind(futures_order_type_name(OrderType::Limit),
                                               futures_time_in_force_name(OrderType::Limit, tif));
    ASSERT_TRUE(kind);
    EXPECT_EQ(kind->tif, tif);
  }
  EXPECT_FALSE(parse_futures_order_kind("LIMIT_MAKER", "")) << "spot's post-only is not a futures type";
  EXPECT_EQ(parse_execution_type("AMENDMENT"), ExecType::Replaced);
}

TEST(BinanceErrors, FuturesCodesMapByTheirOwnMeaning) {
  EXPECT_EQ(
      futures_reject_reason(kFuturesPostOnlyRejected, "Due to the order could not be executed as maker"),
      RejectReason::PostOnlyWouldCross);
  EXPECT_EQ(futures_reject_reason(kFuturesMarginInsufficient, "Margin is insufficient."),
            RejectReason::InsufficientBalance);
  EXPECT_EQ(futures_reject_reason(kFuturesMinNotional, ""), RejectReason::BelowMinNotional);
  EXPECT_EQ(futures_reject_reason(kFuturesPriceOffTick, ""), RejectReason::PriceOffTick);
  EXPECT_EQ(futures_reject_reason(kFuturesQtyOffStep, ""), RejectReason::QtyOffLot);
  // -2022 is a refused reduce-only order on futures, not spot's failed cancel-replace.
  EXPECT_EQ(futures_reject_reason(kFuturesReduceOnlyRejected, "ReduceOnly Order is rejected."),
            RejectReason::InvalidOrder);
  EXPECT_EQ(futures_reject_reason(kNoSuchOrder, "Order does not exist."), RejectReason::UnknownOrder);
  EXPECT_EQ(futures_reject_reason(-4116, "ClientOrderId is duplicated."), RejectReason::InvalidOrder);
  EXPECT_EQ(futures_reject_reason(-4003, "Quantity less than or equal to zero."), RejectReason::InvalidOrder);
}

TEST(BinanceErrors, MapToTheRejectReasonsTheOmsActsOn) {
  EXPECT_EQ(reject_reason(kNewOrderRejected, "Order would immediately match and take."),
            RejectReason::PostOnlyWouldCross);
  EXPECT_EQ(reject_reason(kNewOrderRejected, "Account has insufficient balance for requested action."),
            RejectReason::InsufficientBalance);
  EXPECT_EQ(reject_reason(kFilterFailure, "Filter failure: PRICE_FILTER"), RejectReason::PriceOffTick);
  EXPECT_EQ(reject_reason(kFilterFailure, "Filter failure: LOT_SIZE"), RejectReason::QtyOffLot);
  EXPECT_EQ(reject_reason(kFilterFailure, "Filter failure: NOTIONAL"), RejectReason::BelowMinNotional);
  EXPECT_EQ(reject_reason(kNoSuchOrder, "Order does not exist."), RejectReason::UnknownOrder);
  EXPECT_EQ(reject_reason(kTooManyRequests, ""), RejectReason::RateLimited);
  EXPECT_TRUE(outcome_unknown(kTimeout, 408));
  EXPECT_TRUE(outcome_unknown(0, 503));
  EXPECT_FALSE(outcome_unknown(kNoSuchOrder, 400));
}

TEST(BinanceClientOrderIds, CarryTheChildAndTheReplaceCount) {
  EXPECT_EQ(client_order_id("tr", ClientOrderId(17)), "tr-17");
  EXPECT_EQ(client_order_id("tr", ClientOrderId(17), 2), "tr-17-r2");
  const auto parsed = parse_client_order_id("tr", "tr-17-r2");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->child, ClientOrderId(17));
  EXPECT_EQ(parsed->replace_count, 2);
  EXPECT_FALSE(parse_client_order_id("tr", "web_abc"));
  EXPECT_FALSE(parse_client_order_id("tr", "tr-17-x"));
  EXPECT_FALSE(parse_client_order_id("tr", "tr-"));
  EXPECT_FALSE(client_order_id(std::string(40, 'a'), ClientOrderId(1)));
  EXPECT_FALSE(valid_client_order_id("has space"));
}

class KeyFile : public ::testing::Test {
 protected:
  void write(const std::string& text, mode_t mode) {
    path_ = (std::filesystem::temp_directory_path() / ("tranche-key-" + std::to_string(::getpid()))).string();
    std::ofstream(path_) << text;
    ::chmod(path_.c_str(), mode);
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_;
};

TEST_F(KeyFile, OwnerOnlyFileIsRead) {
  write("api_key = \"abcd1234\"\napi_secret = \"s3cr3t\"\n", 0600);
  const auto key = load_api_key_file(path_);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->key, "abcd1234");
  EXPECT_EQ(key->secret, "s3cr3t");
  EXPECT_EQ(key->key_hint().find("s3cr3t"), std::string::npos);
}

TEST_F(KeyFile, AFileOthersMayReadIsRefusedWithoutQuotingIt) {
  write("api_key = \"abcd1234\"\napi_secret = \"s3cr3t\"\n", 0644);
  const auto key = load_api_key_file(path_);
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message.find("chmod 600"), std::string::npos);
  EXPECT_EQ(key.error().message.find("s3cr3t"), std::string::npos);
}

TEST_F(KeyFile, AFileWithoutASecretIsRefused) {
  write("api_key = \"abcd1234\"\n", 0600);
  EXPECT_FALSE(load_api_key_file(path_));
  write("api_key = \"abcd1234\"\napi_secret = \"s3cr3t", 0600);
  const auto broken = load_api_key_file(path_);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().message.find("s3cr3t"), std::string::npos);
}

TEST(KeyEnvironment, BothVariablesAreNeeded) {
  ::setenv("TRANCHE_TEST_KEY", "k", 1);
  ::unsetenv("TRANCHE_TEST_SECRET");
  EXPECT_FALSE(api_key_from_env("TRANCHE_TEST_KEY", "TRANCHE_TEST_SECRET"));
  ::setenv("TRANCHE_TEST_SECRET", "s", 1);
  const auto key = api_key_from_env("TRANCHE_TEST_KEY", "TRANCHE_TEST_SECRET");
  ASSERT_TRUE(key);
  EXPECT_EQ(key->secret, "s");
}

TEST(BinanceNames, AStreamSpellsTheSymbolInLowerCase) {
  EXPECT_EQ(stream_symbol("ETHUSDT"), "ethusdt");
  EXPECT_EQ(stream_symbol("ETHUSD_PERP"), "ethusd_perp");
}

}  // namespace
}  // namespace tranche::gateway::binance
