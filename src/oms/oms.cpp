#include "oms/oms.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace tranche::oms {
namespace {

std::string child_text(const ChildOrder& c) {
  std::ostringstream out;
  out << "child " << c.order.client_order_id.value() << " of parent " << c.order.parent_id.value() << " on "
      << c.order.venue.view() << " (" << to_string(c.status) << ", qty " << c.order.qty.to_string()
      << ", cum " << c.cum_qty.to_string() << ")";
  return out.str();
}

// What a fill moved its position by: its real base quantity, signed by side.
Qty signed_base(const Fill& f) {
  return f.side == Side::Buy ? f.base_qty : -f.base_qty;
}

Int128 abs128(Int128 v) {
  return v < 0 ? -v : v;
}

}  // namespace

Price Position::average_entry() const {
  if (qty.is_zero()) return Price::unset();
  return Notional::from_raw(abs128(cost.raw())).average_price(qty.is_negative() ? -qty : qty);
}

double Position::unrealized_pnl(Price mark) const {
  if (qty.is_zero() || !mark.is_set()) return 0;
  const Notional value = Notional::of(mark, qty);
  return (value - cost).to_double();
}

Oms::Oms(const Config& config)
    : forget_after_ns_(config.oms.forget_ended_after_ns),
      keep_recent_(config.oms.keep_recent),
      config_(config) {}

namespace {
// Keeps exactly the latest `keep` of a list that only grows at its end: the oldest let go as each new one
// comes.
template <class T>
void keep_latest(std::deque<T>& list, int keep) {
  const std::size_t k = static_cast<std::size_t>(std::max(keep, 1));
  while (list.size() > k) list.pop_front();
}
}  // namespace

void Oms::oddity(std::uint64_t seq, ClientOrderId child, std::string text) {
  oddities_.push_back({seq, child, std::move(text)});
  ++oddities_total_;
  keep_latest(oddities_, keep_recent_);
}

void Oms::note_ended(const ParentRecord& parent) {
  if (forget_after_ns_ > 0) ended_.emplace_back(parent.done_ns, parent.order.id.value());
}

void Oms::forget_ended(TimestampNs now_ns) {
  if (forget_after_ns_ <= 0 || ended_.empty()) return;
  // Once a second of record time at most: a parent is forgotten up to a second late, the check costs
  // nothing on the records between.
  if (now_ns - last_forget_check_ns_ < kNanosPerSecond) return;
  last_forget_check_ns_ = now_ns;
  std::set<std::uint64_t> gone;  // children forgotten now
  std::vector<std::pair<TimestampNs, std::uint64_t>> later;
  while (!ended_.empty() && ended_.front().first + forget_after_ns_ <= now_ns) {
    const std::uint64_t id = ended_.front().second;
    ended_.pop_front();
    auto it = parents_.find(id);
    if (it == parents_.end() || !is_final(it->second.state)) continue;  // gone, or amended back to life
    const ParentRecord& p = it->second;
    const bool closed = std::all_of(p.children.begin(), p.children.end(), [&](ClientOrderId c) {
      auto child = children_.find(c.value());
      return child == children_.end() || !child->second.open();
    });
    if (!closed) {
      // A child the venue never closed keeps its parent in memory: asked again a horizon later.
      later.emplace_back(now_ns, id);
      continue;
    }
    for (ClientOrderId c : p.children) {
      gone.insert(c.value());
      history_.erase(c.value());
      forgotten_.children += children_.erase(c.value());
    }
    parents_.erase(it);
    ++forgotten_.parents;
  }
  for (const auto& entry : later) ended_.push_back(entry);
  if (gone.empty()) return;
  std::erase_if(fills_, [&](const Fill& f) {
    if (!gone.count(f.child.value())) return false;
    exec_ids_.erase({f.venue, f.exec_id});
    forgotten_position_base_[{f.account.str(), f.instrument.str()}] += signed_base(f);
    ++forgotten_.fills;
    return true;
  });
}

const VenueListing* Oms::listing(const VenueId& venue, const InstrumentId& instrument) const {
  const VenueConfig* v = config_.venue(venue);
  return v ? v->listing(instrument) : nullptr;
}

Result<Qty> Oms::base_of(const VenueId& venue, const InstrumentId& instrument, Qty qty, Price price) const {
  const VenueListing* l = listing(venue, instrument);
  if (l == nullptr)
    return make_error(venue.str() + " does not list " + instrument.str() + " in " + config_.source);
  if (!l->inverse) return qty;
  if (!price.is_set() || !price.is_positive())
    return make_error("an order on the inverse listing " + l->symbol + " needs a price to count in " +
                      instrument.str());
  // Rounded down: what counts against the parent never exceeds what the contracts are worth.
  const Int128 raw = static_cast<Int128>(qty.raw()) * l->contract_size.raw() / price.raw();
  return Qty::from_raw(static_cast<std::int64_t>(raw));
}

void Oms::breach(const std::string& context) const {
  if (on_breach_) {
    on_breach_(context);
    return;
  }
  std::fprintf(stderr, "tranche: OMS invariant broken, stopping: %s\n", context.c_str());
  std::abort();
}

void Oms::anomaly(std::uint64_t seq, ClientOrderId child, std::string kind, std::string text) {
  anomalies_.push_back({seq, child, std::move(kind), std::move(text)});
  ++anomalies_total_;
  keep_latest(anomalies_, keep_recent_);
}

const ParentRecord* Oms::parent(ParentId id) const {
  auto it = parents_.find(id.value());
  return it == parents_.end() ? nullptr : &it->second;
}

const ChildOrder* Oms::child(ClientOrderId id) const {
  auto it = children_.find(id.value());
  return it == children_.end() ? nullptr : &it->second;
}

std::vector<const ChildOrder*> Oms::children_of(ParentId id) const {
  std::vector<const ChildOrder*> out;
  if (const ParentRecord* p = parent(id))
    for (ClientOrderId c : p->children) out.push_back(child(c));
  return out;
}

std::vector<const ChildOrder*> Oms::children_in(OrderStatus status) const {
  std::vector<const ChildOrder*> out;
  for (const auto& [_, c] : children_)
    if (c.status == status) out.push_back(&c);
  return out;
}

std::vector<const ChildOrder*> Oms::children_on(const VenueId& venue) const {
  std::vector<const ChildOrder*> out;
  for (const auto& [_, c] : children_)
    if (c.order.venue == venue) out.push_back(&c);
  return out;
}

std::vector<const ChildOrder*> Oms::open_children() const {
  std::vector<const ChildOrder*> out;
  for (const auto& [_, c] : children_)
    if (c.open()) out.push_back(&c);
  return out;
}

std::vector<const Fill*> Oms::fills_of(ClientOrderId id) const {
  std::vector<const Fill*> out;
  for (const auto& f : fills_)
    if (f.child == id) out.push_back(&f);
  return out;
}

const Position* Oms::position(const AccountId& account, const InstrumentId& instrument) const {
  auto a = position_index_.find(account.view());
  if (a == position_index_.end()) return nullptr;
  auto i = a->second.find(instrument.view());
  return i == a->second.end() ? nullptr : i->second;
}

const std::vector<std::uint64_t>& Oms::history(ClientOrderId id) const {
  static const std::vector<std::uint64_t> kNone;
  auto it = history_.find(id.value());
  return it == history_.end() ? kNone : it->second;
}

Qty Oms::in_flight(ParentId id) const {
  const ParentRecord* p = parent(id);
  return p ? p->in_flight : Qty{};
}

void Oms::refresh_in_flight(ChildOrder& c) {
  Qty now;
  // Open: all it has left. Done: what the venue said it executed that has not reached us as fills yet.
  const Qty pending = c.open() ? c.leaves_qty() : c.venue_cum - c.cum_qty;
  Notional notional;
  if (pending.is_positive()) {
    auto base = base_of(c.order.venue, c.order.instrument, pending, c.order.price);
    if (base) now = *base;
    const VenueListing* l = listing(c.order.venue, c.order.instrument);
    if (l != nullptr && l->inverse)
      notional = Notional::of(Price::from_raw(l->contract_size.raw()), pending);
    else if (c.order.price.is_set())
      notional = Notional::of(c.order.price, pending);
  }
  ParentRecord& p = parents_.at(c.order.parent_id.value());
  // The exposure aggregates move by the child's change.
  const bool open_now = c.open();
  const int open_delta = static_cast<int>(open_now) - static_cast<int>(c.counted_open);
  const Notional notional_delta = notional - c.counted_notional;
  Exposure& venue = venue_exposure_[c.order.venue.str()];
  venue.open_orders += open_delta;
  venue.in_flight_notional += notional_delta;
  Exposure& account = account_exposure_[p.order.account.str()];
  account.open_orders += open_delta;
  account.in_flight_notional += notional_delta;
  InstrumentExposure& inst = instrument_exposure_[p.order.account.str()][c.order.instrument.str()];
  (c.order.side == Side::Buy ? inst.buy_in_flight : inst.sell_in_flight) += now - c.in_flight_base;
  c.counted_open = open_now;
  c.counted_notional = notional;
  if (open_now) {
    open_ids_.insert(c.order.client_order_id.value());
    const OpenOrderView now_view{c.order.client_order_id,
                                 c.order.venue,
                                 c.order.instrument,
                                 c.order.side,
                                 c.order.type,
                                 c.order.price};
    if (c.open_view_pos == ChildOrder::kNotInView) {
      c.open_view_pos = open_view_.size();
      open_view_.push_back(now_view);
    } else {
      open_view_[c.open_view_pos] = now_view;  // an amend moved its price
    }
  } else {
    open_ids_.erase(c.order.client_order_id.value());
    if (const std::size_t at = c.open_view_pos; at != ChildOrder::kNotInView) {
      // The last entry takes its place (the view's order is no one's concern: the self-trade check asks
      // whether any open order meets a new one).
      if (at + 1 != open_view_.size()) {
        open_view_[at] = open_view_.back();
        children_.at(open_view_[at].id.value()).open_view_pos = at;
      }
      open_view_.pop_back();
      c.open_view_pos = ChildOrder::kNotInView;
    }
  }
  p.in_flight = p.in_flight - c.in_flight_base + now;
  c.in_flight_base = now;
}

const Exposure& Oms::venue_exposure(std::string_view venue) const {
  static const Exposure kNone;
  auto it = venue_exposure_.find(venue);
  return it == venue_exposure_.end() ? kNone : it->second;
}

const Exposure& Oms::account_exposure(std::string_view account) const {
  static const Exposure kNone;
  auto it = account_exposure_.find(account);
  return it == account_exposure_.end() ? kNone : it->second;
}

InstrumentExposure Oms::instrument_exposure(std::string_view account, std::string_view instrument) const {
  auto a = instrument_exposure_.find(account);
  if (a == instrument_exposure_.end()) return {};
  auto i = a->second.find(instrument);
  return i == a->second.end() ? InstrumentExposure{} : i->second;
}

Amount Oms::venue_flow(std::string_view venue, std::string_view asset) const {
  auto v = venue_flows_.find(venue);
  if (v == venue_flows_.end()) return Amount{};
  auto a = v->second.find(asset);
  return a == v->second.end() ? Amount{} : a->second;
}

bool Oms::blocked(const AccountId& account, const VenueId& venue, std::string* why) const {
  for (const auto& k : kill_switches_) {
    const bool hit = k.scope == KillScope::Global ||
                     (k.scope == KillScope::Account && k.target == account.view()) ||
                     (k.scope == KillScope::Venue && k.target == venue.view());
    if (!hit) continue;
    if (why != nullptr)
      *why = std::string("kill switch (") + to_string(k.scope) + (k.target.empty() ? "" : " " + k.target) +
             "): " + k.reason;
    return true;
  }
  return false;
}

Qty Oms::count_in_flight(ParentId id) const {
  Qty total;
  if (const ParentRecord* p = parent(id))
    for (ClientOrderId c : p->children) {
      const ChildOrder& ch = *child(c);
      const Qty pending = ch.open() ? ch.leaves_qty() : ch.venue_cum - ch.cum_qty;
      if (!pending.is_positive()) continue;
      auto base = base_of(ch.order.venue, ch.order.instrument, pending, ch.order.price);
      if (base) total += *base;
    }
  return total;
}

Status Oms::can_send(const NewOrder& order) const {
  const ParentRecord* p = parent(order.parent_id);
  if (p == nullptr)
    return make_error("child " + std::to_string(order.client_order_id.value()) + " names parent " +
                      std::to_string(order.parent_id.value()) + ", which was never accepted");
  if (is_final(p->state) || p->state == ParentState::PendingCancel)
    return make_error("parent " + std::to_string(order.parent_id.value()) + " is " + to_string(p->state));
  if (order.instrument != p->order.instrument)
    return make_error("child instrument differs from its parent's");
  if (order.side != p->order.side) return make_error("child side differs from its parent's");
  if (child(order.client_order_id) != nullptr || order.client_order_id.value() <= max_client_order_id_)
    return make_error("client order id " + std::to_string(order.client_order_id.value()) +
                      " was already used");
  auto base = base_of(order.venue, order.instrument, order.qty, order.price);
  if (!base) return base.error();
  const Qty room = p->order.qty - p->executed - in_flight(order.parent_id);
  if (*base > room)
    return make_error("child of " + base->to_string() + " would exceed parent " +
                      std::to_string(order.parent_id.value()) + ": " + room.to_string() + " left of " +
                      p->order.qty.to_string());
  return {};
}

void Oms::check_parent(const ParentRecord& p, std::uint64_t seq) const {
  const Qty flight = p.in_flight;
  if (p.executed + flight > p.order.qty) {
    std::ostringstream out;
    out << "record " << seq << ": parent " << p.order.id.value() << " has executed " << p.executed.to_string()
        << " + in flight " << flight.to_string() << " > size " << p.order.qty.to_string();
    breach(out.str());
  }
}

Status Oms::verify() const {
  std::string first;
  auto fail = [&](const std::string& text) {
    if (first.empty()) first = text;
  };
  std::map<std::uint64_t, Qty> exec_by_child;
  std::map<std::pair<std::string, std::string>, Qty> pos_by_fills = forgotten_position_base_;
  for (const Fill& f : fills_) {
    pos_by_fills[{f.account.str(), f.instrument.str()}] += signed_base(f);
    exec_by_child[f.child.value()] += f.qty;
  }
  for (const auto& [id, c] : children_) {
    if (c.cum_qty > c.order.qty) fail(child_text(c) + ": executed more than its quantity");
    const bool in_view =
        c.open_view_pos < open_view_.size() && open_view_[c.open_view_pos].id == c.order.client_order_id;
    if (c.open() != in_view) fail(child_text(c) + ": the open-order view does not hold it as its state says");
    if (exec_by_child[id] != c.cum_qty)
      fail(child_text(c) + ": its fills add up to " + exec_by_child[id].to_string());
  }
  for (const auto& [id, p] : parents_) {
    Qty executed;
    Notional notional;
    std::map<std::string, Amount> fees;
    for (ClientOrderId cid : p.children) {
      const ChildOrder& c = children_.at(cid.value());
      executed += c.cum_base;
      for (const auto& [asset, amount] : c.fees) fees[asset] += amount;
    }
    for (const Fill& f : fills_)
      if (f.parent == p.order.id) notional += Notional::of(f.price, f.counted_qty);
    const std::string name = "parent " + std::to_string(id);
    if (executed != p.executed)
      fail(name + ": children executed " + executed.to_string() + ", parent says " + p.executed.to_string());
    if (notional != p.executed_notional) fail(name + ": fill notional does not add up to the parent's");
    if (fees != p.fees) fail(name + ": fees do not add up to the parent's");
    if (count_in_flight(p.order.id) != p.in_flight) fail(name + ": in-flight count drifted");
    if (p.executed + p.in_flight > p.order.qty) fail(name + ": executed plus in flight exceeds its size");
  }
  if (open_view_.size() != open_ids_.size()) fail("the open-order view and the open ids disagree");
  for (const auto& [key, pos] : positions_) {
    const Qty from_fills = pos_by_fills[key];
    if (from_fills != pos.qty)
      fail("position " + key.first + "/" + key.second + " is " + pos.qty.to_string() +
           ", its fills add up to " + from_fills.to_string());
  }
  if (!first.empty()) return make_error(first);
  return {};
}

Status Oms::apply(const Record& record) {
  ++records_applied_;
  last_seq_ = std::max(last_seq_, record.seq);
  forget_ended(record.ts_ns);
  return std::visit(
      [&](const auto& body) -> Status {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, ParentOrder>) {
          if (parents_.count(body.id.value()))
            return make_error("parent " + std::to_string(body.id.value()) + " accepted twice");
          ParentRecord& p = parents_[body.id.value()];
          p.order = body;
          p.state = ParentState::Working;
          p.accepted_ns = record.ts_ns;
          max_parent_id_ = std::max(max_parent_id_, body.id.value());
        } else if constexpr (std::is_same_v<T, ParentRejected>) {
          ParentRecord& p = parents_[body.parent.id.value()];
          p.order = body.parent;
          p.state = ParentState::Rejected;
          p.accepted_ns = p.done_ns = record.ts_ns;
          p.done_text = body.reason_code + ": " + body.text;
          max_parent_id_ = std::max(max_parent_id_, body.parent.id.value());
          note_ended(p);
        } else if constexpr (std::is_same_v<T, ParentCancelRequest>) {
          auto it = parents_.find(body.id.value());
          if (it == parents_.end())
            return make_error("cancel of unknown parent " + std::to_string(body.id.value()));
          if (!is_final(it->second.state)) it->second.state = ParentState::PendingCancel;
        } else if constexpr (std::is_same_v<T, ParentAmend>) {
          auto it = parents_.find(body.id.value());
          if (it == parents_.end())
            return make_error("amend of unknown parent " + std::to_string(body.id.value()));
          ParentRecord& p = it->second;
          if (body.new_qty.is_set()) {
            if (body.new_qty < p.executed + in_flight(p.order.id))
              return make_error("parent " + std::to_string(body.id.value()) + " cannot shrink to " +
                                body.new_qty.to_string() + " below what it executed and has in flight");
            p.order.qty = body.new_qty;
          }
          if (body.new_limit.is_set()) p.order.limit = body.new_limit;
          if (body.new_end_ns != 0) p.order.end_ns = body.new_end_ns;
        } else if constexpr (std::is_same_v<T, ParentDone>) {
          auto it = parents_.find(body.id.value());
          if (it == parents_.end())
            return make_error("end of unknown parent " + std::to_string(body.id.value()));
          const bool was_final = is_final(it->second.state);
          it->second.state = body.state;
          it->second.done_ns = record.ts_ns;
          it->second.done_text = body.text;
          if (!was_final && is_final(body.state)) note_ended(it->second);
        } else if constexpr (std::is_same_v<T, NewOrder>) {
          if (auto ok = can_send(body); !ok)
            return make_error("record " + std::to_string(record.seq) + ": " + ok.message());
          ChildOrder& c = children_[body.client_order_id.value()];
          c.order = body;
          c.status = OrderStatus::PendingNew;
          c.last_update_ns = record.ts_ns;
          max_client_order_id_ = std::max(max_client_order_id_, body.client_order_id.value());
          ParentRecord& p = parents_.at(body.parent_id.value());
          p.children.push_back(body.client_order_id);
          history_[body.client_order_id.value()].push_back(record.seq);
          refresh_in_flight(c);
          check_parent(p, record.seq);
        } else if constexpr (std::is_same_v<T, CancelOrder>) {
          auto it = children_.find(body.client_order_id.value());
          if (it == children_.end()) {
            anomaly(record.seq, body.client_order_id, "unknown_order", "cancel sent for an order never sent");
            return {};
          }
          history_[body.client_order_id.value()].push_back(record.seq);
          transition(record, it->second, ChildEvent::CancelRequest);
        } else if constexpr (std::is_same_v<T, AmendOrder>) {
          auto it = children_.find(body.client_order_id.value());
          if (it == children_.end()) {
            anomaly(record.seq, body.client_order_id, "unknown_order", "amend sent for an order never sent");
            return {};
          }
          history_[body.client_order_id.value()].push_back(record.seq);
          it->second.pending_price = body.new_price;
          it->second.pending_qty = body.new_qty;
          transition(record, it->second, ChildEvent::ReplaceRequest);
        } else if constexpr (std::is_same_v<T, OrderStatusQuery>) {
          history_[body.client_order_id.value()].push_back(record.seq);
        } else if constexpr (std::is_same_v<T, ExecutionReport>) {
          return apply_execution(record, body);
        } else if constexpr (std::is_same_v<T, VenueStatusReport>) {
          venue_status_[body.venue.str()] = body;
        } else if constexpr (std::is_same_v<T, RiskDenial>) {
          denials_.push_back(body);
          ++denials_total_;
          keep_latest(denials_, keep_recent_);
          // A denied child's id was spent: never reused, so the denial names one order only.
          max_client_order_id_ = std::max(max_client_order_id_, body.child.value());
        } else if constexpr (std::is_same_v<T, KillSwitchChange>) {
          std::erase_if(kill_switches_, [&](const KillSwitchChange& k) {
            return k.scope == body.scope && k.target == body.target;
          });
          if (body.action == KillAction::Engage) kill_switches_.push_back(body);
        }
        return {};
      },
      record.body);
}

void Oms::transition(const Record& record, ChildOrder& child, ChildEvent event) {
  const auto next = next_state(child.status, event, open_status(child));
  if (!next) {
    anomaly(record.seq, child.order.client_order_id, "invalid_transition",
            std::string(to_string(event)) + " in state " + std::string(to_string(child.status)));
    return;
  }
  if (!next->oddity.empty()) oddity(record.seq, child.order.client_order_id, std::string(next->oddity));
  child.status = next->next;
  child.last_update_ns = record.ts_ns;
  refresh_in_flight(child);
}

Status Oms::apply_execution(const Record& record, const ExecutionReport& report) {
  auto it = children_.find(report.client_order_id.value());
  if (it == children_.end()) {
    anomaly(record.seq, report.client_order_id, "unknown_order",
            std::string(to_string(report.exec_type)) + " from " + report.venue.str() +
                " for an order never sent");
    return {};
  }
  ChildOrder& child = it->second;
  ParentRecord& parent = parents_.at(child.order.parent_id.value());
  history_[report.client_order_id.value()].push_back(record.seq);
  if (!report.venue_order_id.empty()) child.venue_order_id = report.venue_order_id;
  if (report.cum_qty > child.venue_cum && report.cum_qty <= child.order.qty) child.venue_cum = report.cum_qty;
  switch (report.exec_type) {
    case ExecType::Trade: {
      if (!exec_ids_.insert({report.venue, report.exec_id}).second) {
        anomaly(record.seq, child.order.client_order_id, "duplicate_execution",
                "execution " + report.exec_id.str() + " seen before: ignored");
        return {};
      }
      if (!report.last_qty.is_positive() || !report.last_price.is_set() || !report.last_price.is_positive()) {
        anomaly(record.seq, child.order.client_order_id, "malformed_execution",
                "a fill without a positive quantity and price");
        return {};
      }
      // A fill the venue resends after a reconnect (PossDup) once a status has booked it: counting it
      // again would double it.
      if (report.cum_qty.is_positive() && report.cum_qty <= child.booked_by_status) {
        anomaly(record.seq, child.order.client_order_id, "counted_by_status",
                "execution " + report.exec_id.str() + " (CumQty " + report.cum_qty.to_string() +
                    ") was booked by the venue's status of " + child.booked_by_status.to_string() +
                    ": ignored");
        return {};
      }
      child.venue_has_it = true;
      apply_fill(record, child, parent, report);
      break;
    }
    case ExecType::New:
      child.venue_has_it = true;
      transition(record, child, ChildEvent::Ack);
      break;
    case ExecType::Canceled:
      transition(record, child, ChildEvent::Canceled);
      break;
    case ExecType::Expired:
      transition(record, child, ChildEvent::Expired);
      break;
    case ExecType::Rejected:
      transition(record, child, ChildEvent::Rejected);
      break;
    case ExecType::Replaced: {
      child.venue_has_it = true;
      const Price new_price = report.order_price.is_set() ? report.order_price : child.pending_price;
      const Qty new_qty = report.order_qty.is_positive() ? report.order_qty : child.pending_qty;
      if (new_price.is_set()) child.order.price = new_price;
      if (new_qty.is_set() && new_qty >= child.cum_qty) child.order.qty = new_qty;
      child.pending_price = Price::unset();
      child.pending_qty = Qty::unset();
      transition(record, child, ChildEvent::Replaced);
      refresh_in_flight(child);
      check_parent(parent, record.seq);
      break;
    }
    case ExecType::CancelRejected:
      transition(record, child, ChildEvent::CancelRejected);
      break;
    case ExecType::ReplaceRejected:
      child.pending_price = Price::unset();
      child.pending_qty = Qty::unset();
      transition(record, child, ChildEvent::ReplaceRejected);
      break;
    case ExecType::OrderStatus: {
      // The venue's word on an order (reconciliation after a restart).
      if (report.reject_reason == RejectReason::UnknownOrder) {
        if (child.status == OrderStatus::PendingNew) {
          oddity(record.seq, child.order.client_order_id, "unknown to the venue: it never arrived");
          child.status = OrderStatus::Rejected;
          refresh_in_flight(child);
        }
        break;
      }
      if (report.cum_qty > child.cum_qty) {
        // The venue executed more than we heard of (its reports were lost while we were away). With its
        // average price (carried in last_price on a status) the gap is booked as one fill at the price that
        // makes that average hold, so the parent counts it; without one nothing is invented.
        const Qty gap = report.cum_qty - child.cum_qty;
        const bool priced = report.last_price.is_set() && report.last_price.is_positive() &&
                            report.cum_qty <= child.order.qty;
        if (!priced) {
          anomaly(record.seq, child.order.client_order_id, "unseen_fills",
                  "the venue reports " + report.cum_qty.to_string() + " executed, we have " +
                      child.cum_qty.to_string());
          break;
        }
        const double total = report.last_price.to_double() * report.cum_qty.to_double();
        const double gap_price = (total - child.cum_notional.to_double()) / gap.to_double();
        ExecutionReport fill = report;
        fill.exec_type = ExecType::Trade;
        fill.last_qty = gap;
        fill.last_price = Price::from_raw(static_cast<std::int64_t>(std::llround(gap_price * kFixedScale)));
        fill.exec_id = ExecId("status-" + std::to_string(child.order.client_order_id.value()) + "-" +
                              report.cum_qty.to_string());
        if (!fill.last_price.is_positive() || !exec_ids_.insert({fill.venue, fill.exec_id}).second) {
          anomaly(record.seq, child.order.client_order_id, "unseen_fills",
                  "the venue reports " + report.cum_qty.to_string() + " executed, we have " +
                      child.cum_qty.to_string() + ", at an average that cannot be booked");
          break;
        }
        oddity(record.seq, child.order.client_order_id,
               "the venue's status shows " + gap.to_string() + " executed unseen: booked as one fill at " +
                   fill.last_price.to_string());
        apply_fill(record, child, parent, fill);
        child.booked_by_status = report.cum_qty;
      }
      if (child.open() && report.cum_qty == child.cum_qty && report.status != child.status &&
          (report.status == OrderStatus::Filled || report.status == OrderStatus::Canceled ||
           report.status == OrderStatus::Expired || report.status == OrderStatus::Rejected ||
           report.status == OrderStatus::New || report.status == OrderStatus::PartiallyFilled)) {
        oddity(record.seq, child.order.client_order_id,
               "status reconciled with the venue: " + std::string(to_string(report.status)));
        child.status = report.status;
        refresh_in_flight(child);
      }
      break;
    }
    case ExecType::PendingCancel:
    case ExecType::PendingReplace:
      break;
  }
  return {};
}

namespace {
// No real fee comes near this (a billion units of any asset); a fee beyond it is a damaged record.
constexpr std::int64_t kMaxFeeRaw = 1'000'000'000LL * kFixedScale;

template <class Sums>
bool adds_up(const Sums& sums, const std::string& asset, Amount fee, bool subtract) {
  auto it = sums.find(asset);
  if (it == sums.end()) return true;
  std::int64_t out = 0;
  return subtract ? !__builtin_sub_overflow(it->second.raw(), fee.raw(), &out)
                  : !__builtin_add_overflow(it->second.raw(), fee.raw(), &out);
}
}  // namespace

bool Oms::fee_fits(Amount fee, const std::string& asset, const ChildOrder& child,
                   const ParentRecord& parent) const {
  if (fee.raw() > kMaxFeeRaw || fee.raw() < -kMaxFeeRaw) return false;
  if (!adds_up(child.fees, asset, fee, false) || !adds_up(parent.fees, asset, fee, false)) return false;
  if (auto pos = positions_.find({parent.order.account.str(), child.order.instrument.str()});
      pos != positions_.end() && !adds_up(pos->second.fees, asset, fee, false))
    return false;
  if (auto flows = venue_flows_.find(child.order.venue.view());
      flows != venue_flows_.end() && !adds_up(flows->second, asset, fee, true))
    return false;
  return true;
}

void Oms::apply_fill(const Record& record, ChildOrder& child, ParentRecord& parent,
                     const ExecutionReport& report) {
  const Qty qty = report.last_qty;
  if (child.cum_qty + qty > child.order.qty) {
    std::ostringstream out;
    out << "record " << record.seq << ": " << child_text(child) << " would execute " << qty.to_string()
        << " more (execution " << report.exec_id.view() << "): overfill";
    breach(out.str());
    return;
  }
  const Qty counted = base_of(child.order.venue, child.order.instrument, qty, child.order.price).value();
  const VenueListing* l = listing(child.order.venue, child.order.instrument);
  const Qty real_base =
      l->inverse ? Qty::from_raw(static_cast<std::int64_t>(static_cast<Int128>(qty.raw()) *
                                                           l->contract_size.raw() / report.last_price.raw()))
                 : qty;
  const std::string asset = report.fee.asset.str();
  Amount fee = Amount::from_raw(report.fee.amount.raw());
  if (!fee_fits(fee, asset, child, parent)) {
    // A fee beyond any real one (a damaged record, a venue's nonsense) would overflow the sums: the fill is
    // booked without it, and said.
    anomaly(record.seq, child.order.client_order_id, "malformed_fee",
            "execution " + report.exec_id.str() + " has a fee of " + fee.to_string() + " " + asset +
                ": not counted");
    fee = Amount{};
  }
  child.cum_qty += qty;
  child.cum_notional += Notional::of(report.last_price, qty);
  child.cum_base += counted;
  child.fees[asset] += fee;
  parent.executed += counted;
  parent.executed_notional += Notional::of(report.last_price, counted);
  parent.fees[asset] += fee;

  Fill f;
  f.seq = record.seq;
  f.child = child.order.client_order_id;
  f.parent = child.order.parent_id;
  f.venue = child.order.venue;
  f.instrument = child.order.instrument;
  f.account = parent.order.account;
  f.side = child.order.side;
  f.price = report.last_price;
  f.qty = qty;
  f.base_qty = real_base;
  f.counted_qty = counted;
  f.liquidity = report.liquidity;
  f.fee = report.fee;
  f.exec_id = report.exec_id;
  f.venue_ns = report.venue_ns;
  f.received_ns = report.received_ns;
  fills_.push_back(f);

  // The position, netting.
  Position& pos = positions_[{parent.order.account.str(), child.order.instrument.str()}];
  position_index_[parent.order.account.str()][child.order.instrument.str()] = &pos;
  pos.account = parent.order.account;
  pos.instrument = child.order.instrument;
  const Qty signed_qty = child.order.side == Side::Buy ? real_base : -real_base;
  if (pos.qty.is_zero() || pos.qty.is_negative() == signed_qty.is_negative()) {
    pos.qty += signed_qty;
    pos.cost += Notional::of(report.last_price, signed_qty);
  } else {
    const Qty open = pos.qty.is_negative() ? -pos.qty : pos.qty;
    const Qty closing = std::min(open, real_base);
    const Int128 entry_part = pos.cost.raw() * closing.raw() / open.raw();
    const Int128 exit_value =
        static_cast<Int128>(report.last_price.raw()) * closing.raw() * (pos.qty.is_negative() ? -1 : 1);
    pos.realized_pnl += Notional::from_raw(exit_value - entry_part);
    pos.cost = Notional::from_raw(pos.cost.raw() - entry_part);
    pos.qty += pos.qty.is_negative() ? closing : -closing;
    const Qty opening = real_base - closing;
    if (opening.is_positive()) {
      pos.qty = signed_qty.is_negative() ? -opening : opening;
      pos.cost = Notional::of(report.last_price, pos.qty);
    }
    if (pos.qty.is_zero()) pos.cost = Notional{};
  }
  pos.fees[asset] += fee;

  // What the fill moved on its venue: base and quote on linear listings; an inverse fill settles P&L later.
  const std::string venue_name = child.order.venue.str();
  if (!l->inverse) {
    const Instrument* inst = config_.instrument(child.order.instrument);
    if (inst != nullptr) {
      const Amount base_amount = Amount::from_raw(qty.raw());
      const Amount quote_amount = Amount::from_raw(
          static_cast<std::int64_t>(static_cast<Int128>(report.last_price.raw()) * qty.raw() / kFixedScale));
      const bool buy = child.order.side == Side::Buy;
      venue_flows_[venue_name][inst->base] += buy ? base_amount : -base_amount;
      venue_flows_[venue_name][inst->quote] += buy ? -quote_amount : quote_amount;
    }
  }
  venue_flows_[venue_name][asset] -= fee;

  transition(record, child,
             child.cum_qty == child.order.qty ? ChildEvent::FullFill : ChildEvent::PartialFill);
  refresh_in_flight(child);
  check_parent(parent, record.seq);
}

Result<std::optional<ParentRecord>> parent_from_journal(const Config& config, const Journal& journal,
                                                        ParentId id, std::uint64_t from_seq) {
  Oms oms(config);
  oms.keep_everything();
  // A journal the live OMS accepted holds no breach; one found here is told, never an abort.
  std::string breach;
  oms.set_invariant_handler([&](const std::string& context) {
    if (breach.empty()) breach = context;
  });
  std::set<std::uint64_t> children;
  auto applied = journal.replay(
      [&](const Record& record) -> Status {
        const bool mine = std::visit(
            [&](const auto& body) -> bool {
              using T = std::decay_t<decltype(body)>;
              if constexpr (std::is_same_v<T, ParentOrder> || std::is_same_v<T, ParentCancelRequest> ||
                            std::is_same_v<T, ParentAmend> || std::is_same_v<T, ParentDone>) {
                return body.id == id;
              } else if constexpr (std::is_same_v<T, ParentRejected>) {
                return body.parent.id == id;
              } else if constexpr (std::is_same_v<T, NewOrder>) {
                if (body.parent_id != id) return false;
                children.insert(body.client_order_id.value());
                return true;
              } else if constexpr (std::is_same_v<T, CancelOrder> || std::is_same_v<T, AmendOrder> ||
                                   std::is_same_v<T, OrderStatusQuery> ||
                                   std::is_same_v<T, ExecutionReport>) {
                return children.count(body.client_order_id.value()) > 0;
              } else {
                return false;
              }
            },
            record.body);
        return mine ? oms.apply(record) : Status{};
      },
      from_seq);
  if (!applied) return make_error(applied.message());
  if (!breach.empty())
    return make_error("parent " + std::to_string(id.value()) + " in the journal: " + breach);
  const ParentRecord* found = oms.parent(id);
  if (found == nullptr) return std::optional<ParentRecord>{};
  return std::optional<ParentRecord>{*found};
}

}  // namespace tranche::oms
