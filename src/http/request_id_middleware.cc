#include "http/request_id_middleware.h"

namespace cairn::http {

bool RequestIdMiddleware::IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<Response> RequestIdMiddleware::OnRequest(Request& request) {
  auto incoming = request.headers.Get("X-Request-Id");
  if (incoming && IsValidRequestId(*incoming)) {
    request.scope.request_id.assign(*incoming);
  } else {
    request.scope.request_id = ids_.Hex32();
  }
  return std::nullopt;
}

void RequestIdMiddleware::OnResponse(const Request& request, Response& response,
                                     int64_t /*elapsed_ns*/) {
  if (!request.scope.request_id.empty()) {
    response.headers.Set("X-Request-Id", request.scope.request_id);
  }
}

}  // namespace cairn::http
