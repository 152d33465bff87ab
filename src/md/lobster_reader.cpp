#include "md/lobster_reader.hpp"

#include <array>
#include <charconv>
#include <limits>
#include <map>

#include "md/csv.hpp"
#include "md/line_reader.hpp"

namespace tranche::md {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (the era arithmetic: 400-year cycles of 146097 days).
std::int64_t days_from_civil(int year, int month, int day) {
  const int y = month <= 2 ? year - 1 : year;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int year_of_era = y - era * 400;
  const int day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return static_cast<std::int64_t>(era) * 146097 + day_of_era - 719468;
}

// 0 = Sunday.
int weekday(std::int64_t days) {
  return static_cast<int>(((days % 7) + 7 + 4) % 7);
}

// Day of month of the n-th (1-based) Sunday of a month, or of its last Sunday when n == 0.
int sunday_of_month(int year, int month, int n) {
  if (n > 0) {
    const int first = weekday(days_from_civil(year, month, 1));
    return 1 + (7 - first) % 7 + 7 * (n - 1);
  }
  const int next_month = month == 12 ? 1 : month + 1;
  const int next_year = month == 12 ? year + 1 : year;
  const std::int64_t last = days_from_civil(next_year, next_month, 1) - 1;
  const int last_day = static_cast<int>(last - days_from_civil(year, month, 1)) + 1;
  return last_day - weekday(last);
}

bool new_york_daylight_saving(int year, int month, int day) {
  int start_month = 3, start_day = sunday_of_month(year, 3, 2);  // 2007 on: second Sunday of March
  int end_month = 11, end_day = sunday_of_month(year, 11, 1);    // to the first Sunday of November
  if (year < 2007) {  // 1987-2006: first Sunday of April to last of October
    start_month = 4;
    start_day = sunday_of_month(year, 4, 1);
    end_month = 10;
    end_day = sunday_of_month(year, 10, 0);
  }
  const int key = month * 100 + day;
  return key >= start_month * 100 + start_day && key < end_month * 100 + end_day;
}

template <class Int>
bool parse_int(std::string_view text, Int& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// "34200.017459617" -> ns after midnight.
bool parse_seconds(std::string_view text, std::int64_t& out_ns) {
  const std::size_t dot = text.find('.');
  std::int64_t seconds = 0;
  if (!parse_int(text.substr(0, dot), seconds) || seconds < 0 || seconds > 7 * 86400) return false;
  std::int64_t fraction_ns = 0;
  if (dot != std::string_view::npos) {
    const std::string_view fraction = text.substr(dot + 1);
    if (fraction.empty()) return false;
    std::int64_t scale = kNanosPerSecond;
    for (const char c : fraction) {
      if (c < '0' || c > '9') return false;
      if (scale == 1) {
        if (c != '0') return false;  // finer than a nanosecond: never rounded silently
        continue;
      }
      scale /= 10;
      fraction_ns += (c - '0') * scale;
    }
  }
  out_ns = seconds * kNanosPerSecond + fraction_ns;
  return true;
}

// LOBSTER prices are dollars x 10,000; Price has 8 decimals.
constexpr std::int64_t kLobsterPriceToRaw = kFixedScale / 10'000;
constexpr std::int64_t kDummyPrice = 9'999'999'999;

bool parse_lobster_price(std::string_view text, Price& out) {
  std::int64_t value = 0;
  if (!parse_int(text, value)) return false;
  if (value > std::numeric_limits<std::int64_t>::max() / kLobsterPriceToRaw ||
      value < -std::numeric_limits<std::int64_t>::max() / kLobsterPriceToRaw)
    return false;
  out = Price::from_raw(value * kLobsterPriceToRaw);
  return true;
}

bool parse_size(std::string_view text, Qty& out) {
  std::int64_t value = 0;
  if (!parse_int(text, value) || value < 0 || value > std::numeric_limits<std::int64_t>::max() / kFixedScale)
    return false;
  out = Qty::from_units(value);
  return true;
}

class LobsterReader final : public EventReader {
 public:
  explicit LobsterReader(std::vector<std::string> files) : files_(std::move(files)) {}

  std::string format() const override { return "lobster"; }

  bool next(Event& out) override {
    for (;;) {
      if (!open_) {
        if (file_index_ >= files_.size()) return false;
        if (!open_file(files_[file_index_++])) continue;
      }
      std::string_view line;
      if (!lines_.next(line)) {
        if (!lines_.error().empty()) report_error(lines_.path(), lines_.line_number(), lines_.error());
        lines_.close();
        open_ = false;
        continue;
      }
      ++lines_read_;
      if (line.empty()) continue;
      if (lines_.line_number() == 1 && (line[0] < '0' || line[0] > '9')) continue;  // the header row
      ++row_;
      if (decode(line, out)) return true;
    }
  }

 private:
  bool open_file(const std::string& path) {
    LobsterFileName name;
    if (!parse_lobster_file_name(path, name)) {
      report_error(path, 0,
                   "not a LOBSTER file name (TICKER_YYYY-MM-DD_..._message_N.csv): the date is unknown");
      return false;
    }
    if (Status status = lines_.open(path); !status) {
      report_error(path, 0, status.message());
      return false;
    }
    midnight_ns_ = new_york_midnight_ns(name.year, name.month, name.day);
    const auto known = stream_by_symbol_.find(name.symbol);
    if (known != stream_by_symbol_.end()) {
      stream_ = known->second;
    } else {
      stream_ = add_stream({"lobster", name.symbol});
      stream_by_symbol_.emplace(name.symbol, stream_);
    }
    row_ = 0;
    open_ = true;
    return true;
  }

  bool fail(std::string message) {
    report_error(lines_.path(), lines_.line_number(), std::move(message));
    return false;
  }

  bool decode(std::string_view line, Event& out) {
    std::array<std::string_view, 6> f;
    const std::size_t count = split_csv_row(line, f);
    if (count != 6)
      return fail("expected 6 fields (Time,Type,OrderId,Size,Price,Direction), got " +
                  (count > 6 ? std::string("more") : std::to_string(count)));
    std::int64_t time_ns = 0;
    int type = 0;
    std::uint64_t order_id = 0;
    Qty size;
    Price price;
    int direction = 0;
    if (!parse_seconds(f[0], time_ns)) return fail("bad Time '" + std::string(f[0]) + "'");
    if (!parse_int(f[1], type)) return fail("bad Type '" + std::string(f[1]) + "'");
    if (type == 7) {
      ++skipped_["halt"];
      return false;
    }
    if (type == 6) {
      ++skipped_["cross_trade"];
      return false;
    }
    if (!parse_int(f[2], order_id)) return fail("bad OrderId '" + std::string(f[2]) + "'");
    if (!parse_size(f[3], size)) return fail("bad Size '" + std::string(f[3]) + "'");
    if (!parse_lobster_price(f[4], price)) return fail("bad Price '" + std::string(f[4]) + "'");
    if (!parse_int(f[5], direction) || (direction != 1 && direction != -1))
      return fail("bad Direction '" + std::string(f[5]) + "' (1 buy, -1 sell)");
    const Side side = direction == 1 ? Side::Buy : Side::Sell;

    out = Event{};
    switch (type) {
      case 1:
        out.kind = EventKind::OrderAdd;
        out.side = side;
        break;
      case 2:
      case 3:
        out.kind = EventKind::OrderCancel;
        out.side = side;
        break;
      case 4:
        out.kind = EventKind::OrderFill;
        out.side = side;
        break;
      case 5:
        out.kind = EventKind::Trade;
        out.side = opposite(side);
        break;
      default:
        return fail("unknown Type " + std::to_string(type));
    }
    out.stream = stream_;
    out.recv_ns = midnight_ns_ + time_ns;
    out.exch_ns = out.recv_ns;
    out.last_seq = row_;
    out.price = price;
    out.qty = size;
    out.order_id = order_id;
    return true;
  }

  std::vector<std::string> files_;
  std::size_t file_index_ = 0;
  LineReader lines_;
  bool open_ = false;
  std::uint64_t row_ = 0;
  TimestampNs midnight_ns_ = 0;
  std::uint16_t stream_ = 0;
  std::map<std::string, std::uint16_t> stream_by_symbol_;
};

}  // namespace

bool parse_lobster_file_name(std::string_view path, LobsterFileName& out) {
  const std::size_t slash = path.find_last_of('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const std::size_t first = name.find('_');
  if (first == std::string_view::npos || first == 0) return false;
  const std::string_view date = name.substr(first + 1, 10);
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return false;
  if (name.size() > first + 11 && name[first + 11] != '_') return false;
  int year = 0, month = 0, day = 0;
  if (!parse_int(date.substr(0, 4), year) || !parse_int(date.substr(5, 2), month) ||
      !parse_int(date.substr(8, 2), day))
    return false;
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  out.symbol = std::string(name.substr(0, first));
  out.year = year;
  out.month = month;
  out.day = day;
  return true;
}

TimestampNs new_york_midnight_ns(int year, int month, int day) {
  const std::int64_t offset_hours = new_york_daylight_saving(year, month, day) ? 4 : 5;
  return (days_from_civil(year, month, day) * 86400 + offset_hours * 3600) * kNanosPerSecond;
}

std::unique_ptr<EventReader> make_lobster_reader(const std::vector<std::string>& files) {
  return std::make_unique<LobsterReader>(files);
}

Result<std::vector<LobsterTop>> read_lobster_orderbook(const std::string& path) {
  LineReader lines;
  if (Status status = lines.open(path); !status) return make_error(status.message());
  std::vector<LobsterTop> rows;
  std::string_view line;
  auto where = [&] { return path + ":" + std::to_string(lines.line_number()) + ": "; };
  while (lines.next(line)) {
    if (line.empty()) continue;
    if (lines.line_number() == 1 && (line[0] < '0' || line[0] > '9') && line[0] != '-') continue;  // header
    std::array<std::string_view, 4> f;
    // Deeper levels follow in groups of four; only the first group is read.
    std::size_t level_end = 0;
    for (int commas = 0; level_end < line.size(); ++level_end)
      if (line[level_end] == ',' && ++commas == 4) break;
    const std::string_view first_level = line.substr(0, level_end);
    if (split_csv_row(first_level, f) != 4)
      return make_error(where() + "expected BestAsk,BestAskVolume,BestBid,BestBidVolume");
    std::int64_t ask = 0, bid = 0;
    LobsterTop top;
    if (!parse_int(f[0], ask) || !parse_size(f[1], top.ask_qty) || !parse_int(f[2], bid) ||
        !parse_size(f[3], top.bid_qty))
      return make_error(where() + "malformed row '" + std::string(line) + "'");
    if (ask != kDummyPrice && !parse_lobster_price(f[0], top.ask))
      return make_error(where() + "bad ask price");
    if (bid != -kDummyPrice && !parse_lobster_price(f[2], top.bid))
      return make_error(where() + "bad bid price");
    rows.push_back(top);
  }
  if (!lines.error().empty()) return make_error(lines.error());
  return rows;
}

}  // namespace tranche::md
