#pragma once
// The gateway to Binance through its own API (docs/gateways.md), for each of its markets: spot (/api/v3),
// USD-M futures (/fapi) and COIN-M futures (/dapi, quantities in contracts). Child orders out as Binance
// orders (spot: over REST or the WebSocket API, [venue.binance] order_api; futures: REST), what Binance says
// back (answers, the user data's executionReports or ORDER_TRADE_UPDATEs, queries, trades) as the core's
// ExecutionReports.
//  - Amends: spot cancel-replaces (a new clientOrderId, told as one Replaced); futures modify in place (PUT
//    order, the ids kept). Post-only is spot's LIMIT_MAKER, futures' GTX.
//  - User data: spot over the WebSocket API; futures on the stream of a listen key, created at start, kept
//    alive every 30 minutes and replaced when the venue expires it (the stream reconnected to the new one).
//    Futures' positions and margin balances are read at start and kept from ACCOUNT_UPDATE.
//
//  - Keys from an owner-only key file or the environment, never the config; requests signed with
//    HMAC-SHA256, timestamps on the venue's clock (its offset measured from its server time).
//  - Every rateLimits entry of exchangeInfo enforced before a request leaves, re-synced from the
//    X-MBX-USED-WEIGHT-* / X-MBX-ORDER-COUNT-* headers (or the WebSocket API's rateLimits); a 429 or 418
//    stops everything until its Retry-After: requests meanwhile are refused (RateLimited), never held.
//  - The listing's filters (tick, lot, min notional) read from exchangeInfo at start and checked against
//    the config: a mismatch is refused at start.
//  - No double orders: a new order whose answer is lost (timeout, -1007, 5xx) is queried by its
//    clientOrderId before anything else; "unknown order" is trusted only once its timestamp + recvWindow has
//    passed (until then the matching engine could still take it).
//  - User data over the WebSocket API (userDataStream.subscribe.signature). After every reconnect the open
//    orders are queried and the trades since the last one heard are fetched: a fill missed while the
//    connection was down is told once, late, never lost.
//
// Threads: the network work runs on the one I/O thread (NetworkThread) all gateways share. What the venue
// said is queued there and handed to the EMS by poll(), on its thread and stamped with its clock, as
// FixVenueSession does.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/config.hpp"
#include "core/order.hpp"
#include "core/result.hpp"

namespace tranche::gateway {

namespace net {
class IoThread;
}

// The one thread every crypto gateway's network work runs on.
class NetworkThread {
 public:
  NetworkThread();
  ~NetworkThread();
  NetworkThread(const NetworkThread&) = delete;
  NetworkThread& operator=(const NetworkThread&) = delete;
  net::IoThread& io() { return *io_; }

 private:
  std::unique_ptr<net::IoThread> io_;
};

struct BinanceSessionOptions {
  // At start, trades since this moment (the journal's last) are fetched and told once: fills made while we
  // were away. 0: none fetched.
  TimestampNs reconcile_since_ns = 0;
  std::uint64_t seed = 1;  // the reconnect backoff's jitter
};

class BinanceSession final : public VenueSession {
 public:
  // Connects, measures the clock offset, loads and checks exchangeInfo, subscribes to user data and reads
  // the open orders; waits up to the request timeout for all of it. An error says what failed (a
  // certificate not trusted, a key refused, a filter that differs from the config).
  static Result<std::unique_ptr<BinanceSession>> start(const VenueConfig& venue, NetworkThread& network,
                                                       const BinanceSessionOptions& options);
  ~BinanceSession() override;
  BinanceSession(const BinanceSession&) = delete;
  BinanceSession& operator=(const BinanceSession&) = delete;

  VenueId venue() const override;
  // False (and a reject at the next poll) when the session is down or rate limited.
  bool send(const NewOrder& order) override;
  bool cancel(const CancelOrder& cancel) override;
  bool amend(const AmendOrder& amend) override;
  bool query(const OrderStatusQuery& query) override;

  // Hands what the venue said since the last call to `listener`, stamped received at `now_ns`: execution
  // reports and the session's state (Open, Disconnected). Returns how many.
  std::size_t poll(ExecutionListener& listener, TimestampNs now_ns);
  bool ready() const;
  // Messages from the venue that could not be read, or that named orders we do not know, each with the
  // reason: counted and kept (the last 100), never dropped silently.
  std::uint64_t unreadable() const;
  std::string last_unreadable() const;
  // Trades heard more than once (the venue repeating a report, or a trade both streamed and fetched): each
  // counted once.
  std::uint64_t repeated_trades() const;
  // The account's balances as the user data stream last said them (outboundAccountPosition), per asset.
  struct Balance {
    Qty free;
    Qty locked;
  };
  // Futures: each margin asset's wallet balance (in free; locked zero), from the balance endpoint at start
  // and ACCOUNT_UPDATE since.
  std::map<std::string, Balance> balances() const;
  // Futures: the position per symbol (one-way mode: positionSide BOTH), signed (short below zero), in the
  // listing's units (contracts on COIN-M), from positionRisk at start and each reconnection and
  // ACCOUNT_UPDATE since. Empty on spot.
  struct Position {
    Qty amount;
    Price entry_price = Price::unset();
    Amount unrealized_pnl;
  };
  std::map<std::string, Position> positions() const;
  // The venue's clock minus ours, as last measured (ms).
  std::int64_t clock_offset_ms() const;
  // Drops the user-data connection as a network would (tests, chaos): it comes back and reconciles.
  void drop_connection();
  void stop();

 private:
  struct Impl;
  explicit BinanceSession(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace tranche::gateway
