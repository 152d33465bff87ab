// The FIX message store that keeps nothing per message in memory (fix_file_store.hpp), held to QuickFIX's own
// FileStore as the oracle: the same files read back the same by either.
#include "gateway/fix_file_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tranche::gateway {
namespace {

class FixFileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("tranche_fix_file_store_" + std::to_string(::getpid()) + "_" + test->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::string message(int seq) {
    return "8=FIX.4.4|34=" + std::to_string(seq) + "|58=" + std::string(seq % 97, 'x');
  }
  std::vector<std::string> quickfix_reads(int begin, int end) const {
    FIX::FileStore quickfix(dir_.string(), id_);
    std::vector<std::string> messages;
    quickfix.get(begin, end, messages);
    return messages;
  }

  std::filesystem::path dir_;
  const FIX::SessionID id_{"FIX.4.4", "TRANCHE", "CLIENT1"};
};

TEST_F(FixFileStoreTest, ReadsWhatQuickFixsOwnStoreWroteAndQuickFixReadsWhatItWrites) {
  {
    FIX::FileStore quickfix(dir_.string(), id_);
    for (int seq = 1; seq <= 10; ++seq) quickfix.set(seq, message(seq));
    quickfix.setNextSenderMsgSeqNum(11);
    quickfix.setNextTargetMsgSeqNum(7);
  }
  FixFileStore ours(dir_.string(), id_);
  EXPECT_EQ(ours.getNextSenderMsgSeqNum(), 11);
  EXPECT_EQ(ours.getNextTargetMsgSeqNum(), 7);
  std::vector<std::string> read;
  ours.get(1, 10, read);
  ASSERT_EQ(read.size(), 10u);
  for (int seq = 1; seq <= 10; ++seq) EXPECT_EQ(read[seq - 1], message(seq));
  for (int seq = 11; seq <= 15; ++seq) ours.set(seq, message(seq));
  ours.incrNextSenderMsgSeqNum();
  const auto quickfix_read = quickfix_reads(1, 15);
  ASSERT_EQ(quickfix_read.size(), 15u);
  for (int seq = 1; seq <= 15; ++seq) EXPECT_EQ(quickfix_read[seq - 1], message(seq));
  EXPECT_EQ(FIX::FileStore(dir_.string(), id_).getNextSenderMsgSeqNum(), 12);
}

TEST_F(FixFileStoreTest, AnswersEveryRangeAsQuickFixDoesWhileHoldingOneIndexPointPerStride) {
  const int sent = 3 * FixFileStore::kIndexStride + 100;
  {
    FixFileStore ours(dir_.string(), id_);
    for (int seq = 1; seq <= sent; ++seq) ours.set(seq, message(seq));
    EXPECT_EQ(ours.index_points(), 4u);
  }
  FixFileStore reopened(dir_.string(), id_);
  EXPECT_EQ(reopened.index_points(), 4u);
  const int stride = static_cast<int>(FixFileStore::kIndexStride);
  const std::pair<int, int> ranges[] = {{1, 1},
                                        {1, 5},
                                        {stride - 2, stride + 2},
                                        {stride + 1, stride + 1},
                                        {2 * stride, 2 * stride + 50},
                                        {sent - 3, sent + 10},
                                        {sent + 1, sent + 5},
                                        {0, 3},
                                        {1, sent}};
  for (const auto& [begin, end] : ranges) {
    std::vector<std::string> read;
    reopened.get(begin, end, read);
    EXPECT_EQ(read, quickfix_reads(begin, end)) << begin << ".." << end;
  }
}

TEST_F(FixFileStoreTest, AMessageStoredAgainUnderItsNumberIsTheOneReadBack) {
  FixFileStore ours(dir_.string(), id_);
  ours.set(1, "first");
  ours.set(2, "second");
  ours.set(1, "first again");
  std::vector<std::string> read;
  ours.get(1, 2, read);
  EXPECT_EQ(read, (std::vector<std::string>{"first again", "second"}));
  EXPECT_EQ(read, quickfix_reads(1, 2));
  FixFileStore reopened(dir_.string(), id_);
  reopened.get(1, 2, read);
  EXPECT_EQ(read, (std::vector<std::string>{"first again", "second"}));
}

TEST_F(FixFileStoreTest, KeepsItsNumbersAndCreationTimeAcrossARestartAndStartsAfreshOnReset) {
  FIX::UtcTimeStamp created;
  {
    FixFileStore ours(dir_.string(), id_);
    created = ours.getCreationTime();
    ours.set(1, message(1));
    ours.setNextSenderMsgSeqNum(2);
    ours.setNextTargetMsgSeqNum(5);
  }
  FixFileStore reopened(dir_.string(), id_);
  EXPECT_EQ(reopened.getNextSenderMsgSeqNum(), 2);
  EXPECT_EQ(reopened.getNextTargetMsgSeqNum(), 5);
  // The session file keeps seconds and milliseconds, as QuickFIX's does.
  EXPECT_EQ(FIX::UtcTimeStampConvertor::convert(reopened.getCreationTime()),
            FIX::UtcTimeStampConvertor::convert(created));
  reopened.reset();
  EXPECT_EQ(reopened.getNextSenderMsgSeqNum(), 1);
  EXPECT_EQ(reopened.getNextTargetMsgSeqNum(), 1);
  std::vector<std::string> read;
  reopened.get(1, 10, read);
  EXPECT_TRUE(read.empty());
  EXPECT_TRUE(quickfix_reads(1, 10).empty());
}

TEST_F(FixFileStoreTest, ACorruptHeaderIsReadUpToWhereItBreaksAndNothingCrashes) {
  {
    FixFileStore ours(dir_.string(), id_);
    for (int seq = 1; seq <= 3; ++seq) ours.set(seq, message(seq));
  }
  {
    std::ofstream header(dir_ / "FIX.4.4-TRANCHE-CLIENT1.header", std::ios::app);
    header << "4,not-a-number,12 ";
    std::ofstream seqnums(dir_ / "FIX.4.4-TRANCHE-CLIENT1.seqnums", std::ios::trunc);
    seqnums << "garbage";
  }
  FixFileStore reopened(dir_.string(), id_);
  EXPECT_EQ(reopened.getNextSenderMsgSeqNum(), 1);
  std::vector<std::string> read;
  reopened.get(1, 10, read);
  EXPECT_EQ(read.size(), 3u);
  // Entries that point outside the body are left out (the session gap-fills them), never read as garbage
  // nor sized from the file (an entry of 10^15 bytes).
  {
    std::ofstream header(dir_ / "FIX.4.4-TRANCHE-CLIENT1.header", std::ios::trunc);
    header << "1,100000,50 2,0,1000000000000000 3,-5,2 4,0,3 ";
  }
  FixFileStore pointing_past(dir_.string(), id_);
  pointing_past.get(1, 4, read);
  EXPECT_EQ(read, std::vector<std::string>{message(1).substr(0, 3)});
}

}  // namespace
}  // namespace tranche::gateway
