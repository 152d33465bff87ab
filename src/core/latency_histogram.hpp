#pragma once
// A histogram of durations in nanoseconds, for latency percentiles on a hot path: a fixed array of
// counters, nothing allocated, recording is a few instructions. Buckets are log-linear: each power of two
// is split in 16, so a percentile is within 1/16 (6.25%) of the true value, from 1 ns to 2^63 ns.
#include <array>
#include <bit>
#include <cstdint>

namespace tranche {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 4;  // 16 buckets per power of two
  static constexpr int kSub = 1 << kSubBits;

  void record(std::int64_t ns) {
    const std::uint64_t v = ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
    ++counts_[bucket_of(v)];
    ++count_;
    sum_ += v;
    if (v > max_) max_ = v;
  }

  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  std::uint64_t sum() const { return sum_; }  // of every sample, for a mean (and Prometheus's _sum)
  // How many samples are at most `bound` ns, counting whole buckets (a bucket straddling it counts when its
  // upper end is within it): within a bucket's width (6.25%) of the exact count's bound.
  std::uint64_t count_at_most(std::uint64_t bound) const {
    std::uint64_t n = 0;
    for (std::size_t b = 0; b < counts_.size() && upper_of(b) <= bound; ++b) n += counts_[b];
    return n;
  }

  // The smallest recorded bucket's upper bound below which a share `q` (0..1) of the samples lie; 0 with
  // no samples.
  std::uint64_t percentile(double q) const {
    if (count_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < counts_.size(); ++b) {
      seen += counts_[b];
      if (seen >= rank) {
        const std::uint64_t upper = upper_of(b);
        return upper < max_ ? upper : max_;
      }
    }
    return max_;
  }

  void clear() { *this = LatencyHistogram{}; }

  // Bucket index of a value: values below kSub have their own bucket; above, the top kSubBits + 1 bits.
  static std::size_t bucket_of(std::uint64_t v) {
    if (v < kSub) return static_cast<std::size_t>(v);
    const int msb = 63 - std::countl_zero(v);
    const int shift = msb - kSubBits;
    const std::uint64_t mantissa = (v >> shift) & (kSub - 1);
    return static_cast<std::size_t>((shift + 1) * kSub) + static_cast<std::size_t>(mantissa);
  }
  // The largest value a bucket holds.
  static std::uint64_t upper_of(std::size_t bucket) {
    if (bucket < kSub) return bucket;
    const int shift = static_cast<int>(bucket / kSub) - 1;
    const std::uint64_t mantissa = bucket % kSub;
    const std::uint64_t low = (static_cast<std::uint64_t>(kSub) + mantissa) << shift;
    return low + ((std::uint64_t{1} << shift) - 1);
  }

 private:
  std::array<std::uint64_t, (64 - kSubBits) * kSub + kSub> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace tranche
