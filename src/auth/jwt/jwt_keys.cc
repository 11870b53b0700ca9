#include "auth/jwt/jwt_keys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/json.hpp>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <utility>

#include "auth/jwt/jwt_encoding.h"

namespace cairn::auth {

class JwtKeyBuilder {
 public:
  static JwtKey Hmac(std::string secret, std::string kid) {
    JwtKey key;
    key.kid_ = std::move(kid);
    key.type_ = JwtKeyType::kHmac;
    key.allowed_ = JwtKey::Bit(JwtAlg::kHS256);
    key.secret_ = std::make_shared<const std::string>(std::move(secret));
    return key;
  }
  // Takes ownership of `pkey` (a public key already classified as `type`).
  static JwtKey Public(EVP_PKEY* pkey, JwtKeyType type, std::string kid) {
    JwtKey key;
    key.kid_ = std::move(kid);
    key.type_ = type;
    key.allowed_ = JwtKey::Bit(type == JwtKeyType::kRsa ? JwtAlg::kRS256 : JwtAlg::kES256);
    key.secret_ = std::make_shared<const std::string>();
    key.pkey_ = std::shared_ptr<evp_pkey_st>(pkey, EVP_PKEY_free);
    return key;
  }
};

namespace {

constexpr size_t kMinHmacSecretBytes = 32;
constexpr int kMinRsaBits = 2048;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct DecoderFree {
  void operator()(OSSL_DECODER_CTX* d) const { OSSL_DECODER_CTX_free(d); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// Decides which JwtKey a public key becomes, or why it cannot be one. Takes ownership.
StatusOr<JwtKey> Classify(PkeyPtr pkey, std::string kid) {
  JwtKeyType type;
  if (EVP_PKEY_is_a(pkey.get(), "RSA")) {
    if (EVP_PKEY_get_bits(pkey.get()) < kMinRsaBits) {
      return InvalidArgument("RSA key shorter than 2048 bits");
    }
    type = JwtKeyType::kRsa;
  } else if (EVP_PKEY_is_a(pkey.get(), "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &len) != 1 ||
        std::string_view(group, len) != "prime256v1") {
      return InvalidArgument("EC key not on curve P-256");
    }
    type = JwtKeyType::kEcP256;
  } else {
    return InvalidArgument("unsupported public key type (only RSA and EC P-256)");
  }
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (ctx == nullptr || EVP_PKEY_public_check(ctx.get()) != 1) {
    return InvalidArgument("public key fails OpenSSL's consistency check");
  }
  return JwtKeyBuilder::Public(pkey.release(), type, std::move(kid));
}

StatusOr<PkeyPtr> PkeyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return InvalidArgument("key parameters rejected by OpenSSL");
  }
  return PkeyPtr(pkey);
}

StatusOr<std::string> JwkMember(const boost::json::object& jwk, std::string_view name) {
  const boost::json::value* v = jwk.if_contains(name);
  if (v == nullptr || !v->is_string()) {
    return InvalidArgument("missing or non-string \"" + std::string(name) + "\"");
  }
  return internal::Base64UrlDecode(std::string_view(v->as_string()), name);
}

StatusOr<JwtKey> KeyFromJwk(const boost::json::object& jwk, std::string kid, std::string_view kty) {
  if (kty == "oct") {
    ASSIGN_OR_RETURN(std::string k, JwkMember(jwk, "k"));
    return JwtKey::FromHmacSecret(std::move(k), std::move(kid));
  }
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr) return Internal("OSSL_PARAM_BLD_new failed");
  if (kty == "RSA") {
    ASSIGN_OR_RETURN(std::string n, JwkMember(jwk, "n"));
    ASSIGN_OR_RETURN(std::string e, JwkMember(jwk, "e"));
    auto to_bn = [](const std::string& bytes) {
      return std::unique_ptr<BIGNUM, BnFree>(
          BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                    static_cast<int>(bytes.size()), nullptr));
    };
    auto bn_n = to_bn(n);
    auto bn_e = to_bn(e);
    if (bn_n == nullptr || bn_e == nullptr ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
      return InvalidArgument("bad RSA parameters");
    }
    ASSIGN_OR_RETURN(PkeyPtr pkey, PkeyFromParams("RSA", bld.get()));
    return Classify(std::move(pkey), std::move(kid));
  }
  // kty "EC"
  const boost::json::value* crv = jwk.if_contains("crv");
  if (crv == nullptr || !crv->is_string() || crv->as_string() != "P-256") {
    return InvalidArgument("EC key with crv other than \"P-256\"");
  }
  ASSIGN_OR_RETURN(std::string x, JwkMember(jwk, "x"));
  ASSIGN_OR_RETURN(std::string y, JwkMember(jwk, "y"));
  if (x.size() != 32 || y.size() != 32) return InvalidArgument("P-256 x or y not 32 bytes");
  std::string point = "\x04" + x + y;
  if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return InvalidArgument("bad EC parameters");
  }
  ASSIGN_OR_RETURN(PkeyPtr pkey, PkeyFromParams("EC", bld.get()));
  return Classify(std::move(pkey), std::move(kid));
}

// Printable ASCII only, at most 64 characters: kids come from untrusted documents and tokens.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7f && c != '"' ? c : '?');
  if (s.size() > 64) out += "...";
  return out;
}

}  // namespace

std::string_view JwtAlgName(JwtAlg alg) {
  switch (alg) {
    case JwtAlg::kHS256:
      return "HS256";
    case JwtAlg::kRS256:
      return "RS256";
    case JwtAlg::kES256:
      return "ES256";
  }
  return "?";
}

std::optional<JwtAlg> ParseJwtAlg(std::string_view name) {
  if (name == "HS256") return JwtAlg::kHS256;
  if (name == "RS256") return JwtAlg::kRS256;
  if (name == "ES256") return JwtAlg::kES256;
  return std::nullopt;
}

StatusOr<JwtKey> JwtKey::FromHmacSecret(std::string secret, std::string kid) {
  if (secret.size() < kMinHmacSecretBytes) {
    return InvalidArgument("HMAC secret shorter than 32 bytes");
  }
  return JwtKeyBuilder::Hmac(std::move(secret), std::move(kid));
}

StatusOr<JwtKey> JwtKey::FromPem(std::string_view pem, std::string kid) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  const size_t begin = pem.find(kBegin);
  if (begin == std::string_view::npos) return InvalidArgument("no PEM block found");
  const size_t label_start = begin + kBegin.size();
  const size_t label_end = pem.find("-----", label_start);
  if (label_end == std::string_view::npos) return InvalidArgument("malformed PEM header");
  const std::string_view label = pem.substr(label_start, label_end - label_start);
  const std::string_view block = pem.substr(begin);
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(block.data(), static_cast<int>(block.size())));
  if (bio == nullptr) return Internal("BIO_new_mem_buf failed");
  PkeyPtr pkey;
  if (label == "PUBLIC KEY") {
    pkey.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  } else if (label == "RSA PUBLIC KEY") {
    EVP_PKEY* out = nullptr;
    std::unique_ptr<OSSL_DECODER_CTX, DecoderFree> dctx(OSSL_DECODER_CTX_new_for_pkey(
        &out, "PEM", nullptr, "RSA", EVP_PKEY_PUBLIC_KEY, nullptr, nullptr));
    if (dctx != nullptr && OSSL_DECODER_from_bio(dctx.get(), bio.get()) == 1) pkey.reset(out);
  } else if (label == "CERTIFICATE") {
    std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert != nullptr) pkey.reset(X509_get_pubkey(cert.get()));
  } else {
    return InvalidArgument("unsupported PEM block \"" + Printable(label) +
                           "\" (expected PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)");
  }
  if (pkey == nullptr) return InvalidArgument("cannot decode PEM " + std::string(label));
  return Classify(std::move(pkey), std::move(kid));
}

std::vector<JwtAlg> JwtKey::allowed_algs() const {
  std::vector<JwtAlg> out;
  for (JwtAlg alg : {JwtAlg::kHS256, JwtAlg::kRS256, JwtAlg::kES256}) {
    if (Allows(alg)) out.push_back(alg);
  }
  return out;
}

Status JwtKey::NarrowTo(const std::vector<JwtAlg>& algs) {
  uint8_t mask = 0;
  for (JwtAlg alg : algs) mask |= Bit(alg);
  if ((allowed_ & mask) == 0) return InvalidArgument("no algorithm left for the key");
  allowed_ &= mask;
  return Status::Ok();
}

StatusOr<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open key file " + path);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return NotFound("cannot read key file " + path);
  return data;
}

StatusOr<JwtKey> LoadPemKeyFile(const std::string& path, std::string kid) {
  ASSIGN_OR_RETURN(std::string pem, ReadKeyFile(path));
  auto key = JwtKey::FromPem(pem, std::move(kid));
  if (!key.ok()) return InvalidArgument(path + ": " + key.status().message());
  return key;
}

StatusOr<JwtKey> LoadHmacSecretFile(const std::string& path, std::string kid) {
  ASSIGN_OR_RETURN(std::string secret, ReadKeyFile(path));
  auto key = JwtKey::FromHmacSecret(std::move(secret), std::move(kid));
  if (!key.ok()) return InvalidArgument(path + ": " + key.status().message());
  return key;
}

StatusOr<JwksParseResult> ParseJwks(std::string_view json) {
  ASSIGN_OR_RETURN(boost::json::object doc, internal::ParseStrictJsonObject(json, "JWKS"));
  const boost::json::value* keys = doc.if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return InvalidArgument("JWKS: no \"keys\" array");
  JwksParseResult result;
  std::set<std::pair<std::string, JwtAlg>> seen;
  int index = -1;
  for (const boost::json::value& v : keys->as_array()) {
    ++index;
    std::string kid;
    auto skip = [&](const std::string& why) {
      result.skipped.push_back("key " + std::to_string(index) + " (kid \"" + Printable(kid) +
                               "\"): " + why);
    };
    if (!v.is_object()) {
      skip("not an object");
      continue;
    }
    const boost::json::object& jwk = v.as_object();
    if (const auto* k = jwk.if_contains("kid")) {
      if (!k->is_string()) {
        skip("non-string kid");
        continue;
      }
      kid = std::string(k->as_string());
    }
    const auto* kty = jwk.if_contains("kty");
    if (kty == nullptr || !kty->is_string()) {
      skip("missing kty");
      continue;
    }
    const std::string_view kty_name = kty->as_string();
    if (kty_name != "RSA" && kty_name != "EC" && kty_name != "oct") {
      skip("unsupported kty \"" + Printable(kty_name) + "\"");
      continue;
    }
    if (const auto* use = jwk.if_contains("use");
        use != nullptr && (!use->is_string() || use->as_string() != "sig")) {
      skip("use is not \"sig\"");
      continue;
    }
    if (const auto* ops = jwk.if_contains("key_ops"); ops != nullptr) {
      bool verify = false;
      if (ops->is_array()) {
        for (const auto& op : ops->as_array())
          verify |= op.is_string() && op.as_string() == "verify";
      }
      if (!verify) {
        skip("key_ops without \"verify\"");
        continue;
      }
    }
    auto key = KeyFromJwk(jwk, kid, kty_name);
    if (!key.ok()) {
      skip(key.status().message());
      continue;
    }
    if (const auto* alg = jwk.if_contains("alg"); alg != nullptr) {
      std::optional<JwtAlg> parsed =
          alg->is_string() ? ParseJwtAlg(alg->as_string()) : std::nullopt;
      if (!parsed.has_value() || !key->Allows(*parsed)) {
        skip("alg not supported for this key type");
        continue;
      }
      (void)key->NarrowTo({*parsed});
    }
    const JwtAlg alg = key->allowed_algs().front();
    if (!seen.emplace(kid, alg).second) {
      skip("repeats an earlier key's kid and alg");
      continue;
    }
    result.keys.push_back(std::move(key).value());
  }
  if (result.keys.empty()) {
    std::string why = "JWKS: no usable key";
    for (const auto& s : result.skipped) why += "; " + s;
    return InvalidArgument(why);
  }
  return result;
}

JwtKeySet::Lookup JwtKeySet::Find(const std::optional<std::string_view>& kid, JwtAlg alg) const {
  if (kid.has_value()) {
    bool kid_seen = false;
    for (const JwtKey& key : keys_) {
      if (key.kid() != *kid) continue;
      if (key.Allows(alg)) return {.key = &key};
      kid_seen = true;
    }
    if (kid_seen) return {.error = LookupError::kAlgMismatch};
  }
  const JwtKey* found = nullptr;
  for (const JwtKey& key : keys_) {
    if (kid.has_value() && !key.kid().empty()) continue;
    if (!key.Allows(alg)) continue;
    if (found != nullptr) return {.error = LookupError::kAmbiguous};
    found = &key;
  }
  if (found != nullptr) return {.key = found};
  return {.error = kid.has_value() ? LookupError::kUnknownKid : LookupError::kNoKey};
}

bool JwtKeySet::HasKid(std::string_view kid) const {
  for (const JwtKey& key : keys_) {
    if (key.kid() == kid) return true;
  }
  return false;
}

}  // namespace cairn::auth
