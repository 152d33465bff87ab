#include "oms/parent_lifecycle.hpp"

#include <array>

namespace tranche::oms {
namespace {

using S = ParentState;
using E = ParentEvent;

// clang-format off
constexpr std::array kTable = {
  // state           event                   next         why
  ParentLifecycleRow{S::Working,       E::CancelRequested,     S::PendingCancel, "its children are being canceled"},
  ParentLifecycleRow{S::Working,       E::ExecutedInFull,      S::Filled,        "executed in full"},
  ParentLifecycleRow{S::Working,       E::RemainderUnsendable, S::Filled,        "no venue takes what is left: the parent is done, and its text says what was left"},
  ParentLifecycleRow{S::Working,       E::AlgoEnded,           S::Expired,       "its horizon, its limit or the venues left it short"},
  ParentLifecycleRow{S::Working,       E::AlgoFailed,          S::Canceled,      "the server canceled what it could not work"},
  ParentLifecycleRow{S::Working,       E::MarketClosed,        S::Expired,       "the venues closed with it working"},
  ParentLifecycleRow{S::Working,       E::OrderRefused,        S::Rejected,      "a direct parent whose one order was refused never traded"},
  ParentLifecycleRow{S::PendingCancel, E::CancelRequested,     S::PendingCancel, "a cancel asked again"},
  ParentLifecycleRow{S::PendingCancel, E::CancelCompleted,     S::Canceled,      "canceled with what it had executed"},
  ParentLifecycleRow{S::PendingCancel, E::ExecutedInFull,      S::Filled,        "it filled before the cancel took effect"},
  ParentLifecycleRow{S::PendingCancel, E::RemainderUnsendable, S::Filled,        "it filled but for what no venue takes before the cancel took effect"},
  ParentLifecycleRow{S::PendingCancel, E::AlgoEnded,           S::Canceled,      "the cancel ends it, whatever else ended its algo"},
  ParentLifecycleRow{S::PendingCancel, E::AlgoFailed,          S::Canceled,      "the cancel ends it"},
  ParentLifecycleRow{S::PendingCancel, E::MarketClosed,        S::Canceled,      "the venues closed while its cancel was under way: canceled, as asked"},
};
// clang-format on

}  // namespace

std::string_view to_string(ParentEvent event) {
  switch (event) {
    case E::CancelRequested:
      return "cancel requested";
    case E::ExecutedInFull:
      return "executed in full";
    case E::RemainderUnsendable:
      return "remainder below what any venue takes";
    case E::AlgoEnded:
      return "algo ended short";
    case E::AlgoFailed:
      return "algo failed";
    case E::MarketClosed:
      return "market closed";
    case E::CancelCompleted:
      return "cancel completed";
    case E::OrderRefused:
      return "its order refused";
  }
  return "?";
}

std::span<const ParentLifecycleRow> parent_lifecycle_table() {
  return kTable;
}

std::optional<ParentState> next_parent_state(ParentState state, ParentEvent event) {
  for (const auto& row : kTable)
    if (row.state == state && row.event == event) return row.next;
  return std::nullopt;
}

}  // namespace tranche::oms
