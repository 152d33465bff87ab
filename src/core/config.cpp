#include "core/config.hpp"

#include <toml++/toml.h>
#include <fstream>
#include <set>
#include <sstream>

namespace tranche {
namespace {

// Reads one table into typed fields, remembering the first error with its location.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string where) : table_(table), where_(std::move(where)) {}

  std::string string(std::string_view key, bool required = true) {
    const auto* node = table_.get(key);
    if (node == nullptr) {
      if (required) fail(std::string(key) + " is missing");
      return {};
    }
    if (const auto* text = node->as_string()) return text->get();
    fail(std::string(key) + " must be a string");
    return {};
  }

  template <class T>
  T decimal(std::string_view key, bool required = true) {
    const auto* node = table_.get(key);
    if (node == nullptr) {
      if (required) fail(std::string(key) + " is missing");
      return T{};
    }
    const auto* text = node->as_string();
    if (text == nullptr) {
      fail(std::string(key) +
           " must be a decimal string (\"0.01\"), not a TOML number, so it is read exactly");
      return T{};
    }
    T value;
    if (!T::parse(text->get(), value)) fail(std::string(key) + " = '" + text->get() + "' is not a decimal");
    return value;
  }

  std::int64_t integer(std::string_view key, std::int64_t fallback) {
    const auto* node = table_.get(key);
    if (node == nullptr) return fallback;
    if (const auto* value = node->as_integer()) return value->get();
    fail(std::string(key) + " must be an integer");
    return fallback;
  }

  bool boolean(std::string_view key, bool fallback) {
    const auto* node = table_.get(key);
    if (node == nullptr) return fallback;
    if (const auto* value = node->as_boolean()) return value->get();
    fail(std::string(key) + " must be true or false");
    return fallback;
  }

  void only(std::initializer_list<std::string_view> known) {
    for (const auto& [key, _] : table_) {
      bool found = false;
      for (auto k : known) found = found || key.str() == k;
      if (!found) fail("unknown key '" + std::string(key.str()) + "'");
    }
  }

  void fail(std::string message) {
    if (error_.empty()) error_ = where_ + ": " + message;
  }
  const std::string& error() const { return error_; }

 private:
  const toml::table& table_;
  std::string where_;
  std::string error_;
};

}  // namespace

const VenueListing* VenueConfig::listing(const InstrumentId& instrument) const {
  for (const auto& l : listings)
    if (l.instrument == instrument) return &l;
  return nullptr;
}

const VenueListing* VenueConfig::listing_by_symbol(std::string_view symbol) const {
  for (const auto& l : listings)
    if (l.symbol == symbol) return &l;
  return nullptr;
}

const Instrument* Config::instrument(const InstrumentId& id) const {
  for (const auto& i : instruments)
    if (i.id == id) return &i;
  return nullptr;
}

const VenueConfig* Config::venue(const VenueId& id) const {
  for (const auto& v : venues)
    if (v.id == id) return &v;
  return nullptr;
}

Result<Config> parse_config(std::string_view toml_text, std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << source_name << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return make_error(out.str());
  }
  Config config;
  config.source = std::string(source_name);
  const std::string file(source_name);

  // Sections owned by later components (simulation scenario, risk, server) are accepted here and read by
  // them.
  static const std::set<std::string> known_sections = {
      "instrument", "venue", "primary_venue", "scenario", "risk", "server", "tca"};
  for (const auto& [key, _] : root)
    if (!known_sections.count(std::string(key.str())))
      return make_error(file + ": unknown top-level key '" + std::string(key.str()) +
                        "' (see docs/config.md)");

  if (const auto* primary = root.get("primary_venue")) {
    if (!primary->is_string()) return make_error(file + ": primary_venue must be a string");
    config.primary_venue = primary->as_string()->get();
  }

  if (const auto* list = root.get("instrument")) {
    const auto* array = list->as_array();
    if (array == nullptr) return make_error(file + ": [[instrument]] must be an array of tables");
    for (std::size_t i = 0; i < array->size(); ++i) {
      const auto* table = (*array)[i].as_table();
      if (table == nullptr) return make_error(file + ": instrument entries must be tables");
      TableReader r(*table, file + ": instrument[" + std::to_string(i) + "]");
      r.only({"id", "base", "quote", "tick_size", "lot_size", "min_notional"});
      Instrument instrument;
      const std::string id = r.string("id");
      if (!InstrumentId::fits(id)) r.fail("id '" + id + "' is longer than 31 characters");
      instrument.id = InstrumentId(id);
      instrument.base = r.string("base");
      instrument.quote = r.string("quote");
      instrument.tick_size = r.decimal<Price>("tick_size");
      instrument.lot_size = r.decimal<Qty>("lot_size");
      instrument.min_notional = r.decimal<Amount>("min_notional", false);
      if (r.error().empty() && !instrument.tick_size.is_positive()) r.fail("tick_size must be positive");
      if (r.error().empty() && !instrument.lot_size.is_positive()) r.fail("lot_size must be positive");
      if (!r.error().empty()) return make_error(r.error());
      if (config.instrument(instrument.id) != nullptr)
        return make_error(file + ": instrument '" + id + "' is defined twice");
      config.instruments.push_back(std::move(instrument));
    }
  }

  if (const auto* list = root.get("venue")) {
    const auto* array = list->as_array();
    if (array == nullptr) return make_error(file + ": [[venue]] must be an array of tables");
    for (std::size_t i = 0; i < array->size(); ++i) {
      const auto* table = (*array)[i].as_table();
      if (table == nullptr) return make_error(file + ": venue entries must be tables");
      TableReader r(*table, file + ": venue[" + std::to_string(i) + "]");
      r.only({"id", "exchange", "market", "maker_fee_bps", "taker_fee_bps", "orders_per_second",
              "cancels_per_second", "listing", "balances", "sim"});
      VenueConfig venue;
      const std::string id = r.string("id");
      if (!VenueId::fits(id)) r.fail("id '" + id + "' is longer than 31 characters");
      venue.id = VenueId(id);
      venue.exchange = r.string("exchange", false);
      venue.market = r.string("market", false);
      venue.fees.maker_bps = r.decimal<Amount>("maker_fee_bps", false);
      venue.fees.taker_bps = r.decimal<Amount>("taker_fee_bps", false);
      venue.limits.orders_per_second = static_cast<int>(r.integer("orders_per_second", 0));
      venue.limits.cancels_per_second = static_cast<int>(r.integer("cancels_per_second", 0));
      if (!r.error().empty()) return make_error(r.error());

      if (const auto* balances = table->get("balances")) {
        const auto* bt = balances->as_table();
        if (bt == nullptr) return make_error(file + ": venue '" + id + "': balances must be a table");
        TableReader br(*bt, file + ": venue '" + id + "'.balances");
        for (const auto& [asset, _] : *bt)
          venue.balances[std::string(asset.str())] = br.decimal<Amount>(asset.str());
        if (!br.error().empty()) return make_error(br.error());
      }

      if (const auto* listings = table->get("listing")) {
        const auto* la = listings->as_array();
        if (la == nullptr)
          return make_error(file + ": venue '" + id + "': [[venue.listing]] must be an array");
        for (std::size_t j = 0; j < la->size(); ++j) {
          const auto* lt = (*la)[j].as_table();
          if (lt == nullptr) return make_error(file + ": venue '" + id + "': listings must be tables");
          TableReader lr(*lt, file + ": venue '" + id + "'.listing[" + std::to_string(j) + "]");
          lr.only(
              {"instrument", "symbol", "tick_size", "lot_size", "min_notional", "inverse", "contract_size"});
          VenueListing listing;
          listing.instrument = InstrumentId(lr.string("instrument"));
          listing.symbol = lr.string("symbol");
          const Instrument* instrument = config.instrument(listing.instrument);
          if (lr.error().empty() && instrument == nullptr)
            lr.fail("instrument '" + listing.instrument.str() + "' is not defined in [[instrument]]");
          // A listing inherits the instrument's steps unless the venue has its own.
          listing.tick_size = lt->get("tick_size") ? lr.decimal<Price>("tick_size")
                                                   : (instrument ? instrument->tick_size : Price{});
          listing.lot_size =
              lt->get("lot_size") ? lr.decimal<Qty>("lot_size") : (instrument ? instrument->lot_size : Qty{});
          listing.min_notional = lt->get("min_notional") ? lr.decimal<Amount>("min_notional")
                                                         : (instrument ? instrument->min_notional : Amount{});
          listing.inverse = lr.boolean("inverse", false);
          listing.contract_size = lr.decimal<Amount>("contract_size", listing.inverse);
          if (lr.error().empty() && !listing.tick_size.is_positive()) lr.fail("tick_size must be positive");
          if (lr.error().empty() && !listing.lot_size.is_positive()) lr.fail("lot_size must be positive");
          if (lr.error().empty() && listing.inverse && !listing.contract_size.is_positive())
            lr.fail("an inverse listing needs a positive contract_size");
          if (!lr.error().empty()) return make_error(lr.error());
          venue.listings.push_back(std::move(listing));
        }
      }
      if (config.venue(venue.id) != nullptr)
        return make_error(file + ": venue '" + id + "' is defined twice");
      config.venues.push_back(std::move(venue));
    }
  }

  if (!config.primary_venue.empty() && config.venue(VenueId(config.primary_venue)) == nullptr)
    return make_error(file + ": primary_venue '" + config.primary_venue + "' is not a configured venue");
  return config;
}

Result<Config> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot open config file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_config(buffer.str(), path);
}

}  // namespace tranche
