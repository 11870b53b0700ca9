#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "http/message.h"

namespace cairn::http {

// An absolute http:// or https:// URL, split for connecting.
struct Url {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // name or address; an IPv6 address without brackets
  uint16_t port = 0;   // the scheme's default when the URL names none
  std::string target;  // path and query as written, "/" when empty; the fragment is dropped

  // The Host header value: host[:port], the port left out when it is the scheme's default.
  std::string Authority() const;
  // scheme://authority
  std::string Origin() const;
};

// INVALID_ARGUMENT unless `url` is http:// or https:// with a host, an optional port
// (1..65535) and an optional path and query. Credentials in the URL are refused.
StatusOr<Url> ParseUrl(std::string_view url);

struct ClientOptions {
  // Connecting, TLS handshake included. Name resolution is a blocking getaddrinfo and is not
  // bounded by any timeout.
  std::chrono::milliseconds connect_timeout{10'000};
  // The longest a write, or a read of the answer, may wait without progress.
  std::chrono::milliseconds read_timeout{30'000};
  // The whole exchange, from the first connect attempt to the last body byte. A request may
  // set a shorter or longer one.
  std::chrono::milliseconds total_timeout{60'000};
  // Response bodies larger than this fail with RESOURCE_EXHAUSTED, buffered or streamed.
  uint64_t max_response_bytes = uint64_t{64} << 20;
  uint32_t max_header_bytes = 64 * 1024;
  // PEM file of trusted CA certificates for https; empty: the system's default store.
  std::string ca_file;
  // Kept-alive connections waiting for reuse, per scheme://host:port and in all.
  size_t max_idle_per_host = 4;
  size_t max_idle_total = 32;
  // An idle connection older than this is closed instead of reused (servers close idle
  // connections too; Cairn's own after 75 s).
  std::chrono::milliseconds idle_timeout{30'000};
  std::string user_agent = "cairn";
  // Connect only to public addresses (IsPublicIpAddress): resolved addresses that are not are
  // skipped, and when none is left the request fails with PERMISSION_DENIED. The check is on
  // the very addresses connected to, so a name that resolves to a public address when a URL
  // is validated and to an internal one when it is called (DNS rebinding) still cannot reach
  // internal services. For requests whose URL a user chose (webhooks).
  bool public_addresses_only = false;
};

struct ClientRequest {
  Method method = Method::kGet;
  std::string url;  // absolute http:// or https:// URL
  // Sent as given, after Host and User-Agent (which a header of the same name replaces).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent with Content-Length when not empty, or for POST, PUT and PATCH
  // When set, the body is read from here instead of `body`, piece by piece as it is sent, so
  // that a large upload is never held in memory: each call fills at most `capacity` bytes at
  // `buffer` and returns how many, 0 at the end of the body. A non-OK return aborts the
  // exchange, closes the connection and becomes Send's result. The body goes with
  // Content-Length `body_length` when that is set (INVALID_ARGUMENT, connection closed, when
  // the reader yields more or fewer bytes), else with chunked transfer coding. A request with
  // a body reader is never retried. If the server answers and closes the connection before the
  // whole body is sent (413 Payload Too Large, say), that answer is returned.
  std::function<StatusOr<size_t>(char* buffer, size_t capacity)> body_reader;
  std::optional<uint64_t> body_length;
  // Replaces ClientOptions::total_timeout for this request.
  std::optional<std::chrono::milliseconds> total_timeout;
  // When set, each piece of the (de-chunked) body is passed here as it arrives instead of
  // being collected in ClientResponse::body. Called on the calling thread; a non-OK return
  // aborts the exchange, closes the connection and becomes Send's result.
  std::function<Status(std::string_view piece)> on_body;
};

struct ClientResponse {
  int status = 0;
  Headers headers;   // as received
  std::string body;  // empty when the request had on_body
  // Whether the answer came over a kept-alive connection from an earlier request.
  bool reused_connection = false;
};

// A blocking HTTP/1.1 client for webhooks, JWKS fetches and the CLI.
//
// https verifies the server's certificate chain (against ClientOptions::ca_file or the system
// store) and that the certificate names the URL's host (DNS name or IP address); SNI is sent
// for host names. Connections are kept alive and reused per scheme://host:port; a pooled
// connection the server has closed is noticed before use, and an idempotent request whose
// reused connection dies before any answer is retried once on a fresh connection. Redirects
// are not followed: a 3xx is returned like any other answer.
//
// Errors: INVALID_ARGUMENT for a bad URL or CA file, PERMISSION_DENIED for a host with only
// non-public addresses under ClientOptions::public_addresses_only, UNAVAILABLE when the server
// cannot be reached, the TLS handshake or certificate check fails, the exchange breaks, or a
// timeout passes; RESOURCE_EXHAUSTED for an answer over the size limits. Any HTTP status is an
// answer, not an error.
//
// Thread-safe: Send may be called from many threads at once; each call uses a connection of
// its own.
class Client {
 public:
  // INVALID_ARGUMENT when ca_file cannot be loaded.
  static StatusOr<std::unique_ptr<Client>> Create(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  StatusOr<ClientResponse> Send(const ClientRequest& request);

  // TCP connections this client has opened.
  uint64_t ConnectionsOpenedForTest() const;
  // Connections waiting in the pool.
  size_t IdleConnectionsForTest() const;

 private:
  class Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::http
