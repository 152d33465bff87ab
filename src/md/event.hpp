#pragma once
// The normalized market-data event stream every decoder emits and every consumer (books, binary format,
// simulator) reads. Each event carries the receive time (the recorder's clock: the simulation's clock) and
// the exchange's own time side by side, never mixed. Level arrays are views into storage owned by whoever
// produced the event, valid until that producer's next call.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/fixed_point.hpp"
#include "core/side.hpp"
#include "core/time.hpp"

namespace tranche::md {

enum class EventKind : std::uint8_t {
  BookSnapshot = 1,  // replaces the whole L2 book of the stream with `bids` and `asks`
  BookDelta = 2,     // each level's new absolute quantity; zero deletes the level
  Quote = 3,         // best bid and offer as the venue published them (bookTicker, Tardis quotes)
  Trade = 4,         // a print: price, qty, aggressor side
  OrderAdd = 5,      // L3 (order by order): a new resting order
  OrderCancel = 6,   // L3: qty leaves the order (partial or full cancel)
  OrderModify = 7,   // L3: the order's new price and qty (loses priority unless the venue keeps it)
  OrderFill = 8,     // L3: qty of a resting order executed
  BookClear = 9,     // L3/L2: the venue cleared the book
  Gap = 10,          // a sequence gap: the stream's book is not valid until the next snapshot
};

const char* to_string(EventKind kind);

// Flags on an event.
// Last record of one venue event (MBO F_LAST, Tardis groups).
inline constexpr std::uint8_t kFlagLastInEvent = 1;
// A depth diff buffered until its snapshot arrived.
inline constexpr std::uint8_t kFlagReplayedAfterSnapshot = 2;
// Made by the simulator, not recorded: our own trades and the book changes they cause, and re-centring
// snapshots.
inline constexpr std::uint8_t kFlagSimulated = 4;
// The venue gave no side (MBO side N); `side` is then a placeholder.
inline constexpr std::uint8_t kFlagSideUnknown = 0x80;

struct Level {
  Price price;
  Qty qty;
};
static_assert(sizeof(Level) == 16);

struct Event {
  EventKind kind = EventKind::BookDelta;
  std::uint8_t flags = 0;
  Side side = Side::Buy;  // Trade: the aggressor; L3: the resting order's side
  std::uint16_t stream = 0;
  TimestampNs recv_ns = 0;  // receive clock (simulation time)
  TimestampNs exch_ns = 0;  // the exchange's clock; 0 when the message does not carry it
  // Sequence ids as the venue numbers them: depth diffs first/last update id (U/u), snapshot lastUpdateId in
  // last_seq, bookTicker update id in last_seq, trade id in last_seq, L3 sequence in last_seq.
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  // Quote: bid in price/qty and ask in price2/qty2. Trade and L3: price/qty. Gap: unused.
  Price price;
  Qty qty;
  Price price2;
  Qty qty2;
  std::uint64_t order_id = 0;   // L3
  std::span<const Level> bids;  // BookSnapshot / BookDelta
  std::span<const Level> asks;
};

// What one stream is: a market as the data names it. Decoders fill these; `md` needs no config.
struct StreamInfo {
  std::string
      venue;  // best guess from the data: "binance-spot", "binance-usdm", "binance-coinm", "lobster", ...
  std::string symbol;  // the venue's own symbol: "ETHUSDT"
  std::string name() const { return venue + ":" + symbol; }
};

// A malformed line or record: counted, reported with its place, and the rest of the file still reads.
struct DecodeError {
  std::string file;
  std::uint64_t line = 0;
  std::string message;
  std::string to_string() const { return file + ":" + std::to_string(line) + ": " + message; }
};

// A detected sequence gap, also emitted as an EventKind::Gap event.
struct GapReport {
  std::string file;
  std::uint64_t line = 0;
  std::uint16_t stream = 0;
  // Spot-style feeds: the first update id that should have come and the one that came. Feeds that chain
  // through a previous id (Binance futures `pu`): the previous id that should have been named and the one
  // that was.
  std::uint64_t expected = 0;
  std::uint64_t received = 0;
};

// An event that owns its levels: for buffering and tests.
struct OwnedEvent {
  Event event;
  std::vector<Level> bids;
  std::vector<Level> asks;

  OwnedEvent() = default;
  explicit OwnedEvent(const Event& e)
      : event(e), bids(e.bids.begin(), e.bids.end()), asks(e.asks.begin(), e.asks.end()) {
    relink();
  }
  OwnedEvent(const OwnedEvent& o) : event(o.event), bids(o.bids), asks(o.asks) { relink(); }
  OwnedEvent& operator=(const OwnedEvent& o) {
    event = o.event;
    bids = o.bids;
    asks = o.asks;
    relink();
    return *this;
  }
  OwnedEvent(OwnedEvent&&) noexcept = default;  // vector moves keep their buffers, so the spans stay valid
  OwnedEvent& operator=(OwnedEvent&&) noexcept = default;
  void relink() {
    event.bids = {bids.data(), bids.size()};
    event.asks = {asks.data(), asks.size()};
  }
};

}  // namespace tranche::md
