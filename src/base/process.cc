#include "base/process.h"

#include <malloc.h>
#include <sys/resource.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

namespace cairn {

StatusOr<uint64_t> RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return Internal(std::string("getrlimit(RLIMIT_NOFILE) failed: ") + std::strerror(errno));
  }
  if (limit.rlim_cur != limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
      return Internal(std::string("setrlimit(RLIMIT_NOFILE) failed: ") + std::strerror(errno));
    }
    limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(limit.rlim_cur);
}

void ReturnLargeBlocksToTheSystem(size_t bytes) {
#if defined(__GLIBC__)
  // Setting the threshold also stops glibc from raising it after each large free.
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(bytes > INT_MAX ? INT_MAX : bytes));
#else
  (void)bytes;
#endif
}

}  // namespace cairn
