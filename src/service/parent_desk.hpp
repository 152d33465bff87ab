#pragma once
// The front desk of `tranche serve`: a client's requests about parent orders (ParentRequest, as the FIX
// acceptor read them) checked and handed to the kernel (ems/kernel.hpp) as typed values, and what the
// kernel did told back as ParentAnswers. It keeps each parent's client identity (session, ClOrdID chain,
// account) and nothing of the execution: the kernel runs the parents, the OMS decides their states. Answers
// wait until the journal has committed what they say.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/parent_messages.hpp"
#include "ems/kernel.hpp"
#include "oms/journal.hpp"
#include "oms/order_manager.hpp"
#include "oms/until_durable.hpp"

namespace tranche::service {

class ParentDesk final : public ems::KernelObserver {
 public:
  using AnswerFn = std::function<void(const ParentAnswer&)>;
  // `exec_id_prefix` keeps execution ids unique across restarts (the server passes its start time).
  ParentDesk(const Config& config, ems::Kernel& kernel, oms::OrderManager& manager, AnswerFn answer,
             std::string exec_id_prefix, std::function<TimestampNs()> clock);

  // A client's request, its times already on the market's clock. Answered through AnswerFn, always.
  void on_request(const ParentRequest& request);
  // After a restart: each working parent's client identity, from the journal (the kernel recovers the
  // parents themselves).
  Status recover(const oms::Journal& journal);
  // From SIGTERM on: new parents and replaces are refused; status requests and cancels are still answered.
  void set_stopping() { stopping_ = true; }

  // A parent's client identity, while the desk holds it (the OMS holds the parent): the session it came on
  // and the latest ClOrdID of its chain.
  struct Identity {
    std::string session;
    std::string cl_ord_id;
  };
  std::optional<Identity> identity(ParentId parent) const;
  // The parent a session's ClOrdID (any of its chain) names, while the desk holds it.
  std::optional<ParentId> parent_of(const std::string& session, const std::string& cl_ord_id) const;

  // --- ems::KernelObserver ---
  void on_child_report(ParentId parent, const ExecutionReport& report, bool fresh_fill,
                       double fill_base) override;
  void on_parent_ended(ParentId parent, TimestampNs now_ns) override;
  void after_commit(TimestampNs now_ns) override;

 private:
  // The clock the desk's times are on, as its answers name it: the replay's, or the wall's for a live market.
  const char* clock_name() const {
    return config_.server.market == "replay" ? " (replay clock)"
                                             : " (wall clock)";  // live and paper: the wall
  }
  struct Client {
    std::string session;
    std::string cl_ord_id;         // the latest in its chain (a replace moves it on)
    std::string cancel_cl_ord_id;  // the ClOrdID of the client's cancel, while it waits for the end
    std::string account;           // as the client sent it (echoed back; empty when it sent none)
    ParentId id;
    InstrumentId instrument;
    Side side = Side::Buy;
    Qty reported_cum;  // what the client has been told was executed
    bool ended = false;
    std::vector<std::string> keys;  // its entries in by_cl_ord_id_
    std::string list_id;            // the NewOrderList it came in (ListID); empty: none
  };
  // A parent the OMS forgot, as the journal has it: the status of one of its ClOrdIDs.
  void status_from_journal(const ParentRequest& r);
  // Ended parents the OMS has forgotten leave the desk too (looked at whenever it has forgotten more).
  void release_forgotten();
  Client& keep(std::unique_ptr<Client> c);
  void index(Client& c, const std::string& cl_ord_id);

  void on_new(const ParentRequest& r);
  void on_new_list(const ParentRequest& r);
  // The parent a New asks for, every field checked; false with the reject's reason and text.
  bool order_from(const ParentRequest& r, oms::ParentOrder& parent, int& reason, std::string& text) const;
  // An accepted parent kept (its ClOrdID indexed) and the client told.
  void keep_accepted(const ParentRequest& r, const oms::ParentOrder& parent, const std::string& list_id);
  void on_cancel(const ParentRequest& r);
  void on_replace(const ParentRequest& r);
  void on_status(const ParentRequest& r);
  ParentAnswer without_parent(const ParentRequest& r, char exec_type, const std::string& text) const;
  // `list_id`: the NewOrderList the order came in, echoed (empty: none).
  void reject_new(const ParentRequest& r, int reason, const std::string& text,
                  const std::string& list_id = {});
  void cancel_reject(const ParentRequest& r, char response_to, int reason, const std::string& text,
                     const Client* c);
  ParentAnswer answer_for(const Client& c, char exec_type) const;
  ParentAnswer answer_for(const Client& c, const oms::ParentRecord* p, char exec_type) const;
  Client* find(const std::string& session, const std::string& cl_ord_id);
  Client* find(ParentId id);
  void check(const Status& s);
  std::string next_exec_id() const;
  // Held until the journal holds, durable, every record made before it (its last seq now).
  void answer(const ParentAnswer& a) { pending_.hold(manager_.journal().last_seq(), a); }

  const Config& config_;
  ems::Kernel& kernel_;
  oms::OrderManager& manager_;
  AnswerFn deliver_;
  std::string exec_id_prefix_;
  std::function<TimestampNs()> clock_;
  mutable std::uint64_t exec_seq_ = 0;
  oms::UntilDurable<ParentAnswer> pending_;  // told once the journal has made durable what they say
  std::map<std::uint64_t, std::unique_ptr<Client>> clients_;  // by parent id, while the OMS holds it
  std::map<std::string, std::uint64_t>
      by_cl_ord_id_;                  // session + '\n' + ClOrdID (every id of a chain) -> parent
  std::vector<std::uint64_t> ended_;  // ended parents still in memory
  std::uint64_t forgotten_seen_ = 0;  // the OMS's count of forgotten parents at the last look
  bool stopping_ = false;
};

}  // namespace tranche::service
