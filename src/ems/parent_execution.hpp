#pragma once
// One parent order being worked by its algo: the AlgoHost the algo talks to. Intents go to the shared
// placer, executions and in-flight quantities are read from the OMS, decisions are journaled through the
// OrderManager, and the wakes the algo asks for are handed to the driver's clock (the simulator's timers,
// or a live event loop).
#include <functional>
#include <memory>
#include <vector>

#include "ems/algo.hpp"
#include "ems/list_balance.hpp"
#include "ems/placer.hpp"
#include "oms/order_manager.hpp"

namespace tranche::ems {

class ParentExecution final : public AlgoHost {
 public:
  using WakeFn = std::function<void(TimestampNs at_ns)>;
  ParentExecution(oms::OrderManager& manager, Placer& placer, std::unique_ptr<Algo> algo,
                  const oms::ParentOrder& parent, WakeFn wake);

  // The parent's lifecycle, through the OMS and the algo together.
  void pause(TimestampNs now_ns);
  void resume(const AlgoMarket& market);
  // Quantity (base), limit and end time; unset/0 keep. The OMS records the amend (the risk gate sees the new
  // size) before the algo re-plans on it; refused as a whole when either refuses.
  Status amend(const AlgoMarket& market, Qty qty, Price limit, TimestampNs end_ns);
  // Cancels the parent: its children are canceled; it ends canceled once they are closed.
  Status cancel(TimestampNs now_ns, const std::string& why);

  // The list the parent is a leg of (nullptr: none): each intent is clipped to the leg's room in it.
  void set_list(ListBalance* list) { list_ = list; }
  // Executed, plus what its open intents and its children at the venues may still fill: what a list counts
  // as committed.
  Qty committed() const;
  // The intents its list held back are canceled once the list leaves it room, so its algo asks again; true
  // when there were some.
  bool release_held(TimestampNs now_ns);

  Algo& algo() { return *algo_; }
  const Algo& algo() const { return *algo_; }
  ParentId parent() const { return parent_; }

  std::size_t submit(const Intent& intent, const AlgoMarket& market) override;
  void cancel_intent(std::size_t intent, TimestampNs now_ns) override;
  const IntentState& intent_state(std::size_t intent) const override;
  Qty intent_in_flight(std::size_t intent) const override { return placer_.in_flight(intent); }
  Qty executed() const override;
  Qty in_flight() const override;
  void wake_at(TimestampNs at_ns) override;
  void journal(const std::string& state, const std::string& detail, TimestampNs now_ns) override;
  const Status& check_journal() const { return journal_error_; }
  // The parent left memory: the placer frees what its intents held.
  void release_intents();

 private:
  oms::OrderManager& manager_;
  Placer& placer_;
  std::unique_ptr<Algo> algo_;
  ParentId parent_;
  InstrumentId instrument_;
  WakeFn wake_;
  Status journal_error_;
  std::vector<std::size_t> intents_;  // every intent it submitted
  ListBalance* list_ = nullptr;
  mutable std::vector<std::size_t> live_;  // a list leg's intents that may still fill (committed())
  std::vector<std::size_t> held_;          // intents held back by its list, open and waiting
  bool limited_ = false;                   // its last intent was clipped or held back by its list
};

}  // namespace tranche::ems
