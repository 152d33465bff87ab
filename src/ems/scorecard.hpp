#pragma once
// Venue scorecards learned from our own executions: how much of what we send fills, how fast each venue
// answers, how often it refuses us, and what the price did after our fills there (markouts). Updated as
// reports arrive, saved to a file across restarts, read by the router (a venue's realised latency replaces
// its configured one once there is enough of it) and printed by `tranche scorecard`.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/order.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace tranche::ems {

struct VenueScorecard {
  std::uint64_t orders = 0;   // children sent
  std::uint64_t acks = 0;     // answered New
  std::uint64_t rejects = 0;  // refused by the venue
  std::uint64_t fills = 0;
  std::uint64_t maker_fills = 0;
  double sent_base = 0;    // what we asked for
  double filled_base = 0;  // what we got
  // Round trips (our send to the venue's first answer reaching us), kept as the last few for a median.
  std::vector<double> round_trips_us;
  // Markouts after our fills (bps, positive = the price went against us), quantity-weighted sums by horizon.
  std::map<std::string, double> markout_weighted;  // horizon "1s" -> sum of qty x bps
  std::map<std::string, double> markout_qty;

  double fill_rate() const { return sent_base > 0 ? filled_base / sent_base : 0; }
  double reject_rate() const {
    return orders > 0 ? static_cast<double>(rejects) / static_cast<double>(orders) : 0;
  }
  // Median round trip in microseconds; 0 without samples.
  double median_round_trip_us() const;
  double markout_bps(const std::string& horizon) const;
};

class Scorecards {
 public:
  static constexpr std::size_t kKeptRoundTrips = 200;
  static constexpr std::size_t kMinSamples = 5;  // before a realised latency is used

  void on_sent(const VenueId& venue, double base);
  // The venue's answer to a child sent at `sent_ns`; `base` converts a fill's quantity to base units.
  void on_report(const ExecutionReport& report, TimestampNs sent_ns, bool first_answer, double fill_base);
  void on_markout(const VenueId& venue, const std::string& horizon, double bps, double base);

  const std::map<std::string, VenueScorecard>& venues() const { return venues_; }
  const VenueScorecard* venue(const VenueId& id) const;
  // The realised one-way latency (half the median round trip), once there are enough samples; else
  // `fallback`.
  DurationNs latency_or(const VenueId& venue, DurationNs fallback) const;

  // A missing file is an empty scorecard; a file that is not one is an error naming it.
  static Result<Scorecards> load(const std::string& path);
  Status save(const std::string& path) const;  // written to a temporary file and renamed
  std::string to_json() const;

 private:
  std::map<std::string, VenueScorecard> venues_;
};

}  // namespace tranche::ems
