#pragma once
// The HTTP API's side of `tranche serve` on the kernel's thread (docs/api.md): each authenticated call
// (gateway/api_server.hpp) routed, checked and answered; parents submitted, amended and canceled through the
// same ParentDesk as FIX, so they get the same checks and answers; every journaled parent, child, fill and
// risk event published on the stream once it is durable; and the Prometheus metrics.
//
// Each token trades as its own session, "api/<token name>": a client order id is unique per token, a repeat
// of one returns its parent instead of making a second, and the journal names the token on every parent and
// every action taken.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/latency_histogram.hpp"
#include "core/parent_messages.hpp"
#include "ems/kernel.hpp"
#include "gateway/api_server.hpp"
#include "md/market_source.hpp"
#include "oms/order_manager.hpp"
#include "oms/until_durable.hpp"
#include "risk/risk_gate.hpp"
#include "service/decision_timer.hpp"
#include "service/parent_desk.hpp"
#include "service/tca_tape.hpp"

namespace tranche::service {

class ApiDesk final : public ems::KernelObserver {
 public:
  struct Services {
    const Config& config;
    ems::Kernel& kernel;
    oms::OrderManager& manager;
    risk::RiskGate& gate;
    md::MarketSource* market;  // replaced by reopen()
    ParentDesk& desk;
    DecisionTimer* timer = nullptr;                     // decision latencies for /metrics; nullptr: none
    std::function<TimestampNs(TimestampNs)> to_market;  // a wall-clock time onto the market's clock
    const char* clock = "replay";                       // the clock the kernel's times are on
    // The TCA of past parents (auto reads it through the kernel): each parent's final TCA beside its
    // estimate is added. nullptr: none kept.
    ems::AlgoEvidence* evidence = nullptr;
  };
  struct Outbox {
    std::function<void(std::uint64_t call, gateway::ApiReply)> respond;
    std::function<void(std::uint64_t seq, std::string json)> publish;
    std::function<gateway::ApiServerStats()> server_stats;
  };
  ApiDesk(Services services, Outbox outbox);

  static constexpr const char* kSessionPrefix = "api/";
  static bool is_api_session(const std::string& session) { return session.rfind(kSessionPrefix, 0) == 0; }

  // An authenticated call, on the kernel's thread; always answered through Outbox::respond (at once, or
  // when the desk answers the parent request it became).
  void on_call(const gateway::ApiCall& call);
  // The desk's answers to API sessions: what a waiting submit, amend or cancel call was waiting for.
  void on_answer(const ParentAnswer& answer);
  // The journal's appends (Journal::set_append_listener): held until durable, then published.
  void on_journal_append(std::uint64_t seq, TimestampNs ts_ns, const oms::RecordBody& body);
  // A new market plays the venues (the recorded data replayed again, Runtime::play_again).
  void reopen(md::MarketSource& market) {
    s_.market = &market;
    tape_.reopen(market);
  }
  // The Prometheus text exposition of everything /metrics shows.
  std::string metrics_text() const;

  // --- ems::KernelObserver ---
  void on_market_event(const md::MarketRef& ref, const md::Event& event,
                       std::optional<double> benchmark_mid) override;
  void on_child_report(ParentId parent, const ExecutionReport& report, bool fresh_fill,
                       double fill_base) override;
  void on_parent_ended(ParentId parent, TimestampNs now_ns) override;
  void after_commit(TimestampNs now_ns) override;

 private:
  using json = nlohmann::ordered_json;
  struct Waiting {
    std::uint64_t call = 0;
    ParentRequest::Kind kind = ParentRequest::Kind::New;
  };
  struct VenueCounts {
    std::uint64_t fills = 0, rejects = 0;
    LatencyHistogram round_trip;  // a child sent to its first answer (ack or reject), market clock
  };

  void reply(std::uint64_t call, int status, const json& body);
  void error(std::uint64_t call, int status, const std::string& message);
  bool allowed(const gateway::ApiCall& call, gateway::ApiRole needed);

  void list_parents(const gateway::ApiCall& call);
  void get_parent(const gateway::ApiCall& call, ParentId id);
  void submit(const gateway::ApiCall& call);
  void submit_list(const gateway::ApiCall& call);
  // A list's answers, once each leg has its first: the call answered with them all.
  bool on_list_answer(const ParentAnswer& a);
  void amend(const gateway::ApiCall& call, ParentId id);
  void cancel(const gateway::ApiCall& call, ParentId id);
  void pause_or_resume(const gateway::ApiCall& call, ParentId id, bool pause);
  void list_children(const gateway::ApiCall& call);
  void list_fills(const gateway::ApiCall& call);
  void positions(const gateway::ApiCall& call);
  void balances(const gateway::ApiCall& call);
  void venues(const gateway::ApiCall& call);
  void risk(const gateway::ApiCall& call);
  void kill_switch(const gateway::ApiCall& call, bool engage);
  void parent_tca(const gateway::ApiCall& call, ParentId id);
  void parent_series(const gateway::ApiCall& call, ParentId id);
  // After an action outside an event: journal committed, answers and events told.
  void settle();

  json parent_json(const oms::ParentRecord& p) const;
  std::optional<json> event_json(std::uint64_t seq, TimestampNs ts_ns, const oms::RecordBody& body) const;
  static std::string key(const std::string& session, const std::string& cl_ord_id) {
    return session + '\n' + cl_ord_id;
  }

  Services s_;
  Outbox out_;
  std::map<std::string, Waiting> waiting_;  // session + '\n' + ClOrdID -> the call waiting for its answer
  struct ListWaiting {
    std::uint64_t call = 0;
    std::vector<std::string> legs;              // the legs' ClOrdIDs, in order
    std::map<std::string, ParentAnswer> first;  // each leg's first answer
  };
  std::map<std::string, ListWaiting> list_waiting_;  // session + '\n' + ListID -> the call waiting
  struct Appended {
    std::uint64_t seq;
    TimestampNs ts_ns;
    oms::RecordBody body;
  };
  oms::UntilDurable<Appended> appended_;  // journaled, not yet known durable
  std::map<std::string, VenueCounts> venues_;
  TcaTape tape_;
  TimestampNs progress_sampled_ns_ = 0;
  std::uint64_t api_actions_ = 0;
};

}  // namespace tranche::service
