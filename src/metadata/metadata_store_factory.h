#pragma once

#include <memory>

#include "base/factory_registry.h"
#include "base/uri.h"
#include "metadata/metadata_store.h"

namespace cairn::metadata {

// Settings of the server's own configuration (flags, CAIRN_* variables, YAML) that the store
// applies on top of what its URI says. Every factory applies each set option or refuses it with
// INVALID_ARGUMENT; none is silently ignored.
struct MetadataStoreOptions {
  // --sqlite-synchronous-full: fsync on every commit (SQLite's synchronous=FULL). Only the sqlite
  // backend takes it. The URI's own `synchronous=full` agrees with it; `synchronous=normal`
  // contradicts it and is refused rather than letting either quietly win.
  bool sqlite_synchronous_full = false;
};

// Chooses a MetadataStore by URI scheme ("sqlite", later "postgresql").
using MetadataStoreRegistry =
    FactoryRegistry<MetadataStore, const Uri&, const MetadataStoreOptions&>;

// Registers every backend built into this binary:
// - "sqlite": sqlite:///relative/path.db (three slashes: relative to the working directory, as in
//   MLflow), sqlite:////abs/path.db (four slashes: absolute), sqlite:// or sqlite:///:memory:
//   (private in-memory database, tests only). Parent directories are created. Query options:
//   synchronous=normal|full, readers=<n>. Takes MetadataStoreOptions::sqlite_synchronous_full.
Status RegisterBuiltinMetadataStores(MetadataStoreRegistry& registry);

// The file path a sqlite URI names (":memory:" for an in-memory database).
StatusOr<std::string> SqlitePathFromUri(const Uri& uri);

}  // namespace cairn::metadata
