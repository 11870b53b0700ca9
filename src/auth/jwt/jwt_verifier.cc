#include "auth/jwt/jwt_verifier.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>
#include <cmath>
#include <utility>

#include "auth/jwt/jwt_encoding.h"

namespace cairn::auth {
namespace {

Status Fail(std::string_view why) {
  return Status(StatusCode::kUnauthenticated, "jwt: " + std::string(why));
}

// Printable ASCII only, at most 64 characters, for untrusted strings in reasons.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7f && c != '"' ? c : '?');
  if (s.size() > 64) out += "...";
  return out;
}

const EVP_MD* Sha256() {
  // Fetched once: an implicit fetch per call costs a lock and a lookup in OpenSSL 3.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

bool VerifyHs256(const std::string& secret, std::string_view input, std::string_view sig) {
  if (sig.size() != 32) return false;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(Sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
           &len) == nullptr ||
      len != 32) {
    return false;
  }
  return CRYPTO_memcmp(mac, sig.data(), 32) == 0;
}

bool VerifyDigestSignature(EVP_PKEY* pkey, std::string_view input, const unsigned char* sig,
                           size_t sig_len) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  return ctx != nullptr && EVP_DigestVerifyInit(ctx.get(), nullptr, Sha256(), nullptr, pkey) == 1 &&
         EVP_DigestVerify(ctx.get(), sig, sig_len,
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

bool VerifyRs256(EVP_PKEY* pkey, std::string_view input, std::string_view sig) {
  if (sig.size() != static_cast<size_t>(EVP_PKEY_get_size(pkey))) return false;
  return VerifyDigestSignature(pkey, input, reinterpret_cast<const unsigned char*>(sig.data()),
                               sig.size());
}

// JOSE carries ECDSA signatures as r||s, 32 bytes each for P-256 (RFC 7518 section 3.4);
// OpenSSL verifies DER. Any other length (a DER signature included) fails.
bool VerifyEs256(EVP_PKEY* pkey, std::string_view input, std::string_view sig) {
  if (sig.size() != 64) return false;
  const auto* raw = reinterpret_cast<const unsigned char*>(sig.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> ecdsa(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw, 32, nullptr);
  BIGNUM* s = BN_bin2bn(raw + 32, 32, nullptr);
  if (ecdsa == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(ecdsa.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  unsigned char der[80];  // a P-256 signature's DER is at most 72 bytes
  unsigned char* out = der;
  const int der_len = i2d_ECDSA_SIG(ecdsa.get(), &out);
  if (der_len <= 0 || der_len > static_cast<int>(sizeof(der))) return false;
  return VerifyDigestSignature(pkey, input, der, static_cast<size_t>(der_len));
}

// The claim `name`: a top-level member of that exact name, else a dotted path through nested
// objects.
const boost::json::value* FindClaim(const boost::json::object& claims, std::string_view name) {
  if (const boost::json::value* v = claims.if_contains(name)) return v;
  const boost::json::object* obj = &claims;
  size_t start = 0;
  if (name.find('.') == std::string_view::npos) return nullptr;
  while (true) {
    const size_t dot = name.find('.', start);
    const boost::json::value* v = obj->if_contains(name.substr(start, dot - start));
    if (v == nullptr || dot == std::string_view::npos) return v;
    if (!v->is_object()) return nullptr;
    obj = &v->as_object();
    start = dot + 1;
  }
}

// A NumericDate (RFC 7519 section 2): an integer or a finite number, truncated to seconds.
StatusOr<std::optional<int64_t>> NumericDate(const boost::json::object& claims,
                                             std::string_view name) {
  const boost::json::value* v = claims.if_contains(name);
  if (v == nullptr) return std::optional<int64_t>();
  if (v->is_int64()) return std::optional<int64_t>(v->get_int64());
  // Beyond ±2^53 seconds no real date lies, and the arithmetic below must not overflow.
  constexpr double kLimit = 9007199254740992.0;
  if (v->is_double() && std::isfinite(v->get_double()) && std::fabs(v->get_double()) < kLimit) {
    return std::optional<int64_t>(static_cast<int64_t>(v->get_double()));
  }
  return Fail("claim \"" + std::string(name) + "\" is not a number in range");
}

StatusOr<std::vector<std::string>> StringList(const boost::json::object& claims,
                                              const std::string& name,
                                              const std::vector<std::string>& defaults) {
  const boost::json::value* v = FindClaim(claims, name);
  if (v == nullptr || v->is_null()) return defaults;
  const std::string bad = "claim \"" + Printable(name) + "\" is not a string or array of strings";
  std::vector<std::string> out;
  if (v->is_string()) {
    if (v->as_string().empty()) return Fail(bad);
    out.emplace_back(v->as_string());
    return out;
  }
  if (!v->is_array()) return Fail(bad);
  for (const boost::json::value& e : v->as_array()) {
    if (!e.is_string() || e.as_string().empty()) return Fail(bad);
    out.emplace_back(e.as_string());
  }
  return out;
}

std::string_view LookupErrorReason(JwtKeySet::LookupError error) {
  switch (error) {
    case JwtKeySet::LookupError::kUnknownKid:
      return "no key has the token's kid";
    case JwtKeySet::LookupError::kAlgMismatch:
      return "the key with the token's kid does not allow its alg";
    case JwtKeySet::LookupError::kNoKey:
      return "no key allows the token's alg";
    case JwtKeySet::LookupError::kAmbiguous:
      return "token has no kid and several keys allow its alg";
  }
  return "no key";
}

}  // namespace

StatusOr<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(JwtVerifierOptions options) {
  if (options.key_source == nullptr) return InvalidArgument("jwt verifier: no key source");
  if (options.leeway_s < 0) return InvalidArgument("jwt verifier: negative leeway");
  if (options.max_token_bytes == 0) return InvalidArgument("jwt verifier: max_token_bytes is 0");
  if (options.principal_claim.empty() || options.tenants_claim.empty() ||
      options.roles_claim.empty()) {
    return InvalidArgument("jwt verifier: empty claim name");
  }
  return std::unique_ptr<JwtVerifier>(new JwtVerifier(std::move(options)));
}

StatusOr<VerifiedJwt> JwtVerifier::Verify(std::string_view token, int64_t now_unix_s) const {
  if (token.size() > options_.max_token_bytes) return Fail("token longer than max_token_bytes");
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Fail("not three dot-separated parts");
  }
  const std::string_view signing_input = token.substr(0, dot2);
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);

  // Header.
  auto header_json = internal::Base64UrlDecode(header_b64, "header");
  if (!header_json.ok()) return Fail(header_json.status().message());
  auto header = internal::ParseStrictJsonObject(*header_json, "header");
  if (!header.ok()) return Fail(header.status().message());
  const boost::json::value* alg_value = header->if_contains("alg");
  if (alg_value == nullptr || !alg_value->is_string()) return Fail("header has no string alg");
  const std::optional<JwtAlg> alg = ParseJwtAlg(alg_value->as_string());
  if (!alg.has_value()) {
    return Fail("alg \"" + Printable(alg_value->as_string()) + "\" not accepted");
  }
  if (header->contains("crit")) return Fail("header has crit (no extension is understood)");
  std::optional<std::string_view> kid;
  if (const boost::json::value* k = header->if_contains("kid")) {
    if (!k->is_string()) return Fail("header kid is not a string");
    kid = std::string_view(k->as_string());
  }

  // Key.
  auto keys = options_.key_source->Keys();
  if (!keys.ok()) return Fail("no keys: " + keys.status().message());
  JwtKeySet::Lookup lookup = (*keys)->Find(kid, *alg);
  if (lookup.key == nullptr && lookup.error == JwtKeySet::LookupError::kUnknownKid) {
    keys = options_.key_source->KeysAfterUnknownKid(*kid, *keys);
    if (!keys.ok()) return Fail("no keys: " + keys.status().message());
    lookup = (*keys)->Find(kid, *alg);
  }
  if (lookup.key == nullptr) {
    return Fail(std::string(LookupErrorReason(lookup.error)) + " (kid \"" +
                Printable(kid.value_or("")) + "\", alg " + std::string(JwtAlgName(*alg)) + ")");
  }
  const JwtKey& key = *lookup.key;

  // Signature.
  auto signature = internal::Base64UrlDecode(signature_b64, "signature");
  if (!signature.ok()) return Fail(signature.status().message());
  bool valid = false;
  switch (*alg) {
    case JwtAlg::kHS256:
      valid = VerifyHs256(key.hmac_secret(), signing_input, *signature);
      break;
    case JwtAlg::kRS256:
      valid = VerifyRs256(key.public_key(), signing_input, *signature);
      break;
    case JwtAlg::kES256:
      valid = VerifyEs256(key.public_key(), signing_input, *signature);
      break;
  }
  if (!valid) {
    return Fail("signature does not verify (kid \"" + Printable(key.kid()) + "\", alg " +
                std::string(JwtAlgName(*alg)) + ")");
  }

  // Claims.
  auto payload_json = internal::Base64UrlDecode(payload_b64, "payload");
  if (!payload_json.ok()) return Fail(payload_json.status().message());
  auto claims = internal::ParseStrictJsonObject(*payload_json, "payload");
  if (!claims.ok()) return Fail(claims.status().message());

  const int64_t leeway = options_.leeway_s;
  ASSIGN_OR_RETURN(std::optional<int64_t> exp, NumericDate(*claims, "exp"));
  ASSIGN_OR_RETURN(std::optional<int64_t> nbf, NumericDate(*claims, "nbf"));
  ASSIGN_OR_RETURN(std::optional<int64_t> iat, NumericDate(*claims, "iat"));
  if (!exp.has_value() && options_.require_exp) return Fail("no exp claim");
  if (exp.has_value() && *exp <= now_unix_s - leeway) return Fail("expired");
  if (nbf.has_value() && *nbf > now_unix_s + leeway) return Fail("not yet valid (nbf)");
  if (iat.has_value() && *iat > now_unix_s + leeway) return Fail("issued in the future (iat)");

  if (options_.issuer.has_value()) {
    const boost::json::value* iss = claims->if_contains("iss");
    if (iss == nullptr || !iss->is_string() || iss->as_string() != *options_.issuer) {
      return Fail("issuer mismatch");
    }
  }
  if (const boost::json::value* aud = claims->if_contains("aud")) {
    std::vector<std::string_view> auds;
    if (aud->is_string()) {
      auds.emplace_back(aud->as_string());
    } else if (aud->is_array()) {
      for (const boost::json::value& a : aud->as_array()) {
        if (!a.is_string()) return Fail("aud is not a string or array of strings");
        auds.emplace_back(a.as_string());
      }
    } else {
      return Fail("aud is not a string or array of strings");
    }
    if (!options_.audiences.empty()) {
      bool match = false;
      for (std::string_view a : auds) {
        for (const std::string& want : options_.audiences) match |= a == want;
      }
      if (!match) return Fail("audience mismatch");
    }
  } else if (!options_.audiences.empty()) {
    return Fail("no aud claim");
  }

  VerifiedJwt out;
  const boost::json::value* principal = FindClaim(*claims, options_.principal_claim);
  if (principal == nullptr || !principal->is_string() || principal->as_string().empty()) {
    return Fail("principal claim \"" + Printable(options_.principal_claim) +
                "\" missing or not a non-empty string");
  }
  out.principal = std::string(principal->as_string());
  ASSIGN_OR_RETURN(out.tenants,
                   StringList(*claims, options_.tenants_claim, options_.default_tenants));
  ASSIGN_OR_RETURN(out.roles, StringList(*claims, options_.roles_claim, options_.default_roles));
  out.expires_at = exp.value_or(0);
  out.kid = std::string(kid.value_or(""));
  out.alg = *alg;
  return out;
}

}  // namespace cairn::auth
