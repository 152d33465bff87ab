#include "risk/risk_gate.hpp"

#include <algorithm>
#include <cmath>

namespace tranche::risk {
namespace {

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Price x qty in the quote currency, as an Amount (8 decimals).
Amount quote_value(Price price, Qty qty) {
  return Amount::from_raw(
      static_cast<std::int64_t>(static_cast<Int128>(price.raw()) * qty.raw() / kFixedScale));
}

Amount to_amount(const Notional& n) {
  return Amount::from_raw(static_cast<std::int64_t>(n.raw() / kFixedScale));
}

// An amount as a Notional (16 decimals), exactly: a multiplication, never a division.
Notional as_notional(Amount a) {
  return Notional::from_raw(static_cast<Int128>(a.raw()) * kFixedScale);
}

// bps of a price, as a price distance.
Price bps_of(Price price, Amount bps) {
  return Price::from_raw(static_cast<std::int64_t>(static_cast<Int128>(price.raw()) * bps.raw() /
                                                   (static_cast<Int128>(kFixedScale) * 10'000)));
}

std::string str(Amount a) {
  return a.to_string();
}
std::string str(Qty q) {
  return q.to_string();
}
std::string str(Price p) {
  return p.is_set() ? p.to_string() : std::string("-");
}

}  // namespace

bool RiskGate::Bucket::available(TimestampNs now_ns) {
  if (capacity <= 0) return true;
  if (now_ns > last_ns) {
    tokens = std::min(capacity, tokens + capacity * static_cast<double>(now_ns - last_ns) / kNanosPerSecond);
    last_ns = now_ns;
  }
  return tokens >= 1.0;
}

double RiskGate::Bucket::used_at(TimestampNs now_ns) const {
  if (capacity <= 0) return 0;
  double held = tokens;
  if (now_ns > last_ns)
    held = std::min(capacity, tokens + capacity * static_cast<double>(now_ns - last_ns) / kNanosPerSecond);
  return std::max(0.0, capacity - held);
}

std::vector<RiskGate::BudgetUse> RiskGate::budget_use(TimestampNs now_ns) const {
  std::vector<BudgetUse> out;
  out.reserve(budgets_.size());
  for (const auto& b : budgets_)
    out.push_back({b.venue, b.orders.capacity, b.orders.used_at(now_ns), b.cancels.capacity,
                   b.cancels.used_at(now_ns)});
  return out;
}

Price RiskGate::Market::mid() const {
  if (bid.is_set() && ask.is_set() && bid < ask) return Price::from_raw((bid.raw() + ask.raw()) / 2);
  return last;
}

RiskGate::RiskGate(const Config& config) : config_(config) {
  build();
}

void RiskGate::build() {
  std::vector<Market> old = std::move(markets_);
  std::vector<VenueBudget> old_budgets = std::move(budgets_);
  markets_.clear();
  budgets_.clear();
  for (const auto& venue : config_.venues) {
    VenueBudget budget;
    budget.venue = venue.id;
    budget.orders.capacity = venue.limits.orders_per_second;
    budget.orders.tokens = budget.orders.capacity;
    budget.cancels.capacity = venue.limits.cancels_per_second;
    budget.cancels.tokens = budget.cancels.capacity;
    for (const auto& b : old_budgets)
      if (b.venue == venue.id) {
        budget.orders.tokens = std::min(b.orders.tokens, budget.orders.capacity);
        budget.orders.last_ns = b.orders.last_ns;
        budget.cancels.tokens = std::min(b.cancels.tokens, budget.cancels.capacity);
        budget.cancels.last_ns = b.cancels.last_ns;
      }
    budgets_.push_back(budget);
    for (const auto& listing : venue.listings) {
      Market m;
      m.venue = venue.id;
      m.instrument = listing.instrument;
      m.venue_config = &venue;
      m.listing = &listing;
      m.instrument_config = config_.instrument(listing.instrument);
      auto limits = config_.risk.instruments.find(listing.instrument.str());
      m.limits = limits == config_.risk.instruments.end() ? nullptr : &limits->second;
      m.venue_index = budgets_.size() - 1;
      m.disabled = contains(config_.risk.disabled_venues, venue.id.view());
      m.cash = !listing.inverse && (venue.market == "spot" || venue.market.empty());
      for (const auto& o : old)
        if (o.venue == m.venue && o.instrument == m.instrument) {
          m.bid = o.bid;
          m.ask = o.ask;
          m.last = o.last;
          m.updated_ns = o.updated_ns;
        }
      markets_.push_back(m);
    }
  }
}

Status RiskGate::reload(const Config& config) {
  config_ = config;
  build();
  return {};
}

RiskGate::Market* RiskGate::market(const VenueId& venue, const InstrumentId& instrument) {
  for (auto& m : markets_)
    if (m.venue == venue && m.instrument == instrument) return &m;
  return nullptr;
}

const RiskGate::Market* RiskGate::market(const VenueId& venue, const InstrumentId& instrument) const {
  for (const auto& m : markets_)
    if (m.venue == venue && m.instrument == instrument) return &m;
  return nullptr;
}

void RiskGate::on_quote(const VenueId& venue, const InstrumentId& instrument, Price bid, Price ask,
                        TimestampNs now_ns) {
  if (Market* m = market(venue, instrument)) {
    m->bid = bid;
    m->ask = ask;
    m->updated_ns = now_ns;
  }
}

void RiskGate::on_trade(const VenueId& venue, const InstrumentId& instrument, Price price,
                        TimestampNs now_ns) {
  if (Market* m = market(venue, instrument)) {
    m->last = price;
    m->updated_ns = now_ns;
  }
}

Price RiskGate::reference_price(const InstrumentId& instrument, TimestampNs now_ns) const {
  const Market* best = nullptr;
  for (const auto& m : markets_) {
    if (m.instrument != instrument || !m.mid().is_set()) continue;
    if (now_ns - m.updated_ns > config_.risk.max_market_data_age_ns) continue;
    if (m.venue.view() == config_.primary_venue) return m.mid();
    if (best == nullptr || m.updated_ns > best->updated_ns) best = &m;
  }
  return best ? best->mid() : Price::unset();
}

std::optional<oms::RiskDenial> RiskGate::deny(const char* code, std::string text) {
  ++denials_;
  oms::RiskDenial d;
  d.reason_code = code;
  d.text = std::move(text);
  return d;
}

std::optional<oms::RiskDenial> RiskGate::check_parent(const oms::ParentOrder& parent, const oms::Oms& oms,
                                                      TimestampNs now_ns) {
  ++checks_;
  const RiskConfig& risk = config_.risk;
  if (!parent.qty.is_set() || !parent.qty.is_positive())
    return deny("qty_not_positive", "quantity must be positive");
  if (!risk.accounts.empty() && !contains(risk.accounts, parent.account.view()))
    return deny("account_not_allowed", "account '" + parent.account.str() + "' is not in risk.accounts");
  const Instrument* instrument = config_.instrument(parent.instrument);
  if (instrument == nullptr)
    return deny("unknown_instrument", parent.instrument.str() + " is not configured");
  if (contains(risk.restricted, parent.instrument.view()))
    return deny("restricted", parent.instrument.str() + " is on the restricted list");
  bool any_venue = false;
  for (const auto& m : markets_) any_venue = any_venue || (m.instrument == parent.instrument && !m.disabled);
  if (!any_venue) return deny("no_venue", "no enabled venue lists " + parent.instrument.str());
  std::string why;
  if (oms.blocked(parent.account, VenueId(""), &why)) return deny("kill_switch", why);
  auto limits = risk.instruments.find(parent.instrument.str());
  if (limits != risk.instruments.end()) {
    const InstrumentRisk& l = limits->second;
    if (l.max_parent_qty.is_positive() && parent.qty > l.max_parent_qty)
      return deny("max_parent_qty",
                  "quantity " + str(parent.qty) + " is over the limit of " + str(l.max_parent_qty));
    if (l.adv.is_positive() && parent.qty.to_double() > risk.max_adv_share * l.adv.to_double())
      return deny("adv_share", "quantity " + str(parent.qty) + " is more than " +
                                   std::to_string(risk.max_adv_share * 100).substr(0, 4) +
                                   "% of the daily volume " + str(l.adv));
  }
  const Price reference = reference_price(parent.instrument, now_ns);
  if (!reference.is_set())
    return deny("no_reference_price", "no fresh market data for " + parent.instrument.str() + " to value it");
  const Amount notional = quote_value(reference, parent.qty);
  if (notional > risk.max_parent_notional)
    return deny("max_parent_notional",
                "notional " + str(notional) + " is over the limit of " + str(risk.max_parent_notional));
  if (parent.limit.is_set()) {
    const Price band = bps_of(reference, risk.parent_collar_bps);
    if (parent.limit > reference + band || parent.limit < reference - band)
      return deny("parent_price_collar", "limit " + str(parent.limit) + " is more than " +
                                             str(risk.parent_collar_bps) + " bps from the reference " +
                                             str(reference));
  }
  return std::nullopt;
}

std::optional<oms::RiskDenial> RiskGate::check_child(const NewOrder& order, const oms::Oms& oms,
                                                     TimestampNs now_ns) {
  ++checks_;
  const RiskConfig& risk = config_.risk;
  const oms::ParentRecord* parent = oms.parent(order.parent_id);
  if (parent == nullptr) return deny("unknown_parent", "the child's parent was never accepted");
  std::string why;
  if (oms.blocked(parent->order.account, order.venue, &why)) return deny("kill_switch", why);
  Market* m = market(order.venue, order.instrument);
  if (m == nullptr) return deny("not_listed", order.venue.str() + " does not list " + order.instrument.str());
  if (m->disabled) return deny("venue_disabled", order.venue.str() + " is in risk.disabled_venues");
  if (m->updated_ns == 0 || now_ns - m->updated_ns > risk.max_market_data_age_ns)
    return deny("stale_market_data", "market data from " + order.venue.str() + " is older than the limit");
  const Price mid = m->mid();
  if (!mid.is_set())
    return deny("no_market", order.venue.str() + " shows no price for " + order.instrument.str());

  // Steps of the venue. Amounts are compared as exact Notionals (16 decimals), multiplying limits up instead
  // of dividing values down: no 128-bit division on the passing path.
  const VenueListing& listing = *m->listing;
  if (!order.qty.is_set() || !order.qty.is_positive())
    return deny("qty_not_positive", "quantity must be positive");
  if (order.qty.raw() % listing.lot_size.raw() != 0)
    return deny("qty_off_lot",
                "quantity " + str(order.qty) + " is not a multiple of the lot " + str(listing.lot_size));
  if (order.type == OrderType::Limit &&
      (!order.price.is_set() || order.price.raw() % listing.tick_size.raw() != 0))
    return deny("price_off_tick",
                "price " + str(order.price) + " is not on the tick " + str(listing.tick_size));
  const Price price = order.type == OrderType::Limit ? order.price : mid;
  // What the child is worth in the quote currency, and in base.
  const Notional notional = listing.inverse
                                ? Notional::of(Price::from_raw(listing.contract_size.raw()), order.qty)
                                : Notional::of(price, order.qty);
  const Qty base = listing.inverse
                       ? Qty::from_raw(static_cast<std::int64_t>(static_cast<Int128>(order.qty.raw()) *
                                                                 listing.contract_size.raw() / price.raw()))
                       : order.qty;
  if (!listing.inverse && notional < as_notional(listing.min_notional))
    return deny("below_min_notional", "notional " + to_amount(notional).to_string() +
                                          " is below the venue's minimum " + str(listing.min_notional));

  // Price collar around the venue's mid: |price - mid| x 10,000 <= mid x bps.
  if (order.type == OrderType::Limit) {
    const Int128 distance = static_cast<Int128>((order.price - mid).raw());
    const Int128 lhs = (distance < 0 ? -distance : distance) * 10'000 * kFixedScale;
    if (lhs > static_cast<Int128>(mid.raw()) * risk.child_collar_bps.raw())
      return deny("price_collar", "price " + str(order.price) + " is more than " +
                                      str(risk.child_collar_bps) + " bps from the mid " + str(mid) + " on " +
                                      order.venue.str());
  }

  // Size.
  if (m->limits != nullptr && m->limits->max_child_qty.is_positive() && base > m->limits->max_child_qty)
    return deny("max_order_qty",
                "quantity " + str(base) + " is over the limit of " + str(m->limits->max_child_qty));
  if (notional > as_notional(risk.max_child_notional))
    return deny("max_order_notional", "notional " + to_amount(notional).to_string() +
                                          " is over the limit of " + str(risk.max_child_notional));

  // What is already open and in flight, on this venue and for this account.
  const oms::Exposure& venue = oms.venue_exposure(order.venue.view());
  const oms::Exposure& account = oms.account_exposure(parent->order.account.view());
  if (venue.open_orders + 1 > risk.max_open_orders_per_venue)
    return deny("max_open_orders_venue",
                std::to_string(venue.open_orders) + " orders already open on " + order.venue.str());
  if (account.open_orders + 1 > risk.max_open_orders_per_account)
    return deny("max_open_orders_account", std::to_string(account.open_orders) + " orders already open for " +
                                               parent->order.account.str());
  const Notional venue_flight = venue.in_flight_notional + notional;
  if (venue_flight > as_notional(risk.max_in_flight_notional_per_venue))
    return deny("max_in_flight_notional_venue", "in flight on " + order.venue.str() + " would be " +
                                                    to_amount(venue_flight).to_string() + ", over " +
                                                    str(risk.max_in_flight_notional_per_venue));
  const Notional account_flight = account.in_flight_notional + notional;
  if (account_flight > as_notional(risk.max_in_flight_notional_per_account))
    return deny("max_in_flight_notional_account", "in flight for " + parent->order.account.str() +
                                                      " would be " + to_amount(account_flight).to_string() +
                                                      ", over " +
                                                      str(risk.max_in_flight_notional_per_account));

  // Position, counting what is in flight on the same side.
  const oms::InstrumentExposure flight =
      oms.instrument_exposure(parent->order.account.view(), order.instrument.view());
  if (m->limits != nullptr && m->limits->max_position.is_positive()) {
    const oms::Position* pos = oms.position(parent->order.account, order.instrument);
    const Qty held = pos ? pos->qty : Qty{};
    const Qty worst =
        order.side == Side::Buy ? held + flight.buy_in_flight + base : -(held - flight.sell_in_flight - base);
    if (worst > m->limits->max_position)
      return deny("max_position",
                  "the position could reach " + str(order.side == Side::Buy ? worst : -worst) +
                      " with what is in flight, over the limit of " + str(m->limits->max_position));
  }

  // The venue's balance: cash venues need the quote to buy and the base to sell; margin venues the settlement
  // asset for the notional (at 1x: conservative).
  if (m->instrument_config != nullptr) {
    auto balance = [&](const std::string& asset) {
      auto it = m->venue_config->balances.find(asset);
      const Amount start = it == m->venue_config->balances.end() ? Amount{} : it->second;
      return start + oms.venue_flow(order.venue.view(), asset);
    };
    if (m->cash && order.side == Side::Sell) {
      const Amount free = balance(m->instrument_config->base) - Amount::from_raw(flight.sell_in_flight.raw());
      if (Amount::from_raw(base.raw()) > free)
        return deny("insufficient_balance", "selling " + str(base) + " " + m->instrument_config->base +
                                                " on " + order.venue.str() + " with " + str(free) + " free");
    } else if (!listing.inverse) {
      const Notional free = as_notional(balance(m->instrument_config->quote)) - venue.in_flight_notional;
      if (notional > free)
        return deny("insufficient_balance", "needs " + to_amount(notional).to_string() + " " +
                                                m->instrument_config->quote + " on " + order.venue.str() +
                                                ", " + to_amount(free).to_string() + " free");
    } else {
      const Amount free = balance(m->instrument_config->base);
      if (Amount::from_raw(base.raw()) > free)
        return deny("insufficient_balance", "needs " + str(base) + " " + m->instrument_config->base +
                                                " of margin on " + order.venue.str() + ", " + str(free) +
                                                " held");
    }
  }

  // Self-trade prevention: our buy and our sell must never meet on one venue.
  if (risk.self_trade_prevention) {
    for (const oms::OpenOrderView& other : oms.open_orders()) {
      if (other.side == order.side || other.venue != order.venue || other.instrument != order.instrument)
        continue;
      const bool meets = order.type == OrderType::Market || other.type == OrderType::Market ||
                         (order.side == Side::Buy ? order.price >= other.price : order.price <= other.price);
      if (meets)
        return deny("self_trade", "would meet our own " +
                                      std::string(order.side == Side::Buy ? "sell" : "buy") + " " +
                                      std::to_string(other.id.value()) + " at " + str(other.price) + " on " +
                                      order.venue.str());
    }
  }

  // Last, the venue's order rate: a token is spent only by an order that goes.
  Bucket& bucket = budgets_[m->venue_index].orders;
  if (!bucket.available(now_ns))
    return deny("rate_limit", "over " + order.venue.str() + "'s " +
                                  std::to_string(static_cast<int>(bucket.capacity)) + " orders a second");
  bucket.take();
  return std::nullopt;
}

bool RiskGate::order_budget_left(const VenueId& venue, TimestampNs now_ns) {
  for (auto& b : budgets_)
    if (b.venue == venue) return b.orders.available(now_ns);
  return true;
}

std::optional<oms::RiskDenial> RiskGate::check_cancel(const CancelOrder& cancel, const oms::Oms&,
                                                      TimestampNs now_ns) {
  ++checks_;
  for (auto& b : budgets_) {
    if (b.venue != cancel.venue) continue;
    if (!b.cancels.available(now_ns))
      return deny("cancel_rate_limit", "over " + cancel.venue.str() + "'s " +
                                           std::to_string(static_cast<int>(b.cancels.capacity)) +
                                           " cancels a second");
    b.cancels.take();
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace tranche::risk
