#include "service/runtime.hpp"

#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <atomic>
#include <filesystem>

namespace tranche::service {

namespace {
std::atomic<std::uint64_t> run_counter{0};  // temporary journals of concurrent runs (backtest) never collide
}  // namespace

Result<std::unique_ptr<Runtime>> Runtime::open(const Config& config, RuntimeOptions options) {
  std::unique_ptr<Runtime> rt(new Runtime());
  rt->config_ = config;
  rt->options_ = std::move(options);
  const RuntimeOptions& o = rt->options_;
  rt->journal_path_ = o.journal;
  rt->temporary_ = o.journal.empty();
  if (rt->temporary_) {
    rt->journal_path_ =
        (std::filesystem::temp_directory_path() /
         ("tranche-run-" + std::to_string(::getpid()) + "-" + std::to_string(++run_counter) + ".journal"))
            .string();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(rt->journal_path_ + suffix);
  }
  auto journal = oms::Journal::open(rt->journal_path_);
  if (!journal) return make_error(journal.error().message);
  rt->journal_ = std::move(journal).value();
  rt->gate_ = std::make_unique<risk::RiskGate>(rt->config_);
  auto manager = oms::OrderManager::open(rt->config_, *rt->journal_, *rt->gate_);
  if (!manager) return make_error(manager.error().message);
  rt->manager_ = std::move(manager).value();
  if (o.refuse_open_children && !rt->manager_->oms().open_children().empty())
    return make_error(rt->journal_path_ + " has orders still open from an earlier run");
  if (auto s = rt->journal_->replay([&](const oms::Record& r) -> Status {
        rt->journal_last_ns_ = std::max(rt->journal_last_ns_, r.ts_ns);
        return {};
      });
      !s)
    return make_error(s.message());
  if (o.live_market && o.paper) return make_error("a market is live or paper, not both");
  if (o.live_market) {
    if (auto s = rt->open_live(); !s) return make_error(s.message());
    return rt;
  }
  if (o.paper) {
    if (auto s = rt->open_paper(); !s) return make_error(s.message());
    return rt;
  }
  auto sim = sim::Simulator::create(rt->config_, o.sim);
  if (!sim) return make_error(sim.error().message);
  rt->sim_ = std::move(sim).value();
  rt->data_start_ns_ = std::max(rt->sim_->now(), rt->sim_->start_ns());
  rt->gateways_ = gateway::make_sim_gateways(*rt->sim_);
  for (auto& g : rt->gateways_) {
    const VenueConfig* v = rt->config_.venue(g->venue());
    if (o.remote_venues && v != nullptr && v->binance) {
      if (!rt->network_) rt->network_ = std::make_unique<gateway::NetworkThread>();
      gateway::BinanceSessionOptions bo;
      bo.reconcile_since_ns = rt->journal_last_ns_;
      bo.seed = o.sim.seed.value_or(1);
      auto started = gateway::BinanceSession::start(*v, *rt->network_, bo);
      if (!started) return make_error(started.error().message);
      rt->binance_venues_.push_back(std::move(started).value());
      rt->manager_->add_session(rt->binance_venues_.back().get());
      rt->outliving_.insert(v->id.str());
      continue;
    }
    if (!o.remote_venues || v == nullptr || !v->fix) {
      rt->manager_->add_session(g.get());
      continue;
    }
    gateway::FixVenueOptions fo;
    fo.dictionary = rt->config_.server.fix.dictionary;
    fo.store_dir = o.fix_store_dir + "/venue-" + v->id.str();
    auto started = gateway::FixVenueSession::start(*v, rt->config_, fo);
    if (!started) return make_error(started.error().message);
    rt->fix_venues_.push_back(std::move(started).value());
    rt->manager_->add_session(rt->fix_venues_.back().get());
    rt->outliving_.insert(v->id.str());
  }
  rt->market_ = rt->sim_.get();
  rt->kernel_ = std::make_unique<ems::Kernel>(rt->config_, *rt->sim_, *rt->manager_, *rt->gate_, o.kernel);
  rt->sim_->set_listener(&rt->listener());
  return rt;
}

Status Runtime::open_markets(std::vector<std::unique_ptr<gateway::BinanceMarket>>& markets,
                             const char* mode) {
  std::string missing;
  for (const VenueConfig& v : config_.venues)
    if (!v.binance) missing += (missing.empty() ? "" : ", ") + v.id.str();
  if (config_.venues.empty())
    return make_error(std::string("market = \"") + mode + "\" needs at least one venue");
  if (!missing.empty())
    return make_error(std::string("market = \"") + mode +
                      "\" hears every venue through its own gateway, and " + missing +
                      (missing.find(',') == std::string::npos ? " has" : " have") +
                      " no [venue.binance] (remove it or give it one)");
  if (!network_) network_ = std::make_unique<gateway::NetworkThread>();
  for (const VenueConfig& v : config_.venues) {
    gateway::BinanceMarketOptions mo;
    mo.seed = options_.sim.seed.value_or(1);
    auto market = gateway::BinanceMarket::start(v, *network_, mo);
    if (!market) return make_error(market.error().message);
    markets.push_back(std::move(market).value());
  }
  return {};
}

// Live market data, paper fills: the simulator plays every venue on the live books; no order session opens.
Status Runtime::open_paper() {
  std::string unsimulated;
  for (const VenueConfig& v : config_.venues)
    if (!v.sim) unsimulated += (unsimulated.empty() ? "" : ", ") + v.id.str();
  if (!unsimulated.empty())
    return make_error("market = \"paper\" fills every order in the simulator, and " + unsimulated +
                      (unsimulated.find(',') == std::string::npos ? " has" : " have") +
                      " no [venue.sim] (its latencies, queue model and fees)");
  std::vector<std::unique_ptr<gateway::BinanceMarket>> markets;
  if (auto s = open_markets(markets, "paper"); !s) return s;
  sim::SimOptions so = options_.sim;
  so.live_feed = true;
  so.start_ns = std::max(gateway::LiveMarket::wall_clock(), journal_last_ns_);
  so.end_ns = 0;
  auto sim = sim::Simulator::create(config_, so);
  if (!sim) return make_error(sim.error().message);
  sim_ = std::move(sim).value();
  data_start_ns_ = sim_->now();
  gateways_ = gateway::make_sim_gateways(*sim_);
  for (auto& g : gateways_) manager_->add_session(g.get());
  auto paper = gateway::PaperMarket::create(std::move(markets), *sim_);
  if (!paper) return make_error(paper.error().message);
  paper_ = std::move(paper).value();
  market_ = sim_.get();
  kernel_ = std::make_unique<ems::Kernel>(config_, *sim_, *manager_, *gate_, options_.kernel);
  sim_->set_listener(&listener());
  return {};
}

// Every venue through its gateway, its orders and its market data alike: Binance spot's API for now.
Status Runtime::open_live() {
  std::vector<std::unique_ptr<gateway::BinanceMarket>> markets;
  if (auto s = open_markets(markets, "live"); !s) return s;
  for (const VenueConfig& v : config_.venues) {
    gateway::BinanceSessionOptions bo;
    bo.reconcile_since_ns = journal_last_ns_;
    bo.seed = options_.sim.seed.value_or(1);
    auto session = gateway::BinanceSession::start(v, *network_, bo);
    if (!session) return make_error(session.error().message);
    binance_venues_.push_back(std::move(session).value());
    manager_->add_session(binance_venues_.back().get());
    outliving_.insert(v.id.str());
  }
  live_ = std::make_unique<gateway::LiveMarket>(std::move(markets));
  market_ = live_.get();
  data_start_ns_ = live_->now();
  kernel_ = std::make_unique<ems::Kernel>(config_, *live_, *manager_, *gate_, options_.kernel);
  live_->set_listener(&listener());
  return {};
}

md::MarketListener& Runtime::listener() {
  if (options_.time_decisions && timer_ == nullptr) timer_ = std::make_unique<DecisionTimer>(*kernel_);
  if (timer_ != nullptr) return *timer_;
  return *kernel_;
}

void Runtime::poll_remote_venues() {
  const TimestampNs now = market_->now();
  for (auto& f : fix_venues_) f->poll(listener(), now);
  for (auto& b : binance_venues_) b->poll(listener(), now);
}

Status Runtime::play_again() {
  if (live_) return make_error("a live market is not replayed");
  sim::SimOptions lap = options_.sim;
  // The recording moved to start a second from now.
  lap.time_offset_ns = sim_->now() + kNanosPerSecond - data_start_ns_;
  auto again = sim::Simulator::create(config_, lap);
  if (!again) return make_error("replaying the data again: " + again.error().message);
  std::unique_ptr<sim::Simulator> next = std::move(again).value();
  next->run_until(std::max(next->now(), sim_->now()));
  auto next_gateways = gateway::make_sim_gateways(*next);
  for (auto& g : next_gateways)
    if (!outliving_.count(g->venue().str())) manager_->replace_session(g.get());
  kernel_->close_children_of_restarted_venues(outliving_);
  next->set_listener(&listener());
  kernel_->reopen(*next);
  sim_ = std::move(next);
  market_ = sim_.get();
  gateways_ = std::move(next_gateways);
#if defined(__GLIBC__)
  // The last lap's simulator (its recordings, books and queues, megabytes) was freed while the new one lived:
  // what the allocator keeps of it goes back to the system, so a server replaying for weeks stays its size.
  malloc_trim(0);
#endif
  return {};
}

void Runtime::close() {
  kernel_.reset();
  fix_venues_.clear();
  binance_venues_.clear();
  live_.reset();   // its markets stop before the network thread they run on
  paper_.reset();  // the same, and before the simulator it feeds
  market_ = nullptr;
  network_.reset();
  manager_.reset();
  journal_.reset();
  if (temporary_)
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(journal_path_ + suffix);
}

Runtime::~Runtime() {
  close();
}

}  // namespace tranche::service
