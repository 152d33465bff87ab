#pragma once
// The order and execution-report vocabulary that the EMS, OMS, simulator and every gateway exchange.
// Plain structs with inline ids: they cross queues and journals without allocating.
#include <cstdint>
#include <string_view>

#include "core/fixed_point.hpp"
#include "core/ids.hpp"
#include "core/side.hpp"
#include "core/time.hpp"

namespace tranche {

enum class OrderType : std::uint8_t { Limit, Market };

enum class TimeInForce : std::uint8_t {
  GoodTillCancel,
  ImmediateOrCancel,
  FillOrKill,
  PostOnly,  // rests as maker or is rejected; never takes
};

// FIX OrdStatus meanings (tag 39).
enum class OrderStatus : std::uint8_t {
  PendingNew,
  New,
  PartiallyFilled,
  Filled,
  PendingCancel,
  Canceled,
  PendingReplace,
  Replaced,
  Rejected,
  Expired,
};

// FIX ExecType meanings (tag 150); Trade carries a fill.
enum class ExecType : std::uint8_t {
  New,
  Trade,
  Canceled,
  Replaced,
  Rejected,
  Expired,
  PendingCancel,
  PendingReplace,
  CancelRejected,
  ReplaceRejected,
  OrderStatus,  // answer to a status query
};

enum class Liquidity : std::uint8_t { None, Maker, Taker };

// Why a venue (or the risk gate) refused something; stable codes so reports and tests can match them.
enum class RejectReason : std::uint8_t {
  None,
  PostOnlyWouldCross,
  PriceOffTick,
  QtyOffLot,
  BelowMinNotional,
  RateLimited,
  InsufficientBalance,
  UnknownOrder,
  VenueClosed,
  InvalidOrder,
  RiskDenied,
  Other,
};

std::string_view to_string(OrderType);
std::string_view to_string(TimeInForce);
std::string_view to_string(OrderStatus);
std::string_view to_string(ExecType);
std::string_view to_string(Liquidity);
std::string_view to_string(RejectReason);

// A child order as sent to one venue.
struct NewOrder {
  ClientOrderId client_order_id;
  ParentId parent_id;
  VenueId venue;
  InstrumentId instrument;
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  TimeInForce time_in_force = TimeInForce::GoodTillCancel;
  Price price = Price::unset();  // unset for market orders
  // In the listing's own unit: the base asset on linear listings, whole contracts on inverse ones (a COIN-M
  // ETHUSD contract is worth 10 USD); reports come back in the same unit.
  Qty qty;
  TimestampNs sent_ns = 0;
};

struct CancelOrder {
  ClientOrderId client_order_id;  // the order to cancel
  VenueId venue;
  InstrumentId instrument;
  TimestampNs sent_ns = 0;
};

// Amend price and/or quantity in place. Venues that cannot amend are served by cancel-replace in their
// gateway.
struct AmendOrder {
  ClientOrderId client_order_id;
  VenueId venue;
  InstrumentId instrument;
  Price new_price = Price::unset();
  Qty new_qty = Qty::unset();
  TimestampNs sent_ns = 0;
};

struct OrderStatusQuery {
  ClientOrderId client_order_id;
  VenueId venue;
  InstrumentId instrument;
  TimestampNs sent_ns = 0;
};

// Fees are charged in an asset: the quote currency on linear markets, the coin on inverse (COIN-M) ones.
struct Fee {
  Qty amount;  // negative = rebate
  FixedString<15> asset;
};

struct ExecutionReport {
  ClientOrderId client_order_id;
  VenueOrderId venue_order_id;
  ExecId exec_id;  // unique per venue; duplicates are recognised by it
  VenueId venue;
  InstrumentId instrument;
  ExecType exec_type = ExecType::New;
  OrderStatus status = OrderStatus::New;
  Side side = Side::Buy;
  Price order_price = Price::unset();
  Qty order_qty;
  Qty last_qty;  // this fill
  Price last_price = Price::unset();
  Qty cum_qty;
  Qty leaves_qty;
  Liquidity liquidity = Liquidity::None;
  Fee fee;
  RejectReason reject_reason = RejectReason::None;
  FixedString<95> text;         // a venue's own words on a reject
  TimestampNs venue_ns = 0;     // the venue's clock
  TimestampNs received_ns = 0;  // our clock
};

// Whether a venue takes orders, as its session reports it.
enum class VenueState : std::uint8_t {
  PreOpen,  // before trading starts (simulation: before the scenario's start)
  Open,
  Halted,        // trading halted by the venue: new orders rejected, nothing fills
  Closed,        // the venue closed (simulation: its data ended or went stale): resting orders canceled
  Disconnected,  // our session is down: requests cannot be handed over, reports may be lost
};
std::string_view to_string(VenueState);

struct VenueStatusReport {
  VenueId venue;
  VenueState state = VenueState::Open;
  FixedString<95> text;
  TimestampNs venue_ns = 0;
  TimestampNs received_ns = 0;
};

// What the EMS sends through to reach a venue: a real gateway or the simulator. Answers come back as
// ExecutionReports to the listener given at construction; a call returns false only when the request could
// not even be handed over (the reason in the report that follows).
class VenueSession {
 public:
  virtual ~VenueSession() = default;
  virtual VenueId venue() const = 0;
  virtual bool send(const NewOrder& order) = 0;
  virtual bool cancel(const CancelOrder& cancel) = 0;
  virtual bool amend(const AmendOrder& amend) = 0;
  virtual bool query(const OrderStatusQuery& query) = 0;
};

class ExecutionListener {
 public:
  virtual ~ExecutionListener() = default;
  virtual void on_execution_report(const ExecutionReport& report) = 0;
  virtual void on_venue_status(const VenueStatusReport& /*status*/) {}
};

}  // namespace tranche
