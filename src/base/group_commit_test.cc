#include "base/group_commit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace cairn {
namespace {

// Stands in for a database connection: what the writes of a group change.
struct Ledger {
  std::vector<int> values;  // appended by writes, in the order they ran
};

// A queue whose groups run every write on one Ledger, checking that no two groups overlap.
class GroupCommitTest : public ::testing::Test {
 protected:
  void StartQueue(std::chrono::microseconds group_time = std::chrono::microseconds(0)) {
    queue_.Start([this, group_time](const GroupCommit<Ledger>::Group& group) {
      EXPECT_FALSE(in_group_.exchange(true)) << "two groups ran at once";
      ++groups_;
      largest_group_ = std::max(largest_group_.load(), static_cast<int>(group.size()));
      for (auto* write : group) write->status = (*write->fn)(ledger_);
      if (group_time.count() > 0) std::this_thread::sleep_for(group_time);
      in_group_ = false;
    });
  }

  GroupCommit<Ledger> queue_;
  Ledger ledger_;  // touched only inside groups
  std::atomic<bool> in_group_{false};
  std::atomic<int> groups_{0};
  std::atomic<int> largest_group_{0};
};

TEST_F(GroupCommitTest, EachWriteGetsItsOwnStatus) {
  StartQueue();
  EXPECT_TRUE(queue_
                  .Write([](Ledger& l) {
                    l.values.push_back(1);
                    return Status::Ok();
                  })
                  .ok());
  Status failed = queue_.Write([](Ledger&) { return InvalidArgument("bad write"); });
  EXPECT_EQ(failed.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(failed.message(), "bad write");
  queue_.Stop();
  EXPECT_EQ(ledger_.values, std::vector<int>{1});
}

TEST_F(GroupCommitTest, ConcurrentWritersShareGroupsThatNeverOverlap) {
  StartQueue(std::chrono::microseconds(200));
  constexpr int kThreads = 8;
  constexpr int kWrites = 100;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        int value = t * kWrites + i;
        Status s = queue_.Write([value](Ledger& l) {
          l.values.push_back(value);
          return value % 7 == 0 ? Internal("every seventh fails") : Status::Ok();
        });
        if ((value % 7 == 0) == s.ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  queue_.Stop();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(ledger_.values.size(), static_cast<size_t>(kThreads) * kWrites);
  // Each thread's writes ran in the order it made them.
  std::vector<int> next(kThreads, 0);
  for (int value : ledger_.values) {
    int t = value / kWrites;
    EXPECT_EQ(value % kWrites, next[t]++);
  }
  // Eight writers waiting on groups of 200 us: groups hold more than one write.
  EXPECT_LT(groups_.load(), kThreads * kWrites);
  EXPECT_GT(largest_group_.load(), 1);
}

TEST_F(GroupCommitTest, AsyncWritesAreAnsweredAndStopRunsTheQueuedOnes) {
  StartQueue(std::chrono::microseconds(50));
  constexpr int kWrites = 500;
  std::vector<Status> answers(kWrites, Internal("not answered"));
  std::atomic<int> answered{0};
  for (int i = 0; i < kWrites; ++i) {
    queue_.WriteAsync(
        [i](Ledger& l) {
          l.values.push_back(i);
          return i % 2 == 0 ? Status::Ok() : NotFound("odd " + std::to_string(i));
        },
        [&answers, &answered, i](Status s) {
          answers[i] = std::move(s);
          ++answered;
        });
  }
  queue_.Stop();  // returns once every queued write has run and been answered
  EXPECT_EQ(answered.load(), kWrites);
  for (int i = 0; i < kWrites; ++i) {
    if (i % 2 == 0) {
      EXPECT_TRUE(answers[i].ok()) << i;
    } else {
      EXPECT_EQ(answers[i].code(), StatusCode::kNotFound) << i;
    }
  }
  std::vector<int> expected(kWrites);
  for (int i = 0; i < kWrites; ++i) expected[i] = i;
  EXPECT_EQ(ledger_.values, expected);  // in the order they were queued
}

TEST_F(GroupCommitTest, SyncAndAsyncWritesMix) {
  StartQueue(std::chrono::microseconds(20));
  std::atomic<int> async_ok{0};
  std::thread async_writer([&] {
    for (int i = 0; i < 300; ++i) {
      queue_.WriteAsync(
          [](Ledger& l) {
            l.values.push_back(-1);
            return Status::Ok();
          },
          [&async_ok](const Status& s) { async_ok += s.ok() ? 1 : 0; });
    }
  });
  std::vector<std::thread> writers;
  writers.reserve(3);
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        EXPECT_TRUE(queue_
                        .Write([](Ledger& l) {
                          l.values.push_back(1);
                          return Status::Ok();
                        })
                        .ok());
      }
    });
  }
  async_writer.join();
  for (auto& w : writers) w.join();
  queue_.Stop();
  queue_.Stop();  // idempotent
  EXPECT_EQ(async_ok.load(), 300);
  EXPECT_EQ(ledger_.values.size(), size_t{600});
}

}  // namespace
}  // namespace cairn
