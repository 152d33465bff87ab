// Fuzz target: binance_reader (md/binance_reader.hpp) on one file of arbitrary bytes, its events into the
// books.
#include "md/binance_reader.hpp"
#include "md_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return tranche::fuzz::decode_through_books(data, size, "binance/spot/ethusdt_20240808",
                                             tranche::md::make_binance_reader);
}
