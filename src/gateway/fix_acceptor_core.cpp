#include "gateway/fix_acceptor_core.hpp"

#include <exception>
#include <utility>

#include "gateway/fix_log.hpp"

namespace tranche::gateway {

FixAcceptorCore::FixAcceptorCore(Handler from_app, Handler from_admin)
    : from_app_(std::move(from_app)), from_admin_(std::move(from_admin)) {}

Status FixAcceptorCore::start(const std::string& host, int port, FixSessionOptions session) {
  try {
    session.end = FixAcceptorEnd{port};
    settings_ = make_fix_session_settings(session);
    if (session.store_dir.empty()) {
      store_ = make_always_up_stores(std::make_unique<FIX::MemoryStoreFactory>());
      log_ = std::make_unique<FIX::ScreenLogFactory>(false, false, false);
    } else {
      store_ = make_fix_file_stores(session.store_dir);
      log_ = make_masked_file_log_factory(session.store_dir + "/log");
    }
    acceptor_ = std::make_unique<FIX::SocketAcceptor>(*this, *store_, *settings_, *log_);
    acceptor_->start();
    // The store and the log hold the sessions' messages: the owner's alone (QuickFIX made a store each).
    if (!session.store_dir.empty()) restrict_to_owner(session.store_dir);
  } catch (const std::exception& e) {
    return make_error("FIX acceptor on " + host + ":" + std::to_string(port) + ": " + e.what());
  }
  return Status::success();
}

bool FixAcceptorCore::send(const std::string& session, FIX::Message& message) {
  FIX::SessionID id;
  {
    std::lock_guard lock(sessions_mutex_);
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return false;
    id = it->second;
  }
  try {
    return FIX::Session::sendToTarget(message, id);
  } catch (const FIX::SessionNotFound&) {
    return false;
  }
}

void FixAcceptorCore::stop() {
  if (stopped_ || !acceptor_) return;
  stopped_ = true;
  acceptor_->stop();
}

void FixAcceptorCore::onCreate(const FIX::SessionID& id) {
  std::lock_guard lock(sessions_mutex_);
  sessions_[id.toString()] = id;
}

void FixAcceptorCore::fromAdmin(const FIX::Message& message, const FIX::SessionID& id) {
  if (from_admin_) from_admin_(message, id);
}

void FixAcceptorCore::fromApp(const FIX::Message& message, const FIX::SessionID& id) {
  from_app_(message, id);
}

}  // namespace tranche::gateway
