#include "oms/order_manager.hpp"

#include <algorithm>

namespace tranche::oms {

Result<std::unique_ptr<OrderManager>> OrderManager::open(const Config& config, Journal& journal,
                                                         PreTradeCheck& gate) {
  std::unique_ptr<OrderManager> manager(new OrderManager(config, journal, gate));
  // Start-up and recovery are the same: replay every durable record through the one apply path.
  const Status replayed = journal.replay([&](const Record& record) -> Status {
    if (auto applied = manager->oms_.apply(record); !applied)
      return make_error("journal " + journal.path() + ", record " + std::to_string(record.seq) + ": " +
                        applied.message());
    return {};
  });
  if (!replayed) return make_error(replayed.message());
  manager->next_client_order_id_ = manager->oms_.next_client_order_id();
  return manager;
}

VenueSession* OrderManager::session(const VenueId& venue) const {
  for (VenueSession* s : sessions_)
    if (s->venue() == venue) return s;
  return nullptr;
}

std::uint64_t OrderManager::parent_of(const RecordBody& body) const {
  return std::visit(
      [&](const auto& b) -> std::uint64_t {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, ParentOrder> || std::is_same_v<T, ParentCancelRequest> ||
                      std::is_same_v<T, ParentAmend> || std::is_same_v<T, ParentDone> ||
                      std::is_same_v<T, AlgoStateChange>) {
          return b.id.value();
        } else if constexpr (std::is_same_v<T, ParentRejected>) {
          return b.parent.id.value();
        } else if constexpr (std::is_same_v<T, RiskDenial>) {
          return b.parent.value();
        } else if constexpr (std::is_same_v<T, NewOrder>) {
          return b.parent_id.value();
        } else if constexpr (std::is_same_v<T, CancelOrder> || std::is_same_v<T, AmendOrder> ||
                             std::is_same_v<T, OrderStatusQuery> || std::is_same_v<T, ExecutionReport>) {
          const ChildOrder* child = oms_.child(b.client_order_id);
          return child == nullptr ? 0 : child->order.parent_id.value();
        } else {
          return 0;
        }
      },
      body);
}

Status OrderManager::record(RecordBody body, TimestampNs now_ns) {
  if (!broken_.ok()) return broken_;
  auto seq = journal_.append(now_ns, body);
  if (!seq) {
    if (collect_touched_)
      if (const std::uint64_t parent = parent_of(body); parent != 0) touched_.push_back(parent);
    return make_error(seq.error().message);
  }
  if (probe_) probe_("append");
  Record r;
  r.seq = *seq;
  r.ts_ns = now_ns;
  r.body = std::move(body);
  Status applied = oms_.apply(r);
  if (collect_touched_)
    if (const std::uint64_t parent = parent_of(r.body); parent != 0) touched_.push_back(parent);
  return applied;
}

Result<ParentId> OrderManager::accept_parent(ParentOrder parent, TimestampNs now_ns) {
  if (parent.id.value() == 0) parent.id = ParentId(oms_.next_parent_id());
  if (oms_.parent(parent.id) != nullptr)
    return make_error("parent " + std::to_string(parent.id.value()) + " exists");
  const ParentId id = parent.id;
  if (auto denial = gate_.check_parent(parent, oms_, now_ns)) {
    denial->parent = id;
    const std::string text = denial->reason_code + ": " + denial->text;
    if (auto s = record(*denial, now_ns); !s) return make_error(s.message());
    if (auto s = reject_parent(std::move(parent), denial->reason_code, denial->text, now_ns); !s)
      return make_error(s.message());
    return make_error("risk denied parent " + std::to_string(id.value()) + ": " + text);
  }
  if (auto s = record(std::move(parent), now_ns); !s) return make_error(s.message());
  return id;
}

Status OrderManager::reject_parent(ParentOrder parent, std::string reason_code, std::string text,
                                   TimestampNs now_ns) {
  if (parent.id.value() == 0) parent.id = ParentId(oms_.next_parent_id());
  return record(ParentRejected{std::move(parent), std::move(reason_code), std::move(text)}, now_ns);
}

Status OrderManager::cancel_parent(ParentId id, std::string reason, TimestampNs now_ns) {
  const ParentRecord* p = oms_.parent(id);
  if (p == nullptr) return make_error("no parent " + std::to_string(id.value()));
  if (!next_parent_state(p->state, ParentEvent::CancelRequested))
    return make_error("parent " + std::to_string(id.value()) + " is " + to_string(p->state) +
                      ": it cannot be canceled");
  if (auto s = record(ParentCancelRequest{id, std::move(reason)}, now_ns); !s) return s;
  for (const ChildOrder* c : oms_.children_of(id))
    if (c->open() && c->status != OrderStatus::PendingCancel)
      if (auto s = cancel_child(c->order.client_order_id, now_ns); !s) return s;
  return {};
}

Status OrderManager::amend_parent(ParentId id, Qty new_qty, Price new_limit, TimestampNs new_end_ns,
                                  TimestampNs now_ns) {
  const ParentRecord* p = oms_.parent(id);
  if (p == nullptr) return make_error("no parent " + std::to_string(id.value()));
  if (is_final(p->state)) return make_error("parent " + std::to_string(id.value()) + " is done");
  ParentOrder amended = p->order;
  if (new_qty.is_set()) {
    if (!new_qty.is_positive()) return make_error("the new quantity must be positive");
    if (new_qty < p->executed + p->in_flight)
      return make_error("cannot amend to " + new_qty.to_string() + ", below the " + p->executed.to_string() +
                        " executed and " + p->in_flight.to_string() + " in flight");
    amended.qty = new_qty;
  }
  if (new_limit.is_set()) amended.limit = new_limit;
  if (new_end_ns != 0) amended.end_ns = new_end_ns;
  if (!new_qty.is_set() && !new_limit.is_set() && new_end_ns == 0) return make_error("nothing to amend");
  // A larger size or a new limit passes the gate as a new parent would (a new fat-finger risk); a smaller
  // size or another end time only adds less risk, and is never refused for a market that moved since.
  const bool more_risk = (new_qty.is_set() && new_qty > p->order.qty) || new_limit.is_set();
  if (auto denial = more_risk ? gate_.check_parent(amended, oms_, now_ns) : std::nullopt) {
    denial->parent = id;
    const std::string text = denial->reason_code + ": " + denial->text;
    if (auto s = record(*denial, now_ns); !s) return s;
    return make_error("risk denied the amend of parent " + std::to_string(id.value()) + ": " + text);
  }
  return record(ParentAmend{id, new_qty, new_limit, new_end_ns}, now_ns);
}

Status OrderManager::end_parent(ParentId id, ParentEvent event, std::string text, TimestampNs now_ns) {
  const ParentRecord* p = oms_.parent(id);
  if (p == nullptr) return make_error("no parent " + std::to_string(id.value()));
  const auto next = next_parent_state(p->state, event);
  if (!next)
    return make_error("parent " + std::to_string(id.value()) + " is " + to_string(p->state) + ": '" +
                      std::string(to_string(event)) + "' does not apply");
  return record(ParentDone{id, *next, std::move(text)}, now_ns);
}

Result<ClientOrderId> OrderManager::send_child(NewOrder order, TimestampNs now_ns) {
  if (reconciling())
    return make_error("children from before the restart are still being reconciled with their venues");
  if (session(order.venue) == nullptr) return make_error("no session to venue " + order.venue.str());
  order.client_order_id = ClientOrderId(next_client_order_id_);
  order.sent_ns = now_ns;
  if (auto ok = oms_.can_send(order); !ok) return make_error(ok.message());
  if (auto denial = gate_.check_child(order, oms_, now_ns)) {
    // The denial is journaled and its id is spent, so the record names the child that never left.
    ++next_client_order_id_;
    denial->parent = order.parent_id;
    denial->child = order.client_order_id;
    denial->venue = order.venue;
    const std::string text = denial->reason_code + ": " + denial->text;
    if (auto s = record(*denial, now_ns); !s) return make_error(s.message());
    return make_error("risk denied: " + text);
  }
  ++next_client_order_id_;
  if (auto s = record(order, now_ns); !s) return make_error(s.message());
  outbox_.push_back(order);
  return order.client_order_id;
}

Status OrderManager::cancel_child(ClientOrderId id, TimestampNs now_ns) {
  const ChildOrder* c = oms_.child(id);
  if (c == nullptr) return make_error("no child " + std::to_string(id.value()));
  const CancelOrder cancel{id, c->order.venue, c->order.instrument, now_ns};
  if (auto denial = gate_.check_cancel(cancel, oms_, now_ns)) {
    denial->parent = c->order.parent_id;
    denial->child = id;
    denial->venue = c->order.venue;
    const std::string text = denial->reason_code + ": " + denial->text;
    if (auto s = record(*denial, now_ns); !s) return s;
    return make_error("risk denied the cancel: " + text);
  }
  return send_cancel(id, now_ns);
}

Status OrderManager::send_cancel(ClientOrderId id, TimestampNs now_ns) {
  const ChildOrder* c = oms_.child(id);
  const CancelOrder cancel{id, c->order.venue, c->order.instrument, now_ns};
  if (auto s = record(cancel, now_ns); !s) return s;
  outbox_.push_back(cancel);
  return {};
}

Status OrderManager::engage_kill_switch(KillScope scope, std::string target, std::string reason,
                                        TimestampNs now_ns) {
  if (auto s = record(KillSwitchChange{scope, target, KillAction::Engage, reason}, now_ns); !s) return s;
  // Every open child in its scope is canceled, whatever the cancel rate: stopping beats pacing.
  std::vector<ClientOrderId> to_cancel;
  for (std::uint64_t id : oms_.open_child_ids()) {
    const ChildOrder& c = *oms_.child(ClientOrderId(id));
    const ParentRecord* p = oms_.parent(c.order.parent_id);
    const bool in_scope = scope == KillScope::Global ||
                          (scope == KillScope::Venue && c.order.venue.view() == target) ||
                          (scope == KillScope::Account && p != nullptr && p->order.account.view() == target);
    if (in_scope && c.status != OrderStatus::PendingCancel) to_cancel.push_back(c.order.client_order_id);
  }
  for (ClientOrderId id : to_cancel)
    if (auto s = send_cancel(id, now_ns); !s) return s;
  return {};
}

Status OrderManager::release_kill_switch(KillScope scope, std::string target, std::string reason,
                                         TimestampNs now_ns) {
  return record(KillSwitchChange{scope, std::move(target), KillAction::Release, std::move(reason)}, now_ns);
}

Status OrderManager::amend_child(ClientOrderId id, Price new_price, Qty new_qty, TimestampNs now_ns) {
  const ChildOrder* c = oms_.child(id);
  if (c == nullptr) return make_error("no child " + std::to_string(id.value()));
  if (new_qty.is_set() && new_qty > c->order.qty) {
    // A larger child must fit its parent like a new one.
    NewOrder bigger = c->order;
    bigger.qty = new_qty - c->order.qty;
    bigger.client_order_id = ClientOrderId(next_client_order_id_);
    if (auto ok = oms_.can_send(bigger); !ok) return ok;
  }
  AmendOrder amend{id, c->order.venue, c->order.instrument, new_price, new_qty, now_ns};
  if (auto s = record(amend, now_ns); !s) return s;
  outbox_.push_back(amend);
  return {};
}

Status OrderManager::record_denial(RiskDenial denial, TimestampNs now_ns) {
  return record(std::move(denial), now_ns);
}

Status OrderManager::record_algo_state(ParentId parent, std::string state, std::string detail,
                                       TimestampNs now_ns) {
  return record(AlgoStateChange{parent, std::move(state), std::move(detail)}, now_ns);
}

Status OrderManager::record_note(std::string text, TimestampNs now_ns) {
  return record(RecoveryNote{std::move(text)}, now_ns);
}

Status OrderManager::flush() {
  if (!broken_.ok()) return broken_;
  if (auto s = journal_.commit(); !s) {
    if (journal_.pending() == 0) {
      // The journal rolled back what the OMS has already applied: memory and disk disagree, and the requests
      // waiting for those records must never leave. Everything stops until a restart replays the journal.
      outbox_.clear();
      broken_ = make_error(s.message() + "; the OMS stops: restart to recover from the journal");
      return broken_;
    }
    return s;  // still pending: the commit can be retried, and the requests wait for it
  }
  if (journal_.has_writer()) {
    // Handed to the writer thread: each request waits for the records before it to be durable.
    const std::uint64_t seq = journal_.last_seq();
    for (RecordBody& body : outbox_) held_.hold(seq, std::move(body));
    outbox_.clear();
    release_durable();
    return {};
  }
  if (probe_) probe_("commit");
  // Only now may the venues hear of it.
  std::vector<RecordBody> leaving;
  leaving.swap(outbox_);
  for (const RecordBody& body : leaving) dispatch(body);
  return {};
}

std::size_t OrderManager::release_durable() {
  bool first = true;
  return held_.release(journal_.durable_seq(), [&](const RecordBody& request) {
    if (probe_ && first) probe_("commit");
    first = false;
    dispatch(request);
  });
}

void OrderManager::dispatch(const RecordBody& body) {
  if (probe_) probe_("dispatch");
  std::visit(
      [&](const auto& request) {
        using T = std::decay_t<decltype(request)>;
        if constexpr (std::is_same_v<T, NewOrder> || std::is_same_v<T, CancelOrder> ||
                      std::is_same_v<T, AmendOrder> || std::is_same_v<T, OrderStatusQuery>) {
          VenueSession* s = session(request.venue);
          if (s == nullptr) return;
          if constexpr (std::is_same_v<T, NewOrder>) s->send(request);
          if constexpr (std::is_same_v<T, CancelOrder>) s->cancel(request);
          if constexpr (std::is_same_v<T, AmendOrder>) s->amend(request);
          if constexpr (std::is_same_v<T, OrderStatusQuery>) s->query(request);
        }
      },
      body);
}

void OrderManager::on_execution_report(const ExecutionReport& report) {
  const TimestampNs now = report.received_ns;
  if (auto s = record(report, now); !s && event_error_.ok()) event_error_ = s;
  if (report.exec_type == ExecType::OrderStatus) {
    auto it = std::find(awaiting_status_.begin(), awaiting_status_.end(), report.client_order_id);
    if (it != awaiting_status_.end()) awaiting_status_.erase(it);
  }
}

void OrderManager::on_venue_status(const VenueStatusReport& status) {
  if (auto s = record(status, status.received_ns); !s && event_error_.ok()) event_error_ = s;
}

Result<std::size_t> OrderManager::reconcile(TimestampNs now_ns) {
  std::size_t queried = 0;
  for (const ChildOrder* c : oms_.open_children()) {
    OrderStatusQuery query{c->order.client_order_id, c->order.venue, c->order.instrument, now_ns};
    if (auto s = record(query, now_ns); !s) return make_error(s.message());
    outbox_.push_back(query);
    awaiting_status_.push_back(c->order.client_order_id);
    ++queried;
  }
  if (queried > 0)
    if (auto s = record(RecoveryNote{"restart: querying " + std::to_string(queried) + " children in flight"},
                        now_ns);
        !s)
      return make_error(s.message());
  return queried;
}

}  // namespace tranche::oms
