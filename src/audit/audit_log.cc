#include "audit/audit_log.h"

#include <spdlog/spdlog.h>

#include <iterator>
#include <utility>

#include "base/utf8.h"

namespace cairn::audit {
namespace {

// Stored text is UTF-8, so an export is lossless and can be verified from the JSON alone.
void MakeValidUtf8(std::string& s) {
  if (!IsValidUtf8(s)) s = ToValidUtf8(s);
}

void Sanitize(AuditEntry& e) {
  MakeValidUtf8(e.principal);
  MakeValidUtf8(e.tenant);
  MakeValidUtf8(e.action);
  MakeValidUtf8(e.resource);
  MakeValidUtf8(e.outcome);
  MakeValidUtf8(e.request_id);
  MakeValidUtf8(e.client);
}

// Gives `entries` the seqs and links that follow `head`, and their hashes.
void Chain(const AuditHead& head, std::vector<AuditEntry>& entries, EntryHasher& hasher) {
  int64_t seq = head.seq;
  const std::string* prev = &head.hash;
  for (AuditEntry& e : entries) {
    e.seq = ++seq;
    e.prev_hash = *prev;
    e.hash = hasher.Hash(e);
    prev = &e.hash;
  }
}

}  // namespace

StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(AuditStore& store, AuditLogOptions options) {
  if (options.queue_capacity == 0 || options.max_batch == 0 || options.append_attempts < 1) {
    return InvalidArgument("audit log: queue_capacity, max_batch and append_attempts must be > 0");
  }
  ASSIGN_OR_RETURN(AuditHead head, store.Head());
  if (head.seq > 0) {
    // Refuse to extend a chain this key did not write (or whose tail was altered): every entry
    // after it would verify only from here on.
    std::optional<AuditEntry> last;
    RETURN_IF_ERROR(store.Scan(head.seq, [&](const AuditEntry& e) {
      if (!last) last = e;
      return Status::Ok();
    }));
    if (!last || last->seq != head.seq || last->hash != head.hash ||
        EntryHash(*last, options.key) != last->hash) {
      return FailedPrecondition("audit log: the stored head (seq " + std::to_string(head.seq) +
                                ") does not verify with the configured key; wrong key, or the "
                                "log was altered");
    }
  }
  return std::unique_ptr<AuditLog>(new AuditLog(store, std::move(options), std::move(head)));
}

AuditLog::AuditLog(AuditStore& store, AuditLogOptions options, AuditHead head)
    : store_(store),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Get()),
      hasher_(options_.key) {
  if (options_.metrics != nullptr) {
    metrics::MetricsRegistry& r = *options_.metrics;
    metrics_.appended = &r.GetCounter("cairn_audit_appended_total", "Audit entries committed.");
    metrics_.batches =
        &r.GetCounter("cairn_audit_batches_total", "Audit batches committed (group commits).");
    metrics_.failed = &r.GetCounter("cairn_audit_failed_total",
                                    "Audit entries not stored because the store kept failing.");
    metrics_.rejected = &r.GetCounter("cairn_audit_rejected_total",
                                      "Audit appends refused (queue full, or log stopped).");
    metrics_.dropped = &r.GetCounter("cairn_audit_dropped_total",
                                     "Fire-and-forget audit records dropped (queue full).");
    metrics_.blocked = &r.GetCounter("cairn_audit_blocked_total",
                                     "Audit appends that waited for room in the queue.");
    metrics_.queue_depth =
        &r.GetGauge("cairn_audit_queue_depth", "Audit entries queued or being written.");
    metrics_.head_seq = &r.GetGauge("cairn_audit_head_seq", "Seq of the newest audit entry.");
  }
  {
    MutexLock lock(mu_);
    head_ = std::move(head);
    stats_.head_seq = head_.seq;
    PublishLocked();
  }
  writer_ = std::thread([this] { WriterLoop(); });
}

AuditLog::~AuditLog() { Stop(); }

bool AuditLog::Enqueue(Pending& pending, bool wait, Status& refused) {
  if (pending.entry.time_ms == 0) pending.entry.time_ms = clock_.NowMillis();
  MutexLock lock(mu_);
  if (!stopping_ && queue_.size() >= options_.queue_capacity && wait) {
    ++stats_.blocked;
    if (metrics_.blocked != nullptr) metrics_.blocked->Increment();
    ++space_waiters_;
    while (!stopping_ && queue_.size() >= options_.queue_capacity) lock.Wait(space_cv_);
    --space_waiters_;
  }
  if (stopping_) {
    refused = FailedPrecondition("audit log stopped");
    return false;
  }
  if (queue_.size() >= options_.queue_capacity) {
    refused = Status(StatusCode::kResourceExhausted, "audit queue full");
    return false;
  }
  queue_.push_back(std::move(pending));
  ++accepted_;
  PublishLocked();
  if (writer_waiting_) writer_cv_.notify_one();
  return true;
}

void AuditLog::Append(AuditEntry entry, DurableFn durable) {
  Pending pending{std::move(entry), std::move(durable)};
  Status refused;
  if (Enqueue(pending, options_.block_when_full, refused)) return;
  {
    MutexLock lock(mu_);
    ++stats_.rejected;
  }
  if (metrics_.rejected != nullptr) metrics_.rejected->Increment();
  if (pending.durable) pending.durable(refused);
}

bool AuditLog::Record(AuditEntry entry) {
  Pending pending{std::move(entry), nullptr};
  Status refused;
  if (Enqueue(pending, /*wait=*/false, refused)) return true;
  int64_t dropped = 0;
  {
    MutexLock lock(mu_);
    dropped = ++stats_.dropped;
  }
  if (metrics_.dropped != nullptr) metrics_.dropped->Increment();
  // Loud but bounded: the first drop and every 1000th after it.
  if (dropped % 1000 == 1) {
    spdlog::warn("audit record dropped ({}); {} dropped so far", refused.ToString(), dropped);
  }
  return false;
}

Status AuditLog::Flush() {
  MutexLock lock(mu_);
  const int64_t target = accepted_;
  const int64_t failed_before = stats_.failed;
  while (finished_ < target) lock.Wait(done_cv_);
  return stats_.failed != failed_before ? last_error_ : Status::Ok();
}

void AuditLog::Stop() {
  MutexLock stop_lock(stop_mu_);
  {
    MutexLock lock(mu_);
    stopping_ = true;
    writer_cv_.notify_one();
    space_cv_.notify_all();
  }
  if (writer_.joinable()) writer_.join();
}

void AuditLog::WriterLoop() {
  std::deque<Pending> taken;
  std::vector<AuditEntry> entries;
  std::vector<DurableFn> callbacks;
  while (true) {
    {
      MutexLock lock(mu_);
      while (queue_.empty() && !stopping_) {
        writer_waiting_ = true;
        lock.Wait(writer_cv_);
        writer_waiting_ = false;
      }
      if (queue_.empty()) return;  // stopping, and drained
      if (queue_.size() <= options_.max_batch) {
        taken.swap(queue_);  // the common case, O(1) under the lock
      } else {
        auto end = queue_.begin() + static_cast<std::ptrdiff_t>(options_.max_batch);
        taken.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
        queue_.erase(queue_.begin(), end);
      }
      in_flight_ = taken.size();
      if (space_waiters_ > 0) space_cv_.notify_all();
      PublishLocked();
    }
    entries.clear();
    callbacks.clear();
    for (Pending& p : taken) {
      entries.push_back(std::move(p.entry));
      callbacks.push_back(std::move(p.durable));
    }
    taken.clear();
    const auto n = static_cast<int64_t>(entries.size());
    Status status = WriteBatch(entries);
    for (DurableFn& done : callbacks) {
      if (done) done(status);
    }
    MutexLock lock(mu_);
    finished_ += n;
    in_flight_ = 0;
    if (status.ok()) {
      stats_.appended += n;
      ++stats_.batches;
      if (metrics_.appended != nullptr) {
        metrics_.appended->Increment(static_cast<double>(n));
        metrics_.batches->Increment();
      }
    } else {
      stats_.failed += n;
      last_error_ = status;
      if (metrics_.failed != nullptr) metrics_.failed->Increment(static_cast<double>(n));
    }
    stats_.head_seq = head_.seq;
    PublishLocked();
    done_cv_.notify_all();
  }
}

Status AuditLog::WriteBatch(std::vector<AuditEntry>& entries) {
  AuditHead head;
  {
    MutexLock lock(mu_);
    head = head_;
  }
  for (AuditEntry& e : entries) Sanitize(e);
  Status status;
  // Another replica appending to the same store moves its head: the batch is chained again from
  // the new head at once, which is no failure (bounded, in case the head keeps moving).
  int head_moves = 0;
  constexpr int kMaxHeadMoves = 1000;
  for (int attempt = 1; attempt <= options_.append_attempts; ++attempt) {
    Chain(head, entries, hasher_);
    status = store_.AppendBatch(entries);
    if (status.ok()) break;
    if (status.code() == StatusCode::kFailedPrecondition && head_moves < kMaxHeadMoves) {
      StatusOr<AuditHead> moved = store_.Head();
      if (moved.ok() && (moved->seq != head.seq || moved->hash != head.hash)) {
        head = std::move(moved).value();
        ++head_moves;
        --attempt;
        continue;
      }
    }
    spdlog::warn("audit append of {} entries failed (attempt {} of {}): {}", entries.size(),
                 attempt, options_.append_attempts, status.ToString());
    // Chain from what the store holds: a failure may still have committed, or left it as it was.
    StatusOr<AuditHead> stored = store_.Head();
    if (stored.ok() && stored->seq == entries.back().seq && stored->hash == entries.back().hash) {
      status = Status::Ok();
      break;
    }
    if (stored.ok()) head = std::move(stored).value();
    if (attempt < options_.append_attempts) std::this_thread::sleep_for(options_.retry_backoff);
  }
  MutexLock lock(mu_);
  head_ = status.ok() ? AuditHead{entries.back().seq, entries.back().hash} : head;
  return status;
}

void AuditLog::PublishLocked() {
  stats_.queue_depth = static_cast<int64_t>(queue_.size() + in_flight_);
  if (metrics_.queue_depth != nullptr) {
    metrics_.queue_depth->Set(static_cast<double>(stats_.queue_depth));
    metrics_.head_seq->Set(static_cast<double>(head_.seq));
  }
}

StatusOr<VerifyResult> AuditLog::Verify(const std::optional<AuditHead>& anchor) {
  return VerifyAuditChain(store_, options_.key, anchor);
}

Status AuditLog::ExportJsonLines(AuditFilter filter,
                                 const std::function<Status(std::string_view)>& write) {
  while (true) {
    ASSIGN_OR_RETURN(AuditPage page, store_.Query(filter));
    for (const AuditEntry& e : page.entries) RETURN_IF_ERROR(write(ToJsonLine(e)));
    if (!page.next_after_seq) return Status::Ok();
    filter.after_seq = *page.next_after_seq;
  }
}

AuditHead AuditLog::Head() const {
  MutexLock lock(mu_);
  return head_;
}

AuditLogStats AuditLog::Stats() const {
  MutexLock lock(mu_);
  AuditLogStats stats = stats_;
  stats.queue_depth = static_cast<int64_t>(queue_.size() + in_flight_);
  return stats;
}

}  // namespace cairn::audit
