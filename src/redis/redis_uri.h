#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cairn::redis {

// Where a Redis server is: redis://[[user]:password@]host[:port][/db]. The port defaults to
// 6379 and the database to 0; the password (and user, for Redis 6 ACLs) may be percent-encoded.
struct RedisUri {
  std::string host;
  uint16_t port = 6379;
  std::string user;  // empty: the default user
  std::string password;
  int db = 0;

  // INVALID_ARGUMENT, naming what is wrong (never echoing the password), for anything else:
  // another scheme, no host, a bad port or database number, a query or fragment.
  static StatusOr<RedisUri> Parse(std::string_view text);
  // host:port/db, without credentials: safe for logs.
  std::string Redacted() const;
};

}  // namespace cairn::redis
