#pragma once
// Times are int64 nanoseconds since the Unix epoch, named ..._ns. In simulation they are on the recordings'
// receive clock; an exchange's own time travels beside it and is never mixed with it.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace tranche {

using TimestampNs = std::int64_t;
using DurationNs = std::int64_t;

inline constexpr DurationNs kNanosPerMicro = 1'000;
inline constexpr DurationNs kNanosPerMilli = 1'000'000;
inline constexpr DurationNs kNanosPerSecond = 1'000'000'000;

// A venue's millisecond time (since the epoch) that nanoseconds in 64 bits can hold: 0 to 2262-04-11.
// Anything outside is unreadable, never multiplied into an overflow (the fuzzer found one doing so).
inline constexpr bool millis_in_range(std::int64_t ms) {
  return ms >= 0 && ms <= INT64_MAX / kNanosPerMilli;
}

// "2024-08-08T23:55:00Z", "2024-08-08T23:55:00.123456789Z", "2024-08-08 23:55:00" (UTC assumed), or an
// integer of nanoseconds since the epoch.
Result<TimestampNs> parse_time(std::string_view text);
// ISO-8601 UTC with nanoseconds: "2024-08-08T23:55:00.123456789Z".
std::string format_time(TimestampNs ts_ns);

}  // namespace tranche
