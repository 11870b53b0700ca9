#include "metadata/postgres/postgres_metadata_backend.h"

#include <charconv>
#include <memory>
#include <utility>

#include "metadata/migrations/postgres_migrations.h"
#include "metadata/sql/sql_metadata_stores.h"
#include "pg/connection.h"
#include "sql/sql.h"

namespace cairn::metadata {
namespace {

bool IsIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

}  // namespace

StatusOr<PostgresUri> ParsePostgresUri(const Uri& uri) {
  if (uri.scheme != "postgresql" && uri.scheme != "postgres") {
    return InvalidArgument("not a postgresql:// URI");
  }
  if (!uri.has_authority || uri.authority.empty()) {
    return InvalidArgument("postgresql URI: expected postgresql://user:password@host:port/db");
  }
  std::string_view db = uri.path;
  while (!db.empty() && db.front() == '/') db.remove_prefix(1);
  if (db.empty()) {
    return InvalidArgument("postgresql URI: name the database, e.g. postgresql://host:5432/cairn");
  }
  PostgresUri out;
  std::string rest;
  std::string_view query = uri.query;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
    if (key == "pool_size") {
      int n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n < 1 || n > 256) {
        return InvalidArgument("postgresql URI: pool_size must be an integer from 1 to 256");
      }
      out.options.reader_connections = n;
    } else if (key == "schema") {
      if (!IsIdentifier(value)) {
        return InvalidArgument(
            "postgresql URI: schema must be a lower-case identifier ([a-z_][a-z0-9_]*, at most "
            "63 characters)");
      }
      out.schema = std::string(value);
    } else {
      if (!rest.empty()) rest += '&';
      rest += item;
    }
  }
  out.conninfo = "postgresql://" + uri.authority + "/" + std::string(db);
  if (!rest.empty()) out.conninfo += "?" + rest;
  if (!out.schema.empty()) out.options.session_setup = "SET search_path TO " + out.schema;
  return out;
}

StatusOr<MetadataStores> OpenPostgresMetadataStores(const std::string& conninfo,
                                                    pg::DatabaseOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<pg::Database> opened,
                   pg::Database::Open(conninfo, migrations::PostgresMigrations(), options));
  return MakeSqlMetadataStores(sql::WrapPostgres(std::move(opened)));
}

Status RegisterPostgresMetadataBackend(MetadataStoreRegistry& registry) {
  auto open = [](const Uri& uri,
                 const MetadataStoreOptions& store_options) -> StatusOr<MetadataStores> {
    if (store_options.sqlite_synchronous_full) {
      return InvalidArgument(
          "--sqlite-synchronous-full applies to sqlite only; PostgreSQL's synchronous_commit "
          "decides durability for postgresql://");
    }
    ASSIGN_OR_RETURN(PostgresUri parsed, ParsePostgresUri(uri));
    if (!parsed.schema.empty()) {
      ASSIGN_OR_RETURN(auto admin, pg::Connection::Open(parsed.conninfo, {}));
      RETURN_IF_ERROR(admin->Exec("CREATE SCHEMA IF NOT EXISTS " + parsed.schema));
    }
    return OpenPostgresMetadataStores(parsed.conninfo, parsed.options);
  };
  RETURN_IF_ERROR(registry.Register("postgresql", open));
  return registry.Register("postgres", open);
}

}  // namespace cairn::metadata
