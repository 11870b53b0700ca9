#include "cli/http_client.h"

#include <cstdlib>
#include <utility>

#include "base/ascii.h"
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

namespace {

// The credentials and trust every CLI call carries: $CAIRN_TOKEN as a bearer token (an API
// token or a JWT) unless the call sets Authorization itself, and $CAIRN_CA_CERT as the CA file
// that verifies an https server (else the system's).
void AddCredentials(std::vector<std::pair<std::string, std::string>>& headers) {
  const char* token = std::getenv("CAIRN_TOKEN");
  if (token == nullptr || *token == '\0') return;
  for (const auto& [name, value] : headers) {
    if (EqualsIgnoreCase(name, "Authorization")) return;
  }
  headers.emplace_back("Authorization", std::string("Bearer ") + token);
}

std::string CaFile() {
  const char* ca = std::getenv("CAIRN_CA_CERT");
  return ca != nullptr ? std::string(ca) : std::string();
}

}  // namespace

StatusOr<HttpReply> SendHttp(const ServerAddress& server, const HttpCall& call,
                             std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(std::unique_ptr<http::Client> client,
                   http::Client::Create({.connect_timeout = timeout,
                                         .read_timeout = timeout,
                                         .total_timeout = timeout,
                                         .ca_file = CaFile(),
                                         .max_idle_per_host = 0,
                                         .user_agent = "cairn-cli"}));
  http::ClientRequest request{.method = call.method,
                              .url = server.UrlOf(call.target),
                              .headers = {{"Accept", "application/json"}},
                              .body = call.body};
  if (!call.body.empty()) request.headers.emplace_back("Content-Type", call.content_type);
  for (const auto& header : call.headers) request.headers.push_back(header);
  AddCredentials(request.headers);
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
                                         .ca_file = CaFile(),
                                         .max_idle_per_host = 0,
                                         .user_agent = "cairn-cli"}));
  http::ClientRequest request{
      .method = call.method,
      .url = server.UrlOf(call.target),
      .headers = {{"Accept", "application/json"}, {"Content-Type", call.content_type}},
      .body_reader = std::move(body.read),
      .body_length = body.size};
  for (const auto& header : call.headers) request.headers.push_back(header);
  AddCredentials(request.headers);
  ASSIGN_OR_RETURN(http::ClientResponse response, client->Send(request));
  return HttpReply{.status = response.status, .body = std::move(response.body)};
}

}  // namespace cairn::cli
