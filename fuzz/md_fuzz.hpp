#pragma once
// The market-data fuzz targets: the fuzzer's bytes are one recording file, read by one decoder, and every
// event it makes is applied to the books `tranche md stats` rebuilds. Malformed input must be counted as
// errors, never crash, hang or read out of bounds; the books must take whatever the decoder lets through.
#include <memory>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "md/book_replay.hpp"
#include "md/reader.hpp"

namespace tranche::fuzz {

using MakeReader = std::unique_ptr<md::EventReader> (*)(const std::vector<std::string>&);

// `file_name` is what the decoder is told the file is called (LOBSTER reads the date from it).
inline int decode_through_books(const std::uint8_t* data, std::size_t size, const std::string& file_name,
                                MakeReader make) {
  const std::string path = Scratch::get().write(file_name, as_text(data, size));
  const std::unique_ptr<md::EventReader> reader = make({path});
  md::BookReplay books;
  md::Event event;
  // A decoder makes at most a few events per input byte; more means it is stuck repeating one.
  const std::uint64_t most = 64 * (size + 1) + 1024;
  std::uint64_t events = 0;
  while (reader->next(event)) {
    books.apply(event);
    if (++events > most) {
      std::fprintf(stderr, "%s made over %llu events from %zu bytes\n", reader->format().c_str(),
                   static_cast<unsigned long long>(most), size);
      std::abort();
    }
  }
  return 0;
}

}  // namespace tranche::fuzz
