#pragma once

#include <memory>

#include "base/factory_registry.h"
#include "base/uri.h"
#include "metadata/metadata_store.h"

namespace cairn::metadata {

// Chooses a MetadataStore by URI scheme ("sqlite", later "postgresql").
using MetadataStoreRegistry = FactoryRegistry<MetadataStore, const Uri&>;

// Registers every backend built into this binary:
// - "sqlite": sqlite:///relative/path.db (three slashes: relative to the working directory, as in
//   MLflow), sqlite:////abs/path.db (four slashes: absolute), sqlite:// or sqlite:///:memory:
//   (private in-memory database, tests only). Parent directories are created. Query options:
//   synchronous=normal|full, readers=<n>.
Status RegisterBuiltinMetadataStores(MetadataStoreRegistry& registry);

// The file path a sqlite URI names (":memory:" for an in-memory database).
StatusOr<std::string> SqlitePathFromUri(const Uri& uri);

}  // namespace cairn::metadata
