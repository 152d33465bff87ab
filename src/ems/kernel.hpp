#pragma once
// The kernel: every parent order, whatever drives it (`tranche execute`, `backtest`, `serve`, the tests),
// runs here and only here. Each parent is worked by its algo (market included) through one placer per
// instrument and the router, every child passes the risk gate and the journaled OMS, and the venues are
// reached through the OrderManager's sessions. The market comes in through md::MarketSource (books,
// trades, venue states, reports, timers): the simulator implements it, and so does gateway::LiveMarket. One
// thread; every call carries the time or reads it from the source's clock, nothing here reads a wall clock.
//
// The kernel decides what happened to a parent (executed in full, its algo ended short, the market closed,
// its cancel went through); the OMS's parent lifecycle table (oms/parent_lifecycle.hpp) decides what the
// parent became. What a front end tells its client (FIX, a report) it learns through a KernelObserver.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ems/algo_evidence.hpp"
#include "ems/list_balance.hpp"
#include "ems/market_meter.hpp"
#include "ems/parent_execution.hpp"
#include "ems/placer.hpp"
#include "ems/scorecard.hpp"
#include "md/market_source.hpp"
#include "oms/journal.hpp"
#include "oms/order_manager.hpp"
#include "risk/risk_gate.hpp"

namespace tranche::ems {

// How long a parent may look back at the market when its algo starts (vwap's profile, is's estimates).
inline constexpr DurationNs kHistoryNs = 30 * 60 * kNanosPerSecond;
// An algo still working this long after its end time is stopped.
inline constexpr DurationNs kGraceNs = 30 * kNanosPerSecond;

struct KernelOptions {
  std::vector<std::string> allowed_venues;  // where children may go (empty: every venue); all make the market
  // The venue whose mid is the benchmark (arrival, history); empty: the config's primary venue. An
  // instrument that venue does not list takes the first venue that does.
  std::string benchmark_venue;
  // Venue scorecards: each child sent and answered is counted, and a venue's realised latency replaces its
  // configured one once there is enough of it. nullptr: none kept.
  Scorecards* cards = nullptr;
  // The TCA of our own past parents, by algo and size (`--algo auto` corrects its estimates by it). nullptr:
  // auto chooses on the estimate alone.
  const AlgoEvidence* evidence = nullptr;
};

// What a front end hears of the kernel's parents. Every call comes after the kernel acted on the event.
class KernelObserver {
 public:
  // A market-data event, after the parents have seen it; `benchmark_mid`: the benchmark mid it left (set on
  // the benchmark venue's events, or every venue's with a consolidated benchmark, while there is one).
  virtual void on_market_event(const md::MarketRef& /*ref*/, const md::Event& /*event*/,
                               std::optional<double> /*benchmark_mid*/) {}
  // A report for a child of `parent` after the OMS applied it; `fresh_fill`: a fill not reported before
  // (a venue that repeats a fill is heard once), with its quantity in base units.
  virtual void on_child_report(ParentId /*parent*/, const ExecutionReport& /*report*/, bool /*fresh_fill*/,
                               double /*fill_base*/) {}
  // The parent reached a final state (the OMS has it).
  virtual void on_parent_ended(ParentId /*parent*/, TimestampNs /*now_ns*/) {}
  // After each event, once the journal has committed everything the event did: what the kernel did may be
  // told now (a client never hears of what a crash could take back).
  virtual void after_commit(TimestampNs /*now_ns*/) {}

 protected:
  ~KernelObserver() = default;
};

// What became of a list's legs (Kernel::submit_list).
struct ListSubmission {
  std::vector<ParentId> legs;   // by leg, the accepted ones' ids (zero: not accepted)
  Status refused;               // why the list was refused; the legs accepted before are being canceled
  std::size_t refused_leg = 0;  // the leg refused (the number of legs: the list as a whole)
};

class Kernel final : public md::MarketListener {
 public:
  Kernel(const Config& config, md::MarketSource& market, oms::OrderManager& manager, risk::RiskGate& gate,
         KernelOptions options = {});
  ~Kernel() override;
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  void set_observer(KernelObserver* observer) { observer_ = observer; }

  // --- parents ---
  // Requests from outside an event (a client's, a test's) take effect with the next settle(), which a
  // front end calls once it has queued its own answers (so a client hears of its request before its end).
  //
  // Accepts `parent` now (the OMS and the risk gate decide; its id is assigned) and starts its algo, which
  // waits for the parent's start time. Refused with the reason (the risk gate's denial is journaled).
  Result<ParentId> submit(oms::ParentOrder parent);
  // Accepts a list's legs (each a parent with the list's terms among its parameters, ems/list_balance.hpp)
  // together: all of them, or, when one is refused, none works (those accepted before it are canceled
  // before their algos start). A parent with list terms is refused by submit().
  ListSubmission submit_list(const std::vector<oms::ParentOrder>& legs);
  // Cancels a working parent: its algo stops, its children are canceled (retried while the gate's cancel
  // budget refuses); it ends once they are closed.
  Status cancel(ParentId parent, const std::string& why);
  // Quantity (base), limit and end time; unset/0 keep. The algo's checks, then the OMS and the gate.
  Status amend(ParentId parent, Qty qty, Price limit, TimestampNs end_ns);
  // Pauses a working parent (its children are canceled; nothing is sent until it resumes) and resumes it
  // (what fell due meanwhile is caught up).
  Status pause(ParentId parent);
  Status resume(ParentId parent);
  // Every working parent is canceled (a server stopping).
  void cancel_all(const std::string& why);

  bool working(ParentId parent) const;
  std::size_t working() const;  // parents not yet ended
  // Parents in memory: working, and ended ones the OMS still holds.
  std::size_t in_memory() const { return by_parent_.size(); }
  // The placers' intents in memory (an ended parent's leave with it).
  std::size_t intents_in_memory() const;
  // The parent's algo (its schedule, its phase); nullptr when it has none (not started, or failed).
  const Algo* algo(ParentId parent) const;
  // The parent's pre-trade estimate, made when its algo started (journaled as its algo state "estimate");
  // nullptr before, or when no benchmark mid showed then.
  const ParentEstimate* estimate(ParentId parent) const;
  // The venue whose mid is `instrument`'s benchmark (KernelOptions::benchmark_venue, or the first venue
  // listing it when that one does not), and whose prints make its interval VWAP.
  VenueId benchmark_venue(const InstrumentId& instrument) const;
  // An `auto` parent's choice (journaled as its algo state "auto"); nullptr for any other, or before it
  // chose.
  const AutoChoice* auto_choice(ParentId parent) const;
  // The list `id` (its legs, what it leans); nullptr when no leg of it was accepted.
  const ListBalance* list(const std::string& id) const;
  // The first error that stops the kernel from going on safely (a journal that cannot commit).
  const Status& error() const { return error_; }

  // After requests from outside an event (a client's): starts what was accepted, commits the journal and
  // lets the observer tell what is now durable.
  void settle() { after_event(); }
  // With the journal's writer thread (oms::Journal::start_writer): what became durable since the last call
  // goes out (requests to the venues, then the observer's after_commit). A front end calls it whenever the
  // writer says so, and in its loop.
  void on_durable();
  // An error from beside the kernel (a front end's own journal write) that stops it as its own would.
  void fail(const Status& s) { check(s); }

  // A call of `fn` at `at_ns` on the market's clock (a driver's own moments: a backtest's arrival).
  void call_at(TimestampNs at_ns, std::function<void(TimestampNs)> fn);

  // --- restart and the market's end ---
  // After a restart: the parents the journal left working are taken up where they stood (their algo's
  // saved state, a cancel under way), each once the OMS has reconciled its children.
  Status recover(const oms::Journal& journal);
  // The simulated venues live in this process: after a restart they are new, and the children a dead
  // process left on them are gone. Each is closed as the venue's cancel (journaled). Returns how many.
  std::size_t close_children_of_restarted_venues(const std::set<std::string>& outliving = {});
  // The venues closed (the recorded data ended): working parents stop and end with what they executed, once
  // their children are closed or 10 s later.
  void data_ended();
  bool market_closed() const { return market_closed_; }
  // A new market plays the venues (the data replayed again): the market is open.
  void reopen(md::MarketSource& market);

  // --- md::MarketListener ---
  void on_market_data(const md::MarketRef& ref, const md::Event& event) override;
  void on_execution_report(const ExecutionReport& report) override;
  void on_venue_status(const VenueStatusReport& status) override;
  void on_timer(std::uint64_t id, TimestampNs now_ns) override;

 private:
  struct Running;
  struct InstrumentState;

  Result<ParentId> submit_one(oms::ParentOrder parent);
  void start(Running& p);
  ListBalance& list_of(const ListTerms& terms);  // made with its first leg
  ListBalance::Progress leg_progress(ParentId leg) const;
  void price_leg(Running& p);       // its reference price, once a benchmark mid shows
  void balance(ListBalance& list);  // a pair's lagging leg catches up
  void estimate(Running& p, const Result<tca::MarketMeasure>& measured, const oms::ParentOrder& order);
  void begin_cancel(Running& p, const std::string& why);
  void sweep_cancels(Running& p);
  void maybe_end(Running& p);
  void end(Running& p, oms::ParentEvent event, const std::string& text);
  void after_event();
  // after_event looks at `p` (at the next event when a pass is on).
  void mark(Running& p);
  // Its watcher entry's interest, after its algo was called or something happened to it.
  void refresh_interest(Running& p);
  static bool looks_every_event(const Running& p);
  Running* find(ParentId parent);
  const Running* find(ParentId parent) const;
  InstrumentState& state_of(const InstrumentId& instrument);
  AlgoMarket market_now(const InstrumentId& instrument, int changed_venue = -1);
  std::vector<VenueView> views(const InstrumentId& instrument, std::size_t depth, int only_venue = -1) const;
  std::size_t depth_for(InstrumentState& st) const;
  // Our resting orders on `venue` at `price`, where the market's books hold them (else nothing).
  Qty own_at(const InstrumentState& st, const VenueId& venue, Side side, Price price) const;
  void fill_view_signals(const InstrumentState& st, VenueView& view, TimestampNs now_ns) const;
  std::optional<double> record_history(InstrumentState& st, const md::MarketRef& ref, const md::Event& event,
                                       double base);
  double fill_base(const ExecutionReport& report) const;
  void note_sent_children(Running& p);
  void set_timer(TimestampNs at_ns, std::uint64_t kind, std::uint64_t index);
  // A parent's timers name its slot and the slot's generation.
  std::uint64_t timer_index(std::size_t slot) const {
    return (static_cast<std::uint64_t>(slot_generation_[slot]) << 32) | slot;
  }
  Running* running_at(std::uint64_t timer_index);
  // An instrument's watcher (InstrumentState::watchers) still working with its algo; nullptr when not.
  Running* watching(std::uint64_t watcher);
  std::size_t place(std::unique_ptr<Running> p);  // into a free slot, or a new one
  // Ended parents the OMS has forgotten leave memory (looked at whenever it has forgotten more).
  void release_forgotten();
  void check(const Status& s);
  TimestampNs now() const { return market_->now(); }

  const Config& config_;
  md::MarketSource* market_;  // replaced by reopen()
  oms::OrderManager& manager_;
  risk::RiskGate& gate_;
  KernelOptions options_;
  KernelObserver* observer_ = nullptr;
  int benchmark_venue_ = -1;
  bool consolidated_benchmark_ = false;
  // By slot, the parents in memory: an ended parent's slot is freed once the OMS forgot it ([oms]
  // forget_ended_after) and taken by a later parent; a slot's generation tells a timer of its old parent
  // from one of the new.
  std::vector<std::unique_ptr<Running>> parents_;
  std::vector<std::uint32_t> slot_generation_;
  std::vector<std::size_t> free_slots_;
  std::vector<std::size_t> active_;                 // slots of parents not yet ended
  std::vector<std::size_t> ended_;                  // slots of ended parents still in memory
  std::uint64_t forgotten_seen_ = 0;                // the OMS's count of forgotten parents at the last look
  std::map<std::uint64_t, std::size_t> by_parent_;  // parent id -> slot
  std::vector<std::unique_ptr<InstrumentState>> instruments_;  // by index (placer timers)
  InstrumentState* last_state_ = nullptr;                      // the last one looked up
  std::map<std::string, TimestampNs> avoid_until_;             // venues that rejected us, until then
  std::map<std::string, TimestampNs>
      last_post_only_reject_;  // per venue: when a post-only order last crossed
  std::vector<std::function<void(TimestampNs)>> calls_;
  std::map<std::string, std::unique_ptr<ListBalance>> lists_;  // by list id
  bool market_closed_ = false;
  std::uint64_t durable_seen_ = 0;  // the journal's durable seq at the last on_durable()
  // The parents after_event looks at (Kernel::mark), by acceptance order and slot; the pass's own heap; the
  // OMS's touched parents, taken.
  struct Attention {
    std::uint64_t order = 0;
    std::size_t slot = 0;
  };
  std::vector<Attention> attention_, looking_;
  std::vector<std::uint64_t> touched_;
  std::uint64_t next_order_ = 1;
  bool ended_since_prune_ = false;  // a parent ended since `active_` was last pruned
  std::uint64_t ended_count_ = 0;   // parents ended (or their algo dropped): the watcher lists prune on it
  Status error_;
};

}  // namespace tranche::ems
