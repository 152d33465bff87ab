#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace tranche {

enum class Side : std::uint8_t { Buy = 0, Sell = 1 };

constexpr Side opposite(Side side) {
  return side == Side::Buy ? Side::Sell : Side::Buy;
}
// +1 for a buy, -1 for a sell: costs are sign(side) * (price - benchmark), positive = worse for us.
constexpr int sign(Side side) {
  return side == Side::Buy ? 1 : -1;
}
constexpr std::string_view to_string(Side side) {
  return side == Side::Buy ? "buy" : "sell";
}
constexpr std::optional<Side> parse_side(std::string_view text) {
  if (text == "buy" || text == "BUY" || text == "b" || text == "B" || text == "bid") return Side::Buy;
  if (text == "sell" || text == "SELL" || text == "s" || text == "S" || text == "ask" || text == "a" ||
      text == "A")
    return Side::Sell;
  return std::nullopt;
}

}  // namespace tranche
