#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/executor.h"
#include "base/status.h"
#include "http/middleware.h"
#include "http/router.h"

namespace cairn::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 5000;  // 0 picks a free port; Start returns it
  // Threads running the network I/O (parsing, routing, middlewares, inline and async handlers);
  // 0 means the number of hardware threads (at least 2).
  int io_threads = 0;
  // Blocking work: Handlers and streaming sinks' creation and Finish run on `blocking_pool`
  // when given (borrowed; it must outlive the server), else on a pool the server makes with
  // `threads` threads (0 means max(4, 2 * hardware threads)) queueing at most
  // `max_queued_work` requests. A request that finds the queue full gets 503.
  ThreadPool* blocking_pool = nullptr;
  int threads = 0;
  size_t max_queued_work = 4096;
  std::chrono::seconds idle_timeout{75};   // keep-alive connections idle longer are closed
  std::chrono::seconds drain_timeout{30};  // how long Stop waits for in-flight requests
  // A fresh connection must send a whole request header within this time of connecting, and a
  // kept-alive one within this time of the header's first byte (silent and slow-header
  // clients are disconnected).
  std::chrono::seconds header_timeout{10};
  uint32_t max_header_bytes = 64 * 1024;  // larger request headers get 400 and a close
  // Open connections at most. At the cap, the connection idle the longest is closed to make
  // room for a new one; when none is idle the new one is closed at once.
  size_t max_connections = 10000;
  // Bytes of buffered (not streamed) request bodies held at once across all connections.
  // A body that does not fit gets 503 with Retry-After and the connection is closed.
  uint64_t max_buffered_body_bytes = uint64_t{256} << 20;
  // A request body must keep arriving at this average rate once `body_grace` has passed
  // (0 disables the check); a slower one is cut, so a trickled body cannot hold a connection,
  // its buffer or a shutdown for long.
  uint64_t min_body_bytes_per_second = 1024;
  std::chrono::seconds body_grace{10};
  // HTTPS: a PEM certificate chain and its private key. Both set: every connection speaks TLS
  // (1.2 or 1.3; the handshake must finish within header_timeout). Neither: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
};

// The HTTP/1.1 server. Owns the listening socket and the connection threads; borrows the
// router and middlewares, which must outlive it.
//
// Threads: the I/O threads parse requests and run middlewares, inline handlers and
// asynchronous handlers (which answer later through a Responder); blocking Handlers,
// StreamingHandlers and BodySink::Finish run on the blocking-work pool, and the connection
// waits for them without holding an I/O thread.
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
// - Idle keep-alive connections close after idle_timeout; a fresh connection's first request
//   header, and any request header from its first byte, must complete within header_timeout;
//   a body must arrive at min_body_bytes_per_second after body_grace; each body read or
//   response write must progress within idle_timeout.
// - Limits under attack: max_connections (idle connections are evicted first, oldest first)
//   and max_buffered_body_bytes (503 when full).
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
  // closes idle keep-alive connections, joins the threads. Requests still running after the
  // drain timeout are cut without an answer; a blocking handler already running is waited for
  // (it holds the request), an asynchronous one is told nothing and its later Send is
  // ignored. Idempotent.
  void Stop();
  // Blocks until SIGINT or SIGTERM arrives (or Stop is called), then stops gracefully.
  void WaitForSignal();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::http
