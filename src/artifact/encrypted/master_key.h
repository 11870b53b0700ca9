#pragma once

#include <array>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cairn::artifact {

// A 32-byte AES-256 key that wraps (encrypts) the per-tenant data keys, with a short public id
// recorded next to every key it wraps. The bytes never appear in a message or a log; the memory
// is wiped when the key is destroyed.
class MasterKey {
 public:
  static constexpr size_t kSize = 32;

  // `bytes` must be exactly 32 bytes. `id` defaults to the first 8 hex characters of
  // SHA-256(bytes); an explicit id is 1-64 characters of [A-Za-z0-9._-].
  static StatusOr<MasterKey> FromBytes(std::string_view bytes, std::string id = "");

  MasterKey(const MasterKey& other) = default;
  MasterKey& operator=(const MasterKey& other) = default;
  ~MasterKey();

  const std::string& id() const { return id_; }
  // The raw key. Never log or print it.
  const std::array<unsigned char, kSize>& bytes() const { return bytes_; }

 private:
  MasterKey() = default;
  std::array<unsigned char, kSize> bytes_{};
  std::string id_;
};

// Decodes a master key written as text, surrounding whitespace ignored: 64 hexadecimal characters,
// or standard base64 (RFC 4648, '+' '/', padded: 44 characters) of the 32 bytes. Anything else,
// or a length other than 32 bytes, is INVALID_ARGUMENT; the message names `source` and the
// lengths, never the text. `id` as for FromBytes.
StatusOr<MasterKey> ParseMasterKey(std::string_view text, std::string_view source,
                                   std::string id = "");

// The key in the file at `path` (the whole file, as ParseMasterKey reads it). NOT_FOUND when the
// file is missing, INVALID_ARGUMENT when it does not hold a key.
StatusOr<MasterKey> LoadMasterKeyFromFile(const std::string& path, std::string id = "");

// The key in environment variable `name` (as ParseMasterKey reads it). NOT_FOUND when unset or
// empty.
StatusOr<MasterKey> LoadMasterKeyFromEnv(const std::string& name, std::string id = "");

}  // namespace cairn::artifact
