#pragma once
// `tranche md ...`: read recorded market data, rebuild books and report on them. Needs no config: steps come
// from the data itself.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace tranche::service {

struct MdStatsOptions {
  std::vector<std::string> files;
  bool json = false;
};

struct MdBookOptions {
  std::vector<std::string> files;
  std::string at;  // ISO-8601 UTC or ns since the epoch, on the receive clock
  std::size_t depth = 10;
  bool json = false;
};

struct MdConvertOptions {
  std::vector<std::string> inputs;
  std::string output;
};

// The traded volume's shape over time, in equal buckets: the intraday curve vwap's `profile` parameter takes.
// Every stream in the files counts (give one market's files); --from/--to should span the parent's horizon.
struct MdProfileOptions {
  std::vector<std::string> files;
  std::size_t buckets = 12;
  std::string from, to;  // default: the data's span
  bool json = false;
};

// Stoikov's micro-price fitted on each stream's first half and judged on its second: how well it forecasts
// the mid `horizon` later, against the mid itself and the imbalance-weighted mid (md/book_signals.hpp).
struct MdSignalsOptions {
  std::vector<std::string> files;
  std::string horizon = "1s";
  std::string every = "100ms";  // how often the second half is sampled
  bool json = false;
};

// Each returns the process exit code; results go to `out`, messages to `err`.
int md_stats(const MdStatsOptions& options, std::ostream& out, std::ostream& err);
int md_book(const MdBookOptions& options, std::ostream& out, std::ostream& err);
int md_convert(const MdConvertOptions& options, std::ostream& out, std::ostream& err);
int md_profile(const MdProfileOptions& options, std::ostream& out, std::ostream& err);
int md_signals(const MdSignalsOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tranche::service
