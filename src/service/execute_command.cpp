#include "service/execute_command.hpp"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <sstream>

#include "core/config.hpp"
#include "ems/algo.hpp"
#include "ems/parent_execution.hpp"
#include "ems/placer.hpp"
#include "ems/router.hpp"
#include "ems/scorecard.hpp"
#include "gateway/sim_gateway.hpp"
#include "oms/order_manager.hpp"
#include "risk/risk_gate.hpp"
#include "service/report_html.hpp"
#include "service/sim_commands.hpp"
#include "service/venue_views.hpp"
#include "sim/simulator.hpp"
#include "tca/tca.hpp"

namespace tranche::service {

using nlohmann::ordered_json;

std::vector<std::string> known_algos() {
  std::vector<std::string> algos = {"market"};
  for (const auto& name : ems::algo_names()) algos.push_back(name);
  return algos;
}

namespace {

std::atomic<std::uint64_t> run_counter{0};  // temporary journals of concurrent runs (backtest) never collide
constexpr std::uint64_t kTimerStart = 1;
constexpr std::uint64_t kTimerEnd = 2;
constexpr std::uint64_t kTimerAlgo = 3;   // a wake the algo asked for
constexpr std::uint64_t kTimerGrace = 4;  // an algo still working this long after its end is canceled
constexpr DurationNs kGraceNs = 30 * kNanosPerSecond;
constexpr std::size_t kAlgoViewDepth = 40;
constexpr DurationNs kAvoidNs = 5 * kNanosPerSecond;  // algos: how long a venue that rejected us is avoided
constexpr std::uint64_t kTimerPieces = 100;           // and up: delayed pieces of a route

// Everything the run leaves for the report.
struct RunRecord {
  struct Child {
    NewOrder order;
    TimestampNs venue_ns = 0;  // when the venue first answered
  };
  std::vector<Child> children;
  std::vector<tca::TcaFill> fills;
  std::vector<Fee> raw_fees;
  std::vector<oms::RiskDenial> denials;
  tca::MidSeries mids;                                           // the benchmark (primary venue) mid
  std::vector<tca::MarketTrade> trades;                          // others' prints
  std::vector<std::pair<TimestampNs, double>> filled_over_time;  // cumulative base filled
};

// The `market` algo and everything around it, driven by the simulator's events.
class ExecuteDriver : public sim::SimListener {
 public:
  ExecuteDriver(const Config& config, sim::Simulator& sim, oms::OrderManager& manager, risk::RiskGate& gate,
                oms::ParentOrder parent, std::size_t primary, RunRecord& record, std::ostream& err,
                bool progress)
      : config_(config),
        sim_(sim),
        manager_(manager),
        gate_(gate),
        parent_(std::move(parent)),
        primary_(primary),
        record_(record),
        err_(err),
        progress_(progress) {}

  void on_market_data(const sim::MarketDataRef& ref, const md::Event& event) override {
    if (ref.instrument != parent_.instrument)
      return;  // other instruments' prints are not this parent's market
    const sim::SimMarket& market = sim_.venue(ref.venue).market(ref.market);
    // What we see arrives now (after any market-data latency): it is stamped with our clock.
    const TimestampNs now = sim_.now();
    if (event.kind == md::EventKind::Trade && !(event.flags & md::kFlagSimulated)) {
      const double price = event.price.to_double();
      double qty = event.qty.to_double();
      if (market.listing().inverse && price > 0)
        qty = qty * market.listing().contract_size.to_double() / price;
      record_.trades.push_back({ref.venue_id, now, price, qty});
    }
    const Price bid = market.best(Side::Buy), ask = market.best(Side::Sell);
    gate_.on_quote(ref.venue_id, ref.instrument, bid, ask, now);
    if (consolidated_ || ref.venue == primary_) record_benchmark(now);
    if (exec_ == nullptr || done_) return;
    // The algo and the placer see the market move: the placer keeps, re-prices or crosses its children;
    // the algo counts others' prints and watches its would-price.
    const ems::AlgoMarket m = market_now(static_cast<int>(ref.venue));
    placer_->on_market(views_cache_, now, &ref.venue_id);
    if (event.kind == md::EventKind::Trade && !(event.flags & md::kFlagSimulated)) {
      const double base = record_.trades.back().qty;
      placer_->on_trade(ref.venue_id, event.side, event.price, base, now);
      exec_->algo().on_trade(*exec_, m, base);
    } else {
      exec_->algo().on_market(*exec_, m);
    }
    check(manager_.flush());
    maybe_finish(now);
  }

  // The market for the algo: the views as they stand now, kept (the algo's market points at them). A
  // market-data event changes one venue's book: that view alone is rebuilt, and every view at least each
  // 100 ms (staleness and rate budgets move with time) and after each of our own orders' reports.
  ems::AlgoMarket market_now(int changed_venue = -1) {
    const TimestampNs now = sim_.now();
    if (changed_venue < 0 || views_cache_.empty() || now - views_full_ns_ >= 100 * kNanosPerMilli) {
      views_cache_ = views();
      views_full_ns_ = now;
    } else {
      std::vector<ems::VenueView> one = views(changed_venue);
      for (auto& fresh : one)
        for (auto& cached : views_cache_)
          if (cached.venue == fresh.venue) cached = std::move(fresh);
    }
    return ems::algo_market(views_cache_, now);
  }

  // The benchmark mid now: the primary venue's, or with `[tca] arrival_mid = "consolidated"` the mid of the
  // best bid and offer across the venues.
  void record_benchmark(TimestampNs now) {
    double bid = 0, ask = 0;
    bool have = false;
    for (std::size_t v = 0; v < sim_.venue_count(); ++v) {
      if (!consolidated_ && v != primary_) continue;
      const int m = sim_.venue(v).market_of(parent_.instrument);
      if (m < 0) continue;
      const sim::SimMarket& market = sim_.venue(v).market(static_cast<std::size_t>(m));
      const Price b = market.best(Side::Buy), a = market.best(Side::Sell);
      if (!b.is_set() || !a.is_set()) continue;
      bid = have ? std::max(bid, b.to_double()) : b.to_double();
      ask = have ? std::min(ask, a.to_double()) : a.to_double();
      have = true;
    }
    if (!have) return;
    record_.mids.add(now, (bid + ask) / 2);
    record_.mids.observed_until(now);
  }

  void on_execution_report(const ExecutionReport& report) override {
    manager_.on_execution_report(report);
    check(manager_.flush());
    bool first_answer = false;
    TimestampNs sent_ns = 0;
    for (auto& c : record_.children)
      if (c.order.client_order_id == report.client_order_id) {
        first_answer = c.venue_ns == 0;
        if (c.venue_ns == 0) c.venue_ns = report.venue_ns;
        sent_ns = c.order.sent_ns;
      }
    // The scorecard counts each fill once: a repeated report (same execution id) is not a second fill.
    const bool repeated_fill = report.exec_type == ExecType::Trade &&
                               seen_exec_.count(report.venue.str() + "/" + report.exec_id.str()) != 0;
    if (cards_ != nullptr && !repeated_fill) {
      double fill_base = 0;
      if (report.exec_type == ExecType::Trade) {
        const sim::SimMarket* market = market_of(report.venue);
        fill_base = report.last_qty.to_double();
        if (market != nullptr && market->listing().inverse)
          fill_base = fill_base * market->listing().contract_size.to_double() / report.last_price.to_double();
      }
      cards_->on_report(report, sent_ns, first_answer, fill_base);
    }
    // A fill reported twice (the venue repeated it) is one fill: the OMS ignores the repeat, and so does TCA.
    if (report.exec_type == ExecType::Trade &&
        seen_exec_.insert(report.venue.str() + "/" + report.exec_id.str()).second) {
      const sim::SimMarket* market = market_of(report.venue);
      const double price = report.last_price.to_double();
      double qty = report.last_qty.to_double();
      double fee = report.fee.amount.to_double();
      if (market != nullptr && market->listing().inverse) {
        qty = qty * market->listing().contract_size.to_double() / price;
        fee = fee * price;  // charged in the coin: converted at the fill's price
      }
      TimestampNs sent = 0;
      for (const auto& c : record_.children)
        if (c.order.client_order_id == report.client_order_id) sent = c.order.sent_ns;
      record_.fills.push_back({report.client_order_id, report.venue, parent_.algo, price, qty, fee,
                               report.received_ns, sent, report.liquidity});
      record_.raw_fees.push_back(report.fee);
      filled_ += qty;
      record_.filled_over_time.emplace_back(report.received_ns, filled_);
      show_progress(report.received_ns);
    }
    // A venue that refused our order gets none of what is left: the next wave routes around it.
    // An algo working for minutes avoids it for a while; a post-only order the market moved into is no
    // fault of the venue's.
    if (report.exec_type == ExecType::Rejected && report.reject_reason != RejectReason::RiskDenied) {
      if (exec_ != nullptr) {
        if (report.reject_reason != RejectReason::PostOnlyWouldCross)
          avoid_until_[report.venue.str()] = report.received_ns + kAvoidNs;
      } else if (std::find(avoid_.begin(), avoid_.end(), report.venue.str()) == avoid_.end()) {
        avoid_.push_back(report.venue.str());
      }
    }
    if (exec_ != nullptr && !done_) {
      placer_->on_report(report);
      const ems::AlgoMarket m = market_now();
      if (report.exec_type == ExecType::Trade)
        exec_->algo().on_fill(*exec_, m);
      else
        exec_->algo().on_market(*exec_, m);
      check(manager_.flush());
    }
    maybe_finish(report.received_ns);
  }

  void on_timer(std::uint64_t id, TimestampNs now) override {
    if (id == kTimerStart) start(now);
    if (exec_ != nullptr) {
      if (done_) return;
      if (id == kTimerAlgo) exec_->algo().on_timer(*exec_, market_now());
      if (id == kTimerGrace && !exec_->algo().done())
        exec_->algo().cancel(
            *exec_, now,
            "still working " + std::to_string(kGraceNs / kNanosPerSecond) + " s after its end time");
      check(manager_.flush());
      maybe_finish(now);
      return;
    }
    if (id == kTimerEnd && !done_ && parent_.id.value() != 0) {
      // The parent's end: what is still working is canceled; the parent ends when the venues have answered.
      ending_ = true;
      pending_.clear();
      for (const oms::ChildOrder* c : manager_.oms().open_children())
        (void)manager_.cancel_child(c->order.client_order_id, now);
      check(manager_.flush());
      maybe_finish(now);
    }
    if (id >= kTimerPieces) {
      auto it = pending_.find(id);
      if (it != pending_.end()) {
        const NewOrder order = it->second;
        pending_.erase(it);
        send_piece(order, now);
        maybe_finish(now);
      }
    }
  }

  bool done() const { return done_; }

  // The recorded data ran out with the parent still working: the venues are closed, so it ends here with
  // what it executed, and says so.
  void data_ended(TimestampNs now) {
    if (done_ || parent_.id.value() == 0) return;
    if (exec_ != nullptr) exec_->algo().cancel(*exec_, now, "the recorded data ended");
    const double open =
        manager_.oms().parent(parent_.id) ? manager_.oms().parent(parent_.id)->in_flight.to_double() : 0;
    std::ostringstream text;
    text << "the recorded data ended at " << format_time(now) << " with " << filled_ << " executed"
         << (open > 0 ? " and children still open at the closed venues" : "");
    finish(now, oms::ParentState::Expired, text.str());
  }
  TimestampNs end_ns() const { return end_ns_; }
  bool filled() const { return filled_state_; }
  ParentId parent_id() const { return parent_.id; }
  Status error() const { return error_; }

 private:
  const sim::SimMarket* market_of(const VenueId& venue) const {
    const int v = sim_.venue_index(venue);
    if (v < 0) return nullptr;
    const auto& simv = sim_.venue(static_cast<std::size_t>(v));
    const int m = simv.market_of(parent_.instrument);
    return m < 0 ? nullptr : &simv.market(static_cast<std::size_t>(m));
  }

  void start(TimestampNs now) {
    parent_.start_ns = now;
    denials_before_ = manager_.oms().denials().size();
    // The market as it stands at arrival: the gate's views and the benchmark's first point.
    for (std::size_t v = 0; v < sim_.venue_count(); ++v) {
      const int m = sim_.venue(v).market_of(parent_.instrument);
      if (m < 0) continue;
      const sim::SimMarket& market = sim_.venue(v).market(static_cast<std::size_t>(m));
      const Price bid = market.best(Side::Buy), ask = market.best(Side::Sell);
      gate_.on_quote(sim_.venue(v).config().id, parent_.instrument, bid, ask, now);
    }
    record_benchmark(now);
    if (!record_.mids.at(now)) {
      // Without an arrival price nothing can be measured: nothing is sent.
      error_ =
          make_error("no benchmark mid (" +
                     std::string(consolidated_ ? "consolidated" : sim_.venue(primary_).config().id.str()) +
                     ") at the arrival " + format_time(now));
      done_ = true;
      end_ns_ = now;
      return;
    }
    auto accepted = manager_.accept_parent(parent_, now);
    check(manager_.flush());
    if (!accepted) {
      take_denials();
      error_ = make_error(accepted.error().message);
      done_ = true;
      end_ns_ = now;
      return;
    }
    parent_.id = *accepted;
    if (parent_.algo == "market") return send_market(now, parent_.qty.to_double());
    auto made = ems::make_algo(parent_);
    if (!made) {
      error_ = make_error(made.error().message);
      check(manager_.finish_parent(parent_.id, oms::ParentState::Expired, made.error().message, now));
      check(manager_.flush());
      done_ = true;
      end_ns_ = now;
      return;
    }
    placer_ = std::make_unique<ems::Placer>(config_, manager_, ems::PlacerParams{}, cards_);
    exec_ =
        std::make_unique<ems::ParentExecution>(manager_, *placer_, std::move(made.value()), parent_,
                                               [this](TimestampNs at) { sim_.set_timer(at, kTimerAlgo); });
    // What the algo may know of the market before its start: others' prints and the benchmark mids.
    std::vector<std::pair<TimestampNs, double>> prints, mids;
    for (const auto& t : record_.trades) prints.emplace_back(t.t_ns, t.qty);
    for (const auto& p : record_.mids.points()) mids.emplace_back(p.t_ns, p.mid);
    exec_->algo().on_history(prints, mids);
    if (parent_.end_ns != 0) sim_.set_timer(parent_.end_ns + kGraceNs, kTimerGrace);
    exec_->algo().on_start(*exec_, market_now());
    check(manager_.flush());
    maybe_finish(now);
  }

  void take_denials() {
    const auto& all = manager_.oms().denials();
    record_.denials.assign(all.begin() + static_cast<std::ptrdiff_t>(std::min(denials_before_, all.size())),
                           all.end());
  }

  // The views the router weighs: every venue this run may trade on, as it stands now.
  std::vector<ems::VenueView> views(int only_venue = -1) const {
    VenueViewOptions options;
    options.only_venue = only_venue;
    // Per-event views for the algos' placer: the top of each book is what it weighs; the market sweep
    // routes once and sees the whole book.
    if (exec_ != nullptr) options.depth = kAlgoViewDepth;
    options.allowed = allowed_;
    options.avoid = avoid_;
    for (const auto& [venue, until] : avoid_until_)
      if (until > sim_.now()) options.avoid.push_back(venue);
    options.max_data_age_ns = config_.risk.max_market_data_age_ns;
    options.gate = &gate_;
    auto out = venue_views(sim_, parent_.instrument, sim_.now(), options);
    // What we learned of each venue's speed replaces its configured latency once there is enough of it.
    if (cards_ != nullptr)
      for (auto& v : out) v.latency_ns = cards_->latency_or(v.venue, v.latency_ns);
    return out;
  }

  // `market`: an immediate marketable order, routed across the venues by the router (ems/router.hpp); each
  // piece is an IOC at the worst level it takes there, timed to arrive with the others.
  void send_market(TimestampNs now, double wanted) {
    ++waves_;
    const std::vector<ems::VenueView> venues = views();
    const double mid = record_.mids.at(now).value_or(0);
    const ems::RoutePlan plan = ems::route_marketable(
        parent_.side, qty_from_real(wanted, kQtyStep, Rounding::Nearest), limit_, mid, venues);
    // Each decision is journaled with the alternatives it weighed.
    check(
        manager_.record_algo_state(parent_.id, "route wave " + std::to_string(waves_), plan.explain(), now));
    sent_last_wave_ = false;
    for (const ems::RoutePiece& piece : plan.pieces) {
      NewOrder order;
      order.parent_id = parent_.id;
      order.venue = piece.venue;
      order.instrument = parent_.instrument;
      order.side = parent_.side;
      order.type = OrderType::Limit;
      order.time_in_force = TimeInForce::ImmediateOrCancel;
      order.price = piece.limit;
      order.qty = piece.qty;
      if (piece.send_delay_ns > 0) {
        const std::uint64_t id = next_timer_++;
        pending_[id] = order;
        sim_.set_timer(now + piece.send_delay_ns, id);
        sent_last_wave_ = true;
      } else {
        send_piece(order, now);
      }
    }
    check(manager_.flush());
    take_denials();
    maybe_finish(now);
  }

  void send_piece(NewOrder order, TimestampNs now) {
    // Within the parent's room as the OMS counts it (an inverse child counts at its limit).
    const oms::ParentRecord* p = manager_.oms().parent(parent_.id);
    const VenueListing* listing = config_.venue(order.venue)->listing(order.instrument);
    if (p != nullptr && listing != nullptr) {
      const double room = (p->order.qty - p->executed - p->in_flight).to_double();
      // An inverse buy counts at its limit, the least base its contracts can be worth; sized on the touch it
      // cannot fill beyond the room at any better price either.
      double per_base = order.price.to_double();
      if (listing->inverse && order.side == Side::Buy) {
        const int v = sim_.venue_index(order.venue);
        const Price ask =
            v < 0 ? Price::unset() : sim_.venue(static_cast<std::size_t>(v)).market(0).best(Side::Sell);
        if (ask.is_set() && ask < order.price) per_base = ask.to_double();
      }
      const double room_units =
          listing->inverse ? room * per_base / listing->contract_size.to_double() : room;
      const double lot = listing->lot_size.to_double();
      const Qty cap =
          Qty::from_raw(static_cast<std::int64_t>(std::floor(room_units / lot + 1e-9) * lot * 1e8));
      if (cap < order.qty) order.qty = cap;
    }
    if (!order.qty.is_positive()) return;
    auto sent = manager_.send_child(order, now);
    check(manager_.flush());
    take_denials();
    if (!sent) return;
    order.client_order_id = *sent;
    order.sent_ns = now;
    record_.children.push_back({order, 0});
    sent_last_wave_ = true;
    if (cards_ != nullptr) {
      double base = order.qty.to_double();
      if (listing != nullptr && listing->inverse)
        base = base * listing->contract_size.to_double() / order.price.to_double();
      cards_->on_sent(order.venue, base);
    }
  }

  // The smallest base quantity any allowed venue takes now: less than that left over is not sendable
  // anywhere.
  // The smallest base quantity any allowed venue takes now (tradable or not: a halted venue's lot still says
  // what is too small to send); 0 when no venue shows a price at all.
  double smallest_sendable() const {
    double smallest = 0;
    for (const ems::VenueView& v : views()) {
      const auto& levels = parent_.side == Side::Buy ? v.asks : v.bids;
      if (levels.empty()) continue;
      const double price = levels.front().price.to_double();
      double unit = v.listing.lot_size.to_double();
      if (v.listing.inverse)
        unit = v.listing.contract_size.to_double() / price;  // one contract
      else
        unit = std::max(unit, v.listing.min_notional.to_double() / price);
      smallest = smallest == 0 ? unit : std::min(smallest, unit);
    }
    return smallest;
  }

  bool any_tradable() const {
    for (const ems::VenueView& v : views())
      if (v.tradable) return true;
    return false;
  }

  // The children the placer sent for this parent since the last look: recorded for the report and TCA (their
  // send times), counted on the venues' scorecards; and the risk gate's denials of its children.
  void collect_algo_children() {
    if (exec_ == nullptr || parent_.id.value() == 0) return;
    const oms::ParentRecord* p = manager_.oms().parent(parent_.id);
    if (p == nullptr) return;
    for (; children_seen_ < p->children.size(); ++children_seen_) {
      const oms::ChildOrder* c = manager_.oms().child(p->children[children_seen_]);
      if (c == nullptr) continue;
      record_.children.push_back({c->order, 0});
      if (cards_ != nullptr) {
        const sim::SimMarket* market = market_of(c->order.venue);
        double base = c->order.qty.to_double();
        if (market != nullptr && market->listing().inverse)
          base = base * market->listing().contract_size.to_double() / c->order.price.to_double();
        cards_->on_sent(c->order.venue, base);
      }
    }
    take_denials();
  }

  void maybe_finish(TimestampNs now) {
    collect_algo_children();
    if (done_ || parent_.id.value() == 0) return;
    const oms::ParentRecord* p = manager_.oms().parent(parent_.id);
    if (p == nullptr || !manager_.oms().open_children().empty() || !pending_.empty()) return;
    if (exec_ != nullptr) {
      if (!exec_->check_journal().ok()) check(exec_->check_journal());
      if (!exec_->algo().done()) return;
      const bool canceled = exec_->algo().done_text().rfind("canceled", 0) == 0;
      return finish(now,
                    exec_->algo().completed() ? oms::ParentState::Filled
                    : canceled                ? oms::ParentState::Canceled
                                              : oms::ParentState::Expired,
                    exec_->algo().done_text());
    }
    const double left = p->order.qty.to_double() - filled_;
    if (left <= 1e-9) return finish(now, oms::ParentState::Filled, "filled");
    if (ending_) return finish(now, oms::ParentState::Expired, "its end time came");
    if (!any_tradable()) return finish(now, oms::ParentState::Expired, "no venue it may go to can trade now");
    if (left < smallest_sendable())
      return finish(now, oms::ParentState::Filled,
                    "filled but for " + std::to_string(left) + ", below what any venue takes");
    if (waves_ < kMaxWaves && sent_last_wave_) return send_market(now, left);
    std::string why = "nothing more could be sent";
    if (!record_.denials.empty()) why = "risk denied: " + record_.denials.back().reason_code;
    const double room = (p->order.qty - p->executed - p->in_flight).to_double();
    if (room < smallest_sendable())
      why = "its room as the OMS counts it was used (inverse contracts count at their limit)";
    finish(now, oms::ParentState::Expired, why);
  }

  void finish(TimestampNs now, oms::ParentState state, const std::string& text) {
    if (done_) return;
    check(manager_.finish_parent(parent_.id, state, text, now));
    check(manager_.flush());
    done_ = true;
    end_ns_ = now;
    filled_state_ = state == oms::ParentState::Filled;
    if (progress_) err_ << "\n";
  }

  void show_progress(TimestampNs now) {
    if (!progress_) return;
    const double share = std::clamp(filled_ / parent_.qty.to_double(), 0.0, 1.0);
    const auto p0 = record_.mids.at(parent_.start_ns);
    double shortfall_bps = 0;
    if (p0 && *p0 > 0) {
      double cost = 0;
      const double s = parent_.side == Side::Buy ? 1 : -1;
      for (const auto& f : record_.fills) cost += s * f.qty * (f.price - *p0) + f.fee;
      shortfall_bps = 1e4 * cost / (parent_.qty.to_double() * *p0);
    }
    const int width = 30;
    const int bars = static_cast<int>(share * width + 0.5);
    err_ << "\r[" << std::string(static_cast<std::size_t>(bars), '#')
         << std::string(static_cast<std::size_t>(width - bars), '.') << "] " << std::fixed
         << std::setprecision(1) << 100 * share << "% filled, schedule "
         << (exec_ != nullptr
                 ? 100 * std::clamp(exec_->algo().scheduled().to_double() / parent_.qty.to_double(), 0.0, 1.0)
                 : 100.0)
         << "% (" << parent_.algo << "), shortfall so far " << std::setprecision(2) << shortfall_bps
         << " bps  " << format_time(now).substr(11, 12) << std::flush;
  }

  void check(const Status& s) {
    if (!s.ok() && error_.ok()) error_ = s;
  }

 public:
  Price limit_ = Price::unset();
  std::vector<std::string> allowed_;  // --venues: where orders may go (every venue still makes the market)
  std::vector<std::string> avoid_;    // venues that rejected this parent's orders
  std::map<std::string, TimestampNs> avoid_until_;  // algos: venues that rejected us, until then
  ems::Scorecards* cards_ = nullptr;                // learned from our executions, when kept

 private:
  const Config& config_;
  sim::Simulator& sim_;
  oms::OrderManager& manager_;
  risk::RiskGate& gate_;
  oms::ParentOrder parent_;
  std::size_t primary_;

 public:
  bool consolidated_ = false;  // the benchmark is the consolidated mid

 private:
  RunRecord& record_;
  std::ostream& err_;
  bool progress_;
  double filled_ = 0;
  int waves_ = 0;
  bool sent_last_wave_ = false;
  bool ending_ = false;
  static constexpr int kMaxWaves = 3;
  std::size_t denials_before_ = 0;
  std::set<std::string> seen_exec_;
  std::map<std::uint64_t, NewOrder> pending_;  // pieces held back to arrive with the others, by timer id
  std::uint64_t next_timer_ = kTimerPieces;
  bool done_ = false;
  bool filled_state_ = false;
  TimestampNs end_ns_ = 0;
  Status error_;
  std::unique_ptr<ems::Placer> placer_;  // algos other than market: the placer owns the children
  std::unique_ptr<ems::ParentExecution> exec_;
  std::vector<ems::VenueView> views_cache_;
  TimestampNs views_full_ns_ = 0;
  std::size_t children_seen_ = 0;  // of the parent's children, those already recorded
};

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

template <class T>
ordered_json opt(const std::optional<T>& v) {
  return v ? ordered_json(*v) : ordered_json(nullptr);
}

}  // namespace

int execute_command(const ExecuteOptions& options, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "tranche execute: " << message << "\n";
    return 2;
  };
  // --- the order, checked before anything runs ---
  Side side;
  if (options.side == "buy") {
    side = Side::Buy;
  } else if (options.side == "sell") {
    side = Side::Sell;
  } else {
    return fail("--side must be buy or sell, not '" + options.side + "'");
  }
  Qty qty;
  if (!Qty::parse(options.qty, qty)) return fail("--qty '" + options.qty + "' is not a decimal");
  if (!qty.is_positive()) return fail("--qty must be positive, not " + options.qty);
  const std::vector<std::string> algos = known_algos();
  if (std::find(algos.begin(), algos.end(), options.algo) == algos.end()) {
    std::string list;
    for (const auto& a : algos) list += (list.empty() ? "" : ", ") + a;
    return fail("unknown algo '" + options.algo + "' (known: " + list + ")");
  }
  std::vector<oms::AlgoParam> algo_params;
  for (const auto& item : options.params) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) return fail("--param '" + item + "' is not KEY=VALUE");
    algo_params.push_back({item.substr(0, eq), item.substr(eq + 1)});
  }
  if (options.algo == "market" && !algo_params.empty()) return fail("--algo market takes no parameters");
  if (options.algo != "market") {
    oms::ParentOrder probe;
    probe.algo = options.algo;
    probe.params = algo_params;
    if (auto made = ems::make_algo(probe); !made) return fail(made.error().message);
  }
  auto loaded = load_config(options.scenario.empty() ? default_config_path() : options.scenario);
  if (!loaded) return fail(loaded.error().message);
  if (!options.cross_fill.empty()) {
    const auto fill = parse_cross_fill(options.cross_fill);
    if (!fill) return fail("--cross-fill: " + fill.error().message);
    for (auto& v : loaded.value().venues)
      if (v.sim) v.sim->cross_fill = *fill;
  }
  const Config& config = *loaded;
  const Instrument* instrument = config.instrument(InstrumentId(options.instrument));
  if (instrument == nullptr)
    return fail("instrument '" + options.instrument + "' is not in " + config.source);
  if (auto sendable = config.check_parent_qty(instrument->id, qty); !sendable)
    return fail("--qty: " + sendable.message());
  Price limit = Price::unset();
  if (!options.limit.empty()) {
    if (!Price::parse(options.limit, limit) || !limit.is_positive())
      return fail("--limit '" + options.limit + "' is not a price");
    if (limit.raw() % instrument->tick_size.raw() != 0)
      return fail("--limit " + options.limit + " is off the tick " + instrument->tick_size.to_string());
  }
  std::optional<TimestampNs> start_arg, end_arg;
  if (!options.start.empty()) {
    auto t = parse_time(options.start);
    if (!t) return fail("--start: " + t.error().message);
    start_arg = *t;
  }
  if (!options.end.empty()) {
    auto t = parse_time(options.end);
    if (!t) return fail("--end: " + t.error().message);
    end_arg = *t;
  }
  if (start_arg && end_arg && *end_arg <= *start_arg) return fail("--end must come after --start");

  // --- the market ---
  sim::SimOptions sim_options;
  sim_options.seed = options.seed;
  // Every venue of the scenario makes the market (the perpetuals follow spot's price); --venues says where
  // orders may go.
  for (const auto& v : options.venues)
    if (config.venue(VenueId(v)) == nullptr || !config.venue(VenueId(v))->sim)
      return fail("--venues: '" + v + "' is not a simulated venue of " + config.source);
  const TimestampNs scenario_end = config.scenario ? config.scenario->end_ns : 0;
  // The recordings read through first: a file that ends early or has an unusable stretch is said before
  // anything trades on it (and refused with --strict-data), wherever in the window it is.
  std::vector<sim::DataIssue> data_issues_found;
  if (options.scan_data) {
    auto scanned = sim::Simulator::scan_data(config, sim_options);
    if (!scanned) return fail(scanned.error().message);
    data_issues_found = std::move(*scanned);
    if (options.strict_data && !data_issues_found.empty())
      return fail("--strict-data: " + sim::summarize(data_issues_found));
    for (const auto& issue : data_issues_found) err << "warning: data: " << issue.to_string() << "\n";
  }
  auto created = sim::Simulator::create(config, sim_options);
  if (!created) return fail(created.error().message);
  std::unique_ptr<sim::Simulator> sim =
      std::move(const_cast<std::unique_ptr<sim::Simulator>&>(created.value()));
  const TimestampNs data_start = std::max(sim->now(), sim->start_ns());
  const TimestampNs start = start_arg.value_or(data_start);
  TimestampNs end = end_arg.value_or(start + 2 * 60 * kNanosPerSecond);
  if (!end_arg && scenario_end != 0)
    end = std::min(end, scenario_end);  // the default never runs past the data
  if (start < data_start || (scenario_end != 0 && start >= scenario_end))
    return fail("--start " + format_time(start) + " is outside the data (" + format_time(data_start) +
                " to " + (scenario_end ? format_time(scenario_end) : std::string("its end")) + ")");
  if (end <= start) return fail("--end must come after the start " + format_time(start));
  if (scenario_end != 0 && end > scenario_end)
    return fail("--end " + format_time(end) + " is past the end of the data " + format_time(scenario_end));
  int primary = sim->venue_index(VenueId(config.primary_venue));
  if (primary < 0) {
    for (std::size_t v = 0; v < sim->venue_count() && primary < 0; ++v)
      if (sim->venue(v).market_of(instrument->id) >= 0) primary = static_cast<int>(v);
    if (primary < 0) return fail("no mounted venue lists " + options.instrument);
    err << "note: the primary venue " << config.primary_venue << " is not mounted; the benchmark mid is "
        << sim->venue(static_cast<std::size_t>(primary)).config().id.str() << "'s\n";
  }
  const std::string benchmark_venue = sim->venue(static_cast<std::size_t>(primary)).config().id.str();
  for (const auto& issue : data_issues_found)
    if (issue.kind == sim::DataIssue::Kind::EndsEarly && issue.venue == benchmark_venue &&
        issue.at_ns < start && config.tca.arrival_mid != "consolidated")
      err << "warning: the benchmark mid is " << benchmark_venue << "'s, whose data stops at "
          << format_time(issue.at_ns) << ", before the arrival: the arrival price and the costs measured "
          << "against it are stale (a --start before then, or [tca] arrival_mid = \"consolidated\")\n";

  // --- the product around it: journal, risk gate, OMS, gateways ---
  std::string journal_path = options.journal;
  const bool temporary_journal = journal_path.empty();
  if (temporary_journal)
    journal_path =
        (std::filesystem::temp_directory_path() /
         ("tranche-execute-" + std::to_string(::getpid()) + "-" + std::to_string(++run_counter) + ".journal"))
            .string();
  auto remove_temporary = [&] {
    if (!temporary_journal) return;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(journal_path + suffix);
  };
  if (temporary_journal) remove_temporary();
  auto journal_opened = oms::Journal::open(journal_path);
  if (!journal_opened) return fail(journal_opened.error().message);
  std::unique_ptr<oms::Journal> journal =
      std::move(const_cast<std::unique_ptr<oms::Journal>&>(journal_opened.value()));
  risk::RiskGate gate(config);
  auto manager_opened = oms::OrderManager::open(config, *journal, gate);
  if (!manager_opened) return fail(manager_opened.error().message);
  std::unique_ptr<oms::OrderManager> manager =
      std::move(const_cast<std::unique_ptr<oms::OrderManager>&>(manager_opened.value()));
  if (!manager->oms().open_children().empty())
    return fail(journal_path + " has orders still open from an earlier run");
  auto gateways = gateway::make_sim_gateways(*sim);
  for (auto& g : gateways) manager->add_session(g.get());

  oms::ParentOrder parent;
  parent.account = AccountId("default");
  parent.instrument = instrument->id;
  parent.side = side;
  parent.qty = qty;
  parent.limit = limit;
  parent.algo = options.algo;
  parent.params = algo_params;
  parent.strategy = "tranche-execute";
  parent.start_ns = start;
  parent.end_ns = end;
  RunRecord record;
  const bool progress = options.progress && !options.json && ::isatty(STDERR_FILENO);
  ExecuteDriver driver(config, *sim, *manager, gate, parent, static_cast<std::size_t>(primary), record, err,
                       progress);
  driver.limit_ = limit;
  driver.allowed_ = options.venues;
  driver.consolidated_ = config.tca.arrival_mid == "consolidated";
  ems::Scorecards cards;
  if (!options.scorecard.empty()) {
    auto loaded = ems::Scorecards::load(options.scorecard);
    if (!loaded) {
      remove_temporary();
      return fail(loaded.error().message);
    }
    cards = *loaded;
    driver.cards_ = &cards;
  }
  sim->set_listener(&driver);
  sim->set_timer(start, kTimerStart);
  sim->set_timer(end, kTimerEnd);
  // Run the parent, then on to its end plus the longest markout horizon (or the end of the data) for the
  // mids.
  while (!driver.done() && sim->step()) {
  }
  driver.data_ended(sim->now());
  if (!driver.error().ok() && driver.parent_id().value() == 0 && record.denials.empty()) {
    remove_temporary();
    return fail(driver.error().message());
  }
  // A little past the last horizon, so the series is known to cover it.
  const TimestampNs markout_until = driver.end_ns() + 70 * kNanosPerSecond;
  sim->run_until(scenario_end != 0 ? std::min(markout_until, scenario_end) : markout_until);
  record.mids.observed_until(sim->now());

  if (options.recorded_events != nullptr) *options.recorded_events = sim->recorded_events();
  // --- TCA ---
  tca::TcaInput input;
  input.side = side;
  input.qty = qty.to_double();
  input.arrival_ns = start;
  input.end_ns = driver.end_ns();
  input.finished_early = driver.filled();
  input.algo = options.algo;
  input.primary_venue = sim->venue(static_cast<std::size_t>(primary)).config().id;
  input.mids = &record.mids;
  input.fills = record.fills;
  input.trades = record.trades;
  auto analyzed = tca::analyze(input);
  if (!analyzed) {
    remove_temporary();
    return fail(analyzed.error().message);
  }
  const tca::TcaResult& tca = *analyzed;
  if (!options.scorecard.empty()) {
    // Each venue's markouts, fill by fill, where the data reaches.
    const double s = side == Side::Buy ? 1.0 : -1.0;
    for (const auto& f : record.fills)
      for (const auto& [name, h] : {std::pair<const char*, DurationNs>{"1s", kNanosPerSecond},
                                    {"10s", 10 * kNanosPerSecond},
                                    {"60s", 60 * kNanosPerSecond}}) {
        if (f.fill_ns + h > record.mids.last_ns()) continue;
        const auto later = record.mids.at(f.fill_ns + h);
        if (later && f.price > 0)
          cards.on_markout(f.venue, name, 1e4 * s * (f.price - *later) / f.price, f.qty);
      }
    if (auto saved = cards.save(options.scorecard); !saved) {
      remove_temporary();
      return fail(saved.message());
    }
  }
  // A copy: the OMS is gone before the summary is printed.
  std::optional<oms::ParentRecord> final_record;
  if (const oms::ParentRecord* p = manager->oms().parent(driver.parent_id())) final_record = *p;
  const oms::ParentRecord* final_parent = final_record ? &*final_record : nullptr;

  ordered_json j;
  j["parent"] = {{"side", options.side},
                 {"qty", qty.to_string()},
                 {"instrument", options.instrument},
                 {"algo", options.algo},
                 {"limit", limit.is_set() ? limit.to_string() : std::string()},
                 {"arrival_ns", start},
                 {"end_ns", driver.end_ns()},
                 {"state", final_parent ? oms::to_string(final_parent->state) : "rejected"},
                 {"executed", final_parent ? final_parent->executed.to_string() : "0"},
                 {"done_text", final_parent ? final_parent->done_text : std::string()}};
  ordered_json children = ordered_json::array();
  for (const auto& c : record.children)
    children.push_back(
        {{"child_id", c.order.client_order_id.value()},
         {"venue", c.order.venue.str()},
         {"type", std::string(to_string(c.order.type)) + "/" + std::string(to_string(c.order.time_in_force))},
         {"price", c.order.price.is_set() ? c.order.price.to_string() : std::string()},
         {"qty", c.order.qty.to_string()},
         {"sent_ns", c.order.sent_ns},
         {"venue_ns", c.venue_ns}});
  j["children"] = children;
  ordered_json fills = ordered_json::array();
  for (std::size_t i = 0; i < record.fills.size(); ++i) {
    const auto& f = record.fills[i];
    fills.push_back(
        {{"child_id", f.child.value()},
         {"venue", f.venue.str()},
         {"price", f.price},
         {"qty", f.qty},
         {"liquidity", f.liquidity == Liquidity::Maker ? "maker" : "taker"},
         {"fee", f.fee},
         {"fee_charged", record.raw_fees[i].amount.to_string() + " " + record.raw_fees[i].asset.str()},
         {"ts_ns", f.fill_ns}});
  }
  j["fills"] = fills;
  ordered_json t = costs_json(tca.cost, tca.cost_bps);
  t["arrival_price"] = tca.arrival_price;
  t["benchmark"] = driver.consolidated_ ? "consolidated mid" : input.primary_venue.str() + " mid";
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
  ordered_json markouts = ordered_json::array();
  for (const auto& m : tca.markouts)
    markouts.push_back({{"horizon_s", static_cast<double>(m.horizon_ns) / kNanosPerSecond},
                        {"bps", opt(m.bps)},
                        {"fills_covered", m.fills_covered}});
  t["markouts"] = markouts;
  t["by_child"] = breakdown_json(tca.by_child);
  t["by_venue"] = breakdown_json(tca.by_venue);
  t["by_algo"] = breakdown_json(tca.by_algo);
  j["tca"] = t;
  ordered_json denials = ordered_json::array();
  for (const auto& d : record.denials) denials.push_back({{"reason_code", d.reason_code}, {"text", d.text}});
  j["denials"] = denials;
  ordered_json data_issues = ordered_json::array();
  for (const auto& issue : data_issues_found)
    data_issues.push_back({{"venue", issue.venue},
                           {"files", issue.files},
                           {"at", format_time(issue.at_ns)},
                           {"at_ns", issue.at_ns},
                           {"text", issue.to_string()}});
  j["data_issues"] = data_issues;
  if (options.fill_band) {
    // The same parent under the pessimistic and the optimistic crossing-book fill models, beside this run's
    // (docs/simulator.md): a conclusion that holds under both does not rest on how a simulator guesses.
    ordered_json band = ordered_json::object();
    const std::string own = std::string(to_string(config.venues.empty() || !config.venues.front().sim
                                                      ? CrossFill::Prints
                                                      : config.venues.front().sim->cross_fill));
    for (const std::string model : {"none", "prints", "full"}) {
      if (model == own) {
        band[model] = {{"implementation_shortfall_bps", tca.implementation_shortfall_bps},
                       {"fill_ratio", tca.fill_ratio}};
        continue;
      }
      ExecuteOptions other = options;
      other.cross_fill = model;
      other.fill_band = false;
      other.scan_data = false;
      other.json = true;
      other.progress = false;
      other.journal.clear();
      other.html.clear();
      other.scorecard.clear();
      other.recorded_events = nullptr;
      std::ostringstream other_out, other_err;
      execute_command(other, other_out, other_err);
      try {
        const auto r = nlohmann::json::parse(other_out.str());
        band[model] = {{"implementation_shortfall_bps", r.at("tca").at("implementation_shortfall_bps")},
                       {"fill_ratio", r.at("tca").at("fill_ratio")}};
      } catch (const std::exception&) {
        remove_temporary();
        return fail("--fill-band: the run under cross_fill = " + model + " failed: " + other_err.str());
      }
    }
    j["fill_band"] = band;
  }

  if (!options.html.empty()) {
    // The chart starts 10 s before arrival, with the mid as it stood then.
    std::vector<std::pair<TimestampNs, double>> mids;
    const TimestampNs from = start - 10 * kNanosPerSecond;
    if (auto before = record.mids.at(from)) mids.emplace_back(from, *before);
    for (const auto& p : record.mids.points())
      if (p.t_ns > from) mids.emplace_back(p.t_ns, p.mid);
    if (auto s = write_execution_report(options.html, j, mids, record.filled_over_time); !s) {
      remove_temporary();
      return fail(s.message());
    }
  }
  manager.reset();
  journal.reset();
  remove_temporary();
  if (!temporary_journal) err << "journal: " << journal_path << "\n";
  if (!options.html.empty()) err << "report: " << options.html << "\n";

  if (options.json) {
    out << j.dump(2) << "\n";
    return final_parent == nullptr ? 1 : 0;
  }
  auto bps = [](double v) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(2) << v;
    return o.str();
  };
  auto money = [](double v) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(2) << v;
    return o.str();
  };
  out << options.side << " " << qty.to_string() << " " << options.instrument << " (" << options.algo
      << ") from " << format_time(start) << ": "
      << (final_parent ? oms::to_string(final_parent->state) : "rejected") << ", filled " << tca.filled
      << " (" << bps(100 * tca.fill_ratio) << "%) at " << money(tca.average_price) << "\n";
  if (final_parent != nullptr && !final_parent->done_text.empty())
    out << "  " << final_parent->done_text << "\n";
  for (const auto& d : record.denials) out << "  risk denied: " << d.reason_code << ": " << d.text << "\n";
  out << "  arrival price " << money(tca.arrival_price) << " ("
      << (driver.consolidated_ ? std::string("consolidated") : input.primary_venue.str()) << " mid)\n\n";
  out << "  " << std::left << std::setw(30) << "cost" << std::right << std::setw(12) << "bps" << std::setw(16)
      << "quote"
      << "\n";
  auto row = [&](const std::string& name, double b, double q) {
    out << "  " << std::left << std::setw(30) << name << std::right << std::setw(12) << bps(b)
        << std::setw(16) << money(q) << "\n";
  };
  row("delay", tca.cost_bps.delay, tca.cost.delay);
  row("impact", tca.cost_bps.impact, tca.cost.impact);
  row("spread", tca.cost_bps.spread, tca.cost.spread);
  row("fees", tca.cost_bps.fees, tca.cost.fees);
  row("opportunity", tca.cost_bps.opportunity, tca.cost.opportunity);
  row("implementation shortfall", tca.implementation_shortfall_bps, tca.implementation_shortfall);
  if (j.contains("fill_band")) {
    out << "  fill-model band (crossing-book fills):";
    for (const auto& [model, v] : j["fill_band"].items())
      out << "  " << model << " " << bps(v["implementation_shortfall_bps"].get<double>()) << " bps ("
          << bps(100 * v["fill_ratio"].get<double>()) << "% filled)";
    out << "\n";
  }
  out << "\n";
  if (tca.vwap_slippage_bps)
    out << "  vs interval VWAP " << money(*tca.vwap) << ": " << bps(*tca.vwap_slippage_bps) << " bps\n";
  if (tca.twap_slippage_bps)
    out << "  vs interval TWAP " << money(*tca.twap) << ": " << bps(*tca.twap_slippage_bps) << " bps\n";
  if (tca.participation) out << "  participation " << bps(100 * *tca.participation) << "%\n";
  out << "  markouts:";
  for (const auto& m : tca.markouts)
    out << "  " << m.horizon_ns / kNanosPerSecond << "s "
        << (m.bps ? bps(*m.bps) + " bps" : std::string("n/a"));
  out << "\n  by venue:\n";
  for (const auto& v : tca.by_venue)
    out << "    " << std::left << std::setw(16) << v.key << std::right << " filled " << v.filled << " at "
        << money(v.average_price) << ", cost " << bps(v.cost_bps.total()) << " bps\n";
  return final_parent == nullptr ? 1 : 0;
}

int scorecard_command(const std::string& file, bool json, std::ostream& out, std::ostream& err) {
  if (!std::filesystem::exists(file)) {
    err << "tranche scorecard: " << file << ": no such file\n";
    return 2;
  }
  auto cards = ems::Scorecards::load(file);
  if (!cards) {
    err << "tranche scorecard: " << cards.error().message << "\n";
    return 2;
  }
  if (json) {
    out << cards->to_json() << "\n";
    return 0;
  }
  out << std::left << std::setw(16) << "venue" << std::right << std::setw(8) << "orders" << std::setw(8)
      << "fills" << std::setw(11) << "fill rate" << std::setw(9) << "rejects" << std::setw(14) << "round trip"
      << std::setw(12) << "markout 1s" << std::setw(12) << "10s" << std::setw(10) << "60s"
      << "\n";
  for (const auto& [name, s] : cards->venues()) {
    out << std::left << std::setw(16) << name << std::right << std::setw(8) << s.orders << std::setw(8)
        << s.fills << std::setw(10) << std::fixed << std::setprecision(1) << 100 * s.fill_rate() << "%"
        << std::setw(8) << 100 * s.reject_rate() << "%" << std::setw(11) << std::setprecision(0)
        << s.median_round_trip_us() << " us" << std::setprecision(2) << std::setw(12) << s.markout_bps("1s")
        << std::setw(12) << s.markout_bps("10s") << std::setw(10) << s.markout_bps("60s") << "\n";
  }
  out << "markouts in bps, positive = the price went against us after our fill\n";
  return 0;
}

}  // namespace tranche::service
