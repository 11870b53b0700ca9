#pragma once

// Test-only: key generation and token signing with OpenSSL, for the tests and the benchmark.
// Never linked into the server.

#include <memory>
#include <string>
#include <string_view>

struct evp_pkey_st;

namespace cairn::auth::testing {

// An owned private key (with its public half).
using PrivateKey = std::shared_ptr<evp_pkey_st>;

PrivateKey GenerateRsaKey(int bits = 2048);
PrivateKey GenerateEcP256Key();
// "-----BEGIN PUBLIC KEY-----" PEM of the key's public half.
std::string PublicKeyPem(const PrivateKey& key);
// "-----BEGIN RSA PUBLIC KEY-----" (PKCS#1) PEM of an RSA key's public half.
std::string RsaPublicKeyPkcs1Pem(const PrivateKey& key);
// A self-signed certificate for the key, PEM.
std::string SelfSignedCertificatePem(const PrivateKey& key);

std::string B64(std::string_view bytes);

// The key's public half as a JWK object text (kty RSA or EC), with "kid" when not empty.
std::string PublicJwk(const PrivateKey& key, std::string_view kid);

// The signature, raw, of `input` under each algorithm. EcdsaSign returns JOSE r||s unless
// `der` is set.
std::string HmacSha256(std::string_view secret, std::string_view input);
std::string RsaSha256Sign(const PrivateKey& key, std::string_view input);
std::string EcdsaSha256Sign(const PrivateKey& key, std::string_view input, bool der = false);

// header.payload.signature with the given JSON texts, signed per the header's intent: `alg`
// picks the signing function ("HS256" with `secret`, "RS256"/"ES256" with `key`, "none" gives
// an empty signature). The JSON texts are used as given, so tests can write malformed ones.
std::string SignToken(std::string_view alg, std::string_view header_json,
                      std::string_view payload_json, const PrivateKey& key = nullptr,
                      std::string_view secret = {});

}  // namespace cairn::auth::testing
