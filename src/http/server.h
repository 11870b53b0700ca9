#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "http/middleware.h"
#include "http/router.h"

namespace cairn::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 5000;  // 0 picks a free port; Start returns it
  int threads = 0;       // I/O and handler threads; 0 means max(4, 2 * hardware threads)
  std::chrono::seconds idle_timeout{75};   // keep-alive connections idle longer are closed
  std::chrono::seconds drain_timeout{30};  // how long Stop waits for in-flight requests
  // A request header must arrive whole within this time of its first byte (slow-header
  // clients are disconnected).
  std::chrono::seconds header_timeout{30};
  uint32_t max_header_bytes = 64 * 1024;  // larger request headers get 400 and a close
};

// The HTTP/1.1 server. Owns the listening socket and the connection threads; borrows the
// router and middlewares, which must outlive it.
//
// Behaviour: keep-alive; "Expect: 100-continue" is answered only once the route exists and
// the declared length is within the route's limit (otherwise the final error is sent and the
// body is never read); bodies over the route limit get 413; unknown routes get 404 with an
// ENDPOINT_NOT_FOUND envelope, a known path with another method 405; a handler that throws
// gets a 500 envelope and the connection stays usable. Responses with a BodySource are streamed.
//
// Details:
// - Routing uses the raw (still percent-encoded) path, so "%2F" never splits a segment;
//   Request.path and every path parameter are decoded. A malformed escape in the path or the
//   query gets 400 INVALID_PARAMETER_VALUE.
// - Middlewares see every parsed request, routed or not (a 404 or 405 is the "handler" then),
//   so an early middleware can still answer 401 before a 404. OnResponse runs, in reverse
//   order, for exactly the middlewares whose OnRequest ran.
// - HEAD on a path with no HEAD route runs the GET route (request.method stays kHead) and
//   sends only the headers, with the Content-Length the GET would have had.
// - A request answered without its body being read (404, a short-circuit, a refused upload)
//   keeps the connection if the body is small (64 KiB, no Expect) and is drained; otherwise
//   the connection closes after the answer. 413s and unparseable requests (400) always close.
// - Idle keep-alive connections close after idle_timeout; a request header must complete
//   within header_timeout; each body read or response write must progress within
//   idle_timeout.
// - Streamed responses use Content-Length when BodySource::Size is known, else chunked
//   encoding (HTTP/1.0: the connection end). A BodySource error after the header is sent
//   cuts the connection.
//
// Thread-safety: Start, Stop and Wait may be called from any thread, Start once. Stop must
// not be called from a handler (it waits for handlers to finish).
class HttpServer {
 public:
  HttpServer(ServerOptions options, const Router& router, std::vector<Middleware*> middlewares);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving in background threads. Returns the bound port.
  StatusOr<uint16_t> Start();
  // Graceful stop: closes the listener, lets in-flight requests finish (up to drain_timeout),
  // closes idle keep-alive connections, joins the threads. Idempotent.
  void Stop();
  // Blocks until SIGINT or SIGTERM arrives (or Stop is called), then stops gracefully.
  void WaitForSignal();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::http
