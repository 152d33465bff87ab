// Fuzz target: mbo_reader (md/mbo_reader.hpp) on one file of arbitrary bytes, its events into the books.
#include "md/mbo_reader.hpp"
#include "md_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return tranche::fuzz::decode_through_books(data, size, "databento/esm4.mbo.csv",
                                             tranche::md::make_mbo_reader);
}
