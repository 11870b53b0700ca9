#include "metadata/sqlite/sqlite_metadata_backend.h"

#include <charconv>
#include <filesystem>
#include <system_error>
#include <utility>

#include "metadata/migrations/sqlite_migrations.h"
#include "metadata/sqlite/sqlite_deployment_store.h"
#include "metadata/sqlite/sqlite_registry_store.h"
#include "metadata/sqlite/sqlite_trace_store.h"
#include "metadata/sqlite/sqlite_tracking_store.h"

namespace cairn::metadata {
namespace {

StatusOr<sqlite::DatabaseOptions> SqliteOptionsFromQuery(
    std::string_view query, const MetadataStoreOptions& store_options) {
  sqlite::DatabaseOptions options;
  options.synchronous_full = store_options.sqlite_synchronous_full;
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
        if (store_options.sqlite_synchronous_full) {
          return InvalidArgument(
              "sqlite URI: synchronous=normal contradicts --sqlite-synchronous-full "
              "(sqlite_synchronous_full); drop one of them");
        }
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

}  // namespace

StatusOr<MetadataStores> OpenSqliteMetadataStores(const std::string& path,
                                                  sqlite::DatabaseOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> opened,
                   sqlite::Database::Open(path, migrations::SqliteMigrations(), options));
  std::shared_ptr<sqlite::Database> db = std::move(opened);
  MetadataStores stores;
  stores.tracking = std::make_shared<SqliteTrackingStore>(db);
  stores.registry = std::make_shared<SqliteRegistryStore>(db);
  stores.traces = std::make_shared<SqliteTraceStore>(db);
  stores.deployments = std::make_shared<SqliteDeploymentStore>(db);
  return stores;
}

StatusOr<std::string> SqlitePathFromUri(const Uri& uri) {
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

Status RegisterSqliteMetadataBackend(MetadataStoreRegistry& registry) {
  return registry.Register(
      "sqlite",
      [](const Uri& uri, const MetadataStoreOptions& store_options) -> StatusOr<MetadataStores> {
        ASSIGN_OR_RETURN(std::string path, SqlitePathFromUri(uri));
        ASSIGN_OR_RETURN(sqlite::DatabaseOptions options,
                         SqliteOptionsFromQuery(uri.query, store_options));
        if (path != ":memory:") {
          std::filesystem::path parent = std::filesystem::path(path).parent_path();
          if (!parent.empty()) {
            std::error_code ec;
            std::filesystem::create_directories(parent, ec);
            if (ec) {
              return Unavailable("cannot create directory '" + parent.string() +
                                 "': " + ec.message());
            }
          }
        }
        return OpenSqliteMetadataStores(path, options);
      });
}

}  // namespace cairn::metadata
