#pragma once
// The OMS: what happened. Parent and child orders, every execution, positions and P&L, all a projection of
// the journal's records: `apply` is the one path for live records and for replay, so start-up and crash
// recovery are the same code.
//
// Units. Parents are in the instrument's base asset (ETH). A child is in its listing's unit: the base asset
// on linear listings, whole contracts on inverse ones (a COIN-M ETHUSD contract is 10 USD). A child counts
// against its parent at its limit price: contracts x contract size / limit, so an inverse child must carry a
// price; fills count the same way, so what a child executes never exceeds what it was sent for. Positions
// and P&L use the real economics of each fill (an inverse fill of N contracts at P is N x size / P of base).
//
// Invariants, checked after every record (a breach calls the invariant handler, which by default prints the
// context and aborts: a broken OMS must not keep trading):
//  - no child executes more than its quantity;
//  - a parent's executed plus in-flight quantity never exceeds its size;
//  - the sum of a parent's child fills equals its executed quantity and notional, and its fees by asset;
//  - a position equals the sum of its fills.
//
// Memory. An ended parent leaves memory with its children, their fills and histories once every child is
// closed and [oms] forget_ended_after has passed since it ended, on the records' own clock: a replay of the
// journal forgets the same parents at the same records, so recovery is still the same code. A forgotten
// fill still counts in its position (and in verify()'s check of it); queries for a forgotten parent read the
// journal (find_in_journal). Anomalies, oddities and denials keep the latest [oms] keep_recent in memory
// and count every one.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/config.hpp"
#include "core/order.hpp"
#include "oms/journal.hpp"
#include "oms/lifecycle.hpp"
#include "oms/records.hpp"

namespace tranche::oms {

struct ChildOrder {
  NewOrder order;  // as sent; price and qty follow accepted amends
  OrderStatus status = OrderStatus::PendingNew;
  // The venue said it holds the order (an ack, a fill, an amend). Until then a refused cancel or amend puts
  // it back to pending new, where the order's own reject may still come.
  bool venue_has_it = false;
  VenueOrderId venue_order_id;
  Qty cum_qty;                           // listing units
  Notional cum_notional;                 // price x listing qty
  Qty cum_base;                          // what it executed, counted against its parent
  Price pending_price = Price::unset();  // an amend on its way
  Qty pending_qty = Qty::unset();
  std::map<std::string, Amount> fees;  // by asset
  TimestampNs last_update_ns = 0;
  Qty in_flight_base;  // what its open remainder counts against its parent
  // The most the venue has said it executed (CumQty of any report). A cancel ack can say 1 executed before
  // that fill's own report arrives; until it does, that quantity stays in flight.
  Qty venue_cum;
  // The venue's CumQty a status booked as one fill (fills we had not heard of, see OrderStatus): a fill
  // report that arrives later with a CumQty at or below it is one of those, already counted.
  Qty booked_by_status;
  // Its share of the exposure aggregates (what refresh_in_flight last added).
  bool counted_open = false;
  Notional counted_notional;
  // Its entry in the OMS's open-order view while open (kNotInView when not): found without a search.
  static constexpr std::size_t kNotInView = static_cast<std::size_t>(-1);
  std::size_t open_view_pos = kNotInView;
  Qty leaves_qty() const { return order.qty - cum_qty; }
  bool open() const { return is_open(status); }
};

struct ParentRecord {
  ParentOrder order;
  ParentState state = ParentState::Working;
  TimestampNs accepted_ns = 0;
  TimestampNs done_ns = 0;
  std::string done_text;
  Qty executed;                // base
  Qty in_flight;               // base: open children's remainders
  Notional executed_notional;  // quote: sum of each fill's price x base quantity
  std::map<std::string, Amount> fees;
  std::vector<ClientOrderId> children;
  Price average_price() const {
    return executed.is_positive() ? executed_notional.average_price(executed) : Price::unset();
  }
};

struct Fill {
  std::uint64_t seq = 0;  // the journal record
  ClientOrderId child;
  ParentId parent;
  VenueId venue;
  InstrumentId instrument;
  AccountId account;
  Side side = Side::Buy;
  Price price;
  Qty qty;          // listing units
  Qty base_qty;     // the real base quantity (inverse: contracts x size / price)
  Qty counted_qty;  // what it counted against its parent (inverse: at the child's price then)
  Liquidity liquidity = Liquidity::None;
  Fee fee;
  ExecId exec_id;
  TimestampNs venue_ns = 0;
  TimestampNs received_ns = 0;
};

// Netting position of one account in one instrument.
struct Position {
  AccountId account;
  InstrumentId instrument;
  Qty qty;                // signed base quantity
  Notional cost;          // signed: what the open quantity cost (price x qty), for the average entry
  Notional realized_pnl;  // quote, before fees
  std::map<std::string, Amount> fees;
  Price average_entry() const;
  // Unrealized P&L against a mark, in quote.
  double unrealized_pnl(Price mark) const;
};

// A record that did not fit the table: an invalid transition, a duplicate execution, a report for an order
// we never sent. Kept, counted, never silently dropped.
struct Anomaly {
  std::uint64_t seq = 0;
  ClientOrderId child;
  std::string kind;  // "invalid_transition", "duplicate_execution", "unknown_order", ...
  std::string text;
};

// An odd-but-valid row of the lifecycle table that happened (fill after cancel, late ack...).
struct Oddity {
  std::uint64_t seq = 0;
  ClientOrderId child;
  std::string text;
};

// What is open and in flight on one venue or for one account: the risk gate's counters, kept as children
// change so a check never walks the order history.
struct Exposure {
  int open_orders = 0;
  Notional in_flight_notional;  // quote: open children's remaining quantity at their price (contracts x size)
};

// Open buying and selling interest of one account in one instrument, in base units at the children's prices.
struct InstrumentExposure {
  Qty buy_in_flight;
  Qty sell_in_flight;
};

// An open child as the self-trade check needs it, kept in one small contiguous list.
struct OpenOrderView {
  ClientOrderId id;
  VenueId venue;
  InstrumentId instrument;
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  Price price;
};

class Oms {
 public:
  using InvariantHandler = std::function<void(const std::string& context)>;

  explicit Oms(const Config& config);
  // Whether ended parents leave memory after the horizon (on by default where the config says so); the
  // journal's own commands keep everything.
  void keep_everything() { forget_after_ns_ = 0; }
  // Ended parents past the horizon at `now_ns` leave memory (looked at once a second of time at most). Every
  // record applied does this at its own time; a quiet market's clock may too, so an idle server lets go as
  // well (what a replay forgets at its next record).
  void forget_ended(TimestampNs now_ns);

  // Applies one record. Errors are records that cannot be applied at all (a child for a parent that does not
  // exist, a listing the config does not have); state is unchanged then.
  Status apply(const Record& record);

  // A breach of an invariant: default prints the context to stderr and aborts.
  void set_invariant_handler(InvariantHandler handler) { on_breach_ = std::move(handler); }
  // Every invariant over the whole state (what `tranche journal verify` runs); the first breach's context.
  Status verify() const;

  // Whether sending this child now keeps its parent within its size (the check before journaling a send).
  Status can_send(const NewOrder& order) const;

  // --- queries ---
  const ParentRecord* parent(ParentId id) const;
  const ChildOrder* child(ClientOrderId id) const;
  const std::map<std::uint64_t, ParentRecord>& parents() const { return parents_; }
  const std::map<std::uint64_t, ChildOrder>& children() const { return children_; }
  std::vector<const ChildOrder*> children_of(ParentId id) const;
  std::vector<const ChildOrder*> children_in(OrderStatus status) const;
  std::vector<const ChildOrder*> children_on(const VenueId& venue) const;
  std::vector<const ChildOrder*> open_children() const;
  const std::vector<Fill>& fills() const { return fills_; }
  std::vector<const Fill*> fills_of(ClientOrderId child) const;
  const std::map<std::pair<std::string, std::string>, Position>& positions() const { return positions_; }
  const Position* position(const AccountId& account, const InstrumentId& instrument) const;
  // The latest [oms] keep_recent of each, oldest first; the totals count every one since the journal began.
  const std::deque<Anomaly>& anomalies() const { return anomalies_; }
  const std::deque<Oddity>& oddities() const { return oddities_; }
  const std::deque<RiskDenial>& denials() const { return denials_; }
  std::uint64_t anomalies_total() const { return anomalies_total_; }
  std::uint64_t oddities_total() const { return oddities_total_; }
  std::uint64_t denials_total() const { return denials_total_; }
  // What left memory (ended parents past the horizon, their children and fills).
  struct Forgotten {
    std::uint64_t parents = 0;
    std::uint64_t children = 0;
    std::uint64_t fills = 0;
  };
  const Forgotten& forgotten() const { return forgotten_; }
  // Every record that touched one order, in journal order (seq numbers).
  const std::vector<std::uint64_t>& history(ClientOrderId child) const;
  // What the parent has in flight (base units): open children's remaining quantity at their prices.
  Qty in_flight(ParentId id) const;
  // The next ids never used: client order ids are never reused, across restarts too.
  std::uint64_t next_client_order_id() const { return max_client_order_id_ + 1; }
  std::uint64_t next_parent_id() const { return max_parent_id_ + 1; }
  std::uint64_t records_applied() const { return records_applied_; }
  std::uint64_t last_seq() const { return last_seq_; }

  // --- exposure, for the risk gate (lookups never allocate) ---
  const Exposure& venue_exposure(std::string_view venue) const;
  const Exposure& account_exposure(std::string_view account) const;
  InstrumentExposure instrument_exposure(std::string_view account, std::string_view instrument) const;
  // Open children, by id (the small set self-trade prevention scans).
  const std::set<std::uint64_t>& open_child_ids() const { return open_ids_; }
  const std::vector<OpenOrderView>& open_orders() const { return open_view_; }
  // Net change of each asset on a venue from our fills (base and quote for linear listings, fees in any
  // asset).
  Amount venue_flow(std::string_view venue, std::string_view asset) const;
  // The kill switch: whether new orders for this account on this venue are blocked, and why.
  bool blocked(const AccountId& account, const VenueId& venue, std::string* why = nullptr) const;
  const std::vector<KillSwitchChange>& kill_switches() const { return kill_switches_; }

  // Base quantity a child quantity stands for against its parent (at `price`), and the listing behind it.
  Result<Qty> base_of(const VenueId& venue, const InstrumentId& instrument, Qty qty, Price price) const;

 private:
  const VenueListing* listing(const VenueId& venue, const InstrumentId& instrument) const;
  Status apply_execution(const Record& record, const ExecutionReport& report);
  void apply_fill(const Record& record, ChildOrder& child, ParentRecord& parent,
                  const ExecutionReport& report);
  void transition(const Record& record, ChildOrder& child, ChildEvent event);
  OrderStatus open_status(const ChildOrder& child) const {
    if (child.cum_qty.is_positive()) return OrderStatus::PartiallyFilled;
    return child.venue_has_it ? OrderStatus::New : OrderStatus::PendingNew;
  }
  void check_parent(const ParentRecord& parent, std::uint64_t seq) const;
  // Whether a fill's fee is one the sums can take (within a billion units, no overflow).
  bool fee_fits(Amount fee, const std::string& asset, const ChildOrder& child,
                const ParentRecord& parent) const;
  // Recounts what one child has in flight against its parent after it changed.
  void refresh_in_flight(ChildOrder& child);
  Qty count_in_flight(ParentId id) const;  // from scratch, for verify()
  void check_position(const Position& position, std::uint64_t seq) const;
  void breach(const std::string& context) const;
  void anomaly(std::uint64_t seq, ClientOrderId child, std::string kind, std::string text);
  void oddity(std::uint64_t seq, ClientOrderId child, std::string text);
  void note_ended(const ParentRecord& parent);

  DurationNs forget_after_ns_ = 0;
  int keep_recent_ = 0;
  // Ended parents, oldest end first, until they are forgotten.
  std::deque<std::pair<TimestampNs, std::uint64_t>> ended_;
  TimestampNs last_forget_check_ns_ = 0;
  Forgotten forgotten_;
  // Per position (account, instrument): the signed base quantity of its fills that left memory.
  std::map<std::pair<std::string, std::string>, Qty> forgotten_position_base_;
  std::uint64_t anomalies_total_ = 0;
  std::uint64_t oddities_total_ = 0;
  std::uint64_t denials_total_ = 0;

  Config config_;
  InvariantHandler on_breach_;
  std::map<std::uint64_t, ParentRecord> parents_;
  std::map<std::uint64_t, ChildOrder> children_;
  std::vector<Fill> fills_;
  std::map<std::pair<std::string, std::string>, Position> positions_;
  struct ExecKey {
    VenueId venue;
    ExecId exec;
    bool operator==(const ExecKey&) const = default;
  };
  struct ExecKeyHash {
    std::size_t operator()(const ExecKey& k) const {
      return std::hash<VenueId>{}(k.venue) * 31 + std::hash<ExecId>{}(k.exec);
    }
  };
  std::unordered_set<ExecKey, ExecKeyHash> exec_ids_;
  std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> history_;
  // Deques: the latest keep_recent_ exactly, the oldest let go one by one (a vector trimmed in halves held up
  // to twice as many, and moved them all in one block at each doubling).
  std::deque<Anomaly> anomalies_;
  std::deque<Oddity> oddities_;
  std::deque<RiskDenial> denials_;
  std::map<std::string, VenueStatusReport> venue_status_;
  std::map<std::string, Exposure, std::less<>> venue_exposure_;
  std::map<std::string, Exposure, std::less<>> account_exposure_;
  template <class V>
  using ByName = std::map<std::string, V, std::less<>>;     // found by string_view, without allocating
  ByName<ByName<InstrumentExposure>> instrument_exposure_;  // account -> instrument
  std::set<std::uint64_t> open_ids_;
  std::vector<OpenOrderView> open_view_;
  ByName<ByName<const Position*>> position_index_;  // account -> instrument, into positions_
  ByName<ByName<Amount>> venue_flows_;              // venue -> asset
  std::vector<KillSwitchChange> kill_switches_;     // engaged ones
  bool killed_global_ = false;
  std::uint64_t max_client_order_id_ = 0;
  std::uint64_t max_parent_id_ = 0;
  std::uint64_t records_applied_ = 0;
  std::uint64_t last_seq_ = 0;
};

// A parent as the journal has it, through the OMS's own rules: its records (from `from_seq` on, where its
// acceptance is) and its children's, applied to a fresh OMS that keeps everything. For a parent that left
// memory; it reads the journal through, so it costs what the journal is long. nullopt: no such parent.
Result<std::optional<ParentRecord>> parent_from_journal(const Config& config, const Journal& journal,
                                                        ParentId id, std::uint64_t from_seq = 1);

}  // namespace tranche::oms
