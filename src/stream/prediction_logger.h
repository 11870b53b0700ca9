#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "metrics/metrics_registry.h"
#include "stream/event_stream.h"
#include "stream/prediction_event.h"

namespace cairn::stream {

struct PredictionLoggerOptions {
  // Events held in memory, queued or being appended, at most. Beyond it Log drops.
  size_t queue_capacity = 65536;
  // Events per Append call at most.
  size_t max_batch = 1000;
  std::string topic = std::string(kPredictionsTopic);
  // A failed Append is retried this many times in all, `retry_backoff` apart, before its events
  // are given up and counted in Failed(). New events queue (or drop) meanwhile.
  int append_attempts = 3;
  std::chrono::milliseconds retry_backoff{100};
  // When set, the counters are also exported there (see the constructor); must outlive the
  // logger.
  metrics::MetricsRegistry* metrics = nullptr;
};

// Takes prediction events off the serving path: a bounded in-memory queue in front of an
// EventStream, drained by one writer thread in batches (one Append per batch of up to
// max_batch events, or whatever is queued when it looks). The caller's thread never does I/O
// and never encodes: Log only moves the event into the queue under a short lock.
//
// Full queue: Log drops the event and counts it (Dropped(), DroppedFor(deployment_id)); never
// silently. LogOrWait instead waits, up to a deadline, for room (back-pressure for callers
// that asked for it).
//
// Failures: an event whose payload cannot be encoded (inputs/outputs not JSON) or whose batch
// still failed after `append_attempts` tries is counted in Failed() and logged; the logger
// keeps going.
//
// With `metrics`: cairn_prediction_log_appended_total, cairn_prediction_log_failed_total,
// cairn_prediction_log_dropped_total{deployment_id=...} and cairn_prediction_log_queue_depth.
//
// Thread-safety: every method may be called from any thread. The destructor calls Shutdown.
class PredictionLogger {
 public:
  // `stream` must outlive the logger. Starts the writer thread.
  PredictionLogger(EventStream& stream, PredictionLoggerOptions options);
  ~PredictionLogger();

  PredictionLogger(const PredictionLogger&) = delete;
  PredictionLogger& operator=(const PredictionLogger&) = delete;

  // Queues `event` for the writer; returns at once. False when the queue was full or the
  // logger shut down: the event is dropped and counted.
  bool Log(PredictionEvent event) EXCLUDES(mu_);

  // Queues `event`, waiting until `deadline` for room when the queue is full. RESOURCE_EXHAUSTED
  // when the deadline passes first, FAILED_PRECONDITION after Shutdown; in both cases the event
  // is dropped and counted as Log would.
  Status LogOrWait(PredictionEvent event, std::chrono::steady_clock::time_point deadline)
      EXCLUDES(mu_);

  // Waits until every event queued before the call has been appended (or given up), and the
  // deadline, when given, has not passed: UNAVAILABLE if it passes first. Returns the last
  // append error when events were given up during the wait, else OK.
  Status Flush(std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt)
      EXCLUDES(mu_);

  // Stops accepting events, lets the writer append everything already queued, and joins it.
  // Idempotent. Later Log calls drop (and count).
  void Shutdown() EXCLUDES(mu_);

  // Counters since construction.
  int64_t Appended() const { return appended_.load(std::memory_order_relaxed); }
  int64_t Failed() const { return failed_.load(std::memory_order_relaxed); }
  int64_t Dropped() const { return dropped_.load(std::memory_order_relaxed); }
  int64_t DroppedFor(std::string_view deployment_id) const EXCLUDES(mu_);
  // Events queued or being appended now.
  int64_t QueueDepth() const EXCLUDES(mu_);

 private:
  struct DropCount {
    int64_t count = 0;
    metrics::Counter* counter = nullptr;  // when exporting
  };

  void WriterLoop() EXCLUDES(mu_);
  void DropLocked(const PredictionEvent& event) REQUIRES(mu_);
  void PublishDepthLocked() REQUIRES(mu_);

  EventStream& stream_;
  const PredictionLoggerOptions options_;

  mutable Mutex mu_;
  std::condition_variable writer_cv_;  // work arrived or shutting down
  std::condition_variable space_cv_;   // room freed (LogOrWait)
  std::condition_variable done_cv_;    // events appended or given up (Flush)
  std::vector<PredictionEvent> queue_ GUARDED_BY(mu_);
  size_t in_flight_ GUARDED_BY(mu_) = 0;  // taken by the writer, not yet appended or given up
  int64_t accepted_ GUARDED_BY(mu_) = 0;  // events ever queued
  int64_t finished_ GUARDED_BY(mu_) = 0;  // events appended or given up, in queue order
  bool writer_waiting_ GUARDED_BY(mu_) = false;
  int space_waiters_ GUARDED_BY(mu_) = 0;
  bool stopping_ GUARDED_BY(mu_) = false;
  Status last_error_ GUARDED_BY(mu_);
  std::map<std::string, DropCount, std::less<>> dropped_by_deployment_ GUARDED_BY(mu_);

  std::atomic<int64_t> appended_{0};
  std::atomic<int64_t> failed_{0};
  std::atomic<int64_t> dropped_{0};

  metrics::Counter* appended_metric_ = nullptr;
  metrics::Counter* failed_metric_ = nullptr;
  metrics::Gauge* depth_metric_ = nullptr;

  Mutex shutdown_mu_;  // serialises Shutdown callers around the join
  std::thread writer_;
};

}  // namespace cairn::stream
