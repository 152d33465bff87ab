#pragma once
// Execution algorithms: a parent order in, intents out to the placer (placer.hpp). An algo decides how much,
// by when and how urgently; the placer decides where and at what price. Algos are driven by the market as
// the EMS sees it, by their own executions and by timers they ask for, with the time always passed in, so
// the same objects run against the simulator and against live gateways.
//
// Most algos are a schedule: `target(t)` says how much of the parent should be executed by `t`, and the
// base class slices towards it (a passive slice each interval with its deadline at the next, catch-up when
// behind by more than the tolerance, never ahead by more than it). Iceberg and peg work the order directly.
// A new algo derives from `Algo` and registers a factory (`register_algo`); nothing in the core changes
// (examples/custom_algo shows one).
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/text.hpp"
#include "ems/placer.hpp"
#include "oms/records.hpp"

namespace tranche::ems {

enum class EndBehaviour : std::uint8_t {
  Finish,  // at the end time, what is left is crossed (within the limit)
  Leave,   // at the end time, what is left is left, and reported
};

// The shortest slice a trader may ask for: each slice is a wake and orders, so a parameter never makes the
// kernel spin or outrun a venue's order rate.
inline constexpr DurationNs kMinSliceNs = 100 * kNanosPerMilli;

// Every parameter a trader sets, parsed from the parent's key = value list (so they journal with it).
// Unknown keys and bad values are errors, never ignored. docs/algos.md lists them.
struct AlgoParams {
  TimestampNs start_ns = 0, end_ns = 0;  // the horizon; the parent's own start and end
  Price limit = Price::unset();          // the parent's limit
  Price would_price = Price::unset();    // take everything left, at once, when the market reaches it
  double min_participation = 0;          // share of others' volume since start; 0: none
  double max_participation = 0;          // 0: none
  Urgency urgency = Urgency::Passive;    // how scheduled slices are placed
  double randomize = 0.2;                // +-share of slice size and timing, against detection
  std::uint64_t seed = 1;
  EndBehaviour at_end = EndBehaviour::Finish;
  DurationNs slice_ns = 0;  // 0: the algo's default (horizon / 12, within 2 s and 60 s); >= kMinSliceNs
  double tolerance = 0.02;  // share of the parent the schedule may run ahead or behind before it acts
  double pov_rate = 0.1;    // pov: the target share of others' volume
  // pov and seek: at most this share of the parent is left for the final cross (a straight-line floor to
  // 1 - it by the end, caught up when behind beyond the tolerance); 1: no floor.
  double end_share = 0.1;
  // is: re-plan when the volatility or the depth moves beyond this factor from what the plan assumed; 0:
  // never.
  double replan_ratio = 1.5;
  double display = 0;    // iceberg: displayed base (0: the touch size at start); a Qty from the algo's edge
  int offset_ticks = 0;  // peg (and passive slices): 0 joins the touch, 1 improves it by a tick
  // Passive and pegged children read the venues' book signals (wait, pull, improve, cross on the
  // micro-price; docs/algos.md). The default follows the evidence there.
  bool signals = kSignalsByDefault;
  SignalParams signal;  // their thresholds: signal_wait_ticks, signal_pull_ticks, ...
  // is: Almgren-Chriss. Volatility in price units per sqrt(second) and impact in price per (base per second),
  // estimated from the data before the start when not given (0).
  double risk_aversion = 1e-6;  // lambda, per quote unit of variance
  double volatility = 0;
  double impact = 0;
  // seek: a venue's touch is an opportunity when the side it takes shows seek_size times its recent level,
  // or leans seek_imbalance toward being taken away; taken only when its spread is no wider than its recent
  // level and taking costs at most seek_max_cost bps more than resting (half the spread, and the taker fee
  // over the lowest maker fee of the venues it may rest on). "Recent" is a time-weighted average over
  // seek_lookback. The defaults were chosen on the bundled market (docs/algos.md, "seek").
  double seek_size = 6;
  double seek_imbalance = 2;  // above 1: off
  double seek_max_cost_bps = 5;
  DurationNs seek_lookback_ns = 30 * kNanosPerSecond;
  std::vector<double> profile;  // vwap: volume weights per equal bucket of the horizon (empty: recent volume)
  std::map<std::string, std::string> extra;  // keys a registered algo declared as its own
};

const char* to_string(EndBehaviour behaviour);

// Parses `params` for `algo`; `own_keys` are keys an added algo accepts beside the common ones.
Result<AlgoParams> parse_algo_params(const std::vector<oms::AlgoParam>& params,
                                     const std::vector<std::string>& own_keys = {});

// The market as the algo sees it: the best tradable prices across venues.
struct AlgoMarket {
  TimestampNs now_ns = 0;
  Price bid = Price::unset(), ask = Price::unset();
  Qty bid_base, ask_base;  // displayed at the best prices, all venues
  double tick = 0;
  const std::vector<VenueView>* views = nullptr;
  bool valid() const { return bid.is_set() && ask.is_set(); }
  double mid() const { return valid() ? (bid.to_double() + ask.to_double()) / 2 : 0; }
};
AlgoMarket algo_market(const std::vector<VenueView>& views, TimestampNs now_ns);
AlgoMarket algo_market(std::vector<VenueView>&& views, TimestampNs now_ns) = delete;  // it would dangle

// What an algo may ask of the EMS around it (ParentExecution in the product, a fake in tests).
class AlgoHost {
 public:
  virtual std::size_t submit(const Intent& intent, const AlgoMarket& market) = 0;
  virtual void cancel_intent(std::size_t intent, TimestampNs now_ns) = 0;
  virtual const IntentState& intent_state(std::size_t intent) const = 0;
  virtual Qty intent_in_flight(std::size_t intent) const = 0;  // base at the venues, not yet reported
  virtual Qty executed() const = 0;                            // base, every fill of the parent
  virtual Qty in_flight() const = 0;  // base, the parent's children still open at their venues
  virtual void wake_at(TimestampNs at_ns) = 0;
  virtual void journal(const std::string& state, const std::string& detail, TimestampNs now_ns) = 0;

 protected:
  ~AlgoHost() = default;
};

enum class AlgoPhase : std::uint8_t { Waiting, Working, Paused, Ending, Done };
const char* to_string(AlgoPhase phase);

// (time, value) pairs, oldest first: the kernel's recent market history as an algo reads it at its start.
using History = std::deque<std::pair<TimestampNs, double>>;

class Algo {
 public:
  Algo(std::string name, const oms::ParentOrder& parent, AlgoParams params);
  virtual ~Algo() = default;

  const std::string& name() const { return name_; }
  const AlgoParams& params() const { return params_; }
  AlgoPhase phase() const { return phase_; }
  bool done() const { return phase_ == AlgoPhase::Done; }
  const std::string& done_text() const { return done_text_; }
  bool completed() const { return completed_; }  // executed in full
  Qty qty() const { return qty_; }
  Side side() const { return side_; }
  Qty others_volume() const { return others_volume_; }  // base printed by others since the start
  // The schedule as the algo last computed it: base it wanted executed by now.
  Qty scheduled() const { return scheduled_; }

  // --- events, each with the market as it stands ---
  void on_start(AlgoHost& host, const AlgoMarket& market);
  void on_market(AlgoHost& host, const AlgoMarket& market);
  // `others_base`: the print in base as the market data gave it (an inverse print's base is a quotient).
  void on_trade(AlgoHost& host, const AlgoMarket& market, double others_base);
  void on_fill(AlgoHost& host, const AlgoMarket& market);
  void on_timer(AlgoHost& host, const AlgoMarket& market);
  // Levels a side the algo's market shows of each venue: the top of each book is what a schedule weighs; a
  // sweep sees as deep as it may take.
  virtual std::size_t view_depth() const { return 40; }
  // Whether it acts on market events (most do: a schedule watches its would-price, counts others' volume);
  // a sweep acts only on its children's reports and its timers, so the kernel builds it no market per event.
  virtual bool watches_market() const { return true; }
  // What of a book event (not a print) its on_market acts on, so that its host may tell without calling it:
  // every event (ending; an algo that reads the books), the best ask or bid reaching its would-price, or
  // none (waiting, paused, a schedule without a would-price). It changes only with the algo's phase and
  // terms, which its host learns of (each change is journaled).
  struct BookInterest {
    bool every = false;
    Price ask_at_or_below = Price::unset();
    Price bid_at_or_above = Price::unset();
    bool wants(const AlgoMarket& m) const {
      return every || (ask_at_or_below.is_set() && m.valid() && m.ask <= ask_at_or_below) ||
             (bid_at_or_above.is_set() && m.valid() && m.bid >= bid_at_or_above);
    }
  };
  BookInterest book_interest() const;
  // Whether a report of its children may make it act now (the kernel builds its market only then): a sweep
  // acts once its wave is over.
  virtual bool acts_on_report(const AlgoHost& host) const {
    (void)host;
    return true;
  }
  // Recent traded volume before the start, (time, base) pairs, and the benchmark mid, (time, mid) pairs
  // where it changed: what vwap's profile and is's estimates use. The kernel's own history, read in place.
  virtual void on_history(const History& prints, const History& mids) {
    (void)prints;
    (void)mids;
  }

  // --- lifecycle ---
  void pause(AlgoHost& host, TimestampNs now_ns);
  void resume(AlgoHost& host, const AlgoMarket& market);
  // Quantity (base), limit and end time; unset/0 keep. Refused below what is executed.
  Status amend(AlgoHost& host, const AlgoMarket& market, std::optional<Qty> qty, Price limit,
               TimestampNs end_ns);
  // Whether amend() would take it, changing nothing.
  Status can_amend(AlgoHost& host, const AlgoMarket& market, std::optional<Qty> qty, Price limit,
                   TimestampNs end_ns) const;
  void cancel(AlgoHost& host, TimestampNs now_ns, const std::string& why);

  // --- restart: the algo's own state as one line, journaled at each decision, and read back ---
  std::string save() const;
  void save_into(Text& out) const;
  Status restore(const std::string& saved);  // save()'s line, or a journaled detail holding one
  // The saved state in a journaled decision's detail (the algo's own records carry it after the marker; the
  // placer's decisions, journaled for the same parent, do not).
  static std::optional<std::string> saved_state_in(const std::string& detail);
  static constexpr const char* kStateMarker = " | state: ";
  // After restore() in a new process (the children the old one left are canceled by the caller): it picks
  // up where the journal says it stood and re-plans from what was executed.
  void on_restart(AlgoHost& host, const AlgoMarket& market);

 protected:
  // Schedules: the cumulative base wanted executed by `t` (a curve computed in double comes back through
  // base_from_model).
  virtual Qty target(TimestampNs t, const AlgoMarket& market) const;
  // Works the order towards the schedule (the base class slices); iceberg and peg override it.
  virtual void work(AlgoHost& host, const AlgoMarket& market);
  virtual DurationNs slice_ns() const;
  virtual bool reacts_to_trades() const { return false; }
  // A book changed while it works (after the would-price is checked): an algo that acts on what the books
  // show (seek) does it here.
  virtual void on_book(AlgoHost& host, const AlgoMarket& market) {
    (void)host;
    (void)market;
  }
  // Whether it overrides on_book (it acts on what the books show, on every event while it works).
  virtual bool reads_books() const { return false; }
  virtual bool works_on_fills() const { return false; }
  // Others' volume expected by t (the participation cap of the next slice): what was seen, unless the algo
  // forecasts it. A forecast, so a real number.
  virtual double expected_volume_by(TimestampNs t, const AlgoMarket& market) const {
    (void)t;
    (void)market;
    return others_volume_.to_double();
  }
  // Appends the subclass's own state as key=value; pairs (numbers only).
  virtual void save_more(Text& out) const { (void)out; }
  virtual void restore_more(const std::map<std::string, double>& from) { (void)from; }

  // Helpers for algos.
  // A base quantity a model computed (a schedule, a share of volume, a jittered slice), to the finest step:
  // the placer and the router round each child to its venue's lots, as they always did.
  static Qty base_from_model(double base) { return qty_from_real(base, kQtyStep, Rounding::Nearest); }
  Qty open_intents(AlgoHost& host);  // base on intents still working (done ones are dropped)
  void cancel_open_intents(AlgoHost& host, TimestampNs now_ns);
  std::size_t submit(AlgoHost& host, const AlgoMarket& market, Qty base, Urgency urgency,
                     TimestampNs deadline_ns, Price limit);
  Price within_limit(Price price) const;  // `price`, or the parent's limit where that is tighter
  double uniform();                       // [0, 1), seeded
  double jitter();                        // 1 +- randomize
  Qty min_slice(const AlgoMarket& market) const;
  void finish(AlgoHost& host, TimestampNs now_ns, bool completed, const std::string& text);
  void note(AlgoHost& host, const std::string& state, const std::string& detail, TimestampNs now_ns);

  std::string name_;
  Side side_;
  Qty qty_;
  AlgoParams params_;
  AlgoPhase phase_ = AlgoPhase::Waiting;
  std::vector<std::size_t> intents_;   // the intents this algo submitted that were working when last looked
  std::vector<std::size_t> draining_;  // done intents whose children still had base at the venues
  Qty others_volume_;
  Qty scheduled_;
  TimestampNs next_wake_ns_ = 0;
  std::uint64_t rng_;
  std::uint64_t end_waves_ = 0;
  TimestampNs last_sweep_ns_ = 0;
  bool paused_while_waiting_ = false;
  std::string done_text_;
  bool completed_ = false;

 private:
  void end_of_horizon(AlgoHost& host, const AlgoMarket& market);
  void wake_once(AlgoHost& host, TimestampNs at_ns);
  TimestampNs ending_wake_ns_ = 0;
  void check_done(AlgoHost& host, const AlgoMarket& market);
};

// The algos by name: the built-in ones and any registered.
using AlgoFactory =
    std::function<Result<std::unique_ptr<Algo>>(const oms::ParentOrder& parent, AlgoParams params)>;
void register_algo(const std::string& name, AlgoFactory factory, std::vector<std::string> own_keys = {});
std::vector<std::string> algo_names();  // sorted
Result<std::unique_ptr<Algo>> make_algo(const oms::ParentOrder& parent);
void register_builtin_algos();  // market, twap, vwap, pov, iceberg, is, peg, seek (algos.cpp); idempotent
void register_builtin_algo(const std::string& name, AlgoFactory factory);  // never replaces a registered one

}  // namespace tranche::ems
