#include "md/consolidated_book.hpp"

#include <algorithm>

namespace tranche::md {

namespace {
bool better(Side side, Price a, Price b) {
  return side == Side::Buy ? a > b : a < b;
}
}  // namespace

std::size_t ConsolidatedBook::add_venue(std::string venue, const L2Book* book) {
  venues_.push_back({std::move(venue), book});
  scratch_.resize(venues_.size());
  return venues_.size() - 1;
}

std::optional<ConsolidatedBook::Quote> ConsolidatedBook::best(Side side, TimestampNs now_ns) const {
  std::optional<Quote> best;
  for (std::size_t i = 0; i < venues_.size(); ++i) {
    const L2Book& book = *venues_[i].book;
    if (side == Side::Buy ? !book.has_bid() : !book.has_ask()) continue;
    const Price price = side == Side::Buy ? book.best_bid() : book.best_ask();
    const Qty qty = side == Side::Buy ? book.best_bid_qty() : book.best_ask_qty();
    if (!best || better(side, price, best->price) || (price == best->price && qty > best->qty)) {
      const TimestampNs updated = book.side(side).best_updated_ns();
      best = Quote{price, qty, i, now_ns - updated};
    }
  }
  return best;
}

std::size_t ConsolidatedBook::levels(Side side, std::size_t depth, TimestampNs now_ns,
                                     std::vector<Quote>& out) const {
  out.clear();
  // Each venue's own top `depth` is enough: the merged top `depth` cannot need more from any one venue.
  for (std::size_t i = 0; i < venues_.size(); ++i) venues_[i].book->levels(side, depth, scratch_[i]);
  std::vector<std::size_t> next(venues_.size(), 0);
  while (out.size() < depth) {
    std::size_t pick = venues_.size();
    for (std::size_t i = 0; i < venues_.size(); ++i) {
      if (next[i] >= scratch_[i].size()) continue;
      const BookLevel& l = scratch_[i][next[i]];
      if (pick == venues_.size()) {
        pick = i;
        continue;
      }
      const BookLevel& p = scratch_[pick][next[pick]];
      if (better(side, l.price, p.price) || (l.price == p.price && l.qty > p.qty)) pick = i;
    }
    if (pick == venues_.size()) break;
    const BookLevel& l = scratch_[pick][next[pick]++];
    out.push_back({l.price, l.qty, pick, now_ns - l.updated_ns});
  }
  return out.size();
}

Qty ConsolidatedBook::qty_at_best(Side side) const {
  const auto top = best(side, 0);
  if (!top) return Qty{};
  Qty total;
  for (const auto& v : venues_) total += v.book->qty_at(side, top->price);
  return total;
}

bool ConsolidatedBook::crossed() const {
  const auto bid = best(Side::Buy, 0);
  const auto ask = best(Side::Sell, 0);
  return bid && ask && bid->price >= ask->price;
}

}  // namespace tranche::md
