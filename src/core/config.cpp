#include "core/config.hpp"

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace tranche {
namespace {

constexpr int kMaxRatePerSecond = 1'000'000;
constexpr int kMaxOpenOrders = 1'000'000;

std::string format_rate(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

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

  // An integer that must lie in [lo, hi]: a value outside is an error naming the key, never a limit that
  // silently means something else (a negative count is not "unlimited").
  int integer_in(std::string_view key, int fallback, int lo, int hi, std::string_view why = {}) {
    const std::int64_t value = integer(key, fallback);
    if (error_.empty() && (value < lo || value > hi)) {
      fail(std::string(key) + " = " + std::to_string(value) + " is out of range: it must be between " +
           std::to_string(lo) + " and " + std::to_string(hi) + (why.empty() ? "" : " (") + std::string(why) +
           (why.empty() ? "" : ")"));
      return fallback;
    }
    return static_cast<int>(value);
  }

  // A decimal that must not be negative (quantities, notionals, balances); absent keeps `fallback`.
  template <class T>
  T non_negative(std::string_view key, T fallback, std::string_view zero_means = {}) {
    if (table_.get(key) == nullptr) return fallback;
    const T value = decimal<T>(key);
    if (error_.empty() && value.is_negative())
      fail(std::string(key) + " = '" + value.to_string() + "' must not be negative" +
           (zero_means.empty() ? "" : std::string(" (") + std::string(zero_means) + ")"));
    return value;
  }

  // A decimal that must lie in [lo, hi] (bps and the like).
  Amount decimal_in(std::string_view key, Amount fallback, Amount lo, Amount hi) {
    if (table_.get(key) == nullptr) return fallback;
    const Amount value = decimal<Amount>(key);
    if (error_.empty() && (value < lo || value > hi))
      fail(std::string(key) + " = '" + value.to_string() + "' is out of range: it must be between " +
           lo.to_string() + " and " + hi.to_string());
    return value;
  }

  bool boolean(std::string_view key, bool fallback) {
    const auto* node = table_.get(key);
    if (node == nullptr) return fallback;
    if (const auto* value = node->as_boolean()) return value->get();
    fail(std::string(key) + " must be true or false");
    return fallback;
  }

  // A decimal string read as a rate in [lo, hi] (probabilities, resilience).
  double rate(std::string_view key, double fallback, double lo = 0.0, double hi = 1.0) {
    if (table_.get(key) == nullptr) return fallback;
    const Amount value = decimal<Amount>(key);
    const double d = value.to_double();
    if (error_.empty() && (d < lo || d > hi))
      fail(std::string(key) + " must be between " + format_rate(lo) + " and " + format_rate(hi));
    return d;
  }

  DurationNs duration(std::string_view key, DurationNs fallback) {
    const std::string text = string(key, false);
    if (text.empty()) return fallback;
    auto parsed = parse_duration(text);
    if (!parsed) {
      fail(std::string(key) + ": " + parsed.error().message);
      return fallback;
    }
    return *parsed;
  }

  LatencySpec latency(std::string_view key) {
    const std::string text = string(key, false);
    if (text.empty()) return LatencySpec{LatencySpec::Kind::Constant, 0, 0, 0, "0"};
    auto parsed = parse_latency(text);
    if (!parsed) {
      fail(std::string(key) + ": " + parsed.error().message);
      return {};
    }
    return *parsed;
  }

  TimestampNs time(std::string_view key) {
    const std::string text = string(key, false);
    if (text.empty()) return 0;
    auto parsed = parse_time(text);
    if (!parsed) fail(std::string(key) + ": " + parsed.error().message);
    return parsed ? *parsed : 0;
  }

  // [["start", "end"], ...] on the receive clock.
  std::vector<TimeWindow> windows(std::string_view key) {
    std::vector<TimeWindow> out;
    const auto* node = table_.get(key);
    if (node == nullptr) return out;
    const auto* array = node->as_array();
    if (array == nullptr) {
      fail(std::string(key) + " must be a list of [start, end] pairs");
      return out;
    }
    for (const auto& item : *array) {
      const auto* pair = item.as_array();
      if (pair == nullptr || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_string()) {
        fail(std::string(key) + " must be a list of [\"start\", \"end\"] pairs");
        return out;
      }
      auto start = parse_time((*pair)[0].as_string()->get());
      auto end = parse_time((*pair)[1].as_string()->get());
      if (!start || !end || *end <= *start) {
        fail(std::string(key) + ": each window needs two times, the end after the start");
        return out;
      }
      out.push_back({*start, *end});
    }
    return out;
  }

  // "HOST:PORT" into host and port; left as they are when the key is absent.
  void address(std::string_view key, std::string& host, int& port, std::string_view example) {
    if (table_.get(key) == nullptr) return;
    const std::string text = string(key);
    if (!parse_host_port(text, host, port))
      fail(std::string(key) + " '" + text + "' is not HOST:PORT (" + std::string(example) + ")");
  }

  // A list of CompIDs that may log on: replaced when the key is present, never empty.
  void comp_ids(std::string_view key, std::vector<std::string>& into) {
    const auto* list = table_.get(key);
    if (list == nullptr) return;
    into.clear();
    const auto* array = list->as_array();
    if (array == nullptr) return fail(std::string(key) + " must be a list of strings");
    for (const auto& item : *array) {
      if (!item.is_string()) return fail(std::string(key) + " must be a list of strings");
      into.push_back(item.as_string()->get());
    }
    if (into.empty()) fail(std::string(key) + " is empty: nobody could log on");
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

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

// "files" is one feed (a list of paths) or several (a list of lists); paths are relative to the config file.
Status read_feeds(const toml::node* node, const std::filesystem::path& base, const std::string& where,
                  std::vector<std::vector<std::string>>& feeds) {
  const auto* array = node ? node->as_array() : nullptr;
  if (array == nullptr || array->empty())
    return make_error(where + ": files must list the recorded files that feed the venue");
  auto resolve = [&](const std::string& file) {
    const std::filesystem::path path(file);
    return (path.is_absolute() ? path : base / path).lexically_normal().string();
  };
  const bool nested = (*array)[0].is_array();
  for (const auto& item : *array) {
    std::vector<std::string> feed;
    if (nested) {
      const auto* inner = item.as_array();
      if (inner == nullptr || inner->empty())
        return make_error(where + ": files must be all paths or all lists of paths");
      for (const auto& f : *inner) {
        if (!f.is_string()) return make_error(where + ": files must be strings");
        feed.push_back(resolve(f.as_string()->get()));
      }
      feeds.push_back(std::move(feed));
    } else {
      if (!item.is_string()) return make_error(where + ": files must be all paths or all lists of paths");
      if (feeds.empty()) feeds.emplace_back();
      feeds.front().push_back(resolve(item.as_string()->get()));
    }
  }
  return {};
}

// [venue.binance]: Binance's own API (spot, USD-M or COIN-M futures). The key is named (a file or
// two environment variables), never held.
Result<VenueBinanceConfig> read_venue_binance(const toml::node* node, const VenueConfig& venue,
                                              const std::filesystem::path& base, const std::string& where) {
  const auto* table = node->as_table();
  if (table == nullptr) return make_error(where + " must be a table");
  TableReader r(*table, where);
  r.only({"network", "rest_url", "ws_api_url", "stream_url", "ca_file", "order_api", "key_file", "key_env",
          "secret_env", "recv_window", "request_timeout", "reconnect_min", "reconnect_max",
          "client_order_prefix", "on_reconnect", "api_key", "api_secret"});
  if (table->get("api_key") || table->get("api_secret"))
    return make_error(where +
                      ": a key never goes in the config: name a key_file (owner-only) or key_env/secret_env");
  VenueBinanceConfig b;
  if (table->get("network")) b.network = r.string("network");
  const bool testnet = b.network == "testnet";
  if (!testnet && b.network != "production")
    r.fail("network '" + b.network + "' is not production or testnet");
  // Each market's own hosts (Binance's docs): spot, USD-M futures (/fapi), COIN-M futures (/dapi).
  if (venue.market == "usdm") {
    b.rest_url = testnet ? "https://testnet.binancefuture.com" : "https://fapi.binance.com";
    b.ws_api_url =
        testnet ? "wss://testnet.binancefuture.com/ws-fapi/v1" : "wss://ws-fapi.binance.com/ws-fapi/v1";
    b.stream_url = testnet ? "wss://stream.binancefuture.com" : "wss://fstream.binance.com";
  } else if (venue.market == "coinm") {
    b.rest_url = testnet ? "https://testnet.binancefuture.com" : "https://dapi.binance.com";
    b.ws_api_url =
        testnet ? "wss://testnet.binancefuture.com/ws-dapi/v1" : "wss://ws-dapi.binance.com/ws-dapi/v1";
    b.stream_url = testnet ? "wss://dstream.binancefuture.com" : "wss://dstream.binance.com";
  } else {
    b.rest_url = testnet ? "https://testnet.binance.vision" : "https://api.binance.com";
    b.ws_api_url =
        testnet ? "wss://ws-api.testnet.binance.vision/ws-api/v3" : "wss://ws-api.binance.com:443/ws-api/v3";
    b.stream_url = testnet ? "wss://stream.testnet.binance.vision" : "wss://stream.binance.com:9443";
  }
  for (auto [key, url] : {std::pair<const char*, std::string*>{"rest_url", &b.rest_url},
                          {"ws_api_url", &b.ws_api_url},
                          {"stream_url", &b.stream_url}}) {
    if (!table->get(key)) continue;
    *url = r.string(key);
    const std::string_view scheme = std::string_view(key) == "rest_url" ? "https://" : "wss://";
    if (url->rfind(scheme, 0) != 0)
      r.fail(std::string(key) + " '" + *url + "' must start with " + std::string(scheme) +
             " (certificates are always verified)");
  }
  if (table->get("ca_file")) {
    b.ca_file = r.string("ca_file");
    if (!b.ca_file.empty() && std::filesystem::path(b.ca_file).is_relative())
      b.ca_file = (base / b.ca_file).string();
  }
  if (table->get("order_api")) b.order_api = r.string("order_api");
  if (b.order_api != "rest" && b.order_api != "websocket")
    r.fail("order_api '" + b.order_api + "' is not rest or websocket");
  if (b.order_api == "websocket" && venue.market != "spot")
    r.fail("order_api 'websocket' is spot's WebSocket API; orders to Binance futures go over REST here");
  if (table->get("key_file")) {
    b.key_file = r.string("key_file");
    if (!b.key_file.empty() && std::filesystem::path(b.key_file).is_relative())
      b.key_file = (base / b.key_file).string();
  }
  if (table->get("key_env")) b.key_env = r.string("key_env");
  if (table->get("secret_env")) b.secret_env = r.string("secret_env");
  b.recv_window_ns = r.duration("recv_window", b.recv_window_ns);
  if (b.recv_window_ns <= 0 || b.recv_window_ns > 60 * kNanosPerSecond)
    r.fail("recv_window must be above 0 and at most 60s (Binance's limit)");
  b.request_timeout_ns = r.duration("request_timeout", b.request_timeout_ns);
  if (b.request_timeout_ns < 100 * kNanosPerMilli || b.request_timeout_ns > 120 * kNanosPerSecond)
    r.fail("request_timeout must be 100ms to 120s");
  b.reconnect_min_ns = r.duration("reconnect_min", b.reconnect_min_ns);
  b.reconnect_max_ns = r.duration("reconnect_max", b.reconnect_max_ns);
  if (b.reconnect_min_ns < 10 * kNanosPerMilli || b.reconnect_max_ns < b.reconnect_min_ns ||
      b.reconnect_max_ns > 600 * kNanosPerSecond)
    r.fail("reconnect_min must be at least 10ms and reconnect_max between it and 600s");
  if (table->get("client_order_prefix")) b.client_order_prefix = r.string("client_order_prefix");
  {
    const std::string& p = b.client_order_prefix;
    const bool ok = !p.empty() && p.size() <= 8 && std::all_of(p.begin(), p.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0;
    });
    if (!ok) r.fail("client_order_prefix '" + p + "' must be 1 to 8 letters or digits");
  }
  if (table->get("on_reconnect")) b.on_reconnect = r.string("on_reconnect");
  if (b.on_reconnect != "query" && b.on_reconnect != "cancel")
    r.fail("on_reconnect '" + b.on_reconnect + "' is not query or cancel");
  if (venue.exchange != "binance" ||
      (venue.market != "spot" && venue.market != "usdm" && venue.market != "coinm"))
    r.fail("only a binance spot, usdm or coinm venue speaks Binance's API (this one is " + venue.exchange +
           " " + venue.market + ")");
  if (venue.fix) r.fail("a venue is reached over FIX or over Binance's API, not both");
  if (!r.error().empty()) return make_error(r.error());
  return b;
}

Result<VenueSimConfig> read_venue_sim(const toml::table& table, const std::string& market,
                                      const std::filesystem::path& base, const std::string& where) {
  TableReader r(table, where);
  r.only({"files", "latency", "queue_model", "cross_fill", "resilience", "recentre", "stale_after", "account",
          "leverage", "faults"});
  VenueSimConfig sim;
  // Without files the venue can only be played on a live feed (paper trading); a replay refuses it.
  if (table.get("files") != nullptr)
    if (auto status = read_feeds(table.get("files"), base, where, sim.feeds); !status)
      return make_error(status.message());
  const std::string queue = r.string("queue_model", false);
  if (queue.empty() || queue == "risk-averse") {
    sim.queue_model = QueueModel::RiskAverse;
  } else if (queue == "proportional") {
    sim.queue_model = QueueModel::Proportional;
  } else if (queue == "exact") {
    sim.queue_model = QueueModel::Exact;
  } else {
    r.fail("queue_model '" + queue + "' is not one of risk-averse, proportional, exact");
  }
  if (const std::string cross = r.string("cross_fill", false); !cross.empty()) {
    if (auto fill = parse_cross_fill(cross))
      sim.cross_fill = *fill;
    else
      r.fail(fill.error().message);
  }
  sim.resilience = r.rate("resilience", 0.5);
  sim.recentre = r.boolean("recentre", false);
  sim.stale_after_ns = r.duration("stale_after", 5 * kNanosPerSecond);
  if (r.error().empty() && sim.stale_after_ns < kNanosPerMilli) r.fail("stale_after must be at least 1ms");
  const std::string account = r.string("account", false);
  if (account.empty()) {
    sim.account = market == "spot" || market.empty() ? AccountModel::Cash : AccountModel::Margin;
  } else if (account == "cash") {
    sim.account = AccountModel::Cash;
  } else if (account == "margin") {
    sim.account = AccountModel::Margin;
  } else {
    r.fail("account '" + account + "' is not cash or margin");
  }
  if (table.get("leverage")) sim.leverage = r.decimal<Amount>("leverage");
  if (r.error().empty() && !sim.leverage.is_positive()) r.fail("leverage must be positive");
  if (!r.error().empty()) return make_error(r.error());

  if (const auto* node = table.get("latency")) {
    const auto* lt = node->as_table();
    if (lt == nullptr) return make_error(where + ": latency must be a table");
    TableReader lr(*lt, where + ".latency");
    lr.only({"market_data", "order", "response", "cancel"});
    sim.market_data_latency = lr.latency("market_data");
    sim.order_latency = lr.latency("order");
    sim.response_latency = lr.latency("response");
    sim.cancel_latency = lt->get("cancel") ? lr.latency("cancel") : sim.order_latency;
    if (!lr.error().empty()) return make_error(lr.error());
  } else {
    sim.market_data_latency = sim.order_latency = sim.response_latency = sim.cancel_latency =
        LatencySpec{LatencySpec::Kind::Constant, 0, 0, 0, "0"};
  }

  if (const auto* node = table.get("faults")) {
    const auto* ft = node->as_table();
    if (ft == nullptr) return make_error(where + ": faults must be a table");
    TableReader fr(*ft, where + ".faults");
    fr.only({"drop_ack", "drop_fill", "duplicate", "delay", "delay_by", "reorder", "reorder_within",
             "fill_after_cancel", "reject", "disconnect", "halt", "stale"});
    VenueFaults& f = sim.faults;
    f.drop_ack = fr.rate("drop_ack", 0);
    f.drop_fill = fr.rate("drop_fill", 0);
    f.duplicate = fr.rate("duplicate", 0);
    f.delay = fr.rate("delay", 0);
    f.delay_by_ns = fr.duration("delay_by", 50 * kNanosPerMilli);
    f.reorder = fr.rate("reorder", 0);
    f.reorder_within_ns = fr.duration("reorder_within", 5 * kNanosPerMilli);
    f.fill_after_cancel = fr.rate("fill_after_cancel", 0);
    f.reject = fr.rate("reject", 0);
    f.disconnects = fr.windows("disconnect");
    f.halts = fr.windows("halt");
    f.stale = fr.windows("stale");
    for (const auto* list : {&f.disconnects, &f.halts}) {
      auto sorted = *list;
      std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.start_ns < b.start_ns; });
      for (std::size_t i = 1; i < sorted.size(); ++i)
        if (sorted[i].start_ns < sorted[i - 1].end_ns)
          fr.fail("disconnect and halt windows must not overlap");
    }
    if (!fr.error().empty()) return make_error(fr.error());
  }
  return sim;
}

}  // namespace

std::string_view to_string(QueueModel model) {
  switch (model) {
    case QueueModel::RiskAverse:
      return "risk-averse";
    case QueueModel::Proportional:
      return "proportional";
    case QueueModel::Exact:
      return "exact";
  }
  return "?";
}

std::string_view to_string(CrossFill fill) {
  switch (fill) {
    case CrossFill::None:
      return "none";
    case CrossFill::Prints:
      return "prints";
    case CrossFill::Full:
      return "full";
  }
  return "?";
}

Result<CrossFill> parse_cross_fill(std::string_view text) {
  if (text == "prints") return CrossFill::Prints;
  if (text == "none") return CrossFill::None;
  if (text == "full") return CrossFill::Full;
  return make_error("cross_fill '" + std::string(text) + "' is not one of prints, none, full");
}

Result<DurationNs> parse_duration(std::string_view text) {
  text = trim(text);
  if (text == "0") return DurationNs{0};
  std::size_t digits = 0;
  while (digits < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.'))
    ++digits;
  const std::string_view number = text.substr(0, digits);
  const std::string_view unit = trim(text.substr(digits));
  DurationNs scale = 0;
  if (unit == "ns") scale = 1;
  if (unit == "us") scale = kNanosPerMicro;
  if (unit == "ms") scale = kNanosPerMilli;
  if (unit == "s") scale = kNanosPerSecond;
  if (unit == "m" || unit == "min") scale = 60 * kNanosPerSecond;
  if (unit == "h") scale = 3600 * kNanosPerSecond;
  Amount value;
  if (number.empty() || scale == 0 || !Amount::parse(number, value) || value.raw() < 0)
    return make_error(std::string("'").append(text).append(
        "' is not a duration (write it as 1500ns, 250us, 3ms, 2s, 5m or 1h)"));
  // value has 8 decimals; scale it without going through floating point.
  const Int128 ns = static_cast<Int128>(value.raw()) * scale / kFixedScale;
  if (ns > std::numeric_limits<DurationNs>::max())
    return make_error(std::string("'").append(text).append("' is too long"));
  return static_cast<DurationNs>(ns);
}

Result<LatencySpec> parse_latency(std::string_view text) {
  LatencySpec spec;
  spec.text = std::string(trim(text));
  const std::string_view t = trim(text);
  auto args = [&](std::string_view name, std::string_view& a, std::string_view& b) {
    if (t.substr(0, name.size()) != name || t.back() != ')') return false;
    std::string_view inner = t.substr(name.size(), t.size() - name.size() - 1);
    const auto comma = inner.find(',');
    if (comma == std::string_view::npos) return false;
    a = trim(inner.substr(0, comma));
    b = trim(inner.substr(comma + 1));
    return true;
  };
  std::string_view a, b;
  const std::string bad =
      "'" + spec.text +
      "' is not a latency: write 1ms, uniform(1ms, 3ms), lognormal(2ms, 0.5), data or data+1ms";
  if (t == "data" || t.substr(0, 5) == "data+") {
    spec.kind = LatencySpec::Kind::FromData;
    if (t.size() > 4) {
      auto base = parse_duration(t.substr(5));
      if (!base) return make_error(bad);
      spec.base_ns = *base;
    }
    return spec;
  }
  if (args("uniform(", a, b)) {
    auto low = parse_duration(a);
    auto high = parse_duration(b);
    if (!low || !high || *high < *low) return make_error(bad + " (uniform needs low <= high)");
    spec.kind = LatencySpec::Kind::Uniform;
    spec.base_ns = *low;
    spec.high_ns = *high;
    return spec;
  }
  if (args("lognormal(", a, b)) {
    auto median = parse_duration(a);
    Amount sigma;
    if (!median || !Amount::parse(b, sigma) || sigma.raw() < 0) return make_error(bad);
    spec.kind = LatencySpec::Kind::LogNormal;
    spec.base_ns = *median;
    spec.sigma = sigma.to_double();
    return spec;
  }
  auto constant = parse_duration(t);
  if (!constant) return make_error(bad);
  spec.kind = LatencySpec::Kind::Constant;
  spec.base_ns = *constant;
  return spec;
}

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

Status Config::check_parent_qty(const InstrumentId& id, Qty qty) const {
  Qty smallest;
  std::string where;
  for (const auto& v : venues)
    if (const VenueListing* l = v.listing(id); l != nullptr && !l->inverse)
      if (where.empty() || l->lot_size < smallest) {
        smallest = l->lot_size;
        where = v.id.str();
      }
  if (!where.empty() && qty < smallest)
    return make_error("quantity " + qty.to_string() + " is below the smallest lot any venue takes (" +
                      smallest.to_string() + " on " + where + "): nothing of it could ever be executed");
  return {};
}

bool parse_host_port(std::string_view text, std::string& host, int& port) {
  const auto colon = text.rfind(':');
  int parsed = 0;
  if (colon == std::string_view::npos || colon == 0 ||
      std::from_chars(text.data() + colon + 1, text.data() + text.size(), parsed).ptr !=
          text.data() + text.size() ||
      parsed <= 0 || parsed > 65535)
    return false;
  host = std::string(text.substr(0, colon));
  port = parsed;
  return true;
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
  const std::filesystem::path base_dir = std::filesystem::path(file).parent_path();

  // Sections owned by later components (simulation scenario, risk, server) are accepted here and read by
  // them.
  static const std::set<std::string> known_sections = {
      "instrument", "venue", "primary_venue", "scenario", "risk", "server", "tca", "exchange", "oms"};
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
      instrument.min_notional = r.non_negative<Amount>("min_notional", Amount{}, "0 = none");
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
              "cancels_per_second", "listing", "balances", "sim", "fix", "binance"});
      VenueConfig venue;
      const std::string id = r.string("id");
      if (!VenueId::fits(id)) r.fail("id '" + id + "' is longer than 31 characters");
      venue.id = VenueId(id);
      venue.exchange = r.string("exchange", false);
      venue.market = r.string("market", false);
      // A rebate is a negative fee; past 10% either way it is a typo, not a fee schedule.
      venue.fees.maker_bps =
          r.decimal_in("maker_fee_bps", Amount{}, Amount::from_units(-1000), Amount::from_units(1000));
      venue.fees.taker_bps =
          r.decimal_in("taker_fee_bps", Amount{}, Amount::from_units(-1000), Amount::from_units(1000));
      venue.limits.orders_per_second =
          r.integer_in("orders_per_second", 0, 0, kMaxRatePerSecond, "0 = unlimited");
      venue.limits.cancels_per_second =
          r.integer_in("cancels_per_second", 0, 0, kMaxRatePerSecond, "0 = unlimited");
      if (!r.error().empty()) return make_error(r.error());

      if (const auto* balances = table->get("balances")) {
        const auto* bt = balances->as_table();
        if (bt == nullptr) return make_error(file + ": venue '" + id + "': balances must be a table");
        TableReader br(*bt, file + ": venue '" + id + "'.balances");
        for (const auto& [asset, _] : *bt)
          venue.balances[std::string(asset.str())] = br.non_negative<Amount>(asset.str(), Amount{});
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
          listing.min_notional = lr.non_negative<Amount>(
              "min_notional", instrument ? instrument->min_notional : Amount{}, "0 = none");
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
      if (const auto* sim = table->get("sim")) {
        const auto* st = sim->as_table();
        if (st == nullptr) return make_error(file + ": venue '" + id + "': sim must be a table");
        auto parsed = read_venue_sim(*st, venue.market, base_dir, file + ": venue '" + id + "'.sim");
        if (!parsed) return parsed.error();
        venue.sim = std::move(*parsed);
      }
      if (const auto* fix_node = table->get("fix")) {
        const auto* ft = fix_node->as_table();
        if (ft == nullptr) return make_error(file + ": venue '" + id + "': fix must be a table");
        TableReader fr(*ft, file + ": venue '" + id + "'.fix");
        fr.only({"connect", "sender_comp_id", "target_comp_id", "heartbeat", "reconnect", "on_reconnect",
                 "reset_on_logon"});
        VenueFixConfig fix;
        if (ft->get("connect") == nullptr) fr.fail("connect is missing");
        fr.address("connect", fix.host, fix.port, "127.0.0.1:9879");
        if (ft->get("sender_comp_id")) fix.sender_comp_id = fr.string("sender_comp_id");
        fix.target_comp_id = ft->get("target_comp_id") ? fr.string("target_comp_id") : id;
        fix.heartbeat_ns = fr.duration("heartbeat", fix.heartbeat_ns);
        fix.reconnect_ns = fr.duration("reconnect", fix.reconnect_ns);
        if (fr.error().empty() && (fix.heartbeat_ns < kNanosPerSecond || fix.reconnect_ns < kNanosPerSecond))
          fr.fail("heartbeat and reconnect must be whole seconds, at least 1s");
        if (ft->get("on_reconnect")) fix.on_reconnect = fr.string("on_reconnect");
        if (fix.on_reconnect != "query" && fix.on_reconnect != "cancel")
          fr.fail("on_reconnect '" + fix.on_reconnect + "' is not query or cancel");
        fix.reset_on_logon = fr.boolean("reset_on_logon", fix.reset_on_logon);
        if (!fr.error().empty()) return make_error(fr.error());
        venue.fix = std::move(fix);
      }
      if (const auto* binance_node = table->get("binance")) {
        auto parsed =
            read_venue_binance(binance_node, venue, base_dir, file + ": venue '" + id + "'.binance");
        if (!parsed) return parsed.error();
        venue.binance = std::move(*parsed);
      }
      if (config.venue(venue.id) != nullptr)
        return make_error(file + ": venue '" + id + "' is defined twice");
      config.venues.push_back(std::move(venue));
    }
  }

  if (const auto* node = root.get("scenario")) {
    const auto* table = node->as_table();
    if (table == nullptr) return make_error(file + ": [scenario] must be a table");
    TableReader r(*table, file + ": scenario");
    r.only({"name", "start", "end", "seed", "recentre_reference", "recentre_window", "recentre_sample"});
    ScenarioConfig scenario;
    scenario.name = r.string("name", false);
    scenario.start_ns = r.time("start");
    scenario.end_ns = r.time("end");
    const std::int64_t seed = r.integer("seed", 1);
    if (seed < 0) r.fail("seed must not be negative");
    scenario.seed = static_cast<std::uint64_t>(seed);
    scenario.recentre_reference = r.string("recentre_reference", false);
    scenario.recentre_window_ns = r.duration("recentre_window", 5 * kNanosPerSecond);
    scenario.recentre_sample_ns = r.duration("recentre_sample", 100 * kNanosPerMilli);
    if (r.error().empty() && scenario.end_ns != 0 && scenario.end_ns <= scenario.start_ns)
      r.fail("end must come after start");
    if (r.error().empty() && (scenario.recentre_sample_ns < kNanosPerMilli ||
                              scenario.recentre_window_ns < scenario.recentre_sample_ns ||
                              scenario.recentre_window_ns / scenario.recentre_sample_ns > 100'000))
      r.fail("recentre_sample must be at least 1ms and recentre_window between 1 and 100,000 samples long");
    if (r.error().empty() && !scenario.recentre_reference.empty()) {
      const VenueConfig* reference = config.venue(VenueId(scenario.recentre_reference));
      if (reference == nullptr)
        r.fail("recentre_reference '" + scenario.recentre_reference + "' is not a configured venue");
    }
    if (!r.error().empty()) return make_error(r.error());
    config.scenario = std::move(scenario);
  }
  if (const auto* node = root.get("risk")) {
    const auto* table = node->as_table();
    if (table == nullptr) return make_error(file + ": [risk] must be a table");
    TableReader r(*table, file + ": risk");
    r.only({"max_parent_notional", "parent_collar_bps", "max_adv_share", "restricted", "accounts",
            "disabled_venues", "child_collar_bps", "max_child_notional", "max_open_orders_per_venue",
            "max_open_orders_per_account", "max_in_flight_notional_per_venue",
            "max_in_flight_notional_per_account", "max_market_data_age", "self_trade_prevention",
            "instruments"});
    RiskConfig& risk = config.risk;
    // Notional limits always apply: zero denies, and a negative one is an error.
    auto amount = [&](std::string_view key, Amount& into) { into = r.non_negative<Amount>(key, into); };
    amount("max_parent_notional", risk.max_parent_notional);
    risk.parent_collar_bps =
        r.decimal_in("parent_collar_bps", risk.parent_collar_bps, Amount{}, Amount::from_units(10'000));
    risk.child_collar_bps =
        r.decimal_in("child_collar_bps", risk.child_collar_bps, Amount{}, Amount::from_units(10'000));
    amount("max_child_notional", risk.max_child_notional);
    amount("max_in_flight_notional_per_venue", risk.max_in_flight_notional_per_venue);
    amount("max_in_flight_notional_per_account", risk.max_in_flight_notional_per_account);
    risk.max_adv_share = r.rate("max_adv_share", risk.max_adv_share);
    // Zero open orders would deny every child: disabled_venues and the kill switch say that plainly.
    risk.max_open_orders_per_venue = r.integer_in("max_open_orders_per_venue", risk.max_open_orders_per_venue,
                                                  1, kMaxOpenOrders, "to stop a venue, use disabled_venues");
    risk.max_open_orders_per_account =
        r.integer_in("max_open_orders_per_account", risk.max_open_orders_per_account, 1, kMaxOpenOrders,
                     "to stop an account, leave it out of accounts");
    risk.max_market_data_age_ns = r.duration("max_market_data_age", risk.max_market_data_age_ns);
    if (r.error().empty() && risk.max_market_data_age_ns <= 0)
      r.fail("max_market_data_age must be positive: 0 would deny every child");
    risk.self_trade_prevention = r.boolean("self_trade_prevention", risk.self_trade_prevention);
    auto names = [&](std::string_view key, std::vector<std::string>& into) {
      const auto* list = table->get(key);
      if (list == nullptr) return;
      const auto* array = list->as_array();
      if (array == nullptr) return r.fail(std::string(key) + " must be a list of strings");
      for (const auto& item : *array) {
        if (!item.is_string()) return r.fail(std::string(key) + " must be a list of strings");
        into.push_back(item.as_string()->get());
      }
    };
    names("restricted", risk.restricted);
    names("accounts", risk.accounts);
    names("disabled_venues", risk.disabled_venues);
    if (!r.error().empty()) return make_error(r.error());
    if (const auto* instruments = table->get("instruments")) {
      const auto* it = instruments->as_table();
      if (it == nullptr) return make_error(file + ": risk.instruments must be a table of instrument tables");
      for (const auto& [id, limits] : *it) {
        const auto* lt = limits.as_table();
        const std::string name(id.str());
        if (lt == nullptr) return make_error(file + ": risk.instruments." + name + " must be a table");
        if (config.instrument(InstrumentId(name)) == nullptr)
          return make_error(file + ": risk.instruments names '" + name + "', which is not an [[instrument]]");
        TableReader ir(*lt, file + ": risk.instruments." + name);
        ir.only({"max_parent_qty", "max_child_qty", "max_position", "adv"});
        // Zero is "none" for these (docs/config.md); a negative value is an error, never a limit switched
        // off.
        InstrumentRisk limits_for;
        limits_for.max_parent_qty = ir.non_negative<Qty>("max_parent_qty", Qty{}, "0 = none");
        limits_for.max_child_qty = ir.non_negative<Qty>("max_child_qty", Qty{}, "0 = none");
        limits_for.max_position = ir.non_negative<Qty>("max_position", Qty{}, "0 = none");
        limits_for.adv = ir.non_negative<Qty>("adv", Qty{}, "0 = none");
        if (!ir.error().empty()) return make_error(ir.error());
        risk.instruments[name] = limits_for;
      }
    }
    for (const auto& v : risk.disabled_venues)
      if (config.venue(VenueId(v)) == nullptr)
        return make_error(file + ": risk.disabled_venues names '" + v + "', which is not a [[venue]]");
  }

  if (const auto* node = root.get("tca")) {
    const auto* table = node->as_table();
    if (table == nullptr) return make_error(file + ": [tca] must be a table");
    TableReader r(*table, file + ": tca");
    r.only({"arrival_mid"});
    const std::string mid = r.string("arrival_mid", false);
    if (!mid.empty()) {
      if (mid != "primary" && mid != "consolidated")
        r.fail("arrival_mid '" + mid + "' is not primary or consolidated");
      config.tca.arrival_mid = mid;
    }
    if (!r.error().empty()) return make_error(r.error());
  }

  if (const auto* node = root.get("oms")) {
    const auto* table = node->as_table();
    if (table == nullptr) return make_error(file + ": [oms] must be a table");
    TableReader r(*table, file + ": oms");
    r.only({"forget_ended_after", "keep_recent"});
    if (r.string("forget_ended_after", false) == "never") {
      config.oms.forget_ended_after_ns = 0;
    } else {
      config.oms.forget_ended_after_ns = r.duration("forget_ended_after", config.oms.forget_ended_after_ns);
      if (r.error().empty() && config.oms.forget_ended_after_ns <= 0)
        r.fail("forget_ended_after must be a positive duration or \"never\"");
    }
    config.oms.keep_recent = r.integer_in("keep_recent", config.oms.keep_recent, 1, 10'000'000);
    if (!r.error().empty()) return make_error(r.error());
  }

  if (const auto* node = root.get("server")) {
    const auto* table = node->as_table();
    if (table == nullptr) return make_error(file + ": [server] must be a table");
    TableReader r(*table, file + ": server");
    r.only({"speed", "default_algo", "default_horizon", "on_data_end", "on_shutdown", "journal", "market",
            "kernel_cpu", "fix", "api"});
    ServerConfig& server = config.server;
    if (table->get("speed")) server.speed = r.decimal<Amount>("speed");
    if (r.error().empty() && !server.speed.is_positive()) r.fail("speed must be positive");
    if (table->get("default_algo")) server.default_algo = r.string("default_algo");
    server.default_horizon_ns = r.duration("default_horizon", server.default_horizon_ns);
    if (r.error().empty() && server.default_horizon_ns <= 0) r.fail("default_horizon must be positive");
    if (table->get("on_data_end")) server.on_data_end = r.string("on_data_end");
    if (server.on_data_end != "stay" && server.on_data_end != "replay")
      r.fail("on_data_end '" + server.on_data_end + "' is not stay or replay");
    if (table->get("on_shutdown")) server.on_shutdown = r.string("on_shutdown");
    if (server.on_shutdown != "cancel" && server.on_shutdown != "keep")
      r.fail("on_shutdown '" + server.on_shutdown + "' is not cancel or keep");
    if (table->get("market")) server.market = r.string("market");
    if (server.market != "replay" && server.market != "live" && server.market != "paper")
      r.fail("market '" + server.market + "' is not replay, live or paper");
    if (table->get("journal")) server.journal = r.string("journal");
    if (r.error().empty() && server.journal.empty()) r.fail("journal must not be empty");
    server.kernel_cpu = r.integer_in("kernel_cpu", server.kernel_cpu, -1, 1023, "-1 = not pinned");
    if (!r.error().empty()) return make_error(r.error());
    if (const auto* fix_node = table->get("fix")) {
      const auto* fix_table = fix_node->as_table();
      if (fix_table == nullptr) return make_error(file + ": [server.fix] must be a table");
      TableReader fr(*fix_table, file + ": server.fix");
      fr.only({"listen", "comp_id", "clients", "username", "password", "dictionary", "reset_on_logon"});
      FixAcceptorConfig& fix = server.fix;
      fr.address("listen", fix.host, fix.port, "127.0.0.1:9878");
      if (fix_table->get("comp_id")) fix.comp_id = fr.string("comp_id");
      fr.comp_ids("clients", fix.clients);
      if (fix_table->get("username")) fix.username = fr.string("username");
      if (fix_table->get("password")) fix.password = fr.string("password");
      fix.reset_on_logon = fr.boolean("reset_on_logon", fix.reset_on_logon);
      if (fix_table->get("dictionary")) {
        fix.dictionary = fr.string("dictionary");
        if (!fix.dictionary.empty() && std::filesystem::path(fix.dictionary).is_relative())
          fix.dictionary = (base_dir / fix.dictionary).string();
      }
      if (fr.error().empty() && fix.comp_id.empty()) fr.fail("comp_id must not be empty");
      if (!fr.error().empty()) return make_error(fr.error());
    }
    if (const auto* api_node = table->get("api")) {
      const auto* api_table = api_node->as_table();
      if (api_table == nullptr) return make_error(file + ": [server.api] must be a table");
      TableReader ar(*api_table, file + ": server.api");
      ar.only({"enabled", "listen", "tls_cert", "tls_key", "allowed_origins", "token", "max_body_bytes",
               "max_connections", "idle_timeout", "read_timeout", "stream_keep", "stream_queue"});
      ApiConfig& api = server.api;
      api.enabled = ar.boolean("enabled", true);
      // Port 0 is any free one (the server says which): tests and a second server on one machine.
      if (const std::string listen = ar.string("listen", false);
          listen.size() > 2 && listen.compare(listen.size() - 2, 2, ":0") == 0) {
        api.host = listen.substr(0, listen.size() - 2);
        api.port = 0;
      } else {
        ar.address("listen", api.host, api.port, "127.0.0.1:9880");
      }
      for (auto [key, into] :
           {std::pair<const char*, std::string*>{"tls_cert", &api.tls_cert}, {"tls_key", &api.tls_key}}) {
        if (api_table->get(key) == nullptr) continue;
        *into = ar.string(key);
        if (!into->empty() && std::filesystem::path(*into).is_relative()) *into = (base_dir / *into).string();
      }
      if (ar.error().empty() && api.tls_cert.empty() != api.tls_key.empty())
        ar.fail("tls_cert and tls_key go together: name both for HTTPS, or neither");
      if (const auto* origins = api_table->get("allowed_origins")) {
        const auto* array = origins->as_array();
        if (array == nullptr)
          ar.fail("allowed_origins must be a list of strings");
        else
          for (const auto& item : *array) {
            if (!item.is_string()) {
              ar.fail("allowed_origins must be a list of strings");
              break;
            }
            const std::string origin = item.as_string()->get();
            if (origin.rfind("http://", 0) != 0 && origin.rfind("https://", 0) != 0)
              ar.fail("allowed_origins: '" + origin + "' is not an origin (scheme://host[:port])");
            api.allowed_origins.push_back(origin);
          }
      }
      api.max_body_bytes = ar.integer_in("max_body_bytes", api.max_body_bytes, 256, 16 * 1024 * 1024);
      api.max_connections = ar.integer_in("max_connections", api.max_connections, 1, 100'000);
      api.idle_timeout_ns = ar.duration("idle_timeout", api.idle_timeout_ns);
      api.read_timeout_ns = ar.duration("read_timeout", api.read_timeout_ns);
      if (ar.error().empty() && (api.idle_timeout_ns <= 0 || api.read_timeout_ns <= 0))
        ar.fail("idle_timeout and read_timeout must be positive");
      api.stream_keep = ar.integer_in("stream_keep", api.stream_keep, 0, 10'000'000);
      api.stream_queue = ar.integer_in("stream_queue", api.stream_queue, 1, 10'000'000);
      if (!ar.error().empty()) return make_error(ar.error());
      if (const auto* tokens = api_table->get("token")) {
        const auto* array = tokens->as_array();
        if (array == nullptr || !array->is_array_of_tables())
          return make_error(file + ": server.api: token must be an array of tables ([[server.api.token]])");
        for (const auto& item : *array) {
          TableReader tr(*item.as_table(), file + ": server.api.token");
          tr.only({"name", "role", "sha256", "token"});
          if (item.as_table()->get("token"))
            return make_error(file +
                              ": server.api.token: a token never goes in the config, only its sha256 "
                              "(`tranche api-token` makes one)");
          ApiToken t;
          t.name = tr.string("name");
          t.role = tr.string("role");
          t.sha256 = tr.string("sha256");
          if (tr.error().empty() && (t.name.empty() || t.name.size() > 64 ||
                                     t.name.find_first_of(" \t\r\n\"") != std::string::npos))
            tr.fail("name '" + t.name + "' must be 1 to 64 characters without spaces or quotes");
          if (tr.error().empty() && t.role != "viewer" && t.role != "trader" && t.role != "admin")
            tr.fail("role '" + t.role + "' is not viewer, trader or admin");
          if (tr.error().empty() &&
              (t.sha256.size() != 64 || t.sha256.find_first_not_of("0123456789abcdef") != std::string::npos))
            tr.fail("sha256 of '" + t.name + "' must be 64 lower-case hex digits");
          for (const auto& other : api.tokens)
            if (tr.error().empty() && (other.name == t.name || other.sha256 == t.sha256))
              tr.fail("token '" + t.name + "' repeats the name or the hash of '" + other.name + "'");
          if (!tr.error().empty()) return make_error(tr.error());
          api.tokens.push_back(std::move(t));
        }
      }
    }
  }

  if (const auto* node = root.get("exchange")) {
    const auto* table = node->as_table();
    if (table == nullptr) return make_error(file + ": [exchange] must be a table");
    TableReader r(*table, file + ": exchange");
    r.only({"listen", "clients", "speed", "binance"});
    ExchangeConfig& ex = config.exchange;
    r.address("listen", ex.host, ex.port, "127.0.0.1:9879");
    r.comp_ids("clients", ex.clients);
    if (table->get("speed")) ex.speed = r.decimal<Amount>("speed");
    if (r.error().empty() && !ex.speed.is_positive()) r.fail("speed must be positive");
    if (!r.error().empty()) return make_error(r.error());
    if (const auto* bnode = table->get("binance")) {
      const auto* btable = bnode->as_table();
      if (btable == nullptr) return make_error(file + ": [exchange.binance] must be a table");
      TableReader b(*btable, file + ": exchange.binance");
      b.only({"listen", "venue", "request_weight_per_minute", "raw_requests_per_5m", "orders_per_10s",
              "orders_per_day", "refusals_before_ban", "first_ban", "max_body_bytes", "read_timeout"});
      ExchangeBinanceConfig& bx = ex.binance;
      b.address("listen", bx.host, bx.port, "127.0.0.1:9443");
      bx.venue = b.string("venue", false);
      bx.request_weight_per_minute =
          b.integer_in("request_weight_per_minute", bx.request_weight_per_minute, 1, 100'000'000);
      bx.raw_requests_per_5m = b.integer_in("raw_requests_per_5m", bx.raw_requests_per_5m, 1, 100'000'000);
      bx.orders_per_10s = b.integer_in("orders_per_10s", bx.orders_per_10s, 1, 100'000'000);
      bx.orders_per_day = b.integer_in("orders_per_day", bx.orders_per_day, 1, 1'000'000'000);
      bx.refusals_before_ban = b.integer_in("refusals_before_ban", bx.refusals_before_ban, 1, 1'000'000);
      bx.first_ban_ns = b.duration("first_ban", bx.first_ban_ns);
      bx.max_body_bytes = b.integer_in("max_body_bytes", bx.max_body_bytes, 1024, 16 * 1024 * 1024);
      bx.read_timeout_ns = b.duration("read_timeout", bx.read_timeout_ns);
      if (b.error().empty() && bx.read_timeout_ns <= 0) b.fail("read_timeout must be positive");
      if (b.error().empty() && bx.first_ban_ns <= 0) b.fail("first_ban must be positive");
      if (!b.error().empty()) return make_error(b.error());
      if (!bx.venue.empty() && config.venue(VenueId(bx.venue)) == nullptr && !config.venues.empty())
        return make_error(file + ": exchange.binance: venue '" + bx.venue + "' is not a configured venue");
    }
  }

  for (const auto& venue : config.venues)
    if (venue.sim && venue.sim->recentre && (!config.scenario || config.scenario->recentre_reference.empty()))
      return make_error(file + ": venue '" + venue.id.str() +
                        "' sets sim.recentre but [scenario] names no recentre_reference");

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
