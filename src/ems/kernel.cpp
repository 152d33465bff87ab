#include "ems/kernel.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <sstream>

#include "core/quantity.hpp"
#include "ems/algo.hpp"
#include "ems/venue_views.hpp"

namespace tranche::ems {

namespace {

// Timer ids: index * 8 + kind; a parent's index is its slot and the slot's generation (timer_index).
constexpr std::uint64_t kWake = 1;      // a wake the parent's algo asked for
constexpr std::uint64_t kGrace = 2;     // the parent's algo still working kGraceNs after its end is stopped
constexpr std::uint64_t kForceEnd = 3;  // the market closed: the parent ends now, children closed or not
constexpr std::uint64_t kPlacer = 4;    // an instrument's placer holds pieces to send now
constexpr std::uint64_t kCall = 5;      // a driver's call_at
constexpr DurationNs kAvoidNs = 5 * kNanosPerSecond;  // a venue that rejected us is avoided this long
constexpr DurationNs kPostOnlyRepeatNs =
    kNanosPerSecond;  // two post-only refusals this close: avoided this long
constexpr DurationNs kForceEndNs = 10 * kNanosPerSecond;
constexpr DurationNs kSweepNs = 100 * kNanosPerMilli;
constexpr DurationNs kViewsRefreshNs = 100 * kNanosPerMilli;
constexpr std::size_t kDefaultDepth = 40;

// A refused cancel (the gate's cancel budget) is retried; anything else is an error.
bool refused_cancel(const Status& s) {
  return !s.ok() && s.message().rfind("risk denied", 0) == 0;
}

// Base units of a listing's quantity at `price`, as a model's real number (the algos' volume counts).
double to_base(const VenueListing& listing, Qty qty, Price price) {
  if (!price.is_positive()) return qty.to_double();
  return base_from_units(listing, qty, price).to_double();
}

}  // namespace

struct Kernel::Running {
  ParentId id;
  std::uint64_t order = 0;  // in acceptance order (after_event looks at parents in this order)
  std::size_t slot = 0;
  bool marked = false;  // after_event looks at it (Kernel::mark)
  // Its place among its instrument's watchers (InstrumentState::watchers), when it is one.
  InstrumentState* watched_in = nullptr;
  std::size_t watch_pos = 0;
  InstrumentId instrument;
  std::unique_ptr<ParentExecution> exec;
  std::unique_ptr<Algo> made;  // a new parent's algo, made at its acceptance, until it starts
  bool started = false;        // its algo has been started (or resumed after a restart)
  std::string saved_state;     // after a restart: the algo's journaled state to resume from
  bool canceling = false;      // a cancel is under way
  std::string cancel_reason;
  bool market_closed = false;  // the market closed: it ends once its children are closed (or at a deadline)
  bool ended = false;
  // Open children to cancel, retried every 100 ms: the risk gate's cancel budget may refuse some.
  bool sweep = false;
  TimestampNs next_sweep_ns = 0;
  std::set<std::uint64_t> orphans;         // children a dead process left, canceled at the restart
  std::size_t children_noted = 0;          // of its children, those counted on the scorecards
  std::set<std::string> seen_exec;         // venue/exec id of its fills: a repeated fill is one fill
  std::set<std::uint64_t> answered;        // its children a venue has answered (scorecards)
  std::optional<ParentEstimate> estimate;  // made when its algo started (journaled)
  std::optional<AutoChoice> auto_choice;   // an auto parent's algo, chosen when it started (journaled)
  ListBalance* list = nullptr;             // the list it is a leg of
  bool priced = false;                     // its list has its reference price (so no event looks again)
  std::optional<std::size_t> catch_up;     // the kernel's catch-up intent for it, while one is out
};

struct Kernel::InstrumentState {
  InstrumentId instrument;
  std::size_t index = 0;
  // The venue whose mid is its benchmark: the kernel's, or when that venue does not list it (a perpetual
  // beside spot) the first venue that does.
  int benchmark = -1;
  std::unique_ptr<Placer> placer;
  std::vector<VenueView> views;  // as they stand (the algos' market points at them)
  TimestampNs views_full_ns = 0;
  std::size_t views_depth = 0;
  // Recent history, for the algos' starts: every print; the benchmark mid where it changed (the mid at any
  // moment is the last entry at or before it, as with every event kept, in a fraction of the memory).
  History prints, mids;
  // Each venue's book signals (by the source's venue index), fed by every event whether or not a parent
  // is working, so a parent starts with a fitted micro-price.
  std::vector<md::BookSignalTracker> signals;
  // What the parents' pre-trade estimates measure, fed by every event from the first.
  std::unique_ptr<MarketMeter> meter;
  // Its started parents whose algo watches the market (by slot and the slot's generation, as timers name
  // them), in the order they started (which is the order they were accepted in): each market event goes to
  // these, not to a scan of every parent. An ended parent (or one whose algo was dropped) leaves the list at
  // the next market event; the generation keeps a slot taken by a later parent from answering for it.
  // Beside each, what of a book event its algo acts on (Algo::book_interest, kept by
  // Kernel::refresh_interest): a watcher with nothing to act on is not called, and its parent's memory is not
  // touched.
  struct Watcher {
    std::uint64_t index = 0;
    Algo::BookInterest interest;
  };
  std::vector<Watcher> watchers;
  std::uint64_t ended_seen = 0;  // Kernel::ended_count_ when the watchers were last pruned
  // The deepest view its parents' algos ask for, worked out again only when one starts or ends.
  std::size_t depth = kDefaultDepth;
  bool depth_stale = true;
};

Kernel::Kernel(const Config& config, md::MarketSource& market, oms::OrderManager& manager,
               risk::RiskGate& gate, KernelOptions options)
    : config_(config), market_(&market), manager_(manager), gate_(gate), options_(std::move(options)) {
  benchmark_venue_ = market_->venue_index(
      VenueId(options_.benchmark_venue.empty() ? config_.primary_venue : options_.benchmark_venue));
  consolidated_benchmark_ = config_.tca.arrival_mid == "consolidated";
  manager_.collect_touched_parents();
}

Kernel::~Kernel() = default;

void Kernel::check(const Status& s) {
  if (!s.ok() && error_.ok()) error_ = s;
}

void Kernel::set_timer(TimestampNs at_ns, std::uint64_t kind, std::uint64_t index) {
  market_->set_timer(at_ns, index * 8 + kind);
}

std::size_t Kernel::place(std::unique_ptr<Running> p) {
  const std::uint64_t id = p->id.value();
  std::size_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    ++slot_generation_[slot];
    parents_[slot] = std::move(p);
  } else {
    slot = parents_.size();
    parents_.push_back(std::move(p));
    slot_generation_.push_back(0);
  }
  parents_[slot]->order = next_order_++;
  parents_[slot]->slot = slot;
  by_parent_[id] = slot;
  active_.push_back(slot);
  mark(*parents_[slot]);
  return slot;
}

Kernel::Running* Kernel::running_at(std::uint64_t timer_index) {
  const std::size_t slot = static_cast<std::size_t>(timer_index & 0xffffffffu);
  const auto generation = static_cast<std::uint32_t>(timer_index >> 32);
  if (slot >= parents_.size() || parents_[slot] == nullptr || slot_generation_[slot] != generation)
    return nullptr;
  return parents_[slot].get();
}

Kernel::Running* Kernel::watching(std::uint64_t watcher) {
  Running* p = running_at(watcher);
  return p == nullptr || p->ended || p->exec == nullptr ? nullptr : p;
}

void Kernel::release_forgotten() {
  // Only when the OMS has forgotten more since the last look: a comparison per event.
  const std::uint64_t forgotten = manager_.oms().forgotten().parents;
  if (forgotten == forgotten_seen_) return;
  forgotten_seen_ = forgotten;
  std::erase_if(ended_, [&](std::size_t slot) {
    const ParentId id = parents_[slot]->id;
    if (manager_.oms().parent(id) != nullptr) return false;
    by_parent_.erase(id.value());
    if (parents_[slot]->exec != nullptr) parents_[slot]->exec->release_intents();
    parents_[slot].reset();
    free_slots_.push_back(slot);
    return true;
  });
}

Kernel::Running* Kernel::find(ParentId parent) {
  auto it = by_parent_.find(parent.value());
  return it == by_parent_.end() ? nullptr : parents_[it->second].get();
}

const Kernel::Running* Kernel::find(ParentId parent) const {
  auto it = by_parent_.find(parent.value());
  return it == by_parent_.end() ? nullptr : parents_[it->second].get();
}

std::size_t Kernel::intents_in_memory() const {
  std::size_t n = 0;
  for (const auto& st : instruments_) n += st->placer->intents_in_memory();
  return n;
}

bool Kernel::working(ParentId parent) const {
  const Running* p = find(parent);
  return p != nullptr && !p->ended;
}

std::size_t Kernel::working() const {
  std::size_t n = 0;
  for (std::size_t slot : active_) n += parents_[slot]->ended ? 0 : 1;
  return n;
}

const Algo* Kernel::algo(ParentId parent) const {
  const Running* p = find(parent);
  return p == nullptr || p->exec == nullptr ? nullptr : &p->exec->algo();
}

void Kernel::call_at(TimestampNs at_ns, std::function<void(TimestampNs)> fn) {
  calls_.push_back(std::move(fn));
  set_timer(at_ns, kCall, calls_.size() - 1);
}

// --- parents ---

Result<ParentId> Kernel::submit(oms::ParentOrder parent) {
  for (const auto& p : parent.params)
    if (is_list_key(p.key))
      return make_error("'" + p.key + "' is a list's term: a list's legs are submitted together, as a list");
  return submit_one(std::move(parent));
}

ListSubmission Kernel::submit_list(const std::vector<oms::ParentOrder>& legs) {
  ListSubmission out;
  out.legs.assign(legs.size(), ParentId());
  out.refused_leg = legs.size();
  if (auto s = check_list(legs); !s) {
    out.refused = s;
    return out;
  }
  const ListTerms terms = list_terms(legs.front().params).value().value();
  // Cash is counted in one currency: a basket's legs must share their quote.
  if (terms.cash_limit.is_set()) {
    const Instrument* first = config_.instrument(legs.front().instrument);
    for (const auto& leg : legs) {
      const Instrument* i = config_.instrument(leg.instrument);
      if (first == nullptr || i == nullptr || i->quote != first->quote) {
        out.refused = make_error("a cash-balance limit needs every leg quoted in one currency: " +
                                 legs.front().instrument.str() + " and " + leg.instrument.str() + " are not");
        return out;
      }
    }
  }
  if (lists_.count(terms.id) != 0) {
    out.refused = make_error("list " + terms.id + " was used already: a list id is used once");
    return out;
  }
  for (std::size_t i = 0; i < legs.size(); ++i) {
    auto accepted = submit_one(legs[i]);
    if (accepted) {
      out.legs[i] = *accepted;
      continue;
    }
    // The list works whole or not at all: the legs accepted before are canceled before their algos start.
    out.refused = make_error("leg " + std::to_string(i + 1) + " (" + legs[i].instrument.str() +
                             ") refused: " + accepted.error().message);
    out.refused_leg = i;
    for (std::size_t j = 0; j < i; ++j)
      if (Running* p = find(out.legs[j]))
        begin_cancel(*p, "leg " + std::to_string(i + 1) + " of its list was refused");
    return out;
  }
  return out;
}

Result<ParentId> Kernel::submit_one(oms::ParentOrder parent) {
  const TimestampNs t = now();
  if (market_closed_) return make_error("the market is closed");
  // The market as it stands at arrival: the gate's collars see every venue's quote.
  for (std::size_t v = 0; v < market_->venue_count(); ++v)
    if (const md::BookView* book = market_->book(v, parent.instrument))
      gate_.on_quote(market_->venue_config(v).id, parent.instrument, book->best(Side::Buy),
                     book->best(Side::Sell), t);
  // submit() refuses list terms and submit_list() checked the list whole: these are a leg's, read to join it.
  auto terms = list_terms(parent.params);
  if (!terms) return make_error("list: " + terms.error().message);
  std::unique_ptr<Algo> algo;
  if (parent.algo == kAutoAlgo) {
    // Chosen when it starts; its own settings and the parameters every candidate would get are checked now.
    if (auto s = check_algo(parent); !s) return make_error(s.message());
  } else {
    auto made = make_algo(parent);
    if (!made) return make_error(made.error().message);
    algo = std::move(made).value();
  }
  auto accepted = manager_.accept_parent(parent, t);
  check(manager_.flush());
  if (!accepted) return make_error(accepted.error().message);
  auto p = std::make_unique<Running>();
  p->made = std::move(algo);
  p->id = *accepted;
  p->instrument = parent.instrument;
  if (*terms) p->list = &list_of(**terms);
  if (p->list != nullptr) p->list->add_leg(p->id, parent.side, parent.qty);
  place(std::move(p));
  return *accepted;  // its algo starts at the end of this event (after_event)
}

void Kernel::start(Running& p) {
  p.started = true;
  // Canceled before its algo started (a leg of a list refused whole): nothing starts; it ends canceled.
  if (p.canceling && p.saved_state.empty()) return;
  // A list the journal holds only part of (a process died between its legs' acceptance): its legs never
  // start, since the list was never whole.
  if (p.list != nullptr && p.list->legs().size() < p.list->terms().legs && p.saved_state.empty()) {
    begin_cancel(p, "list " + p.list->terms().id + " was cut short: only " +
                        std::to_string(p.list->legs().size()) + " of its " +
                        std::to_string(p.list->terms().legs) + " legs were accepted before a restart");
    return;
  }
  const oms::ParentRecord* record = manager_.oms().parent(p.id);
  if (record == nullptr) return;
  // A new parent's algo was made when it was accepted; a recovered one's is made from its journaled order,
  // and an auto parent's once it has chosen.
  std::unique_ptr<Algo> algo = std::move(p.made);
  oms::ParentOrder order = record->order;
  InstrumentState& st = state_of(p.instrument);
  std::optional<Result<tca::MarketMeasure>> measured;  // the market before it: its estimate, auto's choice
  if (p.saved_state.empty()) measured = st.meter->measure(*market_, order.side, now());
  if (order.algo == kAutoAlgo) {
    if (!p.auto_choice) {
      auto parsed_settings = auto_settings(order.params);
      if (!parsed_settings) {
        begin_cancel(p, "auto: " + parsed_settings.error().message);
        return;
      }
      AutoSettings settings = std::move(parsed_settings).value();
      // A list's leg waits for the others at times: a sweep cannot wait, so it is no leg's algo.
      if (p.list != nullptr) {
        std::erase(settings.candidates, std::string("market"));
        if (settings.candidates.empty()) settings.candidates.push_back("twap");
      }
      if (measured && *measured) {
        p.auto_choice =
            choose_algo(**measured, pretrade_order(order, now()), order.params, settings, options_.evidence);
      } else {
        AutoChoice fallback;
        fallback.algo = settings.candidates.front();
        fallback.why = "no market measure (" +
                       (measured ? measured->error().message : std::string("after a restart")) +
                       "): the first candidate";
        p.auto_choice = fallback;
      }
      check(manager_.record_algo_state(p.id, "auto", p.auto_choice->detail(), now()));
    }
    order.algo = p.auto_choice->algo;
    // The sweep takes no parameters: the parent's, meant for a schedule, are not its.
    order.params =
        order.algo == "market" ? std::vector<oms::AlgoParam>{} : chosen_params(order.params, *p.auto_choice);
    algo = nullptr;
  }
  if (algo == nullptr) {
    auto made = make_algo(order);
    if (!made) {
      begin_cancel(p, made.error().message);
      return;
    }
    algo = std::move(made).value();
  }
  const std::uint64_t index = timer_index(by_parent_[p.id.value()]);
  p.exec = std::make_unique<ParentExecution>(manager_, *st.placer, std::move(algo), order,
                                             [this, index](TimestampNs at) { set_timer(at, kWake, index); });
  st.depth_stale = true;
  if (p.exec->algo().watches_market()) {
    p.watched_in = &st;
    p.watch_pos = st.watchers.size();
    st.watchers.push_back({index, p.exec->algo().book_interest()});
  }
  if (record->order.end_ns != 0) set_timer(record->order.end_ns + kGraceNs, kGrace, index);
  if (p.list != nullptr) {
    p.exec->set_list(p.list);
    price_leg(p);
  }
  if (!p.saved_state.empty()) {
    // After a restart: where the journal says the algo stood; the children the old process left were
    // reconciled before this runs, and those still open are canceled.
    if (auto restored = p.exec->algo().restore(p.saved_state); !restored) {
      p.exec.reset();
      ++ended_count_;  // it watches no more
      begin_cancel(p, "its algo could not be resumed: " + restored.message());
      return;
    }
    for (const oms::ChildOrder* c : manager_.oms().children_of(p.id))
      if (c->open()) p.orphans.insert(c->order.client_order_id.value());
    p.sweep = !p.orphans.empty();
    sweep_cancels(p);
    if (p.canceling) {
      // A cancel the journal recorded is carried through.
      p.exec->algo().cancel(*p.exec, now(), p.cancel_reason);
      return;
    }
    p.exec->algo().on_restart(*p.exec, market_now(p.instrument));
    return;
  }
  estimate(p, *measured, order);
  p.exec->algo().on_history(st.prints, st.mids);
  p.exec->algo().on_start(*p.exec, market_now(p.instrument));
}

void Kernel::estimate(Running& p, const Result<tca::MarketMeasure>& measured, const oms::ParentOrder& order) {
  if (p.estimate) return;  // a recovered parent's, read back from the journal
  const TimestampNs t = now();
  if (!measured) {
    p.exec->journal("estimate", "none: " + measured.error().message, t);
    return;
  }
  p.estimate = estimate_parent(*measured, order, p.exec->algo().params(), t);
  p.exec->journal("estimate", p.estimate->detail(), t);
}

// --- lists ---

namespace {

// A leg's journaled reference price ("reference=PRICE").
std::optional<Price> reference_in(const std::string& detail) {
  constexpr std::string_view key = "reference=";
  const auto at = detail.find(key);
  if (at == std::string::npos) return std::nullopt;
  const auto from = at + key.size();
  const auto to = detail.find(' ', from);
  auto parsed = Price::parse(
      std::string_view(detail).substr(from, to == std::string::npos ? std::string::npos : to - from));
  if (!parsed || !parsed->is_positive()) return std::nullopt;
  return *parsed;
}

// A leg's journaled end ("ended executed=QTY").
std::optional<Qty> ended_executed_in(const std::string& detail) {
  constexpr std::string_view key = " ended executed=";
  const auto at = detail.find(key);
  if (at == std::string::npos) return std::nullopt;
  auto parsed = Qty::parse(std::string_view(detail).substr(at + key.size()));
  if (!parsed || parsed->is_negative()) return std::nullopt;
  return *parsed;
}

}  // namespace

ListBalance& Kernel::list_of(const ListTerms& terms) {
  auto& slot = lists_[terms.id];
  if (!slot) slot = std::make_unique<ListBalance>(terms, [this](ParentId leg) { return leg_progress(leg); });
  return *slot;
}

const ListBalance* Kernel::list(const std::string& id) const {
  auto it = lists_.find(id);
  return it == lists_.end() ? nullptr : it->second.get();
}

ListBalance::Progress Kernel::leg_progress(ParentId leg) const {
  const Running* p = find(leg);
  if (p != nullptr && p->exec != nullptr) return {p->exec->executed(), p->exec->committed()};
  const oms::ParentRecord* record = manager_.oms().parent(leg);
  if (record == nullptr) return {};
  return {record->executed, record->executed + record->in_flight};
}

void Kernel::price_leg(Running& p) {
  if (p.list == nullptr || p.priced) return;
  // A recovered leg's was read back from the journal (recover()).
  if (p.list->reference(p.id)) {
    p.priced = true;
    return;
  }
  // The benchmark mid as the leg starts: a basket leg commits nothing before it has one.
  const InstrumentState& st = state_of(p.instrument);
  if (st.mids.empty()) return;
  const Price reference =
      Price::from_raw(static_cast<Price::Raw>(std::llround(st.mids.back().second * kFixedScale)));
  if (!reference.is_positive()) return;
  p.list->set_reference(p.id, reference);
  p.priced = true;
  if (p.exec != nullptr)
    p.exec->journal("list", "list " + p.list->terms().id + " reference=" + reference.to_string(), now());
}

void Kernel::balance(ListBalance& list) {
  // A leg held back that has room again asks again: its held intents are canceled and its algo looks now.
  for (ParentId leg : list.legs()) {
    Running* p = find(leg);
    if (p == nullptr || p->exec == nullptr || p->ended || p->exec->algo().phase() != AlgoPhase::Working)
      continue;
    if (p->exec->release_held(now())) p->exec->algo().on_market(*p->exec, market_now(p->instrument));
  }
  // A pair's lagging leg, once the other leads by more than half the limit, catches up at once (within its
  // limit and its room); one catch-up at a time a leg.
  if (list.terms().max_imbalance <= 0) return;
  for (ParentId leg : list.legs()) {
    Running* p = find(leg);
    if (p == nullptr || p->exec == nullptr || p->ended || p->canceling || p->market_closed) continue;
    if (p->exec->algo().phase() != AlgoPhase::Working) continue;
    if (p->catch_up && !p->exec->intent_state(*p->catch_up).done) continue;
    p->catch_up.reset();
    const Qty want = list.catch_up(leg);
    // Less than any venue takes would end at once, unfilled, every time it was asked for.
    if (want < std::max(kQtyStep, smallest_sendable(state_of(p->instrument).views, p->exec->algo().side())))
      continue;
    const oms::ParentRecord* record = manager_.oms().parent(leg);
    if (record == nullptr) continue;
    Intent in;
    in.side = record->order.side;
    in.qty = want;
    in.limit = record->order.limit;
    in.urgency = Urgency::Aggressive;
    const AlgoMarket m = market_now(p->instrument);
    Text why(-1);
    why << "list " << list.terms().id << ": the other leg leads by " << 100 * list.share_imbalance()
        << "% of its quantity; catching up " << want.to_string();
    p->exec->journal("list catch-up", why.str(), m.now_ns);
    p->catch_up = p->exec->submit(in, m);
    list.note_catch_up();
  }
}

VenueId Kernel::benchmark_venue(const InstrumentId& instrument) const {
  const int v = benchmark_venue_index(*market_, instrument, benchmark_venue_);
  return v < 0 ? VenueId() : market_->venue_config(static_cast<std::size_t>(v)).id;
}

const AutoChoice* Kernel::auto_choice(ParentId parent) const {
  const Running* p = find(parent);
  return p != nullptr && p->auto_choice ? &*p->auto_choice : nullptr;
}

const ParentEstimate* Kernel::estimate(ParentId parent) const {
  const Running* p = find(parent);
  return p != nullptr && p->estimate ? &*p->estimate : nullptr;
}

Status Kernel::cancel(ParentId parent, const std::string& why) {
  Running* p = find(parent);
  if (p == nullptr) return make_error("no parent " + std::to_string(parent.value()));
  if (p->ended) return make_error("the parent has ended");
  if (p->canceling) return make_error("a cancel is already under way");
  if (p->market_closed || (p->exec != nullptr && p->exec->algo().done()))
    return make_error("too late: the parent is already ending");
  begin_cancel(*p, why);
  return {};
}

Status Kernel::pause(ParentId parent) {
  Running* p = find(parent);
  if (p == nullptr) return make_error("no parent " + std::to_string(parent.value()));
  if (p->exec == nullptr || p->ended || p->canceling || p->exec->algo().done())
    return make_error("the parent is not working");
  if (p->exec->algo().phase() == AlgoPhase::Paused) return make_error("the parent is already paused");
  mark(*p);
  p->exec->pause(now());
  return {};
}

Status Kernel::resume(ParentId parent) {
  Running* p = find(parent);
  if (p == nullptr) return make_error("no parent " + std::to_string(parent.value()));
  if (p->exec == nullptr || p->ended || p->exec->algo().phase() != AlgoPhase::Paused)
    return make_error("the parent is not paused");
  mark(*p);
  p->exec->resume(market_now(p->instrument));
  return {};
}

void Kernel::cancel_all(const std::string& why) {
  for (std::size_t slot : active_) {
    Running& p = *parents_[slot];
    if (p.ended || p.canceling) continue;
    p.started = true;  // a parent still waiting for its recovery is canceled without starting
    begin_cancel(p, why);
  }
  after_event();
}

// Recorded in the OMS, its algo stopped, and its open children canceled (retried until the gate lets each
// cancel through).
void Kernel::begin_cancel(Running& p, const std::string& why) {
  mark(p);
  p.canceling = true;
  p.cancel_reason = why;
  const oms::ParentRecord* record = manager_.oms().parent(p.id);
  if (p.exec != nullptr && !p.exec->algo().done()) {
    if (auto s = p.exec->cancel(now(), why); !s.ok() && !refused_cancel(s)) check(s);
  } else if (record != nullptr && record->state == oms::ParentState::Working) {
    if (auto s = manager_.cancel_parent(p.id, why, now()); !s.ok() && !refused_cancel(s)) check(s);
  }
  p.sweep = true;
  p.next_sweep_ns = 0;
}

Status Kernel::amend(ParentId parent, Qty qty, Price limit, TimestampNs end_ns) {
  Running* p = find(parent);
  if (p == nullptr) return make_error("no parent " + std::to_string(parent.value()));
  if (p->exec == nullptr) return make_error("the parent is being recovered");
  if (p->ended || p->market_closed || p->exec->algo().done())
    return make_error("too late: the parent is already ending");
  mark(*p);
  // A leg's quantity is what its list's limit is measured against: changed under commitments already made,
  // the list could lean past it.
  if (p->list != nullptr && qty.is_set())
    return make_error("a leg's quantity cannot be amended: it is list " + p->list->terms().id +
                      "'s; cancel the list and send it again");
  if (auto s = p->exec->amend(market_now(p->instrument), qty, limit, end_ns); !s.ok()) {
    check(manager_.flush());
    return s;
  }
  if (end_ns != 0) set_timer(end_ns + kGraceNs, kGrace, timer_index(by_parent_[parent.value()]));
  return {};
}

// --- the market, reports and timers ---

Kernel::InstrumentState& Kernel::state_of(const InstrumentId& instrument) {
  // Most events are about the instrument of the last one.
  if (last_state_ != nullptr && last_state_->instrument == instrument) return *last_state_;
  for (const auto& st : instruments_)
    if (st->instrument == instrument) return *(last_state_ = st.get());
  auto st = std::make_unique<InstrumentState>();
  st->instrument = instrument;
  st->index = instruments_.size();
  PlacerParams params;
  params.flush = false;  // one flush per event, after every parent has acted
  st->placer = std::make_unique<Placer>(config_, manager_, params, options_.cards);
  st->benchmark = benchmark_venue_index(*market_, instrument, benchmark_venue_);
  st->meter = std::make_unique<MarketMeter>(instrument, static_cast<std::size_t>(std::max(0, st->benchmark)),
                                            consolidated_benchmark_);
  const std::size_t index = st->index;
  st->placer->set_wake([this, index](TimestampNs at) { set_timer(at, kPlacer, index); });
  instruments_.push_back(std::move(st));
  return *(last_state_ = instruments_.back().get());
}

std::size_t Kernel::depth_for(InstrumentState& st) const {
  if (!st.depth_stale) return st.depth;
  std::size_t depth = kDefaultDepth;
  for (std::size_t slot : active_) {
    const Running& p = *parents_[slot];
    if (p.exec != nullptr && !p.ended && p.instrument == st.instrument)
      depth = std::max(depth, p.exec->algo().view_depth());
  }
  st.depth = depth;
  st.depth_stale = false;
  return depth;
}

std::vector<VenueView> Kernel::views(const InstrumentId& instrument, std::size_t depth,
                                     int only_venue) const {
  VenueViewOptions options;
  options.only_venue = only_venue;
  options.depth = depth;
  options.allowed = options_.allowed_venues;
  for (const auto& [venue, until] : avoid_until_)
    if (until > now()) options.avoid.push_back(venue);
  options.max_data_age_ns = config_.risk.max_market_data_age_ns;
  options.gate = &gate_;
  auto out = venue_views(*market_, instrument, now(), options);
  // What we learned of each venue's speed replaces its configured latency once there is enough of it.
  if (options_.cards != nullptr)
    for (auto& v : out) v.latency_ns = options_.cards->latency_or(v.venue, v.latency_ns);
  return out;
}

// The views as they stand, kept (the algo's market points at them): one venue's rebuilt on its own event,
// every venue at least each 100 ms and after our own reports.
AlgoMarket Kernel::market_now(const InstrumentId& instrument, int changed_venue) {
  InstrumentState& st = state_of(instrument);
  const TimestampNs t = now();
  const std::size_t depth = depth_for(st);
  if (changed_venue < 0 || st.views.empty() || depth != st.views_depth ||
      t - st.views_full_ns >= kViewsRefreshNs) {
    st.views = views(instrument, depth);
    st.views_full_ns = t;
    st.views_depth = depth;
    for (auto& v : st.views) fill_view_signals(st, v, t);
  } else {
    for (auto& fresh : views(instrument, depth, changed_venue))
      for (auto& cached : st.views)
        if (cached.venue == fresh.venue) {
          cached = std::move(fresh);
          fill_view_signals(st, cached, t);
        }
  }
  return algo_market(st.views, t);
}

Qty Kernel::own_at(const InstrumentState& st, const VenueId& venue, Side side, Price price) const {
  // Only a book that holds our orders needs them taken out (the simulator's shows the others alone).
  if (!market_->books_hold_own_orders() || !price.is_set()) return {};
  return st.placer->own_resting_units(venue, side, price);
}

void Kernel::fill_view_signals(const InstrumentState& st, VenueView& view, TimestampNs now_ns) const {
  if (view.source >= st.signals.size()) return;
  const Price bid = view.bids.empty() ? Price::unset() : view.bids.front().price;
  const Price ask = view.asks.empty() ? Price::unset() : view.asks.front().price;
  fill_signals(view, st.signals[view.source], now_ns, own_at(st, view.venue, Side::Buy, bid),
               own_at(st, view.venue, Side::Sell, ask));
}

std::optional<double> Kernel::record_history(InstrumentState& st, const md::MarketRef& ref,
                                             const md::Event& event, double base) {
  const TimestampNs t = now();
  if (event.kind == md::EventKind::Trade && !(event.flags & md::kFlagSimulated)) {
    st.prints.emplace_back(t, base);
    while (!st.prints.empty() && st.prints.front().first < t - kHistoryNs) st.prints.pop_front();
  }
  if (!consolidated_benchmark_ && static_cast<int>(ref.venue) != st.benchmark) return std::nullopt;
  std::optional<double> mid;
  if (!consolidated_benchmark_ && ref.book != nullptr) {
    const Price b = ref.book->best(Side::Buy), a = ref.book->best(Side::Sell);
    if (b.is_set() && a.is_set()) mid = (b.to_double() + a.to_double()) / 2;
  } else {
    mid = benchmark_mid(*market_, ref.instrument, static_cast<std::size_t>(std::max(0, st.benchmark)),
                        consolidated_benchmark_);
  }
  if (mid && (st.mids.empty() || st.mids.back().second != *mid)) {
    st.mids.emplace_back(t, *mid);
    // The oldest entry stays while it is the mid at the window's start.
    while (st.mids.size() > 1 && st.mids[1].first <= t - kHistoryNs) st.mids.pop_front();
  }
  return mid;
}

void Kernel::on_market_data(const md::MarketRef& ref, const md::Event& event) {
  const md::BookView* book = ref.book != nullptr ? ref.book : market_->book(ref.venue, ref.instrument);
  const TimestampNs t = now();
  if (book != nullptr)
    gate_.on_quote(ref.venue_id, ref.instrument, book->best(Side::Buy), book->best(Side::Sell), t);
  InstrumentState& st = state_of(ref.instrument);
  const bool print = event.kind == md::EventKind::Trade && !(event.flags & md::kFlagSimulated);
  const double base = print && book != nullptr ? to_base(book->listing(), event.qty, event.price) : 0;
  if (st.signals.size() < market_->venue_count()) st.signals.resize(market_->venue_count());
  if (ref.venue < st.signals.size() && book != nullptr) {
    md::BookSignalTracker& signals = st.signals[ref.venue];
    if (print) {
      signals.on_trade(event.side, event.qty, t);
    } else if (book->valid()) {
      const Price bid = book->best(Side::Buy), ask = book->best(Side::Sell);
      const Qty own_bid = own_at(st, ref.venue_id, Side::Buy, bid);
      const Qty own_ask = own_at(st, ref.venue_id, Side::Sell, ask);
      signals.on_touch(bid, std::max(Qty{}, book->best_qty(Side::Buy) - own_bid), ask,
                       std::max(Qty{}, book->best_qty(Side::Sell) - own_ask), book->listing().tick_size);
    }
  }
  const std::optional<double> mid = record_history(st, ref, event, base);
  st.meter->on_event(*market_, ref.venue, print, base, t);
  // Only what watches the market gets it (a sweep waits for its reports: no views are built for it).
  if (st.ended_seen != ended_count_) {
    st.ended_seen = ended_count_;
    std::size_t kept = 0;
    for (const InstrumentState::Watcher& w : st.watchers) {
      Running* p = watching(w.index);
      if (p == nullptr) continue;
      p->watch_pos = kept;
      st.watchers[kept++] = w;
    }
    st.watchers.resize(kept);
  }
  const bool any = !st.watchers.empty() || st.placer->watches_market();
  if (!any) {
    bool waiting = false;  // a parent not started yet looks at every event, so it is among these
    for (const Attention& at : attention_) {
      const Running* p = at.slot < parents_.size() ? parents_[at.slot].get() : nullptr;
      waiting = waiting || (p != nullptr && p->order == at.order && !p->started && !p->ended);
    }
    if (observer_ != nullptr) observer_->on_market_event(ref, event, mid);
    if (waiting) after_event();      // a recovered parent starts on the first event after the reconciliation
    manager_.oms().forget_ended(t);  // a quiet market lets go of ended parents too
    release_forgotten();
    return;
  }
  const AlgoMarket m = market_now(ref.instrument, static_cast<int>(ref.venue));
  st.placer->on_market(st.views, t, &ref.venue_id);
  if (print) st.placer->on_trade(ref.venue_id, event.side, event.price, base, t);
  // By index: an algo's call may start or end parents (the list grows; ended ones stay until the next event).
  for (std::size_t i = 0, n = st.watchers.size(); i < n; ++i) {
    if (!print && !st.watchers[i].interest.wants(m)) continue;  // nothing on this book it would act on
    Running* watcher = watching(st.watchers[i].index);
    if (watcher == nullptr) continue;
    Running& p = *watcher;
    if (print)
      p.exec->algo().on_trade(*p.exec, m, base);
    else
      p.exec->algo().on_market(*p.exec, m);
    refresh_interest(p);
  }
  if (observer_ != nullptr) observer_->on_market_event(ref, event, mid);
  after_event();
}

double Kernel::fill_base(const ExecutionReport& report) const {
  if (report.exec_type != ExecType::Trade) return 0;
  const oms::ChildOrder* child = manager_.oms().child(report.client_order_id);
  const VenueConfig* venue = config_.venue(report.venue);
  const VenueListing* listing =
      venue == nullptr || child == nullptr ? nullptr : venue->listing(child->order.instrument);
  return listing == nullptr ? report.last_qty.to_double()
                            : to_base(*listing, report.last_qty, report.last_price);
}

void Kernel::on_execution_report(const ExecutionReport& report) {
  manager_.on_execution_report(report);
  check(manager_.event_error());
  // A venue that refused our order is avoided for a while (a post-only order the market moved into, or our
  // own gate's refusal, is no fault of the venue's).
  if (report.exec_type == ExecType::Rejected && report.reject_reason != RejectReason::RiskDenied &&
      report.reject_reason != RejectReason::PostOnlyWouldCross)
    avoid_until_[report.venue.str()] = report.received_ns + kAvoidNs;
  // One post-only order the market moved into is the market's doing; a second within a second says the
  // venue's book is ahead of the one we see (a slow feed, our own impact): the venue waits a second rather
  // than take a stream of refusals at the same price.
  if (report.exec_type == ExecType::Rejected && report.reject_reason == RejectReason::PostOnlyWouldCross) {
    TimestampNs& last = last_post_only_reject_[report.venue.str()];
    if (last != 0 && report.received_ns - last < kPostOnlyRepeatNs)
      avoid_until_[report.venue.str()] = report.received_ns + kPostOnlyRepeatNs;
    last = report.received_ns;
  }
  const oms::ChildOrder* child = manager_.oms().child(report.client_order_id);
  if (child == nullptr) return after_event();
  Running* p = find(child->order.parent_id);
  if (p == nullptr) return after_event();
  const bool fresh_fill = report.exec_type == ExecType::Trade &&
                          p->seen_exec.insert(report.venue.str() + "/" + report.exec_id.str()).second;
  const bool repeated_fill = report.exec_type == ExecType::Trade && !fresh_fill;
  const double base = fill_base(report);
  if (options_.cards != nullptr && !repeated_fill) {
    const bool first_answer = p->answered.insert(report.client_order_id.value()).second;
    options_.cards->on_report(report, child->order.sent_ns, first_answer, base);
  }
  InstrumentState& st = state_of(p->instrument);
  st.placer->on_report(report);
  if (observer_ != nullptr) observer_->on_child_report(p->id, report, fresh_fill, base);
  if (p->exec != nullptr && !p->ended && p->exec->algo().acts_on_report(*p->exec)) {
    const AlgoMarket m = market_now(p->instrument);
    if (report.exec_type == ExecType::Trade)
      p->exec->algo().on_fill(*p->exec, m);
    else
      p->exec->algo().on_market(*p->exec, m);
  }
  if (fresh_fill && p->list != nullptr) balance(*p->list);
  after_event();
}

void Kernel::on_venue_status(const VenueStatusReport& status) {
  manager_.on_venue_status(status);
  check(manager_.event_error());
  after_event();
}

void Kernel::on_timer(std::uint64_t id, TimestampNs now_ns) {
  const std::uint64_t kind = id % 8, index = id / 8;
  if (kind == kCall) {
    if (index < calls_.size() && calls_[index]) {
      auto fn = std::move(calls_[index]);
      calls_[index] = nullptr;
      fn(now_ns);
    }
    return after_event();
  }
  if (kind == kPlacer) {
    if (index < instruments_.size()) {
      InstrumentState& st = *instruments_[index];
      (void)market_now(st.instrument);
      st.placer->on_timer(st.views, now_ns);
    }
    return after_event();
  }
  Running* running = running_at(index);
  if (running == nullptr) return;  // a parent that left memory
  Running& p = *running;
  if (p.ended) return;
  mark(p);
  if (kind == kForceEnd) {
    // The venues closed with the data; children they never answered for are left open in the OMS.
    const oms::ParentRecord* record = manager_.oms().parent(p.id);
    std::ostringstream text;
    text << "the recorded data ended with " << (record ? record->executed.to_string() : std::string("0"))
         << " executed; the venues are closed and never answered for its last children";
    end(p, oms::ParentEvent::MarketClosed, text.str());
    return after_event();
  }
  if (p.exec == nullptr) return;
  if (kind == kWake) {
    p.exec->algo().on_timer(*p.exec, market_now(p.instrument));
    if (p.list != nullptr) balance(*p.list);
  }
  if (kind == kGrace && !p.exec->algo().done()) {
    const oms::ParentRecord* record = manager_.oms().parent(p.id);
    if (record != nullptr && now_ns >= record->order.end_ns + kGraceNs)
      p.exec->algo().cancel(
          *p.exec, now_ns,
          "still working " + std::to_string(kGraceNs / kNanosPerSecond) + " s after its end time");
  }
  after_event();
}

void Kernel::note_sent_children(Running& p) {
  if (options_.cards == nullptr) return;
  const oms::ParentRecord* record = manager_.oms().parent(p.id);
  if (record == nullptr) return;
  for (; p.children_noted < record->children.size(); ++p.children_noted) {
    const oms::ChildOrder* c = manager_.oms().child(record->children[p.children_noted]);
    if (c == nullptr) continue;
    const VenueConfig* venue = config_.venue(c->order.venue);
    const VenueListing* listing = venue == nullptr ? nullptr : venue->listing(c->order.instrument);
    options_.cards->on_sent(c->order.venue, listing == nullptr
                                                ? c->order.qty.to_double()
                                                : to_base(*listing, c->order.qty, c->order.price));
  }
}

void Kernel::refresh_interest(Running& p) {
  if (p.watched_in == nullptr || p.exec == nullptr || p.ended) return;
  std::vector<InstrumentState::Watcher>& watchers = p.watched_in->watchers;
  if (p.watch_pos < watchers.size() && running_at(watchers[p.watch_pos].index) == &p)
    watchers[p.watch_pos].interest = p.exec->algo().book_interest();
}

void Kernel::mark(Running& p) {
  if (p.marked || p.ended) return;
  p.marked = true;
  attention_.push_back({p.order, p.slot});
}

bool Kernel::looks_every_event(const Running& p) {
  // Starting (a recovered parent waits for the reconciliation), retrying cancels, waiting for its list's
  // reference price: these look again at each event whatever happened to them.
  return !p.ended && (!p.started || p.sweep || (p.list != nullptr && !p.priced));
}

// After each event: the journal committed and requests sent (one flush for every parent), then each parent
// that has finished says so, and the observer may tell what is now durable. The parents looked at are those
// something happened to (a record of theirs, their children's or their algo's; the kernel's own doing) and
// those that look at every event: in acceptance order, a parent touched while the pass is on is looked at in
// this pass when it comes later in that order and at the next event otherwise, as a pass over every parent
// would; a parent nothing happened to has nothing to do here.
void Kernel::after_event() {
  check(manager_.flush());
  const auto later = [](const Attention& a, const Attention& b) { return a.order > b.order; };
  const auto take_touched = [&](std::uint64_t after_order) {
    manager_.take_touched_parents(touched_);
    for (std::uint64_t id : touched_) {
      Running* p = find(ParentId(id));
      if (p == nullptr || p->ended) continue;
      if (p->order > after_order && !p->marked) {
        p->marked = true;
        looking_.push_back({p->order, p->slot});
        std::push_heap(looking_.begin(), looking_.end(), later);
      } else {
        mark(*p);  // at the next event
      }
    }
  };
  looking_.clear();
  looking_.swap(attention_);
  std::make_heap(looking_.begin(), looking_.end(), later);
  take_touched(0);
  while (!looking_.empty()) {
    std::pop_heap(looking_.begin(), looking_.end(), later);
    const Attention at = looking_.back();
    looking_.pop_back();
    Running* running = at.slot < parents_.size() ? parents_[at.slot].get() : nullptr;
    if (running == nullptr || running->order != at.order) continue;  // its slot was freed meanwhile
    Running& p = *running;
    p.marked = false;
    if (!p.ended) {
      if (!p.started && !manager_.reconciling()) start(p);
      if (p.exec != nullptr) check(p.exec->check_journal());
      if (p.exec != nullptr) price_leg(p);  // a list leg's reference price, until it has one
      note_sent_children(p);
      if (p.sweep) sweep_cancels(p);
      maybe_end(p);
      refresh_interest(p);
    }
    take_touched(p.order);
    if (looks_every_event(p)) mark(p);
  }
  // Ended parents leave the list of working ones; memory, once the OMS has forgotten them.
  if (ended_since_prune_) {
    ended_since_prune_ = false;
    std::erase_if(active_, [&](std::size_t slot) {
      if (!parents_[slot]->ended) return false;
      ended_.push_back(slot);
      return true;
    });
  }
  release_forgotten();
  const Status committed = manager_.flush();
  check(committed);
  if (!committed.ok() || !error_.ok()) return;  // what could not be made durable is never told
  if (observer_ != nullptr) observer_->after_commit(now());
}

void Kernel::on_durable() {
  const oms::Journal& journal = manager_.journal();
  check(journal.writer_error());
  const std::uint64_t durable = journal.durable_seq();
  if (durable == durable_seen_) return;
  durable_seen_ = durable;
  manager_.release_durable();
  if (error_.ok() && observer_ != nullptr) observer_->after_commit(now());
}

void Kernel::sweep_cancels(Running& p) {
  if (now() < p.next_sweep_ns) return;
  const bool everything = p.canceling || p.market_closed || p.exec == nullptr || p.exec->algo().done();
  bool open_left = false;
  for (const oms::ChildOrder* c : manager_.oms().children_of(p.id)) {
    if (!c->open()) continue;
    const bool orphan = p.orphans.count(c->order.client_order_id.value()) != 0;
    if (!everything && !orphan) continue;
    open_left = true;
    if (c->status == OrderStatus::PendingCancel) continue;
    if (auto s = manager_.cancel_child(c->order.client_order_id, now()); !s.ok() && !refused_cancel(s))
      check(s);
  }
  p.sweep = open_left;
  p.next_sweep_ns = now() + kSweepNs;
}

// What happened to the parent, once its algo is done and its children are closed; the OMS's parent
// lifecycle table says what that makes it.
void Kernel::maybe_end(Running& p) {
  if (p.ended || !p.started) return;
  // While its algo works the parent goes on (its children are looked at only once the algo is done).
  if (p.exec != nullptr && !p.exec->algo().done()) return;
  for (const oms::ChildOrder* c : manager_.oms().children_of(p.id))
    if (c->open()) {
      if (!p.sweep) p.sweep = true;  // what the placer could not cancel is retried here
      return;
    }
  const oms::ParentRecord* record = manager_.oms().parent(p.id);
  if (record == nullptr) return;
  const std::string algo_text = p.exec != nullptr ? p.exec->algo().done_text() : std::string();
  if (record->executed >= record->order.qty) return end(p, oms::ParentEvent::ExecutedInFull, "filled");
  if (p.exec != nullptr && p.exec->algo().completed())
    return end(p, oms::ParentEvent::RemainderUnsendable, algo_text);
  if (p.canceling) {
    // A restored algo that was done already has no words of its own: the cancel's reason says it.
    std::ostringstream text;
    text << "canceled (" << p.cancel_reason << "): " << record->executed.to_string() << " executed";
    return end(p, oms::ParentEvent::CancelCompleted, algo_text.empty() ? text.str() : algo_text);
  }
  if (p.market_closed) {
    std::ostringstream text;
    text << "the recorded data ended with " << record->executed.to_string()
         << " executed; the venues are closed";
    return end(p, oms::ParentEvent::MarketClosed, text.str());
  }
  // What lots and contracts left over is no order any venue takes: the parent is done.
  const Qty left = record->order.qty - record->executed;
  const InstrumentState& st = state_of(p.instrument);
  const Qty smallest = smallest_sendable(st.views, record->order.side, VenueScope::Listed);
  if (smallest.is_positive() && left < smallest)
    return end(p, oms::ParentEvent::RemainderUnsendable,
               "filled but for " + left.to_string() + ", below what any venue takes");
  end(p, oms::ParentEvent::AlgoEnded, algo_text);
}

void Kernel::end(Running& p, oms::ParentEvent event, const std::string& text) {
  if (p.ended) return;
  if (p.list != nullptr)
    if (const oms::ParentRecord* record = manager_.oms().parent(p.id)) {
      // What the leg executed counts in its list from now on, after the OMS forgets it too (journaled, for
      // a restart).
      p.list->set_final(p.id, record->executed);
      check(manager_.record_algo_state(
          p.id, "list", "list " + p.list->terms().id + " ended executed=" + record->executed.to_string(),
          now()));
    }
  check(manager_.end_parent(p.id, event, text, now()));
  check(manager_.flush());
  p.ended = true;
  ended_since_prune_ = true;
  ++ended_count_;
  state_of(p.instrument).depth_stale = true;
  if (observer_ != nullptr) observer_->on_parent_ended(p.id, now());
}

void Kernel::data_ended() {
  if (market_closed_) return;
  market_closed_ = true;
  for (std::size_t slot : active_) {
    Running& p = *parents_[slot];
    if (p.ended) continue;
    mark(p);
    p.market_closed = true;
    p.started = true;  // a parent still waiting for its recovery will not start now
    if (p.exec != nullptr && !p.exec->algo().done())
      p.exec->algo().cancel(*p.exec, now(), "the recorded data ended");
    p.sweep = true;
    p.next_sweep_ns = 0;
    set_timer(now() + kForceEndNs, kForceEnd, timer_index(slot));
  }
  after_event();
}

void Kernel::reopen(md::MarketSource& market) {
  market_ = &market;
  market_closed_ = false;
  for (auto& st : instruments_) {
    st->views.clear();
    st->views_full_ns = 0;
  }
}

std::size_t Kernel::close_children_of_restarted_venues(const std::set<std::string>& outliving) {
  std::vector<ExecutionReport> closing;
  for (const oms::ChildOrder* c : manager_.oms().open_children()) {
    if (outliving.count(c->order.venue.str()) != 0) continue;  // reconciled with the venue instead
    ExecutionReport r;
    r.client_order_id = c->order.client_order_id;
    r.exec_id = ExecId("restart-" + std::to_string(c->order.client_order_id.value()));
    r.venue = c->order.venue;
    r.instrument = c->order.instrument;
    r.exec_type = ExecType::Canceled;
    r.status = OrderStatus::Canceled;
    r.side = c->order.side;
    r.order_price = c->order.price;
    r.order_qty = c->order.qty;
    r.cum_qty = c->cum_qty;
    r.leaves_qty = Qty();
    r.text = FixedString<95>("the simulated venue restarted with the server");
    r.venue_ns = now();
    r.received_ns = now();
    closing.push_back(r);
  }
  for (const auto& r : closing) manager_.on_execution_report(r);
  check(manager_.event_error());
  check(manager_.flush());
  return closing.size();
}

Status Kernel::recover(const oms::Journal& journal) {
  // Each working parent's algo's latest saved state and the reason of a cancel under way, as the journal
  // has them.
  std::map<std::uint64_t, std::string> cancel_reasons, saved;
  std::map<std::uint64_t, ParentEstimate> estimates;
  std::map<std::uint64_t, AutoChoice> choices;
  std::map<std::uint64_t, Price> references;
  std::map<std::uint64_t, Qty> finals;                  // list legs that ended, what they executed
  std::map<std::uint64_t, oms::ParentOrder> list_legs;  // every accepted leg of a list, as accepted
  auto replayed = journal.replay([&](const oms::Record& record) -> Status {
    if (const auto* order = std::get_if<oms::ParentOrder>(&record.body)) {
      if (auto terms = list_terms(order->params); terms && *terms) list_legs[order->id.value()] = *order;
      return {};
    }
    if (const auto* cancel = std::get_if<oms::ParentCancelRequest>(&record.body)) {
      cancel_reasons[cancel->id.value()] = cancel->reason;
      return {};
    }
    const auto* change = std::get_if<oms::AlgoStateChange>(&record.body);
    if (change == nullptr) return {};
    if (auto state = Algo::saved_state_in(change->detail)) saved[change->id.value()] = *state;
    if (change->state == "estimate")
      if (auto e = ParentEstimate::from_detail(change->detail)) estimates[change->id.value()] = *e;
    if (change->state == "auto")
      if (auto c = AutoChoice::from_detail(change->detail)) choices[change->id.value()] = *c;
    if (change->state == "list") {
      if (auto r = reference_in(change->detail)) references[change->id.value()] = *r;
      if (auto e = ended_executed_in(change->detail)) finals[change->id.value()] = *e;
    }
    return {};
  });
  if (!replayed.ok()) return replayed;
  // Every list's legs, as the journal has them (ended ones too, even those the OMS has forgotten: what they
  // executed still counts in their list).
  for (const auto& [id, order] : list_legs) {
    ListBalance& list = list_of(list_terms(order.params).value().value());
    list.add_leg(order.id, order.side, order.qty);
    if (auto r = references.find(id); r != references.end()) list.set_reference(order.id, r->second);
    const oms::ParentRecord* record = manager_.oms().parent(order.id);
    if (auto f = finals.find(id); f != finals.end())
      list.set_final(order.id, f->second);
    else if (record != nullptr && oms::is_final(record->state))
      list.set_final(order.id, record->executed);
  }
  for (const auto& [id, record] : manager_.oms().parents()) {
    if (oms::is_final(record.state) || by_parent_.count(id) != 0) continue;
    auto p = std::make_unique<Running>();
    p->id = record.order.id;
    p->instrument = record.order.instrument;
    if (auto st = saved.find(id); st != saved.end()) p->saved_state = st->second;
    if (auto e = estimates.find(id); e != estimates.end()) p->estimate = e->second;
    if (auto c = choices.find(id); c != choices.end()) p->auto_choice = c->second;
    if (auto terms = list_terms(record.order.params); terms && *terms) p->list = &list_of(**terms);
    if (record.state == oms::ParentState::PendingCancel) {
      p->canceling = true;
      p->cancel_reason = cancel_reasons.count(id) ? cancel_reasons[id] : "canceled";
    }
    place(std::move(p));
  }
  return {};
}

}  // namespace tranche::ems
