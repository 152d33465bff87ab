#pragma once
// The one place the product is put together from a config: the journal, the risk gate, the OrderManager,
// the market with its gateways, and the kernel (ems/kernel.hpp) listening to that market. The market is the
// simulator on recorded data (its venues' orders to its own gateways, or over FIX / Binance's API to venues
// that outlive us), or, with `live_market`, the venues' own market data through their gateways
// (gateway::LiveMarket) on the wall clock, every order to the venue itself. `execute`, `backtest`, `serve`
// and the tests build it here, so no command wires the parts by hand, and each runs its parents through the
// same kernel.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/result.hpp"
#include "ems/kernel.hpp"
#include "gateway/binance_session.hpp"
#include "gateway/fix_venue_session.hpp"
#include "gateway/live_market.hpp"
#include "gateway/sim_gateway.hpp"
#include "oms/journal.hpp"
#include "oms/order_manager.hpp"
#include "risk/risk_gate.hpp"
#include "service/decision_timer.hpp"
#include "sim/simulator.hpp"

namespace tranche::service {

struct RuntimeOptions {
  std::string journal;  // empty: a temporary journal, removed with the runtime
  sim::SimOptions sim;
  ems::KernelOptions kernel;
  // Venues with a [venue.fix] table are reached over FIX, those with a [venue.binance] table over Binance
  // spot's API: they outlive this process. QuickFIX's stores go under `fix_store_dir`. Otherwise (and when
  // false) every venue is the simulator's own.
  bool remote_venues = false;
  std::string fix_store_dir;
  // A journal with children still open is refused (a one-shot run starts clean).
  bool refuse_open_children = false;
  // The kernel hears the venues' own market data (`tranche serve` with [server] market = "live"): every
  // venue must have a [venue.binance] table; no simulator is built and no recording read; `sim` is unused.
  bool live_market = false;
  // Paper trading (`tranche serve --paper`, [server] market = "paper"): the venues' live market data through
  // their gateways' market sides ([venue.binance]), fed into a simulator made for a live feed
  // (SimOptions::live_feed; each venue needs its [venue.sim] too), whose venues fill every order. No order
  // session to any venue is opened.
  bool paper = false;
  // Every call into the kernel is timed on the wall clock (decision_timer()); `tranche serve --stats-every`.
  bool time_decisions = false;
};

class Runtime {
 public:
  static Result<std::unique_ptr<Runtime>> open(const Config& config, RuntimeOptions options);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const Config& config() const { return config_; }
  oms::Journal& journal() { return *journal_; }
  risk::RiskGate& gate() { return *gate_; }
  oms::OrderManager& manager() { return *manager_; }
  // The recorded market (not with live_market).
  sim::Simulator& sim() { return *sim_; }
  // What the kernel hears the venues through: the simulator, or the live market.
  md::MarketSource& market() { return *market_; }
  bool live() const { return live_ != nullptr; }
  bool paper() const { return paper_ != nullptr; }
  // The live market fed to the simulator (only with paper).
  gateway::PaperMarket& paper_market() { return *paper_; }
  // The live market (only with live_market).
  gateway::LiveMarket& live_market() { return *live_; }
  ems::Kernel& kernel() { return *kernel_; }
  // The kernel's calls timed (with RuntimeOptions::time_decisions; else nullptr).
  DecisionTimer* decision_timer() { return timer_.get(); }
  const std::string& journal_path() const { return journal_path_; }
  bool temporary_journal() const { return temporary_; }
  // The latest moment the journal holds (a restart's market goes on from there): 0 for a new journal.
  TimestampNs journal_last_ns() const { return journal_last_ns_; }
  // Where the data starts (the first lap's): the replay clock's origin. Live: when the runtime opened.
  TimestampNs data_start_ns() const { return data_start_ns_; }
  // Venues reached over the network (FIX, Binance): reconciled with them after a restart, never closed as
  // ours.
  const std::set<std::string>& outliving_venues() const { return outliving_; }
  const std::vector<std::unique_ptr<gateway::FixVenueSession>>& fix_venues() const { return fix_venues_; }
  const std::vector<std::unique_ptr<gateway::BinanceSession>>& binance_venues() const {
    return binance_venues_;
  }
  bool has_remote_venues() const { return !outliving_.empty(); }
  // What the remote venues said since the last call, handed to the kernel.
  void poll_remote_venues();
  // The data played again on a clock that keeps running (serve's on_data_end = "replay"): a new simulator,
  // its gateways in place of the old ones; what the closed venues never answered for is closed as theirs.
  Status play_again();
  // Closes the journal (a temporary one is removed).
  void close();

 private:
  Runtime() = default;
  Config config_;
  RuntimeOptions options_;
  std::string journal_path_;
  bool temporary_ = false;
  TimestampNs journal_last_ns_ = 0;
  TimestampNs data_start_ns_ = 0;  // where the first lap's data starts
  std::unique_ptr<oms::Journal> journal_;
  std::unique_ptr<risk::RiskGate> gate_;
  std::unique_ptr<oms::OrderManager> manager_;
  Status open_live();
  Status open_paper();
  // Each venue's market side ([venue.binance]), for live and paper.
  Status open_markets(std::vector<std::unique_ptr<gateway::BinanceMarket>>& markets, const char* mode);
  std::unique_ptr<sim::Simulator> sim_;
  std::unique_ptr<gateway::LiveMarket> live_;
  std::unique_ptr<gateway::PaperMarket> paper_;
  md::MarketSource* market_ = nullptr;
  std::vector<std::unique_ptr<gateway::SimGateway>> gateways_;
  std::vector<std::unique_ptr<gateway::FixVenueSession>> fix_venues_;
  std::unique_ptr<gateway::NetworkThread> network_;  // the crypto gateways' one I/O thread
  std::vector<std::unique_ptr<gateway::BinanceSession>> binance_venues_;
  std::set<std::string> outliving_;
  std::unique_ptr<ems::Kernel> kernel_;
  std::unique_ptr<DecisionTimer> timer_;
  // What the market sources call: the kernel, or the timer in front of it.
  md::MarketListener& listener();
};

}  // namespace tranche::service
