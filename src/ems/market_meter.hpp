#pragma once
// What the pre-trade estimate (tca/pretrade.hpp) measures of one instrument's market, kept as the events
// arrive: the benchmark mid and each venue's spread and depth sampled about once a second, and every print
// of others by venue. The kernel feeds one per instrument, so each parent's estimate is made from what the
// kernel itself saw before it started; `tranche estimate` feeds one from the recording the same way, so the
// command and a parent arriving at the same moment get the same estimate.
//
// A model's input, so real numbers (converted here, at the edge).
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "core/ids.hpp"
#include "core/side.hpp"
#include "core/time.hpp"
#include "ems/algo.hpp"
#include "md/market_source.hpp"
#include "oms/records.hpp"
#include "tca/pretrade.hpp"

namespace tranche::ems {

// How far back the estimate looks by default (`tranche estimate --lookback`, and every parent's).
inline constexpr DurationNs kEstimateLookbackNs = 5 * 60 * kNanosPerSecond;
// Depth is what the books show within this many bps of their own mid.
inline constexpr double kEstimateDepthBandBps = 10;

class MarketMeter {
 public:
  // `benchmark_venue`: the source's index of the venue whose mid is the benchmark (with `consolidated`, the
  // best bid and offer across the venues); samples older than `keep_ns` before the newest are let go.
  MarketMeter(InstrumentId instrument, std::size_t benchmark_venue, bool consolidated,
              DurationNs keep_ns = kEstimateLookbackNs);

  // Every market event of the instrument, after the books applied it: a print of others is counted, and
  // the first event at or after each whole second takes a sample of every venue's book.
  void on_event(const md::MarketSource& market, std::size_t venue, bool others_print, double print_base,
                TimestampNs now_ns);

  // The market over [at_ns - lookback_ns, at_ns) as far as this meter saw it, with the books as they stand
  // now for the side an order of `side` takes. An error when no benchmark mid shows now.
  Result<tca::MarketMeasure> measure(const md::MarketSource& market, Side side, TimestampNs at_ns,
                                     DurationNs lookback_ns = kEstimateLookbackNs) const;

  TimestampNs first_ns() const { return first_ns_; }

 private:
  struct MidSample {
    TimestampNs t_ns;
    double mid;
  };
  struct BookSample {
    TimestampNs t_ns;
    std::uint32_t venue;
    double spread_bps;
    double depth_base[2];  // within the band, bids then asks
  };
  struct Print {
    TimestampNs t_ns;
    std::uint32_t venue;
    double base;
  };
  void sample(const md::MarketSource& market, TimestampNs now_ns);
  void trim(TimestampNs now_ns);

  InstrumentId instrument_;
  std::size_t benchmark_venue_;
  bool consolidated_;
  DurationNs keep_ns_;
  TimestampNs first_ns_ = 0;
  TimestampNs next_sample_ns_ = 0;
  std::deque<MidSample> mids_;
  std::deque<BookSample> books_;
  std::deque<Print> prints_;
  std::vector<md::Level> scratch_;
};

// A parent's pre-trade estimate, made when its algo starts and journaled with it (an algo state "estimate"):
// what its own algo is expected to cost, and which algo the model would have chosen.
struct ParentEstimate {
  tca::AlgoEstimate own;  // cost_bps NaN when the model has nothing for its algo
  std::string model;      // the model's algo it was estimated as (iceberg as peg); empty: none
  std::string recommended;
  double recommended_cost_bps = 0;
  double participation = 0;
  double sigma_bps_per_sqrt_s = 0;
  double volume_per_s = 0;
  double window_s = 0;

  // The journal's form: key=value pairs separated by spaces, and back (nothing when it is not one).
  std::string detail() const;
  static std::optional<ParentEstimate> from_detail(const std::string& detail);
};

// `parent` as the model sees it from `now_ns`: its side, its base quantity, and what is left of its horizon
// (none without an end time).
tca::PretradeOrder pretrade_order(const oms::ParentOrder& parent, TimestampNs now_ns);

// The model's assumptions for an algo with `params`: pov's rate within its participation bounds and its
// floor; an aggressive schedule crosses every slice.
tca::PretradeModel pretrade_model(const AlgoParams& params);

// The estimate of `parent`, worked by an algo with `params` from `now_ns`, on the measured market: its
// horizon is what is left of the parent's (none without an end time), pov's rate and floor and an
// aggressive schedule's crossing are the parent's own.
ParentEstimate estimate_parent(const tca::MarketMeasure& market, const oms::ParentOrder& parent,
                               const AlgoParams& params, TimestampNs now_ns);

}  // namespace tranche::ems
