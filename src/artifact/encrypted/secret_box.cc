#include "artifact/encrypted/secret_box.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <utility>

#include "artifact/encrypted/chunk_cipher.h"

namespace cairn::artifact {
namespace {

using encrypted_format::Base64Decode;
using encrypted_format::Base64Encode;
using encrypted_format::RandomBytes;

constexpr std::string_view kPrefix = "cairn-sealed:v1:";
constexpr std::string_view kAadContext = "cairn-secret-v1";
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;
// Secrets are short (signing keys); this bounds what Open decodes from a stored value.
constexpr size_t kMaxSecretSize = 64 << 10;

std::string Aad(std::string_view context) {
  std::string aad(kAadContext);
  aad.push_back('\0');
  aad.append(context);
  return aad;
}

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

}  // namespace

StatusOr<SecretBox> SecretBox::Create(std::vector<MasterKey> ring) {
  if (ring.empty()) return InvalidArgument("a secret box needs at least one master key");
  return SecretBox(std::move(ring));
}

bool SecretBox::IsSealed(std::string_view text) { return text.starts_with(kPrefix); }

StatusOr<std::string> SecretBox::Seal(std::string_view context, std::string_view plaintext) const {
  if (plaintext.size() > kMaxSecretSize) return InvalidArgument("secret too long to seal");
  const MasterKey& key = ring_.front();
  std::array<unsigned char, kNonceSize> nonce{};
  RETURN_IF_ERROR(RandomBytes(nonce.data(), nonce.size()));
  std::string aad = Aad(context);
  std::string sealed(plaintext.size() + kTagSize, '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return Internal("cannot seal a secret: out of memory");
  int len = 0;
  int total = 0;
  bool ok =
      EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.bytes().data(), nonce.data()) == 1 &&
      EVP_EncryptUpdate(ctx, nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx, out, &len, Bytes(plaintext), static_cast<int>(plaintext.size())) == 1;
  total = len;
  ok = ok && EVP_EncryptFinal_ex(ctx, out + total, &len) == 1;
  total += len;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, out + total) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok || static_cast<size_t>(total) != plaintext.size()) {
    return Internal("cannot seal a secret");
  }
  std::string text(kPrefix);
  text += key.id();
  text += ':';
  text += Base64Encode(std::string_view(reinterpret_cast<const char*>(nonce.data()), kNonceSize));
  text += ':';
  text += Base64Encode(sealed);
  OPENSSL_cleanse(sealed.data(), sealed.size());
  return text;
}

StatusOr<std::string> SecretBox::Open(std::string_view context, std::string_view sealed) const {
  if (!IsSealed(sealed)) return InvalidArgument("not a sealed secret");
  std::string_view rest = sealed.substr(kPrefix.size());
  size_t first = rest.find(':');
  size_t second = first == std::string_view::npos ? first : rest.find(':', first + 1);
  if (second == std::string_view::npos || rest.size() > 2 * kMaxSecretSize) {
    return InvalidArgument("malformed sealed secret");
  }
  std::string_view key_id = rest.substr(0, first);
  std::optional<std::string> nonce = Base64Decode(rest.substr(first + 1, second - first - 1));
  std::optional<std::string> data = Base64Decode(rest.substr(second + 1));
  if (!nonce || nonce->size() != kNonceSize || !data || data->size() < kTagSize) {
    return InvalidArgument("malformed sealed secret");
  }
  const MasterKey* key = nullptr;
  for (const MasterKey& k : ring_) {
    if (k.id() == key_id) key = &k;
  }
  if (key == nullptr) {
    return Internal("a secret is sealed with master key '" + std::string(key_id) +
                    "', which is not in the configured key ring");
  }
  std::string aad = Aad(context);
  size_t size = data->size() - kTagSize;
  std::string plain(size, '\0');
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return Internal("cannot open a secret: out of memory");
  int len = 0;
  int total = 0;
  bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key->bytes().data(),
                               Bytes(*nonce)) == 1 &&
            EVP_DecryptUpdate(ctx, nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(ctx, out, &len, Bytes(*data), static_cast<int>(size)) == 1;
  total = len;
  ok = ok &&
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagSize,
                           const_cast<unsigned char*>(Bytes(*data) + size)) == 1 &&
       EVP_DecryptFinal_ex(ctx, out + total, &len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return Internal("a sealed secret does not verify (wrong key, wrong record, or tampered)");
  }
  return plain;
}

}  // namespace cairn::artifact
