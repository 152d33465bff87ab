// Fuzz target: tardis_reader (md/tardis_reader.hpp) on one file of arbitrary bytes, its events into the
// books.
#include "md/tardis_reader.hpp"
#include "md_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return tranche::fuzz::decode_through_books(
      data, size, "tardis/binance-futures_incremental_book_L2_BTCUSDT.csv", tranche::md::make_tardis_reader);
}
