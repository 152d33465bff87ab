#include "core/order.hpp"

namespace tranche {

std::string_view to_string(OrderType type) {
  switch (type) {
    case OrderType::Limit:
      return "limit";
    case OrderType::Market:
      return "market";
  }
  return "?";
}

std::string_view to_string(TimeInForce tif) {
  switch (tif) {
    case TimeInForce::GoodTillCancel:
      return "gtc";
    case TimeInForce::ImmediateOrCancel:
      return "ioc";
    case TimeInForce::FillOrKill:
      return "fok";
    case TimeInForce::PostOnly:
      return "post_only";
  }
  return "?";
}

std::string_view to_string(OrderStatus status) {
  switch (status) {
    case OrderStatus::PendingNew:
      return "pending_new";
    case OrderStatus::New:
      return "new";
    case OrderStatus::PartiallyFilled:
      return "partially_filled";
    case OrderStatus::Filled:
      return "filled";
    case OrderStatus::PendingCancel:
      return "pending_cancel";
    case OrderStatus::Canceled:
      return "canceled";
    case OrderStatus::PendingReplace:
      return "pending_replace";
    case OrderStatus::Replaced:
      return "replaced";
    case OrderStatus::Rejected:
      return "rejected";
    case OrderStatus::Expired:
      return "expired";
  }
  return "?";
}

std::string_view to_string(ExecType type) {
  switch (type) {
    case ExecType::New:
      return "new";
    case ExecType::Trade:
      return "trade";
    case ExecType::Canceled:
      return "canceled";
    case ExecType::Replaced:
      return "replaced";
    case ExecType::Rejected:
      return "rejected";
    case ExecType::Expired:
      return "expired";
    case ExecType::PendingCancel:
      return "pending_cancel";
    case ExecType::PendingReplace:
      return "pending_replace";
    case ExecType::CancelRejected:
      return "cancel_rejected";
    case ExecType::ReplaceRejected:
      return "replace_rejected";
    case ExecType::OrderStatus:
      return "order_status";
  }
  return "?";
}

std::string_view to_string(Liquidity liquidity) {
  switch (liquidity) {
    case Liquidity::None:
      return "none";
    case Liquidity::Maker:
      return "maker";
    case Liquidity::Taker:
      return "taker";
  }
  return "?";
}

std::string_view to_string(RejectReason reason) {
  switch (reason) {
    case RejectReason::None:
      return "none";
    case RejectReason::PostOnlyWouldCross:
      return "post_only_would_cross";
    case RejectReason::PriceOffTick:
      return "price_off_tick";
    case RejectReason::QtyOffLot:
      return "qty_off_lot";
    case RejectReason::BelowMinNotional:
      return "below_min_notional";
    case RejectReason::RateLimited:
      return "rate_limited";
    case RejectReason::InsufficientBalance:
      return "insufficient_balance";
    case RejectReason::UnknownOrder:
      return "unknown_order";
    case RejectReason::VenueClosed:
      return "venue_closed";
    case RejectReason::InvalidOrder:
      return "invalid_order";
    case RejectReason::RiskDenied:
      return "risk_denied";
    case RejectReason::Other:
      return "other";
  }
  return "?";
}

std::string_view to_string(VenueState state) {
  switch (state) {
    case VenueState::PreOpen:
      return "pre_open";
    case VenueState::Open:
      return "open";
    case VenueState::Halted:
      return "halted";
    case VenueState::Closed:
      return "closed";
    case VenueState::Disconnected:
      return "disconnected";
  }
  return "?";
}

}  // namespace tranche
