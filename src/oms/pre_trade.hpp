#pragma once
// The pre-trade gate as the OMS sees it: every parent is checked before it is accepted, every child before
// it is journaled and sent, every cancel before it leaves. The OrderManager cannot be built without one, so
// no path sends an order around it. The risk layer implements it (risk::RiskGate).
#include <optional>

#include "core/order.hpp"
#include "oms/records.hpp"

namespace tranche::oms {

class Oms;

class PreTradeCheck {
 public:
  virtual ~PreTradeCheck() = default;
  // nullopt: it may go. Otherwise the denial, with a stable reason code and its text.
  virtual std::optional<RiskDenial> check_parent(const ParentOrder& parent, const Oms& oms,
                                                 TimestampNs now_ns) = 0;
  virtual std::optional<RiskDenial> check_child(const NewOrder& order, const Oms& oms,
                                                TimestampNs now_ns) = 0;
  virtual std::optional<RiskDenial> check_cancel(const CancelOrder& cancel, const Oms& oms,
                                                 TimestampNs now_ns) = 0;
};

}  // namespace tranche::oms
