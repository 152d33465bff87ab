// `tranche serve`'s desk and the kernel without the wire: requests in, answers out, on the bundled market.
// What the FIX tests see through jspurefix, checked here under the sanitizers too.
#include "service/parent_desk.hpp"
#include "service/runtime.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "gateway/sim_gateway.hpp"
#include "oms/journal.hpp"

namespace tranche::service {
namespace {

class Server {
 public:
  Server(const std::string& path, bool fresh, const std::function<void(Config&)>& tweak = {},
         const std::string& config = std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml")
      : path_(path) {
    config_ = load_config(config).value();
    if (tweak) tweak(config_);
    if (fresh)
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
    RuntimeOptions options;
    options.journal = path_;
    runtime_ = Runtime::open(config_, options).value();
    sim::Simulator& sim = runtime_->sim();
    if (runtime_->journal_last_ns() > sim.now()) sim.run_until(runtime_->journal_last_ns());
    desk_ = std::make_unique<ParentDesk>(
        config_, runtime_->kernel(), runtime_->manager(),
        [this](const ParentAnswer& a) { answers.push_back(a); }, fresh ? "A" : "B",
        [this] { return runtime_->sim().now(); });
    runtime_->kernel().set_observer(desk_.get());
    EXPECT_TRUE(runtime_->kernel().recover(runtime_->journal()).ok());
    EXPECT_TRUE(desk_->recover(runtime_->journal()).ok());
    runtime_->kernel().close_children_of_restarted_venues();
    EXPECT_TRUE(runtime_->manager().reconcile(sim.now()).ok());
    sim.run_until(std::max(sim.now(), sim.start_ns()) + 2 * kNanosPerSecond);  // books built
  }

  ParentRequest order(const std::string& id, const std::string& qty, DurationNs horizon_ns) const {
    ParentRequest r;
    r.session = "FIX.4.4:TRANCHE->CLIENT1";
    r.cl_ord_id = id;
    r.symbol = "ETH-USDT";
    r.side = '1';
    r.ord_type = '1';
    r.qty = qty;
    r.expire_ns = runtime_->sim().now() + horizon_ns;
    return r;
  }
  // A replace, cancel or status request about `orig` (its own ClOrdID `id`).
  ParentRequest about(ParentRequest::Kind kind, const std::string& id, const std::string& orig,
                      const std::string& qty) const {
    ParentRequest r = order(id, qty, 0);
    r.kind = kind;
    r.orig_cl_ord_id = orig;
    r.expire_ns.reset();
    return r;
  }
  void request(const ParentRequest& r) { desk_->on_request(r); }
  void run_for(DurationNs d) { runtime_->sim().run_until(runtime_->sim().now() + d); }
  void run_until_idle(DurationNs limit) {
    const TimestampNs until = runtime_->sim().now() + limit;
    while (kernel().working() > 0 && runtime_->sim().now() < until) run_for(100 * kNanosPerMilli);
  }
  std::vector<ParentAnswer> of(const std::string& cl_ord_id, char exec_type) const {
    std::vector<ParentAnswer> out;
    for (const auto& a : answers)
      if (a.cl_ord_id == cl_ord_id && a.exec_type == exec_type && !a.cancel_reject) out.push_back(a);
    return out;
  }
  ems::Kernel& kernel() { return runtime_->kernel(); }
  ParentDesk& desk() { return *desk_; }
  TimestampNs now() const { return runtime_->sim().now(); }
  oms::OrderManager& manager() { return runtime_->manager(); }

  std::vector<ParentAnswer> answers;

 private:
  std::string path_;
  Config config_;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<ParentDesk> desk_;
};

std::string journal_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("tranche_serve_" + std::to_string(::getpid()) + "_" + name + ".journal"))
      .string();
}

// Each fill once, adding up to CumQty and to what the OMS executed, never past the quantity.
void expect_fills_add_up(const Server& s, const std::vector<std::string>& ids, Qty qty, Qty executed) {
  Qty sum;
  std::set<std::string> exec_ids;
  for (const auto& id : ids)
    for (const auto& f : s.of(id, 'F')) {
      EXPECT_TRUE(exec_ids.insert(f.exec_id).second) << "ExecID " << f.exec_id << " twice";
      EXPECT_TRUE(f.last_qty.is_positive());
      EXPECT_TRUE(f.last_px.is_positive());
      EXPECT_FALSE(f.last_mkt.empty());
      sum = sum + f.last_qty;
      EXPECT_EQ(f.cum_qty, sum);
    }
  EXPECT_EQ(sum, executed);
  EXPECT_LE(sum, qty);
}

TEST(ParentDesk, AParentIsAcknowledgedFilledOnTheVenuesAndEndsDone) {
  const std::string path = journal_path("fill");
  {
    Server s(path, true);
    s.request(s.order("o1", "5", 20 * kNanosPerSecond));
    ASSERT_EQ(s.of("o1", '0').size(), 1u);
    EXPECT_NE(s.of("o1", '0')[0].text.find("twap buy 5 ETH-USDT"), std::string::npos);
    s.run_until_idle(60 * kNanosPerSecond);
    EXPECT_EQ(s.kernel().working(), 0u);
    const oms::ParentRecord* p = s.manager().oms().parent(ParentId(1));
    ASSERT_NE(p, nullptr);
    EXPECT_GE(p->executed.to_double(), 4.95);
    expect_fills_add_up(s, {"o1"}, Qty::from_units(5), p->executed);
    EXPECT_TRUE(s.kernel().error().ok()) << s.kernel().error().message();
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST(ParentDesk, BadParentsAreRejectedWithTheirReasonAndNothingIsAccepted) {
  const std::string path = journal_path("bad");
  {
    Server s(path, true);
    struct Case {
      std::string name;
      std::function<void(ParentRequest&)> spoil;
      int reason;
      std::string text;
    };
    const std::vector<Case> cases = {
        {"unknown symbol", [](ParentRequest& r) { r.symbol = "DOGE-USDT"; }, 1, "unknown symbol"},
        {"negative qty", [](ParentRequest& r) { r.qty = "-1"; }, 13, "must be positive"},
        {"qty not a decimal", [](ParentRequest& r) { r.qty = "1e3"; }, 13, "not a decimal"},
        {"unknown algo", [](ParentRequest& r) { r.algo = "moonshot"; }, 11, "unknown algo 'moonshot'"},
        {"unknown strategy", [](ParentRequest& r) { r.target_strategy = "7"; }, 11, "TargetStrategy 7"},
        {"bad parameter", [](ParentRequest& r) { r.strategy_params = "tolerance"; }, 99, "not key=value"},
        {"off the tick",
         [](ParentRequest& r) {
           r.ord_type = '2';
           r.price = "2680.001";
         },
         99, "off the tick"},
        {"bad side", [](ParentRequest& r) { r.side = '5'; }, 11, "Side"},
        {"unreadable time", [](ParentRequest& r) { r.problem = "tag 126 'x' is not a UTCTimestamp"; }, 99,
         "UTCTimestamp"},
        {"over the risk limit", [](ParentRequest& r) { r.qty = "5000"; }, 3, "max_parent_qty"},
    };
    int n = 0;
    for (const auto& c : cases) {
      ParentRequest r = s.order("bad" + std::to_string(++n), "1", 10 * kNanosPerSecond);
      c.spoil(r);
      s.request(r);
      const auto rejects = s.of(r.cl_ord_id, '8');
      ASSERT_EQ(rejects.size(), 1u) << c.name;
      EXPECT_EQ(rejects[0].ord_status, '8') << c.name;
      EXPECT_EQ(rejects[0].ord_rej_reason, c.reason) << c.name << ": " << rejects[0].text;
      EXPECT_NE(rejects[0].text.find(c.text), std::string::npos) << c.name << ": " << rejects[0].text;
    }
    for (const auto& [id, p] : s.manager().oms().parents())
      EXPECT_NE(p.state, oms::ParentState::Working) << "parent " << id << " was accepted";
    EXPECT_EQ(s.kernel().working(), 0u);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST(ParentDesk, TwoParentsShareTheMarketAndEachHearsOnlyOfItsOwnFills) {
  const std::string path = journal_path("two");
  {
    Server s(path, true);
    s.request(s.order("a", "4", 20 * kNanosPerSecond));
    ParentRequest b = s.order("b", "3", 15 * kNanosPerSecond);
    b.algo = "pov";
    b.participation_rate = "0.3";
    s.request(b);
    s.run_until_idle(90 * kNanosPerSecond);
    EXPECT_EQ(s.kernel().working(), 0u);
    EXPECT_TRUE(s.kernel().error().ok()) << s.kernel().error().message();
    for (const auto& [name, id, qty] : {std::tuple{"a", 1, 4}, std::tuple{"b", 2, 3}}) {
      const oms::ParentRecord* p = s.manager().oms().parent(ParentId(static_cast<std::uint64_t>(id)));
      ASSERT_NE(p, nullptr);
      EXPECT_TRUE(oms::is_final(p->state)) << name;
      EXPECT_TRUE(p->executed.is_positive()) << name;
      expect_fills_add_up(s, {name}, Qty::from_units(qty), p->executed);
      for (const auto& f : s.of(name, 'F')) EXPECT_EQ(f.order_id, std::to_string(id));
    }
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST(ParentDesk, CancelAndReplaceAreAnsweredAndRefusedWhereDue) {
  const std::string path = journal_path("cancel");
  {
    Server s(path, true);
    s.request(s.order("c1", "40", 60 * kNanosPerSecond));
    s.run_for(10 * kNanosPerSecond);
    // Replace: a quantity below what is executed is refused whole; a lower one above it is taken.
    ParentRequest low = s.about(ParentRequest::Kind::Replace, "c1-low", "c1", "0.0001");
    s.request(low);
    ASSERT_FALSE(s.answers.empty());
    EXPECT_TRUE(s.answers.back().cancel_reject);
    EXPECT_EQ(s.answers.back().cxl_rej_response_to, '2');
    EXPECT_NE(s.answers.back().text.find("below"), std::string::npos) << s.answers.back().text;
    ParentRequest lower = low;
    lower.cl_ord_id = "c1-r";
    lower.qty = "30";
    s.request(lower);
    ASSERT_EQ(s.of("c1-r", '5').size(), 1u);
    EXPECT_EQ(s.of("c1-r", '5')[0].order_qty, Qty::from_units(30));
    EXPECT_EQ(s.of("c1-r", '5')[0].orig_cl_ord_id, "c1");
    // Cancel by the latest ClOrdID: pending, then canceled with what it executed.
    ParentRequest cancel = s.order("c1-x", "30", 0);
    cancel.kind = ParentRequest::Kind::Cancel;
    cancel.orig_cl_ord_id = "c1-r";
    s.request(cancel);
    ASSERT_EQ(s.of("c1-x", '6').size(), 1u);
    s.run_until_idle(10 * kNanosPerSecond);
    ASSERT_EQ(s.of("c1-x", '4').size(), 1u);
    const ParentAnswer done = s.of("c1-x", '4')[0];
    EXPECT_EQ(done.ord_status, '4');
    EXPECT_EQ(done.leaves_qty, Qty());
    const oms::ParentRecord* p = s.manager().oms().parent(ParentId(1));
    EXPECT_EQ(done.cum_qty, p->executed);
    EXPECT_LT(p->executed, Qty::from_units(30));
    expect_fills_add_up(s, {"c1", "c1-r", "c1-x"}, Qty::from_units(30), p->executed);
    for (const auto& c : s.manager().oms().children_of(ParentId(1))) EXPECT_FALSE(c->open());
    // Too late now, for a cancel and for a replace; an unknown order is said to be unknown.
    cancel.cl_ord_id = "c1-x2";
    s.request(cancel);
    EXPECT_TRUE(s.answers.back().cancel_reject);
    EXPECT_EQ(s.answers.back().cxl_rej_reason, 0);
    cancel.cl_ord_id = "c1-x3";
    cancel.orig_cl_ord_id = "nobody";
    s.request(cancel);
    EXPECT_EQ(s.answers.back().cxl_rej_reason, 1);
    // Status of the ended parent and of one never seen.
    ParentRequest status = s.order("c1", "0", 0);
    status.kind = ParentRequest::Kind::Status;
    s.request(status);
    EXPECT_EQ(s.answers.back().exec_type, 'I');
    EXPECT_EQ(s.answers.back().ord_status, '4');
    status.cl_ord_id = "never";
    s.request(status);
    EXPECT_EQ(s.answers.back().ord_status, '8');
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST(ParentDesk, AKernelStartedOnTheJournalOfADeadOneResumesItsParents) {
  const std::string path = journal_path("resume");
  Qty before;
  {
    Server s(path, true);
    s.request(s.order("r1", "12", 40 * kNanosPerSecond));
    s.run_for(12 * kNanosPerSecond);
    before = s.manager().oms().parent(ParentId(1))->executed;
    ASSERT_TRUE(before.is_positive());
    ASSERT_EQ(s.kernel().working(), 1u);
  }  // gone without finishing anything: what a kill leaves
  {
    Server s(path, false);
    ASSERT_EQ(s.kernel().working(), 1u);
    s.run_until_idle(90 * kNanosPerSecond);
    EXPECT_EQ(s.kernel().working(), 0u);
    const oms::ParentRecord* p = s.manager().oms().parent(ParentId(1));
    EXPECT_GT(p->executed, before) << "the algo did not resume";
    EXPECT_LE(p->executed, Qty::from_units(12));
    EXPECT_GE(p->executed.to_double(), 12 * 0.99);
    // The client hears of what was executed after the restart, from where it had been told.
    Qty sum = before;
    for (const auto& f : s.of("r1", 'F')) sum = sum + f.last_qty;
    EXPECT_EQ(sum, p->executed);
    // And it still knows the order by its ClOrdID.
    ParentRequest status = s.order("r1", "0", 0);
    status.kind = ParentRequest::Kind::Status;
    s.request(status);
    EXPECT_EQ(s.answers.back().order_id, "1");
  }
  if (getenv("KEEP") == nullptr)
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST(ParentDesk, TheEndOfTheDataEndsWorkingParentsAndClosesTheMarket) {
  const std::string path = journal_path("end");
  {
    Server s(path, true);
    s.request(s.order("e1", "300", 3600 * kNanosPerSecond));
    s.run_for(30 * kNanosPerSecond);
    s.kernel().data_ended();
    EXPECT_TRUE(s.kernel().market_closed());
    s.run_until_idle(20 * kNanosPerSecond);
    EXPECT_TRUE(s.kernel().error().ok()) << s.kernel().error().message();
    EXPECT_EQ(s.kernel().working(), 0u);
    ASSERT_EQ(s.of("e1", 'C').size(), 1u);
    EXPECT_EQ(s.of("e1", 'C')[0].leaves_qty, Qty());
    EXPECT_NE(s.of("e1", 'C')[0].text.find("recorded data ended"), std::string::npos);
    s.request(s.order("e2", "1", 10 * kNanosPerSecond));
    ASSERT_EQ(s.of("e2", '8').size(), 1u);
    EXPECT_EQ(s.of("e2", '8')[0].ord_rej_reason, 2);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST(ParentDesk, ACancelRefusedByTheCancelBudgetIsRetriedAndEveryParentEndsCanceled) {
  const std::string path = journal_path("budget");
  {
    // Two cancels a second per venue: canceling six parents at once is refused many times over.
    Server s(path, true, [](Config& c) {
      for (auto& v : c.venues) v.limits.cancels_per_second = 2;
    });
    for (int i = 0; i < 6; ++i) {
      ParentRequest r = s.order("p" + std::to_string(i), "8", 120 * kNanosPerSecond);
      r.strategy_params = "urgency=passive;randomize=0";
      s.request(r);
    }
    s.run_for(5 * kNanosPerSecond);
    s.desk().set_stopping();
    s.kernel().cancel_all("the server shut down");
    s.run_until_idle(30 * kNanosPerSecond);
    EXPECT_TRUE(s.kernel().error().ok()) << s.kernel().error().message();
    EXPECT_EQ(s.kernel().working(), 0u);
    for (int i = 0; i < 6; ++i) {
      const auto canceled = s.of("p" + std::to_string(i), '4');
      ASSERT_EQ(canceled.size(), 1u) << i;
      EXPECT_NE(canceled[0].text.find("the server shut down"), std::string::npos) << canceled[0].text;
    }
    for (const oms::ChildOrder* c : s.manager().oms().open_children())
      ADD_FAILURE() << "child " << c->order.client_order_id.value() << " left open";
    // Stopping: a new parent is refused.
    s.request(s.order("late", "1", 10 * kNanosPerSecond));
    ASSERT_EQ(s.of("late", '8').size(), 1u);
    EXPECT_EQ(s.of("late", '8')[0].ord_rej_reason, 2);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST(ParentDesk, ACancelComesTooLateOnceTheParentIsEnding) {
  const std::string path = journal_path("ending");
  {
    Server s(path, true);
    ParentRequest r = s.order("q1", "0.5", 4 * kNanosPerSecond);
    r.strategy_params = "at_end=leave";
    s.request(r);
    s.run_until_idle(60 * kNanosPerSecond);
    ParentRequest cancel = s.order("q1-x", "0.5", 0);
    cancel.kind = ParentRequest::Kind::Cancel;
    cancel.orig_cl_ord_id = "q1";
    s.request(cancel);
    ASSERT_TRUE(s.answers.back().cancel_reject);
    EXPECT_EQ(s.answers.back().cxl_rej_reason, 0);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST(ParentDesk, AParentWhoseCancelWasJournaledEndsCanceledAfterARestart) {
  const std::string path = journal_path("recancel");
  {
    Server s(path, true, [](Config& c) {
      for (auto& v : c.venues) v.limits.cancels_per_second = 1;
    });
    for (int i = 0; i < 4; ++i) {
      ParentRequest r = s.order("k" + std::to_string(i), "8", 120 * kNanosPerSecond);
      r.strategy_params = "urgency=passive;randomize=0";
      s.request(r);
    }
    s.run_for(5 * kNanosPerSecond);
    ParentRequest cancel = s.order("k3-x", "8", 0);
    cancel.kind = ParentRequest::Kind::Cancel;
    cancel.orig_cl_ord_id = "k3";
    s.request(cancel);
    ASSERT_EQ(s.of("k3-x", '6').size(), 1u);
  }  // killed before the cancel completed
  {
    Server s(path, false);
    s.run_until_idle(5 * kNanosPerSecond);
    const auto canceled = s.of("k3-x", '4');
    ASSERT_EQ(canceled.size(), 1u) << "the recovered cancel did not end the parent";
    EXPECT_EQ(canceled[0].orig_cl_ord_id, "k3");
    EXPECT_NE(canceled[0].text.find("canceled by the client"), std::string::npos) << canceled[0].text;
    // The cancel's ClOrdID is known after the restart, and may not be reused.
    ParentRequest status = s.order("k3-x", "0", 0);
    status.kind = ParentRequest::Kind::Status;
    s.request(status);
    EXPECT_EQ(s.answers.back().ord_status, '4');
    s.request(s.order("k3-x", "1", 10 * kNanosPerSecond));
    EXPECT_EQ(s.answers.back().ord_rej_reason, 6);
    EXPECT_TRUE(s.kernel().error().ok()) << s.kernel().error().message();
  }
  if (getenv("KEEP") == nullptr)
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

}  // namespace
}  // namespace tranche::service

namespace tranche::service {
namespace {

TEST(ParentDesk, AParentPastTheMemoryHorizonLeavesMemoryAndItsStatusIsReadFromTheJournal) {
  const std::string path = journal_path("forget");
  {
    Server s(path, true, [](Config& c) { c.oms.forget_ended_after_ns = 5 * kNanosPerSecond; });
    s.request(s.order("f1", "20", 30 * kNanosPerSecond));
    s.run_for(5 * kNanosPerSecond);
    s.request(s.about(ParentRequest::Kind::Replace, "f1-r", "f1", "10"));
    ASSERT_EQ(s.of("f1-r", '5').size(), 1u);
    s.run_until_idle(60 * kNanosPerSecond);
    const oms::ParentRecord* ended = s.manager().oms().parent(ParentId(1));
    ASSERT_NE(ended, nullptr);
    const Qty executed = ended->executed;
    const oms::ParentState state = ended->state;
    EXPECT_TRUE(executed.is_positive());
    EXPECT_EQ(s.kernel().in_memory(), 1u);
    s.run_for(10 * kNanosPerSecond);
    EXPECT_EQ(s.manager().oms().parent(ParentId(1)), nullptr) << "the OMS forgot it";
    EXPECT_TRUE(s.manager().oms().children().empty());
    EXPECT_TRUE(s.manager().oms().fills().empty());
    EXPECT_EQ(s.kernel().in_memory(), 0u) << "so did the kernel";
    EXPECT_EQ(s.kernel().intents_in_memory(), 0u) << "and its placer";
    // Its status, by either ClOrdID of its chain, from the journal: what it executed and how it ended.
    for (const char* id : {"f1", "f1-r"}) {
      s.answers.clear();
      s.request(s.about(ParentRequest::Kind::Status, id, "", "10"));
      ASSERT_EQ(s.of(id, 'I').size(), 1u) << id;
      const ParentAnswer a = s.of(id, 'I')[0];
      EXPECT_EQ(a.order_id, "1");
      EXPECT_EQ(a.cum_qty, executed) << id;
      EXPECT_EQ(a.order_qty, Qty::from_units(10));
      const char filled = executed >= Qty::from_units(10) ? '2' : '3';
      EXPECT_EQ(a.ord_status, state == oms::ParentState::Filled ? filled : 'C') << a.text;
    }
    s.request(s.about(ParentRequest::Kind::Status, "never-sent", "", "1"));
    ASSERT_EQ(s.of("never-sent", 'I').size(), 1u);
    EXPECT_EQ(s.of("never-sent", 'I')[0].ord_status, '8');
    // A cancel of it now is refused as for an unknown order, never journaled against a forgotten parent.
    s.request(s.about(ParentRequest::Kind::Cancel, "f1-x", "f1-r", "10"));
    ASSERT_FALSE(s.answers.empty());
    EXPECT_TRUE(s.answers.back().cancel_reject);
    EXPECT_TRUE(s.kernel().error().ok()) << s.kernel().error().message();
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

// --- lists (NewOrderList) ---

const std::string kSpotPerp = std::string(TRANCHE_SOURCE_DIR) + "/scenarios/eth-spot-perp-2024-08-08.toml";

// A pair: buy spot, sell the perpetual, within `share` (a FIX Percentage: 0.05 is 5%) of each other.
ParentRequest pair_list(const Server& s, const std::string& list_id, const std::string& pct,
                        const std::string& qty) {
  ParentRequest list;
  list.kind = ParentRequest::Kind::NewList;
  list.session = "FIX.4.4:TRANCHE->CLIENT1";
  list.list_id = list_id;
  list.one_sided_pct = pct;
  list.tot_no_orders = "2";
  ParentRequest spot = s.order(list_id + "-spot", qty, 60 * kNanosPerSecond);
  ParentRequest perp = s.order(list_id + "-perp", qty, 60 * kNanosPerSecond);
  perp.symbol = "ETH-USDT-PERP";
  perp.side = '2';
  spot.algo = perp.algo = "twap";
  list.orders = {spot, perp};
  return list;
}

TEST(ParentDeskLists, APairFromANewOrderListWorksAsOneAndNeverLeansPastItsLimit) {
  const std::string path = journal_path("pair");
  {
    Server s(path, true, {}, kSpotPerp);
    s.request(pair_list(s, "basis1", "0.05", "6"));
    ASSERT_EQ(s.of("basis1-spot", '0').size(), 1u);
    ASSERT_EQ(s.of("basis1-perp", '0').size(), 1u);
    EXPECT_EQ(s.of("basis1-spot", '0')[0].list_id, "basis1");
    EXPECT_NE(s.of("basis1-perp", '0')[0].text.find("a leg of list basis1"), std::string::npos);
    // A leg's quantity is the list's: a replace that changes it is refused, and the leg goes on.
    s.request(s.about(ParentRequest::Kind::Replace, "basis1-spot-r", "basis1-spot", "3"));
    ASSERT_FALSE(s.answers.empty());
    EXPECT_TRUE(s.answers.back().cancel_reject);
    EXPECT_NE(s.answers.back().text.find("cannot be amended"), std::string::npos) << s.answers.back().text;
    s.run_until_idle(120 * kNanosPerSecond);
    EXPECT_EQ(s.kernel().working(), 0u);
    EXPECT_TRUE(s.kernel().error().ok()) << s.kernel().error().message();
    // What the client was told, fill by fill: neither leg's share ever 5% ahead of the other's.
    double spot = 0, perp = 0, most = 0;
    for (const auto& a : s.answers) {
      if (a.exec_type != 'F') continue;
      EXPECT_EQ(a.list_id, "basis1");
      (a.cl_ord_id == "basis1-spot" ? spot : perp) = a.cum_qty.to_double();
      most = std::max(most, std::abs(spot - perp) / 6);
    }
    EXPECT_LE(most, 0.05 + 1e-12);
    EXPECT_GT(spot, 5.9);
    EXPECT_GT(perp, 5.9);
    const ems::ListBalance* list = s.kernel().list("basis1");
    ASSERT_NE(list, nullptr);
    EXPECT_EQ(list->legs().size(), 2u);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST(ParentDeskLists, ABadListIsRejectedWholeOrderByOrderAndNothingWorks) {
  const std::string path = journal_path("badlist");
  {
    Server s(path, true, {}, kSpotPerp);
    struct Case {
      std::string name;
      std::function<void(ParentRequest&)> spoil;
      std::string text;
    };
    const std::vector<Case> cases = {
        {"no limit", [](ParentRequest& l) { l.one_sided_pct.clear(); }, "no limit"},
        {"a limit out of range", [](ParentRequest& l) { l.one_sided_pct = "5"; }, "AllowableOneSidednessPct"},
        {"a bad leg", [](ParentRequest& l) { l.orders[1].symbol = "DOGE-USDT"; }, "order 2"},
        {"fragments", [](ParentRequest& l) { l.tot_no_orders = "4"; }, "fragments"},
        {"a repeated ClOrdID", [](ParentRequest& l) { l.orders[1].cl_ord_id = l.orders[0].cl_ord_id; },
         "in use"},
        {"a pair of three",
         [](ParentRequest& l) {
           l.orders.push_back(l.orders[0]);
           l.orders[2].cl_ord_id += "-2";
           l.orders[2].side = '2';
           l.tot_no_orders = "3";
         },
         "pair"},
        {"a cash limit on one side",
         [](ParentRequest& l) {
           l.one_sided_pct.clear();
           l.one_sided_value = "1000";
           l.orders[1].side = '1';
         },
         "buy legs and sell legs"},
        {"a market leg", [](ParentRequest& l) { l.orders[0].algo = "market"; }, "cannot be a list's leg"},
        {"a list term among the parameters",
         [](ParentRequest& l) { l.orders[1].strategy_params = "list=other"; }, "a list's term"},
        {"a zero cash limit",
         [](ParentRequest& l) {
           l.one_sided_pct.clear();
           l.one_sided_value = "0";
         },
         "above 0"},
        {"a negative cash limit",
         [](ParentRequest& l) {
           l.one_sided_pct.clear();
           l.one_sided_value = "-5";
         },
         "list_cash_limit"},
    };
    int n = 0;
    for (const auto& c : cases) {
      ParentRequest list = pair_list(s, "bad" + std::to_string(++n), "0.05", "1");
      c.spoil(list);
      s.request(list);
      for (const auto& order : list.orders) {
        if (&order != &list.orders.front() && order.cl_ord_id == list.orders.front().cl_ord_id) continue;
        const auto rejects = s.of(order.cl_ord_id, '8');
        ASSERT_GE(rejects.size(), 1u) << c.name << ": " << order.cl_ord_id;
        EXPECT_NE(rejects.back().text.find(c.text), std::string::npos)
            << c.name << ": " << rejects.back().text;
        EXPECT_TRUE(s.of(order.cl_ord_id, '0').empty()) << c.name;
      }
    }
    s.run_for(2 * kNanosPerSecond);
    EXPECT_EQ(s.kernel().working(), 0u);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST(ParentDeskLists, ABasketsCashLimitNeedsItsLegsQuotedInOneCurrency) {
  const std::string path = journal_path("quotes");
  {
    Server s(
        path, true,
        [](Config& c) {
          for (auto& i : c.instruments)
            if (i.id.str() == "ETH-USDT-PERP") i.quote = "USDC";
        },
        kSpotPerp);
    ParentRequest list = pair_list(s, "quotes", "", "1");
    list.one_sided_value = "1000";
    s.request(list);
    for (const char* id : {"quotes-spot", "quotes-perp"}) {
      ASSERT_EQ(s.of(id, '8').size(), 1u) << id;
      EXPECT_NE(s.of(id, '8')[0].text.find("one currency"), std::string::npos) << s.of(id, '8')[0].text;
    }
    EXPECT_EQ(s.kernel().working(), 0u);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST(ParentDeskLists, AListRefusedByTheRiskGateAfterItsFirstLegCancelsThatLegBeforeItTrades) {
  const std::string path = journal_path("halflist");
  {
    // The perpetual's parent limit is lowered so that only its leg is refused, by the kernel's gate.
    Server s(
        path, true,
        [](Config& c) { c.risk.instruments["ETH-USDT-PERP"].max_parent_qty = Qty::from_units(1); },
        kSpotPerp);
    s.request(pair_list(s, "half", "0.05", "2"));
    ASSERT_EQ(s.of("half-spot", '0').size(), 1u) << "the first leg was accepted";
    ASSERT_EQ(s.of("half-perp", '8').size(), 1u);
    EXPECT_NE(s.of("half-perp", '8')[0].text.find("leg 2"), std::string::npos)
        << s.of("half-perp", '8')[0].text;
    s.run_until_idle(10 * kNanosPerSecond);
    EXPECT_EQ(s.kernel().working(), 0u);
    ASSERT_EQ(s.of("half-spot", '4').size(), 1u) << "the accepted leg ended canceled";
    EXPECT_TRUE(s.of("half-spot", 'F').empty()) << "the accepted leg traded";
    // Its id is spent: the same ListID again is refused.
    ParentRequest again = pair_list(s, "half", "0.05", "1");
    again.orders[0].cl_ord_id = "again-spot";
    again.orders[1].cl_ord_id = "again-perp";
    s.request(again);
    ASSERT_EQ(s.of("again-spot", '8').size(), 1u);
    EXPECT_NE(s.of("again-spot", '8')[0].text.find("used already"), std::string::npos)
        << s.of("again-spot", '8')[0].text;
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST(ParentDeskLists, APairResumedAfterAKillStillHoldsItsLegsTogether) {
  const std::string path = journal_path("listrestart");
  double spot = 0, perp = 0, most = 0;
  auto watch = [&](const std::vector<ParentAnswer>& answers) {
    for (const auto& a : answers) {
      if (a.exec_type != 'F') continue;
      EXPECT_EQ(a.list_id, "basis2");
      (a.cl_ord_id == "basis2-spot" ? spot : perp) = a.cum_qty.to_double();
      most = std::max(most, std::abs(spot - perp) / 6);
    }
  };
  {
    Server s(path, true, {}, kSpotPerp);
    s.request(pair_list(s, "basis2", "0.04", "6"));
    s.run_for(20 * kNanosPerSecond);
    ASSERT_EQ(s.kernel().working(), 2u);
    watch(s.answers);
    ASSERT_GT(spot + perp, 0) << "nothing executed before the kill";
  }  // gone without finishing anything: what a kill leaves
  {
    Server s(path, false, {}, kSpotPerp);
    ASSERT_EQ(s.kernel().working(), 2u);
    const ems::ListBalance* list = s.kernel().list("basis2");
    ASSERT_NE(list, nullptr) << "the list was not taken up again";
    ASSERT_EQ(list->legs().size(), 2u);
    for (ParentId leg : list->legs())
      EXPECT_TRUE(list->reference(leg).has_value()) << "its reference was lost";
    s.run_until_idle(120 * kNanosPerSecond);
    EXPECT_EQ(s.kernel().working(), 0u);
    watch(s.answers);
    EXPECT_GT(spot, 5.9);
    EXPECT_GT(perp, 5.9);
    EXPECT_LE(most, 0.04 + 1e-12) << "the pair leaned past its 4% limit across the restart";
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

// Regression: a leg the OMS had forgotten (ended, past [oms] forget_ended_after) counted as nothing executed
// after a restart, so the list looked cut short and its other leg was held at the bare limit. Its end is
// journaled with what it executed, and the restarted kernel counts that.
TEST(ParentDeskLists, ALegTheOmsForgotStillCountsInItsListAfterARestart) {
  const std::string path = journal_path("listforget");
  auto tweak = [](Config& c) { c.oms.forget_ended_after_ns = 5 * kNanosPerSecond; };
  double perp = 0;
  {
    Server s(path, true, tweak, kSpotPerp);
    s.request(pair_list(s, "forget", "0.05", "6"));
    s.run_for(25 * kNanosPerSecond);
    s.request(s.about(ParentRequest::Kind::Cancel, "forget-perp-x", "forget-perp", "6"));
    s.run_for(20 * kNanosPerSecond);
    ASSERT_FALSE(s.of("forget-perp-x", '4').empty()) << "the perpetual's leg did not end canceled";
    perp = s.of("forget-perp-x", '4').back().cum_qty.to_double();
    ASSERT_GT(perp, 0) << "the perpetual's leg executed nothing before its cancel";
    EXPECT_EQ(s.manager().oms().parent(ParentId(2)), nullptr) << "the OMS did not forget the ended leg";
    ASSERT_EQ(s.kernel().working(), 1u);
  }  // a kill
  {
    Server s(path, false, tweak, kSpotPerp);
    const ems::ListBalance* list = s.kernel().list("forget");
    ASSERT_NE(list, nullptr);
    EXPECT_EQ(list->legs().size(), 2u) << "the forgotten leg was not read back from the journal";
    s.run_for(kNanosPerSecond);
    ASSERT_EQ(s.kernel().working(), 1u) << "the spot leg was canceled as if its list were cut short";
    s.run_until_idle(120 * kNanosPerSecond);
    const oms::ParentRecord* spot = s.manager().oms().parent(ParentId(1));
    ASSERT_NE(spot, nullptr);
    // Held to the canceled leg's share plus the limit: at most perp + 5% of 6.
    EXPECT_LE(spot->executed.to_double(), perp + 0.05 * 6 + 1e-9);
    EXPECT_GE(spot->executed.to_double(), perp - 0.05 * 6 - 1e-9);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

}  // namespace
}  // namespace tranche::service
