#include "cli/http_client.h"

#include <utility>

#include "http/client.h"

namespace cairn::cli {

std::string ServerAddress::UrlOf(std::string_view target) const {
  http::Url url{.scheme = scheme, .host = host, .port = port, .target = ""};
  return url.Origin() + base_path + std::string(target);
}

StatusOr<ServerAddress> ParseServerAddress(std::string_view url) {
  std::string text(url);
  if (text.find("://") == std::string::npos) text = "http://" + text;
  StatusOr<http::Url> parsed = http::ParseUrl(text);
  if (!parsed.ok()) {
    return InvalidArgument("invalid server URL '" + std::string(url) +
                           "': " + parsed.status().message());
  }
  if (text.find_first_of("?#") != std::string::npos) {
    return InvalidArgument("invalid server URL '" + std::string(url) +
                           "': no query or fragment allowed");
  }
  std::string_view path = parsed->target;
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return ServerAddress{.scheme = parsed->scheme,
                       .host = parsed->host,
                       .port = parsed->port,
                       .base_path = std::string(path)};
}

StatusOr<HttpReply> SendHttp(const ServerAddress& server, const HttpCall& call,
                             std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(std::unique_ptr<http::Client> client,
                   http::Client::Create({.connect_timeout = timeout,
                                         .read_timeout = timeout,
                                         .total_timeout = timeout,
                                         .max_idle_per_host = 0,
                                         .user_agent = "cairn-cli"}));
  http::ClientRequest request{.method = call.method,
                              .url = server.UrlOf(call.target),
                              .headers = {{"Accept", "application/json"}},
                              .body = call.body};
  if (!call.body.empty()) request.headers.emplace_back("Content-Type", call.content_type);
  for (const auto& header : call.headers) request.headers.push_back(header);
  ASSIGN_OR_RETURN(http::ClientResponse response, client->Send(request));
  return HttpReply{.status = response.status, .body = std::move(response.body)};
}

StatusOr<HttpReply> SendHttpStreamed(const ServerAddress& server, const HttpCall& call,
                                     StreamedBody body, std::chrono::milliseconds timeout) {
  // A week: the upload's length is the user's business; stalls are bounded by `timeout`.
  constexpr std::chrono::milliseconds kWholeUpload = std::chrono::hours(24 * 7);
  ASSIGN_OR_RETURN(std::unique_ptr<http::Client> client,
                   http::Client::Create({.connect_timeout = timeout,
                                         .read_timeout = timeout,
                                         .total_timeout = kWholeUpload,
                                         .max_idle_per_host = 0,
                                         .user_agent = "cairn-cli"}));
  http::ClientRequest request{
      .method = call.method,
      .url = server.UrlOf(call.target),
      .headers = {{"Accept", "application/json"}, {"Content-Type", call.content_type}},
      .body_reader = std::move(body.read),
      .body_length = body.size};
  for (const auto& header : call.headers) request.headers.push_back(header);
  ASSIGN_OR_RETURN(http::ClientResponse response, client->Send(request));
  return HttpReply{.status = response.status, .body = std::move(response.body)};
}

}  // namespace cairn::cli
