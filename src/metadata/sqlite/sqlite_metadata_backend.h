#pragma once

#include <string>

#include "base/status.h"
#include "base/uri.h"
#include "metadata/metadata_store_factory.h"
#include "metadata/metadata_stores.h"
#include "sqlite/database.h"

namespace cairn::metadata {

// The SQLite metadata backend: every domain store on one database file (meta.db) in WAL mode,
// sharing one sqlite::Database (single writer with group commit, reader pool, checkpointer).
// Schema: migrations/sqlite_migrations.cc, applied at open, safe when several processes open
// the same file at once.

// Opens or creates the database at `path` (the parent directory must exist; ":memory:" gives a
// private in-memory database, for tests) and returns its domain stores.
StatusOr<MetadataStores> OpenSqliteMetadataStores(const std::string& path,
                                                  sqlite::DatabaseOptions options = {});

// Registers "sqlite": sqlite:///relative/path.db (three slashes: relative to the working
// directory, as in MLflow), sqlite:////abs/path.db (four slashes: absolute), sqlite:// or
// sqlite:///:memory: (private in-memory database, tests only). Parent directories are created.
// Query options: synchronous=normal|full, readers=<n>. Takes
// MetadataStoreOptions::sqlite_synchronous_full.
Status RegisterSqliteMetadataBackend(MetadataStoreRegistry& registry);

// The file path a sqlite URI names (":memory:" for an in-memory database); see
// sqlite::PathFromUri.
StatusOr<std::string> SqlitePathFromUri(const Uri& uri);

}  // namespace cairn::metadata
