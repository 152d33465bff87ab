#pragma once
// `tranche md record`: a live venue's market data, heard through its own gateway (the same market side
// `tranche serve` trades on), written in the recording format `md stats`, `sim run` and every replay read:
// one gzip file per listing, `<receive ns> <message>` a line, the REST snapshots that synced its book among
// them (docs/md.md, "Recording a live market").
#include <iosfwd>
#include <string>

namespace tranche::service {

struct MdRecordOptions {
  std::string config;    // default: the bundled one
  std::string venue;     // a venue of the config with [venue.binance]
  std::string out_dir;   // where the files go (must exist)
  std::string duration;  // "30s", "10m"; empty: until SIGINT or SIGTERM
  bool json = false;
};

// Exit 0 when the recording ended as asked (its time, or a signal), 1 when the market could not be heard or
// a file could not be written, 2 for a bad option or config.
int md_record(const MdRecordOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tranche::service
