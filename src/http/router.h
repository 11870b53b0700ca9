#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/error_response.h"
#include "http/message.h"
#include "http/permission.h"
#include "http/responder.h"

namespace cairn::http {

// A handler that may block (a store, a file, another process): the server runs it on its
// blocking-work pool, never on an I/O thread, unless the route says it is inline.
using Handler = std::function<Response(Request&)>;
// A handler that answers later through the Responder, from any thread. It is called on an I/O
// thread and must return quickly without blocking; `request` is valid only during the call
// (copy what the answer needs). Middlewares' OnResponse runs once the response is sent.
using AsyncHandler = std::function<void(Request&, Responder)>;
// For routes whose body is streamed: called once the headers are in (request.body is empty).
// Returns the sink the body will be written to, or a Status that becomes the error response.
// Runs on the blocking-work pool, as does the sink's Finish; Write and Abort run on an I/O
// thread and must only buffer or write to a local file.
using StreamingHandler = std::function<StatusOr<std::unique_ptr<BodySink>>(Request&)>;

struct RouteOptions {
  // Largest accepted body. For streaming routes this bounds the whole upload.
  uint64_t max_body_bytes = 1 << 20;
  // A Handler that never blocks (answers from memory: health, version, metrics) runs on the
  // I/O thread, saving the hand-off to the pool.
  bool run_inline = false;
  // The shape of the error bodies the server itself sends for this route (413, 503 when busy,
  // a malformed body or a failed upload); a handler shapes its own.
  ErrorFormat error_format = ErrorFormat::kMlflow;
  // What the caller needs (see http/permission.h). Every route the server registers declares
  // one; CairnServer refuses to start when one is left kUnset.
  Permission permission = Permission::kUnset;
};

struct Route {
  Method method;
  std::string pattern;
  Handler handler;                     // set for buffered, blocking routes
  AsyncHandler async_handler;          // set for buffered, asynchronous routes
  StreamingHandler streaming_handler;  // set for streaming routes
  RouteOptions options;
};

// Maps (method, path) to a route. Patterns are literal segments, "{name}" for one segment, and
// a final "{name...}" for the rest of the path (possibly empty, possibly with slashes).
// Literal patterns are found by hash lookup; parameterised ones by a scan in registration order.
// Not thread-safe to modify; safe for concurrent Find once built.
//
// Find takes the path as received on the wire, still percent-encoded (the server passes the
// raw request path). Segments are split on the literal '/' only, so an encoded "%2F" stays
// inside its segment; each segment is compared with its escapes decoded, and every capture is
// percent-decoded ("{name}" = "a%2Fb" gives "a/b"). A "{name}" capture matches one non-empty
// segment; a final "{name...}" matches the rest, with or without the slash before it. A path
// with a malformed escape matches nothing (the server answers 400 before routing).
// Exact routes (right method) win over patterned ones; among patterned ones, registration
// order. A path that matches only under other methods gives method_not_allowed.
// Registering the same (method, pattern) twice, or a malformed pattern, aborts: it is a
// programming error caught at start-up.
class Router {
 public:
  void Add(Method method, std::string pattern, Handler handler, RouteOptions options = {});
  void AddAsync(Method method, std::string pattern, AsyncHandler handler,
                RouteOptions options = {});
  void AddStreaming(Method method, std::string pattern, StreamingHandler handler,
                    RouteOptions options = {});

  struct Match {
    const Route* route = nullptr;     // null when nothing matched
    bool method_not_allowed = false;  // the path matched under another method
    std::map<std::string, std::string, std::less<>> params;
  };
  Match Find(Method method, std::string_view path) const;

  // Every registered (method, pattern), for documentation checks.
  std::vector<std::pair<Method, std::string>> Routes() const;
  // Every registered route, in registration order (for checks over the whole table).
  std::vector<const Route*> AllRoutes() const;

 private:
  void AddRoute(Route route);
  static bool MatchPattern(std::string_view pattern, std::string_view path,
                           std::map<std::string, std::string, std::less<>>* params);

  std::vector<std::unique_ptr<Route>> routes_;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::vector<const Route*>, StringHash, std::equal_to<>>
      literal_;  // path -> routes
  std::vector<const Route*> patterned_;
};

// Test support: runs `request` as the server hands it to a buffered Handler or AsyncHandler, on
// the calling thread and without middlewares. Fills request.path and request.query from
// request.target, routes it (404 and 405 answered as the server does, 400 for a malformed query)
// and sets the path parameters. For an asynchronous route it waits for the Responder's answer
// (a 500 when the last Responder goes away unanswered, as in the server).
Response CallRouteForTest(const Router& router, Request request);

}  // namespace cairn::http
