#include "md/book_replay.hpp"

namespace tranche::md {

namespace {
constexpr std::size_t kRecentDiffs = 64;
constexpr std::size_t kMaxPendingQuotes = 100'000;
constexpr std::size_t kMaxExamples = 20;
}  // namespace

std::string BboMismatch::to_string() const {
  return "stream " + std::to_string(stream) + " update " + std::to_string(update_id) + " at " +
         format_time(recv_ns) + ": book " + book_bid.to_string() + "x" + book_bid_qty.to_string() + " / " +
         book_ask.to_string() + "x" + book_ask_qty.to_string() + ", bookTicker " + quote_bid.to_string() +
         "x" + quote_bid_qty.to_string() + " / " + quote_ask.to_string() + "x" + quote_ask_qty.to_string();
}

void BookReplay::check(StreamBook& sb, std::uint16_t stream, const Event& quote, const StreamBook::Bbo& bbo) {
  ++sb.bbo_checks;
  const bool equal = bbo.bid == quote.price && bbo.bid_qty == quote.qty && bbo.ask == quote.price2 &&
                     bbo.ask_qty == quote.qty2;
  if (equal) return;
  ++sb.bbo_mismatches;
  if (examples_.size() < kMaxExamples)
    examples_.push_back({stream, quote.last_seq, quote.recv_ns, bbo.bid, bbo.ask, quote.price, quote.price2,
                         bbo.bid_qty, bbo.ask_qty, quote.qty, quote.qty2});
}

BookReplay::StreamBook& BookReplay::apply(const Event& event) {
  while (books_.size() <= event.stream) books_.push_back(std::make_unique<StreamBook>());
  StreamBook& sb = *books_[event.stream];
  switch (event.kind) {
    case EventKind::BookSnapshot:
    case EventKind::BookDelta: {
      sb.book.apply(event);
      if (event.kind == EventKind::BookSnapshot) {
        sb.valid = true;
        sb.recent.clear();
      }
      if (!sb.valid) break;
      sb.last_depth_id = event.last_seq;
      if (sb.book.crossed()) ++sb.crossed_after_depth;
      const StreamBook::Bbo bbo{event.last_seq, sb.book.best_bid(), sb.book.best_ask(),
                                sb.book.best_bid_qty(), sb.book.best_ask_qty()};
      sb.recent.push_back(bbo);
      if (sb.recent.size() > kRecentDiffs) sb.recent.pop_front();
      // Quotes for this update id are checked now; older ones can no longer match a diff and are dropped.
      auto it = sb.pending_quotes.begin();
      while (it != sb.pending_quotes.end() && it->first <= event.last_seq) {
        if (it->first == event.last_seq) check(sb, event.stream, it->second, bbo);
        it = sb.pending_quotes.erase(it);
      }
      break;
    }
    case EventKind::Quote: {
      if (!sb.valid || event.last_seq > sb.last_depth_id) {
        if (sb.pending_quotes.size() < kMaxPendingQuotes) sb.pending_quotes.emplace(event.last_seq, event);
        break;
      }
      for (const auto& bbo : sb.recent)
        if (bbo.id == event.last_seq) check(sb, event.stream, event, bbo);
      break;
    }
    case EventKind::Gap:
      ++sb.gaps;
      sb.valid = false;
      sb.pending_quotes.clear();
      break;
    default:
      break;
  }
  return sb;
}

std::uint64_t BookReplay::bbo_checks() const {
  std::uint64_t n = 0;
  for (const auto& b : books_) n += b->bbo_checks;
  return n;
}

std::uint64_t BookReplay::bbo_mismatches() const {
  std::uint64_t n = 0;
  for (const auto& b : books_) n += b->bbo_mismatches;
  return n;
}

}  // namespace tranche::md
