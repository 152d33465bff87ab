// Venue scorecards: what they count, when a realised latency takes over, and the file they live in.
#include "ems/scorecard.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tranche::ems {
namespace {

ExecutionReport report(ExecType type, TimestampNs received_ns, Liquidity liquidity = Liquidity::None,
                       const char* venue = "v") {
  ExecutionReport r;
  r.venue = VenueId(venue);
  r.exec_type = type;
  r.received_ns = received_ns;
  r.liquidity = liquidity;
  return r;
}

TEST(Scorecards, CountFillRatesRejectsAndMarkoutsAsReportsArrive) {
  Scorecards cards;
  cards.on_sent(VenueId("v"), 2.0);
  cards.on_sent(VenueId("v"), 2.0);
  cards.on_report(report(ExecType::New, 1'000'000), 0, true, 0);
  cards.on_report(report(ExecType::Trade, 1'200'000, Liquidity::Maker), 0, false, 1.5);
  cards.on_report(report(ExecType::Rejected, 1'500'000), 0, true, 0);
  cards.on_markout(VenueId("v"), "1s", 4.0, 1.0);
  cards.on_markout(VenueId("v"), "1s", -2.0, 3.0);
  const VenueScorecard& s = *cards.venue(VenueId("v"));
  EXPECT_EQ(s.orders, 2u);
  EXPECT_EQ(s.fills, 1u);
  EXPECT_EQ(s.maker_fills, 1u);
  EXPECT_DOUBLE_EQ(s.fill_rate(), 1.5 / 4.0);
  EXPECT_DOUBLE_EQ(s.reject_rate(), 0.5);
  EXPECT_DOUBLE_EQ(s.markout_bps("1s"), (4.0 - 6.0) / 4.0);
}

TEST(Scorecards, ARealisedLatencyReplacesTheConfiguredOneOnceThereIsEnoughOfIt) {
  Scorecards cards;
  const VenueId v("v");
  for (int i = 0; i < 4; ++i) cards.on_report(report(ExecType::New, 10 * kNanosPerMilli), 0 + 1, true, 0);
  EXPECT_EQ(cards.latency_or(v, 3 * kNanosPerMilli), 3 * kNanosPerMilli);  // 4 samples: not yet
  cards.on_report(report(ExecType::New, 10 * kNanosPerMilli), 1, true, 0);
  // A round trip of 10 ms: one way is half of it.
  EXPECT_NEAR(static_cast<double>(cards.latency_or(v, 3 * kNanosPerMilli)), 5e6, 1.0);
}

TEST(Scorecards, SurviveARestartInTheirFileAndRefuseAFileThatIsNotOne) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("tranche_scorecard_" + std::to_string(::getpid()) + ".json"))
          .string();
  std::filesystem::remove(path);
  auto empty = Scorecards::load(path);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->venues().empty());
  Scorecards cards;
  cards.on_sent(VenueId("binance-spot"), 1.0);
  cards.on_report(report(ExecType::New, 2'000'000, Liquidity::None, "binance-spot"), 1'000'000, true, 0);
  cards.on_markout(VenueId("binance-spot"), "10s", 3.0, 1.0);
  ASSERT_TRUE(cards.save(path).ok());
  auto loaded = Scorecards::load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const VenueScorecard& s = *loaded->venue(VenueId("binance-spot"));
  EXPECT_EQ(s.orders, 1u);
  EXPECT_DOUBLE_EQ(s.median_round_trip_us(), 1000.0);
  EXPECT_DOUBLE_EQ(s.markout_bps("10s"), 3.0);
  std::ofstream(path) << "{\"hello\": 1}";
  EXPECT_FALSE(Scorecards::load(path).ok());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace tranche::ems
