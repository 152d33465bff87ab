#include "core/file_output.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tranche {
namespace {

namespace fs = std::filesystem;

class WriteFileReplacing : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tranche_file_output_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(WriteFileReplacing, ReplacesTheFileWholeAndLeavesNoTemporaryBehind) {
  const std::string path = (dir_ / "report.html").string();
  ASSERT_TRUE(write_file_replacing(path, "old", "the report").ok());
  ASSERT_TRUE(write_file_replacing(path, "new content", "the report").ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "new content");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

// The defect a hostile user found: `--html` to a path it could not write said "...: Success".
TEST_F(WriteFileReplacing, SaysWhatTheSystemSaidWhenItCannotWrite) {
  const auto into_directory = write_file_replacing(dir_.string(), "x", "the report");
  ASSERT_FALSE(into_directory.ok());
  EXPECT_NE(into_directory.message().find("Is a directory"), std::string::npos) << into_directory.message();
  const auto missing = write_file_replacing((dir_ / "no" / "such" / "r.html").string(), "x", "the report");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("No such file or directory"), std::string::npos) << missing.message();
  EXPECT_EQ(missing.message().find("Success"), std::string::npos);
}

}  // namespace
}  // namespace tranche
