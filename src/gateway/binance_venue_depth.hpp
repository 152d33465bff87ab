#pragma once
// The order book `tranche exchange --protocol binance` publishes for one symbol, and the update ids that
// number it, as Binance spot numbers its book: a REST snapshot carries `lastUpdateId`; a depth stream's diffs
// carry the range `U`..`u` of the updates they merge, each `U` one past the previous `u` of that stream, so
// the first diff a client applies after a snapshot is the one with `U <= lastUpdateId + 1 <= u`.
//
// The published book is a copy of the venue's (the simulator's book net of our impact), taken when a snapshot
// is asked for and at every stream batch: the levels that differ from the previous copy are the changes, and
// a copy that changed anything takes the next update id. A top-of-book change between copies (a bookTicker)
// takes an id of its own (`bump`), which the next batch's range covers (and ends on, when the copy shows the
// bookTicker's touch). Each stream speed (100 ms, 1000 ms)
// merges the changes since its own last batch, each level at its latest quantity (0: gone).
#include <cstdint>
#include <span>
#include <vector>

#include "md/event.hpp"

namespace tranche::gateway::binance {

class DepthBook {
 public:
  static constexpr int kStreams = 2;  // 0: @depth@100ms, 1: @depth (1000 ms)

  struct Batch {
    std::uint64_t first_id = 0;   // U
    std::uint64_t last_id = 0;    // u
    std::vector<md::Level> bids;  // best first; quantity 0: the level is gone
    std::vector<md::Level> asks;
  };

  // Replaces the published book with the venue's (each side best first). True when a level changed: the book
  // then took the next update id.
  bool publish(std::span<const md::Level> bids, std::span<const md::Level> asks);
  // A change of the touch between publications: it takes an update id.
  void bump() {
    ++last_id_;
    ticker_pending_ = false;
  }
  // A bookTicker showing this touch (quantity zero: no level on that side) takes an update id. When the next
  // publication that changes the book shows the same touch, it keeps this id rather than taking another, as
  // Binance's numbering does when the last update of a batch moved the touch: the diff's `u` then equals the
  // bookTicker's, and a client can check the one against the other.
  void bump(const md::Level& bid, const md::Level& ask) {
    ++last_id_;
    ticker_bid_ = bid;
    ticker_ask_ = ask;
    ticker_pending_ = true;
  }
  std::uint64_t last_update_id() const { return last_id_; }
  const std::vector<md::Level>& bids() const { return bids_; }
  const std::vector<md::Level>& asks() const { return asks_; }

  // A stream speed starts (its first subscriber) or stops collecting changes.
  void set_streaming(int stream, bool on);
  bool streaming(int stream) const { return streams_[stream].on; }
  // The changes since that stream's last batch, merged; false when there is nothing to send (update ids
  // taken without a change fold into the next batch's range).
  bool take_batch(int stream, Batch& out);

 private:
  struct Change {
    bool bid;
    md::Level level;
  };
  struct Stream {
    bool on = false;
    std::uint64_t last_sent = 0;
    std::vector<Change> changes;
  };
  void diff_side(bool bid, const std::vector<md::Level>& old_levels, std::span<const md::Level> new_levels);

  std::vector<md::Level> bids_, asks_;
  std::uint64_t last_id_ = 0;
  Stream streams_[kStreams];
  bool changed_ = false;
  bool ticker_pending_ = false;  // the last id was a bookTicker's that no publication has covered yet
  md::Level ticker_bid_, ticker_ask_;
};

}  // namespace tranche::gateway::binance
