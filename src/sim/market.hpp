#pragma once
// One listing on one simulated venue: the recorded book as the venue shows it between messages, our impact on
// it, and our resting orders with their places in the queues.
//
// Prices: the recording's own prices ("recorded") and the venue's prices, which are the recorded ones plus
// the venue's shift (the basis re-centring of a scenario; zero otherwise). Our orders and everything we are
// told are in venue prices; the recorded book is never rewritten, so a shift costs nothing on the replay
// path.
//
// The venue's book at any moment:
//  - the recorded depth (snapshots and diffs) is the truth for every level;
//  - between diffs the touch follows the venue's bookTicker: a ticker newer than the last diff hides the
//    recorded levels better than its price and sets the quantity at its price (spot diffs come every 100 ms,
//    the ticker at once);
//  - minus what we took: quantity our taker orders consumed stays gone until the recorded flow refills the
//    level, and only `resilience` of each recorded increase comes back (our market impact).
//
// Our resting orders join the back of the queue at their price, behind everything displayed there (our
// earlier orders at that price included). Queue models (docs/config.md):
//  - risk-averse: only recorded trades at our price move us forward;
//  - proportional: recorded trades move us forward, and each recorded decrease of the level that trades do
//    not explain (cancels) is split between the quantity ahead of us and behind us in proportion;
//  - exact: with order-by-order (L3) data our order is placed in the venue's FIFO queue itself, so each
//    order ahead of us that is cancelled or filled moves us up by exactly its size.
// A resting order fills when recorded trades reach it (a trade at our price beyond the quantity ahead of us,
// or a trade through our price). When the venue's book crosses its price without a trade (asks posted at or
// below our bid), what it may take is `cross_fill`'s choice: nothing; no more than the recorded trades that
// reached it so far (the default: most such asks are post-only on a real venue and would have been refused,
// so a fill needs a print behind it); or everything that crossed (optimistic, for comparison). Fills are
// appended to fills() and the venue settles them.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/config.hpp"
#include "core/order.hpp"
#include "md/event.hpp"
#include "md/l2_book.hpp"
#include "md/l3_book.hpp"
#include "md/market_source.hpp"

namespace tranche::sim {

struct OwnOrder {
  ClientOrderId client_order_id;
  ParentId parent_id;
  std::uint64_t order_number = 0;  // the venue's order id
  std::uint64_t priority = 0;      // arrival order at the venue (time priority)
  Side side = Side::Buy;
  TimeInForce time_in_force = TimeInForce::GoodTillCancel;
  Price price;  // venue price
  Qty qty;
  Qty cum_qty;
  Qty leaves_qty;
  Notional cum_notional;
  Qty ahead;            // recorded quantity ahead of us at our price
  Qty traded_at_price;  // recorded trades at our price since that level's last depth change
  // Recorded trades that reached this order since it rested: through its price, or at its price beyond the
  // queue ahead. What a crossing book may fill (cross_fill = prints) is capped by it, less what filled.
  Qty supported;
  std::uint64_t phantom_id = 0;  // exact model: our order's id in the venue's L3 queue
  Amount locked;                 // balance or margin the venue holds for it
  TimestampNs accepted_ns = 0;
  TimestampNs cancel_sent_ns = -1;  // a cancel of ours is on its way (fault injection reorders around it)
  std::uint32_t fill_count = 0;     // fills reported so far
};

// One fill of a resting order, with the order's state right after it: one recorded event can fill an order
// more than once (a print through it, then the book crossing it), and each fill is reported as it was.
struct SimFill {
  ClientOrderId client_order_id;
  Price price;  // venue price
  Qty qty;
  Qty cum_qty;
  Qty leaves_qty;
};

class SimMarket final : public md::BookView {
 public:
  SimMarket(const VenueListing& listing, QueueModel queue_model, double resilience);

  const VenueListing& listing() const override { return listing_; }
  QueueModel queue_model() const { return queue_model_; }
  void set_cross_fill(CrossFill fill) { cross_fill_ = fill; }

  // A recorded event of this market's stream. Fills of our resting orders are appended to fills().
  void on_event(const md::Event& event);
  // Whether the book can be traded against: a snapshot arrived and no gap since.
  bool valid() const override { return valid_; }
  bool l3() const { return l3_ != nullptr; }
  TimestampNs last_event_ns() const override { return last_event_ns_; }
  // The feed's delay as its data shows it: receive time minus exchange time of the last event, less the
  // smallest such difference seen in the feed (the clocks are offset by more than a second).
  DurationNs recorded_delay_ns() const { return recorded_delay_ns_; }
  void set_min_clock_offset(DurationNs offset_ns) { min_clock_offset_ns_ = offset_ns; }
  DurationNs min_clock_offset_ns() const { return min_clock_offset_ns_; }
  // Databento MBO reports a fill and then the cancel or modify that changes the order; LOBSTER's execution
  // is the only record of it.
  void set_l3_fills_change_book(bool value) { l3_fills_change_book_ = value; }

  // While a venue is halted or closed nothing of ours fills; the book still follows the recording.
  void set_trading(bool trading) { trading_ = trading; }
  Price shift() const { return shift_; }
  void set_shift(Price shift) { shift_ = shift; }

  // --- the book as the venue shows it (venue prices, net of our impact) ---
  Price best(Side side) const override;
  Qty best_qty(Side side) const override;
  // The recorded book's (0 while that side is empty).
  TimestampNs best_updated_ns(Side side) const override;
  std::size_t levels(Side side, std::span<md::Level> out) const override;
  Price mid() const;
  Qty displayed_at(Side side, Price venue_price) const;
  // Visits levels best first: fn(Price venue_price, Qty qty) returns false to stop. Empty levels are skipped.
  template <class Fn>
  void for_each_level(Side side, Fn&& fn) const;
  // Quantity a taker of `taker_side` can get at prices up to `limit` (unset: any price).
  Qty available(Side taker_side, Price limit) const;

  // --- our orders ---
  // Takes up to `qty` for a taker of `taker_side` at prices up to `limit`, consuming the liquidity; fills are
  // appended to `out` (venue prices, best first). Returns the quantity taken.
  Qty take(Side taker_side, Qty qty, Price limit, std::vector<md::Level>& out);
  // Rests an order at the back of its queue (its `ahead` computed here).
  void rest(OwnOrder order);
  OwnOrder* find(ClientOrderId id);
  // Removes a resting order (cancel, fill, close); orders behind it at its price move up.
  bool remove(ClientOrderId id, OwnOrder* removed = nullptr);
  // A quantity reduction that keeps the order's place.
  void reduce(OwnOrder& order, Qty new_leaves);
  // Records a fill of a resting order on it (cum, leaves, notional); the caller settles and reports.
  void apply_fill(OwnOrder& order, Price price, Qty qty);
  const std::vector<OwnOrder>& orders() const { return orders_; }
  std::vector<OwnOrder>& orders() { return orders_; }
  std::vector<SimFill>& fills() { return fills_; }
  // Prices we consumed that have not come back (recorded prices), for tests and reports.
  Qty consumed_at(Side side, Price venue_price) const;
  bool has_consumed() const { return !consumed_[0].empty() || !consumed_[1].empty(); }
  const md::L2Book& recorded_book() const { return book_; }

 private:
  struct Ticker {
    bool valid = false;
    std::uint64_t update_id = 0;
    Price bid, ask;
    Qty bid_qty, ask_qty;
  };
  static bool better(Side side, Price a, Price b) { return side == Side::Buy ? a > b : a < b; }
  bool ticker_overrides() const { return ticker_.valid && ticker_.update_id > last_depth_id_; }
  Qty recorded_at(Side side, Price recorded) const;  // with the ticker override
  Qty consumed_recorded(Side side, Price recorded) const;
  void consume(Side side, Price recorded, Qty qty);
  void on_depth(const md::Event& event);
  void on_l3(const md::Event& event);
  void on_level_change(Side side, Price recorded, Qty old_qty, Qty new_qty);
  void on_trade(Side aggressor, Price recorded, Qty qty);
  // A print of `qty` at the order's price: the queue ahead goes first; returns what reaches the order.
  static Qty pass_queue(OwnOrder& order, Qty qty);
  void check_crossed();
  // `at_price_print`: the fill came from a print at the order's price, which already moved every later order
  // of ours at that price; other fills move them here.
  void fill_resting(OwnOrder& order, Price price, Qty qty, bool at_price_print = false);
  Qty own_qty_at(Side side, Price venue_price, bool in_l3_queue) const;
  // Our own resting quantity ahead of `order` at its price (earlier orders of ours there).
  Qty own_ahead_of(const OwnOrder& order) const;
  // The exact model needs order ids; without them it moves like risk-averse.
  bool exact() const { return queue_model_ == QueueModel::Exact && l3_ != nullptr; }
  void sync_l2_from_l3(Side side, Price recorded, TimestampNs now_ns);

  VenueListing listing_;
  QueueModel queue_model_;
  CrossFill cross_fill_ = CrossFill::Prints;
  double resilience_;
  md::L2Book book_;
  std::unique_ptr<md::L3Book> l3_;  // order-by-order feeds: the venue's FIFO queues
  Ticker ticker_;
  std::uint64_t last_depth_id_ = 0;
  bool valid_ = false;
  Price shift_;
  TimestampNs last_event_ns_ = 0;
  DurationNs min_clock_offset_ns_ = 0;
  DurationNs recorded_delay_ns_ = 0;
  std::vector<md::Level> consumed_[2];  // by side of the book, recorded prices
  std::vector<OwnOrder> orders_;
  std::vector<SimFill> fills_;
  std::vector<md::Level> scratch_;
  std::uint64_t next_phantom_ = 0;
  // Orders the trade records of the current venue event name as aggressors (MBO), cleared at its last record.
  static constexpr std::size_t kMaxEventAggressors = 64;
  std::vector<std::uint64_t> event_aggressors_;
  bool l3_fills_change_book_ = true;
  bool trading_ = true;
};

template <class Fn>
void SimMarket::for_each_level(Side side, Fn&& fn) const {
  const std::int64_t tick = book_.tick_size().raw();
  const bool override = ticker_overrides();
  const Price top = side == Side::Buy ? ticker_.bid : ticker_.ask;
  const Qty top_qty = side == Side::Buy ? ticker_.bid_qty : ticker_.ask_qty;
  const bool any_consumed = !consumed_[static_cast<int>(side)].empty();
  bool top_done = !override || !top.is_set();  // a zero ticker quantity still hides the better levels
  auto emit = [&](Price recorded, Qty qty) {
    if (any_consumed) qty = qty - consumed_recorded(side, recorded);
    if (!qty.is_positive()) return true;
    return static_cast<bool>(fn(recorded + shift_, qty));
  };
  bool stop = false;
  book_.side(side).for_each([&](std::int64_t key, Qty qty, TimestampNs) {
    const Price recorded = Price::from_raw((side == Side::Buy ? key : -key) * tick);
    if (!top_done) {
      if (better(side, recorded, top)) return true;  // hidden by the newer ticker
      top_done = true;
      if (recorded == top) {
        stop = !emit(top, top_qty);
        return !stop;
      }
      if (!emit(top, top_qty)) {
        stop = true;
        return false;
      }
    }
    stop = !emit(recorded, qty);
    return !stop;
  });
  if (!stop && !top_done) emit(top, top_qty);
}

}  // namespace tranche::sim
