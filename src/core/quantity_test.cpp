#include "core/quantity.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace tranche {
namespace {

Qty qty(const char* text) {
  return Qty::parse(text).value();
}
Price price(const char* text) {
  return Price::parse(text).value();
}

VenueListing spot() {
  VenueListing l;
  l.lot_size = qty("0.0001");
  l.min_notional = Amount::parse("5").value();
  return l;
}

VenueListing inverse() {
  VenueListing l;
  l.lot_size = qty("1");
  l.inverse = true;
  l.contract_size = Amount::parse("10").value();
  return l;
}

TEST(QtyFromReal, RoundsDownToWholeLotsForgivingTheDoubleArithmeticsError) {
  EXPECT_EQ(qty_from_real(0.1 + 0.2, qty("0.1"), Rounding::Down), qty("0.3"));
  EXPECT_EQ(qty_from_real(0.35, qty("0.1"), Rounding::Down), qty("0.3"));
  EXPECT_EQ(qty_from_real(1.23456789, qty("0.001"), Rounding::Down), qty("1.234"));
  EXPECT_EQ(qty_from_real(-0.35, qty("0.1"), Rounding::Down), qty("-0.4"));
}

TEST(QtyFromReal, RoundsUpAndToTheNearestStepWhenAsked) {
  EXPECT_EQ(qty_from_real(0.31, qty("0.1"), Rounding::Up), qty("0.4"));
  EXPECT_EQ(qty_from_real(0.1 + 0.2, qty("0.1"), Rounding::Up), qty("0.3"));
  EXPECT_EQ(qty_from_real(0.123456785, kQtyStep, Rounding::Nearest), qty("0.12345679"));
  EXPECT_EQ(qty_from_real(619.55 * 0.3, kQtyStep, Rounding::Nearest), qty("185.865"));
}

TEST(QtyFromReal, ClampsWhatNoQtyHoldsAndReadsNotANumberAsZero) {
  EXPECT_EQ(qty_from_real(1e30, kQtyStep, Rounding::Nearest).raw(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(qty_from_real(-1e30, kQtyStep, Rounding::Nearest).raw(),
            -std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(qty_from_real(std::nan(""), kQtyStep, Rounding::Nearest), Qty{});
}

TEST(UnitsFromBase, IsTheBaseInWholeLotsOnASpotListing) {
  EXPECT_EQ(units_from_base(spot(), qty("1.23456789"), price("2600")), qty("1.2345"));
  EXPECT_EQ(units_from_base(spot(), qty("1.23456789"), price("2600"), Rounding::Up), qty("1.2346"));
  EXPECT_EQ(base_from_units(spot(), qty("1.2345"), price("2600")), qty("1.2345"));
}

TEST(UnitsFromBase, IsWholeContractsOnAnInverseListing) {
  // 1 ETH at 2,615 USD is 261.5 contracts of 10 USD.
  EXPECT_EQ(units_from_base(inverse(), qty("1"), price("2615")), qty("261"));
  EXPECT_EQ(units_from_base(inverse(), qty("1"), price("2615"), Rounding::Nearest), qty("262"));
  EXPECT_EQ(units_from_base(inverse(), qty("1"), price("2615"), Rounding::Up), qty("262"));
  EXPECT_EQ(units_from_base(inverse(), qty("1"), price("2610")), qty("261"));
  EXPECT_EQ(units_from_base(inverse(), qty("1"), Price{}), Qty{});
}

TEST(BaseFromUnits, IsWhatContractsAreWorthAtAPriceOnAnInverseListing) {
  // 261 contracts of 10 USD at 2,610 are 1 ETH; at 3,000 they are 0.87.
  EXPECT_EQ(base_from_units(inverse(), qty("261"), price("2610")), qty("1"));
  EXPECT_EQ(base_from_units(inverse(), qty("261"), price("3000")), qty("0.87"));
  // 1 contract at 3,000: 0.0033333333.. rounded as asked.
  EXPECT_EQ(base_from_units(inverse(), qty("1"), price("3000")), qty("0.00333333"));
  EXPECT_EQ(base_from_units(inverse(), qty("1"), price("3000"), Rounding::Up), qty("0.00333334"));
}

TEST(SmallestSendable, IsTheWholeLotsReachingTheMinimumNotional) {
  // 5 USDT at 2,600 is 0.00192307.. ETH: 20 lots of 0.0001.
  EXPECT_EQ(smallest_sendable(spot(), price("2600")), qty("0.002"));
  // Exactly the minimum at 2,500: 20 lots, not 21.
  EXPECT_EQ(smallest_sendable(spot(), price("2500")), qty("0.002"));
  VenueListing no_minimum = spot();
  no_minimum.min_notional = Amount{};
  EXPECT_EQ(smallest_sendable(no_minimum, price("2600")), qty("0.0001"));
  VenueListing no_lot = spot();
  no_lot.lot_size = Qty{};
  EXPECT_EQ(smallest_sendable(no_lot, price("3000")), qty("0.00166667"));
}

TEST(SmallestSendable, IsOneContractsWorthOnAnInverseListing) {
  EXPECT_EQ(smallest_sendable(inverse(), price("2500")), qty("0.004"));
  EXPECT_EQ(smallest_sendable(inverse(), price("3000")), qty("0.00333334"));
  EXPECT_EQ(smallest_sendable(inverse(), Price{}), Qty{});
}

}  // namespace
}  // namespace tranche
