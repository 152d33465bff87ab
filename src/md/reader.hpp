#pragma once
// Every market-data decoder is an EventReader: a pull source of normalized events over one or more files read
// in order (a file pair that continues, `_20240808` then `_20240809`, is one source).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "md/event.hpp"

namespace tranche::md {

class EventReader {
 public:
  virtual ~EventReader() = default;
  // The next event, or false when every file is read. Spans in `out` stay valid until the next call.
  virtual bool next(Event& out) = 0;
  virtual std::string format() const = 0;

  const std::vector<StreamInfo>& streams() const { return streams_; }
  // Malformed input: every one is counted; the first kMaxKeptErrors are kept with file and line.
  std::uint64_t error_count() const { return error_count_; }
  const std::vector<DecodeError>& errors() const { return errors_; }
  const std::vector<GapReport>& gaps() const { return gaps_; }
  // Lines or records deliberately not turned into events, by what they were ("markPrice", ...).
  const std::map<std::string, std::uint64_t>& skipped() const { return skipped_; }
  // Notes on the input that are not errors (e.g. depth diffs that never got a snapshot).
  const std::vector<std::string>& notes() const { return notes_; }
  std::uint64_t lines_read() const { return lines_read_; }

  static constexpr std::size_t kMaxKeptErrors = 100;

 protected:
  void report_error(const std::string& file, std::uint64_t line, std::string message) {
    ++error_count_;
    if (errors_.size() < kMaxKeptErrors) errors_.push_back({file, line, std::move(message)});
  }
  std::uint16_t add_stream(StreamInfo info) {
    streams_.push_back(std::move(info));
    return static_cast<std::uint16_t>(streams_.size() - 1);
  }

  std::vector<StreamInfo> streams_;
  std::vector<DecodeError> errors_;
  std::vector<GapReport> gaps_;
  std::map<std::string, std::uint64_t> skipped_;
  std::vector<std::string> notes_;
  std::uint64_t error_count_ = 0;
  std::uint64_t lines_read_ = 0;
};

// Opens the right decoder for the files, recognised by their content: Binance recordings, Tardis CSV, LOBSTER
// messages, Databento-derived MBO CSV, or Tranche's binary event format. All files of one call must share a
// format.
Result<std::unique_ptr<EventReader>> open_reader(const std::vector<std::string>& files);

}  // namespace tranche::md
