#include "sim/simulator.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace tranche::sim {
namespace {

constexpr TimestampNs kNever = std::numeric_limits<TimestampNs>::max();

std::string join(const std::vector<std::string>& files) {
  std::string out;
  for (const auto& f : files) out += (out.empty() ? "" : ", ") + f;
  return out;
}

bool is_ack(ExecType type) {
  return type == ExecType::New || type == ExecType::Canceled || type == ExecType::Replaced ||
         type == ExecType::Expired;
}

}  // namespace

Simulator::~Simulator() = default;

Result<std::unique_ptr<Simulator>> Simulator::create(const Config& config, const SimOptions& options) {
  std::unique_ptr<Simulator> sim(new Simulator());
  if (auto status = sim->mount(config, options); !status) return make_error(status.message());
  return sim;
}

Result<std::vector<DataIssue>> Simulator::scan_data(const Config& config, const SimOptions& options) {
  auto created = create(config, options);
  if (!created) return created.error();
  Simulator& sim = **created;
  for (Feed& feed : sim.feeds_)
    while (feed.has && (sim.end_ns_ == 0 || feed.current.recv_ns <= sim.end_ns_))
      feed.has = sim.next_event(feed);
  std::vector<DataIssue> issues = std::move(sim.data_issues_);
  std::stable_sort(issues.begin(), issues.end(),
                   [](const DataIssue& a, const DataIssue& b) { return a.at_ns < b.at_ns; });
  return issues;
}

Status Simulator::mount(const Config& config, const SimOptions& options) {
  const ScenarioConfig scenario = config.scenario.value_or(ScenarioConfig{});
  seed_ = options.seed.value_or(scenario.seed);
  offset_ns_ = options.time_offset_ns;
  start_ns_ = options.start_ns != 0 ? options.start_ns : scenario.start_ns;
  end_ns_ = options.end_ns != 0 ? options.end_ns : scenario.end_ns;
  if (start_ns_ != 0) start_ns_ += offset_ns_;
  if (end_ns_ != 0) end_ns_ += offset_ns_;
  live_feed_ = options.live_feed;
  if (live_feed_ && options.start_ns <= 0)
    return make_error("a live feed needs its start (the wall clock's now)");
  if (live_feed_) {
    // No recorded window: the venues trade from now until the process ends.
    start_ns_ = options.start_ns;
    end_ns_ = 0;
  }
  if (end_ns_ != 0 && end_ns_ <= start_ns_) return make_error("the run's end must come after its start");
  sample_ns_ = scenario.recentre_sample_ns;
  deliver_market_data_ = options.deliver_market_data;

  for (const auto& name : options.venues) {
    const VenueConfig* venue = config.venue(VenueId(name));
    if (venue == nullptr) return make_error("venue '" + name + "' is not in " + config.source);
    if (!venue->sim)
      return make_error("venue '" + name + "' has no [venue.sim] section: the simulator cannot play it");
  }
  for (const auto& vc : config.venues) {
    if (!vc.sim) continue;
    if (!options.venues.empty() &&
        std::find(options.venues.begin(), options.venues.end(), vc.id.str()) == options.venues.end())
      continue;
    VenueSlot slot;
    slot.venue = std::make_unique<SimVenue>(vc, config.instruments);
    slot.md_latency = LatencyModel(vc.sim->market_data_latency);
    slot.order_latency = LatencyModel(vc.sim->order_latency);
    slot.response_latency = LatencyModel(vc.sim->response_latency);
    slot.cancel_latency = LatencyModel(vc.sim->cancel_latency);
    // Each venue draws from its own stream, so a fault on one venue does not move another's latencies.
    slot.rng.reseed(seed_ * 0x100000001B3ull + venues_.size() + 1);
    for (std::size_t m = 0; m < slot.venue->market_count(); ++m)
      slot.refs.push_back(
          {venues_.size(), m, vc.id, slot.venue->market(m).listing().instrument, &slot.venue->market(m)});
    slot.basis.resize(slot.venue->market_count());
    venues_.push_back(std::move(slot));
  }
  if (venues_.empty()) return make_error(config.source + ": no venue has a [venue.sim] section to simulate");

  if (config.scenario && !config.scenario->recentre_reference.empty() && !live_feed_)
    reference_venue_ = venue_index(VenueId(config.scenario->recentre_reference));
  const std::size_t window =
      static_cast<std::size_t>(scenario.recentre_window_ns / scenario.recentre_sample_ns);
  for (std::size_t v = 0; v < venues_.size(); ++v) {
    VenueSlot& slot = venues_[v];
    if (!slot.venue->sim().recentre || live_feed_) continue;
    if (reference_venue_ < 0) {
      slot.stats.notes.push_back("not re-centred: its reference '" + scenario.recentre_reference +
                                 "' is not mounted in this run, so it quotes its own prices");
      continue;
    }
    if (static_cast<std::size_t>(reference_venue_) == v) continue;
    for (std::size_t m = 0; m < slot.basis.size(); ++m) {
      const int ref_market = venues_[static_cast<std::size_t>(reference_venue_)].venue->market_of(
          slot.venue->market(m).listing().instrument);
      if (ref_market < 0)
        return make_error("venue '" + slot.venue->config().id.str() +
                          "' is recentred, but the reference venue does not list " +
                          slot.venue->market(m).listing().instrument.str());
      slot.basis[m].reference_market = ref_market;
      slot.basis[m].diffs.assign(std::max<std::size_t>(window, 1), 0);
    }
  }
  sampling_ = venues_.size() > 1 || reference_venue_ >= 0;

  // Feeds: each opens its own reader and primes its first event (none with a live feed).
  for (std::size_t v = 0; v < venues_.size() && !live_feed_; ++v) {
    const VenueSimConfig& sc = venues_[v].venue->sim();
    if (sc.feeds.empty())
      return make_error(
          venues_[v].venue->config().id.str() +
          ": [venue.sim] has no files: a replay needs its recording (only paper trading, on the "
          "venue's live market, plays a venue without one)");
    const bool data_latency = sc.market_data_latency.kind == LatencySpec::Kind::FromData ||
                              sc.order_latency.kind == LatencySpec::Kind::FromData ||
                              sc.response_latency.kind == LatencySpec::Kind::FromData ||
                              sc.cancel_latency.kind == LatencySpec::Kind::FromData;
    for (const auto& files : sc.feeds) {
      auto reader = md::open_reader(files);
      if (!reader) return make_error(venues_[v].venue->config().id.str() + ": " + reader.error().message);
      Feed feed;
      feed.venue = v;
      feed.reader = std::move(reader).value();
      feed.files = join(files);
      feed.has = next_event(feed);
      if (!feed.has)
        return make_error(venues_[v].venue->config().id.str() + ": no market data in " + feed.files);
      if (market_for(feed, feed.current) < 0)
        return make_error(venues_[v].venue->config().id.str() + ": " + feed.files + " carries " +
                          feed.reader->streams()[feed.current.stream].symbol +
                          ", which the venue does not list (its listings' symbols must match the data)");
      if (feed.reader->format().find("mbo") != std::string::npos)
        for (std::size_t m = 0; m < venues_[v].venue->market_count(); ++m)
          venues_[v].venue->market(m).set_l3_fills_change_book(false);
      if (data_latency) {
        // The clocks are offset by more than a second: the delay is measured from the feed's smallest gap.
        auto scan = md::open_reader(files);
        if (!scan) return make_error(scan.error().message);
        md::Event e;
        DurationNs min_offset = std::numeric_limits<DurationNs>::max();
        while ((*scan)->next(e))
          if (e.exch_ns != 0) min_offset = std::min(min_offset, e.recv_ns - e.exch_ns);
        if (min_offset == std::numeric_limits<DurationNs>::max())
          return make_error(venues_[v].venue->config().id.str() + ": a latency is taken from the data, but " +
                            feed.files + " carries no exchange times");
        // One offset per venue: the smallest over its feeds (the recorder's clock is shared).
        for (std::size_t m = 0; m < venues_[v].venue->market_count(); ++m) {
          SimMarket& market = venues_[v].venue->market(m);
          if (venues_[v].feeds_left == 0 || market.min_clock_offset_ns() > min_offset)
            market.set_min_clock_offset(min_offset);
        }
      }
      ++venues_[v].feeds_left;
      feeds_.push_back(std::move(feed));
    }
  }

  TimestampNs first = live_feed_ ? start_ns_ : kNever;
  for (const auto& feed : feeds_) first = std::min(first, feed.current.recv_ns);
  now_ = first;
  next_sample_ns_ = first;
  const TimestampNs open_at = std::max(start_ns_, first);
  for (std::size_t v = 0; v < venues_.size(); ++v) {
    schedule(open_at, v, Control{Control::Kind::Open, "trading"});
    if (end_ns_ != 0) schedule(end_ns_, v, Control{Control::Kind::Close, "the scenario ended"});
    const VenueFaults& faults = venues_[v].venue->sim().faults;
    for (const auto& w : faults.disconnects) {
      schedule(w.start_ns + offset_ns_, v,
               Control{Control::Kind::Disconnect, "session disconnected (fault injection)"});
      schedule(w.end_ns + offset_ns_, v, Control{Control::Kind::Reconnect, "session reconnected"});
    }
    for (const auto& w : faults.halts) {
      schedule(w.start_ns + offset_ns_, v, Control{Control::Kind::Halt, "trading halted (fault injection)"});
      schedule(w.end_ns + offset_ns_, v, Control{Control::Kind::Resume, "trading resumed"});
    }
    for (const auto& w : faults.stale) {
      schedule(w.start_ns + offset_ns_, v, Control{Control::Kind::StaleStart, "market data stopped"});
      schedule(w.end_ns + offset_ns_, v, Control{Control::Kind::StaleEnd, "market data back"});
    }
  }
  return {};
}

const md::BookView* Simulator::book(std::size_t v, const InstrumentId& instrument) const {
  const SimVenue& venue = *venues_[v].venue;
  const int m = venue.market_of(instrument);
  return m < 0 ? nullptr : &venue.market(static_cast<std::size_t>(m));
}

int Simulator::venue_index(const VenueId& id) const {
  for (std::size_t i = 0; i < venues_.size(); ++i)
    if (venues_[i].venue->config().id == id) return static_cast<int>(i);
  return -1;
}

int Simulator::market_for(Feed& feed, const md::Event& event) {
  if (event.stream >= feed.stream_market.size()) feed.stream_market.resize(event.stream + 1u, -2);
  int& m = feed.stream_market[event.stream];
  if (m == -2) {
    const auto& streams = feed.reader->streams();
    m = event.stream < streams.size()
            ? venues_[feed.venue].venue->market_of_symbol(streams[event.stream].symbol)
            : -1;
    if (m < 0 && event.stream < streams.size())
      venues_[feed.venue].stats.notes.push_back(feed.files + ": stream " + streams[event.stream].name() +
                                                " matches no listing; its events are skipped");
  }
  return m;
}

void Simulator::schedule(TimestampNs at_ns, std::size_t venue, Payload payload) {
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot] = std::move(payload);
    slot_venue_[slot] = venue;
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back(std::move(payload));
    slot_venue_.push_back(venue);
  }
  queue_.push({at_ns, next_seq_++, slot});
}

// ---------------------------------------------------------------------------------------------------------
// Our requests

bool Simulator::refuse_if_down(std::size_t v, const InstrumentId& instrument, ClientOrderId id, Side side,
                               ExecType refusal) {
  VenueSlot& slot = venues_[v];
  if (slot.session_up) return false;
  ++slot.stats.requests_refused;
  // Not handed over: the gateway itself answers, at once, in the words of the request's own refusal. A
  // refused cancel or replace leaves the order as it was at the venue: it is not the order's rejection (the
  // chaos test found a refused cancel closing a child that then went on filling).
  ExecutionReport r;
  r.client_order_id = id;
  r.venue = slot.venue->config().id;
  r.instrument = instrument;
  r.exec_type = refusal;
  r.status = refusal == ExecType::Rejected ? OrderStatus::Rejected : OrderStatus::New;
  r.side = side;
  r.reject_reason = RejectReason::VenueClosed;
  r.text = FixedString<95>("session disconnected: request not sent");
  r.venue_ns = now_;
  schedule(now_, v, LocalReport{r});
  return true;
}

bool Simulator::send(std::size_t v, NewOrder order) {
  if (order.sent_ns == 0) order.sent_ns = now_;
  if (refuse_if_down(v, order.instrument, order.client_order_id, order.side, ExecType::Rejected))
    return false;
  VenueSlot& slot = venues_[v];
  const DurationNs delay = slot.order_latency.draw(
      slot.rng, slot.venue->market_count() ? slot.venue->market(0).recorded_delay_ns() : 0);
  schedule(now_ + delay, v, order);
  return true;
}

bool Simulator::cancel(std::size_t v, CancelOrder cancel) {
  if (cancel.sent_ns == 0) cancel.sent_ns = now_;
  if (refuse_if_down(v, cancel.instrument, cancel.client_order_id, Side::Buy, ExecType::CancelRejected))
    return false;
  VenueSlot& slot = venues_[v];
  const DurationNs delay = slot.cancel_latency.draw(
      slot.rng, slot.venue->market_count() ? slot.venue->market(0).recorded_delay_ns() : 0);
  if (slot.venue->sim().faults.fill_after_cancel > 0) {
    cancels_in_flight_[cancel.client_order_id.value()] = now_ + delay;
    slot.venue->note_cancel_sent(cancel.client_order_id, now_);
  }
  if (slot.cancels_to_hold > 0) {
    --slot.cancels_to_hold;
    held_cancels_[cancel.client_order_id.value()] = {cancel, now_ + delay};
    schedule(now_ + delay + slot.cancel_hold_ns, v, HeldCancel{cancel});
    return true;
  }
  schedule(now_ + delay, v, cancel);
  return true;
}

void Simulator::disconnect_for(std::size_t v, DurationNs duration_ns) {
  schedule(now_, v, Control{Control::Kind::Disconnect, "session disconnected (on demand)"});
  schedule(now_ + std::max<DurationNs>(duration_ns, 0), v,
           Control{Control::Kind::Reconnect, "session reconnected"});
}

void Simulator::hold_next_cancels(std::size_t v, int count, DurationNs max_hold_ns) {
  venues_[v].cancels_to_hold = std::max(count, 0);
  venues_[v].cancel_hold_ns = std::max<DurationNs>(max_hold_ns, 0);
}

bool Simulator::amend(std::size_t v, AmendOrder amend) {
  if (amend.sent_ns == 0) amend.sent_ns = now_;
  if (refuse_if_down(v, amend.instrument, amend.client_order_id, Side::Buy, ExecType::ReplaceRejected))
    return false;
  VenueSlot& slot = venues_[v];
  const DurationNs delay = slot.cancel_latency.draw(
      slot.rng, slot.venue->market_count() ? slot.venue->market(0).recorded_delay_ns() : 0);
  schedule(now_ + delay, v, amend);
  return true;
}

bool Simulator::query(std::size_t v, OrderStatusQuery query) {
  if (query.sent_ns == 0) query.sent_ns = now_;
  VenueSlot& slot = venues_[v];
  if (!slot.session_up) {
    // Asked once the session is back, as a FIX session parks it for the next logon: the OMS waits for the
    // answer, and "the session is down" is no word on where the order stands.
    slot.parked_queries.push_back(query);
    return true;
  }
  const DurationNs delay = slot.cancel_latency.draw(
      slot.rng, slot.venue->market_count() ? slot.venue->market(0).recorded_delay_ns() : 0);
  schedule(now_ + delay, v, query);
  return true;
}

void Simulator::set_timer(TimestampNs at_ns, std::uint64_t id) {
  schedule(std::max(at_ns, now_), 0, Timer{id});
}

// ---------------------------------------------------------------------------------------------------------
// The loop

bool Simulator::step() {
  Feed* feed = nullptr;
  for (auto& f : feeds_)
    if (f.has && (feed == nullptr || f.current.recv_ns < feed->current.recv_ns)) feed = &f;
  if (feed != nullptr && end_ns_ != 0 && feed->current.recv_ns > end_ns_) {
    // The window is over: the rest of the recording is not replayed.
    for (auto& f : feeds_) f.has = false;
    feed = nullptr;
  }
  const bool has_action = !queue_.empty();
  if (feed == nullptr && !has_action) return false;
  const bool action_first = has_action && (feed == nullptr || queue_.top().at_ns < feed->current.recv_ns);
  const TimestampNs at = action_first ? queue_.top().at_ns : feed->current.recv_ns;
  if (sampling_) {
    while (next_sample_ns_ <= at) {
      sample(next_sample_ns_);
      next_sample_ns_ += sample_ns_;
    }
  }
  if (at > now_) now_ = at;
  if (action_first) {
    const Scheduled item = queue_.top();
    queue_.pop();
    run_action(item);
  } else {
    run_recorded(*feed);
  }
  return true;
}

void Simulator::run_until(TimestampNs until_ns) {
  (void)run_until(until_ns, std::numeric_limits<std::size_t>::max());
}

bool Simulator::run_until(TimestampNs until_ns, std::size_t max_steps) {
  for (std::size_t steps = 0;; ++steps) {
    TimestampNs next = kNever;
    for (const auto& f : feeds_)
      if (f.has) next = std::min(next, f.current.recv_ns);
    if (!queue_.empty()) next = std::min(next, queue_.top().at_ns);
    if (next > until_ns) break;
    if (steps == max_steps) return false;  // the clock stays at the last event processed
    if (!step()) break;
  }
  if (until_ns > now_ && until_ns != kNever) now_ = until_ns;
  return true;
}

bool Simulator::next_event(Feed& feed) {
  if (!feed.reader->next(feed.current)) {
    check_feed(feed, true);
    return false;
  }
  if (offset_ns_ != 0) {
    feed.current.recv_ns += offset_ns_;
    if (feed.current.exch_ns != 0) feed.current.exch_ns += offset_ns_;
  }
  // Two counters compared per event; the issue itself is built only when one moved.
  if (feed.reader->error_count() != feed.errors_seen || feed.reader->gaps().size() != feed.gaps_seen)
    check_feed(feed, false);
  else
    feed.open_stretch = -1;
  feed.last_good_ns = feed.current.recv_ns;
  return true;
}

void Simulator::check_feed(Feed& feed, bool ended) {
  const auto issue_of = [&](DataIssue::Kind kind) {
    DataIssue issue;
    issue.kind = kind;
    issue.venue = venues_[feed.venue].venue->config().id.str();
    issue.files = feed.files;
    issue.at_ns = feed.last_good_ns;
    return issue;
  };
  const std::uint64_t errors = feed.reader->error_count();
  if (errors != feed.errors_seen) {
    const std::uint64_t added = errors - feed.errors_seen;
    if (feed.open_stretch >= 0) {
      data_issues_[static_cast<std::size_t>(feed.open_stretch)].count += added;
    } else {
      DataIssue issue = issue_of(DataIssue::Kind::Malformed);
      issue.count = added;
      const auto& kept = feed.reader->errors();
      const std::size_t first = static_cast<std::size_t>(feed.errors_seen);
      issue.detail = first < kept.size() ? kept[first].to_string() : std::string("malformed records");
      feed.open_stretch = add_issue(std::move(issue)) ? static_cast<int>(data_issues_.size()) - 1 : -1;
    }
    feed.errors_seen = errors;
  }
  const auto& gaps = feed.reader->gaps();
  for (; feed.gaps_seen < gaps.size(); ++feed.gaps_seen) {
    const md::GapReport& g = gaps[feed.gaps_seen];
    DataIssue issue = issue_of(DataIssue::Kind::Gap);
    issue.detail = g.file + ":" + std::to_string(g.line) + ": sequence gap (expected update " +
                   std::to_string(g.expected) + ", got " + std::to_string(g.received) +
                   "): the book is rebuilt from the next snapshot";
    add_issue(std::move(issue));
  }
  if (ended && end_ns_ != 0) {
    // A recording may end a little before the window does; past the venue's staleness limit it ended early.
    const DurationNs stale = venues_[feed.venue].venue->sim().stale_after_ns;
    if (feed.last_good_ns + stale < end_ns_) {
      DataIssue issue = issue_of(DataIssue::Kind::EndsEarly);
      const double early_s = static_cast<double>(end_ns_ - feed.last_good_ns) / kNanosPerSecond;
      char text[96];
      std::snprintf(text, sizeof text, "%.1f s before the run's window ends at ", early_s);
      issue.detail = text + format_time(end_ns_);
      add_issue(std::move(issue));
    }
  }
}

bool Simulator::add_issue(DataIssue issue) {
  if (data_issues_.size() >= kMaxDataIssues) return false;
  data_issues_.push_back(std::move(issue));
  return true;
}

std::string summarize(const std::vector<DataIssue>& issues) {
  if (issues.empty()) return {};
  return issues.front().to_string() +
         (issues.size() > 1 ? " (and " + std::to_string(issues.size() - 1) + " more)" : std::string());
}

std::string DataIssue::to_string() const {
  switch (kind) {
    case Kind::EndsEarly:
      return venue + ": the recorded data stops at " + format_time(at_ns) + ", " + detail + " (" + files +
             ")";
    case Kind::Malformed:
      return venue + ": " + std::to_string(count) + " unusable record" + (count == 1 ? "" : "s") + " after " +
             format_time(at_ns) + ": " + detail;
    case Kind::Gap:
      return venue + ": data missing after " + format_time(at_ns) + ": " + detail;
  }
  return venue + ": " + detail;
}

bool Simulator::recording_left() const {
  if (live_feed_) return true;  // a live market does not end
  for (const auto& f : feeds_)
    if (f.has && (end_ns_ == 0 || f.current.recv_ns <= end_ns_)) return true;
  return false;
}

void Simulator::run() {
  while (step()) {
  }
}

void Simulator::count_event(std::size_t v, TimestampNs recv_ns) {
  VenueRunStats& stats = venues_[v].stats;
  ++recorded_events_;
  ++stats.events;
  if (stats.first_event_ns == 0) stats.first_event_ns = recv_ns;
  stats.last_event_ns = recv_ns;
}

void Simulator::apply_market_event(std::size_t v, std::size_t m, const md::Event& event) {
  VenueSlot& slot = venues_[v];
  slot.venue->on_market_event(m, event);
  if (slot.closed_for_staleness && slot.venue->market(m).valid()) {
    slot.closed_for_staleness = false;
    slot.venue->set_state(VenueState::Open, "market data resumed", now_);
  }
  if (listener_ != nullptr && deliver_market_data_ && event.recv_ns >= start_ns_)
    deliver_market_data(v, m, event);
  drain(v);
}

void Simulator::run_recorded(Feed& feed) {
  const md::Event& event = feed.current;
  VenueSlot& slot = venues_[feed.venue];
  count_event(feed.venue, event.recv_ns);
  const int m = market_for(feed, event);
  if (m < 0)
    ++slot.stats.unmapped_events;
  else
    apply_market_event(feed.venue, static_cast<std::size_t>(m), event);
  feed.has = next_event(feed);
  if (!feed.has) {
    for (const auto& e : feed.reader->errors())
      slot.stats.notes.push_back("malformed input: " + e.to_string());
    if (feed.reader->error_count() > feed.reader->errors().size())
      slot.stats.notes.push_back(std::to_string(feed.reader->error_count()) + " malformed records in " +
                                 feed.files);
    if (--slot.feeds_left == 0) close_venue(feed.venue, "its recorded data ended", true);
  }
}

bool Simulator::inject(std::size_t v, std::size_t m, const md::Event& event) {
  if (!live_feed_ || v >= venues_.size() || m >= venues_[v].venue->market_count()) return false;
  run_until(event.recv_ns);
  md::Event at = event;
  if (at.recv_ns < now_) at.recv_ns = now_;
  now_ = at.recv_ns;
  count_event(v, at.recv_ns);
  apply_market_event(v, m, at);  // as a recorded event is applied
  return true;
}

void Simulator::run_action(const Scheduled& item) {
  Payload payload = std::move(slots_[item.slot]);
  const std::size_t v = slot_venue_[item.slot];
  free_slots_.push_back(item.slot);
  VenueSlot& slot = venues_[v];
  SimVenue& venue = *slot.venue;
  std::visit(
      [&](auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, NewOrder>) {
          const double reject = venue.sim().faults.reject;
          if (reject > 0 && slot.rng.chance(reject)) {  // no draw without the fault: runs stay as they were
            ++slot.stats.orders_rejected;
            ExecutionReport r;
            r.client_order_id = p.client_order_id;
            r.venue = venue.config().id;
            r.instrument = p.instrument;
            r.exec_type = ExecType::Rejected;
            r.status = OrderStatus::Rejected;
            r.side = p.side;
            r.order_qty = p.qty;
            r.order_price = p.price;
            r.reject_reason = RejectReason::Other;
            r.text = FixedString<95>("rejected by the venue (fault injection)");
            r.venue_ns = now_;
            deliver_report(v, r);
            return;
          }
          venue.on_new_order(p, now_);
          drain(v);
        } else if constexpr (std::is_same_v<T, CancelOrder>) {
          cancels_in_flight_.erase(p.client_order_id.value());
          venue.on_cancel(p, now_);
          drain(v);
        } else if constexpr (std::is_same_v<T, HeldCancel>) {
          // The hold ended without a fill: applied now, unless a fill already released it.
          if (held_cancels_.erase(p.cancel.client_order_id.value()) == 0) return;
          cancels_in_flight_.erase(p.cancel.client_order_id.value());
          venue.on_cancel(p.cancel, now_);
          drain(v);
        } else if constexpr (std::is_same_v<T, AmendOrder>) {
          venue.on_amend(p, now_);
          drain(v);
        } else if constexpr (std::is_same_v<T, OrderStatusQuery>) {
          venue.on_query(p, now_);
          drain(v);
        } else if constexpr (std::is_same_v<T, ExecutionReport>) {
          if (!slot.session_up) {  // in flight when the session went down
            ++slot.stats.reports_lost;
            return;
          }
          p.received_ns = now_;
          ++slot.stats.reports_delivered;
          if (listener_ != nullptr) listener_->on_execution_report(p);
        } else if constexpr (std::is_same_v<T, LocalReport>) {
          p.report.received_ns = now_;
          if (listener_ != nullptr) listener_->on_execution_report(p.report);
        } else if constexpr (std::is_same_v<T, VenueStatusReport>) {
          p.received_ns = now_;
          if (listener_ != nullptr) listener_->on_venue_status(p);
        } else if constexpr (std::is_same_v<T, MarketDataDelivery>) {
          if (slot.data_stale) {
            ++slot.stats.market_data_withheld;
            return;
          }
          if (listener_ != nullptr) listener_->on_market_data(p.ref, p.event.event);
        } else if constexpr (std::is_same_v<T, Timer>) {
          // Timers run on for a while after the end of the data, so that what waits for the closed venues can
          // give up (the kernel ends a parent whose last children were never answered for 10 s after the
          // close: a final ack lost there left it working for ever, as the chaos test found). Past that
          // nothing re-arms them, and the simulation runs out.
          if (listener_ != nullptr && (end_ns_ == 0 || now_ <= end_ns_ + kTimersAfterEndNs))
            listener_->on_timer(p.id, now_);
        } else if constexpr (std::is_same_v<T, Control>) {
          switch (p.kind) {
            case Control::Kind::Open:
              if (!slot.permanently_closed) venue.set_state(VenueState::Open, p.reason, now_);
              break;
            case Control::Kind::Close:
              close_venue(v, p.reason, true);
              break;
            case Control::Kind::Halt:
              if (venue.state() == VenueState::Open) venue.set_state(VenueState::Halted, p.reason, now_);
              break;
            case Control::Kind::Resume:
              if (venue.state() == VenueState::Halted) venue.set_state(VenueState::Open, p.reason, now_);
              break;
            case Control::Kind::Disconnect: {
              VenueStatusReport status;
              status.venue = venue.config().id;
              status.state = VenueState::Disconnected;
              status.text = FixedString<95>(p.reason);
              status.venue_ns = now_;
              status.received_ns = now_;
              if (listener_ != nullptr) listener_->on_venue_status(status);
              slot.session_up = false;
              break;
            }
            case Control::Kind::StaleStart:
              slot.data_stale = true;
              break;
            case Control::Kind::StaleEnd:
              // Back: the whole book at once, as a feed that resubscribes gets a snapshot.
              slot.data_stale = false;
              for (std::size_t m = 0; m < venue.market_count(); ++m) publish_snapshot(v, m);
              break;
            case Control::Kind::Reconnect: {
              slot.session_up = true;
              for (auto& parked : std::exchange(slot.parked_queries, {})) (void)this->query(v, parked);
              VenueStatusReport status;
              status.venue = venue.config().id;
              status.state = venue.state();
              status.text = FixedString<95>(p.reason);
              status.venue_ns = now_;
              status.received_ns = now_;
              if (listener_ != nullptr) listener_->on_venue_status(status);
              break;
            }
          }
          drain(v);
        }
      },
      payload);
}

void Simulator::close_venue(std::size_t v, std::string_view reason, bool permanent) {
  VenueSlot& slot = venues_[v];
  if (slot.permanently_closed) return;
  if (permanent) slot.permanently_closed = true;
  slot.venue->set_state(VenueState::Closed, reason, now_);
  drain(v);
}

// ---------------------------------------------------------------------------------------------------------
// What reaches us

void Simulator::drain(std::size_t v) {
  SimVenue& venue = *venues_[v].venue;
  if (!venue.reports().empty()) {
    for (const auto& report : venue.reports()) deliver_report(v, report);
    if (!held_cancels_.empty()) {
      // A fill releases its order's held cancel: applied once it has arrived, after the fill, so the fill's
      // report leaves first.
      for (const auto& report : venue.reports()) {
        if (report.exec_type != ExecType::Trade) continue;
        auto held = held_cancels_.find(report.client_order_id.value());
        if (held == held_cancels_.end()) continue;
        schedule(std::max(now_, held->second.arrives_ns), v, held->second.cancel);
        held_cancels_.erase(held);
      }
    }
    venue.reports().clear();
  }
  if (!venue.statuses().empty()) {
    for (const auto& status : venue.statuses()) deliver_status(v, status);
    venue.statuses().clear();
  }
  if (!venue.public_changes().empty()) {
    if (listener_ != nullptr && deliver_market_data_ && now_ >= start_ns_) {
      for (const PublicChange& change : venue.public_changes()) {
        md::Event event;
        event.kind = change.kind;
        event.flags = md::kFlagSimulated;
        event.recv_ns = now_;
        event.side = change.side;
        md::Level level{change.price, change.qty};
        if (change.kind == md::EventKind::Trade) {
          event.price = change.price;
          event.qty = change.qty;
        } else if (change.side == Side::Buy) {
          event.bids = {&level, 1};
        } else {
          event.asks = {&level, 1};
        }
        deliver_market_data(v, change.market, event);
      }
    }
    venue.public_changes().clear();
  }
}

void Simulator::deliver_report(std::size_t v, const ExecutionReport& report) {
  VenueSlot& slot = venues_[v];
  if (!slot.session_up) {
    ++slot.stats.reports_lost;
    return;
  }
  const VenueFaults& faults = slot.venue->sim().faults;
  DurationNs delay = slot.response_latency.draw(
      slot.rng, slot.venue->market_count() ? slot.venue->market(0).recorded_delay_ns() : 0);
  if (faults.any()) {
    const bool fill = report.exec_type == ExecType::Trade;
    if ((is_ack(report.exec_type) && slot.rng.chance(faults.drop_ack)) ||
        (fill && slot.rng.chance(faults.drop_fill))) {
      ++slot.stats.reports_dropped;
      return;
    }
    if (slot.rng.chance(faults.delay)) delay += faults.delay_by_ns;
    if (slot.rng.chance(faults.reorder)) delay += slot.rng.uniform_int(0, faults.reorder_within_ns);
    if (fill && faults.fill_after_cancel > 0) {
      auto it = cancels_in_flight_.find(report.client_order_id.value());
      if (it != cancels_in_flight_.end() && slot.rng.chance(faults.fill_after_cancel)) {
        // The cancel's answer leaves the venue when the cancel arrives; this fill is held until just after
        // it.
        const DurationNs after_ack =
            it->second - now_ + slot.response_latency.draw(slot.rng, 0) + kNanosPerMicro;
        delay = std::max(delay, after_ack);
      }
    }
    if (slot.rng.chance(faults.duplicate)) {
      ++slot.stats.reports_duplicated;
      schedule(now_ + delay + kNanosPerMicro, v, report);
    }
  }
  schedule(now_ + delay, v, report);
}

void Simulator::deliver_status(std::size_t v, const VenueStatusReport& status) {
  VenueSlot& slot = venues_[v];
  const DurationNs delay = slot.response_latency.draw(slot.rng, 0);
  schedule(now_ + delay, v, status);
}

void Simulator::deliver_market_data(std::size_t v, std::size_t m, const md::Event& event) {
  VenueSlot& slot = venues_[v];
  if (slot.data_stale) {
    ++slot.stats.market_data_withheld;
    return;
  }
  const SimMarket& market = slot.venue->market(m);
  const Price shift = market.shift();
  const md::Event* out = &event;
  md::Event shifted;
  const bool recorded = !(event.flags & md::kFlagSimulated);
  if (recorded && (!shift.is_zero() || market.has_consumed())) {
    // The venue's prices and what it displays: shifted by the basis, net of what we took.
    shifted = event;
    auto convert = [&](Side side, std::span<const md::Level> levels, std::vector<md::Level>& buffer) {
      buffer.clear();
      for (const md::Level& level : levels) {
        const Price price = level.price + shift;
        Qty qty = level.qty;
        if (qty.is_positive()) {
          qty -= market.consumed_at(side, price);
          if (qty.is_negative()) qty = Qty{};
        }
        buffer.push_back({price, qty});
      }
      return std::span<const md::Level>(buffer.data(), buffer.size());
    };
    switch (event.kind) {
      case md::EventKind::BookSnapshot:
      case md::EventKind::BookDelta:
        shifted.bids = convert(Side::Buy, event.bids, scratch_bids_);
        shifted.asks = convert(Side::Sell, event.asks, scratch_asks_);
        break;
      case md::EventKind::Quote:
        if (event.price.is_set()) shifted.price = event.price + shift;
        if (event.price2.is_set()) shifted.price2 = event.price2 + shift;
        shifted.qty = event.qty - market.consumed_at(Side::Buy, shifted.price);
        shifted.qty2 = event.qty2 - market.consumed_at(Side::Sell, shifted.price2);
        if (shifted.qty.is_negative()) shifted.qty = Qty{};
        if (shifted.qty2.is_negative()) shifted.qty2 = Qty{};
        break;
      default:
        if (event.price.is_set()) shifted.price = event.price + shift;
        break;
    }
    out = &shifted;
  }
  if (slot.md_latency.is_zero()) {
    listener_->on_market_data(slot.refs[m], *out);
    return;
  }
  const DurationNs delay = slot.md_latency.draw(slot.rng, market.recorded_delay_ns());
  schedule(now_ + delay, v, MarketDataDelivery{slot.refs[m], md::OwnedEvent(*out)});
}

void Simulator::publish_snapshot(std::size_t v, std::size_t m) {
  if (listener_ == nullptr || !deliver_market_data_ || now_ < start_ns_) return;
  const SimMarket& market = venues_[v].venue->market(m);
  // Its own buffers: a simulated event is delivered as it is, never converted through the scratch ones.
  snapshot_bids_.clear();
  snapshot_asks_.clear();
  // The top 200 levels a side (what a venue's partial-depth stream gives); deeper levels reappear as the
  // diffs touch them. The whole book at every shift would cost more than the rest of the replay.
  constexpr std::size_t kSnapshotDepth = 200;
  market.for_each_level(Side::Buy, [&](Price price, Qty qty) {
    snapshot_bids_.push_back({price, qty});
    return snapshot_bids_.size() < kSnapshotDepth;
  });
  market.for_each_level(Side::Sell, [&](Price price, Qty qty) {
    snapshot_asks_.push_back({price, qty});
    return snapshot_asks_.size() < kSnapshotDepth;
  });
  md::Event event;
  event.kind = md::EventKind::BookSnapshot;
  event.flags = md::kFlagSimulated;
  event.recv_ns = now_;
  event.bids = {snapshot_bids_.data(), snapshot_bids_.size()};
  event.asks = {snapshot_asks_.data(), snapshot_asks_.size()};
  deliver_market_data(v, m, event);
}

// ---------------------------------------------------------------------------------------------------------
// Sampling: staleness, basis re-centring, crossed-book statistics

void Simulator::sample(TimestampNs at_ns) {
  const TimestampNs saved_now = now_;
  now_ = std::max(now_, at_ns);
  for (std::size_t v = 0; v < venues_.size(); ++v) {
    VenueSlot& slot = venues_[v];
    SimVenue& venue = *slot.venue;
    if (venue.state() == VenueState::Open && !slot.permanently_closed) {
      TimestampNs last = 0;
      for (std::size_t m = 0; m < venue.market_count(); ++m)
        last = std::max(last, venue.market(m).last_event_ns());
      if (last != 0 && at_ns - last > venue.sim().stale_after_ns) {
        slot.closed_for_staleness = true;
        venue.set_state(
            VenueState::Closed,
            "market data stale: nothing for " + std::to_string((at_ns - last) / kNanosPerMilli) + " ms",
            now_);
        drain(v);
      }
    }
  }
  if (reference_venue_ >= 0) {
    const SimVenue& reference = *venues_[static_cast<std::size_t>(reference_venue_)].venue;
    for (std::size_t v = 0; v < venues_.size(); ++v) {
      VenueSlot& slot = venues_[v];
      for (std::size_t m = 0; m < slot.basis.size(); ++m) {
        BasisRing& ring = slot.basis[m];
        if (ring.reference_market < 0) continue;
        SimMarket& market = slot.venue->market(m);
        const Price ref_mid = reference.market(static_cast<std::size_t>(ring.reference_market)).mid();
        const Price venue_mid = market.mid();
        if (!ref_mid.is_set() || !venue_mid.is_set() || !market.valid()) continue;
        // Past data only: the basis is the average over the window of samples already taken.
        const std::int64_t diff = ref_mid.raw() - (venue_mid - market.shift()).raw();
        if (ring.count == ring.diffs.size())
          ring.sum -= ring.diffs[ring.next];
        else
          ++ring.count;
        ring.diffs[ring.next] = diff;
        ring.sum += diff;
        ring.next = (ring.next + 1) % ring.diffs.size();
        const std::int64_t tick = market.listing().tick_size.raw();
        const double average = static_cast<double>(ring.sum) / static_cast<double>(ring.count);
        const Price shift = Price::from_raw(
            static_cast<std::int64_t>(std::llround(average / static_cast<double>(tick))) * tick);
        // Hysteresis: a basis hovering at a half tick would flip the whole book back and forth every sample;
        // the shift moves once the average is three quarters of a tick away from it.
        const double away =
            std::abs(average - static_cast<double>(market.shift().raw())) / static_cast<double>(tick);
        if (shift != market.shift() && (ring.count == 1 || away >= 0.75)) {
          market.set_shift(shift);
          VenueRunStats& stats = slot.stats;
          ++stats.shift_changes;
          stats.shift_last = shift;
          if (!stats.shift_min.is_set() || shift < stats.shift_min) stats.shift_min = shift;
          if (!stats.shift_max.is_set() || shift > stats.shift_max) stats.shift_max = shift;
          publish_snapshot(v, m);
        }
      }
    }
  }
  if (venues_.size() > 1 && at_ns >= start_ns_) {
    // Per instrument of the first venue: best bid and ask across venues.
    const SimVenue& first = *venues_[0].venue;
    for (std::size_t m = 0; m < first.market_count(); ++m) {
      const InstrumentId& instrument = first.market(m).listing().instrument;
      Price best_bid = Price::unset(), best_ask = Price::unset();
      std::size_t bid_venue = 0, ask_venue = 0, books = 0;
      for (std::size_t v = 0; v < venues_.size(); ++v) {
        const SimVenue& venue = *venues_[v].venue;
        const int vm = venue.market_of(instrument);
        if (vm < 0 || venue.state() != VenueState::Open) continue;
        const SimMarket& market = venue.market(static_cast<std::size_t>(vm));
        if (!market.valid()) continue;
        const Price bid = market.best(Side::Buy), ask = market.best(Side::Sell);
        if (!bid.is_set() || !ask.is_set()) continue;
        ++books;
        if (!best_bid.is_set() || bid > best_bid) best_bid = bid, bid_venue = v;
        if (!best_ask.is_set() || ask < best_ask) best_ask = ask, ask_venue = v;
      }
      if (books < 2) continue;
      ++crossing_.samples;
      if (best_bid > best_ask && bid_venue != ask_venue) {
        ++crossing_.crossed;
        const double mid = (best_bid.to_double() + best_ask.to_double()) / 2;
        const double bps = (best_bid.to_double() - best_ask.to_double()) / mid * 1e4;
        crossed_bps_sum_ += bps;
        crossing_.max_crossed_bps = std::max(crossing_.max_crossed_bps, bps);
        crossing_.mean_crossed_bps = crossed_bps_sum_ / static_cast<double>(crossing_.crossed);
      }
    }
  }
  now_ = saved_now;
}

}  // namespace tranche::sim
