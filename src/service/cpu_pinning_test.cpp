#include "service/cpu_pinning.hpp"

#include <gtest/gtest.h>
#include <sched.h>

#include <thread>
#include <vector>

namespace tranche::service {
namespace {

std::vector<int> cpus_of_calling_thread() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(::sched_getaffinity(0, sizeof set, &set), 0);
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  return cpus;
}

// Each test works on a thread of its own, so the test process's own CPUs stay as they were.
template <class Work>
void on_a_thread_of_its_own(Work work) {
  std::thread thread(work);
  thread.join();
}

TEST(CpuPinning, ThreadsStartedAfterKeepOffCpuNeverRunOnThatCpuAndThePinnedThreadRunsOnItAlone) {
  const std::vector<int> allowed = cpus_of_calling_thread();
  if (allowed.size() < 2) GTEST_SKIP() << "this process may use one CPU only: nothing to keep apart";
  const int kernel_cpu = allowed.back();
  on_a_thread_of_its_own([&] {
    ASSERT_TRUE(keep_off_cpu(kernel_cpu).ok());
    std::vector<int> helper_cpus;
    std::thread helper([&] { helper_cpus = cpus_of_calling_thread(); });
    helper.join();
    std::vector<int> expected(allowed.begin(), allowed.end() - 1);
    EXPECT_EQ(helper_cpus, expected);
    ASSERT_TRUE(pin_to_cpu(kernel_cpu).ok());
    EXPECT_EQ(cpus_of_calling_thread(), std::vector<int>{kernel_cpu});
    EXPECT_EQ(allowed_cpus(), std::to_string(kernel_cpu));
  });
}

TEST(CpuPinning, RefusesACpuThisProcessMayNotUseNamingTheOnesItMay) {
  on_a_thread_of_its_own([] {
    const std::string before = allowed_cpus();
    for (int cpu : {-1, 1023, CPU_SETSIZE}) {
      const Status kept = keep_off_cpu(cpu);
      ASSERT_FALSE(kept.ok()) << cpu;
      EXPECT_NE(kept.message().find("is not a CPU this process may use (" + before + ")"), std::string::npos)
          << kept.message();
    }
    EXPECT_EQ(allowed_cpus(), before);  // a refusal moves nothing
  });
}

TEST(CpuPinning, RefusesToKeepTheThreadsOffTheOnlyCpuTheyMayUse) {
  on_a_thread_of_its_own([] {
    const int only = cpus_of_calling_thread().front();
    ASSERT_TRUE(pin_to_cpu(only).ok());
    const Status kept = keep_off_cpu(only);
    ASSERT_FALSE(kept.ok());
    EXPECT_NE(kept.message().find("none is left for its other threads"), std::string::npos) << kept.message();
  });
}

TEST(CpuPinning, AllowedCpusWritesRunsOfCpusAsRanges) {
  const std::vector<int> allowed = cpus_of_calling_thread();
  std::string expected;
  for (std::size_t i = 0; i < allowed.size();) {
    std::size_t j = i;
    while (j + 1 < allowed.size() && allowed[j + 1] == allowed[j] + 1) ++j;
    if (!expected.empty()) expected += ",";
    expected += std::to_string(allowed[i]);
    if (j > i) expected += "-" + std::to_string(allowed[j]);
    i = j + 1;
  }
  EXPECT_EQ(allowed_cpus(), expected);
}

}  // namespace
}  // namespace tranche::service
