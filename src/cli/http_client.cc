#include "cli/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <charconv>

namespace cairn::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr uint64_t kMaxResponseBytes = uint64_t{64} << 20;

bhttp::verb Verb(http::Method method) {
  switch (method) {
    case http::Method::kGet:
      return bhttp::verb::get;
    case http::Method::kHead:
      return bhttp::verb::head;
    case http::Method::kPost:
      return bhttp::verb::post;
    case http::Method::kPut:
      return bhttp::verb::put;
    case http::Method::kPatch:
      return bhttp::verb::patch;
    case http::Method::kDelete:
      return bhttp::verb::delete_;
    case http::Method::kOptions:
      return bhttp::verb::options;
    case http::Method::kOther:
      break;
  }
  return bhttp::verb::unknown;
}

std::string HostHeader(const ServerAddress& server) {
  std::string host =
      server.host.find(':') != std::string::npos ? "[" + server.host + "]" : server.host;
  return server.port == 80 ? host : host + ":" + std::to_string(server.port);
}

Status Failed(const ServerAddress& server, std::string_view what, const beast::error_code& ec) {
  return Unavailable(std::string(what) + " http://" + HostHeader(server) + server.base_path + ": " +
                     ec.message());
}

}  // namespace

StatusOr<ServerAddress> ParseServerAddress(std::string_view url) {
  std::string_view rest = url;
  if (size_t scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
    std::string scheme(rest.substr(0, scheme_end));
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "http") {
      return InvalidArgument("unsupported server URL '" + std::string(url) +
                             "': only http:// is supported");
    }
    rest.remove_prefix(scheme_end + 3);
  }
  size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view path = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (!path.empty() && path.front() != '/') {
    return InvalidArgument("invalid server URL '" + std::string(url) +
                           "': no query or fragment allowed");
  }
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument("invalid server URL '" + std::string(url) +
                           "': credentials in the URL are not supported");
  }
  ServerAddress out;
  std::string_view port_text;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgument("invalid server URL '" + std::string(url) + "': unclosed '['");
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return InvalidArgument("invalid server URL '" + std::string(url) + "'");
      }
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) {
    return InvalidArgument("invalid server URL '" + std::string(url) + "': no host");
  }
  if (!port_text.empty() || authority.ends_with(":")) {
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return InvalidArgument("invalid port in server URL '" + std::string(url) + "'");
    }
    out.port = static_cast<uint16_t>(port);
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.base_path = std::string(path);
  return out;
}

StatusOr<HttpReply> SendHttp(const ServerAddress& server, const HttpCall& call,
                             std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  tcp::resolver::results_type endpoints =
      resolver.resolve(server.host, std::to_string(server.port), ec);
  if (ec) return Failed(server, "cannot resolve", ec);

  beast::tcp_stream stream(ioc);
  // One deadline for connect, write and read. beast::tcp_stream enforces it on asynchronous
  // operations only, so the exchange runs as a chain of them on this private io_context.
  stream.expires_after(timeout);
  bhttp::request<bhttp::string_body> request{Verb(call.method), server.base_path + call.target, 11};
  request.set(bhttp::field::host, HostHeader(server));
  request.set(bhttp::field::user_agent, "cairn-cli");
  request.set(bhttp::field::accept, "application/json");
  if (!call.body.empty()) {
    request.set(bhttp::field::content_type, "application/json");
    request.body() = call.body;
  }
  request.keep_alive(false);
  request.prepare_payload();

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  std::string_view failed_step;
  stream.async_connect(endpoints, [&](const beast::error_code& connect_ec, const tcp::endpoint&) {
    if (connect_ec) {
      ec = connect_ec;
      failed_step = "cannot connect to";
      return;
    }
    bhttp::async_write(stream, request, [&](const beast::error_code& write_ec, size_t) {
      if (write_ec) {
        ec = write_ec;
        failed_step = "cannot send the request to";
        return;
      }
      bhttp::async_read(stream, buffer, parser, [&](const beast::error_code& read_ec, size_t) {
        if (read_ec) {
          ec = read_ec;
          failed_step = "no answer from";
        }
      });
    });
  });
  ioc.run();
  if (ec) return Failed(server, failed_step, ec);

  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  HttpReply reply;
  reply.status = static_cast<int>(parser.get().result_int());
  reply.body = std::move(parser.get().body());
  return reply;
}

}  // namespace cairn::cli
