#pragma once

#include <memory>
#include <optional>

#include "http/middleware.h"

namespace spdlog {
class logger;
}

namespace cairn::http {

// Writes one info line per request once the response is known:
//   access method=GET path=/x status=200 bytes=12 ms=0.31 rid=<request id> tenant=default
// Request-derived values are JSON-escaped so the JSON log format stays valid. `bytes` is the
// body size, or the stream's declared size, or -1 when a stream's size is unknown. Register it
// after the request-id and tenant middlewares (it runs on the way out, so it sees their
// values). Skips all formatting when info is disabled. Thread-safe.
class AccessLogMiddleware final : public Middleware {
 public:
  // Logs to `logger`, or to spdlog's default logger when null.
  explicit AccessLogMiddleware(std::shared_ptr<spdlog::logger> logger = nullptr);
  ~AccessLogMiddleware() override;

  std::optional<Response> OnRequest(Request& request) override;
  void OnResponse(const Request& request, Response& response, int64_t elapsed_ns) override;

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace cairn::http
