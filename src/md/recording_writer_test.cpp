#include "md/recording_writer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "md/binance_reader.hpp"
#include "md/test_data.hpp"

namespace tranche::md {
namespace {

std::string temp_path(const std::string& name) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("tranche_recording_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::filesystem::remove(path);
  return path.string();
}

std::string gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  std::string text;
  char buffer[4096];
  int got;
  while ((got = gzread(f, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(got));
  gzclose(f);
  return text;
}

TEST(RecordingWriter, WritesLinesTheBinanceReaderReplaysAsTheLiveBookSawThem) {
  const std::string path = temp_path("ethusdt.gz");
  auto writer = RecordingWriter::create(path);
  ASSERT_TRUE(writer) << writer.error().message;
  RecordingWriter& w = *writer.value();
  // As a live market hears them: a diff, the REST snapshot that syncs it, a trade, a later diff.
  ASSERT_TRUE(w.write(1'000'000'000'000'000'001,
                      R"({"stream":"ethusdt@depth@100ms","data":{"e":"depthUpdate","E":1000,"s":"ETHUSDT",)"
                      R"("U":9,"u":11,"b":[["100.00","2"]],"a":[]}})"));
  ASSERT_TRUE(
      w.write(1'000'000'000'000'000'002,
              "{\"lastUpdateId\":10,\n\"bids\":[[\"100.00\",\"1\"]],\r\n\"asks\":[[\"100.05\",\"3\"]]}"));
  ASSERT_TRUE(w.write(1'000'000'000'000'000'003,
                      R"({"stream":"ethusdt@trade","data":{"e":"trade","E":1002,"s":"ETHUSDT","t":77,)"
                      R"("p":"100.05","q":"0.5","T":1002,"m":false,"M":true}})"));
  ASSERT_TRUE(w.write(1'000'000'000'000'000'004,
                      R"({"stream":"ethusdt@depth@100ms","data":{"e":"depthUpdate","E":1003,"s":"ETHUSDT",)"
                      R"("U":12,"u":12,"b":[],"a":[["100.05","0"]]}})"));
  ASSERT_TRUE(w.close());
  EXPECT_EQ(w.lines(), 4u);

  const std::string text = gunzip(path);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4) << "a message that spanned lines is one line";
  EXPECT_EQ(text.find('\r'), std::string::npos);

  auto reader = make_binance_reader({path});
  const auto events = testing::read_all(*reader);
  EXPECT_EQ(reader->error_count(), 0u) << (reader->errors().empty() ? "" : reader->errors()[0].message);
  EXPECT_EQ(reader->gaps().size(), 0u);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].event.kind, EventKind::BookSnapshot);
  EXPECT_EQ(events[1].event.kind, EventKind::BookDelta);  // 9..11 straddles the snapshot: applied after it
  EXPECT_EQ(events[2].event.kind, EventKind::Trade);
  EXPECT_EQ(events[3].event.kind, EventKind::BookDelta);
  EXPECT_EQ(events[3].event.recv_ns, 1'000'000'000'000'000'004);
}

TEST(RecordingWriter, NeverOverwritesARecordingAndSaysWhy) {
  const std::string path = temp_path("kept.txt");
  {
    auto first = RecordingWriter::create(path);
    ASSERT_TRUE(first);
    ASSERT_TRUE(first.value()->write(5, "{\"a\":1}"));
  }
  auto second = RecordingWriter::create(path);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("exists"), std::string::npos) << second.error().message;
  auto missing_dir = RecordingWriter::create(temp_path("no") + "/such/dir.gz");
  ASSERT_FALSE(missing_dir);
  EXPECT_NE(missing_dir.error().message.find("No such file"), std::string::npos)
      << missing_dir.error().message;
}

TEST(RecordingWriter, AFileWrittenSoFarIsReadableBeforeCloseOnceFlushed) {
  // A recorder killed mid-run loses at most the flush interval: what was flushed reads back.
  const std::string path = temp_path("flushed.gz");
  auto writer = RecordingWriter::create(path, kNanosPerSecond);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer.value()->write(2 * kNanosPerSecond, "{\"x\":1}"));  // the first write flushes
  EXPECT_EQ(gunzip(path), "2000000000 {\"x\":1}\n");
  ASSERT_TRUE(writer.value()->close());
  EXPECT_FALSE(writer.value()->write(3 * kNanosPerSecond, "{\"x\":2}")) << "a closed recording takes nothing";
}

TEST(RecordingWriter, RefusesANonPositiveFlushInterval) {
  EXPECT_FALSE(RecordingWriter::create(temp_path("bad.gz"), 0));
}

}  // namespace
}  // namespace tranche::md
