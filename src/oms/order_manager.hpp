#pragma once
// The journaled front of the OMS: every command (parent accepted, child sent, cancel, amend, status query)
// and every venue event (execution report, venue status) is appended to the journal and applied to the OMS;
// requests leave for their venue only in flush(), after the journal has committed them to disk. So whatever a
// venue knows of us, the journal knew first, and a process killed at any point restarts from the journal.
//
// Start-up and recovery are one path: open() replays the journal into a fresh OMS. Children that were in
// flight when the process died are then reconciled with their venues (a status query each, journaled)
// before anything new may be sent; client order ids continue after the highest ever used.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/order.hpp"
#include "oms/journal.hpp"
#include "oms/oms.hpp"
#include "oms/parent_lifecycle.hpp"
#include "oms/pre_trade.hpp"
#include "oms/until_durable.hpp"

namespace tranche::oms {

class OrderManager : public ExecutionListener {
 public:
  // Replays `journal` into the OMS. Every parent, child and cancel passes `gate` first. The sessions are the
  // venues requests go to (by venue id).
  static Result<std::unique_ptr<OrderManager>> open(const Config& config, Journal& journal,
                                                    PreTradeCheck& gate);

  void add_session(VenueSession* session) { sessions_.push_back(session); }
  // The session to the same venue replaced (a simulator built again); added when there was none.
  void replace_session(VenueSession* session) {
    for (auto*& s : sessions_)
      if (s->venue() == session->venue()) {
        s = session;
        return;
      }
    sessions_.push_back(session);
  }
  Oms& oms() { return oms_; }
  const Oms& oms() const { return oms_; }
  Journal& journal() { return journal_; }

  // --- commands: journaled, then applied; requests wait in the outbox for flush() ---
  Result<ParentId> accept_parent(ParentOrder parent, TimestampNs now_ns);  // id assigned when unset
  Status reject_parent(ParentOrder parent, std::string reason_code, std::string text, TimestampNs now_ns);
  Status cancel_parent(ParentId id, std::string reason, TimestampNs now_ns);  // cancels its open children too
  // What ended the parent (the facts); the parent lifecycle table (parent_lifecycle.hpp) decides its final
  // state, journaled with `text`. Refused for a pair the table does not have (a parent already done).
  Status end_parent(ParentId id, ParentEvent event, std::string text, TimestampNs now_ns);
  // Quantity, limit and end time (unset/0 keep). Refused below what is executed and in flight, for a parent
  // that is done, and by the risk gate as a new parent of that size would be.
  Status amend_parent(ParentId id, Qty new_qty, Price new_limit, TimestampNs new_end_ns, TimestampNs now_ns);
  // A child for a parent; its client order id is assigned here. Refused (nothing journaled) when it would
  // take its parent beyond its size, or while recovery has not reconciled the children in flight.
  Result<ClientOrderId> send_child(NewOrder order, TimestampNs now_ns);
  Status cancel_child(ClientOrderId id, TimestampNs now_ns);
  Status amend_child(ClientOrderId id, Price new_price, Qty new_qty, TimestampNs now_ns);
  Status record_denial(RiskDenial denial, TimestampNs now_ns);
  // The kill switch: engaging it cancels every open child in its scope (past any cancel rate check) and
  // blocks new ones, across restarts (it is journaled), until release_kill_switch with the same scope and
  // target.
  Status engage_kill_switch(KillScope scope, std::string target, std::string reason, TimestampNs now_ns);
  Status release_kill_switch(KillScope scope, std::string target, std::string reason, TimestampNs now_ns);
  Status record_note(std::string text, TimestampNs now_ns);
  Status record_algo_state(ParentId parent, std::string state, std::string detail, TimestampNs now_ns);

  // Commits the journal (one fsync for everything since the last flush), then hands the outbox to the
  // venues. Call it after handling each event. With the journal's writer thread (Journal::start_writer) the
  // commit is handed to that thread, and the requests wait until the records that made them are durable:
  // those already durable leave now, the rest with a later flush() or release_durable().
  Status flush();
  // With the journal's writer thread: hands to the venues the requests whose records are now durable.
  // Returns how many left.
  std::size_t release_durable();
  // Requests journaled and waiting for their records to be durable.
  std::size_t waiting_requests() const { return outbox_.size() + held_.size(); }

  // --- venue events ---
  void on_execution_report(const ExecutionReport& report) override;
  void on_venue_status(const VenueStatusReport& status) override;
  // The first journal or apply error met while handling venue events (they cannot return one).
  const Status& event_error() const { return event_error_; }

  // --- recovery ---
  // Queries the venue of every child the journal left in flight; new children are refused until each has
  // been answered (or `replies` have been applied by the caller). Returns how many were queried.
  Result<std::size_t> reconcile(TimestampNs now_ns);
  bool reconciling() const { return !awaiting_status_.empty(); }
  const std::vector<ClientOrderId>& awaiting_status() const { return awaiting_status_; }

  // The parents whose records (their own, their children's, their algo's) were recorded since the last
  // take, in the order recorded, repeats included: what the kernel looks at after an event, rather than
  // every working parent. Kept only once asked for (whoever asks takes them after each event).
  void collect_touched_parents() { collect_touched_ = true; }
  void take_touched_parents(std::vector<std::uint64_t>& into) {
    into.clear();
    into.swap(touched_);
  }

  // Crash testing: called at each point where a process could die ("append", "commit", "dispatch").
  void set_probe(std::function<void(const char* point)> probe) { probe_ = std::move(probe); }

 private:
  OrderManager(const Config& config, Journal& journal, PreTradeCheck& gate)
      : oms_(config), journal_(journal), gate_(gate) {}
  Status send_cancel(ClientOrderId id, TimestampNs now_ns);
  Status record(RecordBody body, TimestampNs now_ns);
  // The parent a record is about (0: none, or a child the OMS does not know).
  std::uint64_t parent_of(const RecordBody& body) const;
  VenueSession* session(const VenueId& venue) const;

  Oms oms_;
  Journal& journal_;
  PreTradeCheck& gate_;
  std::vector<VenueSession*> sessions_;
  std::vector<RecordBody> outbox_;  // requests journaled, waiting for the commit before they leave
  // With the writer thread: requests handed to it, each with the journal's last seq when it was handed
  // (every record that made it is at or before that seq).
  UntilDurable<RecordBody> held_;
  void dispatch(const RecordBody& body);
  std::vector<ClientOrderId> awaiting_status_;
  std::uint64_t next_client_order_id_ = 1;
  Status event_error_;
  Status broken_;  // set when a commit lost applied records: nothing more is recorded or sent
  std::function<void(const char*)> probe_;
  bool collect_touched_ = false;
  std::vector<std::uint64_t> touched_;
};

}  // namespace tranche::oms
