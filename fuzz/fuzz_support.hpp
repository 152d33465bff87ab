#pragma once
// What the fuzz targets share: the fuzzer's bytes as text, a scratch folder for decoders that read files, and
// the bundled config. Each target defines LLVMFuzzerTestOneInput; libFuzzer (`make fuzz`, clang) or
// replay_main.cpp (the gcc builds, `make test`) calls it.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"

namespace tranche::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The input's lines ('\n'-separated; a last line without one counts).
inline std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    out.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

// A folder of this process's own under the temporary folder, removed when the process ends normally (a
// crash leaves it for the reproducer).
class Scratch {
 public:
  static Scratch& get() {
    static Scratch scratch;
    return scratch;
  }
  const std::filesystem::path& dir() const { return dir_; }
  // Writes `bytes` to <scratch>/<name> (folders made as needed) and returns its path.
  std::string write(const std::string& name, std::string_view bytes) const {
    const std::filesystem::path path = dir_ / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
      std::abort();
    }
    return path.string();
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  Scratch() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tranche-fuzz-XXXXXX").string();
    if (!mkdtemp(pattern.data())) {
      std::perror("fuzz: mkdtemp");
      std::abort();
    }
    dir_ = pattern;
  }
  std::filesystem::path dir_;
};

// config/default.toml, loaded once; a target that cannot load it cannot test anything, so it stops.
inline const Config& bundled_config() {
  static const Config config = [] {
    auto loaded = load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml");
    if (!loaded.ok()) {
      std::fprintf(stderr, "fuzz: config/default.toml: %s\n", loaded.error().message.c_str());
      std::abort();
    }
    return *loaded;
  }();
  return config;
}

}  // namespace tranche::fuzz
