#pragma once
// The QuickFIX session settings of every FIX session Tranche runs: the parent acceptor of `tranche serve`,
// the venues' acceptor of `tranche exchange` and the initiator to a FIX venue. What they share is written
// once, here: FIX 4.4, always up (no session hours), the data dictionary enforced, user-defined fields
// checked against it, sequence numbers kept across a logout. What differs between them is a parameter.
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
  bool reset_on_logon = true;
  bool reset_on_disconnect = false;
  std::vector<FixCompIds> sessions;
};

FIX::SessionID fix_session_id(const FixCompIds& ids);

// Throws what QuickFIX throws for a setting it refuses (the callers catch std::exception around starting).
std::unique_ptr<FIX::SessionSettings> make_fix_session_settings(const FixSessionOptions& options);

}  // namespace tranche::gateway
