#pragma once
// Fixed-point prices and quantities: an int64 mantissa with 8 decimal places, parsed from decimal strings and
// printed back exactly, never through double. Price and Qty are distinct types so one cannot be passed where
// the other goes.
#include <compare>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace tranche {

__extension__ using Int128 = __int128;
__extension__ using UInt128 = unsigned __int128;

inline constexpr int kFixedDecimals = 8;
inline constexpr std::int64_t kFixedScale = 100'000'000;

namespace detail {
// Parses a plain decimal ("-12.3400") into a mantissa at kFixedDecimals. Digits beyond the eighth decimal are
// accepted only when they are zeros, so a value is never rounded silently. No exponent, no thousands
// separators.
bool parse_fixed(std::string_view text, std::int64_t& mantissa) noexcept;
// Shortest exact decimal for a mantissa: "2683.8", "0.0001", "-5".
std::string format_fixed(std::int64_t mantissa);
// Exactly `decimals` places (0..8), rounding toward zero is never needed because callers pass the value's own
// step.
std::string format_fixed(std::int64_t mantissa, int decimals);
}  // namespace detail

template <class Tag>
class Fixed {
 public:
  using Raw = std::int64_t;

  constexpr Fixed() = default;
  static constexpr Fixed from_raw(Raw raw) { return Fixed(raw); }
  static constexpr Fixed from_units(Raw units) { return Fixed(units * kFixedScale); }
  // A value that was never set; distinct from zero.
  static constexpr Fixed unset() { return Fixed(std::numeric_limits<Raw>::min()); }
  static constexpr Fixed max() { return Fixed(std::numeric_limits<Raw>::max()); }

  // Hot-path parse: no allocation, no exception.
  static bool parse(std::string_view text, Fixed& out) noexcept {
    return detail::parse_fixed(text, out.raw_);
  }
  static Result<Fixed> parse(std::string_view text) {
    Fixed value;
    if (!parse(text, value))
      return make_error("not a decimal with at most 8 places: '" + std::string(text) + "'");
    return value;
  }

  constexpr Raw raw() const { return raw_; }
  constexpr bool is_set() const { return raw_ != std::numeric_limits<Raw>::min(); }
  constexpr bool is_zero() const { return raw_ == 0; }
  constexpr bool is_positive() const { return raw_ > 0; }
  constexpr bool is_negative() const { return raw_ < 0; }
  double to_double() const { return static_cast<double>(raw_) / static_cast<double>(kFixedScale); }
  std::string to_string() const { return detail::format_fixed(raw_); }
  std::string to_string(int decimals) const { return detail::format_fixed(raw_, decimals); }
  // Number of decimal places this value needs to print exactly (0..8).
  int decimals() const {
    int d = kFixedDecimals;
    Raw r = raw_;
    while (d > 0 && r % 10 == 0) {
      r /= 10;
      --d;
    }
    return d;
  }

  constexpr auto operator<=>(const Fixed&) const = default;
  constexpr Fixed operator+(Fixed o) const { return Fixed(raw_ + o.raw_); }
  constexpr Fixed operator-(Fixed o) const { return Fixed(raw_ - o.raw_); }
  constexpr Fixed operator-() const { return Fixed(-raw_); }
  constexpr Fixed& operator+=(Fixed o) {
    raw_ += o.raw_;
    return *this;
  }
  constexpr Fixed& operator-=(Fixed o) {
    raw_ -= o.raw_;
    return *this;
  }
  // Checked forms for sums that could overflow (accumulated volumes, positions). A result equal to the unset
  // sentinel (int64 min) is out of range too: it would otherwise read back as "never set".
  [[nodiscard]] static bool checked_add(Fixed a, Fixed b, Fixed& out) noexcept {
    return !__builtin_add_overflow(a.raw_, b.raw_, &out.raw_) && out.is_set();
  }
  [[nodiscard]] static bool checked_sub(Fixed a, Fixed b, Fixed& out) noexcept {
    return !__builtin_sub_overflow(a.raw_, b.raw_, &out.raw_) && out.is_set();
  }

 private:
  constexpr explicit Fixed(Raw raw) : raw_(raw) {}
  Raw raw_ = 0;
};

struct PriceTag {};
struct QtyTag {};
struct AmountTag {};
using Price = Fixed<PriceTag>;
using Qty = Fixed<QtyTag>;
// An amount of an asset or a rate in decimal form: balances, fees, notional limits, basis points in config.
using Amount = Fixed<AmountTag>;

// Price x quantity, exact: a 128-bit mantissa with 16 decimal places, so no product of two int64 values
// overflows.
class Notional {
 public:
  using Raw = Int128;
  static constexpr Raw kScale = static_cast<Raw>(kFixedScale) * kFixedScale;

  constexpr Notional() = default;
  static constexpr Notional of(Price price, Qty qty) {
    return Notional(static_cast<Raw>(price.raw()) * static_cast<Raw>(qty.raw()));
  }
  static constexpr Notional from_raw(Raw raw) { return Notional(raw); }
  static Notional from_price(Price amount) { return Notional(static_cast<Raw>(amount.raw()) * kFixedScale); }

  constexpr Raw raw() const { return raw_; }
  double to_double() const { return static_cast<double>(raw_) / static_cast<double>(kScale); }
  std::string to_string() const;  // exact, shortest
  constexpr auto operator<=>(const Notional&) const = default;
  constexpr Notional operator+(Notional o) const { return Notional(raw_ + o.raw_); }
  constexpr Notional operator-(Notional o) const { return Notional(raw_ - o.raw_); }
  constexpr Notional& operator+=(Notional o) {
    raw_ += o.raw_;
    return *this;
  }
  // Average price of this notional over a quantity, rounded to the nearest 1e-8.
  Price average_price(Qty qty) const;

 private:
  constexpr explicit Notional(Raw raw) : raw_(raw) {}
  Raw raw_ = 0;
};

}  // namespace tranche
