#include "gateway/fix_log.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tranche::gateway {
namespace {

std::string fix(std::string text) {
  for (char& c : text)
    if (c == '|') c = '\x01';
  return text;
}

TEST(MaskFixSecrets, MasksThePasswordsAndRawDataOfALogonAndKeepsEveryOtherField) {
  const std::string logon =
      fix("8=FIX.4.4|9=90|35=A|49=CLIENT1|56=TRANCHE|553=trader|554=s3cret|925=n3w|96=sig|10=123|");
  const std::string masked = mask_fix_secrets(logon);
  EXPECT_EQ(masked,
            fix("8=FIX.4.4|9=90|35=A|49=CLIENT1|56=TRANCHE|553=trader|554=***|925=***|96=***|10=123|"));
}

TEST(MaskFixSecrets, LeavesTagsThatOnlyEndOrStartLikeASecretAlone) {
  // 1554 and 5540 are not 554; a value that looks like a tag is a value.
  const std::string text = fix("1554=a|5540=b|58=554=c|");
  EXPECT_EQ(mask_fix_secrets(text), text);
  EXPECT_EQ(mask_fix_secrets(fix("554=x")), fix("554=***"));  // no trailing separator
  EXPECT_EQ(mask_fix_secrets(""), "");
}

// The defect a hostile user found: the FIX password was written in plain text to QuickFIX's message log, and
// the log was readable by everyone (mode 644).
TEST(MaskedFileLog, WritesNoPasswordAndNothingAnyoneButTheOwnerCanRead) {
  const auto dir = std::filesystem::temp_directory_path() / ("tranche_fix_log_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    auto factory = make_masked_file_log_factory((dir / "log").string());
    FIX::SessionID id("FIX.4.4", "TRANCHE", "CLIENT1");
    FIX::Log* log = factory->create(id);
    log->onIncoming(fix("8=FIX.4.4|35=A|553=trader|554=s3cret|10=001|"));
    log->onIncoming(fix("8=FIX.4.4|35=A|553=trader|554=wrong-guess|10=002|"));
    log->onEvent("Logon refused");
    factory->destroy(log);
  }
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    struct stat st {};
    ASSERT_EQ(::stat(entry.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u) << entry.path() << " is readable by others";
    if (!entry.is_regular_file()) continue;
    ++files;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str().find("s3cret"), std::string::npos) << entry.path();
    EXPECT_EQ(text.str().find("wrong-guess"), std::string::npos) << entry.path();
  }
  EXPECT_GT(files, 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tranche::gateway
