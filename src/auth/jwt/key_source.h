#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "auth/jwt/jwt_keys.h"
#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"

namespace cairn::auth {

// Where a JwtVerifier gets its keys.
//
// Thread-safety: every method may be called from many threads at once. A returned set is
// immutable and stays valid for as long as the caller holds it, even after the source moved on
// to a newer one.
class KeySource {
 public:
  virtual ~KeySource() = default;

  // The current key set. Never null on success. A source that fetches may fetch here (the
  // first time, or when its set is due for a refresh); errors are UNAVAILABLE (no set could be
  // obtained) and carry the reason for the logs.
  virtual StatusOr<std::shared_ptr<const JwtKeySet>> Keys() = 0;

  // Called after a token named `kid` and `seen` (the set Keys returned) has no key for it. A
  // source that fetches may refresh, at most once per its minimum interval however many
  // unknown kids arrive, and returns the set to retry with (possibly `seen` again).
  virtual StatusOr<std::shared_ptr<const JwtKeySet>> KeysAfterUnknownKid(
      std::string_view kid, const std::shared_ptr<const JwtKeySet>& seen) = 0;
};

// A fixed key set: PEM keys, HMAC secrets, or a JWKS file read once.
class StaticKeySource final : public KeySource {
 public:
  explicit StaticKeySource(JwtKeySet keys)
      : keys_(std::make_shared<const JwtKeySet>(std::move(keys))) {}

  // One key from a PEM file (see JwtKey::FromPem).
  static StatusOr<std::unique_ptr<StaticKeySource>> FromPemFile(const std::string& path,
                                                                std::string kid = "");
  // One HMAC key: the file's bytes (see LoadHmacSecretFile).
  static StatusOr<std::unique_ptr<StaticKeySource>> FromHmacSecretFile(const std::string& path,
                                                                       std::string kid = "");
  // The usable keys of a JWKS file (see ParseJwks); `skipped` (may be null) receives the reasons
  // for the keys left out.
  static StatusOr<std::unique_ptr<StaticKeySource>> FromJwksFile(
      const std::string& path, std::vector<std::string>* skipped = nullptr);

  StatusOr<std::shared_ptr<const JwtKeySet>> Keys() override { return keys_; }
  StatusOr<std::shared_ptr<const JwtKeySet>> KeysAfterUnknownKid(
      std::string_view, const std::shared_ptr<const JwtKeySet>& seen) override {
    return seen;
  }

 private:
  const std::shared_ptr<const JwtKeySet> keys_;
};

// Fetches a JWKS document: the body of a successful GET of `url`, or an error. Called on the
// verifying thread, never concurrently with itself for one JwksUrlKeySource.
using JwksFetchFn = std::function<StatusOr<std::string>(const std::string& url)>;

struct JwksUrlKeySourceOptions {
  std::string url;
  JwksFetchFn fetch;
  // The set is fetched again on use once it is this old (a failed refresh keeps the old set).
  int64_t refresh_interval_ms = 10 * 60 * 1000;
  // Fetches for unknown kids are at least this far apart (a flood of tokens with random kids
  // causes at most one per interval), and so are retries after a failed fetch (a failing
  // endpoint is not hammered).
  int64_t min_fetch_interval_ms = 30 * 1000;
  // Injected for tests; the default is SystemClock::Get(). Only MonotonicNanos is read.
  const Clock* clock = nullptr;
};

// A key set fetched from a JWKS URL and cached.
//
// The first Keys() call fetches (blocking). Later calls return the cached set, except that a
// call finding it older than refresh_interval_ms fetches again on its own thread while other
// threads go on with the old set. An unknown kid fetches again unless another unknown kid did in
// the last min_fetch_interval_ms; threads that miss while a fetch is in flight wait for it. A
// failed fetch or an unusable document keeps the previous set (a JWKS endpoint outage does not
// lock everyone out); without any set, Keys() fails UNAVAILABLE with the last error until the
// next attempt is allowed.
//
// Thread-safe.
class JwksUrlKeySource final : public KeySource {
 public:
  // INVALID_ARGUMENT when url or fetch is empty or an interval is negative.
  static StatusOr<std::unique_ptr<JwksUrlKeySource>> Create(JwksUrlKeySourceOptions options);

  StatusOr<std::shared_ptr<const JwtKeySet>> Keys() override EXCLUDES(mu_);
  StatusOr<std::shared_ptr<const JwtKeySet>> KeysAfterUnknownKid(
      std::string_view kid, const std::shared_ptr<const JwtKeySet>& seen) override EXCLUDES(mu_);

  // Fetch attempts so far, successful or not.
  int64_t FetchCountForTest() const EXCLUDES(mu_);

 private:
  explicit JwksUrlKeySource(JwksUrlKeySourceOptions options);

  enum class Why { kInitial, kPeriodic, kUnknownKid };
  // Fetches if `why` calls for it and the rate limit allows; returns the set to use.
  StatusOr<std::shared_ptr<const JwtKeySet>> MaybeFetch(Why why, std::string_view kid)
      EXCLUDES(mu_);
  int64_t NowMs() const;

  const JwksUrlKeySourceOptions options_;
  const Clock& clock_;

  mutable Mutex mu_;
  std::condition_variable fetched_cv_;
  std::shared_ptr<const JwtKeySet> keys_ GUARDED_BY(mu_);
  int64_t keys_fetched_ms_ GUARDED_BY(mu_) = 0;
  bool has_attempted_ GUARDED_BY(mu_) = false;
  int64_t last_attempt_ms_ GUARDED_BY(mu_) = 0;
  bool has_kid_fetched_ GUARDED_BY(mu_) = false;
  int64_t last_kid_fetch_ms_ GUARDED_BY(mu_) = 0;
  bool fetching_ GUARDED_BY(mu_) = false;
  Status last_error_ GUARDED_BY(mu_);
  int64_t fetch_count_ GUARDED_BY(mu_) = 0;
};

}  // namespace cairn::auth
