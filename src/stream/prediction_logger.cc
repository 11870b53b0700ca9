#include "stream/prediction_logger.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <span>
#include <utility>

namespace cairn::stream {

PredictionLogger::PredictionLogger(EventStream& stream, PredictionLoggerOptions options)
    : stream_(stream), options_(std::move(options)) {
  if (options_.metrics != nullptr) {
    appended_metric_ = &options_.metrics->GetCounter(
        "cairn_prediction_log_appended_total", "Prediction events appended to the event stream.");
    failed_metric_ = &options_.metrics->GetCounter(
        "cairn_prediction_log_failed_total",
        "Prediction events given up: not encodable, or their append kept failing.");
    depth_metric_ =
        &options_.metrics->GetGauge("cairn_prediction_log_queue_depth",
                                    "Prediction events queued in memory or being appended.");
  }
  MutexLock lock(shutdown_mu_);
  writer_ = std::thread([this] { WriterLoop(); });
}

PredictionLogger::~PredictionLogger() { Shutdown(); }

bool PredictionLogger::Log(PredictionEvent event) {
  bool wake = false;
  {
    MutexLock lock(mu_);
    if (stopping_ || queue_.size() + in_flight_ >= options_.queue_capacity) {
      DropLocked(event);
      return false;
    }
    queue_.push_back(std::move(event));
    ++accepted_;
    PublishDepthLocked();
    wake = writer_waiting_;
  }
  if (wake) writer_cv_.notify_one();
  return true;
}

Status PredictionLogger::LogOrWait(PredictionEvent event,
                                   std::chrono::steady_clock::time_point deadline) {
  bool wake = false;
  {
    MutexLock lock(mu_);
    ++space_waiters_;
    while (!stopping_ && queue_.size() + in_flight_ >= options_.queue_capacity) {
      if (!lock.WaitUntil(space_cv_, deadline)) break;
    }
    --space_waiters_;
    if (stopping_) {
      DropLocked(event);
      return FailedPrecondition("prediction logger is shut down");
    }
    if (queue_.size() + in_flight_ >= options_.queue_capacity) {
      DropLocked(event);
      return {StatusCode::kResourceExhausted, "prediction log queue full (" +
                                                  std::to_string(options_.queue_capacity) +
                                                  " events) until the deadline"};
    }
    queue_.push_back(std::move(event));
    ++accepted_;
    PublishDepthLocked();
    wake = writer_waiting_;
  }
  if (wake) writer_cv_.notify_one();
  return Status::Ok();
}

Status PredictionLogger::Flush(std::optional<std::chrono::steady_clock::time_point> deadline) {
  MutexLock lock(mu_);
  const int64_t target = accepted_;
  const int64_t failed_before = failed_.load(std::memory_order_relaxed);
  while (finished_ < target) {
    if (!deadline.has_value()) {
      lock.Wait(done_cv_);
    } else if (!lock.WaitUntil(done_cv_, *deadline) && finished_ < target) {
      return Unavailable("prediction log flush: " + std::to_string(target - finished_) +
                         " events still queued at the deadline");
    }
  }
  if (failed_.load(std::memory_order_relaxed) > failed_before) return last_error_;
  return Status::Ok();
}

void PredictionLogger::Shutdown() {
  MutexLock shutdown_lock(shutdown_mu_);
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  writer_cv_.notify_all();
  space_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

int64_t PredictionLogger::DroppedFor(std::string_view deployment_id) const {
  MutexLock lock(mu_);
  auto it = dropped_by_deployment_.find(deployment_id);
  return it == dropped_by_deployment_.end() ? 0 : it->second.count;
}

int64_t PredictionLogger::QueueDepth() const {
  MutexLock lock(mu_);
  return static_cast<int64_t>(queue_.size() + in_flight_);
}

void PredictionLogger::DropLocked(const PredictionEvent& event) {
  dropped_.fetch_add(1, std::memory_order_relaxed);
  auto it = dropped_by_deployment_.find(event.deployment_id);
  if (it == dropped_by_deployment_.end()) {
    DropCount count;
    if (options_.metrics != nullptr) {
      count.counter = &options_.metrics->GetCounter(
          "cairn_prediction_log_dropped_total",
          "Prediction events dropped: the in-memory queue was full or the logger shut down.",
          {{"deployment_id", event.deployment_id}});
    }
    it = dropped_by_deployment_.emplace(event.deployment_id, count).first;
  }
  ++it->second.count;
  if (it->second.counter != nullptr) it->second.counter->Increment();
}

void PredictionLogger::PublishDepthLocked() {
  if (depth_metric_ != nullptr) {
    depth_metric_->Set(static_cast<double>(queue_.size() + in_flight_));
  }
}

void PredictionLogger::WriterLoop() {
  std::vector<PredictionEvent> taken;
  std::vector<Event> batch;
  batch.reserve(options_.max_batch);
  MutexLock lock(mu_);
  while (true) {
    while (queue_.empty() && !stopping_) {
      writer_waiting_ = true;
      lock.Wait(writer_cv_);
      writer_waiting_ = false;
    }
    if (queue_.empty()) return;  // stopping, and everything queued is appended
    // O(1) under the lock: the callers of Log never wait for more than a swap.
    taken.swap(queue_);
    in_flight_ = taken.size();
    lock.Unlock();

    const size_t max_batch = std::max<size_t>(1, options_.max_batch);
    for (size_t begin = 0; begin < taken.size(); begin += max_batch) {
      std::span<const PredictionEvent> chunk(taken.data() + begin,
                                             std::min(max_batch, taken.size() - begin));
      Status error;
      int64_t given_up = 0;
      batch.clear();
      for (const PredictionEvent& event : chunk) {
        StatusOr<Event> encoded = ToStreamEvent(event);
        if (encoded.ok()) {
          batch.push_back(std::move(encoded).value());
        } else {
          ++given_up;
          error = encoded.status();
        }
      }
      if (!error.ok()) {
        spdlog::warn("prediction log: {} events not encodable, dropped: {}", given_up,
                     error.ToString());
      }
      int64_t appended = 0;
      if (!batch.empty()) {
        Status append_error = Status::Ok();
        for (int attempt = 1;; ++attempt) {
          StatusOr<std::vector<int64_t>> offsets = stream_.Append(options_.topic, batch);
          if (offsets.ok()) {
            appended = static_cast<int64_t>(batch.size());
            break;
          }
          append_error = offsets.status();
          if (attempt >= options_.append_attempts) break;
          std::this_thread::sleep_for(options_.retry_backoff);
        }
        if (appended == 0) {
          given_up += static_cast<int64_t>(batch.size());
          error = append_error;
          spdlog::error("prediction log: append of {} events failed {} times, dropped: {}",
                        batch.size(), std::max(1, options_.append_attempts),
                        append_error.ToString());
        }
      }
      if (appended_metric_ != nullptr && appended > 0) {
        appended_metric_->Increment(static_cast<double>(appended));
      }
      if (failed_metric_ != nullptr && given_up > 0) {
        failed_metric_->Increment(static_cast<double>(given_up));
      }
      bool notify_space = false;
      {
        MutexLock progress(mu_);
        in_flight_ -= chunk.size();
        finished_ += static_cast<int64_t>(chunk.size());
        appended_.fetch_add(appended, std::memory_order_relaxed);
        if (given_up > 0) {
          failed_.fetch_add(given_up, std::memory_order_relaxed);
          last_error_ = error;
        }
        PublishDepthLocked();
        notify_space = space_waiters_ > 0;
      }
      if (notify_space) space_cv_.notify_all();
      done_cv_.notify_all();
    }
    taken.clear();
    lock.Lock();
  }
}

}  // namespace cairn::stream
