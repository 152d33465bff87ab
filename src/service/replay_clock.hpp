#pragma once
// What the two daemons (`tranche serve`, `tranche exchange`) share: the replay clock mapped onto the wall,
// the stop signal, and the queue that hands requests from QuickFIX's thread to the daemon's own.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "core/time.hpp"

namespace tranche::service {

inline TimestampNs wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The replay clock against the wall, fixed at start: `speed` replay seconds per wall second. Two processes
// given the same anchor (the wall time the data's start plays at) replay the same moment at once.
struct ReplayClock {
  TimestampNs replay_origin_ns = 0;
  TimestampNs wall_origin_ns = 0;
  double speed = 1;
  TimestampNs replay_at(TimestampNs wall_ns) const {
    return clamped(static_cast<double>(replay_origin_ns) +
                   static_cast<double>(wall_ns - wall_origin_ns) * speed);
  }
  TimestampNs wall_at(TimestampNs replay_ns) const {
    return clamped(static_cast<double>(wall_origin_ns) +
                   static_cast<double>(replay_ns - replay_origin_ns) / speed);
  }
  // A time far out (a good-till-cancel ExpireTime at a high speed) stays a time: the largest one.
  static TimestampNs clamped(double ns) {
    constexpr double kLargest = 9.2e18;
    return static_cast<TimestampNs>(std::clamp(ns, 0.0, kLargest));
  }
};

template <typename T>
class HandoffQueue {
 public:
  void push(T item) {
    {
      std::lock_guard lock(mutex_);
      items_.push_back(std::move(item));
    }
    ready_.notify_one();
  }
  // Ends a take()'s wait with nothing to take (the journal's writer made something durable).
  void wake() {
    {
      std::lock_guard lock(mutex_);
      woken_ = true;
    }
    ready_.notify_one();
  }
  // What is there, waiting up to `wait` when nothing is (and nothing woke it).
  std::vector<T> take(std::chrono::microseconds wait) {
    std::unique_lock lock(mutex_);
    if (items_.empty() && !woken_ && wait.count() > 0)
      ready_.wait_for(lock, wait, [&] { return !items_.empty() || woken_; });
    woken_ = false;
    std::vector<T> out;
    out.swap(items_);
    return out;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<T> items_;
  bool woken_ = false;
};

// SIGTERM and SIGINT set it; the daemons' loops look at it.
std::atomic<int>& stop_signal();
void install_stop_handlers();

}  // namespace tranche::service
