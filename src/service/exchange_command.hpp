#pragma once
// `tranche exchange`: the simulator's venues behind a FIX 4.4 acceptor, an exchange simulator on real data
// that any FIX client can trade against, and a venue that outlives the EMS; or, with `--protocol binance`,
// one venue behind Binance spot's own REST, WebSocket API and streams over HTTPS/WSS (docs/exchange.md).
#include <iosfwd>
#include <optional>
#include <string>

namespace tranche::service {

struct ExchangeOptions {
  std::string scenario;  // a config file; empty: the bundled default
  std::optional<int> port;
  std::string speed;
  std::string anchor;  // the wall time the data's start plays at; empty: now
  std::optional<std::uint64_t> seed;
  bool quiet = false;
  bool json = false;             // at exit: what each venue executed, as JSON on stdout
  std::string protocol = "fix";  // "fix" or "binance"
  std::string cert, key;         // binance: the TLS certificate and its key (PEM)
  std::string keys;              // binance: the API key file of the one account; empty: none
  std::string venue;  // binance: the venue it plays; empty: [exchange.binance] venue, else binance spot
};

int exchange_command(const ExchangeOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tranche::service
