#pragma once
// Order-by-order (L3) book of one instrument: every resting order by id, its place in the FIFO queue of its
// price level, and the aggregated levels (best bid/ask with quantity and order count, N levels deep) built
// from them.
//
// Layout: orders live in one pooled vector of nodes (indices, not pointers, so the pool can grow); an
// unordered_map takes an order id to its node; each price level keeps a doubly linked FIFO through the nodes
// (head = first in time priority) and its running total. Levels are ordered in a std::map per side, bids
// best-first by std::greater. Every mutation is O(1) plus one map step when a level appears or disappears.
//
// Priority rules (the exchange-neutral ones, which CME and NASDAQ follow):
//  - a modify that changes the price, or raises the quantity, loses priority: the order goes to the back of
//  the
//    queue at its (new) price;
//  - a modify that only lowers the quantity keeps the order where it is;
//  - a modify that changes nothing keeps priority.
//
// Errors are values: an unknown order id, a duplicate add or a quantity larger than the order leaves the book
// consistent, returns a status and is counted by kind; nothing throws on the hot path (beyond the allocator).
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/fixed_point.hpp"
#include "core/side.hpp"
#include "md/event.hpp"

namespace tranche::md {

enum class L3Status : std::uint8_t {
  Ok = 0,
  Ignored,         // not a book event (Trade, Quote, L2 kinds, Gap), or a fill the book was told not to apply
  UnknownOrder,    // cancel/modify/fill of an order id the book does not hold: nothing changed
  DuplicateOrder,  // add of an id already resting: nothing changed
  QtyExceedsOrder,  // cancel/fill of more than the order holds: the order was removed
  InvalidQty,       // add/modify with qty <= 0, or cancel/fill with qty < 0: nothing changed
  InvalidPrice,     // add/modify without a price: nothing changed
};
inline constexpr std::size_t kL3StatusCount = 7;
const char* to_string(L3Status status);

struct L3Level {
  Price price = Price::unset();
  Qty qty;                   // sum of the resting orders' quantities
  std::uint32_t orders = 0;  // resting orders at the price
};

struct L3Order {
  std::uint64_t id = 0;
  Side side = Side::Buy;
  Price price;
  Qty qty;
};

struct L3BookOptions {
  // Whether OrderFill reduces the resting order. LOBSTER: yes (a visible execution is the only record of it).
  // Databento MBO (CME): no; every F record is followed, in the same venue event, by the C or M that changes
  // the order, so applying both would remove the quantity twice. The F then only reports who traded.
  bool fills_change_book = true;
};

class L3Book {
 public:
  explicit L3Book(L3BookOptions options = {});

  // Applies an L3 event: OrderAdd, OrderCancel (qty leaves the order; it is removed at zero), OrderModify
  // (new price and qty), OrderFill, BookClear. Other kinds return Ignored.
  L3Status apply(const Event& event);

  L3Status add(std::uint64_t id, Side side, Price price, Qty qty);
  // Removes `qty` from the order (all of it when qty >= the order's quantity; QtyExceedsOrder when strictly
  // more).
  L3Status cancel(std::uint64_t id, Qty qty);
  L3Status remove(std::uint64_t id);  // the whole order, whatever its quantity
  L3Status fill(std::uint64_t id, Qty qty) { return cancel(id, qty); }
  // New price and quantity; see the priority rules above. The order keeps its side: no venue moves an order
  // across the book, and a feed may not repeat the side on a modify.
  L3Status modify(std::uint64_t id, Price price, Qty qty);
  void clear();
  // Removes every order resting at a price (a resynchronisation from a published level); returns how many.
  std::size_t remove_level(Side side, Price price);

  // Best level of a side; price unset and qty zero when the side is empty.
  L3Level best(Side side) const;
  L3Level best_bid() const { return best(Side::Buy); }
  L3Level best_ask() const { return best(Side::Sell); }
  // Both sides present and bid >= ask. A locked book counts as crossed: a continuous matching engine leaves
  // neither.
  bool crossed() const;
  // Up to out.size() aggregated levels of a side, best first; returns how many were written.
  std::size_t depth(Side side, std::span<L3Level> out) const;
  // The aggregated level at a price (zero qty and orders when none rest there).
  L3Level level_at(Side side, Price price) const;

  bool contains(std::uint64_t id) const { return index_.find(id) != index_.end(); }
  // The order as it rests now; false when unknown.
  bool find(std::uint64_t id, L3Order& out) const;
  // Quantity resting ahead of the order at its price (FIFO); false when unknown. Walks back from the order to
  // the head of its queue: O(orders ahead), which a queue-position model asks once per own order and event.
  bool qty_ahead(std::uint64_t id, Qty& out) const;
  // Orders ahead of it in the queue (0 = first in line); false when unknown.
  bool orders_ahead(std::uint64_t id, std::uint32_t& out) const;

  std::size_t order_count() const { return index_.size(); }
  std::size_t level_count(Side side) const { return side == Side::Buy ? bids_.size() : asks_.size(); }
  bool empty() const { return index_.empty(); }
  // How many calls returned each status (indexed by the enum's value).
  std::uint64_t count(L3Status status) const { return counts_[static_cast<std::size_t>(status)]; }
  const L3BookOptions& options() const { return options_; }

 private:
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;

  struct Queue {
    Qty qty;
    std::uint32_t orders = 0;
    std::uint32_t head = kNone;  // first in time priority
    std::uint32_t tail = kNone;
  };
  struct Node {
    std::uint64_t id = 0;
    Price price;
    Qty qty;
    Queue* queue = nullptr;  // std::map nodes are stable, so the pointer lives as long as the level
    std::uint32_t prev = kNone;
    std::uint32_t next = kNone;
    Side side = Side::Buy;
  };
  using BidLevels = std::map<Price, Queue, std::greater<Price>>;
  using AskLevels = std::map<Price, Queue, std::less<Price>>;

  L3Status counted(L3Status status) {
    ++counts_[static_cast<std::size_t>(status)];
    return status;
  }
  std::uint32_t allocate_node();
  void link_back(std::uint32_t node_index, Side side, Price price);
  void unlink(
      std::uint32_t node_index);  // takes the node out of its queue, erasing the level when it empties
  void release(std::uint32_t node_index, std::uint64_t id);

  L3BookOptions options_;
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> free_;
  std::unordered_map<std::uint64_t, std::uint32_t> index_;
  BidLevels bids_;
  AskLevels asks_;
  std::array<std::uint64_t, kL3StatusCount> counts_{};
};

}  // namespace tranche::md
