#include "gateway/rate_limits.hpp"

#include <algorithm>
#include <charconv>

namespace tranche::gateway {

namespace {
std::int64_t unit_ms(char unit) {
  switch (unit) {
    case 's':
    case 'S':
      return 1'000;
    case 'm':
    case 'M':
      return 60'000;
    case 'h':
    case 'H':
      return 3'600'000;
    case 'd':
    case 'D':
      return 86'400'000;
    default:
      return 0;
  }
}
const char* kind_name(RateLimitRule::Kind kind) {
  switch (kind) {
    case RateLimitRule::Kind::RequestWeight:
      return "request weight";
    case RateLimitRule::Kind::Orders:
      return "orders";
    case RateLimitRule::Kind::RawRequests:
      return "requests";
  }
  return "requests";
}
// What a request counts against a rule: its weight, one order, or one request.
std::int64_t cost_of(const RateLimitRule& rule, std::int64_t weight, bool order) {
  switch (rule.kind) {
    case RateLimitRule::Kind::RequestWeight:
      return weight;
    case RateLimitRule::Kind::Orders:
      return order ? 1 : 0;
    case RateLimitRule::Kind::RawRequests:
      return 1;
  }
  return 1;
}
}  // namespace

std::optional<RateLimitRule> binance_rate_limit(std::string_view type, std::string_view interval,
                                                std::int64_t interval_num, std::int64_t limit) {
  RateLimitRule rule;
  if (type == "REQUEST_WEIGHT")
    rule.kind = RateLimitRule::Kind::RequestWeight;
  else if (type == "ORDERS")
    rule.kind = RateLimitRule::Kind::Orders;
  else if (type == "RAW_REQUESTS")
    rule.kind = RateLimitRule::Kind::RawRequests;
  else
    return std::nullopt;
  std::int64_t unit = 0;
  if (interval == "SECOND") unit = 1'000;
  if (interval == "MINUTE") unit = 60'000;
  if (interval == "HOUR") unit = 3'600'000;
  if (interval == "DAY") unit = 86'400'000;
  if (unit == 0 || interval_num <= 0 || limit <= 0) return std::nullopt;
  rule.interval_ms = unit * interval_num;
  rule.limit = limit;
  return rule;
}

std::optional<RateLimitRule> binance_usage_header(std::string_view name) {
  RateLimitRule rule;
  std::string_view rest;
  if (name.rfind("x-mbx-used-weight-", 0) == 0) {
    rule.kind = RateLimitRule::Kind::RequestWeight;
    rest = name.substr(18);
  } else if (name.rfind("x-mbx-order-count-", 0) == 0) {
    rule.kind = RateLimitRule::Kind::Orders;
    rest = name.substr(18);
  } else {
    return std::nullopt;
  }
  if (rest.size() < 2) return std::nullopt;
  std::int64_t count = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size() - 1, count);
  const std::int64_t unit = unit_ms(rest.back());
  if (ec != std::errc{} || end != rest.data() + rest.size() - 1 || count <= 0 || unit == 0)
    return std::nullopt;
  rule.interval_ms = count * unit;
  return rule;
}

void RateLimits::set_rules(std::vector<RateLimitRule> rules) {
  rules_ = std::move(rules);
  windows_.assign(rules_.size(), Window{});
}

std::int64_t RateLimits::used_now(std::size_t rule, std::int64_t now_ms) const {
  const std::int64_t start = now_ms - now_ms % rules_[rule].interval_ms;
  return windows_[rule].start_ms == start ? windows_[rule].used : 0;
}

std::int64_t RateLimits::admit(std::int64_t now_ms, std::int64_t weight, bool order) {
  if (now_ms < banned_until_ms_) return banned_until_ms_ - now_ms;
  std::int64_t wait = 0;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const RateLimitRule& r = rules_[i];
    const std::int64_t cost = cost_of(r, weight, order);
    if (cost > 0 && used_now(i, now_ms) + cost > r.limit)
      wait = std::max(wait, r.interval_ms - now_ms % r.interval_ms);
  }
  if (wait > 0) return wait;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const RateLimitRule& r = rules_[i];
    const std::int64_t cost = cost_of(r, weight, order);
    const std::int64_t start = now_ms - now_ms % r.interval_ms;
    if (windows_[i].start_ms != start) windows_[i] = Window{start, 0};
    windows_[i].used += cost;
  }
  return 0;
}

void RateLimits::sync(RateLimitRule::Kind kind, std::int64_t interval_ms, std::int64_t used,
                      std::int64_t now_ms) {
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i].kind != kind || rules_[i].interval_ms != interval_ms) continue;
    const std::int64_t start = now_ms - now_ms % interval_ms;
    // The venue's count is the truth for this window; ours may only be ahead of it (requests in flight).
    if (windows_[i].start_ms != start) windows_[i] = Window{start, 0};
    windows_[i].used = std::max(windows_[i].used, used);
  }
}

void RateLimits::ban_until(std::int64_t until_ms) {
  banned_until_ms_ = std::max(banned_until_ms_, until_ms);
}

std::string RateLimits::describe_refusal(std::int64_t now_ms, std::int64_t weight, bool order) const {
  if (now_ms < banned_until_ms_)
    return "the venue asked us to stop for " + std::to_string(banned_until_ms_ - now_ms) + " ms more";
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const RateLimitRule& r = rules_[i];
    const std::int64_t cost = cost_of(r, weight, order);
    if (cost > 0 && used_now(i, now_ms) + cost > r.limit)
      return std::string("the venue's limit of ") + std::to_string(r.limit) + " " + kind_name(r.kind) +
             " per " + std::to_string(r.interval_ms / 1000) + " s is reached";
  }
  return "within the limits";
}

}  // namespace tranche::gateway
