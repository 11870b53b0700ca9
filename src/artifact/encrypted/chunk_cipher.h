#pragma once

// The on-disk format of one encrypted artifact (version 1) and the ciphers that produce and
// check it, one chunk at a time. Internal to cairn_artifact_encrypted (the store and the
// benchmark use it); callers of the store never see it.
//
//   header (36 bytes):
//     0  magic "CAIRNENC"                      8 bytes
//     8  format version = 1                    1 byte
//     9  algorithm = 1 (AES-256-GCM, per-file key by HKDF-SHA256)   1 byte
//    10  log2(plaintext chunk size) = 16       1 byte
//    11  reserved = 0                          1 byte
//    12  data key id (the tenant key's id)     8 bytes
//    20  file id, random                      16 bytes
//   then chunks 0..n-1, each = AES-256-GCM ciphertext of up to 64 KiB of plaintext + 16-byte tag.
//
// Every chunk but the last holds exactly 64 KiB of plaintext; the last holds 1..64 KiB, or 0 when
// the file is empty (an empty file still has one chunk). The file key is
// HKDF-SHA256(ikm = tenant data key, salt = file id, info = "cairn-artifact-v1" 0x00 path), so a
// file moved or copied to another path (or tenant) no longer decrypts. The nonce of chunk i is
// 4 zero bytes || i (64-bit big-endian): unique, since every file has its own key. The associated
// data of chunk i is header || i (8 bytes big-endian) || final (1 byte: 1 for the last chunk),
// so a modified header, reordered or spliced chunks, a truncation (even at a chunk boundary) and
// appended bytes all fail a tag check.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cairn::artifact::encrypted_format {

inline constexpr std::string_view kMagic = "CAIRNENC";
inline constexpr uint8_t kVersion = 1;
inline constexpr uint8_t kAlgorithmAes256GcmHkdf = 1;
inline constexpr uint8_t kChunkSizeLog2 = 16;
inline constexpr size_t kChunkSize = size_t{1} << kChunkSizeLog2;  // plaintext bytes per chunk
inline constexpr size_t kTagSize = 16;
inline constexpr size_t kHeaderSize = 36;
inline constexpr size_t kKeySize = 32;
inline constexpr size_t kDataKeyIdSize = 8;
inline constexpr size_t kFileIdSize = 16;

using Key = std::array<unsigned char, kKeySize>;
using DataKeyId = std::array<unsigned char, kDataKeyIdSize>;
using FileId = std::array<unsigned char, kFileIdSize>;

struct Header {
  DataKeyId data_key_id{};
  FileId file_id{};
};

std::string EncodeHeader(const Header& header);
// INTERNAL (naming `path`) for a wrong magic, version, algorithm or chunk size.
StatusOr<Header> ParseHeader(std::string_view bytes, std::string_view path);

// Bytes stored for a plaintext of `plaintext_size` bytes, header included.
uint64_t CiphertextSize(uint64_t plaintext_size);
// The inverse; nullopt when no plaintext size gives `ciphertext_size` (not a whole file).
std::optional<uint64_t> PlaintextSize(uint64_t ciphertext_size);

// Text encodings used by the key files and master key loaders. Base64 is RFC 4648's standard
// alphabet with padding; Base64Decode is strict (nullopt on any other character, bad padding or
// length).
std::string HexEncode(std::string_view bytes);
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

// Fills `out` from OpenSSL's CSPRNG; INTERNAL if it fails.
Status RandomBytes(unsigned char* out, size_t size);

// The per-file key (see above).
StatusOr<Key> DeriveFileKey(const Key& data_key, const FileId& file_id, std::string_view path);

// Seals chunks of one file in order. Not thread-safe.
class ChunkEncryptor {
 public:
  static StatusOr<std::unique_ptr<ChunkEncryptor>> Create(const Key& file_key, std::string header);
  ~ChunkEncryptor();
  ChunkEncryptor(const ChunkEncryptor&) = delete;
  ChunkEncryptor& operator=(const ChunkEncryptor&) = delete;

  // Encrypts `plaintext` (at most kChunkSize bytes) as chunk `index`, writing
  // plaintext.size() + kTagSize bytes to `out`.
  Status Seal(uint64_t index, bool final, std::string_view plaintext, unsigned char* out);

 private:
  struct Ctx;
  ChunkEncryptor(std::unique_ptr<Ctx> ctx, std::string header);
  std::unique_ptr<Ctx> ctx_;
  std::string header_;
};

// Opens chunks of one file. Not thread-safe.
class ChunkDecryptor {
 public:
  static StatusOr<std::unique_ptr<ChunkDecryptor>> Create(const Key& file_key, std::string header);
  ~ChunkDecryptor();
  ChunkDecryptor(const ChunkDecryptor&) = delete;
  ChunkDecryptor& operator=(const ChunkDecryptor&) = delete;

  // Checks and decrypts chunk `index` (`record` = ciphertext + tag) into `out`
  // (record.size() - kTagSize bytes). false when the tag does not verify; `out` then holds
  // unauthenticated bytes that must not be used.
  bool Open(uint64_t index, bool final, std::string_view record, unsigned char* out);

 private:
  struct Ctx;
  ChunkDecryptor(std::unique_ptr<Ctx> ctx, std::string header);
  std::unique_ptr<Ctx> ctx_;
  std::string header_;
};

}  // namespace cairn::artifact::encrypted_format
