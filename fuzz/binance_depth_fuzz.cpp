// Fuzz target: the Binance gateway's market payloads (gateway/binance_depth.hpp): depth diffs, the REST
// snapshot, bookTicker and trades, one per line, into the book that keeps a venue synced. A line starting
// "S " is a REST snapshot, any other a stream message. An input whose first line is "usdm" is read with
// USD-M futures' sequencing (pu), any other with spot's. Whatever arrives, the book must never be crossed
// while it says it is synced.
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.hpp"
#include "gateway/binance_depth.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tranche;
  const Config& config = fuzz::bundled_config();
  std::string_view text = fuzz::as_text(data, size);
  const bool futures = text.starts_with("usdm\n");
  const VenueConfig* venue = config.venue(VenueId(futures ? "binance-usdm" : "binance-spot"));
  if (!venue || venue->listings.empty()) std::abort();
  gateway::BinanceDepthOptions options;
  options.futures = futures;
  options.reserve_levels_per_side = 64;
  options.max_buffered_diffs = 64;
  gateway::BinanceDepthSync book(venue->listings.front(), options);
  TimestampNs now = 1723161254024619568;
  for (std::string_view line : fuzz::lines_of(text)) {
    now += kNanosPerMilli;
    if (line.starts_with("S ")) {
      line.remove_prefix(2);
      (void)book.on_snapshot(line, now);
    } else {
      (void)book.on_message(line, now);
    }
    if (book.valid()) {
      const Price bid = book.best(Side::Buy), ask = book.best(Side::Sell);
      if (bid.is_set() && ask.is_set() && bid >= ask) {
        std::fprintf(stderr, "synced book crossed: bid %s >= ask %s\n", bid.to_string().c_str(),
                     ask.to_string().c_str());
        std::abort();
      }
    }
  }
  return 0;
}
