#pragma once
// Price-level (L2) book of one instrument on one venue, on a flat array of ticks around the touch.
//
// Each side keeps a window of kWindowTicks consecutive ticks in a flat array with a two-level occupancy
// bitmap (the hot path: an update is an index, a store and a bit flip; the next best level is found with a
// few bit scans). Levels outside the window, however far from the touch, go to an ordered map: nothing the
// feed sends is dropped. The window re-centres on the touch when the touch drifts to its edge, which the
// recorded data makes rare.
//
// Both sides share one implementation over a "key" where larger is better: key = tick for bids, -tick for
// asks.
#include <array>
#include <bit>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "core/fixed_point.hpp"
#include "core/side.hpp"
#include "core/time.hpp"
#include "md/event.hpp"

namespace tranche::md {

struct BookLevel {
  Price price;
  Qty qty;
  TimestampNs updated_ns = 0;  // receive time of the level's last change
};

// Result of walking the book for a quantity: what a marketable order of that size would pay.
struct SweepResult {
  Qty filled;         // may be less than asked when the book runs out
  Notional notional;  // sum of price x qty taken
  Price worst_price = Price::unset();
  int levels = 0;
  Price average_price() const { return notional.average_price(filled); }
};

class BookSide {
 public:
  static constexpr int kWindowBits = 14;
  static constexpr std::int64_t kWindowTicks = std::int64_t{1} << kWindowBits;

  BookSide();

  void clear();
  // Sets the level at `key` to `qty` (zero deletes).
  void set(std::int64_t key, Qty qty, TimestampNs now_ns);
  bool empty() const { return level_count_ == 0; }
  std::size_t level_count() const { return level_count_; }
  // Best key; only valid when !empty().
  std::int64_t best_key() const { return best_slot_ >= 0 ? base_ + best_slot_ : far_.begin()->first; }
  Qty best_qty() const {
    return best_slot_ >= 0 ? Qty::from_raw(qty_[static_cast<std::size_t>(best_slot_)])
                           : far_.begin()->second.qty;
  }
  TimestampNs best_updated_ns() const {
    return best_slot_ >= 0 ? updated_ns_[static_cast<std::size_t>(best_slot_)]
                           : far_.begin()->second.updated_ns;
  }
  Qty qty_at(std::int64_t key) const;

  // Visits levels best first: fn(key, qty, updated_ns) returns false to stop.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (std::int64_t slot = best_slot_; slot >= 0; slot = prev_occupied(slot - 1)) {
      const auto s = static_cast<std::size_t>(slot);
      if (!fn(base_ + slot, Qty::from_raw(qty_[s]), updated_ns_[s])) return;
    }
    for (const auto& [key, level] : far_)
      if (!fn(key, level.qty, level.updated_ns)) return;
  }

  std::size_t far_level_count() const { return far_.size(); }
  std::uint64_t recentre_count() const { return recentres_; }

 private:
  struct FarLevel {
    Qty qty;
    TimestampNs updated_ns;
  };
  static constexpr std::size_t kWords = static_cast<std::size_t>(kWindowTicks / 64);
  static constexpr std::size_t kSummaryWords = kWords / 64;

  void set_in_window(std::int64_t slot, std::int64_t qty_raw, TimestampNs now_ns);
  // Highest occupied slot <= from, or -1.
  std::int64_t prev_occupied(std::int64_t from) const;
  void recentre(std::int64_t best_key);

  std::int64_t base_ = 0;        // key of slot 0
  bool based_ = false;           // the window has been placed
  std::int64_t best_slot_ = -1;  // -1: window empty (the best, if any, is in far_)
  std::size_t level_count_ = 0;
  std::vector<std::int64_t> qty_;  // raw Qty per slot, 0 = no level
  std::vector<TimestampNs> updated_ns_;
  std::array<std::uint64_t, kWords> bits_{};
  std::array<std::uint64_t, kSummaryWords> summary_{};
  // Keys outside the window, best first. Invariant: every far key is worse than the window's lowest key
  // unless the window is empty, so the best level is in the window whenever the window has one.
  std::map<std::int64_t, FarLevel, std::greater<>> far_;
  std::uint64_t recentres_ = 0;
};

class L2Book {
 public:
  // With no tick size the book infers it from the first prices it sees (the greatest common divisor of a
  // snapshot's prices) and refines it whenever a later price falls between ticks, so `md` needs no config.
  explicit L2Book(Price tick_size = Price::unset());

  Price tick_size() const { return tick_; }
  bool tick_inferred() const { return infer_; }
  std::uint64_t tick_refinements() const { return tick_refinements_; }
  void clear();

  // Applies a snapshot (replaces) or a delta; other events are ignored. Returns false when a price was off a
  // configured tick grid (that level is not applied, and counted).
  bool apply(const Event& event);
  // Sets one level (zero qty deletes). With a configured tick, false when the price is off its grid.
  bool set_level(Side side, Price price, Qty qty, TimestampNs now_ns);

  bool has_bid() const { return !bids_.empty(); }
  bool has_ask() const { return !asks_.empty(); }
  Price best_bid() const {
    return has_bid() ? Price::from_raw(bids_.best_key() * tick_.raw()) : Price::unset();
  }
  Price best_ask() const {
    return has_ask() ? Price::from_raw(-asks_.best_key() * tick_.raw()) : Price::unset();
  }
  Qty best_bid_qty() const { return has_bid() ? bids_.best_qty() : Qty{}; }
  Qty best_ask_qty() const { return has_ask() ? asks_.best_qty() : Qty{}; }
  bool crossed() const { return has_bid() && has_ask() && bids_.best_key() >= -asks_.best_key(); }
  // Mid in price units (may sit half a tick off the grid, so it is a raw value that can carry one more
  // digit).
  Price mid() const;
  Price spread() const { return has_bid() && has_ask() ? best_ask() - best_bid() : Price::unset(); }

  // Up to `depth` levels of one side, best first.
  std::size_t levels(Side side, std::size_t depth, std::vector<BookLevel>& out) const;
  std::size_t level_count(Side side) const {
    return side == Side::Buy ? bids_.level_count() : asks_.level_count();
  }
  Qty qty_at(Side side, Price price) const;
  // Quantity resting on `side` at prices at least as good as `limit` for a taker (bids >= limit, asks <=
  // limit).
  Qty qty_up_to(Side side, Price limit) const;
  // Walks the side a taker of `taker_side` would hit (a buy walks the asks) for `qty`, optionally not beyond
  // `limit`.
  SweepResult sweep(Side taker_side, Qty qty, Price limit = Price::unset()) const;
  // (bid qty - ask qty) / (bid qty + ask qty) over the top `depth` levels of each side; 0 for an empty book.
  double imbalance(std::size_t depth) const;

  std::uint64_t off_tick_count() const { return off_tick_; }
  const BookSide& side(Side s) const { return s == Side::Buy ? bids_ : asks_; }
  TimestampNs last_update_ns() const { return last_update_ns_; }

 private:
  bool to_key(Side side, Price price, std::int64_t& key) const {
    const std::int64_t raw = price.raw();
    const std::int64_t tick = raw / tick_.raw();
    if (tick * tick_.raw() != raw) return false;
    key = side == Side::Buy ? tick : -tick;
    return true;
  }
  Price key_price(Side side, std::int64_t key) const {
    return Price::from_raw((side == Side::Buy ? key : -key) * tick_.raw());
  }

  void refine_tick(Price price);
  void infer_from(const Event& event);

  Price tick_;
  bool infer_ = false;
  bool tick_known_ = true;
  std::uint64_t tick_refinements_ = 0;
  BookSide bids_;
  BookSide asks_;
  std::uint64_t off_tick_ = 0;
  TimestampNs last_update_ns_ = 0;
};

// Smallest tick that puts every price in `prices` on its grid: the greatest common divisor of their raw
// values.
Price infer_tick(std::span<const Price> prices);

}  // namespace tranche::md
