#include "gateway/binance_venue_limits.hpp"

#include <algorithm>

namespace tranche::gateway::binance {

RateLimiter::RateLimiter(VenueLimits limits) : limits_(limits) {}

std::int64_t RateLimiter::used_weight(std::string_view ip, TimestampNs now_ns) const {
  auto it = ips_.find(std::string(ip));
  return it == ips_.end() ? 0 : it->second.weight.used(now_ns);
}

RateLimiter::Decision RateLimiter::refuse(Ip& ip, int code, std::string msg, TimestampNs until_ns,
                                          TimestampNs now_ns) {
  Decision d;
  if (++ip.refusals >= limits_.refusals_before_ban) {
    // It kept going after being told to stop: banned, longer each time.
    constexpr DurationNs kLongestBan = 3 * 24 * 3600 * kNanosPerSecond;
    DurationNs ban = limits_.first_ban_ns;
    for (int i = 0; i < ip.bans && ban < kLongestBan; ++i) ban *= 2;
    ban = std::min(ban, kLongestBan);
    ++ip.bans;
    ip.refusals = 0;
    ip.banned_until_ns = now_ns + ban;
    d.verdict = Verdict::Banned;
    d.http_status = 418;
    d.code = -1003;
    d.msg = "Way too much request weight used; IP banned until " +
            std::to_string(ip.banned_until_ns / kNanosPerMilli) +
            ". Please use WebSocket Streams for live updates to avoid bans.";
    d.retry_after_s = (ban + kNanosPerSecond - 1) / kNanosPerSecond;
    return d;
  }
  d.verdict = Verdict::TooMany;
  d.http_status = 429;
  d.code = code;
  d.msg = std::move(msg);
  d.retry_after_s = std::max<std::int64_t>(1, (until_ns - now_ns + kNanosPerSecond - 1) / kNanosPerSecond);
  return d;
}

RateLimiter::Decision RateLimiter::admit(std::string_view ip_name, int weight, int orders,
                                         TimestampNs now_ns) {
  Ip& ip = ips_[std::string(ip_name)];
  if (now_ns < ip.banned_until_ns) {
    Decision d;
    d.verdict = Verdict::Banned;
    d.http_status = 418;
    d.code = -1003;
    d.msg = "Way too much request weight used; IP banned until " +
            std::to_string(ip.banned_until_ns / kNanosPerMilli) +
            ". Please use WebSocket Streams for live updates to avoid bans.";
    d.retry_after_s = (ip.banned_until_ns - now_ns + kNanosPerSecond - 1) / kNanosPerSecond;
    return d;
  }
  if (ip.weight.used(now_ns) + weight > limits_.request_weight_per_minute)
    return refuse(ip, -1003,
                  "Too much request weight used; current limit is " +
                      std::to_string(limits_.request_weight_per_minute) +
                      " request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid "
                      "polling the API.",
                  ip.weight.window_end_ns(now_ns), now_ns);
  if (limits_.raw_requests_per_5m > 0 && ip.raw.used(now_ns) + 1 > limits_.raw_requests_per_5m)
    return refuse(ip, -1003,
                  "Too many requests; current limit is " + std::to_string(limits_.raw_requests_per_5m) +
                      " requests per 5 MINUTE.",
                  ip.raw.window_end_ns(now_ns), now_ns);
  if (orders > 0) {
    // Each ORDERS window, tightest first: the first one full refuses, naming itself as Binance does.
    const struct {
      int limit;
      const WindowCounter& window;
      const char* per;
    } windows[] = {{limits_.orders_per_second, orders_1s_, "SECOND"},
                   {limits_.orders_per_10s, orders_10s_, "10 SECOND"},
                   {limits_.orders_per_minute, orders_1m_, "MINUTE"},
                   {limits_.orders_per_day, orders_1d_, "1 DAY"}};
    for (const auto& w : windows)
      if (w.limit > 0 && w.window.used(now_ns) + orders > w.limit)
        return refuse(
            ip, -1015,
            "Too many new orders; current limit is " + std::to_string(w.limit) + " orders per " + w.per + ".",
            w.window.window_end_ns(now_ns), now_ns);
  }
  ip.refusals = 0;
  ip.weight.add(weight, now_ns);
  ip.raw.add(1, now_ns);
  if (orders > 0) {
    orders_1s_.add(orders, now_ns);
    orders_10s_.add(orders, now_ns);
    orders_1m_.add(orders, now_ns);
    orders_1d_.add(orders, now_ns);
  }
  return {};
}

}  // namespace tranche::gateway::binance
