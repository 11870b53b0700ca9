#include "http/client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "http/router.h"
#include "http/server.h"

namespace cairn::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

std::string Pattern(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>('a' + i % 26);
  return out;
}

// Produces Pattern(total) in pieces of at most `step` bytes; chunked when the size is unknown.
class PatternSource : public BodySource {
 public:
  PatternSource(uint64_t total, bool known_size) : total_(total), known_size_(known_size) {}
  StatusOr<size_t> Read(char* buffer, size_t capacity) override {
    size_t n = static_cast<size_t>(std::min<uint64_t>({capacity, 10'000, total_ - produced_}));
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
  uint64_t produced_ = 0;
};

std::unique_ptr<Client> MustCreate(ClientOptions options = {}) {
  auto client = Client::Create(std::move(options));
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

// The real Cairn server on a free port with a few routes to talk to.
class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add(Method::kGet, "/hello", [](Request&) { return Response::Text(200, "hello"); });
    router_.Add(Method::kPost, "/echo", [](Request& request) {
      Response response = Response::Text(200, request.body);
      response.headers.Add("X-Seen", std::string(request.headers.Get("X-Test").value_or("")));
      return response;
    });
    router_.Add(Method::kGet, "/bytes/{size}", [](Request& request) {
      Response response;
      response.content_type = "application/octet-stream";
      response.stream = std::make_unique<PatternSource>(std::stoull(request.PathParam("size")),
                                                        request.QueryParam("chunked") != "true");
      return response;
    });
    router_.Add(Method::kGet, "/slow", [](Request&) {
      std::this_thread::sleep_for(1500ms);
      return Response::Text(200, "late");
    });
    router_.Add(Method::kGet, "/moved", [](Request&) {
      Response response = Response::Text(302, "");
      response.headers.Add("Location", "/hello");
      return response;
    });
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  void StartServer(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 4;
    options.io_threads = 2;
    server_ = std::make_unique<HttpServer>(options, router_, std::vector<Middleware*>{});
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    base_ = "http://127.0.0.1:" + std::to_string(*port);
  }

  Router router_;
  std::unique_ptr<HttpServer> server_;
  std::string base_;
};

TEST(ParseUrlTest, SplitsHttpAndHttpsUrls) {
  auto plain = ParseUrl("http://example.com/a/b?x=1#frag");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->scheme, "http");
  EXPECT_EQ(plain->host, "example.com");
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->target, "/a/b?x=1");
  EXPECT_EQ(plain->Authority(), "example.com");

  auto tls = ParseUrl("HTTPS://[::1]:8443");
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  EXPECT_EQ(tls->scheme, "https");
  EXPECT_EQ(tls->host, "::1");
  EXPECT_EQ(tls->port, 8443);
  EXPECT_EQ(tls->target, "/");
  EXPECT_EQ(tls->Origin(), "https://[::1]:8443");

  auto query_only = ParseUrl("https://h?x=1");
  ASSERT_TRUE(query_only.ok());
  EXPECT_EQ(query_only->port, 443);
  EXPECT_EQ(query_only->target, "/?x=1");
}

TEST(ParseUrlTest, RejectsWhatCannotBeConnectedTo) {
  for (const char* bad :
       {"", "example.com/x", "ftp://h/", "http://", "http://:80", "http://h:0", "http://h:x",
        "http://h:", "http://h:65536", "http://u:p@h/", "http://[::1", "http://[nothost]/",
        "http://h/a b", "http://h/\r\nX: y"}) {
    auto url = ParseUrl(bad);
    EXPECT_EQ(url.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(ClientTest, BadUrlOrHeaderIsInvalidArgument) {
  auto client = MustCreate();
  auto response = client->Send({.url = "gopher://h/"});
  EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument);
  response = client->Send({.url = "http://127.0.0.1:1/", .headers = {{"X-Evil", "a\r\nHost: b"}}});
  EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument);
  response = client->Send({.url = "http://127.0.0.1:1/", .headers = {{"X-Evil: a", "b"}}});
  EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client->ConnectionsOpenedForTest(), 0u) << "refused before connecting";
}

TEST_F(ClientTest, PostsABodyWithHeaders) {
  StartServer();
  auto client = MustCreate();
  auto response = client->Send({.method = Method::kPost,
                                .url = base_ + "/echo",
                                .headers = {{"X-Test", "yes"}},
                                .body = R"({"a":1})"});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"a":1})");
  EXPECT_EQ(response->headers.Get("x-seen"), "yes");
}

TEST_F(ClientTest, PublicAddressesOnlyRefusesInternalPeersAtConnectTime) {
  StartServer();
  std::string port = base_.substr(base_.rfind(':') + 1);
  auto client = MustCreate({.public_addresses_only = true});
  // By address and by a name that resolves to loopback when the request is made: what a
  // rebinding DNS answer would give after a URL check passed.
  for (const std::string& url :
       {base_ + "/hello", "http://localhost:" + port + "/hello", "http://[::1]:" + port + "/"}) {
    auto response = client->Send({.url = url});
    ASSERT_FALSE(response.ok()) << url;
    EXPECT_EQ(response.status().code(), StatusCode::kPermissionDenied) << url;
    EXPECT_NE(response.status().message().find("non-public"), std::string::npos)
        << response.status().message();
  }
  EXPECT_EQ(client->ConnectionsOpenedForTest(), 0u);
  auto open = MustCreate()->Send({.url = base_ + "/hello"});
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  EXPECT_EQ(open->body, "hello");
}

TEST_F(ClientTest, KeepAliveReusesOneConnection) {
  StartServer();
  auto client = MustCreate();
  for (int i = 0; i < 5; ++i) {
    auto response = client->Send({.url = base_ + "/hello"});
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->body, "hello");
    EXPECT_EQ(response->reused_connection, i > 0) << i;
  }
  EXPECT_EQ(client->ConnectionsOpenedForTest(), 1u);
  EXPECT_EQ(client->IdleConnectionsForTest(), 1u);
}

TEST_F(ClientTest, ConcurrentSendersShareABoundedPool) {
  StartServer();
  auto client = MustCreate({.max_idle_per_host = 2});
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto response = client->Send({.url = base_ + "/hello"});
        if (response.ok() && response->body == "hello") ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 120);
  EXPECT_LE(client->IdleConnectionsForTest(), 2u);
  EXPECT_LT(client->ConnectionsOpenedForTest(), 120u) << "connections are reused";
}

TEST_F(ClientTest, ConnectionTheServerClosedIsNotReused) {
  StartServer({.idle_timeout = 1s});
  auto client = MustCreate();
  ASSERT_TRUE(client->Send({.url = base_ + "/hello"}).ok());
  std::this_thread::sleep_for(1500ms);  // the server closes the idle connection
  auto response = client->Send({.url = base_ + "/hello"});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_FALSE(response->reused_connection);
  EXPECT_EQ(client->ConnectionsOpenedForTest(), 2u);
}

TEST_F(ClientTest, DecodesChunkedAndSizedBodies) {
  StartServer();
  auto client = MustCreate();
  auto chunked = client->Send({.url = base_ + "/bytes/300000?chunked=true"});
  ASSERT_TRUE(chunked.ok()) << chunked.status().ToString();
  EXPECT_EQ(chunked->headers.Get("Transfer-Encoding"), "chunked");
  EXPECT_EQ(chunked->body, Pattern(300000));
  auto sized = client->Send({.url = base_ + "/bytes/300000"});
  ASSERT_TRUE(sized.ok()) << sized.status().ToString();
  EXPECT_EQ(sized->headers.Get("Content-Length"), "300000");
  EXPECT_EQ(sized->body, Pattern(300000));
  EXPECT_TRUE(sized->reused_connection) << "a chunked answer leaves the connection reusable";
}

TEST_F(ClientTest, HeadGetsNoBody) {
  StartServer();
  auto client = MustCreate();
  auto response = client->Send({.method = Method::kHead, .url = base_ + "/bytes/1000"});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->headers.Get("Content-Length"), "1000");
  EXPECT_EQ(response->body, "");
  EXPECT_TRUE(client->Send({.url = base_ + "/hello"})->reused_connection);
}

TEST_F(ClientTest, StreamsTheBodyToTheCallback) {
  StartServer();
  auto client = MustCreate();
  std::string received;
  int pieces = 0;
  auto response = client->Send(
      {.url = base_ + "/bytes/1000000?chunked=true", .on_body = [&](std::string_view piece) {
         received.append(piece);
         ++pieces;
         return Status();
       }});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "");
  EXPECT_EQ(received, Pattern(1000000));
  EXPECT_GT(pieces, 1);
}

TEST_F(ClientTest, CallbackErrorAbortsTheExchange) {
  StartServer();
  auto client = MustCreate();
  auto response = client->Send({.url = base_ + "/bytes/1000000",
                                .on_body = [](std::string_view) { return Internal("disk full"); }});
  EXPECT_EQ(response.status().code(), StatusCode::kInternal);
  EXPECT_EQ(client->IdleConnectionsForTest(), 0u);
  EXPECT_TRUE(client->Send({.url = base_ + "/hello"}).ok());
}

// Yields Pattern(total) in pieces of at most 7,000 bytes, as a streamed request body.
std::function<StatusOr<size_t>(char*, size_t)> PatternReader(uint64_t total) {
  auto produced = std::make_shared<uint64_t>(0);
  return [total, produced](char* buffer, size_t capacity) -> StatusOr<size_t> {
    size_t n = static_cast<size_t>(std::min<uint64_t>({capacity, 7'000, total - *produced}));
    for (size_t i = 0; i < n; ++i) buffer[i] = static_cast<char>('a' + (*produced + i) % 26);
    *produced += n;
    return n;
  };
}

TEST_F(ClientTest, StreamsARequestBodySizedOrChunked) {
  StartServer();
  auto client = MustCreate();
  for (bool sized : {true, false}) {
    auto response =
        client->Send({.method = Method::kPost,
                      .url = base_ + "/echo",
                      .headers = {{"X-Test", "streamed"}},
                      .body_reader = PatternReader(500'000),
                      .body_length = sized ? std::optional<uint64_t>(500'000) : std::nullopt});
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->status, 200) << sized;
    EXPECT_EQ(response->body, Pattern(500'000)) << sized;
    EXPECT_EQ(response->headers.Get("x-seen"), "streamed");
  }
}

TEST_F(ClientTest, StreamedBodyErrorsAbortTheExchange) {
  StartServer();
  auto client = MustCreate();
  auto failed = client->Send({.method = Method::kPost,
                              .url = base_ + "/echo",
                              .body_reader = [](char*, size_t) -> StatusOr<size_t> {
                                return NotFound("the file went away");
                              },
                              .body_length = 10});
  EXPECT_EQ(failed.status().code(), StatusCode::kNotFound);
  for (uint64_t declared : {uint64_t{1000}, uint64_t{100'000}}) {
    auto mismatch = client->Send({.method = Method::kPost,
                                  .url = base_ + "/echo",
                                  .body_reader = PatternReader(50'000),
                                  .body_length = declared});
    EXPECT_EQ(mismatch.status().code(), StatusCode::kInvalidArgument) << declared;
  }
  EXPECT_EQ(client->IdleConnectionsForTest(), 0u);
  EXPECT_TRUE(client->Send({.url = base_ + "/hello"}).ok());
}

TEST_F(ClientTest, StreamedBodyOverTheServerLimitGetsTheServersAnswer) {
  router_.Add(
      Method::kPost, "/small", [](Request& request) { return Response::Text(200, request.body); },
      RouteOptions{.max_body_bytes = 1000});
  StartServer();
  auto client = MustCreate();
  auto response = client->Send({.method = Method::kPost,
                                .url = base_ + "/small",
                                .body_reader = PatternReader(5'000'000),
                                .body_length = 5'000'000});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 413);
}

TEST_F(ClientTest, OversizedAnswersFail) {
  StartServer();
  auto client = MustCreate({.max_response_bytes = 5000});
  EXPECT_TRUE(client->Send({.url = base_ + "/bytes/5000"}).ok());
  for (const char* target : {"/bytes/5001", "/bytes/20000?chunked=true"}) {
    auto buffered = client->Send({.url = base_ + target});
    EXPECT_EQ(buffered.status().code(), StatusCode::kResourceExhausted) << target;
    size_t streamed_bytes = 0;
    auto streamed = client->Send({.url = base_ + target, .on_body = [&](std::string_view piece) {
                                    streamed_bytes += piece.size();
                                    return Status();
                                  }});
    EXPECT_EQ(streamed.status().code(), StatusCode::kResourceExhausted) << target;
    EXPECT_LE(streamed_bytes, 5000u);
  }
}

TEST_F(ClientTest, RedirectsAreReturnedNotFollowed) {
  StartServer();
  auto client = MustCreate();
  auto response = client->Send({.url = base_ + "/moved"});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 302);
  EXPECT_EQ(response->headers.Get("Location"), "/hello");
}

TEST_F(ClientTest, TotalTimeoutCutsASlowAnswer) {
  StartServer();
  auto client = MustCreate();
  auto start = std::chrono::steady_clock::now();
  auto response = client->Send({.url = base_ + "/slow", .total_timeout = 300ms});
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find("total timeout"), std::string::npos)
      << response.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1200ms);
}

// A socket that listens but never accepts: the kernel completes the handshake and the request
// is sent, but no answer ever comes.
TEST(ClientTimeoutTest, ReadTimeoutAgainstASocketThatNeverAnswers) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";

  auto client = MustCreate({.read_timeout = 300ms});
  auto start = std::chrono::steady_clock::now();
  auto response = client->Send({.url = url});
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find("timed out"), std::string::npos)
      << response.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  ::close(fd);
}

TEST(ClientTimeoutTest, RefusedConnectionIsUnavailable) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);  // bound, never listened: nothing is there
  auto client = MustCreate();
  auto response =
      client->Send({.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/"});
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find("cannot connect"), std::string::npos)
      << response.status().message();
}

// A self-signed certificate for DNS name "localhost" only, written as PEM files.
struct TestCertificate {
  fs::path cert;
  fs::path key;
};

TestCertificate MakeCertificate(const fs::path& dir) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                            std::pair{NID_subject_alt_name, "DNS:localhost"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert, key, EVP_sha256());
  TestCertificate out{dir / "cert.pem", dir / "key.pem"};
  FILE* f = std::fopen(out.cert.c_str(), "w");
  PEM_write_X509(f, cert);
  std::fclose(f);
  f = std::fopen(out.key.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

// A small HTTPS server on 127.0.0.1 that answers every request with "secure", a thread per
// connection.
class TlsServer {
 public:
  explicit TlsServer(const TestCertificate& certificate) {
    tls_.use_certificate_chain_file(certificate.cert.string());
    tls_.use_private_key_file(certificate.key.string(), asio::ssl::context::pem);
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~TlsServer() {
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    accept_thread_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : connection_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& thread : connection_threads_) thread.join();
  }

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

 private:
  void AcceptLoop() {
    for (;;) {
      tcp::socket socket(ioc_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec) return;
      ++accepted_;
      std::lock_guard lock(mu_);
      connection_fds_.push_back(socket.native_handle());
      connection_threads_.emplace_back(
          [this, socket = std::move(socket)]() mutable { Serve(std::move(socket)); });
    }
  }

  void Serve(tcp::socket socket) {
    beast::ssl_stream<tcp::socket> stream(std::move(socket), tls_);
    beast::error_code ec;
    stream.handshake(asio::ssl::stream_base::server, ec);
    if (ec) return;
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request<bhttp::string_body> request;
      bhttp::read(stream, buffer, request, ec);
      if (ec) return;
      bhttp::response<bhttp::string_body> response{bhttp::status::ok, 11};
      response.body() = "secure";
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      bhttp::write(stream, response, ec);
      if (ec || !request.keep_alive()) return;
    }
  }

  asio::io_context ioc_;
  asio::ssl::context tls_{asio::ssl::context::tls_server};
  tcp::acceptor acceptor_{ioc_};
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<int> connection_fds_;              // guarded by mu_
  std::vector<std::thread> connection_threads_;  // guarded by mu_
};

class ClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cairn-client-tls-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    certificate_ = MakeCertificate(dir_);
    server_ = std::make_unique<TlsServer>(certificate_);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  std::string Url(std::string_view host) const {
    return "https://" + std::string(host) + ":" + std::to_string(server_->port()) + "/x";
  }

  fs::path dir_;
  TestCertificate certificate_;
  std::unique_ptr<TlsServer> server_;
};

TEST_F(ClientTlsTest, TrustedCertificateForTheHostWorksAndIsReused) {
  auto client = MustCreate({.ca_file = certificate_.cert.string()});
  for (int i = 0; i < 3; ++i) {
    auto response = client->Send({.url = Url("localhost")});
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "secure");
    EXPECT_EQ(response->reused_connection, i > 0);
  }
  client.reset();
  EXPECT_EQ(server_->accepted(), 1);
}

TEST_F(ClientTlsTest, UntrustedCertificateIsRefused) {
  auto client = MustCreate();  // the system store does not know the test's certificate
  auto response = client->Send({.url = Url("localhost")});
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find("TLS handshake"), std::string::npos)
      << response.status().message();
  EXPECT_NE(response.status().message().find("certificate verify failed"), std::string::npos)
      << response.status().message();
}

TEST_F(ClientTlsTest, CertificateForAnotherHostIsRefused) {
  auto client = MustCreate({.ca_file = certificate_.cert.string()});
  auto response = client->Send({.url = Url("127.0.0.1")});  // the certificate names localhost
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find("certificate verify failed"), std::string::npos)
      << response.status().message();
}

TEST(ClientCreateTest, MissingCaFileIsInvalidArgument) {
  auto client = Client::Create({.ca_file = "/nonexistent/ca.pem"});
  EXPECT_EQ(client.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::http
