#pragma once
// A consolidated view over several venues' L2 books of one instrument: the best prices across venues, which
// venue shows them, and how old each level is (now minus the receive time of its last change). It reads the
// venue books in place; it never copies or owns them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "md/l2_book.hpp"

namespace tranche::md {

class ConsolidatedBook {
 public:
  struct Quote {
    Price price;
    Qty qty;
    std::size_t venue = 0;  // index given by add_venue
    DurationNs age_ns = 0;
  };

  // Returns the venue's index. The book must outlive this view.
  std::size_t add_venue(std::string venue, const L2Book* book);
  const std::string& venue_name(std::size_t index) const { return venues_[index].name; }
  std::size_t venue_count() const { return venues_.size(); }

  // The best level of a side across venues: the highest bid or lowest ask; on equal prices the larger
  // quantity, then the venue added first.
  std::optional<Quote> best(Side side, TimestampNs now_ns) const;
  // The top `depth` levels of a side across venues, one entry per (venue, price), best price first.
  std::size_t levels(Side side, std::size_t depth, TimestampNs now_ns, std::vector<Quote>& out) const;
  // Total quantity at the best consolidated price (every venue showing it).
  Qty qty_at_best(Side side) const;
  // True when one venue's best bid reaches another venue's best ask (a crossed consolidated book).
  bool crossed() const;

 private:
  struct Venue {
    std::string name;
    const L2Book* book;
  };
  std::vector<Venue> venues_;
  mutable std::vector<std::vector<BookLevel>> scratch_;
};

}  // namespace tranche::md
