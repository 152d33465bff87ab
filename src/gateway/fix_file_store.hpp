#pragma once
// A FIX session's message store on disk that keeps nothing per message in memory. QuickFIX 1.15's FileStore
// keeps a map entry (about 64 bytes) for every message the session ever sent, from every file it reopens too,
// so a server that runs for weeks grows with its traffic (the soak measured it) and a restart reads the whole
// history into memory. This store writes the same four files in the same formats (<session>.body, .header,
// .seqnums, .session: a store QuickFIX wrote is read here, and the other way round) and, to answer a
// ResendRequest, reads the header file back from a sparse index: one point every kIndexStride messages.
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "gateway/quickfix.hpp"

namespace tranche::gateway {

class FixFileStore final : public FIX::MessageStore {
 public:
  // One point of the sparse index per this many messages (16 bytes per 4,096 messages sent).
  static constexpr long kIndexStride = 4096;

  // Throws FIX::ConfigError when the files cannot be opened or made.
  FixFileStore(const std::string& directory, const FIX::SessionID& id);
  ~FixFileStore() override;
  FixFileStore(const FixFileStore&) = delete;
  FixFileStore& operator=(const FixFileStore&) = delete;

  bool set(int seq, const std::string& message) override;
  // The messages numbered begin..end that are stored, in order; the last stored under a number wins.
  void get(int begin, int end, std::vector<std::string>& messages) const override;
  int getNextSenderMsgSeqNum() const override { return next_sender_; }
  int getNextTargetMsgSeqNum() const override { return next_target_; }
  void setNextSenderMsgSeqNum(int seq) override;
  void setNextTargetMsgSeqNum(int seq) override;
  void incrNextSenderMsgSeqNum() override;
  void incrNextTargetMsgSeqNum() override;
  FIX::UtcTimeStamp getCreationTime() const override { return created_; }
  void reset() override;
  void refresh() override;

  // What the store holds in memory beside its numbers: the sparse index's points.
  std::size_t index_points() const { return index_.size(); }

 private:
  struct IndexPoint {
    int seq;
    long header_offset;  // where that message's line starts in the header file
  };
  void open(bool remove_files);
  void reopen(bool remove_files);  // open, failing as QuickFIX expects of a reset or refresh
  void close_files();
  void read_back();  // numbers, creation time and the sparse index, from the files
  void note_header_entry(int seq, long header_offset);
  void write_seqnums();
  void write_creation_time();

  std::string body_path_, header_path_, seqnums_path_, session_path_;
  std::FILE* body_ = nullptr;
  std::FILE* header_ = nullptr;
  std::FILE* seqnums_ = nullptr;
  std::FILE* session_ = nullptr;
  int next_sender_ = 1;
  int next_target_ = 1;
  FIX::UtcTimeStamp created_;
  std::vector<IndexPoint> index_;
  long entries_ = 0;  // lines in the header file
  int last_seq_ = 0;
  // The index holds while the numbers rise line by line (they do, between resets); once a number is stored
  // again or out of order, a resend reads the header from its start.
  bool rising_ = true;
};

// QuickFIX's store factory for FixFileStore: every session's files in `directory`.
class FixFileStoreFactory final : public FIX::MessageStoreFactory {
 public:
  explicit FixFileStoreFactory(std::string directory) : directory_(std::move(directory)) {}
  FIX::MessageStore* create(const FIX::SessionID& id) override { return new FixFileStore(directory_, id); }
  void destroy(FIX::MessageStore* store) override { delete store; }

 private:
  std::string directory_;
};

}  // namespace tranche::gateway
