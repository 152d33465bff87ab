#pragma once
// This process's memory as the operating system and the allocator see it: for `tranche serve --stats-every`
// and its /metrics.
#include <cstdint>

namespace tranche::service {

// Resident memory (Linux: /proc/self/statm's second field, in pages); 0 where unknown.
std::uint64_t resident_bytes();

// What the allocator says (glibc, every arena): bytes handed out and in use, and bytes it holds free. Beside
// the resident size, they tell a leak (in use grows) from memory the allocator keeps (free grows).
struct HeapBytes {
  std::uint64_t in_use = 0;
  std::uint64_t free = 0;
};
HeapBytes heap_bytes();

}  // namespace tranche::service
