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
// Thread-safety: Start, Stop and Wait may be called from any thread, Start once.
class HttpServer {
 public:
  HttpServer(ServerOptions options, const Router& router,
             std::vector<Middleware*> middlewares);
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
