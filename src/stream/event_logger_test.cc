#include "stream/event_logger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/metrics_registry.h"
#include "stream/sqlite/sqlite_event_stream.h"
#include "stream/stream_test_util.h"

namespace cairn::stream {
namespace {

Event Label(int i) {
  return Event{.tenant = "t", .key = "d", .timestamp_ms = 1000 + i, .payload = std::to_string(i)};
}

// Holds every Append until released, to fill the queue deterministically.
class GatedStream : public EventStreamWrapper {
 public:
  using EventStreamWrapper::EventStreamWrapper;
  StatusOr<std::vector<int64_t>> Append(std::string_view topic,
                                        std::span<const Event> events) override {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    return EventStreamWrapper::Append(topic, events);
  }
  void WaitForAppend() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return waiting_ > 0; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool open_ = false;
};

// Fails every Append with UNAVAILABLE.
class DownStream : public EventStreamWrapper {
 public:
  using EventStreamWrapper::EventStreamWrapper;
  StatusOr<std::vector<int64_t>> Append(std::string_view, std::span<const Event>) override {
    return Unavailable("down");
  }
};

class EventLoggerTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    ASSERT_OK_AND_ASSIGN(log_, SqliteEventStream::Open(dir_.path() + "/events.db"));
  }
  testing_util::TempDir dir_;
  std::unique_ptr<SqliteEventStream> log_;
  metrics::MetricsRegistry metrics_;
};

TEST_F(EventLoggerTest, AppendsInOrderToItsTopic) {
  EventLogger logger(*log_, {.topic = "labels", .max_batch = 7, .metrics = &metrics_});
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(logger.Log(Label(i)));
  ASSERT_OK(logger.Flush());
  EXPECT_EQ(logger.Appended(), 50);
  ASSERT_OK_AND_ASSIGN(ReadResult read, log_->Read("labels", {}));
  ASSERT_EQ(read.events.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(read.events[i].event, Label(i));
  EXPECT_EQ(
      metrics_.GetCounter("cairn_event_log_appended_total", "", {{"topic", "labels"}}).Value(), 50);
}

TEST_F(EventLoggerTest, AFullQueueDropsAndCountsWithoutBlocking) {
  GatedStream gated(*log_);
  EventLogger logger(
      gated, {.topic = "labels", .queue_capacity = 5, .max_batch = 2, .metrics = &metrics_});
  ASSERT_TRUE(logger.Log(Label(0)));
  gated.WaitForAppend();  // one event in flight
  int accepted = 0;
  for (int i = 1; i < 20; ++i) accepted += logger.Log(Label(i)) ? 1 : 0;
  EXPECT_EQ(accepted, 4);
  EXPECT_EQ(logger.Dropped(), 15);
  EXPECT_EQ(metrics_.GetCounter("cairn_event_log_dropped_total", "", {{"topic", "labels"}}).Value(),
            15);
  gated.Open();
  ASSERT_OK(logger.Flush());
  EXPECT_EQ(logger.Appended(), 5);
}

TEST_F(EventLoggerTest, GivesUpAfterTheAttemptsAndCounts) {
  DownStream down(*log_);
  EventLogger logger(down, {.topic = "labels",
                            .append_attempts = 2,
                            .retry_backoff = std::chrono::milliseconds(1),
                            .metrics = &metrics_});
  ASSERT_TRUE(logger.Log(Label(0)));
  EXPECT_EQ(logger.Flush().code(), StatusCode::kUnavailable);
  EXPECT_EQ(logger.Failed(), 1);
  EXPECT_EQ(metrics_.GetCounter("cairn_event_log_failed_total", "", {{"topic", "labels"}}).Value(),
            1);
  logger.Shutdown();
  EXPECT_FALSE(logger.Log(Label(1)));
  EXPECT_EQ(logger.Dropped(), 1);
}

}  // namespace
}  // namespace cairn::stream
