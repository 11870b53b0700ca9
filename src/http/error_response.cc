#include "http/error_response.h"

#include <boost/json.hpp>
#include <cstdint>
#include <string>

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

// Replaces invalid UTF-8 (e.g. a decoded "%FF" in a path echoed back) with U+FFFD so the body
// stays parseable by strict JSON decoders.
std::string ValidUtf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    auto c = static_cast<unsigned char>(in[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    bool ok = len > 0 && i + len <= in.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(in[i + k]) & 0xC0) == 0x80;
    }
    if (ok && len > 1) {
      // Reject overlong forms, surrogates and code points past U+10FFFF.
      uint32_t cp = c & (0x7F >> len);
      for (size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(in[i + k]) & 0x3F);
      static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[len] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    }
    if (ok) {
      out.append(in.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

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
    obj["message"] = ValidUtf8(message);
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
  if (!IsAscii(message)) message = ValidUtf8(message);
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
