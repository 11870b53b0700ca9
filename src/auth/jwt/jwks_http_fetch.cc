#include "auth/jwt/jwks_http_fetch.h"

#include <string>
#include <utility>

namespace cairn::auth {

JwksFetchFn HttpJwksFetcher(http::Client& client, std::chrono::milliseconds timeout,
                            size_t max_bytes) {
  return [&client, timeout, max_bytes](const std::string& url) -> StatusOr<std::string> {
    http::ClientRequest request;
    request.method = http::Method::kGet;
    request.url = url;
    request.headers.emplace_back("Accept", "application/json");
    request.total_timeout = timeout;
    size_t received = 0;
    std::string body;
    request.on_body = [&](std::string_view piece) -> Status {
      received += piece.size();
      if (received > max_bytes) {
        return Status(StatusCode::kResourceExhausted, "JWKS document over the size limit");
      }
      body.append(piece);
      return Status::Ok();
    };
    ASSIGN_OR_RETURN(http::ClientResponse response, client.Send(request));
    if (response.status != 200) {
      return Status(StatusCode::kUnavailable,
                    "JWKS fetch answered HTTP " + std::to_string(response.status));
    }
    return body;
  };
}

}  // namespace cairn::auth
