// `tranche execute` end to end (issue: TCA and tranche execute): the whole product in the loop (risk gate,
// OMS and its durable journal, the simulated venues behind their gateways, TCA) on the bundled default from
// the binary event format, against the bare simulator replaying the same recordings, measured in the same
// run.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/config.hpp"
#include "md/binary_format.hpp"
#include "md/reader.hpp"
#include "service/execute_command.hpp"
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

}  // namespace
}  // namespace tranche
