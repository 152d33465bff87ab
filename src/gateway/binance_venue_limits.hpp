#pragma once
// The rate limits `tranche exchange --protocol binance` publishes in exchangeInfo and enforces, counted as
// Binance counts them: request weight and raw requests per IP, new orders per account (spot: per second,
// 10 s and day; futures: per minute and, on USD-M, per 10 s; a limit of 0 is none), each in fixed
// windows aligned to the clock (a minute's window starts on the minute). A request over a limit is refused
// with HTTP 429 and Retry-After (the seconds until its window ends); an IP that keeps sending while refused
// is banned with HTTP 418, two minutes for a first ban, doubling for each ban after it, at most three days.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/time.hpp"

namespace tranche::gateway::binance {

struct VenueLimits {
  int request_weight_per_minute = 6000;
  int raw_requests_per_5m = 61000;
  int orders_per_second = 0;  // 0: none (the venue's own [[venue]] orders_per_second, when it has one)
  int orders_per_10s = 100;
  int orders_per_minute = 0;  // futures' ORDERS per MINUTE (0: none)
  int orders_per_day = 200000;
  // 429s answered to one IP in a row before it is banned: it kept going after being told to stop.
  int refusals_before_ban = 5;
  DurationNs first_ban_ns = 2 * 60 * kNanosPerSecond;
};

// A count over fixed windows of `interval_ns` aligned to the epoch.
class WindowCounter {
 public:
  explicit WindowCounter(DurationNs interval_ns) : interval_ns_(interval_ns) {}
  std::int64_t used(TimestampNs now_ns) const { return window_of(now_ns) == window_ ? count_ : 0; }
  void add(std::int64_t n, TimestampNs now_ns) {
    const std::int64_t w = window_of(now_ns);
    if (w != window_) {
      window_ = w;
      count_ = 0;
    }
    count_ += n;
  }
  TimestampNs window_end_ns(TimestampNs now_ns) const { return (window_of(now_ns) + 1) * interval_ns_; }
  DurationNs interval_ns() const { return interval_ns_; }

 private:
  std::int64_t window_of(TimestampNs now_ns) const { return now_ns / interval_ns_; }
  DurationNs interval_ns_;
  std::int64_t window_ = -1;
  std::int64_t count_ = 0;
};

class RateLimiter {
 public:
  enum class Verdict : std::uint8_t { Admitted, TooMany, Banned };
  struct Decision {
    Verdict verdict = Verdict::Admitted;
    int http_status = 200;  // 429 or 418 when refused
    int code = 0;           // -1003 (weight, raw requests, ban) or -1015 (orders)
    std::string msg;
    std::int64_t retry_after_s = 0;
  };

  explicit RateLimiter(VenueLimits limits);
  const VenueLimits& limits() const { return limits_; }

  // A request of `weight` from `ip` that places `orders` new orders (0 for anything else). Counted when
  // admitted; a refused request counts toward the IP's ban.
  Decision admit(std::string_view ip, int weight, int orders, TimestampNs now_ns);

  std::int64_t used_weight(std::string_view ip, TimestampNs now_ns) const;
  std::int64_t orders_1s(TimestampNs now_ns) const { return orders_1s_.used(now_ns); }
  std::int64_t orders_10s(TimestampNs now_ns) const { return orders_10s_.used(now_ns); }
  std::int64_t orders_1m(TimestampNs now_ns) const { return orders_1m_.used(now_ns); }
  std::int64_t orders_1d(TimestampNs now_ns) const { return orders_1d_.used(now_ns); }

 private:
  struct Ip {
    WindowCounter weight{60 * kNanosPerSecond};
    WindowCounter raw{5 * 60 * kNanosPerSecond};
    int refusals = 0;  // 429s in a row
    int bans = 0;
    TimestampNs banned_until_ns = 0;
  };
  Decision refuse(Ip& ip, int code, std::string msg, TimestampNs until_ns, TimestampNs now_ns);

  VenueLimits limits_;
  std::unordered_map<std::string, Ip> ips_;
  WindowCounter orders_1s_{kNanosPerSecond};
  WindowCounter orders_10s_{10 * kNanosPerSecond};
  WindowCounter orders_1m_{60 * kNanosPerSecond};
  WindowCounter orders_1d_{24 * 3600 * kNanosPerSecond};
};

}  // namespace tranche::gateway::binance
