#include "ems/market_meter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <sstream>

#include "core/quantity.hpp"
#include "ems/venue_views.hpp"

namespace tranche::ems {
namespace {

// Levels of each venue the market sweep's estimate may walk.
constexpr std::size_t kSweepLevels = 500;
// Levels looked at for the depth within the band (a band of 10 bps rarely holds more).
constexpr std::size_t kDepthLevels = 200;

std::size_t side_index(Side side) {
  return side == Side::Buy ? 0 : 1;
}

double base_of(const md::BookView& book, const md::Level& level) {
  return base_from_units(book.listing(), level.qty, level.price).to_double();
}

}  // namespace

MarketMeter::MarketMeter(InstrumentId instrument, std::size_t benchmark_venue, bool consolidated,
                         DurationNs keep_ns)
    : instrument_(std::move(instrument)),
      benchmark_venue_(benchmark_venue),
      consolidated_(consolidated),
      keep_ns_(keep_ns) {}

void MarketMeter::on_event(const md::MarketSource& market, std::size_t venue, bool others_print,
                           double print_base, TimestampNs now_ns) {
  if (first_ns_ == 0) first_ns_ = now_ns;
  if (others_print && print_base > 0)
    prints_.push_back({now_ns, static_cast<std::uint32_t>(venue), print_base});
  if (now_ns < next_sample_ns_) return;
  // The next sample at the next whole second: the samples sit on the same grid whoever feeds the meter.
  next_sample_ns_ = (now_ns / kNanosPerSecond + 1) * kNanosPerSecond;
  sample(market, now_ns);
  trim(now_ns);
}

void MarketMeter::sample(const md::MarketSource& market, TimestampNs now_ns) {
  if (auto mid = benchmark_mid(market, instrument_, benchmark_venue_, consolidated_))
    mids_.push_back({now_ns, *mid});
  scratch_.resize(kDepthLevels);
  for (std::size_t v = 0; v < market.venue_count(); ++v) {
    const md::BookView* book = market.book(v, instrument_);
    if (book == nullptr || !book->valid()) continue;
    const Price bid = book->best(Side::Buy), ask = book->best(Side::Sell);
    if (!bid.is_set() || !ask.is_set()) continue;
    const double mid = (bid.to_double() + ask.to_double()) / 2;
    BookSample s{
        now_ns, static_cast<std::uint32_t>(v), (ask.to_double() - bid.to_double()) / mid * 1e4, {0, 0}};
    for (Side side : {Side::Buy, Side::Sell}) {
      const std::size_t n = book->levels(side, scratch_);
      for (std::size_t i = 0; i < n; ++i) {
        if (std::abs(scratch_[i].price.to_double() - mid) / mid * 1e4 > kEstimateDepthBandBps) break;
        s.depth_base[side_index(side)] += base_of(*book, scratch_[i]);
      }
    }
    books_.push_back(s);
  }
}

void MarketMeter::trim(TimestampNs now_ns) {
  const TimestampNs oldest = now_ns - keep_ns_;
  while (!mids_.empty() && mids_.front().t_ns < oldest) mids_.pop_front();
  while (!books_.empty() && books_.front().t_ns < oldest) books_.pop_front();
  while (!prints_.empty() && prints_.front().t_ns < oldest) prints_.pop_front();
}

Result<tca::MarketMeasure> MarketMeter::measure(const md::MarketSource& market, Side side, TimestampNs at_ns,
                                                DurationNs lookback_ns) const {
  const auto mid_now = benchmark_mid(market, instrument_, benchmark_venue_, consolidated_);
  if (!mid_now) return make_error("no benchmark mid of " + instrument_.str() + " at " + format_time(at_ns));
  tca::MarketMeasure m;
  m.at_ns = at_ns;
  m.mid = *mid_now;
  const TimestampNs from = first_ns_ == 0 ? at_ns : std::max(first_ns_, at_ns - lookback_ns);
  m.window_s = static_cast<double>(at_ns - from) / kNanosPerSecond;
  auto in_window = [&](TimestampNs t) { return t >= from && t < at_ns; };

  // Volatility of the benchmark mid: each change between samples over the square root of its seconds.
  double sum = 0, squares = 0;
  std::size_t n = 0;
  const MidSample* last = nullptr;
  for (const MidSample& s : mids_) {
    if (!in_window(s.t_ns)) continue;
    if (last != nullptr && s.t_ns > last->t_ns) {
      const double seconds = static_cast<double>(s.t_ns - last->t_ns) / kNanosPerSecond;
      const double d = (s.mid - last->mid) / last->mid * 1e4 / std::sqrt(seconds);
      sum += d;
      squares += d * d;
      ++n;
    }
    last = &s;
  }
  if (n >= 2) {
    const double count = static_cast<double>(n);
    m.sigma_bps_per_sqrt_s = std::sqrt(std::max(0.0, (squares - sum * sum / count) / (count - 1)));
    m.sigma_samples = n;
  }

  // Each venue's samples and prints in the window, in one pass over each.
  const std::size_t taken = side_index(opposite(side));
  struct Sums {
    double spread = 0, depth = 0, traded = 0;
    std::size_t samples = 0;
  };
  std::vector<Sums> sums(market.venue_count());
  for (const BookSample& s : books_) {
    if (s.venue >= sums.size() || !in_window(s.t_ns)) continue;
    sums[s.venue].spread += s.spread_bps;
    sums[s.venue].depth += s.depth_base[taken];
    ++sums[s.venue].samples;
  }
  for (const Print& p : prints_)
    if (p.venue < sums.size() && in_window(p.t_ns)) sums[p.venue].traded += p.base;
  std::vector<md::Level> levels(kSweepLevels);
  for (std::size_t v = 0; v < market.venue_count(); ++v) {
    const md::BookView* book = market.book(v, instrument_);
    if (book == nullptr) continue;  // the venue does not list the instrument
    const VenueConfig& config = market.venue_config(v);
    tca::VenueLiquidity venue;
    venue.venue = config.id.str();
    venue.maker_fee_bps = config.fees.maker_bps.to_double();
    venue.taker_fee_bps = config.fees.taker_bps.to_double();
    const Sums& sum = sums[v];
    if (sum.samples > 0) {
      venue.spread_bps = sum.spread / static_cast<double>(sum.samples);
      venue.depth_base = sum.depth / static_cast<double>(sum.samples);
    }
    venue.volume_per_s = m.window_s > 0 ? sum.traded / m.window_s : 0;
    if (book->valid()) {
      const std::size_t shown = book->levels(opposite(side), levels);
      for (std::size_t i = 0; i < shown; ++i)
        venue.levels.emplace_back(levels[i].price.to_double(), base_of(*book, levels[i]));
    }
    m.venues.push_back(std::move(venue));
  }
  return m;
}

std::string ParentEstimate::detail() const {
  std::ostringstream o;
  o.precision(6);
  o << "algo=" << own.algo << " model=" << (model.empty() ? "-" : model) << " cost_bps=" << own.cost_bps
    << " spread_bps=" << own.spread_bps << " impact_bps=" << own.impact_bps << " fees_bps=" << own.fees_bps
    << " risk_bps=" << own.risk_bps << " duration_s=" << own.duration_s << " participation=" << participation
    << " sigma_bps=" << sigma_bps_per_sqrt_s << " volume_per_s=" << volume_per_s << " window_s=" << window_s
    << " recommended=" << (recommended.empty() ? "-" : recommended)
    << " recommended_cost_bps=" << recommended_cost_bps;
  return o.str();
}

std::optional<ParentEstimate> ParentEstimate::from_detail(const std::string& detail) {
  std::map<std::string, std::string> kv;
  std::istringstream in(detail);
  std::string pair;
  while (in >> pair) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos) return std::nullopt;
    kv[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  ParentEstimate e;
  bool ok = kv.count("algo") && kv.count("recommended");
  auto number = [&](const char* key, double& to) {
    auto it = kv.find(key);
    if (it == kv.end()) {
      ok = false;
      return;
    }
    char* end = nullptr;
    to = std::strtod(it->second.c_str(), &end);
    if (end == it->second.c_str() || *end != '\0') ok = false;
  };
  number("cost_bps", e.own.cost_bps);
  number("spread_bps", e.own.spread_bps);
  number("impact_bps", e.own.impact_bps);
  number("fees_bps", e.own.fees_bps);
  number("risk_bps", e.own.risk_bps);
  number("duration_s", e.own.duration_s);
  number("participation", e.participation);
  number("sigma_bps", e.sigma_bps_per_sqrt_s);
  number("volume_per_s", e.volume_per_s);
  number("window_s", e.window_s);
  number("recommended_cost_bps", e.recommended_cost_bps);
  if (!ok) return std::nullopt;
  e.own.algo = kv["algo"];
  e.model = kv.count("model") && kv["model"] != "-" ? kv["model"] : std::string();
  e.recommended = kv["recommended"] == "-" ? std::string() : kv["recommended"];
  return e;
}

tca::PretradeOrder pretrade_order(const oms::ParentOrder& parent, TimestampNs now_ns) {
  tca::PretradeOrder order;
  order.side = parent.side;
  order.qty = parent.qty.to_double();
  const TimestampNs from = std::max(now_ns, parent.start_ns);
  order.horizon_s = parent.end_ns > from ? static_cast<double>(parent.end_ns - from) / kNanosPerSecond : 0;
  return order;
}

tca::PretradeModel pretrade_model(const AlgoParams& params) {
  tca::PretradeModel model;
  double rate = params.pov_rate;
  if (params.max_participation > 0) rate = std::min(rate, params.max_participation);
  model.pov_rate = std::max(rate, params.min_participation);
  model.pov_end_share = params.end_share;
  if (params.urgency == Urgency::Aggressive) model.passive_share = 0;  // every slice crosses
  return model;
}

ParentEstimate estimate_parent(const tca::MarketMeasure& market, const oms::ParentOrder& parent,
                               const AlgoParams& params, TimestampNs now_ns) {
  const tca::PretradeEstimate all =
      tca::estimate_costs(market, pretrade_order(parent, now_ns), pretrade_model(params));
  ParentEstimate e;
  e.own.algo = parent.algo;
  e.own.cost_bps = std::numeric_limits<double>::quiet_NaN();
  // An iceberg rests its displayed slice at the touch: as peg.
  const std::string as = parent.algo == "iceberg" ? std::string("peg") : parent.algo;
  for (const tca::AlgoEstimate& a : all.algos)
    if (a.algo == as) {
      e.own = a;
      e.own.algo = parent.algo;
      e.model = as;
    }
  e.recommended = all.recommended;
  for (const tca::AlgoEstimate& a : all.algos)
    if (a.algo == all.recommended) e.recommended_cost_bps = a.cost_bps;
  e.participation = all.participation;
  e.sigma_bps_per_sqrt_s = market.sigma_bps_per_sqrt_s;
  e.volume_per_s = market.volume_per_s();
  e.window_s = market.window_s;
  return e;
}

}  // namespace tranche::ems
