#include "audit/audit_entry.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <boost/json.hpp>

#include "base/json.h"
#include "base/utf8.h"

namespace cairn::audit {
namespace {

// Changing the serialisation means a new tag, so old chains keep verifying with the old one.
constexpr std::string_view kFormatTag = "cairn-audit-v1";

void PutInt(std::string& out, int64_t v) {
  auto u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(u >> shift));
}

void PutString(std::string& out, std::string_view s) {
  PutInt(out, static_cast<int64_t>(s.size()));
  out.append(s);
}

std::string Hex(const unsigned char* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    hex.push_back(kHex[bytes[i] >> 4]);
    hex.push_back(kHex[bytes[i] & 0xf]);
  }
  return hex;
}

boost::json::string_view Text(const std::string& s, std::string& scratch) {
  if (IsValidUtf8(s)) return {s.data(), s.size()};
  scratch = ToValidUtf8(s);
  return {scratch.data(), scratch.size()};
}

void AppendCanonical(std::string& out, const AuditEntry& e) {
  PutString(out, kFormatTag);
  PutInt(out, e.seq);
  PutInt(out, e.time_ms);
  PutString(out, e.principal);
  PutString(out, e.tenant);
  PutString(out, e.action);
  PutString(out, e.resource);
  PutString(out, e.outcome);
  PutInt(out, e.status);
  PutString(out, e.request_id);
  PutString(out, e.client);
  PutString(out, e.prev_hash);
}

}  // namespace

std::string CanonicalBytes(const AuditEntry& e) {
  std::string out;
  AppendCanonical(out, e);
  return out;
}

struct EntryHasher::State {
  ~State() {
    EVP_MAC_CTX_free(mac);
    EVP_MD_CTX_free(md);
  }
  // Exactly one is set: HMAC with the key already absorbed, or a plain SHA-256 context.
  EVP_MAC_CTX* mac = nullptr;
  EVP_MD_CTX* md = nullptr;
  bool ok = false;
  std::string buffer;  // the canonical bytes of the entry being hashed
};

namespace {

// Fetched once: algorithm objects are immutable and safe to share between threads.
const EVP_MD* Sha256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

EVP_MAC* Hmac() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

}  // namespace

EntryHasher::EntryHasher(std::string_view key) : state_(std::make_unique<State>()) {
  if (key.empty()) {
    state_->md = EVP_MD_CTX_new();
    state_->ok = state_->md != nullptr && Sha256() != nullptr;
    return;
  }
  if (Hmac() == nullptr) return;
  state_->mac = EVP_MAC_CTX_new(Hmac());
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  state_->ok = state_->mac != nullptr &&
               EVP_MAC_init(state_->mac, reinterpret_cast<const unsigned char*>(key.data()),
                            key.size(), params) == 1;
}

EntryHasher::~EntryHasher() = default;

std::string EntryHasher::Hash(const AuditEntry& entry) {
  if (!state_->ok) return "";
  State& st = *state_;
  st.buffer.clear();
  AppendCanonical(st.buffer, entry);
  const auto* data = reinterpret_cast<const unsigned char*>(st.buffer.data());
  unsigned char out[EVP_MAX_MD_SIZE];
  if (st.mac != nullptr) {
    size_t out_len = 0;
    // A null key re-initialises with the key given to the constructor.
    if (EVP_MAC_init(st.mac, nullptr, 0, nullptr) != 1 ||
        EVP_MAC_update(st.mac, data, st.buffer.size()) != 1 ||
        EVP_MAC_final(st.mac, out, &out_len, sizeof(out)) != 1) {
      return "";
    }
    return Hex(out, out_len);
  }
  unsigned int out_len = 0;
  if (EVP_DigestInit_ex2(st.md, Sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(st.md, data, st.buffer.size()) != 1 ||
      EVP_DigestFinal_ex(st.md, out, &out_len) != 1) {
    return "";
  }
  return Hex(out, out_len);
}

std::string EntryHash(const AuditEntry& entry, std::string_view key) {
  return EntryHasher(key).Hash(entry);
}

std::string ToJsonLine(const AuditEntry& e) {
  std::string scratch[9];
  boost::json::object o;
  o["seq"] = e.seq;
  o["time_ms"] = e.time_ms;
  o["principal"] = Text(e.principal, scratch[0]);
  o["tenant"] = Text(e.tenant, scratch[1]);
  o["action"] = Text(e.action, scratch[2]);
  o["resource"] = Text(e.resource, scratch[3]);
  o["outcome"] = Text(e.outcome, scratch[4]);
  o["status"] = e.status;
  o["request_id"] = Text(e.request_id, scratch[5]);
  o["client"] = Text(e.client, scratch[6]);
  o["prev_hash"] = Text(e.prev_hash, scratch[7]);
  o["hash"] = Text(e.hash, scratch[8]);
  std::string line = json::Serialize(o);
  line.push_back('\n');
  return line;
}

}  // namespace cairn::audit
