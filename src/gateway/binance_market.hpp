#pragma once
// The market-data side of one Binance venue, spot or futures (docs/gateways.md): one combined-stream
// WebSocket for all its listings (`/stream?streams=<s>@depth@100ms/<s>@trade/<s>@bookTicker/...`), each
// listing's book kept by a BinanceDepthSync from those streams and the REST snapshots it asks for (`GET
// /api/v3/depth`; USD-M
// `/fapi/v1/depth`, COIN-M `/dapi/v1/depth`, whose diffs are sequenced by futures' rules), and what each
// message made (md::Event) handed to the kernel thread.
//
// Threads: the WebSocket and the REST snapshots run on the one I/O thread every crypto gateway shares
// (NetworkThread). The I/O thread only copies what it received into a queue (with its receive time); the
// kernel thread's poll() takes the queue, applies each message to its listing's book and delivers its event.
// The books are the kernel thread's alone. The queue is two vectors of slots swapped under a mutex, each
// slot's text reused: once warm, a message costs no allocation on either side.
//
// Snapshots (decided on the kernel thread, in poll()): a listing whose book needs one gets one once its
// first diff after a (re)connection is buffered (or a second after the connection opened, for a quiet
// market); never more than one in flight per symbol, at most one a second per symbol, and after a 429 or
// 418 none before its Retry-After (60 s, 120 s without one). A snapshot that fails (no answer, an HTTP
// error, a body that cannot be read, too old for the buffered diffs) is counted and said, and the next one
// follows the same rules. A snapshot asked for before a drop is not applied after it.
//
// A dropped connection invalidates every book at once (BinanceDepthSync::on_disconnect: a Gap event each);
// the WebSocket reconnects with its backoff ([venue.binance] reconnect_min/max) and the books re-sync.
// Bad input (malformed JSON, a message for a stream we did not ask for, another symbol's data, a bad
// snapshot) is counted and kept with its reason (stats(), last_error()) and said (take_notes(), at most once
// a second), never a crash; a depth diff that cannot be read invalidates its book, which re-syncs. A message
// longer than a book reads (BinanceDepthOptions::max_message_bytes) is refused by the WebSocket itself: the
// connection drops and comes back, and the books re-sync.
//
// The venue's state, as the kernel reads it (md::MarketSource::venue_state): Disconnected while the stream
// is down (and before it first opens), PreOpen while it is up and a book is still (re)syncing, Open when it
// is up and every book is valid.
//
// No Beast type in this header: the network side lives in binance_market.cpp.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/order.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "gateway/binance_depth.hpp"
#include "md/event.hpp"
#include "md/market_source.hpp"

namespace tranche::gateway {

class NetworkThread;

// Where a venue's market events go (LiveMarket, a test): `listing` indexes the venue's listings.
class MarketEventSink {
 public:
  virtual void on_market_event(std::size_t listing, const md::Event& event) = 0;

 protected:
  ~MarketEventSink() = default;
};

// What fetches a REST snapshot: the network (binance_market.cpp), or a test. fetch() is called on the
// kernel thread; the answer comes back through BinanceMarket::on_snapshot_answer, from any thread.
class SnapshotFetcher {
 public:
  virtual ~SnapshotFetcher() = default;
  // Asks for `symbol`'s book; `ticket` goes back with the answer.
  virtual void fetch(std::size_t listing, const std::string& symbol, std::uint64_t ticket) = 0;
};

// What a venue's market heard, as the books took it (`tranche md record`): each message of a listing's
// streams that its book read (refused ones are left out: the book re-syncs after them, as the reader will)
// and each REST snapshot that synced the book, in the order taken, with the time the I/O thread received it.
// Called on the kernel thread, from poll(). `text` is the message as received.
class MarketTap {
 public:
  virtual void on_market_message(std::size_t listing, std::string_view text, TimestampNs recv_ns) = 0;

 protected:
  ~MarketTap() = default;
};

struct BinanceMarketOptions {
  BinanceDepthOptions depth;                          // each listing's book (its `stream` is set per listing)
  int snapshot_limit = 1000;                          // levels a side asked of /api/v3/depth
  DurationNs snapshot_interval_ns = kNanosPerSecond;  // at most one snapshot a second per symbol
  // A connection with no diff for a listing this long gets its snapshot anyway (a quiet market).
  DurationNs quiet_snapshot_after_ns = kNanosPerSecond;
  // The queue between the threads: at most this many messages wait; more are dropped and counted (a
  // dropped depth diff is then a gap the book finds and re-syncs).
  std::size_t max_queued = 1u << 16;
  std::uint64_t seed = 1;  // the reconnect backoff's jitter
};

struct BinanceMarketStats {
  std::uint64_t messages = 0;      // stream messages taken
  std::uint64_t events = 0;        // md::Events delivered
  std::uint64_t bad_messages = 0;  // refused by a book (malformed, wrong symbol, ...): each said
  std::uint64_t unrouted = 0;      // not one of our streams (no "stream", another stream's name)
  std::uint64_t dropped = 0;       // the queue was full
  std::uint64_t too_large = 0;     // longer than the book reads: cut, and refused by it
  std::uint64_t connects = 0;      // the stream opened
  std::uint64_t disconnects = 0;   // the stream dropped
  std::uint64_t snapshots_requested = 0;
  std::uint64_t snapshots_applied = 0;  // a book synced from one
  std::uint64_t snapshots_failed = 0;   // no answer, an HTTP error, unreadable, too old, ...
  std::uint64_t snapshots_stale = 0;    // asked for before a drop, answered after it: not applied
  std::uint64_t rate_limited = 0;       // 429 / 418 answers
  std::uint64_t mark_prices = 0;        // futures' markPriceUpdate events heard
};

class BinanceMarket {
 public:
  // Connects the venue's market streams ([venue.binance] stream_url, rest_url, ca_file) on the network
  // thread and waits up to its request_timeout for the stream to open; an error says why it did not (a
  // certificate not trusted, a refused connection, a bad URL).
  static Result<std::unique_ptr<BinanceMarket>> start(const VenueConfig& venue, NetworkThread& network,
                                                      const BinanceMarketOptions& options = {});
  // Without a network (tests): snapshots go to `fetcher`, stream messages come in by the on_* calls below.
  BinanceMarket(const VenueConfig& venue, const BinanceMarketOptions& options, SnapshotFetcher* fetcher);
  ~BinanceMarket();
  BinanceMarket(const BinanceMarket&) = delete;
  BinanceMarket& operator=(const BinanceMarket&) = delete;

  const VenueConfig& venue() const { return venue_; }
  std::size_t listing_count() const { return listings_.size(); }
  const BinanceDepthSync& book(std::size_t listing) const { return *listings_[listing].sync; }
  // The listing of `instrument`; -1 when the venue does not list it.
  int listing_index(const InstrumentId& instrument) const;
  VenueState state() const;
  // The combined-stream path asked for: "/stream?streams=ethusdt@depth@100ms/ethusdt@trade/...".
  std::string stream_target() const;

  // --- the kernel thread ---
  // Applies what arrived since the last call, in order, delivering each event to `sink`; asks for the
  // snapshots the books need. Returns how many messages it took.
  std::size_t poll(TimestampNs now_ns, MarketEventSink& sink);
  const BinanceMarketStats& stats() const { return stats_; }
  // Hears what the books take from now on (null: nobody).
  void set_tap(MarketTap* tap) { tap_ = tap; }
  // Futures: the listing's mark price as the venue last said it (<symbol>@markPrice@1s), and when it was
  // received; unset until the first. Kept for the operator and margin checks; the books do not use it.
  Price mark_price(std::size_t listing) const { return listings_[listing].mark; }
  TimestampNs mark_price_ns(std::size_t listing) const { return listings_[listing].mark_ns; }
  // The listing's symbol as the venue names it ("ETHUSDT").
  const std::string& symbol(std::size_t listing) const { return listings_[listing].symbol; }
  // The last bad message's or failure's reason; empty when none.
  const std::string& last_error() const { return last_error_; }
  // What happened worth saying since the last call (connections, drops, syncs, failures): one line each,
  // bounded; the caller logs them.
  std::vector<std::string> take_notes();

  // --- any thread (the network's) ---
  void on_open(TimestampNs recv_ns);
  void on_stream_message(std::string_view text, TimestampNs recv_ns);
  void on_close(std::string_view why, TimestampNs recv_ns);
  // The answer to fetch(`ticket`): its HTTP status (0: none, `body` then says why), Retry-After in seconds
  // (0: none given).
  void on_snapshot_answer(std::size_t listing, std::uint64_t ticket, int http_status,
                          std::int64_t retry_after_s, std::string_view body, TimestampNs recv_ns);

  // Drops the stream as a network would (tests, chaos); it reconnects after the backoff.
  void drop_connection();
  void stop();

 private:
  struct Network;
  enum class Kind : std::uint8_t { Open, Message, Close, Snapshot };
  struct Slot {
    Kind kind = Kind::Message;
    std::uint32_t listing = 0;
    int http_status = 0;
    std::int64_t retry_after_s = 0;
    std::uint64_t ticket = 0;
    TimestampNs recv_ns = 0;
    std::size_t size = 0;  // the text's length; `text` holds it and BinanceDepthSync::kJsonPadding more
    std::string text;
  };
  struct Listing {
    std::string symbol;  // "ETHUSDT"
    std::string lower;   // "ethusdt"
    std::unique_ptr<BinanceDepthSync> sync;
    bool in_flight = false;
    std::uint64_t ticket = 0;             // of the snapshot in flight
    TimestampNs last_request_ns = 0;      // when the last snapshot was asked for
    TimestampNs not_before_ns = 0;        // a 429/418's Retry-After
    std::uint64_t ticket_connection = 0;  // the connection it was asked under
    bool was_valid = false;               // for the notes
    Price mark = Price::unset();          // futures: the last markPriceUpdate's p
    TimestampNs mark_ns = 0;              // ... received then
  };

  void push(Kind kind, std::uint32_t listing, std::string_view text, TimestampNs recv_ns, int http_status = 0,
            std::int64_t retry_after_s = 0, std::uint64_t ticket = 0);
  void take(const Slot& slot, TimestampNs now_ns, MarketEventSink& sink);
  void take_message(const Slot& slot, MarketEventSink& sink);
  void take_snapshot(const Slot& slot, TimestampNs now_ns, MarketEventSink& sink);
  void deliver(std::size_t listing, MarketEventSink& sink);
  void ask_snapshots(TimestampNs now_ns);
  int route(std::string_view text) const;
  void note(std::string text);
  void error(std::string text);

  VenueConfig venue_;
  BinanceMarketOptions options_;
  SnapshotFetcher* fetcher_ = nullptr;
  MarketTap* tap_ = nullptr;
  std::unique_ptr<Network> network_;  // start(): the sockets; null without a network
  std::vector<Listing> listings_;

  // Kernel thread.
  bool connected_ = false;
  TimestampNs opened_ns_ = 0;
  std::uint64_t connection_ = 0;  // which connection: a snapshot asked for under an earlier one is stale
  std::uint64_t next_ticket_ = 0;
  std::vector<Slot> taken_;  // the slots being applied (swapped with the queue's)
  TimestampNs last_error_note_ns_ = 0;
  std::uint64_t errors_unsaid_ = 0;  // bad messages since the last one said
  BinanceMarketStats stats_;
  std::string last_error_;
  std::vector<std::string> notes_;

  // Shared with the network thread.
  std::mutex mutex_;
  std::vector<Slot> queue_;
  std::size_t queued_ = 0;     // slots of queue_ in use
  std::uint64_t dropped_ = 0;  // messages the full queue dropped (read by poll)
  std::uint64_t too_large_ = 0;
};

}  // namespace tranche::gateway
