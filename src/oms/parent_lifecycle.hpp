#pragma once
// The life of a parent order as one table, like the child's (lifecycle.hpp): (state, event) -> next state.
// The kernel says what happened (the facts: executed in full, the algo ended short, the market closed, a
// cancel completed); the OMS decides what the parent became. Every pair not in the table is refused and
// leaves the parent as it was. A parent is Rejected only at its acceptance (OrderManager::accept_parent,
// the risk gate), or when the one order of a direct parent (`tranche sim order`) is refused.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "oms/records.hpp"

namespace tranche::oms {

enum class ParentEvent : std::uint8_t {
  CancelRequested,      // its owner (or the server) asked to cancel
  ExecutedInFull,       // its fills reached its size
  RemainderUnsendable,  // its algo is done with less left than any venue takes (a lot, a contract)
  AlgoEnded,            // its algo is done short of its size: its horizon, its limit, no venue to trade on
  AlgoFailed,           // its algo could not be made or resumed
  MarketClosed,         // the venues closed (the recorded data ended) while it worked
  CancelCompleted,      // a requested cancel went through: its children are closed
  OrderRefused,         // a direct parent's one order was refused (the gate, the OMS): it never traded
};
std::string_view to_string(ParentEvent event);

struct ParentLifecycleRow {
  ParentState state;
  ParentEvent event;
  ParentState next;
  std::string_view why;
};
std::span<const ParentLifecycleRow> parent_lifecycle_table();

// The next state, or nullopt when (state, event) is not a transition.
std::optional<ParentState> next_parent_state(ParentState state, ParentEvent event);

}  // namespace tranche::oms
