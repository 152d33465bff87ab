// Every parent's pre-trade estimate on the bundled market: the kernel makes it when the parent's algo starts,
// from the market it saw itself, and journals it; it is the estimate `tranche estimate` prints for the same
// moment, and a restart takes it back from the journal instead of making another. An auto parent's algo is
// chosen then too, journaled with its reason, and a restart resumes the algo it chose.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "core/quantity.hpp"
#include "ems/kernel.hpp"
#include "ems/market_meter.hpp"
#include "service/estimate_command.hpp"
#include "service/runtime.hpp"

namespace tranche {
namespace {

TimestampNs at(const char* iso) {
  return parse_time(iso).value();
}

Config bundled() {
  return load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml").value();
}

class JournalFile {
 public:
  explicit JournalFile(const std::string& name)
      : path_((std::filesystem::temp_directory_path() /
               ("tranche_estimate_" + std::to_string(::getpid()) + "_" + name + ".journal"))
                  .string()) {
    remove();
  }
  ~JournalFile() { remove(); }
  const std::string& path() const { return path_; }

 private:
  void remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  std::string path_;
};

oms::ParentOrder twap(double qty, Side side, TimestampNs start, TimestampNs end) {
  oms::ParentOrder p;
  p.account = AccountId("desk");
  p.instrument = InstrumentId("ETH-USDT");
  p.side = side;
  p.qty = qty_from_real(qty, kQtyStep, Rounding::Nearest);
  p.algo = "twap";
  p.start_ns = start;
  p.end_ns = end;
  return p;
}

std::unique_ptr<service::Runtime> open_runtime(const Config& config, const std::string& journal) {
  service::RuntimeOptions options;
  options.journal = journal;
  options.sim.seed = 1;
  return service::Runtime::open(config, options).value();
}

TEST(PretradeEstimate, TheKernelsEstimateOfAParentIsTheEstimateCommandsOfTheSameMoment) {
  const Config config = bundled();
  JournalFile file("same");
  auto runtime = open_runtime(config, file.path());
  const TimestampNs start = at("2024-08-08T23:55:00Z"), end = at("2024-08-08T23:57:00Z");
  runtime->sim().run_until(start);
  const oms::ParentOrder order = twap(120, Side::Sell, start, end);
  const ParentId id = runtime->kernel().submit(order).value();
  runtime->kernel().settle();
  const ems::ParentEstimate* made = runtime->kernel().estimate(id);
  ASSERT_NE(made, nullptr) << "the estimate is made when the algo starts";

  auto measured = service::measure_market("", "ETH-USDT", Side::Sell, start, ems::kEstimateLookbackNs);
  ASSERT_TRUE(measured.ok()) << measured.error().message;
  ems::AlgoParams params;
  const ems::ParentEstimate command = ems::estimate_parent(*measured, order, params, start);
  ASSERT_TRUE(std::isfinite(made->own.cost_bps));
  EXPECT_EQ(made->model, "twap");
  EXPECT_NEAR(made->own.cost_bps, command.own.cost_bps, 1e-9);
  EXPECT_NEAR(made->own.risk_bps, command.own.risk_bps, 1e-9);
  EXPECT_NEAR(made->sigma_bps_per_sqrt_s, command.sigma_bps_per_sqrt_s, 1e-12);
  EXPECT_NEAR(made->volume_per_s, command.volume_per_s, 1e-9);
  EXPECT_EQ(made->recommended, command.recommended);
  // Made from a market that moved: a volatility and others' volume were measured, and it names its algo.
  EXPECT_GT(made->sigma_bps_per_sqrt_s, 0);
  EXPECT_GT(made->volume_per_s, 0);
  EXPECT_NEAR(made->own.duration_s, 120, 1e-9);

  std::size_t journaled = 0;
  (void)runtime->journal().replay([&](const oms::Record& r) -> Status {
    if (const auto* s = std::get_if<oms::AlgoStateChange>(&r.body))
      if (s->state == "estimate" && s->id == id) {
        ++journaled;
        auto back = ems::ParentEstimate::from_detail(s->detail);
        EXPECT_TRUE(back.has_value()) << s->detail;
        if (back) {
          EXPECT_NEAR(back->own.cost_bps, made->own.cost_bps, 1e-4 * std::abs(made->own.cost_bps));
        }
      }
    return {};
  });
  EXPECT_EQ(journaled, 1u) << "journaled once, when the algo started";
}

TEST(PretradeEstimate, ARestartedParentKeepsTheEstimateItStartedWith) {
  const Config config = bundled();
  JournalFile file("restart");
  const TimestampNs start = at("2024-08-08T23:55:00Z"), end = at("2024-08-08T23:59:00Z");
  ParentId id;
  double before = 0;
  {
    auto runtime = open_runtime(config, file.path());
    runtime->sim().run_until(start);
    id = runtime->kernel().submit(twap(200, Side::Buy, start, end)).value();
    runtime->kernel().settle();
    runtime->sim().run_until(start + 20 * kNanosPerSecond);
    ASSERT_NE(runtime->kernel().estimate(id), nullptr);
    before = runtime->kernel().estimate(id)->own.cost_bps;
    ASSERT_TRUE(runtime->kernel().working(id));
  }
  auto restarted = open_runtime(config, file.path());
  ASSERT_TRUE(restarted->kernel().recover(restarted->journal()).ok());  // as `tranche serve` does
  const ems::ParentEstimate* after = restarted->kernel().estimate(id);
  ASSERT_NE(after, nullptr) << "the estimate is read back from the journal";
  EXPECT_NEAR(after->own.cost_bps, before, 1e-4 * std::abs(before));
  // The algo resumes on the next events; no second estimate is made for the same parent.
  restarted->sim().run_until(start + 40 * kNanosPerSecond);
  std::size_t journaled = 0;
  (void)restarted->journal().replay([&](const oms::Record& r) -> Status {
    if (const auto* s = std::get_if<oms::AlgoStateChange>(&r.body))
      journaled += s->state == "estimate" && s->id == id ? 1 : 0;
    return {};
  });
  EXPECT_EQ(journaled, 1u);
}

std::vector<std::string> journaled(oms::Journal& journal, ParentId id, const std::string& state) {
  std::vector<std::string> details;
  (void)journal.replay([&](const oms::Record& r) -> Status {
    if (const auto* s = std::get_if<oms::AlgoStateChange>(&r.body))
      if (s->state == state && s->id == id) details.push_back(s->detail);
    return {};
  });
  return details;
}

TEST(AutoAlgo, AnAutoParentIsWorkedByTheAlgoItChoseWithItsReasonJournaledAndKeptOverARestart) {
  const Config config = bundled();
  JournalFile file("auto");
  const TimestampNs start = at("2024-08-08T23:55:00Z"), end = at("2024-08-08T23:59:00Z");
  oms::ParentOrder order = twap(200, Side::Buy, start, end);
  order.algo = "auto";
  order.params = {{"auto_algos", "twap|pov"}, {"randomize", "0"}};
  ParentId id;
  std::string chose;
  {
    auto runtime = open_runtime(config, file.path());
    runtime->sim().run_until(start);
    id = runtime->kernel().submit(order).value();
    runtime->kernel().settle();
    const ems::AutoChoice* choice = runtime->kernel().auto_choice(id);
    ASSERT_NE(choice, nullptr);
    chose = choice->algo;
    EXPECT_TRUE(chose == "twap" || chose == "pov") << chose << " is not one of its candidates";
    ASSERT_NE(runtime->kernel().algo(id), nullptr);
    EXPECT_EQ(runtime->kernel().algo(id)->name(), chose);
    EXPECT_NE(choice->why.find("next"), std::string::npos) << "the runner-up is said: " << choice->why;
    ASSERT_NE(runtime->kernel().estimate(id), nullptr);
    EXPECT_EQ(runtime->kernel().estimate(id)->own.algo, chose) << "estimated as what works it";
    const auto details = journaled(runtime->journal(), id, "auto");
    ASSERT_EQ(details.size(), 1u);
    EXPECT_EQ(details[0].rfind("chose=" + chose, 0), 0u) << details[0];
    runtime->sim().run_until(start + 20 * kNanosPerSecond);
    ASSERT_TRUE(runtime->kernel().working(id));
  }
  auto restarted = open_runtime(config, file.path());
  ASSERT_TRUE(restarted->kernel().recover(restarted->journal()).ok());
  ASSERT_NE(restarted->kernel().auto_choice(id), nullptr);
  EXPECT_EQ(restarted->kernel().auto_choice(id)->algo, chose);
  restarted->sim().run_until(start + 40 * kNanosPerSecond);
  ASSERT_NE(restarted->kernel().algo(id), nullptr) << "the algo resumed";
  EXPECT_EQ(restarted->kernel().algo(id)->name(), chose);
  EXPECT_EQ(journaled(restarted->journal(), id, "auto").size(), 1u) << "chosen once";
}

TEST(AutoAlgo, AnAutoParentWithABadSettingIsRefusedWholeAndNothingIsJournaledForIt) {
  const Config config = bundled();
  JournalFile file("auto-bad");
  auto runtime = open_runtime(config, file.path());
  const TimestampNs start = at("2024-08-08T23:55:00Z");
  runtime->sim().run_until(start);
  oms::ParentOrder order = twap(10, Side::Buy, start, start + 60 * kNanosPerSecond);
  order.algo = "auto";
  for (const std::vector<oms::AlgoParam>& params :
       {std::vector<oms::AlgoParam>{{"auto_algos", "twap|moonshot"}},
        {{"auto_risk_weight", "-3"}},
        {{"randomize", "7"}}}) {
    order.params = params;
    auto refused = runtime->kernel().submit(order);
    ASSERT_FALSE(refused.ok()) << params.front().key;
    EXPECT_EQ(refused.error().message.rfind("auto: ", 0), 0u) << refused.error().message;
  }
  EXPECT_EQ(runtime->manager().oms().parents().size(), 0u);
}

TEST(PretradeEstimate, TheJournalsFormReadsBackAndAnythingElseIsNotAnEstimate) {
  ems::ParentEstimate e;
  e.own.algo = "iceberg";
  e.model = "peg";
  e.own.cost_bps = 2.5;
  e.own.spread_bps = -0.25;
  e.own.impact_bps = 1.25;
  e.own.fees_bps = 1.5;
  e.own.risk_bps = 4;
  e.own.duration_s = 60;
  e.participation = 0.05;
  e.sigma_bps_per_sqrt_s = 0.9;
  e.volume_per_s = 20;
  e.window_s = 300;
  e.recommended = "peg";
  e.recommended_cost_bps = 2.5;
  auto back = ems::ParentEstimate::from_detail(e.detail());
  ASSERT_TRUE(back.has_value()) << e.detail();
  EXPECT_EQ(back->own.algo, "iceberg");
  EXPECT_EQ(back->model, "peg");
  EXPECT_DOUBLE_EQ(back->own.cost_bps, 2.5);
  EXPECT_DOUBLE_EQ(back->own.spread_bps, -0.25);
  EXPECT_DOUBLE_EQ(back->window_s, 300);
  EXPECT_EQ(back->recommended, "peg");
  // A custom algo the model has nothing for: its cost is not a number, and still reads back.
  e.own.cost_bps = std::nan("");
  e.model.clear();
  back = ems::ParentEstimate::from_detail(e.detail());
  ASSERT_TRUE(back.has_value()) << e.detail();
  EXPECT_TRUE(std::isnan(back->own.cost_bps));
  EXPECT_TRUE(back->model.empty());
  EXPECT_FALSE(ems::ParentEstimate::from_detail("none: no benchmark mid of ETH-USDT").has_value());
  EXPECT_FALSE(ems::ParentEstimate::from_detail("algo=twap cost_bps=abc recommended=peg").has_value());
  EXPECT_FALSE(ems::ParentEstimate::from_detail("").has_value());
}

}  // namespace
}  // namespace tranche
