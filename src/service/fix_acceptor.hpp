#pragma once
// The FIX 4.4 acceptor `tranche serve` takes parent orders on (QuickFIX underneath, docs/fix.md). It only
// reads and writes the wire: a NewOrderSingle, OrderCancelRequest, OrderCancelReplaceRequest or
// OrderStatusRequest becomes a ParentRequest handed to the server's kernel (on QuickFIX's thread: the sink
// must only queue it); the kernel's ParentAnswers go back as ExecutionReports or OrderCancelRejects. Nothing
// here decides whether an order is good: a parent the kernel refuses is an ExecutionReport with ExecType 8,
// never a session-level reject. QuickFIX's own types stay inside fix_acceptor.cpp.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "core/fixed_point.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "gateway/fix_time.hpp"

namespace tranche::service {

// A client's request about a parent, as it came. Values are kept as the client wrote them; the kernel checks
// them and answers for each.
struct ParentRequest {
  enum class Kind : std::uint8_t { New, Cancel, Replace, Status };
  Kind kind = Kind::New;
  std::string session;  // the FIX session it came on; its answers go back there
  std::string cl_ord_id, orig_cl_ord_id;
  std::string account;
  std::string symbol;  // Tranche's instrument id, "ETH-USDT"
  char side = 0;       // '1' buy, '2' sell
  char ord_type = 0;   // '1' market, '2' limit; 0 when absent
  std::string qty, price;
  std::string target_strategy;     // 847 as sent
  std::string algo;                // 7001 TrancheAlgo
  std::string strategy_params;     // 848 TargetStrategyParameters, "key=value;key=value"
  std::string participation_rate;  // 849
  // ExpireTime (126) and EffectiveTime (168): wall clock from the wire; the server maps them onto the
  // replay clock before the kernel sees them.
  std::optional<TimestampNs> expire_ns, effective_ns;
  std::string problem;  // a field present but unreadable (a timestamp that is not one)
};

// What goes back: an ExecutionReport (35=8) or, with cancel_reject set, an OrderCancelReject (35=9).
struct ParentAnswer {
  std::string session;
  bool cancel_reject = false;
  char exec_type = '0';   // 150
  char ord_status = '0';  // 39
  std::string order_id;   // 37: the parent's id
  std::string exec_id;    // 17
  std::string cl_ord_id, orig_cl_ord_id;
  std::string account, symbol;
  char side = '1';
  Qty order_qty = Qty::unset(), cum_qty, leaves_qty, last_qty = Qty::unset();
  Price limit = Price::unset(), avg_px = Price::unset(), last_px = Price::unset();
  std::string last_mkt;            // 30: the venue of a fill
  std::string text;                // 58
  int ord_rej_reason = -1;         // 103, on ExecType 8
  char cxl_rej_response_to = '1';  // 434: '1' cancel, '2' replace
  int cxl_rej_reason = -1;         // 102
  TimestampNs transact_ns = 0;     // 60: wall clock (the server maps the replay clock onto it)
};

struct FixAcceptorOptions {
  FixAcceptorConfig config;
  std::string dictionary;  // the QuickFIX-format data dictionary
  std::string store_dir;   // QuickFIX's sequence-number store and message log
  bool reset_on_logon = true;
};

class FixParentAcceptor {
 public:
  using Sink = std::function<void(ParentRequest)>;
  // Starts listening (QuickFIX's own thread); fails with the reason when the port is taken or the
  // dictionary is unreadable.
  static Result<std::unique_ptr<FixParentAcceptor>> start(const FixAcceptorOptions& options, Sink sink);
  ~FixParentAcceptor();
  FixParentAcceptor(const FixParentAcceptor&) = delete;
  FixParentAcceptor& operator=(const FixParentAcceptor&) = delete;

  // From any thread. False when the session is unknown or not logged on (QuickFIX then keeps the message in
  // its store for a resend when the store allows it).
  bool send(const ParentAnswer& answer);
  // Logs every session out and stops listening.
  void stop();
  int logged_on() const;

 private:
  struct Impl;
  explicit FixParentAcceptor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

using gateway::format_fix_timestamp;
using gateway::parse_fix_timestamp;

}  // namespace tranche::service
