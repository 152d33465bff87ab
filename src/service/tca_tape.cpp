#include "service/tca_tape.hpp"

#include <algorithm>
#include <cmath>

#include "core/quantity.hpp"
#include "oms/order_manager.hpp"

namespace tranche::service {

using nlohmann::ordered_json;

namespace {

// The longest markout horizon (tca::TcaInput's default), and a second more: a parent's TCA is final then.
constexpr DurationNs kFinalAfterNs = 61 * kNanosPerSecond;
// Market history is let go at most this often (on the market's clock): trimming moves memory.
constexpr DurationNs kTrimEveryNs = 10 * kNanosPerSecond;

template <class T>
ordered_json opt(const std::optional<T>& v) {
  return v ? ordered_json(*v) : ordered_json(nullptr);
}

ordered_json costs_json(const tca::CostParts& quote, const tca::CostParts& bps) {
  return {{"delay", quote.delay},
          {"impact", quote.impact},
          {"spread", quote.spread},
          {"fees", quote.fees},
          {"opportunity", quote.opportunity},
          {"delay_bps", bps.delay},
          {"impact_bps", bps.impact},
          {"spread_bps", bps.spread},
          {"fees_bps", bps.fees},
          {"opportunity_bps", bps.opportunity}};
}

ordered_json breakdown_json(const std::vector<tca::Breakdown>& list) {
  ordered_json out = ordered_json::array();
  for (const auto& b : list) {
    ordered_json j = costs_json(b.cost, b.cost_bps);
    j["key"] = b.key;
    j["filled"] = b.filled;
    j["average_price"] = b.average_price;
    j["fills"] = b.fills;
    j["cost_bps"] = b.cost_bps.total();
    out.push_back(j);
  }
  return out;
}

ordered_json markouts_json(const std::vector<tca::Markout>& list) {
  ordered_json out = ordered_json::array();
  for (const auto& m : list)
    out.push_back({{"horizon_s", static_cast<double>(m.horizon_ns) / kNanosPerSecond},
                   {"bps", opt(m.bps)},
                   {"fills_covered", m.fills_covered}});
  return out;
}

}  // namespace

tca::TcaFill tca_fill_of(const ExecutionReport& report, double fill_base, const oms::Oms& oms,
                         const md::BookView* book, const std::string& algo) {
  const double price = report.last_price.to_double();
  double fee = report.fee.amount.to_double();
  const oms::ChildOrder* child = oms.child(report.client_order_id);
  if (child != nullptr && book != nullptr && book->listing().inverse)
    fee = fee * price;  // charged in the coin: at the fill's price
  return {report.client_order_id,
          report.venue,
          algo,
          price,
          fill_base,
          fee,
          report.received_ns,
          child != nullptr ? child->order.sent_ns : 0,
          report.liquidity};
}

std::optional<tca::MarketTrade> market_trade_of(const md::MarketRef& ref, const md::Event& event,
                                                const md::BookView* book, TimestampNs now_ns) {
  if (event.kind != md::EventKind::Trade || (event.flags & md::kFlagSimulated)) return std::nullopt;
  const Qty base = book == nullptr || !event.price.is_positive()
                       ? event.qty
                       : base_from_units(book->listing(), event.qty, event.price);
  return tca::MarketTrade{ref.venue_id, now_ns, event.price.to_double(), base.to_double()};
}

ordered_json tca_json(const tca::TcaResult& tca, const std::string& benchmark) {
  ordered_json t = costs_json(tca.cost, tca.cost_bps);
  t["arrival_price"] = tca.arrival_price;
  t["benchmark"] = benchmark;
  t["end_mid"] = tca.end_mid;
  t["t_end_ns"] = tca.t_end_ns;
  t["parent_notional"] = tca.parent_notional;
  t["filled"] = tca.filled;
  t["average_price"] = tca.average_price;
  t["implementation_shortfall"] = tca.implementation_shortfall;
  t["implementation_shortfall_bps"] = tca.implementation_shortfall_bps;
  t["vwap"] = opt(tca.vwap);
  t["vwap_slippage_bps"] = opt(tca.vwap_slippage_bps);
  t["twap"] = opt(tca.twap);
  t["twap_slippage_bps"] = opt(tca.twap_slippage_bps);
  t["fill_ratio"] = tca.fill_ratio;
  t["participation"] = opt(tca.participation);
  t["market_volume"] = tca.market_volume;
  t["markouts"] = markouts_json(tca.markouts);
  t["passive_markouts"] = markouts_json(tca.passive_markouts);
  t["by_child"] = breakdown_json(tca.by_child);
  t["by_venue"] = breakdown_json(tca.by_venue);
  t["by_algo"] = breakdown_json(tca.by_algo);
  return t;
}

ordered_json estimate_json(const ems::ParentEstimate& e, std::optional<double> realised_bps) {
  auto number = [](double v) { return std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr); };
  ordered_json j{{"algo", e.own.algo},
                 {"model", e.model.empty() ? ordered_json(nullptr) : ordered_json(e.model)},
                 {"cost_bps", number(e.own.cost_bps)},
                 {"spread_bps", number(e.own.spread_bps)},
                 {"impact_bps", number(e.own.impact_bps)},
                 {"fees_bps", number(e.own.fees_bps)},
                 {"risk_bps", number(e.own.risk_bps)},
                 {"duration_s", e.own.duration_s},
                 {"participation", e.participation},
                 {"sigma_bps_per_sqrt_s", e.sigma_bps_per_sqrt_s},
                 {"volume_per_s", e.volume_per_s},
                 {"window_s", e.window_s},
                 {"recommended", e.recommended},
                 {"recommended_cost_bps", number(e.recommended_cost_bps)}};
  const bool comparable = realised_bps && std::isfinite(e.own.cost_bps);
  j["realised_bps"] = realised_bps ? ordered_json(*realised_bps) : ordered_json(nullptr);
  j["error_bps"] = comparable ? ordered_json(*realised_bps - e.own.cost_bps) : ordered_json(nullptr);
  return j;
}

TcaTape::TcaTape(const md::MarketSource& market, const oms::OrderManager& manager, VenueId benchmark_venue,
                 bool consolidated, std::size_t keep_final, const ems::Kernel* kernel)
    : market_(&market),
      manager_(manager),
      kernel_(kernel),
      benchmark_venue_(std::move(benchmark_venue)),
      consolidated_(consolidated),
      keep_final_(std::min(keep_final, kMaxFinalsKept)) {}

VenueId TcaTape::benchmark_venue_of(const InstrumentId& instrument) const {
  // The instrument's own (a perpetual's is the venue listing it, not the primary spot venue), as the kernel
  // chose it for the mids it hands over.
  const VenueId venue = kernel_ != nullptr ? kernel_->benchmark_venue(instrument) : VenueId();
  return venue.str().empty() ? benchmark_venue_ : venue;
}

std::string TcaTape::benchmark_of(const InstrumentId& instrument) const {
  return consolidated_ ? std::string("consolidated mid") : benchmark_venue_of(instrument).str() + " mid";
}

const md::BookView* TcaTape::book_of(const VenueId& venue, const InstrumentId& instrument) const {
  for (std::size_t v = 0; v < market_->venue_count(); ++v)
    if (market_->venue_config(v).id == venue) return market_->book(v, instrument);
  return nullptr;
}

TcaTape::Parent* TcaTape::track(ParentId id) {
  if (auto it = parents_.find(id.value()); it != parents_.end()) return &it->second;
  if (finals_.count(id.value())) return nullptr;
  const oms::ParentRecord* p = manager_.oms().parent(id);
  if (p == nullptr) return nullptr;
  Parent& tracked = parents_[id.value()];
  tracked.order = p->order;
  if (kernel_ != nullptr)
    if (const ems::ParentEstimate* e = kernel_->estimate(id)) tracked.estimate = *e;
  return &tracked;
}

TcaTape::Market& TcaTape::market_of(const InstrumentId& instrument) {
  if (last_market_ == nullptr || !(*last_instrument_ == instrument)) {
    auto it = markets_.try_emplace(instrument).first;
    last_instrument_ = &it->first;
    last_market_ = &it->second;
  }
  return *last_market_;
}

void TcaTape::on_market_event(const md::MarketRef& ref, const md::Event& event,
                              std::optional<double> benchmark_mid) {
  if (event.kind != md::EventKind::Trade && !benchmark_mid) return;
  Market& m = market_of(ref.instrument);
  record_tca_market(ref, event, benchmark_mid,
                    ref.book != nullptr ? ref.book : market_->book(ref.venue, ref.instrument), market_->now(),
                    m.mids, m.trades);
}

void TcaTape::note_mid(const InstrumentId& instrument, TimestampNs now_ns, double mid) {
  Market& m = market_of(instrument);
  m.mids.add(now_ns, mid);
  m.mids.observed_until(now_ns);
}

void TcaTape::on_child_report(ParentId parent, const ExecutionReport& report, bool fresh_fill,
                              double fill_base) {
  if (!fresh_fill) return;  // a fill the venue repeated is one fill
  Parent* p = track(parent);
  if (p == nullptr) return;
  p->fills.push_back(tca_fill_of(report, fill_base, manager_.oms(),
                                 book_of(report.venue, p->order.instrument), p->order.algo));
}

void TcaTape::on_parent_ended(ParentId parent, TimestampNs now_ns) {
  if (Parent* p = track(parent)) p->ended_ns = now_ns;
}

Result<ordered_json> TcaTape::analyze(const Parent& p, TimestampNs now_ns, bool final) const {
  auto it = markets_.find(p.order.instrument);
  if (it == markets_.end()) return make_error("no market data for " + p.order.instrument.str() + " yet");
  const oms::ParentRecord* record = manager_.oms().parent(p.order.id);
  tca::TcaInput input;
  input.side = p.order.side;
  input.qty = p.order.qty.to_double();
  input.arrival_ns = p.order.start_ns;
  input.end_ns = p.ended_ns != 0 ? p.ended_ns : now_ns;
  input.finished_early = record != nullptr && record->state == oms::ParentState::Filled;
  input.algo = p.order.algo;
  input.primary_venue = benchmark_venue_of(p.order.instrument);
  input.mids = &it->second.mids;
  input.fills = p.fills;
  input.trades.assign(it->second.trades.begin(), it->second.trades.end());
  auto analyzed = tca::analyze(input);
  if (!analyzed) return Error{analyzed.error().message};
  ordered_json j;
  j["parent_id"] = p.order.id.value();
  j["final"] = final;
  j["state"] = record != nullptr ? oms::to_string(record->state) : "ended";
  j["as_of_ns"] = now_ns;
  j["tca"] = tca_json(*analyzed, benchmark_of(p.order.instrument));
  const ems::ParentEstimate* estimate = p.estimate ? &*p.estimate : nullptr;
  if (estimate == nullptr && kernel_ != nullptr) estimate = kernel_->estimate(p.order.id);
  j["estimate"] =
      estimate == nullptr
          ? ordered_json(nullptr)
          : estimate_json(*estimate, final ? std::optional<double>(analyzed->implementation_shortfall_bps)
                                           : std::nullopt);
  return j;
}

void TcaTape::tick(TimestampNs now_ns, bool market_closed) {
  // Called after every event: the parents are looked at once a second of market time (a final result is due a
  // minute after an end, to the second is enough), or at once when the market closed.
  if (now_ns < next_look_ns_ && !market_closed) return;
  next_look_ns_ = now_ns + kNanosPerSecond;
  for (auto it = parents_.begin(); it != parents_.end();) {
    Parent& p = it->second;
    if (p.ended_ns == 0 || (!market_closed && now_ns < p.ended_ns + kFinalAfterNs)) {
      ++it;
      continue;
    }
    if (auto m = markets_.find(p.order.instrument); m != markets_.end())
      m->second.mids.observed_until(now_ns);
    auto final = analyze(p, now_ns, true);
    if (final && p.estimate && on_final_)
      on_final_(*p.estimate, final->at("tca").at("implementation_shortfall_bps").get<double>());
    finals_.insert_or_assign(it->first, final ? Result<std::string>(final->dump())
                                              : Result<std::string>(Error{final.error().message}));
    final_order_.push_back(it->first);
    while (final_order_.size() > keep_final_) {
      finals_.erase(final_order_.front());
      final_order_.pop_front();
    }
    it = parents_.erase(it);
  }
  if (now_ns < trimmed_at_ns_ + kTrimEveryNs) return;
  trimmed_at_ns_ = now_ns;
  // Nothing before the earliest arrival of a parent still measured is read again (the next parent's arrival
  // reads the last mid before it, which stays).
  std::map<InstrumentId, TimestampNs> keep_from;
  auto keep = [&](const oms::ParentOrder& order) {
    auto [at, fresh] = keep_from.emplace(order.instrument, order.start_ns);
    if (!fresh) at->second = std::min(at->second, order.start_ns);
  };
  for (const auto& [_, p] : parents_) keep(p.order);
  for (const auto& [_, p] : manager_.oms().parents())  // working ones not tracked yet: no fill so far
    if (!oms::is_final(p.state)) keep(p.order);
  for (auto& [instrument, m] : markets_) {
    auto at = keep_from.find(instrument);
    const TimestampNs from = at == keep_from.end() ? now_ns : std::min(at->second, now_ns);
    m.mids.drop_before(from);
    while (!m.trades.empty() && m.trades.front().t_ns < from) m.trades.pop_front();
  }
}

std::optional<Result<ordered_json>> TcaTape::report(ParentId parent, TimestampNs now_ns) const {
  if (auto it = parents_.find(parent.value()); it != parents_.end())
    return analyze(it->second, now_ns, false);
  if (auto it = finals_.find(parent.value()); it != finals_.end()) {
    if (!it->second) return Result<ordered_json>(Error{it->second.error().message});
    return Result<ordered_json>(ordered_json::parse(*it->second));
  }
  // A parent with no fill yet is not tracked: it is valued as it stands, without fills.
  const oms::ParentRecord* p = manager_.oms().parent(parent);
  if (p == nullptr) return std::nullopt;
  Parent fresh;
  fresh.order = p->order;
  return analyze(fresh, now_ns, false);
}

void TcaTape::note_progress(ParentId parent, TimestampNs now_ns, double scheduled, double executed) {
  Parent* p = track(parent);
  if (p == nullptr) return;
  if (!p->progress.empty() && now_ns < p->progress.back().t_ns + kNanosPerSecond) return;
  p->progress.push_back({now_ns, scheduled, executed});
  if (p->progress.size() >= 4000) {  // a long parent: every other point, the last one kept
    std::vector<Progress> half;
    half.reserve(p->progress.size() / 2 + 1);
    for (std::size_t i = 0; i < p->progress.size(); i += 2) half.push_back(p->progress[i]);
    if (half.back().t_ns != p->progress.back().t_ns) half.push_back(p->progress.back());
    p->progress.swap(half);
  }
}

std::optional<ordered_json> TcaTape::series(ParentId parent, std::size_t max_points) const {
  auto it = parents_.find(parent.value());
  if (it == parents_.end()) return std::nullopt;
  const Parent& p = it->second;
  auto thin = [max_points](std::size_t n) {
    return n <= max_points ? std::size_t{1} : (n + max_points - 1) / max_points;
  };
  ordered_json mids = ordered_json::array();
  if (auto m = markets_.find(p.order.instrument); m != markets_.end()) {
    const auto& points = m->second.mids.points();
    auto first = std::upper_bound(points.begin(), points.end(), p.order.start_ns,
                                  [](TimestampNs t, const tca::MidSeries::Point& q) { return t < q.t_ns; });
    if (first != points.begin()) --first;  // the mid at the start
    const std::size_t n = static_cast<std::size_t>(points.end() - first);
    const std::size_t step = thin(n);
    for (std::size_t i = 0; i < n; i += step) mids.push_back({(first + i)->t_ns, (first + i)->mid});
    if (n > 0 && (n - 1) % step != 0) mids.push_back({points.back().t_ns, points.back().mid});
  }
  ordered_json fills = ordered_json::array();
  for (const auto& f : p.fills) fills.push_back({f.fill_ns, f.price, f.qty, f.venue.str()});
  ordered_json progress = ordered_json::array();
  const std::size_t step = thin(p.progress.size());
  for (std::size_t i = 0; i < p.progress.size(); i += step)
    progress.push_back({p.progress[i].t_ns, p.progress[i].scheduled, p.progress[i].executed});
  return ordered_json{{"parent_id", parent.value()},
                      {"kept", true},
                      {"benchmark", benchmark_of(p.order.instrument)},
                      {"start_ns", p.order.start_ns},
                      {"end_ns", p.order.end_ns},
                      {"qty", p.order.qty.to_double()},
                      {"mids", mids},
                      {"fills", fills},
                      {"progress", progress}};
}

std::size_t TcaTape::mids_kept() const {
  std::size_t n = 0;
  for (const auto& [_, m] : markets_) n += m.mids.size();
  return n;
}

}  // namespace tranche::service
