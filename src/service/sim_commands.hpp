#pragma once
// `tranche sim ...`: replay a scenario's venues, and send one order into it to see how the venue answers.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace tranche::service {

// The bundled default config (config/default.toml of the source tree), or $TRANCHE_CONFIG when set.
std::string default_config_path();

struct SimRunOptions {
  std::string config;  // empty: the bundled default
  std::optional<std::uint64_t> seed;
  std::string start, end;  // receive clock; empty: the scenario's
  std::vector<std::string> venues;
  bool json = false;
};

struct SimOrderOptions {
  std::string config;
  std::optional<std::uint64_t> seed;
  std::string venue;
  std::string instrument = "ETH-USDT";
  std::string side;
  std::string qty;
  std::string type = "market";  // market | limit
  std::string price;
  std::string tif = "gtc";   // gtc | ioc | fok | post-only
  std::string at;            // when we send it; empty: the scenario's start
  std::string cancel_after;  // a duration after sending; empty: never
  std::string journal;       // journal the order through the OMS into this file; empty: no journal
  bool json = false;
};

int sim_run(const SimRunOptions& options, std::ostream& out, std::ostream& err);
int sim_order(const SimOrderOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tranche::service
