#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace cairn::audit {

// The outcomes the server records; `AuditEntry::outcome` holds one of them.
inline constexpr std::string_view kOutcomeOk = "ok";
inline constexpr std::string_view kOutcomeError = "error";
inline constexpr std::string_view kOutcomeDenied = "denied";
inline constexpr std::string_view kOutcomeUnauthenticated = "unauthenticated";
inline constexpr std::string_view kOutcomeRateLimited = "rate_limited";

// prev_hash of the first entry of every chain.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// One record of the audit log: who did what to which resource, and how it ended. The caller
// fills the request fields; AuditLog assigns seq, prev_hash and hash.
struct AuditEntry {
  int64_t seq = 0;      // 1, 2, 3, ... without gaps, assigned by the log
  int64_t time_ms = 0;  // Unix epoch milliseconds; AuditLog fills 0 from its clock
  std::string principal;
  std::string tenant;
  std::string action;    // e.g. "POST /api/2.0/mlflow/runs/create"
  std::string resource;  // e.g. a run id or model name; may be empty
  std::string outcome;   // one of kOutcome*
  int status = 0;        // HTTP status code of the answer
  std::string request_id;
  std::string client;     // the peer's address
  std::string prev_hash;  // hash of entry seq - 1 (kGenesisHash for seq 1), lowercase hex
  std::string hash;       // EntryHash of this entry, lowercase hex

  bool operator==(const AuditEntry&) const = default;
};

// The bytes the hash covers: a version tag, then every field but `hash` in declaration order,
// integers as 8-byte big-endian two's complement and strings as an 8-byte big-endian length
// followed by the bytes. Unambiguous: no two different entries serialise the same.
std::string CanonicalBytes(const AuditEntry& entry);

// Lowercase hex of SHA-256(CanonicalBytes(entry)) when `key` is empty, else of
// HMAC-SHA256(key, CanonicalBytes(entry)). Empty if OpenSSL fails (it matches no hash).
std::string EntryHash(const AuditEntry& entry, std::string_view key);

// EntryHash for many entries with one key, keeping the OpenSSL state between calls (several
// times cheaper per entry). Not thread-safe: one per thread.
class EntryHasher {
 public:
  explicit EntryHasher(std::string_view key);
  ~EntryHasher();
  EntryHasher(const EntryHasher&) = delete;
  EntryHasher& operator=(const EntryHasher&) = delete;

  std::string Hash(const AuditEntry& entry);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// One JSON object on one line, ending in '\n', with every field (strings escaped as JSON
// requires, so quotes, newlines and control characters cannot break the line; bytes that are not
// UTF-8 become U+FFFD).
std::string ToJsonLine(const AuditEntry& entry);

}  // namespace cairn::audit
