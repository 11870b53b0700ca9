#include "auth/api_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "auth/roles.h"

namespace cairn::auth {
namespace {

constexpr size_t kIdHexDigits = 16;
constexpr size_t kSecretBytes = 32;
constexpr size_t kSecretChars = 43;  // unpadded base64url of 32 bytes

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsBase64Url(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

std::string Base64UrlNoPad(const unsigned char* data, size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  if (size - i == 1) {
    uint32_t v = uint32_t{data[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (size - i == 2) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::string Hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

Status Unauthenticated(std::string reason) {
  return Status(StatusCode::kUnauthenticated, std::move(reason));
}

}  // namespace

std::optional<TokenParts> ParseTokenText(std::string_view text) {
  if (!text.starts_with(kTokenPrefix)) return std::nullopt;
  text.remove_prefix(kTokenPrefix.size());
  if (text.size() != kIdHexDigits + 1 + kSecretChars || text[kIdHexDigits] != '_') {
    return std::nullopt;
  }
  TokenParts parts{text.substr(0, kIdHexDigits), text.substr(kIdHexDigits + 1)};
  if (!IsLowerHex(parts.id) || !IsBase64Url(parts.secret)) return std::nullopt;
  return parts;
}

StatusOr<NewToken> GenerateToken() {
  std::array<unsigned char, kIdHexDigits / 2> id{};
  std::array<unsigned char, kSecretBytes> secret{};
  if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1 ||
      RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
    return Internal("cannot draw random bytes for a token");
  }
  NewToken token;
  token.id = Hex(id.data(), id.size());
  std::string secret_text = Base64UrlNoPad(secret.data(), secret.size());
  token.secret_hash = Sha256Hex(secret_text);
  token.text = std::string(kTokenPrefix) + token.id + "_" + secret_text;
  OPENSSL_cleanse(secret.data(), secret.size());
  return token;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return Hex(digest, length);
}

TokenAuthenticator::TokenAuthenticator(metadata::SecurityStore& store, Clock& clock,
                                       Options options)
    : store_(store), clock_(clock), options_(options) {}

void TokenAuthenticator::DropLocal() {
  MutexLock lock(mu_);
  tokens_.clear();
  bindings_.clear();
  ++generation_;
}

void TokenAuthenticator::Invalidate() {
  DropLocal();
  if (shared_ != nullptr) {
    if (Status s = shared_->InvalidateAll(); !s.ok()) {
      // Other replicas then keep what they cached for at most the cache TTL, as without one.
      spdlog::warn("cannot invalidate the shared token cache: {}", s.ToString());
    }
  }
}

StatusOr<TokenAuthenticator::CachedBindings> TokenAuthenticator::LoadBindings(
    std::string_view principal) {
  CachedBindings loaded;
  loaded.fetched_ms = clock_.NowMillis();
  auto found = store_.GetPrincipal(principal);
  if (found.ok()) {
    loaded.disabled = found->disabled;
  } else if (found.status().code() != StatusCode::kNotFound) {
    return found.status();
  }
  ASSIGN_OR_RETURN(std::vector<metadata::RoleBinding> bindings,
                   store_.ListRoleBindings(principal, std::nullopt));
  auto grants = std::make_shared<std::vector<RoleGrant>>();
  for (const metadata::RoleBinding& b : bindings) grants->push_back({b.tenant, b.role});
  loaded.grants = std::move(grants);
  return loaded;
}

StatusOr<TokenAuthenticator::CachedBindings> TokenAuthenticator::Bindings(
    std::string_view principal) {
  const int64_t now = clock_.NowMillis();
  uint64_t generation = 0;
  {
    MutexLock lock(mu_);
    auto it = bindings_.find(std::string(principal));
    if (it != bindings_.end() && now - it->second.fetched_ms < options_.cache_ttl.count()) {
      return it->second;
    }
    generation = generation_;
  }
  ASSIGN_OR_RETURN(CachedBindings loaded, LoadBindings(principal));
  MutexLock lock(mu_);
  if (generation != generation_) return loaded;  // dropped meanwhile: use it, do not keep it
  if (bindings_.size() >= options_.max_cached) bindings_.clear();
  bindings_[std::string(principal)] = loaded;
  return loaded;
}

StatusOr<std::shared_ptr<const std::vector<RoleGrant>>> TokenAuthenticator::BindingsOf(
    std::string_view principal) {
  ASSIGN_OR_RETURN(CachedBindings bindings, Bindings(principal));
  if (bindings.disabled) return Unauthenticated("principal is disabled");
  return bindings.grants;
}

StatusOr<std::shared_ptr<const Identity>> TokenAuthenticator::Authenticate(std::string_view text) {
  std::optional<TokenParts> parts = ParseTokenText(text);
  if (!parts) return Unauthenticated("not an API token");
  const int64_t now = clock_.NowMillis();
  std::shared_ptr<const CachedToken> cached;
  uint64_t generation = 0;
  {
    MutexLock lock(mu_);
    auto it = tokens_.find(parts->id);
    if (it != tokens_.end() && now - it->second->fetched_ms < options_.cache_ttl.count()) {
      cached = it->second;
    }
    generation = generation_;
  }
  const bool local_hit = cached != nullptr;
  // Set when the token was read from the store: share it once it proves valid.
  std::optional<std::string> share_generation;
  const std::string presented = Sha256Hex(parts->secret);
  if (!cached && shared_ != nullptr) {
    const std::string key = Sha256Hex(text);
    StatusOr<SharedTokenCache::Found> found = shared_->Lookup(key);
    if (found.ok() && found->identity) {
      // A hit: some replica verified exactly this text against the store.
      auto fresh = std::make_shared<CachedToken>();
      fresh->record.id = std::string(parts->id);
      fresh->record.secret_hash = presented;
      fresh->record.principal = found->identity->principal;
      fresh->record.expires_at_ms = found->identity->expires_at_ms;
      fresh->identity = std::make_shared<const Identity>(std::move(*found->identity));
      fresh->fetched_ms = now;
      cached = std::move(fresh);
    } else if (found.ok()) {
      share_generation = found->generation;
    }
  }
  if (!cached) {
    auto record = store_.GetToken(parts->id);
    if (!record.ok()) {
      if (record.status().code() == StatusCode::kNotFound) {
        return Unauthenticated("unknown token id");
      }
      return Unavailable("cannot read the token store: " + record.status().message());
    }
    auto fresh = std::make_shared<CachedToken>();
    fresh->record = std::move(record).value();
    fresh->fetched_ms = now;
    ASSIGN_OR_RETURN(CachedBindings bindings, Bindings(fresh->record.principal));
    if (!bindings.disabled) {
      auto grants = std::make_shared<std::vector<RoleGrant>>(*bindings.grants);
      for (const std::string& role : fresh->record.roles) {
        grants->push_back({fresh->record.tenant, role});
      }
      auto identity = std::make_shared<Identity>();
      identity->principal = fresh->record.principal;
      identity->grants = std::move(grants);
      identity->default_tenant =
          fresh->record.tenant == kAllTenants ? std::string("default") : fresh->record.tenant;
      identity->expires_at_ms = fresh->record.expires_at_ms;
      identity->method = "token";
      fresh->identity = std::move(identity);
    }
    cached = std::move(fresh);
  }
  if (!local_hit) {
    MutexLock lock(mu_);
    if (generation == generation_) {
      if (tokens_.size() >= options_.max_cached) tokens_.clear();
      tokens_[cached->record.id] = cached;
    }
  }
  // Compared in constant time: the hash of the presented secret against the stored one.
  const std::string& stored = cached->record.secret_hash;
  if (presented.size() != stored.size() ||
      CRYPTO_memcmp(presented.data(), stored.data(), stored.size()) != 0) {
    return Unauthenticated("token secret does not match");
  }
  if (cached->record.revoked_at_ms != 0) return Unauthenticated("token revoked");
  if (cached->record.expires_at_ms != 0 && now >= cached->record.expires_at_ms) {
    return Unauthenticated("token expired");
  }
  if (cached->identity == nullptr) return Unauthenticated("principal is disabled");
  if (share_generation) {
    std::chrono::milliseconds ttl = options_.cache_ttl;
    if (cached->record.expires_at_ms != 0) {
      ttl = std::min(ttl, std::chrono::milliseconds(cached->record.expires_at_ms - now));
    }
    if (ttl.count() > 0) {
      Status shared = shared_->Insert(Sha256Hex(text), *cached->identity, *share_generation, ttl);
      if (!shared.ok()) spdlog::debug("cannot share a verified token: {}", shared.ToString());
    }
  }
  return cached->identity;
}

}  // namespace cairn::auth
