#pragma once
// What a record made (a request to a venue, an answer to a client, an event for the API's stream) waits
// until the journal has that record durable: each item is held with the journal's seq when it was made, and
// let go, in the order it came, once Journal::durable_seq() reaches that seq. OrderManager, the parent desk
// and the API desk each hold theirs in one of these.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace tranche::oms {

template <class T>
class UntilDurable {
 public:
  void hold(std::uint64_t seq, T item) { held_.push_back({seq, std::move(item)}); }

  // Hands `let_go` each item whose seq is at or below `durable_seq`, in order, and forgets it. Each is moved
  // out before the call, so `let_go` may hold more (those durable already go in the same call). Returns how
  // many went.
  template <class Fn>
  std::size_t release(std::uint64_t durable_seq, Fn&& let_go) {
    std::size_t released = 0;
    while (next_ < held_.size() && held_[next_].seq <= durable_seq) {
      T item = std::move(held_[next_].item);
      ++next_;
      ++released;
      let_go(item);
    }
    if (next_ == held_.size()) {
      held_.clear();  // keeps its capacity: steady running allocates nothing here
      next_ = 0;
    }
    return released;
  }

  // Forgets the items made after `seq` (a commit that rolled back took their records, whose seqs will be used
  // again).
  void drop_after(std::uint64_t seq) {
    held_.erase(std::remove_if(held_.begin() + static_cast<std::ptrdiff_t>(next_), held_.end(),
                               [seq](const Held& h) { return h.seq > seq; }),
                held_.end());
  }

  std::size_t size() const { return held_.size() - next_; }
  bool empty() const { return size() == 0; }

 private:
  struct Held {
    std::uint64_t seq;
    T item;
  };
  std::vector<Held> held_;
  std::size_t next_ = 0;  // those before it have gone
};

}  // namespace tranche::oms
