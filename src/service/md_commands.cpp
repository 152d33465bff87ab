#include "service/md_commands.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>

#include "core/config.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "md/binary_format.hpp"
#include "md/book_replay.hpp"
#include "md/book_signals.hpp"
#include "md/reader.hpp"

namespace tranche::service {

using nlohmann::ordered_json;
using namespace tranche::md;

namespace {

struct Distribution {
  std::vector<double> samples;
  void add(double v) { samples.push_back(v); }
  ordered_json to_json(int precision) {
    ordered_json j;
    j["samples"] = samples.size();
    if (samples.empty()) return j;
    std::sort(samples.begin(), samples.end());
    double sum = 0;
    for (double s : samples) sum += s;
    auto round = [precision](double v) {
      const double scale = std::pow(10.0, precision);
      return std::round(v * scale) / scale;
    };
    auto pct = [&](double p) {
      return samples[std::min(samples.size() - 1, static_cast<std::size_t>(p * (samples.size() - 1) + 0.5))];
    };
    j["mean"] = round(sum / static_cast<double>(samples.size()));
    j["min"] = round(samples.front());
    j["p50"] = round(pct(0.5));
    j["p99"] = round(pct(0.99));
    j["max"] = round(samples.back());
    return j;
  }
};

struct StreamStats {
  std::map<std::string, std::uint64_t> counts;
  std::uint64_t events = 0;
  TimestampNs first_ns = 0, last_ns = 0;
  std::uint64_t levels_changed = 0;
  Distribution spread_ticks, spread_bps, bid_levels, ask_levels, touch_qty, depth_10bps_qty;
  Distribution quote_spread_bps;  // used when the stream never had a depth book (BBO-only data)
};

void report_reader_problems(const EventReader& reader, std::ostream& err) {
  for (const auto& e : reader.errors()) err << "error: " << e.to_string() << "\n";
  if (reader.error_count() > reader.errors().size())
    err << "error: ... and " << reader.error_count() - reader.errors().size() << " more\n";
  for (const auto& g : reader.gaps())
    err << "gap: " << g.file << ":" << g.line << ": " << reader.streams()[g.stream].name() << " expected "
        << g.expected << ", received " << g.received << "\n";
  for (const auto& n : reader.notes()) err << "note: " << n << "\n";
}

std::string price_text(Price p, const L2Book& book) {
  return p.is_set() ? p.to_string(std::max(book.tick_size().decimals(), 0)) : std::string("-");
}

}  // namespace

int md_stats(const MdStatsOptions& options, std::ostream& out, std::ostream& err) {
  auto opened = open_reader(options.files);
  if (!opened.ok()) {
    err << "tranche md stats: " << opened.error().message << "\n";
    return 2;
  }
  EventReader& reader = **opened;
  BookReplay replay;
  std::vector<StreamStats> stats;
  Event event;
  while (reader.next(event)) {
    if (stats.size() <= event.stream) stats.resize(event.stream + 1u);
    StreamStats& s = stats[event.stream];
    ++s.counts[to_string(event.kind)];
    ++s.events;
    s.first_ns = s.events == 1 ? event.recv_ns : std::min(s.first_ns, event.recv_ns);
    s.last_ns = std::max(s.last_ns, event.recv_ns);
    s.levels_changed += event.bids.size() + event.asks.size();
    auto& sb = replay.apply(event);
    const L2Book& book = sb.book;
    if ((event.kind == EventKind::BookDelta || event.kind == EventKind::BookSnapshot) && sb.valid &&
        book.has_bid() && book.has_ask()) {
      const double spread = static_cast<double>((book.best_ask() - book.best_bid()).raw());
      const double mid = static_cast<double>(book.best_ask().raw() + book.best_bid().raw()) / 2;
      s.spread_ticks.add(spread / static_cast<double>(book.tick_size().raw()));
      s.spread_bps.add(1e4 * spread / mid);
      s.bid_levels.add(static_cast<double>(book.level_count(Side::Buy)));
      s.ask_levels.add(static_cast<double>(book.level_count(Side::Sell)));
      s.touch_qty.add((book.best_bid_qty() + book.best_ask_qty()).to_double() / 2);
      const auto band = static_cast<std::int64_t>(mid * 10 / 1e4);
      const Qty within = book.qty_up_to(Side::Buy, Price::from_raw(static_cast<std::int64_t>(mid) - band)) +
                         book.qty_up_to(Side::Sell, Price::from_raw(static_cast<std::int64_t>(mid) + band));
      s.depth_10bps_qty.add(within.to_double());
    } else if (event.kind == EventKind::Quote && event.price.is_set() && event.price2.is_set()) {
      const double spread = static_cast<double>((event.price2 - event.price).raw());
      const double mid = static_cast<double>(event.price2.raw() + event.price.raw()) / 2;
      s.quote_spread_bps.add(1e4 * spread / mid);
    }
  }
  if (stats.size() < reader.streams().size()) stats.resize(reader.streams().size());
  report_reader_problems(reader, err);

  ordered_json j;
  j["files"] = options.files;
  j["format"] = reader.format();
  j["lines"] = reader.lines_read();
  j["errors"] = reader.error_count();
  j["gaps"] = reader.gaps().size();
  j["bbo_checks"] = replay.bbo_checks();
  j["bbo_mismatches"] = replay.bbo_mismatches();
  ordered_json skipped = ordered_json::object();
  for (const auto& [what, n] : reader.skipped()) skipped[what] = n;
  j["skipped"] = skipped;
  j["notes"] = reader.notes();
  ordered_json streams = ordered_json::array();
  TimestampNs first = 0, last = 0;
  for (std::size_t i = 0; i < stats.size(); ++i) {
    StreamStats& s = stats[i];
    auto* sb = replay.stream(static_cast<std::uint16_t>(i));
    ordered_json st;
    st["stream"] = reader.streams()[i].name();
    st["venue"] = reader.streams()[i].venue;
    st["symbol"] = reader.streams()[i].symbol;
    st["events"] = s.events;
    ordered_json counts = ordered_json::object();
    for (const auto& [k, n] : s.counts) counts[k] = n;
    st["counts"] = counts;
    st["level_changes"] = s.levels_changed;
    if (s.events > 0) {
      st["first_ns"] = s.first_ns;
      st["last_ns"] = s.last_ns;
      st["first"] = format_time(s.first_ns);
      st["last"] = format_time(s.last_ns);
      st["span_s"] = static_cast<double>(s.last_ns - s.first_ns) / 1e9;
      if (first == 0 || s.first_ns < first) first = s.first_ns;
      last = std::max(last, s.last_ns);
    }
    if (sb != nullptr) {
      st["tick_size"] = sb->book.tick_size().to_string();
      st["gaps"] = sb->gaps;
      st["bbo_checks"] = sb->bbo_checks;
      st["bbo_mismatches"] = sb->bbo_mismatches;
      st["crossed_after_depth"] = sb->crossed_after_depth;
    }
    // Spread from the rebuilt depth book; a stream that never had one (BBO-only data) gets it from its
    // quotes.
    const bool from_quotes = s.spread_bps.samples.empty() && !s.quote_spread_bps.samples.empty();
    st["spread_source"] = from_quotes ? "quotes" : "book";
    st["spread_ticks"] = s.spread_ticks.to_json(3);
    st["spread_bps"] = (from_quotes ? s.quote_spread_bps : s.spread_bps).to_json(4);
    st["bid_levels"] = s.bid_levels.to_json(1);
    st["ask_levels"] = s.ask_levels.to_json(1);
    st["touch_qty_mean_of_sides"] = s.touch_qty.to_json(6);
    st["qty_within_10bps"] = s.depth_10bps_qty.to_json(6);
    streams.push_back(st);
  }
  j["first_ns"] = first;
  j["last_ns"] = last;
  j["streams"] = streams;
  for (const auto& m : replay.mismatch_examples()) err << "bbo mismatch: " << m.to_string() << "\n";

  if (options.json) {
    out << j.dump(2) << "\n";
    return 0;
  }
  out << "files:          " << options.files.size() << " (" << reader.format() << "), " << reader.lines_read()
      << " lines\n";
  out << "span:           " << (first ? format_time(first) : "-") << " -> "
      << (last ? format_time(last) : "-") << "\n";
  out << "errors:         " << reader.error_count() << "\n";
  out << "gaps:           " << reader.gaps().size() << "\n";
  out << "bbo checks:     " << replay.bbo_checks() << " (mismatches: " << replay.bbo_mismatches() << ")\n";
  for (const auto& [what, n] : reader.skipped()) out << "skipped:        " << n << " " << what << "\n";
  for (const auto& st : j["streams"]) {
    out << "\n" << st["stream"].get<std::string>() << "\n";
    for (const auto& [k, n] : st["counts"].items())
      out << "  " << std::left << std::setw(16) << k << n << "\n";
    if (st.contains("span_s")) out << "  span            " << st["span_s"].get<double>() << " s\n";
    if (st.contains("tick_size")) out << "  tick (inferred) " << st["tick_size"].get<std::string>() << "\n";
    const auto& sp = st["spread_bps"];
    if (sp.contains("mean"))
      out << "  spread bps      mean " << sp["mean"] << "  p50 " << sp["p50"] << "  p99 " << sp["p99"]
          << "  (" << st["spread_source"].get<std::string>() << ")\n";
    const auto& bl = st["bid_levels"];
    if (bl.contains("mean"))
      out << "  levels          bids mean " << bl["mean"] << ", asks mean " << st["ask_levels"]["mean"]
          << "\n";
    const auto& q = st["qty_within_10bps"];
    if (q.contains("mean")) out << "  qty within 10bps mean " << q["mean"] << " (both sides)\n";
    if (st.contains("bbo_checks"))
      out << "  bbo checks      " << st["bbo_checks"] << " (mismatches " << st["bbo_mismatches"] << ")\n";
  }
  return 0;
}

int md_book(const MdBookOptions& options, std::ostream& out, std::ostream& err) {
  auto at = parse_time(options.at);
  if (!at.ok()) {
    err << "tranche md book: --at: " << at.error().message << "\n";
    return 2;
  }
  if (options.depth == 0) {
    err << "tranche md book: --depth must be at least 1\n";
    return 2;
  }
  auto opened = open_reader(options.files);
  if (!opened.ok()) {
    err << "tranche md book: " << opened.error().message << "\n";
    return 2;
  }
  EventReader& reader = **opened;
  BookReplay replay;
  Event event;
  TimestampNs first = 0, last = 0;
  std::vector<TimestampNs> last_applied;
  while (reader.next(event)) {
    if (first == 0 || event.recv_ns < first) first = event.recv_ns;
    last = std::max(last, event.recv_ns);
    if (event.recv_ns > *at) continue;  // streams of other files may still hold earlier events
    replay.apply(event);
    if (last_applied.size() <= event.stream) last_applied.resize(event.stream + 1u, 0);
    last_applied[event.stream] = event.recv_ns;
  }
  report_reader_problems(reader, err);
  if (first == 0) {
    err << "tranche md book: no events in the input\n";
    return 1;
  }
  if (*at < first) {
    err << "tranche md book: --at " << format_time(*at) << " is before the data starts ("
        << format_time(first) << ")\n";
    return 2;
  }
  ordered_json books = ordered_json::array();
  std::vector<BookLevel> levels;
  for (std::size_t i = 0; i < replay.stream_count(); ++i) {
    auto* sb = replay.stream(static_cast<std::uint16_t>(i));
    if (sb == nullptr || (sb->book.level_count(Side::Buy) == 0 && sb->book.level_count(Side::Sell) == 0))
      continue;
    ordered_json b;
    b["stream"] = reader.streams()[i].name();
    b["venue"] = reader.streams()[i].venue;
    b["symbol"] = reader.streams()[i].symbol;
    b["valid"] = sb->valid;
    b["last_event_ns"] = i < last_applied.size() ? last_applied[i] : 0;
    b["tick_size"] = sb->book.tick_size().to_string();
    for (Side side : {Side::Buy, Side::Sell}) {
      sb->book.levels(side, options.depth, levels);
      ordered_json list = ordered_json::array();
      for (const auto& l : levels) list.push_back({price_text(l.price, sb->book), l.qty.to_string()});
      b[side == Side::Buy ? "bids" : "asks"] = list;
    }
    books.push_back(b);
  }
  if (books.empty()) {
    err << "tranche md book: no depth book could be built up to " << format_time(*at)
        << " (the input has no snapshot before that time)\n";
    return 1;
  }
  ordered_json j;
  j["at_ns"] = *at;
  j["at"] = format_time(*at);
  if (*at > last)
    j["note"] = "after the end of the data (" + format_time(last) + "): the book as it last stood";
  j["stream"] = books[0]["stream"];
  j["bids"] = books[0]["bids"];
  j["asks"] = books[0]["asks"];
  j["books"] = books;
  if (options.json) {
    out << j.dump(2) << "\n";
    return 0;
  }
  if (*at > last) err << "note: " << j["note"].get<std::string>() << "\n";
  for (const auto& b : books) {
    out << b["stream"].get<std::string>() << " at " << format_time(*at)
        << (b["valid"].get<bool>() ? "" : " (NOT VALID: gap)") << "\n";
    out << std::right << std::setw(18) << "bid qty" << std::setw(16) << "bid"
        << " | " << std::left << std::setw(16) << "ask" << std::setw(18) << "ask qty"
        << "\n";
    const auto& bids = b["bids"];
    const auto& asks = b["asks"];
    for (std::size_t i = 0; i < std::max(bids.size(), asks.size()); ++i) {
      out << std::right << std::setw(18) << (i < bids.size() ? bids[i][1].get<std::string>() : "")
          << std::setw(16) << (i < bids.size() ? bids[i][0].get<std::string>() : "") << " | " << std::left
          << std::setw(16) << (i < asks.size() ? asks[i][0].get<std::string>() : "") << std::setw(18)
          << (i < asks.size() ? asks[i][1].get<std::string>() : "") << "\n";
    }
    out << "\n";
  }
  return 0;
}

int md_convert(const MdConvertOptions& options, std::ostream& out, std::ostream& err) {
  auto opened = open_reader(options.inputs);
  if (!opened.ok()) {
    err << "tranche md convert: " << opened.error().message << "\n";
    return 2;
  }
  auto written = convert_to_binary(**opened, options.output);
  report_reader_problems(**opened, err);
  if (!written.ok()) {
    err << "tranche md convert: " << written.error().message << "\n";
    return 1;
  }
  out << "wrote " << *written << " events in " << (*opened)->streams().size() << " streams to "
      << options.output << "\n";
  return (*opened)->error_count() == 0 ? 0 : 1;
}

}  // namespace tranche::service

namespace tranche::service {

int md_profile(const MdProfileOptions& options, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "tranche md profile: " << message << "\n";
    return 2;
  };
  // A profile travels in the parent's parameters and in each vwap decision journaled: kept to a size both
  // hold.
  if (options.buckets < 1 || options.buckets > 1'000) return fail("--buckets must be 1 to 1000");
  std::optional<TimestampNs> from, to;
  if (!options.from.empty()) {
    auto t = parse_time(options.from);
    if (!t) return fail("--from: " + t.error().message);
    from = *t;
  }
  if (!options.to.empty()) {
    auto t = parse_time(options.to);
    if (!t) return fail("--to: " + t.error().message);
    to = *t;
  }
  auto opened = open_reader(options.files);
  if (!opened.ok()) return fail(opened.error().message);
  // Every print (a trade, or an L3 execution of a resting order) with its time; the span is the data's
  // unless --from/--to say otherwise.
  std::vector<std::pair<TimestampNs, double>> prints;
  TimestampNs first = 0, last = 0;
  md::Event event;
  while ((*opened)->next(event)) {
    if (event.kind != md::EventKind::Trade && event.kind != md::EventKind::OrderFill) continue;
    if (prints.empty()) first = event.recv_ns;
    first = std::min(first, event.recv_ns);
    last = std::max(last, event.recv_ns);
    prints.emplace_back(event.recv_ns, event.qty.to_double());
  }
  const TimestampNs begin = from.value_or(first), end = to.value_or(last + 1);
  if (prints.empty()) return fail("no trades in the files");
  if (end <= begin) return fail("the span is empty");
  std::vector<double> volume(options.buckets, 0.0);
  double total = 0;
  const auto width = static_cast<long double>(end - begin) / options.buckets;
  for (const auto& [t, qty] : prints) {
    if (t < begin || t >= end) continue;
    const auto b = std::min<std::size_t>(static_cast<std::size_t>((t - begin) / width), options.buckets - 1);
    volume[b] += qty;
    total += qty;
  }
  if (total <= 0) return fail("no trades between " + format_time(begin) + " and " + format_time(end));
  Text list(6);
  ordered_json buckets = ordered_json::array();
  for (std::size_t b = 0; b < options.buckets; ++b) {
    if (b) list << ',';
    list << volume[b] / total;
    const auto lo = begin + static_cast<TimestampNs>(width * b);
    buckets.push_back({{"from", format_time(lo)}, {"volume", volume[b]}, {"share", volume[b] / total}});
  }
  if (options.json) {
    out << ordered_json{{"from", format_time(begin)},
                        {"to", format_time(end)},
                        {"volume", total},
                        {"buckets", buckets},
                        {"profile", list.str()}}
               .dump(2)
        << "\n";
    return 0;
  }
  for (const auto& b : buckets)
    out << b["from"].get<std::string>() << "  " << std::fixed << std::setprecision(1) << std::setw(8)
        << 100 * b["share"].get<double>() << "%\n";
  out << "profile=" << list.str() << "\n";
  return 0;
}

int md_signals(const MdSignalsOptions& options, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "tranche md signals: " << message << "\n";
    return 2;
  };
  auto horizon = parse_duration(options.horizon);
  if (!horizon || *horizon <= 0) return fail("--horizon must be a positive duration: " + options.horizon);
  auto every = parse_duration(options.every);
  if (!every || *every <= 0) return fail("--every must be a positive duration: " + options.every);
  auto opened = open_reader(options.files);
  if (!opened.ok()) return fail(opened.error().message);
  EventReader& reader = **opened;
  const std::vector<StreamTouches> touches = read_touches(reader);
  report_reader_problems(reader, err);
  ordered_json streams = ordered_json::array();
  for (std::size_t i = 0; i < touches.size() && i < reader.streams().size(); ++i) {
    const std::vector<TimedSample>& states = touches[i].states;
    if (states.empty()) continue;
    ordered_json st;
    st["stream"] = reader.streams()[i].name();
    st["touch_from"] = touches[i].from_quotes ? "bookTicker" : "book";
    st["tick"] = touches[i].tick.to_string();
    st["states"] = states.size();
    MicroPriceModel model;
    auto score = score_micro_price(states, touches[i].tick, *horizon, *every, &model);
    if (!score) {
      st["error"] = score.error().message;
      err << "tranche md signals: " << reader.streams()[i].name() << ": " << score.error().message << "\n";
      streams.push_back(st);
      continue;
    }
    st["fit_states"] = score->fit_states;
    st["fit_transitions"] = score->fit_transitions;
    st["horizon_s"] = static_cast<double>(*horizon) / 1e9;
    st["samples"] = score->samples;
    st["rmse_ticks"] = {{"mid", score->rmse_mid_ticks},
                        {"weighted_mid", score->rmse_weighted_ticks},
                        {"micro_price", score->rmse_micro_ticks}};
    st["micro_vs_mid"] = score->rmse_micro_ticks / score->rmse_mid_ticks;
    st["micro_vs_weighted_mid"] = score->rmse_micro_ticks / score->rmse_weighted_ticks;
    ordered_json table = ordered_json::object();
    for (int s = 0; s < MicroPriceModel::kSpreadStates; ++s) {
      ordered_json row = ordered_json::array();
      for (int b = 0; b < MicroPriceModel::kImbalanceBuckets; ++b)
        row.push_back(std::round(model.table()[s * MicroPriceModel::kImbalanceBuckets + b] * 1e4) / 1e4);
      table[s + 1 < MicroPriceModel::kSpreadStates ? std::to_string(s + 1) : std::to_string(s + 1) + "+"] =
          row;
    }
    st["adjustment_ticks_by_spread"] = table;
    streams.push_back(st);
  }
  ordered_json j;
  j["files"] = options.files;
  j["streams"] = streams;
  if (options.json) {
    out << j.dump(2) << "\n";
    return 0;
  }
  for (const auto& st : streams) {
    out << st["stream"].get<std::string>() << " (touch from " << st["touch_from"].get<std::string>()
        << ", tick " << st["tick"].get<std::string>() << ")\n";
    if (st.contains("error")) {
      out << "  " << st["error"].get<std::string>() << "\n";
      continue;
    }
    out << "  fitted on the first half: " << st["fit_transitions"] << " transitions of the touch\n";
    out << "  forecast of the mid " << st["horizon_s"] << " s ahead over the second half (" << st["samples"]
        << " samples), RMSE in ticks: mid " << std::setprecision(4) << st["rmse_ticks"]["mid"].get<double>()
        << ", weighted mid " << st["rmse_ticks"]["weighted_mid"].get<double>() << ", micro-price "
        << st["rmse_ticks"]["micro_price"].get<double>() << " (" << st["micro_vs_mid"].get<double>()
        << "x the mid's)\n";
    for (const auto& [spread, row] : st["adjustment_ticks_by_spread"].items()) {
      out << "  G at spread " << spread << " tick(s), by bid share 0-10% .. 90-100%:";
      for (const auto& g : row) out << " " << std::setprecision(3) << g.get<double>();
      out << "\n";
    }
  }
  return 0;
}

}  // namespace tranche::service
