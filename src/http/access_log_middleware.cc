#include "http/access_log_middleware.h"

#include <spdlog/spdlog.h>

#include "base/logging.h"

namespace cairn::http {

AccessLogMiddleware::AccessLogMiddleware(std::shared_ptr<spdlog::logger> logger)
    : logger_(std::move(logger)) {}

AccessLogMiddleware::~AccessLogMiddleware() = default;

std::optional<Response> AccessLogMiddleware::OnRequest(Request& /*request*/) {
  return std::nullopt;
}

void AccessLogMiddleware::OnResponse(const Request& request, Response& response,
                                     int64_t elapsed_ns) {
  spdlog::logger* logger = logger_ ? logger_.get() : spdlog::default_logger_raw();
  if (!logger->should_log(spdlog::level::info)) return;
  int64_t bytes = static_cast<int64_t>(response.body.size());
  if (response.stream) {
    auto size = response.stream->Size();
    bytes = size ? static_cast<int64_t>(*size) : -1;
  }
  logger->info("access method={} path={} status={} bytes={} ms={:.2f} rid={} tenant={}",
               MethodName(request.method), JsonEscape(request.path), response.status, bytes,
               static_cast<double>(elapsed_ns) / 1e6, JsonEscape(request.scope.request_id),
               JsonEscape(request.scope.tenant));
}

}  // namespace cairn::http
