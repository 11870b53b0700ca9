#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "metrics/metrics_registry.h"
#include "stream/event_stream.h"

namespace cairn::stream {

struct EventLoggerOptions {
  std::string topic;
  // Events held in memory, queued or being appended, at most. Beyond it Log drops.
  size_t queue_capacity = 65536;
  size_t max_batch = 1000;  // events per Append at most
  // A failed Append is retried this many times in all, `retry_backoff` apart, before its
  // events are given up and counted in Failed().
  int append_attempts = 3;
  std::chrono::milliseconds retry_backoff{100};
  // When set: cairn_event_log_appended_total, cairn_event_log_failed_total and
  // cairn_event_log_dropped_total, labelled with the topic. Must outlive the logger.
  metrics::MetricsRegistry* metrics = nullptr;
};

// Takes ready-made events (labels, later alerts) off a request path into one topic: the same
// shape as PredictionLogger without its encoding: a bounded in-memory queue drained by one writer
// thread in batches (one Append each), so the caller never waits for the stream, also not while
// a Kafka cluster is away. A full queue drops and counts, never silently; a batch that still
// fails after `append_attempts` is counted in Failed() and logged.
//
// Thread-safety: every method may be called from any thread. The destructor calls Shutdown.
class EventLogger {
 public:
  // `stream` must outlive the logger. Starts the writer thread.
  EventLogger(EventStream& stream, EventLoggerOptions options);
  ~EventLogger();

  EventLogger(const EventLogger&) = delete;
  EventLogger& operator=(const EventLogger&) = delete;

  // Queues `event`; false (dropped and counted) when the queue is full or after Shutdown.
  bool Log(Event event) EXCLUDES(mu_);
  // Waits until every event queued before the call has been appended or given up, up to
  // `deadline` (UNAVAILABLE when it passes first). Returns the last append error when events
  // were given up during the wait.
  Status Flush(std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt)
      EXCLUDES(mu_);
  // Stops accepting events, appends what is queued, joins the writer. Idempotent.
  void Shutdown() EXCLUDES(mu_);

  int64_t Appended() const { return appended_.load(); }
  int64_t Failed() const { return failed_.load(); }
  int64_t Dropped() const { return dropped_.load(); }

 private:
  void WriterLoop() EXCLUDES(mu_);

  EventStream& stream_;
  const EventLoggerOptions options_;

  Mutex mu_;
  std::condition_variable writer_cv_;
  std::condition_variable done_cv_;
  std::vector<Event> queue_ GUARDED_BY(mu_);
  size_t in_flight_ GUARDED_BY(mu_) = 0;
  int64_t accepted_ GUARDED_BY(mu_) = 0;
  int64_t finished_ GUARDED_BY(mu_) = 0;
  bool stopping_ GUARDED_BY(mu_) = false;
  Status last_error_ GUARDED_BY(mu_);

  std::atomic<int64_t> appended_{0};
  std::atomic<int64_t> failed_{0};
  std::atomic<int64_t> dropped_{0};
  metrics::Counter* appended_metric_ = nullptr;
  metrics::Counter* failed_metric_ = nullptr;
  metrics::Counter* dropped_metric_ = nullptr;

  Mutex shutdown_mu_;
  std::thread writer_;
};

}  // namespace cairn::stream
