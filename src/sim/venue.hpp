#pragma once
// One simulated venue: its listings (SimMarket each), its accounts, its rate limits and its state, and the
// answers it gives to our requests at the moment they reach it. The Simulator delivers requests on time and
// carries the answers back with their latency and faults; the venue only decides what happens.
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/config.hpp"
#include "core/order.hpp"
#include "md/event.hpp"
#include "sim/market.hpp"

namespace tranche::sim {

struct AssetBalance {
  std::string asset;
  Amount total;
  Amount locked;  // held for open orders (and, on margin accounts, open positions)
  Amount available() const { return total - locked; }
};

// A derivatives position on a margin account, in the listing's unit.
struct Position {
  Qty qty;             // signed: positive long
  Amount entry_value;  // what the open position cost, in the settlement asset (for its margin and P&L)
  Amount realized_pnl;
};

// A change of the public market the venue makes because of us: our trades and what they took from the book.
struct PublicChange {
  std::size_t market = 0;
  md::EventKind kind = md::EventKind::Trade;
  Side side = Side::Buy;  // Trade: the aggressor; BookDelta: the side of the level
  Price price;
  Qty qty;  // Trade: traded; BookDelta: the level's new displayed quantity
};

struct VenueCounters {
  std::uint64_t orders = 0;
  std::uint64_t cancels = 0;
  std::uint64_t amends = 0;
  std::uint64_t rejects = 0;
  std::uint64_t fills = 0;
  std::uint64_t maker_fills = 0;
  std::uint64_t taker_fills = 0;
};

class SimVenue {
 public:
  SimVenue(const VenueConfig& config, const std::vector<Instrument>& instruments);

  const VenueConfig& config() const { return config_; }
  const VenueSimConfig& sim() const { return sim_; }
  VenueState state() const { return state_; }
  std::size_t market_count() const { return markets_.size(); }
  SimMarket& market(std::size_t i) { return markets_[i]; }
  const SimMarket& market(std::size_t i) const { return markets_[i]; }
  // The market of a listing, or -1.
  int market_of(const InstrumentId& instrument) const;
  int market_of_symbol(std::string_view symbol) const;

  // Requests as they reach the venue.
  void on_new_order(const NewOrder& order, TimestampNs now_ns);
  void on_cancel(const CancelOrder& cancel, TimestampNs now_ns);
  void on_amend(const AmendOrder& amend, TimestampNs now_ns);
  void on_query(const OrderStatusQuery& query, TimestampNs now_ns);
  // A recorded event of one of its markets; fills of our resting orders are settled and reported.
  void on_market_event(std::size_t market, const md::Event& event);
  // Marks a cancel of ours as on its way (fault injection delivers fills made meanwhile after its ack).
  void note_cancel_sent(ClientOrderId id, TimestampNs sent_ns);

  // State changes: opening, halts, closing (resting orders canceled with the reason).
  void set_state(VenueState state, std::string_view reason, TimestampNs now_ns);

  const std::deque<AssetBalance>& balances() const { return balances_; }
  const AssetBalance* balance(std::string_view asset) const;
  const Position& position(std::size_t market) const { return positions_[market]; }
  const VenueCounters& counters() const { return counters_; }
  std::size_t open_order_count() const;

  // What the venue produced since the simulator last drained it.
  std::vector<ExecutionReport>& reports() { return reports_; }
  std::vector<VenueStatusReport>& statuses() { return statuses_; }
  std::vector<PublicChange>& public_changes() { return public_changes_; }

 private:
  struct TokenBucket {
    double capacity = 0;  // 0: unlimited
    double tokens = 0;
    TimestampNs last_ns = 0;
    bool take(TimestampNs now_ns);
  };

  ExecutionReport base_report(const InstrumentId& instrument, ClientOrderId id, TimestampNs now_ns) const;
  void reject(const NewOrder& order, RejectReason reason, std::string_view text, TimestampNs now_ns);
  void report_order(const OwnOrder& order, const InstrumentId& instrument, ExecType type, OrderStatus status,
                    TimestampNs now_ns, std::string_view text = {});
  void report_fill(OwnOrder& order, const InstrumentId& instrument, Price price, Qty qty, Liquidity liquidity,
                   TimestampNs now_ns);
  std::string validate(const SimMarket& market, Side side, OrderType type, Price price, Qty qty,
                       RejectReason& reason) const;

  // Accounting in the listing's settlement terms.
  Amount value_of(const VenueListing& listing, Price price, Qty qty) const;  // quote, or coin for inverse
  Amount lock_for(const VenueListing& listing, Side side, Price price, Qty qty) const;
  AssetBalance& lock_asset(const SimMarket& market, Side side);
  void relock(OwnOrder& order, const SimMarket& market);
  void settle_fill(std::size_t market, OwnOrder& order, Price price, Qty qty, Liquidity liquidity,
                   Amount& fee, std::string& fee_asset);
  AssetBalance& asset(const std::string& name);
  Amount position_margin(const std::string& asset) const;
  Amount available(const AssetBalance& balance) const;
  void settle_resting_fills(std::size_t market, TimestampNs now_ns);
  // Our order takes what the book shows up to `limit`: each level a fill, settled, reported and published.
  void take_as_taker(std::size_t market, OwnOrder& order, Price limit, TimestampNs now_ns);
  void finish(std::size_t market, ClientOrderId id, TimestampNs now_ns, ExecType type, OrderStatus status,
              std::string_view text);
  void remember(const OwnOrder& order, const InstrumentId& instrument, OrderStatus status);

  VenueConfig config_;
  VenueSimConfig sim_;
  VenueState state_ = VenueState::PreOpen;
  std::string state_reason_;
  std::vector<SimMarket> markets_;
  std::vector<std::string> base_assets_, quote_assets_;
  std::deque<AssetBalance> balances_;  // a deque: references to a balance survive adding another
  std::vector<Position> positions_;
  TokenBucket order_bucket_, cancel_bucket_;
  std::uint64_t next_order_number_ = 0;
  std::uint64_t next_exec_number_ = 0;
  std::uint64_t next_priority_ = 0;
  VenueCounters counters_;
  // Finished orders, for status queries and to tell a late cancel "unknown order" honestly.
  struct Finished {
    ClientOrderId id;
    InstrumentId instrument;
    OrderStatus status;
    Side side;
    Price price;
    Qty qty, cum_qty;
    std::uint64_t order_number;
  };
  std::unordered_map<std::uint64_t, Finished> finished_;
  std::vector<ExecutionReport> reports_;
  std::vector<VenueStatusReport> statuses_;
  std::vector<PublicChange> public_changes_;
  std::vector<md::Level> fills_scratch_;
};

}  // namespace tranche::sim
