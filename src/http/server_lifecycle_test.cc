// HttpServer tests, part 2: timeouts, stop and drain, the blocking pool, asynchronous answers,
// hostile-client limits, signals, middlewares and metrics (fixture in server_test_fixture.h).

#include "http/server_test_fixture.h"

namespace cairn::http {
namespace {

TEST_F(ServerTest, IdleKeepAliveConnectionTimesOut) {
  ServerOptions options;
  options.idle_timeout = 1s;
  StartServer(options);
  TestClient client(port_);
  EXPECT_EQ(client.Get("/hello").body(), "hello");
  EXPECT_TRUE(client.Quiet(500ms));
  EXPECT_TRUE(client.WaitForClose(3s));
}

TEST_F(ServerTest, SlowHeaderTimesOut) {
  ServerOptions options;
  options.header_timeout = 1s;
  StartServer(options);
  TestClient client(port_);
  client.Send("GET /hello HTTP/1.1\r\nHo");
  EXPECT_TRUE(client.WaitForClose(3s));
}

TEST_F(ServerTest, BindFailureIsUnavailableStatus) {
  StartServer();
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = port_;
  options.threads = 1;
  HttpServer second(options, router_, {});
  auto result = second.Start();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(result.status().message().find("127.0.0.1:" + std::to_string(port_)), std::string::npos)
      << result.status().message();
  ServerOptions bad_host = options;
  bad_host.host = "no-such-host.invalid";
  HttpServer third(bad_host, router_, {});
  EXPECT_EQ(third.Start().status().code(), StatusCode::kUnavailable);
}

TEST_F(ServerTest, GracefulStopLetsInFlightRequestFinish) {
  StartServer();
  TestClient idle(port_);
  EXPECT_EQ(idle.Get("/hello").body(), "hello");

  std::promise<ClientResponse> result;
  std::thread slow_client([&] {
    TestClient client(port_);
    result.set_value(client.Get("/slow"));
  });
  while (!slow_entered_) std::this_thread::sleep_for(1ms);
  auto started = std::chrono::steady_clock::now();
  server_->Stop();
  auto stop_took = std::chrono::steady_clock::now() - started;
  slow_client.join();
  ClientResponse response = result.get_future().get();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "slow done");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_LT(stop_took, 5s);
  // The idle keep-alive connection was closed, and nobody is listening any more.
  EXPECT_TRUE(idle.WaitForClose(1s));
  asio::io_context ioc;
  tcp::socket socket(ioc);
  beast::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port_), ec);
  EXPECT_TRUE(ec);
  server_->Stop();  // idempotent
}

TEST_F(ServerTest, DrainTimeoutBoundsStop) {
  ServerOptions options;
  options.drain_timeout = std::chrono::seconds(0);
  StartServer(options);
  std::promise<beast::error_code> read_error;
  std::thread slow_client([&] {
    TestClient client(port_);
    beast::error_code ec;
    client.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    client.TryRead(ec);
    read_error.set_value(ec);
  });
  while (!slow_entered_) std::this_thread::sleep_for(1ms);
  server_->Stop();
  // Stop waited for the running handler (it holds the request) but did not wait to deliver
  // its answer: past the drain timeout the connection is cut without a response.
  EXPECT_TRUE(slow_done_.load());
  slow_client.join();
  EXPECT_TRUE(read_error.get_future().get()) << "the request was answered after the drain";
}

TEST_F(ServerTest, BlockingHandlersDoNotHoldTheIoThread) {
  ServerOptions options;
  options.io_threads = 1;
  options.threads = 2;
  StartServer(options);
  std::thread blocked = HoldPoolThreadAtGate();
  // The single I/O thread still serves: inline, pooled and asynchronous routes alike.
  TestClient client(port_);
  EXPECT_EQ(client.Get("/hello").body(), "hello");
  EXPECT_EQ(client.Get("/later/now").body(), "now");
  std::string io_thread = client.Get("/io-thread").body();
  std::string pool_thread = client.Get("/pool-thread").body();
  EXPECT_NE(io_thread, pool_thread);
  OpenGate();
  blocked.join();
}

TEST_F(ServerTest, FullPoolAnswers503WithRetryAfter) {
  ServerOptions options;
  options.threads = 1;
  options.max_queued_work = 0;
  StartServer(options);
  std::thread blocked = HoldPoolThreadAtGate();
  TestClient client(port_);
  auto busy = client.Get("/hello");
  EXPECT_EQ(busy.result_int(), 503);
  EXPECT_EQ(busy[bhttp::field::retry_after], "1");
  EXPECT_EQ(Str(JsonOf(busy)["error_code"]), "TEMPORARILY_UNAVAILABLE");
  // Inline routes need no pool thread.
  EXPECT_EQ(client.Get("/io-thread").result_int(), 200);
  OpenGate();
  blocked.join();
  // The pool thread counts as idle again only after it has handed its answer back, which can be
  // a moment after the client read it.
  auto again = client.Get("/hello");
  for (int i = 0; i < 200 && again.result_int() == 503; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    again = client.Get("/hello");
  }
  EXPECT_EQ(again.body(), "hello");
}

TEST_F(ServerTest, AsyncHandlerAnswersFromAnotherThread) {
  ServerOptions options;
  options.io_threads = 1;
  StartServer(options);
  std::promise<ClientResponse> later;
  std::thread waiting([&] {
    TestClient client(port_);
    later.set_value(client.Get("/later/wait"));
  });
  Responder responder = TakeResponder();
  // While that request waits, the only I/O thread serves others.
  TestClient other(port_);
  EXPECT_EQ(other.Get("/hello").body(), "hello");
  std::thread answer([responder] { responder.Send(Response::Text(202, "answered")); });
  answer.join();
  responder.Send(Response::Text(500, "ignored: the first answer wins"));
  waiting.join();
  ClientResponse response = later.get_future().get();
  EXPECT_EQ(response.result_int(), 202);
  EXPECT_EQ(response.body(), "answered");
}

TEST_F(ServerTest, AsyncHandlerThatDropsItsResponderGets500) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/later/drop");
  EXPECT_EQ(response.result_int(), 500);
  EXPECT_EQ(client.Get("/hello").body(), "hello");  // the connection is still usable
}

TEST_F(ServerTest, StopWithAPendingAsyncAnswerCutsItAndIgnoresALateSend) {
  ServerOptions options;
  options.drain_timeout = std::chrono::seconds(0);
  StartServer(options);
  std::promise<beast::error_code> read_error;
  std::thread waiting([&] {
    TestClient client(port_);
    client.Send("GET /later/wait HTTP/1.1\r\nHost: x\r\n\r\n");
    beast::error_code ec;
    client.TryRead(ec);
    read_error.set_value(ec);
  });
  Responder responder = TakeResponder();
  server_->Stop();
  waiting.join();
  EXPECT_TRUE(read_error.get_future().get());
  responder.Send(Response::Text(200, "too late"));  // must not touch the stopped server
  server_.reset();
  responder.Send(Response::Text(200, "later still"));
}

TEST_F(ServerTest, SilentFreshConnectionIsClosedAfterTheHeaderTimeout) {
  ServerOptions options;
  options.header_timeout = 1s;
  options.idle_timeout = 60s;
  StartServer(options);
  TestClient silent(port_);
  EXPECT_TRUE(silent.WaitForClose(4s));
}

TEST_F(ServerTest, ConnectionCapEvictsTheLongestIdleConnection) {
  ServerOptions options;
  options.max_connections = 3;
  StartServer(options);
  TestClient first(port_);
  EXPECT_EQ(first.Get("/hello").body(), "hello");
  std::this_thread::sleep_for(20ms);
  TestClient second(port_);
  EXPECT_EQ(second.Get("/hello").body(), "hello");
  TestClient third(port_);
  EXPECT_EQ(third.Get("/hello").body(), "hello");
  // A fourth connection is served; the one idle the longest makes room.
  TestClient fourth(port_);
  EXPECT_EQ(fourth.Get("/hello").body(), "hello");
  EXPECT_TRUE(first.WaitForClose(3s));
  EXPECT_EQ(third.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, ConnectionCapWithNothingIdleRefusesTheNewConnection) {
  ServerOptions options;
  options.max_connections = 1;
  options.threads = 2;
  StartServer(options);
  std::thread blocked = HoldPoolThreadAtGate();
  TestClient refused(port_);
  EXPECT_TRUE(refused.WaitForClose(3s));
  OpenGate();
  blocked.join();
}

TEST_F(ServerTest, TrickledBodyIsCutAfterTheGracePeriod) {
  ServerOptions options;
  options.body_grace = 1s;
  options.min_body_bytes_per_second = 1000;
  StartServer(options);
  TestClient client(port_);
  client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n");
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {
    beast::error_code ec;
    asio::write(client.socket(), asio::buffer("a", 1), ec);
    if (ec) break;
    closed = client.WaitForClose(100ms);
  }
  EXPECT_TRUE(closed || client.WaitForClose(3s));
  TestClient fresh(port_);
  EXPECT_EQ(fresh.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, ServerMadeErrorsTakeTheRoutesFormat) {
  StartServer();
  TestClient client(port_);
  auto too_big = client.Do(bhttp::verb::post, "/v2/echo", std::string(11, 'x'));
  EXPECT_EQ(too_big.result_int(), 413);
  auto body = JsonOf(too_big);
  EXPECT_EQ(body.size(), 1u);
  EXPECT_NE(Str(body["error"]).find("exceeds the limit of 10 bytes"), std::string::npos);
  TestClient mlflow(port_);
  auto mlflow_too_big = mlflow.Do(bhttp::verb::post, "/echo", std::string(1001, 'x'));
  EXPECT_EQ(mlflow_too_big.result_int(), 413);
  EXPECT_EQ(Str(JsonOf(mlflow_too_big)["error_code"]), "REQUEST_LIMIT_EXCEEDED");
}

TEST_F(ServerTest, BufferedBodiesShareOneBudget) {
  ServerOptions options;
  options.max_buffered_body_bytes = 1000;
  StartServer(options);
  TestClient holding(port_);
  holding.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 800\r\n\r\n" +
               std::string(400, 'a'));
  std::this_thread::sleep_for(200ms);  // let the server reserve the first body
  TestClient second(port_);
  auto busy = second.Do(bhttp::verb::post, "/echo", std::string(800, 'b'));
  EXPECT_EQ(busy.result_int(), 503);
  EXPECT_EQ(busy[bhttp::field::retry_after], "1");
  holding.Send(std::string(400, 'a'));
  auto done = holding.Read();
  EXPECT_EQ(done.result_int(), 200);
  EXPECT_EQ(done.body().size(), 800u);
  // The budget came back.
  TestClient third(port_);
  EXPECT_EQ(third.Do(bhttp::verb::post, "/echo", std::string(800, 'c')).result_int(), 200);
}

TEST_F(ServerTest, WaitForSignalReturnsOnStop) {
  StartServer();
  std::thread waiter([this] { server_->WaitForSignal(); });
  std::this_thread::sleep_for(50ms);
  server_->Stop();
  waiter.join();
}

TEST_F(ServerTest, WaitForSignalStopsOnSigterm) {
  StartServer();
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    server_->WaitForSignal();
    returned = true;
  });
  // Only signal once the server's handler is installed, or the default action kills us.
  struct sigaction current {};
  for (int i = 0; i < 500; ++i) {
    sigaction(SIGTERM, nullptr, &current);
    if (current.sa_handler != SIG_DFL) break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_NE(current.sa_handler, SIG_DFL);
  // Delivered to the thread that installed the handler, as ThreadSanitizer cannot see that
  // sigaction orders the installing thread's writes before a handler on another thread.
  pthread_kill(waiter.native_handle(), SIGTERM);  // NOLINT(bugprone-bad-signal-to-kill-thread)
  waiter.join();
  EXPECT_TRUE(returned);
  asio::io_context ioc;
  tcp::socket socket(ioc);
  beast::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port_), ec);
  EXPECT_TRUE(ec);
}

TEST_F(ServerTest, MiddlewaresRunInOrderAndCanShortCircuit) {
  std::vector<std::string> events;
  std::mutex mu;
  RecordingMiddleware a("a", events, mu);
  RecordingMiddleware b("b", events, mu, "/hello");
  RecordingMiddleware c("c", events, mu);
  middlewares_ = {&a, &b, &c};
  StartServer();
  TestClient client(port_);
  EXPECT_EQ(client.Get("/items/1").result_int(), 200);
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(events,
              (std::vector<std::string>{"a.request", "b.request", "c.request", "c.response.200",
                                        "b.response.200", "a.response.200"}));
    events.clear();
  }
  auto blocked = client.Get("/hello");
  EXPECT_EQ(blocked.result_int(), 429);
  EXPECT_EQ(Str(JsonOf(blocked)["error_code"]), "RESOURCE_EXHAUSTED");
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(events, (std::vector<std::string>{"a.request", "b.request", "b.response.429",
                                                "a.response.429"}));
    events.clear();
  }
  EXPECT_EQ(client.Get("/nope").result_int(), 404);
  std::lock_guard lock(mu);
  EXPECT_EQ(events,
            (std::vector<std::string>{"a.request", "b.request", "c.request", "c.response.404",
                                      "b.response.404", "a.response.404"}));
}

TEST_F(ServerTest, RequestIdIsEchoedOrGenerated) {
  RequestIdMiddleware request_ids;
  middlewares_ = {&request_ids};
  StartServer();
  TestClient client(port_);
  auto echoed = client.Do(bhttp::verb::get, "/context", "", {{"X-Request-Id", "trace-123"}});
  EXPECT_EQ(echoed["X-Request-Id"], "trace-123");
  EXPECT_EQ(Str(JsonOf(echoed)["request_id"]), "trace-123");
  auto generated = client.Do(bhttp::verb::get, "/context", "", {{"X-Request-Id", "bad id!"}});
  std::string id(generated["X-Request-Id"]);
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(Str(JsonOf(generated)["request_id"]), id);
  auto not_found = client.Get("/nope");
  EXPECT_EQ(not_found["X-Request-Id"].size(), 32u);
}

TEST_F(ServerTest, TenantHeaderIsValidated) {
  TenantMiddleware tenants;
  middlewares_ = {&tenants};
  StartServer();
  TestClient client(port_);
  EXPECT_EQ(Str(JsonOf(client.Get("/context"))["tenant"]), "default");
  auto named = client.Do(bhttp::verb::get, "/context", "", {{"X-MLFLOW-WORKSPACE", "team-a"}});
  EXPECT_EQ(Str(JsonOf(named)["tenant"]), "team-a");
  auto bad = client.Do(bhttp::verb::get, "/context", "", {{"X-MLFLOW-WORKSPACE", "team/a"}});
  EXPECT_EQ(bad.result_int(), 400);
  EXPECT_EQ(Str(JsonOf(bad)["error_code"]), "INVALID_PARAMETER_VALUE");
}

TEST_F(ServerTest, MetricsCountRequestsByRoutePattern) {
  ManualClock clock(1000);
  metrics::MetricsRegistry registry(clock);
  MetricsMiddleware metrics(registry);
  AddMetricsRoute(router_, registry);
  middlewares_ = {&metrics};
  StartServer();
  TestClient client(port_);
  client.Get("/items/1");
  client.Get("/items/2");
  client.Get("/missing/1");
  auto response = client.Get("/metrics");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response[bhttp::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = response.body();
  EXPECT_NE(text.find("cairn_http_requests_total{method=\"GET\",route=\"/items/{id}\",status="
                      "\"200\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("cairn_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("cairn_up 1\n"), std::string::npos);
}

TEST_F(ServerTest, ManyConcurrentClients) {
  StartServer();
  std::vector<std::thread> threads;
  threads.reserve(8);
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      TestClient client(port_);
      for (int i = 0; i < 100; ++i) {
        auto response = client.Do(bhttp::verb::post, "/echo", std::to_string(t * 1000 + i));
        if (response.body() == std::to_string(t * 1000 + i)) ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok, 800);
}

}  // namespace
}  // namespace cairn::http
