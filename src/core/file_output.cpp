#include "core/file_output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tranche {

Status write_file_replacing(const std::string& path, std::string_view content, std::string_view what) {
  const auto failed = [&](int error) {
    return make_error("cannot write " + std::string(what) + " " + path + ": " + std::strerror(error));
  };
  struct stat st {};
  if (path.empty()) return make_error("cannot write " + std::string(what) + ": no file name");
  // A directory would take the temporary file's name inside it, or refuse the rename with no clear word.
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return failed(EISDIR);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return failed(errno);
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(tmp.c_str());
      return failed(error);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    return failed(error);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    return failed(error);
  }
  return {};
}

}  // namespace tranche
