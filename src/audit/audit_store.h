#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_entry.h"
#include "base/status.h"

namespace cairn::audit {

// The newest entry of a chain: its seq and hash. {0, kGenesisHash} for an empty log.
struct AuditHead {
  int64_t seq = 0;
  std::string hash = std::string(kGenesisHash);

  bool operator==(const AuditHead&) const = default;
};

// Which entries a Query returns; every set field must match (AND). Entries come in seq order.
struct AuditFilter {
  std::optional<std::string> tenant;
  std::optional<std::string> principal;
  std::optional<std::string> action_prefix;  // byte prefix of `action`
  std::optional<std::string> outcome;
  std::optional<int64_t> from_ms;  // time_ms >= from_ms
  std::optional<int64_t> to_ms;    // time_ms < to_ms
  int64_t after_seq = 0;           // paging cursor: only entries with seq > after_seq
  int limit = 100;                 // 1..kMaxQueryLimit
};

inline constexpr int kMaxQueryLimit = 1000;

struct AuditPage {
  std::vector<AuditEntry> entries;
  // Pass as after_seq for the next page; nullopt when this page is the last.
  std::optional<int64_t> next_after_seq;
};

// Where the audit log keeps its entries and its head checkpoint. A store holds one chain and
// checks its shape (seqs contiguous, each prev_hash the hash before it) but never computes a
// hash: the key, when there is one, stays with AuditLog. One writer at a time (AuditLog's writer
// thread); reads from any thread. Implementations: SqlAuditStore.
class AuditStore {
 public:
  virtual ~AuditStore() = default;

  // Appends `entries` and moves the head to the last of them, atomically: after a crash either
  // all of them and the new head are stored or none. Returns once they are as durable as the
  // store's configuration makes them. INVALID_ARGUMENT for an empty batch; FAILED_PRECONDITION,
  // storing nothing, unless entries[0].seq is Head().seq + 1, entries[0].prev_hash is
  // Head().hash, and each later entry has the next seq and the previous entry's hash as
  // prev_hash (another writer got there first, or a bug).
  virtual Status AppendBatch(const std::vector<AuditEntry>& entries) = 0;

  // Entries matching `filter`, in seq order, at most filter.limit of them. INVALID_ARGUMENT when
  // limit is outside 1..kMaxQueryLimit or after_seq is negative.
  virtual StatusOr<AuditPage> Query(const AuditFilter& filter) = 0;

  // Calls `fn` with each stored entry whose seq >= from_seq, in seq order, as stored (no check),
  // reading in bounded chunks so memory stays constant however long the log. Entries appended
  // during the scan may or may not be seen. Stops at the first non-OK status `fn` returns and
  // returns it.
  using ScanFn = std::function<Status(const AuditEntry&)>;
  virtual Status Scan(int64_t from_seq, const ScanFn& fn) = 0;

  // The stored head checkpoint, which AppendBatch moves in the same transaction as the entries
  // it stores. {0, kGenesisHash} before the first append.
  virtual StatusOr<AuditHead> Head() = 0;
};

}  // namespace cairn::audit
