#include "gateway/binance_depth.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "md/binance_json.hpp"

namespace tranche::gateway {

namespace od = simdjson::ondemand;
using md::binance_json::read_decimal;
using md::binance_json::read_levels_checked;
using md::binance_json::ReadError;

static_assert(BinanceDepthSync::kJsonPadding >= simdjson::SIMDJSON_PADDING);

const char* to_string(DepthStatus status) {
  switch (status) {
    case DepthStatus::Applied:
      return "applied";
    case DepthStatus::Synced:
      return "synced";
    case DepthStatus::Buffered:
      return "buffered";
    case DepthStatus::Quote:
      return "quote";
    case DepthStatus::Trade:
      return "trade";
    case DepthStatus::Stale:
      return "stale";
    case DepthStatus::Ignored:
      return "ignored";
    case DepthStatus::Gap:
      return "gap";
    case DepthStatus::SnapshotTooOld:
      return "snapshot too old";
    case DepthStatus::Overflow:
      return "buffer overflow";
    case DepthStatus::TouchMismatch:
      return "bookTicker mismatch";
    case DepthStatus::Crossed:
      return "crossed book";
    case DepthStatus::Malformed:
      return "malformed";
    case DepthStatus::MissingField:
      return "missing field";
    case DepthStatus::BadNumber:
      return "bad number";
    case DepthStatus::BadIds:
      return "bad update ids";
    case DepthStatus::WrongSymbol:
      return "wrong symbol";
    case DepthStatus::OffTick:
      return "price off tick";
    case DepthStatus::TooLarge:
      return "message too large";
  }
  return "?";
}

bool is_error(DepthStatus status) {
  return status >= DepthStatus::Malformed;
}

bool requests_snapshot(DepthStatus status) {
  return status >= DepthStatus::Gap && status <= DepthStatus::Crossed;
}

// ---------------------------------------------------------------------------------------------------------
// Parsing: one pass over the message's fields (the envelope's and the payload's alike) into a Message, then
// the message is classified and checked.

struct BinanceDepthSync::Parser {
  explicit Parser(std::size_t max_bytes) : parser(max_bytes) {}
  od::parser parser;
  std::vector<md::Level> bids;
  std::vector<md::Level> asks;
};

struct detail::DepthMessage {
  enum Kind : std::uint8_t { Unknown, Depth, Ticker, Trade, Snapshot, Other };
  enum Has : std::uint32_t {
    kEventType = 1u << 0,    // e
    kEventTime = 1u << 1,    // E
    kSymbol = 1u << 2,       // s
    kFirstId = 1u << 3,      // U
    kLastId = 1u << 4,       // u
    kBidLevels = 1u << 5,    // b (diff) or bids (snapshot)
    kAskLevels = 1u << 6,    // a or asks
    kBidPrice = 1u << 7,     // b (bookTicker)
    kAskPrice = 1u << 8,     // a (bookTicker)
    kBidQty = 1u << 9,       // B
    kAskQty = 1u << 10,      // A
    kTradeId = 1u << 11,     // t
    kPrice = 1u << 12,       // p
    kQty = 1u << 13,         // q
    kTradeTime = 1u << 14,   // T
    kMaker = 1u << 15,       // m
    kSnapshotId = 1u << 16,  // lastUpdateId
    kPrevId = 1u << 17       // pu (futures)
  };
  bool has(std::uint32_t bits) const { return (fields & bits) == bits; }

  Kind stream_kind = Unknown;  // from the envelope's stream name
  Kind kind = Unknown;         // what it turned out to be
  std::uint32_t fields = 0;
  std::string_view event_type, symbol;
  std::int64_t event_ms = 0, trade_ms = 0;
  std::uint64_t first_id = 0, last_id = 0, prev_id = 0, trade_id = 0, snapshot_id = 0;
  Price bid, ask, price;
  Qty bid_qty, ask_qty, qty;
  bool maker_is_buyer = false;
  // When reading failed: the status and what about.
  DepthStatus error = DepthStatus::Malformed;
  const char* what = "";
  std::string_view key;
};

namespace {

using Message = detail::DepthMessage;

// A fixed-point value as text without allocating, for error details.
struct FixedText {
  char text[32];
};
template <class T>
FixedText text_of(T value) {
  FixedText out{};
  if (!value.is_set()) {
    std::snprintf(out.text, sizeof out.text, "unset");
    return out;
  }
  const std::int64_t raw = value.raw();
  const std::uint64_t magnitude =
      raw < 0 ? 0 - static_cast<std::uint64_t>(raw) : static_cast<std::uint64_t>(raw);
  const auto scale = static_cast<std::uint64_t>(kFixedScale);
  std::snprintf(out.text, sizeof out.text, "%s%llu.%08llu", raw < 0 ? "-" : "",
                static_cast<unsigned long long>(magnitude / scale),
                static_cast<unsigned long long>(magnitude % scale));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    const char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

// The kind of a stream by the part of its name after '@'.
Message::Kind stream_kind(std::string_view kind) {
  // Diff depth: "depth", "depth@100ms", "depth@1000ms". Partial depth ("depth5@100ms") is a top-N picture,
  // not a diff.
  if (kind == "depth" || kind.starts_with("depth@")) return Message::Depth;
  if (kind == "bookTicker") return Message::Ticker;
  if (kind == "trade") return Message::Trade;
  return Message::Other;
}

bool fail_read(Message& m, DepthStatus status, std::string_view key, const char* what) {
  m.error = status;
  m.key = key;
  m.what = what;
  return false;
}

// A decimal string: a string that is not a decimal, or a number where a string belongs, is a bad number; a
// broken document is malformed.
template <class T>
bool read_number(Message& m, od::value v, std::string_view key, T& out) {
  std::string_view text;
  const auto error = v.get_string().get(text);
  if (error == simdjson::INCORRECT_TYPE)
    return fail_read(m, DepthStatus::BadNumber, key, "not a decimal string");
  if (error) return fail_read(m, DepthStatus::Malformed, key, simdjson::error_message(error));
  if (!T::parse(text, out)) return fail_read(m, DepthStatus::BadNumber, key, "not a plain decimal");
  return true;
}

bool read_levels(Message& m, od::value v, std::string_view key, std::vector<md::Level>& out) {
  switch (read_levels_checked(v, out)) {
    case ReadError::None:
      return true;
    case ReadError::BadNumber:
      return fail_read(m, DepthStatus::BadNumber, key,
                       "a level's price is not a positive decimal or its quantity is negative");
    case ReadError::Malformed:
      break;
  }
  return fail_read(m, DepthStatus::Malformed, key, "not an array of [price, quantity] pairs");
}

bool read_id(Message& m, od::value v, std::string_view key, std::uint64_t& out) {
  if (v.get_uint64().get(out)) return fail_read(m, DepthStatus::Malformed, key, "not an unsigned integer");
  return true;
}

bool read_ms(Message& m, od::value v, std::string_view key, std::int64_t& out) {
  if (v.get_int64().get(out)) return fail_read(m, DepthStatus::Malformed, key, "not an integer");
  if (!millis_in_range(out)) return fail_read(m, DepthStatus::Malformed, key, "not a time in milliseconds");
  return true;
}

// b / a: levels in a diff, a price in a bookTicker; a number (a trade's old buyer/seller order id) is
// skipped.
bool read_side(Message& m, od::value v, std::string_view key, std::vector<md::Level>& levels, Price& price,
               std::uint32_t levels_bit, std::uint32_t price_bit) {
  od::json_type type;
  if (v.type().get(type)) return fail_read(m, DepthStatus::Malformed, key, "unreadable value");
  if (type == od::json_type::array) {
    m.fields |= levels_bit;
    return read_levels(m, v, key, levels);
  }
  if (type == od::json_type::string) {
    m.fields |= price_bit;
    return read_number(m, v, key, price);
  }
  return true;
}

// One field of a payload (or of the REST snapshot). Unknown fields are skipped.
bool read_field(Message& m, std::string_view key, od::value v, std::vector<md::Level>& bids,
                std::vector<md::Level>& asks) {
  if (key.size() == 1) {
    switch (key[0]) {
      case 'e':
        m.fields |= Message::kEventType;
        if (v.get_string().get(m.event_type))
          return fail_read(m, DepthStatus::Malformed, key, "not a string");
        return true;
      case 'E':
        m.fields |= Message::kEventTime;
        return read_ms(m, v, key, m.event_ms);
      case 's':
        m.fields |= Message::kSymbol;
        if (v.get_string().get(m.symbol)) return fail_read(m, DepthStatus::Malformed, key, "not a string");
        return true;
      case 'U':
        m.fields |= Message::kFirstId;
        return read_id(m, v, key, m.first_id);
      case 'u':
        m.fields |= Message::kLastId;
        return read_id(m, v, key, m.last_id);
      case 'b':
        return read_side(m, v, key, bids, m.bid, Message::kBidLevels, Message::kBidPrice);
      case 'a':
        return read_side(m, v, key, asks, m.ask, Message::kAskLevels, Message::kAskPrice);
      case 'B':
        m.fields |= Message::kBidQty;
        return read_number(m, v, key, m.bid_qty);
      case 'A':
        m.fields |= Message::kAskQty;
        return read_number(m, v, key, m.ask_qty);
      case 't':
        m.fields |= Message::kTradeId;
        return read_id(m, v, key, m.trade_id);
      case 'p':
        m.fields |= Message::kPrice;
        return read_number(m, v, key, m.price);
      case 'q':
        m.fields |= Message::kQty;
        return read_number(m, v, key, m.qty);
      case 'T':
        m.fields |= Message::kTradeTime;
        return read_ms(m, v, key, m.trade_ms);
      case 'm':
        m.fields |= Message::kMaker;
        if (v.get_bool().get(m.maker_is_buyer))
          return fail_read(m, DepthStatus::Malformed, key, "not a boolean");
        return true;
      default:
        return true;
    }
  }
  if (key == "lastUpdateId") {
    m.fields |= Message::kSnapshotId;
    return read_id(m, v, key, m.snapshot_id);
  }
  if (key == "pu") {
    m.fields |= Message::kPrevId;
    return read_id(m, v, key, m.prev_id);
  }
  if (key == "bids") {
    m.fields |= Message::kBidLevels;
    return read_levels(m, v, key, bids);
  }
  if (key == "asks") {
    m.fields |= Message::kAskLevels;
    return read_levels(m, v, key, asks);
  }
  return true;
}

bool read_payload(Message& m, od::object object, std::vector<md::Level>& bids, std::vector<md::Level>& asks) {
  for (auto field : object) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key))
      return fail_read(m, DepthStatus::Malformed, "", simdjson::error_message(error));
    od::value v;
    if (auto error = field.value().get(v))
      return fail_read(m, DepthStatus::Malformed, key, simdjson::error_message(error));
    if (!read_field(m, key, v, bids, asks)) return false;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------

BinanceDepthSync::BinanceDepthSync(const VenueListing& listing, const BinanceDepthOptions& options)
    : listing_(listing),
      options_(options),
      book_(listing.tick_size),
      parser_(std::make_unique<Parser>(options.max_message_bytes)) {
  // Everything a message needs, sized now: no allocation per message once the book is warm.
  // A failure here (no memory) leaves the parser to allocate on the first message instead.
  [[maybe_unused]] const auto allocated = parser_->parser.allocate(options_.max_message_bytes);
  parser_->bids.reserve(options_.reserve_levels_per_side);
  parser_->asks.reserve(options_.reserve_levels_per_side);
  padded_.resize(options_.max_message_bytes + kJsonPadding);
  pending_.reserve(options_.max_buffered_diffs);
  arena_.resize(options_.max_buffered_levels);
}

BinanceDepthSync::~BinanceDepthSync() = default;

DepthStatus BinanceDepthSync::on_message(std::string_view json, TimestampNs recv_ns) {
  return parse_and_dispatch(json, 0, recv_ns, false);
}

DepthStatus BinanceDepthSync::on_message(std::string_view json, std::size_t readable, TimestampNs recv_ns) {
  return parse_and_dispatch(json, readable, recv_ns, false);
}

DepthStatus BinanceDepthSync::on_snapshot(std::string_view json, TimestampNs recv_ns) {
  return parse_and_dispatch(json, 0, recv_ns, true);
}

DepthStatus BinanceDepthSync::fail(DepthStatus status, const char* format, ...) {
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(error_.data(), error_.size(), format, args);
  va_end(args);
  error_len_ = n < 0 ? 0 : std::min(static_cast<std::size_t>(n), error_.size() - 1);
  return status;
}

DepthStatus BinanceDepthSync::parse_and_dispatch(std::string_view json, std::size_t readable,
                                                 TimestampNs recv_ns, bool snapshot_only) {
  has_event_ = false;
  error_len_ = 0;
  ++stats_.messages;
  const bool was_synced = synced_;
  Message m;
  DepthStatus status = DepthStatus::Malformed;
  if (json.size() > options_.max_message_bytes) {
    status = fail(DepthStatus::TooLarge, "message of %zu bytes, more than the %zu allowed", json.size(),
                  options_.max_message_bytes);
  } else {
    const char* data = json.data();
    if (readable < json.size() + kJsonPadding) {
      std::memcpy(padded_.data(), json.data(), json.size());
      std::memset(padded_.data() + json.size(), 0, kJsonPadding);
      data = padded_.data();
      readable = padded_.size();
    }
    const simdjson::padded_string_view text(data, json.size(), readable);
    auto& bids = parser_->bids;
    auto& asks = parser_->asks;
    bids.clear();
    asks.clear();
    od::document doc;
    od::object root;
    if (auto error = parser_->parser.iterate(text).get(doc)) {
      status = fail(DepthStatus::Malformed, "not JSON: %s", simdjson::error_message(error));
    } else if (auto error2 = doc.get_object().get(root)) {
      status = fail(DepthStatus::Malformed, "not a JSON object: %s", simdjson::error_message(error2));
    } else {
      bool ok = true;
      bool done = false;
      for (auto field : root) {
        std::string_view key;
        if (auto error = field.unescaped_key().get(key)) {
          ok = fail_read(m, DepthStatus::Malformed, "", simdjson::error_message(error));
          break;
        }
        od::value v;
        if (auto error = field.value().get(v)) {
          ok = fail_read(m, DepthStatus::Malformed, key, simdjson::error_message(error));
          break;
        }
        if (key == "stream") {
          std::string_view stream;
          if (v.get_string().get(stream)) {
            ok = fail_read(m, DepthStatus::Malformed, key, "not a string");
            break;
          }
          const std::size_t at = stream.find('@');
          if (at == std::string_view::npos) {
            ok = fail_read(m, DepthStatus::Malformed, key, "a stream name without '@'");
            break;
          }
          if (!iequals(stream.substr(0, at), listing_.symbol)) {
            status = fail(DepthStatus::WrongSymbol, "stream '%.*s' is not %s's",
                          static_cast<int>(stream.size()), stream.data(), listing_.symbol.c_str());
            done = true;
            break;
          }
          m.stream_kind = stream_kind(stream.substr(at + 1));
          if (m.stream_kind == Message::Other) {
            status = DepthStatus::Ignored;
            done = true;
            break;
          }
        } else if (key == "data") {
          od::object data_object;
          if (v.get_object().get(data_object)) {
            ok = fail_read(m, DepthStatus::Malformed, key, "not an object");
            break;
          }
          if (!read_payload(m, data_object, bids, asks)) {
            ok = false;
            break;
          }
        } else if (!read_field(m, key, v, bids, asks)) {
          ok = false;
          break;
        }
      }
      if (!done) {
        // Nothing may follow the root object.
        if (ok && !doc.current_location().error())
          ok = fail_read(m, DepthStatus::Malformed, "", "text after the JSON object");
        if (!ok) {
          status = m.key.empty() ? fail(m.error, "%s", m.what)
                                 : fail(m.error, "bad value for '%.*s': %s", static_cast<int>(m.key.size()),
                                        m.key.data(), m.what);
        } else {
          status = dispatch(m, recv_ns, snapshot_only);
        }
      }
    }
  }
  // A depth diff we could not read is a diff missing from the book.
  // When the text could not be read far enough to tell, its words tell: a diff stream's name or event type.
  const bool depth_message =
      m.stream_kind == Message::Depth || m.kind == Message::Depth || m.event_type == "depthUpdate" ||
      (is_error(status) && m.stream_kind == Message::Unknown &&
       (json.find("@depth\"") != std::string_view::npos || json.find("@depth@") != std::string_view::npos ||
        json.find("\"depthUpdate\"") != std::string_view::npos));
  if (is_error(status) && status != DepthStatus::WrongSymbol && depth_message && synced_)
    invalidate(update_id_ + 1, m.first_id, recv_ns);
  ++stats_.by_status[static_cast<std::size_t>(status)];
  if (requests_snapshot(status) || (was_synced && !synced_)) ++stats_.snapshot_requests;
  return status;
}

DepthStatus BinanceDepthSync::dispatch(Message& m, TimestampNs recv_ns, bool snapshot_only) {
  // What the payload says it is.
  Message::Kind payload = Message::Unknown;
  if (m.has(Message::kEventType)) {
    payload = m.event_type == "depthUpdate"  ? Message::Depth
              : m.event_type == "trade"      ? Message::Trade
              : m.event_type == "bookTicker" ? Message::Ticker  // futures' bookTicker says what it is
                                             : Message::Other;
  } else if (m.has(Message::kSnapshotId)) {
    payload = Message::Snapshot;
  } else if (m.has(Message::kLastId) &&
             (m.fields & (Message::kBidPrice | Message::kAskPrice | Message::kBidQty | Message::kAskQty))) {
    payload = Message::Ticker;  // spot's bookTicker has no "e"
  }
  if (m.stream_kind != Message::Unknown && payload != Message::Unknown && payload != m.stream_kind) {
    if (m.stream_kind == Message::Depth && payload == Message::Snapshot) return DepthStatus::Ignored;
    return fail(DepthStatus::Malformed, "the stream name and the payload disagree on what the message is");
  }
  m.kind = payload != Message::Unknown ? payload : m.stream_kind;
  if (snapshot_only && m.kind != Message::Snapshot) {
    if (m.kind == Message::Unknown) return fail(DepthStatus::MissingField, "a snapshot without lastUpdateId");
    return fail(DepthStatus::Malformed, "not a depth snapshot (lastUpdateId, bids, asks)");
  }
  if (m.kind == Message::Other) return DepthStatus::Ignored;
  if (m.kind == Message::Unknown)
    return fail(DepthStatus::MissingField, "neither a depth diff, a bookTicker, a trade nor a snapshot");
  if (m.kind != Message::Snapshot) {
    if (m.has(Message::kSymbol)) {
      if (m.symbol != listing_.symbol)
        return fail(DepthStatus::WrongSymbol, "symbol '%.*s' is not %s", static_cast<int>(m.symbol.size()),
                    m.symbol.data(), listing_.symbol.c_str());
    } else if (m.stream_kind == Message::Unknown) {
      return fail(DepthStatus::MissingField, "no symbol (s) and no stream name");
    }
  }
  switch (m.kind) {
    case Message::Depth:
      return on_diff(m, recv_ns);
    case Message::Snapshot:
      return on_snapshot_message(m, recv_ns);
    case Message::Ticker:
      return on_ticker(m, recv_ns);
    case Message::Trade:
      return on_trade(m, recv_ns);
    default:
      break;
  }
  return DepthStatus::Ignored;
}

// ---------------------------------------------------------------------------------------------------------
// Sequencing

DepthStatus BinanceDepthSync::on_diff(const Message& m, TimestampNs recv_ns) {
  if (!m.has(Message::kFirstId | Message::kLastId | Message::kBidLevels | Message::kAskLevels))
    return fail(DepthStatus::MissingField, "a depth diff needs U, u, b and a");
  if (options_.futures && !m.has(Message::kPrevId))
    return fail(DepthStatus::MissingField, "a futures depth diff needs pu");
  if (m.first_id > m.last_id)
    return fail(DepthStatus::BadIds, "U %llu is after u %llu", static_cast<unsigned long long>(m.first_id),
                static_cast<unsigned long long>(m.last_id));
  const std::uint64_t prev = options_.futures ? m.prev_id : m.first_id - 1;
  const Diff diff{m.first_id, m.last_id, prev, m.event_ms * kNanosPerMilli, parser_->bids, parser_->asks};
  if (!synced_) return buffer_diff(diff);
  // Futures: the first diff after a snapshot may end at its lastUpdateId (U <= lastUpdateId <= u).
  const bool bridging_futures = options_.futures && awaiting_bridge_;
  if (bridging_futures ? diff.last < update_id_ : diff.last <= update_id_) return DepthStatus::Stale;
  const bool continues = !awaiting_bridge_  ? follows(update_id_, diff)
                         : options_.futures ? diff.first <= update_id_ || diff.prev == update_id_
                                            : diff.first <= update_id_ + 1;
  if (!continues) {
    if (options_.futures)
      fail(DepthStatus::Gap, "%s: expected %s %llu, got U %llu pu %llu",
           awaiting_bridge_ ? "the first diff does not bridge the snapshot" : "sequence gap",
           awaiting_bridge_ ? "U <=" : "pu =", static_cast<unsigned long long>(update_id_),
           static_cast<unsigned long long>(diff.first), static_cast<unsigned long long>(diff.prev));
    else
      fail(DepthStatus::Gap, "%s: expected U %s %llu, got %llu",
           awaiting_bridge_ ? "the first diff does not bridge the snapshot" : "sequence gap",
           awaiting_bridge_ ? "<=" : "=", static_cast<unsigned long long>(update_id_ + 1),
           static_cast<unsigned long long>(diff.first));
    invalidate(update_id_ + 1, diff.first, recv_ns);
    // The diff that broke the run waits for the next snapshot with those after it.
    clear_buffer();
    (void)buffer_diff(diff);
    return DepthStatus::Gap;
  }
  return apply_diff(diff, recv_ns);
}

DepthStatus BinanceDepthSync::buffer_diff(const Diff& diff) {
  if (!pending_.empty()) {
    const Pending& last = pending_.back();
    if (diff.last <= last.last) return DepthStatus::Stale;
    if (!follows(last.last, diff)) {
      // Nothing before a break can ever be bridged: the run starts again here.
      ++stats_.buffer_restarts;
      clear_buffer();
    }
  }
  const std::size_t n = diff.bids.size() + diff.asks.size();
  bool overflow = false;
  if (pending_.size() >= options_.max_buffered_diffs || arena_used_ + n > arena_.size()) {
    overflow = true;
    clear_buffer();
    if (n > arena_.size())
      return fail(DepthStatus::Overflow, "a diff of %zu levels does not fit the buffer (%zu)", n,
                  arena_.size());
  }
  Pending p;
  p.first = diff.first;
  p.last = diff.last;
  p.prev = diff.prev;
  p.exch_ns = diff.exch_ns;
  p.offset = static_cast<std::uint32_t>(arena_used_);
  p.bid_count = static_cast<std::uint32_t>(diff.bids.size());
  p.ask_count = static_cast<std::uint32_t>(diff.asks.size());
  std::copy(diff.bids.begin(), diff.bids.end(), arena_.begin() + static_cast<std::ptrdiff_t>(arena_used_));
  std::copy(diff.asks.begin(), diff.asks.end(),
            arena_.begin() + static_cast<std::ptrdiff_t>(arena_used_ + diff.bids.size()));
  arena_used_ += n;
  pending_.push_back(p);
  if (overflow)
    return fail(DepthStatus::Overflow, "more than %zu diffs or %zu levels waiting for a snapshot",
                options_.max_buffered_diffs, arena_.size());
  return DepthStatus::Buffered;
}

void BinanceDepthSync::on_disconnect(TimestampNs now_ns) {
  has_event_ = false;
  error_len_ = 0;
  if (synced_) {
    invalidate(update_id_ + 1, 0, now_ns);
    ++stats_.snapshot_requests;
  }
  clear_buffer();
  ticker_head_ = 0;
  ticker_count_ = 0;
}

void BinanceDepthSync::clear_buffer() {
  pending_.clear();
  arena_used_ = 0;
}

DepthStatus BinanceDepthSync::on_snapshot_message(const Message& m, TimestampNs recv_ns) {
  if (!m.has(Message::kSnapshotId | Message::kBidLevels | Message::kAskLevels))
    return fail(DepthStatus::MissingField, "a snapshot needs lastUpdateId, bids and asks");
  const std::uint64_t id = m.snapshot_id;
  if (synced_ && id <= update_id_) return DepthStatus::Stale;
  // Diffs the snapshot already holds go (futures keep one that ends at it); the first one left must bridge
  // it.
  const bool futures = options_.futures;
  std::size_t first = 0;
  while (first < pending_.size() && (futures ? pending_[first].last < id : pending_[first].last <= id))
    ++first;
  stats_.diffs_dropped_by_snapshot += first;
  const auto bridges = [&](const Pending& p) {
    return futures ? p.first <= id || p.prev == id : p.first <= id + 1;
  };
  if (first < pending_.size() && !bridges(pending_[first])) {
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(first));
    return fail(DepthStatus::SnapshotTooOld,
                "snapshot lastUpdateId %llu ends before the buffered diffs begin (U %llu): fetch a newer one",
                static_cast<unsigned long long>(id), static_cast<unsigned long long>(pending_.front().first));
  }
  md::Event snapshot;
  snapshot.kind = md::EventKind::BookSnapshot;
  snapshot.stream = options_.stream;
  snapshot.recv_ns = recv_ns;
  snapshot.last_seq = id;
  snapshot.bids = parser_->bids;
  snapshot.asks = parser_->asks;
  const std::uint64_t off_tick = book_.off_tick_count();
  book_.apply(snapshot);
  const bool off = book_.off_tick_count() != off_tick;
  if (off || book_.crossed()) {
    // The book it replaced is gone too.
    if (synced_) invalidate(id, id, recv_ns);
    synced_ = false;
    if (off)
      return fail(DepthStatus::OffTick, "the snapshot has a price off the tick %s",
                  text_of(book_.tick_size()).text);
    return fail(DepthStatus::Crossed, "the snapshot's book is crossed");
  }
  synced_ = true;
  awaiting_bridge_ = true;
  update_id_ = id;
  last_event_ns_ = recv_ns;
  if (settle_tickers() == DepthStatus::TouchMismatch) {
    invalidate(id, id, recv_ns);
    return fail(DepthStatus::TouchMismatch, "a bookTicker at the snapshot's update id shows another touch");
  }
  // The buffered diffs after it, stamped with the snapshot's receive time (when that book could first be
  // known), as md's recording reader does.
  for (std::size_t i = first; i < pending_.size(); ++i) {
    const Pending& p = pending_[i];
    const md::Level* levels = arena_.data() + p.offset;
    const Diff diff{
        p.first, p.last, p.prev, p.exch_ns, {levels, p.bid_count}, {levels + p.bid_count, p.ask_count}};
    ++stats_.diffs_replayed;
    const DepthStatus status = apply_diff(diff, recv_ns);
    if (status != DepthStatus::Applied) {
      clear_buffer();
      return status;
    }
  }
  clear_buffer();
  event_ = snapshot;
  has_event_ = true;
  return DepthStatus::Synced;
}

DepthStatus BinanceDepthSync::apply_diff(const Diff& diff, TimestampNs stamp_ns) {
  md::Event delta;
  delta.kind = md::EventKind::BookDelta;
  delta.stream = options_.stream;
  delta.recv_ns = stamp_ns;
  delta.exch_ns = diff.exch_ns;
  delta.first_seq = diff.first;
  delta.last_seq = diff.last;
  delta.bids = diff.bids;
  delta.asks = diff.asks;
  const std::uint64_t off_tick = book_.off_tick_count();
  book_.apply(delta);
  update_id_ = diff.last;
  awaiting_bridge_ = false;
  last_event_ns_ = stamp_ns;
  ++stats_.diffs_applied;
  if (book_.off_tick_count() != off_tick) {
    fail(DepthStatus::OffTick, "diff %llu has a price off the tick %s",
         static_cast<unsigned long long>(diff.last), text_of(book_.tick_size()).text);
    invalidate(diff.last, diff.last, stamp_ns);
    return DepthStatus::OffTick;
  }
  if (book_.crossed()) {
    fail(DepthStatus::Crossed, "the book crossed after diff %llu (bid %s, ask %s)",
         static_cast<unsigned long long>(diff.last), text_of(book_.best_bid()).text,
         text_of(book_.best_ask()).text);
    invalidate(diff.last, diff.last, stamp_ns);
    return DepthStatus::Crossed;
  }
  if (settle_tickers() == DepthStatus::TouchMismatch) {
    fail(DepthStatus::TouchMismatch, "the bookTicker at update id %llu shows another touch than the book",
         static_cast<unsigned long long>(diff.last));
    invalidate(diff.last, diff.last, stamp_ns);
    return DepthStatus::TouchMismatch;
  }
  event_ = delta;
  has_event_ = true;
  return DepthStatus::Applied;
}

void BinanceDepthSync::invalidate(std::uint64_t expected, std::uint64_t received, TimestampNs recv_ns) {
  if (synced_) ++stats_.invalidations;
  synced_ = false;
  awaiting_bridge_ = false;
  event_ = md::Event{};
  event_.kind = md::EventKind::Gap;
  event_.stream = options_.stream;
  event_.recv_ns = recv_ns;
  event_.first_seq = expected;
  event_.last_seq = received;
  has_event_ = true;
}

// ---------------------------------------------------------------------------------------------------------
// bookTicker and trades

bool BinanceDepthSync::touch_matches(const Ticker& t) const {
  return book_.best_bid() == t.bid && book_.best_bid_qty() == t.bid_qty && book_.best_ask() == t.ask &&
         book_.best_ask_qty() == t.ask_qty;
}

DepthStatus BinanceDepthSync::settle_tickers() {
  while (ticker_count_ > 0) {
    const Ticker& t = tickers_[ticker_head_];
    if (t.id > update_id_) break;
    bool mismatch = false;
    if (t.id == update_id_) {
      ++stats_.touch_checks;
      mismatch = !touch_matches(t);
    } else {
      ++stats_.tickers_unchecked;
    }
    ticker_head_ = (ticker_head_ + 1) % kTickers;
    --ticker_count_;
    if (mismatch) {
      ++stats_.touch_mismatches;
      return DepthStatus::TouchMismatch;
    }
  }
  return DepthStatus::Applied;
}

const BinanceDepthSync::Ticker* BinanceDepthSync::overlay() const {
  if (!options_.touch_from_book_ticker || !synced_ || ticker_count_ == 0) return nullptr;
  const Ticker& newest = tickers_[(ticker_head_ + ticker_count_ - 1) % kTickers];
  return newest.id > update_id_ ? &newest : nullptr;
}

DepthStatus BinanceDepthSync::on_ticker(const Message& m, TimestampNs recv_ns) {
  if (!m.has(Message::kLastId | Message::kBidPrice | Message::kBidQty | Message::kAskPrice |
             Message::kAskQty))
    return fail(DepthStatus::MissingField, "a bookTicker needs u, b, B, a and A");
  if (!m.bid.is_positive() || !m.ask.is_positive() || m.bid_qty.is_negative() || m.ask_qty.is_negative())
    return fail(DepthStatus::BadNumber,
                "a bookTicker's prices must be positive and its quantities not negative");
  // One venue's best bid is below its best ask: a crossed ticker is nonsense, never shown as the touch (the
  // fuzzer found one making a synced book's touch cross).
  if (m.bid >= m.ask)
    return fail(DepthStatus::BadNumber, "a bookTicker's bid %s is not below its ask %s", text_of(m.bid).text,
                text_of(m.ask).text);
  if (synced_ && m.last_id < update_id_) return DepthStatus::Stale;
  if (ticker_count_ > 0 && m.last_id <= tickers_[(ticker_head_ + ticker_count_ - 1) % kTickers].id)
    return DepthStatus::Stale;
  const Ticker ticker{m.last_id, m.bid, m.ask, m.bid_qty, m.ask_qty, recv_ns};
  last_event_ns_ = recv_ns;
  if (synced_ && ticker.id == update_id_) {
    ++stats_.touch_checks;
    if (!touch_matches(ticker)) {
      ++stats_.touch_mismatches;
      fail(DepthStatus::TouchMismatch, "bookTicker %llu shows %s x %s / %s x %s, the book %s x %s / %s x %s",
           static_cast<unsigned long long>(ticker.id), text_of(ticker.bid).text, text_of(ticker.bid_qty).text,
           text_of(ticker.ask).text, text_of(ticker.ask_qty).text, text_of(book_.best_bid()).text,
           text_of(book_.best_bid_qty()).text, text_of(book_.best_ask()).text,
           text_of(book_.best_ask_qty()).text);
      invalidate(ticker.id, ticker.id, recv_ns);
      return DepthStatus::TouchMismatch;
    }
  } else {
    if (ticker_count_ == kTickers) {
      ticker_head_ = (ticker_head_ + 1) % kTickers;
      --ticker_count_;
      ++stats_.tickers_unchecked;
    }
    tickers_[(ticker_head_ + ticker_count_) % kTickers] = ticker;
    ++ticker_count_;
  }
  event_ = md::Event{};
  event_.kind = md::EventKind::Quote;
  event_.stream = options_.stream;
  event_.recv_ns = recv_ns;
  event_.last_seq = ticker.id;
  event_.price = ticker.bid;
  event_.qty = ticker.bid_qty;
  event_.price2 = ticker.ask;
  event_.qty2 = ticker.ask_qty;
  has_event_ = true;
  return DepthStatus::Quote;
}

DepthStatus BinanceDepthSync::on_trade(const Message& m, TimestampNs recv_ns) {
  if (!m.has(Message::kTradeId | Message::kPrice | Message::kQty | Message::kMaker))
    return fail(DepthStatus::MissingField, "a trade needs t, p, q and m");
  if (!m.price.is_positive() || !m.qty.is_positive())
    return fail(DepthStatus::BadNumber, "a trade's price and quantity must be positive");
  if (last_trade_id_ != 0 && m.trade_id <= last_trade_id_) return DepthStatus::Stale;
  if (last_trade_id_ != 0 && m.trade_id != last_trade_id_ + 1) ++stats_.trade_id_gaps;
  last_trade_id_ = m.trade_id;
  last_event_ns_ = recv_ns;
  event_ = md::Event{};
  event_.kind = md::EventKind::Trade;
  event_.stream = options_.stream;
  event_.recv_ns = recv_ns;
  // The event time, else the trade time, as md's recording reader stamps trades.
  event_.exch_ns = (m.event_ms != 0 ? m.event_ms : m.trade_ms) * kNanosPerMilli;
  event_.last_seq = m.trade_id;
  event_.price = m.price;
  event_.qty = m.qty;
  // m: the buyer was the maker, so the aggressor sold.
  event_.side = m.maker_is_buyer ? Side::Sell : Side::Buy;
  has_event_ = true;
  return DepthStatus::Trade;
}

// ---------------------------------------------------------------------------------------------------------
// md::BookView

Price BinanceDepthSync::best(Side side) const {
  if (const Ticker* t = overlay()) return side == Side::Buy ? t->bid : t->ask;
  return side == Side::Buy ? book_.best_bid() : book_.best_ask();
}

Qty BinanceDepthSync::best_qty(Side side) const {
  if (const Ticker* t = overlay()) return side == Side::Buy ? t->bid_qty : t->ask_qty;
  return side == Side::Buy ? book_.best_bid_qty() : book_.best_ask_qty();
}

TimestampNs BinanceDepthSync::best_updated_ns(Side side) const {
  const md::BookSide& book_side = book_.side(side);
  const TimestampNs book_ns = book_side.empty() ? 0 : book_side.best_updated_ns();
  if (const Ticker* t = overlay()) {
    const bool same = side == Side::Buy ? t->bid == book_.best_bid() && t->bid_qty == book_.best_bid_qty()
                                        : t->ask == book_.best_ask() && t->ask_qty == book_.best_ask_qty();
    return same ? book_ns : t->recv_ns;
  }
  return book_ns;
}

std::size_t BinanceDepthSync::levels(Side side, std::span<md::Level> out) const {
  if (out.empty()) return 0;
  std::size_t n = 0;
  const Ticker* t = overlay();
  Price top = Price::unset();
  if (t != nullptr) {
    // The bookTicker's touch first, then the book's levels behind it.
    top = side == Side::Buy ? t->bid : t->ask;
    const Qty top_qty = side == Side::Buy ? t->bid_qty : t->ask_qty;
    if (top_qty.is_positive()) out[n++] = {top, top_qty};
    if (n == out.size()) return n;
  }
  const std::int64_t tick = book_.tick_size().raw();
  book_.side(side).for_each([&](std::int64_t key, Qty qty, TimestampNs) {
    const Price price = Price::from_raw((side == Side::Buy ? key : -key) * tick);
    if (top.is_set() && (side == Side::Buy ? price >= top : price <= top)) return true;
    out[n++] = {price, qty};
    return n < out.size();
  });
  return n;
}

}  // namespace tranche::gateway
