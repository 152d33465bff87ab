// An algo's lifecycle end to end on the bundled market, through the placer, the risk gate, the OMS and its
// journal: a twap paused (its children canceled, nothing traded while paused), resumed (what fell due is
// caught up), amended (larger and later; a size the gate denies and one below what is executed are refused
// whole), and finished; another canceled mid-way, ending canceled with what it executed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "core/quantity.hpp"
#include "ems/algo.hpp"
#include "ems/kernel.hpp"
#include "service/runtime.hpp"

namespace tranche {
namespace {

TimestampNs at(const char* iso) {
  return parse_time(iso).value();
}

// The product as `tranche execute` builds it (service::Runtime), with one twap parent driven through the
// kernel's typed requests.
class Harness {
 public:
  explicit Harness(const std::string& name) {
    config_ = load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml").value();
    path_ = (std::filesystem::temp_directory_path() /
             ("tranche_lifecycle_" + std::to_string(::getpid()) + "_" + name + ".journal"))
                .string();
    remove_files();
    service::RuntimeOptions options;
    options.journal = path_;
    options.sim.seed = 1;
    runtime_ = service::Runtime::open(config_, options).value();
  }
  ~Harness() {
    runtime_.reset();
    remove_files();
  }

  void start_twap(double qty, TimestampNs start, TimestampNs end) {
    sim().run_until(start);
    oms::ParentOrder p;
    p.account = AccountId("desk");
    p.instrument = InstrumentId("ETH-USDT");
    p.side = Side::Buy;
    p.qty = qty_from_real(qty, kQtyStep, Rounding::Nearest);
    p.algo = "twap";
    p.params = {{"randomize", "0"}};
    p.start_ns = start;
    p.end_ns = end;
    id_ = kernel().submit(p).value();
    kernel().settle();
  }

  void run_until(TimestampNs t) { sim().run_until(t); }
  void run_to_end(TimestampNs limit) {
    while (!parent_done() && sim().now() < limit && sim().step()) {
    }
  }

  sim::Simulator& sim() { return runtime_->sim(); }
  ems::Kernel& kernel() { return runtime_->kernel(); }
  oms::OrderManager& manager() { return runtime_->manager(); }
  const ems::Algo& algo() { return *kernel().algo(id_); }
  ParentId id() const { return id_; }
  // A request, then the event's end (what it did committed), as a front end does.
  Status request(const Status& s) {
    kernel().settle();
    return s;
  }

  const oms::ParentRecord& parent() { return *manager().oms().parent(id_); }
  bool parent_done() { return oms::is_final(parent().state); }
  std::size_t open_children() {
    std::size_t n = 0;
    for (const oms::ChildOrder* c : manager().oms().children_of(id_)) n += c->open() ? 1 : 0;
    return n;
  }
  template <class T>
  std::size_t count() {
    std::size_t n = 0;
    (void)runtime_->journal().replay([&](const oms::Record& r) -> Status {
      n += std::holds_alternative<T>(r.body) ? 1 : 0;
      return {};
    });
    return n;
  }
  std::set<std::string> journaled_states() {
    std::set<std::string> states;
    (void)runtime_->journal().replay([&](const oms::Record& r) -> Status {
      if (const auto* s = std::get_if<oms::AlgoStateChange>(&r.body)) states.insert(s->state);
      return {};
    });
    return states;
  }

 private:
  void remove_files() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  Config config_;
  std::string path_;
  std::unique_ptr<service::Runtime> runtime_;
  ParentId id_;
};

TEST(AlgoLifecycle, ATwapPausedResumedAndAmendedFinishesOnItsNewTerms) {
  Harness h("amend");
  h.start_twap(60, at("2024-08-08T23:55:00Z"), at("2024-08-08T23:57:00Z"));
  h.run_until(at("2024-08-08T23:55:30Z"));
  const double before_pause = h.parent().executed.to_double();
  EXPECT_GT(before_pause, 5.0);  // about a quarter is due by then

  ASSERT_TRUE(h.request(h.kernel().pause(h.id())).ok());
  ASSERT_EQ(h.algo().phase(), ems::AlgoPhase::Paused);
  h.run_until(at("2024-08-08T23:55:32Z"));
  EXPECT_EQ(h.open_children(), 0u) << "pausing cancels every child";
  const double paused_at = h.parent().executed.to_double();
  const std::size_t children = h.parent().children.size();
  h.run_until(at("2024-08-08T23:55:50Z"));
  EXPECT_EQ(h.parent().children.size(), children) << "nothing is sent while paused";
  EXPECT_DOUBLE_EQ(h.parent().executed.to_double(), paused_at);

  ASSERT_TRUE(h.request(h.kernel().resume(h.id())).ok());
  h.run_until(at("2024-08-08T23:55:52Z"));
  // What fell due while paused (about 25 of 60 by 23:55:50) is caught up within the tolerance.
  EXPECT_GT(h.parent().executed.to_double(), 25.0 - 60 * 0.02 - 1.0);

  // Refused whole: below what is executed, and a size the gate denies (max 1,000 ETH a parent).
  const std::size_t denials = h.manager().oms().denials().size();
  const std::size_t amends = h.count<oms::ParentAmend>();
  EXPECT_FALSE(h.request(h.kernel().amend(h.id(), Qty::from_units(10), Price::unset(), 0)).ok());
  const Status big = h.request(h.kernel().amend(h.id(), Qty::from_units(5000), Price::unset(), 0));
  EXPECT_FALSE(big.ok());
  EXPECT_NE(big.message().find("max_parent_qty"), std::string::npos) << big.message();
  ASSERT_EQ(h.manager().oms().denials().size(), denials + 1);
  EXPECT_EQ(h.manager().oms().denials().back().reason_code, "max_parent_qty");
  EXPECT_EQ(h.count<oms::ParentAmend>(), amends) << "a refused amend records no amend";
  EXPECT_EQ(h.parent().order.qty, Qty::from_units(60));
  EXPECT_EQ(h.algo().qty(), Qty::from_units(60));

  ASSERT_TRUE(
      h.request(h.kernel().amend(h.id(), Qty::from_units(80), Price::unset(), at("2024-08-08T23:57:30Z")))
          .ok());
  EXPECT_EQ(h.parent().order.qty, Qty::from_units(80));
  EXPECT_EQ(h.parent().order.end_ns, at("2024-08-08T23:57:30Z"));
  EXPECT_EQ(h.algo().params().end_ns, at("2024-08-08T23:57:30Z"));
  // Still working at the old end: it is the new one that counts.
  h.run_until(at("2024-08-08T23:57:10Z"));
  EXPECT_FALSE(h.parent_done());
  EXPECT_EQ(h.algo().phase(), ems::AlgoPhase::Working);
  EXPECT_LT(h.parent().executed.to_double(), 80 - 1.0);
  h.run_to_end(at("2024-08-08T23:58:30Z"));
  ASSERT_TRUE(h.parent_done()) << h.parent().done_text;
  EXPECT_EQ(h.parent().state, oms::ParentState::Filled) << h.parent().done_text;
  EXPECT_LE(h.parent().executed, Qty::from_units(80));
  EXPECT_GE(h.parent().executed.to_double(), 80 - 0.01);
  EXPECT_GE(h.parent().done_ns, at("2024-08-08T23:57:30Z"));
  const auto states = h.journaled_states();
  for (const char* s : {"paused", "resumed", "amended", "end of horizon"})
    EXPECT_TRUE(states.count(s)) << "journaled: " << s;
}

TEST(AlgoLifecycle, ACanceledTwapEndsCanceledWithWhatItExecuted) {
  Harness h("cancel");
  h.start_twap(60, at("2024-08-08T23:55:00Z"), at("2024-08-08T23:57:00Z"));
  h.run_until(at("2024-08-08T23:55:40Z"));
  // Canceled while a child is resting, so that both the parent's cancel and the algo's reach it.
  while (h.open_children() == 0 && h.sim().step()) {
  }
  const std::size_t open = h.open_children();
  ASSERT_GT(open, 0u);
  const std::size_t cancels_before = h.count<CancelOrder>();
  ASSERT_TRUE(h.request(h.kernel().cancel(h.id(), "by the owner")).ok());
  EXPECT_EQ(h.count<CancelOrder>(), cancels_before + open) << "each open child is asked to cancel once";
  // The OMS has the parent's cancel, and every open child is pending cancel, each asked once.
  EXPECT_EQ(h.parent().state, oms::ParentState::PendingCancel);
  for (const oms::ChildOrder* c : h.manager().oms().children_of(h.id()))
    if (c->open()) {
      EXPECT_EQ(c->status, OrderStatus::PendingCancel);
    }
  const std::size_t cancels_sent = h.count<CancelOrder>();
  h.run_to_end(at("2024-08-08T23:56:00Z"));
  EXPECT_EQ(h.count<CancelOrder>(), cancels_sent) << "no child was asked twice";
  ASSERT_TRUE(h.parent_done());
  EXPECT_EQ(h.parent().state, oms::ParentState::Canceled);
  EXPECT_EQ(h.open_children(), 0u);
  EXPECT_GT(h.parent().executed.to_double(), 10.0);
  EXPECT_LT(h.parent().executed.to_double(), 30.0);
  EXPECT_NE(h.parent().done_text.find("canceled (by the owner)"), std::string::npos) << h.parent().done_text;
}

}  // namespace
}  // namespace tranche
