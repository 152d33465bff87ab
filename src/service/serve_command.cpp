#include "service/serve_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "ems/algo.hpp"
#include "gateway/api_server.hpp"
#include "gateway/fix_parent_acceptor.hpp"
#include "oms/order_manager.hpp"
#include "service/api_desk.hpp"
#include "service/cpu_pinning.hpp"
#include "service/parent_desk.hpp"
#include "service/process_memory.hpp"
#include "service/replay_clock.hpp"
#include "service/report_assets.hpp"
#include "service/runtime.hpp"
#include "service/sim_commands.hpp"
#include "sim/simulator.hpp"

namespace tranche::service {

namespace {

// Replay events and actions processed between two looks at the request queue: a busy stretch of the recording
// (or a replay far behind the wall clock) never keeps a cancel waiting for more than a few milliseconds.
constexpr std::size_t kStepsBetweenRequests = 20'000;

const char* exec_type_name(const ParentAnswer& a) {
  if (a.cancel_reject) return "cancel-reject";
  switch (a.exec_type) {
    case '0':
      return "new";
    case 'F':
      return "fill";
    case '5':
      return "replaced";
    case '6':
      return "pending-cancel";
    case '4':
      return "canceled";
    case 'C':
      return "expired";
    case '3':
      return "done";
    case '8':
      return "rejected";
    case 'I':
      return "status";
    default:
      return "report";
  }
}

// Every observer of the kernel, in order: the FIX desk first (its answers are what API calls wait for), then
// the API's.
class KernelObservers final : public ems::KernelObserver {
 public:
  void add(ems::KernelObserver* o) { observers_.push_back(o); }
  void on_market_event(const md::MarketRef& ref, const md::Event& event,
                       std::optional<double> benchmark_mid) override {
    for (auto* o : observers_) o->on_market_event(ref, event, benchmark_mid);
  }
  void on_child_report(ParentId parent, const ExecutionReport& report, bool fresh_fill,
                       double fill_base) override {
    for (auto* o : observers_) o->on_child_report(parent, report, fresh_fill, fill_base);
  }
  void on_parent_ended(ParentId parent, TimestampNs now_ns) override {
    for (auto* o : observers_) o->on_parent_ended(parent, now_ns);
  }
  void after_commit(TimestampNs now_ns) override {
    for (auto* o : observers_) o->after_commit(now_ns);
  }

 private:
  std::vector<ems::KernelObserver*> observers_;
};

// What comes to the kernel's thread from outside: a FIX client's request, or an HTTP API call.
using Inbound = std::variant<ParentRequest, gateway::ApiCall>;

// The documented demo tokens (docs/api.md): anyone may know them, so they serve loopback only.
bool is_demo_token_hash(const std::string& sha256) {
  for (const char* token : {"demo-viewer", "demo-trader", "demo-admin"})
    if (gateway::sha256_hex(token) == sha256) return true;
  return false;
}

}  // namespace

int serve_command(const ServeOptions& options, std::ostream& out, std::ostream& err) {
  (void)out;
  auto fail = [&](const std::string& message) {
    err << "tranche serve: " << message << "\n";
    return 2;
  };
  const std::string config_path = options.config.empty() ? default_config_path() : options.config;
  auto loaded = load_config(config_path);
  if (!loaded) return fail(loaded.error().message);
  Config config = *loaded;
  if (options.port) {
    if (*options.port <= 0 || *options.port > 65535) return fail("--port must be 1 to 65535");
    config.server.fix.port = *options.port;
  }
  if (!options.speed.empty()) {
    Amount speed;
    if (!Amount::parse(options.speed, speed) || !speed.is_positive())
      return fail("--speed '" + options.speed + "' is not a positive decimal");
    config.server.speed = speed;
  }
  if (config.server.fix.dictionary.empty()) config.server.fix.dictionary = TRANCHE_FIX_DICTIONARY;
  if (options.api_port) {
    if (*options.api_port < 0 || *options.api_port > 65535) return fail("--api-port must be 0 to 65535");
    config.server.api.port = *options.api_port;
    config.server.api.enabled = true;
  }
  if (options.no_api) config.server.api.enabled = false;
  if (options.kernel_cpu) {
    if (*options.kernel_cpu < -1 || *options.kernel_cpu > 1023)
      return fail("--kernel-cpu must be -1 (not pinned) or a CPU number");
    config.server.kernel_cpu = *options.kernel_cpu;
  }
  // Before any thread starts: every thread made from here on (QuickFIX's, the gateways' I/O, the API's)
  // inherits a place off the kernel's CPU; this thread, the kernel's, moves onto it before the loop.
  const int kernel_cpu = config.server.kernel_cpu;
  if (kernel_cpu >= 0) {
    if (Status kept = keep_off_cpu(kernel_cpu); !kept) return fail(kept.message());
  }
  if (config.server.api.enabled) {
    const std::string& host = config.server.api.host;
    const bool loopback = host.rfind("127.", 0) == 0 || host == "::1";
    for (const auto& t : config.server.api.tokens)
      if (!loopback && is_demo_token_hash(t.sha256))
        return fail("[server.api] token '" + t.name +
                    "' is a demo token (docs/api.md), and the API listens on " + host +
                    ", not loopback: make tokens of your own with `tranche api-token`");
    if (config.server.api.tokens.empty())
      err << "tranche serve: warning: [server.api] has no token: every API request will be refused (401)\n";
  }
  {
    const std::vector<std::string> algos = ems::algo_names();
    if (std::find(algos.begin(), algos.end(), config.server.default_algo) == algos.end())
      return fail("[server] default_algo '" + config.server.default_algo + "' is not an algo");
  }
  const std::string journal_path = options.journal.empty() ? config.server.journal : options.journal;
  if (options.paper) config.server.market = "paper";
  // A live market: every venue's own market data through its gateway, on the wall clock. What aligns or
  // checks a replay has no meaning there. Paper trading hears the same live market data, and the simulator
  // fills every order against it.
  const bool paper = config.server.market == "paper";
  const bool live = config.server.market == "live" || paper;
  if (live) {
    const char* replay_only = !options.exchange.empty() ? "--exchange"
                              : !options.anchor.empty() ? "--anchor"
                              : !options.speed.empty()  ? "--speed"
                              : options.strict_data     ? "--strict-data"
                                                        : nullptr;
    if (replay_only != nullptr)
      return fail(std::string(replay_only) + " is for the replayed market; with [server] market = \"" +
                  config.server.market + "\" the venues' own market data plays on the wall clock");
  }
  std::optional<TimestampNs> anchor_ns;
  if (!options.anchor.empty()) {
    auto t = parse_time(options.anchor);
    if (!t) return fail("--anchor: " + t.error().message);
    anchor_ns = *t;
  }
  if (!options.exchange.empty()) {
    // Every simulated venue over FIX at a `tranche exchange`, whose CompID for each is the venue id.
    std::string host;
    int port = 0;
    if (!parse_host_port(options.exchange, host, port))
      return fail("--exchange '" + options.exchange + "' is not HOST:PORT");
    for (auto& v : config.venues) {
      if (!v.sim || v.binance) continue;  // a venue reached over Binance's API stays so
      VenueFixConfig fix;
      fix.host = host;
      fix.port = port;
      fix.target_comp_id = v.id.str();
      v.fix = fix;
    }
  }

  // The recordings read through before the market opens: what ends early or has an unusable stretch is said
  // now, with the venue, the file and the time, and refused with --strict-data.
  if (!live) {
    auto issues = sim::Simulator::scan_data(config);
    if (!issues) return fail(issues.error().message);
    if (options.strict_data && !issues->empty()) return fail("--strict-data: " + sim::summarize(*issues));
    for (const auto& issue : *issues) err << "tranche serve: warning: data: " << issue.to_string() << "\n";
  }

  // --- the product: journal, risk gate, OMS, the market and its venues (over FIX where the config says so:
  // they outlive this process), and the kernel ---
  // The TCA of past parents that auto parents choose by; what the API's TCA finalizes is added to it.
  ems::AlgoEvidence evidence;
  if (!options.evidence.empty()) {
    auto loaded = ems::AlgoEvidence::load(options.evidence);
    if (!loaded) return fail(loaded.error().message);
    evidence = std::move(loaded).value();
  }
  RuntimeOptions runtime_options;
  runtime_options.journal = journal_path;
  runtime_options.kernel.evidence = options.evidence.empty() ? nullptr : &evidence;
  runtime_options.remote_venues = true;
  runtime_options.fix_store_dir = journal_path + ".fix";
  runtime_options.live_market = live && !paper;
  runtime_options.paper = paper;
  DurationNs stats_every_ns = 0;
  if (!options.stats_every.empty()) {
    auto every = parse_duration(options.stats_every);
    if (!every) return fail("--stats-every: " + every.error().message);
    if (*every < 100 * kNanosPerMilli) return fail("--stats-every must be at least 100ms");
    stats_every_ns = *every;
    runtime_options.time_decisions = true;
  }
  // The API's /metrics has the decision latencies.
  if (config.server.api.enabled) runtime_options.time_decisions = true;
  auto opened = Runtime::open(config, runtime_options);
  if (!opened) return fail(opened.error().message);
  Runtime& runtime = *opened.value();
  ems::Kernel& kernel = runtime.kernel();
  if (paper)
    for (const VenueConfig& v : config.venues)
      err << "tranche serve: " << v.id.str() << " market data from " << v.binance->stream_url
          << " (snapshots from " << v.binance->rest_url << "); its orders filled by the simulator (paper)\n";
  for (const auto& name : runtime.outliving_venues()) {
    const VenueConfig* v = config.venue(VenueId(name));
    if (v->binance) {
      if (v->market == "spot")
        err << "tranche serve: " << name << " over Binance spot's API at " << v->binance->rest_url
            << " (orders by " << v->binance->order_api << ", user data at " << v->binance->ws_api_url
            << ")\n";
      else
        err << "tranche serve: " << name << " over Binance " << (v->market == "usdm" ? "USD-M" : "COIN-M")
            << " futures' API at " << v->binance->rest_url
            << " (orders by rest, user data on a listen key at " << v->binance->stream_url << "/ws/...)\n";
      if (live)
        err << "tranche serve: " << name << " market data from " << v->binance->stream_url
            << " (snapshots from " << v->binance->rest_url << ")\n";
      continue;
    }
    err << "tranche serve: " << name << " over FIX at " << v->fix->host << ":" << v->fix->port << " as "
        << v->fix->sender_comp_id << " -> " << v->fix->target_comp_id << "\n";
  }
  // The market: a restart goes on from the journal's last moment, so its clock never runs backwards. With an
  // anchor (the wall time the data's start plays at, shared with a `tranche exchange`) the replay is where
  // the anchor says it is now; it never runs back behind the journal. Replayed unseen up to there: the books
  // stand as they stood then.
  const TimestampNs data_start = runtime.data_start_ns();
  const TimestampNs journal_last_ns = runtime.journal_last_ns();
  const double speed = config.server.speed.to_double();
  TimestampNs start_at = journal_last_ns;
  if (anchor_ns)
    start_at = std::max(start_at, ReplayClock{data_start, *anchor_ns, speed}.replay_at(wall_now_ns()));
  if (!live && start_at > runtime.sim().now()) runtime.sim().run_until(start_at);
  const TimestampNs replay_start =
      live ? runtime.market().now() : std::max({runtime.sim().now(), data_start, journal_last_ns});
  // The live market: its books sync from the venues' snapshots before the clients come (10 s at most; a
  // venue without a book by then is not traded until it has one). The order sessions' reports wait in their
  // queues until the kernel has recovered its parents.
  // The live market's pump: the kernel's own (live), or the simulator's feed (paper).
  auto pump_live = [&](TimestampNs now) {
    return paper ? runtime.paper_market().pump(now) : runtime.live_market().pump(now);
  };
  auto say_notes = [&] {
    if (live)
      for (const std::string& note :
           paper ? runtime.paper_market().take_notes() : runtime.live_market().take_notes())
        err << "tranche serve: " << note << "\n";
  };
  if (live) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!(paper ? runtime.paper_market().all_open() : runtime.live_market().all_open()) &&
           std::chrono::steady_clock::now() < deadline && stop_signal().load() == 0) {
      pump_live(wall_now_ns());
      say_notes();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (std::size_t v = 0; v < runtime.market().venue_count(); ++v)
      if (runtime.market().venue_state(v) != VenueState::Open)
        err << "tranche serve: warning: " << runtime.market().venue_config(v).id.str() << " market data is "
            << to_string(runtime.market().venue_state(v)) << ": not traded until its books sync\n";
  }

  // --- the front desk and the FIX acceptor ---
  // The replay clock against the wall; live, both are the wall clock (the mapping is the identity).
  ReplayClock clock =
      anchor_ns && ReplayClock{data_start, *anchor_ns, speed}.replay_at(wall_now_ns()) >= replay_start
          ? ReplayClock{data_start, *anchor_ns, speed}
          : ReplayClock{replay_start, wall_now_ns(), speed};
  auto to_wall = [&](TimestampNs t) { return live ? t : clock.wall_at(t); };
  auto to_market = [&](TimestampNs t) { return live ? t : clock.replay_at(t); };
  gateway::FixParentAcceptor* acceptor_ptr = nullptr;
  ApiDesk* api_desk_ptr = nullptr;
  const bool quiet = options.quiet;
  ParentDesk desk(
      config, kernel, runtime.manager(),
      [&](const ParentAnswer& answer) {
        ParentAnswer a = answer;
        a.transact_ns = to_wall(answer.transact_ns);
        if (!quiet) {
          err << format_time(answer.transact_ns).substr(11, 12) << " " << exec_type_name(a) << " "
              << a.cl_ord_id;
          if (!a.order_id.empty()) err << " (parent " << a.order_id << ")";
          if (a.last_qty.is_set())
            err << " " << a.last_qty.to_string() << " @ " << a.last_px.to_string() << " on " << a.last_mkt;
          if (!a.cancel_reject) err << " cum " << a.cum_qty.to_string();
          if (!a.text.empty()) err << ": " << a.text;
          err << "\n";
        }
        if (ApiDesk::is_api_session(a.session)) {
          if (api_desk_ptr != nullptr) api_desk_ptr->on_answer(a);
          return;
        }
        if (acceptor_ptr != nullptr && !acceptor_ptr->send(a))
          err << "tranche serve: the answer for " << a.cl_ord_id << " could not be sent (session "
              << a.session << " is not logged on); an OrderStatusRequest will tell it\n";
      },
      "E" + std::to_string(clock.wall_origin_ns / kNanosPerMilli),
      [&runtime] { return runtime.market().now(); });
  KernelObservers observers;
  observers.add(&desk);
  kernel.set_observer(&observers);
  if (auto s = kernel.recover(runtime.journal()); !s) return fail(s.message());
  if (auto s = desk.recover(runtime.journal()); !s) return fail(s.message());
  if (const std::size_t closed = kernel.close_children_of_restarted_venues(runtime.outliving_venues());
      closed > 0)
    err << "tranche serve: " << closed
        << " children the journal left open were on the simulated venues, which restarted with the server: "
           "closed as canceled\n";
  if (auto reconciled = runtime.manager().reconcile(replay_start); !reconciled)
    return fail(reconciled.error().message);
  else if (*reconciled > 0)
    err << "tranche serve: " << *reconciled << " children the journal left in flight are being reconciled\n";
  if (kernel.working() > 0)
    err << "tranche serve: resuming " << kernel.working() << " working parents from " << journal_path << "\n";

  HandoffQueue<Inbound> queue;
  // From here the journal's records are written and made durable by its own thread, many events' at once;
  // what a record made (a child to a venue, an answer to a client) waits for it (Kernel::on_durable), and
  // the thread wakes this loop when it has written.
  if (auto s = runtime.journal().start_writer([&queue] { queue.wake(); }); !s) return fail(s.message());
  gateway::FixAcceptorOptions fix_options;
  fix_options.config = config.server.fix;
  fix_options.dictionary = config.server.fix.dictionary;
  fix_options.store_dir = journal_path + ".fix";
  fix_options.reset_on_logon = config.server.fix.reset_on_logon;
  auto acceptor = gateway::FixParentAcceptor::start(
      fix_options, [&](ParentRequest r) { queue.push(Inbound(std::move(r))); });
  if (!acceptor) return fail(acceptor.error().message);
  acceptor_ptr = acceptor.value().get();

  // --- the HTTP API, its event stream and /metrics (docs/api.md) ---
  std::unique_ptr<gateway::ApiServer> api_server;
  std::unique_ptr<ApiDesk> api_desk;
  // The journal outlives the desk: its listener goes first, whichever way this returns.
  struct ListenerReset {
    explicit ListenerReset(oms::Journal& j) : journal(j) {}
    ~ListenerReset() { journal.set_append_listener(nullptr); }
    oms::Journal& journal;
  };
  std::optional<ListenerReset> listener_reset;
  if (config.server.api.enabled) {
    gateway::ApiServer::Handlers handlers;
    handlers.on_call = [&queue](gateway::ApiCall call) { queue.push(std::move(call)); };
    // Refusals and drops are said even with --quiet (which silences the per-answer lines): they are the
    // operator's security trail.
    // The blotter: its page, script, style and charting library (web/, embedded at build time).
    handlers.static_files = {{"/", {"text/html; charset=utf-8", blotter_html}},
                             {"/blotter.js", {"text/javascript; charset=utf-8", blotter_js}},
                             {"/blotter.css", {"text/css; charset=utf-8", blotter_css}},
                             {"/uplot.js", {"text/javascript; charset=utf-8", uplot_js}},
                             {"/uplot.css", {"text/css; charset=utf-8", uplot_css}}};
    handlers.log = [&err](const std::string& line) {
      err << ("tranche serve: " + line + "\n") << std::flush;
    };
    auto started = gateway::ApiServer::start(config.server.api, std::move(handlers));
    if (!started) {
      acceptor.value()->stop();
      return fail(started.error().message);
    }
    api_server = std::move(started.value());
    gateway::ApiServer* server = api_server.get();
    ApiDesk::Outbox outbox;
    outbox.respond = [server](std::uint64_t call, gateway::ApiReply reply) {
      server->respond(call, std::move(reply));
    };
    outbox.publish = [server](std::uint64_t seq, std::string text) { server->publish(seq, std::move(text)); };
    outbox.server_stats = [server] { return server->stats(); };
    api_desk = std::make_unique<ApiDesk>(
        ApiDesk::Services{config, kernel, runtime.manager(), runtime.gate(), &runtime.market(), desk,
                          runtime.decision_timer(), [&](TimestampNs wall) { return to_market(wall); },
                          live ? "wall" : "replay", options.evidence.empty() ? nullptr : &evidence},
        std::move(outbox));
    api_desk_ptr = api_desk.get();
    observers.add(api_desk.get());
    ApiDesk* d = api_desk.get();
    listener_reset.emplace(runtime.journal());
    runtime.journal().set_append_listener(
        [d](std::uint64_t seq, TimestampNs ts_ns, const oms::RecordBody& body) {
          d->on_journal_append(seq, ts_ns, body);
        });
    err << "tranche serve: HTTP API on " << api_server->origin() << " (" << config.server.api.tokens.size()
        << " tokens; docs/api.md); the blotter at " << api_server->origin() << "/\n";
  }

  std::string clients;
  for (const auto& c : config.server.fix.clients) clients += (clients.empty() ? "" : ", ") + c;
  err << "tranche serve: FIX 4.4 on " << config.server.fix.host << ":" << config.server.fix.port << " as "
      << config.server.fix.comp_id << " for " << clients << "; market ";
  if (paper)
    err << "paper: the venues' own market data on the wall clock, every order filled by the simulator (none "
           "reaches a venue)";
  else if (live)
    err << "live from the venues' own market data on the wall clock";
  else
    err << (config.scenario ? config.scenario->name : std::string("(no scenario)")) << " replayed from "
        << format_time(replay_start) << " at " << config.server.speed.to_string() << "x";
  err << "; journal " << journal_path << "\n";

  if (kernel_cpu >= 0) {
    const std::string others = allowed_cpus();
    if (Status pinned = pin_to_cpu(kernel_cpu); !pinned) return fail(pinned.message());
    err << "tranche serve: the kernel runs alone on CPU " << kernel_cpu << ", the other threads on " << others
        << "\n";
  }
  install_stop_handlers();
  bool closed_said = false;
  int laps = 0;

  // The evidence saved at most every 10 s of wall time while parents add to it, and at the end.
  std::uint64_t evidence_saved = evidence.parents();
  TimestampNs next_evidence_save_ns = 0;
  auto save_evidence = [&](bool now) {
    if (options.evidence.empty() || evidence.parents() == evidence_saved) return;
    if (!now && wall_now_ns() < next_evidence_save_ns) return;
    next_evidence_save_ns = wall_now_ns() + 10 * kNanosPerSecond;
    if (auto s = evidence.save(options.evidence); !s) {
      err << "tranche serve: " << s.message() << "\n";
      return;
    }
    evidence_saved = evidence.parents();
  };

  // --stats-every: one JSON line per interval on stdout (wall-clock intervals).
  TimestampNs next_stats_ns = stats_every_ns > 0 ? wall_now_ns() + stats_every_ns : 0;
  auto say_stats = [&] {
    if (stats_every_ns == 0 || wall_now_ns() < next_stats_ns) return;
    next_stats_ns += stats_every_ns;
    DecisionTimer& timer = *runtime.decision_timer();
    const oms::Oms& state = runtime.manager().oms();
    auto percentiles = [](const LatencyHistogram& h) {
      nlohmann::ordered_json j;
      j["count"] = h.count();
      j["p50_ns"] = h.percentile(0.50);
      j["p90_ns"] = h.percentile(0.90);
      j["p99_ns"] = h.percentile(0.99);
      j["p999_ns"] = h.percentile(0.999);
      j["max_ns"] = h.max();
      return j;
    };
    nlohmann::ordered_json j;
    j["wall_ns"] = wall_now_ns();
    j["market_ns"] = runtime.market().now();
    j["rss_bytes"] = resident_bytes();
    const HeapBytes heap = heap_bytes();
    j["heap_in_use_bytes"] = heap.in_use;
    j["heap_free_bytes"] = heap.free;
    j["laps"] = laps + 1;
    j["kernel_cpu"] = kernel_cpu;
    j["parents_working"] = kernel.working();
    j["parents_in_kernel"] = kernel.in_memory();
    j["intents_in_kernel"] = kernel.intents_in_memory();
    j["oms"] = {{"parents", state.parents().size()},
                {"children", state.children().size()},
                {"fills", state.fills().size()},
                {"forgotten_parents", state.forgotten().parents},
                {"forgotten_children", state.forgotten().children},
                {"forgotten_fills", state.forgotten().fills},
                {"anomalies", state.anomalies_total()}};
    j["market_event"] = percentiles(timer.market_events());
    j["report"] = percentiles(timer.reports());
    j["timer"] = percentiles(timer.timers());
    timer.clear();
    out << j.dump() << std::endl;
  };

  auto take_requests = [&](std::chrono::microseconds wait) {
    kernel.on_durable();  // what the journal's writer made durable goes out, before and after the requests
    for (Inbound& in : queue.take(wait)) {
      if (auto* call = std::get_if<gateway::ApiCall>(&in)) {
        if (api_desk) api_desk->on_call(*call);
        continue;
      }
      ParentRequest& r = std::get<ParentRequest>(in);
      // The wire's times are the wall's; the kernel's are the market's (a list's orders' too).
      auto onto_market = [&](ParentRequest& each) {
        if (each.expire_ns) each.expire_ns = to_market(*each.expire_ns);
        if (each.effective_ns) each.effective_ns = to_market(*each.effective_ns);
      };
      onto_market(r);
      for (ParentRequest& order : r.orders) onto_market(order);
      desk.on_request(r);
    }
    kernel.on_durable();
  };
  while (live && stop_signal().load() == 0) {
    // Live: what the venues said (reports, then market data), then the timers due, all at the wall's now.
    take_requests(std::chrono::microseconds(1000));
    runtime.poll_remote_venues();
    pump_live(wall_now_ns());
    say_notes();
    say_stats();
    save_evidence(false);
    if (!kernel.error().ok()) {
      err << "tranche serve: stopping: " << kernel.error().message() << "\n";
      acceptor.value()->stop();
      return 1;
    }
  }
  while (!live && stop_signal().load() == 0) {
    take_requests(std::chrono::microseconds(1000));
    runtime.poll_remote_venues();
    // In chunks: requests and cancels are answered between them, whatever a moment of the replay holds.
    sim::Simulator& sim = runtime.sim();
    (void)sim.run_until(std::max(sim.now(), clock.replay_at(wall_now_ns())), kStepsBetweenRequests);
    if (!kernel.market_closed() && !sim.recording_left()) kernel.data_ended();
    say_stats();
    save_evidence(false);
    if (kernel.market_closed() && !closed_said) {
      closed_said = true;
      err << "tranche serve: the recorded data ended at " << format_time(runtime.sim().now())
          << ": the venues are closed; "
          << (config.server.on_data_end == "replay" ? "the data plays again once every parent has ended"
                                                    : "the server stays up")
          << "\n";
    }
    if (kernel.market_closed() && config.server.on_data_end == "replay" && kernel.working() == 0) {
      // Another lap of the same data, on a clock that keeps running: the recording moved to start a second
      // from now. What the closed venues never answered for is closed as theirs: they are gone.
      if (auto again = runtime.play_again(); !again) return fail(again.message());
      if (api_desk) api_desk->reopen(runtime.market());
      ++laps;
      closed_said = false;
      err << "tranche serve: the data plays again (lap " << laps + 1 << ") from "
          << format_time(runtime.sim().now()) << "\n";
    }
    if (!kernel.error().ok()) {
      err << "tranche serve: stopping: " << kernel.error().message() << "\n";
      acceptor.value()->stop();
      return 1;
    }
  }
  err << "tranche serve: " << (stop_signal().load() == SIGTERM ? "SIGTERM" : "SIGINT") << ": ";
  // Requests still come in until the sessions are logged out: each is answered (new parents refused).
  desk.set_stopping();
  if (config.server.on_shutdown == "cancel" && kernel.working() > 0) {
    err << "canceling " << kernel.working() << " working parents\n";
    kernel.cancel_all("the server shut down");
    // The venues answer on the replay clock: it runs on, unpaced, until every parent has ended (or 10 s).
    const TimestampNs until = runtime.market().now() + 10 * kNanosPerSecond;
    const auto wall_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (kernel.working() > 0 && runtime.market().now() < until &&
           std::chrono::steady_clock::now() < wall_deadline) {
      take_requests(std::chrono::microseconds(0));
      runtime.poll_remote_venues();
      if (live) {
        pump_live(wall_now_ns());
        say_notes();
      } else {
        (void)runtime.sim().run_until(runtime.sim().now() + 10 * kNanosPerMilli, kStepsBetweenRequests);
      }
      if (runtime.has_remote_venues())
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the venues answer in wall time
    }
  } else {
    err << (kernel.working() > 0 ? std::to_string(kernel.working()) + " working parents kept for the restart"
                                 : std::string("nothing working"))
        << "\n";
  }
  if (auto s = runtime.manager().flush(); !s) err << "tranche serve: " << s.message() << "\n";
  if (auto s = runtime.journal().wait_durable(); !s) err << "tranche serve: " << s.message() << "\n";
  kernel.on_durable();
  save_evidence(true);
  // The last reports leave before the sessions are logged out; what comes in meanwhile is answered.
  for (int i = 0; i < 20; ++i) take_requests(std::chrono::microseconds(10'000));
  acceptor.value()->stop();
  take_requests(std::chrono::microseconds(0));
  return kernel.error().ok() ? 0 : 1;
}

int api_token_command(const std::string& name, const std::string& role, bool json, std::ostream& out,
                      std::ostream& err) {
  if (name.empty() || name.size() > 64 || name.find_first_of(" \t\r\n\"") != std::string::npos) {
    err << "tranche api-token: --name must be 1 to 64 characters without spaces or quotes\n";
    return 2;
  }
  auto token = gateway::new_api_token();
  if (!token) {
    err << "tranche api-token: " << token.error().message << "\n";
    return 1;
  }
  const std::string hash = gateway::sha256_hex(*token);
  if (json) {
    out << nlohmann::ordered_json{{"name", name}, {"role", role}, {"token", *token}, {"sha256", hash}}.dump()
        << "\n";
    return 0;
  }
  out << "token: " << *token << "\n\n"
      << "[[server.api.token]]\nname = \"" << name << "\"\nrole = \"" << role << "\"\nsha256 = \"" << hash
      << "\"\n";
  err << "tranche api-token: the token is shown this once and kept nowhere; the config keeps only its hash\n";
  return 0;
}

namespace {
std::atomic<int> stop_signal_value{0};
extern "C" void on_stop_signal(int signal) {
  stop_signal_value.store(signal);
}
}  // namespace

std::atomic<int>& stop_signal() {
  return stop_signal_value;
}

void install_stop_handlers() {
  stop_signal_value.store(0);
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
}

}  // namespace tranche::service
