// Market-data benchmarks (issue: foundation):
//  (a) applying real Binance depth diffs and querying the best bid and offer after each, per diff and per
//  level
//      change, median and p99, against a plain std::map book fed the same pre-parsed diffs in the same run;
//  (b) decoding Binance JSON lines to events, with and without gzip decompression;
//  (c) replaying the binary event format;
//  (d) the book signals on every diff, against the book alone; and a live-fitted tracker's.
// Data: the recordings bundled in data/binance (the ETH window of 2024-08-08), so `make bench` needs no
// ../shared.
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>

#include "md/binance_reader.hpp"
#include "md/binary_format.hpp"
#include "md/book_signals.hpp"
#include "md/l2_book.hpp"
#include "md/reader.hpp"

namespace tranche::md {
namespace {

const std::string kData = std::string(TRANCHE_SOURCE_DIR) + "/data/binance/";
const std::vector<std::string> kFiles = {kData + "spot/ethusdt_20240808.gz",
                                         kData + "usdm/ethusdt_20240808.gz",
                                         kData + "cm/ethusd_perp_20240808.gz"};

// The snapshot and every depth diff after it, pre-parsed, for one file.
struct DepthTape {
  OwnedEvent snapshot;
  std::vector<OwnedEvent> diffs;
  std::size_t level_changes = 0;
};

const DepthTape& tape(const std::string& file) {
  static std::map<std::string, DepthTape> cache;
  auto it = cache.find(file);
  if (it != cache.end()) return it->second;
  DepthTape t;
  auto reader = make_binance_reader({file});
  Event e;
  while (reader->next(e)) {
    if (e.kind == EventKind::BookSnapshot) t.snapshot = OwnedEvent(e);
    if (e.kind == EventKind::BookDelta) {
      t.diffs.emplace_back(e);
      t.level_changes += e.bids.size() + e.asks.size();
    }
  }
  return cache.emplace(file, std::move(t)).first->second;
}

// The baseline the issue names: one std::map a side, erase on zero, assign otherwise, best = first element.
class MapBook {
 public:
  void apply(const Event& e) {
    if (e.kind == EventKind::BookSnapshot) {
      bids_.clear();
      asks_.clear();
    }
    for (const Level& l : e.bids) set(bids_, l);
    for (const Level& l : e.asks) set(asks_, l);
  }
  std::int64_t best_bid() const { return bids_.empty() ? 0 : bids_.begin()->first; }
  std::int64_t best_ask() const { return asks_.empty() ? 0 : asks_.begin()->first; }

 private:
  template <class Map>
  static void set(Map& side, const Level& l) {
    if (l.qty.raw() == 0)
      side.erase(l.price.raw());
    else
      side[l.price.raw()] = l.qty.raw();
  }
  std::map<std::int64_t, std::int64_t, std::greater<>> bids_;
  std::map<std::int64_t, std::int64_t> asks_;
};

using Clock = std::chrono::steady_clock;

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// Median cost of reading the clock twice, subtracted from every per-diff sample so it measures the book only.
std::int64_t timer_overhead_ns() {
  std::vector<std::int64_t> samples(20000);
  for (auto& s : samples) {
    const std::int64_t a = now_ns();
    const std::int64_t b = now_ns();
    s = b - a;
  }
  std::nth_element(samples.begin(), samples.begin() + samples.size() / 2, samples.end());
  return samples[samples.size() / 2];
}

struct Percentiles {
  double p50_diff, p99_diff, p50_level, p99_level, mean_level;
};

Percentiles summarise(std::vector<double>& per_diff, std::vector<double>& per_level, double total_ns,
                      std::size_t levels) {
  auto pct = [](std::vector<double>& v, double p) {
    const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
  };
  return {pct(per_diff, 0.5), pct(per_diff, 0.99), pct(per_level, 0.5), pct(per_level, 0.99),
          total_ns / static_cast<double>(levels)};
}

// Times each diff: apply, then read the best bid and offer.
template <class Book>
Percentiles run_tape(const DepthTape& t, int passes, std::int64_t overhead) {
  std::vector<double> per_diff, per_level;
  per_diff.reserve(t.diffs.size() * static_cast<std::size_t>(passes));
  per_level.reserve(per_diff.capacity());
  double total = 0;
  std::size_t levels = 0;
  // One book through every pass, as a session keeps one, after a pass untimed (the first touch of the flat
  // book's pages is the process's, once, not the diffs').
  auto made = std::make_unique<Book>();
  Book& book = *made;
  book.apply(t.snapshot.event);
  for (const OwnedEvent& d : t.diffs) book.apply(d.event);
  for (int pass = 0; pass < passes; ++pass) {
    book.apply(t.snapshot.event);
    for (const OwnedEvent& d : t.diffs) {
      const std::int64_t start = now_ns();
      book.apply(d.event);
      auto bid = book.best_bid();
      auto ask = book.best_ask();
      const std::int64_t stop = now_ns();
      benchmark::DoNotOptimize(bid);
      benchmark::DoNotOptimize(ask);
      const double ns = static_cast<double>(std::max<std::int64_t>(stop - start - overhead, 0));
      const std::size_t n = std::max<std::size_t>(d.event.bids.size() + d.event.asks.size(), 1);
      per_diff.push_back(ns);
      per_level.push_back(ns / static_cast<double>(n));
      total += ns;
      levels += n;
    }
  }
  return summarise(per_diff, per_level, total, levels);
}

void BM_DepthDiffs_FlatBookVsMapBook(benchmark::State& state, const std::string& file) {
  const DepthTape& t = tape(file);
  const std::int64_t overhead = timer_overhead_ns();
  Percentiles flat{}, map{};
  for (auto _ : state) {
    flat = run_tape<L2Book>(t, 3, overhead);
    map = run_tape<MapBook>(t, 3, overhead);
  }
  state.counters["diffs"] = static_cast<double>(t.diffs.size());
  state.counters["levels_per_diff"] =
      static_cast<double>(t.level_changes) / static_cast<double>(t.diffs.size());
  state.counters["flat_ns_per_diff_p50"] = flat.p50_diff;
  state.counters["flat_ns_per_diff_p99"] = flat.p99_diff;
  state.counters["flat_ns_per_level_p50"] = flat.p50_level;
  state.counters["flat_ns_per_level_p99"] = flat.p99_level;
  state.counters["flat_ns_per_level_mean"] = flat.mean_level;
  state.counters["map_ns_per_diff_p50"] = map.p50_diff;
  state.counters["map_ns_per_diff_p99"] = map.p99_diff;
  state.counters["map_ns_per_level_p50"] = map.p50_level;
  state.counters["map_ns_per_level_p99"] = map.p99_level;
  state.counters["map_ns_per_level_mean"] = map.mean_level;
  state.counters["speedup_per_level_p50"] = map.p50_level / std::max(flat.p50_level, 1e-9);
  state.counters["speedup_per_level_mean"] = map.mean_level / std::max(flat.mean_level, 1e-9);
  state.counters["timer_overhead_ns"] = static_cast<double>(overhead);
}
BENCHMARK_CAPTURE(BM_DepthDiffs_FlatBookVsMapBook, spot_eth, kFiles[0])
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DepthDiffs_FlatBookVsMapBook, usdm_eth, kFiles[1])
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

// Whole-tape throughput without per-diff timers, for both books: the diffs only, into one book that lives
// through the run as a session's does (each pass starts from the snapshot, applied outside the timing; the
// diffs are the hot path the issue measures).
template <class Book>
void BM_DepthTapeThroughput(benchmark::State& state, const std::string& file) {
  const DepthTape& t = tape(file);
  auto made = std::make_unique<Book>();
  Book& book = *made;
  for (auto _ : state) {
    state.PauseTiming();
    book.apply(t.snapshot.event);
    state.ResumeTiming();
    for (const OwnedEvent& d : t.diffs) {
      book.apply(d.event);
      benchmark::DoNotOptimize(book.best_bid());
      benchmark::DoNotOptimize(book.best_ask());
    }
  }
  state.counters["level_changes_per_s"] = benchmark::Counter(
      static_cast<double>(t.level_changes * state.iterations()), benchmark::Counter::kIsRate);
}
void BM_DepthTape_FlatBook(benchmark::State& state, const std::string& file) {
  BM_DepthTapeThroughput<L2Book>(state, file);
}
void BM_DepthTape_MapBook(benchmark::State& state, const std::string& file) {
  BM_DepthTapeThroughput<MapBook>(state, file);
}
BENCHMARK_CAPTURE(BM_DepthTape_FlatBook, spot_eth, kFiles[0])->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DepthTape_MapBook, spot_eth, kFiles[0])->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DepthTape_FlatBook, usdm_eth, kFiles[1])->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DepthTape_MapBook, usdm_eth, kFiles[1])->Unit(benchmark::kMillisecond);

// The book signals on every depth diff (md/book_signals.hpp): the touch and 5-level imbalances and the
// micro-price after each diff, against the same tape with the book alone (BM_DepthTape_FlatBook, same run).
void BM_DepthTape_FlatBookWithSignals(benchmark::State& state, const std::string& file) {
  const DepthTape& t = tape(file);
  const MicroPriceModel model;  // the weighted mid: the same arithmetic a fitted table costs
  std::vector<BookLevel> bid_levels, ask_levels;
  std::vector<Level> bids, asks;
  bid_levels.reserve(8);
  ask_levels.reserve(8);
  bids.reserve(8);
  asks.reserve(8);
  for (auto _ : state) {
    L2Book book;
    book.apply(t.snapshot.event);
    for (const OwnedEvent& d : t.diffs) {
      book.apply(d.event);
      const Price bid = book.best_bid(), ask = book.best_ask();
      const Qty bid_qty = book.best_bid_qty(), ask_qty = book.best_ask_qty();
      benchmark::DoNotOptimize(touch_imbalance(bid_qty, ask_qty));
      book.levels(Side::Buy, 5, bid_levels);
      book.levels(Side::Sell, 5, ask_levels);
      bids.clear();
      asks.clear();
      for (const BookLevel& l : bid_levels) bids.push_back({l.price, l.qty});
      for (const BookLevel& l : ask_levels) asks.push_back({l.price, l.qty});
      benchmark::DoNotOptimize(depth_imbalance(bids, asks, 5));
      benchmark::DoNotOptimize(model.micro_price(bid, bid_qty, ask, ask_qty));
    }
  }
  state.counters["level_changes_per_s"] = benchmark::Counter(
      static_cast<double>(t.level_changes * state.iterations()), benchmark::Counter::kIsRate);
  state.counters["diffs_per_s"] = benchmark::Counter(static_cast<double>(t.diffs.size() * state.iterations()),
                                                     benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_DepthTape_FlatBookWithSignals, spot_eth, kFiles[0])->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DepthTape_FlatBookWithSignals, usdm_eth, kFiles[1])->Unit(benchmark::kMillisecond);

// What the kernel adds per event for the placer (ems/kernel.cpp): the venue's BookSignalTracker fed the
// touch after each diff (its micro-price fitted live: a transition counted, a refit every 2,000), and the
// micro-price read from its model, against the book alone (BM_DepthTape_FlatBook, same run).
void BM_DepthTape_FlatBookWithLiveSignals(benchmark::State& state, const std::string& file) {
  const DepthTape& t = tape(file);
  std::uint64_t refits = 0;
  for (auto _ : state) {
    L2Book book;
    BookSignalTracker tracker;
    book.apply(t.snapshot.event);
    const Price tick = Price::parse("0.01").value();  // ETHUSDT's, spot and USD-M
    for (const OwnedEvent& d : t.diffs) {
      book.apply(d.event);
      const Price bid = book.best_bid(), ask = book.best_ask();
      const Qty bid_qty = book.best_bid_qty(), ask_qty = book.best_ask_qty();
      tracker.on_touch(bid, bid_qty, ask, ask_qty, tick);
      benchmark::DoNotOptimize(tracker.model().micro_price(bid, bid_qty, ask, ask_qty));
    }
    refits = tracker.refits();
  }
  state.counters["refits"] = static_cast<double>(refits);
  state.counters["diffs_per_s"] = benchmark::Counter(static_cast<double>(t.diffs.size() * state.iterations()),
                                                     benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_DepthTape_FlatBookWithLiveSignals, spot_eth, kFiles[0])->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DepthTape_FlatBookWithLiveSignals, usdm_eth, kFiles[1])->Unit(benchmark::kMillisecond);

// Decompressed copies of the recordings, to time JSON decoding alone.
const std::vector<std::string>& plain_files() {
  static std::vector<std::string> files;
  if (!files.empty()) return files;
  const auto dir = std::filesystem::temp_directory_path() / "tranche_bench_plain";
  std::filesystem::create_directories(dir);
  for (const auto& f : kFiles) {
    const std::string out =
        (dir / (std::filesystem::path(f).parent_path().filename().string() + ".txt")).string();
    gzFile in = gzopen(f.c_str(), "rb");
    std::ofstream o(out, std::ios::binary);
    char buf[1 << 16];
    int n;
    while ((n = gzread(in, buf, sizeof buf)) > 0) o.write(buf, n);
    gzclose(in);
    files.push_back(out);
  }
  return files;
}

void decode_all(benchmark::State& state, const std::vector<std::string>& files) {
  std::uint64_t lines = 0, events = 0;
  for (auto _ : state) {
    for (const auto& f : files) {
      auto reader = make_binance_reader({f});
      Event e;
      while (reader->next(e)) ++events;
      lines += reader->lines_read();
    }
  }
  state.counters["lines_per_s"] = benchmark::Counter(static_cast<double>(lines), benchmark::Counter::kIsRate);
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

void BM_DecodeBinanceJson_Plain(benchmark::State& state) {
  decode_all(state, plain_files());
}
void BM_DecodeBinanceJson_Gzip(benchmark::State& state) {
  decode_all(state, kFiles);
}
BENCHMARK(BM_DecodeBinanceJson_Plain)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeBinanceJson_Gzip)->Unit(benchmark::kMillisecond);

const std::string& binary_file() {
  static std::string path;
  if (!path.empty()) return path;
  path = (std::filesystem::temp_directory_path() / "tranche_bench_eth3.trmd").string();
  auto reader = make_binance_reader(kFiles);
  if (!convert_to_binary(*reader, path).ok()) std::abort();
  return path;
}

// Replays the binary file, touching every level of every event so nothing is skipped.
void BM_ReplayBinaryFormat(benchmark::State& state) {
  const std::string& path = binary_file();
  std::uint64_t events = 0;
  for (auto _ : state) {
    auto reader = make_binary_reader({path});
    Event e;
    std::int64_t checksum = 0;
    while (reader->next(e)) {
      ++events;
      checksum += e.recv_ns;
      for (const Level& l : e.bids) checksum += l.qty.raw();
      for (const Level& l : e.asks) checksum += l.qty.raw();
    }
    benchmark::DoNotOptimize(checksum);
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReplayBinaryFormat)->Unit(benchmark::kMillisecond);

// The same replay feeding each stream's flat book: the bare book replay later benchmarks compare against.
void BM_ReplayBinaryIntoBooks(benchmark::State& state) {
  const std::string& path = binary_file();
  std::uint64_t events = 0;
  for (auto _ : state) {
    auto reader = make_binary_reader({path});
    std::vector<L2Book> books(3);
    Event e;
    while (reader->next(e)) {
      ++events;
      if (e.stream < books.size()) books[e.stream].apply(e);
    }
    benchmark::DoNotOptimize(books[0].best_bid());
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReplayBinaryIntoBooks)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tranche::md

BENCHMARK_MAIN();
