#pragma once
// The placer: one owner for every child order. An algo hands it an intent (side, quantity, limit, urgency and
// a deadline); the placer decides venues, prices and order types, sends the children through the OrderManager
// (so the risk gate and the journal see each one), tracks every child it sent, amends and cancels them
// itself, and never lets what is in flight across venues exceed the intent.
//
//  - Aggressive: the marketable router (router.hpp) splits the quantity across venues as IOC pieces.
//  - Passive: one resting child at the touch of the venue where it should fill soonest for the least:
//  expected
//    time to fill (the displayed queue ahead and the rate prints trade at that price), the maker fee or
//    rebate, and the adverse selection seen there (the venue's scorecard markouts). It keeps its place while
//    the touch holds, re-prices when the market moves away, and crosses when the deadline requires.
//  - Peg: rests at the touch and follows it, within the limit.
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/quantity.hpp"
#include "core/text.hpp"
#include "ems/router.hpp"
#include "ems/scorecard.hpp"
#include "oms/order_manager.hpp"

namespace tranche::ems {

enum class Urgency : std::uint8_t { Aggressive, Passive, Peg };
const char* to_string(Urgency urgency);

// Which venues smallest_sendable asks: those tradable now (what an algo can send to), or every venue listed.
enum class VenueScope : std::uint8_t { Tradable, Listed };
// The least base some venue in `scope` takes now on `side` (core's smallest_sendable of its listing at its
// touch: a lot, the lots reaching its minimum notional, or a contract); zero when none shows a price.
Qty smallest_sendable(const std::vector<VenueView>& views, Side side,
                      VenueScope scope = VenueScope::Tradable);

// How passive and pegged children read a venue's book signals (VenueSignals), for intents that ask
// (Intent::signals; algo parameters signal_*, docs/algos.md). All in ticks of the venue's own book; `toward`
// below is the micro-price's expected move of the mid away from a passive child (up for a buy): positive, the
// price is leaving it; negative, the market is about to trade through its level.
struct SignalParams {
  // Wait: a new child is held back while toward <= -wait_ticks (it would fill now, just before the price
  // moves through it), for at most max_wait_ns and never into the deadline's cross.
  double wait_ticks = 3.0;
  DurationNs max_wait_ns = 2 * kNanosPerSecond;
  // 0: a wait holds the child back. n: it rests n ticks behind the touch instead (where the price is
  // expected to go), kept there while the signal holds and for at most max_wait_ns. 1 by default: holding
  // back lost the maker fee on the slices it delayed (docs/algos.md).
  int wait_behind_ticks = 1;
  // Pull: a child resting at the touch is canceled when toward <= -pull_ticks (after min_rest_ns).
  double pull_ticks = 4.0;
  // Improve: with a spread of two ticks or more and toward >= improve_ticks, a new child rests a tick
  // inside the touch: ahead of the queue before the price leaves.
  double improve_ticks = 1.0;
  // Cross: a new child takes the far touch at once when toward exceeds the spread, the taker fee's excess
  // over the maker fee (in ticks) and this margin: waiting would cost more than crossing. Off (infinite) by
  // default: on the bundled market it never paid (docs/algos.md).
  double cross_margin_ticks = std::numeric_limits<double>::infinity();
  // Waits and pulls started per intent and minute, a token bucket holding ten seconds' worth: the signal
  // never makes a child churn.
  double actions_per_minute = 12;
  // Passive: a touch leaning against a resting side makes its prints come faster (the rate is multiplied by
  // 1 + weight x the imbalance toward the other side); the router's RouterParams::imbalance_weight.
  double imbalance_weight = 1.0;
};

// Whether passive and pegged children read the book signals unless an algo's `signals` parameter says
// otherwise: set by the evidence in docs/algos.md ("Placement on the book's signals").
inline constexpr bool kSignalsByDefault = false;

struct Intent {
  ParentId parent;
  InstrumentId instrument;
  Side side = Side::Buy;
  Qty qty;                       // base
  Price limit = Price::unset();  // unset: none
  Urgency urgency = Urgency::Aggressive;
  TimestampNs deadline_ns = 0;  // passive and peg cross for what is left at the deadline; 0: none
  int offset_ticks = 0;         // passive and peg: improve the touch by this many ticks (never crossing)
  // Aggressive: each venue's piece is held for the route's send delay so that all arrive at once (a sweep
  // across venues that reaches the fast one first shows the others our hand), and each piece is sized to the
  // parent's room as the OMS counts it when it leaves.
  bool arrive_together = false;
  // Passive and peg: read the chosen venue's book signals, with these thresholds.
  bool signals = false;
  SignalParams signal;
};

struct IntentState {
  Qty qty;     // base, as submitted
  Qty filled;  // base
  bool done = false;
  std::uint64_t children = 0;
  std::uint64_t reprices = 0;
  std::uint64_t crossed = 0;       // times it crossed for the deadline
  std::uint32_t refusals = 0;      // children refused in a row (risk gate, no room)
  TimestampNs retry_after_ns = 0;  // after a refusal, no new child before then
  std::string last_decision;
  // What the book signals made it do (SignalParams): children pulled, placements held back, children that
  // rested a tick inside the touch, and slices crossed at once.
  std::uint64_t signal_pulls = 0, signal_waits = 0, signal_improves = 0, signal_crosses = 0;
  double signal_tokens = -1;         // the rate budget left (-1: full, not yet used)
  TimestampNs signal_tokens_ns = 0;  // when it was last refilled
  TimestampNs wait_until_ns = 0;     // a wait on the signal lasts until then at most
  std::size_t wait_source = 0;       // the venue (source index) whose signal it waits on
};

// How a passive child is placed and moved.
struct PlacerParams {
  RouterParams router;
  int reprice_ticks = 1;  // re-price once the touch is this many ticks better than our price
  DurationNs cross_margin_ns = 2 * kNanosPerSecond;  // cross this long before the deadline
  double time_cost_bps_per_minute = 1.0;  // the price of waiting, to weigh time to fill against fees
  // A resting child is not moved sooner than this after it was placed (the deadline excepted): chasing every
  // tick would spend the venue's cancel budget and our place in every queue.
  DurationNs min_rest_ns = 250 * kNanosPerMilli;
  DurationNs cancel_retry_ns = 100 * kNanosPerMilli;
  // Commit the journal and hand requests to the venues after each call; false: the caller flushes (once per
  // event, as a driver handling many parents does).
  bool flush = true;
};

class Placer {
 public:
  Placer(const Config& config, oms::OrderManager& manager, PlacerParams params = {},
         const Scorecards* cards = nullptr);

  // Starts working an intent; its children leave after the OrderManager's next flush (done here).
  std::size_t submit(const Intent& intent, const std::vector<VenueView>& views, TimestampNs now_ns);
  // The market moved: passive and pegged children are kept, re-priced or crossed.
  // `changed`: the venue whose book moved (nullptr: any may have); children resting elsewhere are only
  // checked against their deadlines.
  void on_market(const std::vector<VenueView>& views, TimestampNs now_ns, const VenueId* changed = nullptr);
  // A print of others on a venue: the rate each side of its book trades at (the price is not used).
  void on_trade(const VenueId& venue, Side aggressor, Price price, double base, TimestampNs now_ns);
  // An execution report for one of our children (after the OrderManager has applied it).
  void on_report(const ExecutionReport& report);
  void cancel(std::size_t intent, TimestampNs now_ns);
  // Whether market events matter to it now: a passive or pegged intent is working (its children are kept,
  // re-priced or crossed on them). Aggressive sweeps act on their reports alone.
  bool watches_market() const;
  // Pieces held to arrive together ask the driver for a call to on_timer() at their time.
  void set_wake(std::function<void(TimestampNs at_ns)> wake) { wake_ = std::move(wake); }
  // An intent the placer does not work (a list leg's, held back by its list): `open`, it stands as submitted,
  // sending nothing, until it is canceled (so the algo waits on it); else it is of nothing and done at once.
  // `why` is its last decision.
  std::size_t submit_held(const Intent& intent, bool open, const std::string& why);
  // Sends the held pieces whose time has come, against the views as they stand.
  void on_timer(const std::vector<VenueView>& views, TimestampNs now_ns);

  const IntentState& state(std::size_t intent) const { return states_.at(intent); }
  std::size_t intent_count() const { return intents_.size(); }
  // The intent's parent left memory (the OMS forgot it: every child closed): what the intent holds is freed
  // and its id may be given to a later intent. Nothing of it is working or held by then.
  void release(std::size_t intent);
  std::size_t intents_in_memory() const { return intents_.size() - free_ids_.size(); }
  const Intent& intent(std::size_t id) const { return intents_.at(id); }
  // Expected seconds to fill `base` resting at `price` on a venue with `ahead` displayed before us.
  double expected_fill_seconds(const VenueId& venue, Side resting_side, double ahead, double base,
                               TimestampNs now_ns) const;

 private:
  struct Working {
    std::size_t intent;
    ClientOrderId child;
    VenueId venue;
    Price price;
    bool passive;
    bool cancel_sent = false;
    TimestampNs placed_ns = 0;
    TimestampNs cancel_tried_ns = 0;  // a refused cancel (rate budget) is tried again after a pause
    bool recheck =
        false;  // a pull held back (resting too briefly, or a cancel to retry): looked at on any event
    TimestampNs behind_until_ns = 0;  // rests behind the touch on the signal (not re-priced up) until then
  };
  struct Held {
    std::size_t intent;
    NewOrder order;
    TimestampNs send_at_ns;
  };
  struct TradeRate {
    double volume = 0;  // exponentially decayed base traded by aggressors
    TimestampNs last_ns = 0;
    bool seen = false;  // a print came
  };

  std::size_t new_intent(const Intent& intent);  // a slot for it, fresh
  void place_aggressive(std::size_t id, Qty qty, const std::vector<VenueView>& views, TimestampNs now_ns);
  void place_passive(std::size_t id, const std::vector<VenueView>& views, TimestampNs now_ns);
  // The micro-price's expected move of the mid away from a passive child of `side` on `v`, in ticks; nothing
  // when the venue's signals are not known and fitted or its touch is missing.
  static std::optional<double> toward(const VenueView& v, Side side);
  // Takes one action from the intent's signal budget; false when it is spent.
  bool take_signal_token(std::size_t id, TimestampNs now_ns);
  // Whether `v`'s signal still points through the touch, as a wait (or a rest behind) began on.
  static bool wait_signal_holds(const VenueView& v, const Intent& in);
  // Whether a wait on the signal holds the intent's next placement now.
  bool still_waiting(std::size_t id, const std::vector<VenueView>& views, TimestampNs now_ns) const;
  static void describe_signals(Text& out, const VenueSignals& s);
  Qty remaining(std::size_t id) const;
  Qty filled(std::size_t id) const;  // from the OMS: every fill of the intent's children, once each

 public:
  // Base the intent's children have at their venues and not yet reported filled.
  Qty in_flight(std::size_t id) const;
  // What our resting children show at `price` on `side` of `venue`'s book, in the venue's units (their open
  // quantity, as the OMS has it).
  Qty own_resting_units(const VenueId& venue, Side side, Price price) const;

 private:
  // Sends a child and journals the decision under `what` (nullptr: "place passive" or "place aggressive").
  void send(std::size_t id, NewOrder order, bool passive, TimestampNs now_ns, const char* what = nullptr);
  double rate_per_second(const VenueId& venue, Side resting_side, TimestampNs now_ns) const;
  bool already_canceling(Working& w) const;
  void settle_aggressive(std::size_t id);  // an aggressive intent with nothing working or held is done
  // A piece of an arrive-together sweep: within the parent's room as the OMS counts it (an inverse child
  // counts at its limit; bought below it, contracts are worth more base, so a buy is sized on the touch).
  void send_within_parent_room(std::size_t id, NewOrder order, const std::vector<VenueView>& views,
                               TimestampNs now_ns);

  Config config_;
  oms::OrderManager& manager_;
  PlacerParams params_;
  const Scorecards* cards_;
  std::vector<Intent> intents_;
  std::vector<IntentState> states_;
  std::vector<std::vector<ClientOrderId>> children_;                // every child each intent ever sent
  std::unordered_map<std::uint64_t, std::size_t> intent_of_child_;  // child -> its intent, while it is kept
  std::vector<std::size_t> free_ids_;                               // released intents' ids, to reuse
  std::vector<Working> working_;
  std::vector<Held> held_;
  std::function<void(TimestampNs)> wake_;
  std::vector<std::size_t> active_;  // intents not done
  // Beside each working child, at the same index, what a pass over them reads to skip one: a few bytes a
  // child, so a pass over a thousand reads a few cache lines where the entries themselves take hundreds.
  // Its intent's terms it rests under (fixed for the intent's life) are here, so that a pass over the working
  // children reads the intent only for those with something to do.
  struct WorkingHot {
    ClientOrderId child;
    TimestampNs deadline_ns = 0;
    std::uint32_t intent = 0;
    std::uint8_t venue = 0;  // venue_slot()
    bool aggressive = false;
    bool recheck = false;  // Working::recheck
    // Looked at on every event of its venue (a peg, a child reading the book signals or resting behind on
    // one); otherwise only once its venue's touch reaches reprice_at (set when placed) within its limit, or
    // the venue stops trading.
    bool every_event = false;
    bool indexed = false;  // in moves_ (index_moves)
    Price reprice_at = Price::unset();
    Side side = Side::Buy;
    Price limit = Price::unset();
  };
  std::vector<WorkingHot> hot_;
  std::vector<VenueId> venue_slots_;  // the venues children rest on, numbered in the order first met
  std::uint8_t venue_slot(const VenueId& venue);             // numbered now if it was not
  std::uint8_t find_venue_slot(const VenueId& venue) const;  // 255 when it has no number
  std::vector<std::uint8_t> done_;       // by intent, IntentState::done where a pass over children reads it
  std::vector<std::uint8_t> in_active_;  // by intent: in active_
  std::size_t live_passive_ = 0;         // intents in active_, not done, not aggressive (watches_market)
  void set_done(std::size_t id) {
    if (!done_[id] && in_active_[id] && intents_[id].urgency != Urgency::Aggressive) --live_passive_;
    states_[id].done = true;
    done_[id] = 1;
    if (working_count_[id] > 0) quiet_ok_ = false;  // its children are canceled, retried if refused
    pruned_ = false;
  }
  // Where the resting children would move, kept exact as they come and go: by venue slot, how many look at
  // every event, and for the rest the touches that would move them (a buy from its reprice_at up to its
  // limit, a sell from its reprice_at down to its limit); the earliest a child must cross for its deadline.
  // An event whose touch moves none of them, before that time, skips the pass over the children.
  struct MoveRange {
    std::size_t every = 0;
    std::multiset<Price::Raw> buy_from, buy_to, sell_from, sell_to;
  };
  std::vector<MoveRange> moves_;         // by venue slot
  std::multiset<TimestampNs> crossing_;  // deadline less the cross margin, of each indexed child with one
  std::size_t moves_overflow_ = 0;       // indexed children on the shared slot 255
  std::size_t recheck_count_ = 0;        // children with a pull held back: looked at on any event
  bool quiet_ok_ = false;                // no done intent's child may need its cancel tried again
  void index_moves(WorkingHot& hot);     // a passive child placed
  void unindex_moves(const WorkingHot& hot);
  void count_moves(const WorkingHot& hot, bool add);  // the two above: in or out of moves_ and crossing_
  bool no_child_moves(std::uint8_t slot, const VenueView* view, const Price touch_of[2],
                      TimestampNs now_ns) const;
  void make_idle(std::size_t id);             // into idle_, in submission order
  std::vector<std::uint32_t> working_count_;  // by intent: its entries in working_
  std::vector<std::uint64_t> seq_;            // by intent: its submission's number
  std::uint64_t submitted_ = 0;
  std::vector<std::size_t> idle_;       // intents with nothing working, in submission order
  std::vector<std::size_t> idle_pass_;  // scratch: the idle intents an on_market looks at
  bool pruned_ = true;                  // no intent done since active_ was last pruned
  // Where the touch must come for a resting child at `price` to be moved: reprice_ticks away, a raw unit
  // short of it (on_market's test is in doubles, and the index errs towards looking).
  Price reprice_at(Side side, Price price, const VenueListing& listing) const {
    const Price::Raw span = params_.reprice_ticks * listing.tick_size.raw();
    return Price::from_raw(side == Side::Buy ? price.raw() + span - 1 : price.raw() - span + 1);
  }
  // The intents with nothing working, looked at on each on_market; then done ones leave active_.
  void place_idle_and_prune(const std::vector<VenueView>& views, TimestampNs now_ns, bool sent_any);
  void place_idle(std::size_t id, const std::vector<VenueView>& views, TimestampNs now_ns, bool& sent_any);
  std::vector<TradeRate> rates_;  // by venue_slot() x 2 + the side of the resting orders hit (buy 0, sell 1)
};

}  // namespace tranche::ems
