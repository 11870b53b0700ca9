#pragma once

#include <string>

#include "base/status.h"
#include "metadata/metadata_store_factory.h"
#include "metadata/metadata_stores.h"
#include "pg/database.h"

namespace cairn::metadata {

// The PostgreSQL metadata backend, for several replicas on one database: the same domain stores
// as SQLite's (metadata/sql/), on a pg::Database (one writer connection with group commit under
// a cluster-wide advisory lock, a reader pool). Schema: migrations/postgres_migrations.cc,
// applied at open under an advisory lock, safe when replicas start at once.

// Opens the database `conninfo` names (anything libpq takes) and returns its domain stores.
StatusOr<MetadataStores> OpenPostgresMetadataStores(const std::string& conninfo,
                                                    pg::DatabaseOptions options = {});

// How a postgresql:// URI splits into what libpq takes and Cairn's own options.
struct PostgresUri {
  std::string conninfo;  // postgresql://user:pass@host:port/db?<libpq options>
  pg::DatabaseOptions options;
  std::string schema;  // empty: the user's default search_path
};

// Parses postgresql://[user[:password]@]host[:port]/database[?options] (also postgres://).
// Cairn's options, removed before libpq sees the rest (sslmode, connect_timeout, ...):
//   pool_size=<1..256>   reader connections per process (default 8)
//   schema=<name>        a schema of its own (created if missing), e.g. one per environment
// INVALID_ARGUMENT for a bad option; the message never holds the password.
StatusOr<PostgresUri> ParsePostgresUri(const Uri& uri);

// Registers "postgresql" and "postgres". Refuses --sqlite-synchronous-full (PostgreSQL's own
// synchronous_commit setting decides durability there).
Status RegisterPostgresMetadataBackend(MetadataStoreRegistry& registry);

}  // namespace cairn::metadata
