#include "md/mbo_reader.hpp"

#include <array>
#include <charconv>
#include <limits>
#include <map>
#include <string_view>

#include "md/csv.hpp"
#include "md/line_reader.hpp"

namespace tranche::md {

namespace {

constexpr std::int64_t kUndefinedPrice = std::numeric_limits<std::int64_t>::max();  // Databento's UNDEF_PRICE
constexpr std::size_t kMaxFields = 64;

template <class Int>
bool parse_int(std::string_view text, Int& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The columns this reader uses, by header name.
enum Column : std::size_t {
  kRecv,
  kEvent,
  kSymbol,
  kAction,
  kSide,
  kPrice,
  kSize,
  kOrderId,
  kFlags,
  kSequence,
  kPublisher,  // optional
  kColumnCount,
};
constexpr std::array<std::string_view, kColumnCount> kColumnNames = {
    "ts_recv_ns", "ts_event_ns", "symbol", "action",   "side",        "price_1e9",
    "size",       "order_id",    "flags",  "sequence", "publisher_id"};
constexpr std::size_t kRequiredColumns = kPublisher;
constexpr std::size_t kAbsent = std::numeric_limits<std::size_t>::max();

class MboReader final : public EventReader {
 public:
  explicit MboReader(std::vector<std::string> files) : files_(std::move(files)) {}

  std::string format() const override { return "databento-mbo-csv"; }

  bool next(Event& out) override {
    for (;;) {
      if (!open_) {
        if (file_index_ >= files_.size()) return false;
        if (!open_file(files_[file_index_++])) continue;
      }
      std::string_view line;
      if (!lines_.next(line)) {
        finish_file();
        continue;
      }
      ++lines_read_;
      if (line.empty()) continue;
      if (!have_header_) {
        if (!read_header(line)) finish_file();
        continue;
      }
      if (decode(line, out)) return true;
    }
  }

 private:
  bool open_file(const std::string& path) {
    if (Status status = lines_.open(path); !status) {
      report_error(path, 0, status.message());
      return false;
    }
    open_ = true;
    have_header_ = false;
    side_unknown_ = 0;
    return true;
  }

  void finish_file() {
    if (!lines_.error().empty()) report_error(lines_.path(), lines_.line_number(), lines_.error());
    if (side_unknown_ > 0)
      notes_.push_back(lines_.path() + ": " + std::to_string(side_unknown_) +
                       " records with side N (no aggressor / side not given), flagged kFlagSideUnknown");
    lines_.close();
    open_ = false;
  }

  bool fail(std::string message) {
    report_error(lines_.path(), lines_.line_number(), std::move(message));
    return false;
  }

  std::size_t split(std::string_view line) { return split_csv_row(line, fields_); }

  bool read_header(std::string_view line) {
    const std::size_t count = split(line);
    if (count > kMaxFields) return fail("header has more than " + std::to_string(kMaxFields) + " columns");
    column_.fill(kAbsent);
    for (std::size_t i = 0; i < count; ++i)
      for (std::size_t c = 0; c < kColumnCount; ++c)
        if (fields_[i] == kColumnNames[c]) column_[c] = i;
    field_count_ = count;
    std::string missing;
    for (std::size_t c = 0; c < kRequiredColumns; ++c)
      if (column_[c] == kAbsent) missing += (missing.empty() ? "" : ", ") + std::string(kColumnNames[c]);
    if (!missing.empty()) return fail("not an MBO CSV: header lacks " + missing + "; file skipped");
    have_header_ = true;
    return true;
  }

  std::uint16_t stream_for(std::string_view symbol, std::string_view publisher) {
    if (symbol == last_symbol_ && publisher == last_publisher_) return last_stream_;
    const std::string venue = publisher == "1"    ? std::string("cme")
                              : publisher.empty() ? std::string("databento")
                                                  : "databento-" + std::string(publisher);
    const std::string key = venue + ":" + std::string(symbol);
    auto it = stream_by_name_.find(key);
    if (it == stream_by_name_.end())
      it = stream_by_name_.emplace(key, add_stream({venue, std::string(symbol)})).first;
    last_symbol_ = std::string(symbol);
    last_publisher_ = std::string(publisher);
    last_stream_ = it->second;
    return last_stream_;
  }

  bool decode(std::string_view line, Event& out) {
    const std::size_t count = split(line);
    if (count != field_count_)
      return fail("expected " + std::to_string(field_count_) + " fields as in the header, got " +
                  (count > kMaxFields ? std::string("more") : std::to_string(count)));
    auto field = [&](Column c) { return fields_[column_[c]]; };

    out = Event{};
    const std::string_view action = field(kAction);
    if (action.size() != 1) return fail("bad action '" + std::string(action) + "'");
    switch (action[0]) {
      case 'A':
        out.kind = EventKind::OrderAdd;
        break;
      case 'C':
        out.kind = EventKind::OrderCancel;
        break;
      case 'M':
        out.kind = EventKind::OrderModify;
        break;
      case 'T':
        out.kind = EventKind::Trade;
        break;
      case 'F':
        out.kind = EventKind::OrderFill;
        break;
      case 'R':
        out.kind = EventKind::BookClear;
        break;
      case 'N':
        ++skipped_["none"];
        return false;
      default:
        return fail("unknown action '" + std::string(action) + "'");
    }

    const std::string_view side = field(kSide);
    if (side == "B") {
      out.side = Side::Buy;
    } else if (side == "A") {
      out.side = Side::Sell;
    } else if (side == "N") {
      if (out.kind == EventKind::OrderAdd || out.kind == EventKind::OrderModify)
        return fail("an order add or modify with side N");
      if (out.kind != EventKind::BookClear) {
        out.flags |= kFlagSideUnknown;
        ++side_unknown_;
      }
    } else {
      return fail("bad side '" + std::string(side) + "' (B, A or N)");
    }

    std::int64_t recv_ns = 0, event_ns = 0, size = 0;
    std::uint64_t order_id = 0, sequence = 0;
    unsigned flags = 0;
    if (!parse_int(field(kRecv), recv_ns)) return fail("bad ts_recv_ns '" + std::string(field(kRecv)) + "'");
    if (!parse_int(field(kEvent), event_ns))
      return fail("bad ts_event_ns '" + std::string(field(kEvent)) + "'");
    if (!parse_int(field(kSize), size) || size < 0 ||
        size > std::numeric_limits<std::int64_t>::max() / kFixedScale)
      return fail("bad size '" + std::string(field(kSize)) + "'");
    if (!parse_int(field(kOrderId), order_id))
      return fail("bad order_id '" + std::string(field(kOrderId)) + "'");
    if (!parse_int(field(kFlags), flags) || flags > 255)
      return fail("bad flags '" + std::string(field(kFlags)) + "'");
    if (!parse_int(field(kSequence), sequence))
      return fail("bad sequence '" + std::string(field(kSequence)) + "'");
    const std::string_view price_text = field(kPrice);
    if (price_text.empty()) {
      out.price = Price::unset();
    } else {
      std::int64_t price_1e9 = 0;
      if (!parse_int(price_text, price_1e9)) return fail("bad price_1e9 '" + std::string(price_text) + "'");
      if (price_1e9 == kUndefinedPrice) {
        out.price = Price::unset();
      } else if (!price_from_1e9(price_1e9, out.price)) {
        return fail("price_1e9 " + std::string(price_text) + " has a ninth decimal: not exact at 8 decimals");
      }
    }
    if ((out.kind == EventKind::OrderAdd || out.kind == EventKind::OrderModify ||
         out.kind == EventKind::Trade) &&
        !out.price.is_set())
      return fail("action " + std::string(action) + " without a price");

    if (flags & 128u) out.flags |= kFlagLastInEvent;
    const std::string_view publisher =
        column_[kPublisher] == kAbsent ? std::string_view() : field(kPublisher);
    out.stream = stream_for(field(kSymbol), publisher);
    out.recv_ns = recv_ns;
    out.exch_ns = event_ns;
    out.last_seq = sequence;
    out.qty = Qty::from_units(size);
    out.order_id = order_id;
    return true;
  }

  std::vector<std::string> files_;
  std::size_t file_index_ = 0;
  LineReader lines_;
  bool open_ = false;
  bool have_header_ = false;
  std::array<std::string_view, kMaxFields> fields_;
  std::array<std::size_t, kColumnCount> column_{};
  std::size_t field_count_ = 0;
  std::uint64_t side_unknown_ = 0;
  std::string last_symbol_;
  std::string last_publisher_;
  std::uint16_t last_stream_ = 0;
  std::map<std::string, std::uint16_t> stream_by_name_;
};

}  // namespace

bool price_from_1e9(std::int64_t price_1e9, Price& out) {
  constexpr std::int64_t kDivisor = 1'000'000'000 / kFixedScale;  // 10
  if (price_1e9 % kDivisor != 0) return false;
  out = Price::from_raw(price_1e9 / kDivisor);
  return true;
}

std::unique_ptr<EventReader> make_mbo_reader(const std::vector<std::string>& files) {
  return std::make_unique<MboReader>(files);
}

}  // namespace tranche::md
