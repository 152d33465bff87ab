// Simulator benchmarks (issue: multi-venue simulator):
//  (a) the whole simulator replaying the bundled three-venue default from the binary event format, no orders
//      of ours, against the bare book replay of the same events into three books, in the same run;
//  (b) the same with our orders placed and cancelled every 100 ms of market time on each venue;
//  (c) heap memory of one venue after replaying its whole recording.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "md/binary_format.hpp"
#include "md/l2_book.hpp"
#include "md/reader.hpp"
#include "sim/simulator.hpp"

namespace tranche::sim {
namespace {

struct BenchMarket {
  Config config;       // the default, each venue fed from its own .trmd
  std::string merged;  // all three venues in one .trmd, for the bare replay
};

const BenchMarket& market() {
  static BenchMarket m;
  if (!m.merged.empty()) return m;
  auto loaded = load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml");
  if (!loaded) std::abort();
  m.config = *loaded;
  const auto dir = std::filesystem::temp_directory_path();
  std::vector<std::string> all;
  for (auto& venue : m.config.venues) {
    const std::string source = venue.sim->feeds.at(0).at(0);
    all.push_back(source);
    const std::string out = (dir / ("tranche_bench_sim_" + venue.id.str() + ".trmd")).string();
    auto reader = md::open_reader({source});
    if (!reader || !md::convert_to_binary(**reader, out).ok()) std::abort();
    venue.sim->feeds = {{out}};
    venue.limits = {};  // measure the engine, not the venues' rate limits
  }
  m.merged = (dir / "tranche_bench_sim_all.trmd").string();
  // The bare replay reads the same events in one merged file.
  auto multi = md::open_reader(all);
  if (!multi || !md::convert_to_binary(**multi, m.merged).ok()) std::abort();
  return m;
}

// The baseline: the same events replayed into one flat book per stream, nothing else.
void BM_BareBookReplay_ThreeVenues(benchmark::State& state) {
  const BenchMarket& m = market();
  std::uint64_t events = 0;
  for (auto _ : state) {
    auto reader = md::open_reader({m.merged});
    std::vector<md::L2Book> books(8, md::L2Book(Price::parse("0.01").value()));
    md::Event e;
    while ((*reader)->next(e)) {
      ++events;
      if (e.stream < books.size()) books[e.stream].apply(e);
    }
    benchmark::DoNotOptimize(books[0].best_bid());
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BareBookReplay_ThreeVenues)->Unit(benchmark::kMillisecond);

void BM_SimulatorReplay_NoOrders(benchmark::State& state) {
  const BenchMarket& m = market();
  std::uint64_t events = 0;
  SimOptions options;
  options.deliver_market_data = false;
  Config config = m.config;
  config.scenario->start_ns = 0;  // the whole recording, as the bare replay
  config.scenario->end_ns = 0;
  for (auto _ : state) {
    auto sim = Simulator::create(config, options);
    if (!sim) std::abort();
    (*sim)->run();
    events += (*sim)->recorded_events();
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimulatorReplay_NoOrders)->Unit(benchmark::kMillisecond);

// Every 100 ms of market time, on every venue: cancel our resting buy and place a new one at the touch.
class Quoter : public SimListener {
 public:
  explicit Quoter(Simulator& sim) : sim_(sim), resting_(sim.venue_count(), 0) {}
  void on_execution_report(const ExecutionReport& r) override {
    ++reports;
    if (r.exec_type == ExecType::Trade) ++fills;
  }
  void on_timer(std::uint64_t, TimestampNs now) override {
    for (std::size_t v = 0; v < sim_.venue_count(); ++v) {
      const SimMarket& market = sim_.venue(v).market(0);
      if (resting_[v] != 0) sim_.cancel(v, {ClientOrderId(resting_[v]), market_venue(v), instrument_, 0});
      NewOrder order;
      order.client_order_id = ClientOrderId(++next_id_);
      order.venue = market_venue(v);
      order.instrument = instrument_;
      order.side = Side::Buy;
      order.price = market.best(Side::Buy);
      if (!order.price.is_set()) continue;
      order.qty = market.listing().inverse ? Qty::from_units(10) : Qty::parse("0.1").value();
      sim_.send(v, order);
      resting_[v] = next_id_;
      ++orders;
    }
    sim_.set_timer(now + 100 * kNanosPerMilli, 0);
  }
  std::uint64_t orders = 0, reports = 0, fills = 0;

 private:
  VenueId market_venue(std::size_t v) const { return sim_.venue(v).config().id; }
  Simulator& sim_;
  std::vector<std::uint64_t> resting_;
  std::uint64_t next_id_ = 0;
  InstrumentId instrument_{"ETH-USDT"};
};

void BM_SimulatorReplay_OrdersEvery100ms(benchmark::State& state) {
  const BenchMarket& m = market();
  std::uint64_t events = 0, orders = 0, fills = 0;
  SimOptions options;
  options.deliver_market_data = false;
  for (auto _ : state) {
    auto sim = Simulator::create(m.config, options);
    if (!sim) std::abort();
    Simulator& s = **sim;
    Quoter quoter(s);
    s.set_listener(&quoter);
    s.set_timer(s.start_ns(), 0);
    s.run();
    events += s.recorded_events();
    orders += quoter.orders;
    fills += quoter.fills;
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["orders"] = static_cast<double>(orders) / static_cast<double>(state.iterations());
  state.counters["fills"] = static_cast<double>(fills) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_SimulatorReplay_OrdersEvery100ms)->Unit(benchmark::kMillisecond);

// Anonymous resident bytes of this process (/proc/self/statm: resident less shared, in pages): what the
// process made, not the pages of the data files it maps.
double anonymous_resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0, shared = 0;
  const int read = std::fscanf(f, "%lu %lu %lu", &size, &resident, &shared);
  std::fclose(f);
  return read == 3 ? static_cast<double>(resident - shared) * static_cast<double>(::sysconf(_SC_PAGESIZE))
                   : 0;
}

// Heap held by one mounted venue after replaying its whole recording (the mapped data file not counted), and
// the growth of the process's anonymous resident memory meanwhile (which counts the books' mapped slots where
// levels touched them, and not heap the allocator reused from before).
void BM_SimulatorMemoryPerVenue(benchmark::State& state) {
  const BenchMarket& m = market();
  const std::string venue = m.config.venues[static_cast<std::size_t>(state.range(0))].id.str();
  double bytes = 0, resident = 0;
  for (auto _ : state) {
    SimOptions options;
    options.venues = {venue};
    options.deliver_market_data = false;
    const auto before = mallinfo2().uordblks;
    const double resident_before = anonymous_resident_bytes();
    auto sim = Simulator::create(m.config, options);
    if (!sim) std::abort();
    (*sim)->run();
    bytes = static_cast<double>(mallinfo2().uordblks - before);
    resident = anonymous_resident_bytes() - resident_before;
  }
  state.SetLabel(venue);
  state.counters["heap_bytes"] = bytes;
  state.counters["anonymous_resident_growth_bytes"] = resident;
}
BENCHMARK(BM_SimulatorMemoryPerVenue)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace tranche::sim
