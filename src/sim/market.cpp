#include "sim/market.hpp"

#include <algorithm>

namespace tranche::sim {
namespace {

constexpr int index_of(Side side) {
  return static_cast<int>(side);
}

Qty min_qty(Qty a, Qty b) {
  return a < b ? a : b;
}

// Our orders in the venue's L3 queues carry ids no feed uses.
constexpr std::uint64_t kPhantomBase = 0xF000'0000'0000'0000ull;

}  // namespace

SimMarket::SimMarket(const VenueListing& listing, QueueModel queue_model, double resilience)
    : listing_(listing), queue_model_(queue_model), resilience_(resilience), book_(listing.tick_size) {}

void SimMarket::on_event(const md::Event& event) {
  last_event_ns_ = event.recv_ns;
  if (event.exch_ns != 0) {
    const DurationNs delay = event.recv_ns - event.exch_ns - min_clock_offset_ns_;
    recorded_delay_ns_ = delay > 0 ? delay : 0;
  }
  switch (event.kind) {
    case md::EventKind::BookSnapshot:
      valid_ = true;
      [[fallthrough]];
    case md::EventKind::BookDelta:
      on_depth(event);
      break;
    case md::EventKind::Quote:
      if (event.last_seq >= ticker_.update_id || !ticker_.valid) {
        ticker_ = {true, event.last_seq, event.price, event.price2, event.qty, event.qty2};
        if (!orders_.empty()) check_crossed();
      }
      break;
    case md::EventKind::Trade:
      // With order-by-order data the exact model moves on the fill records of the orders themselves. A trade
      // that names its aggressor's order tells which fill record of the same venue event is the aggressor's
      // own.
      if (!orders_.empty() && !exact()) on_trade(event.side, event.price, event.qty);
      if (event.order_id != 0 && event_aggressors_.size() < kMaxEventAggressors)
        event_aggressors_.push_back(event.order_id);
      break;
    case md::EventKind::OrderAdd:
    case md::EventKind::OrderCancel:
    case md::EventKind::OrderModify:
    case md::EventKind::OrderFill:
    case md::EventKind::BookClear:
      on_l3(event);
      break;
    case md::EventKind::Gap:
      valid_ = false;
      break;
  }
  if (event.flags & md::kFlagLastInEvent) event_aggressors_.clear();
}

void SimMarket::on_depth(const md::Event& event) {
  const bool snapshot = event.kind == md::EventKind::BookSnapshot;
  if (!orders_.empty() || !consumed_[0].empty() || !consumed_[1].empty()) {
    // The level's quantity before and after, for our queue places and for the refill of what we took.
    auto visit = [&](Side side, std::span<const md::Level> levels) {
      for (const md::Level& level : levels)
        on_level_change(side, level.price, book_.qty_at(side, level.price), level.qty);
    };
    visit(Side::Buy, event.bids);
    visit(Side::Sell, event.asks);
  }
  book_.apply(event);
  if (event.last_seq != 0) last_depth_id_ = event.last_seq;
  if (snapshot) {
    // Levels the snapshot no longer has are gone, with whatever we took there.
    for (int s = 0; s < 2; ++s) {
      auto& consumed = consumed_[s];
      const Side side = static_cast<Side>(s);
      std::erase_if(consumed, [&](md::Level& c) {
        const Qty now = book_.qty_at(side, c.price);
        c.qty = min_qty(c.qty, now);
        return !c.qty.is_positive();
      });
    }
    for (auto& order : orders_) {
      const Qty level = book_.qty_at(order.side, order.price - shift_) + own_ahead_of(order);
      if (queue_model_ != QueueModel::RiskAverse && order.phantom_id == 0 && order.ahead > level)
        order.ahead = level;
      order.traded_at_price = Qty{};
    }
  }
  if (!orders_.empty()) check_crossed();
}

void SimMarket::on_level_change(Side side, Price recorded, Qty old_qty, Qty new_qty) {
  auto& consumed = consumed_[index_of(side)];
  for (std::size_t i = 0; i < consumed.size(); ++i) {
    md::Level& c = consumed[i];
    if (c.price != recorded) continue;
    if (new_qty > old_qty) {
      // The recorded flow refills the level; only `resilience` of it restores what we took.
      const double restored = static_cast<double>((new_qty - old_qty).raw()) * resilience_;
      c.qty = c.qty - Qty::from_raw(static_cast<std::int64_t>(restored));
    }
    c.qty = min_qty(c.qty, new_qty);  // what the recording no longer shows is not ours to hide
    if (!c.qty.is_positive()) consumed.erase(consumed.begin() + static_cast<std::ptrdiff_t>(i));
    break;
  }
  if (orders_.empty()) return;
  for (auto& order : orders_) {
    if (order.phantom_id != 0 || order.side != side || order.price - shift_ != recorded) continue;
    if (queue_model_ == QueueModel::Proportional && new_qty < old_qty) {
      // The part of the decrease that recorded trades do not explain was cancelled, ahead of us and behind us
      // in proportion to the recorded quantity on each side. Our own earlier orders ahead are not recorded
      // quantity: they are neither cancelled by the recording nor capped by it.
      const Qty own = own_ahead_of(order);
      Qty recorded_ahead = order.ahead - own;
      if (recorded_ahead.is_negative()) recorded_ahead = Qty{};
      const Qty decrease = old_qty - new_qty;
      const Qty cancelled = decrease - min_qty(decrease, order.traded_at_price);
      Qty behind = old_qty - order.traded_at_price - recorded_ahead;
      if (behind.is_negative()) behind = Qty{};
      const Qty queue = recorded_ahead + behind;
      if (cancelled.is_positive() && queue.is_positive()) {
        const auto share = static_cast<Int128>(cancelled.raw()) * recorded_ahead.raw() / queue.raw();
        recorded_ahead = recorded_ahead - Qty::from_raw(static_cast<std::int64_t>(share));
      }
      if (recorded_ahead > new_qty) recorded_ahead = new_qty;
      if (recorded_ahead.is_negative()) recorded_ahead = Qty{};
      order.ahead = recorded_ahead + own;
    }
    order.traded_at_price = Qty{};
  }
}

void SimMarket::on_trade(Side aggressor, Price recorded, Qty qty) {
  if (!trading_) return;
  const Side passive = opposite(aggressor);
  Qty used;
  for (auto& order : orders_) {
    if (order.leaves_qty.is_zero()) continue;
    const Price ours = order.price - shift_;
    if (order.side != passive) {
      // A print on our own side's aggressor: on a book that crossed our price (someone lifted asks posted at
      // or below our bid). It is evidence of sellers there: through our price it reached us; at it, the queue
      // ahead went first. Only the prints rule reads it: none and full keep the queue as the other side's
      // trades move it, so each stays the bound it names.
      if (cross_fill_ != CrossFill::Prints) continue;
      if (better(order.side, ours, recorded))
        order.supported += qty;
      else if (recorded == ours)
        order.supported += pass_queue(order, qty);
      continue;
    }
    Qty fill;
    if (better(passive, ours, recorded)) {
      // The aggressor traded through our price: it would have met us first.
      order.supported += qty;
      fill = min_qty(order.leaves_qty, qty - used);
    } else if (recorded == ours) {
      order.traded_at_price += qty;
      const Qty reach = pass_queue(order, qty);
      if (!reach.is_positive()) continue;
      order.supported += reach;
      fill = min_qty(min_qty(order.leaves_qty, reach), qty - used);
    } else {
      continue;
    }
    if (!fill.is_positive()) continue;
    used += fill;
    fill_resting(order, order.price, fill, recorded == ours);
  }
  // Prints that arrive after the book crossed us (bookTicker runs about a millisecond ahead of trades) are
  // the evidence a crossing fill waits for.
  if (cross_fill_ == CrossFill::Prints) check_crossed();
}

Qty SimMarket::pass_queue(OwnOrder& order, Qty qty) {
  if (order.ahead >= qty) {
    order.ahead -= qty;
    return Qty{};
  }
  const Qty reach = qty - order.ahead;
  order.ahead = Qty{};
  return reach;
}

void SimMarket::on_l3(const md::Event& event) {
  if (!l3_) {
    md::L3BookOptions options;
    options.fills_change_book = l3_fills_change_book_;
    l3_ = std::make_unique<md::L3Book>(options);
    valid_ = true;
  }
  if (event.kind == md::EventKind::BookClear) {
    l3_->clear();
    book_.clear();
    consumed_[0].clear();
    consumed_[1].clear();
    for (auto& order : orders_)
      if (order.phantom_id == 0 && queue_model_ != QueueModel::RiskAverse) order.ahead = own_ahead_of(order);
    // Our orders keep their places at the front: whatever the venue re-adds came after them.
    for (auto& order : orders_)
      if (order.phantom_id != 0)
        l3_->add(order.phantom_id, order.side, order.price - shift_, order.leaves_qty);
    return;
  }
  md::L3Order before;
  const bool known = l3_->find(event.order_id, before);
  // LOBSTER's executions are its only prints; MBO reports each print as a trade record too (handled as
  // Trade), so its fill records must not count again.
  if (event.kind == md::EventKind::OrderFill && known && !orders_.empty() && !exact() &&
      l3_fills_change_book_)
    on_trade(opposite(before.side), before.price, event.qty);
  // CME's MBO reports a fill record for the aggressor's own order too (at the trade's price, named by the
  // event's trade record): it is no maker's fill at the order's resting level and moves nobody's queue.
  const bool makers_fill = event.kind == md::EventKind::OrderFill && known &&
                           (!event.price.is_set() || event.price == before.price) &&
                           std::find(event_aggressors_.begin(), event_aggressors_.end(), event.order_id) ==
                               event_aggressors_.end();
  if (makers_fill && !orders_.empty() && exact() && trading_) {
    // A fill of an order behind ours at our price, or at a worse price, would have met us first; our orders
    // meet it in their queue order, and together never for more than it traded.
    Qty used;
    for (auto& order : orders_) {
      if (order.side != before.side || order.leaves_qty.is_zero() || order.phantom_id == 0) continue;
      const Price ours = order.price - shift_;
      bool through = better(before.side, ours, before.price);
      if (!through && before.price == ours) {
        std::uint32_t theirs = 0, mine = 0;
        through = l3_->orders_ahead(event.order_id, theirs) && l3_->orders_ahead(order.phantom_id, mine) &&
                  theirs > mine;
      }
      if (!through) continue;
      const Qty fill = min_qty(order.leaves_qty, event.qty - used);
      if (!fill.is_positive()) break;
      used += fill;
      fill_resting(order, order.price, fill);
    }
  }
  l3_->apply(event);
  if (known) sync_l2_from_l3(before.side, before.price, event.recv_ns);
  md::L3Order after;
  if (l3_->find(event.order_id, after) && (!known || after.price != before.price))
    sync_l2_from_l3(after.side, after.price, event.recv_ns);
  if (!orders_.empty()) {
    for (auto& order : orders_) {
      Qty ahead;
      if (order.phantom_id != 0 && l3_->qty_ahead(order.phantom_id, ahead)) order.ahead = ahead;
    }
    check_crossed();
  }
}

void SimMarket::sync_l2_from_l3(Side side, Price recorded, TimestampNs now_ns) {
  Qty total = l3_->level_at(side, recorded).qty - own_qty_at(side, recorded + shift_, true);
  if (total.is_negative()) total = Qty{};
  if (!orders_.empty() || !consumed_[index_of(side)].empty())
    on_level_change(side, recorded, book_.qty_at(side, recorded), total);
  book_.set_level(side, recorded, total, now_ns);
}

Qty SimMarket::own_qty_at(Side side, Price venue_price, bool in_l3_queue) const {
  Qty total;
  for (const auto& order : orders_)
    if (order.side == side && order.price == venue_price && (order.phantom_id != 0) == in_l3_queue)
      total += order.leaves_qty;
  return total;
}

void SimMarket::check_crossed() {
  if (!trading_ || cross_fill_ == CrossFill::None) return;
  for (auto& order : orders_) {
    if (order.leaves_qty.is_zero()) continue;
    // With cross_fill = prints a crossing book fills no more than the prints that reached us have shown.
    Qty allowed = order.leaves_qty;
    if (cross_fill_ == CrossFill::Prints && order.phantom_id == 0) {
      const Qty evidence = order.supported - order.cum_qty;
      if (!evidence.is_positive()) continue;
      allowed = min_qty(allowed, evidence);
    }
    const Side opposite_side = opposite(order.side);
    const Price best_opposite = best(opposite_side);
    if (!best_opposite.is_set() || better(opposite_side, order.price, best_opposite)) continue;
    // The venue's book reached our price: what crossed would have traded with us, at our price. Liquidity
    // merely touching our price does not jump the queue: while quantity is still ahead of us only what is
    // through our price counts.
    // Risk-averse: only prints move us, so while quantity is ahead the book crossing waits for the prints
    // (bookTicker runs about a millisecond ahead of the trade stream).
    if (queue_model_ == QueueModel::RiskAverse && order.ahead.is_positive()) continue;
    const Price tick = listing_.tick_size;
    const Price reach = order.ahead.is_positive()
                            ? (order.side == Side::Buy ? order.price - tick : order.price + tick)
                            : order.price;
    if (better(opposite_side, reach, best_opposite)) continue;
    scratch_.clear();
    const Qty got = take(order.side, allowed, reach, scratch_);
    if (got.is_positive()) fill_resting(order, order.price, got);
  }
}

void SimMarket::fill_resting(OwnOrder& order, Price price, Qty qty, bool at_price_print) {
  apply_fill(order, price, qty);
  fills_.push_back({order.client_order_id, price, qty, order.cum_qty, order.leaves_qty});
  if (at_price_print || order.phantom_id != 0) return;
  // Our later orders at this price counted this quantity ahead of them.
  for (auto& other : orders_)
    if (&other != &order && other.side == order.side && other.price == order.price &&
        other.priority > order.priority && other.phantom_id == 0)
      other.ahead -= min_qty(other.ahead, qty);
}

Qty SimMarket::own_ahead_of(const OwnOrder& order) const {
  Qty total;
  for (const auto& other : orders_)
    if (other.side == order.side && other.price == order.price && other.priority < order.priority &&
        other.phantom_id == 0)
      total += other.leaves_qty;
  return total;
}

void SimMarket::apply_fill(OwnOrder& order, Price price, Qty qty) {
  order.cum_qty += qty;
  order.leaves_qty -= qty;
  order.cum_notional += Notional::of(price, qty);
  if (order.phantom_id != 0 && l3_) l3_->cancel(order.phantom_id, qty);
}

Qty SimMarket::recorded_at(Side side, Price recorded) const {
  if (ticker_overrides()) {
    const Price top = side == Side::Buy ? ticker_.bid : ticker_.ask;
    if (top.is_set()) {
      if (better(side, recorded, top)) return Qty{};
      if (recorded == top) return side == Side::Buy ? ticker_.bid_qty : ticker_.ask_qty;  // may be zero
    }
  }
  return book_.qty_at(side, recorded);
}

Qty SimMarket::consumed_recorded(Side side, Price recorded) const {
  for (const auto& c : consumed_[index_of(side)])
    if (c.price == recorded) return c.qty;
  return Qty{};
}

Qty SimMarket::consumed_at(Side side, Price venue_price) const {
  return consumed_recorded(side, venue_price - shift_);
}

void SimMarket::consume(Side side, Price recorded, Qty qty) {
  auto& consumed = consumed_[index_of(side)];
  for (auto& c : consumed)
    if (c.price == recorded) {
      c.qty += qty;
      return;
    }
  consumed.push_back({recorded, qty});
}

Price SimMarket::best(Side side) const {
  Price out = Price::unset();
  for_each_level(side, [&](Price price, Qty) {
    out = price;
    return false;
  });
  return out;
}

TimestampNs SimMarket::best_updated_ns(Side side) const {
  const auto& book_side = book_.side(side);
  return book_side.empty() ? 0 : book_side.best_updated_ns();
}

std::size_t SimMarket::levels(Side side, std::span<md::Level> out) const {
  std::size_t n = 0;
  if (out.empty()) return 0;
  for_each_level(side, [&](Price price, Qty qty) {
    out[n++] = {price, qty};
    return n < out.size();
  });
  return n;
}

Qty SimMarket::best_qty(Side side) const {
  Qty out;
  for_each_level(side, [&](Price, Qty qty) {
    out = qty;
    return false;
  });
  return out;
}

Price SimMarket::mid() const {
  const Price bid = best(Side::Buy);
  const Price ask = best(Side::Sell);
  if (!bid.is_set() || !ask.is_set()) return Price::unset();
  return Price::from_raw((bid.raw() + ask.raw()) / 2);
}

Qty SimMarket::displayed_at(Side side, Price venue_price) const {
  const Price recorded = venue_price - shift_;
  const Qty shown = recorded_at(side, recorded) - consumed_recorded(side, recorded);
  return shown.is_positive() ? shown : Qty{};
}

Qty SimMarket::available(Side taker_side, Price limit) const {
  const Side book_side = opposite(taker_side);
  Qty total;
  for_each_level(book_side, [&](Price price, Qty qty) {
    if (limit.is_set() && better(book_side, limit, price)) return false;
    total += qty;
    return true;
  });
  return total;
}

Qty SimMarket::take(Side taker_side, Qty qty, Price limit, std::vector<md::Level>& out) {
  const Side book_side = opposite(taker_side);
  const std::size_t first = out.size();
  Qty remaining = qty;
  for_each_level(book_side, [&](Price price, Qty shown) {
    if (limit.is_set() && better(book_side, limit, price)) return false;
    const Qty got = min_qty(shown, remaining);
    out.push_back({price, got});
    remaining -= got;
    return remaining.is_positive();
  });
  // Consumed after the walk: the walk reads the consumed quantities.
  for (std::size_t i = first; i < out.size(); ++i) consume(book_side, out[i].price - shift_, out[i].qty);
  return qty - remaining;
}

void SimMarket::rest(OwnOrder order) {
  // Behind everything displayed at our price, our own earlier orders there included.
  order.ahead = displayed_at(order.side, order.price) + own_qty_at(order.side, order.price, false);
  order.traded_at_price = Qty{};
  if (exact()) {
    order.phantom_id = kPhantomBase + ++next_phantom_;
    l3_->add(order.phantom_id, order.side, order.price - shift_, order.leaves_qty);
    Qty ahead;
    if (l3_->qty_ahead(order.phantom_id, ahead)) order.ahead = ahead;
  }
  // Kept in price-time priority per side, so prints meet our orders in the order the venue would.
  auto position = std::find_if(orders_.begin(), orders_.end(), [&](const OwnOrder& o) {
    return o.side == order.side && (better(order.side, order.price, o.price) ||
                                    (order.price == o.price && order.priority < o.priority));
  });
  orders_.insert(position, order);
}

OwnOrder* SimMarket::find(ClientOrderId id) {
  for (auto& order : orders_)
    if (order.client_order_id == id) return &order;
  return nullptr;
}

bool SimMarket::remove(ClientOrderId id, OwnOrder* removed) {
  for (std::size_t i = 0; i < orders_.size(); ++i) {
    OwnOrder& order = orders_[i];
    if (order.client_order_id != id) continue;
    if (order.phantom_id != 0 && l3_) l3_->remove(order.phantom_id);
    // Our later orders at the same price counted this one ahead of them.
    for (auto& other : orders_)
      if (&other != &order && other.side == order.side && other.price == order.price &&
          other.priority > order.priority && other.phantom_id == 0) {
        other.ahead -= min_qty(other.ahead, order.leaves_qty);
      }
    if (removed) *removed = order;
    orders_.erase(orders_.begin() + static_cast<std::ptrdiff_t>(i));
    return true;
  }
  return false;
}

void SimMarket::reduce(OwnOrder& order, Qty new_leaves) {
  const Qty cut = order.leaves_qty - new_leaves;
  if (order.phantom_id != 0 && l3_) l3_->cancel(order.phantom_id, cut);
  for (auto& other : orders_)
    if (&other != &order && other.side == order.side && other.price == order.price &&
        other.priority > order.priority && other.phantom_id == 0)
      other.ahead -= min_qty(other.ahead, cut);
  order.leaves_qty = new_leaves;
  order.qty -= cut;
}

}  // namespace tranche::sim
