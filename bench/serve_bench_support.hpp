#pragma once
// What the benchmarks of `tranche serve` share (fix_bench, api_bench): a QuickFIX client sending parents and
// stamping their acks, an ack-only QuickFIX acceptor (the baseline, or every venue of serve), and `tranche
// serve` as a child process. Header-only, for the bench binaries alone.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/quickfix.hpp"
#include "gateway/test_free_port.hpp"

namespace tranche::bench {

using Clock = std::chrono::steady_clock;

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

using tranche::gateway::testing::free_port;

inline std::string field(const FIX::FieldMap& m, int tag) {
  return m.isSetField(tag) ? m.getField(tag) : std::string();
}

inline std::string numbered(char prefix, std::uint64_t n) {
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
  // The parent every send_parent sends: by default an aggressive `is` market parent, whose first decision
  // sends a child at once.
  struct Parent {
    std::string qty = "0.5";
    std::string limit;  // empty: a market parent
    std::string algo = "is";
    std::string params = "urgency=aggressive";
  };
  Parent parent;
  void send_parent(const std::string& cl_ord_id) {
    FIX::Message m;
    m.getHeader().setField(FIX::FIELD::MsgType, "D");
    m.setField(FIX::FIELD::ClOrdID, cl_ord_id);
    m.setField(FIX::FIELD::Symbol, "ETH-USDT");
    m.setField(FIX::FIELD::Side, "1");
    m.setField(FIX::FIELD::TransactTime, "20260101-00:00:00.000");
    m.setField(FIX::FIELD::OrderQty, parent.qty);
    m.setField(FIX::FIELD::OrdType, parent.limit.empty() ? "1" : "2");
    if (!parent.limit.empty()) m.setField(FIX::FIELD::Price, parent.limit);
    m.setField(7001, parent.algo);
    if (!parent.params.empty()) m.setField(FIX::FIELD::TargetStrategyParameters, parent.params);
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

// `tranche serve` as a child process, trading on the venue acceptor of this process; `extra`: more options.
class Serve {
 public:
  Serve(int port, int venue_port, std::vector<std::string> extra = {}, const char* stdout_file = nullptr) {
    dir_ = std::filesystem::temp_directory_path() /
           ("tranche_serve_bench_" + std::to_string(::getpid()) + "_" + std::to_string(port));
    std::filesystem::create_directories(dir_);
    const std::string journal = (dir_ / "serve.journal").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      // Every CPU, whatever this bench's thread keeps to: serve places its own threads (--kernel-cpu).
      cpu_set_t every;
      CPU_ZERO(&every);
      for (long cpu = 0; cpu < ::sysconf(_SC_NPROCESSORS_ONLN) && cpu < CPU_SETSIZE; ++cpu)
        CPU_SET(static_cast<int>(cpu), &every);
      (void)::sched_setaffinity(0, sizeof every, &every);
      if (stdout_file != nullptr) {
        if (std::FILE* f = std::freopen(stdout_file, "w", stdout); f == nullptr) std::_Exit(126);
      }
      const std::string p = std::to_string(port), exchange = "127.0.0.1:" + std::to_string(venue_port);
      // TRANCHE_BENCH_SERVE names another build's binary: a before/after of the same bench, same run.
      const char* env_binary = std::getenv("TRANCHE_BENCH_SERVE");
      const std::string binary = env_binary != nullptr && *env_binary != '\0' ? env_binary : TRANCHE_BINARY;
      std::vector<std::string> args = {binary,  "serve",      "--port", p,        "--journal",
                                       journal, "--exchange", exchange, "--quiet"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
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

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace tranche::bench
