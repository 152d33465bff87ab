#include "gateway/fix_time.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace tranche::gateway {

std::optional<TimestampNs> parse_fix_timestamp(const std::string& text) {
  // YYYYMMDD-HH:MM:SS[.fraction of 1 to 9 digits]
  if (text.size() < 17 || text[8] != '-' || text[11] != ':' || text[14] != ':') return std::nullopt;
  auto number = [&](std::size_t at, std::size_t len, int& out) {
    const char* b = text.data() + at;
    auto [p, ec] = std::from_chars(b, b + len, out);
    return ec == std::errc() && p == b + len;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!number(0, 4, year) || !number(4, 2, month) || !number(6, 2, day) || !number(9, 2, hour) ||
      !number(12, 2, minute) || !number(15, 2, second))
    return std::nullopt;
  // Nanoseconds since 1970 in an int64 end in 2262.
  if (year < 1970 || year > 2261 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60)
    return std::nullopt;
  std::int64_t fraction_ns = 0;
  if (text.size() > 17) {
    if (text[17] != '.' || text.size() < 19 || text.size() > 27) return std::nullopt;
    std::int64_t scale = 100'000'000;
    for (std::size_t i = 18; i < text.size(); ++i, scale /= 10) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      fraction_ns += (text[i] - '0') * scale;
    }
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t seconds = ::timegm(&tm);
  return static_cast<TimestampNs>(seconds) * kNanosPerSecond + fraction_ns;
}

std::string format_fix_timestamp(TimestampNs ns) {
  const std::time_t seconds = static_cast<std::time_t>(ns / kNanosPerSecond);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char out[64];
  std::snprintf(out, sizeof(out), "%04d%02d%02d-%02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((ns % kNanosPerSecond) / kNanosPerMilli));
  return out;
}

}  // namespace tranche::gateway
