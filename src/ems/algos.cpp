// The built-in algos: market, twap, vwap, pov, is (arrival price), iceberg, peg and seek.
#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>

#include "ems/algo.hpp"
#include "ems/almgren_chriss.hpp"

namespace tranche::ems {
namespace {

constexpr int kProfileBuckets = 12;

double seconds(DurationNs d) {
  return static_cast<double>(d) / kNanosPerSecond;
}

// Others' base per second over the minute before `start`, measured from the first print in it; 0 when that
// spans a second or less.
double rate_before(const History& prints, TimestampNs start) {
  const TimestampNs from = start - 60 * kNanosPerSecond;
  double total = 0;
  TimestampNs first = start;
  for (const auto& [t, base] : prints)
    if (t >= from && t < start) {
      total += base;
      first = std::min(first, t);
    }
  return start - first > kNanosPerSecond ? total / seconds(start - first) : 0;
}

// Others' base expected by t (pov's forecast, seek's participation cap): what was seen since the start, and
// ahead of now the rate seen so far, or before 10 s have passed the rate of the minute before the start.
double expected_others(const AlgoParams& params, double others, double rate_before_start, TimestampNs now,
                       TimestampNs t) {
  const double elapsed = seconds(now - params.start_ns);
  const double per_s = elapsed > 10 ? others / elapsed : rate_before_start;
  return others + (t > now ? per_s * seconds(t - now) : 0);
}

// pov's and seek's floor: the base wanted executed by t on the straight line to (1 - end_share) of `qty` by
// the end; none with end_share 1 or without an end time.
double end_share_floor(const AlgoParams& params, double qty, TimestampNs t) {
  if (params.end_share >= 1 || params.end_ns <= params.start_ns) return 0;
  const double elapsed =
      std::clamp(seconds(t - params.start_ns) / seconds(params.end_ns - params.start_ns), 0.0, 1.0);
  return qty * (1 - params.end_share) * elapsed;
}

// Whether the parent's own parameters name `key` (a default an algo chooses differently applies only when
// not).
bool given(const oms::ParentOrder& parent, const char* key) {
  return std::any_of(parent.params.begin(), parent.params.end(),
                     [&](const oms::AlgoParam& p) { return p.key == key; });
}

// market: the whole parent at once, one sweep routed across the venues by the router (router.hpp), each
// venue's piece an IOC at the worst level it takes there, timed to arrive with the others. What a wave
// leaves (the book moved, a venue refused) goes in another, up to three; a remainder below what any venue
// takes ends it filled. Its end time cancels what is still out.
class MarketSweep final : public Algo {
 public:
  static constexpr int kMaxWaves = 3;
  MarketSweep(const oms::ParentOrder& parent, AlgoParams params) : Algo("market", parent, std::move(params)) {
    params_.at_end = EndBehaviour::Leave;
    params_.randomize = 0;
  }
  std::size_t view_depth() const override { return 200; }
  bool watches_market() const override { return false; }
  bool acts_on_report(const AlgoHost& host) const override {
    return waves_ == 0 || (host.intent_state(wave_).done && !host.in_flight().is_positive());
  }

 protected:
  bool works_on_fills() const override { return true; }
  void work(AlgoHost& host, const AlgoMarket& market) override {
    if (waves_ == 0 && params_.end_ns != 0) host.wake_at(params_.end_ns);
    if (waves_ > 0 && !host.intent_state(wave_).done) return;
    if (host.in_flight().is_positive()) return;  // the last wave's reports are still on their way
    const Qty left = qty_ - host.executed();
    if (!left.is_positive()) return finish(host, market.now_ns, true, "filled");
    if (waves_ > 0) {
      const std::vector<VenueView> none;
      const std::vector<VenueView>& views = market.views != nullptr ? *market.views : none;
      if (std::none_of(views.begin(), views.end(), [](const VenueView& v) { return v.tradable; }))
        return finish(host, market.now_ns, false, "no venue it may go to can trade now");
      // A halted venue's lot still says what is too small to send.
      const Qty smallest = smallest_sendable(views, side_, VenueScope::Listed);
      if (left < smallest) {
        return finish(host, market.now_ns, true,
                      "filled but for " + left.to_string() + ", below what any venue takes");
      }
      if (waves_ >= kMaxWaves || host.intent_state(wave_).children == 0) {
        const IntentState& last = host.intent_state(wave_);
        return finish(host, market.now_ns, false,
                      last.refusals > 0 ? last.last_decision : std::string("nothing more could be sent"));
      }
    }
    Intent in;
    in.side = side_;
    in.qty = left;
    in.limit = params_.limit;
    in.urgency = Urgency::Aggressive;
    in.arrive_together = true;
    wave_ = host.submit(in, market);
    intents_.push_back(wave_);
    ++waves_;
    // A wave that found nothing to take (the limit is through every book, the gate refused it) is over at
    // once: no report will come to say so.
    if (host.intent_state(wave_).done) work(host, market);
  }
  void save_more(Text& out) const override { out << "waves=" << waves_ << ";"; }
  void restore_more(const std::map<std::string, double>& from) override {
    // The waves of the process that died were reconciled by the OMS: what is left goes in new waves.
    waves_ = 0;
    (void)from;
  }

 private:
  int waves_ = 0;
  std::size_t wave_ = 0;
};

// TWAP: an even schedule over the horizon (the base class's default target).
class Twap final : public Algo {
 public:
  Twap(const oms::ParentOrder& parent, AlgoParams params) : Algo("twap", parent, std::move(params)) {}
};

// VWAP: follows a volume profile made only of data from before the start (the given weights, or the shape of
// the traded volume over the same length of time just before the start), re-forecast as volume comes in: the
// schedule at t is the volume traded so far plus the forecast to t, over the volume so far plus the forecast
// to the end, with the forecast scaled by how the realised volume runs against it.
class Vwap final : public Algo {
 public:
  Vwap(const oms::ParentOrder& parent, AlgoParams params) : Algo("vwap", parent, std::move(params)) {
    if (!params_.profile.empty()) set_profile(params_.profile, 0);
  }

  void on_history(const History& prints, const History& mids) override {
    (void)mids;
    if (!params_.profile.empty() || params_.end_ns <= params_.start_ns) return;
    const DurationNs horizon = params_.end_ns - params_.start_ns;
    const TimestampNs from = params_.start_ns - horizon;
    std::vector<double> weights(kProfileBuckets, 0.0);
    double total = 0;
    TimestampNs first = params_.start_ns;
    for (const auto& [t, base] : prints) {
      if (t < from || t >= params_.start_ns) continue;
      first = std::min(first, t);
      const auto b = static_cast<std::size_t>((t - from) * kProfileBuckets / horizon);
      weights[std::min<std::size_t>(b, kProfileBuckets - 1)] += base;
      total += base;
    }
    if (total <= 0) return;
    // Less history than the horizon: the buckets it did not reach get the mean of those it did (not a
    // shape it never saw), and the volume it saw is scaled to the full length.
    const double covered = seconds(params_.start_ns - first) / seconds(horizon);
    const auto first_bucket = std::min<std::size_t>(
        static_cast<std::size_t>((first - from) * kProfileBuckets / horizon), kProfileBuckets - 1);
    double seen = 0;
    for (std::size_t b = first_bucket; b < kProfileBuckets; ++b) seen += weights[b];
    const double mean_seen = seen / static_cast<double>(kProfileBuckets - first_bucket);
    for (std::size_t b = 0; b < first_bucket; ++b) weights[b] = mean_seen;
    for (double& w : weights) w += total * 1e-3;  // no bucket forecast to be empty
    set_profile(weights, covered > 0.05 ? total / std::min(1.0, covered) : 0);
  }

 protected:
  Qty target(TimestampNs t, const AlgoMarket& market) const override {
    if (params_.end_ns <= params_.start_ns || t >= params_.end_ns) return qty_;
    const double p_now = share_by(std::max(market.now_ns, params_.start_ns));
    const double p_t = std::max(p_now, share_by(t));
    const double v = others_volume_.to_double(), qty = qty_.to_double();
    // How the realised volume runs against the forecast, trusted more as more of the horizon is seen.
    double pace = 1;
    if (forecast_total_ > 0 && p_now > 0) {
      const double raw = std::clamp(v / (forecast_total_ * p_now), 0.25, 4.0);
      pace = 1 + (raw - 1) * std::min(1.0, p_now / 0.25);
    }
    double rest = forecast_total_ * pace;
    if (forecast_total_ <= 0) {
      if (p_now < 0.05 || v <= 0)
        return base_from_model(qty * p_t);  // nothing to scale by yet: the profile alone
      rest = v / p_now;
    }
    const double to_t = v + rest * (p_t - p_now);
    const double to_end = v + rest * (1 - p_now);
    return base_from_model(to_end > 0 ? qty * to_t / to_end : qty * p_t);
  }

  void save_more(Text& out) const override {
    out << "forecast_total=" << forecast_total_ << ";";
    for (std::size_t i = 0; i < cumulative_.size(); ++i)
      out << "profile_" << 10000 + i << "=" << cumulative_[i] << ";";
  }
  void restore_more(const std::map<std::string, double>& from) override {
    if (auto it = from.find("forecast_total"); it != from.end()) forecast_total_ = it->second;
    std::vector<double> cumulative;
    for (const auto& [k, v] : from)
      if (k.rfind("profile_", 0) == 0) cumulative.push_back(v);  // fixed-width keys sort in bucket order
    if (!cumulative.empty()) cumulative_ = cumulative;
  }

 private:
  void set_profile(const std::vector<double>& weights, double forecast_total) {
    double sum = 0;
    for (double w : weights) sum += w;
    cumulative_.assign(1, 0.0);
    double run = 0;
    for (double w : weights) cumulative_.push_back((run += w) / sum);
    forecast_total_ = forecast_total;
  }
  // The profile's share of the horizon's volume by t.
  double share_by(TimestampNs t) const {
    const double x =
        std::clamp(seconds(t - params_.start_ns) / seconds(params_.end_ns - params_.start_ns), 0.0, 1.0);
    if (cumulative_.size() < 2) return x;
    const double pos = x * static_cast<double>(cumulative_.size() - 1);
    const auto i = std::min(static_cast<std::size_t>(pos), cumulative_.size() - 2);
    return cumulative_[i] + (cumulative_[i + 1] - cumulative_[i]) * (pos - static_cast<double>(i));
  }

  std::vector<double> cumulative_;  // 0 .. 1 at the bucket edges
  double forecast_total_ = 0;       // others' volume expected over the horizon (0: unknown)
};

// POV: a target share of others' volume since the start (our own fills never count), between the minimum and
// maximum participation when given. Ahead of the next wake the volume is forecast at its recent rate. A floor
// keeps what is left for the final cross to at most end_share of the parent: where others' volume is too
// thin for the rate to finish in time, the schedule becomes a straight line to (1 - that share) by the end.
class Pov final : public Algo {
 public:
  Pov(const oms::ParentOrder& parent, AlgoParams params) : Algo("pov", parent, std::move(params)) {}

  void on_history(const History& prints, const History& mids) override {
    (void)mids;
    rate_per_s_ = rate_before(prints, params_.start_ns);
  }

 protected:
  Qty target(TimestampNs t, const AlgoMarket& market) const override {
    double rate = params_.pov_rate;
    if (params_.max_participation > 0) rate = std::min(rate, params_.max_participation);
    rate = std::max(rate, params_.min_participation);
    const double by_volume = rate * expected_volume_by(t, market);
    return std::min(qty_,
                    base_from_model(std::max(by_volume, end_share_floor(params_, qty_.to_double(), t))));
  }
  double expected_volume_by(TimestampNs t, const AlgoMarket& market) const override {
    return expected_others(params_, others_volume_.to_double(), rate_per_s_, market.now_ns, t);
  }
  DurationNs slice_ns() const override {
    return params_.slice_ns > 0 ? params_.slice_ns : 5 * kNanosPerSecond;
  }
  void save_more(Text& out) const override { out << "rate_per_s=" << rate_per_s_ << ";"; }
  void restore_more(const std::map<std::string, double>& from) override {
    if (auto it = from.find("rate_per_s"); it != from.end()) rate_per_s_ = it->second;
  }

 private:
  double rate_per_s_ = 0;  // others' base per second before the start
};

// Arrival price (implementation shortfall): the Almgren-Chriss trajectory for the risk aversion, the
// volatility (from the mids before the start when not given) and the temporary impact (from the depth near
// the mid when not given), front-loaded as risk aversion grows. While it works it keeps measuring both: the
// volatility of the mids since its start and the depth at each slice. When either has moved beyond a factor
// of `replan_ratio` from what the trajectory assumed, it re-plans what is left over the time that is left.
class ArrivalPrice final : public Algo {
 public:
  // The volatility seen since the start is trusted once it rests on this many one-second changes.
  static constexpr std::uint64_t kMinSamples = 20;
  // Plans are at least this far apart: a model re-fitted on every slice would chase noise.
  static constexpr DurationNs kMinReplanGapNs = 20 * kNanosPerSecond;

  ArrivalPrice(const oms::ParentOrder& parent, AlgoParams params) : Algo("is", parent, std::move(params)) {}

  void on_history(const History& prints, const History& mids) override {
    (void)prints;
    if (params_.volatility > 0) return;
    // The standard deviation of one-second mid changes over the five minutes before the start.
    const TimestampNs from = params_.start_ns - 300 * kNanosPerSecond;
    std::vector<double> grid;
    std::size_t i = 0;
    double last = 0;
    for (TimestampNs t = from; t < params_.start_ns; t += kNanosPerSecond) {
      while (i < mids.size() && mids[i].first <= t) last = mids[i++].second;
      if (last > 0) grid.push_back(last);
    }
    if (grid.size() < 10) return;
    double sum = 0, sq = 0;
    for (std::size_t k = 1; k < grid.size(); ++k) {
      const double d = grid[k] - grid[k - 1];
      sum += d;
      sq += d * d;
    }
    const double n = static_cast<double>(grid.size() - 1);
    sigma_ = std::sqrt(std::max(0.0, sq / n - (sum / n) * (sum / n)));
  }

 protected:
  Qty target(TimestampNs t, const AlgoMarket& market) const override {
    (void)market;
    if (params_.end_ns <= params_.start_ns) return qty_;
    // From the plan's start: what was due then, plus the trajectory over what was left then.
    const TimestampNs from = plan_ns_ > 0 ? plan_ns_ : params_.start_ns;
    const double T = seconds(params_.end_ns - from);
    const double due_then = plan_base_.to_double();
    const double left_then = qty_.to_double() - due_then;
    return base_from_model(due_then + left_then * (1 - ac_remaining_share(kappa_, T, seconds(t - from))));
  }

  bool reads_books() const override { return true; }
  void on_book(AlgoHost& host, const AlgoMarket& market) override {
    (void)host;
    // The volatility since the start: the mid of the best bid and offer across the tradable venues, sampled
    // once a second. (Before the start it was the benchmark venue's mid, which the kernel's history keeps.)
    if (!market.valid() || market.now_ns < next_sample_ns_) return;
    const double mid = market.mid();
    if (last_sample_mid_ > 0) {
      const double d = mid - last_sample_mid_;
      ++samples_;
      sum_ += d;
      sum_sq_ += d * d;
    }
    last_sample_mid_ = mid;
    next_sample_ns_ = (next_sample_ns_ == 0 ? market.now_ns : next_sample_ns_) + kNanosPerSecond;
    if (next_sample_ns_ <= market.now_ns) next_sample_ns_ = market.now_ns + kNanosPerSecond;  // a quiet gap
  }

  void work(AlgoHost& host, const AlgoMarket& market) override {
    if (!modelled_) {
      model(host, market);
    } else if (params_.replan_ratio > 0 && market.now_ns >= plan_ns_ + kMinReplanGapNs &&
               market.now_ns < params_.end_ns) {
      replan_if_changed(host, market);
    }
    Algo::work(host, market);
  }

  void save_more(Text& out) const override {
    out << "kappa=" << kappa_ << ";modelled=" << (modelled_ ? 1 : 0) << ";sigma_plan=" << sigma_plan_
        << ";eta_plan=" << eta_plan_ << ";plan_ns=" << plan_ns_ << ";plan_base=" << plan_base_.to_string()
        << ";replans=" << replans_ << ";";
  }
  void restore_more(const std::map<std::string, double>& from) override {
    auto get = [&](const char* key, double fallback) {
      auto it = from.find(key);
      return it == from.end() ? fallback : it->second;
    };
    kappa_ = get("kappa", kappa_);
    modelled_ = get("modelled", modelled_ ? 1 : 0) != 0;
    sigma_plan_ = get("sigma_plan", sigma_plan_);
    eta_plan_ = get("eta_plan", eta_plan_);
    plan_ns_ = static_cast<TimestampNs>(get("plan_ns", static_cast<double>(plan_ns_)));
    plan_base_ = base_from_model(get("plan_base", plan_base_.to_double()));
    replans_ = static_cast<std::uint64_t>(get("replans", static_cast<double>(replans_)));
  }

 private:
  // The temporary impact the book implies now: base shown within 10 bps of the mid on the side it takes, per
  // unit of price. Taking at a rate v for the book's refill time (about a second) walks v / (2 D) into it.
  double eta_from_depth(const AlgoMarket& market) const {
    if (market.views == nullptr || !market.valid()) return 0;
    const double mid = market.mid(), band = mid * 10e-4;
    double base = 0;
    for (const VenueView& v : *market.views) {
      if (!v.tradable) continue;
      for (const md::Level& l : side_ == Side::Buy ? v.asks : v.bids) {
        if (std::abs(l.price.to_double() - mid) > band) break;
        base += base_from_units(v.listing, l.qty, l.price).to_double();
      }
    }
    return base > 0 ? 1.0 / (2 * base / band) : 0;
  }

  double kappa_for(double sigma, double eta, double T) const {
    const double tau = std::max(1.0, seconds(slice_ns()));
    if (!(sigma > 0 && eta > 0 && params_.risk_aversion > 0)) return 0;
    AcInputs in;
    in.X = (qty_ - plan_base_).to_double();
    in.T = T;
    in.N = std::max(1, static_cast<int>(std::lround(T / tau)));
    in.sigma = sigma;
    in.eta = eta;
    in.lambda = params_.risk_aversion;
    return almgren_chriss(in).kappa;
  }

  void model(AlgoHost& host, const AlgoMarket& market) {
    modelled_ = true;
    sigma_plan_ = params_.volatility > 0 ? params_.volatility : sigma_;
    eta_plan_ = params_.impact > 0 ? params_.impact : eta_from_depth(market);
    plan_ns_ = params_.start_ns;
    plan_base_ = Qty{};
    const double T = std::max(1.0, seconds(params_.end_ns - params_.start_ns));
    kappa_ = kappa_for(sigma_plan_, eta_plan_, T);
    std::ostringstream why;
    why << "sigma " << sigma_plan_ << " per sqrt(s), eta " << eta_plan_ << ", lambda "
        << params_.risk_aversion << ": kappa " << kappa_ << " per s ("
        << (kappa_ * T < 1e-6 ? "straight line" : "front-loaded") << ")";
    note(host, "model", why.str(), market.now_ns);
  }

  // Re-plans what is left when the market is no longer the one the plan assumed: the volatility seen since
  // the start (unless given) or the depth now (unless given) beyond replan_ratio from the plan's.
  void replan_if_changed(AlgoHost& host, const AlgoMarket& market) {
    double sigma = sigma_plan_, eta = eta_plan_;
    if (params_.volatility <= 0 && samples_ >= kMinSamples) {
      const double n = static_cast<double>(samples_);
      sigma = std::sqrt(std::max(0.0, sum_sq_ / n - (sum_ / n) * (sum_ / n)));
    }
    if (params_.impact <= 0)
      if (const double now_eta = eta_from_depth(market); now_eta > 0) eta = now_eta;
    auto moved = [&](double now, double assumed) {
      if (now <= 0 || assumed <= 0) return now > 0 && assumed <= 0;  // first known: a plan at last
      const double r = now / assumed;
      return r > params_.replan_ratio || r < 1 / params_.replan_ratio;
    };
    const bool sigma_moved = moved(sigma, sigma_plan_), eta_moved = moved(eta, eta_plan_);
    if (!sigma_moved && !eta_moved) return;
    const Qty due_now = std::min(qty_, target(market.now_ns, market));
    const double old_kappa = kappa_;
    std::ostringstream why;
    why << (sigma_moved ? "volatility" : "") << (sigma_moved && eta_moved ? " and " : "")
        << (eta_moved ? "depth" : "") << " moved: sigma " << sigma_plan_ << " -> " << sigma
        << " per sqrt(s), eta " << eta_plan_ << " -> " << eta;
    plan_ns_ = market.now_ns;
    plan_base_ = due_now;
    sigma_plan_ = sigma;
    eta_plan_ = eta;
    const double T = std::max(1.0, seconds(params_.end_ns - market.now_ns));
    kappa_ = kappa_for(sigma, eta, T);
    ++replans_;
    why << ": kappa " << old_kappa << " -> " << kappa_ << " per s over the " << T << " s left, from "
        << due_now.to_double() << " due";
    note(host, "re-model", why.str(), market.now_ns);
  }

  double sigma_ = 0;  // estimated before the start
  double kappa_ = 0;
  bool modelled_ = false;
  // The plan in force: what it assumed, when it began and what was due then.
  double sigma_plan_ = 0, eta_plan_ = 0;
  TimestampNs plan_ns_ = 0;
  Qty plan_base_;
  std::uint64_t replans_ = 0;
  // One-second mid changes since the start.
  TimestampNs next_sample_ns_ = 0;
  double last_sample_mid_ = 0, sum_ = 0, sum_sq_ = 0;
  std::uint64_t samples_ = 0;
};

// Iceberg: one displayed slice at a time, the rest hidden; the next slice goes when the last is done, each
// of a randomised size around the display.
class Iceberg final : public Algo {
 public:
  Iceberg(const oms::ParentOrder& parent, AlgoParams params) : Algo("iceberg", parent, std::move(params)) {}

 protected:
  void work(AlgoHost& host, const AlgoMarket& market) override {
    const TimestampNs now = market.now_ns;
    next_wake_ns_ = params_.end_ns ? std::min(params_.end_ns, now + slice_ns()) : now + slice_ns();
    host.wake_at(next_wake_ns_);
    if (!display_.is_positive())
      display_ = params_.display > 0 ? base_from_model(params_.display)
                                     : (side_ == Side::Buy ? market.bid_base : market.ask_base);
    if (!display_.is_positive()) return;
    const Qty smallest = std::max(min_slice(market), kQtyStep);
    // A slice filled but for less than any venue takes (lots and contracts round it) is done: the next one
    // goes now rather than after the placer gives up on the dust.
    const Qty open = open_intents(host);
    if (open >= smallest) return;
    if (open.is_positive()) cancel_open_intents(host, now);
    const Qty left = qty_ - host.executed() - host.in_flight();
    if (left < smallest) return;
    Qty size = std::min(left, std::max(smallest, base_from_model(display_.to_double() * jitter())));
    if (left - size < smallest) size = left;  // no remainder too small to send
    const Urgency urgency = params_.urgency == Urgency::Peg ? Urgency::Peg : Urgency::Passive;
    submit(host, market, size, urgency, params_.at_end == EndBehaviour::Finish ? params_.end_ns : 0,
           params_.limit);
    Text why(-1);
    why << "shows " << size.to_double() << " of " << left.to_double() << " left";
    note(host, "slice", why.str(), now);
  }
  DurationNs slice_ns() const override {
    return params_.slice_ns > 0 ? params_.slice_ns : 5 * kNanosPerSecond;
  }
  bool works_on_fills() const override { return true; }
  void save_more(Text& out) const override { out << "display=" << display_.to_string() << ";"; }
  void restore_more(const std::map<std::string, double>& from) override {
    if (auto it = from.find("display"); it != from.end()) display_ = base_from_model(it->second);
  }

 private:
  Qty display_;
};

// Peg: rests at the touch (or improves it by offset_ticks) and follows it, within the limit.
class Peg final : public Algo {
 public:
  Peg(const oms::ParentOrder& parent, AlgoParams params) : Algo("peg", parent, std::move(params)) {}

 protected:
  void work(AlgoHost& host, const AlgoMarket& market) override {
    next_wake_ns_ =
        params_.end_ns ? std::min(params_.end_ns, market.now_ns + slice_ns()) : market.now_ns + slice_ns();
    host.wake_at(next_wake_ns_);
    if (open_intents(host).is_positive()) return;
    const Qty left = qty_ - host.executed();
    if (left < std::max(min_slice(market), kQtyStep)) return;
    submit(host, market, left, Urgency::Peg, params_.at_end == EndBehaviour::Finish ? params_.end_ns : 0,
           params_.limit);
    Text why(-1);
    why << "pegs " << left.to_double()
        << (params_.offset_ticks > 0
                ? ", improving the touch by " + std::to_string(params_.offset_ticks) + " tick(s)"
                : ", joining the touch");
    note(host, "slice", why.str(), market.now_ns);
  }
  DurationNs slice_ns() const override {
    return params_.slice_ns > 0 ? params_.slice_ns : 5 * kNanosPerSecond;
  }
  bool works_on_fills() const override { return true; }
};

// Seek (liquidity seeking): rests what is left where the placer expects it to fill soonest for the least, and
// takes liquidity when a venue's book offers it cheaply: the side it would take showing well above its recent
// size, or leaning toward being taken away, at a spread no wider than usual there, when taking costs little
// more than resting (half the spread, the taker fee over the maker fee). It keeps between the minimum and the
// maximum participation; at its end time it finishes or leaves what is left.
class Seek final : public Algo {
 public:
  // Between two takes the book gets time to show again what it holds.
  static constexpr DurationNs kTakeGapNs = kNanosPerSecond;
  // Resting children pulled to free room for a take stay off this long at most: the take goes as soon as the
  // cancels are reported, or the opportunity has gone and they rest again.
  static constexpr DurationNs kPullHoldNs = 500 * kNanosPerMilli;
  // A venue's recent level is not trusted before it has been watched this long (or the lookback, if shorter).
  static constexpr DurationNs kWarmUpNs = 10 * kNanosPerSecond;

  Seek(const oms::ParentOrder& parent, AlgoParams params) : Algo("seek", parent, std::move(params)) {
    // Resting follows the touch unless asked otherwise; "aggressive" would not rest at all.
    if (!given(parent, "urgency") || params_.urgency == Urgency::Aggressive) params_.urgency = Urgency::Peg;
    // No floor unless asked: on the bundled market a floor's catch-ups cost more than they saved
    // (docs/algos.md, "seek").
    if (!given(parent, "end_share")) params_.end_share = 1;
  }

  void on_history(const History& prints, const History& mids) override {
    (void)mids;
    // Others' volume rate over the minute before the start: the maximum participation's first forecast.
    rate_per_s_ = rate_before(prints, params_.start_ns);
  }

 protected:
  DurationNs slice_ns() const override {
    return params_.slice_ns > 0 ? params_.slice_ns : 5 * kNanosPerSecond;
  }
  bool works_on_fills() const override { return true; }

  void work(AlgoHost& host, const AlgoMarket& market) override {
    const TimestampNs now = market.now_ns;
    next_wake_ns_ = params_.end_ns ? std::min(params_.end_ns, now + slice_ns()) : now + slice_ns();
    host.wake_at(next_wake_ns_);
    if (taking(host)) return;
    // Behind the minimum participation, or the floor that leaves at most end_share for the final cross,
    // beyond the tolerance: the shortfall is taken now.
    double due = params_.min_participation * others_volume_.to_double();
    const char* what = "the minimum participation";
    if (const double floor = end_share_floor(params_, qty_.to_double(), now); floor > due) {
      due = floor;
      what = "its floor";
    }
    const Qty behind = std::min(qty_, base_from_model(due)) - host.executed() - working_aggressively(host);
    if (behind.to_double() > params_.tolerance * qty_.to_double() && behind >= min_slice(market)) {
      Text why(-1);
      why << "behind " << what << " by " << behind.to_double();
      if (take(host, market, behind, params_.limit, why.str())) return;
    }
    rest(host, market);
  }

  bool reads_books() const override { return true; }
  void on_book(AlgoHost& host, const AlgoMarket& market) override {
    observe(market);
    if (taking(host)) return;
    const TimestampNs now = market.now_ns;
    if (pulled_until_ns_ != 0 && now >= pulled_until_ns_) pulled_until_ns_ = 0;
    if (now >= last_take_ns_ + kTakeGapNs)
      if (const auto found = opportunity(market)) {
        const VenueView& v = (*market.views)[found->view];
        Text why(2);
        why << "on " << v.venue.view() << ": " << found->base << " shown at " << found->price.to_string()
            << ", " << found->size_ratio << "x its recent size, leaning " << found->lean << ", spread "
            << found->spread_ticks << " ticks, taking costs " << found->extra_bps << " bps over resting";
        const Qty want = std::min(qty_ - host.executed(), base_from_model(found->base));
        if (take(host, market, want, within_limit(found->price), why.str())) return;
      }
    // Nothing resting (a take just ended, or what was pulled for one is free again): rest what is left.
    if (pulled_until_ns_ == 0 && !resting(host)) rest(host, market);
  }

  void save_more(Text& out) const override {
    out << "takes=" << takes_ << ";rate_per_s=" << rate_per_s_ << ";";
  }
  void restore_more(const std::map<std::string, double>& from) override {
    if (auto it = from.find("takes"); it != from.end()) takes_ = static_cast<std::uint64_t>(it->second);
    if (auto it = from.find("rate_per_s"); it != from.end()) rate_per_s_ = it->second;
    // The books' recent levels are not kept: they are watched afresh, and no take goes before they are
    // known again.
    take_.reset();
    rest_.clear();
  }

 private:
  // A venue's recent touch: time-weighted averages of what the side we take shows and of the spread.
  struct Watch {
    TimestampNs first_ns = 0, last_ns = 0;
    double far_base = 0, spread_ticks = 0;          // as last seen
    double far_base_avg = 0, spread_ticks_avg = 0;  // over about seek_lookback
  };
  struct Opportunity {
    std::size_t view = 0;
    Price price;
    double base = 0, size_ratio = 0, lean = 0, spread_ticks = 0, extra_bps = 0;
  };

  static const md::Level* first(const std::vector<md::Level>& side) {
    return side.empty() ? nullptr : &side.front();
  }

  void observe(const AlgoMarket& market) {
    if (market.views == nullptr) return;
    const double lookback = static_cast<double>(params_.seek_lookback_ns);
    for (const VenueView& v : *market.views) {
      const md::Level* far = first(side_ == Side::Buy ? v.asks : v.bids);
      const md::Level* near = first(side_ == Side::Buy ? v.bids : v.asks);
      if (far == nullptr || near == nullptr || !v.listing.tick_size.is_positive()) continue;
      if (watch_.size() <= v.source) watch_.resize(v.source + 1);
      Watch& w = watch_[v.source];
      const double far_base = base_from_units(v.listing, far->qty, far->price).to_double();
      const double spread =
          std::abs(far->price.to_double() - near->price.to_double()) / v.listing.tick_size.to_double();
      if (w.first_ns == 0) {
        w.first_ns = market.now_ns;
        w.far_base_avg = far_base;
        w.spread_ticks_avg = spread;
      } else if (market.now_ns > w.last_ns) {
        // The last value held since it was seen, weighted by how long it held.
        const double a = 1 - std::exp(-static_cast<double>(market.now_ns - w.last_ns) / lookback);
        w.far_base_avg += a * (w.far_base - w.far_base_avg);
        w.spread_ticks_avg += a * (w.spread_ticks - w.spread_ticks_avg);
      }
      w.last_ns = market.now_ns;
      w.far_base = far_base;
      w.spread_ticks = spread;
    }
  }

  std::optional<Opportunity> opportunity(const AlgoMarket& market) const {
    if (market.views == nullptr) return std::nullopt;
    const DurationNs warm_up = std::min(kWarmUpNs, params_.seek_lookback_ns);
    double cheapest_maker_bps = std::numeric_limits<double>::infinity();
    for (const VenueView& v : *market.views)
      if (v.tradable) cheapest_maker_bps = std::min(cheapest_maker_bps, v.maker_fee_bps);
    std::optional<Opportunity> best;
    for (std::size_t i = 0; i < market.views->size(); ++i) {
      const VenueView& v = (*market.views)[i];
      if (!v.tradable || v.source >= watch_.size()) continue;
      const Watch& w = watch_[v.source];
      if (w.first_ns == 0 || market.now_ns < w.first_ns + warm_up || w.far_base_avg <= 0) continue;
      const md::Level* far = first(side_ == Side::Buy ? v.asks : v.bids);
      const md::Level* near = first(side_ == Side::Buy ? v.bids : v.asks);
      if (far == nullptr || near == nullptr) continue;
      if (params_.limit.is_set() &&
          (side_ == Side::Buy ? far->price > params_.limit : far->price < params_.limit))
        continue;
      // Tight: no wider than its recent level (a one-tick spread always is).
      if (w.spread_ticks > std::max(1.0, w.spread_ticks_avg) + 1e-9) continue;
      const double mid = (far->price.to_double() + near->price.to_double()) / 2;
      const double half_spread_bps = std::abs(far->price.to_double() - mid) / mid * 1e4;
      // Against resting where it rests cheapest: a take where taking and making cost the same is still
      // dearer than resting on a venue that charges makers less.
      const double extra_bps = half_spread_bps + v.taker_fee_bps - cheapest_maker_bps;
      if (extra_bps > params_.seek_max_cost_bps) continue;
      const double near_base = base_from_units(v.listing, near->qty, near->price).to_double();
      const double size_ratio = w.far_base / w.far_base_avg;
      // Toward being taken away: the side we rest on outweighs the side we take (for a buy, bids over asks),
      // so the far touch is likely the next to go.
      const double lean = (near_base - w.far_base) / (near_base + w.far_base);
      if (size_ratio < params_.seek_size && lean < params_.seek_imbalance) continue;
      if (best && w.far_base <= best->base) continue;
      best = Opportunity{i, far->price, w.far_base, size_ratio, lean, w.spread_ticks, extra_bps};
    }
    return best;
  }

  // The most the parent may have executed and working now: all of it, or within the maximum participation
  // of the volume expected by the next wake.
  Qty allowed(const AlgoMarket& market) const {
    if (params_.max_participation <= 0) return qty_;
    const double expected = expected_others(params_, others_volume_.to_double(), rate_per_s_, market.now_ns,
                                            market.now_ns + slice_ns());
    return std::min(qty_, base_from_model(params_.max_participation * expected));
  }

  bool taking(AlgoHost& host) const {
    return take_ && (!host.intent_state(*take_).done || host.intent_in_flight(*take_).is_positive());
  }
  Qty working_aggressively(AlgoHost& host) const {
    return taking(host) ? host.intent_in_flight(*take_) : Qty{};
  }
  bool resting(AlgoHost& host) {
    std::erase_if(rest_, [&](std::size_t id) { return host.intent_state(id).done; });
    return !rest_.empty();
  }

  // Takes up to `want` at `limit` or better now; resting children in the way are pulled first, and the take
  // goes once they are off (or the opportunity is looked at again). Whether anything was done.
  bool take(AlgoHost& host, const AlgoMarket& market, Qty want, Price limit, const std::string& why) {
    const TimestampNs now = market.now_ns;
    want = std::min(want, allowed(market) - host.executed() - working_aggressively(host));
    const Qty smallest = std::max(min_slice(market), kQtyStep);
    if (want < smallest) return false;
    const Qty free = qty_ - host.executed() - open_intents(host);
    if (free < want && resting(host)) {
      for (std::size_t id : rest_) host.cancel_intent(id, now);
      rest_.clear();
      pulled_until_ns_ = now + kPullHoldNs;
      note(host, "pull for take", why, now);
      return true;
    }
    want = std::min(want, free);
    if (want < smallest) return false;
    take_ = submit(host, market, want, Urgency::Aggressive, 0, limit);
    ++takes_;
    last_take_ns_ = now;
    pulled_until_ns_ = 0;
    Text line(-1);
    line << "takes " << want.to_double() << " " << why;
    note(host, "take", line.str(), now);
    return true;
  }

  void rest(AlgoHost& host, const AlgoMarket& market) {
    if (phase_ != AlgoPhase::Working || taking(host) || market.now_ns < pulled_until_ns_) return;
    const Qty room = allowed(market) - host.executed() - open_intents(host);
    if (room < std::max(min_slice(market), kQtyStep)) return;
    const std::size_t id = submit(host, market, room, params_.urgency,
                                  params_.at_end == EndBehaviour::Finish ? params_.end_ns : 0, params_.limit);
    rest_.push_back(id);
    Text why(-1);
    why << "rests " << room.to_double() << " (" << to_string(params_.urgency) << ")";
    note(host, "rest", why.str(), market.now_ns);
  }

  std::vector<Watch> watch_;         // by the venue's source index
  std::optional<std::size_t> take_;  // the last take's intent
  std::vector<std::size_t> rest_;    // resting intents not yet done
  TimestampNs last_take_ns_ = 0, pulled_until_ns_ = 0;
  std::uint64_t takes_ = 0;
  double rate_per_s_ = 0;  // others' base per second before the start
};

template <class T>
AlgoFactory factory() {
  return [](const oms::ParentOrder& parent, AlgoParams params) -> Result<std::unique_ptr<Algo>> {
    return std::unique_ptr<Algo>(std::make_unique<T>(parent, std::move(params)));
  };
}

}  // namespace

void register_builtin_algos() {
  static std::once_flag once;
  std::call_once(once, [] {
    // An algo registered under one of these names before they load keeps its place.
    register_builtin_algo(
        "market", [](const oms::ParentOrder& parent, AlgoParams params) -> Result<std::unique_ptr<Algo>> {
          if (!parent.params.empty()) return make_error("the market sweep takes no parameters");
          return std::unique_ptr<Algo>(std::make_unique<MarketSweep>(parent, std::move(params)));
        });
    register_builtin_algo("twap", factory<Twap>());
    register_builtin_algo("vwap", factory<Vwap>());
    register_builtin_algo("pov", factory<Pov>());
    register_builtin_algo("is", factory<ArrivalPrice>());
    register_builtin_algo("iceberg", factory<Iceberg>());
    register_builtin_algo("peg", factory<Peg>());
    register_builtin_algo("seek", factory<Seek>());
  });
}

}  // namespace tranche::ems
