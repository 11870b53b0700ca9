#pragma once

#include "base/factory_registry.h"
#include "base/uri.h"
#include "metadata/metadata_stores.h"

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

// Chooses a metadata backend by URI scheme ("sqlite", later "postgresql") and opens its domain
// stores. Backends are separate libraries; server/backends.cc registers the ones built in, by
// explicit calls.
using MetadataStoreRegistry =
    FactoryRegistry<MetadataStores, const Uri&, const MetadataStoreOptions&>;

}  // namespace cairn::metadata
