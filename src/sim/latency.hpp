#pragma once
// One delay of a venue (market data to us, our order to it, its answer to us, our cancel to it), drawn per
// message from its LatencySpec. Draws come from the simulator's seeded Rng, so a seed replays the same
// delays.
#include "core/config.hpp"
#include "sim/rng.hpp"

namespace tranche::sim {

class LatencyModel {
 public:
  LatencyModel() = default;
  explicit LatencyModel(LatencySpec spec) : spec_(std::move(spec)) {}

  // `recorded_delay_ns`: the venue's current delay as its market data shows it (receive time minus the
  // exchange's time, less the feed's minimum), used by the `data` kind.
  DurationNs draw(Rng& rng, DurationNs recorded_delay_ns) const {
    switch (spec_.kind) {
      case LatencySpec::Kind::Constant:
        return spec_.base_ns;
      case LatencySpec::Kind::Uniform:
        return rng.uniform_int(spec_.base_ns, spec_.high_ns);
      case LatencySpec::Kind::LogNormal: {
        const double draw = static_cast<double>(spec_.base_ns) * std::exp(spec_.sigma * rng.normal());
        // A tail draw is capped at a minute: beyond that the venue would be considered disconnected.
        return static_cast<DurationNs>(std::min(draw, 60.0 * kNanosPerSecond));
      }
      case LatencySpec::Kind::FromData:
        return spec_.base_ns + (recorded_delay_ns > 0 ? recorded_delay_ns : 0);
    }
    return spec_.base_ns;
  }
  bool from_data() const { return spec_.kind == LatencySpec::Kind::FromData; }
  bool is_zero() const { return spec_.kind == LatencySpec::Kind::Constant && spec_.base_ns == 0; }
  const LatencySpec& spec() const { return spec_; }

 private:
  LatencySpec spec_;
};

}  // namespace tranche::sim
