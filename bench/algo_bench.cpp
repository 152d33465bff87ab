// Decision latency (issue: execution algorithms): from a top-of-book change entering the EMS to the child
// order handed to the gateway, with the algo, the placer, the router, the risk gate and the OMS journal in
// the path, p50, p99 and p99.9, for each algo with 1 and with 1,000 active parents; against the bare book
// update of the same event, measured in the same loop.
//
// One measured event, per algo:
//  - twap, vwap, is, pov: a top-of-book change on one venue (pov: a print of others) at the moment the algo's
//    slice falls due; its decision is one new child.
//  - iceberg: the fill of its displayed slice (the report entering the EMS); its decision is the next slice.
//  - peg: the touch moves one tick; the placer pulls the pegged child, and on the next move rests it again.
// Two spans are timed: "decide" (event in, child journaled and in the outbox: algo, placer, router, risk,
// OMS) and "handoff" (the journal's group commit, then the request handed to the venue session); the
// decision's parts are reported beside them. The process runs pinned to one core. The other 999 parents rest
// a child each, behind the touch within their limits, which the placer re-checks on every event. The journal
// is a file on /dev/shm when there is one (tmpfs: the commit without the disk).
#include <benchmark/benchmark.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/text.hpp"
#include "ems/algo.hpp"
#include "ems/parent_execution.hpp"
#include "ems/placer.hpp"
#include "md/l2_book.hpp"
#include "oms/order_manager.hpp"
#include "risk/risk_gate.hpp"

namespace tranche {
namespace {

using Clock = std::chrono::steady_clock;
constexpr TimestampNs kStart = 1'723'161'300 * kNanosPerSecond;
const InstrumentId kEth("ETH-USDT");

double ns_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::nano>(b - a).count();
}

void report(benchmark::State& state, const char* name, std::vector<double>& samples) {
  if (samples.empty()) return;
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    return samples[std::min(samples.size() - 1,
                            static_cast<std::size_t>(q * static_cast<double>(samples.size())))];
  };
  const std::string n(name);
  state.counters[n + "_p50_ns"] = at(0.5);
  state.counters[n + "_p99_ns"] = at(0.99);
  state.counters[n + "_p999_ns"] = at(0.999);
}

// A venue that takes every request and answers nothing by itself: the bench answers for it.
class NullSession final : public VenueSession {
 public:
  explicit NullSession(VenueId id) : id_(std::move(id)) { sent.reserve(1 << 16); }
  VenueId venue() const override { return id_; }
  bool send(const NewOrder& order) override {
    sent.push_back(order);
    return true;
  }
  bool cancel(const CancelOrder& c) override {
    cancels.push_back(c);
    return true;
  }
  bool amend(const AmendOrder&) override { return true; }
  bool query(const OrderStatusQuery&) override { return true; }
  std::vector<NewOrder> sent;
  std::vector<CancelOrder> cancels;

 private:
  VenueId id_;
};

// The bundled default with its limits lifted so that a thousand parents and tens of thousands of children
// take the whole passing path of every check.
Config bench_config() {
  auto loaded = load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml");
  if (!loaded) std::abort();
  Config c = *loaded;
  for (auto& v : c.venues) {
    v.limits = {};
    for (auto& [asset, amount] : v.balances) amount = Amount::from_units(50'000'000'000);
  }
  c.risk.max_parent_notional = Amount::from_units(50'000'000'000);
  c.risk.parent_collar_bps = Amount::from_units(5000);
  c.risk.child_collar_bps = Amount::from_units(5000);
  c.risk.max_child_notional = Amount::from_units(50'000'000'000);
  c.risk.max_open_orders_per_venue = 1'000'000;
  c.risk.max_open_orders_per_account = 1'000'000;
  c.risk.max_in_flight_notional_per_venue = Amount::from_units(50'000'000'000);
  c.risk.max_in_flight_notional_per_account = Amount::from_units(50'000'000'000);
  c.risk.max_adv_share = 1;
  auto& eth = c.risk.instruments["ETH-USDT"];
  eth.max_parent_qty = Qty::from_units(10'000'000);
  eth.max_child_qty = Qty::from_units(10'000'000);
  eth.max_position = Qty::from_units(100'000'000);
  eth.adv = Qty{};
  return c;
}

struct Rig {
  Config config = bench_config();
  std::string path;
  std::unique_ptr<oms::Journal> journal;
  std::unique_ptr<risk::RiskGate> gate;
  std::unique_ptr<oms::OrderManager> manager;
  std::vector<std::unique_ptr<NullSession>> sessions;
  std::unique_ptr<ems::Placer> placer;
  std::vector<std::unique_ptr<ems::ParentExecution>> parents;
  std::vector<TimestampNs> wakes;                 // each parent's next wake
  std::map<std::uint64_t, std::size_t> index_of;  // parent id -> index
  std::vector<md::L2Book> books;
  std::vector<ems::VenueView> views;
  std::vector<md::BookLevel> scratch;
  std::uint64_t exec_seq = 0;
  TimestampNs now = kStart;

  Rig() {
    const char* dir = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    path = std::string(dir) + "/tranche-algo-bench-" + std::to_string(::getpid()) + ".journal";
    remove_files();
    journal = oms::Journal::open(path).value();
    gate = std::make_unique<risk::RiskGate>(config);
    manager = oms::OrderManager::open(config, *journal, *gate).value();
    ems::PlacerParams params;
    params.flush = false;  // one commit per event, by the driver, timed on its own
    params.min_rest_ns = 0;
    placer = std::make_unique<ems::Placer>(config, *manager, params);
    for (const auto& v : config.venues) {
      sessions.push_back(std::make_unique<NullSession>(v.id));
      manager->add_session(sessions.back().get());
      const VenueListing* listing = v.listing(kEth);
      md::L2Book book(listing->tick_size);
      // Twenty levels a side around 2682.97, a tick apart, 5 ETH each (contracts for the inverse listing).
      const Qty size = listing->inverse ? Qty::from_units(1340) : Qty::from_units(5);
      for (int i = 0; i < 20; ++i) {
        book.set_level(Side::Buy, Price::from_raw(268'296'000'000 - i * 1'000'000), size, now);
        book.set_level(Side::Sell, Price::from_raw(268'297'000'000 + i * 1'000'000), size, now);
      }
      books.push_back(std::move(book));
      ems::VenueView view;
      view.venue = v.id;
      view.listing = *listing;
      view.taker_fee_bps = v.fees.taker_bps.to_double();
      view.latency_ns = kNanosPerMilli;
      views.push_back(view);
    }
    for (std::size_t v = 0; v < books.size(); ++v) refresh(v);
  }
  ~Rig() {
    parents.clear();
    placer.reset();
    manager.reset();
    journal.reset();
    remove_files();
  }
  void remove_files() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }

  // The venue's view follows its book: the top twenty levels a side.
  void refresh(std::size_t v) {
    for (Side side : {Side::Buy, Side::Sell}) {
      scratch.clear();
      books[v].levels(side, 20, scratch);
      auto& into = side == Side::Buy ? views[v].bids : views[v].asks;
      into.clear();
      for (const auto& l : scratch) into.push_back({l.price, l.qty});
    }
    gate->on_quote(views[v].venue, kEth, books[v].best_bid(), books[v].best_ask(), now);
  }

  std::size_t add_parent(const std::string& algo, double qty, Price limit, DurationNs horizon,
                         std::vector<oms::AlgoParam> params) {
    oms::ParentOrder p;
    p.account = AccountId("bench");
    p.instrument = kEth;
    p.side = Side::Buy;
    p.qty = qty_from_real(qty, kQtyStep, Rounding::Nearest);
    p.limit = limit;
    p.algo = algo;
    p.params = std::move(params);
    p.start_ns = now;
    p.end_ns = now + horizon;
    auto id = manager->accept_parent(p, now);
    if (!id) std::abort();
    p.id = *id;
    const std::size_t index = parents.size();
    index_of[p.id.value()] = index;
    wakes.push_back(0);
    parents.push_back(
        std::make_unique<ems::ParentExecution>(*manager, *placer, std::move(ems::make_algo(p).value()), p,
                                               [this, index](TimestampNs at) { wakes[index] = at; }));
    parents.back()->algo().on_start(*parents.back(), ems::algo_market(views, now));
    (void)manager->flush();
    return index;
  }

  // The venue's answers: every new child acknowledged; `fill` fills those of parent `who` in full.
  void answer(bool fill, std::size_t who) {
    for (auto& s : sessions) {
      for (const NewOrder& o : s->sent) {
        ExecutionReport r;
        r.client_order_id = o.client_order_id;
        r.venue = o.venue;
        r.instrument = o.instrument;
        r.side = o.side;
        r.order_price = o.price;
        r.order_qty = o.qty;
        r.received_ns = r.venue_ns = now;
        r.venue_order_id = VenueOrderId(std::to_string(o.client_order_id.value()));
        const bool ioc = o.time_in_force == TimeInForce::ImmediateOrCancel;
        const bool ours = o.parent_id == parents[who]->parent();
        r.exec_type = ExecType::New;
        r.status = OrderStatus::New;
        r.leaves_qty = o.qty;
        deliver(r);
        if ((fill && ours) || ioc) {
          r.exec_type = ExecType::Trade;
          r.exec_id = next_exec_id();
          r.last_qty = r.cum_qty = o.qty;
          r.last_price = o.price;
          r.leaves_qty = Qty{};
          r.status = OrderStatus::Filled;
          r.liquidity = ioc ? Liquidity::Taker : Liquidity::Maker;
          deliver(r);
        }
      }
      s->sent.clear();
      for (const CancelOrder& c : s->cancels) {
        const oms::ChildOrder* child = manager->oms().child(c.client_order_id);
        if (child == nullptr || !child->open()) continue;
        ExecutionReport r;
        r.client_order_id = c.client_order_id;
        r.venue = child->order.venue;
        r.instrument = child->order.instrument;
        r.side = child->order.side;
        r.exec_type = ExecType::Canceled;
        r.status = OrderStatus::Canceled;
        r.cum_qty = child->cum_qty;
        r.received_ns = r.venue_ns = now;
        deliver(r);
      }
      s->cancels.clear();
    }
    (void)manager->flush();
  }
  void deliver(const ExecutionReport& r) {
    manager->on_execution_report(r);
    placer->on_report(r);
    if (r.exec_type != ExecType::Trade) return;
    if (const oms::ChildOrder* c = manager->oms().child(r.client_order_id)) {
      auto it = index_of.find(c->order.parent_id.value());
      if (it != index_of.end())
        parents[it->second]->algo().on_fill(*parents[it->second], ems::algo_market(views, now));
    }
  }
  // The venue's reports filling every open child of parent `who` in full.
  std::vector<ExecutionReport> fills_of_open(std::size_t who) {
    std::vector<ExecutionReport> out;
    for (const oms::ChildOrder* c : manager->oms().children_of(parents[who]->parent())) {
      if (!c->open()) continue;
      ExecutionReport r;
      r.client_order_id = c->order.client_order_id;
      r.venue = c->order.venue;
      r.instrument = c->order.instrument;
      r.side = c->order.side;
      r.order_price = c->order.price;
      r.order_qty = c->order.qty;
      r.exec_type = ExecType::Trade;
      r.exec_id = next_exec_id();
      r.last_qty = c->leaves_qty();
      r.cum_qty = c->order.qty;
      r.last_price = c->order.price;
      r.status = OrderStatus::Filled;
      r.liquidity = Liquidity::Maker;
      r.received_ns = r.venue_ns = now;
      out.push_back(r);
    }
    return out;
  }
  ExecId next_exec_id() {
    Text id(0);
    id << "e" << ++exec_seq;
    return ExecId(id.str());
  }
  std::size_t handed() const {
    std::size_t n = 0;
    for (const auto& s : sessions) n += s->sent.size() + s->cancels.size();
    return n;
  }
};

void BM_AlgoDecision(benchmark::State& state, const std::string& algo) {
  const auto parents = static_cast<std::size_t>(state.range(0));
  Rig rig;
  // The others: 100 ETH twaps over a month, a slice a day, resting at their limit behind the touch.
  for (std::size_t i = 1; i < parents; ++i)
    rig.add_parent("twap", 100, Price::from_units(2600), 30 * 24 * 3600 * kNanosPerSecond,
                   {{"slice", "24h"}, {"randomize", "0"}});
  rig.answer(false, 0);
  // The measured one.
  std::vector<oms::AlgoParam> params = {{"randomize", "0"}, {"slice", "1s"}};
  if (algo == "iceberg") params = {{"display", "1"}, {"randomize", "0"}};
  if (algo == "peg") params = {};
  if (algo == "pov") params.push_back({"pov_rate", "0.5"});
  const std::size_t me =
      rig.add_parent(algo, 1'000'000, Price::unset(), 30 * 24 * 3600 * kNanosPerSecond, params);
  ems::ParentExecution& mine = *rig.parents[me];
  rig.answer(algo != "peg", me);
  std::vector<double> decide, handoff, book;
  decide.reserve(1 << 16);
  handoff.reserve(1 << 16);
  book.reserve(1 << 16);
  std::size_t step = 0, decisions = 0;
  std::vector<double> refresh, placer, algo_part;  // the decision's parts: view refresh, placer, algo onwards
  for (auto _ : state) {
    ++step;
    const std::size_t v = step % rig.books.size();
    // The event's time: when the algo's slice falls due (or a while later: the placer lets a peg rest).
    if (algo == "peg")
      rig.now += 300 * kNanosPerMilli;
    else if (algo == "iceberg")
      rig.now += 10 * kNanosPerMilli;
    else
      rig.now = std::max(rig.now + kNanosPerMilli, rig.wakes[me]);
    const Price bid = rig.books[v].best_bid();
    const Qty bid_qty = Qty::from_units(5 + static_cast<std::int64_t>(step % 7));
    Clock::time_point a, b, c, d;
    if (algo == "iceberg") {
      // The displayed slice fills: the report enters, the algo shows the next.
      const std::vector<ExecutionReport> fills = rig.fills_of_open(me);
      a = Clock::now();
      b = a;
      for (const auto& r : fills) rig.deliver(r);
      c = Clock::now();
      (void)rig.manager->flush();
      d = Clock::now();
    } else {
      a = Clock::now();
      // The event: a top-of-book change (peg: the touch moves a tick up, then back).
      if (algo == "peg") {
        const bool up = step % 2 == 1;
        const Price tick = rig.views[v].listing.tick_size;
        const Qty size = rig.books[v].best_bid_qty();
        if (up) {
          rig.books[v].set_level(Side::Buy, bid + tick, size, rig.now);
        } else {
          rig.books[v].set_level(Side::Buy, bid, Qty{}, rig.now);
        }
      } else {
        rig.books[v].set_level(Side::Buy, bid, bid_qty, rig.now);
      }
      b = Clock::now();
      rig.refresh(v);
      auto t1 = Clock::now();
      rig.placer->on_market(rig.views, rig.now, &rig.views[v].venue);
      auto t2 = Clock::now();
      refresh.push_back(ns_between(b, t1));
      placer.push_back(ns_between(t1, t2));
      const ems::AlgoMarket m = ems::algo_market(rig.views, rig.now);
      if (algo == "pov") {
        rig.placer->on_trade(rig.views[v].venue, Side::Sell, bid, 2.0, rig.now);
        mine.algo().on_trade(mine, m, 2.0);
      }
      auto t3 = Clock::now();
      if (algo != "peg") mine.algo().on_timer(mine, m);
      c = Clock::now();
      algo_part.push_back(ns_between(t3, c));
      (void)rig.manager->flush();
      d = Clock::now();
    }
    const std::size_t made = rig.handed();
    if (made > 0) {
      ++decisions;
      decide.push_back(ns_between(a, c));
      handoff.push_back(ns_between(c, d));
    }
    book.push_back(ns_between(a, b));
    state.PauseTiming();
    if (algo == "iceberg")
      for (std::size_t k = 0; k < rig.books.size(); ++k) rig.refresh(k);  // the market stays fresh meanwhile
    rig.answer(algo != "peg" && algo != "iceberg", me);  // the iceberg's slice rests until the next event
    state.ResumeTiming();
  }
  if (decisions == 0) state.SkipWithError("no event led to a child order");
  report(state, "decide", decide);
  report(state, "part_refresh", refresh);
  report(state, "part_placer", placer);
  report(state, "part_algo_to_outbox", algo_part);
  report(state, "handoff", handoff);
  report(state, "book_update", book);
  state.counters["decisions"] = static_cast<double>(decisions);
  state.counters["parents"] = static_cast<double>(parents);
}

void register_all() {
  for (const char* algo : {"twap", "vwap", "pov", "is", "iceberg", "peg"}) {
    const std::string name = std::string("BM_AlgoDecision/") + algo;
    benchmark::RegisterBenchmark(name.c_str(), [algo](benchmark::State& s) { BM_AlgoDecision(s, algo); })
        ->Arg(1)
        ->Iterations(4000);
    benchmark::RegisterBenchmark(name.c_str(), [algo](benchmark::State& s) { BM_AlgoDecision(s, algo); })
        ->Arg(1000)
        ->Iterations(2000);
  }
}

}  // namespace
}  // namespace tranche

int main(int argc, char** argv) {
  // One pinned core, as the goal is stated: the last one.
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  CPU_SET(static_cast<int>(n > 0 ? n - 1 : 0), &cpus);
  if (::sched_setaffinity(0, sizeof cpus, &cpus) != 0)
    std::fprintf(stderr, "algo_bench: could not pin to a core\n");
  benchmark::Initialize(&argc, argv);
  tranche::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
