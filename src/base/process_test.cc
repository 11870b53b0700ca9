#include "base/process.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace cairn {
namespace {

TEST(ProcessTest, RaiseOpenFileLimitLiftsTheSoftLimitToTheHardOne) {
  rlimit original{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &original), 0);
  if (original.rlim_max != RLIM_INFINITY && original.rlim_max <= 64) {
    GTEST_SKIP() << "hard limit too low to lower the soft one";
  }
  rlimit lowered = original;
  lowered.rlim_cur = 64;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);

  auto raised = RaiseOpenFileLimit();
  ASSERT_TRUE(raised.ok()) << raised.status().ToString();
  rlimit now{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, original.rlim_max);
  if (original.rlim_max != RLIM_INFINITY) {
    EXPECT_EQ(*raised, original.rlim_max);
  }
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &original), 0);
}

// Resident memory of this process, in bytes.
size_t ResidentBytes() {
  FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  unsigned long size = 0, resident = 0;  // NOLINT(google-runtime-int): fscanf's %lu
  int read = std::fscanf(statm, "%lu %lu", &size, &resident);
  std::fclose(statm);
  return read == 2 ? resident * static_cast<size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

TEST(ProcessTest, FreedLargeBlocksGoBackToTheSystem) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer replaces malloc and keeps freed blocks in quarantine";
#endif
  ReturnLargeBlocksToTheSystem(size_t{1} << 20);
  if (ResidentBytes() == 0) GTEST_SKIP() << "no /proc/self/statm";
  // A large block first: glibc's default would raise its threshold to this size (up to its
  // 32 MiB cap), so the blocks below would come from the heap and stay there (32 MiB more).
  {
    std::vector<char> huge(size_t{16} << 20, 'h');
    ASSERT_EQ(huge.back(), 'h');
  }
  const size_t before = ResidentBytes();
  {
    std::vector<std::vector<char>> bodies;
    for (int i = 0; i < 16; ++i) bodies.emplace_back(size_t{2} << 20, 'b');
    ASSERT_GT(ResidentBytes(), before + (size_t{24} << 20));
  }
  EXPECT_LT(ResidentBytes(), before + (size_t{8} << 20));
}

}  // namespace
}  // namespace cairn
