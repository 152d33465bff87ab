// Ids, sides and the order vocabulary's names.
#include "core/ids.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "core/order.hpp"
#include "core/side.hpp"

namespace tranche {
namespace {

// Every kind of id is its own type: none converts to another, and none is made implicitly from its raw value.
static_assert(!std::is_same_v<ClientOrderId, VenueOrderId>);
static_assert(!std::is_convertible_v<ClientOrderId, VenueOrderId>);
static_assert(!std::is_convertible_v<VenueOrderId, ClientOrderId>);
static_assert(!std::is_constructible_v<VenueOrderId, ClientOrderId>);
static_assert(!std::is_same_v<ClientOrderId, ParentId>);
static_assert(!std::is_convertible_v<ClientOrderId, ParentId>);
static_assert(!std::is_convertible_v<ParentId, ClientOrderId>);
static_assert(!std::is_same_v<VenueOrderId, ExecId>);
static_assert(!std::is_convertible_v<ExecId, VenueOrderId>);
static_assert(!std::is_same_v<VenueId, InstrumentId>);
static_assert(!std::is_convertible_v<VenueId, InstrumentId>);
static_assert(!std::is_convertible_v<InstrumentId, AccountId>);
static_assert(!std::is_convertible_v<std::uint64_t, ClientOrderId>);
static_assert(!std::is_convertible_v<std::string_view, VenueOrderId>);
static_assert(!std::is_convertible_v<const char*, VenueId>);

TEST(ClientOrderId, WrapsItsNumberAndComparesByIt) {
  const ClientOrderId a(7), b(9);
  EXPECT_EQ(a.value(), 7u);
  EXPECT_LT(a, b);
  EXPECT_EQ(a, ClientOrderId(7));
  EXPECT_EQ(ClientOrderId().value(), 0u);
}

TEST(FixedString, KeepsTextThatFitsAndTruncatesTextThatDoesNot) {
  using S = FixedString<4>;
  EXPECT_EQ(S::capacity(), 4u);
  EXPECT_TRUE(S::fits(""));
  EXPECT_TRUE(S::fits("abcd"));
  EXPECT_FALSE(S::fits("abcde"));

  const S whole("abcd");
  EXPECT_EQ(whole.view(), "abcd");
  EXPECT_EQ(whole.size(), 4u);

  const S cut("abcdef");
  EXPECT_EQ(cut.view(), "abcd");
  EXPECT_EQ(cut.str(), "abcd");
  EXPECT_EQ(cut, whole);

  EXPECT_TRUE(S().empty());
  EXPECT_EQ(S().view(), "");
  EXPECT_LT(S("ab"), S("abc"));
  EXPECT_LT(S("abc"), S("abd"));
}

TEST(StringId, FitsUpToItsCapacityAndTruncatesBeyond) {
  const std::string thirty_one(31, 'v');
  EXPECT_TRUE(VenueId::fits(thirty_one));
  EXPECT_FALSE(VenueId::fits(thirty_one + "w"));
  EXPECT_EQ(VenueId(thirty_one + "w").view(), thirty_one);
  EXPECT_TRUE(VenueOrderId::fits(std::string(48, '1')));
  EXPECT_FALSE(VenueOrderId::fits(std::string(49, '1')));

  const VenueId venue("binance-spot");
  EXPECT_EQ(venue.view(), "binance-spot");
  EXPECT_EQ(venue.str(), "binance-spot");
  EXPECT_FALSE(venue.empty());
  EXPECT_TRUE(VenueId().empty());
  EXPECT_EQ(venue, VenueId("binance-spot"));
  EXPECT_NE(venue, VenueId("binance-usdm"));
  EXPECT_LT(VenueId("binance-spot"), VenueId("binance-usdm"));
}

TEST(Ids, HashByTheirValueSoTheyKeyUnorderedContainers) {
  EXPECT_EQ(std::hash<VenueId>{}(VenueId("binance-spot")), std::hash<std::string_view>{}("binance-spot"));
  EXPECT_EQ(std::hash<ClientOrderId>{}(ClientOrderId(42)), std::hash<std::uint64_t>{}(42));

  std::unordered_set<ClientOrderId> clients{ClientOrderId(1), ClientOrderId(2), ClientOrderId(1)};
  EXPECT_EQ(clients.size(), 2u);
  EXPECT_TRUE(clients.count(ClientOrderId(2)));
  EXPECT_FALSE(clients.count(ClientOrderId(3)));

  std::unordered_map<VenueOrderId, int> venue_orders;
  venue_orders[VenueOrderId("8389765599")] = 1;
  venue_orders[VenueOrderId("8389765600")] = 2;
  venue_orders[VenueOrderId("8389765599")] = 3;
  EXPECT_EQ(venue_orders.size(), 2u);
  EXPECT_EQ(venue_orders.at(VenueOrderId("8389765599")), 3);
}

static_assert(opposite(Side::Buy) == Side::Sell);
static_assert(opposite(Side::Sell) == Side::Buy);
static_assert(sign(Side::Buy) == 1 && sign(Side::Sell) == -1);

TEST(Side, OppositeSignAndNameAgree) {
  for (Side side : {Side::Buy, Side::Sell}) {
    EXPECT_EQ(opposite(opposite(side)), side);
    EXPECT_EQ(sign(opposite(side)), -sign(side));
    EXPECT_EQ(parse_side(to_string(side)), side);
  }
  EXPECT_EQ(to_string(Side::Buy), "buy");
  EXPECT_EQ(to_string(Side::Sell), "sell");
}

TEST(Side, ParsesTheSpellingsVenuesAndRecordingsUse) {
  for (const char* text : {"buy", "BUY", "b", "B", "bid"}) EXPECT_EQ(parse_side(text), Side::Buy) << text;
  for (const char* text : {"sell", "SELL", "s", "S", "ask", "a", "A"})
    EXPECT_EQ(parse_side(text), Side::Sell) << text;
  for (const char* text : {"", "Buy", "long", "short", "x", "buy "})
    EXPECT_EQ(parse_side(text), std::nullopt) << "'" << text << "'";
}

// Every value of an enum has its own name, and none is the "?" of an unknown value.
template <class Enum>
void expect_distinct_names(std::initializer_list<std::pair<Enum, std::string_view>> expected) {
  std::set<std::string_view> seen;
  for (const auto& [value, name] : expected) {
    EXPECT_EQ(to_string(value), name);
    EXPECT_TRUE(seen.insert(to_string(value)).second) << "duplicate name " << name;
  }
}

TEST(OrderEnums, EveryValueHasItsOwnSnakeCaseName) {
  expect_distinct_names<OrderType>({{OrderType::Limit, "limit"}, {OrderType::Market, "market"}});
  expect_distinct_names<TimeInForce>({{TimeInForce::GoodTillCancel, "gtc"},
                                      {TimeInForce::ImmediateOrCancel, "ioc"},
                                      {TimeInForce::FillOrKill, "fok"},
                                      {TimeInForce::PostOnly, "post_only"}});
  expect_distinct_names<OrderStatus>({{OrderStatus::PendingNew, "pending_new"},
                                      {OrderStatus::New, "new"},
                                      {OrderStatus::PartiallyFilled, "partially_filled"},
                                      {OrderStatus::Filled, "filled"},
                                      {OrderStatus::PendingCancel, "pending_cancel"},
                                      {OrderStatus::Canceled, "canceled"},
                                      {OrderStatus::PendingReplace, "pending_replace"},
                                      {OrderStatus::Replaced, "replaced"},
                                      {OrderStatus::Rejected, "rejected"},
                                      {OrderStatus::Expired, "expired"}});
  expect_distinct_names<ExecType>({{ExecType::New, "new"},
                                   {ExecType::Trade, "trade"},
                                   {ExecType::Canceled, "canceled"},
                                   {ExecType::Replaced, "replaced"},
                                   {ExecType::Rejected, "rejected"},
                                   {ExecType::Expired, "expired"},
                                   {ExecType::PendingCancel, "pending_cancel"},
                                   {ExecType::PendingReplace, "pending_replace"},
                                   {ExecType::CancelRejected, "cancel_rejected"},
                                   {ExecType::ReplaceRejected, "replace_rejected"},
                                   {ExecType::OrderStatus, "order_status"}});
  expect_distinct_names<Liquidity>(
      {{Liquidity::None, "none"}, {Liquidity::Maker, "maker"}, {Liquidity::Taker, "taker"}});
  expect_distinct_names<RejectReason>({{RejectReason::None, "none"},
                                       {RejectReason::PostOnlyWouldCross, "post_only_would_cross"},
                                       {RejectReason::PriceOffTick, "price_off_tick"},
                                       {RejectReason::QtyOffLot, "qty_off_lot"},
                                       {RejectReason::BelowMinNotional, "below_min_notional"},
                                       {RejectReason::RateLimited, "rate_limited"},
                                       {RejectReason::InsufficientBalance, "insufficient_balance"},
                                       {RejectReason::UnknownOrder, "unknown_order"},
                                       {RejectReason::VenueClosed, "venue_closed"},
                                       {RejectReason::InvalidOrder, "invalid_order"},
                                       {RejectReason::RiskDenied, "risk_denied"},
                                       {RejectReason::Other, "other"}});
}

TEST(OrderEnums, AValueOutsideTheEnumPrintsAsAQuestionMark) {
  EXPECT_EQ(to_string(static_cast<OrderType>(200)), "?");
  EXPECT_EQ(to_string(static_cast<TimeInForce>(200)), "?");
  EXPECT_EQ(to_string(static_cast<OrderStatus>(200)), "?");
  EXPECT_EQ(to_string(static_cast<ExecType>(200)), "?");
  EXPECT_EQ(to_string(static_cast<Liquidity>(200)), "?");
  EXPECT_EQ(to_string(static_cast<RejectReason>(200)), "?");
}

TEST(NewOrder, DefaultsToAnUnsetPriceAndAZeroQuantity) {
  const NewOrder order;
  EXPECT_FALSE(order.price.is_set());
  EXPECT_TRUE(order.qty.is_zero());
  EXPECT_EQ(order.type, OrderType::Limit);
  EXPECT_EQ(order.time_in_force, TimeInForce::GoodTillCancel);
  const AmendOrder amend;
  EXPECT_FALSE(amend.new_price.is_set());
  EXPECT_FALSE(amend.new_qty.is_set());
}

}  // namespace
}  // namespace tranche
