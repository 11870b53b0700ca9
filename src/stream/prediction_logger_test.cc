#include "stream/prediction_logger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "metrics/metrics_registry.h"
#include "stream/sqlite/sqlite_event_stream.h"
#include "stream/stream_test_util.h"

namespace cairn::stream {
namespace {

using namespace std::chrono_literals;

// Records every Append's batch size and, while closed, holds appends at the gate.
class GatedStream : public EventStreamWrapper {
 public:
  using EventStreamWrapper::EventStreamWrapper;

  StatusOr<std::vector<int64_t>> Append(std::string_view topic,
                                        std::span<const Event> events) override {
    {
      MutexLock lock(mu_);
      sizes_.push_back(events.size());
      cv_.notify_all();
      while (closed_) lock.Wait(cv_);
      if (failures_left_ > 0) {
        --failures_left_;
        return Unavailable("injected append failure");
      }
    }
    return EventStreamWrapper::Append(topic, events);
  }

  void Close() {
    MutexLock lock(mu_);
    closed_ = true;
  }
  void Open() {
    {
      MutexLock lock(mu_);
      closed_ = false;
    }
    cv_.notify_all();
  }
  void FailNext(int count) {
    MutexLock lock(mu_);
    failures_left_ = count;
  }
  // Waits until `count` appends have started.
  void WaitForAppends(size_t count) {
    MutexLock lock(mu_);
    while (sizes_.size() < count) lock.Wait(cv_);
  }
  std::vector<size_t> Sizes() {
    MutexLock lock(mu_);
    return sizes_;
  }

 private:
  Mutex mu_;
  std::condition_variable cv_;
  bool closed_ GUARDED_BY(mu_) = false;
  int failures_left_ GUARDED_BY(mu_) = 0;
  std::vector<size_t> sizes_ GUARDED_BY(mu_);
};

PredictionEvent MakePrediction(std::string deployment, int i) {
  PredictionEvent e;
  e.tenant = "t";
  e.deployment_id = std::move(deployment);
  e.model_name = "m";
  e.model_version = "1";
  e.request_id = "r" + std::to_string(i);
  e.timestamp_ms = 1000 + i;
  e.protocol = "v2";
  e.status_code = 200;
  e.inputs_json = "[" + std::to_string(i) + "]";
  e.outputs_json = "[0.5]";
  return e;
}

class PredictionLoggerTest : public testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteEventStream::Open(":memory:");
    ASSERT_OK(opened);
    log_ = std::move(opened).value();
  }

  // The request ids in the predictions topic, in offset order.
  std::vector<std::string> LoggedRequestIds() {
    std::vector<std::string> ids;
    ReadOptions options{.max_events = kMaxReadEvents};
    while (true) {
      auto page = log_->Read(kPredictionsTopic, options);
      EXPECT_OK(page);
      if (!page.ok()) break;
      for (const StoredEvent& e : page->events) {
        auto decoded = DecodePredictionEvent(e.event.payload);
        EXPECT_OK(decoded);
        if (decoded.ok()) ids.push_back(decoded->request_id);
      }
      if (static_cast<int>(page->events.size()) < options.max_events) break;
      options.from_offset = page->next_offset;
    }
    return ids;
  }

  std::unique_ptr<SqliteEventStream> log_;
};

TEST_F(PredictionLoggerTest, AppendsWhatIsQueuedInBatchesOfAtMostMaxBatch) {
  GatedStream gated(*log_);
  PredictionLogger logger(gated, {.max_batch = 100});
  gated.Close();
  ASSERT_TRUE(logger.Log(MakePrediction("d", 0)));
  gated.WaitForAppends(1);  // the writer holds event 0 at the gate
  for (int i = 1; i <= 250; ++i) ASSERT_TRUE(logger.Log(MakePrediction("d", i)));
  EXPECT_EQ(logger.QueueDepth(), 251);
  gated.Open();
  ASSERT_OK(logger.Flush());
  EXPECT_EQ(gated.Sizes(), (std::vector<size_t>{1, 100, 100, 50}));
  EXPECT_EQ(logger.Appended(), 251);
  EXPECT_EQ(logger.QueueDepth(), 0);
  std::vector<std::string> ids = LoggedRequestIds();
  ASSERT_EQ(ids.size(), 251u);
  for (int i = 0; i <= 250; ++i) EXPECT_EQ(ids[i], "r" + std::to_string(i));
}

TEST_F(PredictionLoggerTest, FlushWaitsForEverythingLoggedBefore) {
  PredictionLogger logger(*log_, {});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(logger.Log(MakePrediction("d", i)));
  ASSERT_OK(logger.Flush());
  EXPECT_EQ(LoggedRequestIds().size(), 10u);
  EXPECT_EQ(logger.Appended(), 10);
  EXPECT_EQ(logger.Dropped(), 0);
  ASSERT_OK(logger.Flush());  // nothing queued: returns at once
}

TEST_F(PredictionLoggerTest, FlushGivesUpAtItsDeadline) {
  GatedStream gated(*log_);
  PredictionLogger logger(gated, {});
  gated.Close();
  ASSERT_TRUE(logger.Log(MakePrediction("d", 0)));
  EXPECT_EQ(logger.Flush(std::chrono::steady_clock::now() + 20ms).code(), StatusCode::kUnavailable);
  gated.Open();
  ASSERT_OK(logger.Flush());
}

TEST_F(PredictionLoggerTest, DropsAndCountsPerDeploymentWhenTheStreamIsSlow) {
  GatedStream gated(*log_);
  PredictionLogger logger(gated, {.queue_capacity = 10});
  gated.Close();
  ASSERT_TRUE(logger.Log(MakePrediction("a", 0)));
  gated.WaitForAppends(1);  // in flight: still counts against the capacity
  int accepted = 1;
  for (int i = 1; i <= 20; ++i) {
    if (logger.Log(MakePrediction(i % 2 == 0 ? "a" : "b", i))) ++accepted;
  }
  EXPECT_EQ(accepted, 10);
  EXPECT_EQ(logger.Dropped(), 11);
  EXPECT_EQ(logger.DroppedFor("a") + logger.DroppedFor("b"), 11);
  EXPECT_GT(logger.DroppedFor("a"), 0);
  EXPECT_GT(logger.DroppedFor("b"), 0);
  EXPECT_EQ(logger.DroppedFor("c"), 0);
  EXPECT_EQ(logger.QueueDepth(), 10);
  gated.Open();
  ASSERT_OK(logger.Flush());
  EXPECT_EQ(logger.Appended(), 10);
  EXPECT_EQ(LoggedRequestIds().size(), 10u);
  // Room again.
  EXPECT_TRUE(logger.Log(MakePrediction("a", 99)));
}

TEST_F(PredictionLoggerTest, LogOrWaitWaitsForRoomUntilItsDeadline) {
  GatedStream gated(*log_);
  PredictionLogger logger(gated, {.queue_capacity = 2});
  gated.Close();
  ASSERT_TRUE(logger.Log(MakePrediction("d", 0)));
  gated.WaitForAppends(1);
  ASSERT_TRUE(logger.Log(MakePrediction("d", 1)));  // full now

  Status timed_out =
      logger.LogOrWait(MakePrediction("d", 2), std::chrono::steady_clock::now() + 20ms);
  EXPECT_EQ(timed_out.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(logger.DroppedFor("d"), 1);

  auto waiting = std::async(std::launch::async, [&] {
    return logger.LogOrWait(MakePrediction("d", 3), std::chrono::steady_clock::now() + 60s);
  });
  EXPECT_EQ(waiting.wait_for(50ms), std::future_status::timeout);  // still no room
  gated.Open();
  ASSERT_OK(waiting.get());
  ASSERT_OK(logger.Flush());
  EXPECT_EQ(LoggedRequestIds(), (std::vector<std::string>{"r0", "r1", "r3"}));
  EXPECT_EQ(logger.Dropped(), 1);
}

TEST_F(PredictionLoggerTest, ShutdownAppendsEverythingQueuedThenRefuses) {
  GatedStream gated(*log_);
  PredictionLogger logger(gated, {.max_batch = 64});
  gated.Close();
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(logger.Log(MakePrediction("d", i)));
  std::thread opener([&] {
    gated.WaitForAppends(1);
    gated.Open();
  });
  logger.Shutdown();  // returns once the queue is drained
  opener.join();
  EXPECT_EQ(logger.Appended(), 500);
  EXPECT_EQ(LoggedRequestIds().size(), 500u);

  EXPECT_FALSE(logger.Log(MakePrediction("d", 500)));
  EXPECT_EQ(
      logger.LogOrWait(MakePrediction("d", 501), std::chrono::steady_clock::now() + 1s).code(),
      StatusCode::kFailedPrecondition);
  EXPECT_EQ(logger.Dropped(), 2);
  logger.Shutdown();  // idempotent
}

TEST_F(PredictionLoggerTest, RetriesFailedAppendsThenCountsThemFailed) {
  GatedStream gated(*log_);
  PredictionLogger logger(gated, {.append_attempts = 3, .retry_backoff = 1ms});
  gated.FailNext(2);
  ASSERT_TRUE(logger.Log(MakePrediction("d", 0)));
  ASSERT_OK(logger.Flush());  // the third attempt succeeded
  EXPECT_EQ(logger.Appended(), 1);
  EXPECT_EQ(logger.Failed(), 0);

  gated.FailNext(3);
  ASSERT_TRUE(logger.Log(MakePrediction("d", 1)));
  Status flushed = logger.Flush();
  EXPECT_EQ(flushed.code(), StatusCode::kUnavailable) << flushed.ToString();
  EXPECT_EQ(logger.Failed(), 1);
  EXPECT_EQ(logger.Appended(), 1);

  ASSERT_TRUE(logger.Log(MakePrediction("d", 2)));
  ASSERT_OK(logger.Flush());  // the failure was before this flush
  EXPECT_EQ(LoggedRequestIds(), (std::vector<std::string>{"r0", "r2"}));
}

TEST_F(PredictionLoggerTest, UnencodableEventsAreCountedFailedAndTheRestAppended) {
  PredictionLogger logger(*log_, {});
  PredictionEvent bad = MakePrediction("d", 1);
  bad.inputs_json = "{not json";
  ASSERT_TRUE(logger.Log(MakePrediction("d", 0)));
  ASSERT_TRUE(logger.Log(bad));
  ASSERT_TRUE(logger.Log(MakePrediction("d", 2)));
  // Flush reports an error only for events given up while it waited: the writer may have
  // appended (and given up the bad event) before Flush was called.
  Status flushed = logger.Flush();
  EXPECT_TRUE(flushed.ok() || flushed.code() == StatusCode::kInvalidArgument) << flushed.ToString();
  EXPECT_EQ(logger.Failed(), 1);
  EXPECT_EQ(LoggedRequestIds(), (std::vector<std::string>{"r0", "r2"}));
}

TEST_F(PredictionLoggerTest, ExportsItsCountersAsMetrics) {
  metrics::MetricsRegistry registry;
  GatedStream gated(*log_);
  PredictionLogger logger(gated, {.queue_capacity = 1, .metrics = &registry});
  gated.Close();
  ASSERT_TRUE(logger.Log(MakePrediction("dep-1", 0)));
  gated.WaitForAppends(1);
  EXPECT_FALSE(logger.Log(MakePrediction("dep-1", 1)));
  std::string text = registry.RenderPrometheus();
  EXPECT_NE(text.find("cairn_prediction_log_dropped_total{deployment_id=\"dep-1\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cairn_prediction_log_queue_depth 1"), std::string::npos) << text;
  gated.Open();
  ASSERT_OK(logger.Flush());
  text = registry.RenderPrometheus();
  EXPECT_NE(text.find("cairn_prediction_log_appended_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find("cairn_prediction_log_queue_depth 0"), std::string::npos) << text;
}

// Many producers (some asking for back-pressure), a flusher and a reader of the counters at
// once, into a small queue: every event is either appended or counted dropped, exactly once.
TEST_F(PredictionLoggerTest, ConcurrentProducersFlushersAndReaders) {
  PredictionLogger logger(*log_, {.queue_capacity = 64, .max_batch = 16});
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 1500;
  std::atomic<int> accepted{0};
  std::atomic<bool> producing{true};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        PredictionEvent e = MakePrediction("dep-" + std::to_string(p), p * kPerProducer + i);
        if (p % 2 == 0) {
          if (logger.Log(std::move(e))) ++accepted;
        } else if (logger.LogOrWait(std::move(e), std::chrono::steady_clock::now() + 5ms).ok()) {
          ++accepted;
        }
      }
    });
  }
  std::thread observer([&] {
    while (producing) {
      EXPECT_LE(logger.QueueDepth(), 64);
      EXPECT_OK(logger.Flush(std::chrono::steady_clock::now() + 10s));
      (void)logger.Dropped();
      (void)logger.DroppedFor("dep-0");
      (void)logger.Appended();
    }
  });
  for (std::thread& t : threads) t.join();
  producing = false;
  observer.join();
  ASSERT_OK(logger.Flush());
  EXPECT_EQ(logger.Appended(), accepted.load());
  EXPECT_EQ(logger.Appended() + logger.Dropped(), kProducers * kPerProducer);
  int64_t per_deployment = 0;
  for (int p = 0; p < kProducers; ++p)
    per_deployment += logger.DroppedFor("dep-" + std::to_string(p));
  EXPECT_EQ(per_deployment, logger.Dropped());
  EXPECT_EQ(static_cast<int64_t>(LoggedRequestIds().size()), logger.Appended());
}

}  // namespace
}  // namespace cairn::stream
