#include "ems/parent_execution.hpp"

namespace tranche::ems {

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
  static const std::vector<VenueView> none;
  return placer_.submit(in, market.views != nullptr ? *market.views : none, market.now_ns);
}

void ParentExecution::cancel_intent(std::size_t intent, TimestampNs now_ns) {
  placer_.cancel(intent, now_ns);
}

const IntentState& ParentExecution::intent_state(std::size_t intent) const {
  return placer_.state(intent);
}

double ParentExecution::executed() const {
  const oms::ParentRecord* p = manager_.oms().parent(parent_);
  return p == nullptr ? 0 : p->executed.to_double();
}

double ParentExecution::in_flight() const {
  const oms::ParentRecord* p = manager_.oms().parent(parent_);
  return p == nullptr ? 0 : p->in_flight.to_double();
}

void ParentExecution::wake_at(TimestampNs at_ns) {
  if (wake_) wake_(at_ns);
}

void ParentExecution::journal(const std::string& state, const std::string& detail, TimestampNs now_ns) {
  if (auto s = manager_.record_algo_state(parent_, state, detail, now_ns); !s.ok() && journal_error_.ok())
    journal_error_ = s;
}

}  // namespace tranche::ems
