#include "ems/scorecard.hpp"

#include "core/file_output.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace tranche::ems {

using nlohmann::json;

double VenueScorecard::median_round_trip_us() const {
  if (round_trips_us.empty()) return 0;
  std::vector<double> sorted = round_trips_us;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2),
                   sorted.end());
  return sorted[sorted.size() / 2];
}

double VenueScorecard::markout_bps(const std::string& horizon) const {
  auto q = markout_qty.find(horizon);
  if (q == markout_qty.end() || q->second <= 0) return 0;
  return markout_weighted.at(horizon) / q->second;
}

void Scorecards::on_sent(const VenueId& venue, double base) {
  VenueScorecard& s = venues_[venue.str()];
  ++s.orders;
  s.sent_base += base;
}

void Scorecards::on_report(const ExecutionReport& report, TimestampNs sent_ns, bool first_answer,
                           double fill_base) {
  VenueScorecard& s = venues_[report.venue.str()];
  if (first_answer && sent_ns > 0 && report.received_ns >= sent_ns) {
    s.round_trips_us.push_back(static_cast<double>(report.received_ns - sent_ns) / 1e3);
    if (s.round_trips_us.size() > kKeptRoundTrips) s.round_trips_us.erase(s.round_trips_us.begin());
  }
  switch (report.exec_type) {
    case ExecType::New:
      ++s.acks;
      break;
    case ExecType::Rejected:
      ++s.rejects;
      break;
    case ExecType::Trade:
      ++s.fills;
      if (report.liquidity == Liquidity::Maker) ++s.maker_fills;
      s.filled_base += fill_base;
      break;
    default:
      break;
  }
}

void Scorecards::on_markout(const VenueId& venue, const std::string& horizon, double bps, double base) {
  VenueScorecard& s = venues_[venue.str()];
  s.markout_weighted[horizon] += bps * base;
  s.markout_qty[horizon] += base;
}

const VenueScorecard* Scorecards::venue(const VenueId& id) const {
  auto it = venues_.find(id.str());
  return it == venues_.end() ? nullptr : &it->second;
}

DurationNs Scorecards::latency_or(const VenueId& venue, DurationNs fallback) const {
  const VenueScorecard* s = this->venue(venue);
  if (s == nullptr || s->round_trips_us.size() < kMinSamples) return fallback;
  return static_cast<DurationNs>(s->median_round_trip_us() * 1e3 / 2);
}

std::string Scorecards::to_json() const {
  json j;
  j["format"] = "tranche-scorecard";
  j["version"] = 1;
  json venues = json::object();
  for (const auto& [name, s] : venues_) {
    json v;
    v["orders"] = s.orders;
    v["acks"] = s.acks;
    v["rejects"] = s.rejects;
    v["fills"] = s.fills;
    v["maker_fills"] = s.maker_fills;
    v["sent_base"] = s.sent_base;
    v["filled_base"] = s.filled_base;
    v["fill_rate"] = s.fill_rate();
    v["reject_rate"] = s.reject_rate();
    v["median_round_trip_us"] = s.median_round_trip_us();
    v["round_trips_us"] = s.round_trips_us;
    v["markout_weighted"] = s.markout_weighted;
    v["markout_qty"] = s.markout_qty;
    json markouts = json::object();
    for (const auto& [h, _] : s.markout_qty) markouts[h] = s.markout_bps(h);
    v["markout_bps"] = markouts;
    venues[name] = v;
  }
  j["venues"] = venues;
  return j.dump(2);
}

Result<Scorecards> Scorecards::load(const std::string& path) {
  Scorecards cards;
  if (!std::filesystem::exists(path)) return cards;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("format") || !j["format"].is_string() ||
      j["format"].get<std::string>() != "tranche-scorecard" || !j.contains("venues") ||
      !j["venues"].is_object())
    return make_error(path + ": not a Tranche scorecard file");
  try {
    for (const auto& [name, v] : j.at("venues").items()) {
      VenueScorecard s;
      s.orders = v.at("orders").get<std::uint64_t>();
      s.acks = v.at("acks").get<std::uint64_t>();
      s.rejects = v.at("rejects").get<std::uint64_t>();
      s.fills = v.at("fills").get<std::uint64_t>();
      s.maker_fills = v.at("maker_fills").get<std::uint64_t>();
      s.sent_base = v.at("sent_base").get<double>();
      s.filled_base = v.at("filled_base").get<double>();
      s.round_trips_us = v.at("round_trips_us").get<std::vector<double>>();
      s.markout_weighted = v.at("markout_weighted").get<std::map<std::string, double>>();
      s.markout_qty = v.at("markout_qty").get<std::map<std::string, double>>();
      cards.venues_[name] = s;
    }
  } catch (const json::exception& e) {
    return make_error(path + ": malformed scorecard: " + e.what());
  }
  return cards;
}

Status Scorecards::save(const std::string& path) const {
  return write_file_replacing(path, to_json() + "\n", "the scorecard");
}

}  // namespace tranche::ems
