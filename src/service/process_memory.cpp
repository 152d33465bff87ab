#include "service/process_memory.hpp"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>

namespace tranche::service {

std::uint64_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  const int read = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (read != 2) return 0;
  return static_cast<std::uint64_t>(resident) * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

HeapBytes heap_bytes() {
  const struct mallinfo2 m = mallinfo2();
  return {static_cast<std::uint64_t>(m.uordblks + m.hblkhd), static_cast<std::uint64_t>(m.fordblks)};
}

}  // namespace tranche::service
