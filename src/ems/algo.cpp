#include "ems/algo.hpp"

#include "ems/list_balance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <sstream>

#include "core/config.hpp"
#include "core/text.hpp"
#include "ems/algo_evidence.hpp"

namespace tranche::ems {
namespace {

constexpr int kEndWaves = 10;  // sweeps at the end of the horizon before what is left is reported
// Between two sweeps the book gets time to refill what the last one took.
constexpr DurationNs kEndSweepGapNs = 500 * kNanosPerMilli;

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

Status parse_double(const std::string& key, const std::string& value, double lo, double hi, double& out) {
  try {
    std::size_t used = 0;
    const double v = std::stod(value, &used);
    if (used != value.size() || !std::isfinite(v)) throw std::invalid_argument(value);
    if (v < lo || v > hi) {
      Text range(-1);
      range << key << " = " << value << " is outside " << lo << " to " << hi;
      return make_error(range.str());
    }
    out = v;
    return {};
  } catch (const std::exception&) {
    return make_error(key + " = '" + value + "' is not a number");
  }
}

// A whole number within [lo, hi] (offset_ticks, seed, signal_wait_behind_ticks).
Status parse_whole(const std::string& key, const std::string& value, double lo, double hi, double& out) {
  Status s = parse_double(key, value, lo, hi, out);
  if (s.ok() && out != std::floor(out)) s = make_error(key + " must be a whole number");
  return s;
}

struct Registry {
  std::mutex mutex;
  std::map<std::string, std::pair<AlgoFactory, std::vector<std::string>>> algos;
};
Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

const char* to_string(EndBehaviour behaviour) {
  return behaviour == EndBehaviour::Finish ? "finish" : "leave";
}

const char* to_string(AlgoPhase phase) {
  switch (phase) {
    case AlgoPhase::Waiting:
      return "waiting";
    case AlgoPhase::Working:
      return "working";
    case AlgoPhase::Paused:
      return "paused";
    case AlgoPhase::Ending:
      return "ending";
    case AlgoPhase::Done:
      return "done";
  }
  return "?";
}

Result<AlgoParams> parse_algo_params(const std::vector<oms::AlgoParam>& params,
                                     const std::vector<std::string>& own_keys) {
  AlgoParams p;
  for (std::size_t i = 0; i < params.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (params[i].key == params[j].key) return make_error(params[i].key + " is given twice");
  for (const auto& [key, value] : params) {
    Status s;
    double d = 0;
    if (key == "min_participation" || key == "max_participation" || key == "pov_rate") {
      s = parse_double(key, value, 0, 1, d);
      if (s.ok() && key == "pov_rate" && d <= 0) s = make_error("pov_rate must be above 0");
      if (s.ok())
        (key == "pov_rate"            ? p.pov_rate
         : key == "min_participation" ? p.min_participation
                                      : p.max_participation) = d;
    } else if (key == "end_share") {
      s = parse_double(key, value, 0, 1, p.end_share);
    } else if (key == "replan_ratio") {
      if (value == "off") {
        p.replan_ratio = 0;
      } else {
        s = parse_double(key, value, 1, 100, p.replan_ratio);
        if (s.ok() && p.replan_ratio <= 1) s = make_error("replan_ratio must be above 1 (or off)");
      }
    } else if (key == "randomize") {
      s = parse_double(key, value, 0, 0.9, p.randomize);
    } else if (key == "tolerance") {
      s = parse_double(key, value, 0, 0.5, p.tolerance);
    } else if (key == "display") {
      s = parse_double(key, value, 0, 1e12, p.display);
    } else if (key == "risk_aversion") {
      s = parse_double(key, value, 0, 1, p.risk_aversion);
    } else if (key == "volatility") {
      s = parse_double(key, value, 0, 1e9, p.volatility);
    } else if (key == "impact") {
      s = parse_double(key, value, 0, 1e9, p.impact);
    } else if (key == "offset_ticks") {
      s = parse_whole(key, value, 0, 100, d);
      p.offset_ticks = static_cast<int>(d);
    } else if (key == "seed") {
      s = parse_whole(key, value, 0, 9e15, d);
      p.seed = static_cast<std::uint64_t>(d);
    } else if (key == "would_price") {
      if (!Price::parse(value, p.would_price) || !p.would_price.is_positive())
        s = make_error("would_price '" + value + "' is not a price");
    } else if (key == "urgency") {
      if (value == "passive")
        p.urgency = Urgency::Passive;
      else if (value == "aggressive")
        p.urgency = Urgency::Aggressive;
      else if (value == "peg")
        p.urgency = Urgency::Peg;
      else
        s = make_error("urgency must be passive, aggressive or peg, not '" + value + "'");
    } else if (key == "signal_wait_ticks") {
      s = parse_double(key, value, 0, 1000, p.signal.wait_ticks);
    } else if (key == "signal_pull_ticks") {
      s = parse_double(key, value, 0, 1000, p.signal.pull_ticks);
    } else if (key == "signal_improve_ticks") {
      s = parse_double(key, value, 0, 1000, p.signal.improve_ticks);
    } else if (key == "signal_cross_ticks") {
      if (value == "off")
        p.signal.cross_margin_ticks = std::numeric_limits<double>::infinity();
      else
        s = parse_double(key, value, 0, 1000, p.signal.cross_margin_ticks);
    } else if (key == "signal_max_wait") {
      auto dur = parse_duration(value);
      if (!dur || *dur < 0 || *dur > 60 * kNanosPerSecond)
        s = make_error("signal_max_wait must be a duration from 0 to 60s, not '" + value + "'");
      else
        p.signal.max_wait_ns = *dur;
    } else if (key == "signal_wait_behind_ticks") {
      s = parse_whole(key, value, 0, 100, d);
      p.signal.wait_behind_ticks = static_cast<int>(d);
    } else if (key == "signal_actions_per_minute") {
      s = parse_double(key, value, 0, 600, p.signal.actions_per_minute);
    } else if (key == "signal_imbalance_weight") {
      s = parse_double(key, value, 0, 10, p.signal.imbalance_weight);
    } else if (key == "signals") {
      if (value == "on")
        p.signals = true;
      else if (value == "off")
        p.signals = false;
      else
        s = make_error("signals must be on or off, not '" + value + "'");
    } else if (key == "at_end") {
      if (value == "finish")
        p.at_end = EndBehaviour::Finish;
      else if (value == "leave")
        p.at_end = EndBehaviour::Leave;
      else
        s = make_error("at_end must be finish or leave, not '" + value + "'");
    } else if (key == "slice") {
      auto dur = parse_duration(value);
      if (!dur || *dur <= 0)
        s = make_error("slice '" + value + "' is not a positive duration");
      else if (*dur < kMinSliceNs)
        // Every slice wakes the algo and sends orders: a shorter one would spin the kernel on timers and ask
        // the venues for more orders than any rate budget allows (Binance spot: 10 a second).
        s = make_error("slice '" + value + "' is shorter than the shortest slice, 100ms");
      else
        p.slice_ns = *dur;
    } else if (key == "seek_size") {
      s = parse_double(key, value, 1, 1000, p.seek_size);
    } else if (key == "seek_imbalance") {
      if (value == "off")
        p.seek_imbalance = 2;
      else
        s = parse_double(key, value, 0, 1, p.seek_imbalance);
    } else if (key == "seek_max_cost") {
      s = parse_double(key, value, -1000, 1000, p.seek_max_cost_bps);
    } else if (key == "seek_lookback") {
      auto dur = parse_duration(value);
      if (!dur || *dur < kNanosPerSecond || *dur > 3600 * kNanosPerSecond)
        s = make_error("seek_lookback must be a duration from 1s to 1h, not '" + value + "'");
      else
        p.seek_lookback_ns = *dur;
    } else if (key == "profile") {
      std::istringstream in(value);
      std::string item;
      double sum = 0;
      while (s.ok() && std::getline(in, item, ',')) {
        s = parse_double("profile", item, 0, 1e15, d);
        p.profile.push_back(d);
        sum += d;
      }
      if (s.ok() && sum <= 0) s = make_error("profile needs a positive weight");
      if (s.ok() && p.profile.size() > 1'000) s = make_error("profile has more than 1,000 weights");
    } else if (std::find(own_keys.begin(), own_keys.end(), key) != own_keys.end()) {
      p.extra[key] = value;
    } else {
      s = make_error("unknown algo parameter '" + key + "'");
    }
    if (!s.ok()) return make_error(s.message());
  }
  if (p.max_participation > 0 && p.min_participation > p.max_participation)
    return make_error("min_participation is above max_participation");
  return p;
}

AlgoMarket algo_market(const std::vector<VenueView>& views, TimestampNs now_ns) {
  AlgoMarket m;
  m.now_ns = now_ns;
  m.views = &views;
  auto base_of = [](const VenueView& v, const md::Level& l) {
    return base_from_units(v.listing, l.qty, l.price);
  };
  for (const VenueView& v : views) {
    if (!v.tradable) continue;
    if (m.tick == 0 || v.listing.tick_size.to_double() < m.tick) m.tick = v.listing.tick_size.to_double();
    if (!v.bids.empty()) {
      const md::Level& b = v.bids.front();
      if (!m.bid.is_set() || b.price > m.bid) {
        m.bid = b.price;
        m.bid_base = Qty{};
      }
      if (b.price == m.bid) m.bid_base += base_of(v, b);
    }
    if (!v.asks.empty()) {
      const md::Level& a = v.asks.front();
      if (!m.ask.is_set() || a.price < m.ask) {
        m.ask = a.price;
        m.ask_base = Qty{};
      }
      if (a.price == m.ask) m.ask_base += base_of(v, a);
    }
  }
  return m;
}

Algo::Algo(std::string name, const oms::ParentOrder& parent, AlgoParams params)
    : name_(std::move(name)), side_(parent.side), qty_(parent.qty), params_(std::move(params)) {
  params_.start_ns = parent.start_ns;
  params_.end_ns = parent.end_ns;
  params_.limit = parent.limit;
  rng_ = params_.seed * 0x9E3779B97F4A7C15ULL + 1;
}

Price Algo::within_limit(Price price) const {
  if (!params_.limit.is_set()) return price;
  return side_ == Side::Buy ? std::min(price, params_.limit) : std::max(price, params_.limit);
}

double Algo::uniform() {
  return static_cast<double>(splitmix(rng_) >> 11) * (1.0 / 9007199254740992.0);
}

double Algo::jitter() {
  return 1 + params_.randomize * (2 * uniform() - 1);
}

Qty Algo::min_slice(const AlgoMarket& market) const {
  return market.views == nullptr ? Qty{} : smallest_sendable(*market.views, side_);
}

Qty Algo::open_intents(AlgoHost& host) {
  // Intents once done stay done: they leave the list (so this costs what is working, not the order's
  // history), but what their children still have at the venues counts until it is reported.
  for (std::size_t id : intents_)
    if (host.intent_state(id).done) draining_.push_back(id);
  std::erase_if(intents_, [&](std::size_t id) { return host.intent_state(id).done; });
  std::erase_if(draining_, [&](std::size_t id) { return !host.intent_in_flight(id).is_positive(); });
  Qty open;
  for (std::size_t id : intents_) {
    const IntentState& st = host.intent_state(id);
    open += std::max(Qty{}, st.qty - st.filled);
  }
  for (std::size_t id : draining_) open += host.intent_in_flight(id);
  // Children of no intent of ours (left by a process that died) count too.
  return std::max(open, host.in_flight());
}

void Algo::cancel_open_intents(AlgoHost& host, TimestampNs now_ns) {
  for (std::size_t id : intents_)
    if (!host.intent_state(id).done) host.cancel_intent(id, now_ns);
}

std::size_t Algo::submit(AlgoHost& host, const AlgoMarket& market, Qty base, Urgency urgency,
                         TimestampNs deadline_ns, Price limit) {
  Intent in;
  in.side = side_;
  in.qty = base;
  in.limit = limit;
  in.urgency = urgency;
  in.deadline_ns = deadline_ns;
  in.offset_ticks = params_.offset_ticks;
  in.signals = params_.signals;
  in.signal = params_.signal;
  const std::size_t id = host.submit(in, market);
  intents_.push_back(id);
  return id;
}

void Algo::note(AlgoHost& host, const std::string& state, const std::string& detail, TimestampNs now_ns) {
  Text line(-1);
  line << detail << kStateMarker;
  save_into(line);
  host.journal(state, line.str(), now_ns);
}

void Algo::finish(AlgoHost& host, TimestampNs now_ns, bool completed, const std::string& text) {
  if (phase_ == AlgoPhase::Done) return;
  phase_ = AlgoPhase::Done;
  completed_ = completed;
  done_text_ = text;
  note(host, "done", text, now_ns);
}

void Algo::on_start(AlgoHost& host, const AlgoMarket& market) {
  if (phase_ != AlgoPhase::Waiting) return;
  if (market.now_ns < params_.start_ns) {
    host.wake_at(params_.start_ns);
    return;
  }
  phase_ = AlgoPhase::Working;
  std::ostringstream why;
  why << name_ << " " << (side_ == Side::Buy ? "buy " : "sell ") << qty_.to_string() << " to "
      << (params_.end_ns ? format_time(params_.end_ns) : std::string("no end")) << ", at the end "
      << to_string(params_.at_end);
  note(host, "started", why.str(), market.now_ns);
  work(host, market);
}

void Algo::on_timer(AlgoHost& host, const AlgoMarket& market) {
  if (phase_ == AlgoPhase::Waiting) return on_start(host, market);
  if (phase_ == AlgoPhase::Ending) return check_done(host, market);
  if (phase_ == AlgoPhase::Paused && params_.end_ns != 0 && market.now_ns >= params_.end_ns) {
    Text why(-1);
    why << "paused at its end time, " << (qty_ - host.executed()).to_string() << " left";
    return finish(host, market.now_ns, false, why.str());
  }
  if (phase_ != AlgoPhase::Working) return;
  if (params_.end_ns != 0 && market.now_ns >= params_.end_ns) return end_of_horizon(host, market);
  if (market.now_ns + kNanosPerMilli < next_wake_ns_) return;  // an earlier wake, superseded
  work(host, market);
}

Algo::BookInterest Algo::book_interest() const {
  // As on_market reads it.
  BookInterest interest;
  if (phase_ == AlgoPhase::Ending || (phase_ == AlgoPhase::Working && (!watches_market() || reads_books()))) {
    interest.every = true;
  } else if (phase_ == AlgoPhase::Working && params_.would_price.is_set()) {
    (side_ == Side::Buy ? interest.ask_at_or_below : interest.bid_at_or_above) = params_.would_price;
  }
  return interest;
}

void Algo::on_market(AlgoHost& host, const AlgoMarket& market) {
  if (phase_ == AlgoPhase::Ending) return check_done(host, market);
  // An algo that does not watch the market hears on_market only for its children's reports: it works on each.
  if (phase_ == AlgoPhase::Working && !watches_market()) return work(host, market);
  if (phase_ != AlgoPhase::Working || !market.valid()) return;
  // The would-price: when the market comes to it, everything not yet working is taken at once.
  const bool there = params_.would_price.is_set() && (side_ == Side::Buy ? market.ask <= params_.would_price
                                                                         : market.bid >= params_.would_price);
  if (!there) return on_book(host, market);
  const Qty left = qty_ - host.executed() - open_intents(host);
  if (left < std::max(min_slice(market), kQtyStep)) return on_book(host, market);
  submit(host, market, left, Urgency::Aggressive, 0, within_limit(params_.would_price));
  note(host, "would-price", "the market reached " + params_.would_price.to_string(), market.now_ns);
}

void Algo::on_trade(AlgoHost& host, const AlgoMarket& market, double others_base) {
  if (phase_ == AlgoPhase::Waiting || phase_ == AlgoPhase::Done) return;
  others_volume_ += base_from_model(others_base);
  if (phase_ == AlgoPhase::Working && reacts_to_trades()) work(host, market);
}

void Algo::on_fill(AlgoHost& host, const AlgoMarket& market) {
  if (phase_ == AlgoPhase::Done) return;
  if (host.executed() >= qty_) {
    cancel_open_intents(host, market.now_ns);
    return finish(host, market.now_ns, true, "filled");
  }
  if (phase_ == AlgoPhase::Ending) return check_done(host, market);
  // A schedule slices on its clock, not on each fill; an iceberg refills when its slice is done.
  if (phase_ == AlgoPhase::Working && works_on_fills()) work(host, market);
}

void Algo::wake_once(AlgoHost& host, TimestampNs at_ns) {
  // Ending is checked on every market event: one wake for a given time is enough.
  if (ending_wake_ns_ >= at_ns && ending_wake_ns_ != 0) return;
  ending_wake_ns_ = at_ns;
  host.wake_at(at_ns);
}

void Algo::end_of_horizon(AlgoHost& host, const AlgoMarket& market) {
  phase_ = AlgoPhase::Ending;
  cancel_open_intents(host, market.now_ns);
  note(host, "end of horizon", std::string("at the end: ") + to_string(params_.at_end), market.now_ns);
  check_done(host, market);
}

void Algo::check_done(AlgoHost& host, const AlgoMarket& market) {
  // Ending: every intent is over and nothing is in flight before the last sweep goes, so it cannot overfill.
  if (phase_ != AlgoPhase::Ending) return;
  for (std::size_t id : intents_)
    if (!host.intent_state(id).done) return;
  if (host.in_flight().is_positive()) return;
  const Qty left = qty_ - host.executed();
  if (!left.is_positive()) return finish(host, market.now_ns, true, "filled");
  std::ostringstream text;
  text << left.to_string() << " left";
  if (params_.at_end == EndBehaviour::Leave)
    return finish(host, market.now_ns, false, text.str() + " at the end time, as asked");
  if (left < min_slice(market)) {
    std::ostringstream filled;
    filled << "filled but for " << left.to_string() << ", below what any venue takes";
    return finish(host, market.now_ns, true, filled.str());
  }
  if (!market.valid()) {
    wake_once(host, market.now_ns + kNanosPerSecond);  // no tradable price now: look again
    return;
  }
  if (end_waves_ >= kEndWaves)
    return finish(
        host, market.now_ns, false,
        text.str() + " after " + std::to_string(end_waves_) + " sweeps at the end" +
            (params_.limit.is_set() ? " (within the limit " + params_.limit.to_string() + ")" : ""));
  if (end_waves_ > 0 && market.now_ns < last_sweep_ns_ + kEndSweepGapNs) {
    wake_once(host, last_sweep_ns_ + kEndSweepGapNs);
    return;
  }
  ++end_waves_;
  last_sweep_ns_ = market.now_ns;
  submit(host, market, left, Urgency::Aggressive, 0, params_.limit);
  host.wake_at(market.now_ns + kNanosPerSecond);  // a sweep that finds nothing still ends
}

DurationNs Algo::slice_ns() const {
  if (params_.slice_ns > 0) return params_.slice_ns;
  const DurationNs horizon = params_.end_ns > params_.start_ns ? params_.end_ns - params_.start_ns : 0;
  return std::clamp<DurationNs>(horizon / 12, 2 * kNanosPerSecond, 60 * kNanosPerSecond);
}

Qty Algo::target(TimestampNs t, const AlgoMarket& market) const {
  (void)market;
  if (params_.end_ns <= params_.start_ns) return qty_;
  const double share =
      static_cast<double>(t - params_.start_ns) / static_cast<double>(params_.end_ns - params_.start_ns);
  return base_from_model(qty_.to_double() * std::clamp(share, 0.0, 1.0));
}

void Algo::work(AlgoHost& host, const AlgoMarket& market) {
  const TimestampNs now = market.now_ns;
  const Qty executed = host.executed();
  Qty open = open_intents(host);
  const DurationNs slice = static_cast<DurationNs>(static_cast<double>(slice_ns()) * jitter());
  const TimestampNs next = params_.end_ns ? std::min(params_.end_ns, now + slice) : now + slice;
  Qty due_now = std::min(qty_, target(now, market));
  Qty due_next = std::min(qty_, target(next, market));
  // Participation bounds count others' volume so far.
  const double others = others_volume_.to_double();
  if (params_.max_participation > 0) {
    due_now = std::min(due_now, base_from_model(params_.max_participation * others));
    due_next =
        std::min(due_next, base_from_model(params_.max_participation * expected_volume_by(next, market)));
  }
  if (params_.min_participation > 0) {
    due_now = std::max(due_now, std::min(qty_, base_from_model(params_.min_participation * others)));
    due_next = std::max(due_next, due_now);
  }
  scheduled_ = due_now;
  const Qty tolerance = base_from_model(params_.tolerance * qty_.to_double());
  const Qty smallest = std::max(min_slice(market), kQtyStep);
  Text why(4);
  why << "due " << due_now.to_double() << " by now, " << due_next.to_double() << " in "
      << static_cast<double>(next - now) / kNanosPerSecond << " s; executed " << executed.to_double()
      << ", working " << open.to_double();
  bool acted = false;
  // Behind by more than the tolerance: catch up now, in one sweep.
  const Qty behind = due_now - executed - open;
  if (behind > tolerance && behind >= smallest) {
    submit(host, market, behind, Urgency::Aggressive, 0, params_.limit);
    open += behind;
    why << "; behind by " << behind.to_double() << ": catch up";
    acted = true;
  }
  // The next slice, sized (randomly) towards the schedule and never past it by more than the tolerance.
  Qty slice_base = base_from_model((due_next - executed - open).to_double() * jitter());
  slice_base = std::min(slice_base, due_next + tolerance - executed - open);
  slice_base = std::min(slice_base, qty_ - executed - open);
  if (slice_base >= smallest) {
    submit(host, market, slice_base, params_.urgency, next, params_.limit);
    why << "; slice " << slice_base.to_double() << " " << to_string(params_.urgency);
    acted = true;
  }
  next_wake_ns_ = next;
  host.wake_at(next);
  if (acted) note(host, "slice", why.str(), now);
}

void Algo::pause(AlgoHost& host, TimestampNs now_ns) {
  if (phase_ != AlgoPhase::Working && phase_ != AlgoPhase::Waiting) return;
  cancel_open_intents(host, now_ns);
  paused_while_waiting_ = phase_ == AlgoPhase::Waiting;
  phase_ = AlgoPhase::Paused;
  if (params_.end_ns != 0) host.wake_at(params_.end_ns);  // to say so if it is still paused then
  note(host, "paused", "its children are canceled", now_ns);
}

void Algo::resume(AlgoHost& host, const AlgoMarket& market) {
  if (phase_ != AlgoPhase::Paused) return;
  if (paused_while_waiting_) {
    phase_ = AlgoPhase::Waiting;  // it never started: it starts now, or at its start time
    note(host, "resumed", "", market.now_ns);
    return on_start(host, market);
  }
  phase_ = AlgoPhase::Working;
  note(host, "resumed", "", market.now_ns);
  if (params_.end_ns != 0 && market.now_ns >= params_.end_ns) return end_of_horizon(host, market);
  next_wake_ns_ = 0;
  work(host, market);
}

Status Algo::can_amend(AlgoHost& host, const AlgoMarket& market, std::optional<Qty> qty, Price limit,
                       TimestampNs end_ns) const {
  if (phase_ == AlgoPhase::Done) return make_error("the algo is done");
  if (!qty && !limit.is_set() && end_ns == 0) return make_error("nothing to amend");
  if (qty && *qty < host.executed() + host.in_flight())
    return make_error("cannot amend to " + qty->to_string() + ", below the " + host.executed().to_string() +
                      " executed and " + host.in_flight().to_string() + " at the venues");
  if (end_ns != 0 && (end_ns <= market.now_ns || end_ns <= params_.start_ns))
    return make_error("the new end time has passed");
  return {};
}

Status Algo::amend(AlgoHost& host, const AlgoMarket& market, std::optional<Qty> qty, Price limit,
                   TimestampNs end_ns) {
  if (auto s = can_amend(host, market, qty, limit, end_ns); !s) return s;
  // Children working at the old terms are pulled; the algo re-plans on the new ones.
  cancel_open_intents(host, market.now_ns);
  if (qty) qty_ = *qty;
  if (limit.is_set()) params_.limit = limit;
  if (end_ns != 0) params_.end_ns = end_ns;
  std::ostringstream why;
  why << "qty " << qty_.to_string() << ", limit "
      << (params_.limit.is_set() ? params_.limit.to_string() : "none") << ", end "
      << (params_.end_ns ? format_time(params_.end_ns) : "none");
  note(host, "amended", why.str(), market.now_ns);
  if (host.executed() >= qty_) {
    finish(host, market.now_ns, true, "filled (amended to what was executed)");
  } else if (phase_ == AlgoPhase::Working) {
    next_wake_ns_ = 0;
    work(host, market);
  } else if (phase_ == AlgoPhase::Paused && params_.end_ns != 0) {
    host.wake_at(params_.end_ns);  // the new end: still paused then, it ends there
  } else if (phase_ == AlgoPhase::Ending && end_ns != 0) {
    phase_ = AlgoPhase::Working;  // a later end: back to the schedule
    end_waves_ = 0;
    next_wake_ns_ = 0;
    work(host, market);
  }
  return {};
}

void Algo::cancel(AlgoHost& host, TimestampNs now_ns, const std::string& why) {
  if (phase_ == AlgoPhase::Done) return;
  cancel_open_intents(host, now_ns);
  std::ostringstream text;
  text << "canceled (" << why << "): " << host.executed().to_string() << " executed, "
       << std::max(Qty{}, qty_ - host.executed()).to_string() << " left";
  finish(host, now_ns, false, text.str());
}

std::string Algo::save() const {
  Text out(-1);
  save_into(out);
  return out.take();
}

void Algo::save_into(Text& out) const {
  // key=value; pairs: times and counts as integers (exact), quantities in their shortest exact form.
  out << "phase=" << static_cast<int>(phase_) << ";qty=" << qty_.to_string()
      << ";others_volume=" << others_volume_.to_string() << ";end_waves=" << end_waves_
      << ";end_ns=" << params_.end_ns << ";next_wake_ns=" << next_wake_ns_
      << ";last_sweep_ns=" << last_sweep_ns_ << ";scheduled=" << scheduled_.to_string() << ";";
  if (params_.limit.is_set()) out << "limit_raw=" << params_.limit.raw() << ";";
  save_more(out);
  out << "rng=" << rng_;
}

std::optional<std::string> Algo::saved_state_in(const std::string& detail) {
  const auto at = detail.rfind(kStateMarker);
  if (at == std::string::npos) return std::nullopt;
  return detail.substr(at + std::string_view(kStateMarker).size());
}

Status Algo::restore(const std::string& saved) {
  std::istringstream in(saved_state_in(saved).value_or(saved));
  std::map<std::string, double> values;
  std::map<std::string, std::string> raw;
  std::string item;
  while (std::getline(in, item, ';')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) return make_error("algo state: '" + item + "' is not key=value");
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    try {
      std::size_t used = 0;
      values[key] = std::stod(value, &used);
      if (used != value.size()) throw std::invalid_argument(value);
      raw[key] = value;
    } catch (const std::exception&) {
      return make_error("algo state: '" + item + "' is not a number");
    }
  }
  for (const char* key : {"phase", "qty", "others_volume", "end_waves", "end_ns", "rng"})
    if (values.count(key) == 0) return make_error(std::string("algo state: no ") + key);
  const int phase = static_cast<int>(values["phase"]);
  if (phase < 0 || phase > static_cast<int>(AlgoPhase::Done)) return make_error("algo state: bad phase");
  auto integer = [&](const char* key) -> std::int64_t {
    auto it = raw.find(key);
    return it == raw.end() ? 0 : std::stoll(it->second);
  };
  phase_ = static_cast<AlgoPhase>(phase);
  // Quantities were saved exact; a number an older version wrote with more places reads to the finest step.
  qty_ = base_from_model(values["qty"]);
  others_volume_ = base_from_model(values["others_volume"]);
  end_waves_ = static_cast<std::uint64_t>(integer("end_waves"));
  params_.end_ns = integer("end_ns");
  next_wake_ns_ = integer("next_wake_ns");
  last_sweep_ns_ = integer("last_sweep_ns");
  scheduled_ = base_from_model(values.count("scheduled") ? values["scheduled"] : 0);
  if (raw.count("limit_raw")) params_.limit = Price::from_raw(integer("limit_raw"));
  rng_ = std::stoull(raw["rng"]);
  // Intents belonged to the process that died; its children were reconciled by the OMS.
  intents_.clear();
  draining_.clear();
  restore_more(values);
  return {};
}

void Algo::on_restart(AlgoHost& host, const AlgoMarket& market) {
  std::ostringstream why;
  why << "resumed from the journal, " << to_string(phase_) << ", " << host.executed().to_string()
      << " executed";
  note(host, "restarted", why.str(), market.now_ns);
  switch (phase_) {
    case AlgoPhase::Waiting:
      return on_start(host, market);
    case AlgoPhase::Working:
      if (params_.end_ns != 0 && market.now_ns >= params_.end_ns) return end_of_horizon(host, market);
      next_wake_ns_ = 0;
      return work(host, market);
    case AlgoPhase::Ending:
      check_done(host, market);
      host.wake_at(market.now_ns + kNanosPerSecond);
      return;
    case AlgoPhase::Paused:
      if (params_.end_ns != 0) host.wake_at(std::max(params_.end_ns, market.now_ns));
      return;
    case AlgoPhase::Done:
      return;
  }
}

void register_algo(const std::string& name, AlgoFactory factory, std::vector<std::string> own_keys) {
  std::lock_guard lock(registry().mutex);
  registry().algos[name] = {std::move(factory), std::move(own_keys)};
}

void register_builtin_algo(const std::string& name, AlgoFactory factory) {
  std::lock_guard lock(registry().mutex);
  registry().algos.try_emplace(name, std::move(factory), std::vector<std::string>{});
}

std::vector<std::string> algo_names() {
  register_builtin_algos();
  std::lock_guard lock(registry().mutex);
  std::vector<std::string> names;
  for (const auto& [name, entry] : registry().algos) names.push_back(name);
  // The kernel chooses one of them for an auto parent (ems/algo_evidence.hpp).
  names.insert(std::lower_bound(names.begin(), names.end(), std::string(kAutoAlgo)), kAutoAlgo);
  return names;
}

Result<std::unique_ptr<Algo>> make_algo(const oms::ParentOrder& parent) {
  register_builtin_algos();
  AlgoFactory factory;
  std::vector<std::string> own_keys;
  {
    std::lock_guard lock(registry().mutex);
    auto it = registry().algos.find(parent.algo);
    if (it == registry().algos.end()) return make_error("unknown algo '" + parent.algo + "'");
    factory = it->second.first;
    own_keys = it->second.second;
  }
  // A list's terms are the kernel's, not the algo's.
  oms::ParentOrder own = parent;
  own.params = without_list_terms(parent.params);
  auto params = parse_algo_params(own.params, own_keys);
  if (!params) return make_error(parent.algo + ": " + params.error().message);
  auto made = factory(own, *params);
  if (!made) return make_error(parent.algo + ": " + made.error().message);
  return made;
}

}  // namespace tranche::ems
