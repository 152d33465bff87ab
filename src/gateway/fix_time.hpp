#pragma once
// FIX's UTCTimestamp ("20261125-00:17:35.123"), read and written the same way by every FIX piece of Tranche.
#include <optional>
#include <string>

#include "core/time.hpp"

namespace tranche::gateway {

// Seconds to nanoseconds of fraction; nullopt for anything else, and for years outside 1970 to 2261 (the ns
// since the epoch an int64 holds).
std::optional<TimestampNs> parse_fix_timestamp(const std::string& text);
std::string format_fix_timestamp(TimestampNs ns);  // milliseconds

}  // namespace tranche::gateway
