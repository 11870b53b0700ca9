#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "audit/audit_store.h"
#include "base/status.h"

namespace cairn::audit {

enum class VerifyFailure {
  kNone,
  kHashMismatch,    // an entry's fields do not hash to its stored hash (edited or forged)
  kBrokenLink,      // an entry's prev_hash is not the previous entry's hash
  kSeqGap,          // seqs are not 1, 2, 3, ...: an entry deleted, inserted or renumbered
  kTruncated,       // the head checkpoint (or the anchor) names entries no longer stored
  kHeadMismatch,    // the head checkpoint disagrees with the entry it names, or trails it
  kAnchorMismatch,  // the stored entry at the anchor's seq has another hash
};

std::string_view VerifyFailureName(VerifyFailure failure);

struct VerifyResult {
  bool ok = true;
  int64_t entries_checked = 0;
  // When !ok: the first seq found wrong (for a gap or a truncation, the first missing one), the
  // kind of failure, and a sentence for people.
  int64_t first_bad_seq = 0;
  VerifyFailure failure = VerifyFailure::kNone;
  std::string reason;
};

// Checks the chain in `store` from seq 1, streaming through Scan at constant memory: every
// entry's seq is the next one, its prev_hash the previous entry's hash (kGenesisHash for the
// first), its hash EntryHash(entry, key); then the store's head checkpoint must name an entry
// that was seen with that hash, and no entry may be stored beyond the head (entries appended
// during the check are allowed). With `anchor` (a head recorded earlier, outside the store),
// the entry at anchor->seq must be stored with anchor->hash. Stops at the first failure.
// A non-OK status only when the store cannot be read.
StatusOr<VerifyResult> VerifyAuditChain(AuditStore& store, std::string_view key,
                                        const std::optional<AuditHead>& anchor = std::nullopt);

}  // namespace cairn::audit
