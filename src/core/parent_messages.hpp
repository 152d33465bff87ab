#pragma once
// What a front end and the kernel of `tranche serve` say to each other about parent orders, in plain types: a
// client's request, and each answer to it. The FIX acceptor (gateway/fix_parent_acceptor.hpp) reads them off
// and writes them onto the wire; another front end would speak the same two types, and the kernel would not
// know the difference. The field comments name the FIX tag each field travels in over FIX.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/fixed_point.hpp"
#include "core/time.hpp"

namespace tranche {

// A client's request about a parent, as it came. Values are kept as the client wrote them; the kernel checks
// them and answers for each.
struct ParentRequest {
  // NewList: a NewOrderList (35=E), its orders in `orders` (each a New), worked as one list.
  enum class Kind : std::uint8_t { New, Cancel, Replace, Status, NewList };
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
  // A NewOrderList's: ListID (66), TotNoOrders (68), AllowableOneSidednessPct (765, a pair's maximum leg
  // imbalance in percent), AllowableOneSidednessValue (766, a basket's cash-balance limit in the quote), and
  // its orders (the NoOrders group, 73).
  std::string list_id, tot_no_orders, one_sided_pct, one_sided_value;
  std::vector<ParentRequest> orders;
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
  std::string list_id;             // 66: a list's leg
  std::string text;                // 58
  int ord_rej_reason = -1;         // 103, on ExecType 8
  char cxl_rej_response_to = '1';  // 434: '1' cancel, '2' replace
  int cxl_rej_reason = -1;         // 102
  TimestampNs transact_ns = 0;     // 60: wall clock (the server maps the replay clock onto it)
};

}  // namespace tranche
