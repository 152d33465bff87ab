#include "gateway/binance_orders.hpp"

#include "gateway/binance_protocol.hpp"

namespace tranche::gateway::binance {

namespace {
bool is_end(OrderStatus s) {
  return s == OrderStatus::Filled || s == OrderStatus::Canceled || s == OrderStatus::Expired ||
         s == OrderStatus::Rejected;
}
}  // namespace

OrderTracker::OrderTracker(const VenueConfig& venue, std::string prefix)
    : venue_(venue), prefix_(std::move(prefix)) {}

std::string OrderTracker::on_new(const NewOrder& order) {
  const std::string id = client_order_id(prefix_, order.client_order_id).value_or(std::string{});
  Tracked& t = orders_[order.client_order_id.value()];
  t = Tracked{};
  t.order = order;
  t.current_id = id;
  t.told = Qty::from_raw(0);
  t.executed_before_current = Qty::from_raw(0);
  t.told_notional = Notional::from_raw(0);
  by_id_[id] = order.client_order_id.value();
  return id;
}

OrderTracker::Tracked* OrderTracker::amendable(const AmendOrder& amend, Qty& total, Price& price) {
  const auto it = orders_.find(amend.client_order_id.value());
  if (it == orders_.end()) return nullptr;
  Tracked& t = it->second;
  if (t.done || t.replacing || t.modifying || !t.acked) return nullptr;
  total = amend.new_qty.is_set() ? amend.new_qty : t.order.qty;
  price = amend.new_price.is_set() ? amend.new_price : t.order.price;
  if (total <= t.told || !price.is_set()) return nullptr;
  return &t;
}

std::optional<OrderTracker::Replace> OrderTracker::on_amend(const AmendOrder& amend) {
  Qty total;
  Price price;
  Tracked* t = amendable(amend, total, price);
  if (t == nullptr) return std::nullopt;
  const auto new_id = client_order_id(prefix_, amend.client_order_id, t->replace_count + 1);
  if (!new_id) return std::nullopt;
  t->replacing = Replace{t->current_id, *new_id, total - t->told, price};
  t->replacing_price = price;
  t->replacing_total = total;
  by_id_[*new_id] = amend.client_order_id.value();
  return t->replacing;
}

std::optional<OrderTracker::Modify> OrderTracker::on_modify(const AmendOrder& amend) {
  Qty total;
  Price price;
  Tracked* t = amendable(amend, total, price);
  if (t == nullptr) return std::nullopt;
  t->modifying = true;
  t->replacing_price = price;
  t->replacing_total = total;
  return Modify{t->current_id, t->order_id, total - t->executed_before_current, price};
}

bool OrderTracker::modified(const OrderFacts& facts, std::vector<ExecutionReport>& out) {
  Tracked* t = find(facts);
  if (t == nullptr || !t->modifying || t->done) return false;
  t->modifying = false;
  t->order.price = t->replacing_price;
  t->order.qty = t->replacing_total;
  ExecutionReport r =
      base(*t, ExecType::Replaced, t->told.is_zero() ? OrderStatus::New : OrderStatus::PartiallyFilled);
  r.venue_ns = facts.venue_ns;
  out.push_back(r);
  return true;
}

std::optional<std::string> OrderTracker::current_id(const ClientOrderId& child) const {
  const auto it = orders_.find(child.value());
  if (it == orders_.end()) return std::nullopt;
  return it->second.current_id;
}

OrderTracker::Tracked* OrderTracker::find(const OrderFacts& facts) {
  std::uint64_t child = 0;
  if (const auto by_id = by_id_.find(facts.client_order_id);
      !facts.client_order_id.empty() && by_id != by_id_.end())
    child = by_id->second;
  else if (const auto by_order = by_order_id_.find(facts.order_id);
           facts.order_id != 0 && by_order != by_order_id_.end())
    child = by_order->second;
  else
    return nullptr;
  const auto it = orders_.find(child);
  return it == orders_.end() ? nullptr : &it->second;
}

ExecutionReport OrderTracker::base(const Tracked& t, ExecType type, OrderStatus status) const {
  ExecutionReport r;
  r.client_order_id = t.order.client_order_id;
  if (t.order_id != 0) r.venue_order_id = VenueOrderId(std::to_string(t.order_id));
  r.venue = venue_.id;
  r.instrument = t.order.instrument;
  r.exec_type = type;
  r.status = status;
  r.side = t.order.side;
  r.order_price = t.order.price;
  r.order_qty = t.order.qty;
  r.cum_qty = t.told;
  r.leaves_qty = (t.done || is_end(status)) ? Qty::from_raw(0) : t.order.qty - t.told;
  return r;
}

Applied OrderTracker::apply(const OrderFacts& facts, std::vector<ExecutionReport>& out) {
  Applied applied;
  Tracked* found = find(facts);
  if (found == nullptr) {
    applied.known = false;
    return applied;
  }
  Tracked& t = *found;
  const bool about_replacement = t.replacing && facts.client_order_id == t.replacing->new_id;
  const bool about_current = facts.client_order_id == t.current_id ||
                             (facts.client_order_id.empty() && facts.order_id == t.order_id);
  if (facts.order_id != 0 && (about_current || about_replacement))
    by_order_id_[facts.order_id] = t.order.client_order_id.value();
  if (facts.order_id != 0 && about_current) t.order_id = facts.order_id;

  const bool accepted = facts.status && *facts.status != OrderStatus::Rejected;
  if (!t.acked && !t.done && (accepted || facts.trade) && (about_current || facts.trade)) {
    t.acked = true;
    out.push_back(base(t, ExecType::New, OrderStatus::New));
    out.back().venue_ns = facts.venue_ns;
  }

  if (facts.trade && t.trades.count(facts.trade->trade_id) != 0) applied.repeated = true;
  // An end is told only once every trade the venue counted was (finish): a new trade after it contradicts
  // the venue's own final word (a reject that traded, more than a cancel said executed). Told to the
  // operator, never booked: the parent's room it would take was given back at the end.
  if (facts.trade && t.done && !applied.repeated) {
    applied.problem = "trade " + std::to_string(facts.trade->trade_id) + " for child " +
                      std::to_string(t.order.client_order_id.value()) +
                      " after its end was told (the venue said it was done with " + t.told.to_string() +
                      " executed): not applied";
    return applied;
  }
  if (facts.trade && t.trades.insert(facts.trade->trade_id).second) {
    const TradeFact& trade = *facts.trade;
    if (!trade.qty.is_positive() || !trade.price.is_positive()) {
      t.trades.erase(trade.trade_id);
      applied.problem = "trade " + std::to_string(trade.trade_id) + " has no positive quantity and price";
      return applied;
    }
    if (t.told + trade.qty > t.order.qty) {
      applied.problem = "trade " + std::to_string(trade.trade_id) + " of " + trade.qty.to_string() +
                        " would take child " + std::to_string(t.order.client_order_id.value()) +
                        " past its " + t.order.qty.to_string() + " (" + t.told.to_string() +
                        " told): not applied";
      return applied;
    }
    t.told = t.told + trade.qty;
    t.told_notional = t.told_notional + Notional::of(trade.price, trade.qty);
    ExecutionReport r =
        base(t, ExecType::Trade, t.told == t.order.qty ? OrderStatus::Filled : OrderStatus::PartiallyFilled);
    r.last_qty = trade.qty;
    r.last_price = trade.price;
    const VenueListing* listing = venue_.listing(t.order.instrument);
    r.exec_id = ExecId((listing != nullptr ? listing->symbol : std::string("?")) + "-" +
                       std::to_string(trade.trade_id));
    r.liquidity = trade.maker ? Liquidity::Maker : Liquidity::Taker;
    r.fee.amount = trade.commission.is_set() ? trade.commission : Qty::from_raw(0);
    r.fee.asset = FixedString<15>(trade.commission_asset);
    r.venue_ns = facts.venue_ns;
    out.push_back(r);
    if (t.told == t.order.qty) {
      t.done = true;
      t.ended_as = OrderStatus::Filled;
    }
  }

  if (t.replacing && facts.status) {
    if (facts.client_order_id == t.replacing->cancel_id && *facts.status == OrderStatus::Canceled) {
      // The old order of a cancel-replace ended: what it executed stays the child's.
      if (facts.executed.is_set()) t.executed_before_current = t.executed_before_current + facts.executed;
      t.end_waiting.reset();
      if (t.executed_before_current > t.told) {
        applied.needs_trades = true;
        applied.order_id = t.order_id;
      }
      return applied;
    }
    if (about_replacement && accepted) {
      t.current_id = t.replacing->new_id;
      t.order_id = facts.order_id;
      ++t.replace_count;
      t.order.price = t.replacing_price;
      t.order.qty = t.replacing_total;
      const Qty new_order_qty = t.replacing->new_order_qty;
      t.replacing.reset();
      ExecutionReport r =
          base(t, ExecType::Replaced, t.told.is_zero() ? OrderStatus::New : OrderStatus::PartiallyFilled);
      r.venue_ns = facts.venue_ns;
      out.push_back(r);
      if (t.executed_before_current + new_order_qty > t.order.qty) {
        // The old order filled more between our last word of it and the cancel: the new one would take the
        // child past its quantity. It is canceled by the session.
        applied.problem = "cancel-replace of child " + std::to_string(t.order.client_order_id.value()) +
                          ": the old order executed more before its cancel; the new one is canceled";
        applied.order_id = -1;
      }
      if (!facts.executed.is_set() || !is_end(*facts.status)) return applied;
    }
  }

  if (about_current && facts.status && !t.done) {
    const Qty executed_total = facts.executed.is_set() ? t.executed_before_current + facts.executed : t.told;
    if (is_end(*facts.status) && !(*facts.status == OrderStatus::Rejected && !t.acked)) {
      if (executed_total > t.told) {
        t.end_waiting = facts;
        applied.needs_trades = true;
        applied.order_id = t.order_id;
        return applied;
      }
      finish(t, facts, out);
    } else if (*facts.status == OrderStatus::Rejected) {
      finish(t, facts, out);
    } else if (executed_total > t.told) {
      applied.needs_trades = true;
      applied.order_id = t.order_id;
    }
  }
  if (t.end_waiting && !t.done) {
    const Qty waited =
        t.end_waiting->executed.is_set() ? t.executed_before_current + t.end_waiting->executed : t.told;
    if (t.told >= waited) {
      const OrderFacts end = *t.end_waiting;
      t.end_waiting.reset();
      finish(t, end, out);
    }
  }
  return applied;
}

void OrderTracker::finish(Tracked& t, const OrderFacts& end, std::vector<ExecutionReport>& out) {
  if (t.done) return;
  t.done = true;
  const OrderStatus s = *end.status;
  t.ended_as = s == OrderStatus::Filled && t.told == t.order.qty         ? OrderStatus::Filled
               : s == OrderStatus::Expired || s == OrderStatus::Rejected ? s
                                                                         : OrderStatus::Canceled;
  if (s == OrderStatus::Filled && t.told == t.order.qty) return;  // the last trade said so
  ExecType type = ExecType::Canceled;
  OrderStatus status = OrderStatus::Canceled;
  if (s == OrderStatus::Expired) {
    type = ExecType::Expired;
    status = OrderStatus::Expired;
  } else if (s == OrderStatus::Rejected) {
    type = ExecType::Rejected;
    status = OrderStatus::Rejected;
  }
  // A Binance order FILLED short of the child's total (a cancel-replace whose new order was smaller) leaves
  // the child with nothing working: told as canceled with what it executed.
  ExecutionReport r = base(t, type, status);
  r.reject_reason = end.reject_reason;
  if (!end.text.empty()) r.text = FixedString<95>(end.text);
  r.venue_ns = end.venue_ns;
  out.push_back(r);
}

void OrderTracker::rejected(const ClientOrderId& child, RejectReason reason, const std::string& text,
                            std::vector<ExecutionReport>& out) {
  const auto it = orders_.find(child.value());
  if (it == orders_.end() || it->second.done) return;
  Tracked& t = it->second;
  t.done = true;
  t.ended_as = OrderStatus::Rejected;
  ExecutionReport r = base(t, ExecType::Rejected, OrderStatus::Rejected);
  r.reject_reason = reason;
  r.text = FixedString<95>(text);
  out.push_back(r);
}

void OrderTracker::cancel_refused(const ClientOrderId& child, RejectReason reason, const std::string& text,
                                  std::vector<ExecutionReport>& out) {
  const auto it = orders_.find(child.value());
  if (it == orders_.end()) return;
  const Tracked& t = it->second;
  ExecutionReport r = base(t, ExecType::CancelRejected,
                           t.done ? (t.told == t.order.qty ? OrderStatus::Filled : OrderStatus::Canceled)
                           : t.told.is_zero() ? OrderStatus::New
                                              : OrderStatus::PartiallyFilled);
  r.reject_reason = reason;
  r.text = FixedString<95>(text);
  out.push_back(r);
}

void OrderTracker::replace_refused(const ClientOrderId& child, RejectReason reason, const std::string& text,
                                   std::vector<ExecutionReport>& out) {
  const auto it = orders_.find(child.value());
  if (it == orders_.end()) return;
  Tracked& t = it->second;
  if (t.replacing) by_id_.erase(t.replacing->new_id);
  t.replacing.reset();
  t.modifying = false;
  ExecutionReport r =
      base(t, ExecType::ReplaceRejected, t.told.is_zero() ? OrderStatus::New : OrderStatus::PartiallyFilled);
  r.reject_reason = reason;
  r.text = FixedString<95>(text);
  out.push_back(r);
}

Applied OrderTracker::status(const OrderFacts& facts, std::vector<ExecutionReport>& out) {
  Applied applied = apply(facts, out);
  if (!applied.known || applied.needs_trades || !facts.status) return applied;
  Tracked& t = *find(facts);
  // An end the tracker has not told is about another Binance order than the child's current one (an earlier
  // one of its cancel-replace chain, or an id that contradicts the orderId it came with): the child is
  // answered for as the tracker knows it, so its end is told once, when it comes.
  // Once ended, the child is answered for as it ended: an answer saying it is open was written before the end
  // was (a stale answer).
  const OrderStatus open = t.told.is_zero() ? OrderStatus::New : OrderStatus::PartiallyFilled;
  const OrderStatus said = t.done ? t.ended_as : is_end(*facts.status) ? open : *facts.status;
  ExecutionReport r = base(t, ExecType::OrderStatus, said);
  // The average price rides in last_price on a status, as over FIX.
  if (t.told.is_positive()) r.last_price = t.told_notional.average_price(t.told);
  r.venue_ns = facts.venue_ns;
  out.push_back(r);
  return applied;
}

void OrderTracker::unknown(const ClientOrderId& child, std::vector<ExecutionReport>& out) {
  const auto it = orders_.find(child.value());
  ExecutionReport r;
  r.client_order_id = child;
  r.venue = venue_.id;
  r.exec_type = ExecType::OrderStatus;
  r.status = OrderStatus::Rejected;
  r.reject_reason = RejectReason::UnknownOrder;
  r.text = FixedString<95>("the venue does not know the order");
  if (it != orders_.end()) {
    r.instrument = it->second.order.instrument;
    r.side = it->second.order.side;
    r.order_qty = it->second.order.qty;
    r.order_price = it->second.order.price;
    r.cum_qty = it->second.told;
    it->second.done = true;
    it->second.ended_as = OrderStatus::Rejected;
  }
  out.push_back(r);
}

void OrderTracker::adopt(const ClientOrderId& child, const NewOrder& order, const std::string& current_id,
                         std::int64_t order_id, Qty executed_before_current, Qty told) {
  Tracked& t = orders_[child.value()];
  t = Tracked{};
  t.order = order;
  t.current_id = current_id;
  t.order_id = order_id;
  t.acked = true;
  t.executed_before_current = executed_before_current;
  t.told = told;
  t.told_notional = Notional::from_raw(0);
  if (const auto parsed = parse_client_order_id(prefix_, current_id)) t.replace_count = parsed->replace_count;
  by_id_[current_id] = child.value();
  if (order_id != 0) by_order_id_[order_id] = child.value();
}

std::vector<ClientOrderId> OrderTracker::open_children() const {
  std::vector<ClientOrderId> open;
  for (const auto& [child, t] : orders_)
    if (!t.done) open.push_back(ClientOrderId(child));
  return open;
}

}  // namespace tranche::gateway::binance
