// Signs one request described on stdin and prints the result, for tests/test_s3_sigv4.py to
// compare with botocore. Input lines:
//   method GET | path /bucket/key%20x | query NAME VALUE | header NAME VALUE |
//   payload_hash HEX | region R | service S | date YYYYMMDDTHHMMSSZ |
//   access_key K | secret_key S | session_token T
// Output: the canonical request, a line "----", the string to sign, "----", the Authorization
// header.
#include <iostream>
#include <string>

#include "artifact/s3/sigv4_signer.h"

int main() {
  using namespace cairn::artifact;
  SigV4Request request;
  AwsCredentials credentials;
  std::string region, service, date, line;
  while (std::getline(std::cin, line)) {
    size_t space = line.find(' ');
    std::string field = line.substr(0, space);
    std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
    auto pair = [&] {
      size_t sep = rest.find(' ');
      return std::make_pair(rest.substr(0, sep),
                            sep == std::string::npos ? "" : rest.substr(sep + 1));
    };
    if (field == "method")
      request.method = rest;
    else if (field == "path")
      request.encoded_path = rest;
    else if (field == "query")
      request.query.push_back(pair());
    else if (field == "header")
      request.headers.push_back(pair());
    else if (field == "payload_hash")
      request.payload_hash = rest;
    else if (field == "region")
      region = rest;
    else if (field == "service")
      service = rest;
    else if (field == "date")
      date = rest;
    else if (field == "access_key")
      credentials.access_key_id = rest;
    else if (field == "secret_key")
      credentials.secret_access_key = rest;
    else if (field == "session_token")
      credentials.session_token = rest;
  }
  SigV4Result result = SignV4(request, credentials, region, service, date);
  std::cout << result.canonical_request << "\n----\n"
            << result.string_to_sign << "\n----\n"
            << result.authorization << "\n";
  return 0;
}
