#pragma once
// What the two FIX acceptors (fix_parent_acceptor.cpp of `tranche serve`, fix_exchange_acceptor.cpp of
// `tranche exchange`) share, written once: QuickFIX's SocketAcceptor with its settings, store and log, the
// registry of the sessions it made (by SessionID::toString()), sending a message on a session named so, and
// stopping. Each acceptor keeps only its messages: which fields it reads into its plain request and which it
// writes from its answer. Gateway-internal: QuickFIX's types are in it, so only gateway .cpp files include
// it.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/result.hpp"
#include "gateway/fix_session_settings.hpp"
#include "gateway/quickfix.hpp"

namespace tranche::gateway {

// The value of `tag` in `map`; empty when it is not there.
inline std::string field_or_empty(const FIX::FieldMap& map, int tag) {
  return map.isSetField(tag) ? map.getField(tag) : std::string();
}

// The kind of order request an application message is: a NewOrderSingle (D) is Kind::New, an
// OrderCancelRequest (F) Kind::Cancel, an OrderCancelReplaceRequest (G) Kind::Replace and an
// OrderStatusRequest (H) Kind::Status. Any other throws FIX::UnsupportedMessageType: QuickFIX answers it with
// a BusinessMessageReject and the session stays up.
template <class Kind>
Kind fix_order_request_kind(const FIX::Message& message) {
  const std::string type = field_or_empty(message.getHeader(), FIX::FIELD::MsgType);
  if (type == "D") return Kind::New;
  if (type == "F") return Kind::Cancel;
  if (type == "G") return Kind::Replace;
  if (type == "H") return Kind::Status;
  throw FIX::UnsupportedMessageType();
}

class FixAcceptorCore final : public FIX::Application {
 public:
  // Called on QuickFIX's thread; may throw what QuickFIX turns into a reject (FIX::UnsupportedMessageType,
  // FIX::RejectLogon).
  using Handler = std::function<void(const FIX::Message&, const FIX::SessionID&)>;

  // `from_app` takes every application message; `from_admin`, when set, every admin message (a Logon among
  // them).
  explicit FixAcceptorCore(Handler from_app, Handler from_admin = nullptr);
  FixAcceptorCore(const FixAcceptorCore&) = delete;
  FixAcceptorCore& operator=(const FixAcceptorCore&) = delete;

  // Listens on `port` (at the address set_fix_acceptor_address set) for `session`'s sessions, whose `end` it
  // sets. With a store_dir: QuickFIX's file store, the masked file log in <store_dir>/log, and the store
  // directory owner-only once the sessions' files are made; without: sequence numbers in memory and no log.
  // Fails with "FIX acceptor on <host>:<port>: " and what QuickFIX said.
  Status start(const std::string& host, int port, FixSessionOptions session);
  // From any thread. False when no session is named `session` or it is not logged on.
  bool send(const std::string& session, FIX::Message& message);
  // Logs every session out and stops listening; once.
  void stop();
  int logged_on() const { return logged_on_.load(); }

  void onCreate(const FIX::SessionID& id) override;
  void onLogon(const FIX::SessionID&) override { ++logged_on_; }
  void onLogout(const FIX::SessionID&) override { --logged_on_; }
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message& message, const FIX::SessionID&) override {
    gap_fill_stale_order_requests(message);
  }
  void fromAdmin(const FIX::Message& message, const FIX::SessionID& id) override;
  void fromApp(const FIX::Message& message, const FIX::SessionID& id) override;

 private:
  Handler from_app_;
  Handler from_admin_;
  std::unique_ptr<FIX::SessionSettings> settings_;
  std::unique_ptr<FIX::MessageStoreFactory> store_;
  std::unique_ptr<FIX::LogFactory> log_;
  std::unique_ptr<FIX::SocketAcceptor> acceptor_;
  std::mutex sessions_mutex_;
  std::map<std::string, FIX::SessionID> sessions_;  // by SessionID::toString()
  std::atomic<int> logged_on_{0};
  bool stopped_ = false;
};

}  // namespace tranche::gateway
