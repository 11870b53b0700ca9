// Resolves an S3 artifacts URI (argv[1]) with the process environment and the AWS shared files,
// as `cairn server --artifacts-uri` does, and prints what it found, for
// tests/test_s3_shared_config.py to compare with botocore. Keys are printed as SHA-256 digests
// only. Output lines: access_key_sha256, secret_key_sha256, session_token_sha256 ("" when
// unset), region, endpoint, path_style; or "error <message>" and exit status 2.
#include <cstdlib>
#include <iostream>
#include <string>

#include "artifact/s3/s3_store_config.h"

int main(int argc, char** argv) {
  using namespace cairn::artifact;
  if (argc != 2) {
    std::cerr << "usage: s3_config_tool s3://bucket[/prefix][?options]\n";
    return 1;
  }
  auto uri = cairn::Uri::Parse(argv[1]);
  if (!uri.ok()) {
    std::cout << "error " << uri.status().message() << "\n";
    return 2;
  }
  auto config = ParseS3StoreConfig(*uri, [](const char* name) {
    const char* value = std::getenv(name);
    return std::string(value == nullptr ? "" : value);
  });
  if (!config.ok()) {
    std::cout << "error " << config.status().message() << "\n";
    return 2;
  }
  auto digest = [](const std::string& value) { return value.empty() ? "" : Sha256Hex(value); };
  const AwsCredentials none;
  const AwsCredentials& keys = config->credentials ? *config->credentials : none;
  std::cout << "access_key_sha256 " << digest(keys.access_key_id) << "\n"
            << "secret_key_sha256 " << digest(keys.secret_access_key) << "\n"
            << "session_token_sha256 " << digest(keys.session_token) << "\n"
            << "region " << config->client.region << "\n"
            << "endpoint " << config->client.endpoint << "\n"
            << "path_style " << (config->client.path_style ? "true" : "false") << "\n";
  return 0;
}
