#pragma once

#include <memory>

#include "base/factory_registry.h"
#include "base/uri.h"
#include "metadata/metadata_store.h"

namespace cairn::metadata {

// Chooses a MetadataStore by URI scheme ("sqlite", later "postgresql").
using MetadataStoreRegistry = FactoryRegistry<MetadataStore, const Uri&>;

// Registers every backend built into this binary.
Status RegisterBuiltinMetadataStores(MetadataStoreRegistry& registry);

}  // namespace cairn::metadata
