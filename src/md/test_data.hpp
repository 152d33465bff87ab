#pragma once
// Where tests find recorded data: the project's bundled data/ and the shared recordings beside the checkout.
// Tests that need ../shared/data call TRANCHE_REQUIRE_SHARED_FILE, which skips with a clear message when it
// is absent (a user's clone has no ../shared).
#include <filesystem>
#include <string>

#ifndef TRANCHE_SOURCE_DIR
#error "tests are compiled with TRANCHE_SOURCE_DIR"
#endif

namespace tranche::md::testing {

inline std::string shared_data(const std::string& relative) {
  if (const char* dir = std::getenv("TRANCHE_SHARED_DATA")) return std::string(dir) + "/" + relative;
  return std::string(TRANCHE_SHARED_DATA_DIR) + "/" + relative;
}
inline std::string bundled_data(const std::string& relative) {
  return std::string(TRANCHE_SOURCE_DIR) + "/data/" + relative;
}

}  // namespace tranche::md::testing

#define TRANCHE_REQUIRE_SHARED_FILE(path)                                                                \
  do {                                                                                                   \
    if (!std::filesystem::exists(path))                                                                  \
      GTEST_SKIP() << "shared recording not found: " << (path)                                           \
                   << " (these tests read ../shared/data beside the checkout, or $TRANCHE_SHARED_DATA)"; \
  } while (0)
