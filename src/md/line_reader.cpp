#include "md/line_reader.hpp"

#include <zlib.h>

#include <cstring>

namespace tranche::md {

namespace {
constexpr std::size_t kChunk = 1 << 20;
}

LineReader::~LineReader() {
  close();
}

void LineReader::close() {
  if (file_ != nullptr) gzclose(static_cast<gzFile>(file_));
  file_ = nullptr;
}

Status LineReader::open(const std::string& path) {
  close();
  path_ = path;
  error_.clear();
  begin_ = end_ = 0;
  eof_ = false;
  line_number_ = 0;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return make_error(path + ": cannot open: " + std::strerror(errno));
  gzbuffer(f, 1 << 17);
  file_ = f;
  if (buffer_.empty()) buffer_.resize(kChunk + kPadding);
  return {};
}

bool LineReader::refill() {
  if (eof_ || file_ == nullptr) return false;
  // Keep the unread tail, then read behind it; grow when one line is longer than the buffer.
  const std::size_t tail = end_ - begin_;
  if (begin_ > 0 && tail > 0) std::memmove(buffer_.data(), buffer_.data() + begin_, tail);
  begin_ = 0;
  end_ = tail;
  if (buffer_.size() - kPadding - end_ < kChunk / 2) buffer_.resize(buffer_.size() * 2);
  const std::size_t room = buffer_.size() - kPadding - end_;
  const int got = gzread(static_cast<gzFile>(file_), buffer_.data() + end_, static_cast<unsigned>(room));
  if (got < 0) {
    int code = 0;
    error_ = path_ + ": read error: " + gzerror(static_cast<gzFile>(file_), &code);
    eof_ = true;
    return false;
  }
  if (got == 0) {
    eof_ = true;
    int code = 0;
    const char* message = gzerror(static_cast<gzFile>(file_), &code);
    if (code != Z_OK && code != Z_STREAM_END) error_ = path_ + ": " + message;
    return false;
  }
  end_ += static_cast<std::size_t>(got);
  std::memset(buffer_.data() + end_, 0, kPadding);
  return true;
}

bool LineReader::next(std::string_view& line) {
  for (;;) {
    const char* start = buffer_.data() + begin_;
    const void* newline = std::memchr(start, '\n', end_ - begin_);
    if (newline != nullptr) {
      const std::size_t length = static_cast<std::size_t>(static_cast<const char*>(newline) - start);
      line = std::string_view(start, length > 0 && start[length - 1] == '\r' ? length - 1 : length);
      begin_ += length + 1;
      ++line_number_;
      return true;
    }
    if (!refill()) {
      if (end_ > begin_) {  // last line without a newline
        line = std::string_view(buffer_.data() + begin_, end_ - begin_);
        std::memset(buffer_.data() + end_, 0, kPadding);
        begin_ = end_;
        ++line_number_;
        return true;
      }
      return false;
    }
  }
}

std::size_t LineReader::readable_after(std::string_view line) const {
  const char* line_end = line.data() + line.size();
  return static_cast<std::size_t>(buffer_.data() + buffer_.size() - line_end);
}

}  // namespace tranche::md
