#pragma once
// What the kernel takes to act on what it hears, on the wall clock: each market event, report and timer is
// passed to the kernel through this listener, which times the call (the kernel's decisions, the journal's
// commit and the requests leaving, all in it). The kernel itself reads no wall clock; `tranche serve
// --stats-every` prints the percentiles (docs/serve.md).
#include <chrono>

#include "core/latency_histogram.hpp"
#include "md/market_source.hpp"

namespace tranche::service {

class DecisionTimer final : public md::MarketListener {
 public:
  explicit DecisionTimer(md::MarketListener& kernel) : kernel_(kernel) {}

  void on_market_data(const md::MarketRef& ref, const md::Event& event) override {
    const auto start = Clock::now();
    kernel_.on_market_data(ref, event);
    const std::int64_t took = since(start);
    market_.record(took);
    total_market_.record(took);
  }
  void on_execution_report(const ExecutionReport& report) override {
    const auto start = Clock::now();
    kernel_.on_execution_report(report);
    const std::int64_t took = since(start);
    report_.record(took);
    total_report_.record(took);
  }
  void on_venue_status(const VenueStatusReport& status) override { kernel_.on_venue_status(status); }
  void on_timer(std::uint64_t id, TimestampNs now_ns) override {
    const auto start = Clock::now();
    kernel_.on_timer(id, now_ns);
    const std::int64_t took = since(start);
    timer_.record(took);
    total_timer_.record(took);
  }

  // Since the last clear: a market event's handling, a report's, a timer's.
  const LatencyHistogram& market_events() const { return market_; }
  const LatencyHistogram& reports() const { return report_; }
  const LatencyHistogram& timers() const { return timer_; }
  // Since the start, never cleared (Prometheus's histograms are cumulative).
  const LatencyHistogram& total_market_events() const { return total_market_; }
  const LatencyHistogram& total_reports() const { return total_report_; }
  const LatencyHistogram& total_timers() const { return total_timer_; }
  void clear() {
    market_.clear();
    report_.clear();
    timer_.clear();
  }

 private:
  using Clock = std::chrono::steady_clock;
  static std::int64_t since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
  }
  md::MarketListener& kernel_;
  LatencyHistogram market_, report_, timer_;
  LatencyHistogram total_market_, total_report_, total_timer_;
};

}  // namespace tranche::service
