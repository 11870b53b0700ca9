#include "http/server_impl.h"

namespace cairn::http {

asio::awaitable<void> HttpServer::Impl::RunSession(std::shared_ptr<Session> session) {
  struct Unregister {
    Impl* impl;
    const std::shared_ptr<Session>& session;
    ~Unregister() { impl->EndSession(session); }
  } unregister{this, session};

  Session& s = *session;
  bool linger = false;
  {
    boost::system::error_code ec;
    tcp::endpoint peer = s.stream.socket().remote_endpoint(ec);
    if (!ec) s.peer = peer.address().to_string();
  }
  if (tls_context_) {
    // The handshake counts as the start of the first request: it has header_timeout too.
    s.stream.StartTls(*tls_context_);
    s.stream.expires_after(options_.header_timeout);
    auto [ec] = co_await s.stream.tls()->async_handshake(asio::ssl::stream_base::server, kNoThrow);
    if (ec) {
      s.stream.close();
      co_return;
    }
  }
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
  SessionStream& stream = s.stream;
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
  request.client = s.peer;
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
      request.permission = route->options.permission;
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

  if (response->hold) {
    auto hold = std::move(response->hold);
    response->hold = nullptr;
    co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
        [&](auto handler) {
          using Handler = decltype(handler);
          auto suspension = std::make_shared<internal::Suspension<Handler>>(std::move(handler));
          hold([suspension] { suspension->ResumeWith([] {}); });
        },
        asio::use_awaitable);
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
    MutexLock lock(mu_);
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
  SessionStream& stream = s.stream;
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

}  // namespace cairn::http
