// tranche serve over loopback FIX, against a QuickFIX acceptor that only answers each NewOrderSingle with an
// ack (the baseline: what QuickFIX itself costs), measured in the same run:
//   - ParentToFirstChild: a parent NewOrderSingle sent to `tranche serve` (a child process: FIX acceptor,
//     kernel, risk, OMS journal, algo, placer) until its first child order arrives at the FIX venue (this
//     process, a QuickFIX acceptor playing every venue: `tranche serve --exchange`); and the parent's ack.
//   - ParentsPerSecond: parents sent back to back; the acks counted per second, with the ack latency under
//     that load.
//   - AckOnlyBaseline: the same client against the ack-only acceptor.
// Latencies are reported as p50/p99 counters in microseconds; a parent's algo is `is` with urgency
// aggressive so its first decision sends a child at once.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "gateway/quickfix.hpp"
#include "gateway/test_free_port.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

using tranche::gateway::testing::free_port;

std::string field(const FIX::FieldMap& m, int tag) {
  return m.isSetField(tag) ? m.getField(tag) : std::string();
}

std::string numbered(char prefix, std::uint64_t n) {
  char out[32];
  std::snprintf(out, sizeof(out), "%c%llu", prefix, static_cast<unsigned long long>(n));
  return out;
}

// Times by ClOrdID, filled from QuickFIX's threads.
struct Stamps {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, std::int64_t> acked, first_child;
  void ack(const std::string& id) {
    std::lock_guard lock(mutex);
    acked.emplace(id, now_ns());
    changed.notify_all();
  }
  void child(const std::string& parent) {
    std::lock_guard lock(mutex);
    first_child.emplace(parent, now_ns());
    changed.notify_all();
  }
  template <typename Pred>
  bool wait(Pred pred, std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, limit, pred);
  }
};

// The client: sends parents, stamps their acks (ExecType 0).
class Client final : public FIX::Application {
 public:
  explicit Client(Stamps& stamps) : stamps_(stamps) {}
  std::atomic<bool> logged_on{false};
  FIX::SessionID id;
  void onCreate(const FIX::SessionID& s) override { id = s; }
  void onLogon(const FIX::SessionID&) override { logged_on = true; }
  void onLogout(const FIX::SessionID&) override { logged_on = false; }
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) override {}
  void fromAdmin(const FIX::Message&, const FIX::SessionID&) override {}
  void fromApp(const FIX::Message& m, const FIX::SessionID&) override {
    if (field(m.getHeader(), FIX::FIELD::MsgType) == "8" && field(m, FIX::FIELD::ExecType) == "0")
      stamps_.ack(field(m, FIX::FIELD::ClOrdID));
  }
  void send_parent(const std::string& cl_ord_id) {
    FIX::Message m;
    m.getHeader().setField(FIX::FIELD::MsgType, "D");
    m.setField(FIX::FIELD::ClOrdID, cl_ord_id);
    m.setField(FIX::FIELD::Symbol, "ETH-USDT");
    m.setField(FIX::FIELD::Side, "1");
    m.setField(FIX::FIELD::TransactTime, "20260101-00:00:00.000");
    m.setField(FIX::FIELD::OrderQty, "0.5");
    m.setField(FIX::FIELD::OrdType, "1");
    m.setField(7001, "is");
    m.setField(FIX::FIELD::TargetStrategyParameters, "urgency=aggressive");
    FIX::Session::sendToTarget(m, id);
  }

 private:
  Stamps& stamps_;
};

// An acceptor answering every NewOrderSingle with an ack. As the baseline it is the whole server; as the
// venue of `tranche serve` it stamps each parent's first child (child ClOrdIDs are the OMS's; the parent is
// found by order: the n-th parent sent is waited for alone).
class AckOnly final : public FIX::Application {
 public:
  // `fill`: as a venue, each order is also filled in full at its price (so no child rests and the risk gate's
  // open-order limits never bind).
  AckOnly(Stamps& stamps, bool fill) : stamps_(stamps), fill_(fill) {}
  std::string waiting_for;  // the parent whose first child is awaited
  std::mutex mutex;
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID&) override { ++logged_on; }
  void onLogout(const FIX::SessionID&) override { --logged_on; }
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) override {}
  void fromAdmin(const FIX::Message&, const FIX::SessionID&) override {}
  void fromApp(const FIX::Message& m, const FIX::SessionID& id) override {
    const std::string type = field(m.getHeader(), FIX::FIELD::MsgType);
    if (type != "D") return;
    {
      std::lock_guard lock(mutex);
      if (!waiting_for.empty()) {
        stamps_.child(waiting_for);
        waiting_for.clear();
      }
    }
    FIX::Message r;
    r.getHeader().setField(FIX::FIELD::MsgType, "8");
    r.setField(FIX::FIELD::OrderID, field(m, FIX::FIELD::ClOrdID).insert(0, 1, 'V'));
    r.setField(FIX::FIELD::ClOrdID, field(m, FIX::FIELD::ClOrdID));
    r.setField(FIX::FIELD::ExecID, numbered('X', ++exec_));
    r.setField(FIX::FIELD::ExecType, "0");
    r.setField(FIX::FIELD::OrdStatus, "0");
    r.setField(FIX::FIELD::Symbol, field(m, FIX::FIELD::Symbol));
    r.setField(FIX::FIELD::Side, field(m, FIX::FIELD::Side));
    r.setField(FIX::FIELD::OrderQty, field(m, FIX::FIELD::OrderQty));
    r.setField(FIX::FIELD::LeavesQty, field(m, FIX::FIELD::OrderQty));
    r.setField(FIX::FIELD::CumQty, "0");
    r.setField(FIX::FIELD::AvgPx, "0");
    FIX::Session::sendToTarget(r, id);
    if (!fill_) return;
    const std::string qty = field(m, FIX::FIELD::OrderQty);
    const std::string price = field(m, FIX::FIELD::Price).empty() ? "1" : field(m, FIX::FIELD::Price);
    r.setField(FIX::FIELD::ExecID, numbered('X', ++exec_));
    r.setField(FIX::FIELD::ExecType, "F");
    r.setField(FIX::FIELD::OrdStatus, "2");
    r.setField(FIX::FIELD::LastQty, qty);
    r.setField(FIX::FIELD::LastPx, price);
    r.setField(FIX::FIELD::LeavesQty, "0");
    r.setField(FIX::FIELD::CumQty, qty);
    r.setField(FIX::FIELD::AvgPx, price);
    FIX::Session::sendToTarget(r, id);
  }
  std::atomic<int> logged_on{0};

 private:
  Stamps& stamps_;
  bool fill_;
  std::atomic<std::uint64_t> exec_{0};
};

struct Acceptor {
  std::unique_ptr<FIX::SessionSettings> settings;
  FIX::MemoryStoreFactory store;
  FIX::ScreenLogFactory log{false, false, false};
  std::unique_ptr<FIX::SocketAcceptor> acceptor;
  Acceptor(FIX::Application& app, int port,
           const std::vector<std::pair<std::string, std::string>>& sessions) {
    settings = std::make_unique<FIX::SessionSettings>();
    FIX::Dictionary d;
    d.setString("ConnectionType", "acceptor");
    d.setInt("SocketAcceptPort", port);
    d.setBool("SocketReuseAddress", true);
    d.setBool("SocketNodelay", true);
    d.setString("StartTime", "00:00:00");
    d.setString("EndTime", "00:00:00");
    d.setBool("UseDataDictionary", true);
    d.setString("DataDictionary", TRANCHE_FIX_DICTIONARY);
    d.setBool("ResetOnLogon", true);
    settings->set(d);
    for (const auto& [ours, theirs] : sessions)
      settings->set(FIX::SessionID("FIX.4.4", ours, theirs), FIX::Dictionary());
    acceptor = std::make_unique<FIX::SocketAcceptor>(app, store, *settings, log);
    acceptor->start();
  }
  ~Acceptor() { acceptor->stop(); }
};

struct Initiator {
  std::unique_ptr<FIX::SessionSettings> settings;
  FIX::MemoryStoreFactory store;
  FIX::ScreenLogFactory log{false, false, false};
  std::unique_ptr<FIX::SocketInitiator> initiator;
  Initiator(Client& app, int port, const std::string& ours, const std::string& theirs) {
    settings = std::make_unique<FIX::SessionSettings>();
    FIX::Dictionary d;
    d.setString("ConnectionType", "initiator");
    d.setString("SocketConnectHost", "127.0.0.1");
    d.setInt("SocketConnectPort", port);
    d.setInt("HeartBtInt", 30);
    d.setInt("ReconnectInterval", 1);
    d.setBool("SocketNodelay", true);
    d.setString("StartTime", "00:00:00");
    d.setString("EndTime", "00:00:00");
    d.setBool("UseDataDictionary", true);
    d.setString("DataDictionary", TRANCHE_FIX_DICTIONARY);
    d.setBool("ResetOnLogon", true);
    settings->set(d);
    settings->set(FIX::SessionID("FIX.4.4", ours, theirs), FIX::Dictionary());
    initiator = std::make_unique<FIX::SocketInitiator>(app, store, *settings, log);
    initiator->start();
    for (int i = 0; i < 1000 && !app.logged_on; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~Initiator() { initiator->stop(); }
};

// `tranche serve` as a child process, trading on the venue acceptor of this process.
class Serve {
 public:
  Serve(int port, int venue_port) {
    dir_ = std::filesystem::temp_directory_path() / ("tranche_fix_bench_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    const std::string journal = (dir_ / "serve.journal").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string p = std::to_string(port), exchange = "127.0.0.1:" + std::to_string(venue_port);
      ::execl(TRANCHE_BINARY, TRANCHE_BINARY, "serve", "--port", p.c_str(), "--journal", journal.c_str(),
              "--exchange", exchange.c_str(), "--quiet", static_cast<char*>(nullptr));
      std::_Exit(127);
    }
  }
  ~Serve() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    std::filesystem::remove_all(dir_);
  }

 private:
  pid_t pid_ = -1;
  std::filesystem::path dir_;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

void ParentToFirstChild(benchmark::State& state) {
  Stamps stamps;
  AckOnly venue(stamps, true);
  const int venue_port = free_port(), serve_port = free_port();
  Acceptor venues(venue, venue_port,
                  {{"binance-spot", "TRANCHE"}, {"binance-usdm", "TRANCHE"}, {"binance-coinm", "TRANCHE"}});
  Serve serve(serve_port, venue_port);
  for (int i = 0; i < 1000 && venue.logged_on < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the replay's books fill
  Client client(stamps);
  Initiator session(client, serve_port, "CLIENT1", "TRANCHE");
  if (!client.logged_on) {
    state.SkipWithError("tranche serve did not take the client's logon");
    return;
  }
  std::vector<double> to_child_us, to_ack_us;
  std::uint64_t n = 0;
  for (auto _ : state) {
    const std::string id = numbered('b', ++n);
    {
      std::lock_guard lock(venue.mutex);
      venue.waiting_for = id;
    }
    const std::int64_t sent = now_ns();
    client.send_parent(id);
    const bool child = stamps.wait([&] { return stamps.first_child.count(id) && stamps.acked.count(id); },
                                   std::chrono::milliseconds(2000));
    state.PauseTiming();
    if (child) {
      to_child_us.push_back(static_cast<double>(stamps.first_child[id] - sent) / 1e3);
      to_ack_us.push_back(static_cast<double>(stamps.acked[id] - sent) / 1e3);
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(20));  // one parent at a time, its children gone out
    state.ResumeTiming();
  }
  state.counters["first_child_p50_us"] = percentile(to_child_us, 0.5);
  state.counters["first_child_p99_us"] = percentile(to_child_us, 0.99);
  state.counters["ack_p50_us"] = percentile(to_ack_us, 0.5);
  state.counters["ack_p99_us"] = percentile(to_ack_us, 0.99);
  state.counters["measured"] = static_cast<double>(to_child_us.size());
}
BENCHMARK(ParentToFirstChild)->Iterations(200)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Parents back to back: acks per second, and the ack latency under that load.
void load(benchmark::State& state, bool baseline) {
  Stamps stamps;
  AckOnly venue(stamps, !baseline);
  const int venue_port = free_port(), serve_port = free_port();
  std::unique_ptr<Acceptor> server;
  std::unique_ptr<Serve> serve;
  if (baseline) {
    server = std::make_unique<Acceptor>(
        venue, serve_port, std::vector<std::pair<std::string, std::string>>{{"TRANCHE", "CLIENT1"}});
  } else {
    server = std::make_unique<Acceptor>(
        venue, venue_port,
        std::vector<std::pair<std::string, std::string>>{
            {"binance-spot", "TRANCHE"}, {"binance-usdm", "TRANCHE"}, {"binance-coinm", "TRANCHE"}});
    serve = std::make_unique<Serve>(serve_port, venue_port);
    for (int i = 0; i < 1000 && venue.logged_on < 3; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  Client client(stamps);
  Initiator session(client, serve_port, "CLIENT1", "TRANCHE");
  if (!client.logged_on) {
    state.SkipWithError("no logon");
    return;
  }
  const int batch = static_cast<int>(state.range(0));
  std::vector<double> ack_us;
  std::uint64_t n = 0, acked_total = 0;
  double seconds = 0;
  for (auto _ : state) {
    std::vector<std::pair<std::string, std::int64_t>> sent;
    const std::int64_t start = now_ns();
    for (int i = 0; i < batch; ++i) {
      const std::string id = numbered('L', ++n);
      sent.emplace_back(id, now_ns());
      client.send_parent(id);
    }
    stamps.wait([&] { return stamps.acked.count(sent.back().first) != 0; }, std::chrono::seconds(30));
    const std::int64_t end = now_ns();
    seconds += static_cast<double>(end - start) / 1e9;
    std::lock_guard lock(stamps.mutex);
    for (const auto& [id, t] : sent)
      if (auto it = stamps.acked.find(id); it != stamps.acked.end()) {
        ack_us.push_back(static_cast<double>(it->second - t) / 1e3);
        ++acked_total;
      }
  }
  state.counters["parents_per_second"] = seconds > 0 ? static_cast<double>(acked_total) / seconds : 0;
  state.counters["ack_p50_us"] = percentile(ack_us, 0.5);
  state.counters["ack_p99_us"] = percentile(ack_us, 0.99);
  state.counters["acked"] = static_cast<double>(acked_total);
}

void ParentsPerSecond(benchmark::State& state) {
  load(state, false);
}
void AckOnlyBaseline(benchmark::State& state) {
  load(state, true);
}
BENCHMARK(ParentsPerSecond)->Arg(200)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(AckOnlyBaseline)->Arg(200)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
