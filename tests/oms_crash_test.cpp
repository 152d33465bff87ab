// Crash test: an execution against the simulator runs in a child process with a durable journal and is killed
// with SIGKILL at many points (seeded; the seed is printed on failure). A new process restarts from the
// journal: it rebuilds the simulated venues deterministically (the data, the seed and the requests the
// journal says were sent), reconciles the children in flight against them as against venues that lived on
// (their trade history and a status query each), and finishes the execution. Then nothing may be lost,
// nothing doubled, no parent overfilled, and every execution must complete.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "ems/algo.hpp"
#include "ems/parent_execution.hpp"
#include "ems/placer.hpp"
#include "ems/venue_views.hpp"
#include "gateway/sim_gateway.hpp"
#include "oms/order_manager.hpp"
#include "risk/risk_gate.hpp"
#include "sim/rng.hpp"
#include "sim/simulator.hpp"

namespace tranche {
namespace {

Config crash_config() {
  auto config = load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml");
  EXPECT_TRUE(config.ok());
  Config c = *config;
  // Two linear venues are enough to exercise the recovery; the window is shortened to keep the test fast.
  c.scenario->end_ns = parse_time("2024-08-08T23:57:00Z").value();
  return c;
}

const std::vector<std::string> kVenues = {"binance-spot", "binance-usdm"};

// The execution is a real algo (twap, pov or iceberg: one per trial) working a 12 ETH buy over a minute
// through the placer, the risk gate and the OMS. After a restart the algo is rebuilt from its parent, its
// state read back from the last decision it journaled, the children the dead process left working are
// canceled, and it re-plans from what was executed.
class AlgoDriver : public sim::SimListener {
 public:
  AlgoDriver(const Config& config, oms::OrderManager& manager, risk::RiskGate& gate, sim::Simulator& sim,
             ParentId parent, std::string saved_state)
      : config_(config),
        manager_(manager),
        gate_(gate),
        sim_(sim),
        parent_(parent),
        saved_state_(std::move(saved_state)) {}

  void on_market_data(const sim::MarketDataRef& ref, const md::Event& event) override {
    const sim::SimMarket& market = sim_.venue(ref.venue).market(ref.market);
    gate_.on_quote(ref.venue_id, ref.instrument, market.best(Side::Buy), market.best(Side::Sell), sim_.now());
    if (!ready()) return;
    const ems::AlgoMarket m = market_now();
    placer_->on_market(views_, sim_.now());
    if (event.kind == md::EventKind::Trade && !(event.flags & md::kFlagSimulated)) {
      placer_->on_trade(ref.venue_id, event.side, event.price, event.qty.to_double(), sim_.now());
      exec_->algo().on_trade(*exec_, m, event.qty.to_double());
    } else {
      exec_->algo().on_market(*exec_, m);
    }
    after(sim_.now());
  }
  void on_execution_report(const ExecutionReport& report) override {
    manager_.on_execution_report(report);
    check(manager_.flush());
    if (exec_ == nullptr || !ready()) return;
    placer_->on_report(report);
    if (report.exec_type == ExecType::Trade)
      exec_->algo().on_fill(*exec_, market_now());
    else
      exec_->algo().on_market(*exec_, market_now());
    after(sim_.now());
  }
  void on_venue_status(const VenueStatusReport& status) override {
    manager_.on_venue_status(status);
    check(manager_.flush());
  }
  void on_timer(std::uint64_t, TimestampNs now) override {
    if (!ready()) {
      sim_.set_timer(now + 100 * kNanosPerMilli, 0);  // reconciling: look again shortly
      return;
    }
    exec_->algo().on_timer(*exec_, market_now());
    after(now);
  }

  bool done() const {
    const oms::ParentRecord* p = manager_.oms().parent(parent_);
    return p != nullptr && oms::is_final(p->state);
  }

 private:
  // The algo starts (or resumes) once recovery has reconciled every child the journal left in flight.
  bool ready() {
    if (done() || manager_.reconciling()) return false;
    if (exec_ != nullptr) return true;
    const oms::ParentRecord* p = manager_.oms().parent(parent_);
    auto made = ems::make_algo(p->order);
    check(made.ok() ? Status{} : Status(made.error()));
    placer_ = std::make_unique<ems::Placer>(config_, manager_);
    exec_ = std::make_unique<ems::ParentExecution>(manager_, *placer_, std::move(made.value()), p->order,
                                                   [this](TimestampNs at) { sim_.set_timer(at, 0); });
    if (saved_state_.empty()) {
      exec_->algo().on_start(*exec_, market_now());
    } else {
      check(exec_->algo().restore(saved_state_));
      for (const oms::ChildOrder* c : manager_.oms().children_of(parent_))
        if (c->open() && c->status != OrderStatus::PendingCancel)
          check(manager_.cancel_child(c->order.client_order_id, sim_.now()));
      exec_->algo().on_restart(*exec_, market_now());
    }
    after(sim_.now());
    return exec_ != nullptr;
  }
  ems::AlgoMarket market_now() {
    ems::VenueViewOptions options;
    options.gate = &gate_;
    options.depth = 40;
    views_ = ems::venue_views(sim_, InstrumentId("ETH-USDT"), sim_.now(), options);
    return ems::algo_market(views_, sim_.now());
  }
  void after(TimestampNs now) {
    check(manager_.flush());
    check(exec_->check_journal());
    if (!exec_->algo().done() || done()) return;
    for (const oms::ChildOrder* c : manager_.oms().children_of(parent_))
      if (c->open()) return;
    const oms::ParentRecord* p = manager_.oms().parent(parent_);
    check(manager_.end_parent(parent_,
                              p->executed >= p->order.qty ? oms::ParentEvent::ExecutedInFull
                              : exec_->algo().completed() ? oms::ParentEvent::RemainderUnsendable
                                                          : oms::ParentEvent::AlgoEnded,
                              exec_->algo().done_text(), now));
    check(manager_.flush());
  }
  static void check(const Status& s) {
    if (!s.ok()) {
      std::fprintf(stderr, "driver: %s\n", s.message().c_str());
      std::_Exit(3);
    }
  }
  const Config& config_;
  oms::OrderManager& manager_;
  risk::RiskGate& gate_;
  sim::Simulator& sim_;
  ParentId parent_;
  std::string saved_state_;
  std::unique_ptr<ems::Placer> placer_;
  std::unique_ptr<ems::ParentExecution> exec_;
  std::vector<ems::VenueView> views_;
};

std::unique_ptr<sim::Simulator> make_sim(const Config& config, std::uint64_t seed) {
  sim::SimOptions options;
  options.seed = seed;
  options.venues = kVenues;
  auto sim = sim::Simulator::create(config, options);
  if (!sim) {
    std::fprintf(stderr, "%s\n", sim.error().message.c_str());
    std::_Exit(4);
  }
  return std::move(sim).value();
}

// Collects what the rebuilt venues say while the journal's requests are replayed into them.
class VenueHistory : public sim::SimListener {
 public:
  void on_execution_report(const ExecutionReport& r) override { reports.push_back(r); }
  std::vector<ExecutionReport> reports;
};

// One process's life: start (or restart from the journal), execute, and exit 0 when the parent is done.
// `kill_at`: die with SIGKILL at that probe point (0: never).
[[noreturn]] void run_process(const std::string& journal_path, std::uint64_t seed, std::uint64_t kill_at,
                              const std::string& algo) {
  const Config config = crash_config();
  auto journal = oms::Journal::open(journal_path);
  if (!journal) {
    std::fprintf(stderr, "%s\n", journal.error().message.c_str());
    std::_Exit(5);
  }
  risk::RiskGate gate(config);
  auto opened = oms::OrderManager::open(config, **journal, gate);
  if (!opened) {
    std::fprintf(stderr, "%s\n", opened.error().message.c_str());
    std::_Exit(6);
  }
  oms::OrderManager& manager = **opened;
  auto sim = make_sim(config, seed);
  const std::string death_file = journal_path + ".death";
  std::uint64_t probes = 0;
  manager.set_probe([&](const char*) {
    if (kill_at == 0 || ++probes != kill_at) return;
    // The harness notes when the process died (the journal cannot), so the restart comes a second later.
    if (FILE* f = std::fopen(death_file.c_str(), "w")) {
      std::fprintf(f, "%lld\n", static_cast<long long>(sim->now()));
      std::fclose(f);
    }
    ::raise(SIGKILL);
  });
  auto gateways = gateway::make_sim_gateways(*sim);
  for (auto& g : gateways) manager.add_session(g.get());

  ParentId parent(1);
  std::string saved_state;
  const TimestampNs start = sim->start_ns();
  auto quote_all = [&] {
    for (std::size_t v = 0; v < sim->venue_count(); ++v)
      gate.on_quote(sim->venue(v).config().id, InstrumentId("ETH-USDT"),
                    sim->venue(v).market(0).best(Side::Buy), sim->venue(v).market(0).best(Side::Sell),
                    sim->now());
  };
  if (manager.oms().parent(parent) == nullptr) {
    sim->run_until(start);
    quote_all();
    oms::ParentOrder order;
    order.id = parent;
    order.account = AccountId("crash-test");
    order.instrument = InstrumentId("ETH-USDT");
    order.side = Side::Buy;
    order.qty = Qty::from_units(12);
    order.algo = algo;
    order.params = {{"seed", std::to_string(seed % 1000)}};
    order.start_ns = start;
    order.end_ns = start + 60 * kNanosPerSecond;
    if (!manager.accept_parent(order, start).ok() || !manager.flush().ok()) std::_Exit(7);
  } else {
    // Restart: replay the journal's requests into the rebuilt venues at their times, keeping what they answer
    // as their history; then reconcile from the moment the journal stops.
    VenueHistory history;
    sim->set_listener(&history);
    // The algo's state as it last journaled it.
    TimestampNs last = start;
    const Status replayed = (*journal)->replay([&](const oms::Record& record) -> Status {
      last = std::max(last, record.ts_ns);
      if (const auto* state = std::get_if<oms::AlgoStateChange>(&record.body); state && state->id == parent)
        if (auto saved = ems::Algo::saved_state_in(state->detail)) saved_state = *saved;
      std::visit(
          [&](const auto& body) {
            using T = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<T, NewOrder> || std::is_same_v<T, CancelOrder> ||
                          std::is_same_v<T, AmendOrder> || std::is_same_v<T, OrderStatusQuery>) {
              sim->run_until(record.ts_ns);
              const std::size_t v = static_cast<std::size_t>(sim->venue_index(body.venue));
              if constexpr (std::is_same_v<T, NewOrder>) sim->send(v, body);
              if constexpr (std::is_same_v<T, CancelOrder>) sim->cancel(v, body);
              if constexpr (std::is_same_v<T, AmendOrder>) sim->amend(v, body);
              if constexpr (std::is_same_v<T, OrderStatusQuery>) sim->query(v, body);
            }
          },
          record.body);
      return {};
    });
    if (!replayed) std::_Exit(8);
    // The process comes back a second after it died: what the venues said meanwhile reached no one.
    long long died = last;
    if (FILE* f = std::fopen(death_file.c_str(), "r")) {
      if (std::fscanf(f, "%lld", &died) != 1) died = last;
      std::fclose(f);
    }
    last = std::max<TimestampNs>(last, died) + kNanosPerSecond;
    sim->run_until(last);
    if (!manager.record_note("restarted after a crash", last).ok()) std::_Exit(10);
    // The venues' trade history for our orders: the fills the journal never saw are applied.
    std::set<std::string> known;
    for (const auto& f : manager.oms().fills()) known.insert(f.venue.str() + "/" + f.exec_id.str());
    for (const ExecutionReport& r : history.reports)
      if (r.exec_type == ExecType::Trade && !known.count(r.venue.str() + "/" + r.exec_id.str()))
        manager.on_execution_report(r);
    if (!manager.event_error().ok()) std::_Exit(9);
    if (!manager.reconcile(last).ok() || !manager.flush().ok()) std::_Exit(11);
  }
  AlgoDriver driver(config, manager, gate, *sim, parent, saved_state);
  sim->set_listener(&driver);
  sim->set_timer(sim->now(), 0);
  while (!driver.done() && sim->step()) {
  }
  const bool done = driver.done();
  // A clean end closes the journal (a killed process leaves its WAL for the next open to recover).
  sim.reset();
  opened.value().reset();
  journal.value().reset();
  std::_Exit(done ? 0 : 12);
}

// Runs one process to its end; returns how it ended.
int spawn(const std::string& journal, std::uint64_t seed, std::uint64_t kill_at, const std::string& algo) {
  const pid_t pid = ::fork();
  if (pid == 0) run_process(journal, seed, kill_at, algo);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return WEXITSTATUS(status);
}

struct Outcome {
  Qty executed;
  std::size_t fills = 0;
  std::size_t children = 0;
  std::string error;
  std::size_t restarts = 0;
  std::size_t recovered_fills = 0;  // fills the dead process had been told of but never journaled
  std::size_t reconciled = 0;       // children whose state came from a status query
  std::size_t algo_resumed = 0;     // the algo picked up from its journaled state
  std::string algo;                 // the parent's algo
};

Outcome failed(std::string error) {
  Outcome out;
  out.error = std::move(error);
  return out;
}

Outcome check_journal(const std::string& path) {
  Outcome out;
  auto journal = oms::Journal::open(path, {false, true});
  if (!journal) return failed(journal.error().message);
  oms::Oms oms(crash_config());
  std::string breach;
  oms.set_invariant_handler([&](const std::string& c) { breach = c; });
  std::uint64_t restart_seq = 0;
  TimestampNs restart_ns = 0;
  std::size_t restarts = 0, recovered = 0;
  std::size_t resumed = 0;
  const Status replayed = (*journal)->replay([&](const oms::Record& r) {
    if (const auto* state = std::get_if<oms::AlgoStateChange>(&r.body); state && state->state == "restarted")
      ++resumed;
    if (const auto* note = std::get_if<oms::RecoveryNote>(&r.body);
        note && note->text == "restarted after a crash") {
      ++restarts;
      restart_seq = r.seq;
      restart_ns = r.ts_ns;
    }
    if (const auto* e = std::get_if<ExecutionReport>(&r.body); e && e->exec_type == ExecType::Trade &&
                                                               restart_seq != 0 && r.seq > restart_seq &&
                                                               e->received_ns < restart_ns)
      ++recovered;
    return oms.apply(r);
  });
  if (!replayed) return failed(replayed.message());
  if (!breach.empty()) return failed(breach);
  if (auto v = oms.verify(); !v) return failed(v.message());
  const oms::ParentRecord* parent = oms.parent(ParentId(1));
  if (parent == nullptr) return failed("no parent");
  if (parent->state != oms::ParentState::Filled)
    return failed("parent ended " + std::string(to_string(parent->state)));
  std::set<std::string> execs;
  for (const auto& f : oms.fills())
    if (!execs.insert(f.venue.str() + "/" + f.exec_id.str()).second)
      return failed("execution doubled: " + f.exec_id.str());
  if (!oms.open_children().empty()) return failed("children left open");
  out.executed = parent->executed;
  out.restarts = restarts;
  out.recovered_fills = recovered;
  out.algo_resumed = resumed;
  out.algo = parent->order.algo;
  for (const auto& o : oms.oddities())
    if (o.text.find("reconciled") != std::string::npos || o.text.find("never arrived") != std::string::npos)
      ++out.reconciled;
  out.fills = oms.fills().size();
  out.children = oms.children().size();
  return out;
}

std::string temp_journal(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("tranche_crash_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  return path.string();
}

TEST(OmsCrash, AnExecutionKilledAtAnyPointRestartsFromItsJournalWithNothingLostOrDoubled) {
  const std::uint64_t seed = 20241124;
  SCOPED_TRACE("seed " + std::to_string(seed));
  // Reference: the same execution never killed.
  const std::string reference_path = temp_journal("reference.journal");
  const std::vector<std::string> algos = {"twap", "pov", "iceberg"};
  ASSERT_EQ(spawn(reference_path, seed, 0, algos[0]), 0);
  const Outcome reference = check_journal(reference_path);
  ASSERT_TRUE(reference.error.empty()) << reference.error;
  // Filled: to the last lot a venue takes (a remainder under every minimum is reported, not chased).
  ASSERT_LE(reference.executed, Qty::from_units(12));
  ASSERT_GE(reference.executed, Qty::from_units(12) - Qty::from_raw(1'000'000));
  // Probe points in the reference run: appends, commits and dispatches.
  const std::uint64_t points = 3 * reference.children + 40;

  sim::Rng rng(seed);
  int killed = 0;
  std::size_t recovered_fills = 0, reconciled = 0, resumed = 0;
  std::set<std::string> algos_resumed;
  const int trials = 24;
  for (int trial = 0; trial < trials; ++trial) {
    const std::uint64_t kill_at = 1 + rng.next() % points;
    SCOPED_TRACE("trial " + std::to_string(trial) + ", killed at probe point " + std::to_string(kill_at));
    const std::string path = temp_journal("trial" + std::to_string(trial) + ".journal");
    const std::string& algo = algos[static_cast<std::size_t>(trial) % algos.size()];
    SCOPED_TRACE("algo " + algo);
    int result = spawn(path, seed, kill_at, algo);
    int restarts = 0;
    while (result == -SIGKILL && restarts < 3) {
      ++killed;
      ++restarts;
      // Every other restart is killed again, sooner.
      const std::uint64_t again = (restarts < 3 && rng.next() % 2 == 0) ? 1 + rng.next() % 20 : 0;
      result = spawn(path, seed, again, algo);
    }
    ASSERT_EQ(result, 0) << "the restarted process did not finish the execution";
    const Outcome outcome = check_journal(path);
    ASSERT_TRUE(outcome.error.empty()) << outcome.error;
    EXPECT_LE(outcome.executed, Qty::from_units(12));  // never overfilled
    EXPECT_GE(outcome.executed, Qty::from_units(12) - Qty::from_raw(1'000'000));
    // A restart killed before its note reached the disk leaves no note.
    EXPECT_LE(outcome.restarts, static_cast<std::size_t>(restarts));
    EXPECT_EQ(outcome.algo, algo);
    recovered_fills += outcome.recovered_fills;
    resumed += outcome.algo_resumed;
    if (outcome.algo_resumed > 0) algos_resumed.insert(outcome.algo);
    reconciled += outcome.reconciled;
    if (trial == trials - 1) {
      // Leave one journal a crash made where `tranche journal verify` can read it.
      if (const char* keep = std::getenv("TRANCHE_CRASH_JOURNAL_OUT"); keep != nullptr) {
        std::filesystem::copy_file(path, keep, std::filesystem::copy_options::overwrite_existing);
        if (std::filesystem::exists(path + "-wal"))
          std::filesystem::copy_file(path + "-wal", std::string(keep) + "-wal",
                                     std::filesystem::copy_options::overwrite_existing);
      }
    }
  }
  std::printf(
      "crash test: %d kills, %zu fills recovered from venue history, %zu children reconciled by status "
      "query, %zu algo resumptions from the journal (%zu algos)\n",
      killed, recovered_fills, reconciled, resumed, algos_resumed.size());
  EXPECT_EQ(algos_resumed.size(), algos.size())
      << "every algo should have resumed from its journal at least once";
  EXPECT_GT(recovered_fills + reconciled, 0u) << "no trial exercised the reconciliation";
  EXPECT_GT(killed, trials / 2) << "most trials should have been killed mid-run";
  std::filesystem::remove_all(std::filesystem::path(reference_path).parent_path());
}

}  // namespace
}  // namespace tranche
