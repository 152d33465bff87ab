#include "gateway/fix_session_settings.hpp"

#include <filesystem>

#include "gateway/fix_file_store.hpp"

namespace tranche::gateway {
namespace {
// Where a session keeps its messages and numbers, under the folder its owner names.
std::string store_directory(const std::string& store_dir) {
  return store_dir + "/store";
}
}  // namespace

FIX::SessionID fix_session_id(const FixCompIds& ids) {
  return FIX::SessionID("FIX.4.4", ids.ours, ids.theirs);
}

std::unique_ptr<FIX::SessionSettings> make_fix_session_settings(const FixSessionOptions& options) {
  FIX::Dictionary d;
  if (const auto* acceptor = std::get_if<FixAcceptorEnd>(&options.end)) {
    d.setString("ConnectionType", "acceptor");
    d.setInt("SocketAcceptPort", acceptor->port);
    d.setBool("SocketReuseAddress", true);  // a restarted server listens again at once
  } else {
    const auto& initiator = std::get<FixInitiatorEnd>(options.end);
    d.setString("ConnectionType", "initiator");
    d.setString("SocketConnectHost", initiator.host);
    d.setInt("SocketConnectPort", initiator.port);
    d.setInt("HeartBtInt", static_cast<int>(initiator.heartbeat_ns / kNanosPerSecond));
    d.setInt("ReconnectInterval", static_cast<int>(initiator.reconnect_ns / kNanosPerSecond));
  }
  d.setBool("SocketNodelay", true);
  d.setString("StartTime", "00:00:00");
  d.setString("EndTime", "00:00:00");
  d.setBool("UseDataDictionary", true);
  d.setString("DataDictionary", options.dictionary);
  if (!options.store_dir.empty()) {
    d.setString("FileStorePath", store_directory(options.store_dir));
    d.setString("FileLogPath", options.store_dir + "/log");
  }
  d.setBool("ResetOnLogon", options.reset_on_logon);
  d.setBool("ResetOnLogout", false);
  d.setBool("ResetOnDisconnect", false);
  // Messages are stored so that a peer's ResendRequest is answered with them (or gap-filled, see
  // gap_fill_stale_order_requests), never with a blanket reset.
  d.setBool("PersistMessages", true);
  // A user-defined field that comes in (7001 TrancheAlgo) must be one the dictionary declares.
  d.setBool("ValidateUserDefinedFields", true);
  auto settings = std::make_unique<FIX::SessionSettings>();
  settings->set(d);
  for (const auto& ids : options.sessions) settings->set(fix_session_id(ids), FIX::Dictionary());
  return settings;
}

void gap_fill_stale_order_requests(const FIX::Message& message) {
  const FIX::Header& header = message.getHeader();
  if (!header.isSetField(FIX::FIELD::PossDupFlag) || header.getField(FIX::FIELD::PossDupFlag) != "Y") return;
  const std::string type = header.getField(FIX::FIELD::MsgType);
  if (type == "D" || type == "F" || type == "G" || type == "H") throw FIX::DoNotSend();
}

namespace {
class AlwaysUpStore final : public FIX::MessageStore {
 public:
  explicit AlwaysUpStore(FIX::MessageStore* store) : store_(store) {}
  bool set(int seq, const std::string& message) override { return store_->set(seq, message); }
  void get(int begin, int end, std::vector<std::string>& messages) const override {
    store_->get(begin, end, messages);
  }
  int getNextSenderMsgSeqNum() const override { return store_->getNextSenderMsgSeqNum(); }
  int getNextTargetMsgSeqNum() const override { return store_->getNextTargetMsgSeqNum(); }
  void setNextSenderMsgSeqNum(int seq) override { store_->setNextSenderMsgSeqNum(seq); }
  void setNextTargetMsgSeqNum(int seq) override { store_->setNextTargetMsgSeqNum(seq); }
  void incrNextSenderMsgSeqNum() override { store_->incrNextSenderMsgSeqNum(); }
  void incrNextTargetMsgSeqNum() override { store_->incrNextTargetMsgSeqNum(); }
  // The only change: the session's check of its day compares this with now.
  FIX::UtcTimeStamp getCreationTime() const override { return FIX::UtcTimeStamp(); }
  void reset() override { store_->reset(); }
  void refresh() override { store_->refresh(); }
  FIX::MessageStore* wrapped() const { return store_; }

 private:
  FIX::MessageStore* store_;
};

class AlwaysUpStores final : public FIX::MessageStoreFactory {
 public:
  explicit AlwaysUpStores(std::unique_ptr<FIX::MessageStoreFactory> stores) : stores_(std::move(stores)) {}
  FIX::MessageStore* create(const FIX::SessionID& id) override {
    FIX::MessageStore* store = stores_->create(id);
    try {
      return new AlwaysUpStore(store);
    } catch (...) {
      stores_->destroy(store);
      throw;
    }
  }
  void destroy(FIX::MessageStore* store) override {
    auto* up = static_cast<AlwaysUpStore*>(store);
    stores_->destroy(up->wrapped());
    delete up;
  }

 private:
  std::unique_ptr<FIX::MessageStoreFactory> stores_;
};
}  // namespace

std::unique_ptr<FIX::MessageStoreFactory> make_always_up_stores(
    std::unique_ptr<FIX::MessageStoreFactory> stores) {
  return std::make_unique<AlwaysUpStores>(std::move(stores));
}

std::unique_ptr<FIX::MessageStoreFactory> make_fix_file_stores(const std::string& store_dir) {
  return make_always_up_stores(std::make_unique<FixFileStoreFactory>(store_directory(store_dir)));
}

bool fix_store_has_history(const std::string& store_dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(store_directory(store_dir), ec))
    if (entry.path().extension() == ".seqnums") return true;
  return false;
}

}  // namespace tranche::gateway
