// The router measured with TCA on the three-venue default: for sizes of 1x, 10x and 50x the touch size (the
// time-weighted median of the quantity binance-spot displays at its best bid and offer over the window), a
// routed sweep (`tranche execute --algo market`) costs no more than the same sweep sent to any one venue
// alone. The table of costs, with and without fees, is printed for the record.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "service/execute_command.hpp"
#include "sim/simulator.hpp"

namespace tranche {
namespace {

// The touch size: every 100 ms of the window, the mean of the quantities at spot's best bid and offer; the
// median of those samples (equal time apart, so time-weighted).
double touch_size() {
  const Config config = load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml").value();
  sim::SimOptions options;
  options.venues = {"binance-spot"};
  options.deliver_market_data = false;
  auto sim = sim::Simulator::create(config, options).value();
  std::vector<double> samples;
  for (TimestampNs t = sim->start_ns(); t < sim->end_ns(); t += 100 * kNanosPerMilli) {
    sim->run_until(t);
    const auto& m = sim->venue(0).market(0);
    if (!m.valid()) continue;
    samples.push_back((m.best_qty(Side::Buy).to_double() + m.best_qty(Side::Sell).to_double()) / 2);
  }
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(samples.size() / 2),
                   samples.end());
  return samples[samples.size() / 2];
}

struct Cost {
  double with_fees = 0, without_fees = 0, filled = 0;
};

Cost execute(Side side, double qty, const char* start, const char* venue) {
  service::ExecuteOptions options;
  options.side = side == Side::Buy ? "buy" : "sell";
  char q[32];
  std::snprintf(q, sizeof q, "%.4f", qty);
  options.qty = q;
  options.start = start;
  options.json = true;
  options.progress = false;
  if (venue != nullptr) options.venues = {venue};
  std::ostringstream out, err;
  EXPECT_EQ(service::execute_command(options, out, err), 0) << err.str();
  const auto j = nlohmann::json::parse(out.str());
  const auto& tca = j.at("tca");
  Cost c;
  c.with_fees = tca.at("implementation_shortfall_bps").get<double>();
  c.without_fees = c.with_fees - tca.at("fees_bps").get<double>();
  c.filled = tca.at("fill_ratio").get<double>();
  return c;
}

TEST(RouterTca, ARoutedSweepCostsNoMoreThanTheBestSingleVenueAtEverySize) {
  const double touch = touch_size();
  std::printf("touch size (binance-spot, time-weighted median of the BBO quantities): %.3f ETH\n", touch);
  const char* venues[] = {"binance-spot", "binance-usdm", "binance-coinm"};
  int compared = 0;
  for (const char* start : {"2024-08-08T23:55:00Z", "2024-08-08T23:57:00Z"}) {
    for (Side side : {Side::Buy, Side::Sell}) {
      for (double multiple : {1.0, 10.0, 50.0}) {
        const double qty = std::round(touch * multiple * 1000) / 1000;
        SCOPED_TRACE(std::string(start) + (side == Side::Buy ? " buy " : " sell ") + std::to_string(qty));
        const Cost routed = execute(side, qty, start, nullptr);
        double best = 1e9;
        std::printf("%s %-4s %5.0fx %9.3f ETH: router %6.2f bps (%6.2f without fees)", start,
                    side == Side::Buy ? "buy" : "sell", multiple, qty, routed.with_fees, routed.without_fees);
        for (const char* v : venues) {
          const Cost alone = execute(side, qty, start, v);
          std::printf(" | %s %6.2f (%6.2f)", v + 8, alone.with_fees, alone.without_fees);
          // A venue that did not fill it all is charged the rest as opportunity cost, so every venue counts.
          best = std::min(best, alone.with_fees);
        }
        std::printf("\n");
        // Equal at 1x: the whole order fits the best venue's displayed depth (net of fees) and all of it goes
        // there. The 0.02 bps allows for whole contracts: what an inverse venue cannot round goes elsewhere.
        EXPECT_LE(routed.with_fees, best + 0.02);
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 12);
}

TEST(RouterTca, AParentWhoseOnlyVenueIsHaltedExpiresUnfilledAndIsChargedForIt) {
  // The bundled config with absolute data paths and a halt on binance-spot around 23:57.
  std::ifstream in(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml");
  std::stringstream text;
  text << in.rdbuf();
  std::string toml = text.str();
  const std::string rel = "\"../data/", abs = "\"" + std::string(TRANCHE_SOURCE_DIR) + "/data/";
  for (auto at = toml.find(rel); at != std::string::npos; at = toml.find(rel, at + abs.size()))
    toml.replace(at, rel.size(), abs);
  // The faults table goes at the end of binance-spot's [venue.sim] (just before the next venue's comment).
  const auto at = toml.find("# Binance USD-M");
  ASSERT_NE(at, std::string::npos);
  toml.insert(at, "[venue.sim.faults]\nhalt = [[\"2024-08-08T23:56:59Z\", \"2024-08-08T23:57:30Z\"]]\n\n");
  const std::string path = (std::filesystem::temp_directory_path() / "tranche_halted_spot.toml").string();
  std::ofstream(path) << toml;
  service::ExecuteOptions options;
  options.side = "buy";
  options.qty = "5";
  options.start = "2024-08-08T23:57:00Z";
  options.venues = {"binance-spot"};
  options.scenario = path;
  options.json = true;
  options.progress = false;
  std::ostringstream out, err;
  ASSERT_EQ(service::execute_command(options, out, err), 0) << err.str();
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j.at("parent").at("state").get<std::string>(), "expired");
  EXPECT_EQ(j.at("tca").at("filled").get<double>(), 0.0);
  EXPECT_TRUE(j.at("children").empty());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace tranche
