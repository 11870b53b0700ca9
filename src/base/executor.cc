#include "base/executor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <utility>

namespace cairn {

ThreadPool::ThreadPool(Options options) : options_(std::move(options)) {
  const int count = std::max(1, options_.threads);
  threads_.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) threads_.emplace_back([this] { Run(); });
}

ThreadPool::~ThreadPool() { Shutdown(); }

bool ThreadPool::TrySubmit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    // Idle threads take queued tasks at once; beyond them, at most max_queued may wait.
    const size_t idle = threads_.size() - static_cast<size_t>(busy_);
    if (stopping_ || queue_.size() >= options_.max_queued + idle) return false;
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void ThreadPool::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  std::lock_guard lock(mu_);
  threads_.clear();
}

size_t ThreadPool::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

int ThreadPool::busy() const {
  std::lock_guard lock(mu_);
  return busy_;
}

void ThreadPool::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to run
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    lock.unlock();
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("{} task threw: {}", options_.name, e.what());
    } catch (...) {
      spdlog::error("{} task threw a non-standard exception", options_.name);
    }
    // Destroy what the task captured before taking the lock again.
    task = nullptr;
    lock.lock();
    --busy_;
  }
}

}  // namespace cairn
