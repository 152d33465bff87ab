// Fuzz target: the config loader (core/config.hpp) on arbitrary TOML. A config it accepts is read as every
// command reads it; one it refuses must say why. Neither may crash.
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tranche;
  const auto parsed = parse_config(fuzz::as_text(data, size), "fuzz.toml");
  if (!parsed.ok() && parsed.error().message.empty()) {
    std::fprintf(stderr, "a refused config without a reason\n");
    std::abort();
  }
  return 0;
}
