#include "http/client.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <map>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "http/ip_address.h"

namespace cairn::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t kReadPiece = 64 * 1024;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool HasControlOrSpace(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

bool IsIpAddress(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

uint16_t DefaultPort(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

bhttp::verb Verb(Method method) {
  switch (method) {
    case Method::kGet:
      return bhttp::verb::get;
    case Method::kHead:
      return bhttp::verb::head;
    case Method::kPost:
      return bhttp::verb::post;
    case Method::kPut:
      return bhttp::verb::put;
    case Method::kPatch:
      return bhttp::verb::patch;
    case Method::kDelete:
      return bhttp::verb::delete_;
    case Method::kOptions:
      return bhttp::verb::options;
    case Method::kOther:
      break;
  }
  return bhttp::verb::unknown;
}

bool IsIdempotent(Method method) {
  return method == Method::kGet || method == Method::kHead || method == Method::kPut ||
         method == Method::kDelete || method == Method::kOptions;
}

Status TooLarge(const Url& url, std::string_view what) {
  return Status(StatusCode::kResourceExhausted,
                "the answer from " + url.Origin() + " is too large: " + std::string(what));
}

// One kept-alive connection. Each has a private io_context so that the thread using the
// connection drives its operations alone; a connection is used by one thread at a time.
struct Connection {
  explicit Connection(std::string pool_key) : key(std::move(pool_key)) {}

  beast::tcp_stream& Tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  // False when the server has closed the connection or sent something unasked while it was
  // idle; either way it must not carry another request.
  bool LooksReusable() {
    char byte;
    ssize_t n = ::recv(Tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  std::string key;  // scheme://host:port
  asio::io_context ioc{1};
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  SteadyClock::time_point idle_since;
};

// Runs one asynchronous operation on `ioc` to completion on the calling thread. The stream's
// expiry (beast::tcp_stream) turns a timeout into beast::error::timeout.
template <typename Start>
beast::error_code Await(asio::io_context& ioc, Start&& start) {
  beast::error_code result;
  bool done = false;
  start([&result, &done](const beast::error_code& ec, auto&&...) {
    result = ec;
    done = true;
  });
  ioc.restart();
  while (!done && ioc.run_one() > 0) {
  }
  return done ? result : beast::error_code(asio::error::operation_aborted);
}

// Sets the stream's expiry to `step` from now, but never past `deadline`.
void Arm(beast::tcp_stream& tcp, std::chrono::milliseconds step, SteadyClock::time_point deadline) {
  tcp.expires_at(std::min(SteadyClock::now() + step, deadline));
}

Status Broken(const Url& url, std::string_view what, const beast::error_code& ec,
              SteadyClock::time_point deadline) {
  std::string reason = ec.message();
  if (ec == beast::error::timeout) {
    reason = SteadyClock::now() >= deadline ? "the request's total timeout passed" : "timed out";
  }
  return Unavailable(std::string(what) + " " + url.Origin() + ": " + reason);
}

bool IsConnectionLost(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == ssl::error::stream_truncated;
}

// What one exchange on one connection gave.
struct Outcome {
  Status status;
  ClientResponse response;
  bool keep_alive = false;
  // The connection died before any byte of the answer came: a request on a reused connection
  // may be retried on a fresh one.
  bool nothing_received = false;
  bool nothing_sent = false;
};

using BodyReader = std::function<StatusOr<size_t>(char*, size_t)>;

// Sends the header of `request`, then the body as `reader` yields it. A failure of the reader
// or a length mismatch is `body_error`; a broken connection is the returned error code.
template <typename Stream>
beast::error_code WriteStreamed(Connection& conn, Stream& stream,
                                bhttp::request<bhttp::buffer_body>& request,
                                const BodyReader& reader, std::optional<uint64_t> length,
                                const ClientOptions& options, SteadyClock::time_point deadline,
                                Status& body_error) {
  beast::tcp_stream& tcp = conn.Tcp();
  request.body().data = nullptr;
  request.body().size = 0;
  request.body().more = true;
  bhttp::request_serializer<bhttp::buffer_body> serializer{request};
  Arm(tcp, options.read_timeout, deadline);
  beast::error_code ec = Await(conn.ioc, [&](auto handler) {
    bhttp::async_write_header(stream, serializer, std::move(handler));
  });
  if (ec) return ec;
  std::vector<char> piece(kReadPiece);
  uint64_t sent = 0;
  while (true) {
    StatusOr<size_t> n = reader(piece.data(), piece.size());
    if (!n.ok()) {
      body_error = n.status();
      return {};
    }
    if (length && (*n > *length - sent || (*n == 0 && sent != *length))) {
      body_error = InvalidArgument("the request body is not the " + std::to_string(*length) +
                                   " bytes its length says");
      return {};
    }
    request.body().data = *n > 0 ? piece.data() : nullptr;
    request.body().size = *n;
    request.body().more = *n > 0;
    Arm(tcp, options.read_timeout, deadline);
    ec = Await(conn.ioc,
               [&](auto handler) { bhttp::async_write(stream, serializer, std::move(handler)); });
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec || *n == 0) return ec;
    sent += *n;
  }
}

// Sends one request (`request`, or its header and `reader`'s body) and reads the answer.
template <typename Stream>
Outcome Exchange(Connection& conn, Stream& stream, const Url& url,
                 bhttp::request<bhttp::string_body>& request, const BodyReader& reader,
                 std::optional<uint64_t> length, const ClientOptions& options,
                 SteadyClock::time_point deadline,
                 const std::function<Status(std::string_view)>& on_body) {
  Outcome out;
  beast::tcp_stream& tcp = conn.Tcp();
  beast::error_code ec;
  if (reader) {
    bhttp::request<bhttp::buffer_body> streamed{request.method(), request.target(), 11};
    for (const auto& field : request.base()) streamed.insert(field.name_string(), field.value());
    if (length) {
      streamed.content_length(*length);
    } else {
      streamed.chunked(true);
    }
    ec = WriteStreamed(conn, stream, streamed, reader, length, options, deadline, out.status);
    if (!out.status.ok()) return out;
    // A server that refuses the body may answer and close before reading all of it: read
    // that answer rather than report the broken write.
    if (ec && !IsConnectionLost(ec)) {
      out.status = Broken(url, "cannot send the request to", ec, deadline);
      return out;
    }
  } else {
    Arm(tcp, options.read_timeout, deadline);
    ec = Await(conn.ioc,
               [&](auto handler) { bhttp::async_write(stream, request, std::move(handler)); });
    if (ec) {
      out.status = Broken(url, "cannot send the request to", ec, deadline);
      out.nothing_received = out.nothing_sent = IsConnectionLost(ec);
      return out;
    }
  }
  const beast::error_code write_error = ec;

  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.header_limit(options.max_header_bytes);
  parser.body_limit(options.max_response_bytes);
  if (request.method() == bhttp::verb::head) parser.skip(true);
  Arm(tcp, options.read_timeout, deadline);
  ec = Await(conn.ioc, [&](auto handler) {
    bhttp::async_read_header(stream, conn.buffer, parser, std::move(handler));
  });
  if (ec == bhttp::error::header_limit) {
    out.status = TooLarge(url, "the header exceeds " + std::to_string(options.max_header_bytes));
    return out;
  }
  if (ec == bhttp::error::body_limit) {
    out.status = TooLarge(url, "the body exceeds " + std::to_string(options.max_response_bytes));
    return out;
  }
  if (ec && write_error) {
    out.status = Broken(url, "cannot send the request to", write_error, deadline);
    return out;
  }
  if (ec) {
    out.status = Broken(url, "no answer from", ec, deadline);
    out.nothing_received = !parser.got_some() && IsConnectionLost(ec);
    return out;
  }
  out.response.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get()) {
    out.response.headers.Add(std::string(field.name_string()), std::string(field.value()));
  }

  std::vector<char> piece(kReadPiece);
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    Arm(tcp, options.read_timeout, deadline);
    ec = Await(conn.ioc, [&](auto handler) {
      bhttp::async_read(stream, conn.buffer, parser, std::move(handler));
    });
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec == bhttp::error::body_limit) {
      out.status = TooLarge(url, "the body exceeds " + std::to_string(options.max_response_bytes));
      return out;
    }
    if (ec) {
      out.status = Broken(url, "the answer broke off from", ec, deadline);
      return out;
    }
    std::string_view received(piece.data(), piece.size() - parser.get().body().size);
    if (received.empty()) continue;
    if (on_body) {
      out.status = on_body(received);
      if (!out.status.ok()) return out;
    } else {
      out.response.body.append(received);
    }
  }
  out.keep_alive = parser.get().keep_alive() && !write_error;
  return out;
}

}  // namespace

std::string Url::Authority() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != DefaultPort(scheme)) out += ":" + std::to_string(port);
  return out;
}

std::string Url::Origin() const { return scheme + "://" + Authority(); }

StatusOr<Url> ParseUrl(std::string_view text) {
  auto bad = [text](std::string_view why) {
    return InvalidArgument("invalid URL '" + std::string(text) + "': " + std::string(why));
  };
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return bad("not an absolute http:// or https:// URL");
  Url url;
  url.scheme = Lower(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") {
    return bad("only http:// and https:// are supported");
  }
  std::string_view rest = text.substr(scheme_end + 3);
  size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (authority.find('@') != std::string_view::npos) {
    return bad("credentials in the URL are not supported");
  }
  std::string_view port_text;
  bool has_port = false;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    url.host = std::string(authority.substr(1, close - 1));
    if (url.host.find(':') == std::string::npos || !IsIpAddress(url.host)) {
      return bad("not an IPv6 address in brackets");
    }
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after ']'");
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    size_t colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
  }
  if (url.host.empty()) return bad("no host");
  if (HasControlOrSpace(url.host)) return bad("bad characters in the host");
  url.port = DefaultPort(url.scheme);
  if (has_port) {
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return bad("invalid port");
    }
    url.port = static_cast<uint16_t>(port);
  }
  target = target.substr(0, target.find('#'));
  if (HasControlOrSpace(target)) return bad("spaces or control characters in the path");
  url.target =
      target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);
  return url;
}

class Client::Impl {
 public:
  Impl(ClientOptions options, std::unique_ptr<ssl::context> tls_context)
      : options_(std::move(options)), tls_context_(std::move(tls_context)) {}

  StatusOr<ClientResponse> Send(const ClientRequest& request) EXCLUDES(mu_);

  uint64_t connections_opened() const { return connections_opened_.load(); }
  size_t idle_count() const EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return idle_count_;
  }

 private:
  StatusOr<std::unique_ptr<Connection>> Connect(const Url& url, SteadyClock::time_point deadline);
  std::unique_ptr<Connection> TakeIdle(const std::string& key) EXCLUDES(mu_);
  void PutIdle(std::unique_ptr<Connection> conn) EXCLUDES(mu_);

  const ClientOptions options_;
  const std::unique_ptr<ssl::context> tls_context_;  // configured once, then shared read-only
  std::atomic<uint64_t> connections_opened_{0};
  mutable Mutex mu_;
  // scheme://host:port -> idle connections, the most recently used last.
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_ GUARDED_BY(mu_);
  size_t idle_count_ GUARDED_BY(mu_) = 0;
};

StatusOr<std::unique_ptr<Connection>> Client::Impl::Connect(const Url& url,
                                                            SteadyClock::time_point deadline) {
  auto conn =
      std::make_unique<Connection>(url.scheme + "://" + url.host + ":" + std::to_string(url.port));
  tcp::resolver resolver(conn->ioc);
  beast::error_code ec;
  tcp::resolver::results_type endpoints = resolver.resolve(url.host, std::to_string(url.port), ec);
  if (ec) return Unavailable("cannot resolve " + url.host + ": " + ec.message());
  std::vector<tcp::endpoint> allowed;
  for (const auto& entry : endpoints) {
    const tcp::endpoint& endpoint = entry.endpoint();
    if (options_.public_addresses_only) {
      const auto& address = endpoint.address();
      bool is_public = address.is_v4() ? IsPublicIpv4(address.to_v4().to_uint())
                                       : IsPublicIpv6(address.to_v6().to_bytes());
      if (!is_public) continue;
    }
    allowed.push_back(endpoint);
  }
  if (allowed.empty()) {
    return Status(StatusCode::kPermissionDenied,
                  "refusing to connect to " + url.host + ": it resolves only to non-public " +
                      "addresses (" + endpoints.begin()->endpoint().address().to_string() + ")");
  }
  if (url.scheme == "https") {
    conn->tls.emplace(conn->ioc, *tls_context_);
  } else {
    conn->plain.emplace(conn->ioc);
  }
  beast::tcp_stream& tcp = conn->Tcp();
  const SteadyClock::time_point connect_deadline =
      std::min(SteadyClock::now() + options_.connect_timeout, deadline);
  tcp.expires_at(connect_deadline);
  ec = Await(conn->ioc, [&](auto handler) { tcp.async_connect(allowed, std::move(handler)); });
  if (ec) return Broken(url, "cannot connect to", ec, deadline);
  connections_opened_.fetch_add(1);
  tcp.socket().set_option(tcp::no_delay(true), ec);
  if (conn->tls) {
    if (!IsIpAddress(url.host) &&
        SSL_set_tlsext_host_name(conn->tls->native_handle(), url.host.c_str()) != 1) {
      return Unavailable("cannot set the TLS server name for " + url.Origin());
    }
    conn->tls->set_verify_callback(ssl::host_name_verification(url.host), ec);
    if (ec) return Unavailable("cannot set up TLS for " + url.Origin() + ": " + ec.message());
    tcp.expires_at(connect_deadline);
    ec = Await(conn->ioc, [&](auto handler) {
      conn->tls->async_handshake(ssl::stream_base::client, std::move(handler));
    });
    if (ec) return Broken(url, "TLS handshake with", ec, deadline);
  }
  return conn;
}

std::unique_ptr<Connection> Client::Impl::TakeIdle(const std::string& key) {
  std::vector<std::unique_ptr<Connection>> stale;  // closed after the lock is released
  std::unique_ptr<Connection> found;
  MutexLock lock(mu_);
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  std::vector<std::unique_ptr<Connection>>& list = it->second;
  const SteadyClock::time_point now = SteadyClock::now();
  while (!list.empty() && !found) {
    std::unique_ptr<Connection> conn = std::move(list.back());
    list.pop_back();
    --idle_count_;
    if (now - conn->idle_since < options_.idle_timeout && conn->LooksReusable()) {
      found = std::move(conn);
    } else {
      stale.push_back(std::move(conn));
    }
  }
  if (list.empty()) idle_.erase(it);
  return found;
}

void Client::Impl::PutIdle(std::unique_ptr<Connection> conn) {
  std::unique_ptr<Connection> dropped;  // closed after the lock is released
  MutexLock lock(mu_);
  if (options_.max_idle_per_host == 0 || options_.max_idle_total == 0) return;
  conn->idle_since = SteadyClock::now();
  std::vector<std::unique_ptr<Connection>>& list = idle_[conn->key];
  if (list.size() >= options_.max_idle_per_host) {
    dropped = std::move(list.front());
    list.erase(list.begin());
    --idle_count_;
  } else if (idle_count_ >= options_.max_idle_total) {
    // The least recently used connection of any host makes room.
    auto oldest = idle_.end();
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (!it->second.empty() &&
          (oldest == idle_.end() ||
           it->second.front()->idle_since < oldest->second.front()->idle_since)) {
        oldest = it;
      }
    }
    if (oldest != idle_.end()) {
      dropped = std::move(oldest->second.front());
      oldest->second.erase(oldest->second.begin());
      --idle_count_;
      if (oldest->second.empty() && oldest->first != conn->key) idle_.erase(oldest);
    }
  }
  idle_[conn->key].push_back(std::move(conn));
  ++idle_count_;
}

StatusOr<ClientResponse> Client::Impl::Send(const ClientRequest& request) {
  ASSIGN_OR_RETURN(Url url, ParseUrl(request.url));
  const SteadyClock::time_point deadline =
      SteadyClock::now() + request.total_timeout.value_or(options_.total_timeout);
  const bhttp::verb verb = Verb(request.method);
  if (verb == bhttp::verb::unknown) return InvalidArgument("unsupported HTTP method");

  bhttp::request<bhttp::string_body> message{verb, url.target, 11};
  message.set(bhttp::field::host, url.Authority());
  message.set(bhttp::field::user_agent, options_.user_agent);
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || HasControlOrSpace(name) || name.find(':') != std::string::npos ||
        value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return InvalidArgument("invalid request header '" + name + "'");
    }
    std::string lower = Lower(name);
    if (lower == "host" || lower == "user-agent") {
      message.set(name, value);
    } else {
      message.insert(name, value);
    }
  }
  if (!request.body_reader) {
    message.body() = request.body;
    message.prepare_payload();
  }

  const std::string key = url.scheme + "://" + url.host + ":" + std::to_string(url.port);
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<Connection> conn = attempt == 0 ? TakeIdle(key) : nullptr;
    const bool reused = conn != nullptr;
    if (!conn) {
      ASSIGN_OR_RETURN(conn, Connect(url, deadline));
    }
    Outcome outcome = conn->tls
                          ? Exchange(*conn, *conn->tls, url, message, request.body_reader,
                                     request.body_length, options_, deadline, request.on_body)
                          : Exchange(*conn, *conn->plain, url, message, request.body_reader,
                                     request.body_length, options_, deadline, request.on_body);
    if (outcome.status.ok()) {
      outcome.response.reused_connection = reused;
      if (outcome.keep_alive) PutIdle(std::move(conn));
      return std::move(outcome.response);
    }
    const bool may_retry =
        reused && !request.body_reader &&
        (outcome.nothing_sent || (outcome.nothing_received && IsIdempotent(request.method)));
    if (!may_retry || SteadyClock::now() >= deadline) return outcome.status;
  }
}

StatusOr<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  auto tls_context = std::make_unique<ssl::context>(ssl::context::tls_client);
  beast::error_code ec;
  tls_context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                               ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                               ssl::context::no_tlsv1_1,
                           ec);
  if (!ec) tls_context->set_verify_mode(ssl::verify_peer, ec);
  if (ec) return Internal("cannot set up TLS: " + ec.message());
  if (options.ca_file.empty()) {
    tls_context->set_default_verify_paths(ec);
    if (ec) return Internal("cannot load the system CA certificates: " + ec.message());
  } else {
    tls_context->load_verify_file(options.ca_file, ec);
    if (ec) {
      return InvalidArgument("cannot load CA certificates from '" + options.ca_file +
                             "': " + ec.message());
    }
  }
  return std::unique_ptr<Client>(
      new Client(std::make_unique<Impl>(std::move(options), std::move(tls_context))));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

StatusOr<ClientResponse> Client::Send(const ClientRequest& request) { return impl_->Send(request); }

uint64_t Client::ConnectionsOpenedForTest() const { return impl_->connections_opened(); }

size_t Client::IdleConnectionsForTest() const { return impl_->idle_count(); }

}  // namespace cairn::http
