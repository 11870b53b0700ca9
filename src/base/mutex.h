#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "base/thread_annotations.h"

namespace cairn {

// A std::mutex that Clang's thread-safety analysis knows as a capability, so members declared
// GUARDED_BY(mu) are checked (libstdc++'s std::mutex carries no annotations). Same cost as
// std::mutex. Lock it with MutexLock.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

 private:
  friend class MutexLock;
  std::mutex mu_;
};

// Holds a Mutex from construction to destruction, like std::unique_lock: Unlock and Lock release
// and re-take it within the scope, and Wait blocks on a condition variable with it released.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : lock_(mu.mu_) {}
  ~MutexLock() RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Lock() ACQUIRE() { lock_.lock(); }
  void Unlock() RELEASE() { lock_.unlock(); }

  // Releases the mutex until `cv` is notified (or wakes spuriously), then takes it again. Must be
  // called with the mutex held; callers re-check their condition in a loop, written out in the
  // calling function so the analysis sees the guarded reads under the lock.
  void Wait(std::condition_variable& cv) { cv.wait(lock_); }
  // Wait until `deadline` at the latest: false when it passed (the mutex is held again either
  // way).
  template <typename Clock, typename Duration>
  bool WaitUntil(std::condition_variable& cv,
                 const std::chrono::time_point<Clock, Duration>& deadline) {
    return cv.wait_until(lock_, deadline) == std::cv_status::no_timeout;
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace cairn
