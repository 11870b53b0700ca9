#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "http/message.h"

namespace cairn::cli {

// Where the server listens, from a URL such as "http://127.0.0.1:5000",
// "https://cairn.internal/prefix" or "localhost:5000" (no scheme reads as http).
struct ServerAddress {
  std::string scheme = "http";  // "http" or "https"
  std::string host;             // name or address; IPv6 without brackets
  uint16_t port = 80;
  std::string base_path;  // "" or "/prefix" without a trailing slash

  // The absolute URL of `target` (path and query starting with '/') on this server.
  std::string UrlOf(std::string_view target) const;
};

// INVALID_ARGUMENT for anything but http:// or https:// URLs with a host and an optional port
// and path (no query, fragment or credentials).
StatusOr<ServerAddress> ParseServerAddress(std::string_view url);

struct HttpCall {
  http::Method method = http::Method::kGet;
  std::string target;  // path and query, percent-encoded, starting with '/'
  std::string body;    // sent with `content_type` when not empty
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers

  friend bool operator==(const HttpCall&, const HttpCall&) = default;
};

struct HttpReply {
  int status = 0;
  std::string body;
};

// Sends one request with http::Client and reads the whole answer. Any HTTP status is a reply;
// UNAVAILABLE when the server cannot be reached or the exchange fails or exceeds `timeout`.
// Blocking; thread-safe.
StatusOr<HttpReply> SendHttp(const ServerAddress& server, const HttpCall& call,
                             std::chrono::milliseconds timeout);

// A request body read piece by piece as it is sent, so that a large file is never held in
// memory: `read` fills at most `capacity` bytes and returns how many, 0 at the end; an error
// aborts the request. `size` is sent as Content-Length when known, else the body is chunked.
struct StreamedBody {
  std::function<StatusOr<size_t>(char* buffer, size_t capacity)> read;
  std::optional<uint64_t> size;
};

// SendHttp with `call.body` replaced by `body`, sent with `call.content_type`. `timeout` bounds
// connecting and each wait without progress (a write, or the answer), not the whole exchange,
// which may take as long as the upload does. The error of `body.read` is returned as it is.
StatusOr<HttpReply> SendHttpStreamed(const ServerAddress& server, const HttpCall& call,
                                     StreamedBody body, std::chrono::milliseconds timeout);

}  // namespace cairn::cli
