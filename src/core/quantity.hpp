#pragma once
// Where a model's real number meets a quantity, and where base meets a listing's own units. Quantities travel
// as Qty; a model that needs a real number (a schedule curve, a participation rate, an expected cost) reads
// Qty::to_double() and comes back through qty_from_real, rounded as it names. A base quantity becomes a
// listing's units (contracts on an inverse listing) only through units_from_base and base_from_units, and the
// least a listing takes is smallest_sendable.
#include <cstdint>

#include "core/config.hpp"
#include "core/fixed_point.hpp"

namespace tranche {

enum class Rounding : std::uint8_t { Down, Nearest, Up };

// The finest quantity there is: one step of the mantissa.
inline constexpr Qty kQtyStep = Qty::from_raw(1);

// A real number as a whole number of `step` (a lot, or kQtyStep for the finest), rounded as named. Down and
// Up forgive a billionth of a step, the error of the double arithmetic that produced the number, so 0.3 is
// three lots of 0.1. A number beyond what a Qty holds is clamped to it; not a number is zero.
Qty qty_from_real(double real, Qty step, Rounding rounding);

// `base` in `listing`'s units at `price`: the same quantity on spot and linear listings, contracts
// (base x price / contract_size) on inverse ones; rounded as named to whole lots (Down: never more than
// `base`). Exact: no double on the way.
Qty units_from_base(const VenueListing& listing, Qty base, Price price, Rounding rounding = Rounding::Down);
// The base `units` of `listing` are worth at `price` (contracts x contract_size / price on inverse
// listings), rounded as named to the finest step.
Qty base_from_units(const VenueListing& listing, Qty units, Price price,
                    Rounding rounding = Rounding::Nearest);

// The least base `listing` takes at `price`: its lot, raised to the whole lots that reach its minimum
// notional; on an inverse listing, its lot of contracts (at least one) in base, rounded up. Zero when the
// price is not positive.
Qty smallest_sendable(const VenueListing& listing, Price price);

}  // namespace tranche
