#include "md/recording_writer.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace tranche::md {

namespace {

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

}  // namespace

Result<std::unique_ptr<RecordingWriter>> RecordingWriter::create(const std::string& path,
                                                                 DurationNs flush_every_ns) {
  if (flush_every_ns <= 0) return make_error("the flush interval must be positive");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int e = errno;
    return make_error(path + ": " +
                      (e == EEXIST ? std::string("exists (a recording is never overwritten)")
                                   : std::string(std::strerror(e))));
  }
  const bool gzip = ends_with(path, ".gz");
  void* file = gzip ? static_cast<void*>(gzdopen(fd, "wb6")) : static_cast<void*>(fdopen(fd, "wb"));
  if (file == nullptr) {
    const int e = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return make_error(path + ": " + std::strerror(e));
  }
  return std::unique_ptr<RecordingWriter>(new RecordingWriter(path, file, gzip, flush_every_ns));
}

RecordingWriter::RecordingWriter(std::string path, void* file, bool gzip, DurationNs flush_every_ns)
    : path_(std::move(path)), file_(file), gzip_(gzip), flush_every_ns_(flush_every_ns) {}

RecordingWriter::~RecordingWriter() {
  (void)close();
}

Status RecordingWriter::put(const char* data, std::size_t size) {
  if (size == 0) return {};
  bool ok;
  if (gzip_) {
    ok = gzwrite(static_cast<gzFile>(file_), data, static_cast<unsigned>(size)) == static_cast<int>(size);
  } else {
    ok = std::fwrite(data, 1, size, static_cast<FILE*>(file_)) == size;
  }
  if (!ok) {
    int zerr = 0;
    const char* why = gzip_ ? gzerror(static_cast<gzFile>(file_), &zerr) : nullptr;
    failed_ = path_ + ": " + (zerr == Z_ERRNO || why == nullptr ? std::strerror(errno) : why);
    return make_error(failed_);
  }
  bytes_ += size;
  return {};
}

Status RecordingWriter::write(TimestampNs recv_ns, std::string_view message) {
  if (file_ == nullptr) return make_error(path_ + ": closed");
  if (!failed_.empty()) return make_error(failed_);
  char stamp[24];
  auto [end, ec] = std::to_chars(stamp, stamp + sizeof stamp - 1, recv_ns);
  *end++ = ' ';
  if (Status s = put(stamp, static_cast<std::size_t>(end - stamp)); !s) return s;
  // The message's own line breaks become spaces: one message, one line.
  std::size_t from = 0;
  while (from <= message.size()) {
    const std::size_t brk = message.find_first_of("\r\n", from);
    const std::size_t to = brk == std::string_view::npos ? message.size() : brk;
    if (Status s = put(message.data() + from, to - from); !s) return s;
    if (brk == std::string_view::npos) break;
    if (Status s = put(" ", 1); !s) return s;
    from = brk + 1;
  }
  if (Status s = put("\n", 1); !s) return s;
  ++lines_;
  if (recv_ns - last_flush_ns_ >= flush_every_ns_) {
    last_flush_ns_ = recv_ns;
    const bool flushed = gzip_ ? gzflush(static_cast<gzFile>(file_), Z_SYNC_FLUSH) == Z_OK
                               : std::fflush(static_cast<FILE*>(file_)) == 0;
    if (!flushed) {
      failed_ = path_ + ": flushing: " + std::strerror(errno);
      return make_error(failed_);
    }
  }
  return {};
}

Status RecordingWriter::close() {
  if (file_ == nullptr) return failed_.empty() ? Status{} : Status(make_error(failed_));
  const bool closed =
      gzip_ ? gzclose(static_cast<gzFile>(file_)) == Z_OK : std::fclose(static_cast<FILE*>(file_)) == 0;
  file_ = nullptr;
  if (!closed && failed_.empty()) failed_ = path_ + ": closing: " + std::strerror(errno);
  return failed_.empty() ? Status{} : Status(make_error(failed_));
}

}  // namespace tranche::md
