#include "stream/event_logger.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace cairn::stream {

EventLogger::EventLogger(EventStream& stream, EventLoggerOptions options)
    : stream_(stream), options_(std::move(options)) {
  if (options_.metrics != nullptr) {
    const metrics::MetricLabels labels = {{"topic", options_.topic}};
    appended_metric_ = &options_.metrics->GetCounter(
        "cairn_event_log_appended_total", "Events appended to the event stream, by topic.", labels);
    failed_metric_ = &options_.metrics->GetCounter(
        "cairn_event_log_failed_total",
        "Events given up after failed appends to the event stream, by topic.", labels);
    dropped_metric_ = &options_.metrics->GetCounter(
        "cairn_event_log_dropped_total",
        "Events dropped before the event stream: the in-memory queue was full.", labels);
  }
  writer_ = std::thread([this] { WriterLoop(); });
}

EventLogger::~EventLogger() { Shutdown(); }

bool EventLogger::Log(Event event) {
  {
    MutexLock lock(mu_);
    if (!stopping_ && queue_.size() + in_flight_ < options_.queue_capacity) {
      queue_.push_back(std::move(event));
      ++accepted_;
      writer_cv_.notify_one();
      return true;
    }
  }
  dropped_.fetch_add(1);
  if (dropped_metric_ != nullptr) dropped_metric_->Increment();
  return false;
}

Status EventLogger::Flush(std::optional<std::chrono::steady_clock::time_point> deadline) {
  MutexLock lock(mu_);
  const int64_t target = accepted_;
  last_error_ = Status::Ok();
  while (finished_ < target) {
    if (!deadline) {
      lock.Wait(done_cv_);
    } else if (!lock.WaitUntil(done_cv_, *deadline) && finished_ < target) {
      return Unavailable("event log flush: " + std::to_string(target - finished_) +
                         " events still queued");
    }
  }
  return last_error_;
}

void EventLogger::Shutdown() {
  MutexLock shutdown(shutdown_mu_);
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  writer_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void EventLogger::WriterLoop() {
  MutexLock lock(mu_);
  while (true) {
    while (queue_.empty() && !stopping_) lock.Wait(writer_cv_);
    if (queue_.empty() && stopping_) return;
    const size_t n = std::min(queue_.size(), options_.max_batch);
    std::vector<Event> batch(std::make_move_iterator(queue_.begin()),
                             std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
    in_flight_ = n;
    lock.Unlock();
    Status status = Status::Ok();
    for (int attempt = 1; attempt <= std::max(1, options_.append_attempts); ++attempt) {
      status = stream_.Append(options_.topic, batch).status();
      if (status.ok() || status.code() == StatusCode::kInvalidArgument) break;
      if (attempt < options_.append_attempts) std::this_thread::sleep_for(options_.retry_backoff);
    }
    if (status.ok()) {
      appended_.fetch_add(static_cast<int64_t>(n));
      if (appended_metric_ != nullptr) appended_metric_->Increment(static_cast<double>(n));
    } else {
      spdlog::error("event log: append of {} events to {} failed, given up: {}", n, options_.topic,
                    status.message());
      failed_.fetch_add(static_cast<int64_t>(n));
      if (failed_metric_ != nullptr) failed_metric_->Increment(static_cast<double>(n));
    }
    lock.Lock();
    in_flight_ = 0;
    finished_ += static_cast<int64_t>(n);
    if (!status.ok()) last_error_ = status;
    done_cv_.notify_all();
  }
}

}  // namespace cairn::stream
