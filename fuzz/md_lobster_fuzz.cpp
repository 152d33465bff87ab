// Fuzz target: lobster_reader (md/lobster_reader.hpp) on one file of arbitrary bytes, its events into the
// books.
#include "md/lobster_reader.hpp"
#include "md_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return tranche::fuzz::decode_through_books(data, size,
                                             "lobster/AMZN_2012-06-21_34200000_57600000_message_1.csv",
                                             tranche::md::make_lobster_reader);
}
