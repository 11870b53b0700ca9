#include "auth/jwt/jwt_test_signer.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>

#include "auth/jwt/jwt_encoding.h"

namespace cairn::auth::testing {
namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "jwt_test_signer: %s failed\n", what);
  std::abort();
}

std::string BioString(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

}  // namespace

PrivateKey GenerateRsaKey(int bits) {
  EVP_PKEY* key = EVP_RSA_gen(static_cast<unsigned int>(bits));
  if (key == nullptr) Die("EVP_RSA_gen");
  return PrivateKey(key, EVP_PKEY_free);
}

PrivateKey GenerateEcP256Key() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) Die("EVP_EC_gen");
  return PrivateKey(key, EVP_PKEY_free);
}

std::string PublicKeyPem(const PrivateKey& key) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (PEM_write_bio_PUBKEY(bio, key.get()) != 1) Die("PEM_write_bio_PUBKEY");
  return BioString(bio);
}

std::string RsaPublicKeyPkcs1Pem(const PrivateKey& key) {
  OSSL_ENCODER_CTX* ctx = OSSL_ENCODER_CTX_new_for_pkey(key.get(), EVP_PKEY_PUBLIC_KEY, "PEM",
                                                        "type-specific", nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  if (ctx == nullptr || OSSL_ENCODER_to_bio(ctx, bio) != 1) Die("OSSL_ENCODER_to_bio");
  OSSL_ENCODER_CTX_free(ctx);
  return BioString(bio);
}

std::string SelfSignedCertificatePem(const PrivateKey& key) {
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key.get());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("cairn-test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  if (X509_sign(cert, key.get(), EVP_sha256()) == 0) Die("X509_sign");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  X509_free(cert);
  return BioString(bio);
}

std::string B64(std::string_view bytes) { return internal::Base64UrlEncode(bytes); }

std::string PublicJwk(const PrivateKey& key, std::string_view kid) {
  auto bn_param = [&](const char* name, int pad) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key.get(), name, &bn) != 1) Die("EVP_PKEY_get_bn_param");
    std::string bytes(pad > 0 ? pad : BN_num_bytes(bn), '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()),
                 static_cast<int>(bytes.size()));
    BN_free(bn);
    return B64(bytes);
  };
  std::string out = "{";
  if (!kid.empty()) out += "\"kid\":\"" + std::string(kid) + "\",";
  if (EVP_PKEY_is_a(key.get(), "RSA")) {
    out += "\"kty\":\"RSA\",\"n\":\"" + bn_param("n", 0) + "\",\"e\":\"" + bn_param("e", 0) + "\"}";
  } else {
    out += "\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + bn_param("qx", 32) + "\",\"y\":\"" +
           bn_param("qy", 32) + "\"}";
  }
  return out;
}

std::string HmacSha256(std::string_view secret, std::string_view input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

static std::string DigestSign(const PrivateKey& key, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1) {
    Die("EVP_DigestSign");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    Die("EVP_DigestSign");
  }
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  return sig;
}

std::string RsaSha256Sign(const PrivateKey& key, std::string_view input) {
  return DigestSign(key, input);
}

std::string EcdsaSha256Sign(const PrivateKey& key, std::string_view input, bool der) {
  std::string sig = DigestSign(key, input);
  if (der) return sig;
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  if (ecdsa == nullptr) Die("d2i_ECDSA_SIG");
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(ecdsa);
  return raw;
}

std::string SignToken(std::string_view alg, std::string_view header_json,
                      std::string_view payload_json, const PrivateKey& key,
                      std::string_view secret) {
  const std::string input = B64(header_json) + "." + B64(payload_json);
  std::string sig;
  if (alg == "HS256") {
    sig = HmacSha256(secret, input);
  } else if (alg == "RS256") {
    sig = RsaSha256Sign(key, input);
  } else if (alg == "ES256") {
    sig = EcdsaSha256Sign(key, input);
  }
  return input + "." + B64(sig);
}

}  // namespace cairn::auth::testing
