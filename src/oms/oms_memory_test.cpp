// The OMS's memory stays bounded: ended parents leave it with their children and fills once all are closed
// and the horizon ([oms] forget_ended_after) has passed, positions keep what they executed, the journal
// still answers for them; anomalies keep the latest and count every one.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "oms/journal.hpp"
#include "oms/oms.hpp"
#include "oms/oms_test_support.hpp"

namespace tranche::oms {
namespace {

namespace fs = std::filesystem;
using testing::Feeder;
using testing::q;

constexpr TimestampNs kSecond = kNanosPerSecond;

Config config_with_horizon() {
  return testing::two_venue_config("[oms]\nforget_ended_after = \"10s\"\nkeep_recent = 3\n");
}

class OmsMemoryTest : public ::testing::Test {
 protected:
  OmsMemoryTest() : oms_(config_with_horizon()), feeder_(oms_) {
    oms_.set_invariant_handler([this](const std::string& context) { breaches_.push_back(context); });
  }
  // A parent of `qty` whose one child fills in full, ended (Filled) at `end_ns`.
  ParentId filled_parent(const char* qty, TimestampNs end_ns, Side side = Side::Buy) {
    feeder_.at(end_ns - kSecond);
    const ParentId parent = feeder_.parent(qty, side);
    const NewOrder o = feeder_.child(parent, qty, "100", "spot", side);
    EXPECT_TRUE(feeder_.feed(o).ok());
    EXPECT_TRUE(feeder_.feed(feeder_.report(o, ExecType::New)).ok());
    EXPECT_TRUE(feeder_.feed(feeder_.report(o, ExecType::Trade, qty, "100")).ok());
    feeder_.at(end_ns);
    EXPECT_TRUE(feeder_.feed(ParentDone{parent, ParentState::Filled, "filled"}).ok());
    return parent;
  }
  // Any record at `ts_ns` (the OMS's clock moves with its records).
  void tick(TimestampNs ts_ns) {
    feeder_.at(ts_ns);
    ASSERT_TRUE(feeder_.feed(VenueStatusReport{}).ok());
  }
  Oms oms_;
  Feeder feeder_;
  std::vector<std::string> breaches_;
};

TEST_F(OmsMemoryTest, AnEndedParentLeavesMemoryWithItsChildrenAndFillsOnceTheHorizonHasPassed) {
  const ParentId parent = filled_parent("2", 100 * kSecond);
  tick(105 * kSecond);
  ASSERT_NE(oms_.parent(parent), nullptr) << "within the horizon it stays";
  EXPECT_EQ(oms_.fills().size(), 1u);
  tick(111 * kSecond);
  EXPECT_EQ(oms_.parent(parent), nullptr);
  EXPECT_TRUE(oms_.children().empty());
  EXPECT_TRUE(oms_.fills().empty());
  EXPECT_TRUE(oms_.history(ClientOrderId(1)).empty());
  EXPECT_EQ(oms_.forgotten().parents, 1u);
  EXPECT_EQ(oms_.forgotten().children, 1u);
  EXPECT_EQ(oms_.forgotten().fills, 1u);
  // What it executed stays in the position, and the invariants still add up.
  EXPECT_EQ(oms_.position(AccountId("acct"), InstrumentId("ETH-USDT"))->qty, q("2"));
  EXPECT_TRUE(oms_.verify().ok()) << oms_.verify().message();
  EXPECT_TRUE(breaches_.empty());
  // Its ids are still spent.
  EXPECT_EQ(oms_.next_parent_id(), parent.value() + 1);
  EXPECT_EQ(oms_.next_client_order_id(), 2u);
}

TEST_F(OmsMemoryTest, APositionAddsUpFromForgottenAndRememberedFills) {
  filled_parent("3", 100 * kSecond);
  tick(120 * kSecond);
  const ParentId later = filled_parent("1", 130 * kSecond, Side::Sell);
  EXPECT_NE(oms_.parent(later), nullptr);
  EXPECT_EQ(oms_.position(AccountId("acct"), InstrumentId("ETH-USDT"))->qty, q("2"));
  EXPECT_TRUE(oms_.verify().ok()) << oms_.verify().message();
}

TEST_F(OmsMemoryTest, AParentWhoseChildTheVenueNeverClosedStaysUntilItIsClosed) {
  feeder_.at(99 * kSecond);
  const ParentId parent = feeder_.parent("5");
  const NewOrder o = feeder_.child(parent, "5");
  ASSERT_TRUE(feeder_.feed(o).ok());
  ASSERT_TRUE(feeder_.feed(feeder_.report(o, ExecType::New)).ok());
  feeder_.at(100 * kSecond);
  ASSERT_TRUE(feeder_.feed(ParentDone{parent, ParentState::Expired, "the venues closed"}).ok());
  tick(150 * kSecond);
  ASSERT_NE(oms_.parent(parent), nullptr);
  ASSERT_NE(oms_.child(o.client_order_id), nullptr) << "an open child is never forgotten";
  feeder_.at(151 * kSecond);
  ASSERT_TRUE(feeder_.feed(feeder_.report(o, ExecType::Canceled)).ok());
  tick(155 * kSecond);
  EXPECT_NE(oms_.parent(parent), nullptr) << "asked again a horizon after it was last found open";
  tick(161 * kSecond);
  EXPECT_EQ(oms_.parent(parent), nullptr);
}

TEST_F(OmsMemoryTest, AReportForAForgottenChildIsKeptAsAnAnomalyNotApplied) {
  filled_parent("2", 100 * kSecond);
  tick(111 * kSecond);
  NewOrder gone;
  gone.client_order_id = ClientOrderId(1);
  gone.venue = VenueId("spot");
  gone.instrument = InstrumentId("ETH-USDT");
  ASSERT_TRUE(feeder_.feed(feeder_.report(gone, ExecType::Trade, "1", "100")).ok());
  EXPECT_EQ(oms_.anomalies_total(), 1u);
  EXPECT_EQ(oms_.anomalies().back().kind, "unknown_order");
  EXPECT_TRUE(breaches_.empty());
}

TEST_F(OmsMemoryTest, AnomaliesKeepExactlyTheLatestAndCountEveryOne) {
  NewOrder never;
  never.venue = VenueId("spot");
  never.instrument = InstrumentId("ETH-USDT");
  for (int i = 1; i <= 20; ++i) {
    never.client_order_id = ClientOrderId(1000 + i);
    ASSERT_TRUE(feeder_.feed(feeder_.report(never, ExecType::New)).ok());
  }
  EXPECT_EQ(oms_.anomalies_total(), 20u);
  EXPECT_EQ(oms_.anomalies().size(), 3u);  // exactly keep_recent: not up to twice as many before a trim
  EXPECT_EQ(oms_.anomalies().back().child, ClientOrderId(1020));
}

TEST_F(OmsMemoryTest, KeepEverythingForgetsNothing) {
  Oms all(config_with_horizon());
  all.keep_everything();
  Feeder f(all);
  f.at(kSecond);
  const ParentId parent = f.parent("1");
  f.at(2 * kSecond);
  ASSERT_TRUE(f.feed(ParentDone{parent, ParentState::Canceled, "canceled"}).ok());
  f.at(1000 * kSecond);
  ASSERT_TRUE(f.feed(VenueStatusReport{}).ok());
  EXPECT_NE(all.parent(parent), nullptr);
}

TEST(OmsConfig, TheHorizonIsADurationOrNever) {
  EXPECT_EQ(testing::two_venue_config().oms.forget_ended_after_ns, 3600 * kSecond);
  EXPECT_EQ(testing::two_venue_config("[oms]\nforget_ended_after = \"never\"\n").oms.forget_ended_after_ns,
            0);
  for (const char* bad : {"\"0s\"", "\"-5s\"", "\"soon\"", "5"}) {
    auto parsed = parse_config(std::string("[oms]\nforget_ended_after = ") + bad + "\n", "t.toml");
    EXPECT_FALSE(parsed.ok()) << bad;
  }
  auto keep = parse_config("[oms]\nkeep_recent = 0\n", "t.toml");
  ASSERT_FALSE(keep.ok());
  EXPECT_NE(keep.error().message.find("keep_recent"), std::string::npos) << keep.error().message;
}

TEST(ParentFromJournal, AForgottenParentIsReadBackThroughTheOmsRules) {
  const fs::path dir = fs::temp_directory_path() / ("tranche_oms_memory_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const Config config = config_with_horizon();
  {
    auto journal = Journal::open((dir / "j.db").string()).value();
    Oms live(config);
    std::uint64_t seq = 0;
    auto put = [&](TimestampNs ts, RecordBody body) {
      auto appended = journal->append(ts, body);
      ASSERT_TRUE(appended.ok()) << appended.error().message;
      Record r{++seq, ts, std::move(body)};
      ASSERT_TRUE(live.apply(r).ok());
    };
    ParentOrder po;
    po.id = ParentId(1);
    po.account = AccountId("acct");
    po.instrument = InstrumentId("ETH-USDT");
    po.qty = q("3");
    po.algo = "twap";
    po.strategy = "fix CLIENT->TRANCHE order-1";
    put(1 * kSecond, po);
    ParentOrder other = po;
    other.id = ParentId(2);
    put(1 * kSecond, other);
    NewOrder child;
    child.client_order_id = ClientOrderId(1);
    child.parent_id = ParentId(1);
    child.venue = VenueId("spot");
    child.instrument = InstrumentId("ETH-USDT");
    child.price = testing::p("100");
    child.qty = q("2");
    put(2 * kSecond, child);
    ExecutionReport fill;
    fill.client_order_id = child.client_order_id;
    fill.venue = child.venue;
    fill.instrument = child.instrument;
    fill.exec_type = ExecType::Trade;
    fill.last_qty = q("2");
    fill.last_price = testing::p("101");
    fill.cum_qty = q("2");
    fill.exec_id = ExecId("e1");
    put(3 * kSecond, fill);
    put(4 * kSecond, ParentDone{ParentId(1), ParentState::Expired, "its end time came"});
    put(100 * kSecond, ParentDone{ParentId(2), ParentState::Canceled, "canceled"});
    ASSERT_TRUE(journal->commit().ok());
    EXPECT_EQ(live.parent(ParentId(1)), nullptr) << "the live OMS forgot it";

    auto back = parent_from_journal(config, *journal, ParentId(1));
    ASSERT_TRUE(back.ok()) << back.error().message;
    ASSERT_TRUE(back->has_value());
    EXPECT_EQ((*back)->state, ParentState::Expired);
    EXPECT_EQ((*back)->executed, q("2"));
    EXPECT_EQ((*back)->average_price(), testing::p("101"));
    EXPECT_EQ((*back)->done_text, "its end time came");
    auto none = parent_from_journal(config, *journal, ParentId(7));
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tranche::oms
