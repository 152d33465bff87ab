#pragma once
// The life of a child order as one table: (state, event) -> next state, with FIX order-status meaning. Every
// pair not in the table is an invalid transition, reported by the OMS and leaving the state as it was. The
// odd rows real venues produce are explicit rows, each with its reason.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/order.hpp"

namespace tranche::oms {

enum class ChildEvent : std::uint8_t {
  Ack,             // the venue accepted the order (ExecType New)
  PartialFill,     // a fill that leaves quantity open
  FullFill,        // a fill that completes the order
  CancelRequest,   // we asked to cancel
  Canceled,        // the venue canceled it (our request, or its own: closing, self-trade)
  ReplaceRequest,  // we asked to amend price or quantity
  Replaced,        // the venue amended it
  Rejected,        // the venue refused the new order
  Expired,         // the venue ended it (IOC/FOK remainder, market closed)
  CancelRejected,  // the venue refused our cancel (too late, unknown)
  ReplaceRejected  // the venue refused our amend
};
std::string_view to_string(ChildEvent event);

struct Transition {
  OrderStatus next;
  // Set on the rows that exist only because real venues do this; reported as a note, not an error.
  std::string_view oddity;
};

// One row of the table; `to_open` rows go back to New or PartiallyFilled.
struct LifecycleRow {
  OrderStatus state;
  ChildEvent event;
  OrderStatus next;
  bool to_open;
  std::string_view oddity;
};
std::span<const LifecycleRow> lifecycle_table();

// The next state, or nullopt when (state, event) is not a valid transition. `open_status` is the status the
// order goes back to when a pending request ends without changing it: New, PartiallyFilled when some of it
// has executed, or PendingNew when the venue never acknowledged it (a cancel that overtook the order).
std::optional<Transition> next_state(OrderStatus state, ChildEvent event, OrderStatus open_status);

// A child that can still trade or still has a request outstanding.
inline bool is_open(OrderStatus s) {
  return s == OrderStatus::PendingNew || s == OrderStatus::New || s == OrderStatus::PartiallyFilled ||
         s == OrderStatus::PendingCancel || s == OrderStatus::PendingReplace;
}

}  // namespace tranche::oms
