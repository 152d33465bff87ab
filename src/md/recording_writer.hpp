#pragma once
// Writes market data in the recording format the readers replay (md/binance_reader.hpp): one line a message,
// `<receive time in ns since the epoch> <the message as received>`, gzip when the path ends in ".gz".
//
// A line holds one message: a message that spans lines (pretty-printed JSON) has its line breaks written as
// spaces, which JSON reads the same outside strings (and JSON allows no raw line break inside one). The
// gzip stream is flushed every `flush_every_ns` of receive time and at close, so a recorder that is killed
// loses at most that much: the readers say where such a file stops. Writing costs no allocation.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/time.hpp"

namespace tranche::md {

class RecordingWriter {
 public:
  // Creates `path`; refuses one that exists (a recording is never overwritten) and says why it could not.
  static Result<std::unique_ptr<RecordingWriter>> create(const std::string& path,
                                                         DurationNs flush_every_ns = kNanosPerSecond);
  ~RecordingWriter();
  RecordingWriter(const RecordingWriter&) = delete;
  RecordingWriter& operator=(const RecordingWriter&) = delete;

  // One line. A write that fails (a full disk) is said once and every later write fails too.
  Status write(TimestampNs recv_ns, std::string_view message);
  // Flushes and closes; says why when the file could not be completed. Idempotent.
  Status close();

  const std::string& path() const { return path_; }
  std::uint64_t lines() const { return lines_; }
  std::uint64_t bytes() const { return bytes_; }  // before compression

 private:
  RecordingWriter(std::string path, void* file, bool gzip, DurationNs flush_every_ns);
  Status put(const char* data, std::size_t size);

  std::string path_;
  void* file_;  // gzFile or FILE*
  bool gzip_;
  DurationNs flush_every_ns_;
  TimestampNs last_flush_ns_ = 0;
  std::uint64_t lines_ = 0;
  std::uint64_t bytes_ = 0;
  std::string failed_;  // the first failure, said again by every later call
};

}  // namespace tranche::md
