#pragma once
// Where tests find recorded data: the project's bundled data/ and the shared recordings beside the checkout.
// Tests that need ../shared/data call TRANCHE_REQUIRE_SHARED_FILE, which skips with a clear message when it
// is absent (a user's clone has no ../shared).
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "md/reader.hpp"

#ifndef TRANCHE_SOURCE_DIR
#error "tests are compiled with TRANCHE_SOURCE_DIR"
#endif

namespace tranche {
// Fixed-point values print as decimals in test failures.
template <class Tag>
void PrintTo(const Fixed<Tag>& value, std::ostream* os) {
  *os << (value.is_set() ? value.to_string() : std::string("unset"));
}
}  // namespace tranche

namespace tranche::md::testing {

inline std::string shared_data(const std::string& relative) {
  if (const char* dir = std::getenv("TRANCHE_SHARED_DATA")) return std::string(dir) + "/" + relative;
  return std::string(TRANCHE_SHARED_DATA_DIR) + "/" + relative;
}
inline std::string bundled_data(const std::string& relative) {
  return std::string(TRANCHE_SOURCE_DIR) + "/data/" + relative;
}

// Decimal-string shorthands for fixtures: px("100.05"), qty("0.5").
inline Price px(const char* text) {
  return Price::parse(text).value();
}
inline Qty qty(const char* text) {
  return Qty::parse(text).value();
}

// Every event a reader gives, each owning its levels.
inline std::vector<OwnedEvent> read_all(EventReader& reader) {
  std::vector<OwnedEvent> events;
  Event event;
  while (reader.next(event)) events.emplace_back(event);
  return events;
}

// A fixture with a fresh temporary directory per test, for tests that write small input files.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("tranche_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string write_gzip(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
    gzclose(f);
    return path;
  }

  std::filesystem::path dir_;
};

}  // namespace tranche::md::testing

#define TRANCHE_REQUIRE_SHARED_FILE(path)                                                                \
  do {                                                                                                   \
    if (!std::filesystem::exists(path))                                                                  \
      GTEST_SKIP() << "shared recording not found: " << (path)                                           \
                   << " (these tests read ../shared/data beside the checkout, or $TRANCHE_SHARED_DATA)"; \
  } while (0)
