#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace cairn::importer {

// "runs               [########------------]    120/300": one entity kind's progress bar.
std::string ProgressBar(std::string_view kind, int64_t done, int64_t total, int width = 20);

// The progress of `cairn import` on stderr, one bar per entity kind. On a terminal the bar is
// redrawn in place ("\r") at most every `interval` and when the kind completes; a new kind
// starts a new line. Elsewhere (a pipe, a log) a line is printed at each quarter and at the
// end of each kind. Not thread-safe.
class ImportProgress {
 public:
  using Clock = std::chrono::steady_clock;

  ImportProgress(std::ostream& err, bool terminal,
                 std::function<Clock::time_point()> now = Clock::now,
                 std::chrono::milliseconds interval = std::chrono::milliseconds(100));

  void Update(std::string_view kind, int64_t done, int64_t total);
  // Ends the current line. Idempotent.
  void Finish();

 private:
  std::ostream& err_;
  const bool terminal_;
  const std::function<Clock::time_point()> now_;
  const std::chrono::milliseconds interval_;
  std::string kind_;
  bool line_open_ = false;
  int last_quarter_ = -1;
  Clock::time_point last_drawn_{};
};

}  // namespace cairn::importer
