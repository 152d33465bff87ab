#include "core/fixed_point.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <type_traits>

namespace tranche {
namespace {

Price price(std::string_view text) {
  Price value;
  EXPECT_TRUE(Price::parse(text, value)) << "'" << text << "' should parse";
  return value;
}

Qty qty(std::string_view text) {
  Qty value;
  EXPECT_TRUE(Qty::parse(text, value)) << "'" << text << "' should parse";
  return value;
}

bool parses(std::string_view text) {
  Price value;
  return Price::parse(text, value);
}

// The seed of a property test: TRANCHE_TEST_SEED when set (to replay a failure), otherwise a fresh random
// one.
std::uint64_t test_seed() {
  if (const char* env = std::getenv("TRANCHE_TEST_SEED")) return std::strtoull(env, nullptr, 10);
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) | device();
}

static_assert(!std::is_convertible_v<Price, Qty>, "a price must not pass where a quantity goes");
static_assert(!std::is_convertible_v<Qty, Price>, "a quantity must not pass where a price goes");
static_assert(!std::is_convertible_v<Amount, Price>);
static_assert(!std::is_convertible_v<std::int64_t, Price>,
              "a raw integer must not become a price implicitly");
static_assert(Price::from_units(3).raw() == 3 * kFixedScale);

TEST(Price, ParsesBinanceStringsExactlyAndPrintsThemBackShortest) {
  const Price p = price("2683.80000000");
  EXPECT_EQ(p.raw(), 268'380'000'000);
  EXPECT_EQ(p.to_string(), "2683.8");
  EXPECT_EQ(price("0.01000000").to_string(), "0.01");
  EXPECT_EQ(price("100").to_string(), "100");
}

TEST(Qty, ParsesTheSmallestStepsToExactMantissas) {
  EXPECT_EQ(qty("0.00001").raw(), 1000);
  EXPECT_EQ(qty("0.00001").to_string(), "0.00001");
  EXPECT_EQ(qty("0.00000001").raw(), 1);
  EXPECT_EQ(qty(".5").raw(), 50'000'000);
  EXPECT_EQ(qty("5.").raw(), 5 * kFixedScale);
}

TEST(Price, AcceptsASignAndWholeNumbers) {
  EXPECT_EQ(price("-5").raw(), -5 * kFixedScale);
  EXPECT_EQ(price("-5").to_string(), "-5");
  EXPECT_EQ(price("+1.5").raw(), 150'000'000);
  EXPECT_EQ(price("+1.5").to_string(), "1.5");
  EXPECT_EQ(price("0").raw(), 0);
  EXPECT_TRUE(price("0").is_zero());
  EXPECT_EQ(price("-0").raw(), 0);
  EXPECT_EQ(price("-0.25").to_string(), "-0.25");
  EXPECT_EQ(price("000042.5").raw(), 4'250'000'000);
}

TEST(Price, RejectsTextThatIsNotAPlainDecimal) {
  for (const char* text :
       {"",      ".",    "-",   "+",   "-.",   "1e5", "1E5", "abc",   "1.2.3", " 1",  "1 ",
        "1,000", "0x10", "--1", "+-1", "1.-2", "nan", "inf", "1_000", "١",     "12a", "a12"}) {
    EXPECT_FALSE(parses(text)) << "'" << text << "' should be rejected";
  }
}

TEST(Price, RejectsANinthNonzeroDecimalInsteadOfRoundingIt) {
  EXPECT_FALSE(parses("1.123456789"));
  EXPECT_FALSE(parses("0.000000001"));
  EXPECT_FALSE(parses("1.1234567800001"));
  EXPECT_EQ(price("1.123456780").raw(), 112'345'678);
  EXPECT_EQ(price("1.12345678000000000").raw(), 112'345'678);
}

TEST(Price, RejectsValuesBeyondTheInt64Mantissa) {
  EXPECT_EQ(price("92233720368.54775807"), Price::max());
  EXPECT_EQ(price("-92233720368.54775807").raw(), -std::numeric_limits<std::int64_t>::max());
  EXPECT_FALSE(parses("92233720368.54775808"));
  EXPECT_FALSE(parses("92233720369"));
  EXPECT_FALSE(parses("99999999999"));
  EXPECT_FALSE(parses("100000000000"));
  EXPECT_FALSE(parses("18446744073709551616"));
  EXPECT_FALSE(parses("99999999999999999999999999"));
  // The one negative mantissa beyond -max is the unset sentinel, never a parsed value.
  EXPECT_FALSE(parses("-92233720368.54775808"));
  EXPECT_EQ(price("0000000000000000000092233720368").raw(), 92233720368 * kFixedScale);
}

TEST(Price, ResultFormOfParseNamesTheRejectedText) {
  const auto bad = Price::parse("1e5");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'1e5'"), std::string::npos) << bad.error().message;
  const auto good = Qty::parse("0.5");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->raw(), 50'000'000);
}

TEST(Price, ToStringRoundTripsExactlyForRandomMantissas) {
  const std::uint64_t seed = test_seed();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (replay with TRANCHE_TEST_SEED=" + std::to_string(seed) +
               ")");
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> any(-std::numeric_limits<std::int64_t>::max(),
                                                  std::numeric_limits<std::int64_t>::max());
  std::uniform_int_distribution<int> zeros(0, 18);
  int failures = 0;
  for (int i = 0; i < 200'000 && failures < 10; ++i) {
    std::int64_t raw = any(rng);
    // Every third value gets trailing zeros so short decimals and whole numbers are exercised as well.
    if (i % 3 == 1) {
      std::int64_t pow = 1;
      for (int z = zeros(rng); z > 0; --z) pow *= 10;
      raw = raw / pow * pow;
    } else if (i % 3 == 2) {
      raw %= 1'000'000;
    }
    const Price x = Price::from_raw(raw);
    const std::string text = x.to_string();
    Price back;
    const bool ok = Price::parse(text, back);
    if (!ok || back != x) {
      ++failures;
      ADD_FAILURE() << "raw " << raw << " printed as '" << text << "' parsed "
                    << (ok ? "to a different value" : "not");
    }
    if (x.to_string(x.decimals()) != text) {
      ++failures;
      ADD_FAILURE() << "raw " << raw << ": to_string(decimals()) differs from to_string()";
    }
    if (!Price::parse(x.to_string(8), back) || back != x) {
      ++failures;
      ADD_FAILURE() << "raw " << raw << ": to_string(8) '" << x.to_string(8) << "' does not round-trip";
    }
  }
}

TEST(Price, ToStringWithDecimalsPrintsExactlyThatManyPlaces) {
  const Price p = price("2683.8");
  EXPECT_EQ(p.to_string(2), "2683.80");
  EXPECT_EQ(p.to_string(1), "2683.8");
  EXPECT_EQ(p.to_string(0), "2683");
  EXPECT_EQ(p.to_string(8), "2683.80000000");
  EXPECT_EQ(price("-0.5").to_string(3), "-0.500");
  EXPECT_EQ(price("0").to_string(2), "0.00");
  // Out-of-range requests are clamped to 0..8.
  EXPECT_EQ(p.to_string(12), "2683.80000000");
  EXPECT_EQ(p.to_string(-1), "2683");
}

TEST(Price, PrintsTheExtremesAndTheUnsetSentinel) {
  EXPECT_EQ(Price::max().to_string(), "92233720368.54775807");
  EXPECT_EQ((-Price::max()).to_string(), "-92233720368.54775807");
  EXPECT_EQ(Price::unset().to_string(), "unset");
  EXPECT_FALSE(Price::unset().is_set());
  EXPECT_TRUE(Price().is_set());
  EXPECT_EQ(Price(), Price::from_raw(0));
}

TEST(Price, DecimalsCountsThePlacesNeededToPrintExactly) {
  EXPECT_EQ(price("2683.8").decimals(), 1);
  EXPECT_EQ(price("0.0001").decimals(), 4);
  EXPECT_EQ(price("0.00000001").decimals(), 8);
  EXPECT_EQ(price("5").decimals(), 0);
  EXPECT_EQ(price("0").decimals(), 0);
  EXPECT_EQ(price("-0.25").decimals(), 2);
  EXPECT_EQ(price("100.10").decimals(), 1);
}

TEST(Price, ComparesAndDoesArithmeticOnTheMantissa) {
  EXPECT_LT(price("0.1"), price("0.2"));
  EXPECT_GT(price("-0.1"), price("-0.2"));
  EXPECT_EQ(price("0.1") + price("0.2"), price("0.3"));
  EXPECT_EQ(price("0.3") - price("0.1"), price("0.2"));
  EXPECT_EQ(-price("1.5"), price("-1.5"));
  Qty q = qty("1");
  q += qty("0.5");
  q -= qty("0.25");
  EXPECT_EQ(q, qty("1.25"));
  EXPECT_TRUE(q.is_positive());
  EXPECT_TRUE((-q).is_negative());
  EXPECT_DOUBLE_EQ(q.to_double(), 1.25);
}

TEST(Qty, CheckedAddAndSubReportOverflowInsteadOfWrapping) {
  Qty out;
  EXPECT_TRUE(Qty::checked_add(qty("1.5"), qty("2.25"), out));
  EXPECT_EQ(out, qty("3.75"));
  EXPECT_TRUE(Qty::checked_add(Qty::max(), Qty(), out));
  EXPECT_EQ(out, Qty::max());
  EXPECT_FALSE(Qty::checked_add(Qty::max(), Qty::from_raw(1), out));
  EXPECT_FALSE(Qty::checked_add(Qty::max(), Qty::max(), out));

  EXPECT_TRUE(Qty::checked_sub(qty("1"), qty("3"), out));
  EXPECT_EQ(out, qty("-2"));
  EXPECT_TRUE(Qty::checked_sub(-Qty::max(), Qty(), out));
  EXPECT_FALSE(Qty::checked_sub(-Qty::max(), Qty::max(), out));
  EXPECT_FALSE(Qty::checked_sub(Qty::max(), -Qty::max(), out));
}

TEST(Qty, CheckedArithmeticNeverProducesTheUnsetSentinel) {
  // -max - 1 fits in int64 but is the sentinel, so it would silently read as "never set".
  Qty out;
  EXPECT_FALSE(Qty::checked_sub(-Qty::max(), Qty::from_raw(1), out));
  EXPECT_FALSE(Qty::checked_add(-Qty::max(), Qty::from_raw(-1), out));
}

TEST(Notional, IsExactForTheLargestPricesAndQuantities) {
  const Notional n = Notional::of(Price::from_units(92233720368), Qty::from_units(92233720368));
  EXPECT_EQ(n.to_string(), "8507059172922418055424");
  EXPECT_GT(n.raw(), 0);
  const Notional extreme = Notional::of(Price::max(), Qty::max());
  EXPECT_EQ(extreme.to_string(), "8507059173023461584739.6907784232501249");
  EXPECT_EQ(Notional::of(-Price::max(), Qty::max()).to_string(), "-8507059173023461584739.6907784232501249");
}

TEST(Notional, PrintsProductsExactlyAndShortest) {
  EXPECT_EQ(Notional::of(price("2683.8"), qty("0.0001")).to_string(), "0.26838");
  EXPECT_EQ(Notional::of(price("0.00000001"), qty("0.00000001")).to_string(), "0.0000000000000001");
  EXPECT_EQ(Notional::of(price("-5"), qty("0.5")).to_string(), "-2.5");
  EXPECT_EQ(Notional::of(price("2683.8"), qty("0")).to_string(), "0");
  EXPECT_EQ(Notional().to_string(), "0");
  EXPECT_EQ(Notional::from_price(price("12.5")).to_string(), "12.5");
  EXPECT_EQ(Notional::from_price(price("12.5")), Notional::of(price("12.5"), qty("1")));
  Notional sum = Notional::of(price("100"), qty("1"));
  sum += Notional::of(price("101"), qty("2"));
  EXPECT_EQ(sum.to_string(), "302");
  EXPECT_EQ((sum - Notional::of(price("2"), qty("1"))).to_string(), "300");
  EXPECT_DOUBLE_EQ(sum.to_double(), 302.0);
}

TEST(Notional, AveragePriceRoundsToTheNearestStepHalfAwayFromZero) {
  const Notional bought = Notional::of(price("100"), qty("1")) + Notional::of(price("101"), qty("2"));
  EXPECT_EQ(bought.average_price(qty("3")), price("100.66666667"));
  EXPECT_EQ(Notional::of(price("100"), qty("2")).average_price(qty("3")), price("66.66666667"));
  EXPECT_EQ(Notional::of(price("100"), qty("1")).average_price(qty("3")), price("33.33333333"));
  // Negative notional (or quantity) rounds symmetrically.
  EXPECT_EQ((Notional() - bought).average_price(qty("3")), price("-100.66666667"));
  EXPECT_EQ(bought.average_price(qty("-3")), price("-100.66666667"));
  EXPECT_EQ(Notional::of(price("-100"), qty("1")).average_price(qty("3")), price("-33.33333333"));
  // Exactly half a step rounds away from zero.
  EXPECT_EQ(Notional::from_raw(1).average_price(Qty::from_raw(2)), Price::from_raw(1));
  EXPECT_EQ(Notional::from_raw(-1).average_price(Qty::from_raw(2)), Price::from_raw(-1));
  EXPECT_EQ(Notional::from_raw(1).average_price(Qty::from_raw(3)), Price::from_raw(0));
  // An exact average is returned exactly.
  EXPECT_EQ(Notional::of(price("2683.8"), qty("7.5")).average_price(qty("7.5")), price("2683.8"));
}

TEST(Notional, AveragePriceOverZeroQuantityIsUnset) {
  EXPECT_FALSE(Notional::of(price("100"), qty("1")).average_price(Qty()).is_set());
}

}  // namespace
}  // namespace tranche
