// The gateway conformance matrix (docs/gateways.md): numbered cases every gateway must pass, each run through
// the OMS (journaled, invariants checked) against three venues:
//   sim        the in-process simulated venue behind gateway::SimGateway;
//   exchange   `tranche exchange` in its own process, over FIX through gateway::FixVenueSession;
//   jspurefix  a scripted venue on jspurefix, an independent FIX engine (tests/fix/venue.js), over FIX;
//   binance    `tranche exchange --protocol binance` in its own process, over Binance spot's API (HTTPS, the
//              WebSocket API) through gateway::BinanceSession; binance_ws the same with orders over the
//              WebSocket API; binance_usdm and binance_coinm the exchange playing the bundled futures venues
//              behind Binance USD-M's and COIN-M's own APIs (REST, listen-key user streams, modify in place).
// A case a venue cannot be made to show is skipped with the reason (the matrix says which and why).
// Usage: gateway_conformance_test --gtest_filter='*/jspurefix' TRANCHE NODE VENUE_JS DICTIONARY
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "gateway/binance_session.hpp"
#include "gateway/fix_venue_session.hpp"
#include "gateway/net.hpp"
#include "gateway/sim_gateway.hpp"
#include "gateway/test_free_port.hpp"
#include "gateway/test_tls.hpp"
#include "oms/journal.hpp"
#include "oms/order_manager.hpp"
#include "sim/simulator.hpp"

namespace tranche {
namespace {

std::string g_tranche, g_node, g_venue_js, g_dictionary;

// Lets everything through: these cases are about what venues say, not about the gate.
class AllowAll final : public oms::PreTradeCheck {
 public:
  std::optional<oms::RiskDenial> check_parent(const oms::ParentOrder&, const oms::Oms&,
                                              TimestampNs) override {
    return std::nullopt;
  }
  std::optional<oms::RiskDenial> check_child(const NewOrder&, const oms::Oms&, TimestampNs) override {
    return std::nullopt;
  }
  std::optional<oms::RiskDenial> check_cancel(const CancelOrder&, const oms::Oms&, TimestampNs) override {
    return std::nullopt;
  }
};

TimestampNs wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A child process whose first stdout line says it is ready; killed at the end.
class Child {
 public:
  Child(std::vector<std::string> argv, const std::string& ready_prefix, int ready_fd_is_stderr) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives the test, whatever ends it
      ::dup2(fds[1], ready_fd_is_stderr ? 2 : 1);
      ::close(fds[0]);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      std::_Exit(127);
    }
    ::close(fds[1]);
    out_ = ::fdopen(fds[0], "r");
    char line[1024];
    while (out_ != nullptr && std::fgets(line, sizeof(line), out_) != nullptr) {
      text_ += line;
      if (std::string(line).find(ready_prefix) != std::string::npos) {
        ready_ = line;
        break;
      }
    }
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (out_ != nullptr) std::fclose(out_);
  }
  const std::string& ready() const { return ready_; }
  const std::string& text() const { return text_; }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  std::string ready_, text_;
};

using tranche::gateway::testing::free_port;

// What a case needs of a venue.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual VenueSession& session() = 0;
  // Hands what the venue said to `listener` and lets time pass a little.
  virtual void pump(ExecutionListener& listener) = 0;
  virtual TimestampNs now() const = 0;
  virtual bool scripted() const { return false; }
  // The venue's touch (simulated venues), for prices that rest or cross.
  virtual Price best(Side side) = 0;
  // A new session object replacing the old one, as after an EMS restart.
  virtual void restart_session() = 0;
  // Where duplicates are made (a venue whose faults repeat every report).
  virtual VenueId duplicating_venue() const { return venue(); }
  virtual VenueSession& duplicating_session() { return session(); }
  virtual VenueId venue() const = 0;
  virtual InstrumentId instrument() const { return InstrumentId("ETH-USDT"); }
  // Quantities count whole contracts (COIN-M): a case's fractional quantity is rounded up to one.
  virtual bool whole_contracts() const { return false; }
  Config config;
};

Config bundled_config() {
  return load_config(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml").value();
}

class SimBackend final : public Backend {
 public:
  SimBackend() {
    config = bundled_config();
    for (auto& v : config.venues)
      if (v.id.str() == "binance-coinm") v.sim->faults.duplicate = 1.0;
    sim_ = sim::Simulator::create(config, sim::SimOptions{}).value();
    sim_->run_until(sim_->start_ns() + 5 * kNanosPerSecond);
    gateways_ = gateway::make_sim_gateways(*sim_);
  }
  VenueSession& session() override { return *gateways_[0]; }
  VenueSession& duplicating_session() override { return *gateways_[2]; }
  VenueId duplicating_venue() const override { return VenueId("binance-coinm"); }
  VenueId venue() const override { return VenueId("binance-spot"); }
  void pump(ExecutionListener& listener) override {
    relay_.target = &listener;
    sim_->set_listener(&relay_);
    sim_->run_until(sim_->now() + 5 * kNanosPerMilli);
  }
  TimestampNs now() const override { return sim_->now(); }
  Price best(Side side) override { return sim_->venue(0).market(0).best(side); }
  void restart_session() override { gateways_ = gateway::make_sim_gateways(*sim_); }
  sim::Simulator& sim() { return *sim_; }

 private:
  struct Relay final : sim::SimListener {
    ExecutionListener* target = nullptr;
    void on_execution_report(const ExecutionReport& r) override { target->on_execution_report(r); }
    void on_venue_status(const VenueStatusReport& s) override { target->on_venue_status(s); }
  } relay_;
  std::unique_ptr<sim::Simulator> sim_;
  std::vector<std::unique_ptr<gateway::SimGateway>> gateways_;
};

// A FIX venue process: the sessions are FixVenueSessions; the touch comes from a local replay of the same
// data on the same anchor (the exchange publishes no market data), or is fixed for the scripted venue.
class FixBackend final : public Backend {
 public:
  explicit FixBackend(bool exchange) : exchange_(exchange) {
    dir_ = std::filesystem::temp_directory_path() / ("tranche_conformance_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    config = bundled_config();
    const int port = free_port();
    if (exchange_) {
      // The exchange's coinm repeats every report: duplicates for case 8.
      std::ifstream in(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml");
      std::stringstream text;
      text << in.rdbuf();
      std::string toml = text.str();
      const std::string marker = "\n[server]";
      const std::string repo = std::string(TRANCHE_SOURCE_DIR);
      for (std::size_t at; (at = toml.find("\"../data/")) != std::string::npos;)
        toml.replace(at, 9, "\"" + repo + "/data/");
      toml.insert(toml.find(marker), "\n[venue.sim.faults]\nduplicate = \"1\"\n");
      const std::string scenario = (dir_ / "exchange.toml").string();
      std::ofstream(scenario) << toml;
      anchor_ = wall_ns();
      child_ = std::make_unique<Child>(
          std::vector<std::string>{g_tranche, "exchange", "--scenario", scenario, "--port",
                                   std::to_string(port), "--anchor", format_time(anchor_), "--quiet"},
          "tranche exchange: FIX 4.4 on", 1);
      local_ = sim::Simulator::create(config, sim::SimOptions{}).value();
      start_ = std::max(local_->now(), local_->start_ns());
    } else {
      child_ =
          std::make_unique<Child>(std::vector<std::string>{g_node, g_venue_js, "--port", std::to_string(port),
                                                           "--dictionary", g_dictionary, "--sender", "VENUE"},
                                  "listening", 0);
    }
    port_ = port;
    venue_ = config.venues[0];
    venue_.fix = VenueFixConfig{};
    venue_.fix->port = port;
    venue_.fix->target_comp_id = exchange_ ? "binance-spot" : "VENUE";
    duplicating_ = config.venues[2];
    duplicating_.fix = venue_.fix;
    duplicating_.fix->target_comp_id = "binance-coinm";
    restart_session();
  }
  ~FixBackend() override {
    sessions_.clear();
    duplicate_session_.reset();
    child_.reset();
    std::filesystem::remove_all(dir_);
  }
  bool ready() const { return child_ && !child_->ready().empty(); }
  std::string child_text() const { return child_ ? child_->text() : ""; }
  bool scripted() const override { return !exchange_; }
  VenueSession& session() override { return *sessions_.back(); }
  VenueSession& duplicating_session() override {
    if (!exchange_) return session();  // the scripted venue repeats a report itself (qty 6)
    if (!duplicate_session_) {
      duplicate_session_ = start(duplicating_, "dup");
      wait_logged_on(*duplicate_session_);
    }
    return *duplicate_session_;
  }
  VenueId duplicating_venue() const override { return exchange_ ? duplicating_.id : venue_.id; }
  VenueId venue() const override { return venue_.id; }
  void pump(ExecutionListener& listener) override {
    sessions_.back()->poll(listener, now());
    if (duplicate_session_) duplicate_session_->poll(listener, now());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  TimestampNs now() const override { return wall_ns(); }
  Price best(Side side) override {
    if (!exchange_) return side == Side::Buy ? Price::from_units(99) : Price::from_units(101);
    local_->run_until(std::max(local_->now(), start_ + (wall_ns() - anchor_)));
    return local_->venue(0).market(0).best(side);
  }
  void restart_session() override {
    // The old one is gone first, as when a process dies: QuickFIX keeps one session per CompID pair in a
    // process. (The OMS is not given the new one: the cases ask it directly.)
    const std::string name = "s" + std::to_string(++started_);
    sessions_.clear();
    sessions_.push_back(start(venue_, name));
    wait_logged_on(*sessions_.back());
  }
  gateway::FixVenueSession& fix_session() { return *sessions_.back(); }
  // A restart that keeps QuickFIX's store (the same journal): the sequence numbers go on from there.
  void restart_on_the_same_store() {
    const std::string name = "s" + std::to_string(started_);
    sessions_.clear();
    sessions_.push_back(start(venue_, name));
    wait_logged_on(*sessions_.back());
  }

 private:
  std::unique_ptr<gateway::FixVenueSession> start(const VenueConfig& v, const std::string& name) {
    gateway::FixVenueOptions o;
    o.dictionary = g_dictionary;
    o.store_dir = (dir_ / name).string();
    return gateway::FixVenueSession::start(v, config, o).value();
  }
  static void wait_logged_on(gateway::FixVenueSession& s) {
    for (int i = 0; i < 500 && !s.logged_on(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  bool exchange_;
  std::filesystem::path dir_;
  std::unique_ptr<Child> child_;
  int port_ = 0;
  VenueConfig venue_, duplicating_;
  std::vector<std::unique_ptr<gateway::FixVenueSession>> sessions_;
  int started_ = 0;
  std::unique_ptr<gateway::FixVenueSession> duplicate_session_;
  std::unique_ptr<sim::Simulator> local_;
  TimestampNs anchor_ = 0, start_ = 0;
};

// `tranche exchange --protocol binance` in its own process, reached through the Binance gateway over HTTPS
// and (spot) the WebSocket API or (futures) a listen key's user stream, with a test CA; the touch from a
// local replay on the same anchor, as for FIX. It plays one of the bundled venues: binance-spot (orders over
// REST or the WebSocket API), binance-usdm or binance-coinm (REST, whole contracts on COIN-M). The venue
// played repeats every report (case 8: the gateway tells each trade once). Faults on demand through the
// exchange's control endpoints: a fill that races a cancel (case 7), a disconnect (case 9).
class BinanceBackend final : public Backend {
 public:
  BinanceBackend(std::string venue_id, std::string order_api)
      : venue_id_(std::move(venue_id)), order_api_(std::move(order_api)) {
    dir_ = std::filesystem::temp_directory_path() / ("tranche_conformance_bx_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    if (!certs_.error.empty()) {
      error_ = certs_.error;
      return;
    }
    config = bundled_config();
    key_file_ = (dir_ / "key.toml").string();
    std::ofstream(key_file_)
        << "api_key = \"conformanceKey0123456789\"\napi_secret = \"conformanceSecret\"\n";
    std::filesystem::permissions(key_file_,
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace);
    std::ifstream in(std::string(TRANCHE_SOURCE_DIR) + "/config/default.toml");
    std::stringstream text;
    text << in.rdbuf();
    std::string toml = text.str();
    const std::string repo = std::string(TRANCHE_SOURCE_DIR);
    for (std::size_t at; (at = toml.find("\"../data/")) != std::string::npos;)
      toml.replace(at, 9, "\"" + repo + "/data/");
    // The played venue's [venue.sim] ends where its [venue.sim.latency] begins: the repeat fault goes there.
    std::size_t index = 0;
    while (index < config.venues.size() && config.venues[index].id.str() != venue_id_) ++index;
    if (index == config.venues.size()) {
      error_ = venue_id_ + " is not in the bundled config";
      return;
    }
    std::size_t latency = toml.find("[venue.sim.latency]");
    for (std::size_t i = 0; i < index; ++i) latency = toml.find("[venue.sim.latency]", latency + 1);
    toml.insert(latency, "[venue.sim.faults]\nduplicate = \"1\"\n\n");
    const std::string scenario = (dir_ / "exchange.toml").string();
    std::ofstream(scenario) << toml;
    port_ = free_port();
    anchor_ = wall_ns();
    child_ = std::make_unique<Child>(
        std::vector<std::string>{g_tranche, "exchange", "--protocol", "binance", "--scenario", scenario,
                                 "--venue", venue_id_, "--port", std::to_string(port_), "--anchor",
                                 format_time(anchor_), "--cert", certs_.cert_file, "--key", certs_.key_file,
                                 "--keys", key_file_, "--quiet"},
        "anchored at", 1);
    local_ = sim::Simulator::create(config, sim::SimOptions{}).value();
    start_ = std::max(local_->now(), local_->start_ns());
    local_index_ = index;
    venue_ = config.venues[index];
    VenueBinanceConfig b;
    const std::string base = "127.0.0.1:" + std::to_string(port_);
    b.rest_url = "https://" + base;
    b.ws_api_url = "wss://" + base + "/ws-api/v3";
    b.stream_url = "wss://" + base;
    b.ca_file = certs_.ca_file;
    b.key_file = key_file_;
    b.order_api = order_api_;
    b.request_timeout_ns = 5 * kNanosPerSecond;
    b.reconnect_min_ns = 50 * kNanosPerMilli;
    b.reconnect_max_ns = 500 * kNanosPerMilli;
    venue_.binance = b;
    if (ready()) restart_session();
  }
  ~BinanceBackend() override {
    session_.reset();
    network_.reset();
    child_.reset();
    std::filesystem::remove_all(dir_);
  }
  bool ready() const { return error_.empty() && child_ && !child_->ready().empty(); }
  std::string child_text() const { return error_ + (child_ ? child_->text() : ""); }
  VenueSession& session() override { return *session_; }
  VenueId venue() const override { return venue_.id; }
  void pump(ExecutionListener& listener) override {
    if (session_) session_->poll(listener, now());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  TimestampNs now() const override { return wall_ns(); }
  Price best(Side side) override {
    local_->run_until(std::max(local_->now(), start_ + (wall_ns() - anchor_)));
    return local_->venue(local_index_).market(0).best(side);
  }
  void restart_session() override {
    session_.reset();
    network_ = std::make_unique<gateway::NetworkThread>();
    auto started = gateway::BinanceSession::start(venue_, *network_, gateway::BinanceSessionOptions{});
    if (!started) {
      error_ = started.error().message;
      ADD_FAILURE() << "the Binance session did not start: " << error_;
      return;
    }
    session_ = std::move(started).value();
  }
  gateway::BinanceSession& binance_session() { return *session_; }
  bool whole_contracts() const override { return venue_.market == "coinm"; }
  bool futures() const { return venue_.market != "spot"; }
  // POST to the exchange's control endpoint (loopback only), over HTTPS with the test CA.
  bool control(const std::string& target) {
    auto tls = gateway::net::make_client_tls(certs_.ca_file);
    auto url = gateway::net::parse_url("https://127.0.0.1:" + std::to_string(port_));
    if (!tls || !url) return false;
    gateway::net::IoThread io;
    auto client = std::make_shared<gateway::net::HttpsClient>(io, std::move(tls).value(), *url);
    std::promise<int> status;
    io.post([&] {
      gateway::net::HttpRequest r;
      r.method = gateway::net::http::verb::post;
      r.target = target;
      client->request(r, [&](gateway::net::HttpResponse answer) { status.set_value(answer.status); });
    });
    const int code = status.get_future().get();
    io.post([client] { client->close(); });
    return code == 200;
  }

 private:
  std::string venue_id_;
  std::string order_api_;
  std::size_t local_index_ = 0;
  gateway::testing::TestCertificates certs_;
  std::string error_;
  std::filesystem::path dir_;
  std::string key_file_;
  std::unique_ptr<Child> child_;
  int port_ = 0;
  VenueConfig venue_;
  std::unique_ptr<gateway::NetworkThread> network_;
  std::unique_ptr<gateway::BinanceSession> session_;
  std::unique_ptr<sim::Simulator> local_;
  TimestampNs anchor_ = 0, start_ = 0;
};

// The OMS and its journal around one backend: every report is applied there, as in the product.
class Conformance : public ::testing::TestWithParam<std::string>, public ExecutionListener {
 protected:
  void SetUp() override {
    const std::string name = GetParam();
    if (name == "sim") {
      backend_ = std::make_unique<SimBackend>();
    } else if (name.rfind("binance", 0) == 0) {
      const std::string venue = name == "binance_usdm"    ? "binance-usdm"
                                : name == "binance_coinm" ? "binance-coinm"
                                                          : "binance-spot";
      auto b = std::make_unique<BinanceBackend>(venue, name == "binance_ws" ? "websocket" : "rest");
      ASSERT_TRUE(b->ready()) << name << " did not start: " << b->child_text();
      backend_ = std::move(b);
    } else {
      auto fix = std::make_unique<FixBackend>(name == "exchange");
      // A venue that does not start is a failure, never a skipped matrix.
      ASSERT_TRUE(fix->ready()) << name << " did not start: " << fix->child_text();
      backend_ = std::move(fix);
    }
    path_ = (std::filesystem::temp_directory_path() /
             ("tranche_conformance_" + std::to_string(::getpid()) + "_" + name + ".journal"))
                .string();
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + s);
    journal_ = oms::Journal::open(path_).value();
    manager_ = oms::OrderManager::open(backend_->config, *journal_, gate_).value();
    manager_->add_session(&backend_->session());
    if (backend_->duplicating_venue() != backend_->venue())
      manager_->add_session(&backend_->duplicating_session());
    oms::ParentOrder parent;
    parent.account = AccountId("conformance");
    parent.instrument = backend_->instrument();
    parent.qty = Qty::from_units(100000);
    parent.algo = "manual";
    parent_ = manager_->accept_parent(parent, backend_->now()).value();
    ASSERT_TRUE(manager_->flush().ok());
  }
  void TearDown() override {
    manager_.reset();
    journal_.reset();
    backend_.reset();
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + s);
  }

  void on_execution_report(const ExecutionReport& r) override {
    reports_.push_back(r);
    manager_->on_execution_report(r);
  }
  void on_venue_status(const VenueStatusReport& s) override {
    statuses_.push_back(s);
    manager_->on_venue_status(s);
  }

  // A case's quantity in the venue's units: whole contracts where it counts them.
  Qty sized(Qty qty) const {
    if (!backend_->whole_contracts()) return qty;
    const std::int64_t unit = Qty::from_units(1).raw();
    return Qty::from_units(std::max<std::int64_t>(1, (qty.raw() + unit - 1) / unit));
  }
  ClientOrderId send(Side side, Qty qty, Price price, VenueId venue = VenueId()) {
    NewOrder o;
    o.parent_id = parent_;
    o.venue = venue.str().empty() ? backend_->venue() : venue;
    o.instrument = backend_->instrument();
    o.side = side;
    o.type = OrderType::Limit;
    o.price = price;
    o.qty = qty;
    auto id = manager_->send_child(o, backend_->now());
    EXPECT_TRUE(id.ok());
    EXPECT_TRUE(manager_->flush().ok());
    return id.ok() ? *id : ClientOrderId();
  }
  // Pumps until `done` holds (or 15 s of wall time); false if it never did.
  template <typename Done>
  bool until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      backend_->pump(*this);
      const Status flushed = manager_->flush();
      EXPECT_TRUE(flushed.ok()) << flushed.message();
      if (!flushed.ok()) return false;
      if (done()) return true;
    }
    return false;
  }
  const oms::ChildOrder& child(ClientOrderId id) { return *manager_->oms().child(id); }
  std::size_t count(ClientOrderId id, ExecType type) const {
    std::size_t n = 0;
    for (const auto& r : reports_) n += r.client_order_id == id && r.exec_type == type;
    return n;
  }
  Qty fills_of(ClientOrderId id) const {
    Qty sum;
    for (const auto& f : manager_->oms().fills())
      if (f.child == id) sum = sum + f.qty;
    return sum;
  }
  // A price that rests (well away from the touch) or crosses it (by a margin).
  Price resting(Side side) {
    const Price touch = backend_->best(side);
    const std::int64_t ticks = 500;
    return Price::from_raw(touch.raw() + (side == Side::Buy ? -ticks : ticks) * 1'000'000);
  }
  Price crossing(Side side, std::int64_t ticks = 500) {
    const Price touch = backend_->best(side == Side::Buy ? Side::Sell : Side::Buy);
    return Price::from_raw(touch.raw() + (side == Side::Buy ? ticks : -ticks) * 1'000'000);
  }
  // No anomaly but those the case provokes (a repeated execution is recognised, recorded and ignored).
  void expect_oms_clean(bool duplicates_expected = false) {
    EXPECT_TRUE(manager_->event_error().ok()) << manager_->event_error().message();
    for (const auto& a : manager_->oms().anomalies())
      if (!(duplicates_expected && a.kind == "duplicate_execution"))
        ADD_FAILURE() << "OMS anomaly: " << a.kind << ": " << a.text;
  }

  std::unique_ptr<Backend> backend_;
  AllowAll gate_;
  std::string path_;
  std::unique_ptr<oms::Journal> journal_;
  std::unique_ptr<oms::OrderManager> manager_;
  ParentId parent_;
  std::vector<ExecutionReport> reports_;
  std::vector<VenueStatusReport> statuses_;
};

// 1. Ack: an order that rests is acknowledged New and stays open.
TEST_P(Conformance, Case01_AnOrderThatRestsIsAcknowledged) {
  const auto id = send(Side::Buy, backend_->scripted() ? Qty::from_units(1) : Qty::from_units(1),
                       backend_->scripted() ? Price::from_units(100) : resting(Side::Buy));
  ASSERT_TRUE(until([&] { return count(id, ExecType::New) > 0; }));
  EXPECT_EQ(child(id).status, OrderStatus::New);
  EXPECT_TRUE(child(id).open());
  expect_oms_clean();
}

// 2. Partial fills: each fill counted once, CumQty their sum; a report says partially filled while more is
// left; the order ends filled, or canceled with its remainder (an IOC larger than the touch).
TEST_P(Conformance, Case02_PartialFillsAddUpAndTheRemainderEnds) {
  const bool scripted = backend_->scripted();
  // COIN-M's book counts 10 USD contracts: 500 of them fit within two ticks; 20,000 (200,000 USD) do not.
  const Qty qty = scripted                      ? Qty::from_units(3)
                  : backend_->whole_contracts() ? Qty::from_units(20000)
                                                : Qty::from_units(500);
  NewOrder o;
  o.parent_id = parent_;
  o.venue = backend_->venue();
  o.instrument = backend_->instrument();
  o.side = Side::Buy;
  // Two ticks through the touch: the venue's book may be a moment ahead of ours (the exchange's own replay).
  o.price = scripted ? Price::from_units(100) : Price::from_raw(backend_->best(Side::Sell).raw() + 2'000'000);
  o.qty = qty;
  o.time_in_force = scripted ? TimeInForce::GoodTillCancel : TimeInForce::ImmediateOrCancel;
  const auto sent = manager_->send_child(o, backend_->now());
  ASSERT_TRUE(sent.ok());
  ASSERT_TRUE(manager_->flush().ok());
  const ClientOrderId id = *sent;
  ASSERT_TRUE(until([&] { return !child(id).open(); }));
  EXPECT_GE(count(id, ExecType::Trade), scripted ? 2u : 1u);
  bool partial = false;
  for (const auto& r : reports_)
    partial = partial || (r.client_order_id == id && r.status == OrderStatus::PartiallyFilled);
  EXPECT_TRUE(partial) << "no report said partially filled";
  EXPECT_EQ(fills_of(id), child(id).cum_qty);
  EXPECT_TRUE(child(id).cum_qty.is_positive());
  EXPECT_LE(child(id).cum_qty, qty);
  if (scripted)
    EXPECT_EQ(child(id).status, OrderStatus::Filled);
  else  // what an IOC left is canceled, or expired as the simulator says
    EXPECT_TRUE(child(id).status == OrderStatus::Canceled || child(id).status == OrderStatus::Expired);
  expect_oms_clean();
}

// 3. Full fill: one marketable order, filled.
TEST_P(Conformance, Case03_AMarketableOrderFills) {
  const Qty qty = backend_->scripted() ? Qty::from_units(2) : sized(Qty::from_raw(50'000'000));
  const auto id = send(Side::Buy, qty, backend_->scripted() ? Price::from_units(100) : crossing(Side::Buy));
  ASSERT_TRUE(until([&] { return !child(id).open(); }));
  EXPECT_EQ(child(id).status, OrderStatus::Filled);
  EXPECT_EQ(child(id).cum_qty, qty);
  EXPECT_EQ(fills_of(id), qty);
  expect_oms_clean();
}

// 4. Cancel: a resting order canceled, nothing filled.
TEST_P(Conformance, Case04_ARestingOrderIsCanceled) {
  const auto id =
      send(Side::Buy, Qty::from_units(1), backend_->scripted() ? Price::from_units(100) : resting(Side::Buy));
  ASSERT_TRUE(until([&] { return count(id, ExecType::New) > 0; }));
  ASSERT_TRUE(manager_->cancel_child(id, backend_->now()).ok());
  ASSERT_TRUE(manager_->flush().ok());
  ASSERT_TRUE(until([&] { return !child(id).open(); }));
  EXPECT_EQ(child(id).status, OrderStatus::Canceled);
  EXPECT_EQ(child(id).cum_qty, Qty());
  expect_oms_clean();
}

// 5. Replace: a resting order's price moved; the OMS follows.
TEST_P(Conformance, Case05_ARestingOrderIsReplaced) {
  const Price price = backend_->scripted() ? Price::from_units(100) : resting(Side::Buy);
  const auto id = send(Side::Buy, backend_->scripted() ? Qty::from_units(9) : Qty::from_units(1), price);
  ASSERT_TRUE(until([&] { return count(id, ExecType::New) > 0; }));
  const Price lower = Price::from_raw(price.raw() - 1'000'000);
  ASSERT_TRUE(manager_->amend_child(id, lower, Qty::unset(), backend_->now()).ok());
  ASSERT_TRUE(manager_->flush().ok());
  ASSERT_TRUE(until([&] { return count(id, ExecType::Replaced) > 0; }));
  EXPECT_EQ(child(id).order.price, lower);
  EXPECT_TRUE(child(id).open());
  // And the replaced order can still be canceled (by its new ClOrdID on FIX).
  ASSERT_TRUE(manager_->cancel_child(id, backend_->now()).ok());
  ASSERT_TRUE(manager_->flush().ok());
  ASSERT_TRUE(until([&] { return !child(id).open(); }));
  EXPECT_EQ(child(id).status, OrderStatus::Canceled);
  expect_oms_clean();
}

// 6. Reject: the venue refuses an order; it is closed, with the venue's words.
TEST_P(Conformance, Case06_ARefusedOrderIsRejectedWithAReason) {
  const auto id = send(Side::Buy, backend_->scripted() ? Qty::from_units(4) : Qty::from_raw(1000),
                       backend_->scripted() ? Price::from_units(100) : resting(Side::Buy));
  ASSERT_TRUE(until([&] { return !child(id).open(); }));
  EXPECT_EQ(child(id).status, OrderStatus::Rejected);
  ASSERT_GT(count(id, ExecType::Rejected), 0u);
  for (const auto& r : reports_)
    if (r.client_order_id == id && r.exec_type == ExecType::Rejected) {
      EXPECT_TRUE(r.text.size() > 0 || r.reject_reason != RejectReason::None);
    }
  expect_oms_clean();
}

// 7. Fill after cancel: a fill that arrives after the cancel was sent counts, and the order ends canceled.
TEST_P(Conformance, Case07_AFillAfterTheCancelCounts) {
  if (auto* binance = dynamic_cast<BinanceBackend*>(backend_.get())) {
    // The exchange holds the next cancel until the recorded market fills the order (or 10 s pass): a buy
    // improving the bid by a tick is first in its queue, so the next sell print fills it while its cancel
    // waits. Whatever the market did, each fill is counted once and the order ends with it.
    ASSERT_TRUE(binance->control("/tranche/control/fill-after-cancel?count=1&max_hold_ms=10000"));
    const Price bid = backend_->best(Side::Buy);
    const Qty qty = sized(Qty::from_raw(100'000'000));
    const auto id = send(Side::Buy, qty, Price::from_raw(bid.raw() + 1'000'000));
    ASSERT_TRUE(until([&] { return count(id, ExecType::New) > 0 || !child(id).open(); }));
    ASSERT_TRUE(manager_->cancel_child(id, backend_->now()).ok());
    ASSERT_TRUE(manager_->flush().ok());
    ASSERT_TRUE(until([&] { return !child(id).open(); }));
    EXPECT_TRUE(child(id).status == OrderStatus::Canceled || child(id).status == OrderStatus::Filled);
    EXPECT_EQ(fills_of(id), child(id).cum_qty);
    if (child(id).status == OrderStatus::Filled) {
      EXPECT_EQ(child(id).cum_qty, qty);
    }
    expect_oms_clean();
    return;
  }
  if (!backend_->scripted())
    GTEST_SKIP() << "the simulator answers a cancel in the order it arrives; only the scripted venue makes a "
                    "fill race it on demand";
  const auto id = send(Side::Buy, Qty::from_units(5), Price::from_units(100));
  ASSERT_TRUE(until([&] { return count(id, ExecType::New) > 0; }));
  ASSERT_TRUE(manager_->cancel_child(id, backend_->now()).ok());
  ASSERT_TRUE(manager_->flush().ok());
  ASSERT_TRUE(until([&] { return !child(id).open(); }));
  EXPECT_EQ(child(id).status, OrderStatus::Canceled);
  EXPECT_EQ(child(id).cum_qty, Qty::from_units(2));
  EXPECT_EQ(fills_of(id), Qty::from_units(2));
  // A cancel that loses the race to a fill is refused, and the order ends filled.
  const auto raced = send(Side::Buy, Qty::from_units(8), Price::from_units(100));
  ASSERT_TRUE(until([&] { return count(raced, ExecType::New) > 0; }));
  ASSERT_TRUE(manager_->cancel_child(raced, backend_->now()).ok());
  ASSERT_TRUE(manager_->flush().ok());
  ASSERT_TRUE(until([&] { return !child(raced).open(); }));
  EXPECT_EQ(child(raced).status, OrderStatus::Filled);
  EXPECT_EQ(fills_of(raced), Qty::from_units(8));
  expect_oms_clean();
}

// 8. Duplicate execution id: a fill reported twice is one fill.
TEST_P(Conformance, Case08_AFillReportedTwiceCountsOnce) {
  const bool scripted = backend_->scripted();
  const VenueId venue = scripted ? backend_->venue() : backend_->duplicating_venue();
  // On the simulated venues the duplicating one is COIN-M: whole contracts.
  const Qty qty = scripted ? Qty::from_units(6) : Qty::from_units(3);
  // The perpetual is re-centred on spot: crossing spot's ask by 20 USDT crosses its ask too.
  const Price price = scripted ? Price::from_units(100) : crossing(Side::Buy, 2000);
  const auto id = send(Side::Buy, qty, price, venue);
  ASSERT_TRUE(until([&] { return !child(id).open(); }));
  if (auto* binance = dynamic_cast<BinanceBackend*>(backend_.get())) {
    // The exchange's spot venue repeats every report; the gateway knows a trade by its trade id and tells
    // it once (the OMS would recognise a repeat too, by the same execution id).
    ASSERT_TRUE(until([&] { return binance->binance_session().repeated_trades() > 0; }))
        << "no repeat arrived";
    EXPECT_EQ(child(id).cum_qty, qty);
    EXPECT_EQ(fills_of(id), qty);
    expect_oms_clean();
    return;
  }
  // The repeat is a message of its own, behind the fill that closed the child: waited for, not assumed to
  // have arrived with it (under load it did not: the flaky "no duplicate arrived").
  ASSERT_TRUE(until([&] { return count(id, ExecType::Trade) >= 2; })) << "no duplicate arrived";
  EXPECT_EQ(child(id).cum_qty, qty);
  EXPECT_EQ(fills_of(id), qty);
  bool recognised = false;
  for (const auto& a : manager_->oms().anomalies())
    recognised = recognised || a.kind == "duplicate_execution";
  EXPECT_TRUE(recognised) << "the repeat was not recognised by its execution id";
  expect_oms_clean(true);
}

// 9. Disconnect and reconnect: the session says it dropped and came back; the resting order is asked for
// at the logon and stays open.
TEST_P(Conformance, Case09_ADroppedSessionReconnectsAndResyncs) {
  if (auto* binance = dynamic_cast<BinanceBackend*>(backend_.get())) {
    const auto id = send(Side::Buy, Qty::from_units(1), resting(Side::Buy));
    ASSERT_TRUE(until([&] { return count(id, ExecType::New) > 0; }));
    ASSERT_TRUE(binance->control("/tranche/control/disconnect?ms=1500"));
    ASSERT_TRUE(until([&] {
      for (const auto& s : statuses_)
        if (s.state == VenueState::Disconnected) return true;
      return false;
    })) << "no disconnect seen";
    // Back: Open again, and the resting order asked for and still open.
    ASSERT_TRUE(until([&] { return count(id, ExecType::OrderStatus) > 0; }))
        << "no re-sync after the reconnect";
    bool reopened = false;
    for (std::size_t i = 1; i < statuses_.size(); ++i)
      reopened =
          reopened || (statuses_[i].state == VenueState::Open && statuses_[i - 1].state != VenueState::Open);
    EXPECT_TRUE(reopened);
    EXPECT_EQ(child(id).status, OrderStatus::New);
    const auto after = send(Side::Buy, sized(Qty::from_raw(50'000'000)), crossing(Side::Buy));
    ASSERT_TRUE(until([&] { return !child(after).open(); }));
    EXPECT_EQ(child(after).status, OrderStatus::Filled);
    expect_oms_clean();
    return;
  }
  if (GetParam() == "exchange")
    GTEST_SKIP() << "tranche exchange does not drop sessions on demand; the scripted venue drops one and the "
                    "simulated venue's disconnect windows cover the in-process gateway";
  if (GetParam() == "sim") {
    GTEST_SKIP() << "disconnect windows are configured before the simulator starts; covered by "
                    "src/sim/venue_test.cpp and the simulator golden test";
  }
  const auto id = send(Side::Buy, Qty::from_units(7), Price::from_units(100));
  ASSERT_TRUE(until([&] { return count(id, ExecType::New) > 0; }));
  ASSERT_TRUE(until([&] {
    for (const auto& s : statuses_)
      if (s.state == VenueState::Disconnected) return true;
    return false;
  })) << "no disconnect seen";
  ASSERT_TRUE(until([&] { return count(id, ExecType::OrderStatus) > 0; })) << "no re-sync after the logon";
  bool reopened = false;
  for (const auto& s : statuses_) reopened = reopened || s.state == VenueState::Open;
  EXPECT_TRUE(reopened);
  EXPECT_EQ(child(id).status, OrderStatus::New);
  // The session works again.
  const auto after = send(Side::Buy, Qty::from_units(2), Price::from_units(100));
  ASSERT_TRUE(until([&] { return !child(after).open(); }));
  EXPECT_EQ(child(after).status, OrderStatus::Filled);
  expect_oms_clean();
}

// 10. Status after restart: a new session (as after an EMS restart) asks for an order the old one sent.
TEST_P(Conformance, Case10_AfterARestartTheVenueSaysWhereAnOrderStands) {
  const auto id =
      send(Side::Buy, Qty::from_units(1), backend_->scripted() ? Price::from_units(100) : resting(Side::Buy));
  ASSERT_TRUE(until([&] { return count(id, ExecType::New) > 0; }));
  backend_->restart_session();
  const std::size_t before = reports_.size();
  auto answered = [&](ClientOrderId which) {
    for (std::size_t i = before; i < reports_.size(); ++i)
      if (reports_[i].client_order_id == which && reports_[i].exec_type == ExecType::OrderStatus) return true;
    return false;
  };
  ASSERT_TRUE(backend_->session().query(
      OrderStatusQuery{id, backend_->venue(), backend_->instrument(), backend_->now()}));
  ASSERT_TRUE(until([&] { return answered(id); }));
  for (std::size_t i = before; i < reports_.size(); ++i)
    if (const auto& r = reports_[i]; r.client_order_id == id && r.exec_type == ExecType::OrderStatus) {
      EXPECT_EQ(r.status, OrderStatus::New);
      EXPECT_EQ(r.reject_reason, RejectReason::None);
    }
  EXPECT_TRUE(child(id).open());
  // A query for an order the venue never saw is answered as unknown.
  ASSERT_TRUE(backend_->session().query(
      OrderStatusQuery{ClientOrderId(987654), backend_->venue(), backend_->instrument(), backend_->now()}));
  ASSERT_TRUE(until([&] { return answered(ClientOrderId(987654)); }));
  for (const auto& r : reports_)
    if (r.client_order_id == ClientOrderId(987654)) {
      EXPECT_EQ(r.reject_reason, RejectReason::UnknownOrder);
    }
}

// 12. Sequence numbers: the venue asks for everything again (ResendRequest 1..0). Order requests are answered
// with gap fills, never sent late as PossDup (an order the venue never saw must not arrive minutes later).
// A restart on the same store logs on where the numbers stood, without a reset.
TEST_P(Conformance, Case12_AResendRequestGetsGapFillsForOrdersAndARestartKeepsTheNumbers) {
  auto* fix = dynamic_cast<FixBackend*>(backend_.get());
  if (fix == nullptr || !backend_->scripted())
    GTEST_SKIP() << "only the scripted venue asks for a resend on demand (script 9); sequence numbers are "
                    "FIX's, so the Binance and in-process gateways have none";
  const auto id = send(Side::Buy, Qty::from_units(9), Price::from_units(100));
  ASSERT_TRUE(until([&] { return count(id, ExecType::New) > 0; }));
  auto venue_says = [&]() -> std::string {
    const std::size_t before = reports_.size();
    EXPECT_TRUE(backend_->session().query(
        OrderStatusQuery{id, backend_->venue(), backend_->instrument(), backend_->now()}));
    std::string text;
    EXPECT_TRUE(until([&] {
      for (std::size_t i = before; i < reports_.size(); ++i)
        if (reports_[i].client_order_id == id && reports_[i].exec_type == ExecType::OrderStatus) {
          text = reports_[i].text.str();
          return true;
        }
      return false;
    }));
    return text;
  };
  // The venue's resend request goes out 100 ms after the ack; the answer to it comes before the status.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const std::string resent = venue_says();
  EXPECT_NE(resent.find("orders resent 0"), std::string::npos) << resent;
  EXPECT_EQ(resent.find("gap fills 0"), std::string::npos) << resent;
  EXPECT_NE(resent.find("reset Y"), std::string::npos) << resent;  // a new store's first logon resets
  fix->restart_on_the_same_store();
  const std::string restarted = venue_says();
  EXPECT_NE(restarted.find("reset N"), std::string::npos) << restarted;
  EXPECT_EQ(restarted.find("logon seq 1 "), std::string::npos) << restarted;
  EXPECT_TRUE(child(id).open());
  expect_oms_clean();
}

// 11. Futures user data: the venue expires the listen key; the gateway asks for a new one, reconnects its
// stream to it, re-syncs the resting order, and a fill made after that reaches the OMS.
TEST_P(Conformance, Case11_AnExpiredListenKeyIsReplacedAndFillsStillArrive) {
  auto* binance = dynamic_cast<BinanceBackend*>(backend_.get());
  if (binance == nullptr || !binance->futures())
    GTEST_SKIP()
        << "listen keys are Binance futures' way to user data (spot subscribes over the WebSocket API)";
  const auto id = send(Side::Buy, sized(Qty::from_units(1)), resting(Side::Buy));
  ASSERT_TRUE(until([&] { return count(id, ExecType::New) > 0; }));
  const std::size_t statuses_before = statuses_.size();
  ASSERT_TRUE(binance->control("/tranche/control/expire-listen-keys"));
  ASSERT_TRUE(until([&] {
    for (std::size_t i = statuses_before; i + 1 < statuses_.size(); ++i)
      if (statuses_[i].state == VenueState::Disconnected && statuses_[i + 1].state == VenueState::Open)
        return true;
    return false;
  })) << "the stream did not come back on a new key";
  ASSERT_TRUE(until([&] { return count(id, ExecType::OrderStatus) > 0; })) << "no re-sync on the new key";
  EXPECT_TRUE(child(id).open());
  const Qty qty = sized(Qty::from_raw(50'000'000));
  const auto after = send(Side::Buy, qty, crossing(Side::Buy));
  ASSERT_TRUE(until([&] { return !child(after).open(); }));
  EXPECT_EQ(child(after).status, OrderStatus::Filled);
  EXPECT_EQ(fills_of(after), qty);
  expect_oms_clean();
}

INSTANTIATE_TEST_SUITE_P(Venues, Conformance,
                         ::testing::Values("sim", "exchange", "jspurefix", "binance", "binance_ws",
                                           "binance_usdm", "binance_coinm"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tranche

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc >= 5) {
    tranche::g_tranche = argv[1];
    tranche::g_node = argv[2];
    tranche::g_venue_js = argv[3];
    tranche::g_dictionary = argv[4];
  }
  return RUN_ALL_TESTS();
}
