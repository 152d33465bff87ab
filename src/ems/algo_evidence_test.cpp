// `--algo auto`'s choice: the pre-trade estimate of each candidate, corrected by how far our own past
// parents of it in the same size bucket cost more or less than their estimates.
#include "ems/algo_evidence.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace tranche::ems {
namespace {

// Two venues, a calm market: every schedule's estimate is the same but for its resting share, so peg
// (resting 0.9, the cheaper maker fee) is estimated cheapest and twap (0.6) next.
tca::MarketMeasure calm_market() {
  tca::MarketMeasure m;
  m.at_ns = 1'000 * kNanosPerSecond;
  m.mid = 100;
  m.sigma_bps_per_sqrt_s = 1;
  m.sigma_samples = 300;
  m.window_s = 300;
  for (const char* name : {"a", "b"}) {
    tca::VenueLiquidity v;
    v.venue = name;
    v.maker_fee_bps = 1;
    v.taker_fee_bps = 5;
    v.spread_bps = 1;
    v.depth_base = 50;
    v.volume_per_s = 5;
    v.levels = {{100.005, 20}, {100.01, 40}, {100.05, 200}};
    m.venues.push_back(v);
  }
  return m;
}

tca::PretradeOrder order(double qty, double horizon_s) {
  tca::PretradeOrder o;
  o.side = Side::Buy;
  o.qty = qty;
  o.horizon_s = horizon_s;
  return o;
}

AutoSettings settings(std::vector<std::string> candidates = {}) {
  AutoSettings s;
  s.candidates = candidates.empty() ? auto_candidates() : std::move(candidates);
  return s;
}

TEST(AutoChoice, WithoutEvidenceTheLowestEstimateWinsAndTheReasonSaysSo) {
  const auto m = calm_market();
  const auto o = order(10, 120);  // 10 of 10 x 120 = 1,200 traded: under 1%
  const AutoChoice c = choose_algo(m, o, {}, settings(), nullptr);
  EXPECT_EQ(c.algo, "peg");
  EXPECT_NE(c.why.find("bucket under 1%"), std::string::npos) << c.why;
  EXPECT_NE(c.why.find("peg"), std::string::npos) << c.why;
  EXPECT_NE(c.why.find("(0 past)"), std::string::npos) << c.why;
  EXPECT_NE(c.why.find("next"), std::string::npos) << c.why;
}

TEST(AutoChoice, PastParentsThatCostMoreThanTheirEstimateTurnItToAnother) {
  const auto m = calm_market();
  const auto o = order(10, 120);
  AlgoEvidence evidence;
  const std::string bucket = size_bucket(10.0 / (10 * 120 + 10));
  // Pegs cost 4 bps more than estimated, fifty times over; twap and seek as estimated.
  for (int i = 0; i < 50; ++i) {
    evidence.on_parent(bucket, "peg", 2.0, 6.0);
    evidence.on_parent(bucket, "seek", 2.0, 6.0);
    evidence.on_parent(bucket, "twap", 3.0, 3.0);
  }
  const AutoChoice c = choose_algo(m, o, {}, settings(), &evidence);
  EXPECT_EQ(c.algo, "twap") << c.why;
  EXPECT_NE(c.why.find("(50 past)"), std::string::npos) << c.why;
  // The same evidence in another bucket says nothing about this one.
  AlgoEvidence elsewhere;
  for (int i = 0; i < 50; ++i) elsewhere.on_parent("20% and over", "peg", 2.0, 6.0);
  EXPECT_EQ(choose_algo(m, o, {}, settings(), &elsewhere).algo, "peg");
}

TEST(AutoChoice, AFewPastParentsMoveTheEstimateOnlyAsMuchAsTheyWeigh) {
  AlgoEvidence evidence;
  evidence.on_parent("1-5%", "peg", 2.0, 6.0);  // one parent, 4 bps dearer
  EXPECT_NEAR(evidence.correction("1-5%", "peg"), 4.0 / (1 + AlgoEvidence::kPriorParents), 1e-12);
  for (int i = 0; i < 95; ++i) evidence.on_parent("1-5%", "peg", 2.0, 6.0);
  EXPECT_NEAR(evidence.correction("1-5%", "peg"), 4.0 * 96 / (96 + AlgoEvidence::kPriorParents), 1e-9);
  EXPECT_EQ(evidence.correction("1-5%", "twap"), 0);
  // What is not a number is not evidence.
  evidence.on_parent("1-5%", "twap", std::nan(""), 3.0);
  evidence.on_parent("1-5%", "twap", 3.0, INFINITY);
  EXPECT_EQ(evidence.find("1-5%", "twap"), nullptr);
}

TEST(AutoChoice, ARiskWeightPrefersTheFasterAlgo) {
  const auto m = calm_market();
  const auto o = order(10, 600);
  AutoSettings s = settings({"peg", "market"});
  EXPECT_EQ(choose_algo(m, o, {}, s, nullptr).algo, "peg");
  s.risk_weight = 10;  // ten minutes of risk outweigh the sweep's fees
  EXPECT_EQ(choose_algo(m, o, {}, s, nullptr).algo, "market");
}

TEST(AutoChoice, PovGetsTheRateThatFinishesWithinTheHorizonUnlessTheParentSetOne) {
  const auto m = calm_market();    // others trade 10 a second
  const auto o = order(120, 120);  // 120 over 120 s of 1,200 traded: 10%, with the margin 12.5%
  const AutoChoice c = choose_algo(m, o, {}, settings({"pov"}), nullptr);
  ASSERT_EQ(c.algo, "pov");
  ASSERT_EQ(c.params.size(), 1u);
  EXPECT_EQ(c.params[0].key, "pov_rate");
  EXPECT_NEAR(std::stod(c.params[0].value), 0.125, 1e-4);
  const AutoChoice set = choose_algo(m, o, {{"pov_rate", "0.05"}}, settings({"pov"}), nullptr);
  EXPECT_TRUE(set.params.empty()) << "the parent's own rate stands";
  const auto params = chosen_params({{"auto_algos", "pov"}, {"randomize", "0"}}, c);
  ASSERT_EQ(params.size(), 2u) << "auto's own settings are not the chosen algo's";
  EXPECT_EQ(params[0].key, "randomize");
  EXPECT_EQ(params[1].key, "pov_rate");
}

TEST(AutoChoice, ItsJournalFormReadsBack) {
  AutoChoice c;
  c.algo = "pov";
  c.params = {{"pov_rate", "0.1250"}};
  c.why = "bucket 5-20% (participation 9.1%): pov 3.17 + 0.15 (26 past) = 3.32 bps, risk 2.00";
  auto back = AutoChoice::from_detail(c.detail());
  ASSERT_TRUE(back.has_value()) << c.detail();
  EXPECT_EQ(back->algo, "pov");
  ASSERT_EQ(back->params.size(), 1u);
  EXPECT_EQ(back->params[0].value, "0.1250");
  EXPECT_EQ(back->why, c.why);
  EXPECT_FALSE(AutoChoice::from_detail("algo=twap cost_bps=1").has_value());
  EXPECT_FALSE(AutoChoice::from_detail("").has_value());
}

TEST(AutoSettings, BadCandidatesAndRiskWeightsAreRefusedByName) {
  EXPECT_EQ(auto_settings({}).value().candidates, auto_candidates());
  EXPECT_EQ(auto_settings({{"auto_algos", "twap|peg"}}).value().candidates,
            (std::vector<std::string>{"twap", "peg"}));
  auto unknown = auto_settings({{"auto_algos", "twap|moonshot"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("'moonshot'"), std::string::npos);
  EXPECT_FALSE(auto_settings({{"auto_algos", "iceberg"}}).ok()) << "an iceberg needs a display a trader sets";
  EXPECT_FALSE(auto_settings({{"auto_algos", "auto"}}).ok());
  EXPECT_FALSE(auto_settings({{"auto_algos", "twap|twap"}}).ok());
  EXPECT_FALSE(auto_settings({{"auto_algos", ""}}).ok());
  EXPECT_FALSE(auto_settings({{"auto_risk_weight", "-1"}}).ok());
  EXPECT_FALSE(auto_settings({{"auto_risk_weight", "nan"}}).ok());
  EXPECT_FALSE(auto_settings({{"auto_risk_weight", "101"}}).ok());
  EXPECT_DOUBLE_EQ(auto_settings({{"auto_risk_weight", "2.5"}}).value().risk_weight, 2.5);
}

TEST(AutoSettings, AnAutoParentIsCheckedAsEveryCandidateWouldTakeIt) {
  oms::ParentOrder p;
  p.algo = "auto";
  EXPECT_TRUE(check_algo(p).ok());
  p.params = {{"randomize", "5"}};  // above what any algo takes
  EXPECT_FALSE(check_algo(p).ok());
  p.params = {{"auto_algos", "twap|peg"}, {"offset_ticks", "1"}};
  EXPECT_TRUE(check_algo(p).ok());
  p.params = {{"speed", "fast"}};
  EXPECT_FALSE(check_algo(p).ok());
}

TEST(AlgoEvidenceFile, SavedAndLoadedItIsTheSameAndACorruptFileIsRefusedByName) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("tranche_evidence_" + std::to_string(::getpid()) + ".json"))
          .string();
  AlgoEvidence e;
  e.on_parent("1-5%", "twap", 3.0, 3.5);
  e.on_parent("1-5%", "twap", 3.0, 2.0);
  e.on_parent("under 1%", "peg", 2.0, 2.5);
  ASSERT_TRUE(e.save(path).ok());
  auto back = AlgoEvidence::load(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->parents(), 3u);
  EXPECT_NEAR(back->find("1-5%", "twap")->mean_error(), -0.25, 1e-12);
  EXPECT_NEAR(back->find("1-5%", "twap")->error_sd(), std::sqrt(1.125), 1e-12);  // +0.5 and -1.0
  { std::ofstream(path) << "{\"format\": \"tranche-scorecard\", \"venues\": {}}"; }
  auto wrong = AlgoEvidence::load(path);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find(path), std::string::npos);
  {
    std::ofstream(path) << "{\"format\": \"tranche-algo-evidence\", \"buckets\": {\"1-5%\": {\"twap\": {}}}}";
  }
  EXPECT_FALSE(AlgoEvidence::load(path).ok());
  { std::ofstream(path) << "not json"; }
  EXPECT_FALSE(AlgoEvidence::load(path).ok());
  std::filesystem::remove(path);
  EXPECT_EQ(AlgoEvidence::load(path).value().parents(), 0u) << "no file: no evidence yet";
}

}  // namespace
}  // namespace tranche::ems
