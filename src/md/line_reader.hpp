#pragma once
// Reads text lines from a plain or gzip file (zlib reads both) through one large reusable buffer. Each line
// is a view valid until the next call; the bytes after it stay readable for at least kPadding bytes, so
// parsers that read a little past the end (simdjson) can parse in place.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace tranche::md {

class LineReader {
 public:
  static constexpr std::size_t kPadding = 64;

  LineReader() = default;
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  Status open(const std::string& path);
  void close();
  // False at the end of the file or on a read error (then error() says which).
  bool next(std::string_view& line);
  std::uint64_t line_number() const { return line_number_; }
  const std::string& path() const { return path_; }
  const std::string& error() const { return error_; }
  // Bytes after the line that may be read (padding included).
  std::size_t readable_after(std::string_view line) const;

 private:
  bool refill();

  void* file_ = nullptr;  // gzFile
  std::string path_;
  std::string error_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;  // first unread byte
  std::size_t end_ = 0;    // one past the last valid byte
  bool eof_ = false;
  std::uint64_t line_number_ = 0;
};

}  // namespace tranche::md
