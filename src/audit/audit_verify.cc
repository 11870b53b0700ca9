#include "audit/audit_verify.h"

#include <string>

namespace cairn::audit {

std::string_view VerifyFailureName(VerifyFailure failure) {
  switch (failure) {
    case VerifyFailure::kNone:
      return "none";
    case VerifyFailure::kHashMismatch:
      return "hash_mismatch";
    case VerifyFailure::kBrokenLink:
      return "broken_link";
    case VerifyFailure::kSeqGap:
      return "seq_gap";
    case VerifyFailure::kTruncated:
      return "truncated";
    case VerifyFailure::kHeadMismatch:
      return "head_mismatch";
    case VerifyFailure::kAnchorMismatch:
      return "anchor_mismatch";
  }
  return "unknown";
}

StatusOr<VerifyResult> VerifyAuditChain(AuditStore& store, std::string_view key,
                                        const std::optional<AuditHead>& anchor) {
  VerifyResult result;
  auto fail = [&result](VerifyFailure failure, int64_t seq, std::string reason) {
    result.ok = false;
    result.failure = failure;
    result.first_bad_seq = seq;
    result.reason = std::move(reason);
  };

  // Read before the scan: every entry it names was committed with it, so the scan must see it.
  ASSIGN_OR_RETURN(const AuditHead head_before, store.Head());
  int64_t last_seq = 0;
  std::string last_hash(kGenesisHash);
  std::optional<std::string> hash_at_head;
  std::optional<std::string> hash_at_anchor;
  // Returned by the callback to stop the scan at the first failure; never escapes.
  EntryHasher hasher(key);
  const Status stop(StatusCode::kInternal, "audit verification stopped");
  Status scanned = store.Scan(1, [&](const AuditEntry& e) -> Status {
    const int64_t expected = last_seq + 1;
    if (e.seq != expected) {
      fail(VerifyFailure::kSeqGap, expected,
           "expected seq " + std::to_string(expected) + ", found " + std::to_string(e.seq));
      return stop;
    }
    if (hasher.Hash(e) != e.hash) {
      fail(VerifyFailure::kHashMismatch, e.seq,
           "entry " + std::to_string(e.seq) + " does not match its hash");
      return stop;
    }
    if (e.prev_hash != last_hash) {
      fail(VerifyFailure::kBrokenLink, e.seq,
           "entry " + std::to_string(e.seq) + " does not link to the entry before it");
      return stop;
    }
    last_seq = e.seq;
    last_hash = e.hash;
    ++result.entries_checked;
    if (e.seq == head_before.seq) hash_at_head = e.hash;
    if (anchor && e.seq == anchor->seq) hash_at_anchor = e.hash;
    return Status::Ok();
  });
  if (!result.ok) return result;
  RETURN_IF_ERROR(scanned);

  if (last_seq < head_before.seq) {
    fail(VerifyFailure::kTruncated, last_seq + 1,
         "the head checkpoint names seq " + std::to_string(head_before.seq) +
             " but the log ends at " + std::to_string(last_seq));
    return result;
  }
  if (head_before.seq > 0 && hash_at_head != head_before.hash) {
    fail(VerifyFailure::kHeadMismatch, head_before.seq,
         "the head checkpoint's hash differs from entry " + std::to_string(head_before.seq));
    return result;
  }
  if (anchor && anchor->seq > 0) {
    if (last_seq < anchor->seq) {
      fail(VerifyFailure::kTruncated, last_seq + 1,
           "the anchor names seq " + std::to_string(anchor->seq) + " but the log ends at " +
               std::to_string(last_seq));
      return result;
    }
    if (hash_at_anchor != anchor->hash) {
      fail(VerifyFailure::kAnchorMismatch, anchor->seq,
           "entry " + std::to_string(anchor->seq) + " differs from the anchor");
      return result;
    }
  }
  // The head only moves forward and every entry seen was committed before this read, so a head
  // behind the last entry means entries were added without moving it.
  ASSIGN_OR_RETURN(const AuditHead head_after, store.Head());
  if (head_after.seq < last_seq) {
    fail(
        VerifyFailure::kHeadMismatch, head_after.seq + 1,
        "entries are stored past the head checkpoint (seq " + std::to_string(head_after.seq) + ")");
  } else if (head_after.seq == last_seq && head_after.hash != last_hash) {
    fail(VerifyFailure::kHeadMismatch, last_seq,
         "the head checkpoint's hash differs from entry " + std::to_string(last_seq));
  }
  return result;
}

}  // namespace cairn::audit
