// Golden tests of BinanceDepthSync on real Binance spot recordings: every message of the recording is handed
// to the sync as the raw JSON Binance sent, and after every snapshot and diff the whole book (every level of
// both sides) must equal the one md's recording reader (md/binance_reader.cpp) rebuilds from the same
// payloads; trades must be the reader's trades; every bookTicker the book reaches must match its touch.
// The bundled data/binance/spot file always runs; the two-file spot window in ../shared/data runs when it is
// there, and skips with a message when it is not.
#include <gtest/gtest.h>

#include <charconv>
#include <string>
#include <unordered_map>
#include <vector>

#include "gateway/binance_depth.hpp"
#include "md/binance_reader.hpp"
#include "md/book_replay.hpp"
#include "md/l2_book.hpp"
#include "md/line_reader.hpp"
#include "md/test_data.hpp"

namespace tranche::gateway {
namespace {

VenueListing eth_spot() {
  VenueListing l;
  l.instrument = InstrumentId("ETH-USDT");
  l.symbol = "ETHUSDT";
  l.tick_size = Price::parse("0.01").value();
  l.lot_size = Qty::parse("0.0001").value();
  return l;
}

struct BookLevels {
  std::vector<md::BookLevel> bids, asks;
};

BookLevels levels_of(const md::L2Book& book) {
  BookLevels out;
  book.levels(Side::Buy, book.level_count(Side::Buy), out.bids);
  book.levels(Side::Sell, book.level_count(Side::Sell), out.asks);
  return out;
}

// Every level of both sides, prices and quantities, folded into one number.
std::uint64_t digest(const md::L2Book& book) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::int64_t v) {
    h ^= static_cast<std::uint64_t>(v);
    h *= 1099511628211ull;
  };
  for (Side side : {Side::Buy, Side::Sell}) {
    mix(side == Side::Buy ? 1 : 2);
    book.side(side).for_each([&](std::int64_t key, Qty qty, TimestampNs) {
      mix(key * book.tick_size().raw());
      mix(qty.raw());
      return true;
    });
  }
  return h;
}

struct Trade {
  std::uint64_t id;
  Price price;
  Qty qty;
  Side side;
  TimestampNs exch_ns;
  bool operator==(const Trade&) const = default;
};

// What md's recording reader makes of the files: the book's digest after each snapshot and diff, by update
// id.
struct Reference {
  std::unordered_map<std::uint64_t, std::uint64_t> digest_by_id;
  std::vector<Trade> trades;
  std::uint64_t gaps = 0;
  std::uint64_t bbo_checks = 0;  // md::BookReplay's: bookTickers whose update id a diff ended at
  std::uint64_t final_digest = 0;
  std::uint64_t capture_id = 0;  // the book's levels at this update id, for a snapshot made of them
  BookLevels captured;
};

Reference read_reference(const std::vector<std::string>& files, std::uint64_t capture_id = 0) {
  Reference ref;
  ref.capture_id = capture_id;
  auto reader = md::make_binance_reader(files);
  md::L2Book book(eth_spot().tick_size);
  md::BookReplay checks;
  md::Event e;
  while (reader->next(e)) {
    checks.apply(e);
    if (e.kind == md::EventKind::BookSnapshot || e.kind == md::EventKind::BookDelta) {
      book.apply(e);
      ref.digest_by_id[e.last_seq] = digest(book);
      if (e.last_seq == capture_id) ref.captured = levels_of(book);
    } else if (e.kind == md::EventKind::Trade) {
      ref.trades.push_back({e.last_seq, e.price, e.qty, e.side, e.exch_ns});
    }
  }
  ref.gaps = reader->gaps().size();
  ref.bbo_checks = checks.bbo_checks();
  EXPECT_EQ(checks.bbo_mismatches(), 0u);
  ref.final_digest = digest(book);
  EXPECT_EQ(reader->error_count(), 0u);
  return ref;
}

std::string snapshot_json(std::uint64_t id, const BookLevels& levels) {
  std::string out = "{\"lastUpdateId\":" + std::to_string(id) + ",\"bids\":[";
  auto side = [&](const std::vector<md::BookLevel>& side_levels) {
    for (std::size_t i = 0; i < side_levels.size(); ++i) {
      if (i > 0) out += ",";
      out += "[\"" + side_levels[i].price.to_string() + "\",\"" + side_levels[i].qty.to_string() + "\"]";
    }
  };
  side(levels.bids);
  out += "],\"asks\":[";
  side(levels.asks);
  out += "]}";
  return out;
}

struct Outcome {
  std::uint64_t messages = 0, compared = 0, mismatched = 0, missing_reference = 0;
  std::vector<Trade> trades;
  std::uint64_t final_digest = 0;
};

// Feeds every line's JSON to the sync (in place: the line reader leaves padding after each line). `skip_diff`
// (1-based count of depth diffs) drops one diff as a lost message would; `inject_after_id` hands `inject` (a
// snapshot) to the sync right after the diff that ends at that id.
Outcome replay(BinanceDepthSync& sync, const std::vector<std::string>& files, const Reference& ref,
               std::uint64_t skip_diff = 0, std::uint64_t inject_after_id = 0,
               const std::string& inject = {}) {
  Outcome out;
  std::uint64_t diffs = 0;
  auto compare = [&]() {
    const auto it = ref.digest_by_id.find(sync.update_id());
    if (it == ref.digest_by_id.end()) {
      ++out.missing_reference;
      return;
    }
    ++out.compared;
    if (it->second != digest(sync.book())) {
      if (out.mismatched < 5) ADD_FAILURE() << "book differs from md's at update id " << sync.update_id();
      ++out.mismatched;
    }
  };
  for (const std::string& file : files) {
    md::LineReader lines;
    EXPECT_TRUE(lines.open(file).ok()) << file;
    std::string_view line;
    while (lines.next(line)) {
      const std::size_t space = line.find(' ');
      if (space == std::string_view::npos) continue;
      std::int64_t recv_ns = 0;
      std::from_chars(line.data(), line.data() + space, recv_ns);
      const std::string_view json = line.substr(space + 1);
      const bool is_diff = json.find("@depth") != std::string_view::npos;
      if (is_diff && ++diffs == skip_diff) continue;
      ++out.messages;
      const DepthStatus status = sync.on_message(json, json.size() + lines.readable_after(line), recv_ns);
      if (is_error(status)) ADD_FAILURE() << to_string(status) << ": " << sync.last_error();
      if (status == DepthStatus::Applied || status == DepthStatus::Synced) compare();
      if (status == DepthStatus::Trade) {
        const md::Event& e = *sync.event();
        out.trades.push_back({e.last_seq, e.price, e.qty, e.side, e.exch_ns});
      }
      if (inject_after_id != 0 && is_diff && status == DepthStatus::Buffered && sync.buffered_diffs() > 0 &&
          json.find("\"u\":" + std::to_string(inject_after_id) + ",") != std::string_view::npos) {
        const DepthStatus injected = sync.on_snapshot(inject, recv_ns);
        EXPECT_EQ(injected, DepthStatus::Synced) << sync.last_error();
        if (injected == DepthStatus::Synced) compare();
      }
    }
  }
  out.final_digest = digest(sync.book());
  return out;
}

void expect_same_as_reader(const std::vector<std::string>& files) {
  const Reference ref = read_reference(files);
  ASSERT_EQ(ref.gaps, 0u);
  BinanceDepthSync sync(eth_spot());
  const Outcome out = replay(sync, files, ref);
  const BinanceDepthStats& s = sync.stats();
  std::cout << files[0] << ": " << out.messages << " messages, " << out.compared
            << " books compared with md's reader, " << s.touch_checks << " bookTicker checks, "
            << s.diffs_replayed << " diffs replayed after the snapshot\n";
  EXPECT_TRUE(sync.valid());
  EXPECT_EQ(s.count(DepthStatus::Synced), 1u);
  EXPECT_EQ(s.count(DepthStatus::Gap), 0u);
  EXPECT_EQ(s.invalidations, 0u);
  EXPECT_EQ(out.missing_reference, 0u);
  EXPECT_EQ(out.mismatched, 0u);
  EXPECT_GT(out.compared, 1000u);
  EXPECT_EQ(out.compared, s.count(DepthStatus::Applied) + s.count(DepthStatus::Synced));
  EXPECT_EQ(out.final_digest, ref.final_digest);
  EXPECT_GT(s.touch_checks, 500u);
  EXPECT_EQ(s.touch_checks, ref.bbo_checks) << "every bookTicker md's replay checks is checked here too";
  EXPECT_EQ(s.touch_mismatches, 0u);
  EXPECT_EQ(out.trades, ref.trades);
}

TEST(BinanceDepthGolden, BundledSpotRecordingRebuildsTheReadersBookAfterEveryMessage) {
  expect_same_as_reader({md::testing::bundled_data("binance/spot/ethusdt_20240808.gz")});
}

TEST(BinanceDepthGolden, SharedSpotWindowAcrossTwoFilesRebuildsTheReadersBook) {
  const std::vector<std::string> files = {md::testing::shared_data("binance/spot/ethusdt_20240808.gz"),
                                          md::testing::shared_data("binance/spot/ethusdt_20240809.gz")};
  for (const auto& f : files) TRANCHE_REQUIRE_SHARED_FILE(f);
  expect_same_as_reader(files);
}

TEST(BinanceDepthGolden, ALostDiffIsAGapAndANewSnapshotBringsBackTheReadersBook) {
  const std::vector<std::string> files = {md::testing::bundled_data("binance/spot/ethusdt_20240808.gz")};
  // The 1000th diff goes missing; the snapshot is made of md's book at a diff forty later.
  std::uint64_t capture = 0;
  {
    md::LineReader lines;
    ASSERT_TRUE(lines.open(files[0]).ok());
    std::string_view line;
    std::uint64_t diffs = 0;
    while (lines.next(line)) {
      if (line.find("@depth") == std::string_view::npos || ++diffs != 1040) continue;
      const std::size_t at = line.find("\"u\":") + 4;
      std::from_chars(line.data() + at, line.data() + line.size(), capture);
      break;
    }
  }
  ASSERT_NE(capture, 0u);
  const Reference ref = read_reference(files, capture);
  ASSERT_FALSE(ref.captured.bids.empty());
  BinanceDepthSync sync(eth_spot());
  const Outcome out = replay(sync, files, ref, 1000, capture, snapshot_json(capture, ref.captured));
  const BinanceDepthStats& s = sync.stats();
  EXPECT_EQ(s.count(DepthStatus::Gap), 1u);
  EXPECT_EQ(s.invalidations, 1u);
  EXPECT_EQ(s.count(DepthStatus::Synced), 2u);
  EXPECT_TRUE(sync.valid());
  EXPECT_EQ(out.mismatched, 0u);
  EXPECT_EQ(out.final_digest, ref.final_digest);
  EXPECT_EQ(out.trades, ref.trades);
}

}  // namespace
}  // namespace tranche::gateway
