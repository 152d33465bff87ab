#include "ems/placer.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <sstream>

namespace tranche::ems {
namespace {

constexpr double kRateHalfLifeS = 30.0;
constexpr std::uint32_t kMaxRefusals = 20;

const md::Level* touch(const VenueView& v, Side side) {
  const auto& levels = side == Side::Buy ? v.bids : v.asks;
  return levels.empty() ? nullptr : &levels.front();
}

NewOrder limit_order(const VenueId& venue, TimeInForce tif, Price price, Qty qty) {
  NewOrder order;
  order.venue = venue;
  order.type = OrderType::Limit;
  order.time_in_force = tif;
  order.price = price;
  order.qty = qty;
  return order;
}

// Whether `price` is within the intent's limit (no limit: every price is).
bool within_limit(const Intent& in, Price price) {
  return !in.limit.is_set() || (in.side == Side::Buy ? price <= in.limit : price >= in.limit);
}

// Base displayed on `side` of `v` at `price` or better: all of it is ahead of an order resting at `price`.
double shown_at_or_better(const VenueView& v, Side side, Price price) {
  double base = 0;
  for (const md::Level& l : side == Side::Buy ? v.bids : v.asks)
    if (side == Side::Buy ? l.price >= price : l.price <= price)
      base += base_from_units(v.listing, l.qty, l.price).to_double();
  return base;
}

// Where a passive or pegged child rests on a venue: at the touch, or better by the intent's offset while that
// stays inside the venue's spread.
Price rest_price(const VenueView& v, const Intent& in, Price touch_price) {
  if (in.offset_ticks <= 0) return touch_price;
  const Price step = Price::from_raw(v.listing.tick_size.raw() * in.offset_ticks);
  const Price better = in.side == Side::Buy ? touch_price + step : touch_price - step;
  const md::Level* other = touch(v, opposite(in.side));
  if (other != nullptr && (in.side == Side::Buy ? better >= other->price : better <= other->price))
    return touch_price;
  return better;
}

}  // namespace

Qty smallest_sendable(const std::vector<VenueView>& views, Side side, VenueScope scope) {
  Qty smallest;
  for (const VenueView& v : views) {
    if (scope == VenueScope::Tradable && !v.tradable) continue;
    const auto& levels = side == Side::Buy ? v.asks : v.bids;
    if (levels.empty()) continue;
    const Qty unit = smallest_sendable(v.listing, levels.front().price);
    if (unit.is_positive() && (smallest.is_zero() || unit < smallest)) smallest = unit;
  }
  return smallest;
}

const char* to_string(Urgency urgency) {
  switch (urgency) {
    case Urgency::Aggressive:
      return "aggressive";
    case Urgency::Passive:
      return "passive";
    case Urgency::Peg:
      return "peg";
  }
  return "?";
}

Placer::Placer(const Config& config, oms::OrderManager& manager, PlacerParams params, const Scorecards* cards)
    : config_(config), manager_(manager), params_(params), cards_(cards) {}

void Placer::release(std::size_t id) {
  if (id >= intents_.size() || std::find(free_ids_.begin(), free_ids_.end(), id) != free_ids_.end()) return;
  if (in_active_[id] && !done_[id] && intents_[id].urgency != Urgency::Aggressive) --live_passive_;
  in_active_[id] = 0;
  std::erase(idle_, id);
  for (ClientOrderId child : children_[id]) intent_of_child_.erase(child.value());
  std::vector<ClientOrderId>().swap(children_[id]);
  states_[id] = IntentState{};
  set_done(id);
  intents_[id] = Intent{};
  std::erase(active_, id);
  for (std::size_t k = working_.size(); k-- > 0;)
    if (working_[k].intent == id) {
      unindex_moves(hot_[k]);
      working_.erase(working_.begin() + static_cast<std::ptrdiff_t>(k));
      hot_.erase(hot_.begin() + static_cast<std::ptrdiff_t>(k));
      --working_count_[id];
    }
  std::erase_if(held_, [&](const Held& h) { return h.intent == id; });
  free_ids_.push_back(id);
}

Qty Placer::in_flight(std::size_t id) const {
  // From the OMS, which has every report once: an open child's remainder, and what a closed child's venue
  // said it executed that has not reached us yet.
  Qty total;
  for (ClientOrderId child : children_[id]) {
    const oms::ChildOrder* c = manager_.oms().child(child);
    if (c == nullptr) continue;
    const Qty pending = c->open() ? c->leaves_qty() : c->venue_cum - c->cum_qty;
    if (!pending.is_positive()) continue;
    const VenueListing* listing = config_.venue(c->order.venue)->listing(intents_[id].instrument);
    total += base_from_units(*listing, pending, c->order.price);
  }
  return total;
}

Qty Placer::own_resting_units(const VenueId& venue, Side side, Price price) const {
  Qty total;
  for (std::size_t k = 0; k < working_.size(); ++k) {
    const Working& w = working_[k];
    if (!w.passive || w.price != price || !(w.venue == venue) || hot_[k].side != side) continue;
    if (const oms::ChildOrder* c = manager_.oms().child(w.child); c != nullptr && c->open())
      total += c->leaves_qty();
  }
  return total;
}

// What the OMS counts executed for each child: every fill once, however the reports came.
Qty Placer::filled(std::size_t id) const {
  Qty total;
  for (ClientOrderId child : children_[id])
    if (const oms::ChildOrder* c = manager_.oms().child(child)) total += c->cum_base;
  return total;
}

Qty Placer::remaining(std::size_t id) const {
  return intents_[id].qty - filled(id);
}

void Placer::on_trade(const VenueId& venue, Side aggressor, Price /*price*/, double base,
                      TimestampNs now_ns) {
  // By venue slot and side, not by the venue's name: a print costs no string key.
  const std::size_t at = std::size_t{venue_slot(venue)} * 2 + (opposite(aggressor) == Side::Buy ? 0 : 1);
  if (rates_.size() <= at) rates_.resize(at + 2);
  TradeRate& r = rates_[at];
  if (r.last_ns != 0)
    r.volume *=
        std::exp(-static_cast<double>(now_ns - r.last_ns) / kNanosPerSecond / kRateHalfLifeS * std::log(2.0));
  r.volume += base;
  r.last_ns = now_ns;
  r.seen = true;
}

double Placer::rate_per_second(const VenueId& venue, Side resting_side, TimestampNs now_ns) const {
  const std::uint8_t slot = find_venue_slot(venue);
  const std::size_t at = std::size_t{slot} * 2 + (resting_side == Side::Buy ? 0 : 1);
  if (slot == 255 || at >= rates_.size() || !rates_[at].seen) return 0;
  const TradeRate& rate = rates_[at];
  const double decayed = rate.volume * std::exp(-static_cast<double>(now_ns - rate.last_ns) /
                                                kNanosPerSecond / kRateHalfLifeS * std::log(2.0));
  return decayed * std::log(2.0) / kRateHalfLifeS;  // the decayed sum of an EMA is rate x half-life / ln 2
}

double Placer::expected_fill_seconds(const VenueId& venue, Side resting_side, double ahead, double base,
                                     TimestampNs now_ns) const {
  // Risk-averse: only prints reach us, those that hit the side we rest on.
  const double rate = std::max(rate_per_second(venue, resting_side, now_ns), 1e-6);
  return (ahead + base) / rate;
}

std::optional<double> Placer::toward(const VenueView& v, Side side) {
  if (!v.signals.known || !v.signals.fitted || !v.signals.micro_price.is_set()) return std::nullopt;
  return (side == Side::Buy ? 1.0 : -1.0) * v.signals.micro_ticks;
}

bool Placer::take_signal_token(std::size_t id, TimestampNs now_ns) {
  IntentState& st = states_[id];
  const double per_second = intents_[id].signal.actions_per_minute / 60.0;
  const double capacity = std::max(1.0, per_second * 10);
  if (st.signal_tokens < 0) {
    st.signal_tokens = capacity;
  } else {
    st.signal_tokens =
        std::min(capacity, st.signal_tokens + per_second * static_cast<double>(now_ns - st.signal_tokens_ns) /
                                                  static_cast<double>(kNanosPerSecond));
  }
  st.signal_tokens_ns = now_ns;
  if (st.signal_tokens < 1) return false;
  st.signal_tokens -= 1;
  return true;
}

bool Placer::still_waiting(std::size_t id, const std::vector<VenueView>& views, TimestampNs now_ns) const {
  const IntentState& st = states_[id];
  const Intent& in = intents_[id];
  if (now_ns >= st.wait_until_ns) return false;
  for (const VenueView& v : views)
    if (v.source == st.wait_source) return v.tradable && wait_signal_holds(v, in);
  return false;
}

bool Placer::wait_signal_holds(const VenueView& v, const Intent& in) {
  // Half the threshold that started the wait: no flapping at its edge.
  const auto t = toward(v, in.side);
  return t && *t <= -in.signal.wait_ticks / 2;
}

void Placer::describe_signals(Text& out, const VenueSignals& s) {
  if (!s.known) return;
  out << " [imbalance " << s.touch_imbalance << " depth " << s.depth_imbalance << " flow " << s.flow_imbalance
      << " micro " << s.micro_ticks << (s.fitted ? " ticks]" : " ticks unfitted]");
}

void Placer::send(std::size_t id, NewOrder order, bool passive, TimestampNs now_ns, const char* what) {
  order.parent_id = intents_[id].parent;
  order.instrument = intents_[id].instrument;
  order.side = intents_[id].side;
  auto sent = manager_.send_child(order, now_ns);
  if (!sent) {
    // Refused (the risk gate, or no room left): tried again later, less often each time, and given up on
    // after kMaxRefusals, so a refusal never becomes a request per market event.
    IntentState& st = states_[id];
    st.last_decision = "not sent: " + sent.error().message;
    ++st.refusals;
    st.retry_after_ns =
        now_ns + std::min<DurationNs>(params_.cancel_retry_ns << std::min<std::uint32_t>(st.refusals, 7),
                                      10 * kNanosPerSecond);
    if (st.refusals >= kMaxRefusals && !in_flight(id).is_positive()) {
      set_done(id);
      st.last_decision += " (refused " + std::to_string(st.refusals) + " times: given up)";
    }
    return;
  }
  states_[id].refusals = 0;
  working_.push_back({id, *sent, order.venue, order.price, passive, false, now_ns, 0});
  const Intent& in = intents_[id];
  WorkingHot hot;
  hot.child = *sent;
  hot.deadline_ns = in.deadline_ns;
  hot.intent = static_cast<std::uint32_t>(id);
  hot.venue = venue_slot(order.venue);
  hot.aggressive = in.urgency == Urgency::Aggressive;
  hot.every_event = in.urgency == Urgency::Peg || in.signals;
  hot.side = in.side;
  hot.limit = in.limit;
  hot_.push_back(hot);
  // The intent has a child working now: no longer idle. (A passive child joins the move index once
  // place_passive knows where it would move; no other kind ever moves in on_market.)
  if (working_count_[id]++ == 0) std::erase(idle_, id);
  children_[id].push_back(*sent);
  intent_of_child_[sent->value()] = id;
  ++states_[id].children;
  // Each decision is journaled with what it weighed.
  (void)manager_.record_algo_state(intents_[id].parent,
                                   what != nullptr ? what
                                   : passive       ? "place passive"
                                                   : "place aggressive",
                                   states_[id].last_decision, now_ns);
}

std::size_t Placer::new_intent(const Intent& intent) {
  std::size_t id = intents_.size();
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
    intents_[id] = intent;
    states_[id] = IntentState{};
    children_[id].clear();
    done_[id] = 0;
    in_active_[id] = 0;
    working_count_[id] = 0;
    seq_[id] = 0;
  } else {
    intents_.push_back(intent);
    states_.emplace_back();
    children_.emplace_back();
    done_.push_back(0);
    in_active_.push_back(0);
    working_count_.push_back(0);
    seq_.push_back(0);
  }
  states_[id].qty = intent.qty;
  return id;
}

std::size_t Placer::submit_held(const Intent& intent, bool open, const std::string& why) {
  Intent held = intent;
  if (!open) held.qty = Qty{};
  const std::size_t id = new_intent(held);
  if (!open) set_done(id);
  states_[id].last_decision = why;
  return id;
}

std::size_t Placer::submit(const Intent& intent, const std::vector<VenueView>& views, TimestampNs now_ns) {
  const std::size_t id = new_intent(intent);
  active_.push_back(id);
  in_active_[id] = 1;
  if (intent.urgency != Urgency::Aggressive) ++live_passive_;
  seq_[id] = ++submitted_;
  if (intent.urgency == Urgency::Aggressive) {
    place_aggressive(id, intent.qty, views, now_ns);
    // A sweep that found nothing to take (and holds nothing back) is over at once.
    if (states_[id].children == 0 &&
        std::none_of(held_.begin(), held_.end(), [&](const Held& h) { return h.intent == id; }))
      set_done(id);
  } else {
    place_passive(id, views, now_ns);
    if (working_count_[id] == 0 && !done_[id]) make_idle(id);  // placed with the next event, if it can be
  }
  if (params_.flush) (void)manager_.flush();
  return id;
}

void Placer::make_idle(std::size_t id) {
  // In the order the intents were submitted, as a pass over active_ meets them.
  auto at = std::lower_bound(idle_.begin(), idle_.end(), seq_[id],
                             [&](std::size_t other, std::uint64_t seq) { return seq_[other] < seq; });
  if (at != idle_.end() && *at == id) return;
  idle_.insert(at, id);
}

void Placer::index_moves(WorkingHot& h) {
  if (h.indexed || h.aggressive) return;
  h.indexed = true;
  count_moves(h, true);
}

void Placer::unindex_moves(const WorkingHot& h) {
  if (h.recheck) --recheck_count_;
  if (h.indexed) count_moves(h, false);
}

void Placer::count_moves(const WorkingHot& h, bool add) {
  const auto put = [add](auto& set, auto value) {
    if (add)
      set.insert(value);
    else
      set.erase(set.find(value));
  };
  if (h.deadline_ns != 0) put(crossing_, h.deadline_ns - params_.cross_margin_ns);
  if (h.venue == 255) {
    add ? ++moves_overflow_ : --moves_overflow_;
    return;
  }
  if (moves_.size() <= h.venue) moves_.resize(std::size_t{h.venue} + 1);
  MoveRange& m = moves_[h.venue];
  if (h.every_event || !h.reprice_at.is_set()) {
    add ? ++m.every : --m.every;
  } else if (h.side == Side::Buy) {
    put(m.buy_from, h.reprice_at.raw());
    put(m.buy_to, h.limit.is_set() ? h.limit.raw() : std::numeric_limits<Price::Raw>::max());
  } else {
    put(m.sell_from, h.reprice_at.raw());
    put(m.sell_to, h.limit.is_set() ? h.limit.raw() : std::numeric_limits<Price::Raw>::min());
  }
}

bool Placer::no_child_moves(std::uint8_t slot, const VenueView* view, const Price touch_of[2],
                            TimestampNs now_ns) const {
  if (!quiet_ok_ || recheck_count_ > 0 || moves_overflow_ > 0 || view == nullptr || !view->tradable)
    return false;
  if (!crossing_.empty() && now_ns >= *crossing_.begin()) return false;
  if (slot == 255 || slot >= moves_.size()) return true;  // no child rests there
  const MoveRange& m = moves_[slot];
  if (m.every > 0) return false;
  const Price bid = touch_of[0], ask = touch_of[1];
  const bool buy_moves = !m.buy_from.empty() && bid.is_set() && bid.raw() >= *m.buy_from.begin() &&
                         bid.raw() <= *m.buy_to.rbegin();
  const bool sell_moves = !m.sell_from.empty() && ask.is_set() && ask.raw() <= *m.sell_from.rbegin() &&
                          ask.raw() >= *m.sell_to.begin();
  return !buy_moves && !sell_moves;
}

void Placer::place_aggressive(std::size_t id, Qty qty, const std::vector<VenueView>& views,
                              TimestampNs now_ns) {
  const Intent& in = intents_[id];
  double mid = 0;
  for (const auto& v : views)
    if (v.tradable && !v.bids.empty() && !v.asks.empty()) {
      mid = (v.bids.front().price.to_double() + v.asks.front().price.to_double()) / 2;
      break;
    }
  RouterParams router = params_.router;
  if (in.signals) router.imbalance_weight = in.signal.imbalance_weight;
  const RoutePlan plan = route_marketable(in.side, qty, in.limit, mid, views, router);
  states_[id].last_decision = plan.explain();
  if (in.signals) {
    // The touch imbalance the router weighed, per venue.
    Text why(2);
    for (const VenueView& v : views) {
      why << "\n  " << v.venue.view();
      describe_signals(why, v.signals);
    }
    states_[id].last_decision += why.str();
  }
  // Each piece an IOC at the worst level it takes on its venue.
  auto ioc = [](const RoutePiece& piece) {
    return limit_order(piece.venue, TimeInForce::ImmediateOrCancel, piece.limit, piece.qty);
  };
  if (in.arrive_together) {
    for (const RoutePiece& piece : plan.pieces) {
      const NewOrder order = ioc(piece);
      if (piece.send_delay_ns > 0) {
        held_.push_back({id, order, now_ns + piece.send_delay_ns});
        if (wake_) wake_(now_ns + piece.send_delay_ns);
      } else {
        send_within_parent_room(id, order, views, now_ns);
      }
    }
    return;
  }
  Qty room = qty;  // base
  for (const RoutePiece& piece : plan.pieces) {
    NewOrder order = ioc(piece);
    const VenueView& v = views[piece.view];
    if (v.listing.inverse && in.side == Side::Buy && !v.asks.empty()) {
      // Contracts bought below their limit are worth more base than counted at it: sized on the touch, they
      // cannot exceed the intent at any price they fill at.
      const Price touch_price = v.asks.front().price;
      const Qty cap = units_from_base(v.listing, room, touch_price);
      if (cap < order.qty) order.qty = cap;
      room -= base_from_units(v.listing, order.qty, touch_price);
    } else {
      room -= base_from_units(v.listing, order.qty, order.price);
    }
    if (!order.qty.is_positive()) continue;
    send(id, order, false, now_ns);
  }
}

void Placer::send_within_parent_room(std::size_t id, NewOrder order, const std::vector<VenueView>& views,
                                     TimestampNs now_ns) {
  const Intent& in = intents_[id];
  const oms::ParentRecord* p = manager_.oms().parent(in.parent);
  const VenueView* view = nullptr;
  for (const VenueView& v : views)
    if (v.venue == order.venue) view = &v;
  if (p != nullptr && view != nullptr) {
    const VenueListing& listing = view->listing;
    const Qty room = p->order.qty - p->executed - p->in_flight;
    Price per_base = order.price;
    if (listing.inverse && in.side == Side::Buy && !view->asks.empty() &&
        view->asks.front().price < order.price)
      per_base = view->asks.front().price;
    const Qty cap = units_from_base(listing, room, per_base, Rounding::Down);
    if (cap < order.qty) order.qty = cap;
  }
  if (!order.qty.is_positive()) return;
  send(id, order, false, now_ns);
}

void Placer::on_timer(const std::vector<VenueView>& views, TimestampNs now_ns) {
  bool sent_any = false;
  for (std::size_t i = 0; i < held_.size();) {
    if (held_[i].send_at_ns > now_ns) {
      ++i;
      continue;
    }
    const Held due = held_[i];
    held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(i));
    if (states_[due.intent].done) continue;  // canceled while it waited
    send_within_parent_room(due.intent, due.order, views, now_ns);
    sent_any = true;
    settle_aggressive(due.intent);
  }
  if (sent_any && params_.flush) (void)manager_.flush();
}

bool Placer::watches_market() const {
  return live_passive_ > 0;
}

void Placer::settle_aggressive(std::size_t id) {
  // An aggressive intent is one sweep: when its pieces have all left and are all done, so is it.
  const bool working = working_count_[id] > 0;
  const bool holding = std::any_of(held_.begin(), held_.end(), [&](const Held& h) { return h.intent == id; });
  if (intents_[id].urgency == Urgency::Aggressive && !working && !holding && !in_flight(id).is_positive())
    set_done(id);
}

void Placer::place_passive(std::size_t id, const std::vector<VenueView>& views, TimestampNs now_ns) {
  const Intent& in = intents_[id];
  const Qty want = remaining(id) - in_flight(id);
  if (!want.is_positive()) return;
  struct Choice {
    const VenueView* view = nullptr;
    Price price;
    Qty units;
    double score = 0, seconds = 0, fee = 0, adverse = 0;
  };
  Choice best;
  Text why(2);
  why << to_string(in.urgency) << " " << want.to_double() << ":";
  for (const VenueView& v : views) {
    if (!v.tradable) continue;
    const md::Level* t = touch(v, in.side);
    if (t == nullptr) continue;
    Price price = rest_price(v, in, t->price);
    double ahead = price == t->price ? base_from_units(v.listing, t->qty, t->price).to_double() : 0.0;
    if (!within_limit(in, price)) {
      // Behind the touch, at our limit: everything displayed at our price or better is ahead of us.
      price = in.limit;
      ahead = shown_at_or_better(v, in.side, price);
    }
    const Qty units = units_from_base(v.listing, want, price);
    if (!units.is_positive()) continue;
    if (!v.listing.inverse && v.listing.min_notional.is_positive() &&
        Notional::of(price, units) <
            Notional::from_raw(Notional::Raw{v.listing.min_notional.raw()} * kFixedScale))
      continue;
    const VenueConfig* vc = config_.venue(v.venue);
    Choice c;
    c.view = &v;
    c.price = price;
    c.units = units;
    c.fee = vc ? vc->fees.maker_bps.to_double() : 0;
    c.adverse = cards_ && cards_->venue(v.venue) ? cards_->venue(v.venue)->markout_bps("10s") : 0;
    c.seconds = expected_fill_seconds(v.venue, in.side, ahead, want.to_double(), now_ns);
    if (in.signals && v.signals.known && in.signal.imbalance_weight > 0) {
      // A touch leaning against our side (asks heavier, for a resting bid) is traded into us sooner.
      const double leaning = std::max(0.0, (in.side == Side::Buy ? -1 : 1) * v.signals.touch_imbalance);
      c.seconds /= 1 + in.signal.imbalance_weight * leaning;
    }
    c.score = c.fee + c.adverse + params_.time_cost_bps_per_minute * std::min(c.seconds, 3600.0) / 60.0;
    why << " " << v.venue.view() << " fee " << c.fee << " adverse " << c.adverse << " fill in ~" << c.seconds
        << " s: " << c.score << " bps";
    if (in.signals) describe_signals(why, v.signals);
    why << ";";
    if (best.view == nullptr || c.score < best.score) {
      best = c;
    }
  }
  if (best.view == nullptr) {
    why << " no venue to rest on";
    states_[id].last_decision = why.take();
    // Tradable venues that all refuse it for size: what is left is below every lot and minimum, and ends
    // here.
    bool any_tradable = false;
    for (const VenueView& v : views) any_tradable = any_tradable || v.tradable;
    if (any_tradable && !in_flight(id).is_positive()) {
      set_done(id);
      states_[id].last_decision += ": " + want.to_string() + " left, below what any venue takes";
    }
    return;
  }
  IntentState& st = states_[id];
  const VenueView& chosen = *best.view;
  double leaving = 0;  // the mid's expected move away from us, in ticks
  bool signalled = false;
  if (in.signals)
    if (const auto t = toward(chosen, in.side)) {
      leaving = *t;
      signalled = true;
    }
  const md::Level* near = touch(chosen, in.side);
  const md::Level* far = touch(chosen, opposite(in.side));
  const bool must_cross = in.deadline_ns != 0 && now_ns >= in.deadline_ns - params_.cross_margin_ns;
  TimestampNs behind_until_ns = 0;  // resting behind the touch on the signal until then
  if (signalled && near != nullptr && far != nullptr && !must_cross) {
    const SignalParams& sp = in.signal;
    const double tick = chosen.listing.tick_size.to_double();
    const double spread_ticks = (far->price.to_double() - near->price.to_double()) / tick;
    const VenueConfig* vc = config_.venue(chosen.venue);
    const double fee_gap_bps = vc ? vc->fees.taker_bps.to_double() - vc->fees.maker_bps.to_double() : 0;
    const double mid = (far->price.to_double() + near->price.to_double()) / 2;
    const double fee_gap_ticks = std::max(0.0, fee_gap_bps) * 1e-4 * mid / tick;
    if (leaving > spread_ticks + fee_gap_ticks + sp.cross_margin_ticks && within_limit(in, far->price) &&
        in.urgency == Urgency::Passive && take_signal_token(id, now_ns)) {
      // Waiting would cost more than the spread and the fee: the price is leaving. Take the far touch,
      // as much of the slice as it shows.
      const Qty shown = base_from_units(chosen.listing, far->qty, far->price);
      const Qty units = units_from_base(chosen.listing, std::min(want, shown), far->price);
      if (units.is_positive()) {
        why << " chose " << chosen.venue.view() << ": cross on signal at " << far->price.to_string()
            << " (the mid is expected " << leaving << " ticks away; spread " << spread_ticks << ", fee gap "
            << fee_gap_ticks << " ticks)";
        st.last_decision = why.take();
        ++st.signal_crosses;
        send(id, limit_order(chosen.venue, TimeInForce::ImmediateOrCancel, far->price, units), false, now_ns,
             "cross on signal");
        return;
      }
    }
    if (leaving <= -sp.wait_ticks && st.wait_until_ns <= now_ns && take_signal_token(id, now_ns)) {
      // The price is about to trade through the touch: a child placed there now fills just before it does.
      // Held back until the signal turns or the wait runs out (never into the deadline's cross).
      st.wait_until_ns = now_ns + sp.max_wait_ns;
      if (in.deadline_ns != 0)
        st.wait_until_ns = std::min(st.wait_until_ns, in.deadline_ns - params_.cross_margin_ns);
      st.wait_source = chosen.source;
      ++st.signal_waits;
      if (sp.wait_behind_ticks > 0) {
        // Rest where the price is going instead: behind the touch.
        const Price step = Price::from_raw(chosen.listing.tick_size.raw() * sp.wait_behind_ticks);
        const Price behind = in.side == Side::Buy ? near->price - step : near->price + step;
        if (in.side == Side::Buy ? behind < best.price : behind > best.price) {
          best.price = behind;
          best.units = units_from_base(chosen.listing, want, behind);
        }
        why << " rest behind on signal (the mid is expected " << -leaving << " ticks through the touch);";
        behind_until_ns = st.wait_until_ns;
      } else {
        why << " chose " << chosen.venue.view() << ": wait on signal (the mid is expected " << -leaving
            << " ticks through the touch)";
        st.last_decision = why.take();
        (void)manager_.record_algo_state(in.parent, "wait on signal", st.last_decision, now_ns);
        return;
      }
    } else if (leaving >= sp.improve_ticks && spread_ticks >= 2 - 1e-9 && best.price == near->price) {
      const Price step = chosen.listing.tick_size;
      const Price better = in.side == Side::Buy ? near->price + step : near->price - step;
      if (within_limit(in, better)) {
        best.price = better;
        best.units = units_from_base(chosen.listing, want, better);
        ++st.signal_improves;
        why << " improve on signal (the mid is expected " << leaving << " ticks away);";
      }
    }
  }
  st.wait_until_ns = 0;
  why << " chose " << best.view->venue.view() << " at " << best.price.to_string();
  states_[id].last_decision = why.take();
  const std::uint64_t before = st.children;
  send(id, limit_order(best.view->venue, TimeInForce::PostOnly, best.price, best.units), true, now_ns,
       behind_until_ns != 0 ? "behind on signal" : nullptr);
  if (st.children > before) {
    WorkingHot& hot = hot_.back();
    if (behind_until_ns != 0) {
      working_.back().behind_until_ns = behind_until_ns;
      hot.every_event = true;
    }
    if (chosen.listing.tick_size.is_positive())
      hot.reprice_at = reprice_at(hot.side, best.price, chosen.listing);
    index_moves(hot);
  }
}

void Placer::on_market(const std::vector<VenueView>& views, TimestampNs now_ns, const VenueId* changed) {
  // One pass over the working children, then one over the intents left with none: the cost grows with what
  // is working, not with every intent ever submitted.
  bool sent_any = false;
  assert(hot_.size() == working_.size());
  // The changed venue's view, found once (most children rest where the book moved, or are skipped).
  const VenueView* changed_view = nullptr;
  if (changed != nullptr)
    for (const auto& v : views)
      if (v.venue == *changed) changed_view = &v;
  // The moved venue's touch, each side (unset when the side is empty): what a resting child's pull needs.
  Price touch_of[2] = {Price::unset(), Price::unset()};
  if (changed_view != nullptr) {
    if (const md::Level* t = touch(*changed_view, Side::Buy)) touch_of[0] = t->price;
    if (const md::Level* t = touch(*changed_view, Side::Sell)) touch_of[1] = t->price;
  }
  const std::uint8_t changed_slot = changed != nullptr ? find_venue_slot(*changed) : 255;
  // No child can move on this event (the index says): only the idle intents are looked at.
  const bool quiet = no_child_moves(changed_slot, changed_view, touch_of, now_ns);
  if (quiet) return place_idle_and_prune(views, now_ns, sent_any);
  quiet_ok_ = true;  // unless a done intent's child below is left to have its cancel tried again
  // Each child is looked at through its compact entry first (the intent's terms it rests under are copied
  // into it): one that has nothing to do this event is skipped without reading its intent.
  for (std::size_t k = 0; k < working_.size(); ++k) {
    WorkingHot& hot = hot_[k];
    const std::size_t id = hot.intent;
    if (done_[id]) {
      Working& w = working_[k];
      // A canceled intent whose cancel the venue's budget refused: tried again until it goes.
      if (w.passive && !w.cancel_sent && !already_canceling(w) &&
          now_ns - w.cancel_tried_ns >= params_.cancel_retry_ns) {
        w.cancel_tried_ns = now_ns;
        if (manager_.cancel_child(w.child, now_ns).ok()) {
          w.cancel_sent = true;
          sent_any = true;
        }
      }
      if (w.passive && !w.cancel_sent) quiet_ok_ = false;
      continue;
    }
    if (hot.aggressive) continue;
    const bool must_cross = hot.deadline_ns != 0 && now_ns >= hot.deadline_ns - params_.cross_margin_ns;
    if (!must_cross && !hot.recheck && changed != nullptr && hot.venue != 255 && hot.venue != changed_slot)
      continue;  // its book did not move
    if (!must_cross && !hot.recheck && !hot.every_event && hot.reprice_at.is_set() && hot.venue != 255 &&
        changed_view != nullptr && hot.venue == changed_slot && changed_view->tradable) {
      // A plain resting child moves only once the touch is far enough from it and within its limit: short of
      // that (by a margin that errs towards looking) this event cannot move it. Read from its compact entry
      // alone: the pass over a venue's children touches the full entries only of those that may move.
      const Price t = touch_of[hot.side == Side::Buy ? 0 : 1];
      const bool far_enough =
          t.is_set() && (hot.side == Side::Buy ? t >= hot.reprice_at : t <= hot.reprice_at);
      const bool within =
          t.is_set() && (!hot.limit.is_set() || (hot.side == Side::Buy ? t <= hot.limit : t >= hot.limit));
      if (!far_enough || !within) continue;
    }
    Working& w = working_[k];
    if (!must_cross && !w.recheck && changed != nullptr && !(w.venue == *changed))
      continue;  // the same, for a child on a venue past the 255 numbered
    if (w.cancel_sent || !w.passive) continue;
    IntentState& st = states_[id];
    const Intent& in = intents_[id];
    const VenueView* view =
        changed_view != nullptr && w.venue == changed_view->venue ? changed_view : nullptr;
    if (view == nullptr)
      for (const auto& v : views)
        if (v.venue == w.venue) view = &v;
    bool pull = must_cross;
    bool signal_pull = false;
    if (!pull && view != nullptr) {
      const md::Level* t = touch(*view, in.side);
      if (t != nullptr) {
        const double tick = view->listing.tick_size.to_double();
        const double away =
            (in.side == Side::Buy ? 1 : -1) * (t->price.to_double() - w.price.to_double()) / tick;
        const bool touch_within_limit = within_limit(in, t->price);
        // The market moved away from our price: our place there is worth nothing now. A child resting
        // behind on the signal stays while the signal holds.
        const bool kept_behind = w.behind_until_ns > now_ns && wait_signal_holds(*view, in);
        if (away >= params_.reprice_ticks - 1e-9 && touch_within_limit && !kept_behind) pull = true;
        // A peg follows the touch both ways: it moves when it would rest elsewhere now, unless it is the
        // touch itself (a live book shows our own order there).
        if (in.urgency == Urgency::Peg && touch_within_limit && t->price != w.price &&
            rest_price(*view, in, t->price) != w.price)
          pull = true;
      }
      if (!view->tradable) pull = true;
      // The book is about to trade through our level: a fill now would be worth less a moment later.
      const auto leaving = in.signals ? toward(*view, in.side) : std::nullopt;
      if (!pull && leaving && *leaving <= -in.signal.pull_ticks && touch(*view, in.side) != nullptr &&
          touch(*view, in.side)->price == w.price && now_ns - w.placed_ns >= params_.min_rest_ns &&
          !already_canceling(w) && take_signal_token(id, now_ns)) {
        pull = true;
        signal_pull = true;
        Text why(2);
        why << "pull " << w.venue.view() << " at " << w.price.to_string()
            << " on signal (the mid is expected " << -*leaving << " ticks through it)";
        describe_signals(why, view->signals);
        st.last_decision = why.take();
      }
    }
    w.recheck = false;
    if (pull && !must_cross && now_ns - w.placed_ns < params_.min_rest_ns) {
      pull = false;
      w.recheck = true;
    }
    if (pull && w.cancel_tried_ns != 0 && now_ns - w.cancel_tried_ns < params_.cancel_retry_ns) {
      pull = false;
      w.recheck = true;
    }
    if (hot.recheck != w.recheck) {
      hot.recheck ? --recheck_count_ : ++recheck_count_;
      hot.recheck = w.recheck;
    }
    if (pull && already_canceling(w)) pull = false;
    if (pull) {
      w.cancel_tried_ns = now_ns;
      if (manager_.cancel_child(w.child, now_ns).ok()) {
        w.cancel_sent = true;
        if (signal_pull) {
          ++st.signal_pulls;
          (void)manager_.record_algo_state(in.parent, "pull on signal", st.last_decision, now_ns);
        } else if (!must_cross) {
          ++st.reprices;
        }
        sent_any = true;
      }
    }
  }
#ifndef NDEBUG
  // idle_ is kept as children come and go; a debug build checks it against what a pass over every intent
  // finds (every test runs it under the sanitizers).
  std::vector<std::size_t> expected, kept;
  for (std::size_t id : active_)
    if (!done_[id] && working_count_[id] == 0 && intents_[id].urgency != Urgency::Aggressive)
      expected.push_back(id);
  for (std::size_t id : idle_)
    if (!done_[id]) kept.push_back(id);
  assert(kept == expected);
#endif
  place_idle_and_prune(views, now_ns, sent_any);
}

void Placer::place_idle_and_prune(const std::vector<VenueView>& views, TimestampNs now_ns, bool sent_any) {
  idle_pass_ = idle_;  // a child placed takes its intent out of idle_
  for (std::size_t id : idle_pass_) place_idle(id, views, now_ns, sent_any);
  if (!pruned_) {
    pruned_ = true;
    std::erase_if(active_, [&](std::size_t id) {
      if (!done_[id]) return false;
      in_active_[id] = 0;
      return true;
    });
    std::erase_if(idle_, [&](std::size_t id) { return done_[id] != 0; });
  }
  if (sent_any && params_.flush) (void)manager_.flush();
}

void Placer::place_idle(std::size_t id, const std::vector<VenueView>& views, TimestampNs now_ns,
                        bool& sent_any) {
  IntentState& st = states_[id];
  const Intent& in = intents_[id];
  if (st.done || in.urgency == Urgency::Aggressive) return;
  if (now_ns < st.retry_after_ns) return;
  // Nothing working: place again, passively, or cross for the rest when the deadline requires. What a
  // closed child's venue said it executed, not yet reported, is still on its way: not sent twice.
  const Qty left = remaining(id) - in_flight(id);
  if (!left.is_positive()) return;
  const Qty smallest = smallest_sendable(views, in.side);
  if (smallest.is_positive() && left < smallest && !in_flight(id).is_positive()) {
    // What lots and contracts rounded off a filled child: no venue takes it, so the intent is over.
    set_done(id);
    st.last_decision = "done but for " + left.to_string() + ", below what any venue takes";
    return;
  }
  const bool must_cross = in.deadline_ns != 0 && now_ns >= in.deadline_ns - params_.cross_margin_ns;
  if (must_cross) {
    const std::uint64_t before = st.children;
    place_aggressive(id, left, views, now_ns);
    if (st.children > before) {
      ++st.crossed;
    } else if (st.retry_after_ns <= now_ns) {
      // Nothing could be sent (the limit is through the book, or the gate refused): tried again shortly.
      st.retry_after_ns = now_ns + params_.cancel_retry_ns;
    }
  } else {
    if (still_waiting(id, views, now_ns)) return;
    place_passive(id, views, now_ns);
  }
  sent_any = true;
}

std::uint8_t Placer::find_venue_slot(const VenueId& venue) const {
  for (std::size_t k = 0; k < venue_slots_.size() && k < 255; ++k)
    if (venue_slots_[k] == venue) return static_cast<std::uint8_t>(k);
  return 255;
}

std::uint8_t Placer::venue_slot(const VenueId& venue) {
  if (const std::uint8_t found = find_venue_slot(venue); found != 255) return found;
  if (venue_slots_.size() >= 255) return 255;  // beyond 255 venues, one slot shared: never skipped wrongly
  venue_slots_.push_back(venue);
  return static_cast<std::uint8_t>(venue_slots_.size() - 1);
}

void Placer::on_report(const ExecutionReport& report) {
  const auto found = std::find_if(hot_.begin(), hot_.end(),
                                  [&](const WorkingHot& h) { return h.child == report.client_order_id; });
  auto it = working_.begin() + (found - hot_.begin());
  // Fills are read from the OMS (each once, whatever order or repetition the reports came in), so a report
  // for a child no longer working still counts.
  std::size_t id = intents_.size();
  if (it != working_.end()) {
    id = it->intent;
    const oms::ChildOrder* c = manager_.oms().child(it->child);
    if (c == nullptr || !c->open()) {
      unindex_moves(*found);
      hot_.erase(found);
      working_.erase(it);
      if (--working_count_[id] == 0 && in_active_[id] && !done_[id] &&
          intents_[id].urgency != Urgency::Aggressive)
        make_idle(id);
    } else if (report.exec_type == ExecType::CancelRejected) {
      quiet_ok_ = false;  // its cancel is tried again on a later event
      // The venue refused our cancel (its rate, or the cancel overtook the order): the child still works,
      // and the cancel is tried again after a pause.
      it->cancel_sent = false;
      it->cancel_tried_ns = report.received_ns;
    }
  } else {
    if (auto it = intent_of_child_.find(report.client_order_id.value()); it != intent_of_child_.end())
      id = it->second;
  }
  if (id == intents_.size()) return;
  IntentState& st = states_[id];
  st.filled = filled(id);
  if (!remaining(id).is_positive() && !in_flight(id).is_positive()) set_done(id);
  settle_aggressive(id);
}

bool Placer::already_canceling(Working& w) const {
  // Someone else (a parent cancel, the kill switch) already asked the venue: a second request would only be
  // refused.
  const oms::ChildOrder* c = manager_.oms().child(w.child);
  if (c != nullptr && c->status == OrderStatus::PendingCancel) w.cancel_sent = true;
  return w.cancel_sent;
}

void Placer::cancel(std::size_t id, TimestampNs now_ns) {
  for (Working& w : working_)
    if (w.intent == id && !w.cancel_sent && !already_canceling(w)) {
      w.cancel_tried_ns = now_ns;
      if (manager_.cancel_child(w.child, now_ns).ok()) w.cancel_sent = true;
    }
  std::erase_if(held_, [&](const Held& h) { return h.intent == id; });
  set_done(id);
  quiet_ok_ = false;
  if (params_.flush) (void)manager_.flush();
}

}  // namespace tranche::ems
