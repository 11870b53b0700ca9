#include "sqlite/sqlite_uri.h"

#include <charconv>
#include <system_error>

namespace cairn::sqlite {

StatusOr<std::string> PathFromUri(const Uri& uri) {
  if (uri.scheme != "sqlite") return InvalidArgument("not a sqlite URI: " + uri.ToString());
  ASSIGN_OR_RETURN(std::string path, PercentDecode(uri.path));
  if (!uri.authority.empty()) {
    // sqlite://dir/file.db: a relative path whose first segment was parsed as the authority.
    ASSIGN_OR_RETURN(std::string authority, PercentDecode(uri.authority));
    path = authority + path;
    if (path.find('\0') != std::string::npos) return InvalidArgument("sqlite URI: NUL in path");
    return path;
  }
  // A decoded NUL would silently cut the file name short in SQLite's C API.
  if (path.find('\0') != std::string::npos) return InvalidArgument("sqlite URI: NUL in path");
  // sqlite:///x.db parses to path "/x.db" (relative x.db) and sqlite:////abs/x.db to
  // "//abs/x.db" (absolute /abs/x.db): drop the slash that separates authority from path.
  if (!path.empty() && path.front() == '/') path.erase(0, 1);
  if (path.empty() || path == ":memory:") return std::string(":memory:");
  return path;
}

StatusOr<UriOptions> ParseUriQuery(std::string_view query) {
  UriOptions options;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    if (key == "synchronous") {
      if (value == "full" || value == "FULL") {
        options.synchronous_full = true;
      } else if (value == "normal" || value == "NORMAL") {
        options.synchronous_full = false;
      } else {
        return InvalidArgument("sqlite URI: synchronous must be 'normal' or 'full'");
      }
    } else if (key == "readers") {
      int readers = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), readers);
      if (ec != std::errc() || end != value.data() + value.size() || readers < 0 || readers > 64) {
        return InvalidArgument("sqlite URI: readers must be an integer in [0, 64]");
      }
      options.reader_connections = readers;
    } else {
      return InvalidArgument("sqlite URI: unknown option '" + std::string(key) + "'");
    }
  }
  return options;
}

}  // namespace cairn::sqlite
