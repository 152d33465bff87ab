// Golden tests of the L3 book against real order-by-order data: LOBSTER's published best level after every
// message (NASDAQ AMZN, one day) and the invariants of a continuous CME session (Databento MBO, ES futures).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

#include "md/l3_book.hpp"
#include "md/lobster_reader.hpp"
#include "md/mbo_reader.hpp"
#include "md/test_data.hpp"

namespace tranche::md {
namespace {

std::string describe(Price price, Qty qty) {
  return (price.is_set() ? price.to_string() : std::string("-")) + " x " + qty.to_string();
}

// ---------------------------------------------------------------------------------------------------------------
// LOBSTER. A level-1 message file holds only the messages that touch the best level ("the requested price
// range", LOBSTER's ReadMe): of this day's 57,514 messages, every one except the 2,445 hidden executions is
// at the best price or improves it. (Our data README says the messages cover every level; they do not.) Two
// consequences:
//  - the book at the open is not given, so orders resting before the first message are unknown;
//  - an order that falls behind a better price stops being reported: it may be cancelled unseen, and unseen
//  orders
//    may join its level before the level comes back to the top.
// So only the best level can be checked, message by message: orderbook row i-1 plus message i gives row i.
// Before message i, each side's best level in the book is synchronised with row i-1: levels better than the
// row's best were emptied unseen and are dropped; a level whose known quantity differs from the row's is
// replaced by one synthetic "residual" order of the published size (standing for orders we cannot name;
// cancels and executions of unknown ids at that price come off it). When the known quantity already equals
// the row's, the book's own orders stay: most messages run on fully known levels. Then message i is applied
// and row i must follow:
//  - a cancel or execution at the best price, or an add at or better than it, leaves that side's best level
//  exactly
//    as the book now holds it ("exact"), unless it removed the whole level: the next level was never
//    reported, so row i must only show a worse price or an empty side ("revealed");
//  - the other side, and both sides after every other message (the hidden executions), are unchanged
//  ("untouched").
class LobsterBestLevelCheck {
 public:
  std::uint64_t exact = 0;
  std::uint64_t revealed = 0;
  std::uint64_t untouched = 0;
  std::uint64_t resynchronised =
      0;                     // levels replaced by a residual (unseen changes), or dropped as emptied unseen
  std::uint64_t folded = 0;  // levels turned into a residual by an order we cannot name
  std::uint64_t mismatches = 0;
  std::vector<std::string> first_mismatches;

  void mismatch(const Event& e, std::string what) {
    ++mismatches;
    if (first_mismatches.size() < 10)
      first_mismatches.push_back("message " + std::to_string(e.last_seq) + " (kind " +
                                 std::to_string(int(e.kind)) + " order " + std::to_string(e.order_id) + " " +
                                 describe(e.price, e.qty) + "): " + what);
  }

  static Price price_of(const LobsterTop& row, Side side) { return side == Side::Buy ? row.bid : row.ask; }
  static Qty qty_of(const LobsterTop& row, Side side) {
    return side == Side::Buy ? row.bid_qty : row.ask_qty;
  }
  static bool better(Side side, Price a, Price b) { return side == Side::Buy ? a > b : a < b; }

  void synchronise(const LobsterTop& row) {
    for (const Side side : {Side::Buy, Side::Sell}) {
      const Price price = price_of(row, side);
      for (L3Level best = book.best(side);
           best.price.is_set() && (!price.is_set() || better(side, best.price, price));
           best = book.best(side)) {
        book.remove_level(side, best.price);
        ++resynchronised;
      }
      if (!price.is_set()) continue;
      const Qty shown = qty_of(row, side);
      if (book.level_at(side, price).qty == shown) continue;
      book.remove_level(side, price);
      ++resynchronised;
      const std::uint64_t id = next_residual_id_++;
      residual_[std::make_pair(side, price)] = id;
      (void)book.add(id, side, price, shown);
    }
  }

  void apply(const Event& e) {
    const L3Status status = book.apply(e);
    if (status != L3Status::UnknownOrder) {
      if (status != L3Status::Ok && status != L3Status::Ignored)
        mismatch(e, std::string("book: ") + to_string(status));
      return;
    }
    // An order we cannot name (resting before the first message, or added while its level was not the best).
    // At a level the book does not hold it is invisible to the check. Otherwise it comes off the residual
    // there; when the residual is too small, some of the level's known orders left unseen while the level was
    // behind the best (the quantity matched the row, the composition did not): the whole level becomes one
    // residual.
    const L3Level level = book.level_at(e.side, e.price);
    if (level.orders == 0) return;
    const auto key = std::make_pair(e.side, e.price);
    const auto it = residual_.find(key);
    L3Order residual;
    if (it == residual_.end() || !book.find(it->second, residual) || residual.qty < e.qty) {
      book.remove_level(e.side, e.price);
      ++folded;
      const std::uint64_t id = next_residual_id_++;
      residual_[key] = id;
      (void)book.add(id, e.side, e.price, level.qty);
    }
    if (book.cancel(residual_[key], e.qty) == L3Status::QtyExceedsOrder)
      mismatch(e, "more than the level holds (" + level.qty.to_string() + ")");
  }

  void check(const Event& e, const LobsterTop& before, const LobsterTop& after) {
    const bool book_message =
        e.kind == EventKind::OrderAdd || e.kind == EventKind::OrderCancel || e.kind == EventKind::OrderFill;
    const Side side = e.side;
    const Price best_before = price_of(before, side);
    const bool touched =
        book_message &&
        ((best_before.is_set() && e.price == best_before) ||
         (e.kind == EventKind::OrderAdd && (!best_before.is_set() || better(side, e.price, best_before))));
    if (!touched) {
      ++untouched;
      if (!(before == after)) mismatch(e, "row changed although the message is away from the best level");
      return;
    }
    const Side other = opposite(side);
    if (price_of(after, other) != price_of(before, other) || qty_of(after, other) != qty_of(before, other))
      mismatch(e, "the other side's best level changed");
    const Price shown = price_of(after, side);
    const Qty shown_qty = qty_of(after, side);
    const bool emptied = e.kind != EventKind::OrderAdd && book.level_at(side, best_before).orders == 0;
    if (emptied) {
      ++revealed;
      if (shown.is_set() && !better(side, best_before, shown))
        mismatch(e,
                 "emptied level " + best_before.to_string() + " but row shows " + describe(shown, shown_qty));
      return;
    }
    ++exact;
    const L3Level best = book.best(side);
    if (best.price != shown || best.qty != shown_qty)
      mismatch(e, "book best " + describe(best.price, best.qty) + ", row " + describe(shown, shown_qty));
  }

  L3Book book;

 private:
  std::map<std::pair<Side, Price>, std::uint64_t> residual_;
  std::uint64_t next_residual_id_ = std::uint64_t{1} << 62;  // far above NASDAQ order reference numbers
};

TEST(L3GoldenLobster, PredictsEveryPublishedBestLevelOfTheAmznDay) {
  const std::string messages =
      testing::shared_data("lobster/AMZN_2012-06-21_34200000_57600000_message_1.csv");
  const std::string orderbook =
      testing::shared_data("lobster/AMZN_2012-06-21_34200000_57600000_orderbook_1.csv");
  TRANCHE_REQUIRE_SHARED_FILE(messages);
  TRANCHE_REQUIRE_SHARED_FILE(orderbook);

  auto rows = read_lobster_orderbook(orderbook);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  auto reader = make_lobster_reader({messages});
  LobsterBestLevelCheck check;
  Event e;
  std::uint64_t events = 0;
  while (reader->next(e)) {
    ++events;
    ASSERT_GE(e.last_seq, 1u);
    ASSERT_LE(e.last_seq, rows->size()) << "more messages than orderbook rows";
    const std::size_t row = e.last_seq - 1;  // the book after this message
    if (row == 0) {                          // nothing is known before the first message
      check.apply(e);
      continue;
    }
    check.synchronise((*rows)[row - 1]);
    check.apply(e);
    check.check(e, (*rows)[row - 1], (*rows)[row]);
  }
  EXPECT_EQ(reader->error_count(), 0u);
  EXPECT_EQ(events, rows->size());
  std::printf(
      "[ lobster  ] %llu messages checked: %llu best levels predicted exactly, %llu emptied the best level "
      "(row moved away), %llu away from the best level (row unchanged); %llu mismatches. %llu levels "
      "resynchronised from the previous row, %llu folded by an order we cannot name, %llu events on such "
      "orders\n",
      static_cast<unsigned long long>(check.exact + check.revealed + check.untouched),
      static_cast<unsigned long long>(check.exact), static_cast<unsigned long long>(check.revealed),
      static_cast<unsigned long long>(check.untouched), static_cast<unsigned long long>(check.mismatches),
      static_cast<unsigned long long>(check.resynchronised), static_cast<unsigned long long>(check.folded),
      static_cast<unsigned long long>(check.book.count(L3Status::UnknownOrder)));
  for (const std::string& m : check.first_mismatches) ADD_FAILURE() << m;
  EXPECT_EQ(check.mismatches, 0u);
  EXPECT_GT(check.exact, 20'000u);
}

// ---------------------------------------------------------------------------------------------------------------
// CME ES, Databento MBO: a full snapshot of 8,725 resting orders, an hour of pre-open (crossed books are
// normal there), then the open. Once the session is open the book must be uncrossed at the end of every venue
// event, and every trade must print against the book as it stood before its event. What the data showed, and
// the checks hold:
//  - The session opens by the exchange's clock: the pre-open's last order (seq 5995) was sent at
//  22:59:59.9997 and
//    received at 23:00:00.00007, crossed like the rest of the pre-open, so the phase goes by ts_event, not
//    ts_recv.
//  - The opening auction prints one trade with no aggressor (side N) at 23:00:00.000 exchange time, against a
//  book
//    crossed by the pre-open (bid 4809 / ask 4785.5): it has no touch to print within. Its check: the event
//    that uncrosses the book leaves bid <= price <= ask, and every order it fills has a limit at or through
//    the price.
//  - The auction's fills include 14 lots on orders the feed never showed (not in the snapshot, never added;
//  their
//    ids are of the snapshot's generation), gone with their fill. They are what the shown orders lack: fills
//    of both sides add up to exactly twice the printed quantity (31 + 43 + 14 = 2 x 44), which is checked.
//  - An aggressor that meets more than the best level prints one trade per level in the same event (seq 6008:
//    4800.25 then 4800.5 against a 4800.25 ask), so "bid <= price <= ask" only holds for the first trade. The
//    check: a trade never prints better for the aggressor than the touch, and a trade through it leaves
//    nothing resting at a better price once its event is applied. 14 trades went past quantity still shown
//    there, which the same event then cancelled instead of filling (seq 20182: order ...271170, 1 lot at
//    4807.25): most likely CME's self-match prevention, which cancels the resting order of the aggressor's
//    own firm.
//  - Fills report the resting orders, which must rest on their side at the fill price (the C/M that follow
//  apply
//    them). 27 of them exceed the displayed quantity: iceberg orders, whose next tranche the following M
//    shows (and which loses time priority, as the book's modify rule does). Fills also report the aggressor's
//    own order when a modify made a resting order marketable (seq 7385: order ...266252 moved from 4802 to
//    4801.5 and hit the bid); the T record names it, so fills of the event's aggressor are counted apart.
TEST(L3GoldenMbo, KeepsTheEsBookUncrossedAndTradesWithinTheTouchOnceTheSessionOpens) {
  const std::string path =
      testing::shared_data("nautilus/databento/derived-csv/esh4-glbx-mdp3-20231225.mbo.csv.gz");
  TRANCHE_REQUIRE_SHARED_FILE(path);
  constexpr TimestampNs kOpenNs = 1'703'545'200 * kNanosPerSecond;  // 2023-12-25T23:00:00Z
  constexpr std::size_t kDepth = 32;

  auto reader = make_mbo_reader({path});
  L3Book book(L3BookOptions{.fills_change_book = false});
  // The book as it stood at the end of the previous venue event.
  std::array<L3Level, kDepth> bids_before{}, asks_before{};
  std::size_t bid_levels = 0, ask_levels = 0;
  // This event so far.
  std::vector<Level> event_trades;
  std::vector<std::uint64_t> event_aggressors;
  std::vector<std::pair<std::uint64_t, Qty>> event_fills;
  std::vector<Price> event_auction_prices;
  std::vector<std::pair<Side, Price>> event_through;  // aggressor and price of trades through the touch
  Qty auction_qty, auction_fills_shown[2], auction_fills_unshown;

  std::uint64_t records = 0, event_ends = 0, uncrossed_checks = 0, crossed = 0;
  std::uint64_t trades_at_touch = 0, trades_through = 0, trades_past_untraded = 0, auction_prints = 0;
  std::uint64_t trade_violations = 0;
  std::uint64_t resting_fills = 0, iceberg_fills = 0, aggressor_fills = 0, auction_fills = 0,
                fill_violations = 0;
  std::vector<std::string> first;
  auto note = [&](const Event& e, const std::string& what) {
    if (first.size() < 20)
      first.push_back("seq " + std::to_string(e.last_seq) + " " + format_time(e.recv_ns) + ": " + what);
  };
  Event e;
  while (reader->next(e)) {
    ++records;
    const bool open = e.exch_ns >= kOpenNs;
    if (open && e.kind == EventKind::Trade) {
      if (e.flags & kFlagSideUnknown) {
        ++auction_prints;
        auction_qty += e.qty;
        event_auction_prices.push_back(e.price);
      } else {
        const Side aggressor = e.side;
        const std::span<const L3Level> touch_side =
            aggressor == Side::Buy ? std::span<const L3Level>(asks_before.data(), ask_levels)
                                   : std::span<const L3Level>(bids_before.data(), bid_levels);
        // For the aggressor, a better price is a lower one when buying.
        auto better = [&](Price a, Price b) { return aggressor == Side::Buy ? a < b : a > b; };
        if (touch_side.empty() || better(e.price, touch_side[0].price)) {
          ++trade_violations;
          note(e, "trade " + describe(e.price, e.qty) + " " + std::string(to_string(aggressor)) +
                      " better than the touch " +
                      (touch_side.empty() ? "-" : touch_side[0].price.to_string()));
        } else if (e.price == touch_side[0].price) {
          ++trades_at_touch;
        } else {
          Qty shown_better, traded_better;
          for (const L3Level& level : touch_side)
            if (better(level.price, e.price)) shown_better += level.qty;
          for (const Level& trade : event_trades)
            if (better(trade.price, e.price)) traded_better += trade.qty;
          ++trades_through;
          if (traded_better < shown_better) ++trades_past_untraded;
          event_through.push_back({aggressor, e.price});
        }
        event_trades.push_back({e.price, e.qty});
        if (e.order_id != 0) event_aggressors.push_back(e.order_id);
      }
    }
    if (open && e.kind == EventKind::OrderFill) {
      L3Order order;
      const bool resting = book.find(e.order_id, order);
      Qty filled = e.qty;
      for (auto& [id, qty] : event_fills)
        if (id == e.order_id) filled = (qty += e.qty);
      if (filled == e.qty) event_fills.emplace_back(e.order_id, e.qty);
      if (std::find(event_aggressors.begin(), event_aggressors.end(), e.order_id) != event_aggressors.end()) {
        ++aggressor_fills;
      } else if (e.flags & kFlagSideUnknown) {
        ++auction_fills;
        if (!resting) {
          auction_fills_unshown += e.qty;
        } else {
          auction_fills_shown[static_cast<int>(order.side)] += e.qty;
          const bool reaches = order.side == Side::Buy ? order.price >= e.price : order.price <= e.price;
          if (!reaches || order.qty < filled) {
            ++fill_violations;
            note(e, "auction fill of order " + std::to_string(e.order_id) + " " + describe(e.price, e.qty) +
                        " whose limit does not reach the price");
          }
        }
      } else {
        ++resting_fills;
        if (!resting || order.side != e.side || order.price != e.price) {
          ++fill_violations;
          note(e, "fill of order " + std::to_string(e.order_id) + " " + describe(e.price, filled) +
                      " not resting");
        } else if (order.qty < filled) {
          ++iceberg_fills;
        }
      }
    }
    const L3Status status = book.apply(e);
    if (status != L3Status::Ok && status != L3Status::Ignored)
      note(e, std::string("book: ") + to_string(status) + " for order " + std::to_string(e.order_id));
    if (e.flags & kFlagLastInEvent) {
      ++event_ends;
      const L3Level bid = book.best_bid(), ask = book.best_ask();
      if (open) {
        ++uncrossed_checks;
        if (book.crossed()) {
          ++crossed;
          note(e, "crossed: " + describe(bid.price, bid.qty) + " / " + describe(ask.price, ask.qty));
        }
        for (const Price price : event_auction_prices) {
          if (!bid.price.is_set() || !ask.price.is_set() || price < bid.price || ask.price < price) {
            ++trade_violations;
            note(e, "auction print " + price.to_string() + " outside the uncrossed book " +
                        describe(bid.price, bid.qty) + " / " + describe(ask.price, ask.qty));
          }
        }
        for (const auto& [aggressor, price] : event_through) {
          const L3Level touch = book.best(opposite(aggressor));
          if (touch.price.is_set() && (aggressor == Side::Buy ? touch.price < price : touch.price > price)) {
            ++trade_violations;
            note(e, "trade through " + price.to_string() + " left " + describe(touch.price, touch.qty) +
                        " resting at a better price");
          }
        }
      }
      bid_levels = book.depth(Side::Buy, bids_before);
      ask_levels = book.depth(Side::Sell, asks_before);
      event_trades.clear();
      event_aggressors.clear();
      event_fills.clear();
      event_auction_prices.clear();
      event_through.clear();
    }
  }
  std::uint64_t book_errors = 0;
  for (const L3Status s : {L3Status::UnknownOrder, L3Status::DuplicateOrder, L3Status::QtyExceedsOrder,
                           L3Status::InvalidQty, L3Status::InvalidPrice})
    book_errors += book.count(s);
  const std::uint64_t trades = trades_at_touch + trades_through + auction_prints;
  std::printf(
      "[ mbo      ] %llu records, %llu event ends. After the open: %llu uncrossed checks (%llu crossed); "
      "%llu "
      "trades checked (%llu at the touch, %llu through it, %llu of them past quantity cancelled in the same "
      "event, "
      "%llu auction) with %llu violations; fills: %llu resting checked (%llu beyond the displayed qty: "
      "icebergs), "
      "%llu auction checked (%s on orders never shown), %llu of the aggressor, %llu violations; book errors "
      "%llu; "
      "%zu orders at the end\n",
      static_cast<unsigned long long>(records), static_cast<unsigned long long>(event_ends),
      static_cast<unsigned long long>(uncrossed_checks), static_cast<unsigned long long>(crossed),
      static_cast<unsigned long long>(trades), static_cast<unsigned long long>(trades_at_touch),
      static_cast<unsigned long long>(trades_through), static_cast<unsigned long long>(trades_past_untraded),
      static_cast<unsigned long long>(auction_prints), static_cast<unsigned long long>(trade_violations),
      static_cast<unsigned long long>(resting_fills), static_cast<unsigned long long>(iceberg_fills),
      static_cast<unsigned long long>(auction_fills), auction_fills_unshown.to_string().c_str(),
      static_cast<unsigned long long>(aggressor_fills), static_cast<unsigned long long>(fill_violations),
      static_cast<unsigned long long>(book_errors), book.order_count());
  std::printf(
      "[ mbo      ] opening auction: %s printed; fills of shown buys %s, shown sells %s, unshown %s\n",
      auction_qty.to_string().c_str(), auction_fills_shown[0].to_string().c_str(),
      auction_fills_shown[1].to_string().c_str(), auction_fills_unshown.to_string().c_str());
  for (const std::string& m : first) ADD_FAILURE() << m;
  EXPECT_EQ(reader->error_count(), 0u);
  EXPECT_EQ(crossed, 0u);
  EXPECT_EQ(trade_violations, 0u);
  EXPECT_EQ(fill_violations, 0u);
  EXPECT_EQ(book_errors, 0u);
  EXPECT_EQ(auction_prints, 1u);
  EXPECT_EQ((auction_fills_shown[0] + auction_fills_shown[1] + auction_fills_unshown).raw(),
            2 * auction_qty.raw());
  EXPECT_LE(auction_fills_shown[0], auction_qty);
  EXPECT_LE(auction_fills_shown[1], auction_qty);
  EXPECT_GT(uncrossed_checks, 40'000u);
  EXPECT_GT(trades_at_touch, 2'000u);
  EXPECT_GT(resting_fills, 5'000u);
}

}  // namespace
}  // namespace tranche::md
