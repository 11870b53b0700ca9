#include "artifact/encrypted/chunk_cipher.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <cstring>
#include <utility>

namespace cairn::artifact::encrypted_format {
namespace {

constexpr std::string_view kHkdfInfo = "cairn-artifact-v1";
constexpr size_t kNonceSize = 12;
constexpr uint64_t kRecordSize = kChunkSize + kTagSize;

void PutBigEndian64(uint64_t value, unsigned char* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<unsigned char>(value & 0xff);
    value >>= 8;
  }
}

// Nonce and the per-chunk suffix of the associated data.
struct ChunkParams {
  unsigned char nonce[kNonceSize] = {};
  unsigned char aad_suffix[9] = {};
};

ChunkParams ParamsFor(uint64_t index, bool final) {
  ChunkParams p;
  PutBigEndian64(index, p.nonce + 4);
  PutBigEndian64(index, p.aad_suffix);
  p.aad_suffix[8] = final ? 1 : 0;
  return p;
}

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

// A GCM context with the key schedule done once; each chunk then only sets its nonce.
StatusOr<CipherCtx> NewGcmContext(const Key& key, bool encrypt) {
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx) return Internal("cannot allocate a cipher context");
  int ok = encrypt ? EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nullptr)
                   : EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nullptr);
  if (ok != 1) return Internal("cannot initialise AES-256-GCM");
  return ctx;
}

}  // namespace

std::string EncodeHeader(const Header& header) {
  std::string out(kMagic);
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(kAlgorithmAes256GcmHkdf));
  out.push_back(static_cast<char>(kChunkSizeLog2));
  out.push_back('\0');
  out.append(reinterpret_cast<const char*>(header.data_key_id.data()), kDataKeyIdSize);
  out.append(reinterpret_cast<const char*>(header.file_id.data()), kFileIdSize);
  return out;
}

StatusOr<Header> ParseHeader(std::string_view bytes, std::string_view path) {
  auto bad = [&](std::string_view why) {
    return Internal("artifact '" + std::string(path) +
                    "' is not a readable encrypted artifact: " + std::string(why));
  };
  if (bytes.size() != kHeaderSize || bytes.substr(0, kMagic.size()) != kMagic) {
    return bad("no encryption header");
  }
  if (static_cast<uint8_t>(bytes[8]) != kVersion) return bad("unknown format version");
  if (static_cast<uint8_t>(bytes[9]) != kAlgorithmAes256GcmHkdf) return bad("unknown algorithm");
  if (static_cast<uint8_t>(bytes[10]) != kChunkSizeLog2 || bytes[11] != '\0') {
    return bad("unsupported chunk size");
  }
  Header header;
  std::memcpy(header.data_key_id.data(), bytes.data() + 12, kDataKeyIdSize);
  std::memcpy(header.file_id.data(), bytes.data() + 12 + kDataKeyIdSize, kFileIdSize);
  return header;
}

uint64_t CiphertextSize(uint64_t plaintext_size) {
  uint64_t chunks = plaintext_size == 0 ? 1 : (plaintext_size + kChunkSize - 1) / kChunkSize;
  return kHeaderSize + plaintext_size + chunks * kTagSize;
}

std::optional<uint64_t> PlaintextSize(uint64_t ciphertext_size) {
  if (ciphertext_size < kHeaderSize + kTagSize) return std::nullopt;
  uint64_t body = ciphertext_size - kHeaderSize;
  uint64_t chunks = (body + kRecordSize - 1) / kRecordSize;
  uint64_t last_record = body - (chunks - 1) * kRecordSize;
  // Only an empty file has a chunk without plaintext.
  if (last_record == kTagSize && chunks != 1) return std::nullopt;
  return body - chunks * kTagSize;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t group = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size())
      group |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) group |= static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[(group >> 18) & 63]);
    out.push_back(kAlphabet[(group >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(group >> 6) & 63] : '=');
    out.push_back(i + 2 < bytes.size() ? kAlphabet[group & 63] : '=');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int pad = 0;
    if (last && text[i + 3] == '=') pad = text[i + 2] == '=' ? 2 : 1;
    uint32_t group = 0;
    for (int j = 0; j < 4; ++j) {
      int v = j >= 4 - pad ? 0 : value(text[i + j]);
      if (v < 0) return std::nullopt;
      group = (group << 6) | static_cast<uint32_t>(v);
    }
    out.push_back(static_cast<char>((group >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((group >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(group & 0xff));
    // Non-canonical encodings (bits set in the padding) are rejected.
    if ((pad == 1 && (group & 0xff) != 0) || (pad == 2 && (group & 0xffff) != 0)) {
      return std::nullopt;
    }
  }
  return out;
}

Status RandomBytes(unsigned char* out, size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1) {
    return Internal("the random number generator failed");
  }
  return Status::Ok();
}

StatusOr<Key> DeriveFileKey(const Key& data_key, const FileId& file_id, std::string_view path) {
  std::string info(kHkdfInfo);
  info.push_back('\0');
  info.append(path);
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return Internal("HKDF is not available");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr) return Internal("cannot allocate an HKDF context");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(
          OSSL_KDF_PARAM_KEY, const_cast<unsigned char*>(data_key.data()), data_key.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
                                        const_cast<unsigned char*>(file_id.data()), file_id.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end(),
  };
  Key out{};
  int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) return Internal("HKDF failed");
  return out;
}

struct ChunkEncryptor::Ctx {
  CipherCtx cipher;
};

ChunkEncryptor::ChunkEncryptor(std::unique_ptr<Ctx> ctx, std::string header)
    : ctx_(std::move(ctx)), header_(std::move(header)) {}
ChunkEncryptor::~ChunkEncryptor() = default;

StatusOr<std::unique_ptr<ChunkEncryptor>> ChunkEncryptor::Create(const Key& file_key,
                                                                 std::string header) {
  ASSIGN_OR_RETURN(CipherCtx cipher, NewGcmContext(file_key, /*encrypt=*/true));
  auto ctx = std::make_unique<Ctx>(Ctx{std::move(cipher)});
  return std::unique_ptr<ChunkEncryptor>(new ChunkEncryptor(std::move(ctx), std::move(header)));
}

Status ChunkEncryptor::Seal(uint64_t index, bool final, std::string_view plaintext,
                            unsigned char* out) {
  if (plaintext.size() > kChunkSize) return Internal("chunk larger than the format allows");
  EVP_CIPHER_CTX* c = ctx_->cipher.get();
  ChunkParams p = ParamsFor(index, final);
  int len = 0;
  bool ok =
      EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, p.nonce) == 1 &&
      EVP_EncryptUpdate(c, nullptr, &len, reinterpret_cast<const unsigned char*>(header_.data()),
                        static_cast<int>(header_.size())) == 1 &&
      EVP_EncryptUpdate(c, nullptr, &len, p.aad_suffix, sizeof p.aad_suffix) == 1 &&
      EVP_EncryptUpdate(c, out, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(c, out + len, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, kTagSize, out + plaintext.size()) == 1;
  if (!ok) return Internal("AES-256-GCM encryption failed");
  return Status::Ok();
}

struct ChunkDecryptor::Ctx {
  CipherCtx cipher;
};

ChunkDecryptor::ChunkDecryptor(std::unique_ptr<Ctx> ctx, std::string header)
    : ctx_(std::move(ctx)), header_(std::move(header)) {}
ChunkDecryptor::~ChunkDecryptor() = default;

StatusOr<std::unique_ptr<ChunkDecryptor>> ChunkDecryptor::Create(const Key& file_key,
                                                                 std::string header) {
  ASSIGN_OR_RETURN(CipherCtx cipher, NewGcmContext(file_key, /*encrypt=*/false));
  auto ctx = std::make_unique<Ctx>(Ctx{std::move(cipher)});
  return std::unique_ptr<ChunkDecryptor>(new ChunkDecryptor(std::move(ctx), std::move(header)));
}

bool ChunkDecryptor::Open(uint64_t index, bool final, std::string_view record, unsigned char* out) {
  if (record.size() < kTagSize || record.size() > kRecordSize) return false;
  size_t text_size = record.size() - kTagSize;
  EVP_CIPHER_CTX* c = ctx_->cipher.get();
  ChunkParams p = ParamsFor(index, final);
  const auto* in = reinterpret_cast<const unsigned char*>(record.data());
  int len = 0;
  return EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, p.nonce) == 1 &&
         EVP_DecryptUpdate(c, nullptr, &len, reinterpret_cast<const unsigned char*>(header_.data()),
                           static_cast<int>(header_.size())) == 1 &&
         EVP_DecryptUpdate(c, nullptr, &len, p.aad_suffix, sizeof p.aad_suffix) == 1 &&
         EVP_DecryptUpdate(c, out, &len, in, static_cast<int>(text_size)) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, kTagSize,
                             const_cast<unsigned char*>(in + text_size)) == 1 &&
         EVP_DecryptFinal_ex(c, out + len, &len) == 1;
}

}  // namespace cairn::artifact::encrypted_format
