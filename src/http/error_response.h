#pragma once

#include <string_view>

#include "base/status.h"
#include "http/message.h"

namespace cairn::http {

// The one place a Status becomes an HTTP response: status code plus the MLflow-shaped body
// {"error_code": ..., "message": ...}. Client errors are never 5xx (MLflow clients retry 5xx).
//   kInvalidArgument    -> 400 INVALID_PARAMETER_VALUE
//   kAlreadyExists      -> 400 RESOURCE_ALREADY_EXISTS (MLflow's choice)
//   kFailedPrecondition -> 400 INVALID_STATE
//   kNotFound           -> 404 RESOURCE_DOES_NOT_EXIST
//   kConflict           -> 409 RESOURCE_CONFLICT
//   kUnauthenticated    -> 401 UNAUTHENTICATED
//   kPermissionDenied   -> 403 PERMISSION_DENIED
//   kPayloadTooLarge    -> 413 REQUEST_LIMIT_EXCEEDED
//   kResourceExhausted  -> 429 RESOURCE_EXHAUSTED
//   kUnimplemented      -> 501 NOT_IMPLEMENTED
//   kUnavailable        -> 503 TEMPORARILY_UNAVAILABLE
//   kInternal           -> 500 INTERNAL_ERROR
// A non-empty Status::wire_code() replaces the derived error_code (the HTTP status stays).
Response ErrorResponse(const Status& status);

// How a protocol shapes its error bodies. The HTTP status is the same for every format.
enum class ErrorFormat {
  kMlflow,         // {"error_code": ..., "message": ...} (MLflow REST and Cairn's /api/v1)
  kOpenInference,  // {"error": "<message>"} (Open Inference Protocol V2: KServe, Triton)
};
Response ErrorResponse(const Status& status, ErrorFormat format);
int HttpStatusFor(StatusCode code);
std::string_view WireCodeFor(StatusCode code);

// 404 {"error_code":"ENDPOINT_NOT_FOUND"} for unknown routes.
Response EndpointNotFound(std::string_view method, std::string_view path);

// 405 {"error_code":"BAD_REQUEST"} for a known path asked with a method it does not serve.
Response MethodNotAllowed(std::string_view method, std::string_view path);

// The JSON error envelope {"error_code": ..., "message": ...}, properly escaped.
std::string ErrorBody(std::string_view error_code, std::string_view message);

}  // namespace cairn::http
