#pragma once

// Shared by server_test.cc and server_lifecycle_test.cc: helpers and the fixture.

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
#include "http/server.h"
#include "http/tenant_middleware.h"

namespace cairn::http {

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

inline boost::json::object JsonOf(const ClientResponse& response) {
  return boost::json::parse(response.body()).as_object();
}

inline std::string Str(const boost::json::value& v) { return std::string(v.as_string()); }

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

inline std::string Pattern(size_t n) {
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

}  // namespace cairn::http
