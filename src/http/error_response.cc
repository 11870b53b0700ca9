#include "http/error_response.h"

#include <boost/json.hpp>
#include <string>

#include "base/utf8.h"

namespace cairn::http {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kConflict:
      return 409;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kPayloadTooLarge:
      return 413;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

std::string_view WireCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInvalidArgument:
      return "INVALID_PARAMETER_VALUE";
    case StatusCode::kAlreadyExists:
      return "RESOURCE_ALREADY_EXISTS";
    case StatusCode::kFailedPrecondition:
      return "INVALID_STATE";
    case StatusCode::kNotFound:
      return "RESOURCE_DOES_NOT_EXIST";
    case StatusCode::kConflict:
      return "RESOURCE_CONFLICT";
    case StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
    case StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case StatusCode::kPayloadTooLarge:
      return "REQUEST_LIMIT_EXCEEDED";
    case StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case StatusCode::kUnimplemented:
      return "NOT_IMPLEMENTED";
    case StatusCode::kUnavailable:
      return "TEMPORARILY_UNAVAILABLE";
    case StatusCode::kInternal:
      return "INTERNAL_ERROR";
  }
  return "INTERNAL_ERROR";
}

namespace {

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

std::string ErrorBody(std::string_view error_code, std::string_view message) {
  boost::json::object obj;
  obj["error_code"] = error_code;
  if (IsAscii(message)) {
    obj["message"] = message;
  } else {
    obj["message"] = ToValidUtf8(message);
  }
  return boost::json::serialize(obj);
}

Response ErrorResponse(const Status& status) {
  if (status.ok()) {
    // Only a caller bug gets here; answer as the internal error it is rather than a 200.
    return Response::Json(500, ErrorBody("INTERNAL_ERROR", "ok status reported as an error"));
  }
  std::string_view wire = status.wire_code().empty() ? WireCodeFor(status.code())
                                                     : std::string_view(status.wire_code());
  return Response::Json(HttpStatusFor(status.code()), ErrorBody(wire, status.message()));
}

Response ErrorResponse(const Status& status, ErrorFormat format) {
  if (format == ErrorFormat::kMlflow) return ErrorResponse(status);
  Response response = ErrorResponse(status);
  std::string message =
      status.ok() ? std::string("ok status reported as an error") : status.message();
  if (!IsAscii(message)) message = ToValidUtf8(message);
  boost::json::object obj;
  obj["error"] = message;
  response.body = boost::json::serialize(obj);
  return response;
}

Response EndpointNotFound(std::string_view method, std::string_view path) {
  std::string message = "No API route for ";
  message += method;
  message += ' ';
  message += path;
  return Response::Json(404, ErrorBody("ENDPOINT_NOT_FOUND", message));
}

Response MethodNotAllowed(std::string_view method, std::string_view path) {
  std::string message = "Method ";
  message += method;
  message += " is not allowed for ";
  message += path;
  return Response::Json(405, ErrorBody("BAD_REQUEST", message));
}

}  // namespace cairn::http
