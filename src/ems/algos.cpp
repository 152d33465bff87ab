// The built-in algos: market, twap, vwap, pov, is (arrival price), iceberg and peg.
#include <algorithm>
#include <cmath>
#include <mutex>
#include <sstream>

#include "ems/algo.hpp"
#include "ems/almgren_chriss.hpp"

namespace tranche::ems {
namespace {

constexpr int kProfileBuckets = 12;

double seconds(DurationNs d) {
  return static_cast<double>(d) / kNanosPerSecond;
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
// maximum participation when given. Ahead of the next wake the volume is forecast at its recent rate.
class Pov final : public Algo {
 public:
  Pov(const oms::ParentOrder& parent, AlgoParams params) : Algo("pov", parent, std::move(params)) {}

  void on_history(const History& prints, const History& mids) override {
    (void)mids;
    const TimestampNs from = params_.start_ns - 60 * kNanosPerSecond;
    double total = 0;
    TimestampNs first = params_.start_ns;
    for (const auto& [t, base] : prints)
      if (t >= from && t < params_.start_ns) {
        total += base;
        first = std::min(first, t);
      }
    if (params_.start_ns - first > kNanosPerSecond) rate_per_s_ = total / seconds(params_.start_ns - first);
  }

 protected:
  Qty target(TimestampNs t, const AlgoMarket& market) const override {
    double rate = params_.pov_rate;
    if (params_.max_participation > 0) rate = std::min(rate, params_.max_participation);
    rate = std::max(rate, params_.min_participation);
    return std::min(qty_, base_from_model(rate * expected_volume_by(t, market)));
  }
  double expected_volume_by(TimestampNs t, const AlgoMarket& market) const override {
    const double elapsed = seconds(market.now_ns - params_.start_ns);
    const double others = others_volume_.to_double();
    const double per_s = elapsed > 10 ? others / elapsed : rate_per_s_;
    return others + (t > market.now_ns ? per_s * seconds(t - market.now_ns) : 0);
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
// the mid at the start when not given), front-loaded as risk aversion grows.
class ArrivalPrice final : public Algo {
 public:
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
    if (params_.end_ns <= params_.start_ns) return qty_;
    const double T = seconds(params_.end_ns - params_.start_ns);
    return base_from_model(qty_.to_double() *
                           (1 - ac_remaining_share(kappa_, T, seconds(t - params_.start_ns))));
    (void)market;
  }

  void work(AlgoHost& host, const AlgoMarket& market) override {
    if (!modelled_) model(host, market);
    Algo::work(host, market);
  }

  void save_more(Text& out) const override {
    out << "kappa=" << kappa_ << ";modelled=" << (modelled_ ? 1 : 0) << ";";
  }
  void restore_more(const std::map<std::string, double>& from) override {
    if (auto it = from.find("kappa"); it != from.end()) kappa_ = it->second;
    if (auto it = from.find("modelled"); it != from.end()) modelled_ = it->second != 0;
  }

 private:
  void model(AlgoHost& host, const AlgoMarket& market) {
    modelled_ = true;
    const double sigma = params_.volatility > 0 ? params_.volatility : sigma_;
    double eta = params_.impact;
    if (eta <= 0 && market.views != nullptr && market.valid()) {
      // The book the order takes from: base shown within 10 bps of the mid, as base per unit of price. Taking
      // at a rate v for the book's refill time (about a second) walks v / (2 D) into it.
      const double mid = market.mid(), band = mid * 10e-4;
      double base = 0;
      for (const VenueView& v : *market.views) {
        if (!v.tradable) continue;
        for (const md::Level& l : side_ == Side::Buy ? v.asks : v.bids) {
          if (std::abs(l.price.to_double() - mid) > band) break;
          base += base_from_units(v.listing, l.qty, l.price).to_double();
        }
      }
      if (base > 0) eta = 1.0 / (2 * base / band);
    }
    const double T = std::max(1.0, seconds(params_.end_ns - params_.start_ns));
    const double tau = std::max(1.0, seconds(slice_ns()));
    if (sigma > 0 && eta > 0 && params_.risk_aversion > 0) {
      AcInputs in;
      in.X = qty_.to_double();
      in.T = T;
      in.N = std::max(1, static_cast<int>(std::lround(T / tau)));
      in.sigma = sigma;
      in.eta = eta;
      in.lambda = params_.risk_aversion;
      kappa_ = almgren_chriss(in).kappa;
    }
    std::ostringstream why;
    why << "sigma " << sigma << " per sqrt(s), eta " << eta << ", lambda " << params_.risk_aversion
        << ": kappa " << kappa_ << " per s (" << (kappa_ * T < 1e-6 ? "straight line" : "front-loaded")
        << ")";
    note(host, "model", why.str(), market.now_ns);
  }

  double sigma_ = 0;
  double kappa_ = 0;
  bool modelled_ = false;
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
  });
}

}  // namespace tranche::ems
