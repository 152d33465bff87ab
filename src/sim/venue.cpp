#include "sim/venue.hpp"

#include <algorithm>
#include <string>

namespace tranche::sim {
namespace {

// Rounds num / den to the nearest integer, halves away from zero.
std::int64_t div_round(Int128 num, Int128 den) {
  if (den < 0) {
    num = -num;
    den = -den;
  }
  const Int128 half = den / 2;
  const Int128 q = num >= 0 ? (num + half) / den : -((-num + half) / den);
  return static_cast<std::int64_t>(q);
}

Amount bps_of(Amount value, Amount bps) {
  return Amount::from_raw(
      div_round(static_cast<Int128>(value.raw()) * bps.raw(), static_cast<Int128>(kFixedScale) * 10'000));
}

Amount abs_amount(Amount a) {
  return a.is_negative() ? -a : a;
}
Qty abs_qty(Qty q) {
  return q.is_negative() ? -q : q;
}

std::string state_text(VenueState state, const std::string& reason) {
  std::string text = "venue is " + std::string(to_string(state));
  if (!reason.empty()) text += ": " + reason;
  return text;
}

}  // namespace

bool SimVenue::TokenBucket::take(TimestampNs now_ns) {
  if (capacity <= 0) return true;
  if (now_ns > last_ns) {
    tokens = std::min(capacity, tokens + capacity * static_cast<double>(now_ns - last_ns) / kNanosPerSecond);
    last_ns = now_ns;
  }
  if (tokens < 1.0) return false;
  tokens -= 1.0;
  return true;
}

SimVenue::SimVenue(const VenueConfig& config, const std::vector<Instrument>& instruments)
    : config_(config), sim_(config.sim.value_or(VenueSimConfig{})) {
  for (const auto& listing : config_.listings) {
    markets_.emplace_back(listing, sim_.queue_model, sim_.resilience);
    markets_.back().set_cross_fill(sim_.cross_fill);
    positions_.emplace_back();
    std::string base = "BASE", quote = "QUOTE";
    for (const auto& instrument : instruments)
      if (instrument.id == listing.instrument) {
        base = instrument.base;
        quote = instrument.quote;
      }
    base_assets_.push_back(base);
    quote_assets_.push_back(quote);
    // Inverse contracts settle in the coin: they only exist on margin.
    if (listing.inverse) sim_.account = AccountModel::Margin;
  }
  for (const auto& [name, amount] : config_.balances) balances_.push_back({name, amount, Amount{}});
  // Every asset a listing can touch exists from the start, so references into balances_ stay valid.
  for (std::size_t m = 0; m < markets_.size(); ++m) {
    asset(base_assets_[m]);
    asset(quote_assets_[m]);
  }
  order_bucket_.capacity = config_.limits.orders_per_second;
  order_bucket_.tokens = order_bucket_.capacity;
  cancel_bucket_.capacity = config_.limits.cancels_per_second;
  cancel_bucket_.tokens = cancel_bucket_.capacity;
}

int SimVenue::market_of(const InstrumentId& instrument) const {
  for (std::size_t i = 0; i < markets_.size(); ++i)
    if (markets_[i].listing().instrument == instrument) return static_cast<int>(i);
  return -1;
}

int SimVenue::market_of_symbol(std::string_view symbol) const {
  for (std::size_t i = 0; i < markets_.size(); ++i)
    if (markets_[i].listing().symbol == symbol) return static_cast<int>(i);
  return -1;
}

const AssetBalance* SimVenue::balance(std::string_view name) const {
  for (const auto& b : balances_)
    if (b.asset == name) return &b;
  return nullptr;
}

AssetBalance& SimVenue::asset(const std::string& name) {
  for (auto& b : balances_)
    if (b.asset == name) return b;
  balances_.push_back({name, Amount{}, Amount{}});
  return balances_.back();
}

std::size_t SimVenue::open_order_count() const {
  std::size_t n = 0;
  for (const auto& m : markets_) n += m.orders().size();
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// Accounting

Amount SimVenue::value_of(const VenueListing& listing, Price price, Qty qty) const {
  if (listing.inverse) {
    // Contracts x contract size (quote) / price = coin.
    return Amount::from_raw(
        div_round(static_cast<Int128>(qty.raw()) * listing.contract_size.raw(), price.raw()));
  }
  return Amount::from_raw(div_round(static_cast<Int128>(price.raw()) * qty.raw(), kFixedScale));
}

Amount SimVenue::lock_for(const VenueListing& listing, Side side, Price price, Qty qty) const {
  const Amount value = value_of(listing, price, qty);
  const Amount worst_fee =
      config_.fees.taker_bps.is_positive() ? bps_of(value, config_.fees.taker_bps) : Amount{};
  if (sim_.account == AccountModel::Cash)
    return side == Side::Buy ? value + worst_fee : Amount::from_raw(qty.raw());
  const Amount margin =
      Amount::from_raw(div_round(static_cast<Int128>(value.raw()) * kFixedScale, sim_.leverage.raw()));
  return margin + worst_fee;
}

AssetBalance& SimVenue::lock_asset(const SimMarket& market, Side side) {
  const auto m = static_cast<std::size_t>(&market - markets_.data());
  if (sim_.account == AccountModel::Cash)
    return asset(side == Side::Buy ? quote_assets_[m] : base_assets_[m]);
  return asset(market.listing().inverse ? base_assets_[m] : quote_assets_[m]);
}

Amount SimVenue::position_margin(const std::string& name) const {
  if (sim_.account == AccountModel::Cash) return Amount{};
  Amount total;
  for (std::size_t m = 0; m < markets_.size(); ++m) {
    const std::string& settle = markets_[m].listing().inverse ? base_assets_[m] : quote_assets_[m];
    if (settle != name) continue;
    total += Amount::from_raw(div_round(
        static_cast<Int128>(abs_amount(positions_[m].entry_value).raw()) * kFixedScale, sim_.leverage.raw()));
  }
  return total;
}

Amount SimVenue::available(const AssetBalance& balance) const {
  return balance.total - balance.locked - position_margin(balance.asset);
}

void SimVenue::relock(OwnOrder& order, const SimMarket& market) {
  AssetBalance& held = lock_asset(market, order.side);
  const Amount now = order.leaves_qty.is_positive()
                         ? lock_for(market.listing(), order.side, order.price, order.leaves_qty)
                         : Amount{};
  held.locked = held.locked - order.locked + now;
  order.locked = now;
}

void SimVenue::settle_fill(std::size_t m, OwnOrder& order, Price price, Qty qty, Liquidity liquidity,
                           Amount& fee, std::string& fee_asset) {
  const VenueListing& listing = markets_[m].listing();
  const Amount value = value_of(listing, price, qty);
  fee = bps_of(value, liquidity == Liquidity::Maker ? config_.fees.maker_bps : config_.fees.taker_bps);
  if (sim_.account == AccountModel::Cash) {
    AssetBalance& base = asset(base_assets_[m]);
    AssetBalance& quote = asset(quote_assets_[m]);
    fee_asset = quote_assets_[m];
    if (order.side == Side::Buy) {
      quote.total = quote.total - value - fee;
      base.total += Amount::from_raw(qty.raw());
    } else {
      base.total -= Amount::from_raw(qty.raw());
      quote.total = quote.total + value - fee;
    }
    return;
  }
  fee_asset = listing.inverse ? base_assets_[m] : quote_assets_[m];
  AssetBalance& settle = asset(fee_asset);
  Position& position = positions_[m];
  const Qty signed_qty = order.side == Side::Buy ? qty : -qty;
  Amount pnl;
  if (position.qty.is_zero() || position.qty.is_negative() == signed_qty.is_negative()) {
    position.entry_value += value;
    position.qty += signed_qty;
  } else {
    const Qty open = abs_qty(position.qty);
    const Qty closing = std::min(qty, open);
    const Amount entry_part = Amount::from_raw(
        div_round(static_cast<Int128>(position.entry_value.raw()) * closing.raw(), open.raw()));
    const Amount exit_part =
        Amount::from_raw(div_round(static_cast<Int128>(value.raw()) * closing.raw(), qty.raw()));
    const bool long_position = position.qty.is_positive();
    // Linear: a long gains when the exit is worth more. Inverse (values in coin): a long gains when the exit
    // is worth less coin.
    if (listing.inverse)
      pnl = long_position ? entry_part - exit_part : exit_part - entry_part;
    else
      pnl = long_position ? exit_part - entry_part : entry_part - exit_part;
    position.entry_value -= entry_part;
    position.qty += order.side == Side::Buy ? closing : -closing;
    const Qty opening = qty - closing;
    if (opening.is_positive()) {
      position.qty = order.side == Side::Buy ? opening : -opening;
      position.entry_value = value - exit_part;
    }
    if (position.qty.is_zero()) position.entry_value = Amount{};
  }
  position.realized_pnl += pnl;
  settle.total = settle.total + pnl - fee;
}

// ---------------------------------------------------------------------------------------------------------
// Reports

ExecutionReport SimVenue::base_report(const InstrumentId& instrument, ClientOrderId id,
                                      TimestampNs now_ns) const {
  ExecutionReport r;
  r.client_order_id = id;
  r.venue = config_.id;
  r.instrument = instrument;
  r.venue_ns = now_ns;
  return r;
}

void SimVenue::reject(const NewOrder& order, RejectReason reason, std::string_view text, TimestampNs now_ns) {
  ++counters_.rejects;
  ExecutionReport r = base_report(order.instrument, order.client_order_id, now_ns);
  r.exec_type = ExecType::Rejected;
  r.status = OrderStatus::Rejected;
  r.side = order.side;
  r.order_price = order.price;
  r.order_qty = order.qty;
  r.reject_reason = reason;
  r.text = FixedString<95>(text);
  reports_.push_back(r);
}

void SimVenue::report_order(const OwnOrder& order, const InstrumentId& instrument, ExecType type,
                            OrderStatus status, TimestampNs now_ns, std::string_view text) {
  ExecutionReport r = base_report(instrument, order.client_order_id, now_ns);
  r.venue_order_id = VenueOrderId(std::to_string(order.order_number));
  r.exec_type = type;
  r.status = status;
  r.side = order.side;
  r.order_price = order.price;
  r.order_qty = order.qty;
  r.cum_qty = order.cum_qty;
  r.leaves_qty =
      status == OrderStatus::New || status == OrderStatus::PartiallyFilled ? order.leaves_qty : Qty{};
  r.text = FixedString<95>(text);
  if (order.cum_qty.is_positive()) r.last_price = order.cum_notional.average_price(order.cum_qty);
  reports_.push_back(r);
}

void SimVenue::report_fill(OwnOrder& order, const InstrumentId& instrument, Price price, Qty qty,
                           Liquidity liquidity, TimestampNs now_ns) {
  ++counters_.fills;
  ++(liquidity == Liquidity::Maker ? counters_.maker_fills : counters_.taker_fills);
  ExecutionReport r = base_report(instrument, order.client_order_id, now_ns);
  r.venue_order_id = VenueOrderId(std::to_string(order.order_number));
  // Unique per venue across runs that share a journal, and the same when a seed replays the same fills: the
  // client order id (never reused by the OMS) and the fill's number within the order.
  r.exec_id = ExecId(config_.id.str() + "-" + std::to_string(order.client_order_id.value()) + "-" +
                     std::to_string(order.fill_count + 1));
  ++next_exec_number_;
  ++order.fill_count;
  r.exec_type = ExecType::Trade;
  r.status = order.leaves_qty.is_zero() ? OrderStatus::Filled : OrderStatus::PartiallyFilled;
  r.side = order.side;
  r.order_price = order.price;
  r.order_qty = order.qty;
  r.last_qty = qty;
  r.last_price = price;
  r.cum_qty = order.cum_qty;
  r.leaves_qty = order.leaves_qty;
  r.liquidity = liquidity;
  reports_.push_back(r);
}

void SimVenue::remember(const OwnOrder& order, const InstrumentId& instrument, OrderStatus status) {
  finished_[order.client_order_id.value()] = {
      order.client_order_id, instrument, status,        order.side,
      order.price,           order.qty,  order.cum_qty, order.order_number};
}

// ---------------------------------------------------------------------------------------------------------
// Requests

std::string SimVenue::validate(const SimMarket& market, Side side, OrderType type, Price price, Qty qty,
                               RejectReason& reason) const {
  const VenueListing& listing = market.listing();
  reason = RejectReason::InvalidOrder;
  if (!qty.is_set() || !qty.is_positive()) return "quantity must be positive";
  if (type == OrderType::Limit && (!price.is_set() || !price.is_positive()))
    return "a limit order needs a positive price";
  if (type == OrderType::Market && price.is_set()) return "a market order carries no price";
  if (type == OrderType::Limit && price.raw() % listing.tick_size.raw() != 0) {
    reason = RejectReason::PriceOffTick;
    return "price " + price.to_string() + " is not a multiple of the tick " + listing.tick_size.to_string();
  }
  if (qty.raw() % listing.lot_size.raw() != 0) {
    reason = RejectReason::QtyOffLot;
    return "quantity " + qty.to_string() + " is not a multiple of the lot " + listing.lot_size.to_string();
  }
  if (!listing.inverse && listing.min_notional.is_positive()) {
    const Price reference = type == OrderType::Limit ? price : market.best(opposite(side));
    if (reference.is_set() && value_of(listing, reference, qty) < listing.min_notional) {
      reason = RejectReason::BelowMinNotional;
      return "notional " + value_of(listing, reference, qty).to_string() + " is below the minimum " +
             listing.min_notional.to_string();
    }
  }
  reason = RejectReason::None;
  return {};
}

void SimVenue::take_as_taker(std::size_t m, OwnOrder& order, Price limit, TimestampNs now_ns) {
  SimMarket& market = markets_[m];
  const InstrumentId instrument = market.listing().instrument;
  fills_scratch_.clear();
  market.take(order.side, order.leaves_qty, limit, fills_scratch_);
  for (const md::Level& fill : fills_scratch_) {
    market.apply_fill(order, fill.price, fill.qty);
    Amount fee;
    std::string fee_asset;
    settle_fill(m, order, fill.price, fill.qty, Liquidity::Taker, fee, fee_asset);
    report_fill(order, instrument, fill.price, fill.qty, Liquidity::Taker, now_ns);
    reports_.back().fee = {Qty::from_raw(fee.raw()), FixedString<15>(fee_asset)};
    public_changes_.push_back({m, md::EventKind::Trade, order.side, fill.price, fill.qty});
    public_changes_.push_back({m, md::EventKind::BookDelta, opposite(order.side), fill.price,
                               market.displayed_at(opposite(order.side), fill.price)});
  }
}

void SimVenue::on_new_order(const NewOrder& order, TimestampNs now_ns) {
  ++counters_.orders;
  if (state_ != VenueState::Open)
    return reject(order, RejectReason::VenueClosed, state_text(state_, state_reason_), now_ns);
  if (!order_bucket_.take(now_ns))
    return reject(
        order, RejectReason::RateLimited,
        "over the venue's limit of " + std::to_string(config_.limits.orders_per_second) + " orders a second",
        now_ns);
  const int m = market_of(order.instrument);
  if (m < 0)
    return reject(order, RejectReason::InvalidOrder, order.instrument.str() + " is not listed here", now_ns);
  SimMarket& market = markets_[static_cast<std::size_t>(m)];
  if (!market.valid())
    return reject(order, RejectReason::VenueClosed, "no valid book: waiting for a snapshot after a gap",
                  now_ns);
  if (market.find(order.client_order_id) != nullptr || finished_.count(order.client_order_id.value()))
    return reject(order, RejectReason::InvalidOrder, "duplicate client order id", now_ns);
  RejectReason reason;
  if (std::string why = validate(market, order.side, order.type, order.price, order.qty, reason);
      !why.empty())
    return reject(order, reason, why, now_ns);
  if (order.type == OrderType::Market &&
      (order.time_in_force == TimeInForce::PostOnly || order.time_in_force == TimeInForce::GoodTillCancel)) {
    // A market order never rests: GTC means nothing for it, post-only contradicts it.
    if (order.time_in_force == TimeInForce::PostOnly)
      return reject(order, RejectReason::InvalidOrder, "a market order cannot be post-only", now_ns);
  }

  const Price limit = order.type == OrderType::Market ? Price::unset() : order.price;
  const Qty marketable = market.available(order.side, limit);
  if (order.time_in_force == TimeInForce::PostOnly && marketable.is_positive())
    return reject(order, RejectReason::PostOnlyWouldCross,
                  "post-only order at " + order.price.to_string() + " would take liquidity", now_ns);
  if (order.type == OrderType::Market && marketable.is_zero())
    return reject(order, RejectReason::InvalidOrder, "no liquidity on the other side", now_ns);

  // Balance: a limit order needs its worst case (all at its price), a market order what its walk costs.
  AssetBalance& held = lock_asset(market, order.side);
  Amount need;
  if (order.type == OrderType::Limit) {
    need = lock_for(market.listing(), order.side, order.price, order.qty);
  } else {
    Qty left = order.qty;
    market.for_each_level(opposite(order.side), [&](Price price, Qty shown) {
      const Qty got = std::min(shown, left);
      need += lock_for(market.listing(), order.side, price, got);
      left -= got;
      return left.is_positive();
    });
  }
  if (available(held) < need)
    return reject(
        order, RejectReason::InsufficientBalance,
        "needs " + need.to_string() + " " + held.asset + ", available " + available(held).to_string(),
        now_ns);

  const bool fill_or_kill = order.time_in_force == TimeInForce::FillOrKill;
  OwnOrder own;
  own.client_order_id = order.client_order_id;
  own.parent_id = order.parent_id;
  own.order_number = ++next_order_number_;
  own.priority = ++next_priority_;
  own.side = order.side;
  own.time_in_force = order.time_in_force;
  own.price = order.price;
  own.qty = order.qty;
  own.leaves_qty = order.qty;
  own.accepted_ns = now_ns;
  report_order(own, order.instrument, ExecType::New, OrderStatus::New, now_ns);
  if (fill_or_kill && marketable < order.qty) {
    report_order(own, order.instrument, ExecType::Expired, OrderStatus::Expired, now_ns,
                 "fill-or-kill: only " + marketable.to_string() + " available");
    remember(own, order.instrument, OrderStatus::Expired);
    return;
  }

  if (marketable.is_positive()) take_as_taker(static_cast<std::size_t>(m), own, limit, now_ns);

  if (own.leaves_qty.is_zero()) {
    remember(own, order.instrument, OrderStatus::Filled);
    return;
  }
  const bool rests = order.type == OrderType::Limit && (order.time_in_force == TimeInForce::GoodTillCancel ||
                                                        order.time_in_force == TimeInForce::PostOnly);
  if (!rests) {
    const OrderStatus status = OrderStatus::Expired;
    report_order(
        own, order.instrument, ExecType::Expired, status, now_ns,
        order.type == OrderType::Market ? "market order: the book ran out" : "immediate-or-cancel remainder");
    remember(own, order.instrument, status);
    return;
  }
  relock(own, market);
  market.rest(own);
}

void SimVenue::note_cancel_sent(ClientOrderId id, TimestampNs sent_ns) {
  for (auto& market : markets_)
    if (OwnOrder* order = market.find(id)) order->cancel_sent_ns = sent_ns;
}

void SimVenue::finish(std::size_t m, ClientOrderId id, TimestampNs now_ns, ExecType type, OrderStatus status,
                      std::string_view text) {
  SimMarket& market = markets_[m];
  OwnOrder removed;
  if (!market.remove(id, &removed)) return;
  AssetBalance& held = lock_asset(market, removed.side);
  held.locked -= removed.locked;
  removed.locked = Amount{};
  report_order(removed, market.listing().instrument, type, status, now_ns, text);
  remember(removed, market.listing().instrument, status);
}

void SimVenue::on_cancel(const CancelOrder& cancel, TimestampNs now_ns) {
  ++counters_.cancels;
  auto cancel_reject = [&](RejectReason reason, std::string_view text) {
    ++counters_.rejects;
    ExecutionReport r = base_report(cancel.instrument, cancel.client_order_id, now_ns);
    r.exec_type = ExecType::CancelRejected;
    r.reject_reason = reason;
    r.text = FixedString<95>(text);
    if (auto it = finished_.find(cancel.client_order_id.value()); it != finished_.end()) {
      r.status = it->second.status;
      r.cum_qty = it->second.cum_qty;
      r.order_qty = it->second.qty;
      r.side = it->second.side;
      r.venue_order_id = VenueOrderId(std::to_string(it->second.order_number));
    } else {
      r.status = OrderStatus::Rejected;
    }
    reports_.push_back(r);
  };
  if (!cancel_bucket_.take(now_ns))
    return cancel_reject(RejectReason::RateLimited, "over the venue's limit of " +
                                                        std::to_string(config_.limits.cancels_per_second) +
                                                        " cancels a second");
  for (std::size_t m = 0; m < markets_.size(); ++m)
    if (markets_[m].find(cancel.client_order_id) != nullptr)
      return finish(m, cancel.client_order_id, now_ns, ExecType::Canceled, OrderStatus::Canceled, {});
  cancel_reject(RejectReason::UnknownOrder, finished_.count(cancel.client_order_id.value())
                                                ? "unknown order: it is no longer open"
                                                : "unknown order");
}

void SimVenue::on_amend(const AmendOrder& amend, TimestampNs now_ns) {
  ++counters_.amends;
  auto amend_reject = [&](RejectReason reason, std::string_view text, const OwnOrder* order) {
    ++counters_.rejects;
    ExecutionReport r = base_report(amend.instrument, amend.client_order_id, now_ns);
    r.exec_type = ExecType::ReplaceRejected;
    r.reject_reason = reason;
    r.text = FixedString<95>(text);
    if (order != nullptr) {
      r.status = order->cum_qty.is_positive() ? OrderStatus::PartiallyFilled : OrderStatus::New;
      r.side = order->side;
      r.order_price = order->price;
      r.order_qty = order->qty;
      r.cum_qty = order->cum_qty;
      r.leaves_qty = order->leaves_qty;
      r.venue_order_id = VenueOrderId(std::to_string(order->order_number));
    } else {
      r.status = OrderStatus::Rejected;
    }
    reports_.push_back(r);
  };
  if (!order_bucket_.take(now_ns))
    return amend_reject(RejectReason::RateLimited, "over the venue's order rate limit", nullptr);
  for (std::size_t m = 0; m < markets_.size(); ++m) {
    SimMarket& market = markets_[m];
    OwnOrder* order = market.find(amend.client_order_id);
    if (order == nullptr) continue;
    if (state_ != VenueState::Open)
      return amend_reject(RejectReason::VenueClosed, state_text(state_, state_reason_), order);
    const Price new_price = amend.new_price.is_set() ? amend.new_price : order->price;
    const Qty new_qty = amend.new_qty.is_set() ? amend.new_qty : order->qty;
    RejectReason reason;
    if (std::string why = validate(market, order->side, OrderType::Limit, new_price, new_qty, reason);
        !why.empty())
      return amend_reject(reason, why, order);
    if (new_qty <= order->cum_qty)
      return amend_reject(RejectReason::InvalidOrder, "the new quantity must exceed the executed quantity",
                          order);
    const InstrumentId instrument = market.listing().instrument;
    if (new_price == order->price && new_qty <= order->qty) {
      // A smaller order at the same price keeps its place.
      market.reduce(*order, new_qty - order->cum_qty);
      relock(*order, market);
      report_order(*order, instrument, ExecType::Replaced,
                   order->cum_qty.is_positive() ? OrderStatus::PartiallyFilled : OrderStatus::New, now_ns);
      return;
    }
    const Qty marketable = market.available(order->side, new_price);
    if (order->time_in_force == TimeInForce::PostOnly && marketable.is_positive())
      return amend_reject(RejectReason::PostOnlyWouldCross,
                          "post-only order would take liquidity at the new price", order);
    AssetBalance& held = lock_asset(market, order->side);
    const Amount need = lock_for(market.listing(), order->side, new_price, new_qty - order->cum_qty);
    if (available(held) + order->locked < need)
      return amend_reject(RejectReason::InsufficientBalance,
                          "not enough " + held.asset + " for the new order", order);
    // A new price or a larger quantity loses the place: the order goes to the back of the queue.
    OwnOrder moved = *order;
    market.remove(moved.client_order_id);
    held.locked -= moved.locked;
    moved.locked = Amount{};
    moved.price = new_price;
    moved.qty = new_qty;
    moved.leaves_qty = new_qty - moved.cum_qty;
    moved.priority = ++next_priority_;
    report_order(moved, instrument, ExecType::Replaced,
                 moved.cum_qty.is_positive() ? OrderStatus::PartiallyFilled : OrderStatus::New, now_ns);
    if (marketable.is_positive()) take_as_taker(m, moved, new_price, now_ns);

    if (moved.leaves_qty.is_zero()) {
      remember(moved, instrument, OrderStatus::Filled);
      return;
    }
    relock(moved, market);
    market.rest(moved);
    return;
  }
  amend_reject(RejectReason::UnknownOrder, "unknown order", nullptr);
}

void SimVenue::on_query(const OrderStatusQuery& query, TimestampNs now_ns) {
  for (auto& market : markets_)
    if (const OwnOrder* order = market.find(query.client_order_id)) {
      report_order(*order, market.listing().instrument, ExecType::OrderStatus,
                   order->cum_qty.is_positive() ? OrderStatus::PartiallyFilled : OrderStatus::New, now_ns);
      return;
    }
  ExecutionReport r = base_report(query.instrument, query.client_order_id, now_ns);
  r.exec_type = ExecType::OrderStatus;
  if (auto it = finished_.find(query.client_order_id.value()); it != finished_.end()) {
    const Finished& f = it->second;
    r.status = f.status;
    r.side = f.side;
    r.order_price = f.price;
    r.order_qty = f.qty;
    r.cum_qty = f.cum_qty;
    r.venue_order_id = VenueOrderId(std::to_string(f.order_number));
  } else {
    r.status = OrderStatus::Rejected;
    r.reject_reason = RejectReason::UnknownOrder;
    r.text = FixedString<95>("unknown order");
  }
  reports_.push_back(r);
}

// ---------------------------------------------------------------------------------------------------------
// Market data and state

void SimVenue::on_market_event(std::size_t m, const md::Event& event) {
  SimMarket& market = markets_[m];
  market.on_event(event);
  if (!market.fills().empty()) settle_resting_fills(m, event.recv_ns);
}

void SimVenue::settle_resting_fills(std::size_t m, TimestampNs now_ns) {
  SimMarket& market = markets_[m];
  const InstrumentId instrument = market.listing().instrument;
  // Every fill is settled and reported as it was made; filled orders leave the book after the loop, since one
  // event can fill an order more than once.
  for (const SimFill& fill : market.fills()) {
    OwnOrder* order = market.find(fill.client_order_id);
    if (order == nullptr) continue;  // cannot happen: orders are removed only below
    Amount fee;
    std::string fee_asset;
    settle_fill(m, *order, fill.price, fill.qty, Liquidity::Maker, fee, fee_asset);
    report_fill(*order, instrument, fill.price, fill.qty, Liquidity::Maker, now_ns);
    ExecutionReport& report = reports_.back();
    report.cum_qty = fill.cum_qty;
    report.leaves_qty = fill.leaves_qty;
    report.status = fill.leaves_qty.is_zero() ? OrderStatus::Filled : OrderStatus::PartiallyFilled;
    report.fee = {Qty::from_raw(fee.raw()), FixedString<15>(fee_asset)};
    public_changes_.push_back({m, md::EventKind::Trade, opposite(order->side), fill.price, fill.qty});
  }
  for (const SimFill& fill : market.fills()) {
    OwnOrder* order = market.find(fill.client_order_id);
    if (order == nullptr) continue;
    relock(*order, market);
    if (order->leaves_qty.is_zero()) {
      remember(*order, instrument, OrderStatus::Filled);
      market.remove(fill.client_order_id);
    }
  }
  market.fills().clear();
}

void SimVenue::set_state(VenueState state, std::string_view reason, TimestampNs now_ns) {
  if (state == state_) return;
  state_ = state;
  state_reason_ = std::string(reason);
  for (auto& market : markets_) market.set_trading(state == VenueState::Open);
  if (state == VenueState::Closed) {
    const std::string text = "venue closed: " + state_reason_;
    for (std::size_t m = 0; m < markets_.size(); ++m)
      while (!markets_[m].orders().empty())
        finish(m, markets_[m].orders().front().client_order_id, now_ns, ExecType::Canceled,
               OrderStatus::Canceled, text);
  }
  VenueStatusReport status;
  status.venue = config_.id;
  status.state = state;
  status.text = FixedString<95>(state_reason_);
  status.venue_ns = now_ns;
  statuses_.push_back(status);
}

}  // namespace tranche::sim
