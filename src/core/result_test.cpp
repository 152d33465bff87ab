// Result and Status: a value or an error, and reading the wrong one stops the process in every build type.
#include "core/result.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace tranche {
namespace {

Result<int> parsed(bool ok) {
  if (ok) {
    return 42;
  }
  return make_error("no digits in 'abc'");
}

struct Quote {
  int bid = 0;
};

TEST(Result, HoldsAValueOrAnError) {
  const Result<int> good = parsed(true);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good.value(), 42);
  EXPECT_EQ(*good, 42);
  const Result<int> bad = parsed(false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "no digits in 'abc'");
}

TEST(Result, MovesItsValueOut) {
  Result<std::string> text(std::string("ETH-USDT"));
  const std::string moved = std::move(text).value();
  EXPECT_EQ(moved, "ETH-USDT");
}

// These hold in Release too: the check is not an assert, so NDEBUG does not remove it.
TEST(ResultDeathTest, ValueOfAnErrorAbortsNamingTheError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const Result<int> bad = parsed(false);
  EXPECT_DEATH((void)bad.value(), "Result::value\\(\\) called on an error: no digits in 'abc'");
}

TEST(ResultDeathTest, EveryAccessorOfTheValueAbortsOnAnError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Result<Quote> bad = make_error("venue rejected the quote");
  EXPECT_DEATH((void)*bad, "called on an error: venue rejected the quote");
  EXPECT_DEATH((void)bad->bid, "called on an error: venue rejected the quote");
  EXPECT_DEATH((void)bad.value().bid, "called on an error: venue rejected the quote");
  EXPECT_DEATH((void)std::move(bad).value(), "called on an error: venue rejected the quote");
}

TEST(ResultDeathTest, ErrorOfAValueAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const Result<int> good = parsed(true);
  EXPECT_DEATH((void)good.error(), "Result::error\\(\\) called on a value");
}

TEST(Status, IsSuccessOrCarriesTheMessage) {
  EXPECT_TRUE(Status::success().ok());
  const Status failed = make_error("journal is locked");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.message(), "journal is locked");
}

}  // namespace
}  // namespace tranche
