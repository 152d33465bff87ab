#include "service/md_record_command.hpp"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "core/config.hpp"
#include "gateway/binance_market.hpp"
#include "gateway/binance_protocol.hpp"
#include "gateway/binance_session.hpp"
#include "gateway/live_market.hpp"
#include "md/recording_writer.hpp"
#include "service/replay_clock.hpp"
#include "service/sim_commands.hpp"

namespace tranche::service {

namespace {

using nlohmann::ordered_json;

// What one listing's file holds, by the kind of line.
struct ListingCounts {
  std::uint64_t snapshots = 0;
  std::uint64_t diffs = 0;
  std::uint64_t quotes = 0;
  std::uint64_t trades = 0;
  std::uint64_t other = 0;
};

// Writes what the market's books take, a file per listing; the first write that fails stops the recording.
class Recorder final : public gateway::MarketTap, public gateway::MarketEventSink {
 public:
  explicit Recorder(std::vector<std::unique_ptr<md::RecordingWriter>> files)
      : files_(std::move(files)), counts_(files_.size()) {}

  void on_market_message(std::size_t listing, std::string_view text, TimestampNs recv_ns) override {
    if (!failed_.empty() || listing >= files_.size()) return;
    if (Status s = files_[listing]->write(recv_ns, text); !s) {
      failed_ = s.message();
      return;
    }
    // The stream's name comes first in a combined-stream message; a snapshot has none.
    const std::string_view head = text.substr(0, 96);
    ListingCounts& c = counts_[listing];
    if (head.find("\"stream\"") == std::string_view::npos) {
      ++c.snapshots;
    } else if (head.find("@depth") != std::string_view::npos) {
      ++c.diffs;
    } else if (head.find("@bookTicker") != std::string_view::npos) {
      ++c.quotes;
    } else if (head.find("@trade") != std::string_view::npos) {
      ++c.trades;
    } else {
      ++c.other;
    }
  }
  void on_market_event(std::size_t, const md::Event& event) override {
    if (event.kind == md::EventKind::Gap) ++gaps_;
  }

  Status close() {
    for (auto& f : files_)
      if (Status s = f->close(); !s && failed_.empty()) failed_ = s.message();
    return failed_.empty() ? Status{} : Status(make_error(failed_));
  }
  const std::string& failed() const { return failed_; }
  const md::RecordingWriter& file(std::size_t listing) const { return *files_[listing]; }
  const ListingCounts& counts(std::size_t listing) const { return counts_[listing]; }
  std::uint64_t gaps() const { return gaps_; }

 private:
  std::vector<std::unique_ptr<md::RecordingWriter>> files_;
  std::vector<ListingCounts> counts_;
  std::uint64_t gaps_ = 0;
  std::string failed_;
};

// "20261205T181502Z": the recording's start, in its files' names.
std::string file_stamp(TimestampNs now_ns) {
  std::string iso = format_time(now_ns);  // 2026-12-05T18:15:02.123456789Z
  std::string out;
  for (char c : iso.substr(0, 19))
    if (c != '-' && c != ':') out += c;
  return out + "Z";
}

}  // namespace

int md_record(const MdRecordOptions& options, std::ostream& out, std::ostream& err) {
  const auto fail = [&](int code, const std::string& why) {
    err << "tranche md record: " << why << "\n";
    return code;
  };
  const std::string config_path = options.config.empty() ? default_config_path() : options.config;
  auto config = load_config(config_path);
  if (!config) return fail(2, config.error().message);
  const VenueConfig* venue = nullptr;
  std::string names;
  for (const VenueConfig& v : config->venues) {
    if (v.id.str() == options.venue) venue = &v;
    names += (names.empty() ? "" : ", ") + v.id.str();
  }
  if (venue == nullptr)
    return fail(2, "--venue " + options.venue + ": not in " + config_path + " (" + names + ")");
  if (!venue->binance)
    return fail(2, venue->id.str() +
                       " has no [venue.binance]: a recording hears a live venue through its own "
                       "gateway (docs/config.md)");
  DurationNs duration_ns = 0;
  if (!options.duration.empty()) {
    auto d = parse_duration(options.duration);
    if (!d) return fail(2, "--duration: " + d.error().message);
    if (*d <= 0) return fail(2, "--duration must be positive: " + options.duration);
    duration_ns = *d;
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(options.out_dir, ec))
    return fail(2, "--out " + options.out_dir + ": not a directory");

  const TimestampNs started_ns = gateway::LiveMarket::wall_clock();
  std::vector<std::unique_ptr<md::RecordingWriter>> files;
  for (const VenueListing& l : venue->listings) {
    const std::string path = (std::filesystem::path(options.out_dir) /
                              (venue->id.str() + "-" + gateway::binance::stream_symbol(l.symbol) + "-" +
                               file_stamp(started_ns) + ".gz"))
                                 .string();
    auto w = md::RecordingWriter::create(path);
    if (!w) return fail(1, w.error().message);
    files.push_back(std::move(w).value());
  }
  Recorder recorder(std::move(files));

  install_stop_handlers();
  gateway::NetworkThread network;
  auto market = gateway::BinanceMarket::start(*venue, network);
  if (!market) {
    (void)recorder.close();
    return fail(1, market.error().message);
  }
  gateway::BinanceMarket& m = *market.value();
  m.set_tap(&recorder);
  err << "tranche md record: " << venue->id.str() << " from " << venue->binance->stream_url << " into "
      << options.out_dir
      << (duration_ns > 0 ? " for " + options.duration : std::string(" until SIGINT or SIGTERM")) << "\n";

  const TimestampNs end_ns = duration_ns > 0 ? started_ns + duration_ns : 0;
  while (stop_signal().load() == 0 && recorder.failed().empty()) {
    const TimestampNs now = gateway::LiveMarket::wall_clock();
    if (end_ns != 0 && now >= end_ns) break;
    const std::size_t taken = m.poll(now, recorder);
    for (const std::string& n : m.take_notes()) err << "tranche md record: " << n << "\n";
    if (taken == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const int signal = stop_signal().load();
  // What arrived before the end is kept: one last poll, then the stream is closed.
  m.poll(gateway::LiveMarket::wall_clock(), recorder);
  m.stop();
  const Status closed = recorder.close();
  const double seconds = static_cast<double>(gateway::LiveMarket::wall_clock() - started_ns) / 1e9;
  if (signal != 0)
    err << "tranche md record: " << (signal == SIGTERM ? "SIGTERM" : "SIGINT") << ": stopped\n";

  const gateway::BinanceMarketStats& stats = m.stats();
  ordered_json j;
  j["venue"] = venue->id.str();
  j["seconds"] = seconds;
  j["files"] = ordered_json::array();
  for (std::size_t i = 0; i < venue->listings.size(); ++i) {
    const ListingCounts& c = recorder.counts(i);
    const md::RecordingWriter& f = recorder.file(i);
    ordered_json fj;
    fj["instrument"] = venue->listings[i].instrument.str();
    fj["symbol"] = venue->listings[i].symbol;
    fj["path"] = f.path();
    fj["lines"] = f.lines();
    fj["bytes"] = f.bytes();
    fj["snapshots"] = c.snapshots;
    fj["depth_diffs"] = c.diffs;
    fj["book_tickers"] = c.quotes;
    fj["trades"] = c.trades;
    fj["other"] = c.other;
    j["files"].push_back(fj);
  }
  j["gaps"] = recorder.gaps();
  j["connects"] = stats.connects;
  j["disconnects"] = stats.disconnects;
  j["snapshots_failed"] = stats.snapshots_failed;
  j["bad_messages"] = stats.bad_messages;
  j["dropped"] = stats.dropped;
  if (!closed.ok()) j["error"] = closed.message();
  if (options.json) {
    out << j.dump(2) << "\n";
  } else {
    for (const auto& fj : j["files"]) {
      out << fj["path"].get<std::string>() << ": " << fj["lines"] << " lines of "
          << fj["symbol"].get<std::string>() << " (" << fj["snapshots"] << " snapshots, " << fj["depth_diffs"]
          << " depth diffs, " << fj["book_tickers"] << " bookTickers, " << fj["trades"] << " trades)\n";
    }
    out << "over " << seconds << " s; " << stats.connects << " connections, " << stats.disconnects
        << " drops, " << recorder.gaps() << " gaps re-synced\n";
    out << "replay it: put the file in `files = [...]` of " << venue->id.str()
        << "'s [[venue.listing]] in a config, then `tranche md stats FILE` or `tranche sim run --config "
           "...`\n";
  }
  if (!closed.ok()) return fail(1, closed.message());
  return 0;
}

}  // namespace tranche::service
