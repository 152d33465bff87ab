// The queue-position models measured against the true queue (issue 22, part 2; docs/queue-models.md).
//
// CME ES order-by-order data (Databento MBO, ../shared/data/nautilus/databento/derived-csv) names every
// order, so the place a hypothetical order of ours would have had in its FIFO queue is known, not estimated.
// Every 2 s of the regular session one hypothetical 1-lot order joins the back of the queue at the best bid
// or the best ask (alternately) and is followed for a minute by:
//  - the truth: a FIFO replay of the MBO records written here (FifoOrder), sharing only the L3 book with
//    SimMarket;
//  - SimMarket with QueueModel::Exact on the same records, our order placed in the venue's FIFO queue itself.
//    It is the truth but for one defect the replay found: it reads the fill record of an aggressor's own
//    order as a maker's fill at the order's resting price (see FifoOrder), and fills our orders there;
//  - the estimators an L2 feed allows, on the market-by-price view aggregated from the same records (one
//    BookDelta per venue event with the new quantity of every level it changed, each trade as it printed):
//    SimMarket with RiskAverse and with Proportional, and hftbacktest's probabilistic models (a decrease of
//    the level that trades do not explain is taken from ahead of us with the share f(ahead) / (f(ahead) +
//    f(behind)), f(x) = x^2, x^3 or log(1 + x)), which SimMarket does not have. Those are written here on
//    SimMarket's own fill rules for a resting order, mirrored line by line, so that only the queue rule
//    differs between the rows of the table; the mirror must reproduce SimMarket's risk-averse and
//    proportional fills (proportional is the power model with n = 1), under both crossing rules.
// The orders are hypothetical: none of them changes the recorded book, and each lives alone in markets of its
// own, so none ever queues behind another.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/time.hpp"
#include "md/l2_book.hpp"
#include "md/l3_book.hpp"
#include "md/reader.hpp"
#include "md/test_data.hpp"
#include "sim/market.hpp"

namespace tranche::sim {
namespace {

using md::Event;
using md::EventKind;

constexpr const char* kEsMbo = "nautilus/databento/derived-csv/esh4-glbx-mdp3-20231225.mbo.csv.gz";
// The session opens at 23:00:00 UTC by the exchange's clock (the hour before is the pre-open, crossed books
// and all; src/md/l3_golden_test.cpp).
constexpr TimestampNs kOpenNs = 1'703'545'200 * kNanosPerSecond;
// Orders start once the opening auction has settled.
constexpr DurationNs kSettleNs = 10 * kNanosPerSecond;
constexpr DurationNs kEveryNs = 2 * kNanosPerSecond;
constexpr DurationNs kHorizonNs = 60 * kNanosPerSecond;
// When the estimated queue ahead is compared with the true one.
constexpr DurationNs kQueueSampleNs = 10 * kNanosPerSecond;
const Price kTick = Price::from_raw(25'000'000);  // ES: 0.25 index points
const Qty kOrderQty = Qty::from_units(1);

bool better(Side side, Price a, Price b) {
  return side == Side::Buy ? a > b : a < b;
}
Qty min_qty(Qty a, Qty b) {
  return a < b ? a : b;
}
double seconds(DurationNs ns) {
  return static_cast<double>(ns) / static_cast<double>(kNanosPerSecond);
}

// ---------------------------------------------------------------------------------------------------------
// An L2 estimator for one resting order: SimMarket's L2 path (src/sim/market.cpp: rest, on_trade,
// on_level_change, check_crossed, take) for a lone order, with the rule that splits an unexplained decrease
// of our level as a parameter. resilience is 0, as in the SimMarkets built here. cross_fill is SimMarket's
// default, prints (a book that crossed us fills no more than the prints that reached us have shown), or full
// (it fills what crossed, queue permitting): the second says how much of each model's error is the crossing
// rule's rather than the queue's.
enum class QueueRule { RiskAverse, Power, Log };

struct Estimator {
  const char* name;
  QueueRule rule;
  double n;  // the power
  bool cross_needs_prints = true;
};

class MirroredOrder {
 public:
  MirroredOrder(const Estimator& estimator, Side side, Price price, Qty qty, Qty level_qty)
      : estimator_(estimator), side_(side), price_(price), leaves_(qty), ahead_(level_qty) {}

  void on_trade(Side aggressor, Price price, Qty qty, const md::L2Book& view, TimestampNs now_ns) {
    if (leaves_.is_positive()) {
      const Side passive = opposite(aggressor);
      if (side_ != passive) {
        // An aggressor of our own side, on a book that crossed our price: evidence of sellers (for a bid)
        // there, which only a crossing fill under prints reads.
        if (!estimator_.cross_needs_prints) {
        } else if (better(side_, price_, price)) {
          supported_ += qty;
        } else if (price == price_) {
          supported_ += ahead_ >= qty ? Qty{} : qty - ahead_;
          ahead_ = ahead_ >= qty ? ahead_ - qty : Qty{};
        }
      } else if (better(passive, price_, price)) {
        supported_ += qty;  // through our price: the aggressor met us first
        fill(min_qty(leaves_, qty), now_ns);
      } else if (price == price_) {
        traded_at_price_ += qty;
        if (ahead_ >= qty) {
          ahead_ -= qty;
        } else {
          const Qty reach = qty - ahead_;
          ahead_ = Qty{};
          supported_ += reach;
          fill(min_qty(leaves_, reach), now_ns);
        }
      }
    }
    // Prints that arrive after the book crossed us are the evidence a crossing fill waits for.
    if (estimator_.cross_needs_prints) check_crossed(view, now_ns);
  }

  // A level's new quantity at the end of a venue event, before the view applies it.
  void on_level_change(Side side, Price price, Qty old_qty, Qty new_qty) {
    if (side == opposite(side_)) {
      // What we took there stays taken only while the level still shows it (resilience 0).
      for (std::size_t i = 0; i < consumed_.size(); ++i) {
        if (consumed_[i].price != price) continue;
        consumed_[i].qty = min_qty(consumed_[i].qty, new_qty);
        if (!consumed_[i].qty.is_positive())
          consumed_.erase(consumed_.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
    if (side != side_ || price != price_) return;
    if (estimator_.rule != QueueRule::RiskAverse && new_qty < old_qty) {
      const Qty decrease = old_qty - new_qty;
      const Qty cancelled = decrease - min_qty(decrease, traded_at_price_);
      Qty behind = old_qty - traded_at_price_ - ahead_;
      if (behind.is_negative()) behind = Qty{};
      if (cancelled.is_positive() && (ahead_ + behind).is_positive())
        ahead_ -= cancelled_ahead(cancelled, behind);
      if (ahead_ > new_qty) ahead_ = new_qty;
      if (ahead_.is_negative()) ahead_ = Qty{};
    }
    traded_at_price_ = Qty{};
  }

  void check_crossed(const md::L2Book& view, TimestampNs now_ns) {
    if (leaves_.is_zero()) return;
    Qty allowed = leaves_;
    if (estimator_.cross_needs_prints) {
      const Qty evidence = supported_ - filled_;
      if (!evidence.is_positive()) return;
      allowed = min_qty(allowed, evidence);
    }
    const Side other = opposite(side_);
    const Price best_other = best(view, other);
    if (!best_other.is_set() || better(other, price_, best_other)) return;
    if (estimator_.rule == QueueRule::RiskAverse && ahead_.is_positive()) return;
    // While quantity is ahead of us only what is through our price counts.
    const Price reach =
        ahead_.is_positive() ? (side_ == Side::Buy ? price_ - kTick : price_ + kTick) : price_;
    if (better(other, reach, best_other)) return;
    Qty remaining = allowed;
    std::vector<md::Level> taken;
    for_each_level(view, other, [&](Price price, Qty shown) {
      if (better(other, reach, price)) return false;
      const Qty got = min_qty(shown, remaining);
      taken.push_back({price, got});
      remaining -= got;
      return remaining.is_positive();
    });
    Qty got;
    for (const md::Level& level : taken) {
      consume(level.price, level.qty);
      got += level.qty;
    }
    if (got.is_positive()) fill(got, now_ns);
  }

  Qty ahead() const { return ahead_; }
  Qty filled() const { return filled_; }
  TimestampNs first_fill_ns() const { return first_fill_ns_; }

 private:
  // The part of `cancelled` taken from ahead of us. n = 1 in integers, as SimMarket's proportional model does
  // it, so that the two agree to the last unit; the other rules in double, rounded to Qty's unit. The part
  // behind us cannot exceed what is behind us: the rest of it came from ahead (hftbacktest's rule).
  Qty cancelled_ahead(Qty cancelled, Qty behind) const {
    Qty from_ahead;
    if (estimator_.rule == QueueRule::Power && estimator_.n == 1.0) {
      from_ahead = Qty::from_raw(static_cast<std::int64_t>(static_cast<Int128>(cancelled.raw()) *
                                                           ahead_.raw() / (ahead_ + behind).raw()));
    } else {
      const double f_ahead = f(ahead_.to_double()), f_behind = f(behind.to_double());
      const double weight = f_ahead + f_behind > 0 ? f_ahead / (f_ahead + f_behind) : 0.0;
      from_ahead = Qty::from_raw(std::llround(static_cast<double>(cancelled.raw()) * weight));
      if (cancelled - from_ahead > behind) from_ahead = cancelled - behind;
    }
    return min_qty(from_ahead, ahead_);
  }
  double f(double x) const {
    return estimator_.rule == QueueRule::Log ? std::log1p(x) : std::pow(x, estimator_.n);
  }

  Qty consumed_at(Price price) const {
    for (const md::Level& c : consumed_)
      if (c.price == price) return c.qty;
    return Qty{};
  }
  void consume(Price price, Qty qty) {
    for (md::Level& c : consumed_)
      if (c.price == price) {
        c.qty += qty;
        return;
      }
    consumed_.push_back({price, qty});
  }
  // The view's levels best first, net of what we took; empty ones skipped.
  template <class Fn>
  void for_each_level(const md::L2Book& view, Side side, Fn&& fn) const {
    view.side(side).for_each([&](std::int64_t key, Qty qty, TimestampNs) {
      const Price price = Price::from_raw((side == Side::Buy ? key : -key) * kTick.raw());
      const Qty shown = qty - consumed_at(price);
      return !shown.is_positive() || static_cast<bool>(fn(price, shown));
    });
  }
  Price best(const md::L2Book& view, Side side) const {
    Price out = Price::unset();
    for_each_level(view, side, [&](Price price, Qty) {
      out = price;
      return false;
    });
    return out;
  }
  void fill(Qty qty, TimestampNs now_ns) {
    if (!qty.is_positive()) return;
    if (first_fill_ns_ < 0) first_fill_ns_ = now_ns;
    filled_ += qty;
    leaves_ -= qty;
  }

  Estimator estimator_;
  Side side_;
  Price price_;
  Qty leaves_;
  Qty ahead_;
  Qty traded_at_price_;
  Qty supported_;
  Qty filled_;
  std::vector<md::Level> consumed_;
  TimestampNs first_fill_ns_ = -1;
};

// ---------------------------------------------------------------------------------------------------------
// The truth, by a FIFO replay of the MBO records that shares nothing with SimMarket but the L3 book: the
// quantity ahead of our order is what rested at its price when it arrived, less every cancel of those orders
// and all of an order that lost its priority (a new price or a larger size); a maker fill of an order behind
// us at our price, or of one resting at a worse price, would have met us first; an order of the other side
// that comes to rest at our price with nothing left ahead of us (or through it) would have traded with us.
//
// A fill record is a maker's only when it is not the aggressor's own: CME reports the aggressor's fill too,
// named by the trade record (seq 13603: a bid resting at 4803.50 buys 3 lots at 4807.25, its F record at the
// trade price, then the cancel of its rest at 4803.50). Read at the order's resting price, such a record
// looks like a sell that went through every bid down to 4803.50.
struct FifoOrder {
  Side side = Side::Buy;
  Price price;
  std::uint64_t arrival = 0;  // our order's place in time priority
  Qty ahead;
  Qty leaves;
  Qty filled;
  TimestampNs first_fill_ns = -1;

  void fill(Qty qty, TimestampNs now_ns) {
    if (!qty.is_positive()) return;
    if (first_fill_ns < 0) first_fill_ns = now_ns;
    filled += qty;
    leaves -= qty;
  }
};

// Time priority of every resting order, as CME (and md::L3Book) keeps it.
class FifoPriorities {
 public:
  // Called with each record before the book applies it.
  void before(const Event& e, const md::L3Book& book) {
    md::L3Order order;
    const bool known = book.find(e.order_id, order);
    if (e.kind == EventKind::OrderAdd && !known) {
      arrive(e.order_id);
    } else if (e.kind == EventKind::OrderModify && known && (e.price != order.price || e.qty > order.qty)) {
      leave(e.order_id);
      arrive(e.order_id);
    } else if (e.kind == EventKind::OrderCancel && known && e.qty >= order.qty) {
      leave(e.order_id);
    } else if (e.kind == EventKind::BookClear) {
      arrival_.clear();
      by_arrival_.clear();
    }
  }
  std::uint64_t arrival(std::uint64_t id) const {
    const auto it = arrival_.find(id);
    return it == arrival_.end() ? 0 : it->second;
  }
  // The place an order arriving now takes: behind everything resting.
  std::uint64_t next() { return ++clock_; }
  // The resting orders' ids by arrival, first in time priority first.
  const std::map<std::uint64_t, std::uint64_t>& resting_in_priority() const { return by_arrival_; }

 private:
  void arrive(std::uint64_t id) {
    arrival_[id] = ++clock_;
    by_arrival_.emplace(clock_, id);
  }
  void leave(std::uint64_t id) {
    const auto it = arrival_.find(id);
    if (it == arrival_.end()) return;
    by_arrival_.erase(it->second);
    arrival_.erase(it);
  }

  std::unordered_map<std::uint64_t, std::uint64_t> arrival_;
  std::map<std::uint64_t, std::uint64_t> by_arrival_;
  std::uint64_t clock_ = 0;
};

// One record's effect on our order, before the book applies it.
void fifo_before(FifoOrder& ours, const Event& e, const md::L3Book& book, const FifoPriorities& priorities,
                 bool maker_fill) {
  if (ours.leaves.is_zero()) return;
  md::L3Order order;
  if (!book.find(e.order_id, order) || order.side != ours.side) return;
  const bool ahead_of_us = order.price == ours.price && priorities.arrival(e.order_id) < ours.arrival;
  if (e.kind == EventKind::OrderCancel && ahead_of_us) {
    ours.ahead -= min_qty(e.qty, order.qty);
  } else if (e.kind == EventKind::OrderModify && ahead_of_us) {
    const bool keeps_place = e.price == order.price && e.qty <= order.qty;
    ours.ahead -= keeps_place ? order.qty - e.qty : order.qty;
  } else if (e.kind == EventKind::OrderFill && maker_fill) {
    const bool behind_us = order.price == ours.price && priorities.arrival(e.order_id) > ours.arrival;
    if (better(ours.side, ours.price, order.price) || behind_us)
      ours.fill(min_qty(ours.leaves, e.qty), e.recv_ns);
  }
  if (ours.ahead.is_negative()) ours.ahead = Qty{};
}

// After the book applied the record: the other side resting at or through our price.
void fifo_after(FifoOrder& ours, const Event& e, const md::L3Book& book) {
  if (ours.leaves.is_zero()) return;
  const md::L3Level other = book.best(opposite(ours.side));
  if (!other.price.is_set()) return;
  const Price reach = ours.ahead.is_positive()
                          ? (ours.side == Side::Buy ? ours.price - kTick : ours.price + kTick)
                          : ours.price;
  if (better(ours.side, other.price, reach)) return;  // not at or through what we can reach
  // The best level alone; the orders here are one lot, which any level covers.
  ours.fill(min_qty(ours.leaves, other.qty), e.recv_ns);
}

// ---------------------------------------------------------------------------------------------------------
// The models, as the table's rows.
enum Model : std::size_t {
  kTruth,  // the FIFO replay
  kSimExact,
  kSimRiskAverse,
  kSimProportional,
  kSimRiskAverseFull,  // cross_fill = full
  kSimProportionalFull,
  kMirrorRiskAverse,
  kMirrorProportional,
  kPower2,
  kPower3,
  kLog,
  // The same five with cross_fill = full.
  kMirrorRiskAverseFull,
  kMirrorProportionalFull,
  kFullPower2,
  kFullPower3,
  kFullLog,
  kModelCount,
};
constexpr std::size_t kFirstMirror = kMirrorRiskAverse;
const Estimator kMirrored[] = {
    {"risk-averse (mirror)", QueueRule::RiskAverse, 1.0},
    {"proportional (mirror)", QueueRule::Power, 1.0},
    {"power n=2", QueueRule::Power, 2.0},
    {"power n=3", QueueRule::Power, 3.0},
    {"log", QueueRule::Log, 1.0},
    {"risk-averse, full (mirror)", QueueRule::RiskAverse, 1.0, false},
    {"proportional, full (mirror)", QueueRule::Power, 1.0, false},
    {"power n=2, full", QueueRule::Power, 2.0, false},
    {"power n=3, full", QueueRule::Power, 3.0, false},
    {"log, full", QueueRule::Log, 1.0, false},
};
static_assert(kFirstMirror + std::size(kMirrored) == kModelCount);
std::string model_name(std::size_t model) {
  static const char* const kSimulated[] = {"FIFO replay (truth)", "exact (SimMarket)", "risk-averse",
                                           "proportional",        "risk-averse, full", "proportional, full"};
  return model < kFirstMirror ? kSimulated[model] : kMirrored[model - kFirstMirror].name;
}

struct Outcome {
  TimestampNs first_fill_ns = -1;
  Qty filled;  // within the horizon
  Qty start_ahead;
  // The queue ahead kQueueSampleNs after the order rested, when neither it nor the truth had filled by then.
  std::optional<Qty> sampled_ahead;
};

// An order's own markets: it is alone in them, so no order of ours ever queues behind another or finds the
// liquidity another one took. The L2 ones are built from the view when it rests. The exact one needs the
// whole order-by-order history, so exact markets are kept fed between orders and reused; the only thing an
// order leaves in one is what it took from a book that crossed it (has_consumed), and a market with that is
// dropped for one rebuilt from the resting orders in their time priority.
struct ProbeMarkets {
  ProbeMarkets(const VenueListing& listing, std::unique_ptr<SimMarket> exact_market)
      : exact(std::move(exact_market)),
        risk_averse(listing, QueueModel::RiskAverse, 0.0),
        proportional(listing, QueueModel::Proportional, 0.0),
        risk_averse_full(listing, QueueModel::RiskAverse, 0.0),
        proportional_full(listing, QueueModel::Proportional, 0.0) {
    risk_averse_full.set_cross_fill(CrossFill::Full);
    proportional_full.set_cross_fill(CrossFill::Full);
  }
  // The L2 markets with the row each reports to.
  std::array<std::pair<SimMarket*, Model>, 4> l2() {
    return {{{&risk_averse, kSimRiskAverse},
             {&proportional, kSimProportional},
             {&risk_averse_full, kSimRiskAverseFull},
             {&proportional_full, kSimProportionalFull}}};
  }
  std::unique_ptr<SimMarket> exact;
  SimMarket risk_averse, proportional, risk_averse_full, proportional_full;
};

struct Probe {
  std::uint64_t id = 0;
  Side side = Side::Buy;
  Price price;
  TimestampNs placed_ns = 0;
  bool sampled = false;
  bool truth_fill_without_print = false;   // the true first fill came from an order resting onto our price
  bool exact_filled_by_aggressor = false;  // SimMarket's exact model first filled it on an aggressor's fill
  std::unique_ptr<ProbeMarkets> markets;
  std::vector<MirroredOrder> mirrors;
  FifoOrder fifo;
  Outcome outcome[kModelCount];
};

struct Measurement {
  std::vector<Probe> probes;
  std::uint64_t records = 0, read_errors = 0, l2_deltas = 0, l2_trades = 0;
  std::uint64_t exact_rebuilds = 0;
  std::uint64_t aggressor_fills = 0;  // fill records of the aggressor's own order, after the open
};

// Adds the fills the market reported to the probe's outcome under `model`.
void collect(SimMarket& market, Probe& probe, Model model, TimestampNs now_ns) {
  Outcome& outcome = probe.outcome[model];
  for (const SimFill& fill : market.fills()) {
    if (fill.client_order_id != ClientOrderId(probe.id)) continue;
    if (outcome.first_fill_ns < 0) outcome.first_fill_ns = now_ns;
    outcome.filled += fill.qty;
  }
  market.fills().clear();
}

// The L2 view at the end of a venue event: every level it changed (or, for the first, every level) at its new
// quantity.
class L2View {
 public:
  // Records which levels a record is about to change.
  void before(const Event& e, const md::L3Book& book) {
    md::L3Order order;
    if ((e.kind == EventKind::OrderCancel || e.kind == EventKind::OrderModify) &&
        book.find(e.order_id, order))
      touched_.emplace_back(order.side, order.price);
    if (e.kind == EventKind::OrderAdd || e.kind == EventKind::OrderModify)
      touched_.emplace_back(e.side, e.price);
  }
  // At the end of a venue event: the update it makes, or nothing (false).
  bool end_event(const Event& last, const md::L3Book& book, bool snapshot, Event& out) {
    out = Event{};
    out.recv_ns = last.recv_ns;
    out.exch_ns = last.exch_ns;
    out.kind = snapshot ? EventKind::BookSnapshot : EventKind::BookDelta;
    bids_.clear();
    asks_.clear();
    if (snapshot) {
      for (const Side side : {Side::Buy, Side::Sell}) {
        std::vector<md::L3Level> levels(book.level_count(side));
        book.depth(side, levels);
        for (const md::L3Level& level : levels) levels_of(side).push_back({level.price, level.qty});
      }
    } else {
      std::sort(touched_.begin(), touched_.end());
      touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
      for (const auto& [side, price] : touched_)
        levels_of(side).push_back({price, book.level_at(side, price).qty});
    }
    touched_.clear();
    out.bids = bids_;
    out.asks = asks_;
    return !bids_.empty() || !asks_.empty();
  }

 private:
  std::vector<md::Level>& levels_of(Side side) { return side == Side::Buy ? bids_ : asks_; }
  std::vector<std::pair<Side, Price>> touched_;
  std::vector<md::Level> bids_, asks_;
};

Measurement measure(const std::string& path) {
  Measurement m;
  auto reader = md::open_reader({path});
  EXPECT_TRUE(reader.ok()) << (reader.ok() ? "" : reader.error().message);
  if (!reader.ok()) return m;
  std::vector<Event> events;  // L3 records carry no level spans, so they copy safely
  Event e;
  while ((*reader)->next(e)) events.push_back(e);
  m.records = events.size();
  m.read_errors = (*reader)->error_count();
  if (events.empty()) return m;
  const TimestampNs last_ns = events.back().recv_ns;

  VenueListing listing;
  listing.instrument = InstrumentId("ES");
  listing.symbol = "ESH4";
  listing.tick_size = kTick;
  listing.lot_size = Qty::from_units(1);

  md::L3Book book(md::L3BookOptions{.fills_change_book = false});
  FifoPriorities priorities;
  md::L2Book view(kTick);  // the market-by-price view the L2 estimators see
  L2View view_updates;
  std::vector<std::uint64_t> event_aggressors;  // orders the trades of this venue event name
  bool view_started = false;
  std::vector<std::size_t> live;
  TimestampNs next_order_ns = kOpenNs + kSettleNs;
  Side next_side = Side::Buy;

  // Exact markets with no order in them, fed every record.
  std::vector<std::unique_ptr<SimMarket>> idle_exact;
  auto exact_market = [&](TimestampNs now_ns) {
    while (!idle_exact.empty()) {
      std::unique_ptr<SimMarket> market = std::move(idle_exact.back());
      idle_exact.pop_back();
      if (!market->has_consumed()) return market;
    }
    ++m.exact_rebuilds;
    auto market = std::make_unique<SimMarket>(listing, QueueModel::Exact, 0.0);
    market->set_l3_fills_change_book(false);  // CME: every fill record is followed by the cancel or modify
    for (const auto& [arrival, id] : priorities.resting_in_priority()) {
      md::L3Order order;
      if (!book.find(id, order)) continue;
      Event add{};
      add.kind = EventKind::OrderAdd;
      add.side = order.side;
      add.price = order.price;
      add.qty = order.qty;
      add.order_id = id;
      add.recv_ns = now_ns;
      market->on_event(add);
    }
    return market;
  };

  auto finish = [&](Probe& probe) {
    probe.markets->exact->remove(ClientOrderId(probe.id));
    probe.markets->exact->fills().clear();
    idle_exact.push_back(std::move(probe.markets->exact));
    probe.markets.reset();
    probe.outcome[kTruth].first_fill_ns = probe.fifo.first_fill_ns;
    probe.outcome[kTruth].filled = probe.fifo.filled;
    for (std::size_t i = 0; i < probe.mirrors.size(); ++i) {
      probe.outcome[kFirstMirror + i].first_fill_ns = probe.mirrors[i].first_fill_ns();
      probe.outcome[kFirstMirror + i].filled = probe.mirrors[i].filled();
    }
  };
  auto sample_queues = [&](Probe& probe) {
    probe.sampled = true;
    const ClientOrderId id(probe.id);
    Qty ahead[kModelCount];
    bool filled[kModelCount];
    ahead[kSimExact] = probe.markets->exact->find(id)->ahead;
    for (const auto& [market, model] : probe.markets->l2()) ahead[model] = market->find(id)->ahead;
    ahead[kTruth] = probe.fifo.ahead;
    for (const Model model :
         {kSimExact, kSimRiskAverse, kSimProportional, kSimRiskAverseFull, kSimProportionalFull})
      filled[model] = probe.outcome[model].filled.is_positive();
    filled[kTruth] = probe.fifo.filled.is_positive();
    for (std::size_t i = 0; i < probe.mirrors.size(); ++i) {
      ahead[kFirstMirror + i] = probe.mirrors[i].ahead();
      filled[kFirstMirror + i] = probe.mirrors[i].filled().is_positive();
    }
    for (std::size_t model = 0; model < kModelCount; ++model)
      if (!filled[kTruth] && !filled[model]) probe.outcome[model].sampled_ahead = ahead[model];
  };
  // A new order at the back of the queue at the best price of its side, in markets of its own: an idle exact
  // one (or one rebuilt), and L2 ones built from the view.
  auto rest = [&](Side side, TimestampNs now_ns) {
    const md::L3Level level = book.best(side);
    Probe probe;
    probe.id = m.probes.size() + 1;
    probe.side = side;
    probe.price = level.price;
    probe.placed_ns = now_ns;
    probe.markets = std::make_unique<ProbeMarkets>(listing, exact_market(now_ns));
    Event snapshot{};
    snapshot.kind = EventKind::BookSnapshot;
    snapshot.recv_ns = now_ns;
    std::vector<md::BookLevel> levels[2];
    std::vector<md::Level> as_levels[2];
    for (const Side s : {Side::Buy, Side::Sell}) {
      view.levels(s, view.level_count(s), levels[static_cast<int>(s)]);
      for (const md::BookLevel& l : levels[static_cast<int>(s)])
        as_levels[static_cast<int>(s)].push_back({l.price, l.qty});
    }
    snapshot.bids = as_levels[static_cast<int>(Side::Buy)];
    snapshot.asks = as_levels[static_cast<int>(Side::Sell)];
    for (const auto& [market, model] : probe.markets->l2()) market->on_event(snapshot);

    OwnOrder order;
    order.client_order_id = ClientOrderId(probe.id);
    order.order_number = probe.id;
    order.priority = probe.id;
    order.side = side;
    order.price = level.price;
    order.qty = kOrderQty;
    order.leaves_qty = kOrderQty;
    order.accepted_ns = now_ns;
    probe.markets->exact->rest(order);
    probe.outcome[kSimExact].start_ahead = probe.markets->exact->find(order.client_order_id)->ahead;
    for (const auto& [market, model] : probe.markets->l2()) {
      market->rest(order);
      probe.outcome[model].start_ahead = market->find(order.client_order_id)->ahead;
    }
    const Qty shown = view.qty_at(side, level.price);
    for (const Estimator& estimator : kMirrored)
      probe.mirrors.emplace_back(estimator, side, level.price, kOrderQty, shown);
    for (std::size_t i = 0; i < probe.mirrors.size(); ++i)
      probe.outcome[kFirstMirror + i].start_ahead = shown;
    probe.fifo.side = side;
    probe.fifo.price = level.price;
    probe.fifo.arrival = priorities.next();
    probe.fifo.ahead = level.qty;
    probe.fifo.leaves = kOrderQty;
    probe.outcome[kTruth].start_ahead = level.qty;
    m.probes.push_back(std::move(probe));
    live.push_back(m.probes.size() - 1);
  };

  m.probes.reserve(static_cast<std::size_t>((last_ns - kOpenNs) / kEveryNs + 1));
  for (const Event& record : events) {
    // Orders whose time is up, and queue samples that are due, as the book stood before this record.
    for (std::size_t i = 0; i < live.size();) {
      Probe& probe = m.probes[live[i]];
      if (!probe.sampled && record.recv_ns > probe.placed_ns + kQueueSampleNs) sample_queues(probe);
      if (record.recv_ns > probe.placed_ns + kHorizonNs) {
        finish(probe);
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }

    // The records as they are: the FIFO replay and SimMarket's exact model.
    if (record.kind == EventKind::Trade && record.order_id != 0) event_aggressors.push_back(record.order_id);
    bool maker_fill = false;
    if (record.kind == EventKind::OrderFill) {
      md::L3Order order;
      maker_fill = book.find(record.order_id, order) &&
                   (!record.price.is_set() || record.price == order.price) &&
                   std::find(event_aggressors.begin(), event_aggressors.end(), record.order_id) ==
                       event_aggressors.end();
      m.aggressor_fills += !maker_fill && record.exch_ns >= kOpenNs;
    }
    for (auto& market : idle_exact) market->on_event(record);
    for (const std::size_t index : live) {
      Probe& probe = m.probes[index];
      probe.markets->exact->on_event(record);
      if (!probe.markets->exact->fills().empty() && probe.outcome[kSimExact].first_fill_ns < 0)
        probe.exact_filled_by_aggressor = record.kind == EventKind::OrderFill && !maker_fill;
      collect(*probe.markets->exact, probe, kSimExact, record.recv_ns);
      fifo_before(probe.fifo, record, book, priorities, maker_fill);
    }
    view_updates.before(record, book);
    priorities.before(record, book);
    book.apply(record);
    for (const std::size_t index : live) {
      FifoOrder& fifo = m.probes[index].fifo;
      const bool unfilled = fifo.first_fill_ns < 0;
      fifo_after(fifo, record, book);
      if (unfilled && fifo.first_fill_ns >= 0) m.probes[index].truth_fill_without_print = true;
    }

    // The L2 view: trades as they print...
    if (view_started && record.kind == EventKind::Trade && !(record.flags & md::kFlagSideUnknown)) {
      ++m.l2_trades;
      for (const std::size_t index : live) {
        Probe& probe = m.probes[index];
        for (const auto& [market, model] : probe.markets->l2()) {
          market->on_event(record);
          collect(*market, probe, model, record.recv_ns);
        }
        for (MirroredOrder& mirror : probe.mirrors)
          mirror.on_trade(record.side, record.price, record.qty, view, record.recv_ns);
      }
    }
    if (!(record.flags & md::kFlagLastInEvent)) continue;
    event_aggressors.clear();

    // ... and the levels each venue event changed, at its end.
    const bool first_view = !view_started && record.exch_ns >= kOpenNs;
    Event update;
    if (view_updates.end_event(record, book, first_view, update) && (view_started || first_view)) {
      view_started = true;
      m.l2_deltas += update.kind == EventKind::BookDelta;
      for (const std::size_t index : live)
        for (MirroredOrder& mirror : m.probes[index].mirrors) {
          for (const md::Level& level : update.bids)
            mirror.on_level_change(Side::Buy, level.price, view.qty_at(Side::Buy, level.price), level.qty);
          for (const md::Level& level : update.asks)
            mirror.on_level_change(Side::Sell, level.price, view.qty_at(Side::Sell, level.price), level.qty);
        }
      view.apply(update);
      for (const std::size_t index : live) {
        Probe& probe = m.probes[index];
        for (MirroredOrder& mirror : probe.mirrors) mirror.check_crossed(view, record.recv_ns);
        for (const auto& [market, model] : probe.markets->l2()) {
          market->on_event(update);
          collect(*market, probe, model, record.recv_ns);
        }
      }
    }

    // New orders between venue events, once per kEveryNs of the clock (a quiet stretch does not bunch them).
    if (!view_started || record.recv_ns < next_order_ns || record.recv_ns + kHorizonNs > last_ns) continue;
    while (next_order_ns <= record.recv_ns) next_order_ns += kEveryNs;
    if (!book.best(next_side).price.is_set() || book.crossed()) continue;
    rest(next_side, record.recv_ns);
    next_side = opposite(next_side);
  }
  for (const std::size_t index : live) finish(m.probes[index]);
  return m;
}

// ---------------------------------------------------------------------------------------------------------
// Statistics of one model against the truth.
struct Row {
  std::size_t orders = 0, filled = 0, truth_filled = 0, both = 0, false_fills = 0, missed = 0;
  std::size_t sooner = 0, later = 0;                             // of the orders both filled
  double time_bias_s = 0, time_sd_s = 0, time_median_abs_s = 0;  // over the orders both filled
  double censored_bias_s = 0;  // every order, an order not filled counted as filled at the horizon
  double qty_bias = 0;         // lots, over every order
  std::size_t queue_samples = 0;
  double queue_bias = 0, queue_median_abs = 0;  // lots, kQueueSampleNs after resting
  std::size_t agree = 0;                        // same first fill time and quantity as the truth
};

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double mean(const std::vector<double>& values) {
  double sum = 0;
  for (const double x : values) sum += x;
  return values.empty() ? kNaN : sum / static_cast<double>(values.size());
}
double median(std::vector<double> values) {
  if (values.empty()) return kNaN;
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

Row compare(const std::vector<const Probe*>& probes, std::size_t model, std::size_t truth = kTruth) {
  Row row;
  std::vector<double> errors, abs_errors, censored, qty_errors, queue_errors, queue_abs;
  for (const Probe* each : probes) {
    const Probe& probe = *each;
    const Outcome& ours = probe.outcome[model];
    const Outcome& real = probe.outcome[truth];
    ++row.orders;
    const bool filled = ours.first_fill_ns >= 0, truly = real.first_fill_ns >= 0;
    row.filled += filled;
    row.truth_filled += truly;
    row.false_fills += filled && !truly;
    row.missed += truly && !filled;
    if (filled && truly) {
      ++row.both;
      row.sooner += ours.first_fill_ns < real.first_fill_ns;
      row.later += ours.first_fill_ns > real.first_fill_ns;
      errors.push_back(seconds(ours.first_fill_ns - real.first_fill_ns));
      abs_errors.push_back(std::abs(errors.back()));
    }
    const auto waited = [&](const Outcome& o) {
      return seconds(o.first_fill_ns >= 0 ? o.first_fill_ns - probe.placed_ns : kHorizonNs);
    };
    censored.push_back(waited(ours) - waited(real));
    qty_errors.push_back((ours.filled - real.filled).to_double());
    if (ours.first_fill_ns == real.first_fill_ns && ours.filled == real.filled) ++row.agree;
    if (ours.sampled_ahead && real.sampled_ahead) {
      queue_errors.push_back((*ours.sampled_ahead - *real.sampled_ahead).to_double());
      queue_abs.push_back(std::abs(queue_errors.back()));
    }
  }
  row.time_bias_s = mean(errors);
  double squares = 0;
  for (const double x : errors) squares += (x - row.time_bias_s) * (x - row.time_bias_s);
  row.time_sd_s = errors.size() > 1 ? std::sqrt(squares / static_cast<double>(errors.size() - 1)) : kNaN;
  row.time_median_abs_s = median(abs_errors);
  row.censored_bias_s = mean(censored);
  row.qty_bias = mean(qty_errors);
  row.queue_samples = queue_errors.size();
  row.queue_bias = mean(queue_errors);
  row.queue_median_abs = median(queue_abs);
  return row;
}
Row compare(const std::vector<Probe>& probes, std::size_t model, std::size_t truth = kTruth) {
  std::vector<const Probe*> all;
  for (const Probe& probe : probes) all.push_back(&probe);
  return compare(all, model, truth);
}

double percent(std::size_t part, std::size_t whole) {
  return whole == 0 ? kNaN : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

void print_row(const std::string& name, const Row& row) {
  std::printf(
      "[ queue    ] %-27s %6.1f%% %5zu %6zu %6zu %5zu | %+7.2f %7.2f %7.2f | %+7.2f | %+7.3f | %5zu %+7.2f "
      "%7.2f\n",
      name.c_str(), percent(row.filled, row.orders), row.false_fills, row.missed, row.sooner, row.later,
      row.time_bias_s, row.time_sd_s, row.time_median_abs_s, row.censored_bias_s, row.qty_bias,
      row.queue_samples, row.queue_bias, row.queue_median_abs);
}

// A model that moves on cancels as well as trades never has more queue ahead than risk-averse, which moves on
// the same trades alone, so it never fills later: order by order, under the same crossing rule.
void expect_never_behind_risk_averse(const std::vector<Probe>& probes, std::size_t model,
                                     std::size_t risk_averse) {
  std::size_t later = 0, longer_queue = 0;
  for (const Probe& probe : probes) {
    const Outcome& ours = probe.outcome[model];
    const Outcome& conservative = probe.outcome[risk_averse];
    if (conservative.first_fill_ns >= 0 &&
        (ours.first_fill_ns < 0 || ours.first_fill_ns > conservative.first_fill_ns))
      ++later;
    if (ours.sampled_ahead && conservative.sampled_ahead && *ours.sampled_ahead > *conservative.sampled_ahead)
      ++longer_queue;
  }
  EXPECT_EQ(later, 0u) << model_name(model) << " filled later than " << model_name(risk_averse);
  EXPECT_EQ(longer_queue, 0u) << model_name(model) << " saw a longer queue than " << model_name(risk_averse);
}

TEST(QueueModelGolden, L2QueueModelsAgainstTheTrueFifoQueueOfEsOrders) {
  const std::string path = md::testing::shared_data(kEsMbo);
  TRANCHE_REQUIRE_SHARED_FILE(path);
  const Measurement m = measure(path);
  const std::vector<Probe>& probes = m.probes;
  ASSERT_EQ(m.read_errors, 0u);
  // About one order every kEveryNs of the hour the session is open, less the horizon at the end.
  ASSERT_GE(probes.size(), 1000u);

  std::size_t bids = 0, truth_without_print = 0;
  std::vector<double> true_waits;
  for (const Probe& probe : probes) {
    bids += probe.side == Side::Buy;
    if (probe.outcome[kTruth].first_fill_ns < 0) continue;
    true_waits.push_back(seconds(probe.outcome[kTruth].first_fill_ns - probe.placed_ns));
    truth_without_print += probe.truth_fill_without_print;
  }
  std::printf(
      "[ queue    ] %llu MBO records; %zu orders of 1 lot (%zu bids, %zu asks), one every %lld s from %s, "
      "each followed for %lld s; the L2 view: %llu level updates, %llu trades; %llu exact markets rebuilt\n",
      static_cast<unsigned long long>(m.records), probes.size(), bids, probes.size() - bids,
      static_cast<long long>(kEveryNs / kNanosPerSecond), format_time(kOpenNs + kSettleNs).c_str(),
      static_cast<long long>(kHorizonNs / kNanosPerSecond), static_cast<unsigned long long>(m.l2_deltas),
      static_cast<unsigned long long>(m.l2_trades), static_cast<unsigned long long>(m.exact_rebuilds));
  std::printf(
      "[ queue    ] the truth: %zu orders filled within %lld s (%.1f%%), after %.2f s (median); %zu of those "
      "first fills came from an order of the other side resting onto our price, with no print\n",
      true_waits.size(), static_cast<long long>(kHorizonNs / kNanosPerSecond),
      percent(true_waits.size(), probes.size()), median(true_waits), truth_without_print);
  std::printf("[ queue    ] %-27s %7s %5s %6s %6s %5s | %7s %7s %7s | %7s | %7s | %5s %7s %7s\n", "model",
              "filled", "false", "missed", "sooner", "later", "bias s", "sd s", "|med| s", "cens. s", "qty",
              "queue", "q bias", "q |med|");
  std::vector<Row> rows;
  for (std::size_t model = 0; model < kModelCount; ++model) rows.push_back(compare(probes, model));
  for (const std::size_t model : {kTruth, kSimExact, kSimRiskAverse, kSimProportional, kMirrorRiskAverse,
                                  kMirrorProportional, kPower2, kPower3, kLog})
    print_row(model_name(model), rows[model]);
  std::printf("[ queue    ] the same estimators with cross_fill = full (not SimMarket's default):\n");
  for (const std::size_t model : {kSimRiskAverseFull, kSimProportionalFull, kMirrorRiskAverseFull,
                                  kMirrorProportionalFull, kFullPower2, kFullPower3, kFullLog})
    print_row(model_name(model), rows[model]);

  std::size_t exact_differs = 0, exact_differs_unexplained = 0, exact_by_aggressor = 0;
  for (const Probe& probe : probes) {
    const Outcome& exact = probe.outcome[kSimExact];
    const Outcome& truth = probe.outcome[kTruth];
    const bool differs = exact.first_fill_ns != truth.first_fill_ns || exact.filled != truth.filled;
    exact_differs += differs;
    exact_differs_unexplained += differs && !probe.exact_filled_by_aggressor;
    exact_by_aggressor += probe.exact_filled_by_aggressor;
  }
  std::printf(
      "[ queue    ] SimMarket's exact model fills %zu of %zu orders as the FIFO replay does; %zu of the "
      "others "
      "it first filled on the fill record of an aggressor's own order (%llu such records after the open), "
      "read as a maker's at the order's resting price\n",
      probes.size() - exact_differs, probes.size(), exact_by_aggressor,
      static_cast<unsigned long long>(m.aggressor_fills));
  // The mirror against SimMarket, order by order (the same first fill time and quantity).
  const std::pair<Model, Model> mirrored_pairs[] = {{kMirrorRiskAverse, kSimRiskAverse},
                                                    {kMirrorProportional, kSimProportional},
                                                    {kMirrorRiskAverseFull, kSimRiskAverseFull},
                                                    {kMirrorProportionalFull, kSimProportionalFull}};
  std::printf("[ queue    ] the mirror of SimMarket's L2 path fills as SimMarket does:");
  std::vector<std::size_t> mirror_agrees;
  for (const auto& [mirror, simulated] : mirrored_pairs) {
    mirror_agrees.push_back(compare(probes, mirror, simulated).agree);
    std::printf(" %s %zu of %zu;", model_name(simulated).c_str(), mirror_agrees.back(), probes.size());
  }
  std::printf("\n");

  // The ranking by side and by half of the session.
  const TimestampNs halfway = probes[probes.size() / 2].placed_ns;
  const std::pair<const char*, std::function<bool(const Probe&)>> parts[] = {
      {"bids", [](const Probe& probe) { return probe.side == Side::Buy; }},
      {"asks", [](const Probe& probe) { return probe.side == Side::Sell; }},
      {"first half", [&](const Probe& probe) { return probe.placed_ns < halfway; }},
      {"second half", [&](const Probe& probe) { return probe.placed_ns >= halfway; }},
  };
  for (const auto& [label, belongs] : parts) {
    std::vector<const Probe*> part;
    for (const Probe& probe : probes)
      if (belongs(probe)) part.push_back(&probe);
    std::printf("[ queue    ] %s: %zu orders, %.1f%% truly filled\n", label, part.size(),
                percent(compare(part, kTruth).filled, part.size()));
    for (const std::size_t model : {kSimRiskAverse, kSimProportional, kPower2, kPower3, kLog})
      print_row(model_name(model), compare(part, model));
  }

  // SimMarket's exact model is the FIFO queue, but for the aggressor's own fill records (see FifoOrder).
  EXPECT_EQ(exact_differs_unexplained, 0u) << "SimMarket's exact queue and the FIFO replay disagree";
  // The power and log rows stand on the mirror of SimMarket's L2 fill rules.
  for (std::size_t i = 0; i < mirror_agrees.size(); ++i)
    EXPECT_EQ(mirror_agrees[i], probes.size())
        << "the mirror of SimMarket's L2 path no longer fills as SimMarket's "
        << model_name(mirrored_pairs[i].second)
        << " does: mirror src/sim/market.cpp again before trusting the power and log rows";
  // Every model starts from the true queue: the whole level, as the L2 view shows it.
  std::size_t different_start = 0;
  for (const Probe& probe : probes)
    for (std::size_t model = 0; model < kModelCount; ++model)
      different_start += probe.outcome[model].start_ahead != probe.outcome[kTruth].start_ahead;
  EXPECT_EQ(different_start, 0u);

  for (std::size_t model = kSimRiskAverse; model < kModelCount; ++model) {
    const Row& row = rows[model];
    EXPECT_GE(row.both, 500u) << model_name(model);
    for (const double value : {row.time_bias_s, row.time_sd_s, row.time_median_abs_s, row.censored_bias_s,
                               row.qty_bias, row.queue_bias, row.queue_median_abs})
      EXPECT_TRUE(std::isfinite(value)) << model_name(model);
  }
  for (const std::size_t model : {kSimProportional, kPower2, kPower3, kLog})
    expect_never_behind_risk_averse(probes, model, kSimRiskAverse);
  for (const std::size_t model : {kSimProportionalFull, kFullPower2, kFullPower3, kFullLog})
    expect_never_behind_risk_averse(probes, model, kSimRiskAverseFull);
  // Risk-averse moves only on prints, so on average it sees a longer queue than the true one, fills fewer
  // orders and fills them later. Not order by order: an iceberg ahead of us can take a print beyond its
  // displayed size, and a print it took moves risk-averse forward while the true queue keeps the iceberg's
  // refill behind us.
  for (const std::size_t model : {kSimRiskAverse, kSimRiskAverseFull}) {
    EXPECT_GT(rows[model].queue_bias, 0.0) << model_name(model);
    EXPECT_LE(rows[model].filled, rows[model].truth_filled) << model_name(model);
    EXPECT_GT(rows[model].time_bias_s, 0.0) << model_name(model);
    EXPECT_GT(rows[model].censored_bias_s, 0.0) << model_name(model);
  }
}

}  // namespace
}  // namespace tranche::sim
