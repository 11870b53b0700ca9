#include "auth/jwt/key_source.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace cairn::auth {
namespace {

StatusOr<std::unique_ptr<StaticKeySource>> FromKey(StatusOr<JwtKey> key) {
  if (!key.ok()) return key.status();
  std::vector<JwtKey> keys;
  keys.push_back(std::move(key).value());
  return std::make_unique<StaticKeySource>(JwtKeySet(std::move(keys)));
}

}  // namespace

StatusOr<std::unique_ptr<StaticKeySource>> StaticKeySource::FromPemFile(const std::string& path,
                                                                        std::string kid) {
  return FromKey(LoadPemKeyFile(path, std::move(kid)));
}

StatusOr<std::unique_ptr<StaticKeySource>> StaticKeySource::FromHmacSecretFile(
    const std::string& path, std::string kid) {
  return FromKey(LoadHmacSecretFile(path, std::move(kid)));
}

StatusOr<std::unique_ptr<StaticKeySource>> StaticKeySource::FromJwksFile(
    const std::string& path, std::vector<std::string>* skipped) {
  ASSIGN_OR_RETURN(std::string json, ReadKeyFile(path));
  auto parsed = ParseJwks(json);
  if (!parsed.ok()) return InvalidArgument(path + ": " + parsed.status().message());
  if (skipped != nullptr) *skipped = std::move(parsed->skipped);
  return std::make_unique<StaticKeySource>(JwtKeySet(std::move(parsed->keys)));
}

StatusOr<std::unique_ptr<JwksUrlKeySource>> JwksUrlKeySource::Create(
    JwksUrlKeySourceOptions options) {
  if (options.url.empty()) return InvalidArgument("JWKS source: empty url");
  if (!options.fetch) return InvalidArgument("JWKS source: no fetch function");
  if (options.refresh_interval_ms < 0 || options.min_fetch_interval_ms < 0) {
    return InvalidArgument("JWKS source: negative interval");
  }
  return std::unique_ptr<JwksUrlKeySource>(new JwksUrlKeySource(std::move(options)));
}

JwksUrlKeySource::JwksUrlKeySource(JwksUrlKeySourceOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : SystemClock::Get()) {}

int64_t JwksUrlKeySource::NowMs() const { return clock_.MonotonicNanos() / 1'000'000; }

StatusOr<std::shared_ptr<const JwtKeySet>> JwksUrlKeySource::Keys() {
  return MaybeFetch(Why::kPeriodic, {});
}

StatusOr<std::shared_ptr<const JwtKeySet>> JwksUrlKeySource::KeysAfterUnknownKid(
    std::string_view kid, const std::shared_ptr<const JwtKeySet>& seen) {
  {
    MutexLock lock(mu_);
    // Another thread already brought a newer set: retry with that one first.
    if (keys_ != nullptr && keys_ != seen) return keys_;
  }
  return MaybeFetch(Why::kUnknownKid, kid);
}

int64_t JwksUrlKeySource::FetchCountForTest() const {
  MutexLock lock(mu_);
  return fetch_count_;
}

StatusOr<std::shared_ptr<const JwtKeySet>> JwksUrlKeySource::MaybeFetch(Why why,
                                                                        std::string_view kid) {
  MutexLock lock(mu_);
  const std::shared_ptr<const JwtKeySet> before = keys_;
  while (true) {
    const int64_t now = NowMs();
    if (keys_ != nullptr) {
      if (why == Why::kPeriodic && now - keys_fetched_ms_ < options_.refresh_interval_ms) {
        return keys_;
      }
      if (why == Why::kUnknownKid && (keys_ != before || keys_->HasKid(kid))) return keys_;
    }
    if (fetching_) {
      // A periodic refresh is not worth waiting for; a missing set or kid is.
      if (keys_ != nullptr && why == Why::kPeriodic) return keys_;
      lock.Wait(fetched_cv_);
      continue;
    }
    // Unknown kids are limited on their own clock, so that a kid rotated in just after a
    // scheduled fetch is still picked up; other fetches wait out a failed attempt.
    if (why == Why::kUnknownKid
            ? has_kid_fetched_ && now - last_kid_fetch_ms_ < options_.min_fetch_interval_ms
            : has_attempted_ && now - last_attempt_ms_ < options_.min_fetch_interval_ms) {
      break;
    }

    fetching_ = true;
    has_attempted_ = true;
    last_attempt_ms_ = now;
    if (why == Why::kUnknownKid) {
      has_kid_fetched_ = true;
      last_kid_fetch_ms_ = now;
    }
    ++fetch_count_;
    lock.Unlock();
    StatusOr<JwksParseResult> parsed = [&]() -> StatusOr<JwksParseResult> {
      ASSIGN_OR_RETURN(std::string body, options_.fetch(options_.url));
      return ParseJwks(body);
    }();
    lock.Lock();
    fetching_ = false;
    if (parsed.ok()) {
      for (const std::string& s : parsed->skipped) {
        spdlog::warn("JWKS {}: key skipped: {}", options_.url, s);
      }
      keys_ = std::make_shared<const JwtKeySet>(std::move(parsed->keys));
      keys_fetched_ms_ = now;
      last_error_ = Status::Ok();
    } else {
      last_error_ = parsed.status();
      spdlog::warn("JWKS {}: fetch failed{}: {}", options_.url,
                   keys_ != nullptr ? " (keeping the previous key set)" : "",
                   last_error_.message());
    }
    fetched_cv_.notify_all();
    break;
  }
  if (keys_ != nullptr) return keys_;
  return Status(StatusCode::kUnavailable,
                "JWKS " + options_.url + ": no key set: " +
                    (last_error_.ok() ? std::string("not fetched yet") : last_error_.message()));
}

}  // namespace cairn::auth
