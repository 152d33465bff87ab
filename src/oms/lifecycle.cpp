#include "oms/lifecycle.hpp"

#include <array>

namespace tranche::oms {
namespace {

using S = OrderStatus;
using E = ChildEvent;

// `Open` stands for "back to New or PartiallyFilled, whichever the executed quantity says".
constexpr S kOpen = S::Replaced;  // a marker only: Replaced is never a resting state here

struct Row {
  S state;
  E event;
  S next;
  std::string_view oddity;
};

// clang-format off
constexpr std::array kTable = {
  // state              event                next               why it exists, when it is odd
  Row{S::PendingNew,     E::Ack,             S::New,             {}},
  Row{S::PendingNew,     E::PartialFill,     S::PartiallyFilled, "fill before the ack: the ack comes late or never"},
  Row{S::PendingNew,     E::FullFill,        S::Filled,          "fill before the ack: the ack comes late or never"},
  Row{S::PendingNew,     E::Rejected,        S::Rejected,        {}},
  Row{S::PendingNew,     E::Expired,         S::Expired,         {}},  // IOC/FOK that found nothing
  Row{S::PendingNew,     E::Canceled,        S::Canceled,        "canceled by the venue before its ack"},
  Row{S::PendingNew,     E::CancelRequest,   S::PendingCancel,   {}},
  Row{S::PendingNew,     E::CancelRejected,  S::PendingNew,      "cancel reached the venue before the order"},

  Row{S::New,            E::Ack,             S::New,             "duplicate ack"},
  Row{S::New,            E::PartialFill,     S::PartiallyFilled, {}},
  Row{S::New,            E::FullFill,        S::Filled,          {}},
  Row{S::New,            E::CancelRequest,   S::PendingCancel,   {}},
  Row{S::New,            E::ReplaceRequest,  S::PendingReplace,  {}},
  Row{S::New,            E::Canceled,        S::Canceled,        "canceled by the venue unasked (closing, self-trade prevention)"},
  Row{S::New,            E::Expired,         S::Expired,         {}},
  Row{S::New,            E::CancelRejected,  S::New,             "cancel refused while the order stays open"},
  Row{S::New,            E::ReplaceRejected, S::New,             "amend refused while the order stays open"},

  Row{S::PartiallyFilled, E::Ack,            S::PartiallyFilled, "ack arriving after a fill"},
  Row{S::PartiallyFilled, E::PartialFill,    S::PartiallyFilled, {}},
  Row{S::PartiallyFilled, E::FullFill,       S::Filled,          {}},
  Row{S::PartiallyFilled, E::CancelRequest,  S::PendingCancel,   {}},
  Row{S::PartiallyFilled, E::ReplaceRequest, S::PendingReplace,  {}},
  Row{S::PartiallyFilled, E::Canceled,       S::Canceled,        "canceled by the venue unasked (closing, self-trade prevention)"},
  Row{S::PartiallyFilled, E::Expired,        S::Expired,         {}},
  Row{S::PartiallyFilled, E::CancelRejected, S::PartiallyFilled, "cancel refused while the order stays open"},
  Row{S::PartiallyFilled, E::ReplaceRejected, S::PartiallyFilled, "amend refused while the order stays open"},

  Row{S::PendingCancel,  E::Ack,             S::PendingCancel,   "ack arriving after our cancel request"},
  Row{S::PendingCancel,  E::PartialFill,     S::PendingCancel,   "fill after the cancel request: it traded on the way"},
  Row{S::PendingCancel,  E::FullFill,        S::Filled,          "fill after the cancel request: it traded on the way"},
  Row{S::PendingCancel,  E::Canceled,        S::Canceled,        {}},
  Row{S::PendingCancel,  E::Expired,         S::Expired,         {}},
  Row{S::PendingCancel,  E::Rejected,        S::Rejected,        "the order itself was refused while our cancel travelled"},
  Row{S::PendingCancel,  E::CancelRejected,  kOpen,              {}},
  Row{S::PendingCancel,  E::CancelRequest,   S::PendingCancel,   "cancel sent again"},

  Row{S::PendingReplace, E::Replaced,        kOpen,              {}},
  Row{S::PendingReplace, E::ReplaceRejected, kOpen,              "reject of an amend"},
  Row{S::PendingReplace, E::PartialFill,     S::PendingReplace,  "fill while the amend travelled"},
  Row{S::PendingReplace, E::FullFill,        S::Filled,          "fill while the amend travelled"},
  Row{S::PendingReplace, E::Canceled,        S::Canceled,        "canceled by the venue while the amend travelled"},
  Row{S::PendingReplace, E::Expired,         S::Expired,         {}},
  Row{S::PendingReplace, E::CancelRequest,   S::PendingCancel,   {}},

  Row{S::Filled,         E::Ack,             S::Filled,          "ack arriving after a fill"},
  Row{S::Filled,         E::CancelRejected,  S::Filled,          "cancel too late: the order had filled"},
  Row{S::Filled,         E::ReplaceRejected, S::Filled,          "amend too late: the order had filled"},
  Row{S::Filled,         E::CancelRequest,   S::Filled,          "cancel sent before the fill arrived"},

  Row{S::Canceled,       E::PartialFill,     S::Canceled,        "fill after the cancel was acknowledged"},
  Row{S::Canceled,       E::FullFill,        S::Canceled,        "fill after the cancel was acknowledged"},
  Row{S::Canceled,       E::CancelRejected,  S::Canceled,        "cancel sent twice"},
  Row{S::Canceled,       E::Canceled,        S::Canceled,        "cancel acknowledged twice"},
  Row{S::Canceled,       E::CancelRequest,   S::Canceled,        "cancel sent before the cancel ack arrived"},
  Row{S::Canceled,       E::ReplaceRejected, S::Canceled,        "amend too late: the order was canceled"},

  Row{S::Expired,        E::PartialFill,     S::Expired,         "fill report arriving after the expiry"},
  Row{S::Expired,        E::FullFill,        S::Expired,         "fill report arriving after the expiry"},
  Row{S::Expired,        E::CancelRejected,  S::Expired,         "cancel too late: the order had expired"},
  Row{S::Expired,        E::CancelRequest,   S::Expired,         "cancel sent before the expiry arrived"},
  Row{S::Expired,        E::Ack,             S::Expired,         "ack arriving after the expiry"},

  Row{S::Rejected,       E::Rejected,        S::Rejected,        "reject repeated"},
  Row{S::Rejected,       E::CancelRejected,  S::Rejected,        "cancel of an order the venue refused"},
  Row{S::Rejected,       E::CancelRequest,   S::Rejected,        "cancel sent before the reject arrived"},
};
// clang-format on

}  // namespace

std::string_view to_string(ChildEvent event) {
  switch (event) {
    case E::Ack:
      return "ack";
    case E::PartialFill:
      return "partial_fill";
    case E::FullFill:
      return "full_fill";
    case E::CancelRequest:
      return "cancel_request";
    case E::Canceled:
      return "canceled";
    case E::ReplaceRequest:
      return "replace_request";
    case E::Replaced:
      return "replaced";
    case E::Rejected:
      return "rejected";
    case E::Expired:
      return "expired";
    case E::CancelRejected:
      return "cancel_rejected";
    case E::ReplaceRejected:
      return "replace_rejected";
  }
  return "?";
}

std::span<const LifecycleRow> lifecycle_table() {
  static const auto rows = [] {
    std::array<LifecycleRow, kTable.size()> out{};
    for (std::size_t i = 0; i < kTable.size(); ++i)
      out[i] = {kTable[i].state, kTable[i].event, kTable[i].next == kOpen ? S::New : kTable[i].next,
                kTable[i].next == kOpen, kTable[i].oddity};
    return out;
  }();
  return rows;
}

std::optional<Transition> next_state(OrderStatus state, ChildEvent event, OrderStatus open_status) {
  for (const Row& row : kTable)
    if (row.state == state && row.event == event)
      return Transition{row.next == kOpen ? open_status : row.next, row.oddity};
  return std::nullopt;
}

}  // namespace tranche::oms
