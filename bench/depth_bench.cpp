// Binance depth message to updated book (issues 16 and 17): the live gateway's book sync (gateway's
// BinanceDepthSync) against the recorded reader (md's Binance reader feeding an md::L2Book), on the same
// payloads: every message of each bundled ETH recording (data/binance/spot, usdm and cm, 2024-08-08
// 23:54-00:00), futures' diffs kept by their own rules (chained by pu). One benchmark per market.
//
// Each depth diff is timed on its own, from its JSON text to the book updated and its best bid and offer
// read:
//  - sync, copied: BinanceDepthSync::on_message(json) as a WebSocket frame gives it, copied into the sync's
//    padded buffer first (simdjson reads up to 64 bytes past the end);
//  - sync, in place: the same text with readable padding after it (a receive buffer with spare room);
//  - reader: md's EventReader::next() on the same lines of a decompressed copy of the file (line split and
//    receive timestamp included, as the reader works), then L2Book::apply.
// Both parse with the same simdjson and the same decimal parser, and apply to the same L2Book; the sync adds
// its sequencing and bookTicker checks. p50 and p99 in ns per diff, the ratio sync / reader, and the whole
// tape's mean without per-message timers.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gateway/binance_depth.hpp"
#include "md/binance_reader.hpp"
#include "md/l2_book.hpp"
#include "md/line_reader.hpp"

namespace tranche::gateway {
namespace {

// A market's recording, its listing and its sync's rules.
struct Market {
  const char* name;
  std::string file;
  VenueListing listing;
  BinanceDepthOptions options;
};
const Market& market(int which) {
  static const std::vector<Market> markets = [] {
    const std::string data = std::string(TRANCHE_SOURCE_DIR) + "/data/binance/";
    auto listing = [](const char* symbol, const char* lot, bool inverse) {
      VenueListing l;
      l.instrument = InstrumentId("ETH-USDT");
      l.symbol = symbol;
      l.tick_size = Price::parse("0.01").value();
      l.lot_size = Qty::parse(lot).value();
      l.inverse = inverse;
      if (inverse) l.contract_size = Amount::from_units(10);
      return l;
    };
    BinanceDepthOptions futures;
    futures.futures = true;
    return std::vector<Market>{
        {"spot", data + "spot/ethusdt_20240808.gz", listing("ETHUSDT", "0.0001", false), {}},
        {"usdm", data + "usdm/ethusdt_20240808.gz", listing("ETHUSDT", "0.001", false), futures},
        {"coinm", data + "cm/ethusd_perp_20240808.gz", listing("ETHUSD_PERP", "1", true), futures}};
  }();
  return markets[static_cast<std::size_t>(which)];
}

// Every line's JSON, each followed by padding in one arena, and a plain copy of the file for the reader.
struct Tape {
  std::string arena;
  struct Message {
    std::size_t offset, size;
    TimestampNs recv_ns;
    bool depth;
  };
  std::vector<Message> messages;
  std::string plain_path;
  std::size_t diffs = 0;
  std::string_view json(const Message& m) const { return {arena.data() + m.offset, m.size}; }
};

const Tape& tape(int which) {
  static Tape tapes[3];
  Tape& t = tapes[which];
  if (!t.messages.empty()) return t;
  md::LineReader lines;
  if (!lines.open(market(which).file).ok()) std::abort();
  t.plain_path = (std::filesystem::temp_directory_path() /
                  (std::string("tranche_depth_bench_") + market(which).name + ".txt"))
                     .string();
  std::ofstream plain(t.plain_path, std::ios::binary);
  std::string_view line;
  while (lines.next(line)) {
    plain << line << '\n';
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    TimestampNs recv_ns = 0;
    std::from_chars(line.data(), line.data() + space, recv_ns);
    const std::string_view json = line.substr(space + 1);
    const bool depth = json.find("@depth") != std::string_view::npos;
    t.messages.push_back({t.arena.size(), json.size(), recv_ns, depth});
    t.diffs += depth ? 1 : 0;
    t.arena.append(json);
    t.arena.append(BinanceDepthSync::kJsonPadding, '\0');
  }
  return t;
}

using Clock = std::chrono::steady_clock;
inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

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

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

struct Timings {
  std::vector<double> per_diff;
  Price bid, ask;
};

// The sync fed every message in order; each applied diff timed.
void time_sync(const Market& market, const Tape& t, bool in_place, std::int64_t overhead, Timings& out) {
  BinanceDepthSync sync(market.listing, market.options);
  for (const Tape::Message& m : t.messages) {
    const std::string_view json = t.json(m);
    const std::size_t readable = in_place ? json.size() + BinanceDepthSync::kJsonPadding : 0;
    const std::int64_t start = now_ns();
    const DepthStatus status = sync.on_message(json, readable, m.recv_ns);
    Price bid = sync.best(Side::Buy);
    Price ask = sync.best(Side::Sell);
    const std::int64_t stop = now_ns();
    benchmark::DoNotOptimize(bid);
    benchmark::DoNotOptimize(ask);
    if (m.depth && status == DepthStatus::Applied)
      out.per_diff.push_back(static_cast<double>(std::max<std::int64_t>(stop - start - overhead, 0)));
    if (is_error(status) || status == DepthStatus::Gap) std::abort();
  }
  out.bid = sync.book().best_bid();
  out.ask = sync.book().best_ask();
}

// md's reader over the plain file, feeding an L2Book; each diff it gives timed (read + decode + apply).
void time_reader(const Market& market, const Tape& t, std::int64_t overhead, Timings& out) {
  auto reader = md::make_binance_reader({t.plain_path});
  md::L2Book book(market.listing.tick_size);
  md::Event e;
  for (;;) {
    const std::int64_t start = now_ns();
    if (!reader->next(e)) break;
    const bool diff = e.kind == md::EventKind::BookDelta;
    if (diff || e.kind == md::EventKind::BookSnapshot) book.apply(e);
    Price bid = book.best_bid();
    Price ask = book.best_ask();
    const std::int64_t stop = now_ns();
    benchmark::DoNotOptimize(bid);
    benchmark::DoNotOptimize(ask);
    if (diff && !(e.flags & md::kFlagReplayedAfterSnapshot))
      out.per_diff.push_back(static_cast<double>(std::max<std::int64_t>(stop - start - overhead, 0)));
  }
  out.bid = book.best_bid();
  out.ask = book.best_ask();
}

void BM_DepthMessageToBook_SyncVsReader(benchmark::State& state, int which) {
  const Market& m = market(which);
  const Tape& t = tape(which);
  const std::int64_t overhead = timer_overhead_ns();
  Timings copied, in_place, reader;
  for (auto _ : state) {
    for (int pass = 0; pass < 3; ++pass) {
      time_sync(m, t, false, overhead, copied);
      time_sync(m, t, true, overhead, in_place);
      time_reader(m, t, overhead, reader);
    }
  }
  if (copied.bid != reader.bid || copied.ask != reader.ask || in_place.bid != reader.bid) {
    state.SkipWithError("the sync's book and the reader's differ at the end");
    return;
  }
  const double c50 = percentile(copied.per_diff, 0.5), c99 = percentile(copied.per_diff, 0.99);
  const double i50 = percentile(in_place.per_diff, 0.5), i99 = percentile(in_place.per_diff, 0.99);
  const double r50 = percentile(reader.per_diff, 0.5), r99 = percentile(reader.per_diff, 0.99);
  state.counters["diffs"] = static_cast<double>(reader.per_diff.size() / 3);
  state.counters["sync_copy_p50_ns"] = c50;
  state.counters["sync_copy_p99_ns"] = c99;
  state.counters["sync_inplace_p50_ns"] = i50;
  state.counters["sync_inplace_p99_ns"] = i99;
  state.counters["reader_p50_ns"] = r50;
  state.counters["reader_p99_ns"] = r99;
  state.counters["ratio_copy_p50"] = c50 / std::max(r50, 1e-9);
  state.counters["ratio_copy_p99"] = c99 / std::max(r99, 1e-9);
  state.counters["ratio_inplace_p50"] = i50 / std::max(r50, 1e-9);
  state.counters["ratio_inplace_p99"] = i99 / std::max(r99, 1e-9);
  state.counters["timer_overhead_ns"] = static_cast<double>(overhead);
}
BENCHMARK_CAPTURE(BM_DepthMessageToBook_SyncVsReader, spot, 0)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DepthMessageToBook_SyncVsReader, usdm, 1)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DepthMessageToBook_SyncVsReader, coinm, 2)->Iterations(1)->Unit(benchmark::kMillisecond);

// The whole tape without per-message timers: every message through the sync (diffs, bookTickers, trades).
void BM_DepthTape_Sync(benchmark::State& state, int which) {
  const Tape& t = tape(which);
  for (auto _ : state) {
    BinanceDepthSync sync(market(which).listing, market(which).options);
    for (const Tape::Message& m : t.messages) {
      const std::string_view json = t.json(m);
      benchmark::DoNotOptimize(
          sync.on_message(json, json.size() + BinanceDepthSync::kJsonPadding, m.recv_ns));
    }
    benchmark::DoNotOptimize(sync.best(Side::Buy));
  }
  state.counters["messages_per_s"] = benchmark::Counter(
      static_cast<double>(t.messages.size() * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_DepthTape_Sync, spot, 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DepthTape_Sync, usdm, 1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DepthTape_Sync, coinm, 2)->Unit(benchmark::kMillisecond);

// The same tape through md's reader and an L2Book.
void BM_DepthTape_Reader(benchmark::State& state, int which) {
  const Tape& t = tape(which);
  for (auto _ : state) {
    auto reader = md::make_binance_reader({t.plain_path});
    md::L2Book book(market(which).listing.tick_size);
    md::Event e;
    while (reader->next(e))
      if (e.kind == md::EventKind::BookDelta || e.kind == md::EventKind::BookSnapshot) book.apply(e);
    benchmark::DoNotOptimize(book.best_bid());
  }
  state.counters["messages_per_s"] = benchmark::Counter(
      static_cast<double>(t.messages.size() * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_DepthTape_Reader, spot, 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DepthTape_Reader, usdm, 1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DepthTape_Reader, coinm, 2)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tranche::gateway

BENCHMARK_MAIN();
