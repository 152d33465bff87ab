#pragma once
// The network face of `tranche exchange --protocol binance`: one port serving HTTPS (REST) and WSS (the
// WebSocket API and market streams) on Boost.Beast, handing every request to a BinanceVenue and writing its
// answers. One thread runs it all, the simulator included (`step`), so the venue is never touched from two.
//
// Bad input is answered, never fatal: a malformed HTTP request gets 400, a body over `max_body_bytes` 413, a
// WebSocket message over it closes that connection (1009), a request that does not arrive whole within
// `read_timeout` (a slow client) loses its connection, and a client that reads its WebSocket too slowly
// (`max_queued_messages` waiting) is disconnected, as Binance disconnects slow consumers.
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "core/time.hpp"
#include "gateway/binance_venue.hpp"

namespace tranche::gateway::binance {

struct VenueServerOptions {
  std::string host = "127.0.0.1";
  int port = 9443;        // 0: any free port (port() says which)
  std::string cert_file;  // PEM: the server's certificate (chain)
  std::string key_file;   // PEM: its private key
  std::size_t max_body_bytes = 64 * 1024;
  DurationNs read_timeout_ns = 10 * kNanosPerSecond;
  std::size_t max_queued_messages = 20000;
};

class BinanceVenueServer {
 public:
  // Loads the certificate and key and listens; an error names what failed.
  static Result<std::unique_ptr<BinanceVenueServer>> start(const VenueServerOptions& options);
  ~BinanceVenueServer();
  BinanceVenueServer(const BinanceVenueServer&) = delete;
  BinanceVenueServer& operator=(const BinanceVenueServer&) = delete;

  // Where the venue writes its answers.
  VenueOutput& output();
  int port() const;

  // Serves `venue` until `stop` is non-zero: network I/O; `step` about every millisecond (the simulator up
  // to the wall clock's replay time, then the venue's after_run); the venue's on_tick every 100 ms.
  void run(BinanceVenue& venue, const std::function<void()>& step, const std::atomic<int>& stop);

 private:
  struct Impl;
  explicit BinanceVenueServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tranche::gateway::binance
