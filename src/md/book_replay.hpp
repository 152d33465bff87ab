#pragma once
// Rebuilds one L2 book per stream from an event stream and checks it against the venue's own best bid/offer:
// every Quote (bookTicker) whose update id equals a depth diff's last update id must equal the rebuilt book's
// best prices and quantities after that diff. `tranche md stats`, `tranche md book` and the golden tests all
// use this.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "md/event.hpp"
#include "md/l2_book.hpp"

namespace tranche::md {

struct BboMismatch {
  std::uint16_t stream = 0;
  std::uint64_t update_id = 0;
  TimestampNs recv_ns = 0;
  Price book_bid, book_ask, quote_bid, quote_ask;
  Qty book_bid_qty, book_ask_qty, quote_bid_qty, quote_ask_qty;
  std::string to_string() const;
};

class BookReplay {
 public:
  struct StreamBook {
    L2Book book;
    bool valid = false;  // a snapshot applied and no gap since
    std::uint64_t last_depth_id = 0;
    std::uint64_t bbo_checks = 0;
    std::uint64_t bbo_mismatches = 0;
    std::uint64_t crossed_after_depth = 0;
    std::uint64_t gaps = 0;
    // Quotes waiting for the diff with their update id, and the best prices after recent diffs for quotes
    // that arrive late.
    std::map<std::uint64_t, Event> pending_quotes;
    struct Bbo {
      std::uint64_t id;
      Price bid, ask;
      Qty bid_qty, ask_qty;
    };
    std::deque<Bbo> recent;
  };

  // Applies one event. Returns the stream's book (created on first sight).
  StreamBook& apply(const Event& event);

  StreamBook* stream(std::uint16_t id) { return id < books_.size() ? books_[id].get() : nullptr; }
  std::size_t stream_count() const { return books_.size(); }
  std::uint64_t bbo_checks() const;
  std::uint64_t bbo_mismatches() const;
  const std::vector<BboMismatch>& mismatch_examples() const { return examples_; }

 private:
  void check(StreamBook& sb, std::uint16_t stream, const Event& quote, const StreamBook::Bbo& bbo);
  std::vector<std::unique_ptr<StreamBook>> books_;
  std::vector<BboMismatch> examples_;
};

}  // namespace tranche::md
