#include "md/binance_reader.hpp"

#include <simdjson.h>

#include <charconv>
#include <cstring>
#include <deque>
#include <map>

#include "md/binance_json.hpp"
#include "md/line_reader.hpp"

namespace tranche::md {
namespace {

namespace od = simdjson::ondemand;
using binance_json::read_decimal;
using binance_json::read_levels;
using binance_json::read_u64;

constexpr std::size_t kMaxPendingDiffs = 200'000;

enum class Market : std::uint8_t { Unknown, Spot, UsdM, CoinM };

const char* venue_name(Market market) {
  switch (market) {
    case Market::Spot:
      return "binance-spot";
    case Market::UsdM:
      return "binance-usdm";
    case Market::CoinM:
      return "binance-coinm";
    case Market::Unknown:
      break;
  }
  return "binance";
}

// A depth diff waiting for a snapshot, with the previous update id (futures `pu`) its continuity is checked
// by.
struct PendingDiff {
  OwnedEvent diff;
  std::uint64_t prev_u = 0;
};

struct StreamState {
  std::uint16_t id = 0;
  bool futures = false;
  bool synced = false;  // a snapshot has been applied and no gap seen since
  bool ever_synced = false;
  // The next diff newer than the snapshot is applied without a continuity check.
  bool first_after_snapshot = false;
  std::uint64_t last_u = 0;
  std::deque<PendingDiff> pending;  // diffs waiting for a snapshot
  std::uint64_t dropped_pending = 0;
};

class BinanceReader final : public EventReader {
 public:
  explicit BinanceReader(std::vector<std::string> files) : files_(std::move(files)) {}

  std::string format() const override { return "binance"; }

  bool next(Event& out) override {
    for (;;) {
      if (!queue_.empty()) {
        held_ = std::move(queue_.front());
        queue_.pop_front();
        held_.relink();
        out = held_.event;
        return true;
      }
      if (!line_open_ && !open_next_file()) {
        finish();
        return false;
      }
      std::string_view line;
      if (!lines_.next(line)) {
        if (!lines_.error().empty()) report_error(lines_.path(), lines_.line_number(), lines_.error());
        line_open_ = false;
        continue;
      }
      ++lines_read_;
      if (line.empty()) continue;
      if (decode_line(line, out)) return true;
    }
  }

 private:
  bool open_next_file() {
    while (file_index_ < files_.size()) {
      const std::string& path = files_[file_index_++];
      Status opened = lines_.open(path);
      if (!opened.ok()) {
        report_error(path, 0, opened.message());
        continue;
      }
      line_open_ = true;
      file_market_ = Market::Unknown;
      file_depth_stream_ = nullptr;
      symbol_.clear();
      snapshot_symbol_.clear();
      return true;
    }
    return false;
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    for (auto& [key, state] : states_) {
      const std::string& name = streams_[state.id].name();
      if (!state.ever_synced && (!state.pending.empty() || state.dropped_pending > 0))
        notes_.push_back(name + ": no snapshot in the input: " +
                         std::to_string(state.pending.size() + state.dropped_pending) +
                         " depth diffs could not be applied (give the file with the snapshot first)");
      else if (!state.pending.empty())
        notes_.push_back(name + ": " + std::to_string(state.pending.size()) +
                         " depth diffs after a gap never got a new snapshot and were not applied");
    }
  }

  void error(std::string message) { report_error(lines_.path(), lines_.line_number(), std::move(message)); }

  StreamState& stream_for(Market market, std::string_view symbol) {
    std::string key = std::string(venue_name(market)) + ":" + std::string(symbol);
    auto it = states_.find(key);
    if (it != states_.end()) return it->second;
    StreamState state;
    state.id = add_stream(StreamInfo{venue_name(market), std::string(symbol)});
    state.futures = market == Market::UsdM || market == Market::CoinM;
    return states_.emplace(std::move(key), std::move(state)).first->second;
  }

  static Market detect_market(std::string_view line, std::string_view symbol) {
    const bool futures = line.find("\"pu\":") != std::string_view::npos ||
                         line.find("\"X\":") != std::string_view::npos ||
                         line.find("\"e\":\"bookTicker\"") != std::string_view::npos ||
                         line.find("@markPrice") != std::string_view::npos;
    if (!futures) {
      // Spot depth streams are @depth@100ms / @depth; spot trades carry "M", spot bookTicker has no "e".
      const bool spot_evidence = line.find("@depth@100ms") != std::string_view::npos ||
                                 line.find("\"M\":") != std::string_view::npos ||
                                 (line.find("@bookTicker") != std::string_view::npos);
      if (!spot_evidence) return Market::Unknown;
      return Market::Spot;
    }
    return symbol.find('_') != std::string_view::npos ? Market::CoinM : Market::UsdM;
  }

  bool decode_line(std::string_view line, Event& out) {
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0) {
      error("expected '<receive timestamp> <json>'");
      return false;
    }
    std::int64_t ts = 0;
    auto [ptr, ec] = std::from_chars(line.data(), line.data() + space, ts);
    if (ec != std::errc() || ptr != line.data() + space || ts <= 0) {
      error("bad receive timestamp '" + std::string(line.substr(0, space)) + "'");
      return false;
    }
    // 19 digits: nanoseconds; 16: microseconds; 13: milliseconds.
    const std::size_t digits = space;
    TimestampNs recv_ns = ts;
    if (digits < 18 && __builtin_mul_overflow(ts, digits >= 15 ? 1000 : 1'000'000, &recv_ns)) {
      error("receive timestamp '" + std::string(line.substr(0, space)) + "' is too large for nanoseconds");
      return false;
    }
    const std::string_view json = line.substr(space + 1);

    od::document doc;
    const simdjson::padded_string_view padded(json.data(), json.size(),
                                              json.size() + lines_.readable_after(line) - 0);
    if (parser_.iterate(padded).get(doc)) {
      error("not JSON");
      return false;
    }
    od::object root;
    if (doc.get_object().get(root)) {
      error("not a JSON object");
      return false;
    }
    std::string_view stream;
    bool is_snapshot = false;
    for (auto field : root) {
      std::string_view key;
      if (field.unescaped_key().get(key)) {
        error("bad JSON key");
        return false;
      }
      if (key == "stream") {
        if (field.value().get_string().get(stream)) {
          error("stream is not a string");
          return false;
        }
        stream = copy_stream_name(stream);
      } else if (key == "data") {
        if (stream.empty()) {
          error("data before stream");
          return false;
        }
        od::value data;
        if (field.value().get(data)) {
          error("bad data");
          return false;
        }
        return decode_stream_message(line, stream, data, recv_ns, out);
      } else if (key == "lastUpdateId") {
        is_snapshot = true;
        break;
      } else {
        error("unexpected key '" + std::string(key) +
              "' (expected a combined-stream envelope or a snapshot)");
        return false;
      }
    }
    if (is_snapshot) return decode_snapshot(padded, recv_ns, out);
    error("line has no data");
    return false;
  }

  std::string_view copy_stream_name(std::string_view name) {
    stream_name_.assign(name);
    return stream_name_;
  }

  bool decode_stream_message(std::string_view line, std::string_view stream, od::value data,
                             TimestampNs recv_ns, Event& out) {
    const std::size_t at = stream.find('@');
    if (at == std::string_view::npos || at == 0) {
      error("stream name '" + std::string(stream) + "' has no '@'");
      return false;
    }
    symbol_.assign(stream.substr(0, at));
    for (char& c : symbol_) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const std::string_view kind = stream.substr(at + 1);

    if (kind.starts_with("markPrice")) {
      ++skipped_["markPrice"];
      return false;
    }
    const bool is_depth = kind.starts_with("depth");
    const bool is_ticker = kind == "bookTicker";
    const bool is_trade = kind == "trade";
    if (!is_depth && !is_ticker && !is_trade) {
      ++skipped_[std::string(kind)];
      return false;
    }
    if (file_market_ == Market::Unknown) file_market_ = detect_market(line, symbol_);
    Market market = file_market_;
    if (market == Market::Unknown) market = Market::Spot;
    StreamState& state = stream_for(market, symbol_);
    if (is_depth) file_depth_stream_ = &state;

    od::object object;
    if (data.get_object().get(object)) {
      error("data is not an object");
      return false;
    }
    Event event;
    event.stream = state.id;
    event.recv_ns = recv_ns;
    std::uint64_t first = 0, last = 0, prev = 0;
    bool has_prev = false, has_first = false, has_last = false, has_b = false, has_a = false;
    bool has_B = false, has_A = false, has_p = false, has_q = false, has_m = false;
    bool maker_is_buyer = false;
    std::int64_t event_ms = 0, trade_ms = 0;
    bids_.clear();
    asks_.clear();
    for (auto field : object) {
      std::string_view key;
      if (field.unescaped_key().get(key)) {
        error("bad key in data");
        return false;
      }
      od::value v;
      if (field.value().get(v)) {
        error("bad value in data");
        return false;
      }
      bool ok = true;
      if (key.size() != 1 && key != "pu") continue;  // "ps" and other long keys we do not use
      switch (key[0]) {
        case 'E':
          ok = !v.get_int64().get(event_ms) && millis_in_range(event_ms);
          break;
        case 'T':
          ok = !v.get_int64().get(trade_ms) && millis_in_range(trade_ms);
          break;
        case 'U':
          ok = read_u64(v, first), has_first = true;
          break;
        case 'u':
          ok = read_u64(v, last), has_last = true;
          break;
        case 't':
          ok = read_u64(v, last), has_last = true;
          break;
        case 'p':
          if (key == "pu") {
            ok = read_u64(v, prev);
            has_prev = true;
          } else {
            ok = read_decimal(v, event.price);
            has_p = true;
          }
          break;
        case 'q':
          ok = read_decimal(v, event.qty), has_q = true;
          break;
        case 'm':
          ok = !v.get_bool().get(maker_is_buyer), has_m = true;
          break;
        case 'b':
          if (is_depth) {
            ok = read_levels(v, bids_);
          } else {
            ok = read_decimal(v, event.price);
          }
          has_b = true;
          break;
        case 'a':
          if (is_depth) {
            ok = read_levels(v, asks_);
          } else {
            ok = read_decimal(v, event.price2);
          }
          has_a = true;
          break;
        case 'B':
          ok = read_decimal(v, event.qty), has_B = true;
          break;
        case 'A':
          ok = read_decimal(v, event.qty2), has_A = true;
          break;
        default:
          break;
      }
      if (!ok) {
        error("bad value for '" + std::string(key) + "' in " + std::string(kind));
        return false;
      }
    }
    event.exch_ns = (event_ms != 0 ? event_ms : trade_ms) * kNanosPerMilli;

    if (is_ticker) {
      if (!has_last || !has_b || !has_a || !has_B || !has_A) {
        error("bookTicker without u, b, B, a and A");
        return false;
      }
      event.kind = EventKind::Quote;
      event.last_seq = last;
      out = event;
      return true;
    }
    if (is_trade) {
      if (!has_last || !has_p || !has_q || !has_m || !event.price.is_positive() || !event.qty.is_positive()) {
        error("trade without t, p, q and m, or with a non-positive price or quantity");
        return false;
      }
      event.kind = EventKind::Trade;
      event.last_seq = last;
      // m: the buyer was the maker, so the aggressor sold.
      event.side = maker_is_buyer ? Side::Sell : Side::Buy;
      out = event;
      return true;
    }
    if (!has_first || !has_last || (!has_b && !has_a) || first > last || (state.futures && !has_prev)) {
      error(state.futures ? "depth diff without U, u, pu and levels" : "depth diff without U, u and levels");
      return false;
    }
    event.kind = EventKind::BookDelta;
    event.first_seq = first;
    event.last_seq = last;
    return accept_diff(state, event, prev, out);
  }

  // Keeps a fresh diff (levels in bids_/asks_) until a snapshot makes it applicable.
  void buffer_diff(StreamState& state, const Event& event, std::uint64_t prev_u) {
    PendingDiff pending;
    pending.diff.event = event;
    pending.diff.bids = bids_;
    pending.diff.asks = asks_;
    pending.prev_u = prev_u;
    state.pending.push_back(std::move(pending));
    if (state.pending.size() > kMaxPendingDiffs) {
      state.pending.pop_front();
      ++state.dropped_pending;
    }
  }

  // Applies the sequencing rule to a fresh diff held in bids_/asks_.
  bool accept_diff(StreamState& state, Event& event, std::uint64_t prev_u, Event& out) {
    if (!state.synced) {
      buffer_diff(state, event, prev_u);
      return false;
    }
    if (state.first_after_snapshot) {
      if (event.last_seq <= state.last_u) {
        ++skipped_["depth diff older than its snapshot"];
        return false;
      }
      state.first_after_snapshot = false;
    } else if (!continues(state, event.first_seq, prev_u)) {
      emit_gap(state, event, prev_u, out);
      // The diff that broke the sequence waits with any later ones for a new snapshot.
      buffer_diff(state, event, prev_u);
      return true;
    }
    state.last_u = event.last_seq;
    event.bids = {bids_.data(), bids_.size()};
    event.asks = {asks_.data(), asks_.size()};
    out = event;
    return true;
  }

  bool continues(const StreamState& state, std::uint64_t first, std::uint64_t prev) const {
    return state.futures ? prev == state.last_u : first == state.last_u + 1;
  }

  void emit_gap(StreamState& state, const Event& breaking, std::uint64_t prev_u, Event& out) {
    // Spot: U should have been the previous u + 1. Futures: pu should have been the previous u.
    const std::uint64_t expected = state.futures ? state.last_u : state.last_u + 1;
    const std::uint64_t received = state.futures ? prev_u : breaking.first_seq;
    gaps_.push_back({lines_.path(), lines_.line_number(), state.id, expected, received});
    state.synced = false;
    Event gap;
    gap.kind = EventKind::Gap;
    gap.stream = state.id;
    gap.recv_ns = breaking.recv_ns;
    gap.exch_ns = breaking.exch_ns;
    gap.first_seq = expected;
    gap.last_seq = received;
    out = gap;
  }

  bool decode_snapshot(const simdjson::padded_string_view& padded, TimestampNs recv_ns, Event& out) {
    od::document doc;
    if (parser_.iterate(padded).get(doc)) {
      error("not JSON");
      return false;
    }
    od::object root;
    if (doc.get_object().get(root)) {
      error("snapshot is not an object");
      return false;
    }
    std::uint64_t last_update_id = 0;
    std::int64_t event_ms = 0;
    bool has_id = false, has_bids = false, has_asks = false;
    std::string_view symbol;
    bids_.clear();
    asks_.clear();
    for (auto field : root) {
      std::string_view key;
      if (field.unescaped_key().get(key)) {
        error("bad key in snapshot");
        return false;
      }
      od::value v;
      if (field.value().get(v)) {
        error("bad value in snapshot");
        return false;
      }
      bool ok = true;
      if (key == "lastUpdateId") {
        ok = read_u64(v, last_update_id);
        has_id = true;
      } else if (key == "E") {
        ok = !v.get_int64().get(event_ms) && millis_in_range(event_ms);
      } else if (key == "symbol") {
        ok = !v.get_string().get(symbol);
        if (ok) snapshot_symbol_.assign(symbol);
      } else if (key == "bids") {
        ok = read_levels(v, bids_);
        has_bids = true;
      } else if (key == "asks") {
        ok = read_levels(v, asks_);
        has_asks = true;
      }
      if (!ok) {
        error("bad '" + std::string(key) + "' in snapshot");
        return false;
      }
    }
    if (!has_id || !has_bids || !has_asks) {
      error("snapshot without lastUpdateId, bids and asks");
      return false;
    }
    StreamState* state = file_depth_stream_;
    // A snapshot carries no stream name: it belongs to the file's depth stream, or, when it comes before any
    // diff, to the symbol the file's other lines name (futures snapshots also name it themselves).
    if (state == nullptr && file_market_ != Market::Unknown) {
      const std::string& symbol = !snapshot_symbol_.empty() ? snapshot_symbol_ : symbol_;
      if (!symbol.empty()) state = &stream_for(file_market_, symbol);
    }
    if (state == nullptr) {
      error("snapshot before any depth stream line in this file: cannot tell which stream it belongs to");
      return false;
    }
    if (state->synced && last_update_id < state->last_u) {
      notes_.push_back(streams_[state->id].name() + ": a snapshot older than the applied diffs was ignored");
      return false;
    }
    Event snapshot;
    snapshot.kind = EventKind::BookSnapshot;
    snapshot.stream = state->id;
    snapshot.recv_ns = recv_ns;
    snapshot.exch_ns = event_ms * kNanosPerMilli;
    snapshot.last_seq = last_update_id;
    snapshot.bids = {bids_.data(), bids_.size()};
    snapshot.asks = {asks_.data(), asks_.size()};
    state->synced = true;
    state->ever_synced = true;
    state->first_after_snapshot = true;
    state->last_u = last_update_id;

    // Replay what was buffered: drop what the snapshot already holds, apply the first remaining diff without
    // a continuity check, then check every later one.
    while (!state->pending.empty()) {
      PendingDiff pending = std::move(state->pending.front());
      state->pending.pop_front();
      OwnedEvent& diff = pending.diff;
      if (diff.event.last_seq <= last_update_id) {
        ++skipped_["depth diff older than its snapshot"];
        continue;
      }
      if (!state->first_after_snapshot && !continues(*state, diff.event.first_seq, pending.prev_u)) {
        Event gap;
        emit_gap(*state, diff.event, pending.prev_u, gap);
        queue_.emplace_back(gap);
        state->pending.push_front(std::move(pending));
        break;
      }
      state->first_after_snapshot = false;
      state->last_u = diff.event.last_seq;
      diff.event.recv_ns = recv_ns;
      diff.event.flags |= kFlagReplayedAfterSnapshot;
      diff.relink();
      queue_.push_back(std::move(diff));
    }
    out = snapshot;
    return true;
  }

  std::vector<std::string> files_;
  std::size_t file_index_ = 0;
  LineReader lines_;
  bool line_open_ = false;
  bool finished_ = false;
  Market file_market_ = Market::Unknown;
  StreamState* file_depth_stream_ = nullptr;
  std::map<std::string, StreamState> states_;
  od::parser parser_;
  std::vector<Level> bids_;
  std::vector<Level> asks_;
  std::string symbol_;
  std::string stream_name_;
  std::string snapshot_symbol_;
  std::deque<OwnedEvent> queue_;
  OwnedEvent held_;
};

}  // namespace

std::unique_ptr<EventReader> make_binance_reader(const std::vector<std::string>& files) {
  return std::make_unique<BinanceReader>(files);
}

bool looks_like_binance(std::string_view first_line) {
  const std::size_t space = first_line.find(' ');
  if (space == std::string_view::npos || space < 10) return false;
  for (std::size_t i = 0; i < space; ++i)
    if (first_line[i] < '0' || first_line[i] > '9') return false;
  return first_line.substr(space + 1).starts_with("{");
}

}  // namespace tranche::md
