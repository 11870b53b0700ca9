#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace cairn::cli {

// "12.3 MB / 45.6 MB (27.0%), 85.2 MB/s" (MB = 10^6 bytes); the rate is left out before any
// time has passed and the total and share when `total` is 0.
std::string FormatProgress(uint64_t sent, uint64_t total, double seconds);

// The progress line of an upload on stderr. On a terminal the line is rewritten in place
// ("\r", then the line cleared to its end) at most every `interval`, so that a fast upload
// does not flood the terminal, and ends with a newline at Finish; elsewhere (a pipe, a log)
// nothing is written until Finish prints one final line. Not thread-safe.
class UploadProgress {
 public:
  using Clock = std::chrono::steady_clock;

  UploadProgress(std::ostream& err, std::string label, uint64_t total, bool terminal,
                 std::function<Clock::time_point()> now = Clock::now,
                 std::chrono::milliseconds interval = std::chrono::milliseconds(200));

  // `sent` bytes so far.
  void Update(uint64_t sent);
  // The last line: "<label>: <FormatProgress>", ending in a newline. Idempotent.
  void Finish();

 private:
  std::string Line() const;

  std::ostream& err_;
  const std::string label_;
  const uint64_t total_;
  const bool terminal_;
  const std::function<Clock::time_point()> now_;
  const std::chrono::milliseconds interval_;
  const Clock::time_point start_;
  Clock::time_point last_drawn_;
  bool drawn_ = false;
  bool finished_ = false;
  uint64_t sent_ = 0;
};

}  // namespace cairn::cli
