#include "ems/parent_execution.hpp"

namespace tranche::ems {

void ParentExecution::pause(TimestampNs now_ns) {
  algo_->pause(*this, now_ns);
}

void ParentExecution::resume(const AlgoMarket& market) {
  algo_->resume(*this, market);
}

Status ParentExecution::amend(const AlgoMarket& market, Qty qty, Price limit, TimestampNs end_ns) {
  // The algo's checks first (nothing recorded), then the OMS and the risk gate (recorded), then the algo
  // re-plans.
  const std::optional<Qty> base = qty.is_set() ? std::optional<Qty>(qty) : std::nullopt;
  if (auto s = algo_->can_amend(*this, market, base, limit, end_ns); !s) return s;
  if (auto s = manager_.amend_parent(parent_, qty, limit, end_ns, market.now_ns); !s) return s;
  return algo_->amend(*this, market, base, limit, end_ns);
}

Status ParentExecution::cancel(TimestampNs now_ns, const std::string& why) {
  if (algo_->done()) return make_error("the parent is done");
  // The OMS records the cancel and cancels the open children; the placer sees them pending cancel and sends
  // nothing twice.
  const Status s = manager_.cancel_parent(parent_, why, now_ns);
  algo_->cancel(*this, now_ns, why);
  return s;
}

ParentExecution::ParentExecution(oms::OrderManager& manager, Placer& placer, std::unique_ptr<Algo> algo,
                                 const oms::ParentOrder& parent, WakeFn wake)
    : manager_(manager),
      placer_(placer),
      algo_(std::move(algo)),
      parent_(parent.id),
      instrument_(parent.instrument),
      wake_(std::move(wake)) {}

std::size_t ParentExecution::submit(const Intent& intent, const AlgoMarket& market) {
  Intent in = intent;
  in.parent = parent_;
  in.instrument = instrument_;
  if (list_ != nullptr) {
    // A list's leg commits no more than its room: what it may execute beyond the others stays within the
    // list's limit, whatever is filled when.
    std::string why;
    const Qty room = list_->room(parent_, &why);
    const bool limited = in.qty > room;
    if (limited) {
      list_->note_clip();
      // Journaled as the limit begins to bind, not at each intent while it binds: how often is counted, and a
      // leg held for minutes would otherwise write a line for every slice it asked for.
      if (!limited_) {
        Text line(-1);
        line << "list " << list_->terms().id << ": " << (room.is_positive() ? "clipped " : "held back ")
             << in.qty.to_string() << (room.is_positive() ? " to " + room.to_string() : std::string()) << " ("
             << why << "); the list's limit binds";
        journal("list clip", line.str(), market.now_ns);
      }
    }
    limited_ = limited;
    if (!room.is_positive()) {
      // Held back: the intent stands, open and sending nothing, so the algo waits on it rather than asking
      // again on every event; the kernel cancels it once the list leaves room (release_held), and the algo
      // asks again. An ending algo's last sweeps cannot wait: each ends at once, unfilled.
      const bool wait = algo_->phase() != AlgoPhase::Ending;
      const std::size_t id = placer_.submit_held(in, wait, "held back by list " + list_->terms().id);
      intents_.push_back(id);
      if (wait) held_.push_back(id);
      return id;
    }
    if (limited) in.qty = room;
  }
  static const std::vector<VenueView> none;
  const std::size_t id = placer_.submit(in, market.views != nullptr ? *market.views : none, market.now_ns);
  intents_.push_back(id);
  if (list_ != nullptr) live_.push_back(id);
  return id;
}

void ParentExecution::cancel_intent(std::size_t intent, TimestampNs now_ns) {
  placer_.cancel(intent, now_ns);
}

const IntentState& ParentExecution::intent_state(std::size_t intent) const {
  return placer_.state(intent);
}

Qty ParentExecution::executed() const {
  const oms::ParentRecord* p = manager_.oms().parent(parent_);
  return p == nullptr ? Qty{} : p->executed;
}

bool ParentExecution::release_held(TimestampNs now_ns) {
  std::erase_if(held_, [&](std::size_t id) { return placer_.state(id).done; });  // canceled by the algo
  if (held_.empty() || list_ == nullptr || !list_->room(parent_).is_positive()) return false;
  for (std::size_t id : held_) placer_.cancel(id, now_ns);
  held_.clear();
  return true;
}

Qty ParentExecution::committed() const {
  // Intents once done with nothing left at the venues count no more: they leave the list.
  std::erase_if(
      live_, [&](std::size_t id) { return placer_.state(id).done && !placer_.in_flight(id).is_positive(); });
  Qty open;
  for (std::size_t id : live_) {
    const IntentState& st = placer_.state(id);
    const Qty flying = placer_.in_flight(id);
    open += st.done ? flying : std::max(flying, st.qty - st.filled);
  }
  // Children of no intent of its own (left by a process that died) count as well.
  return executed() + std::max(open, in_flight());
}

Qty ParentExecution::in_flight() const {
  const oms::ParentRecord* p = manager_.oms().parent(parent_);
  return p == nullptr ? Qty{} : p->in_flight;
}

void ParentExecution::wake_at(TimestampNs at_ns) {
  if (wake_) wake_(at_ns);
}

void ParentExecution::journal(const std::string& state, const std::string& detail, TimestampNs now_ns) {
  if (auto s = manager_.record_algo_state(parent_, state, detail, now_ns); !s.ok() && journal_error_.ok())
    journal_error_ = s;
}

void ParentExecution::release_intents() {
  for (std::size_t id : intents_) placer_.release(id);
  intents_.clear();
  live_.clear();
  held_.clear();
}

}  // namespace tranche::ems
