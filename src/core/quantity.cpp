#include "core/quantity.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tranche {
namespace {

constexpr std::int64_t kMaxRaw = std::numeric_limits<std::int64_t>::max();

// num / den (den > 0) rounded as named; Nearest takes a half away from zero, as std::llround does.
Int128 divide(Int128 num, Int128 den, Rounding rounding) {
  Int128 q = num / den, r = num % den;
  if (r == 0) return q;
  switch (rounding) {
    case Rounding::Down:
      return r < 0 ? q - 1 : q;
    case Rounding::Up:
      return r > 0 ? q + 1 : q;
    case Rounding::Nearest:
      if (2 * (r < 0 ? -r : r) >= den) return r < 0 ? q - 1 : q + 1;
      return q;
  }
  return q;
}

Qty clamped(Int128 raw) {
  return Qty::from_raw(static_cast<std::int64_t>(std::clamp<Int128>(raw, -kMaxRaw, kMaxRaw)));
}

Qty whole_lots(Int128 num, Int128 den, const VenueListing& listing, Rounding rounding) {
  const Int128 lot = listing.lot_size.raw() > 0 ? listing.lot_size.raw() : 1;
  return clamped(divide(num, den * lot, rounding) * lot);
}

}  // namespace

Qty qty_from_real(double real, Qty step, Rounding rounding) {
  if (std::isnan(real)) return Qty{};
  const std::int64_t step_raw = step.raw() > 0 ? step.raw() : 1;
  const double steps = real / Qty::from_raw(step_raw).to_double();
  double whole = 0;
  switch (rounding) {
    case Rounding::Down:
      whole = std::floor(steps + 1e-9);
      break;
    case Rounding::Up:
      whole = std::ceil(steps - 1e-9);
      break;
    case Rounding::Nearest:
      whole = std::round(steps);
      break;
  }
  // The largest whole number of steps, as a double, may round above what an int64 holds: compared, not cast.
  const std::int64_t most = kMaxRaw / step_raw;
  if (whole >= static_cast<double>(most)) return Qty::from_raw(most * step_raw);
  if (whole <= -static_cast<double>(most)) return Qty::from_raw(-most * step_raw);
  return Qty::from_raw(static_cast<std::int64_t>(whole) * step_raw);
}

Qty units_from_base(const VenueListing& listing, Qty base, Price price, Rounding rounding) {
  if (!listing.inverse) return whole_lots(base.raw(), 1, listing, rounding);
  if (!price.is_positive() || !listing.contract_size.is_positive()) return Qty{};
  // base x price / contract_size, every mantissa at the same scale: one scale cancels.
  return whole_lots(static_cast<Int128>(base.raw()) * price.raw(), listing.contract_size.raw(), listing,
                    rounding);
}

Qty base_from_units(const VenueListing& listing, Qty units, Price price, Rounding rounding) {
  if (!listing.inverse) return units;
  if (!price.is_positive()) return Qty{};
  return clamped(
      divide(static_cast<Int128>(units.raw()) * listing.contract_size.raw(), price.raw(), rounding));
}

Qty smallest_sendable(const VenueListing& listing, Price price) {
  if (!price.is_positive()) return Qty{};
  const Qty lot = listing.lot_size;
  if (listing.inverse)
    return base_from_units(listing, std::max(lot, Qty::from_units(1)), price, Rounding::Up);
  // min_notional / price in base; in whole lots when the listing has them.
  const Int128 notional = static_cast<Int128>(listing.min_notional.raw()) * kFixedScale;
  if (!lot.is_positive()) return clamped(divide(notional, price.raw(), Rounding::Up));
  return std::max(
      lot, clamped(divide(notional, static_cast<Int128>(price.raw()) * lot.raw(), Rounding::Up) * lot.raw()));
}

}  // namespace tranche
