#pragma once
// The QuickFIX session settings of every FIX session Tranche runs: the parent acceptor of `tranche serve`,
// the venues' acceptor of `tranche exchange` and the initiator to a FIX venue. What they share is written
// once, here: FIX 4.4, always up (no session hours, no daily reset), the data dictionary enforced,
// user-defined fields checked against it, sequence numbers kept across a logout (and, by default, across
// reconnects and restarts), and stale order requests gap-filled rather than resent. What differs between them
// is a parameter.
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/time.hpp"
#include "gateway/quickfix.hpp"

namespace tranche::gateway {

// An acceptor listens on a port (on the address set by set_fix_acceptor_address); the client says how often
// it heartbeats.
struct FixAcceptorEnd {
  int port = 0;
};
// An initiator connects, heartbeats and reconnects.
struct FixInitiatorEnd {
  std::string host;
  int port = 0;
  DurationNs heartbeat_ns = 0;
  DurationNs reconnect_ns = 0;
};

struct FixCompIds {
  std::string ours;    // our SenderCompID
  std::string theirs;  // theirs (our TargetCompID)
};

struct FixSessionOptions {
  std::variant<FixAcceptorEnd, FixInitiatorEnd> end;
  std::string dictionary;  // a QuickFIX-format FIX 4.4 data dictionary
  // QuickFIX's file store in <store_dir>/store and its message log in <store_dir>/log; empty when the caller
  // keeps sequence numbers in memory and logs nothing.
  std::string store_dir;
  // Sequence numbers from 1 at every Logon; off: they continue, and a peer's ResendRequest is answered.
  bool reset_on_logon = false;
  std::vector<FixCompIds> sessions;
};

FIX::SessionID fix_session_id(const FixCompIds& ids);

// Throws what QuickFIX throws for a setting it refuses (the callers catch std::exception around starting).
std::unique_ptr<FIX::SessionSettings> make_fix_session_settings(const FixSessionOptions& options);

// Every session's toApp calls this. A message QuickFIX is about to resend to answer the peer's
// ResendRequest (PossDupFlag=Y) that is an order request (NewOrderSingle, OrderCancelRequest,
// OrderCancelReplaceRequest, OrderStatusRequest) is stale: this throws FIX::DoNotSend, and QuickFIX sends a
// SequenceReset-GapFill in its place. An order the venue never saw is never revived late; the OMS learns
// each order's fate by querying after the reconnect. ExecutionReports and cancel rejects are resent.
void gap_fill_stale_order_requests(const FIX::Message& message);

// Every session's message stores come from this wrapper around QuickFIX's (file or memory). QuickFIX 1.15 has
// no non-stop session: it resets a session whose store was created on an earlier day of the session's
// schedule (a Logout, the store emptied, sequence numbers from 1), even with StartTime equal to EndTime, so
// every session logged out at 00:00 UTC and lost its numbers (the soak found it, crossing midnight). A store
// made here says it was created now, so the session's day never ends; all else is the wrapped store's, and a
// reset still happens where one is asked for (ResetOnLogon, a peer's SequenceReset, a new store).
std::unique_ptr<FIX::MessageStoreFactory> make_always_up_stores(
    std::unique_ptr<FIX::MessageStoreFactory> stores);

// The message stores of every file-backed session: FixFileStore in <store_dir>/store, always up.
std::unique_ptr<FIX::MessageStoreFactory> make_fix_file_stores(const std::string& store_dir);

// Whether QuickFIX's file store under `store_dir` holds a session's history (its .seqnums file): a store
// without one starts its sessions with a reset, so a new journal never logs on with numbers a peer left
// behind.
bool fix_store_has_history(const std::string& store_dir);

}  // namespace tranche::gateway
