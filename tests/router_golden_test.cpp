// The router on the three-venue default as it stood: cheaper than any venue alone on the same basis, flow
// moving away from a venue whose fee or latency rises, nothing to a halted or stale venue.
#include <gtest/gtest.h>

#include "ems/router.hpp"
#include "ems/venue_views.hpp"
#include "sim/simulator.hpp"

namespace tranche {
namespace {

std::unique_ptr<sim::Simulator> default_market(const Config& config) {
  auto sim = sim::Simulator::create(config, {});
  EXPECT_TRUE(sim.ok()) << (sim.ok() ? "" : sim.error().message);
  return std::move(sim).value();
}

Config default_config() {
  return load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml").value();
}

Qty share_of(const ems::RoutePlan& plan, const char* venue) {
  Qty base;
  for (const auto& p : plan.pieces)
    if (p.venue == VenueId(venue)) base += p.base;
  return base;
}

const InstrumentId kEth("ETH-USDT");

TEST(RouterGolden, ARoutedSweepIsPlannedNoDearerThanAnyVenueAloneOnTheSameBasis) {
  const Config config = default_config();
  auto sim = default_market(config);
  int compared = 0;
  for (const char* when : {"2024-08-08T23:55:00Z", "2024-08-08T23:56:30Z", "2024-08-08T23:58:00Z"}) {
    const TimestampNs t = parse_time(when).value();
    sim->run_until(t);
    const auto views = ems::venue_views(*sim, kEth, t);
    const double mid = sim->venue(0).market(0).mid().to_double();
    for (Side side : {Side::Buy, Side::Sell}) {
      for (const Qty qty : {Qty::from_units(10), Qty::from_units(100), Qty::from_units(500)}) {
        SCOPED_TRACE(std::string(when) + (side == Side::Buy ? " buy " : " sell ") + qty.to_string());
        ems::RouterParams params;
        params.latency_discount = false;  // compare like with like: the alternatives are not discounted
        const ems::RoutePlan plan = ems::route_marketable(side, qty, Price::unset(), mid, views, params);
        for (const auto& alt : plan.alternatives) {
          if (alt.base < qty) continue;  // that venue alone cannot do it all
          // Rounding to lots and contracts can cost the plan at most a sliver.
          EXPECT_LE(plan.cost_bps, alt.cost_bps + 0.05) << plan.explain();
          ++compared;
        }
      }
    }
  }
  EXPECT_GT(compared, 20);
}

TEST(RouterGolden, AHigherFeeOrLatencyMovesFlowAwayFromAVenue) {
  const Config config = default_config();
  auto sim = default_market(config);
  const TimestampNs t = parse_time("2024-08-08T23:57:00Z").value();
  sim->run_until(t);
  auto views = ems::venue_views(*sim, kEth, t);
  const double mid = sim->venue(0).market(0).mid().to_double();
  const ems::RoutePlan before =
      ems::route_marketable(Side::Buy, Qty::from_units(100), Price::unset(), mid, views);
  ASSERT_GT(share_of(before, "binance-usdm"), Qty::from_units(1)) << before.explain();
  for (auto& v : views)
    if (v.venue == VenueId("binance-usdm")) v.taker_fee_bps = 30;
  const ems::RoutePlan dearer =
      ems::route_marketable(Side::Buy, Qty::from_units(100), Price::unset(), mid, views);
  EXPECT_LT(share_of(dearer, "binance-usdm"), share_of(before, "binance-usdm")) << dearer.explain();
  views = ems::venue_views(*sim, kEth, t);
  for (auto& v : views)
    if (v.venue == VenueId("binance-usdm")) {
      v.latency_ns = 2 * kNanosPerSecond;
      v.ask_change_hz = std::max(v.ask_change_hz, 1.0);
    }
  const ems::RoutePlan slower =
      ems::route_marketable(Side::Buy, Qty::from_units(100), Price::unset(), mid, views);
  EXPECT_LT(share_of(slower, "binance-usdm"), share_of(before, "binance-usdm")) << slower.explain();
}

TEST(RouterGolden, AHaltedOrStaleVenueGetsNothing) {
  Config config = default_config();
  const TimestampNs t = parse_time("2024-08-08T23:57:00Z").value();
  config.venues[1].sim->faults.halts = {{t - kNanosPerSecond, t + kNanosPerSecond}};  // binance-usdm
  auto sim = default_market(config);
  sim->run_until(t);
  const double mid = sim->venue(0).market(0).mid().to_double();
  const auto views = ems::venue_views(*sim, kEth, t);
  const ems::RoutePlan plan =
      ems::route_marketable(Side::Buy, Qty::from_units(100), Price::unset(), mid, views);
  EXPECT_EQ(share_of(plan, "binance-usdm"), Qty{});
  EXPECT_NE(plan.explain().find("not tradable: halted"), std::string::npos) << plan.explain();
  ems::VenueViewOptions strict;
  strict.max_data_age_ns = 1;  // nothing is that fresh
  const auto stale = ems::venue_views(*sim, kEth, t + kNanosPerMilli, strict);
  const ems::RoutePlan none =
      ems::route_marketable(Side::Buy, Qty::from_units(100), Price::unset(), mid, stale);
  EXPECT_TRUE(none.pieces.empty());
  EXPECT_NE(none.explain().find("market data stale"), std::string::npos) << none.explain();
}

}  // namespace
}  // namespace tranche
