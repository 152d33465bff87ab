// An algo's lifecycle end to end on the bundled market, through the placer, the risk gate, the OMS and its
// journal: a twap paused (its children canceled, nothing traded while paused), resumed (what fell due is
// caught up), amended (larger and later; a size the gate denies and one below what is executed are refused
// whole), and finished; another canceled mid-way, ending canceled with what it executed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "ems/algo.hpp"
#include "ems/parent_execution.hpp"
#include "ems/placer.hpp"
#include "gateway/sim_gateway.hpp"
#include "oms/order_manager.hpp"
#include "risk/risk_gate.hpp"
#include "ems/venue_views.hpp"
#include "sim/simulator.hpp"

namespace tranche {
namespace {

TimestampNs at(const char* iso) {
  return parse_time(iso).value();
}

class Harness : public sim::SimListener {
 public:
  explicit Harness(const std::string& name) {
    config_ = load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml").value();
    path_ = (std::filesystem::temp_directory_path() /
             ("tranche_lifecycle_" + std::to_string(::getpid()) + "_" + name + ".journal"))
                .string();
    remove_files();
    journal_ = oms::Journal::open(path_).value();
    gate_ = std::make_unique<risk::RiskGate>(config_);
    manager_ = oms::OrderManager::open(config_, *journal_, *gate_).value();
    sim::SimOptions options;
    options.seed = 1;
    sim_ = sim::Simulator::create(config_, options).value();
    gateways_ = gateway::make_sim_gateways(*sim_);
    for (auto& g : gateways_) manager_->add_session(g.get());
    placer_ = std::make_unique<ems::Placer>(config_, *manager_);
    sim_->set_listener(this);
  }
  ~Harness() override {
    exec_.reset();
    placer_.reset();
    manager_.reset();
    journal_.reset();
    remove_files();
  }

  void start_twap(double qty, TimestampNs start, TimestampNs end) {
    sim_->run_until(start);
    oms::ParentOrder p;
    p.account = AccountId("desk");
    p.instrument = InstrumentId("ETH-USDT");
    p.side = Side::Buy;
    p.qty = qty_from_real(qty, kQtyStep, Rounding::Nearest);
    p.algo = "twap";
    p.params = {{"randomize", "0"}};
    p.start_ns = start;
    p.end_ns = end;
    quote_all();
    p.id = manager_->accept_parent(p, start).value();
    ASSERT_TRUE(manager_->flush().ok());
    exec_ = std::make_unique<ems::ParentExecution>(*manager_, *placer_, std::move(ems::make_algo(p).value()),
                                                   p, [this](TimestampNs t) { sim_->set_timer(t, 0); });
    exec_->algo().on_start(*exec_, market());
    after();
  }

  void run_until(TimestampNs t) {
    while (sim_->now() < t && sim_->step()) {
      if (sim_->now() >= t) break;
    }
    sim_->run_until(t);
  }
  void run_to_end(TimestampNs limit) {
    while (!parent_done() && sim_->now() < limit && sim_->step()) {
    }
  }

  void on_market_data(const sim::MarketDataRef& ref, const md::Event& event) override {
    const auto& m = sim_->venue(ref.venue).market(ref.market);
    gate_->on_quote(ref.venue_id, ref.instrument, m.best(Side::Buy), m.best(Side::Sell), sim_->now());
    if (exec_ == nullptr || parent_done()) return;
    const ems::AlgoMarket now = market();
    placer_->on_market(views_, sim_->now(), &ref.venue_id);
    if (event.kind == md::EventKind::Trade && !(event.flags & md::kFlagSimulated)) {
      placer_->on_trade(ref.venue_id, event.side, event.price, event.qty.to_double(), sim_->now());
      exec_->algo().on_trade(*exec_, now, event.qty.to_double());
    } else {
      exec_->algo().on_market(*exec_, now);
    }
    after();
  }
  void on_execution_report(const ExecutionReport& r) override {
    manager_->on_execution_report(r);
    ASSERT_TRUE(manager_->flush().ok());
    if (exec_ == nullptr || parent_done()) return;
    placer_->on_report(r);
    if (r.exec_type == ExecType::Trade)
      exec_->algo().on_fill(*exec_, market());
    else
      exec_->algo().on_market(*exec_, market());
    after();
  }
  void on_timer(std::uint64_t, TimestampNs) override {
    if (exec_ == nullptr || parent_done()) return;
    exec_->algo().on_timer(*exec_, market());
    after();
  }

  ems::AlgoMarket market() {
    ems::VenueViewOptions options;
    options.gate = gate_.get();
    options.depth = 40;
    views_ = ems::venue_views(*sim_, InstrumentId("ETH-USDT"), sim_->now(), options);
    return ems::algo_market(views_, sim_->now());
  }
  void after() {
    ASSERT_TRUE(manager_->flush().ok());
    if (!exec_->algo().done() || parent_done() || open_children() > 0) return;
    // What happened; the OMS's parent lifecycle table decides what the parent became.
    const oms::ParentEvent event =
        parent().executed >= parent().order.qty           ? oms::ParentEvent::ExecutedInFull
        : exec_->algo().completed()                       ? oms::ParentEvent::RemainderUnsendable
        : parent().state == oms::ParentState::PendingCancel ? oms::ParentEvent::CancelCompleted
                                                          : oms::ParentEvent::AlgoEnded;
    ASSERT_TRUE(manager_->end_parent(exec_->parent(), event, exec_->algo().done_text(), sim_->now()).ok());
    ASSERT_TRUE(manager_->flush().ok());
  }
  void quote_all() {
    for (std::size_t v = 0; v < sim_->venue_count(); ++v)
      gate_->on_quote(sim_->venue(v).config().id, InstrumentId("ETH-USDT"),
                      sim_->venue(v).market(0).best(Side::Buy), sim_->venue(v).market(0).best(Side::Sell),
                      sim_->now());
  }

  const oms::ParentRecord& parent() const { return *manager_->oms().parent(exec_->parent()); }
  bool parent_done() const { return exec_ != nullptr && oms::is_final(parent().state); }
  std::size_t open_children() const {
    std::size_t n = 0;
    for (const oms::ChildOrder* c : manager_->oms().children_of(exec_->parent())) n += c->open() ? 1 : 0;
    return n;
  }
  template <class T>
  std::size_t count() const {
    std::size_t n = 0;
    (void)journal_->replay([&](const oms::Record& r) -> Status {
      n += std::holds_alternative<T>(r.body) ? 1 : 0;
      return {};
    });
    return n;
  }
  std::set<std::string> journaled_states() const {
    std::set<std::string> states;
    (void)journal_->replay([&](const oms::Record& r) -> Status {
      if (const auto* s = std::get_if<oms::AlgoStateChange>(&r.body)) states.insert(s->state);
      return {};
    });
    return states;
  }

  std::unique_ptr<ems::ParentExecution> exec_;
  std::unique_ptr<oms::OrderManager> manager_;
  std::unique_ptr<sim::Simulator> sim_;

 private:
  void remove_files() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  Config config_;
  std::string path_;
  std::unique_ptr<oms::Journal> journal_;
  std::unique_ptr<risk::RiskGate> gate_;
  std::vector<std::unique_ptr<gateway::SimGateway>> gateways_;
  std::unique_ptr<ems::Placer> placer_;
  std::vector<ems::VenueView> views_;
};

TEST(AlgoLifecycle, ATwapPausedResumedAndAmendedFinishesOnItsNewTerms) {
  Harness h("amend");
  h.start_twap(60, at("2024-08-08T23:55:00Z"), at("2024-08-08T23:57:00Z"));
  h.run_until(at("2024-08-08T23:55:30Z"));
  const double before_pause = h.parent().executed.to_double();
  EXPECT_GT(before_pause, 5.0);  // about a quarter is due by then

  h.exec_->pause(h.sim_->now());
  ASSERT_EQ(h.exec_->algo().phase(), ems::AlgoPhase::Paused);
  h.run_until(at("2024-08-08T23:55:32Z"));
  EXPECT_EQ(h.open_children(), 0u) << "pausing cancels every child";
  const double paused_at = h.parent().executed.to_double();
  const std::size_t children = h.parent().children.size();
  h.run_until(at("2024-08-08T23:55:50Z"));
  EXPECT_EQ(h.parent().children.size(), children) << "nothing is sent while paused";
  EXPECT_DOUBLE_EQ(h.parent().executed.to_double(), paused_at);

  h.exec_->resume(h.market());
  h.run_until(at("2024-08-08T23:55:52Z"));
  // What fell due while paused (about 25 of 60 by 23:55:50) is caught up within the tolerance.
  EXPECT_GT(h.parent().executed.to_double(), 25.0 - 60 * 0.02 - 1.0);

  // Refused whole: below what is executed, and a size the gate denies (max 1,000 ETH a parent).
  const std::size_t denials = h.manager_->oms().denials().size();
  const std::size_t amends = h.count<oms::ParentAmend>();
  EXPECT_FALSE(h.exec_->amend(h.market(), Qty::from_units(10), Price::unset(), 0).ok());
  const Status big = h.exec_->amend(h.market(), Qty::from_units(5000), Price::unset(), 0);
  EXPECT_FALSE(big.ok());
  EXPECT_NE(big.message().find("max_parent_qty"), std::string::npos) << big.message();
  ASSERT_EQ(h.manager_->oms().denials().size(), denials + 1);
  EXPECT_EQ(h.manager_->oms().denials().back().reason_code, "max_parent_qty");
  EXPECT_EQ(h.count<oms::ParentAmend>(), amends) << "a refused amend records no amend";
  EXPECT_EQ(h.parent().order.qty, Qty::from_units(60));
  EXPECT_EQ(h.exec_->algo().qty(), Qty::from_units(60));

  ASSERT_TRUE(
      h.exec_->amend(h.market(), Qty::from_units(80), Price::unset(), at("2024-08-08T23:57:30Z")).ok());
  EXPECT_EQ(h.parent().order.qty, Qty::from_units(80));
  EXPECT_EQ(h.parent().order.end_ns, at("2024-08-08T23:57:30Z"));
  EXPECT_EQ(h.exec_->algo().params().end_ns, at("2024-08-08T23:57:30Z"));
  // Still working at the old end: it is the new one that counts.
  h.run_until(at("2024-08-08T23:57:10Z"));
  EXPECT_FALSE(h.parent_done());
  EXPECT_EQ(h.exec_->algo().phase(), ems::AlgoPhase::Working);
  EXPECT_LT(h.parent().executed.to_double(), 80 - 1.0);
  h.run_to_end(at("2024-08-08T23:58:30Z"));
  ASSERT_TRUE(h.parent_done()) << h.exec_->algo().done_text();
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
  while (h.open_children() == 0 && h.sim_->step()) {
  }
  const std::size_t open = h.open_children();
  ASSERT_GT(open, 0u);
  const std::size_t cancels_before = h.count<CancelOrder>();
  ASSERT_TRUE(h.exec_->cancel(h.sim_->now(), "by the owner").ok());
  EXPECT_EQ(h.count<CancelOrder>(), cancels_before + open) << "each open child is asked to cancel once";
  // The OMS has the parent's cancel, and every open child is pending cancel, each asked once.
  EXPECT_EQ(h.parent().state, oms::ParentState::PendingCancel);
  for (const oms::ChildOrder* c : h.manager_->oms().children_of(h.exec_->parent()))
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
