#pragma once
// Price-level (L2) book of one instrument on one venue, on a flat array of ticks around the touch.
//
// Each side keeps a window of kWindowTicks consecutive ticks in a flat array with a two-level occupancy
// bitmap (the hot path: an update is an index, a store and a bit flip; the next best level is found with a
// few bit scans). The bitmap, not the array, says which levels exist: it is small enough to stay in the
// first-level cache, so an update never reads the array (a slot is written, never loaded, and a cold slot
// costs no cache miss), and clearing a side clears only the bitmap. Levels outside the window, however far
// from the touch, go to a hash of their own: nothing the feed sends is dropped. The window re-centres on the
// touch when the touch drifts to its edge, which the recorded data makes rare.
//
// A diff's levels are applied in one run per side (BookSide::set_run) with the side's best level and count
// held in registers, so one level's update does not wait on the last one's stores.
//
// Both sides share one implementation over a "key" where larger is better: key = tick for bids, -tick for
// asks.
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
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

// Levels outside the window: an open-addressing hash on the key, so a far level changes in O(1) like a near
// one (a tenth of USD-M ETH's level changes land hundreds of dollars from the touch). Ordered traversal is
// rare (deep queries, re-centring) and sorts a copy on demand.
class FarLevels {
 public:
  struct Entry {
    std::int64_t key;
    std::int64_t qty;
    TimestampNs updated_ns;
  };
  static constexpr std::int64_t kEmpty = std::numeric_limits<std::int64_t>::min();

  FarLevels() { slots_.assign(64, Entry{kEmpty, 0, 0}); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() {
    if (size_ == 0) return;
    std::fill(slots_.begin(), slots_.end(), Entry{kEmpty, 0, 0});
    size_ = 0;
    sorted_valid_ = false;
  }
  // Returns the change in level count: +1 added, -1 removed, 0 updated or nothing.
  int set(std::int64_t key, std::int64_t qty, TimestampNs now_ns);
  const Entry* find(std::int64_t key) const;
  // Entries best (largest key) first; valid until the next change.
  const std::vector<Entry>& sorted() const;
  // Removes and returns the entries whose keys fall in [low, high].
  void extract_range(std::int64_t low, std::int64_t high, std::vector<Entry>& out);

 private:
  std::size_t slot_of(std::int64_t key) const {
    return static_cast<std::size_t>((static_cast<std::uint64_t>(key) * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void grow();
  void erase_at(std::size_t i);

  std::vector<Entry> slots_;
  std::size_t size_ = 0;
  unsigned shift_ = 64 - 6;
  mutable std::vector<Entry> sorted_;
  mutable bool sorted_valid_ = false;
};

class BookSide {
 public:
  // 32,768 ticks: $327.68 of ETH at a cent, which holds nearly all of Binance's 1,000-level books and all
  // but a tenth of USD-M's changes (its deep levels lie hundreds of dollars out, and go to the far hash).
  // A window four times as wide took that tenth in too, for 9% more speed on USD-M's diffs and none on
  // spot's, at two to three times the resident memory per book (sim_bench). The slots are 512 KiB of
  // address space, of which only the pages levels land on become resident (mapped from the system, which
  // zeroes a page when it is first touched; never written to clear them); the bitmap is 4 KiB.
  static constexpr int kWindowBits = 15;
  static constexpr std::int64_t kWindowTicks = std::int64_t{1} << kWindowBits;

  BookSide();
  BookSide(const BookSide& other);
  BookSide& operator=(const BookSide& other);
  BookSide(BookSide&&) noexcept = default;
  BookSide& operator=(BookSide&&) noexcept = default;

  void clear();
  // Sets the level at `key` to `qty` (zero deletes).
  void set(std::int64_t key, Qty qty, TimestampNs now_ns) {
    const std::int64_t qty_raw = qty.raw() > 0 ? qty.raw() : 0;
    const std::int64_t slot = key - base_;
    if (based_ && slot >= 0 && slot < kWindowTicks) [[likely]] {
      set_in_window(slot, qty_raw, now_ns);
      if (best_slot_ < kLowWater || best_slot_ > kHighWater) [[unlikely]]
        settle();
      return;
    }
    set_outside(key, qty_raw, now_ns);
  }
  // Applies levels[from...] in order while each one's key (key_of(price, key) false: not a key) falls in the
  // window, with the best level and the count in registers. Returns the index of the first level it did not
  // apply (levels.size(): all of them); the caller applies that one with set() or refuses it, and goes on.
  template <class KeyOf>
  std::size_t set_run(std::span<const Level> levels, std::size_t from, KeyOf&& key_of, TimestampNs now_ns) {
    if (!based_) return from;
    std::int64_t best = best_slot_;
    std::int64_t count = static_cast<std::int64_t>(level_count_);
    const std::int64_t base = base_;
    std::size_t i = from;
    for (; i < levels.size(); ++i) {
      std::int64_t key = 0;
      if (!key_of(levels[i].price, key)) [[unlikely]]
        break;
      const std::int64_t slot = key - base;
      if (static_cast<std::uint64_t>(slot) >= static_cast<std::uint64_t>(kWindowTicks)) [[unlikely]]
        break;
      write_level(slot, levels[i].qty.raw() > 0 ? levels[i].qty.raw() : 0, now_ns, best, count);
    }
    best_slot_ = best;
    level_count_ = static_cast<std::size_t>(count);
    if (best < kLowWater || best > kHighWater) [[unlikely]]
      settle();
    return i;
  }
  bool empty() const { return level_count_ == 0; }
  std::size_t level_count() const { return level_count_; }
  // Best key; only valid when !empty(). The best level is always in the window when the side has levels.
  std::int64_t best_key() const { return base_ + best_slot_; }
  Qty best_qty() const { return Qty::from_raw(slots_[static_cast<std::size_t>(best_slot_)].qty); }
  TimestampNs best_updated_ns() const { return slots_[static_cast<std::size_t>(best_slot_)].updated_ns; }
  Qty qty_at(std::int64_t key) const;

  // Visits levels best first: fn(key, qty, updated_ns) returns false to stop.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (std::int64_t slot = best_slot_; slot >= 0; slot = prev_occupied(slot - 1)) {
      const Slot& s = slots_[static_cast<std::size_t>(slot)];
      if (!fn(base_ + slot, Qty::from_raw(s.qty), s.updated_ns)) return;
    }
    if (far_.empty()) return;
    for (const auto& e : far_.sorted())
      if (!fn(e.key, Qty::from_raw(e.qty), e.updated_ns)) return;
  }

  std::size_t far_level_count() const { return far_.size(); }
  std::uint64_t recentre_count() const { return recentres_; }

 private:
  struct Slot {
    std::int64_t qty;  // raw Qty; meaningful only where the bitmap has the slot's bit
    TimestampNs updated_ns;
  };
  struct FreeSlots {
    void operator()(Slot* p) const;
  };
  static_assert(sizeof(Slot) == 16);
  using Slots = std::unique_ptr<Slot[], FreeSlots>;
  static Slots allocate_slots();
  static constexpr std::size_t kWords = static_cast<std::size_t>(kWindowTicks / 64);
  static constexpr std::size_t kSummaryWords = kWords / 64;
  // Re-centre when the touch comes within 1/16 of the window's worse edge or 1/32 of its better edge.
  static constexpr std::int64_t kLowWater = kWindowTicks / 16;
  static constexpr std::int64_t kHighWater = kWindowTicks - kWindowTicks / 32;

  // Sets or clears the slot's bit and its word's summary bit; returns the change in level count (+1, -1, 0).
  // Branch-free: whether a level appears or disappears is data the branch predictor cannot learn, so the
  // bitmaps are updated with arithmetic and selects.
  std::int64_t mark(std::int64_t slot, bool present) {
    const auto s = static_cast<std::size_t>(slot);
    const std::size_t word = s >> 6;
    const std::uint64_t bit = std::uint64_t{1} << (s & 63);
    const std::size_t sword = word >> 6;
    const std::uint64_t sbit = std::uint64_t{1} << (word & 63);
    const std::uint64_t old_bits = bits_[word];
    const bool existed = (old_bits & bit) != 0;
    const std::uint64_t bits = (old_bits & ~bit) | (present ? bit : 0);
    bits_[word] = bits;
    // The summary changes only when a word empties or fills: touching it every time would chain each
    // update to the last through memory (neighbouring levels share a summary word).
    if ((old_bits != 0) != (bits != 0)) [[unlikely]]
      summary_[sword] ^= sbit;
    return static_cast<std::int64_t>(present) - static_cast<std::int64_t>(existed);
  }
  bool occupied(std::int64_t slot) const {
    const auto s = static_cast<std::size_t>(slot);
    return (bits_[s >> 6] >> (s & 63)) & 1;
  }
  // One level in the window: its bit, its slot, and the side's best slot and level count, which the caller
  // holds (in registers through a run).
  void write_level(std::int64_t slot, std::int64_t qty_raw, TimestampNs now_ns, std::int64_t& best,
                   std::int64_t& count) {
    const bool present = qty_raw != 0;
    count += mark(slot, present);
    slots_[static_cast<std::size_t>(slot)] = Slot{qty_raw, now_ns};
    const std::int64_t candidate = present ? slot : -1;
    best = candidate > best ? candidate : best;
    if (!present && slot == best) [[unlikely]]
      best = prev_occupied(slot - 1);
  }
  void set_in_window(std::int64_t slot, std::int64_t qty_raw, TimestampNs now_ns) {
    std::int64_t count = static_cast<std::int64_t>(level_count_);
    write_level(slot, qty_raw, now_ns, best_slot_, count);
    level_count_ = static_cast<std::size_t>(count);
  }
  void set_outside(std::int64_t key, std::int64_t qty_raw, TimestampNs now_ns);
  // Re-centres when the touch left the comfortable middle of the window or the window emptied.
  void settle();
  // Highest occupied slot <= from, or -1.
  std::int64_t prev_occupied(std::int64_t from) const;
  void recentre(std::int64_t best_key);

  std::int64_t base_ = 0;        // key of slot 0
  bool based_ = false;           // the window has been placed
  std::int64_t best_slot_ = -1;  // -1: window empty
  std::size_t level_count_ = 0;
  Slots slots_;
  std::array<std::uint64_t, kWords> bits_{};
  std::array<std::uint64_t, kSummaryWords> summary_{};
  // Keys outside the window. Invariant: every far key is worse than the window's lowest key whenever the
  // window holds a level, so the best level is in the window.
  FarLevels far_;
  std::vector<FarLevels::Entry> scratch_;
  std::uint64_t recentres_ = 0;
};

// A price in ticks without a division on the hot path: for a price that is a whole number of ticks, the
// high half of price x m, shifted, is exactly price / tick (m = ceil(2^(64+s) / tick) with 2^s < tick, so the
// error stays below a tick for any positive 63-bit price), and one multiplication back confirms it. A price
// between ticks fails the confirmation and is refused; a price that is not positive takes the division. A
// tick of one raw unit has no such m: its multiplier is 0 and the price is its own tick count.
class TickDivider {
 public:
  explicit TickDivider(std::int64_t tick_raw) : tick_(tick_raw), unit_mask_(tick_raw == 1 ? -1 : 0) {
    if (tick_raw >= 2) {
      shift_ = std::bit_width(static_cast<std::uint64_t>(tick_raw - 1)) - 1;
      const UInt128 numerator = static_cast<UInt128>(1) << (64 + shift_);
      multiplier_ = static_cast<std::uint64_t>((numerator + static_cast<UInt128>(tick_raw) - 1) /
                                               static_cast<UInt128>(tick_raw));
    }
  }
  // Positive prices only: false for a price off the grid or not positive.
  bool exact_positive_ticks(std::int64_t raw, std::int64_t& ticks) const {
    const auto high = static_cast<std::uint64_t>(
        (static_cast<UInt128>(static_cast<std::uint64_t>(raw)) * multiplier_) >> 64);
    ticks = static_cast<std::int64_t>(high >> shift_) + (raw & unit_mask_);
    return raw > 0 && ticks * tick_ == raw;
  }
  // Any price: false when it is not a whole number of ticks.
  bool ticks(std::int64_t raw, std::int64_t& ticks) const {
    if (exact_positive_ticks(raw, ticks)) [[likely]]
      return true;
    ticks = raw / tick_;
    return ticks * tick_ == raw;
  }

 private:
  std::int64_t tick_;
  std::int64_t unit_mask_;        // all ones with a tick of one raw unit, else 0
  std::uint64_t multiplier_ = 0;  // 0 with a tick of one raw unit
  int shift_ = 0;
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

  // Levels refused: a price off the tick (when the tick is not inferred) or not positive.
  std::uint64_t off_tick_count() const { return off_tick_; }
  const BookSide& side(Side s) const { return s == Side::Buy ? bids_ : asks_; }
  TimestampNs last_update_ns() const { return last_update_ns_; }

 private:
  bool to_key(Side side, Price price, std::int64_t& key) const {
    std::int64_t tick = 0;
    if (!divider_.ticks(price.raw(), tick)) return false;
    key = side == Side::Buy ? tick : -tick;
    return true;
  }
  Price key_price(Side side, std::int64_t key) const {
    return Price::from_raw((side == Side::Buy ? key : -key) * tick_.raw());
  }

  void refine_tick(Price price);
  void infer_from(const Event& event);
  // One side of a snapshot or delta: runs of levels in the window at once, anything else level by level.
  template <Side kSide>
  bool apply_levels(std::span<const Level> levels, TimestampNs now_ns) {
    BookSide& book_side = kSide == Side::Buy ? bids_ : asks_;
    bool ok = true;
    std::size_t i = 0;
    while (i < levels.size()) {
      // The tick in registers for the run (a level applied alone may refine it, so it is read again after).
      const auto key_of = [divider = divider_](Price price, std::int64_t& key) {
        std::int64_t tick = 0;
        if (!divider.exact_positive_ticks(price.raw(), tick)) return false;
        key = kSide == Side::Buy ? tick : -tick;
        return true;
      };
      i = book_side.set_run(levels, i, key_of, now_ns);
      if (i == levels.size()) break;
      ok &= set_level(kSide, levels[i].price, levels[i].qty, now_ns);
      ++i;
    }
    return ok;
  }

  void set_tick(Price tick) {
    tick_ = tick;
    divider_ = TickDivider(tick.raw());
  }

  Price tick_;
  TickDivider divider_{1};
  bool infer_ = false;
  bool tick_known_ = true;
  std::uint64_t tick_refinements_ = 0;
  BookSide bids_;
  BookSide asks_;
  std::uint64_t off_tick_ = 0;
  TimestampNs last_update_ns_ = 0;
};

}  // namespace tranche::md
