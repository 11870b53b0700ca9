#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cairn {

// Canonical error space shared by every component. The HTTP layer maps each code to one HTTP
// status and one wire error code (see http/error_response.h); nothing else does.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller sent something malformed or out of range (400)
  kNotFound,            // the named entity does not exist for this tenant (404)
  kAlreadyExists,       // a unique name is taken (MLflow answers 400 RESOURCE_ALREADY_EXISTS)
  kFailedPrecondition,  // the entity is in the wrong state for the call, e.g. a deleted run (400)
  kConflict,            // the call conflicts with other state, e.g. a version still deployed (409)
  kUnauthenticated,     // 401
  kPermissionDenied,    // 403
  kResourceExhausted,   // rate limits, quotas (429)
  kPayloadTooLarge,     // request body over the route's limit (413)
  kUnimplemented,       // 501
  kUnavailable,         // transient; the caller may retry (503)
  kInternal,            // a bug or an unexpected backend failure (500)
};

std::string_view StatusCodeName(StatusCode code);

// Status is the error path of every fallible call: no exceptions cross a component boundary.
// An ok Status carries no message. `wire_code` optionally overrides the protocol error code the
// HTTP layer would otherwise derive from `code` (e.g. ENDPOINT_NOT_FOUND).
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& wire_code() const { return wire_code_; }

  Status&& WithWireCode(std::string wire_code) && {
    wire_code_ = std::move(wire_code);
    return std::move(*this);
  }

  std::string ToString() const;

  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string wire_code_;
};

inline Status InvalidArgument(std::string msg) {
  return {StatusCode::kInvalidArgument, std::move(msg)};
}
inline Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
inline Status AlreadyExists(std::string msg) {
  return {StatusCode::kAlreadyExists, std::move(msg)};
}
inline Status FailedPrecondition(std::string msg) {
  return {StatusCode::kFailedPrecondition, std::move(msg)};
}
inline Status Conflict(std::string msg) { return {StatusCode::kConflict, std::move(msg)}; }
inline Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
inline Status Unimplemented(std::string msg) {
  return {StatusCode::kUnimplemented, std::move(msg)};
}
inline Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }

// StatusOr<T> holds either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : rep_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  StatusOr(Status status) : rep_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(rep_).ok()) rep_ = Status(StatusCode::kInternal, "ok status in StatusOr");
  }

  bool ok() const { return std::holds_alternative<T>(rep_); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(rep_); }

  T& value() & { return std::get<T>(rep_); }
  const T& value() const& { return std::get<T>(rep_); }
  T&& value() && { return std::get<T>(std::move(rep_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> rep_;
};

}  // namespace cairn

#define CAIRN_CONCAT_INNER(a, b) a##b
#define CAIRN_CONCAT(a, b) CAIRN_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::cairn::Status _cairn_status = (expr);        \
    if (!_cairn_status.ok()) return _cairn_status; \
  } while (false)

// `tmp` names a variable and `lhs` is a declaration or an lvalue: neither can be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define CAIRN_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

#define ASSIGN_OR_RETURN(lhs, expr) \
  CAIRN_ASSIGN_OR_RETURN_IMPL(CAIRN_CONCAT(_cairn_statusor_, __LINE__), lhs, expr)
