#include "http/server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "http/error_response.h"
#include "http/metrics_middleware.h"
#include "http/request_id_middleware.h"
#include "http/tenant_middleware.h"

namespace cairn::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using ClientResponse = bhttp::response<bhttp::string_body>;
using namespace std::chrono_literals;

// A blocking HTTP/1.1 client over one connection, sending raw bytes when told to.
class TestClient {
 public:
  explicit TestClient(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
  }

  void Send(std::string_view raw) { asio::write(socket_, asio::buffer(raw.data(), raw.size())); }

  ClientResponse Read(bool head = false) {
    beast::error_code ec;
    ClientResponse response = TryRead(ec, head);
    EXPECT_FALSE(ec) << ec.message();
    return response;
  }

  ClientResponse TryRead(beast::error_code& ec, bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(boost::none);
    parser.skip(head);
    bhttp::read(socket_, buffer_, parser, ec);
    return parser.release();
  }

  ClientResponse Do(bhttp::verb method, std::string_view target, std::string body = "",
                    const std::vector<std::pair<std::string, std::string>>& headers = {},
                    unsigned version = 11) {
    bhttp::request<bhttp::string_body> request{method, target, version};
    request.set(bhttp::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = std::move(body);
    request.prepare_payload();
    bhttp::write(socket_, request);
    return Read(method == bhttp::verb::head);
  }

  ClientResponse Get(std::string_view target) { return Do(bhttp::verb::get, target); }

  // Reads raw bytes up to and including `delimiter`.
  std::string ReadUntil(std::string_view delimiter) {
    while (true) {
      std::string_view have(static_cast<const char*>(buffer_.data().data()), buffer_.size());
      size_t at = have.find(delimiter);
      if (at != std::string_view::npos) {
        std::string out(have.substr(0, at + delimiter.size()));
        buffer_.consume(out.size());
        return out;
      }
      size_t n = socket_.read_some(buffer_.prepare(4096));
      buffer_.commit(n);
    }
  }

  // Waits up to `timeout` for the server to close the connection (EOF or reset, with no bytes
  // pending). False if still open or if data arrived instead.
  bool WaitForClose(std::chrono::milliseconds timeout = 5s) {
    if (buffer_.size() > 0) return false;
    pollfd pfd{socket_.native_handle(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char c;
    beast::error_code ec;
    size_t n = socket_.read_some(asio::buffer(&c, 1), ec);
    return n == 0 && ec;
  }

  // True if nothing arrives within `timeout`.
  bool Quiet(std::chrono::milliseconds timeout) {
    pollfd pfd{socket_.native_handle(), POLLIN, 0};
    return buffer_.size() == 0 && ::poll(&pfd, 1, static_cast<int>(timeout.count())) == 0;
  }

  tcp::socket& socket() { return socket_; }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

boost::json::object JsonOf(const ClientResponse& response) {
  return boost::json::parse(response.body()).as_object();
}

std::string Str(const boost::json::value& v) { return std::string(v.as_string()); }

// Records its Write calls; Finish answers with the byte count.
// Written on server threads, read by the test: every access takes `mu`.
struct SinkLog {
  std::string Data() {
    std::lock_guard lock(mu);
    return data;
  }
  int Writes() {
    std::lock_guard lock(mu);
    return writes;
  }

  std::mutex mu;
  std::string data;
  int writes = 0;
  std::atomic<bool> finished{false};
  std::atomic<bool> aborted{false};
};

class RecordingSink : public BodySink {
 public:
  explicit RecordingSink(std::shared_ptr<SinkLog> log, size_t fail_after = SIZE_MAX)
      : log_(std::move(log)), fail_after_(fail_after) {}
  Status Write(std::string_view chunk) override {
    std::lock_guard lock(log_->mu);
    log_->data.append(chunk);
    ++log_->writes;
    if (log_->data.size() > fail_after_) return InvalidArgument("sink is full");
    return Status::Ok();
  }
  Response Finish() override {
    log_->finished = true;
    std::lock_guard lock(log_->mu);
    return Response::Json(201, "{\"bytes\":" + std::to_string(log_->data.size()) + "}");
  }
  void Abort() override { log_->aborted = true; }

 private:
  std::shared_ptr<SinkLog> log_;
  size_t fail_after_;
};

// Produces `total` bytes of a repeating pattern in reads of at most `step` bytes.
class PatternSource : public BodySource {
 public:
  PatternSource(uint64_t total, bool known_size, size_t step = 100'000)
      : total_(total), known_size_(known_size), step_(step) {}
  StatusOr<size_t> Read(char* buffer, size_t capacity) override {
    size_t n = static_cast<size_t>(std::min<uint64_t>({capacity, step_, total_ - produced_}));
    for (size_t i = 0; i < n; ++i) buffer[i] = static_cast<char>('a' + (produced_ + i) % 26);
    produced_ += n;
    return n;
  }
  std::optional<uint64_t> Size() const override {
    return known_size_ ? std::optional<uint64_t>(total_) : std::nullopt;
  }

 private:
  uint64_t total_;
  bool known_size_;
  size_t step_;
  uint64_t produced_ = 0;
};

std::string Pattern(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>('a' + i % 26);
  return out;
}

// Records the order of middleware calls; short-circuits requests to `block_path`.
class RecordingMiddleware : public Middleware {
 public:
  RecordingMiddleware(std::string name, std::vector<std::string>& events, std::mutex& mu,
                      std::string block_path = "")
      : name_(std::move(name)), events_(events), mu_(mu), block_path_(std::move(block_path)) {}
  std::optional<Response> OnRequest(Request& request) override {
    std::lock_guard lock(mu_);
    events_.push_back(name_ + ".request");
    if (!block_path_.empty() && request.path == block_path_) {
      return ErrorResponse(Status(StatusCode::kResourceExhausted, "slow down"));
    }
    return std::nullopt;
  }
  void OnResponse(const Request&, Response& response, int64_t elapsed_ns) override {
    std::lock_guard lock(mu_);
    events_.push_back(name_ + ".response." + std::to_string(response.status));
    if (elapsed_ns < 0) events_.push_back("negative elapsed");
  }

 private:
  std::string name_;
  std::vector<std::string>& events_;
  std::mutex& mu_;
  std::string block_path_;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A hung socket must fail the test, not the whole CI job.
    watchdog_ = std::thread([this] {
      std::unique_lock lock(watchdog_mu_);
      if (!watchdog_cv_.wait_for(lock, 60s, [this] { return done_; })) {
        std::fprintf(stderr, "server test timed out\n");
        std::abort();
      }
    });
    router_.Add(Method::kGet, "/hello", [](Request&) { return Response::Text(200, "hello"); });
    router_.Add(Method::kGet, "/items/{id}", [](Request& request) {
      boost::json::object out;
      out["id"] = request.PathParam("id");
      out["path"] = request.path;
      out["route"] = request.route_pattern;
      boost::json::array query;
      for (const auto& [k, v] : request.query) query.push_back(boost::json::array{k, v});
      out["query"] = std::move(query);
      out["method"] = MethodName(request.method);
      return Response::Json(200, boost::json::serialize(out));
    });
    router_.Add(Method::kGet, "/files/{path...}",
                [](Request& request) { return Response::Text(200, request.PathParam("path")); });
    router_.Add(
        Method::kPost, "/echo",
        [](Request& request) {
          Response response = Response::Text(200, request.body);
          response.headers.Add("X-Body-Size", std::to_string(request.body.size()));
          return response;
        },
        RouteOptions{.max_body_bytes = 1000});
    router_.Add(Method::kGet, "/throw",
                [](Request&) -> Response { throw std::runtime_error("handler exploded"); });
    router_.Add(Method::kGet, "/context", [](Request& request) {
      boost::json::object out;
      out["request_id"] = request.scope.request_id;
      out["tenant"] = request.scope.tenant;
      return Response::Json(200, boost::json::serialize(out));
    });
    router_.Add(Method::kGet, "/slow", [this](Request&) {
      slow_entered_ = true;
      std::this_thread::sleep_for(300ms);
      slow_done_ = true;
      return Response::Text(200, "slow done");
    });
    // Blocks its pool thread until the test opens the gate.
    router_.Add(Method::kGet, "/gate", [this](Request&) {
      std::unique_lock lock(gate_mu_);
      ++gate_waiters_;
      gate_cv_.notify_all();
      gate_cv_.wait(lock, [this] { return gate_open_; });
      return Response::Text(200, "through");
    });
    // Answers from another thread, later; "drop" lets the responder go unanswered.
    router_.AddAsync(Method::kGet, "/later/{what}", [this](Request& request, Responder responder) {
      std::string what = request.PathParam("what");
      if (what == "drop") return;
      if (what == "now") {
        responder.Send(Response::Text(200, "now"));
        return;
      }
      std::lock_guard lock(gate_mu_);
      responders_.push_back(std::move(responder));
      gate_cv_.notify_all();
    });
    router_.Add(
        Method::kGet, "/io-thread",
        [](Request&) {
          std::ostringstream id;
          id << std::this_thread::get_id();
          return Response::Text(200, id.str());
        },
        RouteOptions{.run_inline = true});
    router_.Add(Method::kGet, "/pool-thread", [](Request&) {
      std::ostringstream id;
      id << std::this_thread::get_id();
      return Response::Text(200, id.str());
    });
    router_.Add(Method::kGet, "/download/{size}", [](Request& request) {
      Response response;
      response.content_type = "application/octet-stream";
      uint64_t size = std::stoull(request.PathParam("size"));
      bool known = request.QueryParam("known") != "false";
      response.stream = std::make_unique<PatternSource>(size, known);
      return response;
    });
    router_.AddStreaming(
        Method::kPut, "/upload/{name}",
        [this](Request& request) -> StatusOr<std::unique_ptr<BodySink>> {
          if (request.PathParam("name") == "refuse") return PermissionDenied("no uploads here");
          auto log = std::make_shared<SinkLog>();
          {
            std::lock_guard lock(sink_log_mu_);
            sink_log_ = log;
          }
          size_t fail_after = request.PathParam("name") == "small-sink" ? 1000 : SIZE_MAX;
          return std::unique_ptr<BodySink>(std::make_unique<RecordingSink>(log, fail_after));
        },
        RouteOptions{.max_body_bytes = 3'000'000});
    router_.Add(
        Method::kPost, "/v2/echo",
        [](Request& request) { return Response::Text(200, request.body); },
        RouteOptions{.max_body_bytes = 10, .error_format = ErrorFormat::kOpenInference});
    router_.Add(Method::kGet, "/no-content", [](Request&) {
      Response response = Response::Text(204, "ignored");
      return response;
    });
  }

  void TearDown() override {
    if (server_) server_->Stop();
    {
      std::lock_guard lock(watchdog_mu_);
      done_ = true;
    }
    watchdog_cv_.notify_all();
    watchdog_.join();
  }

  static Status PermissionDenied(std::string message) {
    return Status(StatusCode::kPermissionDenied, std::move(message));
  }

  void StartServer(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    if (options.threads == 0) options.threads = 4;
    server_ = std::make_unique<HttpServer>(options, router_, middlewares_);
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    ASSERT_NE(port_, 0);
  }

  Router router_;
  std::vector<Middleware*> middlewares_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::atomic<bool> slow_entered_{false};
  std::atomic<bool> slow_done_{false};

  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool gate_open_ = false;             // guarded by gate_mu_
  int gate_waiters_ = 0;               // guarded by gate_mu_
  std::vector<Responder> responders_;  // guarded by gate_mu_

  // A client whose request waits at /gate on a pool thread until OpenGate; returns once the
  // handler is waiting.
  std::thread HoldPoolThreadAtGate() {
    std::thread client_thread([this] {
      TestClient client(port_);
      EXPECT_EQ(client.Get("/gate").body(), "through");
    });
    WaitForGateWaiters(1);
    return client_thread;
  }
  void WaitForGateWaiters(int n) {
    std::unique_lock lock(gate_mu_);
    gate_cv_.wait(lock, [&] { return gate_waiters_ >= n; });
  }
  void OpenGate() {
    std::lock_guard lock(gate_mu_);
    gate_open_ = true;
    gate_cv_.notify_all();
  }
  Responder TakeResponder() {
    std::unique_lock lock(gate_mu_);
    gate_cv_.wait(lock, [&] { return !responders_.empty(); });
    Responder responder = responders_.front();
    responders_.erase(responders_.begin());
    return responder;
  }

  std::shared_ptr<SinkLog> sink_log() {
    std::lock_guard lock(sink_log_mu_);
    return sink_log_;
  }

 private:
  std::mutex sink_log_mu_;
  std::shared_ptr<SinkLog> sink_log_;  // the last upload's log, guarded by sink_log_mu_
  std::thread watchdog_;
  std::mutex watchdog_mu_;
  std::condition_variable watchdog_cv_;
  bool done_ = false;
};

TEST_F(ServerTest, ServesSimpleGetWithServerHeader) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/hello");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "hello");
  EXPECT_EQ(response[bhttp::field::server], "cairn");
  EXPECT_EQ(response[bhttp::field::content_type], "text/plain; charset=utf-8");
  EXPECT_EQ(response[bhttp::field::content_length], "5");
  EXPECT_FALSE(response[bhttp::field::date].empty());
  EXPECT_TRUE(response.keep_alive());
}

TEST_F(ServerTest, RoutesPathParamsAndDecodesQuery) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/items/42?a=1&b=x+y%21&a=2&flag");
  ASSERT_EQ(response.result_int(), 200) << response.body();
  auto body = JsonOf(response);
  EXPECT_EQ(Str(body["id"]), "42");
  EXPECT_EQ(Str(body["route"]), "/items/{id}");
  EXPECT_EQ(boost::json::serialize(body["query"]),
            R"([["a","1"],["b","x y!"],["a","2"],["flag",""]])");
}

TEST_F(ServerTest, EncodedSlashStaysInOneSegment) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/items/team%2Fmodel%20v1");
  ASSERT_EQ(response.result_int(), 200) << response.body();
  auto body = JsonOf(response);
  EXPECT_EQ(Str(body["id"]), "team/model v1");
  EXPECT_EQ(Str(body["path"]), "/items/team/model v1");
  EXPECT_EQ(client.Get("/items/team/model").result_int(), 404);
  auto rest = client.Get("/files/a/b%20c/d%2Fe.txt");
  EXPECT_EQ(rest.body(), "a/b c/d/e.txt");
  auto empty_rest = client.Get("/files/");
  EXPECT_EQ(empty_rest.result_int(), 200);
  EXPECT_EQ(empty_rest.body(), "");
}

TEST_F(ServerTest, MalformedPercentEncodingGives400) {
  StartServer();
  TestClient client(port_);
  auto bad_path = client.Get("/items/%zz");
  EXPECT_EQ(bad_path.result_int(), 400);
  EXPECT_EQ(Str(JsonOf(bad_path)["error_code"]), "INVALID_PARAMETER_VALUE");
  auto bad_query = client.Get("/items/1?a=%4");
  EXPECT_EQ(bad_query.result_int(), 400);
  // The connection is still fine.
  EXPECT_EQ(client.Get("/hello").result_int(), 200);
}

TEST_F(ServerTest, UnknownRouteGivesEndpointNotFoundEnvelope) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/api/2.0/mlflow/nope?x=1");
  EXPECT_EQ(response.result_int(), 404);
  EXPECT_EQ(response[bhttp::field::content_type], "application/json");
  EXPECT_EQ(
      response.body(),
      R"({"error_code":"ENDPOINT_NOT_FOUND","message":"No API route for GET /api/2.0/mlflow/nope"})");
}

TEST_F(ServerTest, UnknownRouteWithSmallBodyKeepsConnection) {
  StartServer();
  TestClient client(port_);
  auto response = client.Do(bhttp::verb::post, "/api/3.0/mlflow/new", std::string(5000, 'x'));
  EXPECT_EQ(response.result_int(), 404);
  EXPECT_TRUE(response.keep_alive());
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, WrongMethodGives405) {
  StartServer();
  TestClient client(port_);
  auto response = client.Do(bhttp::verb::delete_, "/hello");
  EXPECT_EQ(response.result_int(), 405);
  auto body = JsonOf(response);
  EXPECT_EQ(Str(body["error_code"]), "BAD_REQUEST");
  EXPECT_EQ(Str(body["message"]), "Method DELETE is not allowed for /hello");
  auto patterned = client.Do(bhttp::verb::post, "/items/7");
  EXPECT_EQ(patterned.result_int(), 405);
  EXPECT_EQ(client.Get("/hello").result_int(), 200);
}

TEST_F(ServerTest, HeadRunsGetHandlerWithoutBody) {
  StartServer();
  TestClient client(port_);
  auto response = client.Do(bhttp::verb::head, "/files/abc/def");
  EXPECT_EQ(response.result_int(), 200);
  // The GET length, but no body bytes: the next response parses cleanly.
  EXPECT_EQ(response[bhttp::field::content_length], "7");
  EXPECT_EQ(response.body(), "");
  EXPECT_EQ(client.Get("/files/abc/def").body(), "abc/def");
  // The handler is told the truth about the method.
  auto head_items = client.Do(bhttp::verb::head, "/items/9");
  auto get_items = client.Get("/items/9");
  EXPECT_EQ(Str(JsonOf(get_items)["method"]), "GET");
  EXPECT_EQ(head_items[bhttp::field::content_length],
            std::to_string(get_items.body().size() + 1));  // "HEAD" is one longer than "GET"
  auto head_stream = client.Do(bhttp::verb::head, "/download/1000");
  EXPECT_EQ(head_stream[bhttp::field::content_length], "1000");
  EXPECT_EQ(client.Get("/hello").body(), "hello");
  EXPECT_EQ(client.Do(bhttp::verb::head, "/nope").result_int(), 404);
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  TestClient client(port_);
  for (int i = 0; i < 50; ++i) {
    auto response = client.Get("/items/" + std::to_string(i));
    ASSERT_EQ(response.result_int(), 200);
    ASSERT_EQ(Str(JsonOf(response)["id"]), std::to_string(i));
  }
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  TestClient client(port_);
  client.Send(
      "GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
      "GET /items/3 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(Str(JsonOf(client.Read())["id"]), "1");
  EXPECT_EQ(client.Read().body(), "abc");
  EXPECT_EQ(Str(JsonOf(client.Read())["id"]), "3");
}

TEST_F(ServerTest, Http10ClosesUnlessKeepAliveAsked) {
  StartServer();
  {
    TestClient client(port_);
    auto response = client.Do(bhttp::verb::get, "/hello", "", {}, 10);
    EXPECT_EQ(response.body(), "hello");
    EXPECT_EQ(response.version(), 10u);
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    TestClient client(port_);
    auto first = client.Do(bhttp::verb::get, "/hello", "", {{"Connection", "keep-alive"}}, 10);
    EXPECT_TRUE(first.keep_alive());
    auto second = client.Do(bhttp::verb::get, "/hello", "", {{"Connection", "keep-alive"}}, 10);
    EXPECT_EQ(second.body(), "hello");
  }
}

TEST_F(ServerTest, ConnectionCloseIsHonoured) {
  StartServer();
  TestClient client(port_);
  auto response = client.Do(bhttp::verb::get, "/hello", "", {{"Connection", "close"}});
  EXPECT_EQ(response.body(), "hello");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.WaitForClose());
}

TEST_F(ServerTest, ExpectContinueSendsContinueBeforeBody) {
  StartServer();
  TestClient client(port_);
  client.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(client.ReadUntil("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  client.Send("hello world");
  auto response = client.Read();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "hello world");
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, ExpectContinueOnUnknownRouteGetsFinalAnswerOnly) {
  StartServer();
  TestClient client(port_);
  client.Send(
      "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
  auto response = client.Read();
  EXPECT_EQ(response.result_int(), 404);
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.WaitForClose());
}

TEST_F(ServerTest, OversizedBodyGets413WithoutReadingIt) {
  StartServer();
  {
    // With Expect: the final 413 comes instead of 100 Continue.
    TestClient client(port_);
    client.Send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\nExpect: "
        "100-continue\r\n\r\n");
    auto response = client.Read();
    EXPECT_EQ(response.result_int(), 413);
    EXPECT_EQ(Str(JsonOf(response)["error_code"]), "REQUEST_LIMIT_EXCEEDED");
    EXPECT_FALSE(response.keep_alive());
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    // Without Expect and without ever sending the body: answered at once.
    TestClient client(port_);
    client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n");
    auto response = client.Read();
    EXPECT_EQ(response.result_int(), 413);
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    // At the limit is fine.
    TestClient client(port_);
    auto response = client.Do(bhttp::verb::post, "/echo", std::string(1000, 'z'));
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response["X-Body-Size"], "1000");
  }
}

TEST_F(ServerTest, ChunkedRequestBodiesAreReadAndLimited) {
  StartServer();
  {
    TestClient client(port_);
    client.Send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    auto response = client.Read();
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), "hello world");
    EXPECT_EQ(client.Get("/hello").body(), "hello");
  }
  {
    TestClient client(port_);
    std::string chunk(600, 'q');
    client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" +
                chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");
    auto response = client.Read();
    EXPECT_EQ(response.result_int(), 413);
    EXPECT_TRUE(client.WaitForClose());
  }
}

TEST_F(ServerTest, StreamingUploadWritesChunksToSink) {
  StartServer();
  TestClient client(port_);
  std::string body = Pattern(2'000'000);
  auto response = client.Do(bhttp::verb::put, "/upload/big", body);
  ASSERT_EQ(response.result_int(), 201) << response.body();
  EXPECT_EQ(JsonOf(response)["bytes"].as_int64(), 2'000'000);
  auto log = sink_log();
  ASSERT_TRUE(log);
  EXPECT_TRUE(log->finished);
  EXPECT_FALSE(log->aborted);
  EXPECT_GT(log->Writes(), 1);
  EXPECT_EQ(log->Data(), body);
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, StreamingUploadChunkedWithExpectContinue) {
  StartServer();
  TestClient client(port_);
  client.Send(
      "PUT /upload/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: "
      "100-continue\r\n\r\n");
  EXPECT_EQ(client.ReadUntil("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  client.Send("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  auto response = client.Read();
  EXPECT_EQ(response.result_int(), 201);
  EXPECT_EQ(sink_log()->Data(), "abcde");
}

TEST_F(ServerTest, StreamingUploadOverLimitAbortsWith413) {
  StartServer();
  {
    // Declared too large: refused before the handler runs.
    TestClient client(port_);
    client.Send("PUT /upload/x HTTP/1.1\r\nHost: x\r\nContent-Length: 3000001\r\n\r\n");
    EXPECT_EQ(client.Read().result_int(), 413);
    EXPECT_FALSE(sink_log());
  }
  {
    // Chunked: found out while streaming.
    TestClient client(port_);
    client.Send("PUT /upload/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    std::string chunk = Pattern(500'000);
    for (int i = 0; i < 7; ++i) client.Send("7A120\r\n" + chunk + "\r\n");
    client.Send("0\r\n\r\n");
    auto response = client.Read();
    EXPECT_EQ(response.result_int(), 413);
    auto log = sink_log();
    ASSERT_TRUE(log);
    EXPECT_TRUE(log->aborted);
    EXPECT_FALSE(log->finished);
    EXPECT_LE(log->Data().size(), 3'000'000u);
  }
}

TEST_F(ServerTest, StreamingHandlerErrorBecomesErrorResponse) {
  StartServer();
  TestClient client(port_);
  auto response = client.Do(bhttp::verb::put, "/upload/refuse", "data");
  EXPECT_EQ(response.result_int(), 403);
  EXPECT_EQ(Str(JsonOf(response)["error_code"]), "PERMISSION_DENIED");
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, StreamingSinkWriteErrorAbortsAndAnswers) {
  StartServer();
  TestClient client(port_);
  auto response = client.Do(bhttp::verb::put, "/upload/small-sink", Pattern(600'000));
  EXPECT_EQ(response.result_int(), 400);
  EXPECT_EQ(Str(JsonOf(response)["message"]), "sink is full");
  EXPECT_TRUE(sink_log()->aborted);
  EXPECT_FALSE(sink_log()->finished);
}

TEST_F(ServerTest, ClientDisconnectMidUploadAbortsSink) {
  StartServer();
  {
    TestClient client(port_);
    client.Send("PUT /upload/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
    client.Send(Pattern(1000));
    for (int i = 0; i < 200 && !sink_log(); ++i) std::this_thread::sleep_for(10ms);
  }
  auto log = sink_log();
  ASSERT_TRUE(log);
  for (int i = 0; i < 500 && !log->aborted; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(log->aborted);
  EXPECT_FALSE(log->finished);
}

TEST_F(ServerTest, StreamingDownloadWithKnownSize) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/download/1000000");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response[bhttp::field::content_length], "1000000");
  EXPECT_FALSE(response.chunked());
  EXPECT_EQ(response[bhttp::field::content_type], "application/octet-stream");
  EXPECT_EQ(response.body(), Pattern(1'000'000));
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, StreamingDownloadWithUnknownSizeIsChunked) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/download/700001?known=false");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_TRUE(response.chunked());
  EXPECT_EQ(response.body(), Pattern(700'001));
  auto empty = client.Get("/download/0?known=false");
  EXPECT_EQ(empty.body(), "");
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, StreamingDownloadOverHttp10EndsWithClose) {
  StartServer();
  TestClient client(port_);
  client.Send("GET /download/5000?known=false HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  auto response = client.Read();
  EXPECT_EQ(response.body(), Pattern(5000));
  EXPECT_FALSE(response.keep_alive());
}

TEST_F(ServerTest, NoContentHasNoBody) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/no-content");
  EXPECT_EQ(response.result_int(), 204);
  EXPECT_EQ(response.body(), "");
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, ThrowingHandlerGives500AndServerKeepsServing) {
  StartServer();
  TestClient client(port_);
  auto response = client.Get("/throw");
  EXPECT_EQ(response.result_int(), 500);
  auto body = JsonOf(response);
  EXPECT_EQ(Str(body["error_code"]), "INTERNAL_ERROR");
  EXPECT_EQ(Str(body["message"]).find("exploded"), std::string::npos);
  EXPECT_TRUE(response.keep_alive());
  EXPECT_EQ(client.Get("/hello").body(), "hello");
  TestClient other(port_);
  EXPECT_EQ(other.Get("/hello").body(), "hello");
}

TEST_F(ServerTest, MalformedRequestGets400AndClose) {
  StartServer();
  {
    TestClient client(port_);
    client.Send("THIS IS NOT HTTP\r\n\r\n");
    auto response = client.Read();
    EXPECT_EQ(response.result_int(), 400);
    EXPECT_EQ(Str(JsonOf(response)["error_code"]), "INVALID_PARAMETER_VALUE");
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    TestClient client(port_);
    client.Send("GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n");
    EXPECT_EQ(client.Read().result_int(), 400);
    EXPECT_TRUE(client.WaitForClose());
  }
  {
    TestClient client(port_);
    client.Send("GET /hello HTTP/1.1\r\nX-Big: " + std::string(70'000, 'a') + "\r\n\r\n");
    EXPECT_EQ(client.Read().result_int(), 400);
    EXPECT_TRUE(client.WaitForClose());
  }
  TestClient client(port_);
  EXPECT_EQ(client.Get("/hello").body(), "hello");
}

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
  EXPECT_EQ(client.Get("/hello").body(), "hello");
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
