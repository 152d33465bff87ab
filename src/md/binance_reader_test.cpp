#include "md/binance_reader.hpp"

#include <gtest/gtest.h>

#include "md/test_data.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "md/binary_format.hpp"
#include "md/l2_book.hpp"
#include "md/reader.hpp"

namespace tranche::md {
namespace {

using testing::read_all;

std::string write_file(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / ("tranche_md_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

const char* kSpotLines =
    "1000000000000000001 "
    "{\"stream\":\"ethusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1000,\"s\":"
    "\"ETHUSDT\",\"U\":5,\"u\":9,\"b\":[[\"100.00\",\"1\"]],\"a\":[]}}\n"
    "1000000000000000002 "
    "{\"stream\":\"ethusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1001,\"s\":"
    "\"ETHUSDT\",\"U\":10,\"u\":12,\"b\":[[\"100.01\",\"2\"]],\"a\":[[\"100.05\",\"0\"]]}}\n"
    "1000000000000000003 "
    "{\"lastUpdateId\":10,\"bids\":[[\"100.00\",\"1\"]],\"asks\":[[\"100.05\",\"3\"],[\"100.06\","
    "\"4\"]]}\n"
    "1000000000000000004 "
    "{\"stream\":\"ethusdt@bookTicker\",\"data\":{\"u\":13,\"s\":\"ETHUSDT\",\"b\":\"100.01\","
    "\"B\":\"2\",\"a\":\"100.06\",\"A\":\"4\"}}\n"
    "1000000000000000005 "
    "{\"stream\":\"ethusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1002,\"s\":\"ETHUSDT\",\"t\":"
    "77,\"p\":\"100.06\",\"q\":\"0.5\",\"T\":1002,\"m\":false,\"M\":true}}\n"
    "1000000000000000006 "
    "{\"stream\":\"ethusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1003,\"s\":"
    "\"ETHUSDT\",\"U\":13,\"u\":13,\"b\":[],\"a\":[[\"100.06\",\"3.5\"]]}}\n";

TEST(BinanceReader, BuffersDiffsUntilTheSnapshotAndReplaysOnlyTheNewerOnes) {
  auto reader = make_binance_reader({write_file("spot.txt", kSpotLines)});
  const auto events = read_all(*reader);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].event.kind, EventKind::BookSnapshot);
  EXPECT_EQ(events[0].event.last_seq, 10u);
  // The diff 5..9 is older than the snapshot and dropped; 10..12 is replayed at the snapshot's receive time.
  EXPECT_EQ(events[1].event.kind, EventKind::BookDelta);
  EXPECT_EQ(events[1].event.first_seq, 10u);
  EXPECT_EQ(events[1].event.recv_ns, 1000000000000000003);
  EXPECT_EQ(events[1].event.exch_ns, 1001 * kNanosPerMilli);
  EXPECT_TRUE(events[1].event.flags & kFlagReplayedAfterSnapshot);
  EXPECT_EQ(events[2].event.kind, EventKind::Quote);
  EXPECT_EQ(events[3].event.kind, EventKind::Trade);
  EXPECT_EQ(events[3].event.side, Side::Buy);  // m=false: the buyer took
  EXPECT_EQ(events[3].event.last_seq, 77u);
  EXPECT_EQ(events[4].event.first_seq, 13u);
  EXPECT_EQ(reader->gaps().size(), 0u);
  EXPECT_EQ(reader->error_count(), 0u);
  ASSERT_EQ(reader->streams().size(), 1u);
  EXPECT_EQ(reader->streams()[0].name(), "binance-spot:ETHUSDT");
}

TEST(BinanceReader, ReportsAGapAndAppliesNothingAcrossItUntilANewSnapshot) {
  std::string lines = kSpotLines;
  lines +=
      "1000000000000000007 "
      "{\"stream\":\"ethusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1004,\"s\":"
      "\"ETHUSDT\",\"U\":20,\"u\":21,\"b\":[[\"99.00\",\"1\"]],\"a\":[]}}\n"
      "1000000000000000008 "
      "{\"stream\":\"ethusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1005,\"s\":"
      "\"ETHUSDT\",\"U\":22,\"u\":22,\"b\":[[\"98.00\",\"1\"]],\"a\":[]}}\n";
  auto reader = make_binance_reader({write_file("gap.txt", lines)});
  const auto events = read_all(*reader);
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[5].event.kind, EventKind::Gap);
  EXPECT_EQ(events[5].event.first_seq, 14u);  // expected
  EXPECT_EQ(events[5].event.last_seq, 20u);   // received
  ASSERT_EQ(reader->gaps().size(), 1u);
  EXPECT_EQ(reader->gaps()[0].line, 7u);
  ASSERT_EQ(reader->notes().size(), 1u);  // the two diffs after the gap never got a snapshot
}

TEST(BinanceReader, ASnapshotBeforeAnyStreamLineCannotBePlacedAndIsReported) {
  const std::string lines =
      "1000000000000000001 "
      "{\"lastUpdateId\":100,\"E\":1,\"T\":1,\"bids\":[[\"10.0\",\"1\"]],\"asks\":[[\"10.1\","
      "\"1\"]]}\n"
      "1000000000000000002 "
      "{\"stream\":\"ethusdt@depth@0ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":2,\"T\":2,\"s\":"
      "\"ETHUSDT\",\"U\":90,\"u\":105,\"pu\":89,\"b\":[[\"10.0\",\"2\"]],\"a\":[]}}\n"
      "1000000000000000003 "
      "{\"stream\":\"ethusdt@depth@0ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":3,\"T\":3,\"s\":"
      "\"ETHUSDT\",\"U\":110,\"u\":120,\"pu\":105,\"b\":[],\"a\":[[\"10.1\",\"0\"]]}}\n"
      "1000000000000000004 "
      "{\"stream\":\"ethusdt@depth@0ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":4,\"T\":4,\"s\":"
      "\"ETHUSDT\",\"U\":130,\"u\":140,\"pu\":125,\"b\":[],\"a\":[[\"10.2\",\"1\"]]}}\n";
  auto reader = make_binance_reader({write_file("usdm.txt", lines)});
  const auto events = read_all(*reader);
  // The first line is a snapshot without a symbol: nothing in the file has named its stream yet.
  EXPECT_EQ(reader->error_count(), 1u);
  EXPECT_NE(reader->errors()[0].message.find("snapshot before any depth stream"), std::string::npos);
  (void)events;
}

TEST(BinanceReader, AppliesTheFirstFuturesDiffAfterASnapshotWithoutAContinuityCheck) {
  const std::string lines =
      "1000000000000000001 {\"stream\":\"ethusdt@bookTicker\",\"data\":{\"e\":\"bookTicker\",\"u\":99,\"s\":"
      "\"ETHUSDT\",\"b\":\"10.0\",\"B\":\"1\",\"a\":\"10.1\",\"A\":\"1\",\"T\":1,\"E\":1}}\n"
      "1000000000000000002 "
      "{\"lastUpdateId\":100,\"E\":1,\"T\":1,\"bids\":[[\"10.0\",\"1\"]],\"asks\":[[\"10.1\","
      "\"1\"]]}\n"
      "1000000000000000003 "
      "{\"stream\":\"ethusdt@depth@0ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":2,\"T\":2,\"s\":"
      "\"ETHUSDT\",\"U\":90,\"u\":105,\"pu\":89,\"b\":[[\"10.0\",\"2\"]],\"a\":[]}}\n"
      "1000000000000000004 "
      "{\"stream\":\"ethusdt@depth@0ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":3,\"T\":3,\"s\":"
      "\"ETHUSDT\",\"U\":110,\"u\":120,\"pu\":105,\"b\":[],\"a\":[[\"10.1\",\"0\"]]}}\n"
      "1000000000000000005 "
      "{\"stream\":\"ethusdt@depth@0ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":4,\"T\":4,\"s\":"
      "\"ETHUSDT\",\"U\":130,\"u\":140,\"pu\":125,\"b\":[],\"a\":[[\"10.2\",\"1\"]]}}\n";
  auto reader = make_binance_reader({write_file("usdm2.txt", lines)});
  const auto events = read_all(*reader);
  EXPECT_EQ(reader->error_count(), 0u);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(reader->streams()[0].name(), "binance-usdm:ETHUSDT");
  EXPECT_EQ(events[1].event.kind, EventKind::BookSnapshot);
  EXPECT_EQ(events[2].event.kind, EventKind::BookDelta);
  EXPECT_EQ(events[3].event.kind, EventKind::BookDelta);
  EXPECT_EQ(events[4].event.kind, EventKind::Gap);  // pu 125 does not continue u 120
  ASSERT_EQ(reader->gaps().size(), 1u);
  EXPECT_EQ(reader->gaps()[0].expected, 120u);
  EXPECT_EQ(reader->gaps()[0].received, 125u);
}

TEST(BinanceReader, AMalformedLineIsAnErrorNamingFileAndLineAndTheRestStillReads) {
  std::string lines = kSpotLines;
  lines.insert(lines.find("1000000000000000004"),
               "1000000000000000003 {\"stream\":\"ethusdt@trade\",\"data\":{\"p\":\n"
               "garbage\n"
               "1000000000000000003 {\"stream\":\"ethusdt@trade\",\"data\":{\"e\":"
               "\"trade\",\"t\":1,\"p\":\"-1\",\"q\":\"1\",\"m\":true}}\n");
  const std::string path = write_file("malformed.txt", lines);
  auto reader = make_binance_reader({path});
  const auto events = read_all(*reader);
  EXPECT_EQ(events.size(), 5u);
  ASSERT_EQ(reader->error_count(), 3u);
  EXPECT_EQ(reader->errors()[0].file, path);
  EXPECT_EQ(reader->errors()[0].line, 4u);
  EXPECT_EQ(reader->errors()[1].line, 5u);
  EXPECT_EQ(reader->errors()[2].line, 6u);
  EXPECT_NE(reader->errors()[2].message.find("non-positive"), std::string::npos);
}

TEST(BinanceReader, ReadsMicrosecondTimestampsAndSkipsMarkPriceLinesCounted) {
  const std::string lines =
      "1680652701048293 "
      "{\"stream\":\"btcusdt@markPrice@1s\",\"data\":{\"e\":\"markPriceUpdate\",\"E\":1,\"s\":"
      "\"BTCUSDT\",\"p\":\"1\"}}\n"
      "1680652701048294 {\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1680652701000,\"T\":"
      "1680652701000,\"s\":\"BTCUSDT\",\"t\":5,\"p\":\"28000.1\",\"q\":\"0.01\",\"X\":\"MARKET\",\"m\":true}}"
      "\n";
  auto reader = make_binance_reader({write_file("micros.txt", lines)});
  const auto events = read_all(*reader);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event.recv_ns, 1680652701048294000);
  EXPECT_EQ(events[0].event.side, Side::Sell);
  EXPECT_EQ(reader->skipped().at("markPrice"), 1u);
}

TEST(BinanceReader, AFilePairIsReadAsOneContinuingStream) {
  std::string first = kSpotLines;
  const std::string second =
      "1000000000000000010 "
      "{\"stream\":\"ethusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1010,\"s\":"
      "\"ETHUSDT\",\"U\":14,\"u\":15,\"b\":[[\"100.02\",\"1\"]],\"a\":[]}}\n";
  auto reader = make_binance_reader({write_file("pair_a.txt", first), write_file("pair_b.txt", second)});
  const auto events = read_all(*reader);
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[5].event.kind, EventKind::BookDelta);
  EXPECT_EQ(reader->gaps().size(), 0u);
  EXPECT_EQ(reader->streams().size(), 1u);
}

// Regression: the fuzzer found a 17-digit (microsecond) receive timestamp whose nanoseconds overflow.
TEST(BinanceReader, AReceiveTimestampTooLargeForNanosecondsIsAnErrorNotAnOverflow) {
  const std::string line =
      "23161254340869467 {\"stream\":\"ethusdt@trade\",\"data\":{\"e\":\"trade\",\"t\":1,\"p\":\"1\","
      "\"q\":\"1\",\"m\":true}}\n";
  auto reader = make_binance_reader({write_file("huge_stamp.txt", std::string(kSpotLines) + line)});
  const auto events = read_all(*reader);
  EXPECT_EQ(events.size(), 5u);
  ASSERT_EQ(reader->error_count(), 1u);
  EXPECT_NE(reader->errors()[0].message.find("too large for nanoseconds"), std::string::npos);
}

TEST(BinaryFormat, RoundTripsEveryEventExactly) {
  auto source = make_binance_reader({write_file("roundtrip.txt", kSpotLines)});
  const std::string out = write_file("roundtrip.trmd", "");
  auto written = convert_to_binary(*source, out);
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_EQ(*written, 5u);
  auto again = make_binance_reader({write_file("roundtrip.txt", kSpotLines)});
  const auto expected = read_all(*again);
  auto opened = open_reader({out});
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  const auto actual = read_all(**opened);
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const Event& a = actual[i].event;
    const Event& b = expected[i].event;
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.recv_ns, b.recv_ns);
    EXPECT_EQ(a.exch_ns, b.exch_ns);
    EXPECT_EQ(a.first_seq, b.first_seq);
    EXPECT_EQ(a.last_seq, b.last_seq);
    EXPECT_EQ(a.flags, b.flags);
    EXPECT_EQ(a.side, b.side);
    EXPECT_EQ(a.price, b.price);
    EXPECT_EQ(a.qty2, b.qty2);
    ASSERT_EQ(a.bids.size(), b.bids.size());
    ASSERT_EQ(a.asks.size(), b.asks.size());
    for (std::size_t j = 0; j < a.asks.size(); ++j) EXPECT_EQ(a.asks[j].qty, b.asks[j].qty);
  }
  EXPECT_EQ((*opened)->streams()[0].name(), "binance-spot:ETHUSDT");
}

TEST(BinaryFormat, ATruncatedFileIsAnErrorAndEveryWholeRecordBeforeItStillReads) {
  auto source = make_binance_reader({write_file("trunc.txt", kSpotLines)});
  const std::string out = write_file("trunc.trmd", "");
  ASSERT_TRUE(convert_to_binary(*source, out).ok());
  std::filesystem::resize_file(out, std::filesystem::file_size(out) - 20);
  auto opened = open_reader({out});
  ASSERT_TRUE(opened.ok());
  const auto events = read_all(**opened);
  EXPECT_EQ(events.size(), 4u);
  EXPECT_EQ((*opened)->error_count(), 1u);
}

// Regression: the fuzzer found an event time (E) in milliseconds whose nanoseconds overflowed.
TEST(BinanceReader, AnEventTimeNanosecondsCannotHoldIsABadValueNotAnOverflow) {
  const std::string line =
      "1000000000000000007 {\"stream\":\"ethusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":17231612576931000,"
      "\"t\":78,\"p\":\"100.06\",\"q\":\"1\",\"m\":true}}\n";
  auto reader = make_binance_reader({write_file("huge_event_time.txt", std::string(kSpotLines) + line)});
  const auto events = read_all(*reader);
  EXPECT_EQ(events.size(), 5u);
  ASSERT_EQ(reader->error_count(), 1u);
  EXPECT_NE(reader->errors()[0].message.find("bad value for 'E'"), std::string::npos)
      << reader->errors()[0].message;
}

// Regression: the fuzzer found a damaged binary file's negative level price reaching the book, whose key
// arithmetic then overflowed. The reader refuses the record; the book refuses such a price too.
TEST(BinaryFormat, ALevelWithANegativePriceIsAnErrorAndTheRecordIsNotDelivered) {
  auto source = make_binance_reader({write_file("negative.txt", kSpotLines)});
  const std::string out = write_file("negative.trmd", "");
  ASSERT_TRUE(convert_to_binary(*source, out).ok());
  std::string bytes;
  {
    std::ifstream in(out, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::int64_t price = Price::parse("100.05").value().raw(), negative = -price;
  const std::string needle(reinterpret_cast<const char*>(&price), 8);
  const std::size_t at = bytes.find(needle);
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 8, std::string(reinterpret_cast<const char*>(&negative), 8));
  std::ofstream(out, std::ios::binary | std::ios::trunc) << bytes;
  auto opened = open_reader({out});
  ASSERT_TRUE(opened.ok());
  const auto events = read_all(**opened);
  EXPECT_EQ(events.size(), 4u);
  ASSERT_EQ((*opened)->error_count(), 1u);
  EXPECT_NE((*opened)->errors()[0].message.find("prices must be positive"), std::string::npos);
  L2Book book(Price::parse("0.01").value());
  Event delta;
  delta.kind = EventKind::BookDelta;
  const Level levels[] = {{Price::from_raw(-6803482184050016256), Qty::parse("1").value()},
                          {Price::parse("100.05").value(), Qty::parse("1").value()}};
  delta.asks = levels;
  EXPECT_FALSE(book.apply(delta));
  EXPECT_EQ(book.off_tick_count(), 1u);
  EXPECT_EQ(book.best_ask(), Price::parse("100.05").value());
}

TEST(BinaryFormat, RefusesAVersionNewerThanItReads) {
  auto source = make_binance_reader({write_file("ver.txt", kSpotLines)});
  const std::string out = write_file("ver.trmd", "");
  ASSERT_TRUE(convert_to_binary(*source, out).ok());
  {
    std::fstream f(out, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);
    const std::uint32_t version = kBinaryVersion + 1;
    f.write(reinterpret_cast<const char*>(&version), 4);
  }
  auto opened = open_reader({out});
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(read_all(**opened).empty());
  ASSERT_EQ((*opened)->error_count(), 1u);
  EXPECT_NE((*opened)->errors()[0].message.find("newer"), std::string::npos);
}

TEST(OpenReader, NamesAFileOfUnknownFormat) {
  auto opened = open_reader({write_file("unknown.txt", "hello world\n")});
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("unknown.txt: unrecognised format"), std::string::npos);
}

}  // namespace
}  // namespace tranche::md
