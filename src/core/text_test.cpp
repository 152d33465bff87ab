#include "core/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tranche {
namespace {

TEST(Text, NumbersPrintFixedOrShortestAndReadBack) {
  Text t;
  t << "x " << 1.005 << " " << std::int64_t{-42} << ' ' << std::size_t{7};
  EXPECT_EQ(t.str(), "x 1.00 -42 7");  // 1.005 is 1.00499999... as a double
  Text shortest(-1);
  const double v = 0.1 + 0.2;
  shortest << v;
  EXPECT_EQ(std::stod(shortest.str()), v);
  Text four(4);
  four << 2.5;
  EXPECT_EQ(four.take(), "2.5000");
}

}  // namespace
}  // namespace tranche
