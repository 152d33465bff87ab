#pragma once
// The FIX 4.4 acceptor `tranche serve` takes parent orders on (QuickFIX underneath, docs/fix.md). It only
// reads and writes the wire: a NewOrderSingle, OrderCancelRequest, OrderCancelReplaceRequest or
// OrderStatusRequest becomes a ParentRequest handed to the server's kernel (on QuickFIX's thread: the sink
// must only queue it); the kernel's ParentAnswers go back as ExecutionReports or OrderCancelRejects. Nothing
// here decides whether an order is good: a parent the kernel refuses is an ExecutionReport with ExecType 8,
// never a session-level reject. QuickFIX's own types stay inside the gateway (fix_parent_acceptor.cpp,
// fix_acceptor_core.*): the service and its kernel see only the plain ParentRequest and ParentAnswer
// (core/parent_messages.hpp).
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "core/parent_messages.hpp"
#include "core/result.hpp"

namespace tranche::gateway {

struct FixAcceptorOptions {
  FixAcceptorConfig config;
  std::string dictionary;  // the QuickFIX-format data dictionary
  std::string store_dir;   // QuickFIX's sequence-number store and message log
  // From [server.fix] reset_on_logon: false keeps sequence numbers across reconnects and restarts, so a
  // client that was away asks for what it missed and is resent it.
  bool reset_on_logon = false;
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

// One raw FIX message read as the acceptor's session reads it, without a socket: QuickFIX's parser and the
// dictionary's checks (the acceptor's settings), then the same mapping into a ParentRequest. What faces a
// client is exercised through it by the fuzz target and its tests.
class FixParentReader {
 public:
  // Fails naming the dictionary when it is missing or unreadable.
  static Result<std::unique_ptr<FixParentReader>> open(const std::string& dictionary_path);
  ~FixParentReader();
  FixParentReader(const FixParentReader&) = delete;
  FixParentReader& operator=(const FixParentReader&) = delete;

  // The request a well-formed order message makes; an error saying what QuickFIX refused (a bad checksum,
  // a field the message may not carry, an unsupported message type) otherwise.
  Result<ParentRequest> read(std::string_view raw, const std::string& session) const;

 private:
  struct Dictionary;
  explicit FixParentReader(std::unique_ptr<Dictionary> dictionary);
  std::unique_ptr<Dictionary> dictionary_;
};

}  // namespace tranche::gateway
