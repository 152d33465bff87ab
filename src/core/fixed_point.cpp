#include "core/fixed_point.hpp"

#include <cstdlib>

namespace tranche::detail {

bool parse_fixed(std::string_view text, std::int64_t& mantissa) noexcept {
  const char* p = text.data();
  const char* end = p + text.size();
  if (p == end) return false;
  bool negative = false;
  if (*p == '-' || *p == '+') {
    negative = *p == '-';
    ++p;
  }
  std::uint64_t integer = 0;
  int integer_digits = 0;
  while (p != end && *p >= '0' && *p <= '9') {
    if (integer_digits >= 11) {  // 10^11 * 10^8 would overflow int64
      if (integer != 0 || *p != '0') return false;
    }
    integer = integer * 10 + static_cast<std::uint64_t>(*p - '0');
    if (integer != 0) ++integer_digits;
    ++p;
  }
  std::uint64_t fraction = 0;
  int fraction_digits = 0;
  bool any_digit = p != text.data() && p[-1] >= '0' && p[-1] <= '9';
  if (p != end && *p == '.') {
    ++p;
    while (p != end && *p >= '0' && *p <= '9') {
      any_digit = true;
      if (fraction_digits < kFixedDecimals) {
        fraction = fraction * 10 + static_cast<std::uint64_t>(*p - '0');
        ++fraction_digits;
      } else if (*p != '0') {
        return false;  // would need rounding
      }
      ++p;
    }
  }
  if (p != end || !any_digit) return false;
  static constexpr std::uint64_t kPow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
  fraction *= kPow10[kFixedDecimals - fraction_digits];
  const std::uint64_t magnitude = integer * static_cast<std::uint64_t>(kFixedScale) + fraction;
  if (magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
  mantissa = negative ? -static_cast<std::int64_t>(magnitude) : static_cast<std::int64_t>(magnitude);
  return true;
}

std::string format_fixed(std::int64_t mantissa, int decimals) {
  if (mantissa == std::numeric_limits<std::int64_t>::min()) return "unset";
  if (decimals < 0) decimals = 0;
  if (decimals > kFixedDecimals) decimals = kFixedDecimals;
  const bool negative = mantissa < 0;
  const std::uint64_t magnitude =
      negative ? static_cast<std::uint64_t>(-(mantissa + 1)) + 1 : static_cast<std::uint64_t>(mantissa);
  std::uint64_t integer = magnitude / static_cast<std::uint64_t>(kFixedScale);
  std::uint64_t fraction = magnitude % static_cast<std::uint64_t>(kFixedScale);
  std::string out;
  if (negative) out.push_back('-');
  out += std::to_string(integer);
  if (decimals > 0) {
    char digits[kFixedDecimals];
    for (int i = kFixedDecimals - 1; i >= 0; --i) {
      digits[i] = static_cast<char>('0' + fraction % 10);
      fraction /= 10;
    }
    out.push_back('.');
    out.append(digits, static_cast<std::size_t>(decimals));
  }
  return out;
}

std::string format_fixed(std::int64_t mantissa) {
  int decimals = kFixedDecimals;
  std::int64_t r = mantissa;
  while (decimals > 0 && r % 10 == 0) {
    r /= 10;
    --decimals;
  }
  return format_fixed(mantissa, decimals);
}

}  // namespace tranche::detail

namespace tranche {

std::string Notional::to_string() const {
  const bool negative = raw_ < 0;
  UInt128 magnitude = negative ? static_cast<UInt128>(-raw_) : static_cast<UInt128>(raw_);
  const auto scale = static_cast<UInt128>(kScale);
  UInt128 integer = magnitude / scale;
  UInt128 fraction = magnitude % scale;
  std::string int_digits;
  do {
    int_digits.insert(int_digits.begin(), static_cast<char>('0' + static_cast<int>(integer % 10)));
    integer /= 10;
  } while (integer != 0);
  std::string frac_digits(16, '0');
  for (int i = 15; i >= 0; --i) {
    frac_digits[static_cast<std::size_t>(i)] = static_cast<char>('0' + static_cast<int>(fraction % 10));
    fraction /= 10;
  }
  while (!frac_digits.empty() && frac_digits.back() == '0') frac_digits.pop_back();
  std::string out = negative ? "-" : "";
  out += int_digits;
  if (!frac_digits.empty()) out += "." + frac_digits;
  return out;
}

Price Notional::average_price(Qty qty) const {
  if (qty.raw() == 0) return Price::unset();
  const Raw q = qty.raw();
  Raw quotient = raw_ / q;  // truncates toward zero
  const Raw remainder = raw_ % q;
  const Raw twice = remainder < 0 ? -2 * remainder : 2 * remainder;
  if (twice >= (q < 0 ? -q : q)) quotient += (raw_ < 0) != (q < 0) ? -1 : 1;
  return Price::from_raw(static_cast<std::int64_t>(quotient));
}

}  // namespace tranche
