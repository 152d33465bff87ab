#pragma once
// The kernel of `tranche serve`: many parents at once, each worked by its algo through one placer per
// instrument, the risk gate and the journaled OMS, against the venues the simulator plays. Requests come in
// as ParentRequests (from the FIX acceptor, or a test); what happens to each parent goes out as
// ParentAnswers. It runs on one thread, on the replay clock: every call carries the time, nothing here reads
// a clock (docs/serve.md).
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/parent_messages.hpp"
#include "ems/parent_execution.hpp"
#include "ems/placer.hpp"
#include "oms/order_manager.hpp"
#include "risk/risk_gate.hpp"
#include "sim/simulator.hpp"

namespace tranche::service {

class ServeKernel final : public sim::SimListener {
 public:
  using AnswerFn = std::function<void(const ParentAnswer&)>;
  // `exec_id_prefix` keeps execution ids unique across restarts (the server passes its start time).
  ServeKernel(const Config& config, sim::Simulator& sim, oms::OrderManager& manager, risk::RiskGate& gate,
              AnswerFn answer, std::string exec_id_prefix);

  // A client's request, its times already on the replay clock. Answered through AnswerFn, always.
  void on_request(const ParentRequest& request);

  // After a restart: the parents the journal left working are taken up again where they stood (their FIX
  // identity and their algo's state are in the journal), once the OMS has reconciled their children.
  Status recover(const oms::Journal& journal);
  // The simulated venues live in this process: after a restart they are new, and the children a dead
  // process left resting on them are gone. Each is closed as the venue's cancel (journaled), before the
  // OMS reconciles what is left. Returns how many. (A venue that outlives the EMS is reconciled instead.)
  std::size_t close_children_of_restarted_venues(const std::set<std::string>& outliving = {});

  // The recorded data ended: the venues are closed, working parents end with what they executed and say so.
  void data_ended(TimestampNs now_ns);
  bool market_closed() const { return market_closed_; }
  // The data replayed again (on_data_end = "replay"): a new simulator plays the venues, and the market is
  // open.
  void reopen(sim::Simulator& sim);
  // SIGTERM with on_shutdown = "cancel": every working parent is canceled (the caller runs the simulator
  // until they have ended).
  void cancel_all(TimestampNs now_ns, const std::string& why);
  // From SIGTERM on: new parents and replaces are refused (the server is stopping); status requests and
  // cancels are still answered.
  void set_stopping() { stopping_ = true; }
  std::size_t working() const;  // parents not yet ended
  // The first error that stops the kernel from going on safely (a journal that cannot commit).
  const Status& error() const { return error_; }

  // --- sim::SimListener ---
  void on_market_data(const sim::MarketDataRef& ref, const md::Event& event) override;
  void on_execution_report(const ExecutionReport& report) override;
  void on_venue_status(const VenueStatusReport& status) override;
  void on_timer(std::uint64_t id, TimestampNs now_ns) override;

 private:
  struct Served {
    std::string session;
    std::string cl_ord_id;         // the latest in its chain (a replace moves it on)
    std::string cancel_cl_ord_id;  // the ClOrdID of the client's cancel, while it waits for the end
    std::string account;           // as the client sent it (echoed back; empty when it sent none)
    ParentId id;
    InstrumentId instrument;
    Side side = Side::Buy;
    std::unique_ptr<ems::ParentExecution> exec;
    bool started = false;     // the algo has been started (or resumed after a restart)
    std::string saved_state;  // after a restart: the algo's journaled state to resume from
    bool canceling = false;   // a cancel (the client's, or the server's at shutdown) is under way
    std::string cancel_reason;
    bool market_closed = false;  // the data ended: it ends once its children are closed (or at a deadline)
    bool ended = false;
    // Open children to cancel, retried every 100 ms: the risk gate's cancel budget may refuse some.
    bool sweep = false;
    TimestampNs next_sweep_ns = 0;
    std::set<std::uint64_t> orphans;  // children a dead process left, canceled at the restart
    Qty reported_cum;                 // what the client has been told was executed
  };
  struct InstrumentState {
    std::unique_ptr<ems::Placer> placer;
    std::vector<ems::VenueView> views;
    TimestampNs views_full_ns = 0;
    std::deque<std::pair<TimestampNs, double>> prints, mids;  // recent history, for the algos' starts
  };

  void on_new(const ParentRequest& r);
  void on_cancel(const ParentRequest& r);
  void on_replace(const ParentRequest& r);
  void on_status(const ParentRequest& r);
  void start_algo(Served& s);
  ParentAnswer without_parent(const ParentRequest& r, char exec_type, const std::string& text) const;
  void reject_new(const ParentRequest& r, int reason, const std::string& text);
  void cancel_reject(const ParentRequest& r, char response_to, int reason, const std::string& text,
                     const Served* s);
  ParentAnswer answer_for(const Served& s, char exec_type) const;
  void report_fills(Served& s, const ExecutionReport& report);
  void maybe_finish(Served& s);
  void sweep_cancels(Served& s);
  void begin_cancel(Served& s, const std::string& why);
  void finish(Served& s, oms::ParentState state, const std::string& text);
  void after_event();
  Served* find(const std::string& session, const std::string& cl_ord_id);
  ems::AlgoMarket market_now(const InstrumentId& instrument, int changed_venue = -1);
  std::vector<ems::VenueView> views(const InstrumentId& instrument, int only_venue = -1) const;
  InstrumentState& state_of(const InstrumentId& instrument);
  void record_mid(InstrumentState& st, const InstrumentId& instrument, TimestampNs now_ns);
  void check(const Status& s);
  TimestampNs now() const { return sim_->now(); }
  std::string next_exec_id() const;

  const Config& config_;
  sim::Simulator* sim_;  // replaced by reopen() when the data is replayed again
  oms::OrderManager& manager_;
  risk::RiskGate& gate_;
  AnswerFn deliver_;
  // Answers wait here until the journal has committed what they say (a client never hears of a fill, an
  // accept or a cancel that a crash could take back); after_event() delivers them after its flush.
  std::vector<ParentAnswer> pending_answers_;
  void answer_(const ParentAnswer& a) { pending_answers_.push_back(a); }
  std::string exec_id_prefix_;
  mutable std::uint64_t exec_seq_ = 0;
  std::vector<std::unique_ptr<Served>> served_;         // by slot, every parent served
  std::vector<std::size_t> active_;                     // the slots of parents not yet ended
  std::map<std::string, std::size_t> by_cl_ord_id_;     // session + '\n' + ClOrdID, every id of a chain
  std::map<std::uint64_t, std::size_t> by_parent_;      // parent id -> slot
  std::map<std::string, InstrumentState> instruments_;  // by instrument id
  std::map<std::string, TimestampNs> avoid_until_;      // venues that rejected us, until then
  std::set<std::string> seen_exec_;                     // venue/exec id: a repeated fill is one fill
  bool market_closed_ = false;
  bool stopping_ = false;
  Status error_;
};

}  // namespace tranche::service
