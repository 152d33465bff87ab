#include "md/l2_book.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <new>
#include <numeric>

namespace tranche::md {

int FarLevels::set(std::int64_t key, std::int64_t qty, TimestampNs now_ns) {
  std::size_t i = slot_of(key);
  const std::size_t mask = slots_.size() - 1;
  while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask;
  if (slots_[i].key == key) {
    sorted_valid_ = false;
    if (qty == 0) {
      erase_at(i);
      return -1;
    }
    slots_[i].qty = qty;
    slots_[i].updated_ns = now_ns;
    return 0;
  }
  if (qty == 0) return 0;
  sorted_valid_ = false;
  slots_[i] = Entry{key, qty, now_ns};
  if (++size_ * 2 > slots_.size()) grow();
  return 1;
}

void FarLevels::erase_at(std::size_t i) {
  // Backward-shift deletion keeps linear probing correct without tombstones.
  const std::size_t mask = slots_.size() - 1;
  std::size_t hole = i;
  std::size_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (slots_[j].key == kEmpty) break;
    const std::size_t home = slot_of(slots_[j].key);
    // Move j into the hole when its home is not cyclically in (hole, j].
    const bool in_between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!in_between) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Entry{kEmpty, 0, 0};
  --size_;
}

void FarLevels::grow() {
  std::vector<Entry> old = std::move(slots_);
  slots_.assign(old.size() * 2, Entry{kEmpty, 0, 0});
  --shift_;
  size_ = 0;
  for (const Entry& e : old)
    if (e.key != kEmpty) set(e.key, e.qty, e.updated_ns);
}

const FarLevels::Entry* FarLevels::find(std::int64_t key) const {
  std::size_t i = slot_of(key);
  const std::size_t mask = slots_.size() - 1;
  while (slots_[i].key != kEmpty) {
    if (slots_[i].key == key) return &slots_[i];
    i = (i + 1) & mask;
  }
  return nullptr;
}

const std::vector<FarLevels::Entry>& FarLevels::sorted() const {
  if (!sorted_valid_) {
    sorted_.clear();
    for (const Entry& e : slots_)
      if (e.key != kEmpty) sorted_.push_back(e);
    std::sort(sorted_.begin(), sorted_.end(), [](const Entry& a, const Entry& b) { return a.key > b.key; });
    sorted_valid_ = true;
  }
  return sorted_;
}

void FarLevels::extract_range(std::int64_t low, std::int64_t high, std::vector<Entry>& out) {
  out.clear();
  for (const Entry& e : slots_)
    if (e.key != kEmpty && e.key >= low && e.key <= high) out.push_back(e);
  for (const Entry& e : out) set(e.key, 0, 0);
}

namespace {
constexpr std::size_t kSlotBytes = static_cast<std::size_t>(BookSide::kWindowTicks) * 16;
}

BookSide::Slots BookSide::allocate_slots() {
  // Mapped, not allocated: the system hands out zeroed pages as they are first touched, so a book uses the
  // few pages its levels land on. (calloc would do the same only while glibc maps blocks this large; once
  // one is freed it raises its threshold and zeroes the next from its heap, every page of it resident.)
  void* mapped = ::mmap(nullptr, kSlotBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  return Slots(static_cast<Slot*>(mapped));
}

void BookSide::FreeSlots::operator()(Slot* p) const {
  if (p != nullptr) ::munmap(p, kSlotBytes);
}

BookSide::BookSide() : slots_(allocate_slots()) {}

BookSide::BookSide(const BookSide& other)
    : base_(other.base_),
      based_(other.based_),
      best_slot_(other.best_slot_),
      level_count_(other.level_count_),
      slots_(allocate_slots()),
      bits_(other.bits_),
      summary_(other.summary_),
      far_(other.far_),
      recentres_(other.recentres_) {
  for (std::int64_t slot = best_slot_; slot >= 0; slot = prev_occupied(slot - 1))
    slots_[static_cast<std::size_t>(slot)] = other.slots_[static_cast<std::size_t>(slot)];
}

BookSide& BookSide::operator=(const BookSide& other) {
  if (this != &other) {
    BookSide copy(other);
    *this = std::move(copy);
  }
  return *this;
}

void BookSide::clear() {
  bits_.fill(0);
  summary_.fill(0);
  far_.clear();
  best_slot_ = -1;
  level_count_ = 0;
  based_ = false;
}

std::int64_t BookSide::prev_occupied(std::int64_t from) const {
  if (from < 0) return -1;
  auto word = static_cast<std::size_t>(from >> 6);
  std::uint64_t bits = bits_[word] & (~std::uint64_t{0} >> (63 - (from & 63)));
  if (bits != 0)
    return static_cast<std::int64_t>(word * 64 + 63 - static_cast<std::size_t>(std::countl_zero(bits)));
  // Find the next lower non-empty word through the summary.
  if (word == 0) return -1;
  std::size_t w = word - 1;
  auto sword = w >> 6;
  std::uint64_t sbits = summary_[sword] & (~std::uint64_t{0} >> (63 - (w & 63)));
  for (;;) {
    if (sbits != 0) {
      const std::size_t found = sword * 64 + 63 - static_cast<std::size_t>(std::countl_zero(sbits));
      const std::uint64_t b = bits_[found];
      return static_cast<std::int64_t>(found * 64 + 63 - static_cast<std::size_t>(std::countl_zero(b)));
    }
    if (sword == 0) return -1;
    --sword;
    sbits = summary_[sword];
  }
}

void BookSide::set_outside(std::int64_t key, std::int64_t qty_raw, TimestampNs now_ns) {
  if (!based_) {
    if (qty_raw == 0) return;
    based_ = true;
    base_ = key - kWindowTicks * 3 / 4;
    set_in_window(key - base_, qty_raw, now_ns);
    return;
  }
  if (key - base_ >= kWindowTicks) {
    if (qty_raw == 0) return;  // nothing is ever stored better than the window
    recentre(key);
    set_in_window(key - base_, qty_raw, now_ns);
    return;
  }
  const int change = far_.set(key, qty_raw, now_ns);
  level_count_ = static_cast<std::size_t>(static_cast<std::int64_t>(level_count_) + change);
  if (best_slot_ < 0 && !far_.empty()) settle();
}

void BookSide::settle() {
  if (best_slot_ >= 0) {
    if (best_slot_ < kLowWater || best_slot_ > kHighWater) recentre(base_ + best_slot_);
    return;
  }
  if (far_.empty()) return;
  recentre(far_.sorted().front().key);
}

void BookSide::recentre(std::int64_t best_key) {
  ++recentres_;
  // Move the window's levels out, place the window with the touch at three quarters, pull levels back in.
  for (std::int64_t slot = best_slot_; slot >= 0; slot = prev_occupied(slot - 1)) {
    const Slot& s = slots_[static_cast<std::size_t>(slot)];
    far_.set(base_ + slot, s.qty, s.updated_ns);
  }
  bits_.fill(0);
  summary_.fill(0);
  best_slot_ = -1;
  const std::size_t total = level_count_;
  base_ = best_key - kWindowTicks * 3 / 4;
  far_.extract_range(base_, base_ + kWindowTicks - 1, scratch_);
  for (const auto& e : scratch_) set_in_window(e.key - base_, e.qty, e.updated_ns);
  level_count_ = total;
}

Qty BookSide::qty_at(std::int64_t key) const {
  const std::int64_t slot = key - base_;
  if (based_ && slot >= 0 && slot < kWindowTicks)
    return occupied(slot) ? Qty::from_raw(slots_[static_cast<std::size_t>(slot)].qty) : Qty{};
  const auto* e = far_.find(key);
  return e == nullptr ? Qty{} : Qty::from_raw(e->qty);
}

L2Book::L2Book(Price tick_size)
    : infer_(!(tick_size.is_set() && tick_size.is_positive())), tick_known_(!infer_) {
  set_tick(infer_ ? Price::from_raw(1) : tick_size);
}

void L2Book::infer_from(const Event& event) {
  std::int64_t g = 0;
  for (const Level& l : event.bids) g = std::gcd(g, l.price.raw());
  for (const Level& l : event.asks) g = std::gcd(g, l.price.raw());
  if (g <= 0) return;
  set_tick(Price::from_raw(g));
  tick_known_ = true;
}

void L2Book::refine_tick(Price price) {
  // Rebuild on the finer grid that holds both the old ticks and the new price.
  const Price finer = Price::from_raw(std::gcd(tick_.raw(), price.raw() < 0 ? -price.raw() : price.raw()));
  std::vector<BookLevel> bids, asks;
  levels(Side::Buy, level_count(Side::Buy), bids);
  levels(Side::Sell, level_count(Side::Sell), asks);
  bids_.clear();
  asks_.clear();
  set_tick(finer);
  ++tick_refinements_;
  for (const auto& l : bids) bids_.set(l.price.raw() / tick_.raw(), l.qty, l.updated_ns);
  for (const auto& l : asks) asks_.set(-(l.price.raw() / tick_.raw()), l.qty, l.updated_ns);
}

void L2Book::clear() {
  bids_.clear();
  asks_.clear();
}

bool L2Book::set_level(Side side, Price price, Qty qty, TimestampNs now_ns) {
  std::int64_t key = 0;
  // A price that is not positive has no place in a book (and its key would overflow the side's window
  // arithmetic, as the fuzzer found): refused like a price off the tick.
  if (!price.is_positive()) [[unlikely]] {
    ++off_tick_;
    return false;
  }
  if (!to_key(side, price, key)) [[unlikely]] {
    if (!infer_) {
      ++off_tick_;
      return false;
    }
    refine_tick(price);
    to_key(side, price, key);
  }
  (side == Side::Buy ? bids_ : asks_).set(key, qty, now_ns);
  return true;
}

bool L2Book::apply(const Event& event) {
  if (event.kind == EventKind::BookSnapshot) {
    clear();
    if (infer_) infer_from(event);
  } else if (event.kind == EventKind::BookDelta) {
    if (!tick_known_) infer_from(event);
  } else {
    return true;
  }
  const TimestampNs now = event.recv_ns;
  const bool bids_ok = apply_levels<Side::Buy>(event.bids, now);
  const bool asks_ok = apply_levels<Side::Sell>(event.asks, now);
  last_update_ns_ = now;
  return bids_ok && asks_ok;
}

Price L2Book::mid() const {
  if (!has_bid() || !has_ask()) return Price::unset();
  return Price::from_raw((best_bid().raw() + best_ask().raw()) / 2);
}

std::size_t L2Book::levels(Side side, std::size_t depth, std::vector<BookLevel>& out) const {
  out.clear();
  if (depth == 0) return 0;
  this->side(side).for_each([&](std::int64_t key, Qty qty, TimestampNs updated) {
    out.push_back({key_price(side, key), qty, updated});
    return out.size() < depth;
  });
  return out.size();
}

Qty L2Book::qty_at(Side side, Price price) const {
  std::int64_t key = 0;
  if (!to_key(side, price, key)) return Qty{};
  return this->side(side).qty_at(key);
}

Qty L2Book::qty_up_to(Side side, Price limit) const {
  Qty total;
  this->side(side).for_each([&](std::int64_t key, Qty qty, TimestampNs) {
    const Price price = key_price(side, key);
    if (side == Side::Buy ? price < limit : price > limit) return false;
    total += qty;
    return true;
  });
  return total;
}

SweepResult L2Book::sweep(Side taker_side, Qty qty, Price limit) const {
  SweepResult result;
  const Side resting = opposite(taker_side);
  Qty remaining = qty;
  this->side(resting).for_each([&](std::int64_t key, Qty level_qty, TimestampNs) {
    if (!remaining.is_positive()) return false;
    const Price price = key_price(resting, key);
    if (limit.is_set() && (taker_side == Side::Buy ? price > limit : price < limit)) return false;
    const Qty take = level_qty < remaining ? level_qty : remaining;
    result.filled += take;
    result.notional += Notional::of(price, take);
    result.worst_price = price;
    ++result.levels;
    remaining -= take;
    return true;
  });
  return result;
}

double L2Book::imbalance(std::size_t depth) const {
  double bid = 0, ask = 0;
  std::size_t n = 0;
  bids_.for_each([&](std::int64_t, Qty q, TimestampNs) {
    bid += q.to_double();
    return ++n < depth;
  });
  n = 0;
  asks_.for_each([&](std::int64_t, Qty q, TimestampNs) {
    ask += q.to_double();
    return ++n < depth;
  });
  return bid + ask > 0 ? (bid - ask) / (bid + ask) : 0.0;
}

}  // namespace tranche::md
