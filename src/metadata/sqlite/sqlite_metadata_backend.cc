#include "metadata/sqlite/sqlite_metadata_backend.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "metadata/migrations/sqlite_migrations.h"
#include "metadata/sql/sql_metadata_stores.h"
#include "sqlite/sqlite_uri.h"

namespace cairn::metadata {
namespace {

StatusOr<sqlite::DatabaseOptions> SqliteOptionsFromQuery(
    std::string_view query, const MetadataStoreOptions& store_options) {
  ASSIGN_OR_RETURN(sqlite::UriOptions from_uri, sqlite::ParseUriQuery(query));
  sqlite::DatabaseOptions options;
  options.synchronous_full = store_options.sqlite_synchronous_full;
  if (from_uri.synchronous_full.has_value()) {
    if (!*from_uri.synchronous_full && store_options.sqlite_synchronous_full) {
      return InvalidArgument(
          "sqlite URI: synchronous=normal contradicts --sqlite-synchronous-full "
          "(sqlite_synchronous_full); drop one of them");
    }
    options.synchronous_full = *from_uri.synchronous_full;
  }
  if (from_uri.reader_connections.has_value()) {
    options.reader_connections = *from_uri.reader_connections;
  }
  return options;
}

}  // namespace

StatusOr<MetadataStores> OpenSqliteMetadataStores(const std::string& path,
                                                  sqlite::DatabaseOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> opened,
                   sqlite::Database::Open(path, migrations::SqliteMigrations(), options));
  std::shared_ptr<sql::Database> db = sql::WrapSqlite(std::move(opened));
  return MakeSqlMetadataStores(std::move(db));
}

StatusOr<std::string> SqlitePathFromUri(const Uri& uri) { return sqlite::PathFromUri(uri); }

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
