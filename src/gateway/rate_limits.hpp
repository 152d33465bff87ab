#pragma once
// A venue's published request limits, kept before anything is sent: each rule is a count per fixed window
// (Binance's windows start on the interval's boundary of the venue's clock: a minute's weight resets at
// each whole minute). The counts are re-synced from what the venue says it counted (Binance's
// X-MBX-USED-WEIGHT-1M, X-MBX-ORDER-COUNT-10S and -1D headers), and a ban (429 or 418 with Retry-After)
// stops everything until it ends.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tranche::gateway {

struct RateLimitRule {
  enum class Kind : std::uint8_t { RequestWeight, Orders, RawRequests };
  Kind kind = Kind::RequestWeight;
  std::int64_t interval_ms = 60'000;
  std::int64_t limit = 0;
};

// Binance's words: rateLimitType REQUEST_WEIGHT / ORDERS / RAW_REQUESTS, interval SECOND / MINUTE / HOUR /
// DAY with intervalNum. nullopt for a type or interval we do not know.
std::optional<RateLimitRule> binance_rate_limit(std::string_view type, std::string_view interval,
                                                std::int64_t interval_num, std::int64_t limit);
// A usage header's name ("x-mbx-used-weight-1m", "x-mbx-order-count-10s") as the rule it counts.
std::optional<RateLimitRule> binance_usage_header(std::string_view lower_name);

class RateLimits {
 public:
  void set_rules(std::vector<RateLimitRule> rules);
  const std::vector<RateLimitRule>& rules() const { return rules_; }
  // Whether a request of `weight` (an order when `order`) may leave at `now_ms` on the venue's clock. When
  // it may, it is counted; when not, nothing is counted and the answer is how many ms until it may.
  std::int64_t admit(std::int64_t now_ms, std::int64_t weight, bool order);
  // What the venue says it counted for a rule of this kind and interval in the window holding `now_ms`.
  void sync(RateLimitRule::Kind kind, std::int64_t interval_ms, std::int64_t used, std::int64_t now_ms);
  void ban_until(std::int64_t until_ms);
  std::int64_t banned_until_ms() const { return banned_until_ms_; }
  // The reason the last refusal gave, for a reject's text.
  std::string describe_refusal(std::int64_t now_ms, std::int64_t weight, bool order) const;

 private:
  struct Window {
    std::int64_t start_ms = -1;
    std::int64_t used = 0;
  };
  std::int64_t used_now(std::size_t rule, std::int64_t now_ms) const;
  std::vector<RateLimitRule> rules_;
  std::vector<Window> windows_;
  std::int64_t banned_until_ms_ = 0;
};

}  // namespace tranche::gateway
