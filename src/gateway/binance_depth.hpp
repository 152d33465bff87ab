#pragma once
// One symbol's L2 book kept from Binance spot's market-data streams, as Binance documents it ("How to manage
// a local order book correctly", Binance spot's WebSocket Streams), and offered to the kernel as an
// md::BookView: a live venue's book reads exactly as the simulator's does.
//
// Input is the raw JSON text of each message, as the WebSocket or the REST answer delivered it, with the
// receive time the caller stamped on it:
//  - `<symbol>@depth` / `@depth@100ms` diffs (e, E, s, U, u, b, a), each level the new absolute quantity of
//    its price, "0" deleting it;
//  - the REST snapshot, `GET /api/v3/depth` (lastUpdateId, bids, asks);
//  - `<symbol>@bookTicker` (u, s, b, B, a, A) and `<symbol>@trade` (e, E, s, t, p, q, T, m);
//  each either as the raw payload (`/ws/<stream>`) or inside the combined-stream envelope
//  `{"stream":"<stream>","data":{...}}`. Prices and quantities are read from their decimal strings straight
//  into fixed point (md/binance_json.hpp, shared with the recording reader), never through double.
//
// Sequencing, spot's rules:
//  - Diffs that come before a snapshot is applied are buffered (bounded: a count and a level cap; overflow
//    empties the buffer and asks for a new snapshot). The buffer holds one unbroken run (each U = the
//    previous u + 1): a diff that does not continue it starts a new run, since nothing before the break can
//    ever be bridged.
//  - A snapshot drops the buffered diffs with u <= lastUpdateId. The first remaining one must bridge it,
//    U <= lastUpdateId + 1 <= u; when it starts later the snapshot is too old (Binance: "go back to step 3"):
//    it is not applied, the buffer is kept, and another snapshot is asked for. Otherwise the snapshot and the
//    buffered diffs become the book, which is then valid.
//  - Afterwards a diff with u <= the book's update id is stale and ignored; the first diff after the snapshot
//    must bridge it (U <= lastUpdateId + 1); every later one must continue the previous, U = previous u + 1.
//    Anything else is a gap: the book is invalid, a snapshot is asked for, and the diff that broke the run
//    starts the buffer again. (Binance's newer update procedure would also apply a diff that overlaps the
//    book, U <= id < u; in sequence that never happens on one connection, so it is treated as a gap here and
//    the book re-synced, as md's recording reader does.)
// Futures' rules (USD-M `/fapi/v1/depth`, COIN-M `/dapi/v1/depth`; BinanceDepthOptions::futures): each diff
// also carries `pu`, the previous diff's `u`, and continues the run or the book when pu = the previous u (its
// U need not be pu + 1: futures' update ids are not contiguous). A snapshot drops the buffered diffs with
// u < lastUpdateId; the first one applied after it must have U <= lastUpdateId <= u (or pu = lastUpdateId).
//  Asking for a snapshot is a return value and a state (needs_snapshot()), counted; the caller fetches it.
//
// bookTicker: Binance numbers it in the depth stream's update-id space (its `u` is the book's update id), and
// sends it in real time while spot diffs come in 100 ms batches. So it is used two ways:
//  - a check: a bookTicker whose u equals the book's update id (now, or once the diff ending at that u is
//    applied) must show the book's best bid and ask, prices and quantities; a mismatch means the book is
//    wrong: it is invalidated and re-synced (counted);
//  - a fresher touch (BinanceDepthOptions::touch_from_book_ticker, on by default): while the newest
//    bookTicker is ahead of the book (u > the book's update id), the view shows its best bid and ask, and
//    the book's levels behind them, as sim::SimMarket does with recorded bookTickers. It never writes into
//    the book: the next diff (which covers that u) supersedes it.
// A bookTicker older than the book is stale and ignored.
//
// Bad input (malformed or truncated JSON, a missing field, a price or quantity that is not a plain decimal,
// negative, or a price not above zero, U > u, another symbol's message, a price off the listing's tick, a
// message over the size cap) is an error status with a detail (last_error()) and a count; nothing of the
// message is applied (a price off the tick is found while the diff is applied, and the book is then
// invalidated). When the message was a depth diff (or could not be read at all on a depth stream) while the
// book was valid, the book is invalidated and re-synced: a diff we could not read is a diff missing from the
// book. A crossed book after a diff is treated the same way. No exception leaves this class (short of
// std::bad_alloc, should a message hold more levels than the scratch was sized for and memory run out).
//
// No allocation per message once warmed up: the JSON parser, the padded input copy, the level scratch and
// the pre-snapshot buffer are sized at construction; the L2 book's far-level table grows to the book's size
// while the first snapshots are applied and then stays.
//
// Threads: one. Call it from the thread that owns the book (the kernel's), or hand messages there.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/fixed_point.hpp"
#include "core/side.hpp"
#include "core/time.hpp"
#include "md/event.hpp"
#include "md/l2_book.hpp"
#include "md/market_source.hpp"

namespace tranche::gateway {

namespace detail {
struct DepthMessage;  // one message as read (binance_depth.cpp)
}

// What one message did.
enum class DepthStatus : std::uint8_t {
  // --- taken ---
  Applied,   // a diff changed the book
  Synced,    // a snapshot, and the buffered diffs that continue it, became the book: it is valid
  Buffered,  // a diff kept until a snapshot is applied
  Quote,     // a bookTicker, checked against the book or kept as the fresher touch
  Trade,     // a trade, in event()
  Stale,     // older than what we hold (a diff with u <= the book's id, an older bookTicker, snapshot or
             // trade id): ignored, as Binance says
  Ignored,   // a stream this class does not read (partial depth, aggTrade, ...)
  // --- the book is invalid and a snapshot is needed (needs_snapshot()) ---
  Gap,             // a diff that does not continue the book (or does not bridge its snapshot)
  SnapshotTooOld,  // the snapshot ends before the buffered diffs begin (lastUpdateId + 1 < U): not applied
  Overflow,        // the pre-snapshot buffer overflowed: emptied
  TouchMismatch,   // a bookTicker with the book's update id shows another touch
  Crossed,         // the book crossed after a diff
  // --- bad input: nothing applied (a bad depth diff also invalidates a valid book) ---
  Malformed,     // not JSON, truncated, trailing text, a field of the wrong type
  MissingField,  // a field the message needs is absent
  BadNumber,     // a price or quantity that is not a plain decimal string, is negative, or a price <= 0;
                 // a bookTicker whose bid is not below its ask
  BadIds,        // U > u
  WrongSymbol,   // another symbol's message
  OffTick,       // a price off the listing's tick
  TooLarge,      // longer than BinanceDepthOptions::max_message_bytes
};
inline constexpr std::size_t kDepthStatusCount = static_cast<std::size_t>(DepthStatus::TooLarge) + 1;

const char* to_string(DepthStatus status);
// An input error (the message was refused).
bool is_error(DepthStatus status);
// The book was lost, or the snapshot was too old, or the buffer overflowed: fetch a snapshot now, even if
// one is already on its way (it may be too old). A bad depth diff also loses a valid book (its status is the
// error): needs_snapshot() is the state to look at after every message.
bool requests_snapshot(DepthStatus status);

struct BinanceDepthOptions {
  // The pre-snapshot buffer: at most this many diffs holding at most this many levels in all. 4096 diffs is
  // 6.8 minutes of @depth@100ms; spot ETH diffs average 42 levels.
  std::size_t max_buffered_diffs = 4096;
  std::size_t max_buffered_levels = 1u << 18;  // 4 MiB
  // The longest message read; a 5000-level-a-side snapshot is about 400 KB.
  std::size_t max_message_bytes = 1u << 20;
  // Levels a side the parse scratch is sized for up front (a snapshot's limit is 5000); more still reads.
  std::size_t reserve_levels_per_side = 5000;
  // Show a bookTicker ahead of the book as the touch (see above).
  bool touch_from_book_ticker = true;
  // Binance futures' sequencing (USD-M, COIN-M; see above): diffs carry pu and continue by it.
  bool futures = false;
  // md::Event::stream of the events made.
  std::uint16_t stream = 0;
};

struct BinanceDepthStats {
  std::array<std::uint64_t, kDepthStatusCount> by_status{};  // every message, by what it did
  std::uint64_t messages = 0;
  std::uint64_t diffs_applied = 0;   // live and replayed from the buffer
  std::uint64_t diffs_replayed = 0;  // of which applied from the buffer after a snapshot
  std::uint64_t diffs_dropped_by_snapshot =
      0;                                // buffered diffs the snapshot already held (u <= lastUpdateId)
  std::uint64_t buffer_restarts = 0;    // buffered runs broken by a diff that did not continue them
  std::uint64_t snapshot_requests = 0;  // times the book went from valid (or from waiting) to asking
  std::uint64_t touch_checks = 0;       // bookTickers compared with the book at the same update id
  std::uint64_t touch_mismatches = 0;
  std::uint64_t tickers_unchecked = 0;  // bookTickers whose update id no applied diff ended at
  std::uint64_t trade_id_gaps = 0;      // a trade id more than one past the previous
  std::uint64_t invalidations = 0;      // a valid book made invalid (gap, mismatch, crossed, bad diff)
  std::uint64_t count(DepthStatus status) const { return by_status[static_cast<std::size_t>(status)]; }
};

class BinanceDepthSync final : public md::BookView {
 public:
  // The readable bytes simdjson needs after the text (on_message with `readable`).
  static constexpr std::size_t kJsonPadding = 64;

  explicit BinanceDepthSync(const VenueListing& listing, const BinanceDepthOptions& options = {});
  ~BinanceDepthSync();
  BinanceDepthSync(const BinanceDepthSync&) = delete;
  BinanceDepthSync& operator=(const BinanceDepthSync&) = delete;

  // One message of the symbol's streams (a diff, bookTicker or trade, raw or in the combined envelope) or
  // the REST snapshot, received at `recv_ns`. The text is copied into a padded buffer first.
  DepthStatus on_message(std::string_view json, TimestampNs recv_ns);
  // The same without the copy, when at least `readable` bytes from json.data() may be read and
  // readable >= json.size() + kJsonPadding (a receive buffer with spare room); otherwise it copies.
  DepthStatus on_message(std::string_view json, std::size_t readable, TimestampNs recv_ns);
  // The REST snapshot only (anything else is Malformed / MissingField).
  DepthStatus on_snapshot(std::string_view json, TimestampNs recv_ns);

  // The streams' connection dropped (or is being replaced): what came meanwhile is lost, so a valid book is
  // invalid now (a Gap event), and the buffer and the bookTickers waiting for their diffs are emptied. A
  // snapshot is needed once the new connection's diffs flow (fetch it after subscribing, as at the start).
  void on_disconnect(TimestampNs now_ns);

  // No valid book: a snapshot is needed (fetch one when none is on its way, or when a status said so).
  bool needs_snapshot() const { return !synced_; }
  // The book's update id (the snapshot's lastUpdateId, then each applied diff's u); 0 before any.
  std::uint64_t update_id() const { return update_id_; }
  std::size_t buffered_diffs() const { return pending_.size(); }
  // What the last message made, for a md::MarketListener: BookSnapshot (after Synced), BookDelta (Applied),
  // Quote, Trade, or Gap (the book was invalidated). Null when it made nothing. Its level spans are valid
  // until the next call.
  const md::Event* event() const { return has_event_ ? &event_ : nullptr; }
  // The last error's detail ("bad value for 'b' in depthUpdate"), empty when the last message was fine.
  std::string_view last_error() const { return {error_.data(), error_len_}; }
  const BinanceDepthStats& stats() const { return stats_; }
  // The book as the diffs left it (without the bookTicker's touch).
  const md::L2Book& book() const { return book_; }

  // --- md::BookView --- (while !valid() it shows the last book it had)
  const VenueListing& listing() const override { return listing_; }
  bool valid() const override { return synced_; }
  TimestampNs last_event_ns() const override { return last_event_ns_; }
  Price best(Side side) const override;
  Qty best_qty(Side side) const override;
  TimestampNs best_updated_ns(Side side) const override;
  std::size_t levels(Side side, std::span<md::Level> out) const override;

 private:
  struct Parser;
  using Message = detail::DepthMessage;
  struct Ticker {
    std::uint64_t id = 0;
    Price bid, ask;
    Qty bid_qty, ask_qty;
    TimestampNs recv_ns = 0;
  };
  struct Pending {
    std::uint64_t first = 0, last = 0, prev = 0;
    TimestampNs exch_ns = 0;
    std::uint32_t offset = 0, bid_count = 0, ask_count = 0;
  };
  struct Diff {
    std::uint64_t first = 0, last = 0, prev = 0;  // U, u, and pu (futures; spot: U - 1)
    TimestampNs exch_ns = 0;
    std::span<const md::Level> bids, asks;
  };

  DepthStatus parse_and_dispatch(std::string_view json, std::size_t readable, TimestampNs recv_ns,
                                 bool snapshot_only);
  DepthStatus dispatch(Message& m, TimestampNs recv_ns, bool snapshot_only);
  DepthStatus on_diff(const Message& m, TimestampNs recv_ns);
  DepthStatus on_snapshot_message(const Message& m, TimestampNs recv_ns);
  DepthStatus on_ticker(const Message& m, TimestampNs recv_ns);
  DepthStatus on_trade(const Message& m, TimestampNs recv_ns);
  DepthStatus buffer_diff(const Diff& diff);
  // `diff` comes right after the update `last` (spot: U = last + 1; futures: pu = last).
  bool follows(std::uint64_t last, const Diff& diff) const {
    return options_.futures ? diff.prev == last : diff.first == last + 1;
  }
  // Applies a diff known to continue the book; Crossed / OffTick when the book is then wrong.
  DepthStatus apply_diff(const Diff& diff, TimestampNs stamp_ns);
  // The book reached update_id_: checks and retires the bookTickers up to it.
  DepthStatus settle_tickers();
  bool touch_matches(const Ticker& t) const;
  // The book is wrong or behind: invalid, a snapshot asked for, a Gap event made.
  void invalidate(std::uint64_t expected, std::uint64_t received, TimestampNs recv_ns);
  void clear_buffer();
  const Ticker* overlay() const;
  DepthStatus fail(DepthStatus status, const char* format, ...) __attribute__((format(printf, 3, 4)));

  VenueListing listing_;
  BinanceDepthOptions options_;
  md::L2Book book_;
  std::unique_ptr<Parser> parser_;
  std::vector<char> padded_;  // max_message_bytes + padding

  bool synced_ = false;
  bool awaiting_bridge_ = false;  // the next diff is the first after the snapshot
  std::uint64_t update_id_ = 0;
  TimestampNs last_event_ns_ = 0;
  std::uint64_t last_trade_id_ = 0;

  // Diffs waiting for a snapshot: one unbroken run, their levels in one arena.
  std::vector<Pending> pending_;
  std::vector<md::Level> arena_;
  std::size_t arena_used_ = 0;

  // bookTickers ahead of the book, oldest first (a ring).
  static constexpr std::size_t kTickers = 32;
  std::array<Ticker, kTickers> tickers_{};
  std::size_t ticker_head_ = 0, ticker_count_ = 0;

  md::Event event_;
  bool has_event_ = false;
  BinanceDepthStats stats_;
  std::array<char, 160> error_{};
  std::size_t error_len_ = 0;
};

}  // namespace tranche::gateway
