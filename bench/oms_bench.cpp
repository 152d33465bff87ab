// OMS journal benchmarks:
//  (a) durable appends of execution reports with group commit (one COMMIT, one fsync, per 1000 records),
//      against the baseline of one transaction (one fsync) per record, in the same run;
//  (b) replay of a 1,000,000-record journal, decoding every record.
// Journals are written to fresh files in the temp directory (a real disk: the fsyncs are real) and removed.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "oms/journal.hpp"
#include "oms/oms.hpp"
#include "oms/records.hpp"

namespace tranche::oms {
namespace {

namespace fs = std::filesystem;

std::string temp_journal(const std::string& name) {
  return (fs::temp_directory_path() /
          ("tranche_bench_oms_" + std::to_string(::getpid()) + "_" + name + ".db"))
      .string();
}

void remove_journal(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix, ec);
}

std::unique_ptr<Journal> open_fresh(const std::string& path) {
  remove_journal(path);
  auto journal = Journal::open(path);
  if (!journal) std::abort();
  return std::move(journal).value();
}

// A realistic fill: venue ids of their real length, a partial fill with a fee, both clocks.
ExecutionReport fill(std::uint64_t n) {
  // Appended rather than "T" + to_string(): g++ 12 warns falsely (-Wrestrict) on the latter.
  std::string venue_order_id = "83819823";
  venue_order_id += std::to_string(11'000'000 + n / 4);
  std::string exec_id = "T";
  exec_id += std::to_string(912'000'000 + n);
  ExecutionReport r;
  r.client_order_id = ClientOrderId(1'000'000 + n / 4);
  r.venue_order_id = VenueOrderId(venue_order_id);
  r.exec_id = ExecId(exec_id);
  r.venue = VenueId("binance-spot");
  r.instrument = InstrumentId("ETH-USDT");
  r.exec_type = ExecType::Trade;
  r.status = (n % 4 == 3) ? OrderStatus::Filled : OrderStatus::PartiallyFilled;
  r.side = (n % 2 == 0) ? Side::Buy : Side::Sell;
  r.order_price = Price::from_raw(268'380'000'000);
  r.order_qty = Qty::from_raw(400'000'000);
  r.last_qty = Qty::from_raw(100'000'000);
  r.last_price = Price::from_raw(268'380'000'000 - static_cast<std::int64_t>(n % 7) * 1'000'000);
  r.cum_qty = Qty::from_raw(static_cast<std::int64_t>(n % 4 + 1) * 100'000'000);
  r.leaves_qty = r.order_qty - r.cum_qty;
  r.liquidity = Liquidity::Maker;
  r.fee = Fee{Qty::from_raw(26'838), FixedString<15>("USDT")};
  r.venue_ns = 1'723'161'300'000'000'000 + static_cast<TimestampNs>(n) * 1'000'000;
  r.received_ns = r.venue_ns + 400'000;
  return r;
}

NewOrder child(std::uint64_t n) {
  NewOrder o;
  o.client_order_id = ClientOrderId(1'000'000 + n / 4);
  o.parent_id = ParentId(1 + n / 1000);
  o.venue = VenueId("binance-spot");
  o.instrument = InstrumentId("ETH-USDT");
  o.side = (n % 2 == 0) ? Side::Buy : Side::Sell;
  o.price = Price::from_raw(268'380'000'000);
  o.qty = Qty::from_raw(400'000'000);
  o.sent_ns = 1'723'161'300'000'000'000 + static_cast<TimestampNs>(n) * 1'000'000;
  return o;
}

// The bodies are made before the timed loop: the benchmark times the journal, not building reports.
std::vector<RecordBody> fills(std::size_t count) {
  std::vector<RecordBody> bodies;
  bodies.reserve(count);
  for (std::size_t i = 0; i < count; ++i) bodies.emplace_back(fill(i));
  return bodies;
}

void append_benchmark(benchmark::State& state, const std::string& name, std::size_t events,
                      std::size_t commit_every) {
  const std::vector<RecordBody> bodies = fills(events);
  const std::string path = temp_journal(name);
  std::uint64_t appended = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto journal = open_fresh(path);
    state.ResumeTiming();
    for (std::size_t i = 0; i < events; ++i) {
      if (!journal->append(static_cast<TimestampNs>(i), bodies[i]).ok()) std::abort();
      if ((i + 1) % commit_every == 0 && !journal->commit().ok()) std::abort();
    }
    if (!journal->commit().ok()) std::abort();
    appended += events;
    state.PauseTiming();
    journal.reset();
    remove_journal(path);
    state.ResumeTiming();
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(appended), benchmark::Counter::kIsRate);
}

// 100,000 durable execution reports, committed (fsync) every 1000.
void BM_JournalAppend_GroupCommit(benchmark::State& state) {
  append_benchmark(state, "group_commit", 100'000, 1000);
}
BENCHMARK(BM_JournalAppend_GroupCommit)->Unit(benchmark::kMillisecond)->UseRealTime();

// The baseline: 2,000 execution reports, each in its own transaction (one fsync each).
void BM_JournalAppend_OneTransactionPerEvent(benchmark::State& state) {
  append_benchmark(state, "one_per_event", 2'000, 1);
}
BENCHMARK(BM_JournalAppend_OneTransactionPerEvent)->Unit(benchmark::kMillisecond)->UseRealTime();

// The floor the issue names (issue 19): a bare write of a record's size and an fdatasync, in a loop, on the
// same disk as the journals; its p50 and p99, and syncs a second.
void BM_FdatasyncLoop(benchmark::State& state) {
  const std::string path = temp_journal("fdatasync");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) std::abort();
  std::vector<double> ns;
  const std::string record(200, 'r');
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    if (::write(fd, record.data(), record.size()) != static_cast<ssize_t>(record.size()) ||
        ::fdatasync(fd) != 0)
      std::abort();
    ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count());
  }
  ::close(fd);
  remove_journal(path);
  std::sort(ns.begin(), ns.end());
  state.counters["sync_p50_us"] = ns[ns.size() / 2] / 1e3;
  state.counters["sync_p99_us"] = ns[ns.size() * 99 / 100] / 1e3;
  state.counters["syncs_per_s"] =
      benchmark::Counter(static_cast<double>(ns.size()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FdatasyncLoop)->Iterations(2000)->UseRealTime()->Unit(benchmark::kMicrosecond);

// The journal's writer thread (Journal::start_writer, what `tranche serve` runs), records handed over as the
// kernel hands them: 5 records an event, a commit (a hand-off, no wait) after each, 200,000 events back to
// back, then until the last is durable. Records made durable a second, and records per fsync: the group
// commit across events.
void BM_JournalWriterThread_Throughput(benchmark::State& state) {
  constexpr std::size_t kEvents = 200'000, kPerEvent = 5;
  const std::vector<RecordBody> bodies = fills(kEvents * kPerEvent);
  const std::string path = temp_journal("writer_throughput");
  std::uint64_t durable = 0, commits = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto journal = open_fresh(path);
    if (!journal->start_writer().ok()) std::abort();
    state.ResumeTiming();
    for (std::size_t e = 0; e < kEvents; ++e) {
      for (std::size_t k = 0; k < kPerEvent; ++k)
        if (!journal->append(static_cast<TimestampNs>(e), bodies[e * kPerEvent + k]).ok()) std::abort();
      if (!journal->commit().ok()) std::abort();
    }
    if (!journal->wait_durable().ok()) std::abort();
    durable += journal->durable_seq();
    commits += journal->commit_latency().count();
    state.PauseTiming();
    journal.reset();
    remove_journal(path);
    state.ResumeTiming();
  }
  state.counters["records_per_s"] =
      benchmark::Counter(static_cast<double>(durable), benchmark::Counter::kIsRate);
  state.counters["records_per_fsync"] =
      static_cast<double>(durable) / static_cast<double>(std::max<std::uint64_t>(commits, 1));
}
BENCHMARK(BM_JournalWriterThread_Throughput)->Iterations(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The wire path's journal part, one event at a time (issue 19's "wire" figure without the venue): an event's
// records appended and handed over, until the writer thread says they are durable (the moment OrderManager
// lets the child go). p50 and p99, beside BM_FdatasyncLoop's in the same run.
void BM_JournalWriterThread_HandoffToDurable(benchmark::State& state) {
  const std::vector<RecordBody> bodies = fills(3 * 4000);
  const std::string path = temp_journal("writer_latency");
  auto journal = open_fresh(path);
  std::mutex mutex;
  std::condition_variable written;
  if (!journal
           ->start_writer([&] {
             std::lock_guard lock(mutex);
             written.notify_all();
           })
           .ok())
    std::abort();
  std::vector<double> ns;
  std::size_t next = 0;
  for (auto _ : state) {
    for (int k = 0; k < 3; ++k)
      if (!journal->append(static_cast<TimestampNs>(next), bodies[next++ % bodies.size()]).ok()) std::abort();
    const std::uint64_t seq = journal->last_seq();
    const auto start = std::chrono::steady_clock::now();
    if (!journal->commit().ok()) std::abort();
    {
      std::unique_lock lock(mutex);
      written.wait(lock, [&] { return journal->durable_seq() >= seq || !journal->writer_error().ok(); });
    }
    ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count());
  }
  journal.reset();
  remove_journal(path);
  std::sort(ns.begin(), ns.end());
  state.counters["durable_p50_us"] = ns[ns.size() / 2] / 1e3;
  state.counters["durable_p99_us"] = ns[ns.size() * 99 / 100] / 1e3;
}
BENCHMARK(BM_JournalWriterThread_HandoffToDurable)
    ->Iterations(2000)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// A journal of 1,000,000 mixed records (mostly fills and child orders, a few parent-level records), built
// once and removed at exit.
struct ReplayJournal {
  static constexpr std::size_t kRecords = 1'000'000;
  std::string path = temp_journal("replay_1m");
  std::unique_ptr<Journal> journal;

  ReplayJournal() {
    auto writer = open_fresh(path);
    ParentOrder parent;
    parent.account = AccountId("acct-main");
    parent.instrument = InstrumentId("ETH-USDT");
    parent.qty = Qty::from_units(400);
    parent.algo = "twap";
    parent.params = {{"slices", "40"}, {"interval_ms", "15000"}};
    parent.strategy = "inventory";
    for (std::size_t i = 0; i < kRecords; ++i) {
      RecordBody body;
      if (i % 1000 == 0) {
        parent.id = ParentId(1 + i / 1000);
        body = parent;
      } else if (i % 1000 == 999) {
        body = ParentDone{ParentId(1 + i / 1000), ParentState::Filled, ""};
      } else if (i % 4 == 0) {
        body = child(i);
      } else if (i % 50 == 1) {
        body = CancelOrder{ClientOrderId(1'000'000 + i / 4), VenueId("binance-spot"),
                           InstrumentId("ETH-USDT"), static_cast<TimestampNs>(i)};
      } else {
        body = fill(i);
      }
      if (!writer->append(static_cast<TimestampNs>(i), body).ok()) std::abort();
      if ((i + 1) % 10'000 == 0 && !writer->commit().ok()) std::abort();
    }
    if (!writer->commit().ok()) std::abort();
    writer.reset();
    auto reader = Journal::open(path, {.create = false, .read_only = true});
    if (!reader) std::abort();
    journal = std::move(reader).value();
  }
  ~ReplayJournal() {
    journal.reset();
    remove_journal(path);
  }
};

void BM_JournalReplay_1M(benchmark::State& state) {
  static ReplayJournal replay;
  std::uint64_t records = 0;
  double seconds = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    std::uint64_t seen = 0;
    std::int64_t sum = 0;
    Status status = replay.journal->replay([&](const Record& r) {
      ++seen;
      sum += r.ts_ns + static_cast<std::int64_t>(r.body.index());
      return Status{};
    });
    if (!status.ok() || seen != ReplayJournal::kRecords) std::abort();
    benchmark::DoNotOptimize(sum);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    records += seen;
  }
  state.counters["records_per_s"] =
      benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
  state.counters["s_per_replay"] = benchmark::Counter(seconds, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_JournalReplay_1M)->Unit(benchmark::kMillisecond)->UseRealTime();

Config bench_config() {
  auto parsed = parse_config(R"toml(
[[instrument]]
id = "ETH-USDT"
base = "ETH"
quote = "USDT"
tick_size = "0.01"
lot_size = "0.001"
[[venue]]
id = "binance-spot"
[[venue.listing]]
instrument = "ETH-USDT"
symbol = "ETHUSDT"
)toml",
                             "bench.toml");
  if (!parsed) std::abort();
  return *parsed;
}

// A consistent order flow of 1,000,000 records for the OMS to project: 250 parents of 1,000 ETH, each worked
// by 1,000 children of 1 ETH that are sent, acknowledged and filled in two halves.
struct FlowJournal {
  std::string path = temp_journal("flow_1m");
  std::unique_ptr<Journal> journal;
  std::uint64_t records = 0;
  FlowJournal() {
    auto writer = open_fresh(path);
    std::uint64_t child_id = 0, exec = 0;
    TimestampNs t = 0;
    auto add = [&](RecordBody body) {
      if (!writer->append(++t, body).ok()) std::abort();
      if (++records % 10'000 == 0 && !writer->commit().ok()) std::abort();
    };
    for (std::uint64_t p = 1; p <= 250; ++p) {
      ParentOrder parent;
      parent.id = ParentId(p);
      parent.account = AccountId("acct");
      parent.instrument = InstrumentId("ETH-USDT");
      parent.qty = Qty::from_units(1000);
      parent.algo = "twap";
      add(parent);
      for (int c = 0; c < 1000 && records < 999'000; ++c) {
        NewOrder o = child(++child_id);
        o.client_order_id = ClientOrderId(child_id);
        o.parent_id = parent.id;
        o.side = parent.side;
        o.qty = Qty::from_units(1);
        add(o);
        ExecutionReport r = fill(++exec);
        r.client_order_id = o.client_order_id;
        r.exec_type = ExecType::New;
        add(r);
        for (int half = 0; half < 2; ++half) {
          ExecutionReport f = fill(++exec);
          f.client_order_id = o.client_order_id;
          f.last_qty = Qty::parse("0.5").value();
          f.exec_id = ExecId(std::string("e").append(std::to_string(exec)));
          add(f);
        }
      }
    }
    if (!writer->commit().ok()) std::abort();
    writer.reset();
    auto reader = Journal::open(path, {.create = false, .read_only = true});
    if (!reader) std::abort();
    journal = std::move(reader).value();
  }
  ~FlowJournal() {
    journal.reset();
    remove_journal(path);
  }
};

// Start-up / recovery: the journal read, decoded and projected into a fresh OMS with every invariant check.
void BM_JournalReplayIntoOms_1M(benchmark::State& state) {
  static FlowJournal flow;
  const Config config = bench_config();
  double seconds = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    Oms oms(config);
    const Status status = flow.journal->replay([&](const Record& r) { return oms.apply(r); });
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", status.message().c_str());
      std::abort();
    }
    if (oms.fills().size() < 400'000) std::abort();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  state.counters["records"] = static_cast<double>(flow.records);
  state.counters["s_per_replay"] = benchmark::Counter(seconds, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_JournalReplayIntoOms_1M)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

// One state transition (a fill) with its invariant checks: the OMS's work per execution report.
void BM_OmsApplyFill(benchmark::State& state) {
  const Config config = bench_config();
  Oms oms(config);
  Record parent_record;
  ParentOrder parent;
  parent.id = ParentId(1);
  parent.account = AccountId("acct");
  parent.instrument = InstrumentId("ETH-USDT");
  parent.qty = Qty::from_units(1'000'000'000);
  parent_record.seq = 1;
  parent_record.body = parent;
  if (!oms.apply(parent_record).ok()) std::abort();
  NewOrder o = child(1);
  o.client_order_id = ClientOrderId(1);
  o.parent_id = ParentId(1);
  o.side = parent.side;
  o.qty = Qty::from_units(1'000'000'000);
  Record child_record;
  child_record.seq = 2;
  child_record.body = o;
  if (!oms.apply(child_record).ok()) std::abort();
  // Prebuilt fills, so the loop measures apply() alone.
  std::vector<Record> fills_to_apply(1 << 16);
  for (std::size_t i = 0; i < fills_to_apply.size(); ++i) {
    ExecutionReport f = fill(i);
    f.client_order_id = o.client_order_id;
    f.last_qty = Qty::parse("0.001").value();
    f.exec_id = ExecId(std::string("f").append(std::to_string(i)));
    fills_to_apply[i].seq = 3 + i;
    fills_to_apply[i].body = f;
  }
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == fills_to_apply.size()) {
      state.PauseTiming();
      state.SkipWithError("ran out of prebuilt fills");
      break;
    }
    const Status s = oms.apply(fills_to_apply[next++]);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_OmsApplyFill)->Iterations(1 << 16);

}  // namespace
}  // namespace tranche::oms
