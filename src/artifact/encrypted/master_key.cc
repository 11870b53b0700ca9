#include "artifact/encrypted/master_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>

#include "artifact/encrypted/chunk_cipher.h"

namespace cairn::artifact {
namespace {

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> HexDecode(std::string_view text) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 2);  // no reallocation leaves a copy of key bytes behind
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = nibble(text[i]);
    int lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

std::string_view TrimWhitespace(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
}

// Wipes a string holding key material before it is freed.
struct Wiped {
  std::string text;
  ~Wiped() { OPENSSL_cleanse(text.data(), text.size()); }
};

}  // namespace

StatusOr<MasterKey> MasterKey::FromBytes(std::string_view bytes, std::string id) {
  if (bytes.size() != kSize) {
    return InvalidArgument("a master key must be 32 bytes, not " + std::to_string(bytes.size()));
  }
  MasterKey key;
  std::memcpy(key.bytes_.data(), bytes.data(), kSize);
  if (id.empty()) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &digest_size, EVP_sha256(), nullptr) != 1) {
      return Internal("SHA-256 failed");
    }
    id = encrypted_format::HexEncode(
             std::string_view(reinterpret_cast<const char*>(digest), digest_size))
             .substr(0, 8);
  } else if (!IsValidId(id)) {
    return InvalidArgument("a master key id must be 1-64 characters of [A-Za-z0-9._-]");
  }
  key.id_ = std::move(id);
  return key;
}

MasterKey::~MasterKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

StatusOr<MasterKey> ParseMasterKey(std::string_view text, std::string_view source, std::string id) {
  std::string_view trimmed = TrimWhitespace(text);
  std::optional<std::string> decoded;
  if (trimmed.size() == 2 * MasterKey::kSize) decoded = HexDecode(trimmed);
  if (!decoded) decoded = encrypted_format::Base64Decode(trimmed);
  if (!decoded) {
    return InvalidArgument("the master key in " + std::string(source) + " (" +
                           std::to_string(trimmed.size()) +
                           " characters) is neither 64 hex characters nor base64 of 32 bytes");
  }
  Wiped bytes{std::move(*decoded)};
  if (bytes.text.size() != MasterKey::kSize) {
    return InvalidArgument("the master key in " + std::string(source) + " decodes to " +
                           std::to_string(bytes.text.size()) +
                           " bytes; it must be 32 bytes (64 hex characters or 44 base64 "
                           "characters)");
  }
  return MasterKey::FromBytes(bytes.text, std::move(id));
}

StatusOr<MasterKey> LoadMasterKeyFromFile(const std::string& path, std::string id) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    std::string msg = "cannot read the master key file '" + path + "': " + std::strerror(err);
    return err == ENOENT ? NotFound(std::move(msg)) : InvalidArgument(std::move(msg));
  }
  Wiped text;
  // A key file is a line of text; anything much longer is not one (and is not read whole).
  constexpr size_t kMaxFileSize = 4096;
  text.text.resize(kMaxFileSize + 1);
  in.read(text.text.data(), static_cast<std::streamsize>(text.text.size()));
  text.text.resize(static_cast<size_t>(in.gcount()));
  if (text.text.size() > kMaxFileSize) {
    return InvalidArgument("the master key file '" + path + "' is too large to hold a key");
  }
  return ParseMasterKey(text.text, "file '" + path + "'", std::move(id));
}

StatusOr<MasterKey> LoadMasterKeyFromEnv(const std::string& name, std::string id) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') {
    return NotFound("environment variable " + name + " (the master key) is not set");
  }
  return ParseMasterKey(value, "environment variable " + name, std::move(id));
}

}  // namespace cairn::artifact
