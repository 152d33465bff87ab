#pragma once
// The FIX 4.4 acceptor of `tranche exchange`: every venue of the simulator is a CompID, and every configured
// client may log on to each (docs/gateways.md). It only reads and writes the wire: a NewOrderSingle,
// OrderCancelRequest, OrderCancelReplaceRequest or OrderStatusRequest becomes an ExchangeRequest handed to
// the exchange (on QuickFIX's thread: the sink must only queue it); the exchange's ExchangeReports go back as
// ExecutionReports or OrderCancelRejects. Whether an order is good and what it did are the exchange's to say.
// QuickFIX's own types stay inside the gateway (fix_exchange_acceptor.cpp, fix_acceptor_core.*).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/fixed_point.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace tranche::gateway {

// A client's request to a venue, as it came: values as the client wrote them.
struct ExchangeRequest {
  enum class Kind : std::uint8_t { New, Cancel, Replace, Status };
  Kind kind = Kind::New;
  std::string session;  // the FIX session it came on: the answers go back there
  std::string venue;    // our CompID on that session: the venue id
  std::string cl_ord_id, orig_cl_ord_id, symbol;
  std::string side;      // 54: "1" buy, "2" sell
  std::string ord_type;  // 40: "1" market, "2" limit
  std::string qty, price;
  std::string time_in_force;  // 59
  std::string exec_inst;      // 18: "6" is post-only
};

// What goes back: an ExecutionReport (35=8) or, with cancel_reject set, an OrderCancelReject (35=9).
struct ExchangeReport {
  std::string session;
  bool cancel_reject = false;
  std::string order_id;                    // 37: the venue's id; "NONE" when empty
  std::string cl_ord_id;                   // 11; "NONE" when empty
  std::string orig_cl_ord_id;              // 41 when set; always on an OrderCancelReject ("NONE" when empty)
  char ord_status = '0';                   // 39
  std::optional<TimestampNs> transact_ns;  // 60: wall clock
  std::string text;                        // 58 when set
  // An OrderCancelReject's
  char cxl_rej_response_to = '1';  // 434: '1' cancel, '2' replace
  int cxl_rej_reason = 99;         // 102
  // An ExecutionReport's
  std::string exec_id;           // 17
  char exec_type = '0';          // 150
  std::string symbol;            // 55: the venue's symbol; "[N/A]" when empty
  char side = '1';               // 54
  Qty order_qty = Qty::unset();  // 38 when set
  Price price = Price::unset();  // 44 when set
  Qty cum_qty, leaves_qty;       // 14, 151
  std::optional<double> avg_px;  // 6; 0 when there is none
  struct Fill {
    Qty last_qty;                  // 32
    Price last_px;                 // 31
    bool maker = false;            // 851: '1' added liquidity, '2' removed it
    Qty commission;                // 12, absolute (13=3); negative is a rebate
    std::string commission_asset;  // 479 when set
  };
  std::optional<Fill> fill;
  int ord_rej_reason = -1;  // 103 when not negative
};

struct FixExchangeAcceptorOptions {
  ExchangeConfig config;            // where it listens, and the clients' CompIDs
  std::vector<std::string> venues;  // our CompIDs: one per venue
  std::string dictionary;           // the QuickFIX-format data dictionary
};

class FixExchangeAcceptor {
 public:
  using Sink = std::function<void(ExchangeRequest)>;
  // Starts listening (QuickFIX's own thread); fails with the reason when the address is not one, the port is
  // taken or the dictionary is unreadable.
  static Result<std::unique_ptr<FixExchangeAcceptor>> start(const FixExchangeAcceptorOptions& options,
                                                            Sink sink);
  ~FixExchangeAcceptor();
  FixExchangeAcceptor(const FixExchangeAcceptor&) = delete;
  FixExchangeAcceptor& operator=(const FixExchangeAcceptor&) = delete;

  // From any thread. False when the session is unknown or not logged on.
  bool send(const ExchangeReport& report);
  // Logs every session out and stops listening.
  void stop();

 private:
  struct Impl;
  explicit FixExchangeAcceptor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tranche::gateway
