#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "audit/audit_entry.h"
#include "audit/audit_store.h"
#include "audit/audit_verify.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "metrics/metrics_registry.h"

namespace cairn::audit {

struct AuditLogOptions {
  // HMAC-SHA256 key for the chain; empty chains with plain SHA-256. With a key, someone who can
  // write the store but does not know the key cannot forge a hash. Must be the same on every
  // open of one store.
  std::string key;
  // Entries waiting in the queue, at most (the batch being written is not counted).
  size_t queue_capacity = 100000;
  // Entries per AppendBatch at most.
  size_t max_batch = 4096;
  // Append on a full queue: true waits for room (back-pressure, counted in Stats().blocked);
  // false answers its callback RESOURCE_EXHAUSTED at once (counted in Stats().rejected).
  bool block_when_full = true;
  // A failed AppendBatch is tried this many times in all, `retry_backoff` apart, before its
  // entries are failed (callbacks get the error; counted in Stats().failed).
  int append_attempts = 3;
  std::chrono::milliseconds retry_backoff{50};
  // Fills time_ms of entries that arrive with 0. Must outlive the log; null: the system clock.
  const Clock* clock = nullptr;
  // When set, the counters are also exported there: cairn_audit_appended_total,
  // cairn_audit_batches_total, cairn_audit_failed_total, cairn_audit_rejected_total,
  // cairn_audit_dropped_total, cairn_audit_blocked_total, cairn_audit_queue_depth and
  // cairn_audit_head_seq. Must outlive the log.
  metrics::MetricsRegistry* metrics = nullptr;
};

// Counters since Open.
struct AuditLogStats {
  int64_t appended = 0;     // entries committed
  int64_t batches = 0;      // AppendBatch calls that committed
  int64_t failed = 0;       // entries whose batch failed for good
  int64_t rejected = 0;     // Append refused: queue full without blocking, or after Stop
  int64_t dropped = 0;      // Record refused: queue full, or after Stop
  int64_t blocked = 0;      // Append calls that waited for room
  int64_t queue_depth = 0;  // queued or being written now
  int64_t head_seq = 0;     // newest committed seq
};

// The tamper-evident audit log the server writes on every request. Entries go into a bounded
// in-memory queue; one writer thread takes everything queued (up to max_batch), gives each
// entry the next seq, the previous entry's hash as prev_hash and its own hash (so callers pay
// only the queue push, never the hashing), and stores the lot with one AppendBatch. Group
// commit: whatever arrives while a batch is being written goes into the next one.
//
// Never drops silently: a full queue blocks Append (or rejects it, by option) and drops Record,
// each counted in Stats().
//
// Restart: Open resumes the chain from the store's head, after checking that the head entry's
// hash verifies with the configured key.
//
// Thread-safety: every method may be called from any thread. Callbacks run on the writer thread
// and must be quick and must not call back into the log.
class AuditLog {
 public:
  using DurableFn = std::function<void(Status)>;

  // `store` must outlive the log. FAILED_PRECONDITION when the stored head entry does not verify
  // with options.key (another key, or the tail was tampered with). Starts the writer thread.
  static StatusOr<std::unique_ptr<AuditLog>> Open(AuditStore& store, AuditLogOptions options);
  ~AuditLog();  // Stop()

  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Queues `entry` (its seq, prev_hash and hash are overwritten; a time_ms of 0 is filled from
  // the clock). `durable`, when set, is called once: with OK after the commit that holds the
  // entry, or with the error that kept it out (RESOURCE_EXHAUSTED: queue full and
  // block_when_full off; FAILED_PRECONDITION: after Stop; else the store's error).
  void Append(AuditEntry entry, DurableFn durable) EXCLUDES(mu_);
  // Fire-and-forget, for records no answer waits on (failed authentication, say): never blocks.
  // False, with the entry counted in Stats().dropped, when the queue is full or after Stop.
  bool Record(AuditEntry entry) EXCLUDES(mu_);

  // Waits until every entry queued before the call has been committed or failed. Returns the
  // last store error seen during the wait, else OK.
  Status Flush() EXCLUDES(mu_);
  // Stops taking entries, commits everything queued, and joins the writer. Idempotent.
  void Stop() EXCLUDES(mu_, stop_mu_);

  // Checks the whole stored chain with this log's key (see VerifyAuditChain).
  StatusOr<VerifyResult> Verify(const std::optional<AuditHead>& anchor = std::nullopt);
  // Writes the entries matching `filter` (all pages, from filter.after_seq on; filter.limit is
  // the page size) as JSON lines (ToJsonLine), one `write` call per line. Stops at the first
  // error `write` returns and returns it.
  Status ExportJsonLines(AuditFilter filter, const std::function<Status(std::string_view)>& write);
  StatusOr<AuditPage> Query(const AuditFilter& filter) { return store_.Query(filter); }

  // The newest committed entry's seq and hash: worth copying somewhere the store's writers
  // cannot reach, as the anchor a later Verify checks the tail against.
  AuditHead Head() const EXCLUDES(mu_);
  AuditLogStats Stats() const EXCLUDES(mu_);

 private:
  struct Pending {
    AuditEntry entry;
    DurableFn durable;
  };

  AuditLog(AuditStore& store, AuditLogOptions options, AuditHead head);
  // Queues under mu_; false when there is no room (and `wait` is off) or after Stop.
  bool Enqueue(Pending& pending, bool wait, Status& refused) EXCLUDES(mu_);
  void WriterLoop() EXCLUDES(mu_);
  // Chains and stores one batch after head_, moving head_ on success; returns the store's final
  // status.
  Status WriteBatch(std::vector<AuditEntry>& entries) EXCLUDES(mu_);
  void PublishLocked() REQUIRES(mu_);

  AuditStore& store_;
  const AuditLogOptions options_;
  const Clock& clock_;

  mutable Mutex mu_;
  std::condition_variable writer_cv_;  // work arrived, or stopping
  std::condition_variable space_cv_;   // room freed
  std::condition_variable done_cv_;    // a batch finished (Flush)
  std::deque<Pending> queue_ GUARDED_BY(mu_);
  size_t in_flight_ GUARDED_BY(mu_) = 0;
  int64_t accepted_ GUARDED_BY(mu_) = 0;  // entries ever queued
  int64_t finished_ GUARDED_BY(mu_) = 0;  // entries committed or failed, in queue order
  bool writer_waiting_ GUARDED_BY(mu_) = false;
  int space_waiters_ GUARDED_BY(mu_) = 0;
  bool stopping_ GUARDED_BY(mu_) = false;
  Status last_error_ GUARDED_BY(mu_);
  AuditHead head_ GUARDED_BY(mu_);  // committed; the writer alone moves it
  AuditLogStats stats_ GUARDED_BY(mu_);

  struct Metrics {
    metrics::Counter* appended = nullptr;
    metrics::Counter* batches = nullptr;
    metrics::Counter* failed = nullptr;
    metrics::Counter* rejected = nullptr;
    metrics::Counter* dropped = nullptr;
    metrics::Counter* blocked = nullptr;
    metrics::Gauge* queue_depth = nullptr;
    metrics::Gauge* head_seq = nullptr;
  } metrics_;

  EntryHasher hasher_;  // used only by the writer thread

  Mutex stop_mu_;  // serialises Stop callers around the join
  std::thread writer_;
};

}  // namespace cairn::audit
