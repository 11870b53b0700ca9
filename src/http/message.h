#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/request_scope.h"
#include "base/status.h"
#include "http/permission.h"

namespace cairn::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

std::string_view MethodName(Method m);
// Exact, case-sensitive match of the upper-case method token; anything else is kOther.
Method ParseMethod(std::string_view name);

// Splits and decodes an application/x-www-form-urlencoded query string ("a=1&b=x+y&a=2"):
// pairs in order, repeats kept, '+' read as a space, a key without '=' gets an empty value,
// empty pieces skipped. Fails with INVALID_ARGUMENT on a malformed percent escape.
StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQueryString(std::string_view query);

// An ordered header list with case-insensitive lookup.
class Headers {
 public:
  void Add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  // Replaces every header called `name` with one.
  void Set(std::string name, std::string value);
  // The first value of `name`, or nullopt.
  std::optional<std::string_view> Get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct Request {
  Method method = Method::kGet;
  std::string target;  // raw request target, e.g. "/api/2.0/mlflow/runs/get?run_id=x"
  std::string path;    // percent-decoded path without the query string
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order, repeats kept
  Headers headers;
  std::string body;                                             // empty for streaming routes
  std::map<std::string, std::string, std::less<>> path_params;  // decoded "{name}" captures
  std::string_view route_pattern;  // the matched route pattern, for metrics and logs
  // The matched route's declared permission (kUnset when nothing matched).
  Permission permission = Permission::kUnset;
  // The client's address (no port), as the connection saw it.
  std::string client;
  // Who is calling, in which tenant (see base/request_scope.h); filled by the middlewares.
  RequestScope scope;

  std::optional<std::string> QueryParam(std::string_view name) const;
  std::vector<std::string> QueryParams(std::string_view name) const;
  std::string PathParam(std::string_view name) const;
};

// A pull-based response body for streaming downloads. Owned by the Response; the server calls
// Read on one thread at a time until it returns 0 (end) or an error (the connection is closed).
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Copies at most `capacity` bytes into `buffer`; 0 means the end of the body.
  virtual StatusOr<size_t> Read(char* buffer, size_t capacity) = 0;
  // Total size if known up front (sent as Content-Length; otherwise chunked encoding is used).
  virtual std::optional<uint64_t> Size() const = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  Headers headers;
  std::string body;
  std::unique_ptr<BodySource> stream;  // when set, `body` is ignored
  // Set by a middleware's OnResponse to hold the answer back until something is done (the audit
  // log makes a mutation's record durable): the server calls it once, after every OnResponse,
  // and sends the response when `release` is called, from any thread. It must call `release`
  // exactly once, whatever happens.
  std::function<void(std::function<void()> release)> hold;

  static Response Json(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static Response Text(int status, std::string body) {
    Response r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::move(body);
    return r;
  }
};

// A push-based request body for streaming uploads. Created by a StreamingHandler after the
// headers arrive; the server calls Write for each chunk in order, then exactly one of Finish
// (the whole body arrived) or Abort (the client went away or the body broke a limit).
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual Status Write(std::string_view chunk) = 0;
  virtual Response Finish() = 0;
  virtual void Abort() = 0;
};

}  // namespace cairn::http
