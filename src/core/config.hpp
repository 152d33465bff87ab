#pragma once
// The one configuration schema (docs/config.md): instruments, venues and the sections later components read.
// Loaded once at start-up; errors are values naming the file and key.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/fixed_point.hpp"
#include "core/ids.hpp"
#include "core/result.hpp"

namespace tranche {

struct Instrument {
  InstrumentId id;    // "ETH-USDT"
  std::string base;   // "ETH"
  std::string quote;  // "USDT"
  Price tick_size;
  Qty lot_size;
  Amount min_notional;  // in the quote currency
};

// How one venue lists one instrument: its own symbol and steps.
struct VenueListing {
  InstrumentId instrument;
  std::string symbol;  // the venue's own symbol, "ETHUSDT"
  Price tick_size;
  Qty lot_size;
  Amount min_notional;
  // Inverse (coin-margined) contracts: each contract is worth contract_size units of the quote currency and
  // quantities are whole contracts. Linear listings leave contract_size at zero.
  bool inverse = false;
  Amount contract_size;
};

struct VenueFees {
  Amount maker_bps;  // negative = rebate
  Amount taker_bps;
};

struct VenueLimits {
  int orders_per_second = 0;  // 0 = unlimited
  int cancels_per_second = 0;
};

struct VenueConfig {
  VenueId id;            // "binance-spot"
  std::string exchange;  // "binance"
  std::string market;    // "spot", "usdm", "coinm"
  VenueFees fees;
  VenueLimits limits;
  std::vector<VenueListing> listings;
  std::map<std::string, Amount> balances;  // asset -> starting balance (simulation)

  const VenueListing* listing(const InstrumentId& instrument) const;
  const VenueListing* listing_by_symbol(std::string_view symbol) const;
};

struct Config {
  std::vector<Instrument> instruments;
  std::vector<VenueConfig> venues;
  std::string primary_venue;  // the venue whose mid is the TCA benchmark
  std::string source;         // where it was loaded from, for messages

  const Instrument* instrument(const InstrumentId& id) const;
  const VenueConfig* venue(const VenueId& id) const;
};

Result<Config> parse_config(std::string_view toml_text, std::string_view source_name);
Result<Config> load_config(const std::string& path);

}  // namespace tranche
