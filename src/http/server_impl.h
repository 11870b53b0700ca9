#pragma once

// Internal to cairn_http: the HttpServer's implementation class and the helpers its translation
// units share. server.cc holds the lifecycle (start, accept, stop, drain); server_session.cc
// serves one connection (parse, route, body limits, handlers, response).

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_set>

#include "base/ascii.h"
#include "base/logging.h"
#include "base/mutex.h"
#include "base/uri.h"
#include "http/error_response.h"
#include "http/server.h"
#include "http/suspension.h"

namespace cairn::http::server_internal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;
using Stream = beast::basic_stream<tcp, Strand>;
using TlsStream = asio::ssl::stream<Stream&>;

// A connection's byte stream: TCP with Beast's timeouts, and TLS over it once StartTls was
// called. Reads and writes go through TLS when it is on; timeouts, close and the socket are the
// TCP stream's either way (a TLS record may take several TCP reads; the deadline covers them).
class SessionStream {
 public:
  using executor_type = Strand;

  explicit SessionStream(asio::basic_stream_socket<tcp, Strand> socket) : tcp_(std::move(socket)) {}

  executor_type get_executor() noexcept { return tcp_.get_executor(); }
  Stream::socket_type& socket() { return tcp_.socket(); }
  void expires_after(std::chrono::steady_clock::duration d) { tcp_.expires_after(d); }
  void expires_at(std::chrono::steady_clock::time_point t) { tcp_.expires_at(t); }
  void close() { tcp_.close(); }

  void StartTls(asio::ssl::context& context) { tls_ = std::make_unique<TlsStream>(tcp_, context); }
  TlsStream* tls() { return tls_.get(); }

  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& b) {
          if (tls_) {
            tls_->async_read_some(b, std::move(handler));
          } else {
            tcp_.async_read_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& b) {
          if (tls_) {
            tls_->async_write_some(b, std::move(handler));
          } else {
            tcp_.async_write_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

 private:
  Stream tcp_;
  std::unique_ptr<TlsStream> tls_;
};

inline constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

inline constexpr size_t kFirstReadBytes = 4096;
// Upload and download chunk size for streaming bodies.
inline constexpr size_t kStreamChunk = size_t{256} * 1024;
// A body left unread by an early answer (404, 401, ...) is read and dropped when it is at most
// this large, so the connection survives; larger ones close the connection.
inline constexpr uint64_t kDrainLimit = uint64_t{64} * 1024;
// After answering with unread input still arriving we read and drop it for a while before
// closing: closing with unread data makes the kernel send RST, which can destroy the response
// before the client reads it.
inline constexpr auto kLingerTime = std::chrono::seconds(2);
inline constexpr size_t kLingerBytes = 1 << 20;
inline constexpr int kListenBacklog = 1024;

inline int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The IMF-fixdate for the Date header, formatted once per second per thread.
inline std::string_view HttpDate() {
  thread_local std::time_t cached_second = -1;
  thread_local char text[64];
  thread_local size_t length = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    length = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return {text, length};
}

inline bool IsHttpError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

// True for errors meaning the client sent something that is not HTTP, as opposed to the
// connection ending or timing out.
inline bool IsParseError(const beast::error_code& ec) {
  return IsHttpError(ec) && ec != bhttp::error::end_of_stream &&
         ec != bhttp::error::partial_message && ec != bhttp::error::need_buffer;
}

// Fills request.path and request.query from request.target; `raw_path` is set to the
// still-encoded path (a view into request.target), which is what the router matches on.
inline Status ParseTarget(Request& request, std::string_view* raw_path) {
  std::string_view target = request.target;
  if (!target.starts_with('/')) {
    // absolute-form ("http://host/path?q"), which HTTP/1.1 servers must accept.
    size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos || target == "*") {
      if (target == "*") {
        *raw_path = target;
        request.path = "*";
        return Status::Ok();
      }
      return InvalidArgument("malformed request target");
    }
    size_t path_start = target.find_first_of("/?", scheme_end + 3);
    target = path_start == std::string_view::npos ? std::string_view() : target.substr(path_start);
  }
  size_t hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  if (path.empty()) path = "/";
  *raw_path = path;
  if (path.find('%') == std::string_view::npos) {
    request.path.assign(path);
  } else {
    auto decoded = PercentDecode(path);
    if (!decoded.ok()) return InvalidArgument("malformed percent-encoding in request path");
    if (decoded->find('\0') != std::string::npos) {
      return InvalidArgument("request path contains a NUL byte");
    }
    request.path = std::move(decoded).value();
  }
  if (question != std::string_view::npos && question + 1 < target.size()) {
    auto query = ParseQueryString(target.substr(question + 1));
    if (!query.ok()) return query.status();
    request.query = std::move(query).value();
  }
  return Status::Ok();
}

inline Response InternalErrorResponse() { return ErrorResponse(Internal("Internal server error")); }

inline Response UnansweredResponse() {
  spdlog::error("an asynchronous handler dropped its request without answering");
  return InternalErrorResponse();
}

inline Response BusyResponse(std::string message, ErrorFormat format = ErrorFormat::kMlflow) {
  Response response = ErrorResponse(Unavailable(std::move(message)), format);
  response.headers.Add("Retry-After", "1");
  return response;
}

// Tracks a request body's arrival against the minimum rate: the next read must complete by
// Deadline, which moves later as bytes arrive (body_grace plus one second per
// min_body_bytes_per_second received), and never further than idle_timeout from now.
class BodyPace {
 public:
  explicit BodyPace(const ServerOptions& options)
      : options_(options), start_(std::chrono::steady_clock::now()) {}
  void Add(uint64_t bytes) { received_ += bytes; }
  std::chrono::steady_clock::time_point Deadline() const {
    auto idle = std::chrono::steady_clock::now() + options_.idle_timeout;
    if (options_.min_body_bytes_per_second == 0) return idle;
    auto earned = std::chrono::milliseconds(received_ * 1000 / options_.min_body_bytes_per_second);
    return std::min(idle, start_ + options_.body_grace + earned);
  }

 private:
  const ServerOptions& options_;
  const std::chrono::steady_clock::time_point start_;
  uint64_t received_ = 0;
};

// Runs `fn` (a handler or middleware step), turning an escaping exception into a 500.
template <typename Fn>
auto Guarded(const Request& request, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    spdlog::error("request {} {} (rid={}) threw: {}", MethodName(request.method),
                  JsonEscape(request.path), JsonEscape(request.scope.request_id),
                  JsonEscape(e.what()));
  } catch (...) {
    spdlog::error("request {} {} (rid={}) threw a non-standard exception",
                  MethodName(request.method), JsonEscape(request.path),
                  JsonEscape(request.scope.request_id));
  }
  using Result = decltype(fn());
  if constexpr (std::is_void_v<Result>) {
    return;
  } else if constexpr (std::is_constructible_v<Result, Status>) {
    return Result(Internal("Internal server error"));
  } else {
    return Result(InternalErrorResponse());
  }
}

}  // namespace cairn::http::server_internal

namespace cairn::http {

// Only server.cc and server_session.cc include this header.
using namespace server_internal;  // NOLINT(google-build-using-namespace)

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, const Router& router, std::vector<Middleware*> middlewares)
      : options_(std::move(options)), router_(router), middlewares_(std::move(middlewares)) {}

  ~Impl() {
    Stop();
    {
      MutexLock lock(mu_);
      sessions_.clear();
    }
    owned_pool_.reset();
    // The acceptor before the io_context; pending coroutine frames (and their sockets) are
    // destroyed with the io_context, while the members they touch are still alive.
    acceptor_.reset();
    accept_strand_.reset();
    ioc_.reset();
  }

  StatusOr<uint16_t> Start();
  void Stop();
  void WaitForSignal();

 private:
  struct Session {
    explicit Session(asio::basic_stream_socket<tcp, Strand> socket) : stream(std::move(socket)) {}
    char* Chunk() {
      if (!chunk) chunk = std::make_unique<char[]>(kStreamChunk);
      return chunk.get();
    }

    SessionStream stream;
    beast::flat_buffer buffer;
    std::unique_ptr<char[]> chunk;  // streaming buffer, allocated on first use
    // Waiting for a request; written on the strand, read by the accept loop to pick a
    // connection to evict, which re-checks it on the strand before closing.
    std::atomic<bool> idle{false};
    std::atomic<int64_t> idle_since_ns{0};
    int served = 0;    // requests answered on this connection; strand only
    std::string peer;  // the client's address
    // The asynchronous answer the connection waits for, if any; strand only while the server
    // runs, read by Stop once the I/O threads are gone.
    std::weak_ptr<internal::PendingAnswer> pending;
  };

  // Holds part of the server-wide budget for buffered bodies; gives it back when destroyed.
  class BodyReservation {
   public:
    explicit BodyReservation(Impl& impl) : impl_(impl) {}
    ~BodyReservation() { Release(); }
    void Release() {
      if (held_ > 0) impl_.buffered_bytes_.fetch_sub(held_);
      held_ = 0;
    }
    BodyReservation(const BodyReservation&) = delete;
    BodyReservation& operator=(const BodyReservation&) = delete;
    // Grows the reservation to `total` bytes; false (nothing taken) if the budget is spent.
    bool GrowTo(uint64_t total) {
      if (total <= held_) return true;
      const uint64_t more = total - held_;
      uint64_t before = impl_.buffered_bytes_.fetch_add(more);
      if (before + more > impl_.options_.max_buffered_body_bytes) {
        impl_.buffered_bytes_.fetch_sub(more);
        return false;
      }
      held_ = total;
      return true;
    }

   private:
    Impl& impl_;
    uint64_t held_ = 0;
  };

  // What happens to the connection after a request.
  struct Outcome {
    bool keep_alive = false;
    bool linger = false;  // unread input may be in flight: drain before closing
  };

  asio::awaitable<void> AcceptLoop();
  asio::awaitable<void> RunSession(std::shared_ptr<Session> session);
  asio::awaitable<Outcome> ServeRequest(Session& s);
  // Reads a streaming upload into `sink`; sets `response` when the body failed (an error
  // answer) and `must_close` when the rest of the body is still unread. Returns false when the
  // client went away (the sink is aborted).
  asio::awaitable<bool> ReadStreamingBody(Session& s,
                                          bhttp::request_parser<bhttp::empty_body>& parser,
                                          BodySink& sink, uint64_t limit, ErrorFormat format,
                                          std::optional<Response>& response, bool& must_close);
  asio::awaitable<bool> SendContinue(Session& s);
  // Writes the response; returns whether the connection can serve another request.
  asio::awaitable<bool> WriteResponse(Session& s, Response& response, bool head, unsigned version,
                                      bool keep_alive);
  asio::awaitable<void> Close(Session& s, bool linger);
  void EndSession(const std::shared_ptr<Session>& session);
  void RunThread();
  // At the connection cap: closes the connection idle the longest; false when none is idle.
  bool EvictIdleConnection();
  // Runs `fn` on the blocking-work pool and resumes with its result in `slot`; false (slot
  // untouched) when the pool is full or stopped.
  template <typename T, typename Fn>
  asio::awaitable<bool> RunBlocking(Fn& fn, std::optional<T>& slot);
  // Calls an asynchronous handler and waits for its answer.
  asio::awaitable<Response> RunAsync(Session& s, const Route& route, Request& request);
  // Runs the route's buffered handler where it belongs.
  asio::awaitable<Response> RunHandler(Session& s, const Route& route, Request& request);
  void BlockingDone();

  const ServerOptions options_;
  const Router& router_;
  const std::vector<Middleware*> middlewares_;

  Mutex lifecycle_mu_;  // serialises Start and Stop
  bool started_ GUARDED_BY(lifecycle_mu_) = false;
  bool stopped_ GUARDED_BY(lifecycle_mu_) = false;
  std::atomic<bool> shutting_down_{false};

  Mutex mu_;
  std::condition_variable cv_;  // signalled on session end, accept-loop exit, stop request
  std::unordered_set<std::shared_ptr<Session>> sessions_ GUARDED_BY(mu_);
  bool accepting_ GUARDED_BY(mu_) = false;
  bool stop_requested_ GUARDED_BY(mu_) = false;

  std::unique_ptr<ThreadPool> owned_pool_;  // when no pool was given
  ThreadPool* pool_ = nullptr;
  // Blocking tasks submitted and not yet finished; Stop waits for them (they use the request).
  std::atomic<int> blocking_in_flight_{0};
  std::atomic<uint64_t> buffered_bytes_{0};  // see BodyReservation

  std::unique_ptr<asio::ssl::context> tls_context_;  // set when serving HTTPS
  std::unique_ptr<asio::io_context> ioc_;
  std::optional<Strand> accept_strand_;
  std::unique_ptr<tcp::acceptor> acceptor_;  // used on accept_strand_ only once started
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

}  // namespace cairn::http
