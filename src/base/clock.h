#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace cairn {

// Injectable wall clock. Production code takes a Clock& so tests can pin time.
// Thread-safe: implementations must allow concurrent calls.
class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMillis() const = 0;
  // Monotonic nanoseconds, for measuring durations only.
  virtual int64_t MonotonicNanos() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override;
  int64_t MonotonicNanos() const override;
  // Process-wide instance; never destroyed.
  static SystemClock& Get();
};

// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_millis) : now_millis_(now_millis) {}
  int64_t NowMillis() const override { return now_millis_.load(); }
  int64_t MonotonicNanos() const override { return now_millis_.load() * 1'000'000; }
  void AdvanceMillis(int64_t delta) { now_millis_ += delta; }

 private:
  std::atomic<int64_t> now_millis_;
};

}  // namespace cairn
