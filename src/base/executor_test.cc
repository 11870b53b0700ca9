#include "base/executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>

namespace cairn {
namespace {

using namespace std::chrono_literals;

TEST(ThreadPoolTest, RunsEveryTaskOnItsThreads) {
  ThreadPool pool({.threads = 3, .max_queued = 1000});
  std::atomic<int> ran{0};
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> on_caller{false};
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(pool.TrySubmit([&] {
      if (std::this_thread::get_id() == caller) on_caller = true;
      ++ran;
    }));
  }
  pool.Shutdown();
  EXPECT_EQ(ran.load(), 500);
  EXPECT_FALSE(on_caller.load());
}

TEST(ThreadPoolTest, RefusesWhenTheQueueIsFull) {
  ThreadPool pool({.threads = 1, .max_queued = 2});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.set_value();
    released.wait();
  }));
  started.get_future().wait();  // the only thread is busy; the queue is empty
  EXPECT_EQ(pool.busy(), 1);
  EXPECT_TRUE(pool.TrySubmit([] {}));
  EXPECT_TRUE(pool.TrySubmit([] {}));
  EXPECT_EQ(pool.queued(), 2u);
  EXPECT_FALSE(pool.TrySubmit([] {}));
  release.set_value();
  pool.Shutdown();
  EXPECT_EQ(pool.queued(), 0u);
}

TEST(ThreadPoolTest, ShutdownRunsQueuedTasksThenRefuses) {
  ThreadPool pool({.threads = 1, .max_queued = 100});
  std::atomic<int> ran{0};
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(pool.TrySubmit([&] { ++ran; }));
  pool.Shutdown();
  EXPECT_EQ(ran.load(), 50);
  EXPECT_FALSE(pool.TrySubmit([] {}));
  pool.Shutdown();  // idempotent
}

TEST(ThreadPoolTest, ATaskThatThrowsDoesNotStopTheThread) {
  ThreadPool pool({.threads = 1, .max_queued = 10});
  std::promise<int> after;
  ASSERT_TRUE(pool.TrySubmit([] { throw std::runtime_error("task failed"); }));
  ASSERT_TRUE(pool.TrySubmit([&] { after.set_value(7); }));
  auto future = after.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(future.get(), 7);
}

TEST(ThreadPoolTest, ATaskMaySubmitAnother) {
  ThreadPool pool({.threads = 2, .max_queued = 10});
  std::promise<void> done;
  ASSERT_TRUE(pool.TrySubmit([&] { ASSERT_TRUE(pool.TrySubmit([&] { done.set_value(); })); }));
  EXPECT_EQ(done.get_future().wait_for(10s), std::future_status::ready);
}

}  // namespace
}  // namespace cairn
