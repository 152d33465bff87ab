// Golden tests on the real Binance recordings: the rebuilt book's best bid and offer equals every bookTicker
// that carries the same update id, with no sequence gap and no crossed book.
#include <gtest/gtest.h>

#include <set>

#include "md/binance_reader.hpp"
#include "md/book_replay.hpp"
#include "md/test_data.hpp"

namespace tranche::md {
namespace {

struct Outcome {
  std::uint64_t events = 0, checks = 0, mismatches = 0, gaps = 0, crossed = 0, errors = 0;
  std::uint64_t checkable =
      0;  // bookTickers whose update id is the last id of an applied diff, counted apart
};

Outcome replay(const std::vector<std::string>& files) {
  auto reader = make_binance_reader(files);
  BookReplay replay;
  Outcome outcome;
  Event event;
  std::set<std::pair<std::uint16_t, std::uint64_t>> quote_ids, diff_ids;
  while (reader->next(event)) {
    replay.apply(event);
    ++outcome.events;
    if (event.kind == EventKind::Quote) quote_ids.insert({event.stream, event.last_seq});
    if (event.kind == EventKind::BookDelta) diff_ids.insert({event.stream, event.last_seq});
  }
  for (const auto& id : quote_ids) outcome.checkable += diff_ids.count(id);
  outcome.checks = replay.bbo_checks();
  outcome.mismatches = replay.bbo_mismatches();
  outcome.gaps = reader->gaps().size();
  outcome.errors = reader->error_count();
  for (std::size_t i = 0; i < replay.stream_count(); ++i)
    outcome.crossed += replay.stream(static_cast<std::uint16_t>(i))->crossed_after_depth;
  for (const auto& m : replay.mismatch_examples()) ADD_FAILURE() << m.to_string();
  for (const auto& e : reader->errors()) ADD_FAILURE() << e.to_string();
  return outcome;
}

class BinanceGolden : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(BinanceGolden, RebuiltBookMatchesEveryBookTickerWithTheSameUpdateId) {
  std::vector<std::string> files;
  for (const auto& relative : GetParam()) files.push_back(testing::shared_data("binance/" + relative));
  for (const auto& f : files) TRANCHE_REQUIRE_SHARED_FILE(f);
  const Outcome outcome = replay(files);
  std::cout << GetParam()[0] << ": " << outcome.events << " events, " << outcome.checks
            << " bookTicker checks, " << outcome.mismatches << " mismatches, " << outcome.gaps << " gaps\n";
  EXPECT_GT(outcome.checks, 500u);
  EXPECT_EQ(outcome.checks, outcome.checkable) << "every bookTicker with a diff's update id is checked";
  EXPECT_EQ(outcome.mismatches, 0u);
  EXPECT_EQ(outcome.gaps, 0u);
  EXPECT_EQ(outcome.crossed, 0u);
  EXPECT_EQ(outcome.errors, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    EveryFileWithASnapshot, BinanceGolden,
    ::testing::Values(std::vector<std::string>{"spot/ethusdt_20240808.gz", "spot/ethusdt_20240809.gz"},
                      std::vector<std::string>{"usdm/ethusdt_20240808.gz"},
                      std::vector<std::string>{"cm/ethusd_perp_20240808.gz", "cm/ethusd_perp_20240809.gz"},
                      std::vector<std::string>{"usdm/btcusdt_20240718.gz", "usdm/btcusdt_20240719.gz"},
                      std::vector<std::string>{"usdm/ethusdt_20240718.gz", "usdm/ethusdt_20240719.gz"},
                      std::vector<std::string>{"usdm/btcusdt_20230404.dat.gz",
                                               "usdm/btcusdt_20230405.dat.gz"}));

TEST(BinanceBundledData, RebuiltBookMatchesEveryBookTickerOnTheBundledDemoMarket) {
  for (const char* name : {"binance/spot/ethusdt_20240808.gz", "binance/usdm/ethusdt_20240808.gz",
                           "binance/cm/ethusd_perp_20240808.gz"}) {
    const Outcome outcome = replay({testing::bundled_data(name)});
    EXPECT_GT(outcome.checks, 500u) << name;
    EXPECT_EQ(outcome.checks, outcome.checkable) << name;
    EXPECT_EQ(outcome.mismatches, 0u) << name;
    EXPECT_EQ(outcome.gaps, 0u) << name;
  }
}

}  // namespace
}  // namespace tranche::md
