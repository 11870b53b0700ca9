#include "redis/redis_uri.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/uri.h"

namespace cairn::redis {
namespace {

Status Bad(std::string_view why) {
  return InvalidArgument("invalid Redis URI: " + std::string(why) +
                         " (expected redis://[:password@]host:port[/db])");
}

template <typename T>
bool ParseNumber(std::string_view text, T min, T max, T& out) {
  if (text.empty()) return false;
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return false;
  }
  out = value;
  return true;
}

}  // namespace

StatusOr<RedisUri> RedisUri::Parse(std::string_view text) {
  if (text.size() > 4096) return Bad("too long");
  constexpr std::string_view kScheme = "redis://";
  if (text.size() < kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), text.begin(), [](char a, char b) {
        return a == std::tolower(static_cast<unsigned char>(b));
      })) {
    return Bad("the scheme must be redis:// (TLS, rediss://, is not supported)");
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Bad("it contains spaces or control characters");
    }
  }
  std::string_view rest = text.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) return Bad("no query or fragment");
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  RedisUri uri;
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) return Bad("credentials must be [user]:password");
    auto user = PercentDecode(userinfo.substr(0, colon));
    auto password = PercentDecode(userinfo.substr(colon + 1));
    if (!user.ok() || !password.ok()) return Bad("bad percent-encoding in the credentials");
    uri.user = std::move(*user);
    uri.password = std::move(*password);
    if (uri.password.empty()) return Bad("empty password");
    if (uri.user.find('\0') != std::string::npos || uri.password.find('\0') != std::string::npos) {
      return Bad("NUL in the credentials");
    }
  }
  std::string_view host = authority;
  std::string_view port;
  if (host.starts_with('[')) {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return Bad("unclosed [ in the host");
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!port.empty()) {
      if (port.front() != ':') return Bad("junk after the host");
      port.remove_prefix(1);
      if (port.empty()) return Bad("empty port");
    }
  } else {
    size_t colon = host.rfind(':');
    if (colon != std::string_view::npos) {
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
      if (port.empty()) return Bad("empty port");
    }
  }
  if (host.empty()) return Bad("no host");
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
          c == '_')) {
      return Bad("the host may hold only letters, digits, '.', '-', '_' and ':'");
    }
  }
  uri.host = std::string(host);
  if (!port.empty() && !ParseNumber<uint16_t>(port, 1, 65535, uri.port)) {
    return Bad("the port must be a number from 1 to 65535");
  }
  if (path.ends_with('/')) path.remove_suffix(1);
  if (!path.empty() && !ParseNumber<int>(path, 0, 1 << 20, uri.db)) {
    return Bad("the path must be a database number");
  }
  return uri;
}

std::string RedisUri::Redacted() const {
  std::string host_text = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return "redis://" + std::string(password.empty() ? "" : "***@") + host_text + ":" +
         std::to_string(port) + "/" + std::to_string(db);
}

}  // namespace cairn::redis
