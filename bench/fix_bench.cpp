// tranche serve over loopback FIX, against a QuickFIX acceptor that only answers each NewOrderSingle with an
// ack (the baseline: what QuickFIX itself costs), measured in the same run:
//   - ParentToFirstChild: a parent NewOrderSingle sent to `tranche serve` (a child process: FIX acceptor,
//     kernel, risk, OMS journal, algo, placer) until its first child order arrives at the FIX venue (this
//     process, a QuickFIX acceptor playing every venue: `tranche serve --exchange`); and the parent's ack.
//   - ParentsPerSecond: parents sent back to back; the acks counted per second, with the ack latency under
//     that load.
//   - AckOnlyBaseline: the same client against the ack-only acceptor.
// Latencies are reported as p50/p99 counters in microseconds; a parent's algo is `is` with urgency
// aggressive so its first decision sends a child at once.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "serve_bench_support.hpp"

namespace {

using namespace tranche::bench;

void ParentToFirstChild(benchmark::State& state) {
  Stamps stamps;
  AckOnly venue(stamps, true);
  const int venue_port = free_port(), serve_port = free_port();
  Acceptor venues(venue, venue_port,
                  {{"binance-spot", "TRANCHE"}, {"binance-usdm", "TRANCHE"}, {"binance-coinm", "TRANCHE"}});
  Serve serve(serve_port, venue_port);
  for (int i = 0; i < 1000 && venue.logged_on < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the replay's books fill
  Client client(stamps);
  Initiator session(client, serve_port, "CLIENT1", "TRANCHE");
  if (!client.logged_on) {
    state.SkipWithError("tranche serve did not take the client's logon");
    return;
  }
  std::vector<double> to_child_us, to_ack_us;
  std::uint64_t n = 0;
  for (auto _ : state) {
    const std::string id = numbered('b', ++n);
    {
      std::lock_guard lock(venue.mutex);
      venue.waiting_for = id;
    }
    const std::int64_t sent = now_ns();
    client.send_parent(id);
    const bool child = stamps.wait([&] { return stamps.first_child.count(id) && stamps.acked.count(id); },
                                   std::chrono::milliseconds(2000));
    state.PauseTiming();
    if (child) {
      to_child_us.push_back(static_cast<double>(stamps.first_child[id] - sent) / 1e3);
      to_ack_us.push_back(static_cast<double>(stamps.acked[id] - sent) / 1e3);
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(20));  // one parent at a time, its children gone out
    state.ResumeTiming();
  }
  state.counters["first_child_p50_us"] = percentile(to_child_us, 0.5);
  state.counters["first_child_p99_us"] = percentile(to_child_us, 0.99);
  state.counters["ack_p50_us"] = percentile(to_ack_us, 0.5);
  state.counters["ack_p99_us"] = percentile(to_ack_us, 0.99);
  state.counters["measured"] = static_cast<double>(to_child_us.size());
}
BENCHMARK(ParentToFirstChild)->Iterations(200)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Parents back to back: acks per second, and the ack latency under that load.
void load(benchmark::State& state, bool baseline) {
  Stamps stamps;
  AckOnly venue(stamps, !baseline);
  const int venue_port = free_port(), serve_port = free_port();
  std::unique_ptr<Acceptor> server;
  std::unique_ptr<Serve> serve;
  if (baseline) {
    server = std::make_unique<Acceptor>(
        venue, serve_port, std::vector<std::pair<std::string, std::string>>{{"TRANCHE", "CLIENT1"}});
  } else {
    server = std::make_unique<Acceptor>(
        venue, venue_port,
        std::vector<std::pair<std::string, std::string>>{
            {"binance-spot", "TRANCHE"}, {"binance-usdm", "TRANCHE"}, {"binance-coinm", "TRANCHE"}});
    serve = std::make_unique<Serve>(serve_port, venue_port);
    for (int i = 0; i < 1000 && venue.logged_on < 3; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  Client client(stamps);
  Initiator session(client, serve_port, "CLIENT1", "TRANCHE");
  if (!client.logged_on) {
    state.SkipWithError("no logon");
    return;
  }
  const int batch = static_cast<int>(state.range(0));
  std::vector<double> ack_us;
  std::uint64_t n = 0, acked_total = 0;
  double seconds = 0;
  for (auto _ : state) {
    std::vector<std::pair<std::string, std::int64_t>> sent;
    const std::int64_t start = now_ns();
    for (int i = 0; i < batch; ++i) {
      const std::string id = numbered('L', ++n);
      sent.emplace_back(id, now_ns());
      client.send_parent(id);
    }
    stamps.wait([&] { return stamps.acked.count(sent.back().first) != 0; }, std::chrono::seconds(30));
    const std::int64_t end = now_ns();
    seconds += static_cast<double>(end - start) / 1e9;
    std::lock_guard lock(stamps.mutex);
    for (const auto& [id, t] : sent)
      if (auto it = stamps.acked.find(id); it != stamps.acked.end()) {
        ack_us.push_back(static_cast<double>(it->second - t) / 1e3);
        ++acked_total;
      }
  }
  state.counters["parents_per_second"] = seconds > 0 ? static_cast<double>(acked_total) / seconds : 0;
  state.counters["ack_p50_us"] = percentile(ack_us, 0.5);
  state.counters["ack_p99_us"] = percentile(ack_us, 0.99);
  state.counters["acked"] = static_cast<double>(acked_total);
}

void ParentsPerSecond(benchmark::State& state) {
  load(state, false);
}
void AckOnlyBaseline(benchmark::State& state) {
  load(state, true);
}
BENCHMARK(ParentsPerSecond)->Arg(200)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(AckOnlyBaseline)->Arg(200)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
