#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

// OpenSSL's EVP_PKEY, declared here so that this header does not include OpenSSL's.
struct evp_pkey_st;

namespace cairn::auth {

// The JWS algorithms Cairn accepts. Everything else ("none", HS384, PS256, EdDSA, ...) is
// rejected by name before any key is consulted.
enum class JwtAlg { kHS256, kRS256, kES256 };

std::string_view JwtAlgName(JwtAlg alg);
// The algorithm `name` names (exact, case-sensitive), or nullopt.
std::optional<JwtAlg> ParseJwtAlg(std::string_view name);

enum class JwtKeyType { kHmac, kRsa, kEcP256 };

// One verification key: a key id, the algorithms it may verify and the key material.
//
// The allow-list starts as the single algorithm the key type implies (HMAC: HS256, RSA: RS256,
// EC P-256: ES256) and can only be narrowed, so an RSA public key can never become an HS256
// secret (the classic algorithm-confusion forgery). Immutable after loading; copies share the
// key material, so a copy is cheap and safe to use from any thread.
class JwtKey {
 public:
  // `secret` is used byte for byte. INVALID_ARGUMENT when shorter than 32 bytes (RFC 7518
  // section 3.2: an HS256 key must be at least as long as the hash).
  static StatusOr<JwtKey> FromHmacSecret(std::string secret, std::string kid = "");
  // The first PEM block of `pem`: "PUBLIC KEY" (SubjectPublicKeyInfo), "RSA PUBLIC KEY"
  // (PKCS#1) or "CERTIFICATE" (its subject public key; the certificate is not validated, it is
  // only a container). INVALID_ARGUMENT for any other block (private keys included), for RSA
  // keys under 2048 bits and for EC keys on curves other than P-256.
  static StatusOr<JwtKey> FromPem(std::string_view pem, std::string kid = "");

  const std::string& kid() const { return kid_; }
  JwtKeyType type() const { return type_; }
  bool Allows(JwtAlg alg) const { return (allowed_ & Bit(alg)) != 0; }
  std::vector<JwtAlg> allowed_algs() const;

  // Keeps only the algorithms also in `algs`. INVALID_ARGUMENT when none would be left (the
  // key would be useless, which is always a configuration mistake worth reporting).
  Status NarrowTo(const std::vector<JwtAlg>& algs);

  // The key material, for the verifier: the HMAC secret (empty for public keys) and the public
  // key (null for HMAC keys). Owned by the key; valid while any copy of it lives.
  const std::string& hmac_secret() const { return *secret_; }
  evp_pkey_st* public_key() const { return pkey_.get(); }

 private:
  static uint8_t Bit(JwtAlg alg) { return static_cast<uint8_t>(1u << static_cast<int>(alg)); }
  friend class JwtKeyBuilder;

  std::string kid_;
  JwtKeyType type_ = JwtKeyType::kHmac;
  uint8_t allowed_ = 0;
  std::shared_ptr<const std::string> secret_;
  std::shared_ptr<evp_pkey_st> pkey_;
};

// Reads a whole file: the PEM file or raw HMAC secret the loaders below take. NOT_FOUND when it
// cannot be opened.
StatusOr<std::string> ReadKeyFile(const std::string& path);
// JwtKey::FromPem over a file's contents.
StatusOr<JwtKey> LoadPemKeyFile(const std::string& path, std::string kid = "");
// The whole file, every byte (a trailing newline included), is the HMAC secret.
StatusOr<JwtKey> LoadHmacSecretFile(const std::string& path, std::string kid = "");

struct JwksParseResult {
  std::vector<JwtKey> keys;
  // One line per key left out, e.g. "key 2 (kid \"x\"): use is \"enc\"": for the logs.
  std::vector<std::string> skipped;
};

// Parses a JWK Set (RFC 7517 section 5): an object with a "keys" array. Each key: kty "RSA"
// (n, e), "EC" (crv "P-256", x, y; the point must be on the curve) or "oct" (k), all base64url
// without padding; kid optional. A key is skipped, with a reason, when its kty or crv is not
// one of these, its "use" is present and not "sig", its "key_ops" is present without "verify",
// its "alg" is present and not an algorithm its type allows (a present "alg" narrows the key),
// its material is malformed or too weak (as for JwtKey's loaders), or its (kid, alg) repeats an
// earlier key's. Private members (d, p, q, ...) are ignored: only the public part is used.
// INVALID_ARGUMENT when the document is not such an object (duplicate member names included)
// or no key is usable.
StatusOr<JwksParseResult> ParseJwks(std::string_view json);

// An immutable set of keys, shared by the verifications that use it.
class JwtKeySet {
 public:
  JwtKeySet() = default;
  explicit JwtKeySet(std::vector<JwtKey> keys) : keys_(std::move(keys)) {}

  enum class LookupError {
    kUnknownKid,   // no key has the token's kid (a JWKS refresh may help)
    kAlgMismatch,  // the key with that kid does not allow the token's alg
    kNoKey,        // no kid in the token and no key allows its alg
    kAmbiguous,    // no kid in the token and several keys allow its alg
  };
  struct Lookup {
    const JwtKey* key = nullptr;  // set on success; points into this set
    LookupError error = LookupError::kUnknownKid;
  };

  // The key to verify a token whose header has `kid` (nullopt: no "kid") and `alg`. With a kid:
  // the key with that kid (kAlgMismatch when it does not allow `alg`); when no key has it, the
  // keys without a kid are tried as for a token without one, so a single configured PEM or
  // secret verifies tokens whatever kid they carry; if that finds nothing, kUnknownKid. Without
  // a kid: the one key (kid or not) that allows `alg`.
  Lookup Find(const std::optional<std::string_view>& kid, JwtAlg alg) const;

  bool HasKid(std::string_view kid) const;
  const std::vector<JwtKey>& keys() const { return keys_; }

 private:
  std::vector<JwtKey> keys_;
};

}  // namespace cairn::auth
