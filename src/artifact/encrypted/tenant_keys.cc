#include "artifact/encrypted/tenant_keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <cstring>
#include <utility>

#include "base/json.h"

namespace cairn::artifact::encrypted_format {
namespace {

constexpr std::string_view kWrapAlgorithm = "AES-256-GCM";
constexpr std::string_view kWrapContext = "cairn-data-key-v1";
constexpr size_t kWrapNonceSize = 12;
constexpr size_t kMaxKeyFileSize = 64 << 10;

std::string AsText(const unsigned char* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

std::string WrapAad(std::string_view tenant, std::string_view data_key_id_hex) {
  std::string aad(kWrapContext);
  aad.push_back('\0');
  aad.append(tenant);
  aad.push_back('\0');
  aad.append(data_key_id_hex);
  return aad;
}

// AES-256-GCM of the 32-byte key; `out` receives ciphertext || tag (48 bytes).
bool GcmSeal(const MasterKey& master, const unsigned char* nonce, std::string_view aad,
             const Key& key, unsigned char* out) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return false;
  int len = 0;
  bool ok =
      EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, master.bytes().data(), nonce) == 1 &&
      EVP_EncryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx, out, &len, key.data(), static_cast<int>(key.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx, out + len, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, out + key.size()) == 1;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

bool GcmOpen(const MasterKey& master, std::string_view nonce, std::string_view aad,
             std::string_view sealed, Key& key) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return false;
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  int len = 0;
  bool ok =
      EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, master.bytes().data(),
                         reinterpret_cast<const unsigned char*>(nonce.data())) == 1 &&
      EVP_DecryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx, key.data(), &len, in, static_cast<int>(key.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagSize,
                          const_cast<unsigned char*>(in + key.size())) == 1 &&
      EVP_DecryptFinal_ex(ctx, key.data() + len, &len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) OPENSSL_cleanse(key.data(), key.size());
  return ok;
}

}  // namespace

DataKey::~DataKey() { OPENSSL_cleanse(key.data(), key.size()); }

std::string KeyFilePath(std::string_view tenant) {
  return std::string(kKeyFolder) + "/" + std::string(tenant) + ".json";
}

StatusOr<std::string> WrapDataKey(const DataKey& key, std::string_view tenant,
                                  const MasterKey& master) {
  unsigned char nonce[kWrapNonceSize];
  RETURN_IF_ERROR(RandomBytes(nonce, sizeof nonce));
  std::string id_hex = HexEncode(AsText(key.id.data(), key.id.size()));
  unsigned char sealed[kKeySize + kTagSize];
  if (!GcmSeal(master, nonce, WrapAad(tenant, id_hex), key.key, sealed)) {
    return Internal("cannot wrap the data key of tenant '" + std::string(tenant) + "'");
  }
  boost::json::object file;
  file["format"] = 1;
  file["tenant"] = tenant;
  file["data_key_id"] = id_hex;
  file["master_key_id"] = master.id();
  file["algorithm"] = kWrapAlgorithm;
  file["nonce"] = Base64Encode(AsText(nonce, sizeof nonce));
  file["wrapped_key"] = Base64Encode(AsText(sealed, sizeof sealed));
  return json::Serialize(file) + "\n";
}

StatusOr<UnwrappedKey> UnwrapDataKey(std::string_view text, std::string_view tenant,
                                     const std::vector<MasterKey>& ring) {
  const std::string where = "the data key file of tenant '" + std::string(tenant) + "'";
  auto bad = [&](std::string_view why) { return Internal(where + " " + std::string(why)); };
  auto parsed = json::ParseObject(text);
  if (!parsed.ok()) return bad("is not valid JSON");
  const boost::json::object& file = *parsed;
  auto field = [&](std::string_view name) -> std::string {
    auto value = json::GetString(file, name);
    return value.ok() && value->has_value() ? **value : std::string();
  };
  auto format = json::GetInt64(file, "format");
  if (!format.ok() || !format->has_value() || **format != 1) return bad("has an unknown format");
  if (field("algorithm") != kWrapAlgorithm) return bad("uses an unknown wrap algorithm");
  if (field("tenant") != tenant) return bad("belongs to another tenant");
  const std::string id_hex = field("data_key_id");
  const std::string master_id = field("master_key_id");
  auto nonce = Base64Decode(field("nonce"));
  auto sealed = Base64Decode(field("wrapped_key"));
  if (id_hex.size() != 2 * kDataKeyIdSize || !nonce || nonce->size() != kWrapNonceSize || !sealed ||
      sealed->size() != kKeySize + kTagSize) {
    return bad("is malformed");
  }
  const MasterKey* master = nullptr;
  for (const MasterKey& candidate : ring) {
    if (candidate.id() == master_id) master = &candidate;
  }
  if (master == nullptr) {
    return bad("is wrapped by master key '" + master_id + "', which is not configured");
  }
  auto key = std::make_unique<DataKey>();
  for (size_t i = 0; i < id_hex.size(); ++i) {
    char c = id_hex[i];
    int nibble = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (nibble < 0) return bad("is malformed");
    key->id[i / 2] = static_cast<unsigned char>(key->id[i / 2] << 4 | nibble);
  }
  if (!GcmOpen(*master, *nonce, WrapAad(tenant, id_hex), *sealed, key->key)) {
    return bad("does not unwrap with master key '" + master_id +
               "' (a different key under that id, or the file was modified)");
  }
  return UnwrappedKey{std::move(key), master_id};
}

StatusOr<std::string> ReadSmallFile(ArtifactStore& store, std::string_view path) {
  ASSIGN_OR_RETURN(std::unique_ptr<ArtifactReader> reader, store.OpenReader(path));
  if (reader->Size() > kMaxKeyFileSize) {
    return Internal("'" + std::string(path) + "' is too large for a key file");
  }
  std::string out(reader->Size(), '\0');
  size_t done = 0;
  while (true) {
    if (done == out.size()) out.resize(done + 1);  // one more byte to see the end
    ASSIGN_OR_RETURN(size_t n, reader->Read(out.data() + done, out.size() - done));
    if (n == 0) break;
    done += n;
    if (done > kMaxKeyFileSize) {
      return Internal("'" + std::string(path) + "' is too large for a key file");
    }
  }
  out.resize(done);
  return out;
}

TenantKeys::TenantKeys(ArtifactStore& store, std::vector<MasterKey> ring)
    : store_(store), ring_(std::move(ring)) {}

StatusOr<std::shared_ptr<const DataKey>> TenantKeys::Get(std::string_view tenant, bool create) {
  std::shared_ptr<Slot> slot;
  {
    MutexLock lock(mu_);
    auto it = slots_.find(tenant);
    if (it == slots_.end())
      it = slots_.emplace(std::string(tenant), std::make_shared<Slot>()).first;
    slot = it->second;
  }
  // Threads asking for one tenant's key queue here; other tenants are not held up.
  MutexLock lock(slot->mu);
  if (slot->key) return slot->key;
  auto loaded = Load(tenant);
  if (loaded.ok()) {
    slot->key = *loaded;
    return slot->key;
  }
  if (loaded.status().code() != StatusCode::kNotFound || !create) return loaded.status();
  ASSIGN_OR_RETURN(slot->key, Create(tenant));
  return slot->key;
}

StatusOr<std::shared_ptr<const DataKey>> TenantKeys::Load(std::string_view tenant) {
  auto text = ReadSmallFile(store_, KeyFilePath(tenant));
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return NotFound("tenant '" + std::string(tenant) + "' has no data key");
    }
    return text.status();
  }
  ASSIGN_OR_RETURN(UnwrappedKey unwrapped, UnwrapDataKey(*text, tenant, ring_));
  return std::shared_ptr<const DataKey>(std::move(unwrapped.key));
}

StatusOr<std::shared_ptr<const DataKey>> TenantKeys::Create(std::string_view tenant) {
  DataKey key;
  RETURN_IF_ERROR(RandomBytes(key.id.data(), key.id.size()));
  RETURN_IF_ERROR(RandomBytes(key.key.data(), key.key.size()));
  ASSIGN_OR_RETURN(std::string text, WrapDataKey(key, tenant, ring_.front()));
  ASSIGN_OR_RETURN(std::unique_ptr<ArtifactWriter> writer, store_.OpenWriter(KeyFilePath(tenant)));
  RETURN_IF_ERROR(writer->Append(text));
  RETURN_IF_ERROR(writer->Commit());
  // Another process may have committed its own key for the tenant meanwhile (last commit wins);
  // whichever is stored now is the tenant's key.
  return Load(tenant);
}

}  // namespace cairn::artifact::encrypted_format
