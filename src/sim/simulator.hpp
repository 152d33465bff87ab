#pragma once
// The multi-venue exchange simulator: a deterministic discrete-event loop on one thread. Recorded events of
// every venue's feeds are merged by receive time (the simulation clock); our requests, the venues' answers,
// delayed market data and timers are scheduled actions ordered by time, then by the order they were
// scheduled. At equal times a recorded event goes before an action. All randomness (latency draws, faults)
// comes from per-venue generators seeded from the scenario's seed, so one seed replays to the same bytes.
//
// What we see of a venue is its market data as it reaches us (after the market-data latency, in venue prices,
// net of our impact, with our own trades in it) and its execution reports (after the response latency and
// any injected faults). Requests reach the venue after the order or cancel latency and are decided there by
// SimVenue against the book of that moment.
#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/config.hpp"
#include "core/order.hpp"
#include "md/event.hpp"
#include "md/market_source.hpp"
#include "md/reader.hpp"
#include "sim/latency.hpp"
#include "sim/rng.hpp"
#include "sim/venue.hpp"

namespace tranche::sim {

// Which venue and listing a market-data event is about, and what the EMS side of a simulation receives
// (calls happen at simulation time; requests made from inside them are scheduled from that time): the
// interfaces every market source shares (md/market_source.hpp).
using MarketDataRef = md::MarketRef;
using SimListener = md::MarketListener;

struct SimOptions {
  std::optional<std::uint64_t> seed;  // overrides the scenario's
  TimestampNs start_ns = 0;           // overrides the scenario's window when non-zero
  TimestampNs end_ns = 0;
  std::vector<std::string> venues;  // only these venues (empty: all the config simulates)
  bool deliver_market_data = true;  // false: the listener gets reports and timers only
  // Every recorded time (receive and exchange clocks, the window, the fault windows) moved by this much: a
  // second lap of the same data on a clock that keeps running forward (tranche serve's on_data_end = replay).
  DurationNs time_offset_ns = 0;
  // Paper trading (`tranche serve --paper`): no recording is read. The venues open at `start_ns` (the wall
  // clock's now, required) and hear their live market through inject(); they never close for an end of data
  // and are not re-centred (each hears its own market). Orders fill against that book as against a recorded
  // one: the same latencies, queue model, fees and our own impact.
  bool live_feed = false;
};

// How often and by how much the venues' combined book was crossed (one venue's bid above another's ask),
// sampled every recentre_sample of simulation time while at least two venues had a book.
struct CrossingStats {
  std::uint64_t samples = 0;
  std::uint64_t crossed = 0;
  double mean_crossed_bps = 0;  // over the crossed samples, of the mid
  double max_crossed_bps = 0;
};

struct VenueRunStats {
  std::uint64_t events = 0;
  std::uint64_t unmapped_events = 0;  // recorded events of a symbol the venue does not list
  TimestampNs first_event_ns = 0;
  TimestampNs last_event_ns = 0;
  std::uint64_t shift_changes = 0;
  Price shift_min = Price::unset(), shift_max = Price::unset(), shift_last;
  std::uint64_t reports_delivered = 0;
  std::uint64_t reports_dropped = 0;       // by fault injection
  std::uint64_t reports_duplicated = 0;    // by fault injection
  std::uint64_t reports_lost = 0;          // while the session was disconnected
  std::uint64_t requests_refused = 0;      // not handed over: session down
  std::uint64_t orders_rejected = 0;       // by fault injection
  std::uint64_t market_data_withheld = 0;  // events that did not reach us in a stale window
  std::vector<std::string> notes;
};

// A recording that ends before the run's window does, or has a stretch the reader could not use (malformed or
// truncated records, a sequence gap): what every command that replays it reports, and refuses with
// --strict-data (docs/simulator.md). scan_data finds them all before a run; the check as each event is read
// costs two counter comparisons.
struct DataIssue {
  enum class Kind : std::uint8_t { EndsEarly, Malformed, Gap };
  Kind kind = Kind::Malformed;
  std::string venue;
  std::string files;
  TimestampNs at_ns = 0;    // receive clock: the last good event before it (EndsEarly: the last event)
  std::uint64_t count = 1;  // Malformed: records in the stretch
  std::string detail;       // the reader's first error, the gap's ids, how long before the window's end
  std::string to_string() const;
};
// The first issue, and how many more: what --strict-data refuses with. Empty when there is none.
std::string summarize(const std::vector<DataIssue>& issues);

class Simulator final : public md::MarketSource {
 public:
  // Mounts every venue of `config` that has a [venue.sim] section (or those `options.venues` names).
  static Result<std::unique_ptr<Simulator>> create(const Config& config, const SimOptions& options = {});
  // Reads every feed the simulator would replay, through the run's window, without replaying it: the data
  // issues a run would meet, known before it starts (decoding only, which is most of a replay's time: 0.9x on
  // the bundled data).
  static Result<std::vector<DataIssue>> scan_data(const Config& config, const SimOptions& options = {});
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  void set_listener(SimListener* listener) override { listener_ = listener; }

  // --- md::MarketSource ---
  std::size_t venue_count() const override { return venues_.size(); }
  const VenueConfig& venue_config(std::size_t v) const override { return venues_[v].venue->config(); }
  VenueState venue_state(std::size_t v) const override { return venues_[v].venue->state(); }
  const md::BookView* book(std::size_t v, const InstrumentId& instrument) const override;

  SimVenue& venue(std::size_t i) { return *venues_[i].venue; }
  const SimVenue& venue(std::size_t i) const { return *venues_[i].venue; }
  int venue_index(const VenueId& id) const override;
  const VenueRunStats& venue_stats(std::size_t i) const { return venues_[i].stats; }
  const CrossingStats& crossing() const { return crossing_; }
  std::uint64_t seed() const { return seed_; }
  TimestampNs start_ns() const { return start_ns_; }
  TimestampNs end_ns() const { return end_ns_; }
  const std::vector<std::string>& notes() const { return notes_; }
  static constexpr std::size_t kMaxDataIssues = 100;  // kept per scan

  // Our requests: they reach the venue after its latency. False when the session is down: the request is
  // not handed over and a Rejected report follows.
  bool send(std::size_t venue, NewOrder order);
  bool cancel(std::size_t venue, CancelOrder cancel);
  bool amend(std::size_t venue, AmendOrder amend);
  bool query(std::size_t venue, OrderStatusQuery query);
  void set_timer(TimestampNs at_ns, std::uint64_t id) override;

  // Faults on demand (tranche exchange's control endpoint, chaos tests), from the simulation's now:
  // - the session to `venue` goes down now and comes back `duration_ns` later, as a [venue.sim.faults]
  //   disconnect window does (requests refused, reports in flight lost, a status report at each end);
  void disconnect_for(std::size_t venue, DurationNs duration_ns);
  // - the next `count` cancels sent to `venue` are held at the venue once they arrive, until the recorded
  //   market fills their order or `max_hold_ns` has passed. A fill is reported first and the cancel is
  //   applied right after it: it cancels what is left, or is refused ("unknown order") when nothing is.
  //   Without a fill the cancel is applied at the end of the hold. The race is made by waiting, never by a
  //   fill the recorded market does not make.
  void hold_next_cancels(std::size_t venue, int count, DurationNs max_hold_ns);
  std::size_t held_cancels() const { return held_cancels_.size(); }

  TimestampNs now() const override { return now_; }
  // Processes the next event or action; false when nothing is left.
  bool step();
  // Processes everything at or before `until_ns`.
  void run_until(TimestampNs until_ns);
  // The same, but at most `max_steps` events and actions: false when it stopped short of `until_ns` (a
  // daemon answers its clients between such chunks, however much a moment of the replay holds).
  bool run_until(TimestampNs until_ns, std::size_t max_steps);
  DurationNs time_offset_ns() const { return offset_ns_; }
  // Whether recorded events are left to replay within the window.
  bool recording_left() const;
  // A live market event of `venue`'s listing `market` (SimOptions::live_feed), applied now: at its receive
  // time, or at now() when that is earlier (the clock never runs back). What is scheduled before it runs
  // first. False when the venue or market does not exist, or the simulator does not take a live feed.
  bool inject(std::size_t venue, std::size_t market, const md::Event& event);
  bool live_feed() const { return live_feed_; }
  void run();
  std::uint64_t recorded_events() const { return recorded_events_; }

 private:
  struct Feed {
    std::size_t venue = 0;
    std::unique_ptr<md::EventReader> reader;
    md::Event current;
    bool has = false;
    std::vector<int> stream_market;  // reader stream -> venue market, -1 unmapped, -2 not looked up yet
    std::string files;
    TimestampNs last_good_ns = 0;   // receive time of the last event read
    std::uint64_t errors_seen = 0;  // the reader's error count when last looked
    std::size_t gaps_seen = 0;      // the reader's gaps when last looked
    int open_stretch = -1;          // data_issues_ index of the malformed stretch still growing
  };
  struct BasisRing {
    std::vector<std::int64_t> diffs;  // reference mid minus this market's recorded mid, raw price units
    std::size_t next = 0, count = 0;
    std::int64_t sum = 0;
    int reference_market = -1;
  };
  struct VenueSlot {
    std::unique_ptr<SimVenue> venue;
    LatencyModel md_latency, order_latency, response_latency, cancel_latency;
    Rng rng;
    bool session_up = true;
    bool data_stale = false;  // a stale window of the faults: its market data does not reach us
    std::vector<OrderStatusQuery> parked_queries;  // asked while the session was down: sent when it is back
    std::size_t feeds_left = 0;
    bool closed_for_staleness = false;
    bool permanently_closed = false;
    std::vector<MarketDataRef> refs;
    std::vector<BasisRing> basis;  // per market, when recentred
    VenueRunStats stats;
    int cancels_to_hold = 0;  // hold_next_cancels
    DurationNs cancel_hold_ns = 0;
  };
  // How long after the end of the data timers are still delivered (see the Timer case in simulator.cpp).
  static constexpr DurationNs kTimersAfterEndNs = 60 * kNanosPerSecond;
  struct MarketDataDelivery {
    MarketDataRef ref;
    md::OwnedEvent event;
  };
  struct Control {
    enum class Kind : std::uint8_t { Open, Close, Halt, Resume, Disconnect, Reconnect, StaleStart, StaleEnd };
    Kind kind;
    std::string reason;
  };
  struct Timer {
    std::uint64_t id;
  };
  // The end of a held cancel's hold: applied then unless a fill released it earlier.
  struct HeldCancel {
    CancelOrder cancel;
  };
  struct Held {
    CancelOrder cancel;
    TimestampNs arrives_ns = 0;  // when it reached the venue: a release never applies it earlier
  };
  // An answer the gateway gives itself (a request it could not hand over): it never travelled, so a session
  // that is down does not lose it.
  struct LocalReport {
    ExecutionReport report;
  };
  using Payload =
      std::variant<NewOrder, CancelOrder, AmendOrder, OrderStatusQuery, ExecutionReport, VenueStatusReport,
                   MarketDataDelivery, Control, Timer, LocalReport, HeldCancel>;
  struct Scheduled {
    TimestampNs at_ns;
    std::uint64_t seq;
    std::uint32_t slot;
    bool operator>(const Scheduled& o) const { return at_ns != o.at_ns ? at_ns > o.at_ns : seq > o.seq; }
  };

  Simulator() = default;
  Status mount(const Config& config, const SimOptions& options);
  void schedule(TimestampNs at_ns, std::size_t venue, Payload payload);
  void run_action(const Scheduled& item);
  void run_recorded(Feed& feed);
  // A market event of venue `v`, recorded or live: counted, then applied to the venue's market `m` (a venue
  // closed for stale data reopens), told to the listener after the market-data latency, and what it made
  // possible done.
  void count_event(std::size_t v, TimestampNs recv_ns);
  void apply_market_event(std::size_t v, std::size_t m, const md::Event& event);
  bool next_event(Feed& feed);              // the feed's next recorded event, moved by the time offset
  void check_feed(Feed& feed, bool ended);  // data issues the last read showed
  bool add_issue(DataIssue issue);          // false past kMaxDataIssues
  void drain(std::size_t venue);
  void deliver_report(std::size_t venue, const ExecutionReport& report);
  void deliver_status(std::size_t venue, const VenueStatusReport& status);
  void deliver_market_data(std::size_t venue, std::size_t market, const md::Event& event);
  void publish_snapshot(std::size_t venue, std::size_t market);
  void sample(TimestampNs at_ns);
  void close_venue(std::size_t venue, std::string_view reason, bool permanent);
  bool refuse_if_down(std::size_t venue, const InstrumentId& instrument, ClientOrderId id, Side side,
                      ExecType refusal);
  int market_for(Feed& feed, const md::Event& event);

  std::vector<VenueSlot> venues_;
  std::vector<Feed> feeds_;
  std::vector<DataIssue> data_issues_;
  std::priority_queue<Scheduled, std::vector<Scheduled>, std::greater<>> queue_;
  std::vector<Payload> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<std::size_t> slot_venue_;
  std::uint64_t next_seq_ = 0;
  SimListener* listener_ = nullptr;
  bool deliver_market_data_ = true;
  bool live_feed_ = false;
  std::uint64_t seed_ = 1;
  TimestampNs start_ns_ = 0;
  TimestampNs end_ns_ = 0;
  DurationNs offset_ns_ = 0;
  TimestampNs now_ = 0;
  TimestampNs next_sample_ns_ = 0;
  DurationNs sample_ns_ = 100 * kNanosPerMilli;
  int reference_venue_ = -1;
  bool sampling_ = false;
  std::uint64_t recorded_events_ = 0;
  CrossingStats crossing_;
  double crossed_bps_sum_ = 0;
  // Cancels on their way, for the fill-after-cancel fault: client order id -> arrival at the venue.
  std::unordered_map<std::uint64_t, TimestampNs> cancels_in_flight_;
  // Cancels held by hold_next_cancels, by client order id.
  std::unordered_map<std::uint64_t, Held> held_cancels_;
  std::vector<md::Level> scratch_bids_, scratch_asks_;
  std::vector<md::Level> snapshot_bids_, snapshot_asks_;
  std::vector<std::string> notes_;
};

}  // namespace tranche::sim
