// Fuzz target: binary_reader (md/binary_format.hpp) on one file of arbitrary bytes, its events into the
// books.
#include "md/binary_format.hpp"
#include "md_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return tranche::fuzz::decode_through_books(data, size, "events.tbin", tranche::md::make_binary_reader);
}
