#pragma once

#include <optional>
#include <string_view>

#include "base/ids.h"
#include "http/middleware.h"

namespace cairn::http {

// Gives every request an id: the caller's X-Request-Id when it is sane (1..128 characters of
// [A-Za-z0-9._-]), otherwise 32 random hex digits. Sets request.scope.request_id and echoes
// the id in the response's X-Request-Id header. Register it first so every other middleware
// and every log line sees the id. Thread-safe.
class RequestIdMiddleware final : public Middleware {
 public:
  explicit RequestIdMiddleware(IdGenerator& ids = IdGenerator::Default()) : ids_(ids) {}

  std::optional<Response> OnRequest(Request& request) override;
  void OnResponse(const Request& request, Response& response, int64_t elapsed_ns) override;

  static bool IsValidRequestId(std::string_view id);

 private:
  IdGenerator& ids_;
};

}  // namespace cairn::http
