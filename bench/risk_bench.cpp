// Risk benchmarks (issue: pre-trade risk gate): the whole check chain for one child order, p50 and p99,
// against one real L2 depth diff applied to a book, measured in the same run. Each call is timed on its own
// with the steady clock; the clock's own cost is measured and reported beside them.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "md/l2_book.hpp"
#include "md/reader.hpp"
#include "oms/oms.hpp"
#include "risk/risk_gate.hpp"

namespace tranche {
namespace {

using Clock = std::chrono::steady_clock;

struct Percentiles {
  double p50 = 0, p99 = 0, mean = 0;
};

Percentiles percentiles(std::vector<double>& samples) {
  std::sort(samples.begin(), samples.end());
  Percentiles p;
  p.p50 = samples[samples.size() / 2];
  p.p99 = samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
  double sum = 0;
  for (double s : samples) sum += s;
  p.mean = sum / static_cast<double>(samples.size());
  return p;
}

double clock_overhead_ns() {
  std::vector<double> samples(100000);
  for (auto& s : samples) {
    const auto a = Clock::now();
    const auto b = Clock::now();
    s = std::chrono::duration<double, std::nano>(b - a).count();
  }
  return percentiles(samples).p50;
}

void report(benchmark::State& state, std::vector<double>& samples) {
  const Percentiles p = percentiles(samples);
  state.counters["p50_ns"] = p.p50;
  state.counters["p99_ns"] = p.p99;
  state.counters["mean_ns"] = p.mean;
  state.counters["clock_ns"] = clock_overhead_ns();
}

// The bundled default config, its venues' rate limits lifted so every call takes the whole passing path.
Config bench_config() {
  auto loaded = load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml");
  if (!loaded) std::abort();
  Config config = *loaded;
  for (auto& v : config.venues) v.limits = {};
  return config;
}

void BM_RiskCheckChild_WholeChain(benchmark::State& state) {
  const Config config = bench_config();
  risk::RiskGate gate(config);
  oms::Oms oms(config);
  const TimestampNs now = 1'723'161'300 * kNanosPerSecond;
  const InstrumentId eth("ETH-USDT");
  for (const auto& v : config.venues)
    gate.on_quote(v.id, eth, Price::parse("2682.96").value(), Price::parse("2682.97").value(), now);
  // A working book of ours: a parent with 20 resting children across the venues, a filled position.
  oms::Record r;
  oms::ParentOrder parent;
  parent.id = ParentId(1);
  parent.account = AccountId("desk");
  parent.instrument = eth;
  parent.qty = Qty::from_units(1000);
  r.seq = 1;
  r.body = parent;
  if (!oms.apply(r).ok()) std::abort();
  for (std::uint64_t i = 1; i <= 20; ++i) {
    NewOrder o;
    o.client_order_id = ClientOrderId(i);
    o.parent_id = ParentId(1);
    o.venue = config.venues[i % 2].id;  // spot and USD-M
    o.instrument = eth;
    o.side = Side::Buy;
    o.price = Price::parse("2680.00").value();
    o.qty = Qty::from_units(1);
    r.seq = 1 + i;
    r.body = o;
    if (!oms.apply(r).ok()) std::abort();
  }
  NewOrder child;
  child.client_order_id = ClientOrderId(1000);
  child.parent_id = ParentId(1);
  child.venue = VenueId("binance-spot");
  child.instrument = eth;
  child.side = Side::Buy;
  child.price = Price::parse("2682.97").value();
  child.qty = Qty::parse("0.5").value();
  std::vector<double> samples;
  samples.reserve(1 << 20);
  for (auto _ : state) {
    const auto a = Clock::now();
    auto denial = gate.check_child(child, oms, now);
    const auto b = Clock::now();
    benchmark::DoNotOptimize(denial);
    if (denial) state.SkipWithError(denial->text.c_str());
    samples.push_back(std::chrono::duration<double, std::nano>(b - a).count());
  }
  report(state, samples);
}
BENCHMARK(BM_RiskCheckChild_WholeChain)->Iterations(1 << 18);

// The foundation's unit of work: one recorded depth diff applied to the flat book, spot ETH.
void BM_L2BookApplyOneDiff(benchmark::State& state) {
  static std::vector<md::OwnedEvent> diffs;
  static md::OwnedEvent snapshot;
  if (diffs.empty()) {
    auto reader =
        md::open_reader({std::string(TRANCHE_SOURCE_DIR) + "/data/binance/spot/ethusdt_20240808.gz"});
    if (!reader) std::abort();
    md::Event e;
    while ((*reader)->next(e)) {
      if (e.kind == md::EventKind::BookSnapshot) snapshot = md::OwnedEvent(e);
      if (e.kind == md::EventKind::BookDelta && snapshot.event.kind == md::EventKind::BookSnapshot)
        diffs.emplace_back(e);
    }
  }
  md::L2Book book(Price::parse("0.01").value());
  book.apply(snapshot.event);
  std::size_t next = 0;
  std::vector<double> samples;
  samples.reserve(1 << 20);
  for (auto _ : state) {
    if (next == diffs.size()) {
      state.PauseTiming();
      book.apply(snapshot.event);
      next = 0;
      state.ResumeTiming();
    }
    const auto a = Clock::now();
    book.apply(diffs[next++].event);
    const auto b = Clock::now();
    samples.push_back(std::chrono::duration<double, std::nano>(b - a).count());
  }
  benchmark::DoNotOptimize(book.best_bid());
  report(state, samples);
}
BENCHMARK(BM_L2BookApplyOneDiff)->Iterations(1 << 16);

}  // namespace
}  // namespace tranche
