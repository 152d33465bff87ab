#pragma once
// `tranche serve`: the daemon. The EMS kernel (algos, placer and router, risk gate, OMS with its journal)
// behind a FIX 4.4 acceptor, trading on the venues the simulator plays, its replay clock mapped onto wall
// time, or with [server] market = "live" on the venues' own market data, on the wall clock (docs/serve.md).
#include <iosfwd>
#include <optional>
#include <string>

namespace tranche::service {

struct ServeOptions {
  std::string config;        // empty: the bundled default
  std::string journal;       // empty: [server] journal
  std::string evidence;      // the TCA of past parents by algo (auto reads it; final TCAs added); empty: none
  std::optional<int> port;   // overrides [server.fix] listen's port (tests pick a free one)
  std::string speed;         // overrides [server] speed
  bool quiet = false;        // no line per answer on stderr
  bool strict_data = false;  // a data issue (recording ends early, unusable stretch) stops the server
  std::string anchor;        // the wall time the data's start plays at (shared with a tranche exchange)
  std::string exchange;      // HOST:PORT of a tranche exchange: every simulated venue over FIX there
  bool paper = false;        // [server] market = "paper": live market data, orders filled by the simulator
  // A duration ("30s"): every so often one JSON line on stdout with the resident memory, what is in memory
  // and the kernel's decision latency percentiles over the interval (docs/serve.md). Empty: none.
  std::string stats_every;
  // Overrides [server.api] listen's port (0: any free one, said on stderr); the API is on when the config
  // has [server.api] or this is given.
  std::optional<int> api_port;
  bool no_api = false;            // no HTTP API, whatever the config says
  std::optional<int> kernel_cpu;  // overrides [server] kernel_cpu (-1: not pinned)
};

int serve_command(const ServeOptions& options, std::ostream& out, std::ostream& err);

// `tranche api-token --name NAME --role ROLE`: a new random token on stdout, with the [[server.api.token]]
// entry (its SHA-256, never the token) to paste into the config. The token is shown once and kept nowhere.
int api_token_command(const std::string& name, const std::string& role, bool json, std::ostream& out,
                      std::ostream& err);

}  // namespace tranche::service
