#include "md/l2_book.hpp"

#include <numeric>

namespace tranche::md {

BookSide::BookSide()
    : qty_(static_cast<std::size_t>(kWindowTicks), 0),
      updated_ns_(static_cast<std::size_t>(kWindowTicks), 0) {}

void BookSide::clear() {
  std::fill(qty_.begin(), qty_.end(), 0);
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

void BookSide::set_in_window(std::int64_t slot, std::int64_t qty_raw, TimestampNs now_ns) {
  const auto s = static_cast<std::size_t>(slot);
  const std::size_t word = s >> 6;
  const std::uint64_t bit = std::uint64_t{1} << (s & 63);
  const bool existed = qty_[s] != 0;
  qty_[s] = qty_raw;
  updated_ns_[s] = now_ns;
  if (qty_raw != 0) {
    if (!existed) {
      ++level_count_;
      bits_[word] |= bit;
      summary_[word >> 6] |= std::uint64_t{1} << (word & 63);
      if (slot > best_slot_) best_slot_ = slot;
    }
    return;
  }
  if (!existed) return;
  --level_count_;
  bits_[word] &= ~bit;
  if (bits_[word] == 0) summary_[word >> 6] &= ~(std::uint64_t{1} << (word & 63));
  if (slot == best_slot_) best_slot_ = prev_occupied(slot - 1);
}

void BookSide::set(std::int64_t key, Qty qty, TimestampNs now_ns) {
  const std::int64_t qty_raw = qty.raw() > 0 ? qty.raw() : 0;
  if (!based_) {
    if (qty_raw == 0) return;
    based_ = true;
    base_ = key - kWindowTicks * 3 / 4;
  }
  std::int64_t slot = key - base_;
  if (slot >= kWindowTicks) {
    if (qty_raw == 0) return;  // nothing is ever stored better than the window
    recentre(key);
    slot = key - base_;
  }
  if (slot >= 0) {
    set_in_window(slot, qty_raw, now_ns);
    // Keep the touch inside the window's comfortable middle; re-centring is rare on real data.
    if (best_slot_ >= 0 &&
        (best_slot_ < kWindowTicks / 16 || best_slot_ > kWindowTicks - kWindowTicks / 32)) {
      recentre(base_ + best_slot_);
    } else if (best_slot_ < 0 && !far_.empty()) {
      recentre(far_.begin()->first);
    }
    return;
  }
  auto it = far_.find(key);
  if (qty_raw == 0) {
    if (it != far_.end()) {
      far_.erase(it);
      --level_count_;
    }
  } else if (it != far_.end()) {
    it->second = {Qty::from_raw(qty_raw), now_ns};
  } else {
    far_.emplace(key, FarLevel{Qty::from_raw(qty_raw), now_ns});
    ++level_count_;
  }
  if (best_slot_ < 0 && !far_.empty()) recentre(far_.begin()->first);
}

void BookSide::recentre(std::int64_t best_key) {
  ++recentres_;
  // Move the window's levels out, place the window with the touch at three quarters, pull levels back in.
  for (std::int64_t slot = best_slot_; slot >= 0; slot = prev_occupied(slot - 1)) {
    const auto s = static_cast<std::size_t>(slot);
    far_[base_ + slot] = FarLevel{Qty::from_raw(qty_[s]), updated_ns_[s]};
    qty_[s] = 0;
  }
  bits_.fill(0);
  summary_.fill(0);
  best_slot_ = -1;
  const std::size_t total = level_count_;
  base_ = best_key - kWindowTicks * 3 / 4;
  level_count_ = 0;
  auto it = far_.lower_bound(base_ + kWindowTicks - 1);  // first key <= top of the window
  while (it != far_.end() && it->first >= base_) {
    set_in_window(it->first - base_, it->second.qty.raw(), it->second.updated_ns);
    it = far_.erase(it);
  }
  level_count_ = total;
}

Qty BookSide::qty_at(std::int64_t key) const {
  const std::int64_t slot = key - base_;
  if (based_ && slot >= 0 && slot < kWindowTicks) return Qty::from_raw(qty_[static_cast<std::size_t>(slot)]);
  auto it = far_.find(key);
  return it == far_.end() ? Qty{} : it->second.qty;
}

L2Book::L2Book(Price tick_size)
    : tick_(tick_size.is_set() && tick_size.is_positive() ? tick_size : Price::from_raw(1)),
      infer_(!(tick_size.is_set() && tick_size.is_positive())),
      tick_known_(!infer_) {}

void L2Book::infer_from(const Event& event) {
  std::int64_t g = 0;
  for (const Level& l : event.bids) g = std::gcd(g, l.price.raw());
  for (const Level& l : event.asks) g = std::gcd(g, l.price.raw());
  if (g <= 0) return;
  tick_ = Price::from_raw(g);
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
  tick_ = finer;
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
  if (!to_key(side, price, key)) [[unlikely]] {
    if (!infer_ || !price.is_positive()) {
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
  bool ok = true;
  const TimestampNs now = event.recv_ns;
  for (const Level& level : event.bids) ok &= set_level(Side::Buy, level.price, level.qty, now);
  for (const Level& level : event.asks) ok &= set_level(Side::Sell, level.price, level.qty, now);
  last_update_ns_ = now;
  return ok;
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

Price infer_tick(std::span<const Price> prices) {
  std::int64_t g = 0;
  for (Price p : prices)
    if (p.is_set() && p.raw() != 0) g = std::gcd(g, p.raw() < 0 ? -p.raw() : p.raw());
  return Price::from_raw(g == 0 ? 1 : g);
}

}  // namespace tranche::md
