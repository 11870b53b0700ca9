#pragma once

#include <optional>

#include "http/message.h"

namespace cairn::http {

// A step run around every handler, in registration order on the way in and reverse order on the
// way out. Implementations must be thread-safe: one instance serves all connections.
class Middleware {
 public:
  virtual ~Middleware() = default;
  // Runs after routing, before the handler (and before a streaming body is read). Returning a
  // response short-circuits the handler (e.g. 401, 429); OnResponse still runs for it.
  virtual std::optional<Response> OnRequest(Request& request) = 0;
  // Runs after the handler with the final response, for every middleware whose OnRequest ran
  // (so not for those after a short-circuit). `elapsed_ns` is the time since the request
  // header was read.
  virtual void OnResponse(const Request& request, Response& response, int64_t elapsed_ns) = 0;
};

}  // namespace cairn::http
