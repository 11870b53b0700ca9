#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"

namespace cairn::artifact {

struct HttpClientOptions {
  long connect_ms = 10'000;
  // A transfer slower than 1 byte/s for this long is cut (a stalled peer), however large it is.
  long stall_s = 30;
  // Whole-request limit; 0: none (parts and ranges are bounded in size, the stall check cuts the
  // rest).
  long total_ms = 0;
  // PEM bundle of the certificate authorities to trust for https (a private CA of a MinIO or
  // Ceph endpoint); empty: the system's.
  std::string ca_file;
};

struct HttpRequest {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;  // borrowed for the call
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  // The first header of that (lower-case) name, or "".
  std::string Header(std::string_view name) const;
};

// A blocking HTTP/1.1 client on libcurl, keeping a small pool of easy handles so connections are
// reused across calls. Thread-safe: each call takes a handle of its own from the pool.
// Errors: UNAVAILABLE for transport failures (connect, DNS, timeout, reset) with curl's reason;
// any HTTP status, 5xx included, is a response, not an error.
class CurlHttpClient {
 public:
  explicit CurlHttpClient(HttpClientOptions options);
  ~CurlHttpClient();
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  StatusOr<HttpResponse> Perform(const HttpRequest& request);

 private:
  void* TakeHandle();
  void ReturnHandle(void* handle);

  const HttpClientOptions options_;
  Mutex mu_;
  std::vector<void*> idle_ GUARDED_BY(mu_);  // CURL* handles, owned
};

}  // namespace cairn::artifact
