#include "http/server.h"

#include "http/server_impl.h"

namespace cairn::http {

StatusOr<uint16_t> HttpServer::Impl::Start() {
  MutexLock lifecycle(lifecycle_mu_);
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
  if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
    if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
      return InvalidArgument("HTTPS needs both a certificate and its private key");
    }
    auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    SSL_CTX_set_options(context->native_handle(), SSL_OP_NO_RENEGOTIATION);
    boost::system::error_code tls_ec;
    context->use_certificate_chain_file(options_.tls_cert_file, tls_ec);
    if (tls_ec) {
      return InvalidArgument("cannot load TLS certificate '" + options_.tls_cert_file +
                             "': " + tls_ec.message());
    }
    context->use_private_key_file(options_.tls_key_file, asio::ssl::context::pem, tls_ec);
    if (tls_ec) {
      return InvalidArgument("cannot load TLS private key '" + options_.tls_key_file +
                             "': " + tls_ec.message());
    }
    if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
      return InvalidArgument("the TLS private key does not match the certificate");
    }
    tls_context_ = std::move(context);
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
    MutexLock lock(mu_);
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
  MutexLock lifecycle(lifecycle_mu_);
  if (stopped_) return;
  stopped_ = true;
  {
    MutexLock lock(mu_);
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
    MutexLock lock(mu_);
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
    MutexLock lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + options_.drain_timeout;
    while (!(drained = sessions_.empty() && !accepting_)) {
      if (!lock.WaitUntil(cv_, deadline)) {
        drained = sessions_.empty() && !accepting_;
        break;
      }
    }
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
    MutexLock lock(mu_);
    while (blocking_in_flight_.load() != 0) lock.Wait(cv_);
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
    MutexLock lifecycle(lifecycle_mu_);
    if (started_ && !stopped_) {
      signals = std::make_shared<asio::signal_set>(*ioc_, SIGINT, SIGTERM);
      signals->async_wait([this, signals](const beast::error_code& ec, int signal_number) {
        if (ec) return;
        spdlog::info("received signal {}; shutting down", signal_number);
        {
          MutexLock lock(mu_);
          stop_requested_ = true;
        }
        cv_.notify_all();
      });
    }
  }
  if (signals) {
    {
      MutexLock lock(mu_);
      while (!stop_requested_) lock.Wait(cv_);
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
      MutexLock lock(mu_);
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
      MutexLock lock(mu_);
      sessions_.insert(session);
    }
    asio::co_spawn(session->stream.get_executor(), RunSession(session),
                   [](const std::exception_ptr& e) {
                     if (e) spdlog::error("HTTP session ended with an exception");
                   });
  }
  {
    MutexLock lock(mu_);
    accepting_ = false;
  }
  cv_.notify_all();
}

bool HttpServer::Impl::EvictIdleConnection() {
  std::shared_ptr<Session> victim;
  {
    MutexLock lock(mu_);
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
    MutexLock lock(mu_);
    sessions_.erase(session);
  }
  cv_.notify_all();
}

HttpServer::HttpServer(ServerOptions options, const Router& router,
                       std::vector<Middleware*> middlewares)
    : impl_(std::make_unique<Impl>(std::move(options), router, std::move(middlewares))) {}

HttpServer::~HttpServer() = default;

StatusOr<uint16_t> HttpServer::Start() { return impl_->Start(); }

void HttpServer::Stop() { impl_->Stop(); }

void HttpServer::WaitForSignal() { impl_->WaitForSignal(); }

}  // namespace cairn::http
