#pragma once
// Our orders at Binance as the gateway knows them, and the one place where what Binance says of them becomes
// the core's ExecutionReports. Binance tells the same thing several ways (the answer to a request, the user
// data stream's executionReport, a query, myTrades), in any order and sometimes twice; this tracker turns
// them into one story per child:
//  - an acknowledgement once, before anything else;
//  - each trade once, by its trade id, and never past the order's quantity;
//  - an end (canceled, expired, rejected) only once every trade the venue counted has been told, so a
//    cancel never overtakes the fill it raced with;
//  - a cancel-replace (Binance's amend: the old order canceled, a new one with a new clientOrderId) told as
//    one Replaced, the new order's quantity being what the old one left.
// Pure logic, no I/O: the session feeds it and sends what it returns.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/config.hpp"
#include "core/order.hpp"

namespace tranche::gateway::binance {

struct TradeFact {
  std::int64_t trade_id = 0;
  Qty qty;
  Price price;
  Qty commission;
  std::string commission_asset;
  bool maker = false;
};

// What one venue message says about one order.
struct OrderFacts {
  std::string client_order_id;  // the Binance order's clientOrderId
  std::int64_t order_id = 0;    // Binance's orderId; 0 when not told
  std::optional<OrderStatus> status;
  Qty executed = Qty::unset();        // executedQty of that Binance order
  Qty quote_executed = Qty::unset();  // cummulativeQuoteQty: with `executed`, the average price
  std::optional<TradeFact> trade;
  TimestampNs venue_ns = 0;
  RejectReason reject_reason = RejectReason::None;
  std::string text;
};

// What the tracker needs from the session after a fact: trades it has not heard of yet (the venue counts
// more executed than it was told of), fetched by myTrades for that order.
struct Applied {
  bool known = true;          // false: the order is not one of ours, or not one we know (nothing emitted)
  bool needs_trades = false;  // fetch this order's trades: the venue executed more than we were told
  bool repeated = false;      // the fact's trade was told before (the same trade id): counted once
  std::int64_t order_id = 0;
  std::string problem;  // set when a fact was refused (an overfill): said by the session, never applied
};

class OrderTracker {
 public:
  OrderTracker(const VenueConfig& venue, std::string prefix);

  // A new child about to be sent: its Binance clientOrderId.
  std::string on_new(const NewOrder& order);
  // A cancel-replace about to be sent for `child`: the new order's clientOrderId and the quantity it must
  // carry (what the child leaves at its new total); nullopt when the child is unknown, done, or the new total
  // is not above what is executed.
  struct Replace {
    std::string cancel_id;  // the current order's clientOrderId
    std::string new_id;
    Qty new_order_qty;
    Price price;
  };
  std::optional<Replace> on_amend(const AmendOrder& amend);
  // An amend in place (Binance futures' modify, PUT /fapi/v1/order): the order keeps its ids, its new total
  // and price are sent. nullopt as for on_amend.
  struct Modify {
    std::string id;  // the order's clientOrderId (unchanged)
    std::int64_t order_id = 0;
    Qty new_order_qty;  // the order's new total (what the venue's order executed stays counted)
    Price price;
  };
  std::optional<Modify> on_modify(const AmendOrder& amend);
  // The venue took a modify (its answer, or the user stream's AMENDMENT): told once as Replaced, the child's
  // price and total now the new ones. False when no modify was pending for that order.
  bool modified(const OrderFacts& facts, std::vector<ExecutionReport>& out);
  // The current clientOrderId of a child (for a cancel or a query); nullopt when not known here.
  std::optional<std::string> current_id(const ClientOrderId& child) const;
  bool knows(const ClientOrderId& child) const { return orders_.count(child.value()) != 0; }

  Applied apply(const OrderFacts& facts, std::vector<ExecutionReport>& out);
  // The venue refused a new order outright (an error answer).
  void rejected(const ClientOrderId& child, RejectReason reason, const std::string& text,
                std::vector<ExecutionReport>& out);
  // A cancel or a cancel-replace was refused; the order goes on as it was.
  void cancel_refused(const ClientOrderId& child, RejectReason reason, const std::string& text,
                      std::vector<ExecutionReport>& out);
  // (a refused modify too)
  void replace_refused(const ClientOrderId& child, RejectReason reason, const std::string& text,
                       std::vector<ExecutionReport>& out);
  // The answer to a status query: the venue's word, after every trade it counted has been told.
  Applied status(const OrderFacts& facts, std::vector<ExecutionReport>& out);
  // A query's answer that the venue does not know the order (trusted only once it could no longer arrive).
  void unknown(const ClientOrderId& child, std::vector<ExecutionReport>& out);
  // An order of ours the venue showed us (at a restart): tracked from here on, its chain's earlier executions
  // counted as already told (the journal has them).
  void adopt(const ClientOrderId& child, const NewOrder& order, const std::string& current_id,
             std::int64_t order_id, Qty executed_before_current, Qty told);

  // Children still open here.
  std::vector<ClientOrderId> open_children() const;
  std::size_t size() const { return orders_.size(); }

 private:
  struct Tracked {
    NewOrder order;  // its quantity: the child's total, across cancel-replaces
    std::string current_id;
    std::int64_t order_id = 0;
    int replace_count = 0;
    Qty executed_before_current;  // by the orders a cancel-replace ended
    Qty told;                     // trades reported
    Notional told_notional;
    bool acked = false;
    bool done = false;
    OrderStatus ended_as = OrderStatus::Canceled;  // once done: how it was told to end
    std::optional<Replace> replacing;
    bool modifying = false;  // a modify in place sent, not yet answered
    Price replacing_price = Price::unset();
    Qty replacing_total = Qty::unset();
    std::optional<OrderFacts> end_waiting;  // an end that came before all its trades
    std::unordered_set<std::int64_t> trades;
  };
  // The child `amend` names, when it can take an amend now (known, acknowledged, not done, none pending, its
  // new total above what is filled), with that total and price; null otherwise.
  Tracked* amendable(const AmendOrder& amend, Qty& total, Price& price);
  ExecutionReport base(const Tracked& t, ExecType type, OrderStatus status) const;
  void finish(Tracked& t, const OrderFacts& end, std::vector<ExecutionReport>& out);
  Tracked* find(const OrderFacts& facts);

  const VenueConfig& venue_;
  std::string prefix_;
  std::unordered_map<std::uint64_t, Tracked> orders_;
  std::unordered_map<std::string, std::uint64_t> by_id_;         // every clientOrderId of every chain
  std::unordered_map<std::int64_t, std::uint64_t> by_order_id_;  // Binance orderIds
};

}  // namespace tranche::gateway::binance
