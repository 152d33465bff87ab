#include "md/tardis_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <map>
#include <utility>

#include "md/line_reader.hpp"

namespace tranche::md {

namespace {

enum class FileType : std::uint8_t { Unknown, IncrementalBookL2, BookSnapshotN, Trades, Quotes };

constexpr int kNoColumn = -1;
// Deeper than any Tardis book_snapshot type (25 is the deepest published); guards the header parser.
constexpr std::size_t kMaxSnapshotDepth = 1000;

struct LevelColumns {
  int price = kNoColumn;
  int amount = kNoColumn;
};

// Where each column of a file is, from its header.
struct Layout {
  FileType type = FileType::Unknown;
  std::size_t columns = 0;
  int exchange = kNoColumn;
  int symbol = kNoColumn;
  int timestamp = kNoColumn;
  int local_timestamp = kNoColumn;
  int is_snapshot = kNoColumn;  // incremental_book_L2
  int id = kNoColumn;           // trades
  int side = kNoColumn;         // incremental_book_L2, trades
  int price = kNoColumn;
  int amount = kNoColumn;
  int ask_amount = kNoColumn;  // quotes
  int ask_price = kNoColumn;
  int bid_price = kNoColumn;
  int bid_amount = kNoColumn;
  std::vector<LevelColumns> asks;  // book_snapshot_N, level 0 first
  std::vector<LevelColumns> bids;
};

// Splits a comma-separated line into `fields` (no quoting: Tardis never quotes).
void split_csv(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  std::size_t begin = 0;
  for (;;) {
    const void* comma = std::memchr(line.data() + begin, ',', line.size() - begin);
    if (comma == nullptr) {
      fields.push_back(line.substr(begin));
      return;
    }
    const std::size_t end = static_cast<std::size_t>(static_cast<const char*>(comma) - line.data());
    fields.push_back(line.substr(begin, end - begin));
    begin = end + 1;
  }
}

// "asks[12].price" -> side 'a', depth 12, is_price true.
bool parse_level_column(std::string_view name, bool& is_ask, std::size_t& depth, bool& is_price) {
  if (name.starts_with("asks[")) {
    is_ask = true;
  } else if (name.starts_with("bids[")) {
    is_ask = false;
  } else {
    return false;
  }
  name.remove_prefix(5);
  const char* end = name.data() + name.size();
  const auto [rest, ec] = std::from_chars(name.data(), end, depth);
  if (ec != std::errc{} || rest == name.data() || depth >= kMaxSnapshotDepth) return false;
  const std::string_view suffix(rest, static_cast<std::size_t>(end - rest));
  if (suffix == "].price") {
    is_price = true;
  } else if (suffix == "].amount") {
    is_price = false;
  } else {
    return false;
  }
  return true;
}

// Assigns a column index to `slot`; false when the name came twice.
bool claim(int& slot, int index) {
  if (slot != kNoColumn) return false;
  slot = index;
  return true;
}

bool complete_levels(const std::vector<LevelColumns>& levels) {
  return std::all_of(levels.begin(), levels.end(),
                     [](const LevelColumns& c) { return c.price != kNoColumn && c.amount != kNoColumn; });
}

// Reads a header into a Layout; type Unknown unless the columns are exactly those of one of the four types.
Layout parse_header(std::string_view header) {
  static constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (header.starts_with(kBom)) header.remove_prefix(kBom.size());
  Layout layout;
  Layout unknown;
  std::vector<std::string_view> names;
  split_csv(header, names);
  layout.columns = names.size();
  bool other = false;  // a column that belongs to no single-level type (book_snapshot_N levels)
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string_view name = names[i];
    const int index = static_cast<int>(i);
    int* slot = nullptr;
    if (name == "exchange")
      slot = &layout.exchange;
    else if (name == "symbol")
      slot = &layout.symbol;
    else if (name == "timestamp")
      slot = &layout.timestamp;
    else if (name == "local_timestamp")
      slot = &layout.local_timestamp;
    else if (name == "is_snapshot")
      slot = &layout.is_snapshot;
    else if (name == "id")
      slot = &layout.id;
    else if (name == "side")
      slot = &layout.side;
    else if (name == "price")
      slot = &layout.price;
    else if (name == "amount")
      slot = &layout.amount;
    else if (name == "ask_amount")
      slot = &layout.ask_amount;
    else if (name == "ask_price")
      slot = &layout.ask_price;
    else if (name == "bid_price")
      slot = &layout.bid_price;
    else if (name == "bid_amount")
      slot = &layout.bid_amount;
    if (slot != nullptr) {
      if (!claim(*slot, index)) return unknown;
      continue;
    }
    bool is_ask = false;
    bool is_price = false;
    std::size_t depth = 0;
    if (!parse_level_column(name, is_ask, depth, is_price)) return unknown;
    auto& levels = is_ask ? layout.asks : layout.bids;
    if (levels.size() <= depth) levels.resize(depth + 1);
    if (!claim(is_price ? levels[depth].price : levels[depth].amount, index)) return unknown;
    other = true;
  }
  if (layout.exchange == kNoColumn || layout.symbol == kNoColumn || layout.timestamp == kNoColumn ||
      layout.local_timestamp == kNoColumn)
    return unknown;
  // Columns present beyond the four common ones decide the type; any mix of two types is unknown.
  const bool has_side_price_amount =
      layout.side != kNoColumn && layout.price != kNoColumn && layout.amount != kNoColumn;
  const int quote_columns = (layout.ask_amount != kNoColumn) + (layout.ask_price != kNoColumn) +
                            (layout.bid_price != kNoColumn) + (layout.bid_amount != kNoColumn);
  const std::size_t expected_single = 4 + 4;
  if (!other && quote_columns == 0 && has_side_price_amount && layout.columns == expected_single) {
    if (layout.is_snapshot != kNoColumn) layout.type = FileType::IncrementalBookL2;
    if (layout.id != kNoColumn) layout.type = FileType::Trades;
  } else if (!other && quote_columns == 4 && layout.columns == expected_single) {
    layout.type = FileType::Quotes;
  } else if (other && layout.columns == 4 + 2 * (layout.asks.size() + layout.bids.size()) &&
             complete_levels(layout.asks) && complete_levels(layout.bids)) {
    layout.type = FileType::BookSnapshotN;
  }
  return layout.type == FileType::Unknown ? unknown : layout;
}

bool parse_micros_as_ns(std::string_view text, TimestampNs& out) {
  std::int64_t micros = 0;
  const char* end = text.data() + text.size();
  const auto [rest, ec] = std::from_chars(text.data(), end, micros);
  if (ec != std::errc{} || rest != end || text.empty() || micros < 0) return false;
  return !__builtin_mul_overflow(micros, kNanosPerMicro, &out);
}

bool parse_u64(std::string_view text, std::uint64_t& out) {
  const char* end = text.data() + text.size();
  const auto [rest, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && rest == end && !text.empty();
}

bool best_first(bool bids, const Level& a, const Level& b) {
  return bids ? a.price > b.price : a.price < b.price;
}

class TardisReader final : public EventReader {
 public:
  explicit TardisReader(std::vector<std::string> files) : files_(std::move(files)) {}

  bool next(Event& out) override;
  std::string format() const override { return "tardis"; }

 private:
  // An incremental_book_L2 group being buffered until a row with another key arrives.
  struct Group {
    bool active = false;
    bool is_snapshot = false;
    std::uint16_t stream = 0;
    TimestampNs recv_ns = 0;
    TimestampNs exch_ns = 0;
    std::vector<Level> bids;
    std::vector<Level> asks;
  };

  // Opens the next file and reads its header; false when no file is left.
  bool open_next_file();
  // Decodes one data row; true when it filled `out`.
  bool decode_row(std::string_view line, Event& out);
  bool decode_incremental(std::uint16_t stream, TimestampNs recv_ns, TimestampNs exch_ns, Event& out);
  bool decode_snapshot(Event& out);
  bool decode_trade(std::uint16_t stream, Event& out);
  bool decode_quote(Event& out);
  // Emits the buffered incremental group into `out`; false when there was none.
  bool flush_group(Event& out);
  // Stream id of (exchange, symbol), added on first sight; false when the table is full.
  bool stream_for(std::string_view exchange, std::string_view symbol, std::uint16_t& stream);

  bool parse_price(int column, Price& value);
  bool parse_qty(int column, Qty& value);
  // A (price, amount) pair of cells: both empty -> `present` false; one empty or unparsable -> error.
  bool parse_optional_level(int price_column, int amount_column, Price& price, Qty& qty, bool& present);
  void row_error(std::string message) {
    report_error(lines_.path(), lines_.line_number(), std::move(message));
  }
  std::string cell_text(int column) const {
    return std::string("column '") + std::string(column_names_[static_cast<std::size_t>(column)]) + "': '" +
           std::string(fields_[static_cast<std::size_t>(column)]) + "'";
  }

  std::vector<std::string> files_;
  std::size_t next_file_ = 0;
  bool file_open_ = false;
  LineReader lines_;
  Layout layout_;
  std::string header_;  // owns the text column_names_ views
  std::vector<std::string_view> column_names_;
  std::vector<std::string_view> fields_;

  std::map<std::string, std::uint16_t, std::less<>> stream_ids_;  // "exchange,symbol" -> id
  std::string stream_key_;
  int last_stream_ = -1;
  std::vector<std::uint8_t> in_snapshot_;  // per stream: its last emitted incremental group was a snapshot
  std::vector<std::uint64_t> trade_ordinals_;  // per stream: trade rows read

  Group group_;
  std::vector<Level> out_bids_;  // what the last event's spans point into
  std::vector<Level> out_asks_;
};

bool TardisReader::open_next_file() {
  while (next_file_ < files_.size()) {
    const std::string& path = files_[next_file_++];
    if (const Status opened = lines_.open(path); !opened.ok()) {
      report_error(path, 0, opened.message());
      continue;
    }
    std::string_view header;
    if (!lines_.next(header)) {
      report_error(path, 0, lines_.error().empty() ? "empty file: no header" : lines_.error());
      lines_.close();
      continue;
    }
    ++lines_read_;
    layout_ = parse_header(header);
    if (layout_.type == FileType::Unknown) {
      report_error(path, 1,
                   "not a Tardis incremental_book_L2, book_snapshot_N, trades or quotes header: '" +
                       std::string(header.substr(0, 200)) + "'");
      lines_.close();
      continue;
    }
    header_.assign(header);
    split_csv(header_, column_names_);
    // A snapshot starts each file afresh: Tardis files each open with their own snapshot.
    std::fill(in_snapshot_.begin(), in_snapshot_.end(), 0);
    file_open_ = true;
    return true;
  }
  return false;
}

bool TardisReader::next(Event& out) {
  for (;;) {
    if (!file_open_ && !open_next_file()) return false;
    std::string_view line;
    if (!lines_.next(line)) {
      if (!lines_.error().empty()) report_error(lines_.path(), lines_.line_number(), lines_.error());
      lines_.close();
      file_open_ = false;
      if (flush_group(out)) return true;  // a group never spans two files
      continue;
    }
    ++lines_read_;
    if (line.empty()) {
      ++skipped_["blank line"];
      continue;
    }
    if (decode_row(line, out)) return true;
  }
}

bool TardisReader::decode_row(std::string_view line, Event& out) {
  split_csv(line, fields_);
  if (fields_.size() != layout_.columns) {
    row_error("expected " + std::to_string(layout_.columns) + " columns, found " +
              std::to_string(fields_.size()));
    return false;
  }
  const auto field = [this](int column) { return fields_[static_cast<std::size_t>(column)]; };
  TimestampNs recv_ns = 0;
  TimestampNs exch_ns = 0;
  if (!parse_micros_as_ns(field(layout_.local_timestamp), recv_ns)) {
    row_error("bad timestamp in " + cell_text(layout_.local_timestamp));
    return false;
  }
  if (!parse_micros_as_ns(field(layout_.timestamp), exch_ns)) {
    row_error("bad timestamp in " + cell_text(layout_.timestamp));
    return false;
  }
  std::uint16_t stream = 0;
  if (!stream_for(field(layout_.exchange), field(layout_.symbol), stream)) return false;

  if (layout_.type == FileType::IncrementalBookL2) return decode_incremental(stream, recv_ns, exch_ns, out);
  out = Event{};
  out.flags = kFlagLastInEvent;
  out.stream = stream;
  out.recv_ns = recv_ns;
  out.exch_ns = exch_ns;
  switch (layout_.type) {
    case FileType::BookSnapshotN:
      return decode_snapshot(out);
    case FileType::Trades:
      return decode_trade(stream, out);
    case FileType::Quotes:
      return decode_quote(out);
    default:
      return false;
  }
}

bool TardisReader::stream_for(std::string_view exchange, std::string_view symbol, std::uint16_t& stream) {
  if (last_stream_ >= 0) {
    const StreamInfo& last = streams_[static_cast<std::size_t>(last_stream_)];
    if (last.venue == exchange && last.symbol == symbol) {
      stream = static_cast<std::uint16_t>(last_stream_);
      return true;
    }
  }
  if (exchange.empty() || symbol.empty()) {
    row_error("empty exchange or symbol");
    return false;
  }
  stream_key_.assign(exchange);
  stream_key_ += ',';
  stream_key_ += symbol;
  if (const auto it = stream_ids_.find(stream_key_); it != stream_ids_.end()) {
    stream = it->second;
  } else {
    if (streams_.size() > UINT16_MAX) {
      row_error("more than 65536 streams");
      return false;
    }
    stream = add_stream(StreamInfo{std::string(exchange), std::string(symbol)});
    stream_ids_.emplace(stream_key_, stream);
    in_snapshot_.push_back(0);
    trade_ordinals_.push_back(0);
  }
  last_stream_ = stream;
  return true;
}

bool TardisReader::parse_price(int column, Price& value) {
  if (Price::parse(fields_[static_cast<std::size_t>(column)], value)) return true;
  row_error("bad price in " + cell_text(column));
  return false;
}

bool TardisReader::parse_qty(int column, Qty& value) {
  if (Qty::parse(fields_[static_cast<std::size_t>(column)], value) && !value.is_negative()) return true;
  row_error("bad amount in " + cell_text(column));
  return false;
}

bool TardisReader::parse_optional_level(int price_column, int amount_column, Price& price, Qty& qty,
                                        bool& present) {
  const bool price_empty = fields_[static_cast<std::size_t>(price_column)].empty();
  const bool amount_empty = fields_[static_cast<std::size_t>(amount_column)].empty();
  if (price_empty && amount_empty) {
    present = false;
    price = Price::unset();
    qty = Qty::unset();
    return true;
  }
  present = true;
  if (price_empty || amount_empty) {
    row_error("price without amount or amount without price in " +
              cell_text(price_empty ? amount_column : price_column));
    return false;
  }
  return parse_price(price_column, price) && parse_qty(amount_column, qty);
}

bool TardisReader::decode_incremental(std::uint16_t stream, TimestampNs recv_ns, TimestampNs exch_ns,
                                      Event& out) {
  const std::string_view snapshot_text = fields_[static_cast<std::size_t>(layout_.is_snapshot)];
  bool is_snapshot = false;
  if (snapshot_text == "true") {
    is_snapshot = true;
  } else if (snapshot_text != "false") {
    row_error("bad is_snapshot in " + cell_text(layout_.is_snapshot));
    return false;
  }
  const std::string_view side = fields_[static_cast<std::size_t>(layout_.side)];
  if (side != "bid" && side != "ask") {
    row_error("bad side (bid or ask) in " + cell_text(layout_.side));
    return false;
  }
  Level level;
  if (!parse_price(layout_.price, level.price) || !parse_qty(layout_.amount, level.qty)) return false;

  // One key per group: the stream, is_snapshot, and for deltas the local timestamp (a snapshot run may span
  // several).
  const bool same_group = group_.active && group_.stream == stream && group_.is_snapshot == is_snapshot &&
                          (is_snapshot || group_.recv_ns == recv_ns);
  const bool emitted = !same_group && flush_group(out);
  if (!group_.active) {
    group_.active = true;
    group_.is_snapshot = is_snapshot;
    group_.stream = stream;
  }
  group_.recv_ns = recv_ns;
  group_.exch_ns = exch_ns;
  (side == "bid" ? group_.bids : group_.asks).push_back(level);
  return emitted;
}

bool TardisReader::flush_group(Event& out) {
  if (!group_.active) return false;
  const std::size_t stream = group_.stream;
  out = Event{};
  out.flags = kFlagLastInEvent;
  out.stream = group_.stream;
  out.recv_ns = group_.recv_ns;
  out.exch_ns = group_.exch_ns;
  if (group_.is_snapshot && in_snapshot_[stream] == 0) {
    out.kind = EventKind::BookSnapshot;
    const auto sort_side = [](std::vector<Level>& levels, bool bids) {
      const auto better = [bids](const Level& a, const Level& b) { return best_first(bids, a, b); };
      if (!std::is_sorted(levels.begin(), levels.end(), better))
        std::stable_sort(levels.begin(), levels.end(), better);
    };
    sort_side(group_.bids, true);
    sort_side(group_.asks, false);
  } else {
    out.kind =
        EventKind::BookDelta;  // a delta group, or the rest of a snapshot run another stream interrupted
  }
  in_snapshot_[stream] = group_.is_snapshot ? 1 : 0;
  std::swap(out_bids_, group_.bids);
  std::swap(out_asks_, group_.asks);
  group_.bids.clear();
  group_.asks.clear();
  group_.active = false;
  out.bids = {out_bids_.data(), out_bids_.size()};
  out.asks = {out_asks_.data(), out_asks_.size()};
  return true;
}

bool TardisReader::decode_snapshot(Event& out) {
  out.kind = EventKind::BookSnapshot;
  out_bids_.clear();
  out_asks_.clear();
  for (int pass = 0; pass < 2; ++pass) {
    const bool bids = pass == 0;
    const auto& columns = bids ? layout_.bids : layout_.asks;
    auto& levels = bids ? out_bids_ : out_asks_;
    for (const LevelColumns& c : columns) {
      Level level;
      bool present = false;
      if (!parse_optional_level(c.price, c.amount, level.price, level.qty, present)) return false;
      if (present) levels.push_back(level);
    }
  }
  out.bids = {out_bids_.data(), out_bids_.size()};
  out.asks = {out_asks_.data(), out_asks_.size()};
  return true;
}

bool TardisReader::decode_trade(std::uint16_t stream, Event& out) {
  out.kind = EventKind::Trade;
  const std::string_view side = fields_[static_cast<std::size_t>(layout_.side)];
  bool unknown_side = false;
  if (side == "buy") {
    out.side = Side::Buy;
  } else if (side == "sell") {
    out.side = Side::Sell;
  } else if (side == "unknown") {
    unknown_side = true;
  } else {
    row_error("bad side (buy, sell or unknown) in " + cell_text(layout_.side));
    return false;
  }
  if (!parse_price(layout_.price, out.price) || !parse_qty(layout_.amount, out.qty)) return false;
  const std::uint64_t ordinal = ++trade_ordinals_[stream];
  if (!parse_u64(fields_[static_cast<std::size_t>(layout_.id)], out.last_seq)) out.last_seq = ordinal;
  if (unknown_side) {
    ++skipped_["trade with unknown aggressor"];
    return false;
  }
  return true;
}

bool TardisReader::decode_quote(Event& out) {
  out.kind = EventKind::Quote;
  bool present = false;
  return parse_optional_level(layout_.bid_price, layout_.bid_amount, out.price, out.qty, present) &&
         parse_optional_level(layout_.ask_price, layout_.ask_amount, out.price2, out.qty2, present);
}

}  // namespace

bool looks_like_tardis(std::string_view header_line) {
  return parse_header(header_line).type != FileType::Unknown;
}

std::unique_ptr<EventReader> make_tardis_reader(const std::vector<std::string>& files) {
  return std::make_unique<TardisReader>(files);
}

}  // namespace tranche::md
