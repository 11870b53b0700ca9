#include "http/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
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

#include "base/logging.h"
#include "base/uri.h"
#include "http/error_response.h"
#include "http/suspension.h"

namespace cairn::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;
using Stream = beast::basic_stream<tcp, Strand>;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

constexpr size_t kFirstReadBytes = 4096;
// Upload and download chunk size for streaming bodies.
constexpr size_t kStreamChunk = size_t{256} * 1024;
// A body left unread by an early answer (404, 401, ...) is read and dropped when it is at most
// this large, so the connection survives; larger ones close the connection.
constexpr uint64_t kDrainLimit = uint64_t{64} * 1024;
// After answering with unread input still arriving we read and drop it for a while before
// closing: closing with unread data makes the kernel send RST, which can destroy the response
// before the client reads it.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 1 << 20;
constexpr int kListenBacklog = 1024;

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The IMF-fixdate for the Date header, formatted once per second per thread.
std::string_view HttpDate() {
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

bool IsHttpError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

// True for errors meaning the client sent something that is not HTTP, as opposed to the
// connection ending or timing out.
bool IsParseError(const beast::error_code& ec) {
  return IsHttpError(ec) && ec != bhttp::error::end_of_stream &&
         ec != bhttp::error::partial_message && ec != bhttp::error::need_buffer;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Fills request.path and request.query from request.target; `raw_path` is set to the
// still-encoded path (a view into request.target), which is what the router matches on.
Status ParseTarget(Request& request, std::string_view* raw_path) {
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

Response InternalErrorResponse() { return ErrorResponse(Internal("Internal server error")); }

Response UnansweredResponse() {
  spdlog::error("an asynchronous handler dropped its request without answering");
  return InternalErrorResponse();
}

Response BusyResponse(std::string message, ErrorFormat format = ErrorFormat::kMlflow) {
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

}  // namespace

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, const Router& router, std::vector<Middleware*> middlewares)
      : options_(std::move(options)), router_(router), middlewares_(std::move(middlewares)) {}

  ~Impl() {
    Stop();
    {
      std::lock_guard lock(mu_);
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

    Stream stream;
    beast::flat_buffer buffer;
    std::unique_ptr<char[]> chunk;  // streaming buffer, allocated on first use
    // Waiting for a request; written on the strand, read by the accept loop to pick a
    // connection to evict, which re-checks it on the strand before closing.
    std::atomic<bool> idle{false};
    std::atomic<int64_t> idle_since_ns{0};
    int served = 0;  // requests answered on this connection; strand only
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

  std::mutex lifecycle_mu_;  // serialises Start and Stop
  bool started_ = false;     // guarded by lifecycle_mu_
  bool stopped_ = false;     // guarded by lifecycle_mu_
  std::atomic<bool> shutting_down_{false};

  std::mutex mu_;
  std::condition_variable cv_;  // signalled on session end, accept-loop exit, stop request
  std::unordered_set<std::shared_ptr<Session>> sessions_;  // guarded by mu_
  bool accepting_ = false;                                 // guarded by mu_
  bool stop_requested_ = false;                            // guarded by mu_

  std::unique_ptr<ThreadPool> owned_pool_;  // when no pool was given
  ThreadPool* pool_ = nullptr;
  // Blocking tasks submitted and not yet finished; Stop waits for them (they use the request).
  std::atomic<int> blocking_in_flight_{0};
  std::atomic<uint64_t> buffered_bytes_{0};  // see BodyReservation

  std::unique_ptr<asio::io_context> ioc_;
  std::optional<Strand> accept_strand_;
  std::unique_ptr<tcp::acceptor> acceptor_;  // used on accept_strand_ only once started
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

StatusOr<uint16_t> HttpServer::Impl::Start() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (started_ || stopped_) return FailedPrecondition("HTTP server already started or stopped");
  const int hardware = static_cast<int>(std::thread::hardware_concurrency());
  const int threads = options_.io_threads > 0 ? options_.io_threads : std::max(2, hardware);
  pool_ = options_.blocking_pool;
  if (pool_ == nullptr) {
    ThreadPool::Options pool_options;
    pool_options.threads = options_.threads > 0 ? options_.threads : std::max(4, 2 * hardware);
    pool_options.max_queued = options_.max_queued_work;
    pool_options.name = "http-blocking";
    owned_pool_ = std::make_unique<ThreadPool>(pool_options);
    pool_ = owned_pool_.get();
  }
  ioc_ = std::make_unique<asio::io_context>(threads);

  std::string host = options_.host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string where = fmt::format("{}:{}", options_.host, options_.port);
  beast::error_code ec;
  tcp::endpoint endpoint;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, options_.port);
  } else {
    tcp::resolver resolver(*ioc_);
    auto results =
        resolver.resolve(host, std::to_string(options_.port), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      ioc_.reset();
      return Unavailable(fmt::format("cannot resolve listen address {}: {}", where,
                                     ec ? ec.message() : "no addresses"));
    }
    endpoint = results.begin()->endpoint();
  }

  accept_strand_.emplace(asio::make_strand(*ioc_));
  acceptor_ = std::make_unique<tcp::acceptor>(*accept_strand_);
  auto fail = [&](std::string_view step) -> Status {
    Status status =
        Unavailable(fmt::format("cannot listen on {}: {} failed: {}", where, step, ec.message()));
    acceptor_.reset();
    accept_strand_.reset();
    ioc_.reset();
    return status;
  };
  if (acceptor_->open(endpoint.protocol(), ec); ec) return fail("open");
  if (acceptor_->set_option(asio::socket_base::reuse_address(true), ec); ec) {
    return fail("setsockopt");
  }
  if (acceptor_->bind(endpoint, ec); ec) return fail("bind");
  if (acceptor_->listen(kListenBacklog, ec); ec) return fail("listen");
  const uint16_t port = acceptor_->local_endpoint(ec).port();
  if (ec) return fail("getsockname");

  started_ = true;
  {
    std::lock_guard lock(mu_);
    accepting_ = true;
  }
  work_.emplace(ioc_->get_executor());
  asio::co_spawn(*accept_strand_, AcceptLoop(), [](const std::exception_ptr& e) {
    if (e) spdlog::error("HTTP accept loop ended with an exception");
  });
  threads_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { RunThread(); });
  spdlog::info("HTTP server listening on {}:{} with {} I/O threads and {} blocking-work threads",
               options_.host, port, threads, pool_->threads());
  return port;
}

void HttpServer::Impl::RunThread() {
  while (true) {
    try {
      ioc_->run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("HTTP I/O thread caught an exception: {}", JsonEscape(e.what()));
    }
  }
}

void HttpServer::Impl::Stop() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard lock(mu_);
    stop_requested_ = true;
  }
  cv_.notify_all();
  if (!started_) return;

  // New sessions check this under mu_ before registering, and idle ones before each wait, so
  // together with the posts below no keep-alive connection outlives the drain unnoticed.
  shutting_down_.store(true);
  asio::post(*accept_strand_, [this] {
    beast::error_code ec;
    acceptor_->close(ec);
  });
  std::vector<std::shared_ptr<Session>> snapshot;
  {
    std::lock_guard lock(mu_);
    snapshot.assign(sessions_.begin(), sessions_.end());
  }
  for (auto& session : snapshot) {
    asio::post(session->stream.get_executor(), [session] {
      if (session->idle) session->stream.close();
    });
  }
  snapshot.clear();

  bool drained = false;
  {
    std::unique_lock lock(mu_);
    drained = cv_.wait_for(lock, options_.drain_timeout,
                           [&] { return sessions_.empty() && !accepting_; });
    if (!drained) snapshot.assign(sessions_.begin(), sessions_.end());
  }
  if (!drained) {
    spdlog::warn("HTTP drain timed out; closing {} busy connections", snapshot.size());
  }
  work_.reset();
  ioc_->stop();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  // A blocking handler still running uses its request, which lives in its connection's
  // coroutine: let it finish (its answer is posted to the stopped io_context and dropped).
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return blocking_in_flight_.load() == 0; });
  }
  // No thread runs the io_context any more, so the leftovers can be closed from here; their
  // suspended coroutines are destroyed with the io_context. An asynchronous answer still
  // pending lets go of its coroutine now, so a late Send finds nothing to resume.
  for (auto& session : snapshot) {
    if (auto pending = session->pending.lock()) pending->Drop();
    beast::error_code ec;
    session->stream.socket().close(ec);
  }
  spdlog::info("HTTP server stopped");
}

void HttpServer::Impl::WaitForSignal() {
  std::shared_ptr<asio::signal_set> signals;
  {
    std::lock_guard lifecycle(lifecycle_mu_);
    if (started_ && !stopped_) {
      signals = std::make_shared<asio::signal_set>(*ioc_, SIGINT, SIGTERM);
      signals->async_wait([this, signals](const beast::error_code& ec, int signal_number) {
        if (ec) return;
        spdlog::info("received signal {}; shutting down", signal_number);
        {
          std::lock_guard lock(mu_);
          stop_requested_ = true;
        }
        cv_.notify_all();
      });
    }
  }
  if (signals) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_requested_; });
    }
    // Only this thread calls into the signal set; the pending handler does not touch it.
    beast::error_code ec;
    signals->cancel(ec);
    signals->clear(ec);
  }
  Stop();
}

asio::awaitable<void> HttpServer::Impl::AcceptLoop() {
  while (true) {
    auto [ec, socket] = co_await acceptor_->async_accept(asio::make_strand(*ioc_), kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_->is_open()) break;
      // Typically EMFILE: back off instead of spinning.
      spdlog::warn("HTTP accept failed: {}", ec.message());
      asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await timer.async_wait(kNoThrow);
      continue;
    }
    beast::error_code option_ec;
    socket.set_option(tcp::no_delay(true), option_ec);
    auto session = std::make_shared<Session>(std::move(socket));
    bool full = false;
    {
      std::lock_guard lock(mu_);
      if (shutting_down_.load()) {
        session->stream.close();
        continue;
      }
      full = sessions_.size() >= options_.max_connections;
    }
    if (full && !EvictIdleConnection()) {
      spdlog::warn("HTTP connection limit of {} reached with no idle connection; refusing one",
                   options_.max_connections);
      session->stream.close();
      continue;
    }
    {
      std::lock_guard lock(mu_);
      sessions_.insert(session);
    }
    asio::co_spawn(session->stream.get_executor(), RunSession(session),
                   [](const std::exception_ptr& e) {
                     if (e) spdlog::error("HTTP session ended with an exception");
                   });
  }
  {
    std::lock_guard lock(mu_);
    accepting_ = false;
  }
  cv_.notify_all();
}

bool HttpServer::Impl::EvictIdleConnection() {
  std::shared_ptr<Session> victim;
  {
    std::lock_guard lock(mu_);
    int64_t oldest = 0;
    for (const auto& session : sessions_) {
      if (!session->idle.load()) continue;
      int64_t since = session->idle_since_ns.load();
      if (!victim || since < oldest) {
        victim = session;
        oldest = since;
      }
    }
  }
  if (!victim) return false;
  // The victim stops counting once its coroutine ends; until then the cap is exceeded by the
  // few connections being evicted.
  asio::post(victim->stream.get_executor(), [victim] {
    if (victim->idle.load()) victim->stream.close();
  });
  return true;
}

void HttpServer::Impl::EndSession(const std::shared_ptr<Session>& session) {
  {
    std::lock_guard lock(mu_);
    sessions_.erase(session);
  }
  cv_.notify_all();
}

asio::awaitable<void> HttpServer::Impl::RunSession(std::shared_ptr<Session> session) {
  struct Unregister {
    Impl* impl;
    const std::shared_ptr<Session>& session;
    ~Unregister() { impl->EndSession(session); }
  } unregister{this, session};

  Session& s = *session;
  bool linger = false;
  try {
    while (true) {
      if (s.buffer.size() == 0) {
        s.idle_since_ns.store(NowNanos());
        s.idle.store(true);
        if (shutting_down_.load()) break;
        // A connection that never sent a request gets only the header timeout.
        s.stream.expires_after(s.served == 0 ? options_.header_timeout : options_.idle_timeout);
        auto [ec, n] =
            co_await s.stream.async_read_some(s.buffer.prepare(kFirstReadBytes), kNoThrow);
        s.idle.store(false);
        if (ec) break;
        s.buffer.commit(n);
      }
      ++s.served;
      Outcome outcome = co_await ServeRequest(s);
      if (!outcome.keep_alive) {
        linger = outcome.linger;
        break;
      }
    }
  } catch (const std::exception& e) {
    spdlog::error("HTTP connection failed: {}", JsonEscape(e.what()));
  }
  co_await Close(s, linger);
}

asio::awaitable<void> HttpServer::Impl::Close(Session& s, bool linger) {
  auto& socket = s.stream.socket();
  if (socket.is_open()) {
    beast::error_code ec;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    if (linger && !ec) {
      s.stream.expires_after(kLingerTime);
      size_t discarded = 0;
      std::array<char, 8192> scratch;
      while (discarded < kLingerBytes) {
        auto [read_ec, n] = co_await s.stream.async_read_some(asio::buffer(scratch), kNoThrow);
        if (read_ec) break;
        discarded += n;
      }
    }
  }
  s.stream.close();
}

asio::awaitable<bool> HttpServer::Impl::SendContinue(Session& s) {
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  s.stream.expires_after(options_.idle_timeout);
  auto [ec, n] = co_await asio::async_write(
      s.stream, asio::buffer(kContinue.data(), kContinue.size()), kNoThrow);
  co_return !ec;
}

asio::awaitable<HttpServer::Impl::Outcome> HttpServer::Impl::ServeRequest(Session& s) {
  Stream& stream = s.stream;
  beast::flat_buffer& buffer = s.buffer;

  bhttp::request_parser<bhttp::empty_body> parser;
  parser.header_limit(options_.max_header_bytes);
  parser.body_limit(boost::none);  // limits are per route, enforced below
  stream.expires_after(options_.header_timeout);
  {
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kNoThrow);
    if (ec) {
      if (!IsParseError(ec)) co_return Outcome{};
      std::string message = ec == bhttp::error::header_limit
                                ? std::string("Request header too large")
                                : "Malformed HTTP request: " + ec.message();
      Response bad = ErrorResponse(InvalidArgument(std::move(message)));
      co_await WriteResponse(s, bad, false, 11, false);
      co_return Outcome{false, true};
    }
  }
  const int64_t start_ns = NowNanos();

  const auto& header = parser.get();
  Request request;
  request.method = ParseMethod(header.method_string());
  request.target.assign(header.target());
  for (const auto& field : header) {
    request.headers.Add(std::string(field.name_string()), std::string(field.value()));
  }
  const unsigned version = header.version();
  const bool head = request.method == Method::kHead;
  bool keep_alive = parser.keep_alive();
  std::optional<uint64_t> content_length;
  if (auto length = parser.content_length()) content_length = *length;
  const bool has_body = parser.chunked() || (content_length && *content_length > 0);
  const bool expect_continue =
      version >= 11 && EqualsIgnoreCase(header[bhttp::field::expect], "100-continue");

  std::optional<Response> response;
  const Route* route = nullptr;
  std::string_view raw_path;
  if (Status status = ParseTarget(request, &raw_path); !status.ok()) {
    response = ErrorResponse(status);
  } else {
    Router::Match match = router_.Find(request.method, raw_path);
    if (match.route == nullptr && head) {
      Router::Match get = router_.Find(Method::kGet, raw_path);
      if (get.route != nullptr) match = std::move(get);
    }
    if (match.route != nullptr) {
      route = match.route;
      request.path_params = std::move(match.params);
      request.route_pattern = route->pattern;
    } else if (match.method_not_allowed) {
      response = MethodNotAllowed(header.method_string(), request.path);
    } else {
      response = EndpointNotFound(header.method_string(), request.path);
    }
  }

  // Middlewares see every parsed request, routed or not; the first answer short-circuits.
  size_t entered = 0;
  while (entered < middlewares_.size()) {
    Middleware* middleware = middlewares_[entered++];
    std::optional<Response> early = Guarded(
        request, [&]() -> std::optional<Response> { return middleware->OnRequest(request); });
    if (early) {
      response = std::move(early);
      break;
    }
  }

  bool body_pending = has_body;  // the body is still on the wire
  bool must_close = false;
  BodyReservation reservation(*this);
  if (!response) {
    const uint64_t limit = route->options.max_body_bytes;
    const ErrorFormat format = route->options.error_format;
    if (content_length && *content_length > limit) {
      response =
          ErrorResponse(Status(StatusCode::kPayloadTooLarge,
                               fmt::format("Request body of {} bytes exceeds the limit of {} bytes",
                                           *content_length, limit)),
                        format);
      must_close = true;
    } else if (route->streaming_handler) {
      std::optional<StatusOr<std::unique_ptr<BodySink>>> sink;
      auto open_sink = [&]() -> StatusOr<std::unique_ptr<BodySink>> {
        return Guarded(request, [&]() -> StatusOr<std::unique_ptr<BodySink>> {
          return route->streaming_handler(request);
        });
      };
      if (!co_await RunBlocking(open_sink, sink)) {
        response = BusyResponse("Server is busy; retry shortly", format);
      } else if (!sink->ok()) {
        response = ErrorResponse(sink->status(), format);
      } else if (**sink == nullptr) {
        response = ErrorResponse(Internal("Internal server error"), format);
      } else {
        BodySink& body_sink = ***sink;
        if (has_body) {
          if (expect_continue && !co_await SendContinue(s)) {
            body_sink.Abort();
            co_return Outcome{};
          }
          body_pending = false;
          if (!co_await ReadStreamingBody(s, parser, body_sink, limit, format, response,
                                          must_close)) {
            co_return Outcome{};
          }
        }
        if (!response) {
          auto finish = [&] { return Guarded(request, [&] { return body_sink.Finish(); }); };
          if (!co_await RunBlocking(finish, response)) {
            body_sink.Abort();
            response = BusyResponse("Server is busy; retry shortly", format);
          }
        }
      }
    } else {
      if (has_body && content_length && !reservation.GrowTo(*content_length)) {
        response =
            BusyResponse("Server is busy receiving other request bodies; retry shortly", format);
        must_close = true;
      } else if (has_body) {
        if (expect_continue && !co_await SendContinue(s)) co_return Outcome{};
        body_pending = false;
        bhttp::request_parser<bhttp::string_body> body_parser(std::move(parser));
        body_parser.body_limit(limit);
        BodyPace pace(options_);
        while (!body_parser.is_done()) {
          stream.expires_at(pace.Deadline());
          auto [ec, n] = co_await bhttp::async_read_some(stream, buffer, body_parser, kNoThrow);
          pace.Add(n);
          if (ec == bhttp::error::body_limit) {
            response = ErrorResponse(
                Status(StatusCode::kPayloadTooLarge,
                       fmt::format("Request body exceeds the limit of {} bytes", limit)),
                format);
            must_close = true;
            break;
          }
          if (ec) {
            if (!IsParseError(ec)) co_return Outcome{};
            response =
                ErrorResponse(InvalidArgument("Malformed request body: " + ec.message()), format);
            must_close = true;
            break;
          }
          // A chunked body has no declared length: count what it holds so far.
          if (!reservation.GrowTo(body_parser.get().body().capacity())) {
            response = BusyResponse("Server is busy receiving other request bodies; retry shortly",
                                    format);
            must_close = true;
            break;
          }
        }
        if (!response) request.body = std::move(body_parser.get().body());
      }
      if (!response) response = co_await RunHandler(s, *route, request);
    }
  }

  if (body_pending && !must_close) {
    // Answered without reading the body: drop a small one to keep the connection, else close.
    if (!expect_continue && content_length && *content_length <= kDrainLimit) {
      // body_pending stays true only while `parser` has not been moved from.
      // NOLINTNEXTLINE(bugprone-use-after-move)
      bhttp::request_parser<bhttp::buffer_body> drain(std::move(parser));
      char* scratch = s.Chunk();
      while (!drain.is_done()) {
        drain.get().body().data = scratch;
        drain.get().body().size = kStreamChunk;
        stream.expires_after(options_.idle_timeout);
        auto [ec, n] = co_await bhttp::async_read(stream, buffer, drain, kNoThrow);
        if (ec && ec != bhttp::error::need_buffer) {
          must_close = true;
          break;
        }
      }
    } else {
      must_close = true;
    }
  }

  const int64_t elapsed_ns = NowNanos() - start_ns;
  for (size_t i = entered; i-- > 0;) {
    Middleware* middleware = middlewares_[i];
    Response& final_response = *response;
    try {
      middleware->OnResponse(request, final_response, elapsed_ns);
    } catch (const std::exception& e) {
      spdlog::error("middleware OnResponse threw: {}", JsonEscape(e.what()));
    } catch (...) {
      spdlog::error("middleware OnResponse threw a non-standard exception");
    }
  }

  // The body is done with: free it and its share of the budget before the answer goes out, so
  // a client that has its answer can count on the budget being back.
  std::string().swap(request.body);
  reservation.Release();
  keep_alive = keep_alive && !must_close && !shutting_down_.load();
  bool reusable = co_await WriteResponse(s, *response, head, version, keep_alive);
  co_return Outcome{reusable, must_close};
}

void HttpServer::Impl::BlockingDone() {
  if (blocking_in_flight_.fetch_sub(1) == 1 && shutting_down_.load()) {
    // Stop may be waiting for the count to reach zero.
    std::lock_guard lock(mu_);
    cv_.notify_all();
  }
}

template <typename T, typename Fn>
asio::awaitable<bool> HttpServer::Impl::RunBlocking(Fn& fn, std::optional<T>& slot) {
  bool accepted = true;
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [&](auto handler) {
        using Handler = decltype(handler);
        auto suspension = std::make_shared<internal::Suspension<Handler>>(std::move(handler));
        blocking_in_flight_.fetch_add(1);
        bool queued = pool_->TrySubmit([this, suspension, &fn, &slot] {
          std::optional<T> result(fn());
          suspension->ResumeWith([&] { slot = std::move(result); });
          BlockingDone();
        });
        if (!queued) {
          BlockingDone();
          accepted = false;
          suspension->ResumeWith([] {});
        }
      },
      asio::use_awaitable);
  co_return accepted;
}

asio::awaitable<Response> HttpServer::Impl::RunAsync(Session& s, const Route& route,
                                                     Request& request) {
  std::optional<Response> slot;
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [&](auto handler) {
        using Handler = decltype(handler);
        auto answer = std::make_shared<internal::AsyncAnswer<Handler>>(std::move(handler), &slot,
                                                                       &UnansweredResponse);
        s.pending = answer;
        Responder responder(std::move(answer));
        // A throw leaves the answer to the Responder copies still alive, or to the 500 of the
        // last one to go.
        Guarded(request, [&] { route.async_handler(request, std::move(responder)); });
      },
      asio::use_awaitable);
  s.pending.reset();
  co_return std::move(*slot);
}

asio::awaitable<Response> HttpServer::Impl::RunHandler(Session& s, const Route& route,
                                                       Request& request) {
  if (route.async_handler) co_return co_await RunAsync(s, route, request);
  auto call = [&] { return Guarded(request, [&] { return route.handler(request); }); };
  if (route.options.run_inline) co_return call();
  std::optional<Response> response;
  if (!co_await RunBlocking(call, response)) {
    co_return BusyResponse("Server is busy; retry shortly", route.options.error_format);
  }
  co_return std::move(*response);
}

asio::awaitable<bool> HttpServer::Impl::ReadStreamingBody(
    Session& s, bhttp::request_parser<bhttp::empty_body>& parser, BodySink& sink, uint64_t limit,
    ErrorFormat format, std::optional<Response>& response, bool& must_close) {
  bhttp::request_parser<bhttp::buffer_body> body_parser(std::move(parser));
  body_parser.body_limit(boost::none);
  char* chunk = s.Chunk();
  uint64_t total = 0;
  BodyPace pace(options_);
  while (!body_parser.is_done()) {
    auto& body = body_parser.get().body();
    body.data = chunk;
    body.size = kStreamChunk;
    s.stream.expires_at(pace.Deadline());
    auto [ec, n] = co_await bhttp::async_read(s.stream, s.buffer, body_parser, kNoThrow);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      sink.Abort();
      if (!IsParseError(ec)) co_return false;
      response = ErrorResponse(InvalidArgument("Malformed request body: " + ec.message()), format);
      must_close = true;
      co_return true;
    }
    const size_t got = kStreamChunk - body_parser.get().body().size;
    total += got;
    pace.Add(got);
    if (total > limit) {
      sink.Abort();
      response =
          ErrorResponse(Status(StatusCode::kPayloadTooLarge,
                               fmt::format("Request body exceeds the limit of {} bytes", limit)),
                        format);
      must_close = !body_parser.is_done();
      co_return true;
    }
    if (got == 0) continue;
    Status written = Status::Ok();
    try {
      written = sink.Write(std::string_view(chunk, got));
    } catch (const std::exception& e) {
      spdlog::error("body sink threw: {}", JsonEscape(e.what()));
      written = Internal("Internal server error");
    }
    if (!written.ok()) {
      sink.Abort();
      response = ErrorResponse(written, format);
      must_close = !body_parser.is_done();
      co_return true;
    }
  }
  co_return true;
}

asio::awaitable<bool> HttpServer::Impl::WriteResponse(Session& s, Response& response, bool head,
                                                      unsigned version, bool keep_alive) {
  Stream& stream = s.stream;
  int status = response.status;
  if (status < 200 || status > 999) {
    spdlog::error("handler returned invalid HTTP status {}", status);
    response = InternalErrorResponse();
    status = response.status;
  }
  // These statuses never carry a body.
  const bool bodiless = status == 204 || status == 304;
  if (bodiless) {
    response.body.clear();
    response.stream.reset();
  }
  auto fill = [&](auto& res) {
    res.version(version);
    res.result(static_cast<unsigned>(status));
    res.set(bhttp::field::server, "cairn");
    res.set(bhttp::field::date, HttpDate());
    if (!response.content_type.empty() && !bodiless) {
      res.set(bhttp::field::content_type, response.content_type);
    }
    for (const auto& [name, value] : response.headers.items()) {
      bhttp::field field = bhttp::string_to_field(name);
      if (field == bhttp::field::content_length || field == bhttp::field::transfer_encoding ||
          field == bhttp::field::connection) {
        continue;
      }
      if (field == bhttp::field::content_type) {
        res.set(field, value);
      } else {
        res.insert(name, value);
      }
    }
    res.keep_alive(keep_alive);
  };
  stream.expires_after(options_.idle_timeout);

  if (!response.stream) {
    bhttp::response<bhttp::string_body> res;
    fill(res);
    res.body() = std::move(response.body);
    res.prepare_payload();
    if (head) {
      bhttp::response_serializer<bhttp::string_body> serializer{res};
      auto [ec, n] = co_await bhttp::async_write_header(stream, serializer, kNoThrow);
      co_return !ec && keep_alive;
    }
    auto [ec, n] = co_await bhttp::async_write(stream, res, kNoThrow);
    co_return !ec && keep_alive;
  }

  BodySource& source = *response.stream;
  bhttp::response<bhttp::buffer_body> res;
  fill(res);
  const std::optional<uint64_t> size = source.Size();
  if (size) {
    res.content_length(*size);
  } else if (version >= 11) {
    res.chunked(true);
  } else {
    // HTTP/1.0 without a length: the end of the connection ends the body.
    keep_alive = false;
    res.keep_alive(false);
  }
  res.body().data = nullptr;
  res.body().more = true;
  bhttp::response_serializer<bhttp::buffer_body> serializer{res};
  {
    auto [ec, n] = co_await bhttp::async_write_header(stream, serializer, kNoThrow);
    if (ec) co_return false;
  }
  if (head) co_return keep_alive;

  char* chunk = s.Chunk();
  uint64_t sent = 0;
  while (true) {
    StatusOr<size_t> got = size_t{0};
    try {
      got = source.Read(chunk, kStreamChunk);
    } catch (const std::exception& e) {
      got = Internal(e.what());
    }
    if (!got.ok()) {
      // The header is gone already; cutting the connection is the only way to signal it.
      spdlog::warn("response body stream failed: {}", JsonEscape(got.status().ToString()));
      co_return false;
    }
    if (*got == 0) break;
    sent += *got;
    if (size && sent > *size) {
      spdlog::error("response body stream is longer than its declared {} bytes", *size);
      co_return false;
    }
    res.body().data = chunk;
    res.body().size = *got;
    res.body().more = true;
    stream.expires_after(options_.idle_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream, serializer, kNoThrow);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return false;
  }
  if (size && sent != *size) {
    spdlog::error("response body stream ended after {} of {} bytes", sent, *size);
    co_return false;
  }
  res.body().data = nullptr;
  res.body().size = 0;
  res.body().more = false;
  stream.expires_after(options_.idle_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream, serializer, kNoThrow);
  co_return !ec && keep_alive;
}

HttpServer::HttpServer(ServerOptions options, const Router& router,
                       std::vector<Middleware*> middlewares)
    : impl_(std::make_unique<Impl>(std::move(options), router, std::move(middlewares))) {}

HttpServer::~HttpServer() = default;

StatusOr<uint16_t> HttpServer::Start() { return impl_->Start(); }

void HttpServer::Stop() { impl_->Stop(); }

void HttpServer::WaitForSignal() { impl_->WaitForSignal(); }

}  // namespace cairn::http
