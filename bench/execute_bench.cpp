// `tranche execute` end to end (issue: TCA and tranche execute): the whole product in the loop (risk gate,
// OMS and its durable journal, the simulated venues behind their gateways, TCA) on the bundled default from
// the binary event format, against the bare simulator replaying the same recordings, measured in the same
// run.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/config.hpp"
#include "md/binary_format.hpp"
#include "md/reader.hpp"
#include "service/execute_command.hpp"
#include "service/process_memory.hpp"
#include "service/runtime.hpp"
#include "sim/simulator.hpp"

namespace tranche {
namespace {

// The bundled config rewritten to read each venue from a .trmd converted once.
const std::string& scenario_path() {
  static std::string path;
  if (!path.empty()) return path;
  const std::string source = std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml";
  std::ifstream in(source);
  std::stringstream text;
  text << in.rdbuf();
  std::string toml = text.str();
  const auto dir = std::filesystem::temp_directory_path();
  for (const char* rel : {"binance/spot/ethusdt_20240808.gz", "binance/usdm/ethusdt_20240808.gz",
                          "binance/cm/ethusd_perp_20240808.gz"}) {
    const std::string gz = std::string(TRANCHE_SOURCE_DIR) + "/data/" + rel;
    std::string name = rel;
    for (char& c : name)
      if (c == '/') c = '_';
    const std::string trmd = (dir / ("tranche_bench_execute_" + name + ".trmd")).string();
    auto reader = md::open_reader({gz});
    if (!reader || !md::convert_to_binary(**reader, trmd).ok()) std::abort();
    const std::string from = std::string("\"../data/") + rel + "\"";
    const auto at = toml.find(from);
    if (at == std::string::npos) std::abort();
    toml.replace(at, from.size(), "\"" + trmd + "\"");
  }
  path = (dir / "tranche_bench_execute.toml").string();
  std::ofstream(path) << toml;
  return path;
}

// `algo` works a 200 ETH parent from the data's start to its end, so it is active through the whole replay
// (the market sweep is done within a second, and the replay goes on).
void BM_ExecuteEndToEnd(benchmark::State& state, const char* algo) {
  const std::string scenario = scenario_path();
  const std::string journal =
      (std::filesystem::temp_directory_path() / "tranche_bench_execute.journal").string();
  std::uint64_t events = 0;
  std::ostringstream sink_out, sink_err;
  for (auto _ : state) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(journal + suffix);
    std::uint64_t replayed = 0;
    service::ExecuteOptions options;
    options.side = "buy";
    options.qty = "200";
    options.algo = algo;
    options.scenario = scenario;
    options.journal = journal;
    options.json = true;
    options.progress = false;
    // The whole window: the parent at the start, then the run goes on through the data.
    options.start = "2024-08-08T23:54:17Z";
    options.end = "2024-08-08T23:59:59Z";
    options.recorded_events = &replayed;
    sink_out.str("");
    if (service::execute_command(options, sink_out, sink_err) != 0) state.SkipWithError("execute failed");
    events += replayed;
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(journal + suffix);
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["events"] = static_cast<double>(events) / static_cast<double>(state.iterations());
}
BENCHMARK_CAPTURE(BM_ExecuteEndToEnd, Market, "market")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_ExecuteEndToEnd, TwapWholeWindow, "twap")->Unit(benchmark::kMillisecond)->UseRealTime();

// The baseline: the simulator alone over the same recordings, its market data delivered to a listener that
// keeps nothing (what execute's listener receives), no orders.
void BM_BareSimulatorReplay(benchmark::State& state) {
  auto config = load_config(scenario_path());
  if (!config) std::abort();
  std::uint64_t events = 0;
  sim::SimListener listener;
  for (auto _ : state) {
    auto sim = sim::Simulator::create(*config);
    if (!sim) std::abort();
    (*sim)->set_listener(&listener);
    (*sim)->run();
    events += (*sim)->recorded_events();
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["events"] = static_cast<double>(events) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_BareSimulatorReplay)->Unit(benchmark::kMillisecond)->UseRealTime();

// The simulator issue's own baseline: the replay with no listener at all.
void BM_BareSimulatorReplay_NoListener(benchmark::State& state) {
  auto config = load_config(scenario_path());
  if (!config) std::abort();
  std::uint64_t events = 0;
  sim::SimOptions options;
  options.deliver_market_data = false;
  for (auto _ : state) {
    auto sim = sim::Simulator::create(*config, options);
    if (!sim) std::abort();
    (*sim)->run();
    events += (*sim)->recorded_events();
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["events"] = static_cast<double>(events) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_BareSimulatorReplay_NoListener)->Unit(benchmark::kMillisecond)->UseRealTime();

// Many working parents (issue 19): the product's runtime on the bundled default (the kernel, the OMS and its
// journal, the risk gate, the simulated venues), N twap parents of 1 ETH over ten hours, each resting its
// first slice on the book. Then the resident memory and the heap in use, against the same runtime before the
// parents; and the time each market event takes the kernel over the next 10 s of market time, with the N
// parents working (the one-parent case is the baseline in the same run). The risk limits are lifted so
// that every parent and child is accepted.
void BM_KernelMemory_WorkingParents(benchmark::State& state) {
  auto loaded = load_config(scenario_path());
  if (!loaded) std::abort();
  Config config = *loaded;
  const auto parents = static_cast<std::size_t>(state.range(0));
  config.risk.max_open_orders_per_venue = 1'000'000;
  config.risk.max_open_orders_per_account = 1'000'000;
  config.risk.max_in_flight_notional_per_venue = Amount::from_units(50'000'000'000);
  config.risk.max_in_flight_notional_per_account = Amount::from_units(50'000'000'000);
  for (auto& v : config.venues) {
    v.limits = {};
    for (auto& [asset, amount] : v.balances) amount = Amount::from_units(50'000'000'000);
  }
  for (auto& [instrument, limits] : config.risk.instruments)
    limits.max_position = Qty::from_units(100'000'000);
  const std::string journal =
      (std::filesystem::temp_directory_path() / "tranche_bench_memory.journal").string();
  double rss_before = 0, rss_after = 0, heap_before = 0, heap_after = 0, working = 0, open_children = 0;
  double ns_per_event = 0, events = 0;
  for (auto _ : state) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(journal + suffix);
    service::RuntimeOptions options;
    options.journal = journal;
    auto runtime = service::Runtime::open(config, options);
    if (!runtime) {
      state.SkipWithError(runtime.error().message.c_str());
      return;
    }
    service::Runtime& rt = **runtime;
    sim::Simulator& sim = rt.sim();
    sim.run_until(sim.start_ns() + 5 * kNanosPerSecond);
    rss_before = static_cast<double>(service::resident_bytes());
    heap_before = static_cast<double>(service::heap_bytes().in_use);
    for (std::size_t i = 0; i < parents; ++i) {
      oms::ParentOrder p;
      p.account = AccountId("bench");
      p.instrument = InstrumentId("ETH-USDT");
      p.side = i % 2 == 0 ? Side::Buy : Side::Sell;
      p.qty = Qty::from_units(1);
      p.algo = "twap";
      p.params = {{"slice", "1h"}, {"randomize", "0"}};
      p.start_ns = sim.now();
      p.end_ns = sim.now() + 10 * 3600 * kNanosPerSecond;
      if (!rt.kernel().submit(std::move(p))) {
        state.SkipWithError("a parent was refused");
        return;
      }
    }
    rt.kernel().settle();
    sim.run_until(sim.now() + kNanosPerSecond);  // each parent's first slice goes out
    const std::uint64_t events_before = sim.recorded_events();
    const auto started = std::chrono::steady_clock::now();
    sim.run_until(sim.now() + 10 * kNanosPerSecond);
    const double elapsed_ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - started).count();
    events = static_cast<double>(sim.recorded_events() - events_before);
    ns_per_event = events > 0 ? elapsed_ns / events : 0;
    rss_after = static_cast<double>(service::resident_bytes());
    heap_after = static_cast<double>(service::heap_bytes().in_use);
    working = static_cast<double>(rt.kernel().working());
    open_children = static_cast<double>(rt.manager().oms().open_child_ids().size());
    if (!rt.kernel().error().ok()) state.SkipWithError(rt.kernel().error().message().c_str());
    rt.close();
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(journal + suffix);
  state.counters["working_parents"] = working;
  state.counters["market_events"] = events;
  state.counters["ns_per_market_event"] = ns_per_event;
  state.counters["open_children"] = open_children;
  state.counters["rss_before_bytes"] = rss_before;
  state.counters["rss_after_bytes"] = rss_after;
  state.counters["rss_per_parent_bytes"] = (rss_after - rss_before) / static_cast<double>(parents);
  state.counters["heap_per_parent_bytes"] = (heap_after - heap_before) / static_cast<double>(parents);
}
BENCHMARK(BM_KernelMemory_WorkingParents)
    ->Arg(1)
    ->Arg(1000)
    ->Arg(10000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace tranche
